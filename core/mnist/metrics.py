"""How a generator is measured on MNIST: a small digit classifier, trained once and cached on disk, judges it.

- MNIST score (an Inception-score analogue): exp(E_x KL(p(y|x) ‖ p(y))). Confident, varied digits score up
  to 10 (the number of classes); one repeated digit, or mush, scores about 1.
- MNIST-FD (a Fréchet-Inception-distance analogue): the Fréchet distance between Gaussians fitted to the
  classifier's penultimate features of real and of generated digits. 0 when the two match; large when not.
- Class coverage: the histogram of the classifier's labels for the generated samples. Mode collapse shows up
  as classes that are missing.
Images handed to these functions are float tensors [N, 1, 28, 28] in [0, 1].
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from core.mnist.models import N_CLASSES, MnistClassifier
from core.validate import check_finite_array, check_int, check_range

CLASSIFIER_VERSION = (
    1  # bump when MnistClassifier or its training recipe changes: old cache files are ignored
)


# -- the formulas -----------------------------------------------------------------------------------------
def mnist_score(probs: np.ndarray) -> float:
    """exp(E_x KL(p(y|x) ‖ p(y))) from class probabilities p(y|x) [N, 10]; between 1 and 10."""
    p = check_finite_array("probs", probs, ndim=2, nonnegative=True)
    if p.shape[0] < 1 or p.shape[1] != N_CLASSES:
        raise ValueError(f"probs: expected shape [N, {N_CLASSES}] with N >= 1, got {p.shape}")
    p = p / np.clip(p.sum(axis=1, keepdims=True), 1e-12, None)
    p_y = p.mean(axis=0)
    kl = np.sum(p * (np.log(np.clip(p, 1e-12, None)) - np.log(np.clip(p_y, 1e-12, None))), axis=1)
    return float(np.exp(kl.mean()))


def frechet_distance(mu_a: np.ndarray, cov_a: np.ndarray, mu_b: np.ndarray, cov_b: np.ndarray) -> float:
    """‖μ_a − μ_b‖² + Tr(Σ_a + Σ_b − 2(Σ_a Σ_b)^½) between two Gaussians."""
    mu_a = check_finite_array("mu_a", mu_a, ndim=1)
    mu_b = check_finite_array("mu_b", mu_b, ndim=1)
    cov_a = check_finite_array("cov_a", cov_a, ndim=2)
    cov_b = check_finite_array("cov_b", cov_b, ndim=2)
    if mu_a.shape != mu_b.shape or cov_a.shape != cov_b.shape or cov_a.shape != (mu_a.size, mu_a.size):
        raise ValueError(
            f"cov_b: shapes do not match (mu {mu_a.shape}/{mu_b.shape}, cov {cov_a.shape}/{cov_b.shape})"
        )
    # Tr (Σ_a Σ_b)^½ = Tr (Σ_a^½ Σ_b Σ_a^½)^½: a symmetric PSD matrix, so eigh is stable (no complex sqrtm).
    w, v = np.linalg.eigh((cov_a + cov_a.T) / 2)
    sqrt_a = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    middle = sqrt_a @ cov_b @ sqrt_a
    tr_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0, None)).sum()
    fd = float(np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2 * tr_sqrt)
    return max(fd, 0.0)


def feature_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance (μ, Σ) of features [N, d], N >= 2."""
    f = check_finite_array("features", features, ndim=2)
    if f.shape[0] < 2:
        raise ValueError(f"features: need at least 2 rows for a covariance, got {f.shape[0]}")
    return f.mean(axis=0), np.cov(f, rowvar=False)


def mnist_fd(features_real: np.ndarray, features_fake: np.ndarray) -> float:
    """Fréchet distance between the classifier features of real and generated digits (MNIST-FD)."""
    mu_r, cov_r = feature_stats(features_real)
    mu_f, cov_f = feature_stats(features_fake)
    if mu_r.shape != mu_f.shape:
        raise ValueError(f"features_fake: feature size {mu_f.size} does not match features_real {mu_r.size}")
    return frechet_distance(mu_r, cov_r, mu_f, cov_f)


@dataclass(frozen=True)
class ClassCoverage:
    """The classifier's labels for a batch of samples: counts and fractions per digit, and which are present."""

    counts: np.ndarray  # int [10]
    fractions: np.ndarray  # float [10], sums to 1
    present: np.ndarray  # bool [10]: fraction >= min_fraction

    @property
    def n_present(self) -> int:
        return int(self.present.sum())


def class_coverage(labels: np.ndarray, min_fraction: float = 0.02) -> ClassCoverage:
    """Histogram of predicted digits; a class counts as present when it holds >= min_fraction of the samples."""
    min_fraction = check_range("min_fraction", min_fraction, 0.0, 1.0)
    lab = np.asarray(labels)
    if lab.ndim != 1 or lab.size == 0 or not np.issubdtype(lab.dtype, np.integer):
        raise ValueError(f"labels: expected a non-empty 1-D integer array, got {lab.dtype} {lab.shape}")
    if lab.min() < 0 or lab.max() >= N_CLASSES:
        raise ValueError(f"labels: digits must lie in 0..9, got {lab.min()}..{lab.max()}")
    counts = np.bincount(lab, minlength=N_CLASSES)
    fractions = counts / counts.sum()
    return ClassCoverage(
        counts=counts, fractions=fractions, present=(fractions >= min_fraction) & (counts > 0)
    )


# -- the classifier, trained once and cached ----------------------------------------------------------------
def train_classifier(
    x_train: np.ndarray,
    y_train: np.ndarray,
    epochs: int = 6,
    batch_size: int = 64,
    seed: int = 0,
    device: torch.device | str = "cpu",
) -> MnistClassifier:
    """Train MnistClassifier with Adam on uint8 digits [N, 28, 28]; small random shifts make it robust."""
    epochs = check_int("epochs", epochs, minimum=1, maximum=100)
    batch_size = check_int("batch_size", batch_size, minimum=1, maximum=4096)
    x = np.array(x_train, copy=True)  # torch wants a writable array (the data layer's are read-only)
    y = np.array(y_train, copy=True)
    if x.ndim != 3 or x.shape[1:] != (28, 28) or len(y) != len(x) or len(x) == 0:
        raise ValueError(
            f"x_train: expected uint8 digits [N, 28, 28] with N labels, got {x.shape} / {y.shape}"
        )
    device = torch.device(device)
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = MnistClassifier().to(device)
    xt = torch.as_tensor(x, dtype=torch.float32).div_(255.0).unsqueeze(1).to(device)
    yt = torch.as_tensor(y, dtype=torch.int64).to(device)
    steps_per_epoch = max(1, len(xt) // batch_size)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=epochs * steps_per_epoch)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(xt), generator=gen).to(device)
        for i in range(steps_per_epoch):
            idx = order[i * batch_size : (i + 1) * batch_size]
            xb = _random_shift(xt[idx], gen)
            loss = F.cross_entropy(model(xb), yt[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
    return model.eval()


def _random_shift(x: torch.Tensor, gen: torch.Generator, max_shift: int = 2) -> torch.Tensor:
    """Shift the whole batch by up to ±max_shift pixels (one shift per batch keeps it cheap)."""
    dx, dy = (torch.randint(-max_shift, max_shift + 1, (2,), generator=gen)).tolist()
    return torch.roll(x, shifts=(dy, dx), dims=(2, 3))


@torch.no_grad()
def predict_proba(classifier: MnistClassifier, images: torch.Tensor, batch_size: int = 1000) -> np.ndarray:
    """p(y|x) [N, 10] for images [N, 1, 28, 28] in [0, 1]."""
    classifier.eval()
    device = next(classifier.parameters()).device
    out = [
        F.softmax(classifier(images[i : i + batch_size].to(device).float()), dim=1).cpu()
        for i in range(0, len(images), batch_size)
    ]
    return torch.cat(out).numpy().astype(np.float64)


@torch.no_grad()
def classifier_features(
    classifier: MnistClassifier, images: torch.Tensor, batch_size: int = 1000
) -> np.ndarray:
    """The classifier's penultimate features [N, 128] for images in [0, 1]."""
    classifier.eval()
    device = next(classifier.parameters()).device
    out = [
        classifier.features(images[i : i + batch_size].to(device).float()).cpu()
        for i in range(0, len(images), batch_size)
    ]
    return torch.cat(out).numpy().astype(np.float64)


def accuracy(classifier: MnistClassifier, x_uint8: np.ndarray, y: np.ndarray) -> float:
    """Fraction of digits classified correctly."""
    images = torch.as_tensor(np.array(x_uint8, copy=True), dtype=torch.float32).div(255.0).unsqueeze(1)
    return float((predict_proba(classifier, images).argmax(axis=1) == np.asarray(y)).mean())


def default_cache_dir() -> Path:
    """$ADVLAB_CACHE_DIR, else <runs dir>/.cache."""
    env = os.environ.get("ADVLAB_CACHE_DIR")
    if env:
        return Path(env)
    try:
        from core.runs import default_runs_dir
    except ImportError:  # the run manager is optional for the metrics
        runs = Path(os.environ.get("ADVLAB_RUNS_DIR") or Path(__file__).resolve().parents[2] / "runs")
    else:
        runs = default_runs_dir()
    return Path(runs) / ".cache"


def _data_key(x_train: np.ndarray, y_train: np.ndarray) -> str:
    h = hashlib.sha1()
    h.update(np.ascontiguousarray(x_train).tobytes())
    h.update(np.ascontiguousarray(y_train).astype(np.int64).tobytes())
    return h.hexdigest()[:12]


def load_classifier(
    x_train: np.ndarray,
    y_train: np.ndarray,
    cache_dir: Path | str | None = None,
    seed: int = 0,
    epochs: int | None = None,
) -> MnistClassifier:
    """The classifier for this training set: loaded from the cache, else trained once (on CPU) and saved.

    The file name holds a hash of the training data, so the subset and full MNIST get their own judges; a lock
    file makes concurrent runs wait for the first one's training instead of repeating it.
    """
    if epochs is None:
        # A few passes are plenty on full MNIST; the 4,000-digit subset needs more passes to reach 95 %+.
        epochs = 2 if len(x_train) > 20_000 else 8
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    path = (
        cache / f"mnist_classifier_v{CLASSIFIER_VERSION}_{_data_key(x_train, y_train)}_s{seed}_e{epochs}.pt"
    )
    with open(cache / ".classifier.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            model = MnistClassifier()
            if path.exists():
                try:
                    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
                    return model.eval()
                except Exception:  # a corrupt cache file is retrained, never fatal
                    path.unlink(missing_ok=True)
            model = train_classifier(x_train, y_train, epochs=epochs, seed=seed)
            tmp = path.with_suffix(f".tmp{os.getpid()}")
            torch.save(model.state_dict(), tmp)
            os.replace(tmp, path)
            return model
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


# -- everything at once, as a run logs it -----------------------------------------------------------------
@dataclass(frozen=True)
class Quality:
    """One evaluation of a batch of generated digits."""

    mnist_score: float
    mnist_fd: float
    coverage: ClassCoverage
    label_agreement: float | None = None  # conditional G: fraction judged to be the digit that was asked for

    def as_metrics(self) -> dict[str, float]:
        """Flat floats for metrics.jsonl: mnist_score, mnist_fd, classes_covered, class_0 … class_9
        (and label_agreement for a conditional generator)."""
        out = {
            "mnist_score": self.mnist_score,
            "mnist_fd": self.mnist_fd,
            "classes_covered": float(self.coverage.n_present),
        }
        out.update({f"class_{k}": float(f) for k, f in enumerate(self.coverage.fractions)})
        if self.label_agreement is not None:
            out["label_agreement"] = self.label_agreement
        return out


class MnistJudge:
    """The cached classifier plus the feature statistics of real test digits: evaluate(images) -> Quality."""

    def __init__(
        self, classifier: MnistClassifier, real_images: torch.Tensor, device: torch.device | str = "cpu"
    ):
        self.device = torch.device(device)
        self.classifier = classifier.to(self.device).eval()
        for p in self.classifier.parameters():
            p.requires_grad_(False)
        self.real_mu, self.real_cov = feature_stats(classifier_features(self.classifier, real_images))

    def evaluate(self, images: torch.Tensor, labels: torch.Tensor | np.ndarray | None = None) -> Quality:
        """MNIST score, MNIST-FD against the real digits, and class coverage of images [N, 1, 28, 28] in [0, 1];
        with `labels` (the digits a conditional generator was asked for) also the fraction judged as asked."""
        if images.dim() != 4 or tuple(images.shape[1:]) != (1, 28, 28) or images.shape[0] < 2:
            raise ValueError(f"images: expected [N>=2, 1, 28, 28], got {tuple(images.shape)}")
        probs = predict_proba(self.classifier, images)
        feats = classifier_features(self.classifier, images)
        mu, cov = feature_stats(feats)
        predicted = probs.argmax(axis=1)
        agreement = None
        if labels is not None:
            asked = np.asarray(labels.cpu() if isinstance(labels, torch.Tensor) else labels)
            if asked.shape != predicted.shape:
                raise ValueError(
                    f"labels: expected {len(predicted)} labels, one per image, got {asked.shape}"
                )
            agreement = float((predicted == asked).mean())
        return Quality(
            mnist_score=mnist_score(probs),
            mnist_fd=frechet_distance(self.real_mu, self.real_cov, mu, cov),
            coverage=class_coverage(predicted),
            label_agreement=agreement,
        )
