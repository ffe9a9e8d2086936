"""Sheet §1.3, Figures 1–2, from a disjoint start (generator far to the right of the data), 2000 generator steps:
the perfect discriminator leaves the generator where it is; Lipschitz critics bring it to the data."""

import math

import numpy as np
import pytest

from core.gan1d import Gan1DConfig, train_critics

LOG2 = math.log(2.0)


@pytest.fixture(scope="module")
def one_gaussian():
    return train_critics(
        Gan1DConfig(
            data="one_gaussian",
            critics=("perfect", "gradient_penalty"),
            steps=2000,
            snapshots=21,
            start="disjoint",
            seed=0,
        )
    )


@pytest.fixture(scope="module")
def two_modes():
    return train_critics(
        Gan1DConfig(
            data="two_modes",
            critics=("weight_clip", "gradient_penalty", "spectral_norm"),
            steps=2000,
            snapshots=21,
            start="disjoint",
            seed=0,
        )
    )


def _cut(result, critic: str) -> float:
    i = result.index(critic)
    return 1.0 - result.w1[i, -1] / result.w1[i, 0]


def test_the_start_is_disjoint(one_gaussian, two_modes):
    for r in (one_gaussian, two_modes):
        assert np.all(r.jsd[:, 0] > 0.999 * LOG2)


def test_perfect_discriminator_gives_the_generator_no_signal(one_gaussian):
    r, i = one_gaussian, one_gaussian.index("perfect")
    assert r.config.perfect_loss == "minimax"  # the sheet's saturating loss log(1 − D*(G(z)))
    assert r.jsd[i, -1] >= 0.95 * LOG2
    assert r.w1[i, -1] >= 0.9 * r.w1[i, 0]
    assert np.abs(r.sample_grad[i]).max() < 1e-6  # D* is flat on the generated samples (Figure 1)


def test_gradient_penalty_critic_brings_one_gaussian_home(one_gaussian):
    i = one_gaussian.index("gradient_penalty")
    assert one_gaussian.jsd[i, -1] < 0.1
    assert one_gaussian.w1[i, -1] < 0.3


def test_lipschitz_critics_cut_w1_on_two_modes(two_modes):
    assert _cut(two_modes, "gradient_penalty") >= 0.8
    assert _cut(two_modes, "spectral_norm") >= 0.8
    assert _cut(two_modes, "weight_clip") >= 0.5


def test_every_critic_curve_is_finite(one_gaussian, two_modes):
    for r in (one_gaussian, two_modes):
        assert np.all(r.stopped_at == -1), r.stop_reason
        for arr in (r.jsd, r.w1, r.d_loss, r.g_loss, r.p_g, r.sample_grad):
            assert np.all(np.isfinite(arr))
