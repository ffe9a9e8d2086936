"""Train one generator per critic, all at once, and record snapshots of the game (sheet §1.3, Figures 1–2).

Every critic gets its own generator, both started from the same weights. Learned critics and generators are
stacks of MLPs (core.gan1d.networks) updated by one batched pass per step; the critics that take n_critic
steps per generator step sit first in the stack, so "the critics still training" is always a prefix. The
perfect critic is not learned: D* = p/(p + p_G) is recomputed from the exact densities before each
generator step, p_G by quadrature (core.gan1d.quadrature).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from core import gan_losses
from core.densities import Mixture1D, on_grid, preset
from core.device import resolve_device
from core.divergences import game_value, js_divergence, kl_divergence, w1_distance
from core.gan1d import networks as nets
from core.gan1d.config import Gan1DConfig
from core.gan1d.critics import (
    critic_output_grads,
    generator_output_grad,
    perfect_generator_loss_on_grid,
    strategy,
)
from core.gan1d.quadrature import blur, noise_grid, off_grid_mass, push_forward

N_SHOWN = 48  # generator samples drawn (with their arrows) in each frame
Z_GRID_STEP = 512  # noise-grid size for the perfect critic's p_G at every step
Z_GRID_SNAPSHOT = 2048  # ... and for the p_G that is drawn and measured
POOL = 1 << 18  # pre-drawn data samples; batches are random picks from it
START_STD = 0.3  # the generator starts as a blob of this width (std), far from or on top of the data


@dataclass
class Gan1DResult:
    """Snapshots of every critic's game: arrays indexed [critic, snapshot, ...]."""

    config: Gan1DConfig
    critics: tuple[str, ...]
    labels: tuple[str, ...]
    x: np.ndarray  # (X,) grid
    p: np.ndarray  # (X,) data density
    steps: np.ndarray  # (S,) generator step of each snapshot
    p_g: np.ndarray  # (C, S, X) generator density (quadrature)
    critic_raw: np.ndarray  # (C, S, X) logit / f(x) / D*(x)
    critic_display: np.ndarray  # (C, S, X) in [0, 1]: D(x), or f(x) min–max rescaled
    probability: np.ndarray  # (C,) bool: critic_display is a probability D(x)
    samples: np.ndarray  # (C, S, M) positions G(z) of fixed noise quantiles
    sample_grad: np.ndarray  # (C, S, M) −∂ℓ_G/∂x: where each sample is pushed
    jsd: np.ndarray  # (C, S) nats
    kl: np.ndarray  # (C, S) KL(p‖p_G), nats (inf when p_G misses mass of p)
    w1: np.ndarray  # (C, S)
    d_loss: np.ndarray  # (C, S)
    g_loss: np.ndarray  # (C, S)
    stopped_at: np.ndarray  # (C,) step where the critic was stopped, −1 if it ran to the end
    stop_reason: tuple[str, ...]
    seconds: float = 0.0
    extras: dict = field(default_factory=dict)

    def index(self, critic: str) -> int:
        return self.critics.index(critic)

    def final(self) -> dict[str, dict[str, float | int | str | None]]:
        """Start and end numbers per critic (the last snapshot before any stop)."""
        out = {}
        for i, name in enumerate(self.critics):
            out[name] = {
                "jsd_start": float(self.jsd[i, 0]),
                "jsd_final": float(self.jsd[i, -1]),
                "w1_start": float(self.w1[i, 0]),
                "w1_final": float(self.w1[i, -1]),
                "stopped_at": int(self.stopped_at[i]),
                "stop_reason": self.stop_reason[i] or None,
            }
        return out


def plot_range(data: Mixture1D, start: str) -> tuple[float, float, float]:
    """The x range of the plots and the generator's starting centre (far right of the data when disjoint)."""
    lo, hi = data.support(4.0)
    centre = hi + 4.0 if start == "disjoint" else data.mean
    return lo - 2.0, max(hi, centre) + 3.0, centre


class _Stack:
    """A stack of networks and its optimiser state."""

    def __init__(self, flat: torch.Tensor, lr: float, betas: tuple[float, float]):
        self.flat = flat
        self.grad = torch.zeros_like(flat)
        self.adam = nets.StackAdam(flat, torch.full((flat.shape[0],), lr), betas)
        self.good = flat.clone()

    def freeze(self, row: int) -> None:
        """Stop one network: back to its last good weights, no further updates."""
        self.flat[row] = self.good[row]
        self.adam.lr[row] = 0.0
        self.adam.m[row] = 0.0
        self.adam.v[row] = 0.0


def train_critics(
    config: Gan1DConfig,
    progress: Callable[[int, int], None] | None = None,
    on_snapshot: Callable[[Gan1DResult], None] | None = None,
) -> Gan1DResult:
    """Train every critic of `config` against its own generator; seeded, deterministic on a given device.

    progress(step, steps) is called at every snapshot; on_snapshot(partial) gets the result so far (for a page
    that shows the first frames while the rest trains).
    """
    if not isinstance(config, Gan1DConfig):
        raise ValueError(f"config: expected a Gan1DConfig, got {type(config).__name__}")
    cfg = config
    t0 = time.perf_counter()
    dev = resolve_device(cfg.device)
    H, B = cfg.hidden, cfg.batch
    specs = {name: strategy(name, cfg) for name in cfg.critics}
    # Stack order: critics with more steps per generator step first, so each inner step trains a prefix.
    learned = sorted([c for c in cfg.critics if specs[c].learned], key=lambda c: -cfg.n_critic_of(c))
    order = learned + [c for c in cfg.critics if not specs[c].learned]
    n_l, n_g = len(learned), len(order)
    row = {name: i for i, name in enumerate(order)}

    data = preset(cfg.data)
    lo, hi, centre = plot_range(data, cfg.start)
    x_np = np.linspace(lo, hi, cfg.grid_points)
    dx = float(x_np[1] - x_np[0])
    p_np = on_grid(data, x_np)
    x_grid = torch.tensor(x_np, dtype=torch.float32, device=dev)

    # Same initial weights for every generator and every critic: only the critic differs.
    init = torch.Generator().manual_seed(cfg.seed)
    g0 = _initial_generator(H, init, cfg.noise, centre)
    d0 = nets.init_stack(1, H, init)
    betas = (cfg.beta1, cfg.beta2)
    gens = _Stack(g0.repeat(n_g, 1).to(dev), cfg.lr_g, betas)
    crit = _Stack(d0.repeat(max(n_l, 1), 1).to(dev), cfg.lr_d, betas)
    if "weight_clip" in row:
        crit.flat[row["weight_clip"]].clamp_(-cfg.clip, cfg.clip)
    sn_u = None
    if "spectral_norm" in row:
        sn_u = torch.randn(1, H, generator=init).to(dev)
        sn_u /= sn_u.norm()
        r = row["spectral_norm"]
        nets.spectral_normalize_(crit.flat[r : r + 1], H, sn_u, iters=20)
    crit.good = crit.flat.clone()

    rng = torch.Generator(device=dev).manual_seed(cfg.seed + 1)
    pool = torch.tensor(data.sample(POOL, np.random.default_rng(cfg.seed)), dtype=torch.float32, device=dev)

    def noise(shape: tuple[int, ...]) -> torch.Tensor:
        if cfg.noise == "gaussian":
            return torch.randn(shape, generator=rng, device=dev)
        return torch.rand(shape, generator=rng, device=dev) * 2.0 - 1.0

    def real_batch(k: int) -> torch.Tensor:
        return pool[torch.randint(POOL, (k, B), generator=rng, device=dev)]

    z_step, w_step = (
        torch.tensor(a, dtype=torch.float32, device=dev) for a in noise_grid(cfg.noise, Z_GRID_STEP)
    )
    z_snap, w_snap = (
        torch.tensor(a, dtype=torch.float32, device=dev) for a in noise_grid(cfg.noise, Z_GRID_SNAPSHOT)
    )
    z_show = torch.tensor(_noise_quantiles(cfg.noise, N_SHOWN), dtype=torch.float32, device=dev)

    n_crit = [cfg.n_critic_of(c) for c in learned]
    prefix = [sum(n > i for n in n_crit) for i in range(max(n_crit, default=0))]
    noise_row = row.get("instance_noise", -1)
    gp_row, clip_row, sn_row = (
        row.get("gradient_penalty", -1),
        row.get("weight_clip", -1),
        row.get("spectral_norm", -1),
    )
    perfect_row = row.get("perfect", -1)

    snap_steps = np.unique(np.linspace(0, cfg.steps, cfg.snapshots).round().astype(int))
    S, C, X = len(snap_steps), n_g, cfg.grid_points
    rec = {
        key: np.zeros(shape)
        for key, shape in {
            "p_g": (C, S, X),
            "critic_raw": (C, S, X),
            "critic_display": (C, S, X),
            "samples": (C, S, N_SHOWN),
            "sample_grad": (C, S, N_SHOWN),
            "jsd": (C, S),
            "kl": (C, S),
            "w1": (C, S),
            "d_loss": (C, S),
            "g_loss": (C, S),
        }.items()
    }
    stopped_at = np.full(C, -1)
    reasons = [""] * C

    def perfect_slope(samples: torch.Tensor, p_g: np.ndarray) -> torch.Tensor:
        """∂ℓ/∂x at the samples for the generator's loss against D* of the current p_G."""
        _, loss = perfect_generator_loss_on_grid(p_np, blur(p_g), cfg.perfect_loss)
        slope = np.gradient(loss, dx)
        xs = samples.detach().cpu().double().numpy()
        return torch.tensor(np.interp(xs, x_np, slope, left=0.0, right=0.0), dtype=torch.float32, device=dev)

    def snapshot(j: int, step: int) -> None:
        gx_q, _ = nets.forward(gens.flat, z_snap.expand(n_g, -1), H)
        p_g = push_forward(gx_q, w_snap, lo, dx, X).double().cpu().numpy()
        lost = off_grid_mass(gx_q, w_snap, lo, hi).cpu().numpy()
        x_show, g_cache = nets.forward(gens.flat, z_show.expand(n_g, -1), H)
        d_grid = None
        if n_l:
            d_grid, _ = nets.forward(crit.flat[:n_l], x_grid.expand(n_l, -1), H)
            d_grid = d_grid.double().cpu().numpy()
            out_show, c_show = nets.forward(crit.flat[:n_l], x_show[:n_l], H)
            slope_show = nets.input_gradient(crit.flat[:n_l], c_show, H)
            real, fake = real_batch(n_l), nets.forward(gens.flat[:n_l], noise((n_l, B)), H)[0]
            out_real, _ = nets.forward(crit.flat[:n_l], real, H)
            out_fake, _ = nets.forward(crit.flat[:n_l], fake, H)
        for name, i in row.items():
            spec = specs[name]
            if not np.all(np.isfinite(p_g[i])) or lost[i] > 0.5:
                continue  # handled by the stop check below
            if spec.learned:
                raw = d_grid[i]
                shown = _sigmoid(raw) if spec.probability else _minmax(raw)
                a = out_show[i]
                grad = -generator_output_grad(spec.generator_loss, a) * slope_show[i]
                d_loss = gan_losses.discriminator_loss(out_real[i], out_fake[i], spec.critic_loss).item()
                g_loss = gan_losses.generator_loss(out_fake[i], spec.generator_loss).item()
                grad = grad.cpu().numpy()
            else:
                raw, loss_grid = perfect_generator_loss_on_grid(p_np, p_g[i], cfg.perfect_loss)
                shown = raw
                grad = -perfect_slope(x_show[i], p_g[i]).cpu().numpy()
                d_loss = -game_value(p_np, p_g[i], dx)
                g_loss = float((p_g[i] * loss_grid).sum() * dx)
            rec["p_g"][i, j] = p_g[i]
            rec["critic_raw"][i, j] = raw
            rec["critic_display"][i, j] = shown
            rec["samples"][i, j] = x_show[i].cpu().numpy()
            rec["sample_grad"][i, j] = grad
            rec["jsd"][i, j] = js_divergence(p_np, p_g[i], dx)
            rec["kl"][i, j] = kl_divergence(p_np, p_g[i], dx)
            rec["w1"][i, j] = w1_distance(p_np, p_g[i], dx)
            rec["d_loss"][i, j] = d_loss
            rec["g_loss"][i, j] = g_loss
        # A diverged critic is stopped with its reason; its last good snapshot is repeated from here on.
        for name, i in row.items():
            if stopped_at[i] >= 0:
                rec_copy(i, j)
                continue
            reason = ""
            finite_g = bool(torch.isfinite(gens.flat[i]).all())
            finite_d = not specs[name].learned or bool(torch.isfinite(crit.flat[i]).all())
            values = [
                rec[k][i, j] for k in ("jsd", "w1", "d_loss", "g_loss", "sample_grad", "critic_display")
            ]
            if not (finite_g and finite_d):
                reason = "diverged: a weight became NaN/inf"
            elif lost[i] > 0.5:
                reason = "diverged: the generator left the plotted range"
            elif not all(np.all(np.isfinite(v)) for v in values):
                reason = "diverged: a loss or gradient became NaN/inf"
            if reason:
                stopped_at[i], reasons[i] = step, f"{reason} (step {step})"
                gens.freeze(i)
                if specs[name].learned:
                    crit.freeze(i)
                rec_copy(i, j)
        gens.good.copy_(gens.flat)
        crit.good.copy_(crit.flat)

    def rec_copy(i: int, j: int) -> None:
        for arr in rec.values():
            arr[i, j] = arr[i, j - 1] if j > 0 else np.nan_to_num(arr[i, j], nan=0.0, posinf=0.0, neginf=0.0)

    idx = [row[name] for name in cfg.critics]  # back to the order the user asked for

    def result(n_snaps: int) -> Gan1DResult:
        return Gan1DResult(
            config=cfg,
            critics=cfg.critics,
            labels=tuple(specs[c].label for c in cfg.critics),
            x=x_np,
            p=p_np,
            steps=snap_steps[:n_snaps],
            probability=np.array([specs[c].probability for c in cfg.critics]),
            stopped_at=stopped_at[idx],
            stop_reason=tuple(reasons[i] for i in idx),
            seconds=time.perf_counter() - t0,
            **{k: v[idx, :n_snaps] for k, v in rec.items()},
        )

    wgan_g_out = torch.cat(
        [torch.full((max(n_l, 1), B), -1.0 / B), torch.full((max(n_l, 1), B), 1.0 / B)], 1
    ).to(dev)
    j = 0
    for t in range(cfg.steps + 1):
        if j < S and t == snap_steps[j]:
            snapshot(j, t)
            j += 1
            if progress is not None:
                progress(t, cfg.steps)
            if on_snapshot is not None:
                on_snapshot(result(j))
        if t == cfg.steps:
            break
        sigma_t = cfg.noise_sigma * (1.0 - t / cfg.steps)
        lr_scale = 1.0 - t / cfg.steps if cfg.lr_decay else 1.0
        # -- critic steps: the n_critic-step critics first, as a prefix of the stack --------------------
        # The generators do not move during the critic steps, so all their batches are drawn in one pass.
        n_max = len(prefix)
        if n_max:
            reals = real_batch(n_l * n_max).view(n_l, n_max, B)
            fakes, _ = nets.forward(gens.flat[:n_l], noise((n_l, n_max * B)), H)
            fakes = fakes.view(n_l, n_max, B)
            if noise_row >= 0 and sigma_t > 0:
                blur_noise = sigma_t * torch.randn(2, n_max, B, generator=rng, device=dev)
                reals[noise_row] += blur_noise[0]
                fakes[noise_row] += blur_noise[1]
        for step_i, k in enumerate(prefix):
            real, fake = reals[:k, step_i], fakes[:k, step_i]
            out, cache = nets.forward(crit.flat[:k], torch.cat([real, fake], 1), H)
            g_out = wgan_g_out[:k].clone()  # Wasserstein rows: the constant ∓1/B; the others below
            for name in learned[:k]:
                if specs[name].critic_loss != "wgan":
                    i = row[name]
                    g_r, g_f = critic_output_grads(specs[name].critic_loss, out[i, :B], out[i, B:])
                    g_out[i, :B], g_out[i, B:] = g_r / B, g_f / B
            nets.backward(crit.flat[:k], cache, g_out, H, crit.grad[:k])
            if 0 <= gp_row < k:
                eps = torch.rand(B, generator=rng, device=dev)
                x_hat = (eps * real[gp_row] + (1 - eps) * fake[gp_row]).unsqueeze(0)
                sl = slice(gp_row, gp_row + 1)
                _, c_hat = nets.forward(crit.flat[sl], x_hat, H)
                nets.gradient_penalty_backward(crit.flat[sl], c_hat, H, cfg.gp_lambda, crit.grad[sl])
            crit.adam.step(crit.grad[:k], rows=k, scale=lr_scale)
            if 0 <= clip_row < k:
                crit.flat[clip_row].clamp_(-cfg.clip, cfg.clip)
            if 0 <= sn_row < k:
                nets.spectral_normalize_(crit.flat[sn_row : sn_row + 1], H, sn_u, cfg.sn_iters)
        # -- generator step: every generator follows its own critic -------------------------------------
        x, g_cache = nets.forward(gens.flat, noise((n_g, B)), H)
        gx = torch.empty_like(x)
        if n_l:
            x_in = x[:n_l]
            if 0 <= noise_row and sigma_t > 0:
                x_in = x_in.clone()
                x_in[noise_row] += sigma_t * torch.randn(B, generator=rng, device=dev)
            out, cache = nets.forward(crit.flat[:n_l], x_in, H)
            slope = nets.input_gradient(crit.flat[:n_l], cache, H)
            for name in learned:
                i = row[name]
                gx[i] = generator_output_grad(specs[name].generator_loss, out[i]) * slope[i]
        if perfect_row >= 0:
            xq, _ = nets.forward(gens.flat[perfect_row : perfect_row + 1], z_step.unsqueeze(0), H)
            p_g = push_forward(xq, w_step, lo, dx, X)[0].double().cpu().numpy()
            gx[perfect_row] = perfect_slope(x[perfect_row], p_g)
        gx /= B
        nets.backward(gens.flat, g_cache, gx, H, gens.grad)
        gens.adam.step(gens.grad, scale=lr_scale)

    out = result(S)
    out.extras = {
        "sn_sigma": _sn_sigmas(crit.flat, H, row),
        "clip": cfg.clip,
        "critic_params": _params(crit, row),
    }
    return out


def _initial_generator(hidden: int, init: torch.Generator, noise: str, centre: float) -> torch.Tensor:
    """A generator whose samples start as a blob of width START_STD around `centre` (PyTorch init otherwise)."""
    g0 = nets.init_stack(1, hidden, init)
    z, w = (torch.tensor(a, dtype=torch.float32) for a in noise_grid(noise, Z_GRID_SNAPSHOT))
    out, _ = nets.forward(g0, z.unsqueeze(0), hidden)
    mean = float((out[0] * w).sum())
    std = float(((out[0] - mean) ** 2 * w).sum().sqrt())
    lay = nets.layers(g0, hidden)
    lay.w3.mul_(START_STD / max(std, 1e-6))
    lay.b3.add_(centre - START_STD / max(std, 1e-6) * mean)
    lay.b3.sub_(0.0)
    out, _ = nets.forward(g0, z.unsqueeze(0), hidden)
    lay.b3.add_(centre - float((out[0] * w).sum()))
    return g0


def _params(crit: _Stack, row: dict[str, int]) -> dict[str, np.ndarray]:
    return {
        name: crit.flat[i].detach().cpu().numpy().copy() for name, i in row.items() if i < crit.flat.shape[0]
    }


def _sn_sigmas(flat: torch.Tensor, hidden: int, row: dict[str, int]) -> list[float]:
    """Exact spectral norms (SVD) of the spectral-norm critic's three layers after training."""
    if "spectral_norm" not in row:
        return []
    lay = nets.layers(flat[row["spectral_norm"] : row["spectral_norm"] + 1], hidden)
    return [
        float(torch.linalg.matrix_norm(w.reshape(hidden, -1).double().cpu(), ord=2))
        for w in (lay.w1, lay.w2, lay.w3)
    ]


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def _minmax(f: np.ndarray) -> np.ndarray:
    """A Wasserstein critic's values have no scale of their own: shown rescaled to [0, 1]."""
    span = float(f.max() - f.min())
    return np.full_like(f, 0.5) if span < 1e-12 else (f - f.min()) / span


def _noise_quantiles(noise: str, m: int) -> np.ndarray:
    """m evenly spread quantiles of the noise distribution: the same samples are followed in every frame."""
    q = (np.arange(m) + 0.5) / m
    if noise == "uniform":
        return 2.0 * q - 1.0
    from scipy.special import ndtri

    return ndtri(q)
