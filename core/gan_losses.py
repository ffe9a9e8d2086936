"""GAN losses on critic outputs (sheet §1.1–1.3), as plain torch functions shared by every GAN in the lab.

Conventions: for `non_saturating` and `minimax` the critic outputs a *logit* a(x) and D(x) = sigmoid(a(x));
for `wgan` and `hinge` it outputs the raw critic value f(x); for `lsgan` the raw output is regressed onto
the labels 1 (real) and 0 (fake). Every loss is something to *minimise* (the discriminator's and the
generator's), averaged over the batch.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from core.validate import check_choice, check_positive

LOSSES = ("non_saturating", "minimax", "wgan", "hinge", "lsgan")

LOSS_LABELS = {
    "non_saturating": "Non-saturating (−log D(G(z)))",
    "minimax": "Minimax / saturating (log(1 − D(G(z))))",
    "wgan": "Wasserstein (f(x) − f(G(z)))",
    "hinge": "Hinge",
    "lsgan": "Least squares (LSGAN)",
}


# -- discriminator / critic side ------------------------------------------------------------------------
def bce_discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """−E_p[log D(x)] − E_pG[log(1 − D(G(z)))]: the negated game value V(G, D) the discriminator maximises."""
    # softplus(-a) = -log sigmoid(a) and softplus(a) = -log(1 - sigmoid(a)), stable for large |a|.
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def wgan_critic_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """−(E_p[f(x)] − E_pG[f(G(z))]): the critic maximises the Kantorovich–Rubinstein estimate of W1."""
    return fake.mean() - real.mean()


def hinge_critic_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """E_p[max(0, 1 − f(x))] + E_pG[max(0, 1 + f(G(z)))] (the SN-GAN critic loss)."""
    return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()


def lsgan_discriminator_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """½E_p[(D(x) − 1)²] + ½E_pG[D(G(z))²]: least squares onto the labels 1 (real) and 0 (fake)."""
    return 0.5 * ((real - 1.0) ** 2).mean() + 0.5 * (fake**2).mean()


# -- generator side -------------------------------------------------------------------------------------
def minimax_generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """E_pG[log(1 − D(G(z)))]: the original (saturating) minimax loss; flat where D(G(z)) ≈ 0."""
    return -F.softplus(fake_logits).mean()


def non_saturating_generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """−E_pG[log D(G(z))]: the same fixed point, but a strong gradient when D rejects the samples."""
    return F.softplus(-fake_logits).mean()


def wgan_generator_loss(fake: torch.Tensor) -> torch.Tensor:
    """−E_pG[f(G(z))] (used by both the WGAN and the hinge critic)."""
    return -fake.mean()


def lsgan_generator_loss(fake: torch.Tensor) -> torch.Tensor:
    """½E_pG[(D(G(z)) − 1)²]."""
    return 0.5 * ((fake - 1.0) ** 2).mean()


_D_LOSS = {
    "non_saturating": bce_discriminator_loss,
    "minimax": bce_discriminator_loss,
    "wgan": wgan_critic_loss,
    "hinge": hinge_critic_loss,
    "lsgan": lsgan_discriminator_loss,
}
_G_LOSS = {
    "non_saturating": non_saturating_generator_loss,
    "minimax": minimax_generator_loss,
    "wgan": wgan_generator_loss,
    "hinge": wgan_generator_loss,
    "lsgan": lsgan_generator_loss,
}


def discriminator_loss(
    real_out: torch.Tensor, fake_out: torch.Tensor, loss: str = "non_saturating"
) -> torch.Tensor:
    """The discriminator's / critic's loss for one of LOSSES, on its outputs for real and generated samples."""
    check_choice("loss", loss, LOSSES)
    return _D_LOSS[loss](real_out, fake_out)


def generator_loss(fake_out: torch.Tensor, loss: str = "non_saturating") -> torch.Tensor:
    """The generator's loss for one of LOSSES, on the critic's outputs for generated samples."""
    check_choice("loss", loss, LOSSES)
    return _G_LOSS[loss](fake_out)


# -- Lipschitz constraints (sheet §1.3.1) ---------------------------------------------------------------
def gradient_penalty(
    critic: Callable[[torch.Tensor], torch.Tensor],
    real: torch.Tensor,
    fake: torch.Tensor,
    lam: float = 10.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """WGAN-GP: λ·E[(‖∇_x f(x̂)‖₂ − 1)²] at x̂ = εx + (1 − ε)G(z), ε ~ U[0, 1] per sample.

    The graph is kept (create_graph) so the penalty can be back-propagated into the critic's weights.
    """
    lam = check_positive("lam", lam, allow_zero=True)
    if real.shape != fake.shape:
        raise ValueError(f"fake: shape {tuple(fake.shape)} does not match real shape {tuple(real.shape)}")
    eps_shape = (real.shape[0],) + (1,) * (real.dim() - 1)
    eps = torch.rand(eps_shape, generator=generator, device=real.device, dtype=real.dtype)
    x_hat = (eps * real.detach() + (1.0 - eps) * fake.detach()).requires_grad_(True)
    out = critic(x_hat)
    (grad,) = torch.autograd.grad(out.sum(), x_hat, create_graph=True)
    norms = grad.reshape(grad.shape[0], -1).norm(2, dim=1)
    return lam * ((norms - 1.0) ** 2).mean()


@torch.no_grad()
def weight_clip_(module: torch.nn.Module, c: float = 0.01) -> torch.nn.Module:
    """WGAN weight clipping, in place: every parameter entry clamped to [−c, c] (a crude K-Lipschitz bound)."""
    c = check_positive("c", c)
    for param in module.parameters():
        param.clamp_(-c, c)
    return module
