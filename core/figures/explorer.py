"""Plotly builders for the Attack explorer: the digit, the perturbation δ (amplified), the adversarial digit, and
the class probabilities before and after."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.mnist.explorer import ExplorerResult

BEFORE_COLOR = "#1f77b4"
AFTER_COLOR = "#d62728"


def digits_figure(result: ExplorerResult) -> go.Figure:
    """Three panels: x, δ = x' − x on a diverging colour map (amplified to its own range), x'."""
    scale = float(np.abs(result.delta).max()) or 1.0
    amp = 1.0 / scale if scale > 0 else 1.0
    titles = (
        f"original x — true {result.label}, predicted {result.pred} ({100 * result.probs.max():.0f}%)",
        f"perturbation δ (×{amp:.1f}; red +, blue −)",
        f"adversarial x' — predicted {result.pred_adv} ({100 * result.probs_adv.max():.0f}%)",
    )
    fig = make_subplots(rows=1, cols=3, subplot_titles=titles, horizontal_spacing=0.06)
    fig.add_trace(go.Heatmap(z=np.flipud(result.x), zmin=0, zmax=1, colorscale="Greys", showscale=False,
                             hovertemplate="pixel %{z:.2f}<extra>x</extra>"), row=1, col=1)  # fmt: skip
    fig.add_trace(go.Heatmap(z=np.flipud(result.delta), zmin=-scale, zmax=scale, zmid=0, colorscale="RdBu_r",
                             colorbar=dict(title=dict(text="δ (pixel)"), x=0.645, len=0.9, thickness=14),
                             hovertemplate="δ %{z:+.3f}<extra>δ</extra>"), row=1, col=2)  # fmt: skip
    fig.add_trace(go.Heatmap(z=np.flipud(result.x_adv), zmin=0, zmax=1, colorscale="Greys", showscale=False,
                             hovertemplate="pixel %{z:.2f}<extra>x'</extra>"), row=1, col=3)  # fmt: skip
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    for k in (1, 2, 3):
        fig.layout[f"yaxis{'' if k == 1 else k}"].scaleanchor = f"x{'' if k == 1 else k}"
    verdict = "fooled" if result.fooled else "not fooled"
    fig.update_layout(title=f"{result.description}: {verdict} — ‖δ‖∞ = {result.linf:.3f}, ‖δ‖₂ = {result.l2:.3f}",
                      height=430)  # fmt: skip
    fig.update_annotations(font_size=14)
    return fig


def probabilities_figure(result: ExplorerResult) -> go.Figure:
    """p(k | x) and p(k | x') for the ten classes, side by side."""
    classes = [str(k) for k in range(10)]
    fig = go.Figure()
    fig.add_trace(go.Bar(x=classes, y=100 * result.probs, name="before: p(k | x)", marker_color=BEFORE_COLOR))
    fig.add_trace(
        go.Bar(x=classes, y=100 * result.probs_adv, name="after: p(k | x')", marker_color=AFTER_COLOR)
    )
    fig.update_layout(title=f"Class probabilities before and after the attack (true class {result.label})",
                      xaxis_title="class k (digit)", yaxis_title="probability (%)", yaxis_range=[0, 105],
                      barmode="group")  # fmt: skip
    return fig
