"""2D toys for sheet §2.1–2.2: datasets, small classifiers, decision grids and the exact optimum over a ball.

In 2D the attacker's problem  δ* = argmax_{‖δ‖ ≤ ε} L_θ(x + δ, y)  can be solved by brute force (dense search
over the ball), so FGSM's first-order answer and PGD can be compared with the true δ*.

Data are standardised isotropically (centred, one common scale) to roughly [−2, 2]², so the L2 ball stays a
circle and the L∞ ball a square on the page.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from sklearn.datasets import make_blobs, make_circles, make_moons
from torch import nn

from core import attacks
from core.validate import check_choice, check_finite_array, check_int, check_positive, check_range

DATASETS = ("moons", "circles", "blobs", "xor", "spirals")
ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "silu": nn.SiLU}
METHODS = ("fgsm", "pgd", "exact")


# -- data ---------------------------------------------------------------------------------------------------
def _standardise(X: np.ndarray) -> np.ndarray:
    """Centre and scale by one common factor so 99 % of coordinates fall in [−2, 2] (shapes keep their aspect)."""
    X = X - X.mean(axis=0)
    scale = float(np.quantile(np.abs(X), 0.99)) or 1.0
    return X * (2.0 / scale)


def make_dataset(
    name: str = "moons", n: int = 300, noise: float = 0.15, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """A seeded 2D classification set: X float32 [n, 2] in roughly [−2, 2]², y int64 [n] (blobs: 3 classes)."""
    check_choice("name", name, DATASETS)
    n = check_int("n", n, minimum=10, maximum=20_000)
    noise = check_range("noise", noise, 0.0, 1.0)
    seed = check_int("seed", seed, minimum=0)
    rng = np.random.default_rng(seed)
    if name == "moons":
        X, y = make_moons(n, noise=noise, random_state=seed)
    elif name == "circles":
        X, y = make_circles(n, noise=noise, factor=0.5, random_state=seed)
    elif name == "blobs":
        centres = np.array([[0.0, 2.0], [-1.8, -1.0], [1.8, -1.0]])
        X, y = make_blobs(n, centers=centres, cluster_std=0.5 + 2.0 * noise, random_state=seed)
    elif name == "xor":
        X = rng.uniform(-1.0, 1.0, size=(n, 2))
        y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
        X = X + noise * rng.standard_normal((n, 2))
    else:  # two interleaved spirals, one turn and a half each
        k = np.arange(n) % 2
        t = np.sqrt(rng.uniform(0.02, 1.0, size=n)) * 3 * np.pi
        X = np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / (3 * np.pi)
        X[k == 1] *= -1
        X = X + noise * rng.standard_normal((n, 2))
        y = k
        order = rng.permutation(n)
        X, y = X[order], y[order]
    return _standardise(np.asarray(X, dtype=np.float64)).astype(np.float32), np.asarray(y, dtype=np.int64)


def data_bounds(X: np.ndarray, margin: float = 0.5) -> tuple[float, float, float, float]:
    """A square window (xmin, xmax, ymin, ymax) around the data, so circles are drawn round."""
    X = check_finite_array("X", X, ndim=2)
    lo, hi = X.min(axis=0), X.max(axis=0)
    centre, half = (lo + hi) / 2, float((hi - lo).max()) / 2 + margin
    return (
        float(centre[0] - half),
        float(centre[0] + half),
        float(centre[1] - half),
        float(centre[1] + half),
    )


# -- models -------------------------------------------------------------------------------------------------
class MLP(nn.Module):
    """x [N, 2] -> logits [N, classes] through hidden layers of the given widths."""

    def __init__(
        self, hidden: Sequence[int] = (32, 32), classes: int = 2, activation: str = "silu", in_dim: int = 2
    ):
        super().__init__()
        layers: list[nn.Module] = []
        width = in_dim
        for h in hidden:
            layers += [nn.Linear(width, h), ACTIVATIONS[activation]()]
            width = h
        layers.append(nn.Linear(width, classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def _seeded_init(model: nn.Module, seed: int) -> None:
    """PyTorch's default Linear init, U(−1/√fan_in, 1/√fan_in), from a private generator (no global RNG)."""
    g = torch.Generator().manual_seed(int(seed))
    for m in model.modules():
        if isinstance(m, nn.Linear):
            bound = 1.0 / math.sqrt(m.in_features)
            with torch.no_grad():
                m.weight.uniform_(-bound, bound, generator=g)
                if m.bias is not None:
                    m.bias.uniform_(-bound, bound, generator=g)


def _check_xy(X: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    X = check_finite_array("X", X, ndim=2)
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(f"y: expected shape ({X.shape[0]},) to match X, got {y.shape}")
    if X.shape[0] == 0:
        raise ValueError("X: needs at least one point")
    if not np.issubdtype(y.dtype, np.integer) or y.min() < 0:
        raise ValueError("y: expected non-negative integer class labels")
    return torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y, dtype=torch.long)


Perturb = Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor]


def fit(
    model: nn.Module,
    X: np.ndarray,
    y: np.ndarray,
    epochs: int = 300,
    lr: float = 0.02,
    weight_decay: float = 0.0,
    perturb: Perturb | None = None,
) -> nn.Module:
    """Full-batch Adam on the mean cross-entropy; with `perturb(model, x, y) -> x'` it trains on x' instead
    (adversarial training: minimise the loss at the attacker's point). Returns the model in eval mode."""
    Xt, yt = _check_xy(X, y)
    epochs = check_int("epochs", epochs, minimum=1, maximum=100_000)
    lr = check_positive("lr", lr)
    weight_decay = check_positive("weight_decay", weight_decay, allow_zero=True)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    model.train()
    for _ in range(epochs):
        xb = Xt if perturb is None else perturb(model, Xt, yt).detach()
        loss = nn.functional.cross_entropy(model(xb), yt)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return model.eval()


def _widths(hidden: int | Sequence[int]) -> tuple[int, ...]:
    widths = (hidden, hidden) if isinstance(hidden, int | np.integer) else tuple(hidden)
    if not widths:
        raise ValueError("hidden: give at least one hidden layer width")
    return tuple(check_int("hidden", h, minimum=1, maximum=4096) for h in widths)


def train_mlp(
    X: np.ndarray,
    y: np.ndarray,
    hidden: int | Sequence[int] = (32, 32),
    epochs: int = 300,
    lr: float = 0.02,
    activation: str = "silu",
    weight_decay: float = 0.0,
    seed: int = 0,
    perturb: Perturb | None = None,
) -> MLP:
    """A small MLP classifier (an int `hidden` = two layers of that width), seeded, trained in well under 1 s."""
    check_choice("activation", activation, ACTIVATIONS)
    Xt, yt = _check_xy(X, y)
    model = MLP(_widths(hidden), classes=int(yt.max()) + 1, activation=activation, in_dim=Xt.shape[1])
    _seeded_init(model, check_int("seed", seed, minimum=0))
    return fit(model, X, y, epochs=epochs, lr=lr, weight_decay=weight_decay, perturb=perturb)


def train_logistic(
    X: np.ndarray,
    y: np.ndarray,
    epochs: int = 300,
    lr: float = 0.05,
    weight_decay: float = 0.0,
    seed: int = 0,
    perturb: Perturb | None = None,
) -> nn.Linear:
    """(Multinomial) logistic regression: one linear layer to logits; its loss is convex in x along any line."""
    Xt, yt = _check_xy(X, y)
    model = nn.Linear(Xt.shape[1], int(yt.max()) + 1)
    _seeded_init(model, check_int("seed", seed, minimum=0))
    return fit(model, X, y, epochs=epochs, lr=lr, weight_decay=weight_decay, perturb=perturb)


def accuracy(model: nn.Module, X: np.ndarray, y: np.ndarray) -> float:
    """Share of points classified correctly."""
    Xt, yt = _check_xy(X, y)
    with torch.no_grad(), attacks.eval_mode(model):
        return float((model(Xt).argmax(dim=1) == yt).float().mean())


@dataclass
class Toy:
    """A seeded dataset and the classifier trained on it: what the 2D attack pages start from."""

    X: np.ndarray
    y: np.ndarray
    model: nn.Module
    accuracy: float


MODELS = ("mlp", "logistic")


def build_toy(
    dataset: str = "moons", n: int = 300, noise: float = 0.15, model: str = "mlp", seed: int = 0
) -> Toy:
    """make_dataset + train_mlp (2×32 SiLU) or train_logistic, all from one seed."""
    check_choice("model", model, MODELS)
    X, y = make_dataset(dataset, n, noise, seed)
    net = train_mlp(X, y, seed=seed) if model == "mlp" else train_logistic(X, y, seed=seed)
    return Toy(X=X, y=y, model=net, accuracy=accuracy(net, X, y))


# -- decision grids -----------------------------------------------------------------------------------------
@dataclass
class DecisionGrid:
    """Class probabilities on an n×n grid: proba[i, j, k] = p(k | (xs[j], ys[i]))."""

    xs: np.ndarray
    ys: np.ndarray
    proba: np.ndarray
    label: np.ndarray


def _check_bounds(bounds: Sequence[float]) -> tuple[float, float, float, float]:
    b = check_finite_array("bounds", bounds, ndim=1)
    if b.shape != (4,) or not (b[0] < b[1] and b[2] < b[3]):
        raise ValueError(
            f"bounds: expected (xmin, xmax, ymin, ymax) with xmin < xmax, ymin < ymax, got {bounds!r}"
        )
    return tuple(float(v) for v in b)  # type: ignore[return-value]


def predict_proba(model: nn.Module | object, points: np.ndarray) -> np.ndarray:
    """Class probabilities [M, C] of a torch model (softmax of logits) or a scikit-learn classifier."""
    P = check_finite_array("points", points, ndim=2)
    if isinstance(model, nn.Module):
        dev = next(model.parameters(), torch.empty(0)).device
        with torch.no_grad(), attacks.eval_mode(model):
            logits = model(torch.as_tensor(P, dtype=torch.float32, device=dev))
        # softmax by hand: torch.softmax over a 2-wide last dim is several times slower on 40k grid points
        e = (logits - logits.amax(dim=1, keepdim=True)).exp_()
        return (e / e.sum(dim=1, keepdim=True)).cpu().numpy()
    if hasattr(model, "predict_proba"):
        return np.asarray(model.predict_proba(P), dtype=np.float32)
    raise ValueError("model: expected a torch nn.Module or a classifier with predict_proba")


def decision_grid(model: nn.Module | object, bounds: Sequence[float], n: int = 200) -> DecisionGrid:
    """The model's class probabilities and predicted labels on an n×n grid over bounds (xmin, xmax, ymin, ymax)."""
    x0, x1, y0, y1 = _check_bounds(bounds)
    n = check_int("n", n, minimum=2, maximum=2000)
    xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
    gx, gy = np.meshgrid(xs, ys)
    proba = predict_proba(model, np.stack([gx.ravel(), gy.ravel()], axis=1)).reshape(n, n, -1)
    return DecisionGrid(xs=xs, ys=ys, proba=proba, label=proba.argmax(axis=2))


_GRID_MEMO: OrderedDict[tuple, DecisionGrid] = OrderedDict()
_GRID_LOCK = threading.Lock()


def _fingerprint(model: nn.Module) -> bytes:
    """A digest of the weights: the same trained model gives the same boundary, whichever object holds it."""
    h = hashlib.blake2b(type(model).__name__.encode(), digest_size=16)
    for t in [*model.parameters(), *model.buffers()]:
        h.update(t.detach().cpu().numpy().tobytes())
    return h.digest()


def memo_decision_grid(model: nn.Module, bounds: Sequence[float], n: int = 200) -> DecisionGrid:
    """decision_grid, remembered for the last 16 (weights, bounds, n): clicking another point or moving ε does
    not move the boundary, so the page's 40,000 grid evaluations happen once per trained model."""
    key = (_fingerprint(model), tuple(_check_bounds(bounds)), int(n))
    with _GRID_LOCK:
        if key in _GRID_MEMO:
            _GRID_MEMO.move_to_end(key)
            return _GRID_MEMO[key]
    grid = decision_grid(model, bounds, n)
    with _GRID_LOCK:
        _GRID_MEMO[key] = grid
        while len(_GRID_MEMO) > 16:
            _GRID_MEMO.popitem(last=False)
    return grid


# -- the exact optimum over the ball (brute force, possible in 2D) -------------------------------------------
def ball_candidates(eps: float, norm: str = "inf", k: int = 101) -> np.ndarray:
    """δ candidates [M, 2] filling {‖δ‖ ≤ ε}: a k×k grid of the box (L∞), or of the disc plus 8k points on its
    rim (L2). k = 101 gives 10,201 candidates for L∞; the L2 grid is widened to keep at least as many."""
    eps = check_positive("eps", eps, allow_zero=True)
    norm = attacks.check_norm(norm)
    k = check_int("k", k, minimum=3, maximum=2001)
    if norm == "inf":
        t = np.linspace(-eps, eps, k)
        gx, gy = np.meshgrid(t, t)
        return np.stack([gx.ravel(), gy.ravel()], axis=1)
    kk = int(math.ceil(k * 2 / math.sqrt(math.pi))) | 1  # the disc keeps π/4 of the box's points
    t = np.linspace(-eps, eps, kk)
    gx, gy = np.meshgrid(t, t)
    inside = gx**2 + gy**2 <= eps**2 * (1 + 1e-12)
    phi = np.linspace(0, 2 * np.pi, 8 * k, endpoint=False)
    rim = eps * np.stack([np.cos(phi), np.sin(phi)], axis=1)
    return np.concatenate([np.stack([gx[inside], gy[inside]], axis=1), rim])


def _ce64(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Cross-entropy in float64: in float32 log(1 + e^−m) rounds to exactly 0 once the margin m exceeds ~17,
    and a brute-force search over a ball of zeros would pick an arbitrary point."""
    return nn.functional.cross_entropy(logits.double(), y, reduction="none")


def _loss64(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return _ce64(model(x), y)


def _losses_at(model: nn.Module, x: torch.Tensor, y: torch.Tensor, deltas: torch.Tensor) -> torch.Tensor:
    """L(x_i + δ_ij, y_i) for every point i and candidate j: x [N, 2], deltas [N, M, 2] or [M, 2] -> [N, M]."""
    d = deltas if deltas.ndim == 3 else deltas.unsqueeze(0).expand(x.shape[0], -1, -1)
    pts = (x.unsqueeze(1) + d).reshape(-1, x.shape[1])
    labels = y.repeat_interleave(d.shape[1])
    return _loss64(model, pts, labels).reshape(x.shape[0], d.shape[1])


def exact_optimum(
    model: nn.Module,
    x: np.ndarray | torch.Tensor,
    y: np.ndarray | torch.Tensor,
    eps: float,
    norm: str = "inf",
    k: int = 101,
    refine: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """δ* = argmax_{‖δ‖ ≤ ε} L_θ(x + δ, y) by dense search over ball_candidates (≥ 10,000 points), then a finer
    grid around the best candidate; x [N, 2]. Returns (δ* [N, 2], L(x + δ*) [N])."""
    norm = attacks.check_norm(norm)
    eps = check_positive("eps", eps, allow_zero=True)
    xt = torch.as_tensor(check_finite_array("x", x, ndim=2), dtype=torch.float32)
    yt = torch.as_tensor(np.asarray(y), dtype=torch.long).reshape(-1)
    if yt.shape[0] != xt.shape[0]:
        raise ValueError(f"y: expected shape ({xt.shape[0]},) to match x, got {tuple(yt.shape)}")
    cand = torch.as_tensor(ball_candidates(eps, norm, k), dtype=torch.float32)
    with attacks.eval_mode(model):
        losses = _losses_at(model, xt, yt, cand)
        best = cand[losses.argmax(dim=1)]  # [N, 2]
        if refine and eps > 0:
            # A (k/5)-wide local grid one coarse spacing around the winner, pulled back into the ball.
            h = 2 * eps / (k - 1)
            t = torch.linspace(-h, h, 21)
            local = torch.stack(torch.meshgrid(t, t, indexing="xy"), dim=-1).reshape(-1, 2)
            fine = best.unsqueeze(1) + local.unsqueeze(0)  # [N, 441, 2]
            flat = fine.reshape(-1, 2)
            flat = attacks.project_linf(flat, eps) if norm == "inf" else attacks.project_l2(flat, eps)
            fine = torch.cat([best.unsqueeze(1), flat.reshape(fine.shape)], dim=1)
            fl = _losses_at(model, xt, yt, fine)
            best = fine[torch.arange(xt.shape[0]), fl.argmax(dim=1)]
        final = _loss64(model, xt + best, yt)
    return best.numpy(), final.numpy()


# -- one interaction on the attack page ---------------------------------------------------------------------
@dataclass
class AttackPoint:
    """Where one attack lands: x' = x + δ, its loss, the predicted class and whether the label flipped."""

    method: str
    norm: str
    delta: np.ndarray
    x_adv: np.ndarray
    loss: float
    pred: int
    flipped: bool

    @property
    def name(self) -> str:
        return f"{self.method}_{self.norm}"


@dataclass
class PointAttackResult:
    """Everything the attack page draws for one point x and one budget ε."""

    index: int
    x: np.ndarray
    y: int
    pred: int
    eps: float
    loss: float
    grad: np.ndarray
    grid: DecisionGrid
    bounds: tuple[float, float, float, float]
    # the loss landscape around x: true loss, its linearisation and the margin z_y − max_{k≠y} z_k (< 0: fooled)
    zoom_xs: np.ndarray
    zoom_ys: np.ndarray
    zoom_loss: np.ndarray
    zoom_linear: np.ndarray
    zoom_margin: np.ndarray
    attacks: dict[str, AttackPoint] = field(default_factory=dict)
    paths: dict[str, np.ndarray] = field(default_factory=dict)  # PGD's iterates per norm
    dual_paths: dict[str, np.ndarray] = field(default_factory=dict)  # dual gradient ascent's, when asked for


def _check_index(index: int, n: int) -> int:
    return check_int("index", index, minimum=0, maximum=n - 1)


def attack_point(
    model: nn.Module,
    X: np.ndarray,
    y: np.ndarray,
    index: int,
    eps: float,
    *,
    pgd_steps: int = 20,
    pgd_restarts: int = 1,
    grid_n: int = 200,
    exact_k: int = 101,
    zoom_n: int = 81,
    zoom: float = 1.3,
    bounds: Sequence[float] | None = None,
    seed: int = 0,
    memo_grid: bool = True,
    dual_steps: int = 0,
) -> PointAttackResult:
    """Attack point X[index] within ε: FGSM and PGD (with its path) under L∞ and L2, and the exact optimum of
    each ball by dense search; plus the decision grid (remembered per trained model unless memo_grid=False)
    and the true and linearised loss around the point. With dual_steps > 0, also dual gradient ascent on the
    Lagrangian (attacks.dual_ascent) with its path."""
    Xt, yt = _check_xy(X, y)
    index = _check_index(index, Xt.shape[0])
    eps = check_positive("eps", eps, allow_zero=True)
    dual_steps = check_int("dual_steps", dual_steps, minimum=0, maximum=10_000)
    bounds = _check_bounds(bounds) if bounds is not None else data_bounds(X)
    x, lab = Xt[index : index + 1], yt[index : index + 1]
    with attacks.eval_mode(model):
        grid = (
            memo_decision_grid(model, bounds, grid_n) if memo_grid else decision_grid(model, bounds, grid_n)
        )
        _, g = attacks.loss_and_grad(model, x, lab)
        loss0 = _loss64(model, x, lab)  # float64: a confident point's loss is tiny, not 0
        with torch.no_grad():
            pred0 = int(model(x).argmax(dim=1))
        found: dict[str, torch.Tensor] = {}
        paths: dict[str, np.ndarray] = {}
        dual_paths: dict[str, np.ndarray] = {}
        for norm in attacks.NORMS:
            found[f"fgsm_{norm}"] = attacks.fgsm(model, x, lab, eps, norm)
            x_pgd, path = attacks.pgd(
                model,
                x,
                lab,
                eps,
                norm,
                steps=pgd_steps,
                restarts=pgd_restarts,
                seed=seed,
                keep_best=True,
                return_path=True,
            )
            found[f"pgd_{norm}"] = x_pgd
            paths[norm] = path[:, 0].numpy()
            d_star, _ = exact_optimum(model, x, lab, eps, norm, k=exact_k)
            found[f"exact_{norm}"] = x + torch.as_tensor(d_star)
            if dual_steps:
                x_dual, path = attacks.dual_ascent(
                    model, x, lab, eps, norm, steps=dual_steps, return_path=True
                )
                found[f"dual_{norm}"] = x_dual
                dual_paths[norm] = path[:, 0].numpy()
        adv = torch.cat(list(found.values()))
        with torch.no_grad():
            adv_logits = model(adv)
        adv_loss = _ce64(adv_logits, lab.expand(adv.shape[0]))
        results = {}
        for i, (name, xa) in enumerate(found.items()):
            method, norm = name.split("_")
            pred = int(adv_logits[i].argmax())
            results[name] = AttackPoint(
                method=method,
                norm=norm,
                delta=(xa - x)[0].numpy(),
                x_adv=xa[0].numpy(),
                loss=float(adv_loss[i]),
                pred=pred,
                flipped=pred != pred0,
            )
        # The landscape in a window a little wider than the balls (≥ 0.05 wide so ε = 0 still shows a picture).
        half = max(zoom * eps, 0.05)
        zx = np.linspace(-half, half, zoom_n)
        dz = torch.as_tensor(np.stack(np.meshgrid(zx, zx), axis=-1).reshape(-1, 2), dtype=torch.float32)
        pts = x + dz
        with torch.no_grad():
            z = model(pts)
        zl = _ce64(z, lab.expand(pts.shape[0]))
        other = z.clone()
        other[:, int(lab)] = -torch.inf
        margin = z[:, int(lab)] - other.amax(dim=1)
        linear = attacks.linearised_loss(loss0, g.double(), dz.double())
    shape = (zoom_n, zoom_n)
    return PointAttackResult(
        index=index,
        x=x[0].numpy(),
        y=int(lab),
        pred=pred0,
        eps=eps,
        loss=float(loss0),
        grad=g[0].numpy(),
        grid=grid,
        bounds=bounds,
        zoom_xs=float(x[0, 0]) + zx,
        zoom_ys=float(x[0, 1]) + zx,
        zoom_loss=zl.reshape(shape).numpy(),
        zoom_linear=linear.reshape(shape).numpy(),
        zoom_margin=margin.reshape(shape).numpy(),
        attacks=results,
        paths=paths,
        dual_paths=dual_paths,
    )


# -- the dataset-level picture: fooling rate vs ε -----------------------------------------------------------
@dataclass
class FoolingCurves:
    """Share of the correctly classified points whose label each attack flips, for every ε (arrays [E])."""

    eps: np.ndarray
    rates: dict[str, np.ndarray]
    n_correct: int
    n_total: int
    pgd_steps: int


def fooling_curves(
    model: nn.Module,
    X: np.ndarray,
    y: np.ndarray,
    eps_values: Sequence[float] | np.ndarray | None = None,
    *,
    pgd_steps: int = 10,
    seed: int = 0,
) -> FoolingCurves:
    """Fooling rate vs ε for FGSM and PGD under L∞ and L2. Every ε is attacked in one batched pass: the correct
    points are repeated once per ε with a per-example budget."""
    Xt, yt = _check_xy(X, y)
    eps_arr = (
        np.linspace(0.0, 1.0, 20)
        if eps_values is None
        else check_finite_array("eps_values", eps_values, ndim=1)
    )
    if eps_arr.size == 0 or eps_arr.min() < 0:
        raise ValueError("eps_values: need at least one ε, all >= 0")
    pgd_steps = check_int("pgd_steps", pgd_steps, minimum=1, maximum=1000)
    with attacks.eval_mode(model):
        with torch.no_grad():
            correct = model(Xt).argmax(dim=1) == yt
        xc, yc = Xt[correct], yt[correct]
        n_c, n_e = xc.shape[0], eps_arr.size
        rates: dict[str, np.ndarray] = {}
        if n_c == 0:
            rates = {f"{m}_{n}": np.zeros(n_e) for m in ("fgsm", "pgd") for n in attacks.NORMS}
        else:
            xr, yr = xc.repeat(n_e, 1), yc.repeat(n_e)
            er = torch.as_tensor(eps_arr, dtype=torch.float32).repeat_interleave(n_c)
            for norm in attacks.NORMS:
                for method in ("fgsm", "pgd"):
                    if method == "fgsm":
                        xa = attacks.fgsm(model, xr, yr, er, norm)
                    else:
                        xa = attacks.pgd(model, xr, yr, er, norm, steps=pgd_steps, seed=seed, keep_best=True)
                    with torch.no_grad():
                        fooled = (model(xa).argmax(dim=1) != yr).float().reshape(n_e, n_c)
                    rates[f"{method}_{norm}"] = fooled.mean(dim=1).numpy()
    return FoolingCurves(
        eps=eps_arr, rates=rates, n_correct=int(correct.sum()), n_total=int(Xt.shape[0]), pgd_steps=pgd_steps
    )


def interesting_point(model: nn.Module, X: np.ndarray, y: np.ndarray, eps: float) -> int:
    """A correctly classified point that tells Problem 3's story at this ε: FGSM-L∞ (the corner) flips its
    label while FGSM-L2 (the circle inside the square) does not. Falls back to the point nearest the boundary."""
    Xt, yt = _check_xy(X, y)
    eps = check_positive("eps", eps, allow_zero=True)
    with attacks.eval_mode(model), torch.no_grad():
        logits = model(Xt)
        correct = logits.argmax(dim=1) == yt
        flip = {}
        for norm in attacks.NORMS:
            flip[norm] = model(attacks.fgsm(model, Xt, yt, eps, norm)).argmax(dim=1) != yt
        other = logits.clone()
        other[torch.arange(len(yt)), yt] = -torch.inf
        margin = logits[torch.arange(len(yt)), yt] - other.amax(dim=1)
    story = correct & flip["inf"] & ~flip["2"]
    pool = story if bool(story.any()) else correct
    if not bool(pool.any()):
        return 0
    if not bool(story.any()):
        return int(torch.where(pool, margin, torch.tensor(torch.inf)).argmin())
    # the story point nearest the boundary: the circle almost gets there, so its loss visibly rises too
    return int(torch.where(pool, margin, torch.tensor(torch.inf)).argmin())
