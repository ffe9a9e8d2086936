"""1D data densities (sheet §1.1): exact pdf/cdf/log-pdf/score, seeded samples, grids, and bad input."""

import math

import numpy as np
import pytest

from core.densities import PRESETS, Mixture1D, gaussian, grid, normalize, on_grid, preset

RANDOM_MIXTURE = Mixture1D((-1.5, 0.3, 2.0), (0.4, 0.8, 0.3), (0.2, 0.5, 0.3))


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_integrates_to_one_and_its_cdf_is_the_integral_of_its_pdf(name):
    m = preset(name)
    x, dx = grid(-8.0, 8.0, 8001)
    assert m.pdf(x).sum() * dx == pytest.approx(1.0, abs=2e-3)
    running = np.cumsum(m.pdf(x)) * dx
    assert np.max(np.abs(running - m.cdf(x))) < 3e-3  # cdf(x) = ∫ pdf up to grid resolution


def test_log_pdf_is_the_log_of_pdf_and_stays_finite_far_in_the_tails():
    x = np.linspace(-3, 4, 50)
    np.testing.assert_allclose(
        np.exp(RANDOM_MIXTURE.log_pdf(x)), RANDOM_MIXTURE.pdf(x), rtol=1e-12, atol=1e-300
    )
    far = np.array([60.0, -80.0])
    assert np.all(RANDOM_MIXTURE.pdf(far) == 0.0)  # the plain pdf underflows here ...
    assert np.all(np.isfinite(RANDOM_MIXTURE.log_pdf(far)))  # ... its log does not
    assert gaussian(0.0, 1.0).log_pdf(np.array([50.0]))[0] == pytest.approx(
        -0.5 * 50**2 - 0.5 * math.log(2 * math.pi)
    )


def test_score_is_the_derivative_of_log_pdf():
    x, h = np.linspace(-3, 4, 41), 1e-5
    numeric = (RANDOM_MIXTURE.log_pdf(x + h) - RANDOM_MIXTURE.log_pdf(x - h)) / (2 * h)
    np.testing.assert_allclose(RANDOM_MIXTURE.score(x), numeric, atol=1e-6)
    # a single Gaussian's score is the straight line −(x − μ)/σ²
    np.testing.assert_allclose(gaussian(1.0, 2.0).score(x), -(x - 1.0) / 4.0)


def test_uniform_has_no_score():
    with pytest.raises(ValueError, match="^kind"):
        PRESETS["uniform"].score(np.zeros(3))


def test_samples_are_seeded_and_follow_the_mixture():
    a, b = RANDOM_MIXTURE.sample(20000, 3), RANDOM_MIXTURE.sample(20000, 3)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, RANDOM_MIXTURE.sample(20000, 4))
    assert a.mean() == pytest.approx(RANDOM_MIXTURE.mean, abs=0.03)
    assert a.std() == pytest.approx(RANDOM_MIXTURE.std, abs=0.03)


def test_shifting_moves_every_mode_and_keeps_the_shape():
    moved = RANDOM_MIXTURE.shifted(2.5)
    x = np.linspace(-4, 4, 101)
    np.testing.assert_allclose(moved.pdf(x + 2.5), RANDOM_MIXTURE.pdf(x), rtol=1e-12)
    assert moved.mean == pytest.approx(RANDOM_MIXTURE.mean + 2.5)


def test_on_grid_renormalises_to_exactly_one():
    x, dx = grid(-2.0, 2.0, 101)  # cuts the tails off: the raw mass is < 1
    p = on_grid(gaussian(0.0, 1.0), x)
    assert p.sum() * dx == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (lambda: Mixture1D((0.0,), (-1.0,)), "stds"),
        (lambda: Mixture1D((float("nan"),), (1.0,)), "means"),
        (lambda: Mixture1D((0.0, 1.0), (1.0,)), "stds"),
        (lambda: Mixture1D((0.0, 1.0), (1.0, 1.0), (1.0,)), "weights"),
        (lambda: Mixture1D((0.0,), (1.0,), (-1.0,)), "weights"),
        (lambda: Mixture1D((0.0,), (1.0,), kind="cauchy"), "kind"),
        (lambda: Mixture1D((), ()), "means"),
        (lambda: preset("four_modes"), "name"),
        (lambda: grid(1.0, 0.0), "hi"),
        (lambda: grid(0.0, 1.0, 2), "n"),
        (lambda: normalize(np.zeros(5), 0.1), "p"),
        (lambda: normalize(np.ones(5), -0.1), "dx"),
        (lambda: on_grid(gaussian(0, 1), np.zeros((2, 2))), "x"),
        (lambda: gaussian(0, 1).sample(-1), "n"),
        (lambda: gaussian(0, 1).shifted(float("inf")), "delta"),
    ],
)
def test_bad_input_raises_value_error_naming_the_parameter(make, name):
    with pytest.raises(ValueError, match=f"^{name}"):
        make()
