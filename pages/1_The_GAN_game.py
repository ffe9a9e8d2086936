"""The GAN game — sheet §1.1–1.3, Problem 1. With a perfect discriminator the generator minimises JSD, and loses its
gradient as soon as p and p_G stop overlapping (Figure 1); least squares and instance noise, §1.3's other tricks."""

import streamlit as st

from core import game
from core.densities import PRESET_LABELS
from core.figures import game as figs
from ui import common as ui

ctx = ui.setup_page("The GAN game", "🎲")
st.title("🎲 The GAN game")
st.markdown(
    "The discriminator D plays against the generator G (sheet §1.1). Here both densities are known exactly on a "
    "1D grid, so the **perfect discriminator** D* and the **game value** are computed, not estimated. "
    "Slide the generator away from the data and watch D* go flat over the generated samples."
)

DATA_OPTIONS = [*game.GAME_PRESETS, "custom"]
left, right = st.columns(2)
with left:
    st.subheader("Data p")
    data = ui.select(
        "Data density p",
        "data",
        DATA_OPTIONS,
        "one_gaussian",
        format_func=lambda k: PRESET_LABELS.get(k, "Custom Gaussian mixture (type it)"),
    )
    means_text, stds_text = "-2, 2", "0.5, 0.5"
    if data == "custom":
        means_text = ui.text("Means μ_k (comma separated, |μ| ≤ 20)", "p_means", "-2, 2")
        stds_text = ui.text("Standard deviations σ_k (0.05 … 5, one per mean)", "p_stds", "0.5, 0.5")
with right:
    st.subheader("Generator p_G")
    shape = ui.radio(
        "Generator shape",
        "shape",
        list(game.GENERATOR_SHAPES),
        "copy",
        format_func=game.GENERATOR_SHAPE_LABELS.get,
    )
    offset = ui.slider("Separation θ: how far p_G is slid away from p", "theta", 0.0, 8.0, 3.0, 0.1)
    sigma_g = ui.slider(
        "Generator width σ_G",
        "sigma_g",
        0.1,
        3.0,
        0.5,
        0.05,
        disabled=shape == "copy",
        help="Used by the Gaussian shapes; a copy of p keeps p's own widths.",
    )
    probe = ui.slider("Problem 1 probe point x₀ (chart below)", "probe", -6.0, 12.0, 1.4, 0.1)
    noise_sigma = ui.slider(
        "Instance noise σ (§1.3, last section)",
        "noise",
        0.0,
        2.0,
        0.5,
        0.05,
        help="Both the data and the generated samples get x + n, n ~ N(0, σ²): both densities are blurred.",
    )


@st.cache_data(show_spinner=False, max_entries=256)
def play(
    data: str,
    means_text: str,
    stds_text: str,
    shape: str,
    offset: float,
    sigma_g: float,
    probe: float,
    noise_sigma: float,
    seed: int,
) -> game.GameResult:
    custom = data == "custom"
    config = game.GameConfig(
        data="one_gaussian" if custom else data,
        generator=shape,
        offset=offset,
        sigma_g=sigma_g,
        probe=probe,
        noise_sigma=noise_sigma,
        seed=seed,
        data_means=game.parse_numbers("p_means", means_text) if custom else None,
        data_stds=game.parse_numbers("p_stds", stds_text) if custom else None,
    )
    return game.play_game(config)


with ui.user_errors():
    r = play(
        data,
        means_text,
        stds_text,
        shape,
        float(offset),
        float(sigma_g),
        float(probe),
        float(noise_sigma),
        ctx.seed,
    )

ui.metric_row(
    {
        "V(G, D*)": f"{r.value:.9f}",
        "2·JSD(p‖p_G) − log 4": f"{r.jsd_identity:.9f}",
        "JSD(p‖p_G)": f"{r.jsd:.6f} nats",
    },
    help={
        "V(G, D*)": "E_p[log D*] + E_pG[log(1 − D*)], summed on the grid.",
        "2·JSD(p‖p_G) − log 4": "The sheet's identity: equal to V(G, D*) to floating-point accuracy.",
        "JSD(p‖p_G)": "Between 0 (p = p_G) and log 2 ≈ 0.693147 (no overlap).",
    },
)
ui.metric_row(
    {
        "W1(p, p_G)": f"{r.w1:.4f}",
        "|∂L_G/∂θ| sat.": f"{abs(r.grad_saturating):.2e}",
        "|∂L_G/∂θ| non-sat.": f"{abs(r.grad_non_saturating):.2e}",
    },
    help={
        "W1(p, p_G)": "Earth mover's distance (data units): keeps growing with the separation, unlike JSD.",
        "|∂L_G/∂θ| sat.": "Gradient of E_pG[log(1 − D*)] with respect to the generator's offset θ.",
        "|∂L_G/∂θ| non-sat.": "Gradient of −E_pG[log D*] with respect to the generator's offset θ.",
    },
)
st.caption(
    f"|V − (2·JSD − log 4)| = {abs(r.value - r.jsd_identity):.1e} · log 2 = 0.6931471806 · "
    f"KL(p‖p_G) = {r.kl_p_pg:.4g} nats, KL(p_G‖p) = {r.kl_pg_p:.4g} nats"
)

show_critic = ui.checkbox("Also draw Figure 2's smooth 1-Lipschitz critic (green)", "critic", True)
ui.look_for(
    "the red D* is flat at ≈ 0 over every orange sample: nothing tells the generator where to go. "
    "The green critic keeps a slope of 1 there, pointing the samples towards the data."
)
st.latex(r"D^*(x) = \frac{p(x)}{p(x) + p_G(x)} \qquad V(G, D^*) = 2\,\mathrm{JSD}(p\,\|\,p_G) - \log 4")
ui.chart(figs.discriminator_figure(r, show_critic=show_critic), key="fig1")
st.latex(r"f^*(x) = \int_{-\infty}^{x} \operatorname{sign}\big(F_G(t) - F_p(t)\big)\,dt")
st.caption(
    "Green: f*, the optimal critic of W1's dual (the sup over 1-Lipschitz f of E_p f − E_pG f), drawn "
    "rescaled to [0, 1] so it shares D*'s axis; its slope is ±1 everywhere, never flat."
)

st.subheader("Problem 1: D* maximises the objective at every x")
# Side by side on laptops; stacked on the projector, where the larger fonts need the full width.
c3, c4 = (st.container(), st.container()) if ctx.presenter else st.columns(2)
with c3:
    ui.look_for(
        "the red curve (D = D*) lies above the grey one (D = ½) everywhere; the gap integrates to 2·JSD."
    )
    st.latex(r"\max_{D(x)}\; p(x)\log D(x) + p_G(x)\log\big(1 - D(x)\big)")
    ui.chart(figs.objective_figure(r), key="objective")
with c4:
    ui.look_for("the star sits at the top of the curve: setting the derivative to 0 gives D = p/(p + p_G).")
    st.latex(
        r"0 = \frac{p(x_0)}{D} - \frac{p_G(x_0)}{1 - D} \;\Rightarrow\; D = \frac{p(x_0)}{p(x_0) + p_G(x_0)}"
    )
    ui.chart(figs.probe_figure(r), key="probe_fig")

st.subheader("Slide the generator away: vanishing gradients")
ui.look_for(
    "JSD stops changing once the densities separate, and the saturating loss's gradient falls by orders "
    "of magnitude; the non-saturating loss −log D* keeps pushing the generator."
)
st.latex(
    r"L_G^{\mathrm{sat}}(\theta) = \mathbb{E}_{x\sim p_G}\big[\log(1 - D^*(x))\big] \qquad "
    r"L_G^{\mathrm{ns}}(\theta) = -\,\mathbb{E}_{x\sim p_G}\big[\log D^*(x)\big]"
)
st.latex(
    r"\frac{\partial L_G}{\partial\theta} = \mathbb{E}_{p_G}\!\big[w(x)\,(s_G(x) - s_p(x))\big],\quad "
    r"w = D^* \text{ (sat.)},\; 1 - D^* \text{ (non-sat.)},\quad s = \tfrac{d}{dx}\log(\cdot)"
)
ui.chart(figs.sweep_figure(r), key="sweep")
st.caption(
    "p_G(x; θ) is the chosen shape moved by θ; D* is held fixed while differentiating (the generator's "
    "step), and the integrals are exact sums on a grid of the densities."
)

st.subheader("§1.3's other tricks: least squares and instance noise")
ui.look_for(
    "with the ideal least-squares critic the generator minimises a Pearson χ² divergence, and it saturates at 1 "
    "when the supports separate, just as JSD saturates at log 2. Instance noise blurs both densities: the "
    "supports overlap again, D* gets a slope over the generated samples and the saturating gradient comes back "
    "(green above red, orders of magnitude)."
)
st.latex(
    r"D^*_{\mathrm{LS}}(x) = \frac{p - p_G}{p + p_G},\qquad "
    r"V_{\mathrm{LS}}(G, D^*_{\mathrm{LS}}) = \tfrac12\,\mathbb{E}_p\big[D^{*2}_{\mathrm{LS}}\big] + "
    r"\tfrac12\,\mathbb{E}_{p_G}\big[D^{*2}_{\mathrm{LS}}\big] = \tfrac12\int\frac{(p - p_G)^2}{p + p_G}\,dx"
    r" = \tfrac12\,\chi^2_{\mathrm{Pearson}}\big(2p_G\,\|\,p + p_G\big)"
)
st.latex(
    r"\text{instance noise: } \tilde x = x + n,\; n \sim \mathcal N(0, \sigma^2):\quad "
    r"p_\sigma = p * \mathcal N(0, \sigma^2),\quad D^*_\sigma = \frac{p_\sigma}{p_\sigma + p_{G,\sigma}}"
)
ui.metric_row(
    {
        "V_LS(G, D*_LS)": f"{r.lsgan_value:.9f}",
        "½·χ²_Pearson(2p_G ‖ p + p_G)": f"{r.lsgan_chi2:.9f}",
        f"JSD with noise σ = {r.noise_sigma:g}": f"{r.jsd_noisy:.6f} nats",
        f"|∂L_G/∂θ| sat., noise σ = {r.noise_sigma:g}": f"{abs(r.grad_saturating_noisy):.2e}",
    },
    help={
        "V_LS(G, D*_LS)": "The least-squares generator's loss against the ideal critic (codes a = −1, b = 1, c = 0).",
        "½·χ²_Pearson(2p_G ‖ p + p_G)": "Mao et al. 2017: equal to V_LS when b − c = 1 and b − a = 2.",
    },
)
ui.chart(figs.instance_noise_figure(r), key="noise_fig")
ui.chart(figs.tricks_sweep_figure(r), key="tricks_sweep")
st.caption(
    "Least squares: the critic regresses real samples onto b = 1 and generated ones onto a = −1; the generator "
    "pulls its samples towards c = 0 (Mao et al. 2017; with the 0-1 coding used in the 1D lab the identity does "
    "not hold exactly). Noise: Gaussian mixtures stay Gaussian mixtures when blurred, so p_σ is exact."
)
