"""Adversarial training on a 2D toy (sheet §2.3) and Problem 4 measured on the trained models."""

import numpy as np
import pytest
import torch

from core import robust2d
from core.figures import robust2d as figs
from core.perturbation_sets import training_ball

torch.set_num_threads(1)  # 2D toys: tiny tensors, where extra intra-op threads only add contention

CONFIG = robust2d.Robust2DConfig(
    dataset="moons", n=200, noise=0.1, eps=0.3, epochs=12, grid=20, pgd_steps=5, eval_steps=10, seed=0
)


@pytest.fixture(scope="module")
def result():
    return robust2d.run_robust2d(CONFIG)


@pytest.fixture(scope="module")
def sets(result):
    return robust2d.problem4_accuracy(result, brightness=0.3, l2_large=2.0)


def test_pgd_training_gives_higher_robust_accuracy_than_standard_training(result):
    robust, standard = result.robust_acc["robust"][-1], result.robust_acc["standard"][-1]
    assert robust > standard + 0.05
    assert result.clean_acc["robust"][-1] > 0.85  # and it still classifies the clean points


def test_adversarial_training_pays_k_plus_1_passes_per_batch_and_some_clean_accuracy():
    """Sheet §2.3's drawbacks: the attack inside every training step slows training down, and it often costs
    accuracy on clean data (here at the sheet's larger budget, ε = 0.5)."""
    from dataclasses import replace

    r = robust2d.run_robust2d(replace(CONFIG, eps=0.5))
    assert r.passes_per_batch == {"standard": 1.0, "robust": CONFIG.pgd_steps + 1.0}
    assert r.clean_acc["robust"][-1] < r.clean_acc["standard"][-1]
    assert r.robust_acc["robust"][-1] > r.robust_acc["standard"][-1] + 0.3


def test_both_models_start_from_the_same_weights(result):
    for name in robust2d.MODELS:
        assert result.clean_acc[name][0] == result.clean_acc["standard"][0]
    np.testing.assert_array_equal(result.surfaces["robust"][0], result.surfaces["standard"][0])


def test_one_boundary_snapshot_per_epoch(result):
    g = CONFIG.grid
    for name in robust2d.MODELS:
        assert result.surfaces[name].shape == (CONFIG.epochs + 1, g, g)
        assert np.isfinite(result.surfaces[name]).all()
        assert result.clean_acc[name].shape == result.robust_acc[name].shape == (CONFIG.epochs + 1,)


def test_robust_model_keeps_its_ball_accuracy_on_the_contained_sets(sets, result):
    assert list(sets.contained) == [True, False, True, False, False]
    ball_acc = result.robust_acc["robust"][-1]
    for inside, acc in zip(sets.contained, sets.accuracy["robust"], strict=True):
        if inside:  # a subset of the training ball can only be easier (PGD noise aside)
            assert acc >= ball_acc - 0.03
    # the larger L∞ ball of choice 2 is strictly harder than the training ball
    assert sets.accuracy["robust"][1] < ball_acc


def test_same_settings_give_the_same_pictures(result):
    again = robust2d.run_robust2d(CONFIG)
    np.testing.assert_array_equal(again.surfaces["robust"], result.surfaces["robust"])
    np.testing.assert_array_equal(again.robust_acc["standard"], result.robust_acc["standard"])


def test_figures_have_titles_axes_and_no_nan(result, sets):
    x_all = np.concatenate([result.x_train, result.x_test])
    built = [
        figs.boundary_animation(result),
        figs.accuracy_curves(result),
        figs.problem4_sets_figure(sets.items, sets.contained, training_ball(CONFIG.eps), x_all),
        figs.set_accuracy_figure(result, sets),
    ]
    for fig in built:
        assert fig.layout.title.text
        assert fig.layout.xaxis.title.text and fig.layout.yaxis.title.text
        for tr in fig.data:
            if tr.y is not None and tr.type in ("scatter", "bar"):
                y = np.array([v for v in tr.y if v is not None], dtype=float)
                assert np.isfinite(y).all()
    assert len(built[0].frames) == CONFIG.epochs + 1


@pytest.mark.parametrize(
    ("field", "value"),
    [("eps", 0.0), ("epochs", 0), ("dataset", "swiss"), ("noise", -1.0), ("pgd_steps", 0), ("device", "tpu")],
)
def test_bad_config_names_the_field(field, value):
    with pytest.raises(ValueError, match=f"^{field}"):
        robust2d.Robust2DConfig(**{field: value})


def test_train_pair_names_bad_data():
    x = np.zeros((10, 2), dtype=np.float32)
    y = np.zeros(10, dtype=np.int64)
    with pytest.raises(ValueError, match="^x_train"):
        robust2d.train_pair(np.zeros((10, 3)), y, x, y, CONFIG)
    with pytest.raises(ValueError, match="^y_test"):
        robust2d.train_pair(x, y, x, y[:5], CONFIG)
