"""The plain way to run the 1D critic comparison: one nn.Module training loop per critic, autograd everywhere.

This is how a reader would write it from the papers (and core.gan_losses): nn.Sequential MLPs, torch.optim.Adam,
the gradient penalty by double back-propagation, weight clipping and the sheet's spectral renormalisation after
each step, the perfect critic D* from the exact densities. It records the same snapshots (p_G by quadrature,
JSD, W1) as core.gan1d, so benchmarks/gan1d.py compares like with like.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from torch import nn

from core import gan_losses
from core.densities import on_grid, preset
from core.divergences import js_divergence, optimal_discriminator, w1_distance
from core.gan1d.config import Gan1DConfig
from core.gan1d.quadrature import blur, noise_grid, push_forward
from core.gan1d.trainer import START_STD, Z_GRID_SNAPSHOT, Z_GRID_STEP, plot_range

LOSS = {  # (critic loss, generator loss) per critic, as in core.gan1d.critics
    "perfect": (None, "minimax"),
    "standard": ("non_saturating", "non_saturating"),
    "weight_clip": ("wgan", "wgan"),
    "gradient_penalty": ("wgan", "wgan"),
    "spectral_norm": ("wgan", "wgan"),
    "lsgan": ("lsgan", "lsgan"),
    "instance_noise": ("non_saturating", "non_saturating"),
}


def mlp(hidden: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(1, hidden),
        nn.LeakyReLU(0.2),
        nn.Linear(hidden, hidden),
        nn.LeakyReLU(0.2),
        nn.Linear(hidden, 1),
    )


@torch.no_grad()
def spectral_renormalise_(net: nn.Module, state: dict, iters: int = 1) -> None:
    """W ← W / σ(W) for every Linear layer, σ by warm-started power iteration (sheet §1.3.1)."""
    for i, layer in enumerate(m for m in net if isinstance(m, nn.Linear)):
        w = layer.weight
        u = state.setdefault(i, nn.functional.normalize(torch.randn(w.shape[0]), dim=0))
        for _ in range(iters):
            v = nn.functional.normalize(w.t() @ u, dim=0)
            u = nn.functional.normalize(w @ v, dim=0)
        state[i] = u
        w.div_(u @ w @ v)


def train_one(critic: str, cfg: Gan1DConfig) -> dict:
    """Train one generator against one critic; JSD and W1 at every snapshot."""
    torch.manual_seed(cfg.seed)
    data = preset(cfg.data)
    lo, hi, centre = plot_range(data, cfg.start)
    x_grid = np.linspace(lo, hi, cfg.grid_points)
    dx = float(x_grid[1] - x_grid[0])
    p = on_grid(data, x_grid)
    pool = torch.tensor(data.sample(1 << 18, np.random.default_rng(cfg.seed)), dtype=torch.float32)
    z_snap, w_snap = (torch.tensor(a, dtype=torch.float32) for a in noise_grid(cfg.noise, Z_GRID_SNAPSHOT))
    z_step, w_step = (torch.tensor(a, dtype=torch.float32) for a in noise_grid(cfg.noise, Z_GRID_STEP))

    def noise(n: int) -> torch.Tensor:
        return torch.randn(n, 1) if cfg.noise == "gaussian" else torch.rand(n, 1) * 2 - 1

    G, D = mlp(cfg.hidden), mlp(cfg.hidden)
    with torch.no_grad():  # the generator starts as a narrow blob around `centre`
        out = G(z_snap[:, None])[:, 0]
        mean = (out * w_snap).sum()
        std = ((out - mean) ** 2 * w_snap).sum().sqrt()
        G[-1].weight.mul_(START_STD / std)
        G[-1].bias.add_(centre - START_STD / std * mean)
        G[-1].bias.add_(centre - (G(z_snap[:, None])[:, 0] * w_snap).sum())
    opt_g = torch.optim.Adam(G.parameters(), lr=cfg.lr_g, betas=(cfg.beta1, cfg.beta2))
    opt_d = torch.optim.Adam(D.parameters(), lr=cfg.lr_d, betas=(cfg.beta1, cfg.beta2))
    decay = (lambda t: 1.0 - t / cfg.steps) if cfg.lr_decay else (lambda t: 1.0)
    sched_g = torch.optim.lr_scheduler.LambdaLR(opt_g, decay)
    sched_d = torch.optim.lr_scheduler.LambdaLR(opt_d, decay)
    sn_state: dict = {}
    if critic == "weight_clip":
        gan_losses.weight_clip_(D, cfg.clip)
    if critic == "spectral_norm":
        spectral_renormalise_(D, sn_state, iters=20)
    d_loss_name, g_loss_name = LOSS[critic]
    snaps = np.unique(np.linspace(0, cfg.steps, cfg.snapshots).round().astype(int))
    jsd, w1 = [], []
    for t in range(cfg.steps + 1):
        if t in snaps:
            with torch.no_grad():
                p_g = push_forward(G(z_snap[:, None]).T, w_snap, lo, dx, len(x_grid))[0].double().numpy()
            jsd.append(js_divergence(p, p_g, dx))
            w1.append(w1_distance(p, p_g, dx))
        if t == cfg.steps:
            break
        sigma = cfg.noise_sigma * (1 - t / cfg.steps)
        if critic != "perfect":
            for _ in range(cfg.n_critic_of(critic)):
                real = pool[torch.randint(len(pool), (cfg.batch,))][:, None]
                fake = G(noise(cfg.batch)).detach()
                if critic == "instance_noise":
                    real, fake = real + sigma * torch.randn_like(real), fake + sigma * torch.randn_like(fake)
                loss = gan_losses.discriminator_loss(D(real), D(fake), d_loss_name)
                if critic == "gradient_penalty":
                    loss = loss + gan_losses.gradient_penalty(D, real, fake, lam=cfg.gp_lambda)
                opt_d.zero_grad()
                loss.backward()
                opt_d.step()
                if critic == "weight_clip":
                    gan_losses.weight_clip_(D, cfg.clip)
                if critic == "spectral_norm":
                    spectral_renormalise_(D, sn_state, cfg.sn_iters)
        x = G(noise(cfg.batch))
        if critic == "perfect":  # D* = p/(p + p_G) from the exact densities, held fixed for this step
            with torch.no_grad():
                p_g = push_forward(G(z_step[:, None]).T, w_step, lo, dx, len(x_grid))[0].double().numpy()
            d_star = torch.tensor(optimal_discriminator(p, blur(p_g)), dtype=torch.float32)
            pos = ((x[:, 0] - lo) / dx).clamp(0, len(x_grid) - 1.001)
            i0 = pos.floor().long()
            d_x = d_star[i0] + (pos - i0) * (d_star[i0 + 1] - d_star[i0])
            loss_g = torch.log1p(-d_x.clamp(max=1 - 1e-7)).mean()
        else:
            x_in = x + sigma * torch.randn_like(x) if critic == "instance_noise" else x
            loss_g = gan_losses.generator_loss(D(x_in), g_loss_name)
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        sched_g.step()
        if critic != "perfect":
            sched_d.step()
    return {"jsd": np.array(jsd), "w1": np.array(w1)}


def run_baseline(cfg: Gan1DConfig) -> tuple[dict[str, dict], dict[str, float]]:
    """Every critic of cfg, one after the other; results and seconds per critic."""
    results, seconds = {}, {}
    for critic in cfg.critics:
        t0 = time.perf_counter()
        results[critic] = train_one(critic, cfg)
        seconds[critic] = time.perf_counter() - t0
    return results, seconds
