"""Training a GAN on MNIST (sheet §1 on real data): the alternating game between critic D_ϕ and generator G_θ.

Run it through the run manager (`python -m core.train gan --loss wgan-gp --arch dcgan`, or the MNIST GAN page);
`train_gan(config, run)` reads top to bottom: data, models, then for every step n_critic critic updates
(with the loss's Lipschitz constraint: clipping, gradient penalty or spectral norm) and one generator update,
with losses, D(x) vs D(G(z)), the quality metrics and a sample grid from fixed noise logged as it goes.
A NaN/inf loss stops the run with FloatingPointError, keeping the last good checkpoint.
"""

from __future__ import annotations

import contextlib
import copy
import math
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from core import gan_losses
from core.device import DEVICES, adam
from core.mnist.metrics import MnistJudge, load_classifier
from core.mnist.models import ARCHS, N_CLASSES, build_gan
from core.validate import check_choice, check_int, check_positive, check_range

# Each MNIST loss = a loss from core/gan_losses.py (shared with the 1D lab) + a way to keep the critic smooth.
LOSSES = ("non-saturating", "minimax", "wgan-clip", "wgan-gp", "sngan", "lsgan", "hinge")
LOSS_LABELS = {
    "non-saturating": "Non-saturating: −log D(G(z))",
    "minimax": "Minimax (saturating): log(1 − D(G(z)))",
    "wgan-clip": "WGAN, weight clipping",
    "wgan-gp": "WGAN-GP, gradient penalty",
    "sngan": "SN-GAN: spectral norm + hinge",
    "lsgan": "LSGAN: least squares",
    "hinge": "Hinge (no constraint)",
}
# The game each loss plays, in the sheet's symbols: (critic objective, generator objective), LaTeX.
LOSS_FORMULAS = {
    "non-saturating": (
        r"\max_{D}\; \mathbb{E}_{x\sim p}[\log D(x)] + \mathbb{E}_{z}[\log(1-D(G(z)))]",
        r"\min_{G}\; -\mathbb{E}_{z}[\log D(G(z))]",
    ),
    "minimax": (
        r"\max_{D}\; \mathbb{E}_{x\sim p}[\log D(x)] + \mathbb{E}_{z}[\log(1-D(G(z)))]",
        r"\min_{G}\; \mathbb{E}_{z}[\log(1-D(G(z)))]",
    ),
    "wgan-clip": (
        r"\max_{f:\,|w|\le c}\; \mathbb{E}_{x\sim p}[f(x)] - \mathbb{E}_{z}[f(G(z))]",
        r"\min_{G}\; -\mathbb{E}_{z}[f(G(z))]",
    ),
    "wgan-gp": (
        r"\max_{f}\; \mathbb{E}_{p}[f(x)] - \mathbb{E}_{z}[f(G(z))] - \lambda\,\mathbb{E}_{\hat x}"
        r"\big[(\|\nabla_{\hat x} f(\hat x)\|_2 - 1)^2\big]",
        r"\min_{G}\; -\mathbb{E}_{z}[f(G(z))]",
    ),
    "sngan": (
        r"\min_{f:\,W\to W/\sigma(W)}\; \mathbb{E}_{p}[\max(0, 1-f(x))] + \mathbb{E}_{z}[\max(0, 1+f(G(z)))]",
        r"\min_{G}\; -\mathbb{E}_{z}[f(G(z))]",
    ),
    "lsgan": (
        r"\min_{D}\; \tfrac12\mathbb{E}_{p}[(D(x)-1)^2] + \tfrac12\mathbb{E}_{z}[D(G(z))^2]",
        r"\min_{G}\; \tfrac12\mathbb{E}_{z}[(D(G(z))-1)^2]",
    ),
    "hinge": (
        r"\min_{f}\; \mathbb{E}_{p}[\max(0, 1-f(x))] + \mathbb{E}_{z}[\max(0, 1+f(G(z)))]",
        r"\min_{G}\; -\mathbb{E}_{z}[f(G(z))]",
    ),
}
_BASE_LOSS = {
    "non-saturating": "non_saturating",
    "minimax": "minimax",
    "wgan-clip": "wgan",
    "wgan-gp": "wgan",
    "sngan": "hinge",
    "lsgan": "lsgan",
    "hinge": "hinge",
}
SIGMOID_LOSSES = ("non-saturating", "minimax")  # the critic's output is a logit: D(x) = sigmoid(output)
# WGAN critics are trained several times per generator step, so the critic stays near its supremum.
DEFAULT_N_CRITIC = {"wgan-clip": 5, "wgan-gp": 5}
DATA_SOURCES = ("auto", "idx", "subset")
GRID_SIDE = 8  # the live sample grid: 8×8 digits from the same fixed noise all run long
# ... and for a conditional generator 10×10: row r holds ten draws of the digit r
CONDITIONAL_TRUNCATION = 0.7  # ψ used when truncation is left at 0 (auto) for a conditional generator


@dataclass(frozen=True)
class GanConfig:
    """Everything a MNIST GAN run depends on; the defaults train a recognisable MLP GAN in a few CPU minutes."""

    loss: str = "non-saturating"
    arch: str = "mlp"
    steps: int = 3000
    batch_size: int = 64
    lr_g: float = (
        1e-3  # measured on the subset: the MLP GAN improves ~1.5× faster than with DCGAN's usual 2e-4
    )
    lr_d: float = 1e-3
    beta1: float = 0.5
    beta2: float = 0.999
    n_critic: int = 0  # critic updates per generator update; 0 = the loss's usual value (5 for WGANs, else 1)
    clip: float = 0.01  # WGAN weight clipping to [−c, c]
    gp_weight: float = 10.0  # WGAN-GP's λ
    z_dim: int = 64
    # Class-conditional (cGAN): G(z, y) draws the digit y, D(x, y) scores (image, digit) pairs by projection.
    # Each digit is then a simpler distribution to learn. Measured on the subset (2 CPU threads): MNIST score 8 after
    # ~100 s of training scored at ψ = 1 (~33 s at ψ = 0.7); one unconditional G scores ~6.2 at 90 s.
    conditional: bool = field(default=True, metadata={"help": "class-conditional G(z, y) and D(x, y)"})
    # Truncation ψ of the samples shown and scored: z ← ψ·z (a reduced-temperature draw, as BigGAN's truncation
    # trick). ψ < 1 trades variety within a digit for cleaner strokes; 0 = auto: 0.7 when conditional (the
    # digit still varies with y), 1 = off otherwise (an unconditional G would lose whole digits). Training
    # always draws z at full width.
    truncation: float = field(
        default=0.0,
        metadata={"help": "ψ of the samples shown and scored, z ← ψ·z; 0 = 0.7 conditional, else 1"},
    )
    label_smoothing: float = 0.0  # one-sided: real target 1 − s for the sigmoid losses
    dropout: float = 0.3  # critic dropout: on 4,000 digits a critic without it memorises them and G stalls
    ema: float = 0.995  # what is shown and scored: an exponential moving average of G's weights (0 = off)
    eval_every: int = 250  # steps between MNIST score / MNIST-FD / coverage evaluations
    eval_samples: int = 1000
    data: str = "auto"  # MNIST source: auto (IDX files if present, else the offline subset), idx, subset
    device: str = "auto"
    seed: int = 0

    def __post_init__(self) -> None:
        check_choice("loss", self.loss, LOSSES)
        check_choice("arch", self.arch, ARCHS)
        check_int("steps", self.steps, minimum=1, maximum=1_000_000)
        check_int("batch_size", self.batch_size, minimum=2, maximum=4096)
        check_range("lr_g", self.lr_g, 1e-8, 1e6)
        check_range("lr_d", self.lr_d, 1e-8, 1e6)
        check_range("beta1", self.beta1, 0.0, 0.999)
        check_range("beta2", self.beta2, 0.0, 0.9999)
        check_int("n_critic", self.n_critic, minimum=0, maximum=20)
        check_positive("clip", self.clip)
        check_positive("gp_weight", self.gp_weight, allow_zero=True)
        check_int("z_dim", self.z_dim, minimum=1, maximum=1024)
        if not isinstance(self.conditional, bool):
            raise ValueError(f"conditional: expected True or False, got {self.conditional!r}")
        check_range("truncation", self.truncation, 0.0, 2.0)
        check_range("label_smoothing", self.label_smoothing, 0.0, 0.5)
        check_range("dropout", self.dropout, 0.0, 0.9)
        check_range("ema", self.ema, 0.0, 0.9999)
        check_int("eval_every", self.eval_every, minimum=1)
        check_int("eval_samples", self.eval_samples, minimum=10, maximum=20_000)
        check_choice("data", self.data, DATA_SOURCES)
        check_choice("device", self.device, DEVICES)
        check_int("seed", self.seed, minimum=0)

    @property
    def critic_steps(self) -> int:
        """n_critic, with 0 resolved to the loss's usual value."""
        return self.n_critic or DEFAULT_N_CRITIC.get(self.loss, 1)

    @property
    def sample_truncation(self) -> float:
        """ψ, with 0 resolved: 0.7 for a conditional generator, 1 (no truncation) otherwise."""
        if self.truncation > 0:
            return self.truncation
        return CONDITIONAL_TRUNCATION if self.conditional else 1.0

    @property
    def grid_side(self) -> int:
        """Side of the live sample grid: 10 (a row per digit) when conditional, else 8."""
        return 10 if self.conditional else GRID_SIDE


# -- one loss = a critic objective + a generator objective (+ a Lipschitz constraint) ---------------------
def critic_loss(
    config: GanConfig, critic, real: torch.Tensor, fake: torch.Tensor, labels: torch.Tensor | None = None
) -> tuple[torch.Tensor, ...]:
    """(loss to minimise, critic outputs on real, on fake) for one critic update.

    A conditional critic gets `labels`: the digits of the real batch, which the fakes were also drawn as.
    """

    def score(x: torch.Tensor) -> torch.Tensor:  # x: real, fake, both, or the penalty's in-between points
        return critic(x) if labels is None else critic(x, labels.repeat(len(x) // len(labels)))

    # One pass over real and fake together (the critics have no batch norm, so this is the same function):
    # one larger matrix product per layer instead of two.
    real_out, fake_out = score(torch.cat([real, fake])).split([len(real), len(fake)])
    base = _BASE_LOSS[config.loss]
    if config.loss in SIGMOID_LOSSES and config.label_smoothing > 0:
        # One-sided label smoothing: a real target of 1 − s keeps D from becoming overconfident on real digits.
        target = torch.full_like(real_out, 1.0 - config.label_smoothing)
        loss = (
            F.binary_cross_entropy_with_logits(real_out.float(), target.float()) + F.softplus(fake_out).mean()
        )
    else:
        loss = gan_losses.discriminator_loss(real_out.float(), fake_out.float(), base)
    if config.loss == "wgan-gp":
        loss = loss + gan_losses.gradient_penalty(score, real, fake, lam=config.gp_weight).float()
    return loss, real_out.detach(), fake_out.detach()


def generator_loss(config: GanConfig, fake_out: torch.Tensor) -> torch.Tensor:
    """The generator's loss on the critic's outputs for G(z)."""
    return gan_losses.generator_loss(fake_out.float(), _BASE_LOSS[config.loss])


def critic_reading(config: GanConfig, out: torch.Tensor) -> torch.Tensor:
    """What to plot as 'D': the probability D(x) = sigmoid(logit) for sigmoid losses, the raw critic value else."""
    return torch.sigmoid(out.float()) if config.loss in SIGMOID_LOSSES else out.float()


# -- reading a run's metrics back -------------------------------------------------------------------------
@dataclass(frozen=True)
class GanCurves:
    """A run's metrics.jsonl as arrays: training curves per logging block, quality per evaluation."""

    step: np.ndarray
    loss_d: np.ndarray
    loss_g: np.ndarray
    d_real: np.ndarray
    d_fake: np.ndarray
    images_per_s: np.ndarray
    eval_step: np.ndarray
    mnist_score: np.ndarray
    mnist_fd: np.ndarray
    classes_covered: np.ndarray
    class_fractions: np.ndarray  # [n_evals, 10]
    agreement_step: np.ndarray  # a conditional run: evaluations with label_agreement ...
    label_agreement: np.ndarray  # ... the fraction of samples judged to be the digit asked for

    @property
    def last_fractions(self) -> np.ndarray | None:
        return self.class_fractions[-1] if len(self.class_fractions) else None


def curves_from_metrics(rows: list[dict]) -> GanCurves:
    """Split metrics rows into training and evaluation curves; rows with a missing or non-finite value are
    dropped, so nothing NaN is ever plotted."""

    def table(keys: list[str]) -> np.ndarray:
        out = []
        for row in rows:
            values = [row.get(k) for k in keys]
            if all(
                isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in values
            ):
                out.append(values)
        return np.asarray(out, dtype=float).reshape(-1, len(keys))

    train = table(["step", "loss_d", "loss_g", "d_real", "d_fake", "images_per_s"])
    evals = table(["step", "mnist_score", "mnist_fd", "classes_covered"] + [f"class_{k}" for k in range(10)])
    agreement = table(["step", "label_agreement"])
    return GanCurves(
        step=train[:, 0], loss_d=train[:, 1], loss_g=train[:, 2], d_real=train[:, 3], d_fake=train[:, 4],
        images_per_s=train[:, 5], eval_step=evals[:, 0], mnist_score=evals[:, 1], mnist_fd=evals[:, 2],
        classes_covered=evals[:, 3], class_fractions=evals[:, 4:], agreement_step=agreement[:, 0],
        label_agreement=agreement[:, 1],
    )  # fmt: skip


# -- images -----------------------------------------------------------------------------------------------
def to_unit(images: torch.Tensor) -> torch.Tensor:
    """Generator output in [-1, 1] -> [0, 1] (what the judge and the pictures expect)."""
    return (images.float().clamp(-1, 1) + 1) / 2


def image_grid(images: torch.Tensor, side: int = GRID_SIDE, pad: int = 2) -> np.ndarray:
    """side×side digits [N, 1, 28, 28] in [0, 1] as one uint8 picture, white digits on black, grey gaps."""
    n = side * side
    if images.shape[0] < n:
        raise ValueError(f"images: need at least {n} images for a {side}x{side} grid, got {images.shape[0]}")
    imgs = images[:n, 0].detach().float().cpu().clamp(0, 1).numpy()
    cell = 28 + pad
    grid = np.full((side * cell + pad, side * cell + pad), 0.35, dtype=np.float32)
    for k in range(n):
        r, c = divmod(k, side)
        grid[pad + r * cell : pad + r * cell + 28, pad + c * cell : pad + c * cell + 28] = imgs[k]
    return (grid * 255).round().astype(np.uint8)


# -- the run ----------------------------------------------------------------------------------------------
def _load_data(config: GanConfig):
    from core.mnist.data import load_mnist

    return load_mnist(source=config.data)


PRECISION = "precision.json"  # what a run trained with: autocast dtype and memory format


def mixed_precision(device: torch.device) -> torch.dtype | None:
    """The autocast dtype of a run: bfloat16 on a CUDA GPU that has it (no loss scaling needed, unlike float16);
    None elsewhere, i.e. plain float32 (on these small models the CPU gains nothing from bfloat16)."""
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return None


def memory_format(device: torch.device, arch: str) -> torch.memory_format:
    """channels_last for the DCGAN's convolutions on CUDA (the layout tensor-core kernels read without a
    transpose); the default layout elsewhere and for the MLP, which has no convolutions."""
    return torch.channels_last if device.type == "cuda" and arch == "dcgan" else torch.contiguous_format


def precision_text(used: dict | None) -> str:
    """A run's numerics as the page shows them, from its precision.json: 'float32', 'bfloat16 autocast · channels_last'."""
    if not used:
        return "float32"
    text = f"{used['autocast'].removeprefix('torch.')} autocast" if used.get("autocast") else "float32"
    return text + (" · channels_last" if used.get("channels_last") else "")


def _amp(device: torch.device):
    dtype = mixed_precision(device)
    return contextlib.nullcontext() if dtype is None else torch.autocast(device.type, dtype=dtype)


def _finite_block(pending: list[torch.Tensor], last_step: int) -> np.ndarray:
    """The per-step losses since the last check as numpy (one device sync); FloatingPointError on NaN/inf."""
    block = torch.stack(pending).cpu().numpy()
    pending.clear()
    bad = ~np.isfinite(block).all(axis=1)
    if bad.any():
        first = last_step + 1 + int(np.argmax(bad))
        what = "NaN" if np.isnan(block[bad][0]).any() else "infinite"
        raise FloatingPointError(f"loss became {what} at step {first} (kept the last good checkpoint)")
    return block


def train_gan(config: GanConfig, run) -> None:
    """Train a GAN on MNIST inside a run (core.runs.RunContext): log, save samples and checkpoints, obey cancel."""
    torch.manual_seed(config.seed)
    np.random.seed(config.seed)
    device = torch.device(run.device)
    data = _load_data(config)
    fmt = memory_format(device, config.arch)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed shapes every step: let cuDNN pick its fastest kernels

    # The real digits, scaled to the generator's range [-1, 1], live on the device: batches are index draws.
    x_real = torch.as_tensor(np.array(data.x_train), dtype=torch.float32).div(127.5).sub(1).unsqueeze(1)
    x_real = x_real.to(device).contiguous(memory_format=fmt)
    x_test = torch.as_tensor(np.array(data.x_test), dtype=torch.float32).div(255).unsqueeze(1)
    judge = MnistJudge(load_classifier(data.x_train, data.y_train), x_test[:10_000], device)
    run.save_json("data.json", {"source": data.source, "label": data.label, "description": data.description})
    autocast = mixed_precision(device)
    run.save_json(PRECISION, {"device": str(device), "autocast": None if autocast is None else str(autocast),
                              "channels_last": fmt == torch.channels_last})  # fmt: skip

    generator, critic = build_gan(
        config.arch,
        config.z_dim,
        spectral=config.loss == "sngan",
        dropout=config.dropout,
        conditional=config.conditional,
    )
    generator.to(device, memory_format=fmt)
    critic.to(device, memory_format=fmt)
    # The averaged generator Ḡ: θ̄ ← β·θ̄ + (1 − β)·θ after every step. Averaging the last ~1/(1 − β) steps
    # cancels the step-to-step jitter of the game (speckled pixels); it is what is shown and scored.
    shown = copy.deepcopy(generator).requires_grad_(False) if config.ema > 0 else generator
    ema_params = list(zip(shown.parameters(), generator.parameters(), strict=True))
    ema_buffers = list(zip(shown.buffers(), generator.buffers(), strict=True))
    opt_g = adam(generator.parameters(), device, lr=config.lr_g, betas=(config.beta1, config.beta2))
    opt_d = adam(critic.parameters(), device, lr=config.lr_d, betas=(config.beta1, config.beta2))
    draw = torch.Generator(device="cpu").manual_seed(config.seed + 1)
    side = config.grid_side
    psi = config.sample_truncation
    fixed_z = psi * torch.randn(
        side * side, config.z_dim, generator=torch.Generator().manual_seed(config.seed + 2)
    )
    eval_z = psi * torch.randn(
        config.eval_samples, config.z_dim, generator=torch.Generator().manual_seed(config.seed + 3)
    )
    fixed_z, eval_z = fixed_z.to(device), eval_z.to(device)
    # Digits asked of a conditional G: the grid's row r is the digit r; the evaluation asks for each equally.
    fixed_y = torch.as_tensor(grid_rows(side)).to(device) if config.conditional else None
    eval_y = (torch.arange(config.eval_samples) % N_CLASSES).to(device) if config.conditional else None
    y_real = torch.as_tensor(np.array(data.y_train), dtype=torch.int64).to(device)

    def noise(n: int) -> torch.Tensor:
        return torch.randn(n, config.z_dim, generator=draw).to(device, non_blocking=True)

    def batch() -> tuple[torch.Tensor, torch.Tensor | None]:
        """Real digits and, for a conditional GAN, their labels (the fakes are drawn as the same digits)."""
        idx = torch.randint(len(x_real), (config.batch_size,), generator=draw).to(device)
        return x_real[idx], (y_real[idx] if config.conditional else None)

    def checkpoint(step: int) -> None:
        run.save_checkpoint(
            {
                "generator": generator.state_dict(),
                "generator_ema": shown.state_dict(),
                "critic": critic.state_dict(),
                "opt_g": opt_g.state_dict(),
                "opt_d": opt_d.state_dict(),
                "step": step,
                "config": asdict(config),
            }
        )

    @torch.no_grad()
    def update_ema(step: int) -> None:
        # Warm-up: early on θ moves fast and the plain average would drag in the random initial weights.
        beta = min(config.ema, (1 + step) / (10 + step))
        torch._foreach_lerp_([a for a, _ in ema_params], [p for _, p in ema_params], 1.0 - beta)
        for b_bar, b in ema_buffers:
            b_bar.copy_(b)

    @torch.no_grad()
    def samples(z: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        # Batch norm with its running statistics (eval mode), as a trained generator is used: each sample then
        # depends on its own z alone, and a truncated z is not normalised back to full width.
        training = shown.training
        shown.eval()
        try:
            with _amp(device):
                return torch.cat(
                    [
                        to_unit(shown(z[i : i + 1000], None if y is None else y[i : i + 1000]))
                        for i in range(0, len(z), 1000)
                    ]
                )
        finally:
            shown.train(training)

    def save_grid() -> None:
        run.save_image("samples.png", image_grid(samples(fixed_z, fixed_y), side=side))

    checkpoint(0)  # a finite checkpoint exists even if the very first steps diverge
    save_grid()
    n_critic = config.critic_steps
    log_every = max(1, min(25, config.eval_every))
    pending: list[torch.Tensor] = []  # per step: loss_d, loss_g, D(x), D(G(z)); checked for NaN in blocks
    t_start = last_grid = last_log_t = time.perf_counter()
    t_aside = 0.0  # seconds spent on evaluations, grids and checkpoints, not on training
    last_log_step = 0
    for step in range(1, config.steps + 1):
        # -- critic: n_critic steps on real digits vs detached fakes --
        for _ in range(n_critic):
            with _amp(device):
                real, labels = batch()
                fake = generator(noise(config.batch_size), labels)
                loss_d, out_real, out_fake = critic_loss(config, critic, real, fake.detach(), labels)
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
            if config.loss == "wgan-clip":
                gan_losses.weight_clip_(critic, config.clip)
        # -- generator: one step against the updated critic, on the last fakes (no second forward pass of G) --
        with _amp(device):
            loss_g = generator_loss(config, critic(fake, labels))
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        if config.ema > 0:
            update_ema(step)
        pending.append(
            torch.stack(
                [
                    loss_d.detach().float(),
                    loss_g.detach().float(),
                    critic_reading(config, out_real).mean(),
                    critic_reading(config, out_fake).mean(),
                ]
            )
        )

        due_eval = step % config.eval_every == 0 or step == config.steps
        stop = run.should_stop()
        if step % log_every == 0 or due_eval or step == 1 or stop:
            block = _finite_block(pending, last_log_step)
            now = time.perf_counter()
            images_per_s = (step - last_log_step) * config.batch_size * n_critic / max(now - last_log_t, 1e-9)
            mean = block.mean(axis=0)
            run.log(
                step,
                loss_d=mean[0],
                loss_g=mean[1],
                d_real=mean[2],
                d_fake=mean[3],
                images_per_s=images_per_s,
            )
            last_log_step, last_log_t = step, now
            if due_eval:
                quality = judge.evaluate(samples(eval_z, eval_y), eval_y)
                # train_s leaves out the time spent judging, saving and drawing: what training alone cost.
                run.log(
                    step, **quality.as_metrics(), elapsed_s=now - t_start, train_s=now - t_start - t_aside
                )
                checkpoint(step)
                save_grid()
                last_grid = time.perf_counter()
            elif now - last_grid > 1.0:  # the page polls about every second: keep the grid that fresh
                save_grid()
                last_grid = time.perf_counter()
            run.progress(step, config.steps)
            t_aside += time.perf_counter() - now
            last_log_t = time.perf_counter()  # images/s counts training only
        if stop:  # cancelled: keep the weights, skip the final evaluation (the cancel must land within 2 s)
            checkpoint(step)
            return
    # The last step was an evaluation step, so `quality` describes the final generator.
    run.save_json(
        "final.json",
        {"step": step, **quality.as_metrics(), "train_s": time.perf_counter() - t_start - t_aside},
    )


# -- drawing from a trained generator (the page's "Draw from this run") ------------------------------------
def grid_rows(side: int) -> np.ndarray:
    """The digits asked of a conditional G for a side×side grid: row r holds the digit r (side = 10)."""
    return np.arange(side * side) // side


def draw_grid(generator: torch.nn.Module, digit: int | None = None, truncation: float = 1.0, seed: int = 0,
              side: int = 10) -> np.ndarray:  # fmt: skip
    """A side×side picture of draws: for a conditional G one digit, or (digit None) a row per digit."""
    conditional = getattr(generator, "label_embedding", None) is not None
    digits = (grid_rows(side) if digit is None else digit) if conditional else None
    return image_grid(draw(generator, side * side, truncation, digits, seed), side=side)


def load_generator(path: Path | str) -> tuple[torch.nn.Module, GanConfig, int]:
    """The averaged generator Ḡ (eval mode, CPU), the run's config and the step, from a train_gan checkpoint."""
    from core.runs import read_checkpoint

    state = read_checkpoint(path, ("generator_ema", "config"), "MNIST GAN")
    known = {f.name for f in fields(GanConfig)}
    # Runs from before a field existed lack it: they get its default (before 2026-12-02 G was unconditional).
    saved = {"conditional": False, **{k: v for k, v in state["config"].items() if k in known}}
    config = GanConfig(**saved)
    generator, _ = build_gan(config.arch, config.z_dim, conditional=config.conditional)
    generator.load_state_dict(state["generator_ema"])
    return generator.eval(), config, int(state.get("step", 0))


@torch.no_grad()
def draw(
    generator: torch.nn.Module,
    n: int,
    truncation: float = 1.0,
    digits: int | list[int] | None = None,
    seed: int = 0,
) -> torch.Tensor:
    """n samples G(ψ·z, y) in [0, 1], z ~ N(0, I) from `seed`; `digits`: the digit(s) y asked of a conditional G
    (one for all, or one per sample; None = 0, 1, …, 9 in turn). ψ → 0 gives every sample of a digit the same
    "average" drawing G(0, y); ψ > 1 draws rarer, rougher ones."""
    n = check_int("n", n, minimum=1, maximum=1000)
    psi = check_range("truncation", truncation, 0.0, 2.0)
    seed = check_int("seed", seed, minimum=0)
    conditional = getattr(generator, "label_embedding", None) is not None
    if digits is not None and not conditional:
        raise ValueError("digits: this generator is unconditional; it cannot be asked for a digit")
    if conditional:
        y = np.arange(n) % N_CLASSES if digits is None else np.asarray(digits)
        if y.ndim == 0:
            y = np.full(n, y)
        if y.shape != (n,) or y.dtype.kind not in "iu" or y.min() < 0 or y.max() >= N_CLASSES:
            raise ValueError(f"digits: expected digits 0–9 (one, or one per sample), got {digits!r}")
        labels = torch.as_tensor(np.array(y), dtype=torch.int64)
    else:
        labels = None
    z = psi * torch.randn(n, generator.z_dim, generator=torch.Generator().manual_seed(seed))
    generator.eval()
    return to_unit(generator(z, labels))
