"""The critics of sheet §1.3, one small strategy each: which loss it plays and how it is kept smooth.

A strategy says (a) the critic's and the generator's loss, (b) the Lipschitz device — none, weight clipping,
gradient penalty or spectral normalisation (§1.3.1) — or instance noise, and (c) how its curve is drawn.
The closed-form loss derivatives below are those of core.gan_losses (tests check them against autograd); the
trainer uses them so one batched pass serves every critic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from core.divergences import optimal_discriminator
from core.gan1d.config import CRITIC_LABELS, Gan1DConfig


@dataclass(frozen=True)
class Critic:
    """How one critic plays the game."""

    name: str
    critic_loss: str  # a core.gan_losses loss name ("non_saturating" stands for the BCE discriminator loss)
    generator_loss: str
    constraint: str = "none"  # none | clip | penalty | spectral | noise | exact
    probability: bool = False  # output is a logit: draw D(x) = sigmoid; otherwise draw f(x) min–max rescaled

    @property
    def label(self) -> str:
        return CRITIC_LABELS[self.name]

    @property
    def learned(self) -> bool:
        return self.constraint != "exact"


def perfect(cfg: Gan1DConfig) -> Critic:
    """D* = p/(p + p_G), recomputed exactly from the two densities before every generator step (Figure 1)."""
    return Critic("perfect", "minimax", cfg.perfect_loss, "exact", probability=True)


def standard(cfg: Gan1DConfig) -> Critic:
    """A learned, unconstrained discriminator with the cross-entropy loss (minimax or non-saturating G loss)."""
    return Critic("standard", "non_saturating", cfg.standard_loss, probability=True)


def weight_clip(cfg: Gan1DConfig) -> Critic:
    """WGAN: the Wasserstein critic loss, every weight clipped to [−c, c] after each step."""
    return Critic("weight_clip", "wgan", "wgan", "clip")


def gradient_penalty(cfg: Gan1DConfig) -> Critic:
    """WGAN-GP: the Wasserstein loss plus λ(|f'(x̂)| − 1)² between real and generated samples."""
    return Critic("gradient_penalty", "wgan", "wgan", "penalty")


def spectral_norm(cfg: Gan1DConfig) -> Critic:
    """Every layer divided by its spectral norm after each step: a 1-Lipschitz Wasserstein critic."""
    return Critic("spectral_norm", "wgan", "wgan", "spectral")


def lsgan(cfg: Gan1DConfig) -> Critic:
    """Least squares: D regresses real → 1, fake → 0; the generator pulls D(G(z)) towards 1."""
    return Critic("lsgan", "lsgan", "lsgan")


def instance_noise(cfg: Gan1DConfig) -> Critic:
    """The standard discriminator sees real and generated samples blurred by N(0, σ_t²), σ_t annealed to 0."""
    return Critic("instance_noise", "non_saturating", "non_saturating", "noise", probability=True)


STRATEGIES = {
    "perfect": perfect,
    "standard": standard,
    "weight_clip": weight_clip,
    "gradient_penalty": gradient_penalty,
    "spectral_norm": spectral_norm,
    "lsgan": lsgan,
    "instance_noise": instance_noise,
}


def strategy(name: str, cfg: Gan1DConfig) -> Critic:
    """The strategy called `name` with the settings of `cfg`."""
    return STRATEGIES[name](cfg)


# -- closed-form loss derivatives (per sample; the trainer divides by the batch) -----------------------
def critic_output_grads(
    loss: str, real: torch.Tensor, fake: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """∂(critic loss)/∂out for each real and each generated sample (times the batch size)."""
    if loss in ("non_saturating", "minimax"):
        return -torch.sigmoid(-real), torch.sigmoid(fake)
    if loss == "wgan":
        return torch.full_like(real, -1.0), torch.ones_like(fake)
    if loss == "hinge":
        return -(real < 1).to(real), (fake > -1).to(fake)
    if loss == "lsgan":
        return real - 1.0, fake
    raise ValueError(f"loss: unknown critic loss {loss!r}")


def generator_output_grad(loss: str, fake: torch.Tensor) -> torch.Tensor:
    """∂(generator loss)/∂out for each generated sample (times the batch size)."""
    if loss == "minimax":
        return -torch.sigmoid(fake)
    if loss == "non_saturating":
        return -torch.sigmoid(-fake)
    if loss in ("wgan", "hinge"):
        return torch.full_like(fake, -1.0)
    if loss == "lsgan":
        return fake - 1.0
    raise ValueError(f"loss: unknown generator loss {loss!r}")


# -- the perfect critic on the grid ---------------------------------------------------------------------
def perfect_generator_loss_on_grid(
    p: np.ndarray, p_g: np.ndarray, loss: str
) -> tuple[np.ndarray, np.ndarray]:
    """D*(x) and the generator's per-sample loss ℓ(x) against it on the grid.

    minimax: ℓ = log(1 − D*) (the sheet's saturating loss: flat where D* ≈ 0 on the generated samples);
    non_saturating: ℓ = −log D*. D* is clipped away from 0 and 1 only by the float64 floor.
    """
    d_star = optimal_discriminator(p, p_g)
    tiny = np.finfo(float).tiny
    if loss == "minimax":
        return d_star, np.log1p(-np.minimum(d_star, 1.0 - 1e-16))
    return d_star, -np.log(np.maximum(d_star, tiny))
