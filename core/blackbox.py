"""Black-box attacks of sheet §2.2: the attacker sees only the model's predictions, never its gradients.

Two ways in:
* estimate ∇_x L by finite differences — coordinate-wise central differences
  g_i ≈ (L(x + h·e_i) − L(x − h·e_i)) / 2h  (2d queries), or random directions (NES)
  g ≈ 1/(2hk) Σ_j (L(x + h·u_j) − L(x − h·u_j))·u_j, u_j ~ N(0, I)  (2k queries) — then run FGSM/PGD steps on
  the estimate under a query budget;
* transfer: train a surrogate on the target's answers, attack the surrogate white-box, replay on the target
  ("relies on the two models having similar gradients").

L is computed from the black box's probabilities only: the cross-entropy −log p_y, or (default) the margin
log max_{k≠y} p_k − log p_y. For two classes the two have parallel gradients (CE = softplus(margin)), but when
the model is very sure, 1 − p_y has no digits left to difference while log p_k still does: the margin keeps the
finite differences meaningful far from the boundary. One query = one input point asked about.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from core.attacks import check_norm, fgsm, pgd, project_l2, project_linf
from core.targets2d import BlackBox, one_torch_thread
from core.validate import check_choice, check_finite_array, check_int, check_positive

METHODS = ("coordinate", "random")
_P_FLOOR = 1e-300  # log 0 would be −inf: a black box that says "probability 0" still gives a finite loss


def _inputs(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    xs = check_finite_array("x", x, ndim=2)
    ys = np.asarray(y)
    if ys.shape != (xs.shape[0],) or not np.issubdtype(ys.dtype, np.integer):
        raise ValueError(f"y: expected {xs.shape[0]} integer labels, got shape {ys.shape} ({ys.dtype})")
    return xs, ys.astype(int)


LOSSES = ("margin", "ce")


def blackbox_loss(target: BlackBox, x: np.ndarray, y: np.ndarray, loss: str = "margin") -> np.ndarray:
    """L(x, y) from the black box's probabilities, shape [n] (costs n queries):
    margin log max_{k≠y} p_k − log p_y (> 0 ⇔ fooled) or cross-entropy −log p_y."""
    check_choice("loss", loss, LOSSES)
    x, y = _inputs(x, y)
    logp = np.log(np.clip(target.predict_proba(x), _P_FLOOR, None))
    rows = np.arange(len(y))
    own = logp[rows, y]
    if loss == "ce":
        return -own
    logp[rows, y] = -np.inf
    return logp.max(axis=1) - own


def margin_and_grad(model: torch.nn.Module, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The white-box truth the estimates are judged against: the margin log p_k* − log p_y and its autograd
    gradient (k* = the most likely wrong class)."""
    xs, ys = _inputs(x, y)
    dev = next(model.parameters()).device
    xt = torch.as_tensor(xs, dtype=torch.float32, device=dev).requires_grad_(True)
    yt = torch.as_tensor(ys, device=dev)
    with torch.enable_grad():
        logp = torch.log_softmax(model(xt).double(), dim=1)
        own = logp.gather(1, yt[:, None])[:, 0]
        other = logp.scatter(1, yt[:, None], -torch.inf).amax(dim=1)
        m = other - own
        (g,) = torch.autograd.grad(m.sum(), xt)
    return m.detach().cpu().numpy(), g.double().cpu().numpy()


def queries_per_estimate(method: str, dim: int, n_dirs: int = 10) -> int:
    """What one gradient estimate costs per point: 2d (coordinate-wise) or 2k (k random directions)."""
    check_choice("method", method, METHODS)
    return (
        2 * check_int("dim", dim, minimum=1)
        if method == "coordinate"
        else 2 * check_int("n_dirs", n_dirs, minimum=1)
    )


@dataclass(frozen=True)
class GradientEstimate:
    grad: np.ndarray  # [n, d] estimate of ∇_x L at each point
    queries_per_point: int


def estimate_gradient(
    target: BlackBox,
    x: np.ndarray,
    y: np.ndarray,
    method: str = "coordinate",
    h: float = 1e-3,
    n_dirs: int = 10,
    seed: int = 0,
    loss: str = "margin",
) -> GradientEstimate:
    """Finite-difference estimate of ∇_x L(x, y) at every row of x using only the black box's answers."""
    xs, ys = _inputs(x, y)
    check_choice("method", method, METHODS)
    h = check_positive("h", h)
    n, d = xs.shape
    if method == "coordinate":
        dirs = np.broadcast_to(np.eye(d), (n, d, d))  # e_1 … e_d for every point
        scale = 1.0
    else:
        k = check_int("n_dirs", n_dirs, minimum=1)
        dirs = np.random.default_rng(check_int("seed", seed, minimum=0)).standard_normal((n, k, d))
        scale = 1.0 / k  # E[u uᵀ] = I, so the average of (∂L/∂u)·u is ∇L
    m = dirs.shape[1]
    probes = np.concatenate([xs[:, None, :] + h * dirs, xs[:, None, :] - h * dirs], axis=1)  # [n, 2m, d]
    losses = blackbox_loss(target, probes.reshape(-1, d), np.repeat(ys, 2 * m), loss).reshape(n, 2 * m)
    slopes = (losses[:, :m] - losses[:, m:]) / (2 * h)  # central difference along each direction
    grad = scale * np.einsum("nm,nmd->nd", slopes, dirs)
    return GradientEstimate(grad=grad, queries_per_point=2 * m)


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cos∠(a, b); 0 where either vector is 0 (an estimate that says nothing points nowhere)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    na, nb = np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1)
    ok = (na > 0) & (nb > 0)
    out = np.zeros(len(a))
    out[ok] = (a[ok] * b[ok]).sum(axis=1) / (na[ok] * nb[ok])
    return out


# -- the attack under a query budget -------------------------------------------------------------------------
@dataclass(frozen=True)
class BlackBoxAttackResult:
    x_adv: np.ndarray  # [n, d] last iterate of each point
    success: np.ndarray  # [n] bool: the black box's label changed within the budget
    queries_to_success: np.ndarray  # [n] queries spent when it first changed (inf: never within the budget)
    max_queries: int

    def success_rate(self, budgets: np.ndarray) -> np.ndarray:
        """Fraction of points fooled with at most each budget of queries."""
        b = np.asarray(budgets, float)
        return (self.queries_to_success[None, :] <= b[:, None]).mean(axis=1)


def blackbox_attack(
    target: BlackBox,
    x: np.ndarray,
    y: np.ndarray,
    eps: float,
    norm: str = "inf",
    method: str = "coordinate",
    h: float = 1e-2,
    n_dirs: int = 10,
    alpha: float | None = None,
    max_queries: int = 200,
    seed: int = 0,
) -> BlackBoxAttackResult:
    """PGD driven by finite-difference gradients: each step costs one estimate plus one query to check the label.

    Points stop as soon as the black box's label differs from y, or when the next step would exceed max_queries.
    """
    xs, ys = _inputs(x, y)
    norm = check_norm(norm)
    eps = check_positive("eps", eps)
    alpha = eps / 4 if alpha is None else check_positive("alpha", alpha)
    h = check_positive("h", h)
    seed = check_int("seed", seed, minimum=0)
    max_queries = check_int("max_queries", max_queries, minimum=1)
    cost = queries_per_estimate(method, xs.shape[1], n_dirs) + 1
    n = len(xs)
    x_adv = xs.copy()
    spent = np.ones(n)  # the first query: does the black box already get it wrong?
    done_at = np.full(n, np.inf)
    fooled = target.predict(xs) != ys
    done_at[fooled] = 1
    step = 0
    while True:
        active = np.flatnonzero(~fooled & (spent + cost <= max_queries))
        if active.size == 0:
            break
        est = estimate_gradient(target, x_adv[active], ys[active], method, h, n_dirs, seed=seed + step)
        g = torch.as_tensor(est.grad)
        if norm == "inf":
            move = g.sign()  # Problem 3: the L∞ steepest ascent is the sign of the gradient
        else:
            move = g / g.norm(dim=1, keepdim=True).clamp_min(1e-12)
        delta = torch.as_tensor(x_adv[active] - xs[active]) + alpha * move
        delta = project_linf(delta, eps) if norm == "inf" else project_l2(delta, eps)
        x_adv[active] = xs[active] + delta.numpy()
        now_wrong = target.predict(x_adv[active]) != ys[active]
        spent[active] += cost
        fooled[active] = now_wrong
        done_at[active[now_wrong]] = spent[active[now_wrong]]
        step += 1
    return BlackBoxAttackResult(
        x_adv=x_adv, success=fooled, queries_to_success=done_at, max_queries=max_queries
    )


# -- transfer attacks ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TransferResult:
    eps: np.ndarray  # [m] budgets
    target_success: np.ndarray  # [m] fraction of the target's correct points whose label flips on the replay
    surrogate_success: np.ndarray  # [m] the same white-box attack on the surrogate itself (its own points)
    random_success: np.ndarray  # [m] control: a random corner of the same L∞ ball / sphere of the L2 ball
    n_points: int
    name: str = ""
    label_queries: int = 0  # answers the surrogate was trained on
    target_accuracy: float = float("nan")  # the target's clean test accuracy
    agreement: float = float("nan")  # how often surrogate and target give the same label on the test points
    alignment: GradientAlignment | None = None  # why it transfers: the two models' gradients, point by point


ALIGNED = 0.5  # cos∠ above which two gradients count as pointing the same way


@dataclass(frozen=True)
class GradientAlignment:
    """Per correctly classified test point: how well the surrogate's gradient points along the target's, and
    whether the surrogate's PGD point, replayed, fooled the target (sheet §2.2: transfer "relies on the two
    models having similar gradients with respect to the input")."""

    cos: np.ndarray  # [n] cos∠(∇ surrogate margin, target's measured margin slope)
    fooled: np.ndarray  # [n] bool
    eps: float
    h: float  # step of the central differences that measured the target's slope

    def success(self, aligned: bool) -> float:
        """Transfer success among the points whose gradients agree (cos > ALIGNED), or among the others."""
        pick = self.cos > ALIGNED if aligned else self.cos <= ALIGNED
        return float(self.fooled[pick].mean()) if pick.any() else float("nan")


def gradient_alignment(
    target: BlackBox,
    surrogate: torch.nn.Module,
    x: np.ndarray,
    y: np.ndarray,
    eps: float,
    norm: str = "inf",
    h: float = 0.2,
    steps: int = 20,
    seed: int = 0,
) -> GradientAlignment:
    """Measure, for the points the target gets right, cos∠ between the surrogate's margin gradient (autograd)
    and the target's margin slope (central differences with step h, asked of the target by us, the teacher, not
    by the attacker), and whether the replayed PGD-`steps` point at ε fools the target. A forest's or k-NN's
    answers are piecewise constant, so their slope is measured over a step h of a fifth of a data unit: the
    slope of the margin smoothed over that neighbourhood."""
    xs, ys = _inputs(x, y)
    h = check_positive("h", h)
    eps = check_positive("eps", eps)
    right = target.predict(xs) == ys
    if not right.any():
        raise ValueError("x: the target classifies none of these points correctly; nothing to attack")
    xs, ys = xs[right], ys[right]
    _, g_sur = margin_and_grad(surrogate, xs, ys)
    g_tgt = estimate_gradient(target, xs, ys, "coordinate", h=h).grad
    dev = next(surrogate.parameters()).device
    x_adv = pgd(surrogate, torch.as_tensor(xs, dtype=torch.float32, device=dev), torch.as_tensor(ys, device=dev),
                eps, norm=check_norm(norm), steps=steps, seed=seed)  # fmt: skip
    fooled = target.predict(x_adv.cpu().numpy()) != ys
    return GradientAlignment(cos=cosine(g_sur, g_tgt), fooled=fooled, eps=eps, h=h)


def transfer_attack(
    target: BlackBox,
    surrogate: torch.nn.Module,
    x: np.ndarray,
    y: np.ndarray,
    eps_values: np.ndarray,
    norm: str = "inf",
    attack: str = "pgd",
    steps: int = 20,
    seed: int = 0,
) -> TransferResult:
    """Attack the surrogate white-box (C's fgsm/pgd) at each ε and replay the adversarial points on the target."""
    xs, ys = _inputs(x, y)
    norm = check_norm(norm)
    check_choice("attack", attack, ("fgsm", "pgd"))
    eps_arr = check_finite_array("eps_values", eps_values, ndim=1, nonnegative=True)
    if eps_arr.size == 0:
        raise ValueError("eps_values: give at least one budget ε")
    right = target.predict(xs) == ys  # only points the target gets right can be fooled
    if not right.any():
        raise ValueError("x: the target classifies none of these points correctly; nothing to attack")
    dev = next(surrogate.parameters()).device  # the surrogate is ours: it may sit on a GPU, the target never
    xt = torch.as_tensor(xs[right], dtype=torch.float32, device=dev)
    yt = torch.as_tensor(ys[right], device=dev)
    y_np, m = ys[right], int(right.sum())
    rng = torch.Generator().manual_seed(int(seed))
    t_s, s_s, r_s = [], [], []
    with torch.no_grad():
        clean_sur = surrogate(xt).argmax(1)
    s_right = clean_sur == yt
    for e in eps_arr:
        if e == 0:
            x_adv = xt.clone()
        elif attack == "fgsm":
            x_adv = fgsm(surrogate, xt, yt, float(e), norm=norm)
        else:
            x_adv = pgd(surrogate, xt, yt, float(e), norm=norm, steps=steps, seed=seed)
        t_s.append(float((target.predict(x_adv.cpu().numpy()) != y_np).mean()))
        with torch.no_grad():
            adv_sur = surrogate(x_adv).argmax(1)
        s_s.append(float(((adv_sur != yt) & s_right).sum()) / max(int(s_right.sum()), 1))
        noise = torch.randn(xs[right].shape, generator=rng, dtype=torch.float64).numpy()
        if norm == "inf":
            noise = np.sign(noise)
        else:
            noise = noise / np.maximum(np.linalg.norm(noise, axis=1, keepdims=True), 1e-12)
        r_s.append(float((target.predict(xs[right] + float(e) * noise) != y_np).mean()))
    return TransferResult(
        eps=eps_arr,
        target_success=np.array(t_s),
        surrogate_success=np.array(s_s),
        random_success=np.array(r_s),
        n_points=m,
    )


# -- the page's three experiments --------------------------------------------------------------------------
QUANTILES = (0.25, 0.5, 0.75)


def _quartiles(c: np.ndarray) -> np.ndarray:
    return np.quantile(c, QUANTILES)


@dataclass(frozen=True)
class GradientQuality:
    """cos∠(estimate, true ∇) over the test points: quartiles [.., 3] (25 %, median, 75 %)."""

    h: np.ndarray  # [H] finite-difference steps
    coordinate: np.ndarray  # [H, 3]
    random: np.ndarray  # [H, 3] with n_dirs random directions
    n_dirs: int
    k: np.ndarray  # [K] numbers of random directions
    random_by_k: np.ndarray  # [K, 3] at h_for_k
    coordinate_at_h: np.ndarray  # [3] at h_for_k
    h_for_k: float
    queries_coordinate: int  # per point: 2d
    queries_random: np.ndarray  # [K] per point: 2k
    queries_counted: int  # what the black box itself counted over the whole experiment
    n_points: int


@one_torch_thread()
def train_smooth_target(x: np.ndarray, y: np.ndarray, seed: int = 0, epochs: int = 200) -> torch.nn.Module:
    """A tanh MLP (core.toy2d) to play the black box whose true gradient we know: smooth, so finite differences
    can converge to autograd's answer."""
    from core.toy2d import train_mlp

    xs, ys = _inputs(x, y)
    return train_mlp(xs, ys.astype(np.int64), epochs=epochs, activation="tanh", seed=seed)


@one_torch_thread()
def gradient_quality(
    model: torch.nn.Module,
    x: np.ndarray,
    y: np.ndarray,
    h_values: np.ndarray,
    k_values: np.ndarray,
    n_dirs: int = 10,
    h_for_k: float = 1e-3,
    seed: int = 0,
) -> GradientQuality:
    """How well the finite-difference estimates point along the true gradient (known to us, not to the attacker),
    against the step h and against the number of queries."""
    xs, ys = _inputs(x, y)
    hs = check_finite_array("h_values", h_values, ndim=1)
    ks = np.asarray(k_values)
    if hs.size == 0 or hs.min() <= 0:
        raise ValueError("h_values: need at least one step h, all > 0")
    if ks.ndim != 1 or ks.size == 0 or not np.issubdtype(ks.dtype, np.integer) or ks.min() < 1:
        raise ValueError("k_values: need integer numbers of directions >= 1")
    n_dirs = check_int("n_dirs", n_dirs, minimum=1)
    h_for_k = check_positive("h_for_k", h_for_k)
    from core.targets2d import torch_target

    target = torch_target(model)
    _, true = margin_and_grad(model, xs, ys)

    def quality(method: str, h: float, k: int, s: int) -> np.ndarray:
        return _quartiles(cosine(estimate_gradient(target, xs, ys, method, float(h), int(k), s).grad, true))

    coord = np.array([quality("coordinate", h, 1, seed) for h in hs])
    rand = np.array([quality("random", h, n_dirs, seed) for h in hs])
    by_k = np.array([quality("random", h_for_k, k, seed + 1) for k in ks])
    return GradientQuality(
        h=hs,
        coordinate=coord,
        random=rand,
        n_dirs=n_dirs,
        k=ks,
        random_by_k=by_k,
        coordinate_at_h=quality("coordinate", h_for_k, 1, seed),
        h_for_k=h_for_k,
        queries_coordinate=queries_per_estimate("coordinate", xs.shape[1]),
        queries_random=2 * ks,
        queries_counted=target.queries,
        n_points=len(xs),
    )


@dataclass(frozen=True)
class QueryBudgetResult:
    """Success rate against the query budget for each gradient estimator (on the target's correct points)."""

    budgets: np.ndarray  # [B]
    success: dict[str, np.ndarray]  # method -> [B]
    attacks: dict[str, BlackBoxAttackResult]
    x: np.ndarray  # the attacked points
    y: np.ndarray
    eps: float
    norm: str
    target_name: str


@one_torch_thread()
def query_budget_experiment(
    target: BlackBox,
    x: np.ndarray,
    y: np.ndarray,
    eps: float,
    norm: str = "inf",
    h: float = 1e-2,
    n_dirs: int = 5,
    max_queries: int = 200,
    seed: int = 0,
) -> QueryBudgetResult:
    """Run the finite-difference attack with both estimators and read off success vs budget from one run each."""
    xs, ys = _inputs(x, y)
    max_queries = check_int("max_queries", max_queries, minimum=2)
    right = target.predict(xs) == ys
    if not right.any():
        raise ValueError("x: the target classifies none of these points correctly; nothing to attack")
    xs, ys = xs[right], ys[right]
    runs = {}
    for method in METHODS:
        target.reset_queries()
        runs[method] = blackbox_attack(target, xs, ys, eps, norm, method, h, n_dirs, None, max_queries, seed)
    budgets = np.unique(np.linspace(1, max_queries, min(max_queries, 100)).round().astype(int))
    return QueryBudgetResult(
        budgets=budgets,
        success={m: r.success_rate(budgets) for m, r in runs.items()},
        attacks=runs,
        x=xs,
        y=ys,
        eps=float(eps),
        norm=check_norm(norm),
        target_name=target.name,
    )


@one_torch_thread()
def transfer_experiment(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    eps_values: np.ndarray,
    norm: str = "inf",
    kinds: tuple[str, ...] = ("svm", "forest", "knn"),
    surrogate_epochs: int = 200,
    seed: int = 0,
    align_eps: float = 0.5,
) -> dict[str, TransferResult]:
    """For each scikit-learn target: label the training points by asking it, fit an MLP surrogate on those
    answers, attack the surrogate with PGD at each ε and replay the points on the target; then, at align_eps,
    how the surrogate's and the target's gradients line up point by point (gradient_alignment)."""
    from core.targets2d import TARGET_KINDS, sklearn_target
    from core.toy2d import train_mlp

    xtr, ytr = _inputs(x_train, y_train)
    xte, yte = _inputs(x_test, y_test)
    if not kinds:
        raise ValueError("kinds: choose at least one target")
    out = {}
    for kind in kinds:
        check_choice("kinds", kind, TARGET_KINDS)
        target = sklearn_target(kind, xtr, ytr, seed)
        answers = target.predict(xtr)  # the only thing the attacker learns from the target
        label_queries = target.queries
        surrogate = train_mlp(xtr, answers.astype(np.int64), epochs=surrogate_epochs, seed=seed)
        with torch.no_grad():
            sur_test = surrogate(torch.as_tensor(xte, dtype=torch.float32)).argmax(1).numpy()
        tgt_test = target.predict(xte)
        res = transfer_attack(target, surrogate, xte, yte, eps_values, norm, "pgd", seed=seed)
        alignment = gradient_alignment(target, surrogate, xte, yte, align_eps, norm, seed=seed)
        out[kind] = TransferResult(
            eps=res.eps,
            target_success=res.target_success,
            surrogate_success=res.surrogate_success,
            random_success=res.random_success,
            n_points=res.n_points,
            name=target.name,
            label_queries=label_queries,
            target_accuracy=float((tgt_test == yte).mean()),
            agreement=float((sur_test == tgt_test).mean()),
            alignment=alignment,
        )
    return out
