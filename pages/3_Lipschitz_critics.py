"""Lipschitz critics — sheet §1.3.1, Problem 2. A critic's Lipschitz constant is bounded by the product of its layers'
spectral norms; weight clipping and spectral normalisation are two ways to keep it small."""

import streamlit as st

from core import lipschitz
from core.figures import lipschitz as figs
from ui import common as ui

ctx = ui.setup_page("Lipschitz critics", "📏")
st.title("📏 Lipschitz critics")
st.markdown(
    "WGAN's critic must be **1-Lipschitz**: |f(x₁) − f(x₂)| ≤ ‖x₁ − x₂‖. An MLP is a composition of linear maps "
    "and 1-Lipschitz activations, so (Problem 2) its Lipschitz constant is at most the product of the layers' "
    "**spectral norms** σ(W_i). Here a random critic is measured three ways: the exact bound, the bound from "
    "power iteration, and the largest gradient norm actually found over inputs."
)

c1, c2, c3 = st.columns(3)
with c1:
    layers = ui.slider("Linear layers L", "layers", 1, 6, 3, 1)
    width = ui.slider("Hidden width", "width", 2, 64, 32, 1)
with c2:
    in_dim = ui.slider("Input dimension d", "in_dim", 1, 16, 2, 1)
    activation = ui.select("Activation (all 1-Lipschitz)", "act", list(lipschitz.ACTIVATIONS), "relu")
with c3:
    net_seed = ui.slider("Critic seed", "net_seed", 0, 20, 0, 1, help="Added to the global seed.")
    n_iter = ui.slider("Power-iteration rounds k", "n_iter", 1, 30, 3, 1)
    clip_c = ui.number(
        "Weight clip level c (WGAN)",
        "clip_c",
        0.0,
        10.0,
        0.1,
        0.01,
        help="Every weight and bias is clamped to [−c, c]; c must be > 0.",
        format="%.3f",
    )


@st.cache_data(show_spinner=False, max_entries=128)
def analyse(
    in_dim: int, width: int, layers: int, activation: str, seed: int, n_iter: int, clip_c: float
) -> lipschitz.LipschitzReport:
    critic = lipschitz.CriticConfig(
        in_dim=in_dim, width=width, layers=layers, activation=activation, seed=seed
    )
    return lipschitz.analyse_critic(lipschitz.LipschitzConfig(critic=critic, n_iter=n_iter, clip_c=clip_c))


@st.cache_data(show_spinner=False, max_entries=64)
def compose(width: int, seed: int) -> lipschitz.CompositionResult:
    return lipschitz.composition(width=width, seed=seed)


seed = int(net_seed) + ctx.seed
with ui.user_errors():
    r = analyse(int(in_dim), int(width), int(layers), activation, seed, int(n_iter), float(clip_c))

st.subheader("1 · One layer: the spectral norm by power iteration vs the SVD")
st.latex(r"\mathrm{Lip}(x \mapsto Wx + b) = \sigma(W) = \sup_{\|x\|_2 = 1} \|Wx\|_2")
st.latex(
    r"u \leftarrow \frac{Wv}{\|Wv\|},\quad v \leftarrow \frac{W^\top u}{\|W^\top u\|},\quad "
    r"\hat\sigma_k = u^\top W v"
)
# Side by side on laptops; stacked on the projector, where the larger fonts need the full width.
g1, g2 = (st.container(), st.container()) if ctx.presenter else st.columns(2)
with g1:
    ui.look_for(
        "orange (power iteration) climbs to grey (SVD) as k grows; clipping lowers every bar, "
        "spectral normalisation sets every bar to exactly 1."
    )
    ui.chart(figs.layer_norms_figure(r), key="layer_norms")
with g2:
    ui.look_for(
        "the error falls geometrically (rate σ₂/σ₁ squared per round); a few rounds are plenty, "
        "which is why SN-GAN does one round per training step."
    )
    ui.chart(figs.power_iteration_figure(r), key="power")
with st.expander("Per-layer numbers"):
    st.dataframe(r.layer_table(), hide_index=True, width="stretch")

st.subheader("2 · The whole critic: product bound vs measured gradient norm")
st.latex(
    r"\|\nabla_x f(x)\|_2 \;\le\; \mathrm{Lip}(f) \;\le\; \prod_{i=1}^{L} \sigma(W_i)"
    r"\qquad (\mathrm{Lip}(\mathrm{ReLU}) = 1)"
)
ui.metric_row(
    {
        "∏ σ(W_i) (bound)": f"{r.bound:.4g}",
        "measured max ‖∇f‖": f"{r.measured:.4g}",
        "slack (bound / measured)": f"{r.bound / r.measured:.3g}×" if r.measured > 0 else "∞",
        "∏ σ after normalisation": f"{r.bound_sn:.6f}",
    },
    help={
        "measured max ‖∇f‖": "Largest gradient norm over 256 seeded inputs in [−3, 3]^d plus a local "
        "random-search ascent: a lower bound on Lip(f)."
    },
)
ui.look_for(
    "grey bars always stand at or above orange ones: the bound holds, often loosely. Clipping shrinks "
    "both; spectral normalisation pins the bound at 1."
)
ui.chart(figs.bounds_figure(r), key="bounds")

st.subheader("3 · Weight clipping (WGAN) vs spectral normalisation (SN-GAN)")
st.latex(r"\text{clip: } w \leftarrow \min(\max(w, -c), c) \;\Rightarrow\; \sigma(W) \le c\sqrt{mn}")
st.latex(r"\text{SN: } W_i \leftarrow \frac{W_i}{\sigma(W_i)} \;\Rightarrow\; \prod_i \sigma(W_i) = 1")
ui.look_for(
    "every curve falls like c^L: the clip level, not the data, decides how steep the critic "
    "may be, and the worst-case constant depends on the architecture."
)
ui.chart(figs.clip_sweep_figure(r), key="clip_sweep")
ui.look_for(
    "compare shapes and ranges: clipping sets most weights to ±c, so their signs decide the critic's shape and "
    "its range shrinks like c^L; normalisation divides each layer by one number and keeps the raw critic's bends."
)
ui.chart(figs.slice_figure(r), key="slices")

st.subheader("4 · Problem 2: composing Lipschitz functions")
st.latex(r"\|f(g(x_1)) - f(g(x_2))\| \le L_1 \|g(x_1) - g(x_2)\| \le L_1 L_2 \|x_1 - x_2\|")
with ui.user_errors():
    comp = compose(int(width), seed)
ui.look_for(
    "the measured Lip(f∘g) (red bar) never exceeds L₁·L₂ (grey bar); it equals it only when g's "
    "steepest point lands where f is steepest."
)
ui.chart(figs.composition_figure(comp), key="composition")
st.caption(
    "g and f are random 1D ReLU critics (3 layers, the width above, seeds s and s + 1). Slopes are exact "
    "autograd derivatives on 2001 points; Lip(f) is taken over g's image."
)
