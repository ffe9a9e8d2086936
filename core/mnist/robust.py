"""Adversarial training on MNIST — sheet §2.3: minimise the robust loss  Σ max_{‖δ‖∞ ≤ ε} L_θ(x + δ, y).

The inner maximum is approximated by an attack from core/attacks.py, one per mode:

* ``standard``  no inner maximum: the usual loss (the baseline a PGD attack breaks);
* ``fgsm``      one FGSM step of size ε from δ = 0 (Goodfellow et al.);
* ``fgsm_rs``   one FGSM step from a random start ("fast" adversarial training), at the cost of FGSM. Wong et al.
                2020 start uniformly in the ball and take one signed step α = 1.25·ε, projected back onto the
                ball; on the 4,000-digit offline subset at ε = 0.3 that overfits catastrophically (robust
                accuracy collapses to ~35 %, even with α = ε). N-FGSM (de Jorge et al. 2022: noise U[-kε, kε],
                α = ε, no projection; k = 1 here) avoids the collapse but stays ~10 points behind PGD on so few
                digits. The defaults therefore carry each digit's perturbation over from one epoch to the next
                (ATTA, Zheng et al. 2020: adversarial perturbations transfer between epochs): the start is last
                epoch's δ of that digit plus a small jitter U[-0.25ε, 0.25ε], one step α = 0.5·ε, projected onto
                the ball. Over the epochs the single steps add up to a multi-step attack, so the model meets
                PGD-strength examples at FGSM cost. Wong's recipe: ``rs_carry=False, rs_alpha=1.25,
                rs_noise=1, rs_project=True, warmup_epochs=3``; N-FGSM: ``rs_carry=False, rs_alpha=1,
                rs_noise=1, rs_project=False, batch_size=25``;
* ``pgd``       Madry et al.: k projected steps of size α (default 2.5·ε/k) from a random start.

Single-step methods can *catastrophically overfit*: within an epoch the model learns to defeat its own one-step
attack (the loss surface bends so the gradient sign points nowhere useful) and the robust accuracy under PGD
collapses to near 0. The guard measures PGD accuracy on a fixed training batch each epoch; when it falls far
below its best, the run restores the best weights and halves the step α, and stops early once that no longer
helps.

Read top to bottom: the model, the config, the ε warm-up, one adversarial batch, the guard, the loop.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.attacks import fgsm, pgd, project_linf
from core.device import adam
from core.validate import check_choice, check_finite, check_int, check_positive, check_range

MODES = ("standard", "fgsm", "fgsm_rs", "pgd")
MODE_NAMES = {
    "standard": "standard (no attack)",
    "fgsm": "FGSM (no random start)",
    "fgsm_rs": "fast: FGSM + random start",
    "pgd": "PGD (Madry)",
}
SINGLE_STEP = ("fgsm", "fgsm_rs")  # the modes that can overfit catastrophically
GUARD_ACTIONS = ("reduce", "stop")
SOURCES = ("auto", "idx", "subset")
CLIP = (0.0, 1.0)  # pixels live in [0, 1]; every adversarial image is clamped back into the valid range
CHECKPOINT = "checkpoint.pt"
EVAL_SLICE_SEED = 2021  # fixed, not the run's seed: runs with different seeds are compared on the same digits
EVALUATION = "evaluation.json"


# -- the model ------------------------------------------------------------------------------------------------
class RobustCNN(nn.Module):
    """A small CNN for [0, 1] digits: two stride-2 convolutions (width, 2·width channels), a 128-unit layer.

    Stride-2 convolutions instead of max-pooling: the same receptive field at a third of the CPU cost, which is
    what makes several attack steps per batch affordable on a laptop (Wong et al. use this shape for MNIST).
    """

    def __init__(self, width: int = 32, hidden: int = 128) -> None:
        super().__init__()
        self.width = check_int("width", width, minimum=1, maximum=256)
        self.net = nn.Sequential(
            nn.Conv2d(1, width, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(width, 2 * width, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(2 * width * 7 * 7, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 10),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


# -- the config -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RobustConfig:
    """One adversarial-training run. ε is in pixel units (images in [0, 1]); the threat model is L∞."""

    mode: str = field(default="pgd", metadata={"help": "standard | fgsm | fgsm_rs | pgd"})
    eps: float = field(default=0.3, metadata={"help": "training radius ε of the L∞ ball"})
    epochs: int = 15
    batch_size: int = field(
        default=0, metadata={"help": "0 = the mode's default: 25 for fgsm/fgsm_rs, else 100"}
    )
    lr: float = field(
        default=0.0,
        metadata={
            "help": "peak learning rate of the one-cycle schedule (Adam); 0 = 1e-2 for fgsm_rs, else 5e-3"
        },
    )
    warmup_epochs: float | None = field(
        default=None,
        metadata={
            "help": "ε grows linearly from 0 over these epochs; unset = 3, or 0.4·epochs for fgsm/fgsm_rs"
        },
    )
    pgd_steps: int = field(default=5, metadata={"help": "k, the PGD steps per batch (mode pgd)"})
    pgd_alpha: float = field(default=0.0, metadata={"help": "PGD step size; 0 = 2.5·ε/k"})
    rs_alpha: float = field(
        default=0.5, metadata={"help": "fgsm_rs step size in units of ε (Wong et al.: 1.25)"}
    )
    rs_noise: float = field(
        default=0.25, metadata={"help": "fgsm_rs random start U[-kε, kε]: k in units of ε (Wong et al.: 1)"}
    )
    rs_project: bool = field(
        default=False,
        metadata={"help": "fgsm_rs: project back onto the ε-ball (Wong et al.) or not (N-FGSM)"},
    )
    rs_carry: bool = field(
        default=True,
        metadata={
            "help": "fgsm_rs: start from the digit's perturbation of the last epoch (ATTA) plus the noise"
        },
    )
    guard: bool = field(default=True, metadata={"help": "catastrophic-overfitting guard (fgsm, fgsm_rs)"})
    guard_drop: float = field(
        default=0.2, metadata={"help": "collapse = guard PGD accuracy this far below best"}
    )
    guard_gap: float = field(
        default=0.4, metadata={"help": "collapse = attacked-batch accuracy this far above guard PGD accuracy"}
    )
    guard_action: str = field(default="reduce", metadata={"help": "reduce (halve α) | stop (early stop)"})
    guard_size: int = field(default=200, metadata={"help": "training images in the guard batch"})
    eval_size: int = field(default=500, metadata={"help": "fixed test slice for the live curves"})
    eval_steps: int = field(default=10, metadata={"help": "PGD steps of the live robust accuracy"})
    final_eval: bool = field(default=True, metadata={"help": "ε curves, dimming and Problem 4 when done"})
    train_size: int = field(default=0, metadata={"help": "use only this many training digits; 0 = all"})
    width: int = 32
    source: str = field(default="auto", metadata={"help": "MNIST source: auto | idx | subset"})
    device: str = "auto"
    seed: int = 0

    def __post_init__(self) -> None:
        check_choice("mode", self.mode, MODES)
        check_range("eps", self.eps, 0.0, 1.0)
        if self.mode != "standard" and self.eps == 0:
            raise ValueError(f"eps: adversarial training ({self.mode}) needs ε > 0")
        check_int("epochs", self.epochs, minimum=1, maximum=500)
        check_int("batch_size", self.batch_size, minimum=0, maximum=10_000)
        check_positive("lr", self.lr, allow_zero=True)
        if self.warmup_epochs is not None:
            check_positive("warmup_epochs", self.warmup_epochs, allow_zero=True)
        check_int("pgd_steps", self.pgd_steps, minimum=1, maximum=1000)
        check_positive("pgd_alpha", self.pgd_alpha, allow_zero=True)
        check_positive("rs_alpha", self.rs_alpha)
        check_positive("rs_noise", self.rs_noise, allow_zero=True)
        for name in ("rs_project", "rs_carry", "guard", "final_eval"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name}: expected True or False, got {getattr(self, name)!r}")
        check_range("guard_drop", self.guard_drop, 0.0, 1.0)
        check_range("guard_gap", self.guard_gap, 0.0, 1.0)
        check_choice("guard_action", self.guard_action, GUARD_ACTIONS)
        check_int("guard_size", self.guard_size, minimum=1)
        check_int("eval_size", self.eval_size, minimum=1)
        check_int("eval_steps", self.eval_steps, minimum=1, maximum=1000)
        check_int("train_size", self.train_size, minimum=0)
        check_int("width", self.width, minimum=1, maximum=256)
        check_choice("source", self.source, SOURCES)
        check_choice("device", self.device, ("auto", "cpu", "cuda", "mps"))
        check_int("seed", self.seed, minimum=0)

    @property
    def alpha(self) -> float:
        """The attack's step size at full ε: ε (fgsm), rs_alpha·ε (fgsm_rs), pgd_alpha or 2.5·ε/k (pgd)."""
        if self.mode == "fgsm":
            return self.eps
        if self.mode == "fgsm_rs":
            return self.rs_alpha * self.eps
        if self.mode == "pgd":
            return self.pgd_alpha if self.pgd_alpha > 0 else 2.5 * self.eps / self.pgd_steps
        return 0.0

    @property
    def warmup(self) -> float:
        """The ε warm-up in epochs: `warmup_epochs`, else 3, or 0.4·epochs for the single-step modes.

        A single step overfits most easily at the full radius on a model that is not yet robust at smaller ones;
        a long ramp (6 of 15 epochs) took N-FGSM on the offline subset from ~70 % to ~79 % PGD-20 accuracy.
        """
        if self.warmup_epochs is not None:
            return self.warmup_epochs
        return 0.4 * self.epochs if self.mode in SINGLE_STEP else 3.0

    @property
    def batch(self) -> int:
        """The batch size used: `batch_size`, or the mode's default when it is 0.

        Plain FGSM gets 25: on 4,000 digits more (smaller) updates per epoch matter more than the attack's
        strength (N-FGSM too). fgsm_rs with the carried-over start gets 100, like PGD: its attack is already
        strong, and a larger batch halves the time per epoch.
        """
        if self.batch_size:
            return self.batch_size
        if self.mode == "fgsm" or (self.mode == "fgsm_rs" and not self.rs_carry):
            return 25
        return 100

    @property
    def peak_lr(self) -> float:
        """The one-cycle schedule's peak: `lr`, or 1e-2 for fgsm_rs (measured: +3 points PGD-50 on the subset
        against 5e-3) and 5e-3 for the other modes when it is 0."""
        if self.lr:
            return self.lr
        return 1e-2 if self.mode == "fgsm_rs" else 5e-3

    @property
    def description(self) -> str:
        """A one-line summary for legends and tables."""
        if self.mode == "standard":
            return "standard"
        attack = {
            "fgsm": "FGSM",
            "fgsm_rs": f"{'FGSM-RS, carried start' if self.rs_carry else 'FGSM-RS' if self.rs_project else 'N-FGSM'}"
            f" α={self.rs_alpha:g}ε",
            "pgd": f"PGD-{self.pgd_steps}",
        }
        return f"{attack[self.mode]} ε={self.eps:g}"


# -- the ε warm-up and one adversarial batch -------------------------------------------------------------------
def eps_schedule(config: RobustConfig, iteration: int, batches_per_epoch: int) -> float:
    """ε at a training iteration: a linear ramp from ~0 to ε over `warmup_epochs`, then constant.

    Starting at the full radius on an untrained model makes every digit look like every other one; growing ε
    lets the model first learn the digits, then push the boundary away from them.
    """
    ramp = config.warmup * batches_per_epoch
    if ramp <= 0:
        return config.eps
    return config.eps * min(1.0, (iteration + 1) / ramp)


def adversarial_batch(model: nn.Module, x: torch.Tensor, y: torch.Tensor, mode: str, eps: float, alpha: float,
                      pgd_steps: int = 5, seed: int = 0, noise: float = 1.0,
                      project: bool = True, start: torch.Tensor | None = None) -> torch.Tensor:  # fmt: skip
    """The inner maximisation: x + δ found by the mode's attack (x itself for `standard`).

    ‖δ‖∞ ≤ ε for every mode except `fgsm_rs` with `project=False` (N-FGSM), whose δ reaches (noise·ε + α).
    `start` (fgsm_rs): a perturbation to start from, e.g. the digit's δ of the last epoch; the noise is added to it.
    """
    check_choice("mode", mode, MODES)
    if mode == "standard" or eps == 0:
        return x
    if mode == "fgsm":
        # FGSM from δ = 0 with step α (α = ε unless the guard shrank it), clamped to the ball and the pixels.
        return fgsm(model, x, y, min(alpha, eps), norm="inf", clip=CLIP)
    if mode == "fgsm_rs":
        # FGSM from a random start η ~ U[-kε, kε]: k = 1 and projection is Wong et al.'s "fast" AT; k = 2
        # without projection is N-FGSM (de Jorge et al. 2022).
        gen = torch.Generator(device=x.device).manual_seed(int(seed))
        eta = (2 * torch.rand(x.shape, generator=gen, device=x.device, dtype=x.dtype) - 1) * (noise * eps)
        if start is not None:
            eta = eta + start
        x_adv = fgsm(model, (x + eta).clamp(*CLIP), y, alpha, norm="inf", clip=CLIP)
        if project:
            x_adv = (x + project_linf(x_adv - x, eps)).clamp(*CLIP)
        return x_adv
    return pgd(
        model, x, y, eps, norm="inf", alpha=alpha, steps=pgd_steps, random_start=True, clip=CLIP, seed=seed
    )


# -- the catastrophic-overfitting guard -------------------------------------------------------------------------
@dataclass
class OverfittingGuard:
    """Watches PGD accuracy on a fixed training batch. Two signs of catastrophic overfitting:

    * the PGD accuracy falls more than `drop` below its best epoch (the collapse Wong et al. describe);
    * the model beats its own single-step attack on the training batches (`train_acc`) by more than `gap` over
      its PGD accuracy — it learnt to defeat FGSM, not to be robust (the collapse happened before it had a best).

    `check(...)` returns True on a collapse; `best_state` holds the weights of the best epoch to go back to.
    """

    drop: float = 0.2
    gap: float = 0.4
    best_acc: float = -1.0
    best_epoch: int = -1
    best_state: dict | None = None
    triggers: int = 0

    def check(self, acc: float, epoch: int, model: nn.Module, armed: bool = True,
              train_acc: float | None = None) -> bool:  # fmt: skip
        """Record the epoch's guard accuracy; True when it collapsed (only once `armed`, i.e. after warm-up)."""
        acc = check_finite("acc", acc)
        if acc >= self.best_acc:
            self.best_acc, self.best_epoch = acc, epoch
            self.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        collapsed = armed and (
            acc < self.best_acc - self.drop or (train_acc is not None and train_acc - acc > self.gap)
        )
        self.triggers += int(collapsed)
        return collapsed


def guard_accuracy(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, steps: int, seed: int
) -> float:
    """PGD-`steps` accuracy (L∞, radius ε) on the guard batch — the number that collapses under overfitting."""
    from core.mnist.evaluate import robust_accuracy

    return robust_accuracy(model, x, y, eps, norm="inf", steps=steps, restarts=1, seed=seed)


# -- the run --------------------------------------------------------------------------------------------------
class LocalRun:
    """A stand-in for core.runs.RunContext inside one process (tests, the explorer's quick model)."""

    def __init__(self, device: str | torch.device = "cpu", progress=None) -> None:
        self.device = torch.device(device)
        self.metrics: list[dict] = []
        self.artifacts: dict[str, Any] = {}
        self._progress = progress

    def log(self, step: int, **metrics: float) -> None:
        self.metrics.append({"step": int(step), "time": time.time(), **metrics})

    def progress(self, step: int, total: int) -> None:
        if self._progress is not None:
            self._progress(step, total)

    def should_stop(self) -> bool:
        return False

    def save_checkpoint(self, state: dict, name: str = CHECKPOINT) -> None:
        self.artifacts[name] = state

    def save_image(self, name: str, image: np.ndarray) -> None:
        self.artifacts[name] = image

    def save_json(self, name: str, obj: dict) -> None:
        self.artifacts[name] = obj


@dataclass(frozen=True)
class TrainData:
    """Training digits and the fixed test slice, as float tensors [N, 1, 28, 28] in [0, 1]."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    description: str = ""


def load_train_data(config: RobustConfig) -> TrainData:
    """MNIST from core.mnist.data (the offline subset when nothing else is there), cut to the config's sizes."""
    from core.mnist.data import load_mnist, to_tensor

    data = load_mnist(source=config.source)
    train_idx = np.arange(len(data.y_train))
    if config.train_size:
        # The files are sorted by class on some sources: a seeded shuffle keeps every class in a cut.
        train_idx = np.random.default_rng(EVAL_SLICE_SEED).permutation(train_idx)[: config.train_size]
    test_idx = eval_slice(len(data.y_test), config.eval_size)
    x_train = to_tensor(data.x_train[train_idx])
    y_train = torch.as_tensor(np.array(data.y_train[train_idx]), dtype=torch.long)
    x_test = to_tensor(data.x_test[test_idx])
    y_test = torch.as_tensor(np.array(data.y_test[test_idx]), dtype=torch.long)
    return TrainData(x_train, y_train, x_test, y_test, data.description)


def eval_slice(n_test: int, size: int) -> np.ndarray:
    """The fixed test slice every run is measured on: the same `size` digits (all classes) for every seed."""
    idx = np.random.default_rng(EVAL_SLICE_SEED).permutation(check_int("n_test", n_test, minimum=1))
    return idx[: check_int("size", size, minimum=1)]  # shuffled order: any prefix holds every class too


def _batches_per_epoch(n: int, batch_size: int) -> int:
    return max(1, math.ceil(n / batch_size))


def fit(config: RobustConfig, data: TrainData, run: Any, device: torch.device | None = None) -> RobustCNN:
    """The training loop: ε warm-up, one-cycle Adam, the mode's attack on every batch, live metrics per epoch.

    Works with a core.runs.RunContext or a LocalRun; returns the trained model (on the CPU, in eval mode).
    Raises FloatingPointError on a NaN/inf loss after the last good checkpoint was saved.
    """
    device = torch.device(device or getattr(run, "device", "cpu"))
    torch.manual_seed(config.seed)  # the initial weights
    gen = torch.Generator().manual_seed(config.seed)  # the batch order
    model = RobustCNN(config.width).to(device)
    x_train, y_train = data.x_train.to(device), data.y_train.to(device)
    x_test, y_test = data.x_test.to(device), data.y_test.to(device)
    guard_idx = torch.randperm(len(x_train), generator=torch.Generator().manual_seed(config.seed + 1))
    x_guard, y_guard = x_train[guard_idx[: config.guard_size]], y_train[guard_idx[: config.guard_size]]

    n = len(x_train)
    bs = config.batch
    nb = _batches_per_epoch(n, bs)
    total = nb * config.epochs
    opt = adam(model.parameters(), device, lr=config.peak_lr)
    # One-cycle: up for 40 % of the run, then down to ~0 — most of the robust accuracy comes in the cool-down.
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=config.peak_lr, total_steps=total, pct_start=0.4)
    alpha_scale = 1.0  # the guard halves it after each collapse
    guard = (
        OverfittingGuard(config.guard_drop, config.guard_gap)
        if config.guard and config.mode in SINGLE_STEP
        else None
    )
    it, time_total = 0, 0.0
    carry = torch.zeros_like(x_train) if config.mode == "fgsm_rs" and config.rs_carry else None
    run.progress(0, total)

    def checkpoint(epoch: int) -> None:
        run.save_checkpoint({"model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
                             "config": asdict(config), "epoch": epoch})  # fmt: skip

    for epoch in range(1, config.epochs + 1):
        t0 = time.perf_counter()
        model.train()
        perm = torch.randperm(n, generator=gen).to(device)
        loss_sum, correct, seen = 0.0, 0, 0
        for b in range(nb):
            if run.should_stop():
                checkpoint(epoch - 1)
                return model.cpu().eval()
            idx = perm[b * bs : (b + 1) * bs]
            x, y = x_train[idx], y_train[idx]
            eps_now = eps_schedule(config, it, nb)
            alpha = config.alpha * alpha_scale * (eps_now / config.eps if config.eps > 0 else 0.0)
            x_adv = adversarial_batch(model, x, y, config.mode, eps_now, alpha, config.pgd_steps,
                                      seed=config.seed * 1_000_003 + it, noise=config.rs_noise,
                                      project=config.rs_project or carry is not None,
                                      start=None if carry is None else carry[idx])  # fmt: skip
            if carry is not None:
                carry[idx] = x_adv - x
            model.train()
            logits = model(x_adv)
            loss = F.cross_entropy(logits, y)
            if not torch.isfinite(loss):
                raise FloatingPointError(f"loss became NaN at step {it + 1}")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            it += 1
            loss_sum += float(loss.detach()) * len(y)
            correct += int((logits.argmax(1) == y).sum())
            seen += len(y)
            run.progress(it, total)
        train_time = time.perf_counter() - t0

        from core.mnist.evaluate import accuracy, robust_accuracy

        metrics = {
            "epoch": epoch,
            "loss": loss_sum / seen,
            "train_acc": correct / seen,  # accuracy on the (adversarial) training batches
            "clean_acc": accuracy(model, x_test, y_test),
            "robust_acc": robust_accuracy(
                model,
                x_test,
                y_test,
                config.eps,
                norm="inf",
                steps=config.eval_steps,
                restarts=1,
                seed=config.seed,
            ),  # fmt: skip
            "eps": eps_now,
            "alpha": alpha,
            "lr": sched.get_last_lr()[0],
            "epoch_time": train_time,
        }
        stop_early = False
        if guard is not None:
            g_acc = guard_accuracy(model, x_guard, y_guard, config.eps, config.eval_steps, config.seed)
            metrics["guard_acc"] = g_acc
            warmed_up = eps_now >= config.eps - 1e-12
            if guard.check(g_acc, epoch, model, armed=warmed_up, train_acc=metrics["train_acc"]):
                # Catastrophic overfitting: back to the best weights, then a smaller step (or stop).
                if guard.best_state is not None:
                    model.load_state_dict(guard.best_state)
                metrics["guard_triggered"] = 1.0
                if config.guard_action == "stop" or guard.triggers > 2:
                    stop_early = True
                else:
                    alpha_scale *= 0.5
        time_total += train_time
        metrics["time_total"] = time_total
        run.log(it, **metrics)
        checkpoint(epoch)
        if stop_early:
            break

    if guard is not None and guard.best_state is not None:
        # Early stopping on the guard batch (Wong et al.): keep the epoch with the best PGD accuracy.
        model.load_state_dict(guard.best_state)
        checkpoint(guard.best_epoch)
    return model.cpu().eval()


def train_robust(config: RobustConfig, run: Any) -> None:
    """The run-manager trainer: load MNIST, fit, then (optionally) the full evaluation into evaluation.json."""
    data = load_train_data(config)
    model = fit(config, data, run)
    if run.should_stop() or not config.final_eval:
        return
    from core.mnist.evaluate import evaluate_robust_model

    model = model.to(getattr(run, "device", "cpu"))  # the evaluation's attacks run on the run's device too
    result = evaluate_robust_model(model, data.x_test, data.y_test, eps_train=config.eps, seed=config.seed,
                                   should_stop=run.should_stop)  # fmt: skip
    if result is not None:
        run.save_json(EVALUATION, result.to_dict())


# -- loading a finished run --------------------------------------------------------------------------------------
def load_model(path: Path | str) -> tuple[RobustCNN, RobustConfig]:
    """A trained model (eval mode, CPU) and its config from a checkpoint written by `fit`."""
    from core.runs import read_checkpoint

    state = read_checkpoint(path, ("model", "config"), "robust-training")
    config = RobustConfig(**state["config"])
    model = RobustCNN(config.width)
    model.load_state_dict(state["model"])
    return model.eval(), config
