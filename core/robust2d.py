"""Adversarial training on a 2D toy — sheet §2.3 and Problem 4.

Standard training minimises Σ L_θ(x, y); adversarial training minimises the robust loss
Σ max_{‖δ‖∞ ≤ ε} L_θ(x + δ, y), the inner max found by PGD (C's `core.attacks.pgd`). Both models start from the
same weights and see the same mini-batches, so every difference in the pictures comes from the inner max.
We keep the decision surface after every epoch (for the animation), clean and robust accuracy per epoch, and
the final models' accuracy under each perturbation set of Problem 4.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.attacks import pgd
from core.device import resolve_device
from core.perturbation_sets import (
    Dimming,
    NormBall,
    Problem4Item,
    contains,
    data_bound_of,
    problem4_sets,
    training_ball,
)
from core.targets2d import one_torch_thread, toy_split
from core.toy2d import DATASETS, MLP
from core.validate import check_choice, check_finite_array, check_int, check_positive, check_range

MODELS = ("standard", "robust")
MODEL_NAMES = {"standard": "Standard training", "robust": "PGD adversarial training"}


@dataclass(frozen=True)
class Robust2DConfig:
    """One experiment: a 2D data set, the training radius ε (L∞) and the training schedule."""

    dataset: str = "moons"
    n: int = 300
    noise: float = 0.15
    eps: float = 0.15  # the training ball ‖δ‖∞ ≤ ε (the sheet's 0.5, in this data set's units)
    epochs: int = 30
    hidden: int = 64
    lr: float = 0.01
    batch_size: int = 64
    pgd_steps: int = 7  # inner maximisation during training
    eval_steps: int = 20  # the attack used to measure robust accuracy is stronger than the training one
    grid: int = 70
    seed: int = 0
    device: str = "cpu"

    def __post_init__(self) -> None:
        check_choice("dataset", self.dataset, DATASETS)
        check_int("n", self.n, minimum=40, maximum=5000)
        check_range("noise", self.noise, 0.0, 1.0)
        check_positive("eps", self.eps)
        check_int("epochs", self.epochs, minimum=1, maximum=500)
        check_int("hidden", self.hidden, minimum=2, maximum=1024)
        check_positive("lr", self.lr)
        check_int("batch_size", self.batch_size, minimum=1)
        check_int("pgd_steps", self.pgd_steps, minimum=1, maximum=200)
        check_int("eval_steps", self.eval_steps, minimum=1, maximum=500)
        check_int("grid", self.grid, minimum=10, maximum=400)
        check_int("seed", self.seed, minimum=0)
        check_choice("device", self.device, ("auto", "cpu", "cuda", "mps"))


@dataclass
class SetAccuracy:
    """Accuracy of each model under each of Problem 4's sets, with the containment answer."""

    items: list[Problem4Item]
    contained: np.ndarray  # [5] bool: ⊆ the training ball (derived by `contains`)
    accuracy: dict[str, np.ndarray]  # model -> [5]


@dataclass
class Robust2DResult:
    config: Robust2DConfig
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    grid_x: np.ndarray  # [G]
    grid_y: np.ndarray  # [G]
    surfaces: dict[str, np.ndarray]  # model -> [epochs + 1, G, G] probability of class 1 (or max class prob)
    predicted: dict[str, np.ndarray]  # model -> [epochs + 1, G, G] predicted class
    clean_acc: dict[str, np.ndarray]  # model -> [epochs + 1] test accuracy on clean points
    robust_acc: dict[str, np.ndarray]  # model -> [epochs + 1] test accuracy under PGD in the training ball
    weights: dict[str, dict[str, torch.Tensor]]  # model -> final state_dict (CPU), to measure more sets later
    n_classes: int
    # model -> forward passes (each followed by a backward) per training batch, counted while training: the
    # sheet's first drawback, "computing the adversarial attack ... can slow down training" (PGD-k: k + 1)
    passes_per_batch: dict[str, float] = field(default_factory=dict)

    def model(self, name: str) -> nn.Module:
        """The trained model `name` (standard | robust), rebuilt from its weights, in eval mode on the CPU."""
        check_choice("name", name, MODELS)
        m = _mlp(self.n_classes, self.config.hidden, self.config.seed)
        m.load_state_dict(self.weights[name])
        return m.eval()


def _mlp(n_classes: int, hidden: int, seed: int) -> nn.Module:
    with torch.random.fork_rng(devices=[]):  # seeded weights without disturbing anyone's global RNG
        torch.manual_seed(seed)
        return MLP((hidden, hidden), classes=n_classes, activation="relu")


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of points whose predicted class is y."""
    with torch.no_grad():
        return float((model(x).argmax(1) == y).float().mean())


def robust_accuracy(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, ball: NormBall, steps: int = 20, seed: int = 0
) -> float:
    """Accuracy when every point may move anywhere in `ball` (PGD with a restart from a random start)."""
    x_adv = pgd(model, x, y, ball.radius, norm=ball.norm, steps=steps, restarts=2, seed=seed)
    return accuracy(model, x_adv, y)


def accuracy_under(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    pset: NormBall | Dimming,
    steps: int = 20,
    seed: int = 0,
) -> float:
    """Accuracy under a Problem-4 set: the worst δ PGD finds in a ball, or the dimmed inputs b·x."""
    if isinstance(pset, Dimming):
        return accuracy(model, pset.apply(x), y)
    return robust_accuracy(model, x, y, pset, steps, seed)


def _xy(xname: str, x: np.ndarray, yname: str, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    xs = check_finite_array(xname, x, ndim=2)
    ys = np.asarray(y)
    if xs.shape[1:] != (2,) or len(xs) == 0:
        raise ValueError(f"{xname}: expected 2D points of shape [n, 2], got {xs.shape}")
    if ys.shape != (len(xs),) or not np.issubdtype(ys.dtype, np.integer) or ys.min() < 0:
        raise ValueError(f"{yname}: expected {len(xs)} non-negative integer labels, got shape {ys.shape}")
    return xs.astype(np.float32), ys.astype(np.int64)


def _surface(model: nn.Module, pts: torch.Tensor, g: int, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    with torch.no_grad():
        p = torch.softmax(model(pts), dim=1)
    surf = p[:, 1] if n_classes == 2 else p.max(dim=1).values
    return surf.reshape(g, g).cpu().numpy().astype(np.float32), p.argmax(1).reshape(g, g).cpu().numpy()


@one_torch_thread()
def train_pair(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    config: Robust2DConfig = Robust2DConfig(),
    progress: Callable[[int, int], None] | None = None,
) -> Robust2DResult:
    """Train a standard and a PGD-robust MLP on the same data and record boundaries and accuracies per epoch."""
    cfg = config
    if not isinstance(cfg, Robust2DConfig):
        raise ValueError(f"config: expected a Robust2DConfig, got {type(cfg).__name__}")
    x_train, y_train = _xy("x_train", x_train, "y_train", y_train)
    x_test, y_test = _xy("x_test", x_test, "y_test", y_test)
    dev = resolve_device(cfg.device)
    n_classes = int(max(y_train.max(), y_test.max())) + 1
    xt = torch.as_tensor(x_train, dtype=torch.float32, device=dev)
    yt = torch.as_tensor(y_train, dtype=torch.long, device=dev)
    xv = torch.as_tensor(x_test, dtype=torch.float32, device=dev)
    yv = torch.as_tensor(y_test, dtype=torch.long, device=dev)
    ball = training_ball(cfg.eps)

    allx = np.concatenate([x_train, x_test])
    pad = max(2 * cfg.eps, 0.3)
    lo, hi = allx.min(axis=0) - pad, allx.max(axis=0) + pad
    gx = np.linspace(lo[0], hi[0], cfg.grid)
    gy = np.linspace(lo[1], hi[1], cfg.grid)
    mesh = np.stack(np.meshgrid(gx, gy), axis=-1).reshape(-1, 2)
    pts = torch.as_tensor(mesh, dtype=torch.float32, device=dev)

    # the same starting weights for both: only the loss differs
    models = {name: _mlp(n_classes, cfg.hidden, cfg.seed).to(dev) for name in MODELS}
    opts = {name: torch.optim.Adam(m.parameters(), lr=cfg.lr) for name, m in models.items()}

    surfaces = {k: [] for k in MODELS}
    predicted = {k: [] for k in MODELS}
    clean = {k: [] for k in MODELS}
    robust = {k: [] for k in MODELS}

    def record(epoch: int) -> None:
        for name, m in models.items():
            m.eval()
            s, c = _surface(m, pts, cfg.grid, n_classes)
            surfaces[name].append(s)
            predicted[name].append(c)
            clean[name].append(accuracy(m, xv, yv))
            robust[name].append(robust_accuracy(m, xv, yv, ball, cfg.eval_steps, seed=cfg.seed + epoch))

    record(0)
    # Forward passes while training, counted by hooks that are off during the evaluations in record().
    passes, counting = dict.fromkeys(MODELS, 0), [False]
    hooks = [m.register_forward_hook(lambda *_, k=name: passes.__setitem__(k, passes[k] + counting[0]))
             for name, m in models.items()]  # fmt: skip
    gen = torch.Generator().manual_seed(cfg.seed)
    n = len(xt)
    batches = 0
    for epoch in range(1, cfg.epochs + 1):
        order = torch.randperm(n, generator=gen).to(dev)
        for start in range(0, n, cfg.batch_size):
            idx = order[start : start + cfg.batch_size]
            xb, yb = xt[idx], yt[idx]
            batches += 1
            counting[0] = True
            for name, m in models.items():
                if name == "robust":
                    # the inner max of the robust loss: the worst point of each training point's ε-square
                    xb_used = pgd(
                        m,
                        xb,
                        yb,
                        cfg.eps,
                        norm="inf",
                        steps=cfg.pgd_steps,
                        seed=cfg.seed * 100003 + epoch * 1009 + start,
                    )
                else:
                    xb_used = xb
                m.train()
                loss = F.cross_entropy(m(xb_used), yb)
                opts[name].zero_grad()
                loss.backward()
                opts[name].step()
            counting[0] = False
        record(epoch)
        if progress is not None:
            progress(epoch, cfg.epochs)
    for hook in hooks:
        hook.remove()

    return Robust2DResult(
        config=cfg,
        x_train=np.asarray(x_train),
        y_train=np.asarray(y_train),
        x_test=np.asarray(x_test),
        y_test=np.asarray(y_test),
        grid_x=gx,
        grid_y=gy,
        surfaces={k: np.stack(v) for k, v in surfaces.items()},
        predicted={k: np.stack(v) for k, v in predicted.items()},
        clean_acc={k: np.array(v) for k, v in clean.items()},
        robust_acc={k: np.array(v) for k, v in robust.items()},
        weights={
            k: {n: t.detach().cpu().clone() for n, t in m.state_dict().items()} for k, m in models.items()
        },
        n_classes=n_classes,
        passes_per_batch={k: v / max(batches, 1) for k, v in passes.items()},
    )


@one_torch_thread()
def problem4_accuracy(result: Robust2DResult, brightness: float = 0.3, l2_large: float = 2.0) -> SetAccuracy:
    """Problem 4 measured: each of the five sets (scaled to the training ε) with its containment answer and
    both models' test accuracy under it (PGD for the balls, x ↦ b·x for the night shift)."""
    cfg = result.config
    items = problem4_sets(cfg.eps, dim=2, l2_large=l2_large, brightness=brightness)
    ball = training_ball(cfg.eps)
    bound = data_bound_of(np.concatenate([result.x_train, result.x_test]))
    contained = np.array([contains(ball, it.pset, 2, bound) for it in items])
    xv = torch.as_tensor(result.x_test, dtype=torch.float32)
    yv = torch.as_tensor(result.y_test, dtype=torch.long)
    acc = {
        name: np.array(
            [accuracy_under(result.model(name), xv, yv, it.pset, cfg.eval_steps, cfg.seed) for it in items]
        )
        for name in MODELS
    }
    return SetAccuracy(items=items, contained=contained, accuracy=acc)


@one_torch_thread()
def run_robust2d(
    config: Robust2DConfig = Robust2DConfig(), progress: Callable[[int, int], None] | None = None
) -> Robust2DResult:
    """The page's experiment: draw the data set (n training + n/2 test points, one draw, split) and train_pair."""
    x_train, y_train, x_test, y_test = toy_split(config.dataset, config.n, config.noise, config.seed)
    return train_pair(x_train, y_train, x_test, y_test, config, progress)
