"""Quality metrics for MNIST generators: a classifier judge, the MNIST score, MNIST-FD and class coverage."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.mnist import metrics
from core.mnist.data import load_mnist, to_tensor


@pytest.fixture(scope="module")
def subset():
    return load_mnist(source="subset")


@pytest.fixture(scope="module")
def classifier(subset, cache_dir):
    return metrics.load_classifier(subset.x_train, subset.y_train, cache_dir=cache_dir)


@pytest.fixture(scope="module")
def test_images(subset):
    return to_tensor(subset.x_test)


def test_classifier_reaches_95_percent_on_the_subset_test_split(classifier, subset):
    assert metrics.accuracy(classifier, subset.x_test, subset.y_test) >= 0.95


def test_classifier_is_cached_on_disk_and_loads_identically(classifier, subset, cache_dir):
    files = list(cache_dir.glob("mnist_classifier_v*.pt"))
    assert files, "the trained classifier must be saved in the cache directory"
    again = metrics.load_classifier(subset.x_train, subset.y_train, cache_dir=cache_dir)
    for a, b in zip(classifier.state_dict().values(), again.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_mnist_score_is_ten_for_confident_uniform_classes_and_one_for_a_single_class():
    one_hot = np.eye(10)[np.arange(100) % 10]
    assert metrics.mnist_score(one_hot) == pytest.approx(10.0, rel=1e-6)
    assert metrics.mnist_score(np.eye(10)[np.full(100, 3)]) == pytest.approx(1.0, abs=1e-6)
    assert metrics.mnist_score(np.full((50, 10), 0.1)) == pytest.approx(
        1.0, abs=1e-6
    )  # unsure = no information


def test_mnist_score_of_real_test_digits_is_high(classifier, test_images):
    assert metrics.mnist_score(metrics.predict_proba(classifier, test_images)) > 8.0


def test_mnist_score_of_a_single_repeated_digit_is_about_one(classifier, subset, test_images):
    one = test_images[np.flatnonzero(subset.y_test == 7)[:1]].repeat(300, 1, 1, 1)
    assert metrics.mnist_score(metrics.predict_proba(classifier, one)) == pytest.approx(1.0, abs=0.05)


def test_frechet_distance_matches_the_closed_form_for_diagonal_gaussians():
    mu_a, mu_b = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    var_a, var_b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 1.0])
    expected = np.sum((mu_a - mu_b) ** 2) + np.sum((np.sqrt(var_a) - np.sqrt(var_b)) ** 2)
    assert metrics.frechet_distance(mu_a, np.diag(var_a), mu_b, np.diag(var_b)) == pytest.approx(expected)


def test_mnist_fd_of_real_vs_real_is_about_zero_and_real_vs_noise_is_large(classifier, test_images):
    feats = metrics.classifier_features(classifier, test_images)
    assert metrics.mnist_fd(feats, feats) == pytest.approx(0.0, abs=1e-6)
    perm = np.random.default_rng(0).permutation(len(feats))
    halves = metrics.mnist_fd(feats[perm[:500]], feats[perm[500:]])  # two samples of the same distribution
    noise = torch.rand(len(test_images), 1, 28, 28, generator=torch.Generator().manual_seed(0))
    fd_noise = metrics.mnist_fd(feats, metrics.classifier_features(classifier, noise))
    assert fd_noise > 20 * halves
    judge = metrics.MnistJudge(classifier, test_images)
    assert judge.evaluate(test_images).mnist_fd == pytest.approx(0.0, abs=1e-6)


def test_class_coverage_of_a_one_class_batch_shows_one_class(classifier, subset, test_images):
    threes = test_images[subset.y_test == 3]
    cov = metrics.class_coverage(metrics.predict_proba(classifier, threes).argmax(axis=1))
    assert cov.n_present == 1 and cov.present[3]
    assert cov.fractions.sum() == pytest.approx(1.0)
    full = metrics.class_coverage(subset.y_test)
    assert full.n_present == 10 and np.allclose(full.fractions, 0.1)


def test_quality_metrics_flatten_for_the_metrics_log(classifier, test_images):
    q = metrics.MnistJudge(classifier, test_images).evaluate(test_images[:200])
    row = q.as_metrics()
    assert set(row) >= {"mnist_score", "mnist_fd", "classes_covered", "class_0", "class_9"}
    assert all(np.isfinite(v) for v in row.values())
    assert "label_agreement" not in row  # only a conditional generator is asked for digits


def test_label_agreement_is_the_share_judged_as_the_digit_asked_for(classifier, subset, test_images):
    judge = metrics.MnistJudge(classifier, test_images)
    images, truth = test_images[:300], np.array(subset.y_test[:300])
    accuracy = metrics.accuracy(classifier, subset.x_test[:300], truth)
    assert judge.evaluate(images, truth).label_agreement == pytest.approx(accuracy)
    assert judge.evaluate(images, (truth + 1) % 10).label_agreement < 0.05  # every label wrong on purpose
    assert judge.evaluate(images, torch.as_tensor(truth)).as_metrics()["label_agreement"] > 0.9
    with pytest.raises(ValueError, match="^labels"):
        judge.evaluate(images, truth[:10])


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: metrics.mnist_score(np.ones((4, 3))), "probs"),
        (lambda: metrics.mnist_score(np.full((4, 10), np.nan)), "probs"),
        (lambda: metrics.mnist_fd(np.ones((1, 5)), np.ones((4, 5))), "features"),
        (lambda: metrics.class_coverage(np.array([0, 12])), "labels"),
        (lambda: metrics.class_coverage(np.array([0, 1]), min_fraction=2.0), "min_fraction"),
        (lambda: metrics.train_classifier(np.zeros((4, 5, 5), np.uint8), np.zeros(4, int)), "x_train"),
    ],
)
def test_bad_inputs_are_value_errors_naming_the_parameter(call, name):
    with pytest.raises(ValueError, match=f"^{name}"):
        call()


def _full_mnist():
    from core.mnist.data import default_data_dir, find_idx_files

    return find_idx_files(default_data_dir())


@pytest.mark.skipif(
    _full_mnist() is None, reason="full MNIST IDX files not present (no network here to fetch them)"
)
def test_classifier_reaches_98_percent_on_full_mnist(cache_dir):
    full = load_mnist(source="idx")
    assert len(full.y_train) == 60_000 and len(full.y_test) == 10_000
    judge = metrics.load_classifier(full.x_train, full.y_train, cache_dir=cache_dir)
    assert metrics.accuracy(judge, full.x_test, full.y_test) >= 0.98
