"""The MNIST tab of "Adversarial training" (sheet §2.3, Problem 4): launch adversarial-training runs, watch clean
and robust accuracy per epoch, then compare the robustness curves, the night shift and Problem 4, measured.

Training never happens here: each run is its own process (core.runs), this tab only reads the run folders.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import streamlit as st

from core import runs
from core.figures import robust_mnist as figs
from core.mnist.evaluate import RobustEvaluation
from core.mnist.robust import EVALUATION, MODE_NAMES, MODES, RobustConfig
from ui import common as ui
from ui import runs as runs_ui

KIND = "robust"
RUNS_KEY = "mn_runs"


@st.cache_data(show_spinner=False, max_entries=64)
def _evaluation(path: str, mtime_ns: int) -> RobustEvaluation | None:
    """evaluation.json of a finished run (cached on its path and modification time)."""
    try:
        return RobustEvaluation.from_dict(json.loads(Path(path).read_text()))
    except (OSError, ValueError):
        return None


def load_evaluation(info: runs.RunInfo) -> RobustEvaluation | None:
    path = info.path / EVALUATION
    if not path.is_file():
        return None
    return _evaluation(str(path), path.stat().st_mtime_ns)


@st.cache_data(show_spinner=False)
def _data_label() -> str:
    from core.mnist.data import load_mnist

    try:
        return load_mnist("auto").description
    except ValueError as err:
        return f"MNIST could not be loaded: {err}"


def run_label(info: runs.RunInfo) -> str:
    """'PGD-5 ε=0.3 · 10 ep · ab12' — what the legend says about a run."""
    try:
        cfg = RobustConfig(**info.config)
        text = f"{cfg.description} · {cfg.epochs} ep"
    except (TypeError, ValueError):
        text = info.config.get("mode", "?")
    return f"{text} · {info.run_id[-4:]}"


def _keep_valid(options: list[str]) -> None:
    """Runs come and go: a remembered selection that no longer exists is dropped before the picker is drawn."""
    value = st.session_state.get(RUNS_KEY)
    if isinstance(value, list):
        kept = [v for v in value if v in options]
        if kept != value:
            st.session_state[RUNS_KEY] = kept or options[:4]


def _launch_controls(ctx: ui.PageContext) -> list[str]:
    """Mode, ε, epochs and the launch buttons; returns the ids of runs launched in this rerun."""
    c1, c2, c3 = st.columns(3)
    with c1:
        mode = ui.select("Training mode", "mn_mode", MODES, "pgd", format_func=lambda m: MODE_NAMES[m],
                         help="How the inner maximum of the robust loss is approximated on each batch.")  # fmt: skip
    with c2:
        eps = ui.slider("Training radius ε (L∞, pixels in [0, 1])", "mn_eps", 0.05, 0.5, 0.3, 0.05,
                        help="The sheet trains on ‖δ‖∞ ≤ 0.5; MNIST's usual budget is 0.3.")  # fmt: skip
    with c3:
        epochs = ui.slider("Epochs", "mn_epochs", 1, 30, 10, 1,
                           help="Each epoch is one pass over the training digits; ε warms up over the first epochs (0.4 of the run for the single-step modes).")  # fmt: skip
    launched: list[str] = []
    b1, b2 = st.columns([1, 2])
    config = {
        "mode": mode,
        "eps": eps,
        "epochs": epochs,
        "warmup_epochs": _warmup(mode, epochs),
        "seed": ctx.seed,
    }
    with b1:
        run_id = runs_ui.launch_button(KIND, config, key="mn_launch", label=f"🚀 Launch {MODE_NAMES[mode]}")
        if run_id:
            launched.append(run_id)
    with b2:
        if st.button("🏁 Launch the comparison: standard · FGSM · fast (FGSM-RS) · PGD", key="mn_launch_all",
                     help="Four runs with the same ε and epochs; they queue and run one after the other."):  # fmt: skip
            with ui.user_errors():
                for m in MODES:
                    launched.append(
                        runs.launch(KIND, {**config, "mode": m, "warmup_epochs": _warmup(m, epochs)})
                    )
            st.toast(f"Queued {len(launched)} runs.", icon="🏁")
    return launched


def _warmup(mode: str, epochs: int) -> float | None:
    """ε warm-up: the mode's own default for the single-step modes (0.4·epochs keeps FGSM-RS clear of catastrophic
    overfitting); min(3, epochs/2) for the others, so a short run still trains at the full ε."""
    return None if mode in ("fgsm", "fgsm_rs") else min(3.0, epochs / 2)


def _live_board(selected: list[str]) -> None:
    """Status, progress and the per-epoch curves of the selected runs; refreshes itself while one is active."""
    infos = [runs.get_run(r) for r in selected]

    @runs_ui.live(active=any(i.is_active for i in infos), run_every=2.0)
    def board() -> None:
        current = []
        for rid in selected:
            try:
                current.append(runs.get_run(rid))
            except ValueError:
                continue
        for info in current:
            left, mid, right = st.columns([3, 5, 1.3])
            with left:
                st.markdown(f"**{run_label(info)}**")
                runs_ui.status_badge(info)
            with mid:
                runs_ui.progress_bar(info)
                if info.status == "running" and info.total and info.step >= info.total:
                    st.caption("training done — now the final evaluation (ε curves, night, Problem 4)…")
            with right:
                runs_ui.cancel_button(info, key=f"mn_cancel_{info.run_id}")
            if info.status == "failed" and info.error:
                st.error(f"{info.run_id} failed: {info.error}")
        series = [(run_label(i), i.config.get("mode", "?"), runs.read_metrics(i.run_id)) for i in current]
        eps_values = {i.config.get("eps") for i in current}
        eps = eps_values.pop() if len(eps_values) == 1 else None
        ui.look_for("the dashed PGD curves: the standard run's stays near 0; PGD training lifts it epoch by epoch, "
                    "and a collapse of the FGSM run's dashed line is catastrophic overfitting.")  # fmt: skip
        ui.chart(figs.live_accuracy_figure(series, eps), key="mn_fig_live")
        ui.look_for(
            "adversarial training pays per epoch for its inner attack: PGD-k costs about k+1 standard epochs."
        )
        ui.chart(figs.loss_and_time_figure(series), key="mn_fig_loss")
        runs_ui.rerun_when_changed(current, key="_mn_runs_signature")

    board()


def _results(infos: list[runs.RunInfo]) -> None:
    """The end-of-run report of the finished runs: ε curves, dimming, Problem 4, adversarial digits."""
    done = [(i, load_evaluation(i)) for i in infos if i.status == "done"]
    done = [(i, e) for i, e in done if e is not None]
    if not done:
        st.info("The robustness curves, the night test and Problem 4 appear here when a selected run has finished "
                "(each run ends with its own evaluation).")  # fmt: skip
        return
    st.subheader("Robustness curves: how far does the robustness reach?")
    st.latex(r"\text{accuracy}(\epsilon) = \frac{1}{n}\sum_{i} \mathbf{1}\Big[f_\theta(x_i + \delta) = y_i"
             r"\;\; \text{for the PGD-found } \delta,\ \|\delta\| \le \epsilon\Big]")  # fmt: skip
    curves = [(run_label(i), i.config.get("mode", "?"), c) for i, e in done for c in (e.linf, e.l2)]
    eps_train = {e.eps_train for _, e in done}
    ui.look_for("left: robust runs hold their accuracy up to ε_train and fall after it (set 2 of Problem 4); right: "
                "the L2 ball of radius ε_train is inside the L∞ box (set 3), larger L2 radii are not.")  # fmt: skip
    ui.chart(
        figs.eps_curves_figure(curves, eps_train.pop() if len(eps_train) == 1 else None), key="mn_fig_eps"
    )
    st.caption(f"Protocol: {done[0][1].linf.protocol} on the fixed test slice; a digit broken at ε counts as broken "
               "at every larger ε. An attack gives an upper bound on the true robust accuracy.")  # fmt: skip

    st.subheader("Night: stop signs in dim light (Problem 4, set 5)")
    st.latex(r"x \mapsto b\,x,\qquad \delta = (b-1)\,x,\qquad \|\delta\|_\infty = (1-b)\max_i x_i")
    ui.look_for("the robust model learnt to threshold ink at about ε_train above black: dim the digits until the "
                "ink falls under it and it fails, although no pixel was moved adversarially.")  # fmt: skip
    ui.chart(figs.dimming_figure([(run_label(i), i.config.get("mode", "?"), e.dimming) for i, e in done]),
             key="mn_fig_dim")  # fmt: skip

    st.subheader("Problem 4, measured")
    by_label = {run_label(i): (i, e) for i, e in done}
    default = next(
        (lbl for lbl, (i, _) in by_label.items() if i.config.get("mode") != "standard"), next(iter(by_label))
    )
    choice = st.selectbox("Model for the table and the digits", list(by_label), index=list(by_label).index(default),
                          key="mn_p4_run")  # fmt: skip
    info, evaluation = by_label[choice]
    p4 = evaluation.problem4
    st.markdown(f"Trained robust on **‖δ‖∞ ≤ {p4.eps_train:g}** — which of the five sets (scaled to MNIST) should "
                "it also be robust to? The answer comes from set containment, the number from an attack:")  # fmt: skip
    st.latex(r"\|\delta\|_\infty \le \|\delta\|_2 \le \sqrt{d}\,\|\delta\|_\infty, \quad d = 784"
             r"\qquad\Rightarrow\qquad \{\|\delta\|_2 \le \epsilon\} \subseteq \{\|\delta\|_\infty \le \epsilon\}")  # fmt: skip
    table = pd.DataFrame([{
        "set": f"{r.number}. {r.label}",
        "predicted": "✓ robust (inside the ball)" if r.predicted else "✗ no guarantee",
        "why": r.reason,
        "measured accuracy": f"{100 * r.accuracy:.1f} %",
        "protocol": r.protocol,
    } for r in p4.rows])  # fmt: skip
    st.dataframe(table, hide_index=True, width="stretch")
    st.caption(
        f"Reference: {100 * p4.train_accuracy:.1f} % on the training ball itself ({p4.train_protocol})."
    )
    ui.look_for("green bars (sets inside the training ball) stay near the training-ball accuracy; red ones carry no "
                "promise — and the night (set 5) is the one that breaks a robust model.")  # fmt: skip
    ui.chart(figs.problem4_figure(p4), key="mn_fig_p4")
    ui.look_for(
        "the attacked digits still look like their labels to us; ✗ marks those the model now gets wrong."
    )
    ui.chart(figs.adversarial_grid_figure(evaluation.grid), key="mn_fig_grid")
    ui.metric_row({
        "clean accuracy": f"{100 * evaluation.clean_acc:.1f} %",
        f"FGSM ε = {evaluation.eps_train:g}": f"{100 * evaluation.fgsm_acc:.1f} %",
        f"PGD ε = {evaluation.eps_train:g}": f"{100 * evaluation.pgd_acc:.1f} %",
        "test digits": f"{evaluation.n:,}",
    }, help={f"PGD ε = {evaluation.eps_train:g}": evaluation.pgd_protocol})  # fmt: skip


def render_mnist_tab(ctx: ui.PageContext) -> None:
    """The whole MNIST part of the Adversarial training page."""
    st.markdown(
        "Adversarial training on real digits. Each run is a separate process (it keeps going if you close the page "
        "and every session sees it). Four ways to approximate the inner maximum of the robust loss:"
    )
    st.latex(r"\theta^* = \arg\min_\theta \sum_{(x,y)\in D}\; \max_{\|\delta\|_\infty \le \epsilon}"
             r" L_\theta(x+\delta, y)")  # fmt: skip
    st.markdown(
        "- **standard** — no inner maximum (δ = 0);\n"
        "- **FGSM** — one step δ = ε·sign(∇ₓL) from δ = 0;\n"
        "- **fast (FGSM-RS)** — one FGSM step from a start, at FGSM's cost. Wong et al. 2020 start at random in the "
        "box and step 1.25·ε; on 4,000 digits that *overfits catastrophically* (PGD accuracy collapses). Here each "
        "digit starts from **its own perturbation of the last epoch** plus a little noise (ATTA, Zheng et al. 2020), "
        "so the single steps add up over the epochs to a PGD-strength attack (formula below). A guard still checks "
        "PGD accuracy each epoch and halves the step if it collapses;\n"
        "- **PGD** — k projected steps from a random start (Madry et al. 2018)."
    )
    st.latex(r"\delta_{\text{epoch}} = \Pi_{\|\delta\|_\infty\le\epsilon}\Big(\delta_{\text{last epoch}} + \eta + "
             r"\tfrac{\epsilon}{2}\,\mathrm{sign}\,\nabla_x L_\theta(x + \delta_{\text{last epoch}} + \eta)\Big),"
             r"\quad \eta \sim U[-\tfrac{\epsilon}{4}, \tfrac{\epsilon}{4}]")  # fmt: skip
    st.caption(f"Data: {_data_label()} Same CLI: `python -m core.train robust --mode fgsm_rs --eps 0.3 --epochs 10 "
               "--device auto`")  # fmt: skip
    launched = _launch_controls(ctx)

    infos = runs.list_runs(kind=KIND)
    if not infos:
        st.info("No MNIST adversarial-training runs yet: launch one above (a PGD run of 10 epochs takes about a "
                "minute on a quiet laptop CPU), or the comparison of all four modes.")  # fmt: skip
        return
    ids = [i.run_id for i in infos]
    if launched:
        previous = [r for r in st.session_state.get(RUNS_KEY, []) if r in ids and r not in launched]
        st.session_state[RUNS_KEY] = (launched + previous)[:6]
    _keep_valid(ids)
    selected = runs_ui.run_picker(
        KIND, key=RUNS_KEY, label="Runs to show (overlaid)", multi=True, default_count=4
    )
    if not selected:
        st.info("Pick one or more runs to see their curves.")
        return
    _live_board(selected)
    by_id = {i.run_id: i for i in infos}
    _results([by_id[r] for r in selected if r in by_id])
