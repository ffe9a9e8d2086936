"""The MNIST GAN: each loss's formula on known critic outputs, the Lipschitz constraints, and real runs
through the run manager (a short one that finishes, a diverging one that fails and keeps a good checkpoint)."""

from __future__ import annotations

import io
import json
import signal

import numpy as np
import pytest
import torch
from PIL import Image

from core import runs
from core.figures import mnist_gan as figs
from core.mnist import gan
from core.mnist.models import MnistClassifier, build_gan


@pytest.fixture
def runs_dir(tmp_path, cache_dir, monkeypatch):
    monkeypatch.setenv("ADVLAB_CACHE_DIR", str(cache_dir))
    monkeypatch.setenv("ADVLAB_RUNS_DIR", str(tmp_path / "runs"))
    return tmp_path / "runs"


def execute(kind_config: dict, runs_dir) -> runs.RunInfo:
    """Create a GAN run and execute it in this process, as `python -m core.train run` would."""
    handlers = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        path = runs.create_run("gan", kind_config, runs_dir)
        runs.execute_run(path)
    finally:
        for s, h in handlers.items():
            signal.signal(s, h)
    return runs.get_run(path.name, runs_dir)


def outputs_critic(real_out: list[float], fake_out: list[float]):
    """A stand-in critic whose outputs on the 'real' and 'fake' batches are the given numbers."""
    real = torch.tensor(real_out).view(-1, 1, 1, 1)
    fake = torch.tensor(fake_out).view(-1, 1, 1, 1)
    return (lambda x: x.flatten(1)[:, 0]), real, fake


# -- the losses on known critic outputs ---------------------------------------------------------------------
def test_hinge_critic_loss_counts_only_margins_inside_plus_minus_one():
    critic, real, fake = outputs_critic([2.0, 0.5], [-3.0, 0.0])
    loss, _, _ = gan.critic_loss(gan.GanConfig(loss="hinge"), critic, real, fake)
    # real: max(0, 1 − 2) = 0, max(0, 1 − 0.5) = 0.5; fake: max(0, 1 − 3) = 0, max(0, 1 + 0) = 1
    assert loss.item() == pytest.approx(0.25 + 0.5)
    assert gan.generator_loss(gan.GanConfig(loss="sngan"), torch.tensor([1.0, 3.0])).item() == pytest.approx(
        -2.0
    )


def test_lsgan_regresses_real_onto_one_and_fake_onto_zero():
    critic, real, fake = outputs_critic([1.0, 1.0], [0.0, 0.0])
    cfg = gan.GanConfig(loss="lsgan")
    assert gan.critic_loss(cfg, critic, real, fake)[0].item() == pytest.approx(0.0)  # the targets, exactly
    critic, real, fake = outputs_critic([0.0], [1.0])
    assert gan.critic_loss(cfg, critic, real, fake)[0].item() == pytest.approx(0.5 + 0.5)
    assert gan.generator_loss(cfg, torch.tensor([1.0])).item() == pytest.approx(0.0)  # G wants D(G(z)) = 1


def test_minimax_generator_saturates_where_non_saturating_does_not():
    logits = torch.tensor([-8.0], requires_grad=True)  # D(G(z)) ≈ 3e-4: the critic rejects the sample
    (g_minimax,) = torch.autograd.grad(gan.generator_loss(gan.GanConfig(loss="minimax"), logits), logits)
    (g_ns,) = torch.autograd.grad(gan.generator_loss(gan.GanConfig(loss="non-saturating"), logits), logits)
    assert abs(g_minimax.item()) < 1e-3 < 0.99 < abs(g_ns.item())


def test_bce_critic_loss_is_the_negated_game_value_and_smoothing_moves_the_real_target():
    critic, real, fake = outputs_critic([0.0], [0.0])  # D = ½ on both: −2·log ½
    assert gan.critic_loss(gan.GanConfig(), critic, real, fake)[0].item() == pytest.approx(2 * np.log(2))
    critic, real, fake = outputs_critic([20.0], [-20.0])
    plain = gan.critic_loss(gan.GanConfig(), critic, real, fake)[0].item()
    smooth = gan.critic_loss(gan.GanConfig(label_smoothing=0.1), critic, real, fake)[0].item()
    assert plain < 1e-6 and smooth > 1.0  # target 0.9: an overconfident D(x) ≈ 1 is now penalised


def test_wgan_gp_penalty_is_zero_for_a_slope_one_linear_critic():
    w = torch.randn(784, generator=torch.Generator().manual_seed(0))
    w = w / w.norm()  # ‖∇f‖ = ‖w‖ = 1 everywhere

    def critic(x):
        return x.flatten(1) @ w

    real = torch.rand(16, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    fake = torch.rand(16, 1, 28, 28, generator=torch.Generator().manual_seed(2))
    gp_loss, r, f = gan.critic_loss(gan.GanConfig(loss="wgan-gp"), critic, real, fake)
    assert gp_loss.item() == pytest.approx((f.mean() - r.mean()).item(), abs=1e-5)
    steep = gan.critic_loss(
        gan.GanConfig(loss="wgan-gp", gp_weight=10.0), lambda x: 3 * critic(x), real, fake
    )[0]
    assert steep.item() - 3 * (f.mean() - r.mean()).item() == pytest.approx(10.0 * (3 - 1) ** 2, rel=1e-4)


def test_one_critic_pass_over_real_and_fake_gives_each_its_own_outputs():
    _, critic = build_gan("mlp", dropout=0.0)
    real = torch.rand(8, 1, 28, 28, generator=torch.Generator().manual_seed(3)) * 2 - 1
    fake = torch.rand(8, 1, 28, 28, generator=torch.Generator().manual_seed(4)) * 2 - 1
    loss, r, f = gan.critic_loss(gan.GanConfig(), critic, real, fake)
    torch.testing.assert_close(r, critic(real).detach())
    torch.testing.assert_close(f, critic(fake).detach())
    expected = (
        torch.nn.functional.softplus(-critic(real)).mean() + torch.nn.functional.softplus(critic(fake)).mean()
    )
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)


def test_critic_dropout_keeps_the_mean_drops_its_share_and_is_off_in_eval_mode():
    from core.mnist.models import Dropout

    torch.manual_seed(0)
    drop = Dropout(0.3).train()
    x = torch.ones(200, 500)
    y = drop(x)
    assert (y == 0).float().mean().item() == pytest.approx(0.3, abs=0.01)
    assert y.mean().item() == pytest.approx(1.0, abs=0.02)  # kept units scaled by 1/(1 − p)
    assert torch.equal(drop.eval()(x), x)


@pytest.mark.parametrize("arch", ["mlp", "dcgan"])
@pytest.mark.parametrize("conditional", [False, True])
def test_spectral_norm_layers_have_largest_singular_value_at_most_one(arch, conditional):
    torch.manual_seed(0)
    _, critic = build_gan(arch, spectral=True, conditional=conditional)
    x, y = torch.randn(1, 1, 28, 28), torch.tensor([3]) if conditional else None
    # Power iteration: two steps per forward pass in training mode. The label embedding's top singular values
    # start within 1 % of each other (a random 10 × d matrix), so its estimate needs the most passes.
    for _ in range(300):
        critic(x, y)
    critic.eval()
    sigmas = []
    with torch.no_grad():
        for module in critic.modules():
            if hasattr(module, "parametrizations"):
                w = module.weight
                sigmas.append(torch.linalg.matrix_norm(w.reshape(w.shape[0], -1), ord=2).item())
    assert len(sigmas) == 3 + conditional and max(sigmas) <= 1 + 1e-3  # conditional: the label embedding too


@pytest.mark.parametrize("arch", ["mlp", "dcgan"])
def test_conditional_models_need_the_label_and_use_it(arch):
    torch.manual_seed(0)
    generator, critic = build_gan(arch, conditional=True)
    z, x = torch.randn(4, 64), torch.randn(4, 1, 28, 28)
    y, other = torch.tensor([0, 1, 2, 3]), torch.tensor([7, 7, 7, 7])
    generator.eval()
    assert generator(z, y).shape == (4, 1, 28, 28)
    assert not torch.allclose(generator(z, y), generator(z, other))  # the digit asked changes the drawing
    critic.eval()
    features = critic.net(x)
    # Projection: changing the label moves the score by (e_y − e_y')·φ(x), exactly.
    gap = critic(x, y) - critic(x, other)
    expected = ((critic.label_embedding(y) - critic.label_embedding(other)) * features).sum(1)
    assert torch.allclose(gap, expected, atol=1e-5) and gap.abs().min() > 0
    for call in (lambda: generator(z), lambda: critic(x)):
        with pytest.raises(ValueError, match="^y"):
            call()
    with pytest.raises(ValueError, match="^conditional"):
        build_gan(arch, conditional="yes")


def test_conditional_critic_loss_scores_each_image_with_its_own_label():
    torch.manual_seed(0)
    _, critic = build_gan("mlp", conditional=True)
    critic.eval()
    real, fake, labels = torch.randn(6, 1, 28, 28), torch.randn(6, 1, 28, 28), torch.arange(6)
    for loss in ("non-saturating", "wgan-gp"):
        value, r, f = gan.critic_loss(gan.GanConfig(loss=loss), critic, real, fake, labels)
        assert torch.allclose(r, critic(real, labels), atol=1e-5)
        assert torch.allclose(f, critic(fake, labels), atol=1e-5)
        assert torch.isfinite(value)


def test_truncation_defaults_to_0_7_for_a_conditional_gan_and_off_otherwise():
    assert gan.GanConfig().conditional and gan.GanConfig().sample_truncation == 0.7
    assert gan.GanConfig(conditional=False).sample_truncation == 1.0
    assert gan.GanConfig(conditional=False, truncation=0.5).sample_truncation == 0.5
    assert (gan.GanConfig().grid_side, gan.GanConfig(conditional=False).grid_side) == (10, 8)


def test_weight_clipping_keeps_every_critic_weight_within_c(runs_dir):
    info = execute({"loss": "wgan-clip", "steps": 4, "n_critic": 2, "clip": 0.02, "batch_size": 16,
                    "eval_every": 4, "eval_samples": 50, "data": "subset", "device": "cpu"}, runs_dir)  # fmt: skip
    assert info.status == "done", info.error
    state = torch.load(info.path / "checkpoint.pt", weights_only=True)
    assert state["step"] == 4
    weights = torch.cat([v.flatten() for v in state["critic"].values()])
    assert weights.abs().max().item() <= 0.02 + 1e-7
    assert weights.abs().max().item() == pytest.approx(0.02)  # Adam pushed some to the wall: clipping acted


# -- runs through the run manager -------------------------------------------------------------------------
@pytest.mark.parametrize("conditional", [True, False])
def test_a_short_gan_run_finishes_with_metrics_and_a_sample_grid(runs_dir, conditional):
    info = execute({"steps": 60, "batch_size": 32, "eval_every": 30, "eval_samples": 200, "data": "subset",
                    "conditional": conditional, "device": "cpu"}, runs_dir)  # fmt: skip
    assert info.status == "done", info.error
    assert (info.step, info.total) == (60, 60)
    curves = gan.curves_from_metrics(runs.read_metrics(info.run_id, runs_dir))
    assert list(curves.eval_step) == [30, 60]
    assert np.all((curves.mnist_score >= 1) & (curves.mnist_score <= 10)) and np.all(curves.mnist_fd > 0)
    assert curves.class_fractions.shape == (2, 10) and np.allclose(curves.class_fractions.sum(axis=1), 1)
    assert curves.step.size >= 3 and np.all(np.isfinite(curves.loss_d))
    assert np.all((curves.d_real > 0) & (curves.d_real < 1))  # a probability for the non-saturating loss
    grid = np.asarray(
        Image.open(io.BytesIO(runs.artifact_path(info.run_id, "samples.png", runs_dir).read_bytes()))
    )
    side = 10 if conditional else 8  # conditional: a row per digit
    assert grid.shape == (side * 30 + 2, side * 30 + 2) and grid.std() > 10
    assert len(curves.label_agreement) == (2 if conditional else 0)
    assert np.all((curves.label_agreement >= 0) & (curves.label_agreement <= 1))
    final = json.loads(runs.artifact_path(info.run_id, "final.json", runs_dir).read_text())
    assert final["step"] == 60 and 1 <= final["mnist_score"] <= 10
    data = json.loads(runs.artifact_path(info.run_id, "data.json", runs_dir).read_text())
    assert data["source"] == "subset"


def test_a_diverging_gan_fails_with_a_reason_and_keeps_a_finite_checkpoint(runs_dir):
    info = execute({"loss": "lsgan", "lr_g": 1e6, "lr_d": 1e6, "steps": 50, "batch_size": 16, "eval_every": 25,
                    "eval_samples": 50, "data": "subset", "device": "cpu"}, runs_dir)  # fmt: skip
    assert info.status == "failed"
    assert "FloatingPointError" in info.error and "loss became" in info.error and "at step" in info.error
    state = torch.load(info.path / "checkpoint.pt", weights_only=True)
    for part in ("generator", "critic"):
        assert all(torch.isfinite(v).all() for v in state[part].values() if v.is_floating_point())
    assert state["step"] < 50


def test_cancelled_run_stops_early_and_keeps_its_checkpoint(runs_dir):
    path = runs.create_run("gan", {"steps": 100_000, "batch_size": 16, "eval_samples": 50, "data": "subset",
                                   "device": "cpu"}, runs_dir)  # fmt: skip
    runs.cancel(path.name, runs_dir)  # requested before the first step: the trainer stops at once
    handlers = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        outcome = runs.execute_run(path)
    finally:
        for s, h in handlers.items():
            signal.signal(s, h)
    assert outcome == "cancelled"


@pytest.mark.parametrize("arch", ["mlp", "dcgan"])
@pytest.mark.parametrize("loss", gan.LOSSES)
def test_every_loss_trains_a_conditional_gan_with_finite_metrics(runs_dir, loss, arch):
    info = execute({"loss": loss, "arch": arch, "steps": 3, "n_critic": 2, "batch_size": 8, "eval_every": 3,
                    "eval_samples": 20, "data": "subset", "device": "cpu"}, runs_dir)  # fmt: skip
    assert info.status == "done", info.error
    curves = gan.curves_from_metrics(runs.read_metrics(info.run_id, runs_dir))
    assert list(curves.eval_step) == [3] and list(curves.agreement_step) == [3]
    assert np.all(np.isfinite(curves.loss_d)) and np.all(np.isfinite(curves.loss_g))


def test_a_conditional_gan_learns_to_draw_the_digit_it_is_asked_for(runs_dir):
    info = execute({"steps": 400, "eval_every": 400, "eval_samples": 500, "data": "subset", "device": "cpu"},
                   runs_dir)  # fmt: skip
    assert info.status == "done", info.error
    curves = gan.curves_from_metrics(runs.read_metrics(info.run_id, runs_dir))
    assert curves.label_agreement[-1] > 0.6  # chance is 0.1: the digits follow the label asked for


# -- configuration, curves, figures -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("field", "value"),
    [("loss", "bogus"), ("arch", "resnet"), ("steps", 0), ("lr_g", -1.0), ("batch_size", 1), ("device", "tpu"),
     ("label_smoothing", 0.9), ("data", "somewhere"), ("truncation", 3.0), ("conditional", "yes")],
)  # fmt: skip
def test_bad_gan_config_is_a_value_error_naming_the_field(field, value):
    with pytest.raises(ValueError, match=f"^{field}"):
        gan.GanConfig(**{field: value})


def test_wgan_losses_train_the_critic_five_times_per_generator_step_by_default():
    assert gan.GanConfig(loss="wgan-gp").critic_steps == 5
    assert gan.GanConfig(loss="non-saturating").critic_steps == 1
    assert gan.GanConfig(loss="wgan-clip", n_critic=2).critic_steps == 2


def test_curves_drop_non_finite_rows_so_nothing_nan_is_plotted():
    rows = [
        {"step": 1, "loss_d": 1.0, "loss_g": 0.5, "d_real": 0.6, "d_fake": 0.4, "images_per_s": 100.0},
        {"step": 2, "loss_d": None, "loss_g": 0.5, "d_real": 0.6, "d_fake": 0.4, "images_per_s": 100.0},
        {"step": 2, "mnist_score": 3.0, "mnist_fd": 50.0, "classes_covered": 9.0, **{f"class_{k}": 0.1 for k in range(10)}},
    ]  # fmt: skip
    curves = gan.curves_from_metrics(rows)
    assert list(curves.step) == [1] and list(curves.eval_step) == [2]
    for fig in (figs.losses_figure(curves, "non-saturating"), figs.critic_outputs_figure(curves, "non-saturating"),
                figs.quality_figure(curves), figs.coverage_figure(curves.last_fractions, 2)):  # fmt: skip
        layout = fig.to_plotly_json()["layout"]
        assert (
            layout["title"]["text"] and layout["xaxis"]["title"]["text"] and layout["yaxis"]["title"]["text"]
        )
        for trace in fig.data:
            y = np.asarray(trace.y, dtype=float)
            assert np.all(np.isfinite(y))


def test_coverage_figure_greys_out_the_missing_digits():
    fractions = np.array([0.5, 0.5] + [0.0] * 8)
    fig = figs.coverage_figure(fractions, 100)
    assert "2/10 digits present" in fig.layout.title.text and "missing 2, 3" in fig.layout.title.text
    assert fig.data[0].marker.color[5] == "#d9d9d9"


def test_image_grid_tiles_64_digits_and_the_classifier_exposes_features():
    grid = gan.image_grid(torch.ones(64, 1, 28, 28))
    assert grid.dtype == np.uint8 and grid.shape == (242, 242) and grid.max() == 255
    feats = MnistClassifier().features(torch.zeros(3, 1, 28, 28))
    assert feats.shape == (3, MnistClassifier.FEATURE_DIM)
    with pytest.raises(ValueError, match="^images"):
        gan.image_grid(torch.ones(10, 1, 28, 28))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU on this machine")
@pytest.mark.parametrize("arch", ["mlp", "dcgan"])
def test_a_gan_run_on_cuda_uses_mixed_precision_and_finishes(runs_dir, arch):
    info = execute({"arch": arch, "steps": 30, "eval_every": 30, "eval_samples": 200, "data": "subset",
                    "device": "cuda"}, runs_dir)  # fmt: skip
    assert info.status == "done", info.error
    assert info.device.startswith("cuda")
    used = json.loads(runs.artifact_path(info.run_id, gan.PRECISION, runs_dir).read_text())
    assert used["autocast"] == ("torch.bfloat16" if torch.cuda.is_bf16_supported() else None)
    assert used["channels_last"] is (arch == "dcgan")
    curves = gan.curves_from_metrics(runs.read_metrics(info.run_id, runs_dir))
    assert np.all(np.isfinite(curves.loss_d)) and 1 <= curves.mnist_score[-1] <= 10


@pytest.mark.parametrize("arch", ["mlp", "dcgan"])
@pytest.mark.parametrize("loss", gan.LOSSES)
def test_the_cuda_recipe_bf16_autocast_and_channels_last_trains_every_loss(runs_dir, monkeypatch, loss, arch):
    """The GPU's mixed precision and memory layout, forced on the CPU: every loss and both architectures run
    under bfloat16 autocast (and the DCGAN in channels_last) to finite losses and a finite checkpoint."""
    monkeypatch.setattr(gan, "mixed_precision", lambda device: torch.bfloat16)
    monkeypatch.setattr(gan, "memory_format", lambda device, arch: torch.channels_last if arch == "dcgan"
                        else torch.contiguous_format)  # fmt: skip
    seen = []
    autocast = torch.autocast

    def spy(device_type, dtype=None, **kw):
        seen.append((device_type, dtype))
        return autocast(device_type, dtype=dtype, **kw)

    monkeypatch.setattr(torch, "autocast", spy)
    info = execute({"loss": loss, "arch": arch, "steps": 3, "n_critic": 2, "batch_size": 8, "eval_every": 3,
                    "eval_samples": 20, "data": "subset", "device": "cpu"}, runs_dir)  # fmt: skip
    assert info.status == "done", info.error
    assert seen and set(seen) == {("cpu", torch.bfloat16)}  # every training step ran under autocast
    used = json.loads(runs.artifact_path(info.run_id, gan.PRECISION, runs_dir).read_text())
    assert used == {"device": "cpu", "autocast": "torch.bfloat16", "channels_last": arch == "dcgan"}
    curves = gan.curves_from_metrics(runs.read_metrics(info.run_id, runs_dir))
    assert np.all(np.isfinite(curves.loss_d)) and np.all(np.isfinite(curves.loss_g))
    assert np.isfinite(curves.mnist_score[-1])
    state = runs.read_checkpoint(
        runs.artifact_path(info.run_id, "checkpoint.pt", runs_dir), ("generator",), "GAN"
    )
    weights = list(state["generator"].values())
    assert all(
        w.dtype in (torch.float32, torch.int64) for w in weights
    )  # autocast leaves the weights float32
    assert all(torch.isfinite(w.float()).all() for w in weights)


def test_a_cpu_run_trains_in_float32_with_the_default_layout(runs_dir):
    info = execute({"arch": "dcgan", "steps": 2, "batch_size": 8, "eval_every": 2, "eval_samples": 20,
                    "data": "subset", "device": "cpu"}, runs_dir)  # fmt: skip
    assert info.status == "done", info.error
    used = json.loads(runs.artifact_path(info.run_id, gan.PRECISION, runs_dir).read_text())
    assert used == {"device": "cpu", "autocast": None, "channels_last": False}
    assert gan.precision_text(used) == "float32"
    assert gan.precision_text({"autocast": "torch.bfloat16", "channels_last": True}) == (
        "bfloat16 autocast · channels_last"
    )


def test_draw_from_a_finished_run_follows_the_digit_truncation_and_seed(runs_dir):
    info = execute({"steps": 20, "batch_size": 16, "eval_every": 20, "eval_samples": 50, "data": "subset",
                    "device": "cpu"}, runs_dir)  # fmt: skip
    assert info.status == "done", info.error
    generator, config, step = gan.load_generator(info.path / "checkpoint.pt")
    assert config.conditional and step == 20 and not generator.training
    images = gan.draw(generator, 30, truncation=1.0, digits=3, seed=5)
    assert images.shape == (30, 1, 28, 28) and images.min() >= 0 and images.max() <= 1
    assert torch.equal(images, gan.draw(generator, 30, truncation=1.0, digits=3, seed=5))  # seeded
    assert not torch.equal(images, gan.draw(generator, 30, truncation=1.0, digits=3, seed=6))
    # ψ = 0: every drawing of a digit is the same G(0, y); the spread grows with ψ.
    spread = [gan.draw(generator, 30, psi, digits=3, seed=5).std(0).mean().item() for psi in (0.0, 0.5, 1.5)]
    assert spread[0] < 1e-6 < spread[1] < spread[2]
    per_digit = gan.draw(generator, 10, truncation=0.0, seed=5)  # None: the digits 0, 1, …, 9 in turn
    assert not torch.allclose(per_digit[0], per_digit[1])  # ... and the digit changes the drawing
    for bad, name in (({"digits": 10}, "digits"), ({"digits": [1, 2]}, "digits"), ({"truncation": -1}, "truncation"),
                      ({"n": 0}, "n")):  # fmt: skip
        with pytest.raises(ValueError, match=f"^{name}"):
            gan.draw(generator, **{"n": 30, **bad})
    with pytest.raises(ValueError, match="^path"):
        gan.load_generator(info.path / "missing.pt")
    unconditional, _ = build_gan("mlp", conditional=False)
    with pytest.raises(ValueError, match="^digits"):
        gan.draw(unconditional, 4, digits=1)
    assert gan.draw(unconditional, 4).shape == (4, 1, 28, 28)
