"""K small 1D MLPs (1 → H → H → 1) trained side by side as one stack, with hand-written passes.

Every critic of a comparison (and every generator) has the same shape, so their weights are stacked along a
leading axis K and one `torch.bmm` serves all of them. The activation is the leaky ReLU (1-Lipschitz, as
§1.3.1 needs), so the backward pass is a short closed form (slope 1 or α), and so is the gradient-penalty
gradient: ∇_x f is a product of weights and constant slopes, whose derivative needs no second autograd pass.
All parameters of one stack live in one flat (K, P) tensor so Adam, clipping and checks are a few big ops.

Layout of a parameter row: [W1 (H), b1 (H), W2 (H·H, row = output unit), b2 (H), w3 (H), b3 (1)].
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

LEAKY_SLOPE = 0.2  # activation: leaky ReLU (1-Lipschitz, piecewise linear, no dead units)


def n_params(hidden: int) -> int:
    return hidden * hidden + 4 * hidden + 1


@dataclass
class Layers:
    """Views into a (K, P) parameter (or gradient) stack."""

    w1: torch.Tensor  # (K, H)
    b1: torch.Tensor  # (K, H)
    w2: torch.Tensor  # (K, H, H)
    b2: torch.Tensor  # (K, H)
    w3: torch.Tensor  # (K, H)
    b3: torch.Tensor  # (K, 1)


_LAYERS_CACHE: dict[tuple, tuple[torch.Tensor, Layers]] = {}
_LAYERS_CACHE_SIZE = 256


def layers(flat: torch.Tensor, hidden: int) -> Layers:
    """The named layer views of a flat stack (no copies: writing to a view writes the stack).

    The trainer asks for the views of the same few stack slices tens of thousands of times, so they are
    cached by memory address and layout; the cache holds the tensor, so its memory cannot be reused meanwhile.
    """
    key = (flat.data_ptr(), tuple(flat.shape), flat.stride(), flat.dtype, flat.device, hidden)
    hit = _LAYERS_CACHE.get(key)
    if hit is not None:
        return hit[1]
    lay = _make_layers(flat, hidden)
    if len(_LAYERS_CACHE) >= _LAYERS_CACHE_SIZE:
        _LAYERS_CACHE.clear()
    _LAYERS_CACHE[key] = (flat, lay)
    return lay


def _make_layers(flat: torch.Tensor, hidden: int) -> Layers:
    h = hidden
    k = flat.shape[0]
    o = [0, h, 2 * h, 2 * h + h * h, 3 * h + h * h, 4 * h + h * h, 4 * h + h * h + 1]
    return Layers(
        w1=flat[:, o[0] : o[1]],
        b1=flat[:, o[1] : o[2]],
        w2=flat[:, o[2] : o[3]].view(k, h, h),
        b2=flat[:, o[3] : o[4]],
        w3=flat[:, o[4] : o[5]],
        b3=flat[:, o[5] : o[6]],
    )


def init_stack(
    k: int, hidden: int, gen: torch.Generator, out_bias: torch.Tensor | None = None
) -> torch.Tensor:
    """PyTorch's nn.Linear initialisation, U(−1/√fan_in, 1/√fan_in), for K networks; optional output bias."""
    flat = torch.empty(k, n_params(hidden))
    lay = layers(flat, hidden)
    for t, fan_in in (
        (lay.w1, 1),
        (lay.b1, 1),
        (lay.w2, hidden),
        (lay.b2, hidden),
        (lay.w3, hidden),
        (lay.b3, hidden),
    ):
        bound = 1.0 / math.sqrt(fan_in)
        t.copy_(torch.rand(t.shape, generator=gen) * 2 * bound - bound)
    if out_bias is not None:
        lay.b3.copy_(out_bias.reshape(k, 1))
    return flat


def _slope_times(g: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """g ⊙ leaky-ReLU'(a) (1 where a > 0, α elsewhere) in one fused pass, read off the activation h = σ(a):
    with a positive slope α, h > 0 exactly where a > 0. g may broadcast against h."""
    return torch.ops.aten.leaky_relu_backward(g.expand_as(h), h, LEAKY_SLOPE, True)


@dataclass
class Cache:
    x: torch.Tensor  # (K, N)
    h1: torch.Tensor  # (K, N, H) activations of layer 1 (computed in place: no pre-activation is kept)
    h2: torch.Tensor  # (K, N, H) activations of layer 2


def forward(flat: torch.Tensor, x: torch.Tensor, hidden: int) -> tuple[torch.Tensor, Cache]:
    """f_k(x_k) for every network k: x (K, N) → out (K, N), and what the backward pass needs."""
    lay = layers(flat, hidden)
    h1 = torch.addcmul(lay.b1.unsqueeze(1), x.unsqueeze(2), lay.w1.unsqueeze(1))  # 1-D input: no matmul
    torch.nn.functional.leaky_relu_(h1, LEAKY_SLOPE)  # in place: one (K, N, H) buffer less per layer
    h2 = torch.baddbmm(lay.b2.unsqueeze(1), h1, lay.w2.transpose(1, 2))
    torch.nn.functional.leaky_relu_(h2, LEAKY_SLOPE)
    # The H → 1 layer as multiply-and-sum: a batched matrix-vector product through bmm is ~4× slower here.
    out = (h2 * lay.w3.unsqueeze(1)).sum(2).add_(lay.b3)
    return out, Cache(x, h1, h2)


def backward(flat: torch.Tensor, cache: Cache, g_out: torch.Tensor, hidden: int, grad: torch.Tensor) -> None:
    """Write ∂L/∂θ into `grad` (K, P) given g_out = ∂L/∂out (K, N)."""
    lay, g = layers(flat, hidden), layers(grad, hidden)
    go = g_out.unsqueeze(2)  # (K, N, 1)
    g.w3.copy_((cache.h2 * go).sum(1))
    g.b3.copy_(g_out.sum(1, keepdim=True))
    g_a2 = _slope_times(go * lay.w3.unsqueeze(1), cache.h2)  # (K, N, H)
    g.w2.copy_(torch.bmm(g_a2.transpose(1, 2), cache.h1))
    g.b2.copy_(g_a2.sum(1))
    g_a1 = _slope_times(torch.bmm(g_a2, lay.w2), cache.h1)
    g.w1.copy_((g_a1 * cache.x.unsqueeze(2)).sum(1))
    g.b1.copy_(g_a1.sum(1))


def input_gradient(flat: torch.Tensor, cache: Cache, hidden: int) -> torch.Tensor:
    """∂f/∂x at every input (K, N): the slope the generator's samples follow."""
    lay = layers(flat, hidden)
    v = _slope_times(lay.w3.unsqueeze(1), cache.h2)  # (K, N, H)
    u = _slope_times(torch.bmm(v, lay.w2), cache.h1)
    return (u * lay.w1.unsqueeze(1)).sum(2)


def gradient_penalty_backward(
    flat: torch.Tensor, cache: Cache, hidden: int, lam: float, grad: torch.Tensor
) -> torch.Tensor:
    """Add ∂/∂θ of λ·mean((|∂f/∂x̂| − 1)²) into `grad` for a leaky-ReLU critic evaluated at x̂; returns the penalty.

    With a piecewise-linear critic, ∂f/∂x = Σ_j w1_j s1_j Σ_k W2_kj s2_k w3_k with constant slopes s, so each
    weight's derivative is the product of the others (no second-order autograd needed; biases get none).
    """
    lay, g = layers(flat, hidden), layers(grad, hidden)
    n = cache.x.shape[1]
    v = _slope_times(lay.w3.unsqueeze(1), cache.h2)  # (K, N, H): s2_k w3_k
    u = torch.bmm(v, lay.w2)  # (K, N, H): Σ_k v_k W2_kj
    r = _slope_times(lay.w1.unsqueeze(1), cache.h1)  # (K, N, H): s1_j w1_j
    slope = (u * r).sum(2)  # ∂f/∂x̂, (K, N)
    gap = slope.abs() - 1.0
    c = (2.0 * lam / n) * gap * torch.sign(slope)  # ∂penalty/∂slope
    cu = c.unsqueeze(2)
    g.w1.add_(_slope_times(cu * u, cache.h1).sum(1))
    g.w2.add_(torch.bmm((cu * v).transpose(1, 2), r))
    t = torch.bmm(r, lay.w2.transpose(1, 2))  # Σ_j W2_kj r_j
    g.w3.add_(_slope_times(cu * t, cache.h2).sum(1))
    return lam * (gap * gap).mean(1)


class StackAdam:
    """Adam on a (K, P) stack, row-wise bias correction, so that a prefix of rows can take extra steps.

    Each step is torch's fused Adam kernel over the rows' views: one pass instead of a dozen small ops per
    row (~20 µs against ~170 µs here, and the trainer takes six Adam steps per generator step). A row whose
    learning rate is 0 (a stopped network) is left alone; the state lives in tensors, so it can be shared
    with worker processes.
    """

    def __init__(self, flat: torch.Tensor, lr: torch.Tensor, betas: tuple[float, float], eps: float = 1e-8):
        self.flat = flat
        self.lr = lr.reshape(-1).to(flat)  # (K,); a stopped network gets lr 0
        self.b1, self.b2 = betas
        self.eps = eps
        self.m = torch.zeros_like(flat)
        self.v = torch.zeros_like(flat)
        self.t = torch.zeros(flat.shape[0], dtype=flat.dtype, device=flat.device)  # steps taken, per row
        self._rows = [(flat[i], self.m[i], self.v[i], self.t[i]) for i in range(flat.shape[0])]

    def step(self, grad: torch.Tensor, rows: int | slice | None = None, scale: float = 1.0) -> None:
        """One Adam update of rows [:rows] or rows[slice] (all by default) with their gradient, lr × scale."""
        k = slice(None) if rows is None else rows if isinstance(rows, slice) else slice(0, rows)
        by_lr: dict[float, list[tuple[int, int]]] = {}
        for j, (i, lr) in enumerate(zip(range(self.flat.shape[0])[k], self.lr[k].tolist(), strict=True)):
            if lr > 0:
                by_lr.setdefault(lr, []).append((i, j))
        for lr, members in by_lr.items():
            p, m, v, t = (list(x) for x in zip(*(self._rows[i] for i, _ in members), strict=True))
            torch._foreach_add_(t, 1.0)
            torch._fused_adam_(p, [grad[j] for _, j in members], m, v, [], t, lr=lr * scale, beta1=self.b1,
                               beta2=self.b2, weight_decay=0.0, eps=self.eps, amsgrad=False,
                               maximize=False)  # fmt: skip


def spectral_normalize_(flat: torch.Tensor, hidden: int, u: torch.Tensor, iters: int = 1) -> torch.Tensor:
    """W_i ← W_i / σ(W_i) for every layer (sheet §1.3.1); σ of the H×H layer by warm-started power iteration.

    The 1×H and H×1 layers are vectors, whose spectral norm is their Euclidean norm. `u` (K, H) is the
    persistent left singular vector estimate, updated in place. Returns σ(W2) as estimated before the division.
    """
    lay = layers(flat, hidden)
    lay.w1.div_(lay.w1.norm(dim=1, keepdim=True).clamp_min(1e-12))
    lay.w3.div_(lay.w3.norm(dim=1, keepdim=True).clamp_min(1e-12))
    w2 = lay.w2
    uu = u.unsqueeze(2)
    for _ in range(iters):
        vv = torch.bmm(w2.transpose(1, 2), uu)
        vv = vv / vv.norm(dim=1, keepdim=True).clamp_min(1e-12)
        uu = torch.bmm(w2, vv)
        uu = uu / uu.norm(dim=1, keepdim=True).clamp_min(1e-12)
    sigma = (uu * torch.bmm(w2, vv)).sum(1)  # (K, 1)
    u.copy_(uu.squeeze(2))
    w2.div_(sigma.unsqueeze(2).clamp_min(1e-12))
    return sigma.squeeze(1)
