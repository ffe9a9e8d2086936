"""Figures of the MNIST GAN page: the two losses, D(x) vs D(G(z)), the quality metrics, and class coverage."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from core.figures.style import CLASS_COLORS, DATA_COLOR, GENERATOR_COLOR, PERFECT_COLOR, SMOOTH_COLOR
from core.mnist.gan import SIGMOID_LOSSES, GanCurves

STEP_AXIS = "generator step (iterations)"
# Legends sit below the x-axis title: never over the chart's title, even with presenter-mode fonts.
LEGEND_BELOW = dict(orientation="h", yanchor="top", y=-0.38, x=0)
HEIGHT = 440


def _empty_note(fig: go.Figure, text: str) -> None:
    fig.add_annotation(
        text=text, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5, font=dict(size=16)
    )


def losses_figure(curves: GanCurves, loss: str) -> go.Figure:
    """The critic's and the generator's loss against step (averaged over each logging block)."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=curves.step, y=curves.loss_d, mode="lines", name="critic / discriminator loss",
                             line=dict(color=PERFECT_COLOR, width=2.5)))  # fmt: skip
    fig.add_trace(go.Scatter(x=curves.step, y=curves.loss_g, mode="lines", name="generator loss",
                             line=dict(color=GENERATOR_COLOR, width=2.5)))  # fmt: skip
    fig.update_layout(title=f"Losses ({loss})", xaxis_title=STEP_AXIS, yaxis_title="loss (batch mean)",
                      legend=LEGEND_BELOW, height=HEIGHT)  # fmt: skip
    if curves.step.size == 0:
        _empty_note(fig, "no steps logged yet")
    return fig


def critic_outputs_figure(curves: GanCurves, loss: str) -> go.Figure:
    """D(x) on real digits vs D(G(z)) on generated ones: the gap is how easily the critic tells them apart."""
    prob = loss in SIGMOID_LOSSES
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=curves.step, y=curves.d_real, mode="lines", name="D(x), real digits",
                             line=dict(color=DATA_COLOR, width=2.5)))  # fmt: skip
    fig.add_trace(go.Scatter(x=curves.step, y=curves.d_fake, mode="lines", name="D(G(z)), generated",
                             line=dict(color=GENERATOR_COLOR, width=2.5)))  # fmt: skip
    if prob:
        fig.add_hline(y=0.5, line=dict(color="#888", dash="dot"), annotation_text="D = ½ (cannot tell)",
                      annotation_position="bottom right")  # fmt: skip
    fig.update_layout(
        title="Critic on real vs generated digits",
        xaxis_title=STEP_AXIS,
        yaxis_title="D = sigmoid(logit) (probability)" if prob else "critic value f (raw units)",
        legend=LEGEND_BELOW,
        height=HEIGHT,
    )
    if prob:
        fig.update_yaxes(range=[0, 1])
    if curves.step.size == 0:
        _empty_note(fig, "no steps logged yet")
    return fig


def quality_figure(curves: GanCurves) -> go.Figure:
    """MNIST score (left axis, ceiling 10) and MNIST-FD (right axis) against step."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=curves.eval_step, y=curves.mnist_score, mode="lines+markers",
                             name="MNIST score (↑, max 10)", line=dict(color=SMOOTH_COLOR, width=3),
                             marker=dict(size=8)))  # fmt: skip
    fig.add_trace(go.Scatter(x=curves.eval_step, y=curves.mnist_fd, mode="lines+markers", yaxis="y2",
                             name="MNIST-FD (↓, 0 = real)", line=dict(color="#9467bd", width=3, dash="dash"),
                             marker=dict(size=8, symbol="square")))  # fmt: skip
    fig.add_hline(y=10, line=dict(color=SMOOTH_COLOR, dash="dot"), annotation_text="ceiling 10",
                  annotation_position="top left")  # fmt: skip
    fig.update_layout(
        title="Sample quality, judged by a MNIST classifier",
        xaxis_title=STEP_AXIS,
        yaxis=dict(title="MNIST score (1 … 10)", range=[0, 10.5]),
        yaxis2=dict(
            title="MNIST-FD (feature units²)",
            overlaying="y",
            side="right",
            rangemode="tozero",
            showgrid=False,
        ),  # fmt: skip
        legend=LEGEND_BELOW,
        height=HEIGHT,
        margin=dict(r=80),
    )
    if curves.eval_step.size == 0:
        _empty_note(fig, "first evaluation pending")
        fig.update_xaxes(range=[0, max(float(curves.step[-1]) if curves.step.size else 1.0, 1.0)])
        fig.update_layout(yaxis2=dict(range=[0, 1], showticklabels=False))
    return fig


def coverage_figure(
    fractions: np.ndarray | None, step: int | None = None, min_fraction: float = 0.02
) -> go.Figure:
    """Bars: the share of generated samples the classifier calls each digit; missing digits = mode collapse."""
    fig = go.Figure()
    digits = [str(k) for k in range(10)]
    if fractions is not None and np.all(np.isfinite(fractions)):
        f = np.asarray(fractions, dtype=float) * 100
        colors = [CLASS_COLORS[k] if f[k] >= min_fraction * 100 else "#d9d9d9" for k in range(10)]
        fig.add_trace(go.Bar(x=digits, y=f, marker_color=colors, name="generated samples",
                             text=[f"{v:.0f}%" if v >= min_fraction * 100 else "" for v in f],
                             textposition="outside", showlegend=False))  # fmt: skip
        missing = [d for d, v in zip(digits, f, strict=True) if v < min_fraction * 100]
        subtitle = f"{10 - len(missing)}/10 digits present" + (
            f" — missing {', '.join(missing)}" if missing else ""
        )
    else:
        subtitle = "first evaluation pending"
        _empty_note(fig, subtitle)
    # The line is explained in the subtitle: a label on the line collided with the bars' own "10%" labels, and
    # one above the plot with the subtitle once presenter mode enlarged the fonts.
    fig.add_hline(y=10, line=dict(color="#444", dash="dot"))
    subtitle += " · dotted line: real MNIST, 10% each"
    at = f" at step {step:,}" if step is not None else ""
    fig.update_layout(title=f"Class coverage{at}<br><sup>{subtitle}</sup>", xaxis_title="digit the classifier sees",
                      yaxis_title="share of generated samples (%)", height=HEIGHT, bargap=0.25)  # fmt: skip
    fig.update_xaxes(type="category")
    fig.update_yaxes(
        range=[0, max(25.0, float(np.nanmax(fractions)) * 115 if fractions is not None else 25.0)]
    )
    return fig
