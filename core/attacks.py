"""White-box attacks of sheet §2.1–2.2: FGSM (Problem 3) and PGD under the L∞ and L2 norms.

The attacker solves  δ* = argmax_{‖δ‖ ≤ ε} L_θ(x + δ, y)  with L the cross-entropy of the model's logits.
Everything here is model-agnostic: `model` is any nn.Module mapping x [N, ...] to logits [N, classes], and
norms are taken per example over all non-batch dimensions, so the 2D toys and the MNIST pages share it.

ε may be a number or a tensor [N] of per-example budgets: one batched pass then attacks every ε at once
(the fooling-rate-vs-ε curves do that).

Gradients are those of each example's own loss (the gradient of the batch's mean cross-entropy is the same
vector divided by N): FGSM and PGD only use its sign or its direction, so the two are the same attack.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn

from core.validate import check_finite, check_int, check_positive

NORMS = ("inf", "2")
_NORM_ALIASES = {"inf": "inf", "linf": "inf", "l_inf": "inf", "2": "2", "l2": "2", "l_2": "2"}
_TINY = 1e-12  # keeps g/‖g‖ finite where the gradient vanishes (δ is then 0, not NaN)


# -- argument checks ---------------------------------------------------------------------------------------
def check_norm(norm: object) -> str:
    """'inf' or '2' (also accepts 'Linf', 'L2', float('inf'), 2)."""
    if isinstance(norm, int | float) and not isinstance(norm, bool):
        key = "inf" if norm == float("inf") else ("2" if norm == 2 else "")
    else:
        key = _NORM_ALIASES.get(str(norm).strip().lower(), "")
    if not key:
        raise ValueError(f"norm: unknown value {norm!r}; choose one of inf, 2")
    return key


def _check_inputs(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if not isinstance(x, torch.Tensor):
        x = torch.as_tensor(x, dtype=torch.float32)
    if not isinstance(y, torch.Tensor):
        y = torch.as_tensor(y)
    if x.ndim < 1 or x.shape[0] == 0:
        raise ValueError(f"x: expected a batch [N, ...] with N >= 1, got shape {tuple(x.shape)}")
    if not x.is_floating_point():
        raise ValueError(f"x: expected a floating-point tensor, got {x.dtype}")
    if not bool(torch.isfinite(x).all()):
        raise ValueError("x: contains NaN or infinite values")
    if y.ndim != 1 or y.shape[0] != x.shape[0]:
        raise ValueError(f"y: expected labels of shape ({x.shape[0]},) to match x, got {tuple(y.shape)}")
    if y.is_floating_point() or y.dtype == torch.bool:
        raise ValueError(f"y: expected integer class labels, got {y.dtype}")
    return x.detach(), y.detach().to(device=x.device, dtype=torch.long)


def _check_eps(eps: float | torch.Tensor, x: torch.Tensor, name: str = "eps") -> float | torch.Tensor:
    """A number >= 0, or a tensor [N] of per-example budgets >= 0."""
    if isinstance(eps, torch.Tensor) and eps.ndim > 0:
        if eps.ndim != 1 or eps.shape[0] != x.shape[0]:
            raise ValueError(
                f"{name}: a per-example budget must have shape ({x.shape[0]},), got {tuple(eps.shape)}"
            )
        if not bool(torch.isfinite(eps).all()) or bool((eps < 0).any()):
            raise ValueError(f"{name}: must be finite and >= 0 for every example")
        return eps.detach().to(device=x.device, dtype=x.dtype)
    return check_positive(name, float(eps), allow_zero=True)


def _check_clip(clip: tuple[float, float] | None) -> tuple[float, float] | None:
    if clip is None:
        return None
    try:
        lo, hi = clip
    except (TypeError, ValueError):
        raise ValueError(f"clip: expected a pair (lo, hi), got {clip!r}") from None
    lo, hi = check_finite("clip", lo), check_finite("clip", hi)
    if not lo < hi:
        raise ValueError(f"clip: lo must be < hi, got ({lo}, {hi})")
    return lo, hi


def _per_example(v: float | torch.Tensor, x: torch.Tensor) -> float | torch.Tensor:
    """Broadcast a per-example value [N] against x [N, ...]."""
    if isinstance(v, torch.Tensor):
        return v.reshape((-1,) + (1,) * (x.ndim - 1))
    return v


def _is_zero(eps: float | torch.Tensor) -> bool:
    return bool((eps == 0).all()) if isinstance(eps, torch.Tensor) else eps == 0


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Put every submodule in eval mode (dropout off, batch-norm frozen) and restore each one's mode after."""
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield model
    finally:
        for m, was_training in modes:
            m.training = was_training


# -- the loss, its gradient and its linearisation ----------------------------------------------------------
def per_example_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """L_θ(x, y) for each example: the cross-entropy of the logits, shape [N] (no gradient)."""
    with torch.no_grad():
        return F.cross_entropy(model(x), y, reduction="none")


def loss_and_grad(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(L_θ(x, y) [N], ∇_x L_θ(x, y) [N, ...]): each example's loss and the gradient of its own loss."""
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        losses = F.cross_entropy(model(x), y, reduction="none")
        # The sum's gradient w.r.t. x_i is ∇ of example i's loss alone (examples do not interact in eval mode).
        (grad,) = torch.autograd.grad(losses.sum(), x)
    return losses.detach(), grad.detach()


def linearised_loss(loss: torch.Tensor, grad: torch.Tensor, delta: torch.Tensor) -> torch.Tensor:
    """FGSM's first-order model L'(x + δ) = L(x) + ∇_x L(x)ᵀ δ, per example (loss [N] or scalar, δ like grad)."""
    g, d = torch.broadcast_tensors(grad, delta)
    return loss.reshape(-1) + (g * d).reshape(g.shape[0], -1).sum(dim=1)


def delta_norm(delta: torch.Tensor, norm: str = "inf") -> torch.Tensor:
    """‖δ‖ per example over all non-batch dims, shape [N]."""
    flat = delta.reshape(delta.shape[0], -1)
    if check_norm(norm) == "inf":
        return flat.abs().amax(dim=1)
    return flat.norm(p=2, dim=1)


# -- projections onto the ball {δ : ‖δ‖ ≤ ε} ---------------------------------------------------------------
def project_linf(delta: torch.Tensor, eps: float | torch.Tensor) -> torch.Tensor:
    """Closest point of the L∞ ball (a box): clamp every coordinate to [−ε, ε]."""
    e = _per_example(eps, delta)
    if isinstance(e, torch.Tensor):
        return torch.maximum(torch.minimum(delta, e), -e)
    return delta.clamp(-e, e)


def project_l2(delta: torch.Tensor, eps: float | torch.Tensor) -> torch.Tensor:
    """Closest point of the L2 ball: shrink δ radially to length ε when it is longer."""
    n = delta.reshape(delta.shape[0], -1).norm(p=2, dim=1)
    e = eps if isinstance(eps, torch.Tensor) else torch.full_like(n, float(eps))
    scale = torch.where(n > e, e / n.clamp_min(_TINY), torch.ones_like(n))
    return delta * _per_example(scale, delta)


def _project(delta: torch.Tensor, eps: float | torch.Tensor, norm: str) -> torch.Tensor:
    return project_linf(delta, eps) if norm == "inf" else project_l2(delta, eps)


def _steepest_ascent(g: torch.Tensor, norm: str) -> torch.Tensor:
    """The unit-norm direction that maximises gᵀδ: sign(g) for L∞ (Problem 3), g/‖g‖₂ for L2."""
    if norm == "inf":
        return g.sign()
    n = g.reshape(g.shape[0], -1).norm(p=2, dim=1).clamp_min(_TINY)
    return g / _per_example(n, g)


def _clamp(x_adv: torch.Tensor, clip: tuple[float, float] | None) -> torch.Tensor:
    return x_adv if clip is None else x_adv.clamp(clip[0], clip[1])


# -- the attacks --------------------------------------------------------------------------------------------
def fgsm(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float | torch.Tensor,
    norm: str = "inf",
    clip: tuple[float, float] | None = None,
) -> torch.Tensor:
    """Fast gradient (sign) method: x' = x + ε·sign(∇_x L) for L∞, x + ε·∇_x L/‖∇_x L‖₂ for L2; clamped to clip."""
    norm = check_norm(norm)
    x, y = _check_inputs(x, y)
    eps = _check_eps(eps, x)
    clip = _check_clip(clip)
    if _is_zero(eps):
        return x.clone()
    with eval_mode(model):
        _, g = loss_and_grad(model, x, y)
    return _clamp(x + _per_example(eps, x) * _steepest_ascent(g, norm), clip).detach()


def random_start(
    x: torch.Tensor, eps: float | torch.Tensor, norm: str = "inf", generator: torch.Generator | None = None
) -> torch.Tensor:
    """A random δ drawn uniformly from the ball: the box for L∞, the solid sphere for L2."""
    norm = check_norm(norm)
    e = _per_example(eps, x)
    if norm == "inf":
        u = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        return (2 * u - 1) * e
    d = x[0].numel()
    direction = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    direction = direction / _per_example(direction.reshape(x.shape[0], -1).norm(dim=1).clamp_min(_TINY), x)
    radius = torch.rand(x.shape[0], generator=generator, device=x.device, dtype=x.dtype) ** (1.0 / d)
    return direction * _per_example(radius, x) * e


def pgd(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float | torch.Tensor,
    norm: str = "inf",
    alpha: float | None = None,
    steps: int = 10,
    random_start: bool = True,
    restarts: int = 1,
    clip: tuple[float, float] | None = None,
    targeted: bool = False,
    *,
    seed: int = 0,
    keep_best: bool = False,
    return_path: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """Projected gradient ascent on L_θ(x + δ, y): step α along the steepest-ascent direction, project onto
    {‖δ‖ ≤ ε}, clamp to clip; repeat `steps` times and return the last iterate. With restarts, each example
    keeps the restart whose loss is highest (lowest when `targeted`: y are then the target classes and the loss
    is descended), so restarts never weaken the attack. `keep_best` returns instead the strongest point visited
    over all steps (an evaluation attack: the last iterate can overshoot).

    α defaults to 2.5·ε/steps (Madry et al.), so the iterates can cross the ball and come back. The start is
    uniform in the ball when `random_start` (seeded by `seed`), else δ = 0. With `return_path`, also returns
    the iterates x + δ_t of the chosen restart, shape [steps + 1, N, ...].
    """
    norm = check_norm(norm)
    x, y = _check_inputs(x, y)
    eps = _check_eps(eps, x)
    steps = check_int("steps", steps, minimum=1)
    restarts = check_int("restarts", restarts, minimum=1)
    clip = _check_clip(clip)
    if alpha is None:
        alpha = 2.5 * eps / steps
    else:
        alpha = _check_eps(alpha, x, name="alpha")
        if bool((alpha <= 0).any()) if isinstance(alpha, torch.Tensor) else alpha <= 0:
            raise ValueError(f"alpha: step size must be > 0, got {alpha!r}")
    if _is_zero(eps):
        x0 = x.clone()
        return (x0, x0.unsqueeze(0).repeat((steps + 1,) + (1,) * x.ndim)) if return_path else x0

    sign = -1.0 if targeted else 1.0  # a targeted attack descends the loss of the target class
    step = sign * _per_example(alpha, x)
    generator = torch.Generator(device=x.device).manual_seed(int(seed))
    best_x, best_obj, best_path = x, None, None
    with eval_mode(model):
        for restart in range(restarts):
            delta = _random_start_fn(x, eps, norm, generator) if random_start else torch.zeros_like(x)
            if clip is not None:
                delta = (x + delta).clamp(clip[0], clip[1]) - x
            path = [x + delta] if return_path else None
            run_x, run_obj = None, None
            for _ in range(steps):
                losses, g = loss_and_grad(model, x + delta, y)
                if keep_best:
                    run_x, run_obj = _keep_stronger(run_x, run_obj, (x + delta).detach(), sign * losses)
                delta = _project(delta + step * _steepest_ascent(g, norm), eps, norm)
                if clip is not None:
                    delta = (x + delta).clamp(clip[0], clip[1]) - x
                if path is not None:
                    path.append(x + delta)
            x_last = (x + delta).detach()
            if keep_best or restarts > 1:  # the last iterate's loss is needed only to compare
                run_x, run_obj = _keep_stronger(
                    run_x, run_obj, x_last, sign * per_example_loss(model, x_last, y)
                )
            else:
                run_x = x_last
            if restart == 0:
                best_x, best_obj = run_x, run_obj
                best_path = torch.stack(path) if path is not None else None
            else:
                better = run_obj > best_obj  # per example: the stronger restart wins
                best_x, best_obj = _keep_stronger(best_x, best_obj, run_x, run_obj)
                if path is not None:
                    best_path = torch.where(
                        _per_example(better, x).unsqueeze(0), torch.stack(path), best_path
                    )
    if return_path:
        return best_x, best_path.detach()
    return best_x


def dual_ascent(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    norm: str = "2",
    steps: int = 60,
    alpha: float = 0.1,
    beta: float = 1.0,
    clip: tuple[float, float] | None = None,
    *,
    return_path: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """δ* by dual gradient ascent (sheet §2.2's "standard first-order constrained optimization"): a saddle point of

        𝓛(δ, λ) = L_θ(x + δ, y) − λ·(‖δ/ε‖₂² − 1)        (L∞: one λ_i ≥ 0 per coordinate, on (δ_i/ε)² − 1)

    In u = δ/ε the primal step climbs 𝓛: u ← u + α(ĝ − 2λu), with the loss's steepest-ascent direction of unit size
    (ĝ = g/‖g‖₂, or sign g for L∞) so that one α fits every model; the dual step raises λ while the constraint is
    violated and lowers it (never below 0) while there is slack: λ ← max(0, λ + β·(‖u‖² − 1)). Unlike PGD, the
    iterates may leave the ball: the multiplier pulls them back, softly, and at convergence the KKT condition
    holds (∇L ∥ δ on the sphere, for L2). The returned point is projected onto the ball (and clamped to clip), so
    it is always a valid attack; `return_path` also gives the iterates x + δ_t, unprojected, [steps + 1, N, ...].
    """
    norm = check_norm(norm)
    x, y = _check_inputs(x, y)
    eps = check_positive("eps", eps, allow_zero=True)
    steps = check_int("steps", steps, minimum=1)
    alpha = check_positive("alpha", alpha)
    beta = check_positive("beta", beta)
    clip = _check_clip(clip)
    if eps == 0:
        x0 = x.clone()
        return (x0, x0.unsqueeze(0).repeat((steps + 1,) + (1,) * x.ndim)) if return_path else x0
    n = x.shape[0]
    u = torch.zeros_like(x)
    lam = torch.zeros_like(x) if norm == "inf" else torch.zeros(n, device=x.device, dtype=x.dtype)
    path = [x.clone()] if return_path else None
    with eval_mode(model):
        for _ in range(steps):
            _, g = loss_and_grad(model, x + eps * u, y)
            g_hat = _steepest_ascent(g, norm)  # unit size: g/‖g‖₂ (L2), sign g (L∞, FGSM's direction)
            pull = 2 * lam * u if norm == "inf" else 2 * _per_example(lam, x) * u
            u = u + alpha * (g_hat - pull)
            violation = u * u - 1 if norm == "inf" else u.reshape(n, -1).pow(2).sum(dim=1) - 1
            lam = (lam + beta * violation).clamp_min(0.0)
            if path is not None:
                path.append((x + eps * u).detach())
    x_adv = (x + _project(eps * u, eps, norm)).detach()
    x_adv = _clamp(x_adv, clip)
    if return_path:
        return x_adv, torch.stack(path)
    return x_adv


def _keep_stronger(
    x_old: torch.Tensor | None, obj_old: torch.Tensor | None, x_new: torch.Tensor, obj_new: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per example, the point with the higher attack objective (ties keep the old one)."""
    if obj_old is None:
        return x_new, obj_new
    better = obj_new > obj_old
    return torch.where(_per_example(better, x_new), x_new, x_old), torch.where(better, obj_new, obj_old)


_random_start_fn = random_start  # `pgd` takes a flag of the same name
