"""MNIST GAN — sheet §1 on real data: launch a GAN with a chosen loss and watch the game play out live.

Training runs in its own process (core.train); this page launches it and polls its folder every second:
losses, D(x) vs D(G(z)), quality judged by a MNIST classifier, class coverage (mode collapse), samples.
"""

import json

import numpy as np
import streamlit as st

from core import runs
from core.device import available_devices
from core.figures import mnist_gan as figs
from core.mnist import gan
from core.mnist.models import ARCHS
from ui import common as ui
from ui import runs as runs_ui

ctx = ui.setup_page("MNIST GAN", "🖼️")
st.title("🖼️ MNIST GAN")
st.markdown(
    "The GAN game of §1 on real digits: a generator G turns noise z into 28×28 images, a critic D scores real "
    "against generated ones, and they take turns. Pick a loss — the sheet's minimax game, the non-saturating "
    "fix, or a **smooth critic** (weight clipping, gradient penalty, spectral norm, least squares) — launch, "
    "and watch. Runs live in their own process: reload the page, or start one from a terminal, and it is here."
)


@st.cache_data(show_spinner=False, ttl=60)
def data_label() -> tuple[str, str]:
    """Which MNIST a new run will train on (IDX files or the offline subset)."""
    from core.mnist.data import load_mnist

    data = load_mnist(source="auto")
    return data.label, data.description


# -- settings of a new run (all in the URL) ---------------------------------------------------------------
with st.expander("⚙️ New run: loss, architecture, steps, learning rates, device", expanded=True):
    c1, c2, c3 = st.columns(3)
    with c1:
        loss = ui.select("Loss", "loss", gan.LOSSES, gan.GanConfig.loss, format_func=gan.LOSS_LABELS.get,
                         help="Each is a critic objective plus a generator objective (formulas below).")  # fmt: skip
        arch = ui.radio("Architecture", "arch", ARCHS, gan.GanConfig.arch,
                        format_func={"mlp": "MLP (fast on CPU)", "dcgan": "small DCGAN (conv, best on GPU)"}.get)  # fmt: skip
        conditional = ui.toggle("Class-conditional G(z, y)", "conditional",
                                gan.GanConfig.conditional,
                                help="G gets the digit to draw beside z; D scores (image, digit) pairs. Each digit "
                                     "is a simpler target, so it learns faster. Off: one G for all digits, "
                                     "and mode collapse can drop some.")  # fmt: skip
    with c2:
        steps = ui.number("Generator steps", "steps", 10, 200_000, gan.GanConfig.steps, 10)
        batch = ui.select("Batch size", "batch", [32, 64, 128, 256], gan.GanConfig.batch_size)
        auto_psi = gan.GanConfig(conditional=conditional).sample_truncation
        psi = ui.slider("Truncation ψ of the samples shown", "psi", 0.3, 1.5, auto_psi, 0.1,
                        help="Samples use z·ψ. Below 1: cleaner, more typical digits with less variety; "
                             "above 1: wilder ones. Training always uses ψ = 1.")  # fmt: skip
    with c3:
        lrs = [5e-5, 1e-4, 2e-4, 5e-4, 1e-3]
        lr_g = ui.select(
            "Learning rate of G", "lr_g", lrs, gan.GanConfig.lr_g, format_func=lambda v: f"{v:g}"
        )
        lr_d = ui.select(
            "Learning rate of D", "lr_d", lrs, gan.GanConfig.lr_d, format_func=lambda v: f"{v:g}"
        )
        device = ui.select("Device", "device", available_devices(), "auto",
                           help="auto = CUDA if present, else Apple MPS, else CPU.")  # fmt: skip
    critic_obj, gen_obj = gan.LOSS_FORMULAS[loss]
    f1, f2 = st.columns([3, 2])
    f1.markdown("**Critic / discriminator**")
    f1.latex(critic_obj)
    f2.markdown("**Generator**")
    f2.latex(gen_obj)
    if conditional:
        st.caption("Class-conditional: G(z) becomes G(z, y) and D(x) becomes D(x, y), with the real digit's "
                   "label y for x and the same y asked of G. D reads the label by projection:")  # fmt: skip
        st.latex(r"D(x, y) = w^\top \phi(x) + b + e_y^\top \phi(x)")
    with ui.user_errors():
        label, description = data_label()
    st.caption(f"📦 Training data for a new run: **{label}** — {description}")
    config = {"loss": loss, "arch": arch, "steps": int(steps), "batch_size": int(batch), "lr_g": float(lr_g),
              "lr_d": float(lr_d), "conditional": bool(conditional), "truncation": float(psi), "device": device,
              "seed": ctx.seed}  # fmt: skip
    new_id = runs_ui.launch_button("gan", config, key="launch", label="🚀 Launch GAN run")
    if new_id:
        st.session_state["run"] = new_id  # show the run just launched (the picker below is not drawn yet)

# -- which run to watch (default: the newest GAN run) -----------------------------------------------------
run_id = runs_ui.run_picker("gan", key="run", label="Run to watch (newest first)")
if run_id is None:
    st.info("No GAN runs yet: press **Launch GAN run** above, or from a terminal: "
            "`python -m core.train gan --loss wgan-gp --arch dcgan --steps 3000`.")  # fmt: skip
    st.stop()
first = runs.get_run(run_id)


@runs_ui.live(active=first.is_active)
def board() -> None:
    try:
        info = runs.get_run(run_id)
    except ValueError:
        st.warning(f"Run {run_id} is gone (its folder was removed).")
        return
    runs_ui.rerun_when_changed([info], key="_gan_run_signature")  # finished: full rerun stops the polling
    cfg = info.config
    head = st.columns([3, 1, 1])
    run_data = runs.artifact_path(info.run_id, "data.json")
    source = json.loads(run_data.read_text()).get("label", "?") if run_data.is_file() else "loading…"
    precision = runs.artifact_path(info.run_id, gan.PRECISION)
    numerics = gan.precision_text(json.loads(precision.read_text()) if precision.is_file() else None)
    conditional = bool(cfg.get("conditional", False))
    kind = "class-conditional" if conditional else "unconditional"
    head[0].markdown(f"**{info.run_id}** · loss **{cfg.get('loss')}** · {cfg.get('arch')} · {kind} · batch "
                     f"{cfg.get('batch_size')} · device {info.device or '–'} ({numerics}) · data: {source}")  # fmt: skip
    with head[1]:
        runs_ui.status_badge(info)
    with head[2]:
        runs_ui.cancel_button(info, key="cancel")
    runs_ui.progress_bar(info)
    if info.status == "failed":
        st.error(f"**The run failed:** {info.error}", icon="❌")
    curves = gan.curves_from_metrics(runs.read_metrics(info.run_id))
    last = lambda a, fmt: fmt.format(a[-1]) if len(a) else "–"  # noqa: E731
    shown = {"MNIST score (max 10)": last(curves.mnist_score, "{:.2f}"), "MNIST-FD (0 = real)": last(curves.mnist_fd, "{:.1f}"),
             "digits present": last(curves.classes_covered, "{:.0f}/10")}  # fmt: skip
    if conditional:
        shown["drew the digit asked"] = last(100 * curves.label_agreement, "{:.0f} %")
    shown["images / s"] = last(curves.images_per_s, "{:,.0f}")
    ui.metric_row(
        shown,
        help={"MNIST score (max 10)": "exp E_x KL(p(y|x) ‖ p(y)) with a MNIST classifier: confident AND varied digits",
              "MNIST-FD (0 = real)": "Fréchet distance of the classifier's features, generated vs real test digits",
              "drew the digit asked": "share of G(z, y) that the MNIST classifier reads as the digit y"},
    )  # fmt: skip
    left, right = st.columns([1, 1])
    with left:
        side = 10 if conditional else gan.GRID_SIDE
        ui.look_for(
            f"The same {side * side} noise vectors z every time: watch blobs turn into digits as training goes on."
            + (" Row r is the digit r asked of G." if conditional else "")
        )
        grid = runs.artifact_path(info.run_id, "samples.png")
        psi = cfg.get("truncation") or gan.GanConfig(conditional=conditional).sample_truncation
        what = "G(z, y): row = digit y" if conditional else "G(z)"
        if grid.is_file():
            st.image(
                grid.read_bytes(),
                caption=f"{what}, fixed noise z, truncation ψ = {psi:g} · step {info.step:,}",
                width="stretch",
            )
        else:
            st.caption("No samples yet.")
    with right:
        ui.look_for(
            "A healthy generator draws every digit about equally; grey bars are digits it has dropped."
        )
        step = int(curves.eval_step[-1]) if len(curves.eval_step) else None
        ui.chart(figs.coverage_figure(curves.last_fractions, step), key="coverage_chart")
    c1, c2 = st.columns(2)
    with c1:
        ui.look_for(
            "Neither loss should run away: a critic loss stuck at 0 means D wins and G's gradient vanishes."
        )
        ui.chart(figs.losses_figure(curves, str(cfg.get("loss"))), key="loss_chart")
    with c2:
        ui.look_for(
            "D(x) above D(G(z)): the critic still tells real from fake; the gap closing means G is catching up."
        )
        ui.chart(figs.critic_outputs_figure(curves, str(cfg.get("loss"))), key="critic_chart")
    ui.look_for(
        "The score climbs towards 10 and MNIST-FD falls towards 0 as the samples turn into real digits."
    )
    l1, l2 = st.columns(2)
    l1.latex(r"\text{MNIST score} = \exp\big(\mathbb{E}_x\, \mathrm{KL}(p(y|x)\,\|\,p(y))\big)")
    l2.latex(
        r"\text{MNIST-FD} = \|\mu_r-\mu_g\|^2 + \mathrm{Tr}\big(\Sigma_r+\Sigma_g-2(\Sigma_r\Sigma_g)^{1/2}\big)"
    )
    ui.chart(figs.quality_figure(curves), key="quality_chart")
    st.caption("p(y|x), μ and Σ come from a small CNN trained once on the same MNIST (its 128-d penultimate "
               "layer gives the features); r = real test digits, g = 1,000 generated ones.")  # fmt: skip


board()


@st.cache_data(show_spinner=False, max_entries=64)
def drawn_grid(path: str, mtime: float, digit: int | None, psi: float, seed: int) -> tuple[np.ndarray, int]:
    """A 10×10 grid from the checkpoint at `path` and its step (mtime: a new checkpoint is a new cache entry)."""
    generator, _, step = gan.load_generator(path)
    return gan.draw_grid(generator, digit, psi, seed), step


# -- draw from the run's latest averaged generator, here and now ---------------------------------------------
checkpoint = runs.artifact_path(run_id, "checkpoint.pt")
if runs.get_run(run_id).step > 0 and checkpoint.is_file():
    st.subheader("🎨 Draw from this run")
    conditional = bool(first.config.get("conditional", False))
    left, right = st.columns([2, 3])
    with left:
        st.markdown("The run's latest averaged generator Ḡ, sampled now with your settings. Training is not "
                    "touched: ψ only scales the noise the drawings start from.")  # fmt: skip
        st.latex(r"x = \bar G(\psi z, y),\quad z \sim \mathcal{N}(0, I)" if conditional
                 else r"x = \bar G(\psi z),\quad z \sim \mathcal{N}(0, I)")  # fmt: skip
        digit = None
        if conditional:
            digit = ui.select("Digit y asked of G", "draw_digit", ["all", *range(10)], "all",
                              format_func=lambda d: "all ten (a row each)" if d == "all" else str(d))  # fmt: skip
            digit = None if digit == "all" else int(digit)
        psi_draw = ui.slider("Truncation ψ", "draw_psi", 0.0, 1.5,
                             float(first.config.get("truncation") or gan.GanConfig(conditional=conditional).sample_truncation), 0.05,
                             help="0: every drawing of a digit is the same 'average' G(0, y). 1: z as in "
                                  "training. Above 1: rarer, rougher drawings.")  # fmt: skip
        draw_seed = ui.number("Noise seed", "draw_seed", 0, 10_000, 0, 1, help="Another seed, other z.")
        ui.look_for("Slide ψ towards 0: the variety within a digit shrinks to one prototype; "
                    "towards 1.5: the strokes get wilder and some digits break.")  # fmt: skip
    with right, ui.user_errors():
        grid, at_step = drawn_grid(str(checkpoint), checkpoint.stat().st_mtime, digit, float(psi_draw),
                                   int(draw_seed))  # fmt: skip
        if not conditional:
            what = "Ḡ(ψz)"
        else:
            what = "all digits, row r = digit r" if digit is None else f"digit y = {digit}"
        st.image(grid, caption=f"Ḡ from the checkpoint of step {at_step:,} · {what} · ψ = {psi_draw:g} · "
                               f"seed {draw_seed}", width="stretch")  # fmt: skip
