"""2D toys (sheet §2.1–2.2): seeded data and models, decision grids, and the brute-force δ* that FGSM and PGD
are measured against."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch

from core import attacks, toy2d


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny tensors: one intra-op thread is fastest, and a loaded 2-core machine makes more threads thrash."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@functools.cache
def _moons():
    X, y = toy2d.make_dataset("moons", 300, 0.15, seed=0)
    return X, y, toy2d.train_mlp(X, y, seed=0)


def _near_boundary(model, X, y, k):
    """The k correctly classified points with the smallest margin: where attacks have something to do."""
    with torch.no_grad():
        z = model(torch.as_tensor(X))
    yt = torch.as_tensor(y)
    top2 = z.topk(2, dim=1).values
    margin = torch.where(z.argmax(1) == yt, top2[:, 0] - top2[:, 1], torch.tensor(float("inf")))
    return margin.argsort()[:k].numpy()


# -- data ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", toy2d.DATASETS)
def test_datasets_are_seeded_standardised_and_labelled(name):
    X, y = toy2d.make_dataset(name, 200, 0.1, seed=1)
    assert X.shape == (200, 2) and X.dtype == np.float32 and y.shape == (200,) and y.dtype == np.int64
    assert np.quantile(np.abs(X), 0.99) == pytest.approx(2.0, rel=1e-4)  # roughly [−2, 2]²
    assert np.allclose(X.mean(axis=0), 0, atol=1e-5)
    classes = 3 if name == "blobs" else 2
    assert set(np.unique(y)) == set(range(classes))
    assert np.bincount(y).min() >= 200 // classes - 20  # balanced
    X2, y2 = toy2d.make_dataset(name, 200, 0.1, seed=1)
    X3, _ = toy2d.make_dataset(name, 200, 0.1, seed=2)
    assert np.array_equal(X, X2) and np.array_equal(y, y2) and not np.array_equal(X, X3)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"name": "swiss"}, "name"), ({"n": 3}, "n"), ({"noise": -0.1}, "noise"), ({"noise": 2.0}, "noise")],
)
def test_bad_dataset_arguments_raise_value_error_naming_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=f"^{name}"):
        toy2d.make_dataset(**{"name": "moons", "n": 100, "noise": 0.1, "seed": 0, **kwargs})


# -- models -------------------------------------------------------------------------------------------------
def test_mlp_learns_the_moons_and_is_seeded():
    X, y, model = _moons()
    assert toy2d.accuracy(model, X, y) > 0.95
    assert not model.training
    again = toy2d.train_mlp(X, y, seed=0)
    for p, q in zip(model.parameters(), again.parameters(), strict=True):
        assert torch.equal(p, q)
    other = toy2d.train_mlp(X, y, seed=1, epochs=5)
    assert not torch.equal(next(other.parameters()), next(model.parameters()))


def test_logistic_regression_separates_blobs_but_not_circles():
    Xb, yb = toy2d.make_dataset("blobs", 300, 0.05, seed=0)
    Xc, yc = toy2d.make_dataset("circles", 300, 0.05, seed=0)
    assert toy2d.accuracy(toy2d.train_logistic(Xb, yb), Xb, yb) > 0.95
    assert toy2d.accuracy(toy2d.train_logistic(Xc, yc), Xc, yc) < 0.75  # a line cannot draw a ring


def test_bad_training_inputs_raise_value_error():
    X, y, _ = _moons()
    with pytest.raises(ValueError, match="^y"):
        toy2d.train_mlp(X, y[:-1])
    with pytest.raises(ValueError, match="^activation"):
        toy2d.train_mlp(X, y, activation="sine")
    with pytest.raises(ValueError, match="^hidden"):
        toy2d.train_mlp(X, y, hidden=0)


# -- grids --------------------------------------------------------------------------------------------------
def test_decision_grid_matches_the_model_predictions():
    X, y, model = _moons()
    grid = toy2d.decision_grid(model, (-2.5, 2.5, -2.0, 2.0), n=50)
    assert grid.proba.shape == (50, 50, 2) and grid.label.shape == (50, 50)
    assert np.allclose(grid.proba.sum(axis=2), 1, atol=1e-5)
    i, j = 13, 37  # row i is ys[i], column j is xs[j]
    with torch.no_grad():
        pred = int(model(torch.tensor([[grid.xs[j], grid.ys[i]]], dtype=torch.float32)).argmax())
    assert grid.label[i, j] == pred
    with pytest.raises(ValueError, match="^bounds"):
        toy2d.decision_grid(model, (1, 0, 0, 1))


@pytest.mark.parametrize("norm", ["inf", "2"])
def test_ball_candidates_fill_the_ball_with_at_least_10000_points(norm):
    cand = toy2d.ball_candidates(0.4, norm)
    assert cand.shape[0] >= 10_000
    assert (attacks.delta_norm(torch.as_tensor(cand), norm) <= 0.4 + 1e-9).all()
    # the boundary is covered: the corners of the box, the rim of the disc
    reach = np.abs(cand).max(axis=1) if norm == "inf" else np.linalg.norm(cand, axis=1)
    assert np.isclose(reach, 0.4).sum() >= 400


# -- δ*: exact optimum vs FGSM vs PGD -------------------------------------------------------------------------
def test_for_a_linear_binary_model_fgsm_is_the_exact_optimum():
    # The loss of a linear binary classifier is a monotone function of wᵀx: the linearisation is exact about
    # the direction, so FGSM's corner (L∞) and ε·g/‖g‖ (L2) are the true δ* (Problem 3 without approximation).
    X, y = toy2d.make_dataset("blobs", 200, 0.1, seed=0)
    keep = y < 2
    X, y = X[keep], y[keep]
    model = toy2d.train_logistic(X, y)
    x, lab = torch.as_tensor(X[:10]), torch.as_tensor(y[:10])
    for norm in attacks.NORMS:
        d_star, l_star = toy2d.exact_optimum(model, X[:10], y[:10], 0.3, norm)
        l_fgsm = attacks.per_example_loss(model, attacks.fgsm(model, x, lab, 0.3, norm), lab).numpy()
        np.testing.assert_allclose(l_fgsm, l_star, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("norm", ["inf", "2"])
def test_exact_optimum_beats_every_candidate_and_both_attacks(norm):
    X, y, model = _moons()
    idx = _near_boundary(model, X, y, 20)
    x, lab = torch.as_tensor(X[idx]), torch.as_tensor(y[idx])
    eps = 0.3
    d_star, l_star = toy2d.exact_optimum(model, X[idx], y[idx], eps, norm)
    assert (attacks.delta_norm(torch.as_tensor(d_star), norm) <= eps + 1e-5).all()
    cand = torch.as_tensor(toy2d.ball_candidates(eps, norm), dtype=torch.float32)
    grid_best = toy2d._losses_at(model, x, lab, cand).max(dim=1).values.numpy()
    assert (l_star >= grid_best - 1e-6).all()
    for x_adv in (attacks.fgsm(model, x, lab, eps, norm), attacks.pgd(model, x, lab, eps, norm, steps=20)):
        assert (attacks.per_example_loss(model, x_adv, lab).numpy() <= l_star + 1e-3).all()


@pytest.mark.parametrize("name", ["moons", "circles", "spirals"])
def test_pgd_loss_is_at_least_fgsm_and_close_to_the_exact_optimum(name):
    X, y = toy2d.make_dataset(name, 300, 0.15, seed=0)
    model = toy2d.train_mlp(X, y, seed=0)
    idx = _near_boundary(model, X, y, 30)
    x, lab = torch.as_tensor(X[idx]), torch.as_tensor(y[idx])
    eps = 0.25
    for norm in attacks.NORMS:
        l_fgsm = attacks.per_example_loss(model, attacks.fgsm(model, x, lab, eps, norm), lab).numpy()
        l_pgd = attacks.per_example_loss(
            model, attacks.pgd(model, x, lab, eps, norm, steps=20, restarts=3), lab
        ).numpy()
        _, l_star = toy2d.exact_optimum(model, X[idx], y[idx], eps, norm)
        assert l_pgd.mean() >= l_fgsm.mean()
        assert (l_pgd >= l_fgsm - 0.02).mean() >= 0.9
        gap = l_star - l_pgd  # ≥ 0 up to the search's resolution
        assert gap.min() > -1e-3
        assert np.median(gap) < 0.01 and gap.mean() < 0.05 * l_star.mean() + 0.01


# -- the page's two core calls -------------------------------------------------------------------------------
def test_attack_point_reports_fgsm_corner_pgd_path_and_label_flips():
    X, y, model = _moons()
    eps = 0.3
    i = toy2d.interesting_point(model, X, y, eps)
    r = toy2d.attack_point(model, X, y, i, eps, grid_n=40, zoom_n=21)
    assert set(r.attacks) == {"fgsm_inf", "fgsm_2", "pgd_inf", "pgd_2", "exact_inf", "exact_2"}
    np.testing.assert_allclose(np.abs(r.attacks["fgsm_inf"].delta), eps, rtol=1e-5)  # a corner of the square
    assert np.linalg.norm(r.attacks["fgsm_2"].delta) == pytest.approx(eps, rel=1e-5)  # on the circle
    # the interesting point tells Problem 3's story: the corner flips the label, the circle's best does not
    assert r.pred == r.y and r.attacks["fgsm_inf"].flipped and not r.attacks["fgsm_2"].flipped
    for a in r.attacks.values():
        assert a.flipped == (a.pred != r.pred)
        assert np.allclose(a.x_adv, r.x + a.delta, atol=1e-6)
    for norm, path in r.paths.items():
        assert path.shape == (21, 2)
        assert (attacks.delta_norm(torch.as_tensor(path - r.x), norm) <= eps + 1e-5).all()
    assert r.zoom_loss.shape == r.zoom_linear.shape == (21, 21)
    assert np.isfinite(r.zoom_loss).all() and np.isfinite(r.grid.proba).all()
    # the linearisation agrees with the loss at x itself (the centre of the zoom window)
    assert r.zoom_linear[10, 10] == pytest.approx(r.loss, abs=1e-5)
    assert r.zoom_loss[10, 10] == pytest.approx(r.loss, abs=1e-4)
    with pytest.raises(ValueError, match="^index"):
        toy2d.attack_point(model, X, y, len(X), eps)


def test_attack_point_adds_dual_gradient_ascent_and_its_path_only_when_asked():
    X, y, model = _moons()
    eps = 0.3
    r = toy2d.attack_point(model, X, y, 5, eps, grid_n=40, zoom_n=21, dual_steps=30)
    assert {"dual_inf", "dual_2"} <= set(r.attacks)
    for norm, path in r.dual_paths.items():
        assert path.shape == (31, 2) and np.allclose(path[0], r.x)
        assert (
            float(attacks.delta_norm(torch.as_tensor(r.attacks[f"dual_{norm}"].delta[None]), norm))
            <= eps + 1e-5
        )
    plain = toy2d.attack_point(model, X, y, 5, eps, grid_n=40, zoom_n=21)
    assert not plain.dual_paths and not any(k.startswith("dual") for k in plain.attacks)
    with pytest.raises(ValueError, match="^dual_steps"):
        toy2d.attack_point(model, X, y, 5, eps, dual_steps=-1)


def test_fooling_rate_grows_with_eps_and_pgd_fools_at_least_as_often_as_fgsm():
    X, y, model = _moons()
    eps = np.linspace(0, 1.0, 11)
    fc = toy2d.fooling_curves(model, X, y, eps, pgd_steps=10)
    assert fc.n_correct == round(toy2d.accuracy(model, X, y) * len(X))
    for name, rate in fc.rates.items():
        assert rate.shape == (11,) and rate[0] == 0 and ((rate >= 0) & (rate <= 1)).all(), name
        assert rate[-1] > 0.5
    for norm in attacks.NORMS:
        assert (fc.rates[f"pgd_{norm}"] >= fc.rates[f"fgsm_{norm}"] - 0.02).all()
    # the L2 ball sits inside the L∞ ball of the same ε: L∞ attacks fool at least as often
    assert (fc.rates["pgd_inf"] >= fc.rates["pgd_2"] - 0.02).all()
    with pytest.raises(ValueError, match="^eps_values"):
        toy2d.fooling_curves(model, X, y, [-0.1, 0.2])


def test_remembered_grid_is_the_models_own_and_follows_new_weights():
    X, y, model = _moons()
    bounds = toy2d.data_bounds(X)
    a = toy2d.memo_decision_grid(model, bounds, 30)
    assert toy2d.memo_decision_grid(model, bounds, 30) is a
    np.testing.assert_array_equal(a.proba, toy2d.decision_grid(model, bounds, 30).proba)
    other = toy2d.train_mlp(X, y, seed=1, epochs=20)
    b = toy2d.memo_decision_grid(other, bounds, 30)
    assert b is not a and not np.array_equal(a.proba, b.proba)


@pytest.mark.parametrize(("name", "eps"), [("moons", 0.3), ("blobs", 0.0)])
def test_page_figures_have_titles_axis_titles_legends_and_no_nan(name, eps):
    from core.figures import attack2d as figs

    X, y = toy2d.make_dataset(name, 120, 0.15, seed=0)
    model = toy2d.train_mlp(X, y, seed=0, epochs=100)
    r = toy2d.attack_point(model, X, y, 3, eps, grid_n=40, zoom_n=21, pgd_steps=5)
    fc = toy2d.fooling_curves(model, X, y, np.linspace(0, 1, 5), pgd_steps=3)
    for fig in (figs.attack_map_figure(X, y, r), figs.loss_zoom_figure(r), figs.fooling_figure(fc, eps)):
        assert fig.layout.title.text
        assert fig.layout.xaxis.title.text and fig.layout.yaxis.title.text
        assert sum(bool(t.showlegend is not False and t.name) for t in fig.data) > 1
        for t in fig.data:
            for attr in ("x", "y", "z"):
                v = getattr(t, attr, None)
                if v is not None:
                    assert np.isfinite(np.asarray(v, dtype=float)).all(), (t.name, attr)
    # the map's data points carry their dataset index: a click names the point
    points = [t for t in figs.attack_map_figure(X, y, r).data if str(t.name).startswith("class ")]
    assert sorted(np.concatenate([np.asarray(t.customdata) for t in points]).tolist()) == list(range(len(y)))
    rows = figs.summary_rows(r)
    assert len(rows) == 7 and all(np.isfinite(row["loss"]) for row in rows)
