"""The 1D GAN critic lab's figures: animated panels within the frame and size budget, curves for every critic."""

import dataclasses
import json
import math

import numpy as np
import pytest

from core.figures import gan1d as figs
from core.gan1d import CRITICS, Gan1DConfig, train_critics


@pytest.fixture(scope="module")
def big_result():
    """Every critic, 200 snapshots: the largest animation the page can ask for (a short run, its snapshots
    repeated tenfold with jitter, so the size test does not pay for 200 real snapshots)."""
    r = train_critics(Gan1DConfig(data="skewed", critics=CRITICS, steps=40, snapshots=20, batch=32, seed=1))
    rng = np.random.default_rng(0)
    big = {}
    for name in (
        "p_g",
        "critic_raw",
        "critic_display",
        "samples",
        "sample_grad",
        "jsd",
        "kl",
        "w1",
        "d_loss",
        "g_loss",
    ):
        arr = np.repeat(getattr(r, name), 10, axis=1)
        big[name] = arr * (1 + 1e-3 * rng.standard_normal(arr.shape)) if name != "critic_display" else arr
    return dataclasses.replace(r, steps=np.arange(200) * 10, **big)


def test_animation_stays_within_200_frames_and_5_mb(big_result):
    fig = figs.animation_figure(big_result)
    size = len(fig.to_json())
    assert size <= figs.MAX_BYTES, f"{size / 1e6:.2f} MB"
    assert 2 <= len(fig.frames) <= 200
    assert len(fig.layout.sliders[0].steps) == len(fig.frames)
    labels = [b.label for b in fig.layout.updatemenus[0].buttons]
    assert any("Play" in lab for lab in labels) and any("Pause" in lab for lab in labels)
    # every frame updates the four moving traces of every panel, and nothing in it is NaN
    n = len(big_result.critics)
    for frame in fig.frames[:: max(len(fig.frames) // 10, 1)]:
        assert len(frame.data) == 4 * n
        for trace in frame.data:
            for values in (trace.x, trace.y):
                if values is not None:
                    arr = np.array([v for v in values if v is not None], dtype=float)
                    assert np.all(np.isfinite(arr))


def test_animation_panels_have_titles_axes_and_a_legend(big_result):
    fig = figs.animation_figure(big_result, max_frames=20)
    assert len(fig.frames) == 20
    assert fig.layout.title.text
    titles = [a.text for a in fig.layout.annotations]
    assert all(any(label in t for t in titles) for label in big_result.labels)
    used = {t.xaxis for t in fig.data}  # every panel's axes are titled (empty grid cells have none)
    assert all(fig.layout["xaxis" + ref[1:]].title.text for ref in used)
    assert sum(bool(t.showlegend) for t in fig.data) >= 4


def test_arrow_length_shrinks_with_the_gradient_and_vanishes_below_1e_minus_6():
    lengths = figs.arrow_lengths(np.array([2.0, 1.0, -1e-3, 1e-6, 1e-30, 0.0]), full=1.0)
    assert lengths[0] == lengths[1] == 1.0
    assert lengths[2] == pytest.approx(-0.5)
    assert np.all(lengths[3:] == 0.0)


def test_curves_show_jsd_and_w1_for_every_critic_and_cut_stopped_runs():
    r = train_critics(
        Gan1DConfig(
            data="one_gaussian", critics=("perfect", "standard"), steps=40, snapshots=5, lr_g=1000.0, batch=32
        )
    )
    fig = figs.curves_figure(r)
    assert len(fig.data) == 2 * len(r.critics)
    names = {t.name for t in fig.data}
    assert any("stopped" in n for n in names)  # the runaway generator is labelled, its curve cut
    stopped = [t for t in fig.data if "stopped" in t.name]
    assert all(len(t.x) < len(r.steps) for t in stopped)
    for t in fig.data:
        assert np.all(np.isfinite(np.asarray(t.y, dtype=float)))
    perfect = [t for t in fig.data if t.name.startswith(r.labels[0])][0]
    assert perfect.y[-1] == pytest.approx(math.log(2), abs=1e-3)
    assert fig.layout.xaxis.title.text and fig.layout.yaxis.title.text and fig.layout.title.text
    json.loads(fig.to_json())
