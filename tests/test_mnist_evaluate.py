"""Measuring robustness on MNIST (sheet §2.1–2.3, Problem 4) and attacking one digit (the explorer)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from core.mnist import evaluate as ev
from core.mnist.explorer import attack_digit
from core.mnist.robust import LocalRun, RobustConfig, fit, load_train_data

CFG = RobustConfig(mode="standard", epochs=2, warmup_epochs=0.0, train_size=1500, eval_size=120, eval_steps=1,
                   width=16, final_eval=False)  # fmt: skip


@pytest.fixture(scope="module")
def data():
    return load_train_data(CFG)


@pytest.fixture(scope="module")
def model(data):
    return fit(CFG, data, LocalRun())


class ModeSpy(nn.Module):
    """A tiny classifier with dropout that records whether it was called in training mode."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
        self.dropout = nn.Dropout(0.5)
        self.modes: list[bool] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.modes.append(self.training)
        return self.dropout(self.net(x))


def test_evaluation_runs_the_model_in_eval_mode_and_restores_its_mode(data):
    spy = ModeSpy().train()
    x, y = data.x_test[:20], data.y_test[:20]
    ev.accuracy(spy, x, y)
    ev.robust_accuracy(spy, x, y, 0.1, "inf", steps=2, restarts=2)
    ev.robust_accuracy(spy, x, y, 0.1, "2", attack="fgsm")
    ev.eps_curve(spy, x, y, "inf", [0.0, 0.1], steps=2)
    ev.dimming_curve(spy, x, y, [1.0, 0.5])
    ev.problem4_measured(spy, x, y, 0.3, steps=1)
    assert spy.modes and not any(spy.modes)  # dropout never fired during a measurement
    assert spy.training and spy.dropout.training  # and the caller's mode is back


def test_pgd_with_restarts_is_never_weaker_than_without(model, data):
    x, y = data.x_test, data.y_test
    one = ev.robust_mask(model, x, y, 0.1, "inf", steps=3, restarts=1, seed=3)
    ten = ev.robust_mask(model, x, y, 0.1, "inf", steps=3, restarts=10, seed=3)
    assert not bool((ten & ~one).any())  # every digit broken without restarts stays broken with them
    assert ten.sum() <= one.sum()


def test_problem4_predicted_containment_matches_the_sheet():
    # 1 and 3 yes; 2, 4, 5 no — on the sheet's numbers (ε = 0.5, L2 ≤ 1.0) and scaled to MNIST (ε = 0.3).
    for eps, radius in [(0.5, 1.0), (0.3, 2.0), (0.3, 0.6)]:
        table = ev.problem4_table(eps, l2_large_radius=radius)
        assert [number for number, *_ in table] == [1, 2, 3, 4, 5]
        assert [predicted for _, _, predicted, _ in table] == [True, False, True, False, False]
    with pytest.raises(ValueError, match="^l2_large_radius:"):
        ev.problem4_table(0.3, l2_large_radius=0.2)


def test_problem4_measured_puts_each_prediction_next_to_an_accuracy(model, data):
    result = ev.problem4_measured(model, data.x_test, data.y_test, eps_train=0.3, steps=5)
    assert [r.predicted for r in result.rows] == [True, False, True, False, False]
    accs = {r.number: r.accuracy for r in result.rows}
    assert all(0.0 <= a <= 1.0 for a in accs.values())
    assert accs[1] >= accs[2]  # L∞ ≤ ε/5 lies inside L∞ ≤ 2ε: never harder
    assert "PGD-5" in result.rows[0].protocol and "dimming" in result.rows[4].label


def test_eps_curves_start_at_clean_accuracy_and_never_rise(model, data):
    clean = ev.accuracy(model, data.x_test, data.y_test)
    for norm in ("inf", "2"):
        curve = ev.eps_curve(model, data.x_test, data.y_test, norm, steps=5)
        assert curve.accuracy[0] == pytest.approx(clean)
        assert np.all(np.diff(curve.accuracy) <= 0)
        assert curve.accuracy[-1] < clean - 0.3  # a standard model falls apart at the largest radius
        assert ("L∞" if norm == "inf" else "L2") in curve.protocol


def test_dimming_is_a_shift_whose_linf_size_grows_as_the_light_fades(model, data):
    curve = ev.dimming_curve(model, data.x_test, data.y_test, [1.0, 0.6, 0.2])
    assert curve.accuracy[0] == pytest.approx(ev.accuracy(model, data.x_test, data.y_test))
    assert curve.linf_size[0] == 0 and curve.linf_size[1] < curve.linf_size[2]
    assert curve.linf_size[2] > 0.3  # at b = 0.2 the night moves a pixel further than the 0.3-box allows
    with pytest.raises(ValueError, match="^brightness:"):
        ev.dimming_curve(model, data.x_test, data.y_test, [0.0])


def test_bad_inputs_name_the_parameter(model, data):
    with pytest.raises(ValueError, match="^eps:"):
        ev.robust_accuracy(model, data.x_test, data.y_test, -0.1)
    with pytest.raises(ValueError, match="^norm:"):
        ev.eps_curve(model, data.x_test, data.y_test, "3")
    with pytest.raises(ValueError, match="^x:"):
        ev.accuracy(model, data.x_test[:, 0], data.y_test)


def test_full_evaluation_survives_a_json_round_trip(model, data):
    result = ev.evaluate_robust_model(model, data.x_test, data.y_test, eps_train=0.3, steps=2)
    back = ev.RobustEvaluation.from_dict(json.loads(json.dumps(result.to_dict())))
    assert back.problem4.rows == result.problem4.rows
    assert np.allclose(back.linf.accuracy, result.linf.accuracy) and back.grid.x.shape == (10, 28, 28)
    assert 0.3 in back.linf.eps.tolist()  # ε_train is always on the L∞ curve


# -- the attack explorer's core ------------------------------------------------------------------------------------
def test_fgsm_on_a_digit_moves_pixels_by_at_most_eps_and_stays_an_image(model, data):
    image, label = data.x_test[0, 0].numpy(), int(data.y_test[0])
    r = attack_digit(model, image, label, "fgsm", eps=0.2, norm="inf")
    assert r.linf == pytest.approx(0.2, abs=1e-6)  # FGSM-L∞ moves (unclipped) pixels by exactly ε
    assert r.x_adv.min() >= 0 and r.x_adv.max() <= 1
    assert r.probs.sum() == pytest.approx(1) and r.probs_adv.sum() == pytest.approx(1)
    r2 = attack_digit(model, image, label, "pgd", eps=1.0, norm="2", steps=10)
    assert r2.l2 <= 1.0 + 1e-5 and r2.queries == 10


def test_blackbox_attack_stays_within_its_query_budget_and_its_ball(model, data):
    image, label = data.x_test[1, 0].numpy(), int(data.y_test[1])
    r = attack_digit(
        model, image, label, "blackbox", eps=0.3, norm="inf", query_budget=300, n_dirs=10, seed=1
    )
    assert 0 < r.queries <= 300
    assert r.linf <= 0.3 + 1e-6
    with pytest.raises(ValueError, match="^query_budget:"):
        attack_digit(model, image, label, "blackbox", eps=0.3, query_budget=0)
