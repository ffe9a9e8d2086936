"""The GAN game's quantities on a 1D grid (sheet §1.1–1.3.1): D*, the game value, KL, JSD, W1, and the least-squares
GAN's ideal discriminator with its Pearson χ² divergence.

All integrals are Riemann sums on an evenly spaced grid with densities normalised on that grid, so the
sheet's identity V(G, D*) = 2·JSD(p‖p_G) − log 4 holds to floating-point accuracy, not just approximately.
"""

from __future__ import annotations

import math

import numpy as np

from core.validate import check_finite, check_finite_array, check_positive, check_same_shape

LOG2 = math.log(2.0)
LOG4 = math.log(4.0)


def _pair(
    p: np.ndarray, q: np.ndarray, names: tuple[str, str] = ("p", "p_g")
) -> tuple[np.ndarray, np.ndarray]:
    p = check_finite_array(names[0], p, nonnegative=True)
    q = check_finite_array(names[1], q, nonnegative=True)
    check_same_shape(names[0], p, names[1], q)
    return p, q


def _xlogy(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """x·log y with the convention 0·log 0 = 0 (no mass, no contribution)."""
    out = np.zeros(np.broadcast(x, y).shape)
    mask = np.broadcast_to(x > 0, out.shape)
    xb, yb = np.broadcast_to(x, out.shape), np.broadcast_to(y, out.shape)
    with np.errstate(divide="ignore"):
        out[mask] = xb[mask] * np.log(yb[mask])
    return out


def optimal_discriminator(p: np.ndarray, p_g: np.ndarray) -> np.ndarray:
    """D*(x) = p(x) / (p(x) + p_G(x)) on a grid; 1/2 where both densities vanish."""
    p, p_g = _pair(p, p_g)
    total = p + p_g
    out = np.full_like(total, 0.5)
    np.divide(p, total, out=out, where=total > 0)
    return out


def pointwise_objective(p: np.ndarray, p_g: np.ndarray, d: np.ndarray | None = None) -> np.ndarray:
    """p(x)·log D(x) + p_G(x)·log(1 − D(x)): what the discriminator maximises at each x (Problem 1).

    With d=None, D = D* in logs, log D* = log p − log(p + p_G): p/(p + p_G) can round to exactly 0 or 1 where one
    density is ~1e-17 times the other, and log 0 would turn a finite objective into −inf.
    """
    p, p_g = _pair(p, p_g)
    if d is None:
        total = p + p_g
        return _xlogy(p, p) - _xlogy(p, total) + _xlogy(p_g, p_g) - _xlogy(p_g, total)
    d = check_finite_array("d", d)
    check_same_shape("p", p, "d", d)
    if d.size and (d.min() < 0 or d.max() > 1):
        raise ValueError("d: discriminator outputs must lie in [0, 1]")
    return _xlogy(p, d) + _xlogy(p_g, 1.0 - d)


def game_value(p: np.ndarray, p_g: np.ndarray, dx: float, d: np.ndarray | None = None) -> float:
    """V(G, D) = E_p[log D] + E_pG[log(1 − D)]; with D = D* (default) it equals 2·JSD − log 4."""
    dx = check_positive("dx", dx)
    return float(pointwise_objective(p, p_g, d).sum() * dx)


def kl_divergence(p: np.ndarray, q: np.ndarray, dx: float) -> float:
    """KL(p‖q) = ∫ p log(p/q) dx in nats; +inf where p has mass that q lacks."""
    p, q = _pair(p, q, ("p", "q"))
    dx = check_positive("dx", dx)
    if np.any((p > 0) & (q <= 0)):
        return math.inf
    return float((_xlogy(p, p) - _xlogy(p, q)).sum() * dx)


def js_divergence(p: np.ndarray, q: np.ndarray, dx: float) -> float:
    """JSD(p‖q) = ½KL(p‖m) + ½KL(q‖m), m = (p+q)/2, in nats; always in [0, log 2]."""
    p, q = _pair(p, q, ("p", "q"))
    dx = check_positive("dx", dx)
    m = 0.5 * (p + q)
    jsd = 0.5 * (_xlogy(p, p) - _xlogy(p, m)).sum() * dx + 0.5 * (_xlogy(q, q) - _xlogy(q, m)).sum() * dx
    return float(min(max(jsd, 0.0), LOG2))


def w1_distance(p: np.ndarray, q: np.ndarray, dx: float) -> float:
    """W1(p, q) = ∫ |F_p(x) − F_q(x)| dx, the earth mover's distance in 1D, from the two CDFs."""
    p, q = _pair(p, q, ("p", "q"))
    dx = check_positive("dx", dx)
    cdf_gap = np.cumsum(p - q) * dx
    return float(np.abs(cdf_gap).sum() * dx)


def w1_critic(p: np.ndarray, p_g: np.ndarray, dx: float) -> np.ndarray:
    """The optimal 1-Lipschitz critic of W1's dual in 1D: f*(x) = ∫_{-∞}^x sign(F_G − F_p) dt.

    E_p[f] − E_pG[f] = ∫ f'·(F_G − F_p) dx, so slope ±1 following the sign of the CDF gap attains W1(p, p_G):
    the smooth, never-flat critic of the sheet's Figure 2. Shifted so that f* = 0 at the grid's left end.
    """
    p, p_g = _pair(p, p_g)
    dx = check_positive("dx", dx)
    cdf_gap = np.cumsum(p_g - p) * dx
    slope = np.sign(cdf_gap)
    return np.concatenate([[0.0], np.cumsum(slope[:-1]) * dx])


# -- least squares GAN (sheet §1.3: "equivalent to minimizing the Pearson χ² divergence under ideal settings") ------
def pearson_chi2(p: np.ndarray, q: np.ndarray, dx: float) -> float:
    """Pearson χ²(p‖q) = ∫ (p − q)²/q dx (the f-divergence of f(u) = (u − 1)²); +inf where p has mass q lacks."""
    p, q = _pair(p, q, ("p", "q"))
    dx = check_positive("dx", dx)
    if np.any((p > 0) & (q <= 0)):
        return math.inf
    ratio = np.zeros_like(p)
    np.divide((p - q) ** 2, q, out=ratio, where=q > 0)
    return float(ratio.sum() * dx)


def lsgan_optimal_discriminator(
    p: np.ndarray, p_g: np.ndarray, a: float = -1.0, b: float = 1.0
) -> np.ndarray:
    """D*(x) = (b·p + a·p_G)/(p + p_G): the minimiser of ½p(D − b)² + ½p_G(D − a)² at each x (LSGAN's critic,
    real → b, generated → a); (a + b)/2 where both densities vanish."""
    p, p_g = _pair(p, p_g)
    a, b = check_finite("a", a), check_finite("b", b)
    total = p + p_g
    out = np.full_like(total, 0.5 * (a + b))
    np.divide(b * p + a * p_g, total, out=out, where=total > 0)
    return out


def lsgan_generator_value(
    p: np.ndarray, p_g: np.ndarray, dx: float, a: float = -1.0, b: float = 1.0, c: float = 0.0
) -> float:
    """The generator's LSGAN objective against the ideal critic: ½E_p[(D* − c)²] + ½E_pG[(D* − c)²].

    With b − c = 1 and b − a = 2 (a = −1, b = 1, c = 0, Mao et al. 2017) it is ½∫(p − p_G)²/(p + p_G) dx
    = ½·χ²_Pearson(2p_G ‖ p + p_G): the Pearson χ² divergence the sheet names (Mao et al. write its arguments
    the other way round).
    """
    dx, c = check_positive("dx", dx), check_finite("c", c)
    d = lsgan_optimal_discriminator(p, p_g, a, b)
    return float(0.5 * ((p + p_g) * (d - c) ** 2).sum() * dx)
