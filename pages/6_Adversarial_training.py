"""Adversarial training — sheet §2.3, Problem 4. Training on the worst point of each ε-ball moves the boundary
away from the data; robustness to one set carries over only to the sets inside it."""

import threading
from collections import OrderedDict

import numpy as np
import pandas as pd
import streamlit as st

from core import robust2d
from core.figures import robust2d as figs
from core.perturbation_sets import containment_reason, data_bound_of, training_ball
from core.toy2d import DATASETS
from ui import common as ui

ctx = ui.setup_page("Adversarial training", "🛡️")
st.title("🛡️ Adversarial training")

tab_2d, tab_mnist = st.tabs(["2D toy", "MNIST"])


@st.cache_resource(show_spinner=False)
def _results() -> tuple[OrderedDict, threading.Lock]:
    """Trained pairs shared by every session, newest last (a small LRU: st.cache_data cannot drive a progress bar
    made outside the cached function)."""
    return OrderedDict(), threading.Lock()


def _train(config: robust2d.Robust2DConfig, progress=None) -> robust2d.Robust2DResult:
    store, lock = _results()
    with lock:
        if config in store:
            store.move_to_end(config)
            return store[config]
    result = robust2d.run_robust2d(config, progress)  # outside the lock: other sessions keep reading
    with lock:
        store[config] = result
        while len(store) > 24:
            store.popitem(last=False)
    return result


@st.cache_data(show_spinner="Attacking both models with each set of Problem 4…", max_entries=64)
def _sets(config: robust2d.Robust2DConfig, brightness: float, l2_large: float) -> robust2d.SetAccuracy:
    return robust2d.problem4_accuracy(_train(config), brightness, l2_large)


# The MNIST tab is filled first: a bad 2D setting stops the script (ui.user_errors), and the MNIST tab must
# still be there when it does.
with tab_mnist:
    try:
        from ui.robust_mnist import render_mnist_tab
    except ImportError:
        render_mnist_tab = None
    if render_mnist_tab is None:
        st.info("MNIST adversarial training arrives with the MNIST run manager.")
    else:
        render_mnist_tab(ctx)

with tab_2d:
    st.markdown(
        "Two identical MLPs, the same data, the same mini-batches. One minimises the usual loss, the other "
        "the **robust loss**, whose inner maximum PGD finds for every training point at every step."
    )
    st.latex(
        r"\text{standard: } \min_\theta \sum_{(x,y)\in D} L_\theta(x, y) \qquad\qquad "
        r"\text{robust: } \min_\theta \sum_{(x,y)\in D}\; \max_{\|\delta\|_\infty \le \epsilon} "
        r"L_\theta(x+\delta, y)"
    )
    c1, c2, c3, c4 = st.columns(4)
    with c1:
        dataset = ui.select("2D data set", "data", DATASETS, "moons")
    with c2:
        noise = ui.slider("Data noise", "noise", 0.0, 0.5, 0.1, 0.05)
    with c3:
        eps = ui.slider(
            "Training radius ε (L∞)",
            "eps",
            0.0,
            0.8,
            0.3,
            0.05,
            help="The sheet's ‖δ‖∞ ≤ 0.5, in this data set's units (data span about [−2, 2]).",
        )
    with c4:
        epochs = ui.slider("Epochs", "epochs", 5, 80, 30, 5)
    with ui.user_errors():
        config = robust2d.Robust2DConfig(dataset=dataset, noise=noise, eps=eps, epochs=epochs, seed=ctx.seed)
        bar = ui.Progress("Training both models (PGD inner maximisation for the robust one)")
        result = _train(config, bar)
        bar.done()

    final = {m: (result.clean_acc[m][-1], result.robust_acc[m][-1]) for m in robust2d.MODELS}
    ui.metric_row(
        {
            "standard · clean": f"{100 * final['standard'][0]:.0f} %",
            f"standard · robust (ε = {eps:g})": f"{100 * final['standard'][1]:.0f} %",
            "robust · clean": f"{100 * final['robust'][0]:.0f} %",
            f"robust · robust (ε = {eps:g})": f"{100 * final['robust'][1]:.0f} %",
        },
        help={
            f"standard · robust (ε = {eps:g})": "test accuracy when PGD may move each point within its ε-square",
            f"robust · robust (ε = {eps:g})": "test accuracy when PGD may move each point within its ε-square",
        },
    )
    cost = result.passes_per_batch
    st.caption(
        f"Training cost, counted: each batch takes {cost['standard']:g} forward + backward pass for the standard "
        f"model and {cost['robust']:g} for the robust one (PGD-{config.pgd_steps} inside every step, then the "
        f"update): {cost['robust'] / cost['standard']:g}× slower — the sheet's first drawback."
    )
    ui.look_for(
        "press ▶: the robust model's boundary keeps an ε-square of room around the training points, "
        "the standard one hugs them."
    )
    ui.chart(figs.boundary_animation(result), key="fig_boundaries")
    ui.look_for(
        "dashed = accuracy under attack. Robust training buys robust accuracy, sometimes at a small cost "
        "in clean accuracy — the sheet's 'drawbacks'."
    )
    ui.chart(figs.accuracy_curves(result), key="fig_acc")

    st.header("Problem 4 · robust to ‖δ‖∞ ≤ ε — robust to what else?")
    st.markdown(
        "The sheet trains a stop-sign detector on ‖δ‖∞ ≤ 0.5 and asks about ‖δ‖∞ ≤ 0.1, ‖δ‖∞ ≤ 1.0, ‖δ‖₂ ≤ 0.5, "
        "‖δ‖₂ ≤ 1.0 and night-time images. Here the same five sets are scaled to ε = "
        f"{eps:g} (ε/5, 2ε, ε, 2ε and a dimming x ↦ b·x). A set is covered exactly when it fits **inside** the "
        "training ball, which the norm inequalities decide:"
    )
    st.latex(
        r"\|\delta\|_\infty \;\le\; \|\delta\|_2 \;\le\; \sqrt{d}\,\|\delta\|_\infty"
        r"\qquad\Rightarrow\qquad \{\|\delta\|_2 \le \epsilon\} \subseteq \{\|\delta\|_\infty \le \epsilon\}"
    )
    c1, c2 = st.columns(2)
    with c1:
        brightness = ui.slider("Night: brightness b of x ↦ b·x", "b", 0.05, 1.0, 0.3, 0.05)
    with c2:
        l2_large = ui.slider("Choice 4: L2 radius in units of ε", "l2_large", 1.1, 4.0, 2.0, 0.1)
    with ui.user_errors():
        sets = _sets(config, brightness, l2_large)
    ball = training_ball(eps)
    x_all = np.concatenate([result.x_train, result.x_test])
    bound = data_bound_of(x_all)
    rows = []
    for item, inside, acc_s, acc_r in zip(
        sets.items, sets.contained, sets.accuracy["standard"], sets.accuracy["robust"], strict=True
    ):
        rows.append(
            {
                "choice": item.label,
                "inside ‖δ‖∞ ≤ ε?": "✓ contained" if inside else "✗ not contained",
                "why": containment_reason(ball, item.pset, 2, bound),
                "robust model": f"{100 * acc_r:.0f} %",
                "standard": f"{100 * acc_s:.0f} %",
            }
        )
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    st.caption(
        f"max|xᵢ| over the data = {bound:.2f}; d = 2. The answers come from comparing the largest ‖δ‖ of "
        "each set with ε, not from a table. The last two columns: test accuracy under each set."
    )
    left, right = st.columns(2)
    with left:
        ui.look_for(
            "green sets lie inside the black training square; the red ones poke out — and the night "
            "shift's δ = (b−1)·x (crosses) is largest for the points farthest from the origin."
        )
        ui.chart(figs.problem4_sets_figure(sets.items, sets.contained, ball, x_all), key="fig_sets")
    with right:
        ui.look_for(
            "on the ✓ sets the robust model keeps at least its ε-ball accuracy; on the ✗ sets nothing "
            "is promised, and the accuracy falls."
        )
        ui.chart(figs.set_accuracy_figure(result, sets), key="fig_set_acc")
