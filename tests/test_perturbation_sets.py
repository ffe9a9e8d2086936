"""Problem 4 (sheet §2.3): which perturbation sets does robustness to ‖δ‖∞ ≤ 0.5 cover? Derived, not tabulated."""

import itertools
import math

import numpy as np
import pytest

from core.perturbation_sets import (
    Dimming,
    NormBall,
    containment_reason,
    contains,
    largest_norm,
    problem4_answers,
    problem4_sets,
    training_ball,
)


@pytest.mark.parametrize("dim", [2, 784])
def test_problem4_answers_1_and_3_contained_2_4_5_not(dim):
    answers = problem4_answers(eps_train=0.5, dim=dim, data_bound=1.0)  # images in [0, 1], as on the sheet
    assert [item.number for item, _ in answers] == [1, 2, 3, 4, 5]
    assert [inside for _, inside in answers] == [True, False, True, False, False]


def test_problem4_sets_are_the_sheets_numbers_at_eps_one_half():
    radii = [(it.pset.norm, it.pset.radius) for it in problem4_sets(0.5)[:4]]
    assert radii == [("inf", 0.1), ("inf", 1.0), ("2", 0.5), ("2", 1.0)]
    assert isinstance(problem4_sets(0.5)[4].pset, Dimming)


def test_dimming_containment_depends_on_the_data_range():
    ball, night = training_ball(0.5), Dimming(0.3)
    # δ = (b − 1)·x: bright pixels (x = 1) move by 0.7 > 0.5; on data no brighter than 0.5 they move 0.35 ≤ 0.5
    assert not contains(ball, night, dim=784, data_bound=1.0)
    assert contains(ball, night, dim=784, data_bound=0.5)
    assert largest_norm(night, "inf", 784, data_bound=1.0) == pytest.approx(0.7)


@pytest.mark.parametrize("dim", [1, 2, 3, 10])
def test_linf_ball_fits_in_an_l2_ball_only_of_radius_sqrt_d_eps(dim):
    cube = NormBall("inf", 0.5)
    assert contains(NormBall("2", 0.5 * math.sqrt(dim) + 1e-9), cube, dim)
    assert not contains(NormBall("2", 0.5 * math.sqrt(dim) * 0.99), cube, dim)


def _extreme_points(ball: NormBall, dim: int, rng) -> np.ndarray:
    """Points of the ball where other norms peak: cube corners / sphere axis points, plus random boundary points."""
    r = ball.radius
    if ball.norm == "inf":
        corners = np.array(list(itertools.product([-r, r], repeat=dim)))
        return np.concatenate([corners, rng.uniform(-r, r, (200, dim))])
    axes = np.concatenate([r * np.eye(dim), -r * np.eye(dim)])
    g = rng.standard_normal((200, dim))
    return np.concatenate([axes, r * g / np.linalg.norm(g, axis=1, keepdims=True)])


@pytest.mark.parametrize("dim", [2, 3])
def test_containment_agrees_with_the_geometry_of_the_balls(dim):
    rng = np.random.default_rng(0)
    radii = [0.1, 0.5, 0.5 * math.sqrt(dim), 1.0]
    for (no, ro), (ni, ri) in itertools.product(itertools.product(["inf", "2"], radii), repeat=2):
        outer, inner = NormBall(no, ro), NormBall(ni, ri)
        pts = _extreme_points(inner, dim, rng)
        norms = np.abs(pts).max(axis=1) if no == "inf" else np.linalg.norm(pts, axis=1)
        assert contains(outer, inner, dim) == bool(norms.max() <= ro + 1e-9), (outer, inner)


def test_reason_shows_the_working():
    text = containment_reason(training_ball(0.5), NormBall("2", 0.5), 2)
    assert "‖δ‖∞ ≤ ‖δ‖₂" in text and "≤ 0.5" in text
    assert "> 0.5" in containment_reason(training_ball(0.5), Dimming(0.3), 2, data_bound=1.0)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: NormBall("1", 0.5), "norm"),
        (lambda: NormBall("inf", -1.0), "radius"),
        (lambda: Dimming(0.0), "brightness"),
        (lambda: Dimming(1.5), "brightness"),
        (lambda: contains(training_ball(0.5), Dimming(0.3), 2), "data_bound"),
        (lambda: contains(training_ball(0.5), NormBall("2", 0.1), 0), "dim"),
        (lambda: problem4_sets(0.5, l2_large=1.0), "l2_large"),
        (lambda: problem4_sets(0.0), "eps_train"),
    ],
)
def test_bad_arguments_name_the_parameter(call, name):
    with pytest.raises(ValueError, match=f"^{name}"):
        call()
