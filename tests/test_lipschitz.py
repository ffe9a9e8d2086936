"""Lipschitz critics (sheet §1.3.1, Problem 2): spectral norms, the product bound, clipping, normalisation."""

import numpy as np
import pytest
import torch
from torch import nn

from core import lipschitz as L

MATRICES = [
    np.random.default_rng(s).standard_normal(shape)
    for s, shape in enumerate([(5, 3), (32, 32), (1, 40), (64, 2)])
]


@pytest.mark.parametrize("W", MATRICES, ids=lambda W: f"{W.shape[0]}x{W.shape[1]}")
def test_power_iteration_matches_svd_top_singular_value(W):
    sigma, u, v = L.power_iteration(W, n_iter=500, seed=1)
    exact = np.linalg.svd(W, compute_uv=False)[0]
    assert sigma == pytest.approx(exact, rel=1e-8)
    assert L.spectral_norm_exact(W) == pytest.approx(exact, rel=1e-12)
    np.testing.assert_allclose(W @ v, sigma * u, atol=1e-5 * exact)  # v, u are the top singular pair


def test_power_iteration_estimate_climbs_monotonically_to_sigma():
    W = MATRICES[1]
    trace = L.power_iteration_trace(W, n_iter=60, seed=0)
    exact = L.spectral_norm_exact(W)
    assert np.all(np.diff(trace) >= -1e-12)  # more rounds never hurt ...
    assert np.all(trace <= exact * (1 + 1e-12))  # ... and never overshoot σ(W)
    assert abs(trace[-1] - exact) < abs(trace[0] - exact) / 10
    assert trace[2] == pytest.approx(L.power_iteration(W, n_iter=3, seed=0)[0], rel=1e-12)


def test_power_iteration_is_deterministic_given_the_seed():
    W = MATRICES[1]
    a, b, c = (L.power_iteration(W, 2, seed=s)[0] for s in (4, 4, 5))
    assert a == b and a != c


def test_power_iteration_on_torch_tensors_matches_numpy_and_keeps_the_gradient():
    W = torch.tensor(MATRICES[0], requires_grad=True)
    sigma, u, v = L.power_iteration(W, n_iter=200, seed=0)
    assert isinstance(sigma, torch.Tensor) and sigma.item() == pytest.approx(
        L.spectral_norm_exact(MATRICES[0])
    )
    sigma.backward()  # SN-GAN: ∂σ/∂W = u vᵀ with u, v held constant
    np.testing.assert_allclose(W.grad.numpy(), np.outer(u.numpy(), v.numpy()), atol=1e-12)
    warm = L.power_iteration(W.detach(), n_iter=1, v0=v)[0]  # warm start from the last v: already converged
    assert warm.item() == pytest.approx(sigma.item(), rel=1e-10)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_power_iteration_runs_on_the_tensor_device_and_agrees_with_cpu():
    W = torch.tensor(MATRICES[1])
    cpu = L.power_iteration(W, n_iter=30, seed=2)[0]
    gpu, u, v = L.power_iteration(W.cuda(), n_iter=30, seed=2)
    assert gpu.device.type == "cuda" and u.device.type == "cuda" and v.device.type == "cuda"
    assert gpu.item() == pytest.approx(cpu.item(), rel=1e-10)  # same seeded start vector on every device


CONFIGS = [
    L.CriticConfig(in_dim=2, width=32, layers=3, activation="relu", seed=0),
    L.CriticConfig(in_dim=5, width=16, layers=4, activation="tanh", seed=1),
    L.CriticConfig(in_dim=1, width=8, layers=2, activation="leaky_relu", seed=2),
    L.CriticConfig(in_dim=8, width=64, layers=5, activation="relu", seed=3),
]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c.layers}x{c.width}-{c.activation}")
def test_product_of_layer_norms_bounds_the_measured_gradient_norm(config):
    critic = L.make_critic(config)
    measured = L.max_gradient_norm(critic, n_inputs=512, ascent_steps=10)
    assert 0 < measured <= L.lipschitz_bound(critic) * (1 + 1e-9)
    # the measurement is a true gradient norm: check one autograd gradient against finite differences
    x = torch.zeros(1, config.in_dim, dtype=torch.float64).uniform_(
        -1, 1, generator=torch.Generator().manual_seed(0)
    )
    x.requires_grad_(True)
    (g,) = torch.autograd.grad(critic(x).sum(), x)
    e, h = torch.eye(config.in_dim, dtype=torch.float64), 1e-6
    fd = torch.stack(
        [(critic(x + h * e[i]) - critic(x - h * e[i])) / (2 * h) for i in range(config.in_dim)], -1
    )
    np.testing.assert_allclose(g.detach().numpy(), fd.detach().numpy(), atol=1e-5)


def test_a_single_linear_layer_attains_its_bound():
    critic = L.make_critic(L.CriticConfig(in_dim=6, layers=1))
    assert L.max_gradient_norm(critic, n_inputs=8, ascent_steps=0) == pytest.approx(
        L.lipschitz_bound(critic), rel=1e-12
    )


def test_spectral_normalisation_makes_every_layer_sigma_one_and_the_critic_1_lipschitz():
    critic = L.make_critic(CONFIGS[3])
    assert L.lipschitz_bound(critic) > 10
    normalised = L.spectral_normalize(critic)
    np.testing.assert_allclose(L.layer_spectral_norms(normalised), 1.0, rtol=1e-10)
    assert L.max_gradient_norm(normalised, n_inputs=512) <= 1.0 + 1e-9
    approx = L.spectral_normalize(critic, n_iter=100)  # with power iteration instead of the SVD
    np.testing.assert_allclose(L.layer_spectral_norms(approx), 1.0, rtol=1e-3)
    np.testing.assert_array_equal(
        critic.linears[0].weight.detach(), L.make_critic(CONFIGS[3]).linears[0].weight.detach()
    )


def test_weight_clipping_bounds_every_weight_and_the_worst_case_bound_holds():
    critic = L.make_critic(CONFIGS[0])
    clipped = L.weight_clip(critic, 0.05)
    assert all(p.abs().max().item() <= 0.05 for p in clipped.parameters())
    assert any(p.abs().max().item() > 0.05 for p in critic.parameters())  # the original is untouched
    bound = L.lipschitz_bound(clipped)
    assert L.max_gradient_norm(clipped) <= bound * (1 + 1e-9)
    assert bound <= L.clip_bound_worst_case(critic, 0.05)
    L.weight_clip(critic, 0.05, inplace=True)
    assert L.lipschitz_bound(critic) == pytest.approx(bound)


def test_clipping_shrinks_the_lipschitz_constant_of_the_critic():
    r = L.analyse_critic(L.LipschitzConfig(critic=CONFIGS[0], clip_c=0.05))
    assert np.all(np.diff(r.clip_bounds) > 0) and np.all(
        np.diff(r.clip_worst) > 0
    )  # smaller c, smaller bound
    assert np.all(r.clip_measured <= r.clip_bounds * (1 + 1e-9))
    assert np.all(r.clip_bounds <= r.clip_worst * (1 + 1e-9))
    assert r.measured_clipped < r.measured / 10
    # below the smallest |w| every weight becomes ±c: the bound is then exactly proportional to c^L
    critic = L.make_critic(CONFIGS[0])
    tiny = min(p.detach().abs().min().item() for p in critic.parameters()) / 2
    ratio = L.lipschitz_bound(L.weight_clip(critic, tiny)) / L.lipschitz_bound(
        L.weight_clip(critic, tiny / 10)
    )
    assert ratio == pytest.approx(10.0 ** CONFIGS[0].layers, rel=1e-9)


def test_analyse_critic_reports_power_iteration_and_normalisation_consistently():
    cfg = L.LipschitzConfig(critic=CONFIGS[1], n_iter=4)
    r = L.analyse_critic(cfg)
    critic = L.make_critic(CONFIGS[1])
    np.testing.assert_allclose(r.sigma_exact, L.layer_spectral_norms(critic), rtol=1e-12)
    np.testing.assert_allclose(
        r.sigma_clipped, L.layer_spectral_norms(L.weight_clip(critic, cfg.clip_c)), rtol=1e-10
    )
    np.testing.assert_allclose(r.sigma_sn, 1.0, rtol=1e-10)
    np.testing.assert_allclose(r.sigma_power, r.power_trace[:, 3])
    assert np.all(r.sigma_power <= r.sigma_exact * (1 + 1e-12))
    assert r.measured <= r.bound and r.measured_sn <= 1 + 1e-9 and r.measured_clipped <= r.bound_clipped
    for arr in (r.slice_raw, r.slice_clipped, r.slice_sn, r.clip_measured):
        assert np.all(np.isfinite(arr))
    table = r.layer_table()
    assert table["σ(W) by SVD"] == r.sigma_exact.tolist() and len(table["layer"]) == CONFIGS[1].layers
    again = L.analyse_critic(cfg)
    assert again.measured == r.measured  # seeded


@pytest.mark.parametrize("seed", range(4))
def test_composition_of_lipschitz_functions_is_bounded_by_the_product(seed):
    c = L.composition(width=12, seed=seed)
    assert c.lip_fg <= c.lip_f * c.lip_g * (1 + 1e-12)
    assert c.lip_fg > 0 and c.lip_f > 0 and c.lip_g > 0
    # the measured slope of f∘g is the chain rule: check against finite differences of the plotted curve
    fd = np.abs(np.diff(c.fg) / np.diff(c.x)).max()
    assert fd <= c.lip_fg * (1 + 1e-6)


def test_composition_bound_is_attained_by_linear_maps():
    # f(y) = 3y, g(x) = −2x: Lip(f∘g) = 6 = 3·2 exactly (the bound cannot be improved)
    g, f = nn.Linear(1, 1, dtype=torch.float64), nn.Linear(1, 1, dtype=torch.float64)
    with torch.no_grad():
        g.weight.fill_(-2.0), f.weight.fill_(3.0)
    fg = nn.Sequential(g, f)
    bound = L.lipschitz_bound(fg)
    assert bound == pytest.approx(6.0)
    assert L.max_gradient_norm(fg, n_inputs=4, ascent_steps=0) == pytest.approx(bound)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: L.power_iteration(np.ones(3)), "W"),
        (lambda: L.power_iteration(np.array([[1.0, np.nan]])), "W"),
        (lambda: L.power_iteration(torch.ones(3)), "W"),
        (lambda: L.power_iteration(np.eye(2), n_iter=0), "n_iter"),
        (lambda: L.power_iteration(np.eye(2), seed=-1), "seed"),
        (lambda: L.power_iteration(np.eye(2), v0=np.ones(3)), "v0"),
        (lambda: L.power_iteration_trace(np.eye(2), n_iter=-2), "n_iter"),
        (lambda: L.spectral_norm_exact([[1.0, "a"]]), "W"),
        (lambda: L.CriticConfig(activation="sigmoid"), "activation"),
        (lambda: L.CriticConfig(layers=0), "layers"),
        (lambda: L.CriticConfig(width=2.5), "width"),
        (lambda: L.make_critic("big"), "config"),
        (lambda: L.linear_layers("not a model"), "model"),
        (lambda: L.linear_layers(nn.ReLU()), "model"),
        (lambda: L.weight_clip(L.make_critic(), -0.1), "c"),
        (lambda: L.weight_clip(L.make_critic(), float("nan")), "c"),
        (lambda: L.clip_bound_worst_case(L.make_critic(), 0.0), "c"),
        (lambda: L.max_gradient_norm(L.make_critic(), radius=-1.0), "radius"),
        (lambda: L.max_gradient_norm(L.make_critic(), n_inputs=0), "n_inputs"),
        (lambda: L.LipschitzConfig(clip_c=0.0), "clip_c"),
        (lambda: L.LipschitzConfig(n_iter=0), "n_iter"),
        (lambda: L.LipschitzConfig(critic="relu"), "critic"),
        (lambda: L.analyse_critic({"n_iter": 3}), "config"),
        (lambda: L.composition(radius=-3.0), "radius"),
        (lambda: L.composition(width=0), "width"),
    ],
)
def test_bad_input_raises_value_error_naming_the_parameter(call, name):
    with pytest.raises(ValueError, match=f"^{name}"):
        call()
