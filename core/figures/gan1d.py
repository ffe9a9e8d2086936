"""Figures of the 1D GAN critic lab (sheet §1.3, Figures 1–2): the animated panels and the JSD / W1 curves."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.figures.style import CRITIC_COLORS, DATA_COLOR, GENERATOR_COLOR
from core.gan1d.trainer import Gan1DResult

MAX_FRAMES = 200
MAX_BYTES = 5_000_000  # the whole animated figure, as sent to the browser (a class shares one Wi-Fi)
ARROW_DECADES = 6  # arrow length ∝ log10 |gradient| over 1e-6 … 1: a vanishing gradient draws no arrow
TRACES_PER_PANEL = 5  # data p, generator p_G, critic, samples, arrows


def _frame_indices(n: int, max_frames: int) -> np.ndarray:
    return np.unique(np.linspace(0, n - 1, min(n, max_frames)).round().astype(int))


def arrow_lengths(grad: np.ndarray, full: float) -> np.ndarray:
    """Signed arrow lengths: `full` for |∂ℓ/∂x| ≥ 1, shrinking by full/ARROW_DECADES per decade, 0 below 1e-6."""
    grad = np.asarray(grad, dtype=float)
    with np.errstate(divide="ignore"):
        decades = np.log10(np.abs(grad))
    frac = np.clip((decades + ARROW_DECADES) / ARROW_DECADES, 0.0, 1.0)
    return np.sign(grad) * frac * full


def _arrow_xy(x: np.ndarray, length: np.ndarray, y: float) -> tuple[list, list]:
    xs: list = []
    ys: list = []
    for x0, d in zip(x, length, strict=True):
        xs += [round(float(x0), 3), round(float(x0 + d), 3), None]
        ys += [y, y, None]
    return xs, ys


def _layout_grid(n: int) -> tuple[int, int]:
    cols = 1 if n == 1 else 2 if n in (2, 4) else 3
    return math.ceil(n / cols), cols


def animation_figure(
    result: Gan1DResult, max_frames: int = MAX_FRAMES, max_bytes: int = MAX_BYTES
) -> go.Figure:
    """One panel per critic — data p, generator p_G, the critic's curve, generator samples with the direction
    each is pushed — animated over the snapshots with play / pause and a step slider (≤ max_frames frames,
    the JSON ≤ max_bytes: the display grid is thinned until it fits)."""
    if max_frames < 1:
        raise ValueError(f"max_frames: must be >= 1, got {max_frames}")
    frames = _frame_indices(len(result.steps), max_frames)
    for points in (256, 160, 100, 64):
        fig = _animation(result, frames, points)
        if len(fig.to_json()) <= max_bytes:
            return fig
    return fig


def snapshot_figure(result: Gan1DResult, j: int = -1) -> go.Figure:
    """The panels at one snapshot (the latest by default): what the page shows while training runs."""
    j = j % len(result.steps)
    return _animation(result, np.array([j]), 200)


def _animation(result: Gan1DResult, frames_at: np.ndarray, points: int) -> go.Figure:
    r = result
    n_c = len(r.critics)
    rows, cols = _layout_grid(n_c)
    titles = []
    for i, label in enumerate(r.labels):
        stop = (
            f"<br><span style='color:#d62728'>stopped: {r.stop_reason[i]}</span>"
            if r.stopped_at[i] >= 0
            else ""
        )
        titles.append(f"<b>{label}</b>{stop}")
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=titles,
        horizontal_spacing=0.06,
        vertical_spacing=0.2 if rows > 1 else 0.1,
    )
    pick = np.unique(np.linspace(0, len(r.x) - 1, min(points, len(r.x))).round().astype(int))
    x = r.x[pick].astype(np.float32)
    y_top = float(1.35 * r.p.max())
    rug = 0.06 * y_top
    full_arrow = 0.08 * float(r.x[-1] - r.x[0])

    def panel_data(i: int, j: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, list]:
        p_g = np.minimum(r.p_g[i, j, pick], y_top * 0.98).astype(
            np.float32
        )  # a collapsed spike is cut at the top
        critic = (r.critic_display[i, j, pick] * 0.95 * y_top).astype(np.float32)
        samples = r.samples[i, j].astype(np.float32)
        arrows, _ = _arrow_xy(r.samples[i, j], arrow_lengths(r.sample_grad[i, j], full_arrow), rug)
        return p_g, critic, samples, arrows

    for i, name in enumerate(r.critics):
        row, col = i // cols + 1, i % cols + 1
        first = i == 0
        color = CRITIC_COLORS.get(name, "#333")
        p_g, critic, samples, arrows = panel_data(i, int(frames_at[0]))
        _, arrow_y = _arrow_xy(r.samples[i, 0], np.zeros(r.samples.shape[2]), rug)
        critic_name = "critic D(x)" if r.probability[i] else "critic f(x), rescaled"
        fig.add_trace(
            go.Scatter(
                x=x,
                y=r.p[pick].astype(np.float32),
                name="data p",
                legendgroup="p",
                showlegend=first,
                line=dict(color=DATA_COLOR, width=2.5),
                fill="tozeroy",
                fillcolor="rgba(31,119,180,0.15)",
                hoverinfo="skip",
            ),
            row=row,
            col=col,
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=p_g,
                name="generator p_G",
                legendgroup="pg",
                showlegend=first,
                line=dict(color=GENERATOR_COLOR, width=2.5),
                hoverinfo="skip",
            ),
            row=row,
            col=col,
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=critic,
                name="critic (scaled to the panel)" if first else critic_name,
                legendgroup="critic",
                showlegend=first,
                line=dict(color=color, width=3, dash="dot"),
                hoverinfo="skip",
            ),
            row=row,
            col=col,
        )
        fig.add_trace(
            go.Scatter(
                x=samples,
                y=np.full(len(samples), rug, dtype=np.float32),
                mode="markers",
                name="samples G(z)",
                legendgroup="s",
                showlegend=first,
                marker=dict(color=GENERATOR_COLOR, size=7, line=dict(color="white", width=0.5)),
                hoverinfo="skip",
            ),
            row=row,
            col=col,
        )
        fig.add_trace(
            go.Scatter(
                x=arrows,
                y=arrow_y,
                mode="lines",
                name="push −∂ℓ_G/∂x (log length)",
                legendgroup="a",
                showlegend=first,
                line=dict(color="#222", width=2),
                hoverinfo="skip",
            ),
            row=row,
            col=col,
        )
        fig.update_xaxes(range=[float(r.x[0]), float(r.x[-1])], title_text="x (data space)", row=row, col=col)
        fig.update_yaxes(range=[0, y_top], title_text="density (1/x)" if col == 1 else None, row=row, col=col)

    frames = []
    for j in frames_at:
        data = []
        for i in range(n_c):
            p_g, critic, samples, arrows = panel_data(i, int(j))
            data += [go.Scatter(y=p_g), go.Scatter(y=critic), go.Scatter(x=samples), go.Scatter(x=arrows)]
        traces = [i * TRACES_PER_PANEL + k for i in range(n_c) for k in (1, 2, 3, 4)]
        frames.append(go.Frame(name=str(int(r.steps[j])), data=data, traces=traces))
    fig.frames = frames

    def anim_args(duration: int) -> dict:
        return {
            "mode": "immediate",
            "frame": {"duration": duration, "redraw": False},
            "transition": {"duration": 0},
            "fromcurrent": True,
        }

    # The theme owns the margins, so room for the legend (top) and the controls (bottom) is made inside the
    # plot area: the panels are squeezed into [bottom, top] of the paper.
    height = 360 * rows + 330
    plot_h = height - 125  # minus the theme's top and bottom margins
    bottom, top = 150 / plot_h, 1 - 62 / plot_h
    for name in fig.layout:
        if name.startswith("yaxis") and fig.layout[name].domain:
            d0, d1 = fig.layout[name].domain
            fig.layout[name].domain = [bottom + (top - bottom) * d0, bottom + (top - bottom) * d1]
    for ann in fig.layout.annotations:  # the subplot titles sit at the top of their panels
        ann.y = bottom + (top - bottom) * ann.y
    controls_y = (150 - 62) / plot_h
    fig.update_layout(
        title=f"Training against each critic — data: {r.config.data.replace('_', ' ')}",
        height=height,
        legend=dict(orientation="h", yanchor="bottom", y=top + 30 / plot_h, xanchor="right", x=1.0),
        updatemenus=[
            dict(
                type="buttons",
                direction="left",
                showactive=False,
                x=0.0,
                y=controls_y,
                xanchor="left",
                yanchor="top",
                pad=dict(t=10, r=10),
                buttons=[
                    dict(label="▶ Play", method="animate", args=[None, anim_args(90)]),
                    dict(
                        label="⏸ Pause",
                        method="animate",
                        args=[
                            [None],
                            {
                                "mode": "immediate",
                                "frame": {"duration": 0, "redraw": False},
                                "transition": {"duration": 0},
                            },
                        ],
                    ),
                ],
            )
        ],
        sliders=[
            dict(
                active=0,
                x=0.16,
                len=0.84,
                y=controls_y + 12 / plot_h,
                yanchor="top",
                currentvalue=dict(
                    prefix="generator step ", visible=True, xanchor="right", font=dict(color="#333")
                ),
                font=dict(color="rgba(0,0,0,0)"),  # one label per frame would overlap: the current step shows
                pad=dict(t=10),
                steps=[
                    dict(
                        label=str(int(r.steps[j])),
                        method="animate",
                        args=[[str(int(r.steps[j]))], anim_args(0)],
                    )
                    for j in frames_at
                ],
            )
        ],
    )
    return fig


def curves_figure(result: Gan1DResult) -> go.Figure:
    """JSD(p‖p_G) and W1(p, p_G) against generator step for every critic, on one chart (two panels)."""
    r = result
    fig = make_subplots(
        rows=1,
        cols=2,
        horizontal_spacing=0.1,
        subplot_titles=("Jensen–Shannon divergence (nats)", "Wasserstein-1 distance"),
    )
    for i, name in enumerate(r.critics):
        end = len(r.steps) if r.stopped_at[i] < 0 else int(np.searchsorted(r.steps, r.stopped_at[i])) + 1
        label = r.labels[i] + (" — stopped" if r.stopped_at[i] >= 0 else "")
        color = CRITIC_COLORS.get(name, "#333")
        for col, values in ((1, r.jsd[i, :end]), (2, r.w1[i, :end])):
            fig.add_trace(
                go.Scatter(
                    x=r.steps[:end],
                    y=np.round(values, 5),
                    name=label,
                    legendgroup=name,
                    showlegend=col == 1,
                    line=dict(color=color, width=3),
                    hovertemplate=f"{r.labels[i]}<br>step %{{x}}<br>%{{y:.4f}}<extra></extra>",
                ),
                row=1,
                col=col,
            )
    fig.add_hline(
        y=math.log(2),
        line=dict(color="#999", dash="dash"),
        row=1,
        col=1,
        annotation_text="log 2: disjoint supports",
        annotation_position="bottom right",
    )
    fig.update_xaxes(title_text="generator step")
    fig.update_yaxes(title_text="JSD (nats)", rangemode="tozero", row=1, col=1)
    fig.update_yaxes(title_text="W1 (x units)", rangemode="tozero", row=1, col=2)
    fig.update_layout(
        title="Is the generator getting closer? JSD and W1 for every critic",
        height=460,
        legend=dict(orientation="h", yanchor="top", y=-0.2, x=0.0),
    )
    return fig
