"""Black-box attacks — sheet §2.2. Without gradients: estimate them by finite differences, or transfer an
attack from a surrogate trained on the target's answers."""

import numpy as np
import streamlit as st

from core import blackbox as bb
from core.figures import blackbox as figs
from core.targets2d import TARGET_NAMES, sklearn_target, torch_target, toy_split
from core.toy2d import DATASETS
from ui import common as ui

ctx = ui.setup_page("Black-box attacks", "🕶️")
st.title("🕶️ Black-box attacks")
st.markdown(
    "The attacker sees only the model's **answers** (class probabilities), never its weights or gradients. "
    "Two ways in: **estimate the gradient** from answers at nearby points, or **train your own model** on the "
    "target's answers, attack it white-box and replay the result (*transfer*)."
)

H_OPTIONS = [1e-8, 1e-6, 1e-4, 1e-3, 1e-2, 0.1, 0.3, 1.0]
H_GRID = 10.0 ** np.arange(-9, 1.01, 0.5)

c1, c2 = st.columns(2)
with c1:
    dataset = ui.select("2D data set", "data", DATASETS, "moons")
with c2:
    noise = ui.slider("Data noise", "noise", 0.0, 0.5, 0.1, 0.05)


@st.cache_resource(show_spinner="Training the smooth MLP target…", max_entries=16)
def _mlp(dataset: str, noise: float, seed: int):
    xtr, ytr, _, _ = toy_split(dataset, 300, noise, seed)
    return bb.train_smooth_target(xtr, ytr, seed)


@st.cache_data(show_spinner="Estimating gradients…", max_entries=32)
def _gradient_quality(
    dataset: str, noise: float, n_dirs: int, h_for_k: float, seed: int
) -> bb.GradientQuality:
    _, _, xte, yte = toy_split(dataset, 300, noise, seed)
    return bb.gradient_quality(
        _mlp(dataset, noise, seed), xte, yte, H_GRID, np.arange(1, 41), n_dirs, h_for_k, seed
    )


@st.cache_data(show_spinner="Attacking the black box…", max_entries=32)
def _query_budget(
    dataset: str,
    noise: float,
    kind: str,
    eps: float,
    norm: str,
    h: float,
    n_dirs: int,
    max_queries: int,
    seed: int,
):
    xtr, ytr, xte, yte = toy_split(dataset, 300, noise, seed)
    target = (
        torch_target(_mlp(dataset, noise, seed)) if kind == "mlp" else sklearn_target(kind, xtr, ytr, seed)
    )
    result = bb.query_budget_experiment(target, xte, yte, eps, norm, h, n_dirs, max_queries, seed)
    # the teacher's view of the target's regions (not part of the attacker's query count)
    lo, hi = np.concatenate([xtr, xte]).min(0) - 0.5, np.concatenate([xtr, xte]).max(0) + 0.5
    gx, gy = np.linspace(lo[0], hi[0], 120), np.linspace(lo[1], hi[1], 120)
    label = target.predict(np.stack(np.meshgrid(gx, gy), -1).reshape(-1, 2)).reshape(120, 120)
    return result, gx, gy, label


@st.cache_data(
    show_spinner="Training surrogates on each target's answers and attacking them…", max_entries=32
)
def _transfer(
    dataset: str, noise: float, norm: str, eps_max: float, seed: int
) -> dict[str, bb.TransferResult]:
    xtr, ytr, xte, yte = toy_split(dataset, 300, noise, seed)
    return bb.transfer_experiment(xtr, ytr, xte, yte, np.linspace(0.0, eps_max, 13), norm, seed=seed)


# -- 1. finite differences ---------------------------------------------------------------------------------
st.header("1 · Estimating ∇ₓL from answers alone")
# One formula per full-width line: side by side in half columns the right-hand ends were clipped.
st.latex(
    r"\text{coordinate-wise: } \hat g_i = \frac{L(x + h e_i) - L(x - h e_i)}{2h}\quad(2d \text{ queries})"
)
st.latex(
    r"\text{random directions (NES): } \hat g = \frac{1}{2hk}\sum_{j=1}^{k}\big(L(x + h u_j) - L(x - h u_j)\big)\,u_j"
    r"\quad(2k \text{ queries})"
)
st.caption(
    "Random directions u_j ~ N(0, I), 2k queries. "
    "L is the margin log p_k − log p_y computed from the black box's probabilities. Here the target is a "
    "smooth MLP, so we (not the attacker) know the true gradient and can score each estimate by its cosine."
)
c1, c2 = st.columns(2)
with c1:
    n_dirs = ui.slider("Random directions k (left chart)", "k", 1, 40, 5, 1)
with c2:
    h_for_k = ui.select("Step h (right chart)", "h", H_OPTIONS, 1e-3, format_func=lambda v: f"{v:g}")
with ui.user_errors():
    gq = _gradient_quality(dataset, noise, n_dirs, h_for_k, ctx.seed)
left, right = st.columns(2)
with left:
    ui.look_for(
        "a U: too small an h drowns in float32 round-off, too large an h averages over the curvature."
    )
    ui.chart(figs.gradient_vs_h(gq), key="fig_fd_h")
with right:
    ui.look_for(
        "in 2D, 4 coordinate-wise queries give the exact direction; random directions need more — "
        "but in d = 784 (MNIST) coordinate-wise costs 1,568 queries per step."
    )
    ui.chart(figs.gradient_vs_queries(gq), key="fig_fd_k")

# -- 2. attack under a query budget ------------------------------------------------------------------------
st.header("2 · An attack that pays per query")
st.latex(
    r"x_{t+1} = \Pi_{\|x - x_0\| \le \epsilon}\big(x_t + \alpha\,\mathrm{sign}(\hat g_t)\big),\qquad "
    r"\text{cost per step} = (2d \text{ or } 2k) + 1 \text{ queries}"
)
c1, c2, c3 = st.columns(3)
with c1:
    kind = ui.select(
        "Black-box target",
        "target",
        ["svm", "forest", "knn", "mlp"],
        "svm",
        format_func=lambda k: TARGET_NAMES[k],
    )
    norm = ui.radio("Norm", "norm", ["inf", "2"], "inf", format_func=lambda n: "L∞" if n == "inf" else "L2")
with c2:
    eps = ui.slider("Budget ε", "eps", 0.0, 1.5, 0.5, 0.05, help="ε = 0 allows no perturbation at all.")
    h_attack = ui.select(
        "Step h of the estimates",
        "h_attack",
        H_OPTIONS,
        1e-2,
        format_func=lambda v: f"{v:g}",
        help="Forests and k-NN are piecewise constant: a tiny h sees no change at all.",
    )
with c3:
    max_queries = ui.slider("Query budget per point", "budget", 10, 500, 200, 10)
    k_attack = ui.slider("Random directions k (attack)", "k_attack", 1, 20, 3, 1)
with ui.user_errors():
    qb, gx, gy, label = _query_budget(
        dataset, noise, kind, eps, norm, h_attack, k_attack, max_queries, ctx.seed
    )
ui.metric_row(
    {
        f"{'coordinate-wise' if m == 'coordinate' else 'random directions'}: fooled within budget": f"{100 * r[-1]:.0f} %"
        for m, r in qb.success.items()
    }
)
left, right = st.columns(2)
with left:
    ui.look_for(
        "the SVM's smooth probabilities give a slope to follow; on a forest or k-NN the answers are "
        "flat steps, so with a small h the estimate is 0 and the attack never moves."
    )
    ui.chart(figs.budget_curves(qb), key="fig_budget")
with right:
    ui.look_for("each line is one point's path inside its ε-ball; red crosses crossed the target's boundary.")
    ui.chart(figs.attack_map(qb, gx, gy, label), key="fig_map")

# -- 3. transfer --------------------------------------------------------------------------------------------
st.header("3 · Transfer: attack your own copy, replay on the target")
st.markdown(
    "For each scikit-learn target: ask it to label the training points (300 queries), fit an MLP "
    "*surrogate* to those answers, run white-box PGD on the surrogate, and replay the points on the target."
)
c1, c2 = st.columns(2)
with c1:
    t_norm = ui.radio(
        "Norm (transfer)", "t_norm", ["inf", "2"], "inf", format_func=lambda n: "L∞" if n == "inf" else "L2"
    )
with c2:
    eps_max = ui.slider("Largest ε", "eps_max", 0.2, 2.0, 1.2, 0.1)
with ui.user_errors():
    tr = _transfer(dataset, noise, t_norm, eps_max, ctx.seed)
ui.metric_row(
    {f"{r.name}: surrogate agrees": f"{100 * r.agreement:.0f} %" for r in tr.values()},
    help={
        f"{r.name}: surrogate agrees": "share of test points where surrogate and target give the same label"
        for r in tr.values()
    },
)
ui.look_for(
    "PGD points made on the surrogate fool every target far more often than random noise of the same "
    "size (dotted): the models share their gradients' directions near the data."
)
ui.chart(figs.transfer_curves(tr), key="fig_transfer")
ui.look_for(
    "split the target's points by how well the surrogate's gradient points along the target's own slope: "
    "where they agree, the replayed points fool the target far more often. The SVM's smooth margin agrees "
    "almost everywhere; a forest's or k-NN's steps only in places."
)
ui.chart(figs.transfer_alignment(tr), key="fig_alignment")
st.caption(
    "The target's slope is measured by us, not the attacker: central differences of its margin with a step of "
    "0.2 data units (a forest's or k-NN's answers are flat between steps, so a smaller step sees nothing)."
)
