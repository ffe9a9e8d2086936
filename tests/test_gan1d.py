"""1D GAN critic lab (sheet §1.3): exact p_G, the batched closed-form passes, the critics' constraints."""

import json
import math

import numpy as np
import pytest
import torch

from core import gan_losses
from core.gan1d import Gan1DConfig, train_critics
from core.gan1d import networks as nets
from core.gan1d.__main__ import main as cli_main
from core.gan1d.critics import critic_output_grads, generator_output_grad
from core.gan1d.quadrature import noise_grid, push_forward

H = 16


def _autograd_mlp(flat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """The same stacked MLP written with autograd-friendly ops (the reference)."""
    lay = nets.layers(flat, H)
    act = torch.nn.functional.leaky_relu
    h1 = act(x.unsqueeze(2) * lay.w1.unsqueeze(1) + lay.b1.unsqueeze(1), nets.LEAKY_SLOPE)
    h2 = act(torch.bmm(h1, lay.w2.transpose(1, 2)) + lay.b2.unsqueeze(1), nets.LEAKY_SLOPE)
    return torch.bmm(h2, lay.w3.unsqueeze(2)).squeeze(2) + lay.b3


@pytest.fixture
def stack():
    gen = torch.Generator().manual_seed(3)
    flat = nets.init_stack(3, H, gen).double()
    x = (torch.rand(3, 40, generator=gen, dtype=torch.float64) - 0.5) * 6
    return flat, x


# -- p_G by quadrature ------------------------------------------------------------------------------------
@pytest.mark.parametrize("noise", ["uniform", "gaussian"])
def test_pushed_forward_density_integrates_to_one_and_matches_a_sample_histogram(noise):
    gen = torch.Generator().manual_seed(1)
    flat = nets.init_stack(2, H, gen)
    nets.layers(flat, H).w3.mul_(4.0)  # a stretched, folded map: p_G far from the noise density
    lo, n_grid = -6.0, 240
    dx = 12.0 / (n_grid - 1)
    z, w = (torch.tensor(a, dtype=torch.float32) for a in noise_grid(noise, 4096))
    x_of_z, _ = nets.forward(flat, z.expand(2, -1), H)
    p_g = push_forward(x_of_z, w, lo, dx, n_grid).double().numpy()
    assert np.allclose(p_g.sum(1) * dx, 1.0, atol=1e-6)
    # 400k samples G(z), histogrammed on cells centred at the grid nodes
    zs = (
        torch.randn(2, 400_000, generator=gen)
        if noise == "gaussian"
        else torch.rand(2, 400_000, generator=gen) * 2 - 1
    )
    xs, _ = nets.forward(flat, zs, H)
    edges = lo - dx / 2 + dx * np.arange(n_grid + 1)
    for k in range(2):
        hist, _ = np.histogram(np.clip(xs[k].numpy(), lo, lo + dx * (n_grid - 1)), bins=edges)
        hist = hist / (hist.sum() * dx)
        # cell-averaged densities agree up to the samples' noise (L1 distance of two densities, max 2)
        smooth = np.convolve(p_g[k], np.ones(5) / 5, "same"), np.convolve(hist, np.ones(5) / 5, "same")
        assert np.abs(smooth[0] - smooth[1]).sum() * dx < 0.03


# -- the closed-form passes against autograd --------------------------------------------------------------
def test_hand_written_backward_and_input_gradient_match_autograd(stack):
    flat, x = stack
    g_out = torch.randn(x.shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    out, cache = nets.forward(flat, x, H)
    grad = torch.zeros_like(flat)
    nets.backward(flat, cache, g_out, H, grad)
    ref_flat, ref_x = flat.clone().requires_grad_(True), x.clone().requires_grad_(True)
    ref = _autograd_mlp(ref_flat, ref_x)
    assert torch.allclose(out, ref, atol=1e-10)
    (ref * g_out).sum().backward()
    assert torch.allclose(grad, ref_flat.grad, atol=1e-10)
    slope = nets.input_gradient(flat, cache, H)
    (dx,) = torch.autograd.grad(_autograd_mlp(flat, ref_x).sum(), ref_x)
    assert torch.allclose(slope, dx, atol=1e-10)


def test_closed_form_gradient_penalty_matches_double_backprop_of_gan_losses(stack):
    flat, x = stack
    lam = 3.0
    _, cache = nets.forward(flat, x, H)
    grad = torch.zeros_like(flat)
    penalty = nets.gradient_penalty_backward(flat, cache, H, lam, grad)
    for k in range(flat.shape[0]):
        ref_flat = flat.clone().requires_grad_(True)

        def critic(xh, k=k, ref_flat=ref_flat):
            return _autograd_mlp(ref_flat[k : k + 1], xh.T).T

        # gan_losses.gradient_penalty interpolates between real and fake: with real = fake = x, x̂ = x
        gp = gan_losses.gradient_penalty(critic, x[k].unsqueeze(1), x[k].unsqueeze(1), lam=lam)
        gp.backward()
        assert penalty[k].item() == pytest.approx(gp.item(), rel=1e-9)
        assert torch.allclose(grad[k], ref_flat.grad[k], atol=1e-9)


def test_stack_adam_matches_torch_adam_row_by_row_and_leaves_stopped_rows_alone():
    gen = torch.Generator().manual_seed(5)
    flat = torch.randn(3, 50, generator=gen)
    start = flat.clone()
    adam = nets.StackAdam(flat, torch.tensor([1e-2, 1e-2, 0.0]), (0.5, 0.9))
    ref = torch.nn.Parameter(start[0].clone())
    ref_opt = torch.optim.Adam([ref], lr=1e-2, betas=(0.5, 0.9), eps=1e-8)
    for _ in range(30):
        g = torch.randn(3, 50, generator=gen)
        adam.step(g, scale=1.0)  # rows 0 and 1 move, row 2 (lr 0, a stopped network) does not
        ref.grad = g[0].clone()
        ref_opt.step()
    torch.testing.assert_close(flat[0], ref.detach(), rtol=1e-5, atol=1e-6)
    assert not torch.equal(flat[1], start[1])
    assert torch.equal(flat[2], start[2])
    adam.step(torch.ones(3, 50), rows=1)  # a prefix: only row 0 takes the extra step
    assert adam.t.tolist() == [31.0, 30.0, 0.0]


def test_gradient_penalty_is_zero_for_a_1_lipschitz_linear_critic_of_slope_one():
    flat = torch.zeros(1, nets.n_params(H), dtype=torch.float64)
    lay = nets.layers(flat, H)
    lay.w1[0, :2] = torch.tensor([1.0, -1.0])  # lrelu(x) − lrelu(−x) = (1 + α)x, rescaled by the next layer
    lay.w2[0, 0, :2] = torch.tensor([1.0, -1.0]) / (1 + nets.LEAKY_SLOPE)
    lay.b2[0, 0] = 100.0  # keep the second layer in its linear part
    lay.w3[0, 0], lay.b3[0, 0] = 1.0, -100.0
    x = torch.linspace(-5, 5, 100, dtype=torch.float64).unsqueeze(0)
    out, cache = nets.forward(flat, x, H)
    assert torch.allclose(out, x, atol=1e-9)  # f(x) = x: slope 1 everywhere
    grad = torch.zeros_like(flat)
    penalty = nets.gradient_penalty_backward(flat, cache, H, 10.0, grad)
    assert penalty.item() == pytest.approx(0.0, abs=1e-12)
    assert grad.abs().max().item() < 1e-6
    lay.w3[0, 0] = 2.0  # slope 2: the penalty is λ(2 − 1)² and pushes w3 down
    out, cache = nets.forward(flat, x, H)
    penalty = nets.gradient_penalty_backward(flat, cache, H, 10.0, grad)
    assert penalty.item() == pytest.approx(10.0) and nets.layers(grad, H).w3[0, 0] > 0


@pytest.mark.parametrize("loss", ["non_saturating", "wgan", "hinge", "lsgan"])
def test_closed_form_loss_derivatives_match_gan_losses(loss):
    gen = torch.Generator().manual_seed(2)
    real = (torch.randn(32, generator=gen, dtype=torch.float64) * 2).requires_grad_(True)
    fake = (torch.randn(32, generator=gen, dtype=torch.float64) * 2).requires_grad_(True)
    g_real, g_fake = torch.autograd.grad(gan_losses.discriminator_loss(real, fake, loss), (real, fake))
    c_real, c_fake = critic_output_grads(loss, real.detach(), fake.detach())
    assert torch.allclose(c_real / 32, g_real) and torch.allclose(c_fake / 32, g_fake)
    for g_loss in ["minimax", "non_saturating"] if loss == "non_saturating" else [loss]:
        (g,) = torch.autograd.grad(gan_losses.generator_loss(fake, g_loss), fake)
        assert torch.allclose(generator_output_grad(g_loss, fake.detach()) / 32, g)


# -- constraints after training ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def short_run():
    cfg = Gan1DConfig(
        data="three_modes",
        critics=("weight_clip", "spectral_norm", "lsgan", "instance_noise"),
        steps=150,
        snapshots=6,
        batch=64,
        seed=4,
    )
    return train_critics(cfg)


def test_largest_slope_is_the_steepest_part_of_the_final_critic_curve(short_run):
    r = short_run
    slopes = r.extras["max_slope"]
    assert set(slopes) == set(r.critics)  # every critic here is learned
    dx = r.x[1] - r.x[0]
    for name, value in slopes.items():
        curve = r.critic_raw[r.index(name), -1]  # f(x) on the grid at the last snapshot
        measured = np.abs(np.diff(curve)).max() / dx  # a piecewise-linear f: its steepest chord
        assert value == pytest.approx(measured, rel=0.05), name


def test_spectral_norm_layers_have_sigma_at_most_one_after_training(short_run):
    sigmas = short_run.extras["sn_sigma"]
    assert len(sigmas) == 3 and max(sigmas) <= 1 + 1e-3 and min(sigmas) > 0.9


def test_weight_clipped_parameters_lie_in_the_box(short_run):
    params = short_run.extras["critic_params"]["weight_clip"]
    c = short_run.config.clip
    assert np.abs(params).max() <= c + 1e-7
    assert np.abs(params).max() > 0.99 * c  # the clip is active: training pushes weights to the walls


def test_every_curve_of_every_critic_is_finite(short_run):
    r = short_run
    for arr in (r.jsd, r.w1, r.d_loss, r.g_loss, r.p_g, r.critic_display, r.samples, r.sample_grad):
        assert np.all(np.isfinite(arr))
    assert np.all((r.critic_display >= 0) & (r.critic_display <= 1))
    assert np.allclose(r.p_g.sum(2) * (r.x[1] - r.x[0]), 1.0, atol=1e-4)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_diverging_critic_is_stopped_with_a_visible_reason(workers):
    cfg = Gan1DConfig(
        data="one_gaussian",
        critics=("perfect", "standard", "lsgan"),
        steps=40,
        snapshots=5,
        lr_g=1000.0,
        batch=32,
    )  # a huge step throws the generators out of the picture; with 2 workers lsgan trains in the child
    r = train_critics(cfg, workers=workers)
    for name in ("standard", "lsgan"):
        i = r.index(name)
        assert r.stopped_at[i] > 0 and "diverged" in r.stop_reason[i]
    assert r.stopped_at[r.index("perfect")] == -1
    for arr in (r.jsd, r.w1, r.p_g, r.samples, r.sample_grad, r.critic_display):
        assert np.all(np.isfinite(arr))


def test_two_worker_processes_train_the_same_game_as_one(monkeypatch):
    from core.gan1d import trainer

    children = []

    class Spy(trainer._Workers):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            children.extend(p.pid for p in self.procs)

    monkeypatch.setattr(trainer, "_Workers", Spy)
    cfg = Gan1DConfig(data="two_modes", steps=60, snapshots=4, batch=64, seed=2)
    one, two = train_critics(cfg, workers=1), train_critics(cfg, workers=2)
    assert len(children) == 1  # the second run forked one helper process
    for key in ("jsd", "w1", "d_loss", "g_loss", "p_g", "critic_raw", "samples", "sample_grad"):
        np.testing.assert_allclose(getattr(two, key), getattr(one, key), rtol=1e-4, atol=1e-6, err_msg=key)
    assert np.abs(one.w1[:, -1] - one.w1[:, 0]).max() > 0.01  # the generators did move


def test_bad_settings_name_the_parameter():
    for kwargs, name in [
        ({"steps": 0}, "steps"),
        ({"gp_lambda": -1.0}, "gp_lambda"),
        ({"critics": ("nope",)}, "critics"),
        ({"clip": 0.0}, "clip"),
        ({"data": "moons"}, "data"),
        ({"snapshots": 500}, "snapshots"),
    ]:
        with pytest.raises(ValueError, match=f"^{name}"):
            Gan1DConfig(**kwargs)


def test_cli_writes_the_curves_and_final_numbers(tmp_path):
    out = tmp_path / "out.json"
    assert (
        cli_main(
            [
                "--data",
                "two_modes",
                "--critics",
                "perfect,gradient_penalty",
                "--steps",
                "30",
                "--snapshots",
                "4",
                "--json",
                str(out),
            ]
        )
        == 0
    )
    payload = json.loads(out.read_text())
    assert set(payload["critics"]) == {"perfect", "gradient_penalty"}
    gp = payload["critics"]["gradient_penalty"]
    assert len(gp["jsd"]) == len(payload["steps"]) == 4
    assert gp["w1_final"] < gp["w1_start"]
    assert payload["critics"]["perfect"]["jsd_final"] == pytest.approx(math.log(2), abs=1e-3)
