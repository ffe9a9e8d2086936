"""Attack a 2D classifier — sheet §2.1–2.2, Problem 3. FGSM's corner, FGSM-L2, PGD and the exact δ* in the balls."""

import streamlit as st

from core import toy2d
from core.figures import attack2d as figs
from ui import common as ui

ctx = ui.setup_page("Attack a 2D classifier", "🎯")
st.title("🎯 Attack a 2D classifier")
st.markdown(
    "Pick a point and a budget ε. The attacker may move the point anywhere in a ball ‖δ‖ ≤ ε — a **square** "
    "for the L∞ norm, a **circle** for L2 — and wants the loss as high as possible (sheet §2.1). In 2D we can "
    "find the true best δ* by brute force and compare it with FGSM's one-gradient answer and with PGD."
)
st.latex(r"\delta^* = \arg\max_{\|\delta\| \le \epsilon} L_\theta(x + \delta, y), \qquad x' = x + \delta^*")

DATASET_TEXT = {
    "moons": "two moons",
    "circles": "circles",
    "blobs": "three blobs",
    "xor": "XOR",
    "spirals": "spirals",
}
METHOD_TEXT = {
    "fgsm": "FGSM (one gradient)",
    "pgd": "PGD (with its path)",
    "exact": "exact δ* (brute force)",
    "dual": "dual gradient ascent (with its path)",
}
DEFAULT_METHODS = ["fgsm", "pgd", "exact"]
DUAL_STEPS = 60


@st.cache_resource(show_spinner="Training the classifier …", max_entries=32)
def _toy(dataset: str, noise: float, model: str, seed: int) -> toy2d.Toy:
    return toy2d.build_toy(dataset, 300, noise, model, seed)


@st.cache_data(show_spinner=False, max_entries=256)
def _story_point(dataset: str, noise: float, model: str, seed: int, eps: float) -> int:
    toy = _toy(dataset, noise, model, seed)
    return toy2d.interesting_point(toy.model, toy.X, toy.y, eps)


@st.cache_data(show_spinner="Attacking the point …", max_entries=256)
def _attack(
    dataset: str, noise: float, model: str, seed: int, index: int, eps: float, steps: int, dual: bool
):
    toy = _toy(dataset, noise, model, seed)
    return toy2d.attack_point(
        toy.model, toy.X, toy.y, index, eps, pgd_steps=steps, seed=seed, dual_steps=DUAL_STEPS if dual else 0
    )


@st.cache_data(show_spinner="Attacking every point at 20 values of ε …", max_entries=64)
def _curves(dataset: str, noise: float, model: str, seed: int):
    toy = _toy(dataset, noise, model, seed)
    return toy2d.fooling_curves(toy.model, toy.X, toy.y, pgd_steps=10, seed=seed)


def _pick_clicked_point() -> None:
    """A click on a data point (plotly selection) becomes the point index, before the index widget is drawn."""
    event = st.session_state.get("attack_map")
    for p in event.selection.points if event else []:
        idx = p.get("customdata")
        idx = idx[0] if isinstance(idx, list) else idx
        if isinstance(idx, int | float):
            st.session_state["point"] = int(idx)
            return


def _set_point(index: int) -> None:
    st.session_state["point"] = index


c1, c2, c3, c4 = st.columns(4)
with c1:
    dataset = ui.select("Dataset", "data", toy2d.DATASETS, "moons", format_func=DATASET_TEXT.get)
with c2:
    noise = ui.slider("Noise", "noise", 0.0, 0.5, 0.15, 0.01, help="How much the classes overlap.")
with c3:
    model_kind = ui.radio(
        "Classifier",
        "model",
        toy2d.MODELS,
        "mlp",
        format_func={"mlp": "MLP (2×32, SiLU)", "logistic": "logistic regression"}.get,
    )
with c4:
    steps = ui.slider("PGD steps", "steps", 1, 50, 20, 1, help="Step size α = 2.5·ε / steps; random start.")

with ui.user_errors():
    toy = _toy(dataset, noise, model_kind, ctx.seed)
n_points = len(toy.y)

c1, c2, c3 = st.columns([2, 1, 1])
with c1:
    eps = ui.slider(
        "Budget ε (radius of both balls)",
        "eps",
        0.0,
        1.0,
        0.3,
        0.01,
        help="Data are standardised to roughly [−2, 2]², so ε = 0.3 is 7.5 % of the range.",
    )
story = _story_point(dataset, noise, model_kind, ctx.seed, eps)
if st.session_state.get("point", 0) > n_points - 1:  # a smaller dataset than the link's index
    st.session_state["point"] = n_points - 1
with c2:
    index = ui.number("Point index (or click a point)", "point", 0, n_points - 1, story, 1)
with c3:
    st.write("")
    st.button(
        "🎯 A point that tells Problem 3's story",
        on_click=_set_point,
        args=(story,),
        help="A point that FGSM's L∞ corner pushes across the boundary while FGSM-L2 does not.",
    )
methods = ui.multiselect("Show", "show", list(METHOD_TEXT), DEFAULT_METHODS, format_func=METHOD_TEXT.get)

with ui.user_errors():
    result = _attack(
        dataset, noise, model_kind, ctx.seed, int(index), float(eps), int(steps), "dual" in methods
    )
if "dual" in methods:
    st.markdown(
        "**Dual gradient ascent** (the sheet's *standard first-order constrained optimization*): instead of "
        "projecting, a multiplier λ ≥ 0 prices the constraint. δ climbs the Lagrangian, λ rises while δ is "
        "outside the ball and falls while it is inside, so the path may leave the ball and is pulled back."
    )
    st.latex(
        r"\mathcal{L}(\delta, \lambda) = L_\theta(x + \delta, y) - \lambda\big(\|\delta/\epsilon\|^2 - 1\big),"
        r"\quad \delta \leftarrow \delta + \alpha\epsilon\,\big(\hat g - 2\lambda\,\delta/\epsilon\big),\quad "
        r"\lambda \leftarrow \max\big(0,\ \lambda + \beta(\|\delta/\epsilon\|^2 - 1)\big)"
    )
    st.caption(
        f"{DUAL_STEPS} steps, α = 0.1, β = 1; ĝ = ∇L/‖∇L‖₂ for L2 and sign ∇L for L∞, where each coordinate has "
        "its own λᵢ on (δᵢ/ε)² ≤ 1. The point shown is the last iterate projected onto the ball."
    )

left, right = st.columns([4, 3], gap="large")
with left:
    ui.look_for(
        "the red diamond (FGSM-L∞) always sits on a corner of the square, the blue one (FGSM-L2) on the "
        "circle along the gradient; stars mark the exact δ*. The legend says which attacks flip the label. "
        "Click any data point to attack it instead."
    )
    ui.chart(
        figs.attack_map_figure(toy.X, toy.y, result, tuple(methods)),
        key="attack_map",
        on_select=_pick_clicked_point,
        selection_mode="points",
    )
with right:
    st.subheader("Problem 3: why FGSM picks a corner")
    st.markdown("FGSM replaces the loss by its first-order approximation around x:")
    st.latex(r"L_\theta(x+\delta, y) \approx L_\theta(x, y) + \nabla_x L_\theta(x, y)^\top \delta")
    st.latex(r"\nabla_x L^\top \delta = \textstyle\sum_i g_i \delta_i")
    st.markdown(
        "Under ‖δ‖∞ ≤ ε every coordinate is its own problem, |δᵢ| ≤ ε: a linear function gᵢδᵢ on an interval "
        "peaks at an end, +ε if gᵢ > 0 and −ε if gᵢ < 0. All coordinates at ±ε is a **corner** of the square:"
    )
    st.latex(
        r"\delta_{\infty}^* = \epsilon\,\operatorname{sign}(\nabla_x L), \qquad "
        r"\delta_{2}^* = \epsilon\,\frac{\nabla_x L}{\|\nabla_x L\|_2}"
    )
    st.markdown(
        "The corner reaches √2·ε away in 2D (√d·ε in d dimensions), farther than the circle: the L2 ball "
        "sits inside the L∞ ball. FGSM is exact only where the loss is linear; PGD takes many small steps and "
        "projects back into the ball, and the brute-force δ* is the true answer."
    )
    flips = [figs.attack_label(a) for a in result.attacks.values() if a.flipped and a.method in methods]
    ui.metric_row(
        {
            f"point (class {result.y})": f"#{result.index}",
            "clean loss": f"{max(result.loss, 0.0) + 0.0:.2g}",
            "label flips": str(len(flips)),
        }
    )
    st.dataframe(figs.summary_rows(result), hide_index=True, width="stretch")

ui.look_for(
    "the right panel is FGSM's world: a tilted plane, highest at a corner of the square. Where the left "
    "panel bends, FGSM's corner misses the true δ* (the star), and PGD's path finds it."
)
ui.chart(figs.loss_zoom_figure(result, tuple(methods)), key="attack_zoom")

st.subheader("Over the whole dataset")
st.latex(
    r"\text{fooling rate}(\epsilon) = \frac{\#\{x \text{ correct}: f(x + \delta) \ne y\}}"
    r"{\#\{x \text{ correct}\}}"
)
with ui.user_errors():
    curves = _curves(dataset, noise, model_kind, ctx.seed)
ui.look_for(
    "at the same ε the L∞ curves lie above the L2 curves (the square contains the circle), and PGD "
    "(solid) lies above FGSM (dashed): one linear step is not the best attack."
)
ui.chart(figs.fooling_figure(curves, float(eps)), key="attack_curves")
st.caption(
    f"Classifier accuracy on its training data: {toy.accuracy:.1%}. Seed {ctx.seed}. "
    f"PGD uses a random start in the ball and keeps the highest-loss point it visits."
)
