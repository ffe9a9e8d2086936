"""1D GAN critics — sheet §1.3, Figures 1–2. A perfect discriminator gives the generator no signal;
smooth (Lipschitz) critics — weight clipping, gradient penalty, spectral normalisation — restore it."""

import streamlit as st

from core.densities import PRESET_LABELS, PRESETS
from core.figures import gan1d as figs
from core.figures.style import apply_theme
from core.gan1d import (
    CRITIC_LABELS,
    CRITIC_SHORT_LABELS,
    CRITICS,
    DEFAULT_CRITICS,
    Gan1DConfig,
)
from core.gan1d.jobs import Gan1DJobs
from ui import common as ui

PAGE_STEPS = 1000  # the page's default run (the benchmark's is 2000): a few seconds on a laptop
D = Gan1DConfig()  # the defaults of every setting
STORE_SIZE = 12

ctx = ui.setup_page("1D GAN critics", "📉")
st.title("📉 1D GAN critics")
st.markdown(
    "Every critic below trains **its own generator**, all from the same start. The *perfect* critic is the "
    "optimal discriminator D\\* = p/(p+p_G), recomputed exactly from the two densities before each generator "
    "step (sheet Figure 1); the others are learned, and the Wasserstein ones are kept smooth (Figure 2). "
    "p_G is exact — the noise density pushed through the generator — not a histogram of samples."
)


@st.cache_resource(show_spinner=False)
def _jobs() -> Gan1DJobs:
    """The server's trainings keyed by their settings, shared by every visitor (a class presses Train once)."""
    return Gan1DJobs(max_running=2, keep=STORE_SIZE)


left, right = st.columns([1, 2])
with left:
    data = ui.select("Data p", "data", list(PRESETS), "two_modes", format_func=lambda k: PRESET_LABELS[k])
with right:
    start = ui.radio(
        "Generator starts",
        "start",
        ["disjoint", "overlapping"],
        "disjoint",
        format_func=lambda k: "far from the data" if k == "disjoint" else "on the data",
        help="'Far from the data' is the sheet's Figure 1 vs Figure 2 story: disjoint supports.",
    )
critics = ui.multiselect(
    "Critics to compare (each trains its own generator)",
    "critics",
    list(CRITICS),
    list(DEFAULT_CRITICS),
    format_func=lambda k: CRITIC_SHORT_LABELS[k],
)

with st.expander("Hyperparameters (defaults: the papers' toy settings, tuned for 1D)"):
    c1, c2, c3, c4 = st.columns(4)
    with c1:
        steps = ui.number("Generator steps", "steps", 0, 20000, PAGE_STEPS, 100)
        batch = ui.number("Batch", "batch", 2, 4096, D.batch, 32)
        n_critic = ui.number(
            "n_critic (WGAN critics)",
            "n_critic",
            1,
            20,
            D.n_critic,
            1,
            help="Critic steps per generator step for weight clipping and gradient penalty.",
        )
    with c2:
        lr_g = ui.number("Generator learning rate", "lr_g", 0.0, 0.1, D.lr_g, 1e-5, format="%.5f")
        lr_d = ui.number("Critic learning rate", "lr_d", 0.0, 0.1, D.lr_d, 1e-4, format="%.4f")
        lr_decay = ui.checkbox("Learning rates decay to 0", "lr_decay", D.lr_decay)
    with c3:
        beta1 = ui.number("Adam β1", "beta1", 0.0, 0.999, D.beta1, 0.05)
        beta2 = ui.number("Adam β2", "beta2", 0.0, 0.9999, D.beta2, 0.01)
        noise = ui.radio("Noise z", "noise", ["uniform", "gaussian"], D.noise)
    with c4:
        clip = ui.number("Weight clip c", "clip", -1.0, 1.0, D.clip, 0.01, format="%.3f")
        gp_lambda = ui.number("Gradient penalty λ", "gp_lambda", -100.0, 100.0, D.gp_lambda, 0.1)
        noise_sigma = ui.number("Instance noise σ₀", "noise_sigma", -10.0, 10.0, D.noise_sigma, 0.1)
    c5, c6, c7 = st.columns(3)
    with c5:
        perfect_loss = ui.radio(
            "Generator loss vs D*",
            "perfect_loss",
            ["minimax", "non_saturating"],
            D.perfect_loss,
            help="minimax = the sheet's log(1 − D*(G(z))), which saturates.",
        )
    with c6:
        standard_loss = ui.radio(
            "Generator loss vs learned D", "standard_loss", ["non_saturating", "minimax"], D.standard_loss
        )
    with c7:
        snapshots = ui.number("Frames (snapshots)", "snapshots", 2, 200, D.snapshots, 10)

with ui.user_errors():
    cfg = Gan1DConfig(
        data=data,
        critics=tuple(critics),
        start=start,
        noise=noise,
        steps=steps,
        batch=batch,
        n_critic=n_critic,
        lr_g=lr_g,
        lr_d=lr_d,
        beta1=beta1,
        beta2=beta2,
        lr_decay=lr_decay,
        clip=clip,
        gp_lambda=gp_lambda,
        noise_sigma=noise_sigma,
        perfect_loss=perfect_loss,
        standard_loss=standard_loss,
        snapshots=snapshots,
        seed=ctx.seed,
    )

jobs = _jobs()
clicked = st.button("▶ Train", type="primary", key="train")
job = jobs.get(cfg)
first_visit = "gan1d_seen" not in st.session_state
st.session_state["gan1d_seen"] = True

if (job is None or job.state == "failed") and (clicked or first_visit):
    job = jobs.submit(cfg)  # or joins the training another visitor started with the same settings
elif job is None:
    st.info("Settings changed: press **▶ Train** to run them.", icon="👆")
    st.stop()

if not job.finished.is_set():
    # The training runs on the server, not in this page run: a click or a reload here does not stop it, and
    # every visitor with these settings watches the same one. Step 0 is the first snapshot, so the first
    # frame shows at once; the panels refresh a few times while it trains.
    bar = ui.Progress(f"Training {len(cfg.critics)} generators against their critics")
    waiting = st.empty()
    live = st.empty()
    shown = 0
    while not job.finished.wait(0.2):
        if job.state == "queued":
            waiting.caption("⏳ Waiting for other visitors' trainings to finish (two train at a time)…")
            continue
        waiting.empty()
        bar(job.step, cfg.steps)
        partial = job.partial
        n = 0 if partial is None else len(partial.steps)
        if n and (shown == 0 or n - shown >= max(cfg.snapshots // 4, 1)):
            shown = n
            live.plotly_chart(
                apply_theme(figs.snapshot_figure(partial), ui.presenter_on()),
                width="stretch",
                key=f"live_{n}",
            )
    bar.done()
    waiting.empty()
    live.empty()
if job.error is not None:
    st.error(f"**The training failed:** {job.error}. Press ▶ Train to try again.", icon="⚠️")
    st.stop()
result = job.result

st.caption(
    f"Trained {int(result.steps[-1])} generator steps for {len(result.critics)} critics in "
    f"{result.seconds:.1f} s · seed {cfg.seed}"
)
ui.look_for(
    "press ▶ Play. Against the perfect D* (red dotted line) the generator's samples (orange dots) get no push at all — D* is flat at 0 "
    "on them — so they never move; the smooth critics slope towards the data and drag the samples across. "
    "Black lines: the push −∂ℓ_G/∂x on each sample (length ∝ log10 of its size; none below 10⁻⁶)."
)
# One line, full width: in two half-width columns the first pair of formulas was clipped on the right.
st.latex(
    r"D^*(x)=\frac{p(x)}{p(x)+p_G(x)},\qquad \min_G\ \mathbb{E}_{z}\big[\log\big(1-D^*(G(z))\big)\big]"
    r"\qquad\quad \min_G\max_{\|f\|_L\le 1}\ \mathbb{E}_p[f(x)]-\mathbb{E}_{z}[f(G(z))]"
)
ui.chart(figs.animation_figure(result), key="gan1d_panels")

ui.look_for(
    "the perfect critic's JSD stays at log 2 (its generator never moves); the Lipschitz critics bring "
    "JSD and W1 down. W1 measures how far the mass must travel, so it falls smoothly even while the "
    "supports are still disjoint — JSD only drops once they overlap."
)
st.latex(
    r"\mathrm{JSD}(p\,\|\,p_G)=\tfrac12\mathrm{KL}\big(p\,\|\,\tfrac{p+p_G}{2}\big)+\tfrac12\mathrm{KL}"
    r"\big(p_G\,\|\,\tfrac{p+p_G}{2}\big),\qquad W_1(p,p_G)=\int|F_p(x)-F_{p_G}(x)|\,dx"
)
ui.chart(figs.curves_figure(result), key="gan1d_curves")

final = result.final()
slopes = result.extras.get("max_slope", {})
st.dataframe(
    [
        {
            "critic": CRITIC_LABELS[c],
            "JSD start (nats)": round(f["jsd_start"], 3),
            "JSD end (nats)": round(f["jsd_final"], 3),
            "W1 start": round(f["w1_start"], 2),
            "W1 end": round(f["w1_final"], 2),
            "critic's largest slope max|f′(x)|": (
                round(slopes[c], 3) if c in slopes else "— (D* is exact, not a learned critic)"
            ),
        }
        for c, f in final.items()
    ],
    hide_index=True,
)
st.caption(
    "§1.3.1 measured: the largest slope of each learned critic (its logit, or the Wasserstein score) over the plotted "
    "range at the end. Spectral normalisation keeps it ≤ 1 by construction; the gradient penalty only *encourages* 1 "
    "(a soft penalty, so it can exceed 1); clipping keeps it small, by a constant that depends on the architecture."
)
for name, reason in zip(result.critics, result.stop_reason, strict=True):
    if reason:
        st.warning(f"{CRITIC_LABELS[name]}: {reason}. Its curve ends there.", icon="🛑")
