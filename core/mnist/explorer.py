"""Attack one MNIST digit — sheet §2.1–2.2 on a real image: white-box FGSM / PGD, or a black-box attack that
only sees the model's probabilities and estimates the gradient by finite differences under a query budget.

    δ* = argmax_{‖δ‖ ≤ ε} L_θ(x + δ, y),   x' = x + δ* clamped to the pixel range [0, 1]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from core.attacks import check_norm, fgsm, pgd
from core.validate import check_choice, check_int, check_positive, check_range

METHODS = ("fgsm", "pgd", "blackbox")
METHOD_NAMES = {
    "fgsm": "FGSM (one gradient step)",
    "pgd": "PGD (projected gradient ascent)",
    "blackbox": "Black box (finite differences)",
}
FD_METHODS = ("random", "coordinate")
CLIP = (0.0, 1.0)


@dataclass(frozen=True)
class ExplorerResult:
    """One digit before and after the attack."""

    x: np.ndarray  # [28, 28] original in [0, 1]
    x_adv: np.ndarray  # [28, 28] adversarial image in [0, 1]
    delta: np.ndarray  # x_adv − x
    label: int  # the true class y
    probs: np.ndarray  # [10] p(k | x)
    probs_adv: np.ndarray  # [10] p(k | x')
    linf: float  # ‖δ‖∞
    l2: float  # ‖δ‖₂
    queries: int  # model evaluations the attacker asked for (gradient evaluations for white-box methods)
    method: str
    norm: str
    eps: float
    description: str

    @property
    def pred(self) -> int:
        return int(self.probs.argmax())

    @property
    def pred_adv(self) -> int:
        return int(self.probs_adv.argmax())

    @property
    def fooled(self) -> bool:
        """The attack changed a correct prediction (or the digit was misclassified to begin with)."""
        return self.pred_adv != self.label


def _probs(model: nn.Module, x: torch.Tensor) -> np.ndarray:
    from core.attacks import eval_mode

    with eval_mode(model), torch.no_grad():
        return torch.softmax(model(x), dim=1)[0].double().numpy()


def attack_digit(model: nn.Module, image: np.ndarray, label: int, method: str = "pgd", eps: float = 0.2,
                 norm: str = "inf", steps: int = 20, query_budget: int = 2000, fd_method: str = "random",
                 n_dirs: int = 20, h: float = 0.01, seed: int = 0) -> ExplorerResult:  # fmt: skip
    """Attack one digit (image [28, 28] in [0, 1]) with FGSM, PGD (`steps`) or a black-box attack
    (finite-difference gradients, `fd_method` random directions or coordinate-wise, at most `query_budget`
    queries). White-box methods count one query per gradient evaluation."""
    check_choice("method", method, METHODS)
    norm = check_norm(norm)
    eps = check_range("eps", eps, 0.0, 10.0)
    img = np.asarray(image, dtype=np.float32)
    if img.shape != (28, 28) or not np.all(np.isfinite(img)) or img.min() < 0 or img.max() > 1:
        raise ValueError(f"image: expected a [28, 28] image with pixels in [0, 1], got shape {img.shape}")
    label = check_int("label", label, minimum=0, maximum=9)
    x = torch.from_numpy(img.copy()).reshape(1, 1, 28, 28)
    y = torch.tensor([label])
    model = model.cpu()
    if method == "fgsm":
        x_adv = fgsm(model, x, y, eps, norm=norm, clip=CLIP) if eps > 0 else x.clone()
        queries, description = 1, f"FGSM, {'L∞' if norm == 'inf' else 'L2'}, ε = {eps:g}"
    elif method == "pgd":
        steps = check_int("steps", steps, minimum=1, maximum=1000)
        x_adv = pgd(model, x, y, eps, norm=norm, steps=steps, clip=CLIP, seed=seed) if eps > 0 else x.clone()
        queries = steps
        description = (
            f"PGD-{steps}, step 2.5ε/{steps}, random start, {'L∞' if norm == 'inf' else 'L2'}, ε = {eps:g}"
        )
    else:
        x_adv, queries, description = _blackbox(
            model, x, label, eps, norm, query_budget, fd_method, n_dirs, h, seed
        )
    delta = (x_adv - x)[0, 0].numpy().astype(np.float64)
    return ExplorerResult(
        x=img.astype(np.float64), x_adv=x_adv[0, 0].numpy().astype(np.float64), delta=delta, label=label,
        probs=_probs(model, x), probs_adv=_probs(model, x_adv), linf=float(np.abs(delta).max()),
        l2=float(np.sqrt((delta**2).sum())), queries=int(queries), method=method, norm=norm, eps=eps,
        description=description,
    )  # fmt: skip


def _blackbox(model: nn.Module, x: torch.Tensor, label: int, eps: float, norm: str, query_budget: int,
              fd_method: str, n_dirs: int, h: float, seed: int) -> tuple[torch.Tensor, int, str]:  # fmt: skip
    """PGD on finite-difference gradient estimates (core.blackbox) through a query-counting black box."""
    from core.blackbox import blackbox_attack
    from core.targets2d import BlackBox

    query_budget = check_int("query_budget", query_budget, minimum=3, maximum=1_000_000)
    check_choice("fd_method", fd_method, FD_METHODS)
    n_dirs = check_int("n_dirs", n_dirs, minimum=1, maximum=10_000)
    h = check_positive("h", h)

    def proba(q: np.ndarray) -> np.ndarray:
        # The camera saturates: whatever the attacker sends, the model sees pixels in [0, 1].
        t = torch.from_numpy(np.clip(q, *CLIP).astype(np.float32)).reshape(-1, 1, 28, 28)
        with torch.no_grad():
            return torch.softmax(model(t), dim=1).double().numpy()

    target = BlackBox(proba, "MNIST CNN")
    flat = x.reshape(1, -1).double().numpy()
    if eps > 0:
        res = blackbox_attack(target, flat, np.array([label]), eps, norm=norm, method=fd_method, h=h,
                              n_dirs=n_dirs, max_queries=query_budget, seed=seed)  # fmt: skip
        adv = np.clip(res.x_adv, *CLIP)
    else:
        adv = flat
    x_adv = torch.from_numpy(adv.astype(np.float32)).reshape(1, 1, 28, 28)
    how = f"{n_dirs} random directions" if fd_method == "random" else "coordinate-wise"
    text = (f"black box: finite differences ({how}, h = {h:g}), budget {query_budget:,} queries, "
            f"{'L∞' if norm == 'inf' else 'L2'}, ε = {eps:g}")  # fmt: skip
    return x_adv, target.queries, text


def quick_standard_model(seed: int = 0, epochs: int = 3, progress=None) -> nn.Module:
    """A standard (non-robust) CNN trained in-process for a few epochs on the MNIST training digits — the
    default target of the explorer when no run has finished."""
    from core.mnist.robust import LocalRun, RobustConfig, fit, load_train_data

    config = RobustConfig(mode="standard", epochs=check_int("epochs", epochs, minimum=1, maximum=20),
                          warmup_epochs=0.0, eval_size=200, eval_steps=1, final_eval=False, seed=seed)  # fmt: skip
    return fit(config, load_train_data(config), LocalRun("cpu", progress))
