"""Plotly figures for "The GAN game" page: the sheet's Figures 1–2, the pointwise objective, the separation sweep.

Built from plain trace/layout dicts (no make_subplots / add_vline): each slider change redraws every figure, and
the dict route is several times faster.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from core.divergences import LOG2
from core.figures.style import DATA_COLOR, GENERATOR_COLOR, PERFECT_COLOR, SMOOTH_COLOR
from core.game import GameResult

X_TITLE = "x (data units)"
NS_COLOR = "#9467bd"
JSD_COLOR = "#17becf"
LS_COLOR = "#8c564b"  # the least-squares GAN's divergence
# Below the plot, in container coordinates: the legend then pushes the bottom margin instead of covering the
# x-axis title when presenter mode enlarges the fonts.
_BOTTOM_LEGEND = dict(orientation="h", yref="container", y=0.0, yanchor="bottom", xanchor="left", x=0)


def _in_view(r: GameResult) -> np.ndarray:
    lo, hi = r.view
    return (r.x >= lo) & (r.x <= hi)


def _line(x, y, name: str, color: str, width: float = 3, **kw) -> dict:
    return dict(type="scatter", x=x, y=y, name=name, mode="lines", line=dict(color=color, width=width), **kw)


def _vline(x: float, xref: str, yref: str, color: str) -> dict:
    return dict(
        type="line", x0=x, x1=x, y0=0, y1=1, xref=xref, yref=yref, line=dict(color=color, width=2, dash="dot")
    )


def discriminator_figure(r: GameResult, show_critic: bool = True) -> go.Figure:
    """Figure 1 (and 2): p and p_G, samples as rugs, D* in red flat over the generated samples, f* in green."""
    keep = _in_view(r)
    x = r.x[keep]
    top = float(max(r.p[keep].max(), r.p_g[keep].max()))
    rug = dict(symbol="line-ns-open", size=16, line=dict(width=2))
    d_at_g = np.interp(r.samples_g, r.x, r.d_star)
    data = [
        _line(x, r.p[keep], "p(x) data", DATA_COLOR, fill="tozeroy", fillcolor="rgba(31,119,180,0.15)"),
        _line(
            x,
            r.p_g[keep],
            "p_G(x) generator",
            GENERATOR_COLOR,
            fill="tozeroy",
            fillcolor="rgba(255,127,14,0.15)",
        ),
        dict(
            type="scatter",
            x=r.samples_p,
            y=np.full(r.samples_p.size, -0.07 * top),
            mode="markers",
            name="real samples",
            marker=dict(color=DATA_COLOR, **rug),
        ),
        dict(
            type="scatter",
            x=r.samples_g,
            y=np.full(r.samples_g.size, -0.14 * top),
            mode="markers",
            name="generated samples",
            marker=dict(color=GENERATOR_COLOR, **rug),
        ),
        _line(x, r.d_star[keep], "D*(x) perfect discriminator", PERFECT_COLOR, width=4, yaxis="y2"),
        dict(
            type="scatter",
            x=r.samples_g,
            y=d_at_g,
            mode="markers",
            name="D* at generated samples",
            yaxis="y2",
            marker=dict(color=GENERATOR_COLOR, size=9, line=dict(color=PERFECT_COLOR, width=2)),
        ),
    ]
    if show_critic:
        f = r.critic_w1[keep]
        span = float(f.max() - f.min())
        scaled = (f - f.min()) / span if span > 0 else np.full_like(f, 0.5)
        data.append(
            _line(x, scaled, "f*(x) 1-Lipschitz critic (rescaled)", SMOOTH_COLOR, width=4, yaxis="y2")
        )
        data[-1]["line"]["dash"] = "dash"
    # Align 0 of both y-axes so the rugs sit under the curves.
    lo, hi, d_hi = -0.2 * top, 1.08 * top, 1.08
    zero = -lo / (hi - lo)
    layout = dict(
        title=dict(text="D*(x) = p/(p + p_G): flat at 0 over the generated samples (sheet Figure 1)"),
        xaxis=dict(title=dict(text=X_TITLE)),
        yaxis=dict(title=dict(text="density (1 / data unit)"), range=[lo, hi]),
        yaxis2=dict(
            title=dict(text="D*(x) — probability x is real"),
            overlaying="y",
            side="right",
            showgrid=False,
            range=[-zero * d_hi / (1 - zero), d_hi],
            tickvals=[0, 0.25, 0.5, 0.75, 1.0],
        ),
        legend=_BOTTOM_LEGEND,
        height=600,
    )
    return go.Figure(data=data, layout=layout)


def objective_figure(r: GameResult) -> go.Figure:
    """The pointwise objective p·log D + p_G·log(1 − D) at D = D* and at the clueless D = 1/2."""
    keep = _in_view(r)
    x = r.x[keep]
    data = [
        _line(x, r.objective_half[keep], "with D = 1/2 (integrates to −log 4)", "#7f7f7f"),
        _line(
            x,
            r.objective[keep],
            "with D = D* (integrates to V(G, D*))",
            PERFECT_COLOR,
            fill="tonexty",
            fillcolor="rgba(214,39,40,0.15)",
        ),
    ]
    data[0]["line"]["dash"] = "dot"
    layout = dict(
        title=dict(text="Pointwise objective: D* vs D = ½ (shaded = 2·JSD)"),
        xaxis=dict(title=dict(text=X_TITLE)),
        yaxis=dict(title=dict(text="objective density (nats / data unit)")),
        legend=_BOTTOM_LEGEND,
        height=460,
    )
    return go.Figure(data=data, layout=layout)


def probe_figure(r: GameResult) -> go.Figure:
    """Problem 1 at one point x₀: the objective against D is maximised at D*(x₀) = p/(p + p_G)."""
    best = float(np.interp(r.probe_d_star, r.probe_d, r.probe_curve))
    finite = r.probe_curve[np.isfinite(r.probe_curve)]
    low = float(np.quantile(finite, 0.02)) if finite.size else -1.0
    pad = 0.1 * max(best - low, 1e-12)
    data = [
        _line(r.probe_d, r.probe_curve, "p(x₀)·log D + p_G(x₀)·log(1 − D)", "#444"),
        dict(
            type="scatter",
            x=[r.probe_d_star],
            y=[best],
            mode="markers",
            name=f"D*(x₀) = {r.probe_d_star:.4f}",
            marker=dict(color=PERFECT_COLOR, size=16, symbol="star"),
        ),
    ]
    layout = dict(
        title=dict(text=f"Problem 1 at x₀ = {r.probe:g}: the maximiser is D*(x₀)"),
        xaxis=dict(title=dict(text="discriminator output D(x₀) (probability)")),
        yaxis=dict(title=dict(text="objective (nats / data unit)"), range=[low - pad, best + pad]),
        legend=_BOTTOM_LEGEND,
        height=460,
    )
    return go.Figure(data=data, layout=layout)


def _gradient_trace(offsets: np.ndarray, grad: np.ndarray, name: str, color: str) -> dict:
    """|∂L_G/∂θ| on the right-hand (log) panel; a log axis cannot show 0, and NaN is never plotted."""
    mag = np.abs(grad)
    ok = np.isfinite(mag) & (mag > 0)
    return _line(offsets[ok], mag[ok], name, color, xaxis="x2", yaxis="y2")


def _separation_layout(
    r: GameResult, title: str, left: tuple[str, str, list[float]], right_heading: str, height: int
) -> dict:
    """Two panels against the separation θ: (left heading, y title, y range) and the gradient on a log axis;
    a dotted line marks the current θ in both."""
    theta_title = dict(text="separation θ (data units)")

    def heading(text: str, x: float) -> dict:
        return dict(text=text, x=x, y=1.0, xref="paper", yref="paper", showarrow=False, xanchor="center",
                    yanchor="bottom")  # fmt: skip

    layout = dict(
        title=dict(text=title),
        xaxis=dict(title=theta_title, domain=[0.0, 0.44], anchor="y"),
        yaxis=dict(title=dict(text=left[1]), range=left[2], anchor="x"),
        xaxis2=dict(title=theta_title, domain=[0.56, 1.0], anchor="y2"),
        yaxis2=dict(
            title=dict(text="|∂L_G/∂θ| (nats / data unit)"), type="log", exponentformat="power", anchor="x2"
        ),
        annotations=[heading(left[0], 0.22), heading(right_heading, 0.78)],
        legend=_BOTTOM_LEGEND,
        height=height,
    )
    if 0 <= r.offset <= r.sweep.offsets[-1]:
        layout["shapes"] = [
            _vline(r.offset, "x", "y domain", GENERATOR_COLOR),
            _vline(r.offset, "x2", "y2 domain", GENERATOR_COLOR),
        ]
    return layout


def sweep_figure(r: GameResult) -> go.Figure:
    """JSD saturating at log 2 and |∂L_G/∂θ| (log scale) for both generator losses against the separation θ."""
    s = r.sweep
    data = [
        _line(s.offsets, s.jsd, "JSD(p‖p_G)", JSD_COLOR),
        _line([s.offsets[0], s.offsets[-1]], [LOG2, LOG2], "log 2 (disjoint supports)", "#444", width=2),
        _gradient_trace(s.offsets, s.grad_saturating, "saturating: ∂/∂θ E[log(1 − D*)]", PERFECT_COLOR),
        _gradient_trace(s.offsets, s.grad_non_saturating, "non-saturating: ∂/∂θ (−E[log D*])", NS_COLOR),
    ]
    data[1]["line"]["dash"] = "dash"
    layout = _separation_layout(
        r,
        "Slide the generator away: JSD → log 2, the saturating gradient vanishes",
        ("JSD(p‖p_G) saturates at log 2", "JSD (nats)", [0, LOG2 * 1.1]),
        "generator gradient under D*",
        520,
    )
    if "shapes" in layout:
        layout["annotations"].append(
            dict(
                x=r.offset,
                y=0.35,
                xref="x",
                yref="y",
                text=f" now: θ = {r.offset:g}",
                showarrow=False,
                xanchor="left",
                font=dict(color=GENERATOR_COLOR),
            )  # fmt: skip
        )
    return go.Figure(data=data, layout=layout)


def instance_noise_figure(r: GameResult) -> go.Figure:
    """§1.3's instance noise: p and p_G blurred by N(0, σ²) (solid) over the clean ones (dashed), D* of each."""
    top = max(r.p_noisy.max(), r.p_g_noisy.max(), r.p.max(), r.p_g.max())
    keep = np.maximum(np.maximum(r.p_noisy, r.p_g_noisy), np.maximum(r.p, r.p_g)) > 1e-4 * top
    lo, hi = float(r.x[keep].min()), float(r.x[keep].max())
    m = (r.x >= lo) & (r.x <= hi)
    x = r.x[m]
    sigma = f"σ = {r.noise_sigma:g}"
    data = [
        _line(x, r.p[m], "p (no noise)", DATA_COLOR, width=2),
        _line(x, r.p_g[m], "p_G (no noise)", GENERATOR_COLOR, width=2),
        _line(x, r.p_noisy[m], f"p_σ, noise {sigma}", DATA_COLOR, fill="tozeroy"),
        _line(x, r.p_g_noisy[m], f"p_G,σ, noise {sigma}", GENERATOR_COLOR, fill="tozeroy"),
        _line(x, r.d_star[m], "D* without noise", PERFECT_COLOR, yaxis="y2"),
        _line(x, r.d_star_noisy[m], f"D*_σ with noise {sigma}", SMOOTH_COLOR, yaxis="y2"),
    ]
    data[0]["line"]["dash"] = data[1]["line"]["dash"] = "dash"
    data[4]["line"]["dash"] = "dot"
    layout = dict(
        title=dict(text=f"Instance noise {sigma}: both densities blurred, and D* gets a slope over p_G"),
        xaxis=dict(title=dict(text=X_TITLE)),
        yaxis=dict(title=dict(text="density (1 / data unit)"), rangemode="tozero"),
        yaxis2=dict(
            title=dict(text="D(x): probability x is real"),
            overlaying="y",
            side="right",
            showgrid=False,
            range=[-0.02, 1.02],
            tickvals=[0, 0.25, 0.5, 0.75, 1.0],
        ),
        legend=_BOTTOM_LEGEND,
        height=480,
    )
    return go.Figure(data=data, layout=layout)


def tricks_sweep_figure(r: GameResult) -> go.Figure:
    """Against the separation θ: JSD, JSD with noise and the least-squares divergence (each over its maximum),
    and the saturating generator gradient with and without instance noise (log scale)."""
    s, n = r.sweep, r.noisy_sweep
    sigma = f"σ = {r.noise_sigma:g}"
    data = [
        _line(s.offsets, s.jsd / LOG2, "JSD / log 2", JSD_COLOR),
        _line(n.offsets, n.jsd / LOG2, f"JSD / log 2 with noise {sigma}", SMOOTH_COLOR),
        _line(s.offsets, s.lsgan, "least squares: ½χ²_Pearson(2p_G ‖ p + p_G)", LS_COLOR),
        _gradient_trace(s.offsets, s.grad_saturating, "saturating gradient, no noise", PERFECT_COLOR),
        _gradient_trace(n.offsets, n.grad_saturating, f"saturating gradient, noise {sigma}", SMOOTH_COLOR),
    ]
    data[1]["line"]["dash"] = "dash"
    layout = _separation_layout(
        r,
        "Both divergences saturate; noise keeps the generator's gradient alive",
        ("divergences under the ideal critic", "divergence / its maximum", [0, 1.1]),
        "saturating loss log(1 − D*): gradient",
        540,
    )
    return go.Figure(data=data, layout=layout)
