"""1D data distributions for the GAN pages: Gaussian / uniform mixtures, their pdf and cdf on a grid, samples.

The GAN game (sheet §1.1) is played between a data density p and a generator density p_G. On a 1D grid both
can be written down exactly, so every divergence on the theory pages is computed, not estimated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.validate import check_choice, check_finite, check_finite_array, check_int, check_positive

KINDS = ("normal", "uniform")
_SQRT3 = math.sqrt(3.0)


@dataclass(frozen=True)
class Mixture1D:
    """A mixture of 1D components: sum_k w_k · N(μ_k, σ_k²) (or uniforms with that mean and std)."""

    means: tuple[float, ...]
    stds: tuple[float, ...]
    weights: tuple[float, ...] | None = None
    kind: str = "normal"

    def __post_init__(self) -> None:
        means = tuple(check_finite("means", m) for m in np.atleast_1d(self.means).tolist())
        stds = tuple(check_positive("stds", s) for s in np.atleast_1d(self.stds).tolist())
        if not means:
            raise ValueError("means: a mixture needs at least one component")
        if len(stds) != len(means):
            raise ValueError(f"stds: expected {len(means)} values (one per mean), got {len(stds)}")
        if self.weights is None:
            weights = tuple(1.0 / len(means) for _ in means)
        else:
            w = np.atleast_1d(np.asarray(self.weights, dtype=float))
            if w.shape != (len(means),):
                raise ValueError(f"weights: expected {len(means)} values (one per mean), got {w.size}")
            check_finite_array("weights", w, nonnegative=True)
            if w.sum() <= 0:
                raise ValueError("weights: must not all be zero")
            weights = tuple(float(v) for v in w / w.sum())
        check_choice("kind", self.kind, KINDS)
        object.__setattr__(self, "means", means)
        object.__setattr__(self, "stds", stds)
        object.__setattr__(self, "weights", weights)

    # -- exact density -------------------------------------------------------------------------------
    def pdf(self, x: np.ndarray) -> np.ndarray:
        """p(x), evaluated pointwise."""
        x = np.asarray(x, dtype=float)
        out = np.zeros_like(x)
        for m, s, w in zip(self.means, self.stds, self.weights, strict=True):
            if self.kind == "normal":
                out += w * np.exp(-0.5 * ((x - m) / s) ** 2) / (s * math.sqrt(2 * math.pi))
            else:
                half = s * _SQRT3
                out += w * ((x >= m - half) & (x <= m + half)) / (2 * half)
        return out

    def log_pdf(self, x: np.ndarray) -> np.ndarray:
        """log p(x), stable far in the tails (log-sum-exp over components; −inf outside a uniform's support)."""
        x = np.asarray(x, dtype=float)
        terms = [
            self._log_component(x, m, s, w)
            for m, s, w in zip(self.means, self.stds, self.weights, strict=True)
        ]
        out = terms[0]
        for t in terms[1:]:
            out = np.logaddexp(out, t)
        return out

    def score(self, x: np.ndarray) -> np.ndarray:
        """d/dx log p(x): the direction in which p grows. Needs smooth (normal) components."""
        return self.log_pdf_and_score(x)[1]

    def log_pdf_and_score(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """log p(x) and d/dx log p(x) in one pass (normal components only)."""
        if self.kind != "normal":
            raise ValueError(
                f"kind: the score d/dx log p needs smooth 'normal' components, not {self.kind!r}"
            )
        x = np.asarray(x, dtype=float)
        logs = [
            self._log_component(x, m, s, w)
            for m, s, w in zip(self.means, self.stds, self.weights, strict=True)
        ]
        log_p = logs[0]
        for t in logs[1:]:
            log_p = np.logaddexp(log_p, t)
        score = np.zeros_like(log_p)
        for log_k, m, s in zip(logs, self.means, self.stds, strict=True):
            # responsibility of component k (stable in the tails) times its own score −(x − μ_k)/σ_k²
            score += np.exp(log_k - log_p) * (-(x - m) / s**2) if len(logs) > 1 else -(x - m) / s**2
        return log_p, score

    def _log_component(self, x: np.ndarray, m: float, s: float, w: float) -> np.ndarray:
        with np.errstate(divide="ignore"):
            log_w = float(np.log(w))  # a zero-weight component contributes log 0 = −inf
        if self.kind == "normal":
            return log_w - 0.5 * ((x - m) / s) ** 2 - math.log(s * math.sqrt(2 * math.pi))
        half = s * _SQRT3
        with np.errstate(divide="ignore"):
            return log_w + np.log(((x >= m - half) & (x <= m + half)) / (2 * half))

    def cdf(self, x: np.ndarray) -> np.ndarray:
        """F(x) = P(X <= x)."""
        x = np.asarray(x, dtype=float)
        out = np.zeros_like(x)
        for m, s, w in zip(self.means, self.stds, self.weights, strict=True):
            if self.kind == "normal":
                z = (x - m) / (s * math.sqrt(2.0))
                out += w * 0.5 * (1.0 + _erf(z))
            else:
                half = s * _SQRT3
                out += w * np.clip((x - (m - half)) / (2 * half), 0.0, 1.0)
        return out

    def sample(self, n: int, rng: np.random.Generator | int = 0) -> np.ndarray:
        """n seeded samples."""
        n = check_int("n", n, minimum=0)
        rng = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng
        comp = rng.choice(len(self.means), size=n, p=np.asarray(self.weights))
        mu = np.asarray(self.means)[comp]
        sd = np.asarray(self.stds)[comp]
        if self.kind == "normal":
            return mu + sd * rng.standard_normal(n)
        return mu + sd * _SQRT3 * rng.uniform(-1.0, 1.0, n)

    # -- summaries -----------------------------------------------------------------------------------
    @property
    def mean(self) -> float:
        return float(np.dot(self.weights, self.means))

    @property
    def std(self) -> float:
        second = np.dot(self.weights, np.square(self.stds) + np.square(self.means))
        return float(math.sqrt(max(second - self.mean**2, 0.0)))

    def support(self, n_std: float = 4.0) -> tuple[float, float]:
        """An interval holding essentially all of the mass."""
        lo = min(m - n_std * s for m, s in zip(self.means, self.stds, strict=True))
        hi = max(m + n_std * s for m, s in zip(self.means, self.stds, strict=True))
        return lo, hi

    def blurred(self, sigma: float) -> Mixture1D:
        """The density of x + n, n ~ N(0, σ²): instance noise (sheet §1.3). A Gaussian mixture stays one, each
        component's variance grown by σ²; exact, no numerical convolution."""
        sigma = check_positive("sigma", sigma, allow_zero=True)
        if sigma == 0:
            return self
        if self.kind != "normal":
            raise ValueError(
                "sigma: instance noise is computed exactly for Gaussian ('normal') mixtures only"
            )
        return Mixture1D(self.means, tuple(float(np.hypot(s, sigma)) for s in self.stds), self.weights)

    def shifted(self, delta: float) -> Mixture1D:
        """The same shape moved by delta (the 'slide the generator away' slider)."""
        delta = check_finite("delta", delta)
        return Mixture1D(tuple(m + delta for m in self.means), self.stds, self.weights, self.kind)


def _erf(z: np.ndarray) -> np.ndarray:
    from scipy.special import erf  # scipy comes with scikit-learn

    return erf(z)


def gaussian(mu: float, sigma: float) -> Mixture1D:
    """A single Gaussian N(μ, σ²)."""
    return Mixture1D((mu,), (sigma,))


def grid(lo: float, hi: float, n: int = 512) -> tuple[np.ndarray, float]:
    """An evenly spaced grid on [lo, hi] and its spacing dx."""
    lo, hi = check_finite("lo", lo), check_finite("hi", hi)
    if hi <= lo:
        raise ValueError(f"hi: must exceed lo ({lo}), got {hi}")
    n = check_int("n", n, minimum=8)
    x = np.linspace(lo, hi, n)
    return x, float(x[1] - x[0])


def normalize(p: np.ndarray, dx: float) -> np.ndarray:
    """Rescale a non-negative density on a grid so that sum(p)·dx = 1."""
    p = check_finite_array("p", p, nonnegative=True)
    dx = check_positive("dx", dx)
    mass = p.sum() * dx
    if mass <= 0:
        raise ValueError("p: has no mass on the grid (is the grid far from the density?)")
    return p / mass


def on_grid(density: Mixture1D, x: np.ndarray) -> np.ndarray:
    """density's pdf on the grid x, renormalised so it integrates to exactly 1 there."""
    x = check_finite_array("x", x, ndim=1)
    if x.size < 2:
        raise ValueError("x: a grid needs at least two points")
    return normalize(density.pdf(x), float(x[1] - x[0]))


# The 1D lab's data sets (sheet §1.3). Means sit inside [-4, 4] so one grid serves every preset.
PRESETS: dict[str, Mixture1D] = {
    "one_gaussian": Mixture1D((0.0,), (0.5,)),
    "two_modes": Mixture1D((-2.0, 2.0), (0.4, 0.4)),
    "three_modes": Mixture1D((-2.5, 0.0, 2.5), (0.3, 0.3, 0.3)),
    "uniform": Mixture1D((0.0,), (1.0,), kind="uniform"),
    "skewed": Mixture1D((-1.0, 0.5, 2.0), (0.35, 0.6, 1.0), (0.55, 0.3, 0.15)),
}

PRESET_LABELS: dict[str, str] = {
    "one_gaussian": "One Gaussian",
    "two_modes": "Two separated modes",
    "three_modes": "Three modes",
    "uniform": "Uniform",
    "skewed": "Skewed mixture",
}


def preset(name: str) -> Mixture1D:
    """One of the named data densities."""
    return PRESETS[check_choice("name", name, PRESETS)]
