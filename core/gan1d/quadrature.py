"""The generator's exact density p_G on the x grid: push the noise density through G by quadrature.

In 1D the generator is a map z ↦ G(z), so p_G needs no histogram of samples: split the noise axis into a
fine grid z_i with masses w_i = p_z(z_i)·Δz (Σ w_i = 1), and deposit each mass at x_i = G(z_i) onto the two
neighbouring x-grid nodes with linear weights ("cloud in cell"). The result integrates to exactly 1, is
smooth wherever G stretches the z grid by less than one x cell, and converges to p_z(G⁻¹(x))/|G'| as the
z grid is refined. Mass that G sends beyond the plotted range is piled on the end nodes (and reported).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from core.validate import check_choice, check_int

Z_RANGE_GAUSSIAN = 6.0  # ±6σ: the Gaussian tail beyond holds < 1e-8 of the mass


def noise_grid(noise: str, n: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """Midpoints z_i of a fine noise grid and their masses w_i (summing to 1)."""
    check_choice("noise", noise, ("gaussian", "uniform"))
    n = check_int("n", n, minimum=8)
    lo, hi = (-Z_RANGE_GAUSSIAN, Z_RANGE_GAUSSIAN) if noise == "gaussian" else (-1.0, 1.0)
    dz = (hi - lo) / n
    z = lo + dz * (np.arange(n) + 0.5)
    w = np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi) * dz if noise == "gaussian" else np.full(n, dz / 2.0)
    return z, w / w.sum()


def push_forward(
    x_of_z: torch.Tensor, weights: torch.Tensor, lo: float, dx: float, n_grid: int
) -> torch.Tensor:
    """Densities p_G on the grid lo + dx·j (j < n_grid) of K generators, from x_of_z (K, Nz) = G_k(z_i).

    Returns (K, n_grid) densities with Σ p_G·dx = 1 exactly.
    """
    pos = ((x_of_z - lo) / dx).clamp(0.0, n_grid - 1.0)
    left = pos.floor().clamp_max(n_grid - 2)
    frac = pos - left
    idx = left.long()
    w = weights.to(x_of_z).expand_as(x_of_z)
    mass = torch.zeros(x_of_z.shape[0], n_grid, dtype=x_of_z.dtype, device=x_of_z.device)
    mass.scatter_add_(1, idx, w * (1.0 - frac))
    mass.scatter_add_(1, idx + 1, w * frac)
    return mass / dx


def off_grid_mass(x_of_z: torch.Tensor, weights: torch.Tensor, lo: float, hi: float) -> torch.Tensor:
    """Fraction of each generator's mass that falls outside [lo, hi] (K,)."""
    outside = (x_of_z < lo) | (x_of_z > hi)
    return (outside.to(x_of_z) * weights.to(x_of_z)).sum(1)


def blur(p_g: np.ndarray, cells: float = 2.0, reach: int = 24) -> np.ndarray:
    """p_G convolved with a Gaussian of `cells` grid cells (mass kept): tails that the grid can resolve.

    Where p_G falls to exactly 0 between two grid nodes, D* = p/(p + p_G) jumps to 1 and its finite
    difference would invent a gradient at the edge of the generator's support; the blurred density keeps
    D* ≈ 0 across the support, as it is for the exact, smooth p_G.
    """
    k = np.arange(-reach, reach + 1)
    kernel = np.exp(-0.5 * (k / cells) ** 2)
    out = np.convolve(p_g, kernel / kernel.sum(), mode="same")
    total = out.sum()
    return out * (p_g.sum() / total) if total > 0 else out
