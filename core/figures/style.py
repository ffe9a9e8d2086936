"""One look for every chart: readable on a projector, consistent colours for the lecture's actors."""

from __future__ import annotations

import plotly.graph_objects as go

# The sheet's Figures 1–2: real data blue, generated orange, perfect discriminator red, smooth critic green.
DATA_COLOR = "#1f77b4"
GENERATOR_COLOR = "#ff7f0e"
PERFECT_COLOR = "#d62728"
SMOOTH_COLOR = "#2ca02c"

CRITIC_COLORS: dict[str, str] = {
    "perfect": PERFECT_COLOR,
    "standard": "#9467bd",
    "weight_clip": "#8c564b",
    "gradient_penalty": SMOOTH_COLOR,
    "spectral_norm": "#17becf",
    "lsgan": "#e377c2",
    "instance_noise": "#7f7f7f",
}

NORM_COLORS: dict[str, str] = {"inf": "#d62728", "2": "#1f77b4"}
CLASS_COLORS = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
]


def apply_theme(fig: go.Figure, presenter: bool = False) -> go.Figure:
    """Clean white template; larger fonts, thicker lines and markers in presenter mode."""
    base = 22 if presenter else 14
    fig.update_layout(
        template="plotly_white",
        font=dict(size=base),
        title_font=dict(size=base + 4),
        legend=dict(font=dict(size=base - 1)),
        hoverlabel=dict(font_size=base),
    )
    # Keep a margin a figure reserved for itself (a legend or a frame slider below the plot).
    m = fig.layout.margin
    fig.update_layout(
        margin=dict(
            l=60 if m.l is None else m.l,
            r=20 if m.r is None else m.r,
            t=70 if m.t is None else m.t,
            b=55 if m.b is None else m.b,
        )
    )
    fig.update_xaxes(
        title_font=dict(size=base + 1), tickfont=dict(size=base - 1), showline=True, linecolor="#888"
    )
    fig.update_yaxes(
        title_font=dict(size=base + 1), tickfont=dict(size=base - 1), showline=True, linecolor="#888"
    )
    if presenter:
        legend = fig.layout.legend
        if legend.orientation == "h" and legend.yanchor == "bottom" and (legend.y or 0) >= 0.9:
            # A legend above the plot grows upwards as its larger font wraps onto more lines: more room, or it
            # covers the title.
            fig.update_layout(margin_t=fig.layout.margin.t + 60)
        for trace in fig.data:
            if getattr(trace, "line", None) is not None and trace.type in ("scatter", "scattergl"):
                width = 2 if trace.line.width is None else trace.line.width
                if width > 0:  # width 0 draws shaded bands without an outline: keep it invisible
                    trace.line.width = width * 1.8
            if getattr(trace, "marker", None) is not None and trace.type in ("scatter", "scattergl"):
                size = trace.marker.size
                if isinstance(size, int | float):
                    trace.marker.size = size * 1.5
        fig.update_annotations(font_size=base)
    return fig
