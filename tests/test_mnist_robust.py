"""Adversarial training on MNIST (sheet §2.3): the robust loss buys robustness a standard model does not have."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from core.mnist import robust
from core.mnist.evaluate import robust_accuracy
from core.mnist.robust import LocalRun, RobustConfig, eps_schedule, fit, load_model, load_train_data

ROOT = Path(__file__).resolve().parents[1]

# A short seeded CPU run (a few seconds): 2,000 training digits, 4 epochs of PGD-2 at ε_train = 0.2 on a narrow
# CNN, judged on 200 fixed test digits.
EPS_TRAIN = 0.2
SHORT = RobustConfig(mode="pgd", eps=EPS_TRAIN, epochs=4, pgd_steps=2, warmup_epochs=1.0, train_size=2000,
                     eval_size=200, eval_steps=2, width=16, final_eval=False, seed=0)  # fmt: skip


@pytest.fixture(scope="module")
def data():
    return load_train_data(SHORT)


def small(data, n_train: int = 300, n_test: int = 50):
    """A cut of the data for the tests that only watch the loop's bookkeeping."""
    return replace(data, x_train=data.x_train[:n_train], y_train=data.y_train[:n_train],
                   x_test=data.x_test[:n_test], y_test=data.y_test[:n_test])  # fmt: skip


@pytest.fixture(scope="module")
def standard_model(data):
    return fit(replace(SHORT, mode="standard"), data, LocalRun())


@pytest.fixture(scope="module")
def robust_run(data):
    run = LocalRun()
    return fit(SHORT, data, run), run


def test_robust_model_beats_standard_model_under_pgd_at_eps_train(data, standard_model, robust_run):
    robust_model, _ = robust_run
    kw = dict(eps=EPS_TRAIN, norm="inf", steps=10, restarts=1, seed=1)
    acc_std = robust_accuracy(standard_model, data.x_test, data.y_test, **kw)
    acc_rob = robust_accuracy(robust_model, data.x_test, data.y_test, **kw)
    assert acc_rob > acc_std + 0.4, (acc_std, acc_rob)


def test_standard_model_pgd_accuracy_at_eps_0_3_is_near_zero(data, standard_model):
    from core.mnist.evaluate import accuracy

    assert accuracy(standard_model, data.x_test, data.y_test) > 0.85  # it did learn the digits …
    acc = robust_accuracy(standard_model, data.x_test, data.y_test, 0.3, "inf", steps=10, seed=1)
    assert acc < 0.05  # … and PGD inside the 0.3-box takes almost all of them


def test_live_metrics_are_logged_every_epoch(robust_run):
    _, run = robust_run
    epochs = [m["epoch"] for m in run.metrics]
    assert epochs == [1, 2, 3, 4]
    for m in run.metrics:
        for key in ("clean_acc", "robust_acc", "loss", "epoch_time", "eps"):
            assert key in m and m[key] == m[key]  # present and not NaN
    assert run.metrics[-1]["robust_acc"] > run.metrics[0]["robust_acc"] - 0.05
    assert "checkpoint.pt" in run.artifacts


def test_eps_warm_up_ramps_linearly_then_stays_at_eps():
    cfg = RobustConfig(eps=0.3, warmup_epochs=2.0)
    values = [eps_schedule(cfg, it, batches_per_epoch=10) for it in range(40)]
    assert values[0] == pytest.approx(0.015)
    assert values[9] == pytest.approx(0.15)
    assert all(a <= b for a, b in zip(values, values[1:], strict=False))
    assert values[19:] == [pytest.approx(0.3)] * 21
    assert eps_schedule(replace(cfg, warmup_epochs=0.0), 0, 10) == 0.3


def test_attack_step_sizes_follow_the_modes():
    assert RobustConfig(mode="fgsm_rs", eps=0.3).alpha == pytest.approx(
        0.15
    )  # α = ε/2 from the carried start
    assert RobustConfig(mode="fgsm_rs", eps=0.3, rs_alpha=1.0).alpha == pytest.approx(0.3)  # N-FGSM
    assert RobustConfig(mode="fgsm_rs", eps=0.3, rs_alpha=1.25).alpha == pytest.approx(0.375)  # Wong et al.
    assert RobustConfig(mode="pgd", eps=0.3, pgd_steps=5).alpha == pytest.approx(
        0.15
    )  # 2.5·ε/k (Madry et al.)
    assert RobustConfig(mode="fgsm", eps=0.3).alpha == pytest.approx(0.3)


def test_single_step_modes_default_to_their_batches_learning_rates_and_a_long_warm_up():
    assert RobustConfig(mode="fgsm").batch == 25 and RobustConfig(mode="fgsm_rs", rs_carry=False).batch == 25
    assert RobustConfig(mode="fgsm_rs").batch == 100  # the carried start: a strong attack, larger batches
    assert RobustConfig(mode="pgd").batch == 100 and RobustConfig(mode="standard").batch == 100
    assert RobustConfig(mode="fgsm_rs", batch_size=64).batch == 64
    assert RobustConfig(mode="fgsm_rs").peak_lr == 1e-2 and RobustConfig(mode="pgd").peak_lr == 5e-3
    assert RobustConfig(mode="pgd", lr=1e-3).peak_lr == 1e-3
    # … and a longer ε warm-up (0.4 of the run), the rest keep 3 epochs unless told
    assert RobustConfig(mode="fgsm_rs", epochs=15).warmup == pytest.approx(6.0)
    assert RobustConfig(mode="pgd", epochs=15).warmup == 3.0
    assert RobustConfig(mode="fgsm_rs", warmup_epochs=0.0).warmup == 0.0


def test_n_fgsm_steps_outside_the_ball_and_wong_fgsm_rs_stays_inside(data):
    # N-FGSM: noise U[-ε, ε] plus one step ε, not projected: ‖δ‖∞ reaches 2ε. Wong et al. project back onto ε.
    torch.manual_seed(0)
    model, eps = robust.RobustCNN(4), 0.1
    x, y = data.x_test[:32], data.y_test[:32]
    kw = dict(mode="fgsm_rs", eps=eps, alpha=eps, seed=3)
    d_noisy = (robust.adversarial_batch(model, x, y, noise=1.0, project=False, **kw) - x).abs().amax()
    x_wong = robust.adversarial_batch(model, x, y, noise=1.0, project=True, **kw)
    assert eps * 1.5 < float(d_noisy) <= 2 * eps + 1e-6
    assert float((x_wong - x).abs().amax()) <= eps + 1e-6
    assert 0.0 <= float(x_wong.min()) and float(x_wong.max()) <= 1.0  # still images


def test_carried_starts_add_single_steps_up_to_a_multi_step_attack(data):
    # Feeding each FGSM step's δ back in as the next start (what rs_carry does epoch after epoch) climbs the
    # loss like PGD: five chained single steps beat one, and every δ stays in the ε-ball.
    torch.manual_seed(0)
    model = fit(replace(SHORT, mode="standard", epochs=1), small(data, 2000), LocalRun())
    x, y, eps = data.x_test[:200], data.y_test[:200], 0.1  # a radius one step does not already saturate
    loss = lambda xa: float(torch.nn.functional.cross_entropy(model(xa), y))  # noqa: E731
    delta, losses = torch.zeros_like(x), []
    for k in range(5):
        x_adv = robust.adversarial_batch(model, x, y, "fgsm_rs", eps, eps / 2, seed=k, noise=0.25, project=True,
                                         start=delta)  # fmt: skip
        delta = x_adv - x
        assert float(delta.abs().amax()) <= eps + 1e-6
        losses.append(loss(x_adv))
    assert losses[-1] > 1.5 * losses[0]
    pgd5 = robust.adversarial_batch(model, x, y, "pgd", eps, eps / 2, pgd_steps=5, seed=0)
    assert losses[-1] > 0.95 * loss(pgd5)  # as strong as PGD-5 with the same step


def test_fgsm_rs_training_starts_each_digit_from_its_last_perturbation(data, monkeypatch):
    calls = []
    real = robust.adversarial_batch

    def spy(model, x, y, *args, start=None, **kw):
        x_adv = real(model, x, y, *args, start=start, **kw)
        calls.append((None if start is None else start.clone(), (x_adv - x).detach().clone()))
        return x_adv

    monkeypatch.setattr(robust, "adversarial_batch", spy)
    cfg = replace(SHORT, mode="fgsm_rs", epochs=2, batch_size=100, eval_size=20, eval_steps=1, guard=False)
    fit(cfg, small(data, 100, 20), LocalRun())  # one batch per epoch: every digit, shuffled
    (start_1, delta_1), (start_2, _) = calls
    assert float(start_1.abs().max()) == 0.0  # nothing to carry in the first epoch
    # Epoch 2 starts every digit from its epoch-1 δ: the same values, in the new shuffled order.
    assert torch.equal(start_2.flatten().sort().values, delta_1.flatten().sort().values)
    assert float(start_2.abs().max()) > 0


@pytest.mark.parametrize("field,value", [("mode", "free"), ("eps", 1.5), ("epochs", 0), ("guard_action", "pray"),
                                         ("pgd_steps", 0), ("device", "tpu"), ("rs_noise", -1.0),
                                         ("batch_size", -1), ("lr", -1.0), ("rs_carry", "yes")])  # fmt: skip
def test_bad_config_is_a_value_error_naming_the_field(field, value):
    with pytest.raises(ValueError, match=f"^{field}:"):
        RobustConfig(**{field: value})


def test_catastrophic_overfitting_guard_triggers_on_a_forced_collapse(data, monkeypatch):
    # Force the collapse: the guard batch's PGD accuracy climbs, then falls to 0.05 after epoch 3.
    script = iter([0.30, 0.55, 0.05, 0.50, 0.52, 0.51])
    monkeypatch.setattr(robust, "guard_accuracy", lambda *a, **k: next(script))
    cfg = replace(SHORT, mode="fgsm_rs", epochs=5, train_size=300, eval_size=50, eval_steps=1, warmup_epochs=1.0,
                  guard_gap=1.0)  # fmt: skip
    run = LocalRun()
    fit(cfg, small(data), run)
    rows = {m["epoch"]: m for m in run.metrics}
    assert "guard_triggered" not in rows[2]
    assert rows[3]["guard_triggered"] == 1.0
    assert rows[4]["alpha"] == pytest.approx(rows[2]["alpha"] / 2)  # step reduction after the collapse
    assert len(rows) == 5


def test_guard_stops_early_and_keeps_the_best_weights(data, monkeypatch):
    script = iter([0.40, 0.60, 0.10, 0.9, 0.9])
    monkeypatch.setattr(robust, "guard_accuracy", lambda *a, **k: next(script))
    cfg = replace(SHORT, mode="fgsm", epochs=5, train_size=300, eval_size=50, eval_steps=1, warmup_epochs=0.0,
                  guard_action="stop", guard_gap=1.0)  # fmt: skip
    run = LocalRun()
    model = fit(cfg, small(data), run)
    assert [m["epoch"] for m in run.metrics] == [1, 2, 3]  # stopped at the collapse
    best = run.artifacts["checkpoint.pt"]
    assert best["epoch"] == 2  # the checkpoint left behind is the best epoch's
    # the saved and returned weights are those of epoch 2, the best guard accuracy
    state = model.state_dict()
    assert all(torch.equal(state[k], best["model"][k]) for k in state)


def test_guard_ignores_drops_before_the_warm_up_is_over():
    model = robust.RobustCNN(4)
    g = robust.OverfittingGuard(drop=0.2)
    assert not g.check(0.5, 1, model, armed=False)
    assert not g.check(0.1, 2, model, armed=False)
    assert g.check(0.1, 3, model, armed=True)
    assert g.best_epoch == 1 and g.triggers == 1


def test_guard_sees_a_model_that_beats_its_own_fgsm_but_not_pgd():
    # Catastrophic overfitting without a previous peak: 95 % against the training attack, 20 % against PGD.
    model = robust.RobustCNN(4)
    g = robust.OverfittingGuard(drop=0.2, gap=0.4)
    assert not g.check(0.20, 1, model, armed=True, train_acc=0.45)  # an honest weak model
    assert g.check(0.20, 2, model, armed=True, train_acc=0.95)


def test_nan_loss_fails_the_run_with_a_readable_reason(data, monkeypatch):
    monkeypatch.setattr(
        robust.F, "cross_entropy", lambda *a, **k: torch.tensor(float("nan"), requires_grad=True)
    )
    cfg = replace(SHORT, mode="standard", epochs=1, train_size=200, eval_size=20)
    with pytest.raises(FloatingPointError, match="loss became NaN at step 1"):
        fit(cfg, small(data), LocalRun())


def test_cli_trains_a_tiny_run_and_writes_its_checkpoint_and_evaluation(tmp_path):
    runs_dir = tmp_path / "runs"
    cmd = [sys.executable, "-m", "core.train", "robust", "--mode", "fgsm_rs", "--eps", "0.3", "--epochs", "1",
           "--train-size", "200", "--eval-size", "40", "--eval-steps", "2", "--device", "auto",
           "--runs-dir", str(runs_dir)]  # fmt: skip
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=240,
                         env={"PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1", "ADVLAB_RUNS_DIR": str(runs_dir)})  # fmt: skip
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    (run_dir,) = [p for p in runs_dir.iterdir() if p.name.startswith("robust-")]
    status = json.loads((run_dir / "status.json").read_text())
    assert status["status"] == "done", status
    evaluation = json.loads((run_dir / "evaluation.json").read_text())
    assert [r["predicted"] for r in evaluation["problem4"]["rows"]] == [True, False, True, False, False]
    model, config = load_model(run_dir / "checkpoint.pt")
    assert config.mode == "fgsm_rs" and not model.training


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU on this machine")
@pytest.mark.parametrize("mode", ["fgsm_rs", "pgd"])
def test_adversarial_training_runs_on_cuda(data, mode):
    run = LocalRun("cuda")
    model = fit(replace(SHORT, mode=mode, epochs=2, eval_size=50, eval_steps=1), small(data, 500, 50), run,
                device=torch.device("cuda"))  # fmt: skip
    assert len(run.metrics) == 2 and all(0 <= m["clean_acc"] <= 1 for m in run.metrics)
    assert next(model.parameters()).device.type == "cpu"  # handed back on the CPU, as on every device
