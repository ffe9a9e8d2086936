"""GAN losses (sheet §1.1–1.3): the formulas, their gradients, and the Lipschitz constraints."""

import math

import pytest
import torch

from core import gan_losses as L


def test_discriminator_loss_is_minus_the_game_value():
    real, fake = torch.tensor([0.3, -1.2, 2.0]), torch.tensor([-0.5, 0.7])
    d_real, d_fake = torch.sigmoid(real), torch.sigmoid(fake)
    game_value = torch.log(d_real).mean() + torch.log(1 - d_fake).mean()
    for loss in ("non_saturating", "minimax"):
        assert L.discriminator_loss(real, fake, loss).item() == pytest.approx(-game_value.item(), rel=1e-6)


def test_bce_loss_is_stable_for_confident_discriminators():
    out = L.discriminator_loss(torch.tensor([200.0]), torch.tensor([-200.0]))
    assert torch.isfinite(out) and out.item() == pytest.approx(0.0, abs=1e-6)


def test_minimax_generator_loss_saturates_where_non_saturating_does_not():
    # D rejects the samples (logit -8, D ≈ 3e-4): the saturating loss has almost no slope, the other ~1.
    a = torch.tensor([-8.0], requires_grad=True)
    (g_mm,) = torch.autograd.grad(L.generator_loss(a, "minimax"), a)
    b = torch.tensor([-8.0], requires_grad=True)
    (g_ns,) = torch.autograd.grad(L.generator_loss(b, "non_saturating"), b)
    assert abs(g_mm.item()) < 1e-3
    assert abs(g_ns.item()) > 0.99
    assert L.generator_loss(torch.tensor([0.0]), "minimax").item() == pytest.approx(-math.log(2.0))


def test_wgan_hinge_lsgan_formulas():
    real, fake = torch.tensor([2.0, 0.5]), torch.tensor([-0.5, 1.5])
    assert L.discriminator_loss(real, fake, "wgan").item() == pytest.approx(0.5 - 1.25)
    assert L.discriminator_loss(real, fake, "hinge").item() == pytest.approx((0 + 0.5) / 2 + (0.5 + 2.5) / 2)
    assert L.discriminator_loss(real, fake, "lsgan").item() == pytest.approx(
        0.5 * (1 + 0.25) / 2 + 0.5 * (0.25 + 2.25) / 2
    )
    assert L.generator_loss(fake, "wgan").item() == pytest.approx(-0.5)
    assert L.generator_loss(fake, "hinge").item() == pytest.approx(-0.5)
    assert L.generator_loss(fake, "lsgan").item() == pytest.approx(0.5 * (2.25 + 0.25) / 2)


def test_unknown_loss_names_the_parameter():
    with pytest.raises(ValueError, match="^loss"):
        L.discriminator_loss(torch.zeros(2), torch.zeros(2), "bogus")
    with pytest.raises(ValueError, match="^loss"):
        L.generator_loss(torch.zeros(2), "bogus")


def test_gradient_penalty_is_zero_for_a_linear_critic_of_slope_one():
    critic = torch.nn.Linear(1, 1)
    with torch.no_grad():
        critic.weight.fill_(1.0)
        critic.bias.fill_(0.3)
    real, fake = torch.randn(64, 1), torch.randn(64, 1) + 3
    gp = L.gradient_penalty(critic, real, fake, lam=10.0, generator=torch.Generator().manual_seed(0))
    assert gp.item() == pytest.approx(0.0, abs=1e-10)


def test_gradient_penalty_of_a_steep_linear_critic_and_its_gradient():
    # f(x) = w·x in 2D: ‖∇f‖ = |w| everywhere, so GP = λ(|w| − 1)² and dGP/dw = 2λ(|w| − 1).
    critic = torch.nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[3.0, 4.0]]))  # ‖w‖ = 5
    real, fake = torch.randn(32, 2), torch.randn(32, 2)
    gp = L.gradient_penalty(critic, real, fake, lam=2.0, generator=torch.Generator().manual_seed(1))
    assert gp.item() == pytest.approx(2.0 * 16.0, rel=1e-6)
    gp.backward()  # the graph was kept: the penalty trains the critic
    expected = 2.0 * 2.0 * (5.0 - 1.0) * torch.tensor([[3.0, 4.0]]) / 5.0
    assert torch.allclose(critic.weight.grad, expected, rtol=1e-5)


def test_gradient_penalty_checks_its_inputs():
    critic = torch.nn.Linear(1, 1)
    with pytest.raises(ValueError, match="^lam"):
        L.gradient_penalty(critic, torch.zeros(4, 1), torch.zeros(4, 1), lam=-1.0)
    with pytest.raises(ValueError, match="^fake"):
        L.gradient_penalty(critic, torch.zeros(4, 1), torch.zeros(3, 1))


def test_weight_clip_puts_every_parameter_in_the_box():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(1, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(10)
    L.weight_clip_(net, 0.05)
    for p in net.parameters():
        assert p.abs().max().item() <= 0.05 + 1e-7
    assert any((p.abs() > 0.05 - 1e-7).any() for p in net.parameters())
    with pytest.raises(ValueError, match="^c"):
        L.weight_clip_(net, 0.0)
