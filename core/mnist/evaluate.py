"""How robust is a trained MNIST classifier? — sheet §2.1–2.3 and Problem 4, measured.

Every number here is an accuracy: the fraction of test digits still classified correctly when an attacker may
move each one inside a perturbation set. An attack only gives an *upper bound* on the true robust accuracy (a
stronger attack may find more), so each number carries its protocol: "PGD-50 ×10 restarts, step 0.01, L∞".

Two rules make the bounds as tight as the budget allows:
* a digit counts as robust only if it survives *every* restart (so restarts can never make PGD weaker);
* along an ε curve a digit broken at ε is broken at every larger ε (the larger ball contains the smaller), so
  each ε attacks only the digits that survived the previous one.

The model always runs in eval mode here (no dropout, frozen batch-norm statistics) and is restored after.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from core.attacks import check_norm, delta_norm, eval_mode, fgsm, pgd
from core.perturbation_sets import (
    Dimming,
    NormBall,
    containment_reason,
    contains,
    problem4_sets,
    training_ball,
)
from core.validate import check_choice, check_finite_array, check_int, check_positive, check_range

ATTACKS = ("fgsm", "pgd")
CLIP = (0.0, 1.0)
MNIST_DIM = 28 * 28
LINF_EPS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4)
L2_EPS = (0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0)
BRIGHTNESS = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1)


def _check_xy(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if not isinstance(x, torch.Tensor) or x.ndim != 4 or x.shape[0] == 0:
        raise ValueError(f"x: expected a float tensor [N, 1, 28, 28], got {getattr(x, 'shape', type(x))}")
    if not isinstance(y, torch.Tensor) or y.ndim != 1 or len(y) != len(x):
        raise ValueError(f"y: expected {len(x)} integer labels, got {getattr(y, 'shape', type(y))}")
    if not bool(torch.isfinite(x).all()):
        raise ValueError("x: contains NaN or infinite values")
    return x, y.long()


def _device_of(model: nn.Module) -> torch.device:
    p = next(model.parameters(), None)
    return p.device if p is not None else torch.device("cpu")


# -- clean and attacked accuracy --------------------------------------------------------------------------------
def predict_proba(model: nn.Module, x: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """softmax(model(x)) in eval mode, batched, on the CPU: [N, 10]."""
    dev = _device_of(model)
    out = []
    with eval_mode(model), torch.no_grad():
        for i in range(0, len(x), batch_size):
            out.append(torch.softmax(model(x[i : i + batch_size].to(dev)), dim=1).cpu())
    return torch.cat(out)


def correct_mask(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Which digits the model classifies correctly, in eval mode: bool [N]."""
    x, y = _check_xy(x, y)
    return predict_proba(model, x, batch_size).argmax(1) == y.cpu()


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1000) -> float:
    """Clean accuracy (eval mode)."""
    return float(correct_mask(model, x, y, batch_size).float().mean())


def robust_mask(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, norm: str = "inf",
                attack: str = "pgd", steps: int = 50, alpha: float | None = None, restarts: int = 1,
                seed: int = 0, batch_size: int = 500, start: torch.Tensor | None = None) -> torch.Tensor:  # fmt: skip
    """bool [N]: correct on x and on the attack's x' from every restart (only survivors are attacked again).

    `start` (bool [N]) limits the attack to digits already known robust (e.g. at a smaller ε).
    """
    x, y = _check_xy(x, y)
    norm = check_norm(norm)
    check_choice("attack", attack, ATTACKS)
    eps = check_positive("eps", eps, allow_zero=True)
    steps = check_int("steps", steps, minimum=1)
    restarts = check_int("restarts", restarts, minimum=1)
    alive = correct_mask(model, x, y) if start is None else start.clone() & correct_mask(model, x, y)
    if eps == 0:
        return alive
    dev = _device_of(model)
    for r in range(restarts if attack == "pgd" else 1):
        idx = torch.nonzero(alive).flatten()
        for b, i in enumerate(range(0, len(idx), batch_size)):
            sel = idx[i : i + batch_size]
            xb, yb = x[sel].to(dev), y[sel].to(dev)
            if attack == "fgsm":
                x_adv = fgsm(model, xb, yb, eps, norm=norm, clip=CLIP)
            else:
                x_adv = pgd(model, xb, yb, eps, norm=norm, alpha=alpha, steps=steps, random_start=True,
                            restarts=1, clip=CLIP, seed=seed + 7919 * r + b)  # fmt: skip
            with eval_mode(model), torch.no_grad():
                alive[sel] = (model(x_adv).argmax(1) == yb).cpu()
    return alive


def robust_accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, norm: str = "inf",
                    attack: str = "pgd", steps: int = 50, alpha: float | None = None, restarts: int = 1,
                    seed: int = 0, batch_size: int = 500) -> float:  # fmt: skip
    """Accuracy under the attack (an upper bound on the true robust accuracy in the ε-ball)."""
    mask = robust_mask(model, x, y, eps, norm, attack, steps, alpha, restarts, seed, batch_size)
    return float(mask.float().mean())


@dataclass(frozen=True)
class AttackProtocol:
    """How a robust accuracy was measured — reported next to every number."""

    attack: str = "pgd"
    norm: str = "inf"
    steps: int = 50
    restarts: int = 1
    alpha: float | None = None  # None: 2.5·ε/steps
    n: int = 0

    @property
    def label(self) -> str:
        norm = "L∞" if self.norm == "inf" else "L2"
        if self.attack == "fgsm":
            return f"FGSM, {norm}, n = {self.n:,}"
        step = f"step {self.alpha:g}" if self.alpha else "step 2.5ε/k"
        again = f" ×{self.restarts} restarts" if self.restarts > 1 else ""
        return f"PGD-{self.steps}{again}, {step}, {norm}, n = {self.n:,}"


# -- curves -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EpsCurve:
    """Accuracy against the radius ε of one norm's ball."""

    norm: str
    eps: np.ndarray
    accuracy: np.ndarray
    protocol: str


def eps_curve(model: nn.Module, x: torch.Tensor, y: torch.Tensor, norm: str = "inf",
              eps_values: Sequence[float] | None = None, steps: int = 20, restarts: int = 1,
              seed: int = 0) -> EpsCurve:  # fmt: skip
    """Robust accuracy at each ε (ascending); a digit broken at ε stays broken at larger ε."""
    norm = check_norm(norm)
    values = np.asarray(
        eps_values if eps_values is not None else (LINF_EPS if norm == "inf" else L2_EPS), float
    )
    values = check_finite_array("eps_values", values, ndim=1, nonnegative=True)
    if values.size == 0:
        raise ValueError("eps_values: need at least one radius")
    values = np.sort(values)
    alive, acc = None, []
    for e in values:
        alive = robust_mask(model, x, y, float(e), norm, "pgd", steps, None, restarts, seed, start=alive)
        acc.append(float(alive.float().mean()))
    protocol = AttackProtocol("pgd", norm, steps, restarts, None, len(y)).label
    return EpsCurve(norm, values, np.asarray(acc), protocol)


@dataclass(frozen=True)
class DimmingCurve:
    """Accuracy on dimmed digits b·x — the sheet's "stop signs at night", a shift no norm ball describes."""

    brightness: np.ndarray
    accuracy: np.ndarray
    linf_size: (
        np.ndarray
    )  # mean ‖δ‖∞ = mean of (1 − b)·max x: how far outside the ε-ball the night takes a digit


def dimming_curve(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
                  brightness: Sequence[float] = BRIGHTNESS) -> DimmingCurve:  # fmt: skip
    """Clean accuracy on b·x for each brightness b ∈ (0, 1]."""
    x, y = _check_xy(x, y)
    b = check_finite_array("brightness", brightness, ndim=1)
    if b.size == 0 or b.min() <= 0 or b.max() > 1:
        raise ValueError("brightness: every value must lie in (0, 1]")
    acc, size = [], []
    for v in b:
        dimmed = x * float(v)
        acc.append(accuracy(model, dimmed, y))
        size.append(float(delta_norm(dimmed - x, "inf").mean()))
    return DimmingCurve(b, np.asarray(acc), np.asarray(size))


# -- Problem 4, measured ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Problem4Row:
    number: int
    label: str  # e.g. "‖δ‖∞ ≤ 0.06"
    latex: str
    predicted: bool  # the set lies inside the training ball: robustness is guaranteed to carry over
    reason: str  # one line of working from core.perturbation_sets
    accuracy: float  # measured robust accuracy on that set
    protocol: str


@dataclass(frozen=True)
class Problem4Result:
    eps_train: float
    train_accuracy: float  # robust accuracy on the training ball itself, for reference
    train_protocol: str
    rows: tuple[Problem4Row, ...]


def problem4_table(eps_train: float = 0.3, l2_large_radius: float = 2.0, brightness: float = 0.3,
                   data_bound: float = 1.0) -> list[tuple[int, object, bool, str]]:  # fmt: skip
    """The five sets of Problem 4 scaled to MNIST with the answer derived from set containment:
    (number, set, contained in ‖δ‖∞ ≤ ε_train, reason). Set 4 is L2 ≤ `l2_large_radius` (> ε_train)."""
    eps_train = check_range("eps_train", eps_train, 1e-6, 1.0)
    radius = check_positive("l2_large_radius", l2_large_radius)
    if radius <= eps_train:
        raise ValueError(f"l2_large_radius: must exceed ε_train = {eps_train:g}, got {radius:g}")
    outer = training_ball(eps_train)
    items = problem4_sets(eps_train, MNIST_DIM, radius / eps_train, brightness)
    return [(it.number, it.pset, contains(outer, it.pset, MNIST_DIM, data_bound),
             containment_reason(outer, it.pset, MNIST_DIM, data_bound)) for it in items]  # fmt: skip


def problem4_measured(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps_train: float = 0.3,
                      l2_large_radius: float = 2.0, brightness: float = 0.3, steps: int = 20,
                      restarts: int = 1, seed: int = 0) -> Problem4Result:  # fmt: skip
    """Problem 4 on MNIST: each set's predicted answer (containment) next to the measured accuracy."""
    x, y = _check_xy(x, y)
    data_bound = float(x.abs().max()) if len(x) else 1.0
    n = len(y)
    rows = []
    for number, pset, predicted, reason in problem4_table(eps_train, l2_large_radius, brightness, data_bound):
        if isinstance(pset, NormBall):
            acc = robust_accuracy(model, x, y, pset.radius, pset.norm, "pgd", steps, None, restarts, seed)
            protocol = AttackProtocol("pgd", pset.norm, steps, restarts, None, n).label
        else:
            assert isinstance(pset, Dimming)
            acc = accuracy(model, x * pset.brightness, y)
            protocol = f"clean accuracy on {pset.brightness:g}·x, n = {n:,}"
        rows.append(Problem4Row(number, pset.label, pset.latex, predicted, reason, acc, protocol))
    train_acc = robust_accuracy(model, x, y, eps_train, "inf", "pgd", steps, None, restarts, seed)
    train_protocol = AttackProtocol("pgd", "inf", steps, restarts, None, n).label
    return Problem4Result(float(eps_train), train_acc, train_protocol, tuple(rows))


# -- a grid of adversarial digits -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class AdversarialGrid:
    """One test digit per class, its adversarial version and both predictions."""

    x: np.ndarray  # [n, 28, 28] in [0, 1]
    x_adv: np.ndarray
    y: np.ndarray
    pred: np.ndarray
    pred_adv: np.ndarray
    conf_adv: np.ndarray  # the model's probability of its adversarial prediction
    eps: float
    norm: str
    protocol: str


def adversarial_grid(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float = 0.3, norm: str = "inf",
                     steps: int = 20, seed: int = 0, per_class: int = 1) -> AdversarialGrid:  # fmt: skip
    """PGD adversarial examples for the first `per_class` test digits of each class."""
    x, y = _check_xy(x, y)
    norm = check_norm(norm)
    eps = check_positive("eps", eps, allow_zero=True)
    per_class = check_int("per_class", per_class, minimum=1, maximum=10)
    idx = [i for c in range(10) for i in torch.nonzero(y == c).flatten()[:per_class].tolist()]
    if not idx:
        raise ValueError("y: no test digits to show")
    xs, ys = x[idx], y[idx]
    dev = _device_of(model)
    x_adv = pgd(model, xs.to(dev), ys.to(dev), eps, norm=norm, steps=steps, clip=CLIP, seed=seed).cpu()
    p, p_adv = predict_proba(model, xs), predict_proba(model, x_adv)
    return AdversarialGrid(
        x=xs[:, 0].numpy(), x_adv=x_adv[:, 0].numpy(), y=ys.numpy(), pred=p.argmax(1).numpy(),
        pred_adv=p_adv.argmax(1).numpy(), conf_adv=p_adv.max(1).values.numpy(), eps=eps, norm=norm,
        protocol=AttackProtocol("pgd", norm, steps, 1, None, len(idx)).label,
    )  # fmt: skip


# -- everything, once a run is done ------------------------------------------------------------------------------
@dataclass(frozen=True)
class RobustEvaluation:
    """The end-of-run report of one model: clean, FGSM, PGD at ε_train, both ε curves, dimming, Problem 4."""

    eps_train: float
    n: int
    clean_acc: float
    fgsm_acc: float
    pgd_acc: float
    pgd_protocol: str
    linf: EpsCurve
    l2: EpsCurve
    dimming: DimmingCurve
    problem4: Problem4Result
    grid: AdversarialGrid

    def to_dict(self) -> dict:
        """JSON-ready (arrays as lists)."""

        def plain(v):
            if isinstance(v, np.ndarray):
                return v.tolist()
            if isinstance(v, dict):
                return {k: plain(w) for k, w in v.items()}
            if isinstance(v, list | tuple):
                return [plain(w) for w in v]
            if isinstance(v, np.generic):
                return v.item()
            return v

        return plain(asdict(self))

    @classmethod
    def from_dict(cls, d: dict) -> RobustEvaluation:
        """Inverse of to_dict (as read back from evaluation.json)."""
        arr = np.asarray

        def curve(c: dict) -> EpsCurve:
            return EpsCurve(c["norm"], arr(c["eps"], float), arr(c["accuracy"], float), c["protocol"])

        try:
            dim = d["dimming"]
            p4 = d["problem4"]
            g = d["grid"]
            return cls(
                eps_train=float(d["eps_train"]), n=int(d["n"]), clean_acc=float(d["clean_acc"]),
                fgsm_acc=float(d["fgsm_acc"]), pgd_acc=float(d["pgd_acc"]), pgd_protocol=d["pgd_protocol"],
                linf=curve(d["linf"]), l2=curve(d["l2"]),
                dimming=DimmingCurve(arr(dim["brightness"], float), arr(dim["accuracy"], float),
                                     arr(dim["linf_size"], float)),
                problem4=Problem4Result(float(p4["eps_train"]), float(p4["train_accuracy"]), p4["train_protocol"],
                                        tuple(Problem4Row(**r) for r in p4["rows"])),
                grid=AdversarialGrid(arr(g["x"], float), arr(g["x_adv"], float), arr(g["y"], int),
                                     arr(g["pred"], int), arr(g["pred_adv"], int), arr(g["conf_adv"], float),
                                     float(g["eps"]), g["norm"], g["protocol"]),
            )  # fmt: skip
        except (KeyError, TypeError) as err:
            raise ValueError(f"d: not a robust-evaluation record ({err})") from None


def evaluate_robust_model(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps_train: float = 0.3,
                          steps: int = 20, restarts: int = 1, seed: int = 0, l2_large_radius: float = 2.0,
                          brightness: float = 0.3,
                          should_stop: Callable[[], bool] | None = None) -> RobustEvaluation | None:  # fmt: skip
    """The full report (returns None if `should_stop` turns True between parts — a cancelled run)."""
    x, y = _check_xy(x, y)
    eps_train = check_range("eps_train", eps_train, 0.0, 1.0)
    stop = should_stop or (lambda: False)
    eps_train_or_default = eps_train if eps_train > 0 else 0.3  # a standard model is judged at the usual 0.3
    parts: dict = {}
    parts["clean_acc"] = accuracy(model, x, y)
    parts["fgsm_acc"] = robust_accuracy(model, x, y, eps_train_or_default, "inf", "fgsm")
    parts["pgd_acc"] = robust_accuracy(
        model, x, y, eps_train_or_default, "inf", "pgd", steps, None, restarts, seed
    )
    parts["pgd_protocol"] = AttackProtocol("pgd", "inf", steps, restarts, None, len(y)).label
    if stop():
        return None
    linf_values = sorted(set(LINF_EPS) | {round(eps_train_or_default, 4)})
    parts["linf"] = eps_curve(model, x, y, "inf", linf_values, steps, restarts, seed)
    if stop():
        return None
    parts["l2"] = eps_curve(model, x, y, "2", L2_EPS, steps, restarts, seed)
    if stop():
        return None
    parts["dimming"] = dimming_curve(model, x, y)
    parts["problem4"] = problem4_measured(model, x, y, eps_train_or_default, l2_large_radius, brightness, steps,
                                          restarts, seed)  # fmt: skip
    if stop():
        return None
    parts["grid"] = adversarial_grid(model, x, y, eps_train_or_default, "inf", steps, seed)
    return RobustEvaluation(eps_train=eps_train_or_default, n=len(y), **parts)
