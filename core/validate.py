"""Input checks shared by every public function: a clear ValueError that names the parameter."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np


def check_finite(name: str, value: float) -> float:
    """A finite real number."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected a number, got {value!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"{name}: must be finite, got {value!r}")
    return v


def check_positive(name: str, value: float, *, allow_zero: bool = False) -> float:
    """A finite number > 0 (or >= 0 with allow_zero)."""
    v = check_finite(name, value)
    if v < 0 or (v == 0 and not allow_zero):
        raise ValueError(f"{name}: must be {'>= 0' if allow_zero else '> 0'}, got {value!r}")
    return v


def check_range(name: str, value: float, lo: float, hi: float) -> float:
    """A finite number in [lo, hi]."""
    v = check_finite(name, value)
    if not lo <= v <= hi:
        raise ValueError(f"{name}: must lie in [{lo}, {hi}], got {value!r}")
    return v


def check_int(name: str, value: Any, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """An integer (bools refused) within optional bounds."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise ValueError(f"{name}: expected an integer, got {value!r}")
    v = int(value)
    if minimum is not None and v < minimum:
        raise ValueError(f"{name}: must be >= {minimum}, got {v}")
    if maximum is not None and v > maximum:
        raise ValueError(f"{name}: must be <= {maximum}, got {v}")
    return v


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> Any:
    """One of a fixed set of names."""
    options = list(choices)
    if value not in options:
        raise ValueError(f"{name}: unknown value {value!r}; choose one of {', '.join(map(str, options))}")
    return value


def check_finite_array(
    name: str, a: Any, *, ndim: int | None = None, nonnegative: bool = False
) -> np.ndarray:
    """A float numpy array with no NaN/inf (optionally of a given ndim, optionally >= 0)."""
    try:
        arr = np.asarray(a, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected an array of numbers") from None
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D array, got shape {arr.shape}")
    if arr.size and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: contains NaN or infinite values")
    if nonnegative and arr.size and arr.min() < 0:
        raise ValueError(f"{name}: must be non-negative, found {arr.min():g}")
    return arr


def check_same_shape(name_a: str, a: np.ndarray, name_b: str, b: np.ndarray) -> None:
    """Two arrays of the same shape."""
    if np.shape(a) != np.shape(b):
        raise ValueError(f"{name_b}: shape {np.shape(b)} does not match {name_a} shape {np.shape(a)}")
