"""Plotly figures for the "Lipschitz critics" page: per-layer σ(W), power iteration, bounds vs measurements.

Built from plain trace/layout dicts (no make_subplots / add_vline), which is several times faster to redraw.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from core.figures.style import CRITIC_COLORS
from core.lipschitz import CompositionResult, LipschitzReport

RAW_COLOR = CRITIC_COLORS["standard"]
CLIP_COLOR = CRITIC_COLORS["weight_clip"]
SN_COLOR = CRITIC_COLORS["spectral_norm"]
SVD_COLOR = "#444444"
POWER_COLOR = "#ff7f0e"
LAYER_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
# Below the plot, in container coordinates: the legend then pushes the bottom margin instead of covering the
# x-axis title when presenter mode enlarges the fonts.
_BOTTOM_LEGEND = dict(orientation="h", yref="container", y=0.0, yanchor="bottom", xanchor="left", x=0)


def _title(text: str) -> dict:
    return dict(text=text)


def _hline(y: float, color: str, yref: str = "y") -> dict:
    return dict(
        type="line",
        x0=0,
        x1=1,
        xref="paper",
        y0=y,
        y1=y,
        yref=yref,
        line=dict(color=color, width=2, dash="dash"),
    )


def _vline(x: float, color: str) -> dict:
    return dict(
        type="line",
        x0=x,
        x1=x,
        xref="x",
        y0=0,
        y1=1,
        yref="paper",
        line=dict(color=color, width=2, dash="dot"),
    )


def _layer_names(r: LipschitzReport) -> list[str]:
    return [f"W{i + 1} ({m}×{n})" for i, (m, n) in enumerate(r.shapes)]


def layer_norms_figure(r: LipschitzReport) -> go.Figure:
    """σ(W_i) per layer: exact (SVD), power iteration after k rounds, after clipping to ±c, after normalisation."""
    names = _layer_names(r)
    rounds = f"power iteration, {r.n_iter} round{'s' if r.n_iter > 1 else ''}"
    data = [
        dict(
            type="bar",
            x=names,
            y=values,
            name=label,
            marker=dict(color=color),
            hovertemplate="%{x}: σ = %{y:.4g}<extra>" + label + "</extra>",
        )
        for values, label, color in (
            (r.sigma_exact, "exact σ(W_i) (SVD)", SVD_COLOR),
            (r.sigma_power, rounds, POWER_COLOR),
            (r.sigma_clipped, f"after clipping to ±{r.clip_c:g}", CLIP_COLOR),
            (r.sigma_sn, "after spectral normalisation", SN_COLOR),
        )
    ]
    layout = dict(
        title=_title("Per-layer spectral norm σ(W_i), the largest singular value"),
        barmode="group",
        xaxis=dict(title=_title("layer (shape out × in)")),
        yaxis=dict(title=_title("σ(W_i) (gain: output / input norm)")),
        shapes=[_hline(1.0, SN_COLOR)],
        legend=_BOTTOM_LEGEND,
        height=500,
    )
    return go.Figure(data=data, layout=layout)


def power_iteration_figure(r: LipschitzReport) -> go.Figure:
    """Relative error |σ̂_k − σ| / σ after k rounds of power iteration, one line per layer (log scale)."""
    k = np.arange(1, r.power_trace.shape[1] + 1)
    data = []
    for i, name in enumerate(_layer_names(r)):
        sigma = r.sigma_exact[i]
        err = np.abs(r.power_trace[i] - sigma) / max(sigma, 1e-300)
        err = np.maximum(err, 1e-16)  # exact agreement would be log(0): floor at machine precision
        data.append(
            dict(
                type="scatter",
                x=k,
                y=err,
                name=name,
                mode="lines+markers",
                line=dict(color=LAYER_COLORS[i % len(LAYER_COLORS)], width=3),
            )
        )
    layout = dict(
        title=_title("Power iteration converges to σ(W) (relative error)"),
        xaxis=dict(title=_title("rounds of power iteration k")),
        yaxis=dict(title=_title("|σ̂_k − σ(W)| / σ(W)"), type="log", exponentformat="power"),
        shapes=[_vline(r.n_iter, POWER_COLOR)],
        annotations=[
            dict(
                x=r.n_iter,
                y=1.0,
                yref="paper",
                text=f"k = {r.n_iter}",
                showarrow=False,
                yshift=10,
                font=dict(color=POWER_COLOR),
            )
        ],
        legend=_BOTTOM_LEGEND,
        height=500,
    )
    return go.Figure(data=data, layout=layout)


def _bar(x, y, name: str, color: str, **kw) -> dict:
    return dict(
        type="bar",
        x=x,
        y=y,
        name=name,
        marker=dict(color=color),
        text=[f"{v:.3g}" for v in y],
        textposition="outside",
        **kw,
    )


def bounds_figure(r: LipschitzReport) -> go.Figure:
    """The product bound ∏σ(W_i) against the measured max ‖∇f‖ for the raw, clipped and normalised critic."""
    groups = ["raw critic", f"clipped to ±{r.clip_c:g}", "spectrally normalised"]
    data = [
        _bar(groups, [r.bound, r.bound_clipped, r.bound_sn], "product bound ∏ σ(W_i)", SVD_COLOR),
        _bar(
            groups[1:2],
            [r.bound_clipped_worst],
            "worst case for any |w| ≤ c: ∏ c·√(mn)",
            CLIP_COLOR,
            opacity=0.55,
        ),
        _bar(groups, [r.measured, r.measured_clipped, r.measured_sn], "measured max ‖∇ₓ f(x)‖", POWER_COLOR),
    ]
    layout = dict(
        title=_title("Bound ∏ σ(W_i) ≥ measured gradient norm"),
        barmode="group",
        xaxis=dict(title=_title("critic")),
        yaxis=dict(
            title=_title("Lipschitz constant (output per unit input, log)"),
            type="log",
            dtick=1,
            exponentformat="power",
        ),
        shapes=[_hline(1.0, SN_COLOR)],
        # annotation y on a log axis is log10(value): 0 puts it at 1
        annotations=[
            dict(
                x=1.0,
                xref="paper",
                xanchor="right",
                y=0,
                yref="y",
                text="1-Lipschitz",
                showarrow=False,
                yshift=12,
                font=dict(color=SN_COLOR),
            )
        ],
        legend=_BOTTOM_LEGEND,
        height=500,
    )
    return go.Figure(data=data, layout=layout)


def clip_sweep_figure(r: LipschitzReport) -> go.Figure:
    """Bound and measured gradient norm against the clipping level c (log–log)."""
    data = [
        dict(
            type="scatter",
            x=r.clip_levels,
            y=r.clip_worst,
            name="worst case ∏ c·√(mn)",
            mode="lines",
            line=dict(color=CLIP_COLOR, width=3, dash="dash"),
        ),
        dict(
            type="scatter",
            x=r.clip_levels,
            y=r.clip_bounds,
            name="∏ σ(clip(W_i, c))",
            mode="lines+markers",
            line=dict(color=SVD_COLOR, width=3),
        ),
        dict(
            type="scatter",
            x=r.clip_levels,
            y=r.clip_measured,
            name="measured max ‖∇ₓ f‖",
            mode="lines+markers",
            line=dict(color=POWER_COLOR, width=3),
        ),
    ]
    layout = dict(
        title=_title("Clipping to ±c: the Lipschitz constant shrinks like c^L"),
        xaxis=dict(title=_title("clip level c (weight magnitude, log)"), type="log"),
        yaxis=dict(title=_title("Lipschitz constant (log)"), type="log", exponentformat="power"),
        shapes=[_vline(r.clip_c, CLIP_COLOR)],
        legend=_BOTTOM_LEGEND,
        height=500,
    )
    return go.Figure(data=data, layout=layout)


def slice_figure(r: LipschitzReport) -> go.Figure:
    """The critic along a line x = t·u: raw, clipped and normalised side by side (each on its own scale)."""
    panels = (
        (r.slice_raw, "raw critic", RAW_COLOR),
        (r.slice_clipped, f"clipped to ±{r.clip_c:g}", CLIP_COLOR),
        (r.slice_sn, "spectrally normalised", SN_COLOR),
    )
    data, annotations, layout = [], [], {}
    width, gap = 0.28, 0.08
    for i, (y, name, color) in enumerate(panels):
        suffix = "" if i == 0 else str(i + 1)
        lo = i * (width + gap)
        data.append(
            dict(
                type="scatter",
                x=r.slice_t,
                y=y,
                name=name,
                mode="lines",
                line=dict(color=color, width=3),
                xaxis=f"x{suffix}",
                yaxis=f"y{suffix}",
            )
        )
        layout[f"xaxis{suffix}"] = dict(domain=[lo, lo + width], anchor=f"y{suffix}")
        layout[f"yaxis{suffix}"] = dict(anchor=f"x{suffix}")
        span = float(y.max() - y.min())
        annotations.append(
            dict(
                text=f"{name}<br><sup>range of f: {span:.3g}</sup>",
                x=lo + width / 2,
                y=1.0,
                xref="paper",
                yref="paper",
                xanchor="center",
                yanchor="bottom",
                showarrow=False,
            )
        )
    layout["xaxis2"]["title"] = _title("t (input units) along a random unit direction u")
    layout["yaxis"]["title"] = _title("critic f(t·u) (score units)")
    layout.update(
        title=_title("What the critic can express along a line through the inputs"),
        annotations=annotations,
        legend=_BOTTOM_LEGEND,
        height=500,
        margin=dict(t=110),
    )
    return go.Figure(data=data, layout=layout)


def composition_figure(c: CompositionResult) -> go.Figure:
    """Problem 2: g, f ∘ g, and Lip(f ∘ g) ≤ Lip(f)·Lip(g) as bars."""
    labels = ["L₂ = Lip(g)", "L₁ = Lip(f)", "L₁·L₂", "Lip(f∘g)"]
    values = [c.lip_g, c.lip_f, c.product, c.lip_fg]
    data = [
        dict(type="scatter", x=c.x, y=c.g, name="g(x)", mode="lines", line=dict(color="#1f77b4", width=3)),
        dict(
            type="scatter", x=c.x, y=c.fg, name="f(g(x))", mode="lines", line=dict(color="#d62728", width=3)
        ),
        dict(
            type="bar",
            x=labels,
            y=values,
            name="Lipschitz constants",
            xaxis="x2",
            yaxis="y2",
            showlegend=False,
            marker=dict(color=["#1f77b4", "#9467bd", SVD_COLOR, "#d62728"]),
            text=[f"{v:.3g}" for v in values],
            textposition="outside",
        ),
    ]
    top = 1.2 * max(values) if max(values) > 0 else 1.0
    layout = dict(
        title=_title("Problem 2: Lip(f ∘ g) ≤ Lip(f)·Lip(g)"),
        xaxis=dict(title=_title("x (input units)"), domain=[0.0, 0.55], anchor="y"),
        yaxis=dict(title=_title("value (output units)"), anchor="x"),
        xaxis2=dict(domain=[0.68, 1.0], anchor="y2"),
        yaxis2=dict(title=_title("max |slope| (output per input)"), anchor="x2", range=[0, top]),
        annotations=[
            dict(
                text="two random 1D critics and their composition",
                x=0.275,
                y=1.0,
                xref="paper",
                yref="paper",
                xanchor="center",
                yanchor="bottom",
                showarrow=False,
            ),
            dict(
                text="Lipschitz constants",
                x=0.84,
                y=1.0,
                xref="paper",
                yref="paper",
                xanchor="center",
                yanchor="bottom",
                showarrow=False,
            ),
        ],
        legend=_BOTTOM_LEGEND,
        height=500,
    )
    return go.Figure(data=data, layout=layout)
