"""Lipschitz critics (sheet §1.3.1, Problem 2): spectral norms, the product bound, clipping, spectral normalisation.

An MLP critic f = W_L ∘ σ ∘ … ∘ σ ∘ W_1 with 1-Lipschitz activations σ is Lip(f) ≤ ∏ σ(W_i) (composition,
Problem 2), where σ(W) is the largest singular value. We compute σ(W) exactly (SVD) and by power iteration,
measure the largest gradient norm over inputs (a lower bound on Lip(f)), and compare the two for the raw critic,
the weight-clipped critic (WGAN) and the spectrally normalised critic (SN-GAN).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from core.validate import check_choice, check_finite_array, check_int, check_positive, check_range

ACTIVATIONS = ("relu", "leaky_relu", "tanh")  # all 1-Lipschitz: slopes in [0, 1]
_ACT = {
    "relu": torch.relu,
    "leaky_relu": lambda h: torch.nn.functional.leaky_relu(h, 0.2),
    "tanh": torch.tanh,
}
_EPS = 1e-12  # guards 0/0 for an all-zero W; never biases a non-degenerate estimate


# -- spectral norm of one layer ------------------------------------------------------------------------------
def power_iteration(W, n_iter: int = 20, seed: int = 0, v0=None):
    """σ(W) ≈ uᵀWv after n_iter rounds of u ← Wv/‖Wv‖, v ← Wᵀu/‖Wᵀu‖ from a seeded random v.

    W is a 2D numpy array (returns (float σ, u, v) as numpy) or a 2D torch tensor (returns (σ, u, v) as tensors on
    W's device; σ = uᵀWv keeps W's autograd graph while u and v are constants, as in SN-GAN). v0 warm-starts v
    (e.g. the v of the previous training step). Deterministic given the seed.
    """
    n_iter = check_int("n_iter", n_iter, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    if isinstance(W, torch.Tensor):
        if W.ndim != 2:
            raise ValueError(f"W: expected a 2-D matrix, got shape {tuple(W.shape)}")
        if not torch.isfinite(W).all():
            raise ValueError("W: contains NaN or infinite values")
        with torch.no_grad():
            if v0 is None:
                gen = torch.Generator().manual_seed(seed)
                v = torch.randn(W.shape[1], generator=gen, dtype=torch.float64).to(W.device, W.dtype)
            else:
                v = torch.as_tensor(v0, dtype=W.dtype, device=W.device).reshape(-1)
                if v.numel() != W.shape[1]:
                    raise ValueError(f"v0: expected {W.shape[1]} entries, got {v.numel()}")
            v = v / v.norm().clamp_min(_EPS)
            Wd = W.detach()
            for _ in range(n_iter):
                u = Wd @ v
                u = u / u.norm().clamp_min(_EPS)
                v = Wd.T @ u
                v = v / v.norm().clamp_min(_EPS)
        return u @ (W @ v), u, v
    W = check_finite_array("W", W, ndim=2)
    if v0 is None:
        v = np.random.default_rng(seed).standard_normal(W.shape[1])
    else:
        v = check_finite_array("v0", v0).reshape(-1)
        if v.size != W.shape[1]:
            raise ValueError(f"v0: expected {W.shape[1]} entries, got {v.size}")
    v = v / max(np.linalg.norm(v), _EPS)
    for _ in range(n_iter):
        u = W @ v
        u = u / max(np.linalg.norm(u), _EPS)
        v = W.T @ u
        v = v / max(np.linalg.norm(v), _EPS)
    return float(u @ W @ v), u, v


def power_iteration_trace(W, n_iter: int = 50, seed: int = 0) -> np.ndarray:
    """σ_k = u_kᵀWv_k after k = 1 … n_iter rounds (numpy): how fast the estimate reaches σ(W)."""
    n_iter = check_int("n_iter", n_iter, minimum=1)
    W = check_finite_array("W", _as_numpy(W), ndim=2)
    v = np.random.default_rng(check_int("seed", seed, minimum=0)).standard_normal(W.shape[1])
    v = v / max(np.linalg.norm(v), _EPS)
    out = np.empty(n_iter)
    for k in range(n_iter):
        u = W @ v
        u = u / max(np.linalg.norm(u), _EPS)
        v = W.T @ u
        v = v / max(np.linalg.norm(v), _EPS)
        out[k] = u @ W @ v
    return out


def spectral_norm_exact(W) -> float:
    """σ(W) = sup_{‖x‖=1} ‖Wx‖₂: the largest singular value, from the SVD."""
    W = check_finite_array("W", _as_numpy(W), ndim=2)
    return float(np.linalg.svd(W, compute_uv=False)[0]) if W.size else 0.0


def _as_numpy(W) -> np.ndarray:
    if isinstance(W, torch.Tensor):
        return W.detach().cpu().double().numpy()
    return W


# -- the critic ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CriticConfig:
    """A random MLP critic R^in_dim → R: `layers` linear maps of width `width`, 1-Lipschitz activations."""

    in_dim: int = 2
    width: int = 32
    layers: int = 3
    activation: str = "relu"
    seed: int = 0

    def __post_init__(self) -> None:
        check_int("in_dim", self.in_dim, minimum=1, maximum=1024)
        check_int("width", self.width, minimum=1, maximum=1024)
        check_int("layers", self.layers, minimum=1, maximum=16)
        check_choice("activation", self.activation, ACTIVATIONS)
        check_int("seed", self.seed, minimum=0)


class Critic(nn.Module):
    """f(x) = W_L σ(… σ(W_1 x + b_1) …) + b_L, in float64 so measured and bound compare exactly."""

    def __init__(self, config: CriticConfig) -> None:
        super().__init__()
        self.config = config
        dims = [config.in_dim] + [config.width] * (config.layers - 1) + [1]
        self.linears = nn.ModuleList(
            nn.Linear(a, b, dtype=torch.float64) for a, b in zip(dims[:-1], dims[1:], strict=True)
        )
        gen = torch.Generator().manual_seed(config.seed)
        with torch.no_grad():
            for lin in self.linears:  # He initialisation: a typical untrained critic
                lin.weight.copy_(
                    torch.randn(lin.weight.shape, generator=gen, dtype=torch.float64)
                    * math.sqrt(2.0 / lin.in_features)
                )
                lin.bias.copy_(0.5 * torch.randn(lin.bias.shape, generator=gen, dtype=torch.float64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        act = _ACT[self.config.activation]
        h = x
        for i, lin in enumerate(self.linears):
            h = lin(h)
            if i < len(self.linears) - 1:
                h = act(h)
        return h.squeeze(-1)


def make_critic(config: CriticConfig = CriticConfig()) -> Critic:
    """A seeded random MLP critic."""
    if not isinstance(config, CriticConfig):
        raise ValueError(f"config: expected a CriticConfig, got {type(config).__name__}")
    return Critic(config)


def linear_layers(model: nn.Module) -> list[nn.Linear]:
    """The model's linear maps in order (the W_i of the composition)."""
    if not isinstance(model, nn.Module):
        raise ValueError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
    layers = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not layers:
        raise ValueError("model: has no nn.Linear layers")
    return layers


def layer_spectral_norms(model: nn.Module) -> np.ndarray:
    """σ(W_i) of every linear layer, exact (SVD)."""
    return np.array([spectral_norm_exact(lin.weight) for lin in linear_layers(model)])


def lipschitz_bound(model: nn.Module) -> float:
    """∏ σ(W_i): Problem 2 applied layer by layer (1-Lipschitz activations, biases do not matter)."""
    return float(np.prod(layer_spectral_norms(model)))


def weight_clip(model: nn.Module, c: float, inplace: bool = False) -> nn.Module:
    """WGAN's weight clipping: every parameter clamped to [−c, c] (a copy unless inplace)."""
    c = check_positive("c", c)
    out = model if inplace else copy.deepcopy(model)
    linear_layers(out)
    with torch.no_grad():
        for param in out.parameters():
            param.clamp_(-c, c)
    return out


def clip_bound_worst_case(model: nn.Module, c: float) -> float:
    """∏ c·√(m_i n_i): a bound valid for ANY weights in [−c, c], since σ(W) ≤ ‖W‖_F ≤ c·√(mn)."""
    c = check_positive("c", c)
    return float(np.prod([c * math.sqrt(lin.in_features * lin.out_features) for lin in linear_layers(model)]))


def spectral_normalize(model: nn.Module, n_iter: int | None = None, seed: int = 0) -> nn.Module:
    """SN-GAN: a copy with every W_i ← W_i / σ(W_i), so each layer (and the whole critic) is 1-Lipschitz.

    σ from the SVD, or from n_iter rounds of power iteration (then σ(W_i/σ̂) is only ≈ 1).
    """
    out = copy.deepcopy(model)
    with torch.no_grad():
        for i, lin in enumerate(linear_layers(out)):
            if n_iter is None:
                sigma = spectral_norm_exact(lin.weight)
            else:
                sigma = float(power_iteration(lin.weight.detach(), n_iter, seed + i)[0])
            if sigma > 0:
                lin.weight.div_(sigma)
    return out


# -- measuring the Lipschitz constant ------------------------------------------------------------------------
def _params(models: list[nn.Module]) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Stack the layers of several same-shaped models: one batched forward pass evaluates them all."""
    per_model = [linear_layers(m) for m in models]
    return [
        (
            torch.stack([layers[i].weight.detach().double() for layers in per_model]),
            torch.stack([layers[i].bias.detach().double() for layers in per_model]),
        )
        for i in range(len(per_model[0]))
    ]


def _forward(params, activation: str, x: torch.Tensor) -> torch.Tensor:
    """x: [B, N, in] through B stacked MLPs -> [B, N]."""
    act = _ACT[activation]
    h = x
    for i, (W, b) in enumerate(params):
        h = torch.baddbmm(b.unsqueeze(1), h, W.transpose(1, 2))
        if i < len(params) - 1:
            h = act(h)
    return h.squeeze(-1)


def _grad_norms(params, activation: str, x: torch.Tensor) -> torch.Tensor:
    x = x.detach().requires_grad_(True)
    (g,) = torch.autograd.grad(_forward(params, activation, x).sum(), x)
    return g.norm(dim=-1)


def _max_grad_norms(
    grad_norms: Callable[[torch.Tensor], torch.Tensor],
    n_models: int,
    in_dim: int,
    n_inputs: int,
    radius: float,
    seed: int,
    ascent_steps: int,
    n_keep: int = 16,
) -> np.ndarray:
    """max ‖∇_x f(x)‖ per model: seeded inputs in [−r, r]^d, then a local random-search ascent.

    grad_norms maps inputs [models, N, d] to gradient norms [models, N]. ReLU critics are piecewise linear, so
    ∇‖∇f‖ is 0 almost everywhere: we climb by keeping random nearby points whose gradient norm is larger.
    Any value found is a lower bound on Lip(f).
    """
    gen = torch.Generator().manual_seed(seed)
    x = (torch.rand(n_models, n_inputs, in_dim, generator=gen, dtype=torch.float64) * 2 - 1) * radius
    with torch.enable_grad():
        norms = grad_norms(x)
        keep = min(n_keep, n_inputs)
        best, idx = norms.topk(keep, dim=1)
        best_x = torch.gather(x, 1, idx.unsqueeze(-1).expand(-1, -1, in_dim))
        step = 0.25 * radius
        for _ in range(ascent_steps):
            trial = best_x + step * torch.randn(best_x.shape, generator=gen, dtype=torch.float64)
            trial_norms = grad_norms(trial)
            better = trial_norms > best
            best = torch.where(better, trial_norms, best)
            best_x = torch.where(better.unsqueeze(-1), trial, best_x)
            step *= 0.8
    return best.max(dim=1).values.numpy()


def max_gradient_norm(
    model: nn.Module, n_inputs: int = 1024, radius: float = 3.0, seed: int = 0, ascent_steps: int = 20
) -> float:
    """The largest ‖∇_x f(x)‖₂ found over inputs in [−radius, radius]^d: a measured lower bound on Lip(f).

    Works for any scalar-output module whose first nn.Linear reads the input (on the module's own device).
    """
    n_inputs = check_int("n_inputs", n_inputs, minimum=1, maximum=1_000_000)
    radius = check_positive("radius", radius)
    ascent_steps = check_int("ascent_steps", ascent_steps, minimum=0)
    seed = check_int("seed", seed, minimum=0)
    first = linear_layers(model)[0]
    dtype, device = first.weight.dtype, first.weight.device

    def grad_norms(x: torch.Tensor) -> torch.Tensor:
        inputs = x[0].to(device=device, dtype=dtype).detach().requires_grad_(True)
        (g,) = torch.autograd.grad(model(inputs).sum(), inputs)
        return g.double().norm(dim=-1).cpu().unsqueeze(0)

    return float(_max_grad_norms(grad_norms, 1, first.in_features, n_inputs, radius, seed, ascent_steps)[0])


# -- the page's one call -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LipschitzConfig:
    """The page's settings: the critic, power-iteration steps, the clipping level c, the measuring budget."""

    critic: CriticConfig = CriticConfig()
    n_iter: int = 3
    clip_c: float = 0.1
    trace_iters: int = 40
    n_inputs: int = 256
    radius: float = 3.0
    ascent_steps: int = 8
    n_clip_levels: int = 9

    def __post_init__(self) -> None:
        if not isinstance(self.critic, CriticConfig):
            raise ValueError(f"critic: expected a CriticConfig, got {type(self.critic).__name__}")
        check_int("n_iter", self.n_iter, minimum=1, maximum=1000)
        check_range("clip_c", check_positive("clip_c", self.clip_c), 1e-6, 1e3)
        check_int("trace_iters", self.trace_iters, minimum=1, maximum=1000)
        check_int("n_inputs", self.n_inputs, minimum=1, maximum=100_000)
        check_positive("radius", self.radius)
        check_int("ascent_steps", self.ascent_steps, minimum=0, maximum=1000)
        check_int("n_clip_levels", self.n_clip_levels, minimum=2, maximum=50)


@dataclass
class LipschitzReport:
    """Per-layer norms and whole-critic bounds vs measurements for the raw, clipped and normalised critic."""

    shapes: list[tuple[int, int]]
    sigma_exact: np.ndarray
    sigma_power: np.ndarray
    power_trace: np.ndarray  # [layers, trace_iters]: σ after k rounds
    sigma_clipped: np.ndarray
    sigma_sn: np.ndarray
    bound: float
    measured: float
    bound_clipped: float
    bound_clipped_worst: float
    measured_clipped: float
    bound_sn: float
    measured_sn: float
    clip_levels: np.ndarray
    clip_bounds: np.ndarray
    clip_worst: np.ndarray
    clip_measured: np.ndarray
    slice_t: np.ndarray  # f along x = t·u, u a fixed random unit direction
    slice_raw: np.ndarray
    slice_clipped: np.ndarray
    slice_sn: np.ndarray
    n_iter: int
    clip_c: float

    def layer_table(self) -> dict[str, list]:
        """Per-layer numbers as columns (for a table next to the charts)."""
        rel = np.abs(self.sigma_power - self.sigma_exact) / np.maximum(self.sigma_exact, 1e-300)
        return {
            "layer": [f"W{i + 1}" for i in range(len(self.shapes))],
            "shape (out × in)": [f"{m} × {n}" for m, n in self.shapes],
            "σ(W) by SVD": self.sigma_exact.tolist(),
            f"σ̂ after {self.n_iter} power rounds": self.sigma_power.tolist(),
            "relative error": rel.tolist(),
            f"σ after clipping to ±{self.clip_c:g}": self.sigma_clipped.tolist(),
            "σ after spectral normalisation": self.sigma_sn.tolist(),
        }


def analyse_critic(config: LipschitzConfig = LipschitzConfig()) -> LipschitzReport:
    """Build the critic, its clipped and spectrally normalised versions, and compare bounds with measurements."""
    if not isinstance(config, LipschitzConfig):
        raise ValueError(f"config: expected a LipschitzConfig, got {type(config).__name__}")
    cc = config.critic
    raw = make_critic(cc)
    params = _params([raw])  # [(W [1, out, in], b [1, out])] per layer
    weights = [W[0].numpy() for W, _ in params]
    sigma_exact = np.array([spectral_norm_exact(W) for W in weights])
    traces = np.stack(
        [
            power_iteration_trace(W, max(config.trace_iters, config.n_iter), cc.seed + i)
            for i, W in enumerate(weights)
        ]
    )
    sigma_power = traces[:, config.n_iter - 1]

    # Clipping levels from "every weight is ±c" up to "hardly clips", with the chosen c among them.
    top = max(float(max(max(W.abs().max(), b.abs().max()) for W, b in params)), config.clip_c)
    levels = np.geomspace(min(config.clip_c, top) / 100, top, config.n_clip_levels)
    cs = torch.as_tensor(np.concatenate([[config.clip_c], levels]))[:, None, None]
    sn_scale = torch.as_tensor(sigma_exact)

    # Every network as one stack: [raw, clipped at c, spectrally normalised, clipped at each sweep level].
    # Clipping (WGAN) clamps weights and biases; spectral normalisation divides each W_i by σ(W_i).
    stacked = []
    for i, (W, b) in enumerate(params):
        Ws = torch.cat([W, W.clamp(-cs, cs)[:1], W / sn_scale[i], W.clamp(-cs, cs)[1:]])
        bs = torch.cat([b, b.clamp(-cs[:, :, 0], cs[:, :, 0])[:1], b, b.clamp(-cs[:, :, 0], cs[:, :, 0])[1:]])
        stacked.append((Ws, bs))
    sigmas = torch.stack(
        [torch.linalg.matrix_norm(Ws, ord=2) for Ws, _ in stacked], dim=1
    ).numpy()  # [nets, L]
    measured = _max_grad_norms(
        lambda x: _grad_norms(stacked, cc.activation, x),
        len(stacked[0][0]),
        cc.in_dim,
        config.n_inputs,
        config.radius,
        cc.seed,
        config.ascent_steps,
    )
    t = np.linspace(-config.radius, config.radius, 301)
    u = np.random.default_rng(cc.seed + 7).standard_normal(cc.in_dim)
    u /= np.linalg.norm(u)
    xs = torch.as_tensor(t[:, None] * u[None, :]).unsqueeze(0).expand(3, -1, -1)
    with torch.no_grad():
        slices = _forward([(W[:3], b[:3]) for W, b in stacked], cc.activation, xs).numpy()

    fro = np.array([math.sqrt(W.shape[0] * W.shape[1]) for W in weights])
    return LipschitzReport(
        shapes=[tuple(W.shape) for W in weights],
        sigma_exact=sigma_exact,
        sigma_power=sigma_power,
        power_trace=traces[:, : config.trace_iters],
        sigma_clipped=sigmas[1],
        sigma_sn=sigmas[2],
        bound=float(np.prod(sigma_exact)),
        measured=float(measured[0]),
        bound_clipped=float(np.prod(sigmas[1])),
        bound_clipped_worst=float(np.prod(config.clip_c * fro)),
        measured_clipped=float(measured[1]),
        bound_sn=float(np.prod(sigmas[2])),
        measured_sn=float(measured[2]),
        clip_levels=levels,
        clip_bounds=np.prod(sigmas[3:], axis=1),
        clip_worst=np.array([np.prod(c * fro) for c in levels]),
        clip_measured=measured[3:],
        slice_t=t,
        slice_raw=slices[0],
        slice_clipped=slices[1],
        slice_sn=slices[2],
        n_iter=config.n_iter,
        clip_c=float(config.clip_c),
    )


# -- Problem 2: composition ----------------------------------------------------------------------------------
@dataclass
class CompositionResult:
    """Two random 1D critics g and f: measured Lip(f ∘ g) against the product Lip(f)·Lip(g)."""

    x: np.ndarray
    g: np.ndarray
    fg: np.ndarray
    y: np.ndarray
    f: np.ndarray
    lip_g: float
    lip_f: float
    lip_fg: float

    @property
    def product(self) -> float:
        return self.lip_f * self.lip_g


def _value_and_slope(model: nn.Module, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    xt = torch.as_tensor(x, dtype=torch.float64).reshape(-1, 1).requires_grad_(True)
    out = model(xt)
    (grad,) = torch.autograd.grad(out.sum(), xt)
    return out.detach().numpy(), grad.squeeze(-1).numpy()


def composition(
    width: int = 16, layers: int = 3, seed: int = 0, radius: float = 3.0, n_points: int = 2001
) -> CompositionResult:
    """Problem 2 numerically: Lip(f ∘ g) ≤ Lip(f)·Lip(g), slopes measured exactly by autograd on dense grids.

    Lip(g) is measured on [−radius, radius] and Lip(f) on g's image (which also holds every g(x)), so the
    inequality is exactly the sheet's chain |f(g(x₁)) − f(g(x₂))| ≤ L₁·|g(x₁) − g(x₂)| ≤ L₁·L₂·|x₁ − x₂|.
    """
    radius = check_positive("radius", radius)
    n_points = check_int("n_points", n_points, minimum=16, maximum=1_000_000)
    g_net = make_critic(CriticConfig(in_dim=1, width=width, layers=layers, seed=seed))
    f_net = make_critic(CriticConfig(in_dim=1, width=width, layers=layers, seed=seed + 1))
    x = np.linspace(-radius, radius, n_points)
    gx, dg = _value_and_slope(g_net, x)
    lo, hi = float(gx.min()), float(gx.max())
    pad = 0.05 * max(hi - lo, 1e-6)
    y = np.linspace(lo - pad, hi + pad, n_points)
    fy, df = _value_and_slope(f_net, np.concatenate([y, gx]))
    fg, dfg = _value_and_slope(nn.Sequential(g_net, nn.Unflatten(-1, (-1, 1)), f_net), x)
    return CompositionResult(
        x=x,
        g=gx,
        fg=fg.reshape(-1),
        y=y,
        f=fy[:n_points],
        lip_g=float(np.abs(dg).max()),
        lip_f=float(np.abs(df).max()),
        lip_fg=float(np.abs(dfg).max()),
    )
