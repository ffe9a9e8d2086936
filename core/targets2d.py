"""Black-box targets for the 2D toys — sheet §2.2: the attacker "only observes the model's predictions".

A `BlackBox` hides its model: it answers predict / predict_proba and counts every input it is asked about
(one query = one input point), so attacks can be compared at equal query budgets.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import ContextDecorator

import numpy as np
import torch
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import RandomForestClassifier
from sklearn.neighbors import KNeighborsClassifier
from sklearn.svm import SVC

from core.validate import check_choice, check_finite_array, check_int

TARGET_KINDS = ("svm", "forest", "knn")
TARGET_NAMES = {"svm": "RBF SVM", "forest": "Random forest", "knn": "k-NN (k=15)", "mlp": "MLP"}


class one_torch_thread(ContextDecorator):  # lower case: used like a function, @one_torch_thread()
    """Run 2D-toy work on one intra-op thread: on tensors of a few hundred numbers extra threads only spin, and
    on a shared classroom server (many sessions, few cores) they made training 10–20× slower. Nested and
    concurrent uses share one counter, so the previous setting comes back when the last one leaves."""

    _lock = threading.Lock()
    _depth = 0
    _saved = 1

    def __enter__(self) -> one_torch_thread:
        with one_torch_thread._lock:
            if one_torch_thread._depth == 0:
                one_torch_thread._saved = torch.get_num_threads()
                torch.set_num_threads(1)
            one_torch_thread._depth += 1
        return self

    def __exit__(self, *exc: object) -> None:
        with one_torch_thread._lock:
            one_torch_thread._depth -= 1
            if one_torch_thread._depth == 0:
                torch.set_num_threads(one_torch_thread._saved)


class BlackBox:
    """A classifier seen only through its answers; `queries` counts the input points it was asked about."""

    def __init__(self, proba_fn: Callable[[np.ndarray], np.ndarray], name: str) -> None:
        self._proba_fn = proba_fn
        self.name = name
        self.queries = 0

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities [n, k] for inputs [n, d]; costs n queries."""
        arr = check_finite_array("x", x, ndim=2)
        self.queries += arr.shape[0]
        return np.asarray(self._proba_fn(arr), dtype=np.float64)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predicted labels [n]; costs n queries."""
        return self.predict_proba(x).argmax(axis=1)

    def reset_queries(self) -> None:
        self.queries = 0


def _sklearn_model(kind: str, seed: int):
    if kind == "svm":
        # Platt scaling (a sigmoid of the SVM's margin) gives smooth probabilities: finite differences see a slope.
        return CalibratedClassifierCV(
            SVC(kernel="rbf", C=3.0, gamma="scale"), method="sigmoid", cv=3, ensemble=False
        )
    if kind == "forest":
        return RandomForestClassifier(n_estimators=60, max_depth=8, random_state=seed, n_jobs=1)
    return KNeighborsClassifier(n_neighbors=15)


def sklearn_target(kind: str, x: np.ndarray, y: np.ndarray, seed: int = 0) -> BlackBox:
    """Fit a scikit-learn classifier (svm | forest | knn) on (x, y) and hide it behind a BlackBox."""
    check_choice("kind", kind, TARGET_KINDS)
    xs = check_finite_array("x", x, ndim=2)
    ys = np.asarray(y).astype(int)
    if ys.shape != (xs.shape[0],):
        raise ValueError(f"y: expected {xs.shape[0]} labels, got shape {ys.shape}")
    if len(np.unique(ys)) < 2:
        raise ValueError("y: needs at least two classes")
    check_int("seed", seed, minimum=0)
    model = _sklearn_model(kind, seed).fit(xs, ys)
    n_classes = int(ys.max()) + 1

    def proba(q: np.ndarray) -> np.ndarray:
        p = np.zeros((q.shape[0], n_classes))
        p[:, model.classes_] = model.predict_proba(q)
        return p

    return BlackBox(proba, TARGET_NAMES[kind])


def torch_target(model: torch.nn.Module, name: str = "MLP") -> BlackBox:
    """Hide a torch classifier (logits out) behind a BlackBox; evaluated in float32 on the CPU, no gradients."""
    model = model.eval()
    device = next(model.parameters()).device

    def proba(q: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            logits = model(torch.as_tensor(q, dtype=torch.float32, device=device))
            # softmax in float64: the black box rounds only where the model itself does (its float32 logits)
            return torch.softmax(logits.double(), dim=1).cpu().numpy()

    return BlackBox(proba, name)


def toy_split(
    dataset: str = "moons", n: int = 300, noise: float = 0.1, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One seeded draw of a 2D toy (core.toy2d), split into n training and n/2 test points (same scaling)."""
    from core.toy2d import make_dataset  # the data sets live with the other 2D toys

    n = check_int("n", n, minimum=20, maximum=10_000)
    n_test = max(n // 2, 10)
    x, y = make_dataset(dataset, n + n_test, noise, seed)
    order = np.random.default_rng(seed).permutation(len(x))
    return x[order[:n]], y[order[:n]], x[order[n:]], y[order[n:]]
