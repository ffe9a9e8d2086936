"""Train one generator per critic, all at once, and record snapshots of the game (sheet §1.3, Figures 1–2).

Every critic gets its own generator, both started from the same weights. Learned critics and generators are
stacks of MLPs (core.gan1d.networks) updated by one batched pass per step; the critics that take n_critic
steps per generator step sit first in the stack, so "the critics still training" is always a prefix. The
perfect critic is not learned: D* = p/(p + p_G) is recomputed from the exact densities before each
generator step, p_G by quadrature (core.gan1d.quadrature).
"""

from __future__ import annotations

import multiprocessing
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
from core.validate import check_int

N_SHOWN = 48  # generator samples drawn (with their arrows) in each frame
Z_GRID_STEP = 512  # noise-grid size for the perfect critic's p_G at every step
Z_GRID_SNAPSHOT = 2048  # ... and for the p_G that is drawn and measured
POOL = 1 << 18  # pre-drawn data samples; batches are random picks from it
CHUNK = 50  # generator steps whose random numbers are drawn ahead for the workers
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
    workers: int | None = None,
) -> Gan1DResult:
    """Train every critic of `config` against its own generator; seeded, deterministic on a given device.

    progress(step, steps) is called at every snapshot; on_snapshot(partial) gets the result so far (for a page
    that shows the first frames while the rest trains). workers: CPU processes that train groups of critics
    side by side (default 1; 2 forks one helper process and uses both cores; the same numbers either way).
    The app keeps the default: forking a multi-threaded web server is not safe.
    """
    if not isinstance(config, Gan1DConfig):
        raise ValueError(f"config: expected a Gan1DConfig, got {type(config).__name__}")
    cfg = config
    t0 = time.perf_counter()
    dev = resolve_device(cfg.device)
    H, B = cfg.hidden, cfg.batch
    specs = {name: strategy(name, cfg) for name in cfg.critics}
    # Draw order: critics with more steps per generator step first; the random batches are dealt out in it.
    drawn = sorted([c for c in cfg.critics if specs[c].learned], key=lambda c: -cfg.n_critic_of(c))
    perfect_names = [c for c in cfg.critics if not specs[c].learned]
    # Stack order: the learned critics split into groups (one per CPU worker), each sorted the same way so
    # that the critics still training at each inner step are a prefix of the group; `perfect` last.
    groups_l = _split_groups(drawn, specs, cfg, _n_workers(workers, dev, drawn, perfect_names))
    learned = [c for grp in groups_l for c in grp]
    order = learned + perfect_names
    n_l, n_g = len(learned), len(order)
    row = {name: i for i, name in enumerate(order)}
    draw_pos = {name: i for i, name in enumerate(drawn + perfect_names)}
    perm_l = None if learned == drawn else torch.tensor([draw_pos[c] for c in learned], device=dev)
    perm_g = None if perm_l is None else torch.tensor([draw_pos[c] for c in order], device=dev)

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

    rng = torch.Generator(device=dev).manual_seed(cfg.seed + 1)  # training batches
    snap_rng = torch.Generator(device=dev).manual_seed(cfg.seed + 2)  # batches the snapshots' losses use
    pool = torch.tensor(data.sample(POOL, np.random.default_rng(cfg.seed)), dtype=torch.float32, device=dev)

    def noise(shape: tuple[int, ...], gen: torch.Generator = rng) -> torch.Tensor:
        if cfg.noise == "gaussian":
            return torch.randn(shape, generator=gen, device=dev)
        return torch.rand(shape, generator=gen, device=dev) * 2.0 - 1.0

    def real_batch(k: int, gen: torch.Generator = rng) -> torch.Tensor:
        return pool[torch.randint(POOL, (k, B), generator=gen, device=dev)]

    z_step, w_step = (
        torch.tensor(a, dtype=torch.float32, device=dev) for a in noise_grid(cfg.noise, Z_GRID_STEP)
    )
    z_snap, w_snap = (
        torch.tensor(a, dtype=torch.float32, device=dev) for a in noise_grid(cfg.noise, Z_GRID_SNAPSHOT)
    )
    z_show = torch.tensor(_noise_quantiles(cfg.noise, N_SHOWN), dtype=torch.float32, device=dev)

    n_crit = [cfg.n_critic_of(c) for c in learned]
    n_max = max(n_crit, default=0)
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

    def snapshot(j: int, step: int, g_flat: torch.Tensor, c_flat: torch.Tensor) -> list[int]:
        """Record snapshot j from copies of the weights at `step`; returns the rows that diverged (to freeze).

        It reads copies so that the worker processes can train the next steps meanwhile.
        """
        gx_q, _ = nets.forward(g_flat, z_snap.expand(n_g, -1), H)
        p_g = push_forward(gx_q, w_snap, lo, dx, X).double().cpu().numpy()
        lost = off_grid_mass(gx_q, w_snap, lo, hi).cpu().numpy()
        x_show, g_cache = nets.forward(g_flat, z_show.expand(n_g, -1), H)
        d_grid = None
        if n_l:
            d_grid, _ = nets.forward(c_flat[:n_l], x_grid.expand(n_l, -1), H)
            d_grid = d_grid.double().cpu().numpy()
            out_show, c_show = nets.forward(c_flat[:n_l], x_show[:n_l], H)
            slope_show = nets.input_gradient(c_flat[:n_l], c_show, H)
            real, z = _deal(real_batch(n_l, snap_rng), perm_l), _deal(noise((n_l, B), snap_rng), perm_l)
            fake = nets.forward(g_flat[:n_l], z, H)[0]
            out_real, _ = nets.forward(c_flat[:n_l], real, H)
            out_fake, _ = nets.forward(c_flat[:n_l], fake, H)
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
        diverged = []
        for name, i in row.items():
            if stopped_at[i] >= 0:
                rec_copy(i, j)
                continue
            reason = ""
            finite_g = bool(torch.isfinite(g_flat[i]).all())
            finite_d = not specs[name].learned or bool(torch.isfinite(c_flat[i]).all())
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
                diverged.append(i)
                rec_copy(i, j)
        return diverged

    def checked(diverged: list[int], g_flat: torch.Tensor, c_flat: torch.Tensor) -> None:
        """After a snapshot: diverged rows go back to their last good weights and stop; the rest are good."""
        for i in diverged:
            gens.freeze(i)
            if specs[order[i]].learned:
                crit.freeze(i)
        ok = [i for i in range(n_g) if i not in diverged]
        gens.good[ok] = g_flat[ok]
        ok_c = [i for i in ok if i < crit.flat.shape[0]]
        crit.good[ok_c] = c_flat[ok_c]

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
    n_gp = cfg.n_critic_of("gradient_penalty") if gp_row >= 0 else 0

    def draw(t: int) -> dict:
        """Every random number of generator step t, in one fixed order (whatever the grouping)."""
        d = {"t": t, "blur": None, "gblur": None, "eps": []}
        sigma_t = cfg.noise_sigma * (1.0 - t / cfg.steps)
        if n_max:
            d["reals"] = _deal(real_batch(n_l * n_max).view(n_l, n_max, B), perm_l)
            d["zf"] = _deal(noise((n_l, n_max * B)), perm_l)
            if noise_row >= 0 and sigma_t > 0:
                d["blur"] = sigma_t * torch.randn(2, n_max, B, generator=rng, device=dev)
            d["eps"] = [torch.rand(B, generator=rng, device=dev) for _ in range(n_gp)]
        d["zg"] = _deal(noise((n_g, B)), perm_g)
        if n_l and noise_row >= 0 and sigma_t > 0:
            d["gblur"] = sigma_t * torch.randn(B, generator=rng, device=dev)
        return d

    def train_group(grp: _Group, chunk: list[dict]) -> None:
        """Generator steps for one group of critics (rows a:b of the critic stack) and their generators."""
        a, b = grp.a, grp.b
        for d in chunk:
            lr_scale = 1.0 - d["t"] / cfg.steps if cfg.lr_decay else 1.0
            # -- critic steps; the generators do not move meanwhile, so all their batches come in one pass -
            if grp.prefix:
                n_s = len(grp.prefix)
                reals = d["reals"][a:b]
                # Each run of critics with the same n_critic gets just the batches it uses.
                fakes = torch.empty(b - a, n_s, B, device=dev)
                for r0, r1, n in grp.runs:
                    rows = slice(a + r0, a + r1)
                    out, _ = nets.forward(gens.flat[rows], d["zf"][rows, : n * B], H)
                    fakes[r0:r1, :n] = out.view(r1 - r0, n, B)
                if a <= noise_row < b and d["blur"] is not None:
                    reals = reals.clone()
                    reals[noise_row - a] += d["blur"][0]
                    fakes[noise_row - a] += d["blur"][1, :n_s]
            for step_i, k in enumerate(grp.prefix):
                rows = slice(a, a + k)
                real, fake = reals[:k, step_i], fakes[:k, step_i]
                out, cache = nets.forward(crit.flat[rows], torch.cat([real, fake], 1), H)
                g_out = wgan_g_out[rows].clone()  # Wasserstein rows: the constant ∓1/B; the others below
                for name in grp.names[:k]:
                    if specs[name].critic_loss != "wgan":
                        i = row[name] - a
                        g_r, g_f = critic_output_grads(specs[name].critic_loss, out[i, :B], out[i, B:])
                        g_out[i, :B], g_out[i, B:] = g_r / B, g_f / B
                nets.backward(crit.flat[rows], cache, g_out, H, crit.grad[rows])
                if a <= gp_row < a + k:
                    eps, i = d["eps"][step_i], gp_row - a
                    x_hat = (eps * real[i] + (1 - eps) * fake[i]).unsqueeze(0)
                    sl = slice(gp_row, gp_row + 1)
                    _, c_hat = nets.forward(crit.flat[sl], x_hat, H)
                    nets.gradient_penalty_backward(crit.flat[sl], c_hat, H, cfg.gp_lambda, crit.grad[sl])
                crit.adam.step(crit.grad[rows], rows=rows, scale=lr_scale)
                if a <= clip_row < a + k:
                    crit.flat[clip_row].clamp_(-cfg.clip, cfg.clip)
                if a <= sn_row < a + k:
                    nets.spectral_normalize_(crit.flat[sn_row : sn_row + 1], H, sn_u, cfg.sn_iters)
            # -- generator step: every generator follows its own critic ---------------------------------
            gens_rows = slice(a, grp.g_end)
            x, g_cache = nets.forward(gens.flat[gens_rows], d["zg"][gens_rows], H)
            gx = torch.empty_like(x)
            if b > a:
                x_in = x[: b - a]
                if a <= noise_row < b and d["gblur"] is not None:
                    x_in = x_in.clone()
                    x_in[noise_row - a] += d["gblur"]
                out, cache = nets.forward(crit.flat[a:b], x_in, H)
                slope = nets.input_gradient(crit.flat[a:b], cache, H)
                for name in grp.names:
                    i = row[name] - a
                    gx[i] = generator_output_grad(specs[name].generator_loss, out[i]) * slope[i]
            if a <= perfect_row < grp.g_end:
                i = perfect_row - a
                xq, _ = nets.forward(gens.flat[perfect_row : perfect_row + 1], z_step.unsqueeze(0), H)
                p_g = push_forward(xq, w_step, lo, dx, X)[0].double().cpu().numpy()
                gx[i] = perfect_slope(x[i], p_g)
            gx /= B
            nets.backward(gens.flat[gens_rows], g_cache, gx, H, gens.grad[gens_rows])
            gens.adam.step(gens.grad[gens_rows], rows=gens_rows, scale=lr_scale)

    groups, start = [], 0
    for k, names in enumerate(groups_l):
        n_c = [cfg.n_critic_of(c) for c in names]
        last = k == len(groups_l) - 1
        groups.append(
            _Group(
                names=names,
                a=start,
                b=start + len(names),
                g_end=n_g if last else start + len(names),
                prefix=[sum(n > i for n in n_c) for i in range(max(n_c, default=0))],
                runs=[(r, r + n_c.count(n), n) for r, n in enumerate(n_c) if r == 0 or n_c[r - 1] != n],
            )
        )
        start += len(names)
    if not groups:  # only the perfect critic
        groups.append(_Group(names=[], a=0, b=0, g_end=n_g, prefix=[], runs=[]))

    workers_ = _Workers(groups[1:], train_group, draw, rng, [gens, crit], sn_u)
    try:
        j, t = 0, 0
        while True:
            snap = j < S and t == snap_steps[j]
            if snap:  # the weights at step t, for the snapshot the parent takes while the workers go on
                g_copy, c_copy = gens.flat.clone(), crit.flat.clone()
            if t < cfg.steps:
                nxt = j + int(snap)
                t_end = min(snap_steps[nxt] if nxt < S else cfg.steps, t + CHUNK)
                workers_.start(t, t_end)  # the other groups train steps t..t_end−1 meanwhile
            if snap:
                diverged = snapshot(j, t, g_copy, c_copy)
                j += 1
                if progress is not None:
                    progress(t, cfg.steps)
                if on_snapshot is not None:
                    on_snapshot(result(j))
            if t < cfg.steps:
                train_group(groups[0], [draw(u) for u in range(t, t_end)])
                workers_.wait()
            if snap:
                # Rows are independent, so stopping a diverged one a chunk late changes no other row, and its
                # extra steps are undone: it goes back to the weights of the snapshot before.
                checked(diverged, g_copy, c_copy)
            if t >= cfg.steps:
                break
            t = t_end
    finally:
        workers_.close()

    out = result(S)
    out.extras = {
        "sn_sigma": _sn_sigmas(crit.flat, H, row),
        "max_slope": _max_slopes(crit.flat, H, row, x_grid),
        "clip": cfg.clip,
        "critic_params": _params(crit, row),
    }
    return out


@dataclass
class _Group:
    """Critics trained by one worker: critic rows a:b, generator rows a:g_end; prefix[s] rows take step s."""

    names: list[str]
    a: int
    b: int
    g_end: int
    prefix: list[int]
    runs: list[tuple[int, int, int]]  # (first, end, n_critic) of each run of equal n_critic


class _Workers:
    """Groups 1.. of the critics, each trained by a forked child process on the parent's stacks.

    Before the fork the stacks (weights, gradients, Adam moments) move to shared memory, so the parent's
    snapshots read and freeze every row as if one process had trained them. Each chunk of generator steps,
    a child receives the random generator's state, draws the chunk's numbers exactly as the parent does and
    trains its own rows; the parent trains group 0 meanwhile and waits for every child before it goes on.
    Processes, not threads: a step is hundreds of small ops, and threads would queue for the GIL on each.
    """

    def __init__(self, groups: list[_Group], train_group, draw, rng: torch.Generator, stacks, sn_u) -> None:
        self.conns: list = []
        self.procs: list = []
        self.rng = rng
        self.threads_before = torch.get_num_threads()
        if not groups:
            return
        torch.set_num_threads(1)  # each process one core: intra-op threads would only fight the other process
        for stack in stacks:
            for tensor in (stack.flat, stack.grad, stack.good, stack.adam.lr, stack.adam.m, stack.adam.v,
                           stack.adam.t):  # fmt: skip
                tensor.share_memory_()
        if sn_u is not None:
            sn_u.share_memory_()
        ctx = multiprocessing.get_context("fork")
        for grp in groups:
            parent_end, child_end = ctx.Pipe()
            proc = ctx.Process(
                target=_worker_loop, args=(child_end, grp, train_group, draw, rng), daemon=True
            )
            proc.start()
            child_end.close()
            self.conns.append(parent_end)
            self.procs.append(proc)

    def start(self, t: int, t_end: int) -> None:
        """Every child trains generator steps t..t_end−1, with the random numbers the parent is about to draw."""
        if self.conns:
            state = self.rng.get_state()
            for conn in self.conns:
                conn.send((t, t_end, state))

    def wait(self) -> None:
        for conn, proc in zip(self.conns, self.procs, strict=True):
            try:
                error = conn.recv()
            except EOFError:
                raise RuntimeError(
                    f"gan1d worker process {proc.pid} died (exit code {proc.exitcode})"
                ) from None
            if error:
                raise RuntimeError(f"gan1d worker process failed: {error}")

    def close(self) -> None:
        for conn in self.conns:
            try:
                conn.send(None)
            except (BrokenPipeError, OSError):
                pass
        for proc in self.procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join()
        for conn in self.conns:
            conn.close()
        torch.set_num_threads(self.threads_before)


def _worker_loop(conn, grp: _Group, train_group, draw, rng: torch.Generator) -> None:
    """A forked child: train `grp` for each chunk the parent names; reply "" when done, or the error."""
    torch.set_num_threads(1)
    while True:
        msg = conn.recv()
        if msg is None:
            return
        t, t_end, state = msg
        try:
            rng.set_state(state)
            train_group(grp, [draw(u) for u in range(t, t_end)])
            conn.send("")
        except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises it
            conn.send(f"{type(exc).__name__}: {exc}")


def _n_workers(workers: int | None, dev: torch.device, learned: list[str], others: list[str]) -> int:
    """How many CPU processes train groups of critics (default 1; more only on the CPU and where fork exists).

    The groups are trained in forked processes that share the stacks' memory (see _Workers): from a plain
    script or the CLI that uses both cores; inside a multi-threaded server (the app) the default stays one.
    """
    if workers is None:
        return 1
    workers = check_int("workers", workers, minimum=1)
    if torch.device(dev).type != "cpu" or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return min(workers, len(learned) + len(others))


def _split_groups(learned: list[str], specs: dict, cfg: Gan1DConfig, workers: int) -> list[list[str]]:
    """Learned critics dealt to `workers` groups of about equal work (the perfect critic joins the last)."""
    if workers <= 1 or not learned:
        return [list(learned)] if learned else []

    def cost(name: str) -> float:  # forward+backward passes per generator step, roughly
        n = cfg.n_critic_of(name)
        return 1.0 + n * (2.0 if specs[name].constraint == "penalty" else 1.0)

    k = min(workers, len(learned) + (1 if len(specs) > len(learned) else 0))
    load = [0.0] * k
    load[-1] = 1.0 if len(specs) > len(learned) else 0.0  # the perfect critic's quadrature
    groups: list[list[str]] = [[] for _ in range(k)]
    for name in sorted(learned, key=cost, reverse=True):
        g = min(range(k), key=lambda i: (load[i], i))
        groups[g].append(name)
        load[g] += cost(name)
    groups = [sorted(g, key=learned.index) for g in groups]  # keep the draw order inside each group
    return [g for g in groups[:-1] if g] + [groups[-1]]


def _deal(t: torch.Tensor, perm: torch.Tensor | None) -> torch.Tensor:
    """Rows of a random draw dealt to the stack order (identity when the stack is in draw order)."""
    return t if perm is None else t[perm]


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


def _max_slopes(flat: torch.Tensor, hidden: int, row: dict[str, int], x: torch.Tensor) -> dict[str, float]:
    """max |f'(x)| over the plotted range for every learned critic at the end (its logit or score): §1.3.1's
    Lipschitz constants measured. Spectral normalisation keeps it ≤ 1 by construction; the gradient penalty only
    asks for 1 (a soft penalty); clipping makes it small, by a constant that depends on the architecture."""
    n_l = sum(1 for i in row.values() if i < flat.shape[0])
    if not n_l:
        return {}
    _, cache = nets.forward(flat[:n_l], x.expand(n_l, -1), hidden)
    slopes = nets.input_gradient(flat[:n_l], cache, hidden).abs().amax(dim=1).cpu()
    return {name: float(slopes[i]) for name, i in row.items() if i < n_l}


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
