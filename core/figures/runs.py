"""Figures of the Runs page: one metric of several runs on one chart, and every metric of one run."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.figures.style import CLASS_COLORS
from core.validate import check_int

STEP_AXIS = "training step (iterations)"


def moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over the last `window` values (shorter at the start), so the curve never leads the data."""
    window = check_int("window", window, minimum=1)
    v = np.asarray(values, dtype=float)
    if window == 1 or v.size == 0:
        return v
    c = np.cumsum(np.insert(v, 0, 0.0))
    idx = np.arange(1, v.size + 1)
    lo = np.maximum(idx - window, 0)
    return (c[idx] - c[lo]) / (idx - lo)


def compare_figure(
    series: dict[str, tuple[np.ndarray, np.ndarray]],
    metric: str,
    smooth: int = 1,
    log_y: bool = False,
) -> go.Figure:
    """One line per run: `metric` against training step. series = {run label: (steps, values)}.

    With smoothing the raw values stay as a faint line behind the trailing moving average.
    """
    smooth = check_int("smooth", smooth, minimum=1)
    fig = go.Figure()
    for i, (label, (steps, values)) in enumerate(series.items()):
        steps, values = np.asarray(steps, dtype=float), np.asarray(values, dtype=float)
        keep = np.isfinite(steps) & np.isfinite(values) & ((values > 0) if log_y else True)
        steps, values = steps[keep], values[keep]
        color = CLASS_COLORS[i % len(CLASS_COLORS)]
        if smooth > 1:
            fig.add_trace(go.Scatter(x=steps, y=values, mode="lines", line=dict(color=color, width=1),
                                     opacity=0.3, name=f"{label} (raw)", showlegend=False, hoverinfo="skip"))  # fmt: skip
        y = moving_average(values, smooth)
        mode = "lines+markers" if steps.size < 30 else "lines"
        fig.add_trace(go.Scatter(x=steps, y=y, mode=mode, name=label, line=dict(color=color, width=2.5),
                                 marker=dict(size=6)))  # fmt: skip
    smoothing = f" (moving average over {smooth} points)" if smooth > 1 else ""
    fig.update_layout(
        title=f"{metric} against training step{smoothing}",
        xaxis_title=STEP_AXIS,
        yaxis_title=f"{metric} (as logged{', log scale' if log_y else ''})",
        legend=dict(title="run", orientation="h", yanchor="top", y=-0.3, xanchor="left", x=0),
        height=540,
    )
    if log_y:
        fig.update_yaxes(type="log")
    if not series or all(np.asarray(v).size == 0 for _, v in series.values()):
        fig.add_annotation(
            text="no values logged yet", showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5
        )
    return fig


def run_metrics_figure(rows: list[dict], names: list[str], title: str, max_panels: int = 6) -> go.Figure:
    """Every metric of one run, one small panel each (shared step axis)."""
    names = list(names)[:max_panels]
    if not names:
        fig = go.Figure()
        fig.update_layout(title=title, xaxis_title=STEP_AXIS, yaxis_title="value", height=300)
        fig.add_annotation(
            text="no metrics logged yet", showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5
        )
        return fig
    cols = 2 if len(names) > 1 else 1
    n_rows = math.ceil(len(names) / cols)
    height = 320 * n_rows + 80
    fig = make_subplots(rows=n_rows, cols=cols, subplot_titles=names, horizontal_spacing=0.16,
                        vertical_spacing=min(0.3, 110 / height))  # fmt: skip
    for i, name in enumerate(names):
        pairs = [(r["step"], r[name]) for r in rows if isinstance(r.get(name), int | float)]
        pairs = [(s, v) for s, v in pairs if math.isfinite(v)]
        r, c = i // cols + 1, i % cols + 1
        fig.add_trace(
            go.Scatter(x=[p[0] for p in pairs], y=[p[1] for p in pairs], mode="lines", name=name,
                       line=dict(color=CLASS_COLORS[i % len(CLASS_COLORS)], width=2)),
            row=r, col=c,
        )  # fmt: skip
        fig.update_xaxes(title_text=STEP_AXIS if r == n_rows else None, row=r, col=c)
        fig.update_yaxes(title_text=name, row=r, col=c)
    fig.update_layout(
        title=title, height=320 * n_rows + 80, showlegend=False
    )  # the panel titles name the metrics
    return fig
