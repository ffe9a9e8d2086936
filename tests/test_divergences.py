"""The GAN game's identities (sheet §1.2–1.3, Problem 1), checked numerically on exact 1D densities."""

import math

import numpy as np
import pytest

from core import game
from core.densities import PRESETS, Mixture1D, gaussian, grid, on_grid
from core.divergences import (
    LOG2,
    LOG4,
    game_value,
    js_divergence,
    kl_divergence,
    lsgan_generator_value,
    lsgan_optimal_discriminator,
    optimal_discriminator,
    pearson_chi2,
    pointwise_objective,
    w1_critic,
    w1_distance,
)

X, DX = grid(-12.0, 12.0, 4001)


def random_mixture(rng: np.random.Generator) -> Mixture1D:
    k = int(rng.integers(1, 4))
    return Mixture1D(
        tuple(rng.uniform(-4, 4, k)), tuple(rng.uniform(0.2, 1.5, k)), tuple(rng.uniform(0.1, 1, k))
    )


def random_pair(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return on_grid(random_mixture(rng), X), on_grid(random_mixture(rng), X)


# -- Problem 1: the optimal discriminator --------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(4))
def test_optimal_discriminator_maximises_pointwise_objective(seed):
    p, q = random_pair(seed)
    d_star = optimal_discriminator(p, q)
    best = pointwise_objective(p, q)  # at D*, computed in logs
    finite = np.isfinite(pointwise_objective(p, q, d_star))  # D* rounded to 0 or 1 makes log(·) = −inf
    np.testing.assert_allclose(pointwise_objective(p, q, d_star)[finite], best[finite], rtol=1e-6, atol=1e-15)
    rng = np.random.default_rng(100 + seed)
    for _ in range(20):
        other = np.clip(d_star + rng.normal(0, 0.2, d_star.shape), 1e-9, 1 - 1e-9)
        assert np.all(pointwise_objective(p, q, other) <= best + 1e-15)
    # ... and it is the stationary point the sheet solves for: p/D − p_G/(1 − D) = 0
    inside = (p > 1e-8) & (q > 1e-8)
    np.testing.assert_allclose(p[inside] / d_star[inside], q[inside] / (1 - d_star[inside]), rtol=1e-9)


def test_optimal_discriminator_is_one_half_where_both_densities_vanish():
    np.testing.assert_array_equal(optimal_discriminator(np.zeros(3), np.zeros(3)), 0.5)


@pytest.mark.parametrize("seed", range(6))
def test_game_value_with_optimal_discriminator_is_two_jsd_minus_log4(seed):
    p, q = random_pair(seed)
    assert game_value(p, q, DX) == pytest.approx(2 * js_divergence(p, q, DX) - LOG4, abs=1e-10)
    # any other discriminator does worse (D* maximises V)
    assert game_value(p, q, DX, d=np.full_like(p, 0.5)) == pytest.approx(-LOG4)
    assert game_value(p, q, DX, d=np.full_like(p, 0.5)) <= game_value(p, q, DX)


def test_game_value_stays_finite_where_d_star_underflows():
    # p is tiny but positive under p_G: p/(p + p_G) underflows to 0, log D* must not become −inf
    x, dx = grid(-3.0, 25.0, 4001)
    p, q = on_grid(gaussian(0.0, 0.5), x), on_grid(gaussian(20.0, 0.5), x)
    assert math.isfinite(game_value(p, q, dx))
    assert game_value(p, q, dx) == pytest.approx(2 * js_divergence(p, q, dx) - LOG4, abs=1e-10)


# -- Jensen–Shannon, KL, W1 ----------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(6))
def test_jsd_lies_between_zero_and_log2(seed):
    p, q = random_pair(seed)
    assert 0.0 <= js_divergence(p, q, DX) <= LOG2
    assert js_divergence(p, q, DX) == pytest.approx(js_divergence(q, p, DX), abs=1e-14)  # symmetric


def test_jsd_is_zero_iff_the_densities_are_equal():
    p, q = random_pair(7)
    assert js_divergence(p, p, DX) == pytest.approx(0.0, abs=1e-14)
    assert js_divergence(p, q, DX) > 1e-3
    assert js_divergence(p, on_grid(Mixture1D((0.0,), (1.0,)).shifted(1e-2), X), DX) > 0.0


def test_jsd_reaches_log2_for_disjoint_supports():
    p, q = on_grid(gaussian(-6, 0.3), X), on_grid(gaussian(6, 0.3), X)
    assert js_divergence(p, q, DX) == pytest.approx(LOG2, abs=1e-9)


def test_kl_matches_the_gaussian_closed_form_and_is_infinite_without_overlap():
    p, q = on_grid(gaussian(0.0, 1.0), X), on_grid(gaussian(1.0, 2.0), X)
    exact = math.log(2.0) + (1.0 + 1.0) / (2 * 4.0) - 0.5
    assert kl_divergence(p, q, DX) == pytest.approx(exact, abs=1e-6)
    assert kl_divergence(p, p, DX) == pytest.approx(0.0, abs=1e-14)
    assert kl_divergence(np.array([1.0, 0.0]), np.array([0.0, 1.0]), 1.0) == math.inf


def test_w1_of_a_shifted_copy_is_the_shift():
    p = on_grid(PRESETS["skewed"], X)
    q = on_grid(PRESETS["skewed"].shifted(2.5), X)
    assert w1_distance(p, q, DX) == pytest.approx(2.5, abs=1e-3)


def test_w1_dual_critic_is_1_lipschitz_and_attains_w1():
    p, q = random_pair(3)
    f = w1_critic(p, q, DX)
    assert np.max(np.abs(np.diff(f))) <= DX * (1 + 1e-12)  # slope at most 1
    gap = float((p * f).sum() * DX - (q * f).sum() * DX)  # E_p f − E_pG f
    assert gap == pytest.approx(w1_distance(p, q, DX), rel=1e-6)


# -- sliding the generator away ------------------------------------------------------------------------------
def test_jsd_approaches_log2_and_saturating_gradient_vanishes_as_generator_slides_away():
    r = game.play_game(game.GameConfig(data="one_gaussian", generator="copy", offset=3.0, max_offset=8.0))
    s = r.sweep
    assert np.all(np.diff(s.jsd) >= -1e-12)  # JSD grows with the separation ...
    assert s.jsd[-1] == pytest.approx(LOG2, abs=1e-9)  # ... up to log 2
    sat, ns = np.abs(s.grad_saturating), np.abs(s.grad_non_saturating)
    far = s.offsets > 3.0
    assert np.all(np.diff(sat[far]) < 0)  # the saturating gradient dies away ...
    assert sat[-1] < 1e-8 * sat.max()
    assert np.all(np.diff(ns[far]) > 0)  # ... the non-saturating one keeps growing (≈ θ/σ² for Gaussians)
    assert ns[-1] == pytest.approx(8.0 / 0.5**2, rel=1e-3)


@pytest.mark.parametrize(
    ("data", "shape"), [("one_gaussian", "copy"), ("skewed", "gaussian"), ("three_modes", "two_gaussians")]
)
def test_generator_gradient_matches_finite_difference_with_d_star_fixed(data, shape):
    p = PRESETS[data]
    base = game.generator_at_rest(p, shape, 0.7)
    x, dx = grid(-8.0, 14.0, 6001)
    theta, h = 1.3, 1e-4
    got = game.separation_sweep(p, base, x, np.array([theta]))
    # D* held fixed (the generator's step, not the discriminator's), in logs so neither log D* nor log(1 − D*)
    # underflows: log D* = log p − log(p + p_G), log(1 − D*) = log p_G − log(p + p_G)
    log_p, log_g = p.log_pdf(x), base.shifted(theta).log_pdf(x)
    log_d, log_1md = log_p - np.logaddexp(log_p, log_g), log_g - np.logaddexp(log_p, log_g)

    def loss(t: float, saturating: bool) -> float:
        g_t = on_grid(base.shifted(t), x)
        return float((g_t * (log_1md if saturating else -log_d)).sum() * dx)

    for saturating, value in ((True, got.grad_saturating[0]), (False, got.grad_non_saturating[0])):
        numeric = (loss(theta + h, saturating) - loss(theta - h, saturating)) / (2 * h)
        assert value == pytest.approx(numeric, rel=1e-4, abs=1e-9)


def test_play_game_shows_value_and_identity_agreeing_to_six_digits():
    for config in (
        game.GameConfig(),
        game.GameConfig(data="two_modes", generator="gaussian", offset=0.7),
        game.GameConfig(data_means=(-1.0, 3.0), data_stds=(0.3, 1.2), offset=5.0),
    ):
        r = game.play_game(config)
        assert f"{r.value:.6f}" == f"{r.jsd_identity:.6f}"
        assert abs(r.value - r.jsd_identity) < 1e-9
        assert np.all(np.isfinite(r.d_star)) and np.all((r.d_star >= 0) & (r.d_star <= 1))
        assert np.all(np.isfinite(r.objective))
        # the probe: the curve's maximum sits at D*(x₀)
        assert r.probe_d[np.argmax(r.probe_curve)] == pytest.approx(r.probe_d_star, abs=3e-3)


def test_d_star_is_flat_near_zero_over_generated_samples_far_from_the_data():
    r = game.play_game(game.GameConfig(offset=4.0))  # Figure 1: p = N(0, 0.5²), p_G = N(4, 0.5²)
    d_at_samples = np.interp(r.samples_g, r.x, r.d_star)
    assert d_at_samples.max() < 1e-4


def test_play_game_is_seeded():
    a, b = game.play_game(game.GameConfig(seed=5)), game.play_game(game.GameConfig(seed=5))
    np.testing.assert_array_equal(a.samples_g, b.samples_g)
    assert not np.array_equal(a.samples_g, game.play_game(game.GameConfig(seed=6)).samples_g)


# -- §1.3: least squares GAN and instance noise ----------------------------------------------------------------
@pytest.mark.parametrize("seed", range(4))
def test_lsgan_ideal_critic_minimises_the_pointwise_least_squares_objective(seed):
    p, q = random_pair(seed)
    d_star = lsgan_optimal_discriminator(p, q)  # real → b = 1, generated → a = −1

    def objective(d):
        return 0.5 * p * (d - 1.0) ** 2 + 0.5 * q * (d + 1.0) ** 2

    best = objective(d_star)
    for d in np.linspace(-1.5, 1.5, 61):
        assert np.all(objective(np.full_like(p, d)) >= best - 1e-15)
    assert np.all(np.abs(d_star) <= 1.0)  # a real-valued critic, between the two codes


@pytest.mark.parametrize("seed", range(6))
def test_lsgan_generator_minimises_half_the_pearson_chi2_divergence_at_the_ideal_critic(seed):
    """Sheet §1.3: LSGAN is equivalent to minimising the Pearson χ² divergence under ideal settings."""
    p, q = random_pair(seed)
    chi2_half = 0.5 * pearson_chi2(2 * q, p + q, DX)
    assert lsgan_generator_value(p, q, DX) == pytest.approx(chi2_half, rel=1e-12)
    assert chi2_half == pytest.approx(0.5 * ((p - q) ** 2 / (p + q)).sum() * DX, rel=1e-12)
    # The identity needs Mao et al.'s codes (b − c = 1, b − a = 2); the common 0-1 coding gives another number.
    assert lsgan_generator_value(p, q, DX, a=0.0, b=1.0, c=1.0) != pytest.approx(chi2_half, rel=1e-3)


def test_pearson_chi2_is_zero_iff_equal_and_its_lsgan_form_saturates_at_one_for_disjoint_supports():
    p = on_grid(gaussian(0.0, 0.5), X)
    assert pearson_chi2(p, p, DX) == 0.0
    far = on_grid(gaussian(8.0, 0.5), X)
    assert 0.5 * pearson_chi2(2 * far, p + far, DX) == pytest.approx(1.0, abs=1e-9)  # like JSD at log 2
    assert (
        pearson_chi2(p, far, DX) == math.inf or pearson_chi2(p, far, DX) > 1e6
    )  # q has almost no mass there
    assert pearson_chi2(np.array([1.0, 0.0]), np.array([0.0, 1.0]), 1.0) == math.inf


def test_instance_noise_blurs_a_mixture_exactly():
    m = Mixture1D((-1.0, 2.0), (0.3, 0.8), (0.4, 0.6))
    blurred = m.blurred(0.5)
    assert blurred.means == m.means and blurred.weights == m.weights
    assert blurred.stds == pytest.approx((math.hypot(0.3, 0.5), math.hypot(0.8, 0.5)))
    assert m.blurred(0.0) is m
    # the same as convolving the density with the N(0, σ²) kernel numerically
    x, dx = grid(-10.0, 10.0, 4001)
    kernel = on_grid(gaussian(0.0, 0.5), x)
    numeric = np.convolve(on_grid(m, x), kernel, mode="same") * dx
    np.testing.assert_allclose(numeric, on_grid(blurred, x), atol=1e-6)


def test_instance_noise_brings_back_the_saturating_gradient_and_never_raises_the_jsd():
    """Sheet §1.3: noise on both inputs smooths both densities and improves the generator's learning signal."""
    r = game.play_game(game.GameConfig(data="one_gaussian", generator="copy", offset=3.0, noise_sigma=0.5))
    clean, noisy = r.sweep, r.noisy_sweep
    far = clean.offsets >= 6.0
    assert np.all(np.abs(noisy.grad_saturating[far]) > 1e3 * np.abs(clean.grad_saturating[far]))
    # The same noise applied to p and p_G can only shrink a divergence (data processing inequality).
    assert np.all(noisy.jsd <= clean.jsd + 1e-12) and np.all(noisy.lsgan <= clean.lsgan + 1e-12)
    assert r.jsd_noisy < r.jsd and abs(r.grad_saturating_noisy) > abs(r.grad_saturating)
    # The least-squares divergence saturates too when the supports separate: 0 at θ = 0, 1 far away.
    assert clean.lsgan[-1] == pytest.approx(1.0, abs=1e-9) and np.all(np.diff(clean.lsgan) >= -1e-12)
    assert r.lsgan_value == pytest.approx(r.lsgan_chi2, rel=1e-12)
    off = game.play_game(game.GameConfig(data="one_gaussian", noise_sigma=0.0))
    np.testing.assert_array_equal(off.noisy_sweep.grad_saturating, off.sweep.grad_saturating)


# -- bad input -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: optimal_discriminator(np.array([np.nan, 1.0]), np.ones(2)), "p"),
        (lambda: optimal_discriminator(np.ones(2), -np.ones(2)), "p_g"),
        (lambda: optimal_discriminator(np.ones(2), np.ones(3)), "p_g"),
        (lambda: pointwise_objective(np.ones(2), np.ones(2), np.array([0.5, 1.5])), "d"),
        (lambda: pointwise_objective(np.ones(2), np.ones(2), np.array([0.5])), "d"),
        (lambda: game_value(np.ones(2), np.ones(2), 0.0), "dx"),
        (lambda: js_divergence(np.ones(2), np.ones(2), -1.0), "dx"),
        (lambda: js_divergence(np.ones(2), np.array([1.0, np.inf]), 1.0), "q"),
        (lambda: kl_divergence(np.ones(2), np.ones((2, 1)), 1.0), "q"),
        (lambda: w1_distance(np.ones(2), np.ones(2), float("nan")), "dx"),
        (lambda: w1_critic(-np.ones(2), np.ones(2), 1.0), "p"),
        (lambda: game.GameConfig(data="nine_modes"), "data"),
        (lambda: game.GameConfig(data="uniform"), "data"),
        (lambda: game.GameConfig(generator="cauchy"), "generator"),
        (lambda: game.GameConfig(offset=99.0), "offset"),
        (lambda: game.GameConfig(sigma_g=-0.5), "sigma_g"),
        (lambda: game.GameConfig(probe=float("nan")), "probe"),
        (lambda: game.GameConfig(noise_sigma=-0.1), "noise_sigma"),
        (lambda: PRESETS["one_gaussian"].blurred(-1.0), "sigma"),
        (lambda: PRESETS["uniform"].blurred(0.5), "sigma"),
        (lambda: pearson_chi2(np.ones(2), np.ones(2), 0.0), "dx"),
        (lambda: lsgan_optimal_discriminator(np.ones(2), np.ones(3)), "p_g"),
        (lambda: lsgan_optimal_discriminator(np.ones(2), np.ones(2), a=float("nan")), "a"),
        (lambda: lsgan_generator_value(np.ones(2), np.ones(2), 1.0, c=float("inf")), "c"),
        (lambda: game.GameConfig(data_means=(0.0,)), "data_stds"),
        (lambda: game.GameConfig(data_means=(0.0, 1.0), data_stds=(0.5,)), "stds"),
        (lambda: game.GameConfig(data_means=(0.0, 99.0), data_stds=(0.5, 0.5)), "means"),
        (lambda: game.GameConfig(data_means=(0.0,), data_stds=(0.001,)), "stds"),
        (lambda: game.GameConfig(data_means=(0.0, 1.0), data_stds=(1.0, -1.0)), "stds"),
        (lambda: game.play_game("default"), "config"),
        (lambda: game.generator_at_rest(PRESETS["one_gaussian"], "triangle"), "shape"),
        (lambda: game.separation_sweep(PRESETS["uniform"], PRESETS["uniform"], X, np.ones(2)), "p"),
        (
            lambda: game.separation_sweep(
                PRESETS["one_gaussian"], PRESETS["one_gaussian"], X[::-1], np.ones(2)
            ),
            "x",
        ),
        (
            lambda: game.separation_sweep(
                PRESETS["one_gaussian"], PRESETS["one_gaussian"], X, np.ones((2, 2))
            ),
            "offsets",
        ),
        (lambda: game.parse_numbers("p_means", "1, two"), "p_means"),
        (lambda: game.parse_numbers("p_stds", " , "), "p_stds"),
        (lambda: game.parse_numbers("p_stds", "nan"), "p_stds"),
    ],
)
def test_bad_input_raises_value_error_naming_the_parameter(call, name):
    with pytest.raises(ValueError, match=f"^{name}"):
        call()
