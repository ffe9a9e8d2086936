"""Plotly builders for the MNIST part of "Adversarial training": live curves, ε curves, dimming, Problem 4, digits.

Runs are given as (label, mode, rows) where rows are the run's metric lines (dicts with "epoch", "clean_acc",
"robust_acc", "loss", "epoch_time"); missing or non-finite values are skipped, never drawn.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.mnist.evaluate import AdversarialGrid, DimmingCurve, EpsCurve, Problem4Result

MODE_COLORS = {"standard": "#7f7f7f", "fgsm": "#ff7f0e", "fgsm_rs": "#2ca02c", "pgd": "#d62728"}
EXTRA_COLORS = ["#1f77b4", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"]
RunRows = tuple[str, str, Sequence[dict]]  # (legend label, mode, metric rows)


def run_color(mode: str, index: int) -> str:
    """The mode's colour for the first run of that mode, then distinct extra colours."""
    return MODE_COLORS.get(mode, EXTRA_COLORS[index % len(EXTRA_COLORS)])


def _series(rows: Sequence[dict], key: str) -> tuple[list[float], list[float]]:
    xs, ys = [], []
    for r in rows:
        x, y = r.get("epoch"), r.get(key)
        if (
            isinstance(x, int | float)
            and isinstance(y, int | float)
            and math.isfinite(x)
            and math.isfinite(y)
        ):
            xs.append(float(x))
            ys.append(float(y))
    return xs, ys


def _colors(runs: Sequence[RunRows]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i, (_, mode, _) in enumerate(runs):
        out.append(run_color(mode, i) if mode not in seen else EXTRA_COLORS[i % len(EXTRA_COLORS)])
        seen[mode] = i
    return out


def live_accuracy_figure(runs: Sequence[RunRows], eps: float | None = None) -> go.Figure:
    """Clean (solid) and PGD (dashed) test accuracy per epoch, one colour per run."""
    fig = go.Figure()
    for (label, _, rows), color in zip(runs, _colors(runs), strict=True):
        for key, dash, what in (("clean_acc", "solid", "clean"), ("robust_acc", "dash", "PGD")):
            x, y = _series(rows, key)
            fig.add_trace(go.Scatter(x=x, y=[100 * v for v in y], mode="lines+markers", name=f"{label} · {what}",
                                     line=dict(color=color, dash=dash, width=2.5), marker=dict(size=7)))  # fmt: skip
    last = max((r.get("epoch", 0) or 0 for _, _, rows in runs for r in rows), default=1)
    fig.update_xaxes(tick0=1, dtick=max(1, math.ceil(last / 10)))  # whole epochs only
    robust = f"PGD accuracy at ε = {eps:g}" if eps is not None else "PGD accuracy"
    fig.update_layout(title=f"Test accuracy per epoch — clean (solid) and {robust} (dashed)",
                      xaxis_title="epoch", yaxis_title="accuracy (%)", yaxis_range=[0, 101],
                      legend_title_text="run")  # fmt: skip
    return fig


def loss_and_time_figure(runs: Sequence[RunRows]) -> go.Figure:
    """Training loss (on the attacked batches) and seconds per epoch, side by side."""
    fig = make_subplots(
        rows=1, cols=2, subplot_titles=("training loss (on attacked batches)", "time per epoch")
    )
    for (label, _, rows), color in zip(runs, _colors(runs), strict=True):
        x, y = _series(rows, "loss")
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines+markers", name=label, legendgroup=label,
                                 line=dict(color=color, width=2.5)), row=1, col=1)  # fmt: skip
        x, y = _series(rows, "epoch_time")
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines+markers", name=label, legendgroup=label, showlegend=False,
                                 line=dict(color=color, width=2.5)), row=1, col=2)  # fmt: skip
    last = max((r.get("epoch", 0) or 0 for _, _, rows in runs for r in rows), default=1)
    fig.update_xaxes(title_text="epoch", tick0=1, dtick=max(1, math.ceil(last / 10)))
    fig.update_yaxes(title_text="cross-entropy (nats)", row=1, col=1)
    fig.update_yaxes(title_text="seconds per epoch (s)", rangemode="tozero", row=1, col=2)
    fig.update_layout(title="Loss and cost per epoch", legend_title_text="run")
    return fig


def eps_curves_figure(
    curves: Sequence[tuple[str, str, EpsCurve]], eps_train: float | None = None
) -> go.Figure:
    """Accuracy against ε for the L∞ ball (left) and the L2 ball (right); one colour per run."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("L∞ ball  ‖δ‖∞ ≤ ε", "L2 ball  ‖δ‖₂ ≤ ε"))
    per_run = list(
        dict.fromkeys((label, mode) for label, mode, _ in curves)
    )  # one colour per run, both panels
    color_of = dict(zip(per_run, _colors([(label, mode, []) for label, mode in per_run]), strict=True))
    shown: set[str] = set()
    for label, mode, curve in curves:
        color = color_of[(label, mode)]
        col = 1 if curve.norm == "inf" else 2
        ok = np.isfinite(curve.accuracy)
        fig.add_trace(go.Scatter(x=curve.eps[ok], y=100 * curve.accuracy[ok], mode="lines+markers", name=label,
                                 legendgroup=label, showlegend=label not in shown, line=dict(color=color, width=2.5),
                                 hovertemplate="ε = %{x}<br>accuracy %{y:.1f} %<extra>" + curve.protocol + "</extra>"),
                      row=1, col=col)  # fmt: skip
        shown.add(label)
    if eps_train is not None:
        fig.add_vline(x=eps_train, line_dash="dot", line_color="#444", row=1, col=1,
                      annotation_text=f"ε_train = {eps_train:g}", annotation_position="top right")  # fmt: skip
    fig.update_xaxes(title_text="ε (L∞, pixel units)", row=1, col=1)
    fig.update_xaxes(title_text="ε (L2, pixel units)", row=1, col=2)
    fig.update_yaxes(title_text="accuracy under PGD (%)", range=[0, 101])
    protocol = curves[0][2].protocol.split(",")[0] if curves else "PGD"
    fig.update_layout(
        title=f"Robustness curves: accuracy under {protocol} as the ball grows", legend_title_text="run"
    )
    return fig


def dimming_figure(curves: Sequence[tuple[str, str, DimmingCurve]]) -> go.Figure:
    """Accuracy on dimmed digits b·x as the brightness b falls ("stop signs at night")."""
    fig = go.Figure()
    colors = _colors([(label, mode, []) for label, mode, _ in curves])
    for (label, _, curve), color in zip(curves, colors, strict=True):
        ok = np.isfinite(curve.accuracy)
        fig.add_trace(go.Scatter(x=curve.brightness[ok], y=100 * curve.accuracy[ok], mode="lines+markers", name=label,
                                 line=dict(color=color, width=2.5),
                                 customdata=curve.linf_size[ok],
                                 hovertemplate="b = %{x}<br>accuracy %{y:.1f} %<br>mean ‖δ‖∞ = %{customdata:.2f}"
                                               "<extra></extra>"))  # fmt: skip
    fig.update_layout(title="Night: accuracy on dimmed digits b·x — a shift no norm ball describes",
                      xaxis_title="brightness b (1 = daylight)", yaxis_title="accuracy (%)",
                      xaxis_autorange="reversed", yaxis_range=[0, 101], legend_title_text="run")  # fmt: skip
    return fig


def problem4_figure(result: Problem4Result) -> go.Figure:
    """Measured accuracy on each set of Problem 4, green where containment predicts robustness, red where not."""
    labels = [f"{r.number}. {r.label}" for r in result.rows]
    colors = ["#2ca02c" if r.predicted else "#d62728" for r in result.rows]
    acc = [100 * r.accuracy for r in result.rows]
    fig = go.Figure()
    fig.add_trace(go.Bar(x=labels, y=acc, marker_color=colors, text=[f"{a:.0f} %" for a in acc],
                         textposition="outside", name="measured accuracy", showlegend=False,
                         hovertext=[r.reason for r in result.rows], hoverinfo="text+y"))  # fmt: skip
    # Legend entries for the two colours (empty traces).
    fig.add_trace(
        go.Bar(x=[None], y=[None], marker_color="#2ca02c", name="predicted ✓ (inside the training ball)")
    )
    fig.add_trace(go.Bar(x=[None], y=[None], marker_color="#d62728", name="predicted ✗ (no guarantee)"))
    fig.add_trace(go.Scatter(x=labels, y=[100 * result.train_accuracy] * len(labels), mode="lines",
                             line=dict(color="#444", dash="dot", width=2),
                             name=f"training ball ‖δ‖∞ ≤ {result.eps_train:g}: {100 * result.train_accuracy:.0f} %"))  # fmt: skip
    fig.update_layout(title="Problem 4 measured: accuracy on each perturbation set", xaxis_title="perturbation set",
                      yaxis_title="accuracy (%)", yaxis_range=[0, 112], barmode="overlay")  # fmt: skip
    return fig


def adversarial_grid_figure(grid: AdversarialGrid) -> go.Figure:
    """Top row: test digits with their predictions; bottom row: PGD adversarial versions and what the model says."""
    n = len(grid.y)
    titles = [f"{int(y)} → {int(p)}" for y, p in zip(grid.y, grid.pred, strict=True)]
    titles += [f"{'✗' if pa != y else '✓'} {int(pa)} ({100 * c:.0f}%)"
               for y, pa, c in zip(grid.y, grid.pred_adv, grid.conf_adv, strict=True)]  # fmt: skip
    fig = make_subplots(rows=2, cols=n, subplot_titles=titles, horizontal_spacing=0.01, vertical_spacing=0.1)
    for i in range(n):
        for row, img in ((1, grid.x[i]), (2, grid.x_adv[i])):
            fig.add_trace(go.Heatmap(z=np.flipud(img), zmin=0, zmax=1, colorscale="Greys", showscale=False,
                                     hovertemplate="pixel %{z:.2f}<extra></extra>"), row=row, col=i + 1)  # fmt: skip
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    for k in range(1, 2 * n + 1):  # square pixels: each panel's y axis is tied to its own x axis
        fig.layout[f"yaxis{'' if k == 1 else k}"].scaleanchor = f"x{'' if k == 1 else k}"
    norm = "‖δ‖∞" if grid.norm == "inf" else "‖δ‖₂"
    fig.update_layout(title=f"Adversarial digits ({norm} ≤ {grid.eps:g}, {grid.protocol.split(',')[0]}): "
                            "top = original (true → predicted), bottom = attacked (prediction, confidence)",
                      height=440, margin=dict(t=110))  # fmt: skip
    fig.update_annotations(font_size=15)
    return fig
