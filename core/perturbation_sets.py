"""Perturbation sets as values — sheet §2.3, Problem 4: which sets is a model trained on ‖δ‖∞ ≤ ε robust to?

A set S' is covered by adversarial training on S exactly when S' ⊆ S. For norm balls this follows from the
norm inequalities ‖δ‖∞ ≤ ‖δ‖₂ ≤ √d·‖δ‖∞: the largest ‖δ‖_p over a ball of another norm is known in closed form.
A dimming shift x ↦ b·x is not a ball at all: its δ = (b − 1)·x depends on the image, so whether it fits in
the ball depends on how bright the data can be (the sheet: "night can cause drastic changes ... in ∞-norm").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.validate import check_choice, check_finite_array, check_int, check_positive, check_range

NORMS = ("inf", "2")


@dataclass(frozen=True)
class NormBall:
    """{δ : ‖δ‖_norm ≤ radius}."""

    norm: str = "inf"
    radius: float = 0.5

    def __post_init__(self) -> None:
        check_choice("norm", self.norm, NORMS)
        check_positive("radius", self.radius)

    @property
    def label(self) -> str:
        sub = "∞" if self.norm == "inf" else "₂"
        return f"‖δ‖{sub} ≤ {self.radius:g}"

    @property
    def latex(self) -> str:
        sub = r"\infty" if self.norm == "inf" else "2"
        return rf"\{{\delta : \|\delta\|_{{{sub}}} \le {self.radius:g}\}}"


@dataclass(frozen=True)
class Dimming:
    """The "night" shift x ↦ b·x with brightness b ∈ (0, 1]: δ = (b − 1)·x depends on the input."""

    brightness: float = 0.3

    def __post_init__(self) -> None:
        check_range("brightness", self.brightness, 0.0, 1.0)
        if self.brightness == 0.0:
            raise ValueError("brightness: must be > 0 (b = 0 turns every input into the origin)")

    @property
    def label(self) -> str:
        return f"dimming x ↦ {self.brightness:g}·x"

    @property
    def latex(self) -> str:
        return rf"x \mapsto {self.brightness:g}\,x \;\;(\delta = ({self.brightness:g}-1)\,x)"

    def apply(self, x):
        """The dimmed inputs b·x (numpy array or torch tensor alike)."""
        return x * self.brightness


PerturbationSet = NormBall | Dimming


def largest_norm(inner: PerturbationSet, norm: str, dim: int, data_bound: float | None = None) -> float:
    """sup ‖δ‖_norm over δ in `inner` (d = dim; data_bound = max |x_i| of the data, needed for Dimming).

    ‖δ‖∞ ≤ ‖δ‖₂ (equality on an axis) and ‖δ‖₂ ≤ √d·‖δ‖∞ (equality at a corner of the cube).
    """
    check_choice("norm", norm, NORMS)
    check_int("dim", dim, minimum=1)
    if isinstance(inner, NormBall):
        if inner.norm == norm or (inner.norm == "2" and norm == "inf"):
            return float(inner.radius)
        return float(inner.radius) * math.sqrt(dim)  # the corner of the L∞ cube sticks out of the L2 ball
    if isinstance(inner, Dimming):
        if data_bound is None:
            raise ValueError("data_bound: a dimming shift needs the data range max|x_i| (δ = (b−1)·x)")
        m = check_positive("data_bound", data_bound, allow_zero=True)
        linf = (1.0 - inner.brightness) * m  # the brightest pixel moves the most
        return linf if norm == "inf" else linf * math.sqrt(dim)
    raise ValueError(f"inner: expected a NormBall or Dimming, got {type(inner).__name__}")


def contains(outer: NormBall, inner: PerturbationSet, dim: int, data_bound: float | None = None) -> bool:
    """Is every δ of `inner` inside the ball `outer`? (then robustness on `outer` implies robustness on `inner`)."""
    if not isinstance(outer, NormBall):
        raise ValueError(f"outer: expected a NormBall, got {type(outer).__name__}")
    worst = largest_norm(inner, outer.norm, dim, data_bound)
    return bool(worst <= outer.radius * (1 + 1e-12))


def data_bound_of(x: np.ndarray) -> float:
    """max |x_i| over a data set: how far a dimming shift can move one coordinate per unit of (1 − b)."""
    arr = check_finite_array("x", x)
    if arr.size == 0:
        raise ValueError("x: empty data set")
    return float(np.abs(arr).max())


@dataclass(frozen=True)
class Problem4Item:
    """One numbered choice of Problem 4 and the set it names."""

    number: int
    pset: PerturbationSet

    @property
    def label(self) -> str:
        return f"{self.number}. {self.pset.label}"


def training_ball(eps_train: float = 0.5) -> NormBall:
    """The set the model was adversarially trained on: ‖δ‖∞ ≤ ε (ε = 0.5 on the sheet)."""
    return NormBall("inf", check_positive("eps_train", eps_train))


def problem4_sets(
    eps_train: float = 0.5, dim: int = 2, l2_large: float = 2.0, brightness: float = 0.3
) -> list[Problem4Item]:
    """The five sets of Problem 4 in units of ε: L∞ ε/5, L∞ 2ε, L2 ε, L2 `l2_large`·ε, dimming by `brightness`.

    With ε = 0.5 these are the sheet's numbers (0.1, 1.0, 0.5, 1.0, night). `dim` is checked only so callers
    state the input dimension they will pass to `contains`.
    """
    eps = check_positive("eps_train", eps_train)
    check_int("dim", dim, minimum=1)
    factor = check_positive("l2_large", l2_large)
    if factor <= 1.0:
        raise ValueError(
            f"l2_large: must be > 1 (a multiple of ε larger than the training radius), got {l2_large}"
        )
    return [
        Problem4Item(1, NormBall("inf", eps / 5)),
        Problem4Item(2, NormBall("inf", 2 * eps)),
        Problem4Item(3, NormBall("2", eps)),
        Problem4Item(4, NormBall("2", factor * eps)),
        Problem4Item(5, Dimming(brightness)),
    ]


def problem4_answers(
    eps_train: float = 0.5,
    dim: int = 2,
    data_bound: float = 1.0,
    l2_large: float = 2.0,
    brightness: float = 0.3,
) -> list[tuple[Problem4Item, bool]]:
    """Each choice of Problem 4 with `contains(training ball, choice)` — the answer derived, not looked up."""
    outer = training_ball(eps_train)
    return [
        (item, contains(outer, item.pset, dim, data_bound))
        for item in problem4_sets(eps_train, dim, l2_large, brightness)
    ]


def containment_reason(
    outer: NormBall, inner: PerturbationSet, dim: int, data_bound: float | None = None
) -> str:
    """One line of working: the largest ‖δ‖ of `inner` in the outer ball's norm, compared with its radius."""
    worst = largest_norm(inner, outer.norm, dim, data_bound)
    sub = "∞" if outer.norm == "inf" else "₂"
    verdict = "≤" if contains(outer, inner, dim, data_bound) else ">"
    if isinstance(inner, Dimming):
        how = f"{1 - inner.brightness:g}·max|xᵢ|" + (f"·√{dim}" if outer.norm == "2" else "")
        return f"largest ‖δ‖{sub} = {how} = {worst:.3g} {verdict} {outer.radius:g}"
    if inner.norm == outer.norm:
        why = "same norm"
    elif inner.norm == "2":
        why = "as ‖δ‖∞ ≤ ‖δ‖₂"
    else:
        why = f"as ‖δ‖₂ ≤ √{dim}·‖δ‖∞"
    return f"largest ‖δ‖{sub} = {worst:.3g} {verdict} {outer.radius:g} ({why})"
