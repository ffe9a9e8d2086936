"""The GAN game on a 1D grid (sheet §1.1–1.3, Problem 1, Figure 1): one call computes everything the page draws.

The generator p_G is a shape slid away from the data by an offset θ. For every θ we know the optimal
discriminator D* = p/(p+p_G) exactly, so we can watch JSD(p‖p_G) saturate at log 2 and the generator's
gradient under D* vanish for the saturating loss log(1 − D) while the non-saturating loss −log D keeps it.
§1.3's other tricks are computed the same way: the least-squares GAN's ideal critic (its generator then minimises
a Pearson χ² divergence) and instance noise (both densities blurred by N(0, σ²), which brings the gradient back).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from core.densities import PRESETS, Mixture1D, grid, on_grid
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
from core.validate import (
    check_choice,
    check_finite,
    check_finite_array,
    check_int,
    check_positive,
    check_range,
)

# Only smooth data densities: the generator's gradient needs the score d/dx log p everywhere.
GAME_PRESETS = tuple(name for name, m in PRESETS.items() if m.kind == "normal")
GENERATOR_SHAPES = ("copy", "gaussian", "two_gaussians")
GENERATOR_SHAPE_LABELS = {
    "copy": "Copy of p, shifted by θ",
    "gaussian": "Gaussian N(mean(p) + θ, σ_G²)",
    "two_gaussians": "Two Gaussians (±1.5 around mean(p) + θ), width σ_G",
}
GENERATOR_LOSSES = ("saturating", "non_saturating")
MAX_MEAN, MIN_STD, MAX_GRID = 20.0, 0.05, 8001  # a typed data mixture must fit one fine grid


def generator_at_rest(p: Mixture1D, shape: str = "copy", sigma_g: float = 0.5) -> Mixture1D:
    """p_G at offset θ = 0: a copy of p, one Gaussian, or a two-Gaussian mixture centred on mean(p)."""
    check_choice("shape", shape, GENERATOR_SHAPES)
    sigma_g = check_positive("sigma_g", sigma_g)
    if shape == "copy":
        return p
    if shape == "gaussian":
        return Mixture1D((p.mean,), (sigma_g,))
    return Mixture1D((p.mean - 1.5, p.mean + 1.5), (sigma_g, sigma_g))


@dataclass(frozen=True)
class GameConfig:
    """The page's settings: data preset, generator shape, its offset θ and width σ_G, a probe point x₀."""

    data: str = "one_gaussian"
    generator: str = "copy"
    offset: float = 3.0
    sigma_g: float = 0.5
    probe: float = 1.4
    noise_sigma: float = 0.5  # instance noise σ of §1.3's comparison (0 = none)
    max_offset: float = 8.0
    n_grid: int = 1601
    n_offsets: int = 60
    n_samples: int = 40
    seed: int = 0
    data_means: tuple[float, ...] | None = None  # a custom data mixture overrides the preset
    data_stds: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if self.data_means is None:
            check_choice("data", self.data, GAME_PRESETS)
        elif self.data_stds is None:
            raise ValueError("data_stds: a custom data mixture needs one std per mean")
        else:
            custom = Mixture1D(tuple(self.data_means), tuple(self.data_stds))  # names means/stds when bad
            for m in custom.means:
                check_range("means", m, -MAX_MEAN, MAX_MEAN)
            for s in custom.stds:
                check_range("stds", s, MIN_STD, 5.0)
        check_choice("generator", self.generator, GENERATOR_SHAPES)
        check_positive("max_offset", self.max_offset)
        check_range("offset", self.offset, -self.max_offset, self.max_offset)
        check_range("sigma_g", self.sigma_g, 0.05, 5.0)
        check_finite("probe", self.probe)
        check_range("noise_sigma", self.noise_sigma, 0.0, 5.0)
        check_int("n_grid", self.n_grid, minimum=64, maximum=20001)
        check_int("n_offsets", self.n_offsets, minimum=2, maximum=2000)
        check_int("n_samples", self.n_samples, minimum=1, maximum=10000)
        check_int("seed", self.seed, minimum=0)

    def data_density(self) -> Mixture1D:
        if self.data_means is None:
            return PRESETS[self.data]
        return Mixture1D(tuple(self.data_means), tuple(self.data_stds))


@dataclass
class SeparationSweep:
    """JSD and |∂L/∂θ| for both generator losses as p_G slides away from p (θ = separation)."""

    offsets: np.ndarray
    jsd: np.ndarray
    grad_saturating: np.ndarray  # ∂/∂θ E_pG[log(1 − D*)], D* held fixed
    grad_non_saturating: np.ndarray  # ∂/∂θ (−E_pG[log D*]), D* held fixed
    lsgan: np.ndarray  # the LSGAN generator's value at its ideal critic, ½∫(p − p_G)²/(p + p_G) dx ∈ [0, 1]


@dataclass
class GameResult:
    """Everything the GAN-game page shows, for one setting."""

    x: np.ndarray
    dx: float
    p: np.ndarray
    p_g: np.ndarray
    d_star: np.ndarray
    objective: np.ndarray  # p·log D* + p_G·log(1 − D*) at each x
    objective_half: np.ndarray  # the same with the clueless D = 1/2
    critic_w1: np.ndarray  # optimal 1-Lipschitz critic of W1's dual (Figure 2's smooth critic)
    samples_p: np.ndarray
    samples_g: np.ndarray
    value: float  # V(G, D*)
    jsd: float
    kl_p_pg: float
    kl_pg_p: float
    w1: float
    grad_saturating: float
    grad_non_saturating: float
    probe: float
    probe_d: np.ndarray
    probe_curve: np.ndarray  # p(x₀) log D + p_G(x₀) log(1 − D) against D
    probe_d_star: float
    sweep: SeparationSweep
    offset: float
    view: tuple[float, float]  # an x-range that holds both densities
    # §1.3's other tricks at the current θ: least squares (a = −1, b = 1, c = 0) and instance noise σ
    lsgan_d_star: np.ndarray  # (p − p_G)/(p + p_G), the least-squares critic's ideal output
    lsgan_value: float  # ½E_p[D*²] + ½E_pG[D*²]
    lsgan_chi2: float  # ½·χ²_Pearson(2p_G ‖ p + p_G), which the sheet says it equals
    noise_sigma: float
    p_noisy: np.ndarray  # p and p_G blurred by N(0, σ²)
    p_g_noisy: np.ndarray
    d_star_noisy: np.ndarray
    jsd_noisy: float
    grad_saturating_noisy: float
    noisy_sweep: SeparationSweep  # the same sweep for the blurred densities

    @property
    def jsd_identity(self) -> float:
        """2·JSD(p‖p_G) − log 4, which the sheet says equals V(G, D*)."""
        return 2.0 * self.jsd - LOG4


def _normalised(log_p: np.ndarray, dx: float) -> tuple[np.ndarray, np.ndarray]:
    """A density normalised on its grid, as (log, values); each row of a 2D array is its own grid."""
    top = log_p.max(axis=-1, keepdims=True)
    scaled = np.exp(log_p - top)
    mass = scaled.sum(axis=-1, keepdims=True) * dx
    return log_p - top - np.log(mass), scaled / mass


def separation_sweep(p: Mixture1D, base: Mixture1D, x: np.ndarray, offsets: np.ndarray) -> SeparationSweep:
    """For p_G = base shifted by each θ: JSD(p‖p_G) and the generator's gradient ∂L/∂θ under a fixed D*.

    With x = z + θ the gradient is E_pG[ℓ'(x)]; for D* = p/(p+p_G) and scores s = d/dx log(·):
    saturating ℓ = log(1 − D*) gives ℓ' = D*·(s_G − s_p), non-saturating ℓ = −log D* gives (1 − D*)·(s_G − s_p).
    Far from the data D* ≈ 0 over p_G, so the first vanishes and the second does not.
    """
    for name, dens in (("p", p), ("p_g", base)):
        if dens.kind != "normal":
            raise ValueError(f"{name}: the generator's gradient under D* needs smooth 'normal' densities")
    x = check_finite_array("x", x, ndim=1)
    if x.size < 2 or not np.allclose(np.diff(x), x[1] - x[0], rtol=1e-6) or x[1] <= x[0]:
        raise ValueError("x: expected an increasing, evenly spaced grid of at least two points")
    offsets = check_finite_array("offsets", offsets, ndim=1)
    dx = float(x[1] - x[0])
    xs = x[None, :] - offsets[:, None]  # p_G(x; θ) = base(x − θ)
    log_p, score_p = p.log_pdf_and_score(x)
    log_g, score_g = base.log_pdf_and_score(xs)
    (log_p, p_arr), (log_g, g_arr) = _normalised(log_p[None, :], dx), _normalised(log_g, dx)
    log_sum = np.logaddexp(log_p, log_g)  # log(p + p_G)
    score_gap = score_g - score_p[None, :]
    weight_sat = np.exp(log_g + log_p - log_sum)  # p_G·D*, in logs so it stays > 0 far from the data
    grad_sat = (weight_sat * score_gap).sum(axis=1) * dx
    grad_ns = ((g_arr - weight_sat) * score_gap).sum(axis=1) * dx  # p_G·(1 − D*)
    # V(G, D*) = E_p[log D*] + E_pG[log(1 − D*)] (the sums of game_value, vectorised over θ); JSD = (V + log 4)/2.
    value = (p_arr * log_p + g_arr * log_g - (p_arr + g_arr) * log_sum).sum(axis=1) * dx
    jsd = np.clip(0.5 * (value + LOG4), 0.0, LOG2)
    # The least-squares generator's value at its ideal critic (lsgan_generator_value, vectorised over θ):
    # ½∫(p − p_G)²/(p + p_G) dx.
    lsgan = 0.5 * ((p_arr - g_arr) ** 2 / np.maximum(p_arr + g_arr, np.finfo(float).tiny)).sum(axis=1) * dx
    return SeparationSweep(offsets, jsd, grad_sat, grad_ns, lsgan)


@functools.lru_cache(maxsize=32)
def _cached_sweep(
    p: Mixture1D, base: Mixture1D, lo: float, hi: float, n: int, max_offset: float, n_offsets: int
) -> SeparationSweep:
    x, _ = grid(lo, hi, n)
    sweep = separation_sweep(p, base, x, np.linspace(0.0, max_offset, n_offsets + 1)[1:])
    for arr in (sweep.offsets, sweep.jsd, sweep.grad_saturating, sweep.grad_non_saturating, sweep.lsgan):
        arr.flags.writeable = False  # shared between callers
    return sweep


def play_game(config: GameConfig = GameConfig()) -> GameResult:
    """D*, the pointwise objective, V(G, D*), JSD, KL, W1, samples, the probe at x₀ and the separation sweep."""
    if not isinstance(config, GameConfig):
        raise ValueError(f"config: expected a GameConfig, got {type(config).__name__}")
    p = config.data_density()
    base = generator_at_rest(p, config.generator, config.sigma_g)
    p_g = base.shifted(config.offset)
    p_n, base_n = p.blurred(config.noise_sigma), base.blurred(config.noise_sigma)  # instance noise

    # One grid for every θ of the sweep, so the current view and the sweep agree exactly (wide enough for the
    # blurred densities too).
    lo_p, hi_p = p_n.support(6.0)
    lo_b, hi_b = base_n.support(6.0)
    span = config.max_offset
    lo, hi = min(lo_p, lo_b - span), max(hi_p, hi_b + span)
    # At least ~10 grid points per σ of the narrowest component, so the sums stay close to the integrals.
    narrowest = min(min(p.stds), min(base.stds))
    n = min(max(config.n_grid, int(np.ceil(10 * (hi - lo) / narrowest))), MAX_GRID)
    x, dx = grid(lo, hi, n)

    p_arr, g_arr = on_grid(p, x), on_grid(p_g, x)
    log_p, log_g = _normalised(p.log_pdf(x), dx)[0], _normalised(p_g.log_pdf(x), dx)[0]
    d_star = np.exp(log_p - np.logaddexp(log_p, log_g))  # from logs: no 0/0 = ½ plateaus far in the tails
    objective = pointwise_objective(p_arr, g_arr)
    objective_half = -(p_arr + g_arr) * LOG2

    rng = np.random.default_rng(config.seed)
    samples_p, samples_g = p.sample(config.n_samples, rng), p_g.sample(config.n_samples, rng)

    # The sweep does not depend on θ or x₀: moving those sliders reuses it and only recomputes the current row.
    sweep = _cached_sweep(p, base, float(x[0]), float(x[-1]), x.size, config.max_offset, config.n_offsets)
    now = separation_sweep(p, base, x, np.array([config.offset]))
    noisy_sweep = _cached_sweep(
        p_n, base_n, float(x[0]), float(x[-1]), x.size, config.max_offset, config.n_offsets
    )
    noisy_now = separation_sweep(p_n, base_n, x, np.array([config.offset]))
    p_noisy, g_noisy = on_grid(p_n, x), on_grid(base_n.shifted(config.offset), x)

    # Problem 1 at one point x₀: the objective as a function of D alone, maximised at D*(x₀).
    p0, g0 = float(p.pdf(config.probe)), float(p_g.pdf(config.probe))
    probe_d = np.linspace(1e-3, 1 - 1e-3, 400)
    probe_curve = p0 * np.log(probe_d) + g0 * np.log1p(-probe_d)
    probe_d_star = float(optimal_discriminator(np.array([p0]), np.array([g0]))[0])

    lo_v = min(p.support(4.0)[0], p_g.support(4.0)[0])
    hi_v = max(p.support(4.0)[1], p_g.support(4.0)[1])
    return GameResult(
        x=x,
        dx=dx,
        p=p_arr,
        p_g=g_arr,
        d_star=d_star,
        objective=objective,
        objective_half=objective_half,
        critic_w1=w1_critic(p_arr, g_arr, dx),
        samples_p=samples_p,
        samples_g=samples_g,
        value=game_value(p_arr, g_arr, dx),
        jsd=js_divergence(p_arr, g_arr, dx),
        kl_p_pg=kl_divergence(p_arr, g_arr, dx),
        kl_pg_p=kl_divergence(g_arr, p_arr, dx),
        w1=w1_distance(p_arr, g_arr, dx),
        grad_saturating=float(now.grad_saturating[0]),
        grad_non_saturating=float(now.grad_non_saturating[0]),
        probe=float(config.probe),
        probe_d=probe_d,
        probe_curve=probe_curve,
        probe_d_star=probe_d_star,
        sweep=sweep,
        offset=float(config.offset),
        view=(lo_v, hi_v),
        lsgan_d_star=lsgan_optimal_discriminator(p_arr, g_arr),
        lsgan_value=lsgan_generator_value(p_arr, g_arr, dx),
        lsgan_chi2=0.5 * pearson_chi2(2.0 * g_arr, p_arr + g_arr, dx),
        noise_sigma=float(config.noise_sigma),
        p_noisy=p_noisy,
        p_g_noisy=g_noisy,
        d_star_noisy=optimal_discriminator(p_noisy, g_noisy),
        jsd_noisy=js_divergence(p_noisy, g_noisy, dx),
        grad_saturating_noisy=float(noisy_now.grad_saturating[0]),
        noisy_sweep=noisy_sweep,
    )


def parse_numbers(name: str, text: str) -> tuple[float, ...]:
    """'−2, 2' -> (−2.0, 2.0): a typed list of numbers, or a ValueError naming the field."""
    parts = [t.strip() for t in str(text).replace("−", "-").replace(";", ",").split(",") if t.strip()]
    if not parts:
        raise ValueError(f"{name}: type at least one number, e.g. '-2, 2'")
    out = []
    for t in parts:
        try:
            out.append(check_finite(name, float(t)))
        except ValueError:
            raise ValueError(f"{name}: {t!r} is not a finite number") from None
    return tuple(out)
