"""Black-box attacks (sheet §2.2): finite differences, attacks under a query budget, transfer from a surrogate."""

import numpy as np
import pytest
import torch
from torch import nn

from core import blackbox as bb
from core.targets2d import BlackBox, sklearn_target, torch_target, toy_split

torch.set_num_threads(1)  # 2D toys: tiny tensors, where extra intra-op threads only add contention


def _smooth_model(d: int = 3, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(d, 16), nn.Tanh(), nn.Linear(16, 3)).eval()


def _points(n: int = 40, d: int = 3, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.integers(0, 3, n)


@pytest.fixture(scope="module")
def moons():
    return toy_split("moons", 200, 0.1, 0)


def test_finite_differences_converge_to_the_autograd_gradient():
    model, (x, y) = _smooth_model(), _points()
    _, true = bb.margin_and_grad(model, x, y)
    target = torch_target(model)
    est = bb.estimate_gradient(target, x, y, "coordinate", h=1e-3)
    assert bb.cosine(est.grad, true).min() > 0.99
    np.testing.assert_allclose(est.grad, true, rtol=1e-2, atol=1e-2)
    nes = bb.estimate_gradient(target, x, y, "random", h=1e-3, n_dirs=300, seed=0)
    assert np.median(bb.cosine(nes.grad, true)) > 0.99


@pytest.mark.parametrize(("method", "n_dirs", "per_point"), [("coordinate", 7, 2 * 3), ("random", 7, 2 * 7)])
def test_query_count_is_what_the_method_says(method, n_dirs, per_point):
    target, (x, y) = torch_target(_smooth_model()), _points(n=11)
    est = bb.estimate_gradient(target, x, y, method, h=1e-3, n_dirs=n_dirs)
    assert est.queries_per_point == per_point == bb.queries_per_estimate(method, 3, n_dirs)
    assert target.queries == 11 * per_point  # counted by the black box itself


def test_too_small_a_step_drowns_in_float32_round_off():
    model, (x, y) = _smooth_model(), _points()
    _, true = bb.margin_and_grad(model, x, y)
    target = torch_target(model)
    tiny = bb.estimate_gradient(target, x, y, "coordinate", h=1e-10).grad
    good = bb.estimate_gradient(target, x, y, "coordinate", h=1e-3).grad
    assert np.median(bb.cosine(tiny, true)) < 0.5 < 0.99 < np.median(bb.cosine(good, true))


def test_blackbox_answers_only_and_counts_every_point():
    target = torch_target(_smooth_model())
    assert not any(isinstance(v, nn.Module) for v in vars(target).values())  # no model to take gradients from
    target.predict(np.zeros((7, 3)))
    target.predict_proba(np.zeros((2, 3)))
    assert target.queries == 9


def test_attack_stays_in_the_ball_and_within_the_query_budget(moons):
    xtr, ytr, xte, yte = moons
    target = sklearn_target("svm", xtr, ytr, 0)
    target.reset_queries()
    res = bb.blackbox_attack(
        target, xte, yte, eps=0.5, norm="inf", method="coordinate", h=1e-2, max_queries=60
    )
    assert np.abs(res.x_adv - xte).max() <= 0.5 + 1e-6
    assert target.queries <= 60 * len(xte)
    used = res.queries_to_success[res.success]
    assert used.max() <= 60 and np.isinf(res.queries_to_success[~res.success]).all()
    still_fooled = target.predict(res.x_adv[res.success]) != yte[res.success]
    assert still_fooled.all()
    rates = res.success_rate(np.array([5, 20, 60]))
    assert np.all(np.diff(rates) >= 0) and rates[-1] > 0.5  # the SVM's smooth probabilities give a slope


def test_finite_differences_see_nothing_on_a_forest_with_a_tiny_step(moons):
    xtr, ytr, xte, yte = moons
    forest = sklearn_target("forest", xtr, ytr, 0)
    est = bb.estimate_gradient(forest, xte, yte, "coordinate", h=1e-6)
    assert np.mean(np.linalg.norm(est.grad, axis=1) == 0) > 0.9  # piecewise constant: zero almost everywhere


@pytest.fixture(scope="module")
def transfer(moons):
    xtr, ytr, xte, yte = moons
    return bb.transfer_experiment(xtr, ytr, xte, yte, np.array([0.0, 0.6]), "inf", surrogate_epochs=150)


def test_transfer_from_a_surrogate_beats_random_noise(moons, transfer):
    xtr = moons[0]
    out = transfer
    assert set(out) == {"svm", "forest", "knn"}
    for r in out.values():
        assert r.target_success[0] == 0.0
        assert r.target_success[1] > r.random_success[1] + 0.2
        assert r.label_queries == len(xtr) and r.agreement > 0.9


def test_transfer_works_where_the_surrogates_gradient_points_along_the_targets(transfer):
    """Sheet §2.2: transfer "relies on the two models having similar gradients with respect to the input"."""
    svm = transfer["svm"].alignment
    assert np.median(svm.cos) > 0.9  # a smooth margin: the surrogate learned its slope almost everywhere
    for kind in ("forest", "knn"):
        a = transfer[kind].alignment
        assert a.eps == 0.5 and a.h == 0.2 and a.cos.shape == a.fooled.shape
        assert (a.cos > bb.ALIGNED).sum() >= 10 and (a.cos <= bb.ALIGNED).sum() >= 10
        assert a.success(aligned=True) > a.success(aligned=False)
    knn = transfer["knn"].alignment  # the clearest case: aligned points transfer far more often
    assert knn.success(aligned=True) > knn.success(aligned=False) + 0.2


def test_gradient_alignment_of_a_model_with_itself_is_perfect(moons):
    xtr, ytr, xte, yte = moons
    model = _smooth_model(d=2)
    own = bb.gradient_alignment(torch_target(model), model, xte, yte, eps=0.3, h=1e-3)
    assert np.all(own.cos > 0.99)  # its own margin's central differences are its gradient
    with pytest.raises(ValueError, match="^h"):
        bb.gradient_alignment(torch_target(model), model, xte, yte, eps=0.3, h=0.0)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda t, x, y: bb.estimate_gradient(t, x, y, h=0.0), "h"),
        (lambda t, x, y: bb.estimate_gradient(t, x, y, method="adam"), "method"),
        (lambda t, x, y: bb.estimate_gradient(t, x, y, method="random", n_dirs=0), "n_dirs"),
        (lambda t, x, y: bb.estimate_gradient(t, x, y[:-1]), "y"),
        (lambda t, x, y: bb.estimate_gradient(t, x * np.nan, y), "x"),
        (lambda t, x, y: bb.blackbox_attack(t, x, y, eps=0.0), "eps"),
        (lambda t, x, y: bb.blackbox_attack(t, x, y, eps=0.1, norm="1"), "norm"),
        (lambda t, x, y: bb.blackbox_attack(t, x, y, eps=0.1, max_queries=0), "max_queries"),
        (lambda t, x, y: bb.blackbox_loss(t, x, y, loss="hinge"), "loss"),
        (lambda t, x, y: bb.transfer_attack(t, _smooth_model(), x, y, np.array([])), "eps_values"),
        (lambda t, x, y: sklearn_target("tree", x, y), "kind"),
    ],
)
def test_bad_arguments_name_the_parameter(call, name):
    x, y = _points(n=12)
    target: BlackBox = torch_target(_smooth_model())
    with pytest.raises(ValueError, match=f"^{name}"):
        call(target, x, y)


def test_gradient_quality_counts_every_query_it_spends():
    model, (x, y) = _smooth_model(d=2), _points(n=10, d=2)
    hs, ks = np.array([1e-4, 1e-2]), np.array([1, 3])
    gq = bb.gradient_quality(model, x, y, hs, ks, n_dirs=4, h_for_k=1e-3)
    per_point = len(hs) * (2 * 2 + 2 * 4) + int((2 * ks).sum()) + 2 * 2
    assert gq.queries_counted == len(x) * per_point
    assert gq.coordinate[:, 1].min() > 0.99  # the smooth model: coordinate-wise is essentially exact


def test_page_figures_have_titles_axes_and_no_nan(moons, transfer):
    from core.figures import blackbox as figs

    xtr, ytr, xte, yte = moons
    model = _smooth_model(d=2)
    gq = bb.gradient_quality(model, xte[:20], yte[:20] % 3, np.array([1e-6, 1e-3, 1e-1]), np.array([1, 2]), 2)
    qb = bb.query_budget_experiment(sklearn_target("knn", xtr, ytr), xte[:20], yte[:20], 0.4, max_queries=20)
    grid = np.linspace(-2, 2, 5)
    built = [
        figs.gradient_vs_h(gq),
        figs.gradient_vs_queries(gq),
        figs.budget_curves(qb),
        figs.attack_map(qb, grid, grid, np.zeros((5, 5), int)),
        figs.transfer_curves(transfer),
    ]
    for fig in built:
        assert fig.layout.title.text and fig.layout.xaxis.title.text and fig.layout.yaxis.title.text
        assert sum(1 for tr in fig.data if tr.showlegend is not False) > 1  # a legend: more than one trace
        for tr in fig.data:
            if tr.type == "scatter" and tr.y is not None:
                assert np.isfinite(np.array([v for v in tr.y if v is not None], dtype=float)).all()
