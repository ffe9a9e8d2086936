"""Sheet §2.1–2.2 and Problem 3: FGSM under L∞ and L2, PGD with projections, on any tensor shape."""

from __future__ import annotations

import itertools

import pytest
import torch
from torch import nn

from core import attacks


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny tensors: one intra-op thread is fastest, and a loaded 2-core machine makes more threads thrash."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _linear(d: int, classes: int = 3, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(d, classes)).eval()


def _mlp(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(16, 32), nn.Tanh(), nn.Linear(32, 4)).eval()


def _batch(n: int = 8, shape: tuple[int, ...] = (1, 4, 4), classes: int = 4, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand((n, *shape), generator=g), torch.randint(0, classes, (n,), generator=g)


# -- Problem 3: FGSM is the optimum of the linearised loss ---------------------------------------------------
def test_fgsm_linf_is_the_corner_that_maximises_the_linearised_loss():
    d, eps = 5, 0.3
    model = _linear(d)
    x, y = torch.randn(6, d), torch.tensor([0, 1, 2, 0, 1, 2])
    loss, g = attacks.loss_and_grad(model, x, y)
    delta = attacks.fgsm(model, x, y, eps, "inf") - x
    # Brute force: a linear function on a box peaks at a vertex, so all 2^d corners are the candidates.
    corners = torch.tensor(list(itertools.product([-eps, eps], repeat=d)))
    for i in range(x.shape[0]):
        lin_corners = attacks.linearised_loss(loss[i : i + 1], g[i : i + 1], corners)
        best = corners[lin_corners.argmax()]
        torch.testing.assert_close(delta[i], best)
        # ... and no interior point of the box does better.
        inner = (torch.rand(2000, d) * 2 - 1) * eps
        fgsm_value = attacks.linearised_loss(loss[i : i + 1], g[i : i + 1], delta[i : i + 1])
        assert attacks.linearised_loss(loss[i : i + 1], g[i : i + 1], inner).max() <= fgsm_value + 1e-6


def test_fgsm_l2_is_eps_times_the_normalised_gradient():
    model, (x, y) = _mlp(), _batch()
    eps = 0.7
    _, g = attacks.loss_and_grad(model, x, y)
    delta = attacks.fgsm(model, x, y, eps, "2") - x
    expected = eps * g / g.flatten(1).norm(dim=1).reshape(-1, 1, 1, 1)
    torch.testing.assert_close(delta, expected, atol=1e-6, rtol=1e-5)
    assert delta.shape == x.shape


@pytest.mark.parametrize("norm", ["inf", "2"])
def test_fgsm_perturbation_has_norm_exactly_eps(norm):
    model, (x, y) = _mlp(), _batch()
    for eps in (0.05, 0.5, 2.0):
        delta = attacks.fgsm(model, x, y, eps, norm) - x
        torch.testing.assert_close(
            attacks.delta_norm(delta, norm), torch.full((x.shape[0],), eps), atol=1e-5, rtol=1e-5
        )


def test_fgsm_linf_step_is_the_sign_of_the_gradient():
    model, (x, y) = _mlp(), _batch()
    _, g = attacks.loss_and_grad(model, x, y)
    torch.testing.assert_close(attacks.fgsm(model, x, y, 0.1, "inf") - x, 0.1 * g.sign(), atol=1e-6, rtol=0)


def test_fgsm_increases_the_loss_of_a_linear_model():
    model = _linear(8, classes=2)
    x, y = torch.randn(50, 8), torch.randint(0, 2, (50,))
    before = attacks.per_example_loss(model, x, y)
    for norm in attacks.NORMS:
        assert (attacks.per_example_loss(model, attacks.fgsm(model, x, y, 0.2, norm), y) > before).all()


# -- PGD: projection, valid range, restarts ----------------------------------------------------------------
@pytest.mark.parametrize("norm", ["inf", "2"])
@pytest.mark.parametrize("random_start", [True, False])
def test_pgd_stays_inside_the_ball_and_the_valid_range(norm, random_start):
    model, (x, y) = _mlp(), _batch(16)
    for eps in (0.03, 0.3, 3.0):
        x_adv = attacks.pgd(
            model, x, y, eps, norm, steps=7, random_start=random_start, restarts=2, clip=(0.0, 1.0)
        )
        assert (attacks.delta_norm(x_adv - x, norm) <= eps + 1e-5).all()
        assert x_adv.min() >= 0.0 and x_adv.max() <= 1.0
        assert x_adv.shape == x.shape and torch.isfinite(x_adv).all()


@pytest.mark.parametrize("norm", ["inf", "2"])
def test_pgd_path_iterates_stay_inside_the_ball(norm):
    model, (x, y) = _mlp(), _batch(4)
    x_adv, path = attacks.pgd(model, x, y, 0.2, norm, steps=5, return_path=True)
    assert path.shape == (6, *x.shape)
    for step in path:
        assert (attacks.delta_norm(step - x, norm) <= 0.2 + 1e-5).all()
    # the answer is one of the points PGD visited
    assert any(torch.allclose(x_adv[0], p[0]) for p in path)


def test_pgd_keep_best_is_never_weaker_than_the_last_iterate():
    model, (x, y) = _mlp(), _batch(64)
    for norm in attacks.NORMS:
        last = attacks.per_example_loss(model, attacks.pgd(model, x, y, 2.0, norm, steps=4), y)
        best = attacks.per_example_loss(
            model, attacks.pgd(model, x, y, 2.0, norm, steps=4, keep_best=True), y
        )
        assert (best >= last - 1e-6).all()


def test_pgd_single_step_without_random_start_is_fgsm_with_step_alpha():
    model, (x, y) = _mlp(), _batch()
    for norm in attacks.NORMS:
        one = attacks.pgd(model, x, y, 0.3, norm, alpha=0.3, steps=1, random_start=False)
        torch.testing.assert_close(one, attacks.fgsm(model, x, y, 0.3, norm))


def test_pgd_with_restarts_never_weaker_than_without():
    model, (x, y) = _mlp(), _batch(64)
    for norm in attacks.NORMS:
        one = attacks.per_example_loss(
            model, attacks.pgd(model, x, y, 0.5, norm, steps=5, restarts=1, seed=3), y
        )
        five = attacks.per_example_loss(
            model, attacks.pgd(model, x, y, 0.5, norm, steps=5, restarts=5, seed=3), y
        )
        assert (five >= one - 1e-6).all()
        assert (five > one + 1e-4).any()  # restarts do find something better somewhere


def test_targeted_pgd_moves_towards_the_target_class():
    # three classes in 120° sectors around the origin: every target is reachable with a big enough ball
    model = nn.Linear(2, 3).eval()
    with torch.no_grad():
        model.weight.copy_(3 * torch.tensor([[1.0, 0.0], [-0.5, 0.866], [-0.5, -0.866]]))
        model.bias.zero_()
    x = torch.randn(30, 2, generator=torch.Generator().manual_seed(0))
    target = torch.full((30,), 2)
    for norm in attacks.NORMS:
        x_adv = attacks.pgd(model, x, target, 5.0, norm, steps=30, targeted=True)
        with torch.no_grad():
            assert (model(x_adv).argmax(dim=1) == 2).all()
        before, after = (
            attacks.per_example_loss(model, x, target),
            attacks.per_example_loss(model, x_adv, target),
        )
        assert (after <= before + 1e-6).all()


def test_per_example_eps_equals_one_call_per_eps():
    model, (x, y) = _mlp(), _batch(3)
    eps = torch.tensor([0.1, 0.2, 0.4])
    for norm in attacks.NORMS:
        batched = attacks.fgsm(model, x, y, eps, norm)
        for i in range(3):
            single = attacks.fgsm(model, x[i : i + 1], y[i : i + 1], float(eps[i]), norm)
            torch.testing.assert_close(batched[i : i + 1], single)
        x_pgd = attacks.pgd(model, x, y, eps, norm, steps=4)
        assert (attacks.delta_norm(x_pgd - x, norm) <= eps + 1e-5).all()


# -- ε = 0, model mode, projections ------------------------------------------------------------------------
@pytest.mark.parametrize("norm", ["inf", "2"])
def test_eps_zero_returns_x_unchanged(norm):
    model, (x, y) = _mlp(), _batch()
    assert torch.equal(attacks.fgsm(model, x, y, 0.0, norm), x)
    assert torch.equal(attacks.pgd(model, x, y, 0.0, norm), x)
    assert torch.equal(attacks.pgd(model, x, y, torch.zeros(x.shape[0]), norm), x)


class _ModeSpy(nn.Module):
    """Records whether it was in training mode whenever it ran; dropout would make attacks random."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Sequential(nn.Flatten(), nn.Linear(16, 4))
        self.drop = nn.Dropout(0.5)
        self.seen: list[bool] = []

    def forward(self, x):
        self.seen.append(self.training)
        return self.drop(self.lin(x))


@pytest.mark.parametrize("start_training", [True, False])
def test_attack_runs_in_eval_mode_and_restores_the_mode_it_found(start_training):
    spy, (x, y) = _ModeSpy(), _batch()
    spy.train(start_training)
    for attack in (lambda: attacks.fgsm(spy, x, y, 0.1), lambda: attacks.pgd(spy, x, y, 0.1, steps=3)):
        spy.seen.clear()
        attack()
        assert spy.seen and not any(spy.seen)
        assert spy.training is start_training and spy.drop.training is start_training


def test_attack_does_not_touch_parameter_gradients():
    model, (x, y) = _mlp(), _batch()
    attacks.pgd(model, x, y, 0.1, steps=3)
    assert all(p.grad is None for p in model.parameters())


def test_projections_map_onto_the_ball_and_keep_inside_points():
    g = torch.Generator().manual_seed(0)
    delta = torch.randn(100, 3, generator=g) * 2
    eps = 0.5
    p_inf, p_2 = attacks.project_linf(delta, eps), attacks.project_l2(delta, eps)
    assert (p_inf.abs() <= eps).all() and (attacks.delta_norm(p_2, "2") <= eps + 1e-6).all()
    outside = delta.norm(dim=1) > eps
    torch.testing.assert_close(p_2[outside].norm(dim=1), torch.full((int(outside.sum()),), eps))
    # L2 projection keeps the direction; both keep points already inside
    cos = nn.functional.cosine_similarity(p_2, delta, dim=1)
    torch.testing.assert_close(cos, torch.ones_like(cos))
    small = delta * 0.01
    torch.testing.assert_close(attacks.project_linf(small, 1.0), small)
    torch.testing.assert_close(attacks.project_l2(small, 1.0), small)


def test_l2_random_start_is_inside_the_ball_and_seeded():
    x = torch.zeros(500, 1, 4, 4)
    d1 = attacks.random_start(x, 0.3, "2", torch.Generator().manual_seed(1))
    d2 = attacks.random_start(x, 0.3, "2", torch.Generator().manual_seed(1))
    assert torch.equal(d1, d2)
    assert (attacks.delta_norm(d1, "2") <= 0.3 + 1e-6).all()


# -- bad arguments -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"eps": -0.1}, "eps"),
        ({"eps": float("nan")}, "eps"),
        ({"norm": "1"}, "norm"),
        ({"norm": "manhattan"}, "norm"),
        ({"alpha": 0.0}, "alpha"),
        ({"alpha": -1.0}, "alpha"),
        ({"steps": 0}, "steps"),
        ({"restarts": 0}, "restarts"),
        ({"clip": (1.0, 0.0)}, "clip"),
        ({"clip": (0.0,)}, "clip"),
        ({"eps": torch.tensor([0.1, 0.2])}, "eps"),
    ],
)
def test_bad_pgd_arguments_raise_value_error_naming_the_parameter(kwargs, name):
    model, (x, y) = _mlp(), _batch()
    args = {"eps": 0.1, **kwargs}
    with pytest.raises(ValueError, match=rf"^{name}"):
        attacks.pgd(model, x, y, **args)


# -- dual gradient ascent: the constrained problem solved with a Lagrange multiplier (sheet §2.2) -------------
@pytest.mark.parametrize("norm", ["2", "inf"])
def test_dual_ascent_on_a_linear_binary_model_finds_fgsms_exact_optimum(norm):
    """A linear logit margin: the loss is monotone along w, so δ* = ε·w/‖w‖₂ (L2) or ε·sign(w) (L∞)."""
    torch.manual_seed(3)
    model = nn.Sequential(nn.Linear(5, 2)).eval()
    x, y = torch.randn(4, 5), torch.tensor([0, 1, 0, 1])
    eps = 0.4
    x_adv, path = attacks.dual_ascent(model, x, y, eps, norm, steps=200, return_path=True)
    torch.testing.assert_close(x_adv - x, attacks.fgsm(model, x, y, eps, norm) - x, atol=1e-3 * eps, rtol=0)
    assert path.shape == (201, 4, 5)
    last = attacks.delta_norm(path[-1] - x, norm)
    assert torch.all(
        (last - eps).abs() < 0.05 * eps
    )  # the multiplier holds the unprojected iterate on the ball


def test_dual_ascent_iterates_leave_the_ball_and_the_multiplier_pulls_them_back():
    torch.manual_seed(4)
    model = nn.Sequential(nn.Linear(2, 2)).eval()
    x, y = torch.randn(1, 2), torch.tensor([0])
    eps = 0.5
    _, path = attacks.dual_ascent(model, x, y, eps, "2", steps=120, return_path=True)
    radius = attacks.delta_norm((path - x).reshape(-1, 2), "2")
    assert radius.max() > 1.05 * eps  # a soft constraint: overshoot ...
    assert abs(float(radius[-1]) - eps) < 0.02 * eps  # ... then back onto the circle


def test_dual_ascent_is_close_to_the_exact_optimum_on_the_moons_mlp():
    import numpy as np

    from core import toy2d

    toy = toy2d.build_toy("moons", 300, 0.15, "mlp", seed=0)
    xt, yt = torch.as_tensor(toy.X, dtype=torch.float32), torch.as_tensor(toy.y)
    idx = np.random.default_rng(0).choice(len(toy.y), 40, replace=False)
    eps = 0.3
    for norm in ("2", "inf"):
        dual = attacks.per_example_loss(toy.model, attacks.dual_ascent(toy.model, xt[idx], yt[idx], eps, norm),
                                        yt[idx]).numpy()  # fmt: skip
        exact = np.array([float(attacks.per_example_loss(toy.model, xt[i : i + 1] + torch.as_tensor(
            toy2d.exact_optimum(toy.model, xt[i : i + 1], yt[i : i + 1], eps, norm, k=101)[0]), yt[i : i + 1]))
            for i in idx])  # fmt: skip
        hard = exact > 1e-3  # points whose best attack changes the loss at all
        assert hard.sum() >= 20
        assert np.all(dual <= exact * 1.001 + 1e-5)  # the brute force over the ball is the (gridded) maximum
        assert np.mean(dual[hard] >= 0.98 * exact[hard]) >= (0.9 if norm == "2" else 0.7)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"alpha": 0.0}, "alpha"), ({"beta": -1.0}, "beta"), ({"steps": 0}, "steps"), ({"eps": -0.1}, "eps")],
)
def test_bad_dual_ascent_arguments_raise_value_error_naming_the_parameter(kwargs, name):
    model, (x, y) = _mlp(), _batch()
    with pytest.raises(ValueError, match=rf"^{name}"):
        attacks.dual_ascent(model, x, y, **{"eps": 0.1, **kwargs})


def test_bad_inputs_raise_value_error_naming_the_parameter():
    model, (x, y) = _mlp(), _batch()
    bad_x = x.clone()
    bad_x[0, 0, 0, 0] = float("nan")
    for attack in (attacks.fgsm, attacks.pgd):
        with pytest.raises(ValueError, match="^x"):
            attack(model, bad_x, y, 0.1)
        with pytest.raises(ValueError, match="^y"):
            attack(model, x, y[:-1], 0.1)
        with pytest.raises(ValueError, match="^y"):
            attack(model, x, y.float(), 0.1)
        with pytest.raises(ValueError, match="^eps"):
            attack(model, x, y, -1.0)
        with pytest.raises(ValueError, match="^norm"):
            attack(model, x, y, 0.1, norm="0")


def test_norm_aliases_are_accepted():
    assert attacks.check_norm("Linf") == "inf" and attacks.check_norm(float("inf")) == "inf"
    assert attacks.check_norm("L2") == "2" and attacks.check_norm(2) == "2"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU on this machine")
def test_attacks_run_on_cuda():
    model, (x, y) = _mlp(), _batch()
    model, x, y = model.cuda(), x.cuda(), y.cuda()
    for norm in attacks.NORMS:
        x_adv = attacks.pgd(model, x, y, 0.2, norm, steps=3, clip=(0, 1))
        assert x_adv.is_cuda and (attacks.delta_norm(x_adv - x, norm) <= 0.2 + 1e-5).all()
        assert attacks.fgsm(model, x, y, 0.2, norm).is_cuda
