"""The shared input checks name the parameter in their ValueError."""

import math

import numpy as np
import pytest

from core import validate as v


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: v.check_positive("sigma", -1.0), "sigma"),
        (lambda: v.check_positive("sigma", 0.0), "sigma"),
        (lambda: v.check_finite("eps", math.nan), "eps"),
        (lambda: v.check_finite("eps", "abc"), "eps"),
        (lambda: v.check_range("alpha", 2.0, 0.0, 1.0), "alpha"),
        (lambda: v.check_int("steps", 1.5), "steps"),
        (lambda: v.check_int("steps", True), "steps"),
        (lambda: v.check_int("steps", 0, minimum=1), "steps"),
        (lambda: v.check_choice("norm", "3", ["inf", "2"]), "norm"),
        (lambda: v.check_finite_array("x", [1.0, np.nan]), "x"),
        (lambda: v.check_finite_array("x", [[1.0]], ndim=1), "x"),
        (lambda: v.check_finite_array("p", [-1.0], nonnegative=True), "p"),
        (lambda: v.check_same_shape("p", np.zeros(3), "q", np.zeros(4)), "q"),
    ],
)
def test_bad_input_raises_value_error_naming_the_parameter(call, name):
    with pytest.raises(ValueError, match=rf"^{name}:"):
        call()


def test_good_input_passes_through_unchanged():
    assert v.check_positive("sigma", 0.5) == 0.5
    assert v.check_positive("c", 0.0, allow_zero=True) == 0.0
    assert v.check_int("steps", np.int64(3), minimum=1) == 3
    assert v.check_choice("norm", "inf", ["inf", "2"]) == "inf"
    np.testing.assert_array_equal(v.check_finite_array("x", [1, 2]), [1.0, 2.0])
