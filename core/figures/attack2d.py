"""Figures for "Attack a 2D classifier" (sheet §2.1–2.2, Problem 3): the data map with the two balls, the loss
inside the balls next to FGSM's linearisation, and the fooling rate vs ε."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.figures.style import CLASS_COLORS, NORM_COLORS
from core.toy2d import AttackPoint, FoolingCurves, PointAttackResult

NORM_TEXT = {"inf": "L∞", "2": "L2"}
METHOD_TEXT = {"fgsm": "FGSM", "pgd": "PGD", "exact": "exact", "dual": "dual ascent"}
SYMBOLS = {"fgsm": "diamond", "pgd": "circle", "exact": "star", "dual": "triangle-up"}
DASHES = {"fgsm": "dash", "pgd": "solid"}
AXIS_X = "x₁ (standardised units)"
AXIS_Y = "x₂ (standardised units)"
# p(class 1) from class 0's light blue through white (the boundary) to class 1's light orange
BINARY_SCALE = [[0.0, "#9ecae1"], [0.5, "#ffffff"], [1.0, "#fdae6b"]]


def attack_label(a: AttackPoint) -> str:
    """'FGSM-L∞ → class 1 (flipped)' — the legend says which attacks fool the model."""
    verdict = "flipped ✔" if a.flipped else "not flipped"
    return f"{METHOD_TEXT[a.method]}-{NORM_TEXT[a.norm]} → class {a.pred} ({verdict})"


def _ball_traces(r: PointAttackResult, showlegend: bool = True) -> list[go.Scatter]:
    """The L∞ square and the L2 circle of radius ε around x."""
    cx, cy, e = float(r.x[0]), float(r.x[1]), r.eps
    phi = np.linspace(0, 2 * np.pi, 181)
    square = go.Scatter(
        x=cx + e * np.array([-1, 1, 1, -1, -1]),
        y=cy + e * np.array([-1, -1, 1, 1, -1]),
        mode="lines",
        line=dict(color=NORM_COLORS["inf"], width=2.5),
        name="L∞ ball ‖δ‖∞ ≤ ε",
        legendgroup="ball_inf",
        showlegend=showlegend,
        hoverinfo="skip",
    )
    circle = go.Scatter(
        x=cx + e * np.cos(phi),
        y=cy + e * np.sin(phi),
        mode="lines",
        line=dict(color=NORM_COLORS["2"], width=2.5),
        name="L2 ball ‖δ‖₂ ≤ ε",
        legendgroup="ball_2",
        showlegend=showlegend,
        hoverinfo="skip",
    )
    return [square, circle]


def _attack_traces(
    r: PointAttackResult, methods: tuple[str, ...], showlegend: bool = True, size: int = 15
) -> list[go.Scatter]:
    """PGD's and dual ascent's paths, then one marker per attack (colour = norm, symbol = method)."""
    traces = []
    for method, paths, dash in (("pgd", r.paths, "dot"), ("dual", r.dual_paths, "dashdot")):
        if method not in methods:
            continue
        for norm, path in paths.items():
            traces.append(
                go.Scatter(
                    x=path[:, 0],
                    y=path[:, 1],
                    mode="lines+markers",
                    line=dict(color=NORM_COLORS[norm], width=1.5, dash=dash),
                    marker=dict(size=4, color=NORM_COLORS[norm]),
                    name=f"{METHOD_TEXT[method]}-{NORM_TEXT[norm]} path ({len(path) - 1} steps)",
                    legendgroup=f"{method}_{norm}",
                    showlegend=showlegend,
                    hoverinfo="skip",
                )
            )
    for name, a in r.attacks.items():
        if a.method not in methods:
            continue
        traces.append(
            go.Scatter(
                x=[a.x_adv[0]],
                y=[a.x_adv[1]],
                mode="markers",
                marker=dict(
                    symbol=SYMBOLS[a.method],
                    size=size + (4 if a.method == "exact" else 0),
                    color=NORM_COLORS[a.norm],
                    line=dict(color="black", width=1.5),
                ),
                name=attack_label(a),
                legendgroup=name,
                showlegend=showlegend,
                hovertemplate=(
                    f"{METHOD_TEXT[a.method]}-{NORM_TEXT[a.norm]}<br>δ = ({a.delta[0]:.3f}, {a.delta[1]:.3f})"
                    f"<br>loss = {a.loss:.3f}<br>class {a.pred}<extra></extra>"
                ),
            )
        )
    return traces


def _centre_trace(r: PointAttackResult, showlegend: bool = True) -> go.Scatter:
    return go.Scatter(
        x=[r.x[0]],
        y=[r.x[1]],
        mode="markers",
        marker=dict(symbol="circle-open", size=20, color="black", line=dict(width=3)),
        name=f"x = point #{r.index} (class {r.y})",
        legendgroup="centre",
        showlegend=showlegend,
        hoverinfo="skip",
    )


def _equal_axes(fig: go.Figure, xrange, yrange, row: int | None = None, col: int | None = None) -> None:
    kw = {} if row is None else dict(row=row, col=col)
    fig.update_xaxes(range=list(xrange), title_text=AXIS_X, constrain="domain", **kw)
    fig.update_yaxes(range=list(yrange), title_text=AXIS_Y, constrain="domain", **kw)


def attack_map_figure(
    X: np.ndarray, y: np.ndarray, r: PointAttackResult, methods: tuple[str, ...] = ("fgsm", "pgd", "exact")
) -> go.Figure:
    """The dataset over the model's decision regions, the point x with its two balls and where each attack lands.
    Data points carry their index in customdata, so a click on the chart selects a point."""
    g = r.grid
    n_classes = g.proba.shape[2]
    fig = go.Figure()
    if n_classes == 2:
        fig.add_trace(
            go.Heatmap(
                x=g.xs,
                y=g.ys,
                z=g.proba[:, :, 1],
                zmin=0,
                zmax=1,
                colorscale=BINARY_SCALE,
                colorbar=dict(title=dict(text="p(class 1)", side="right"), len=0.6, y=0.7),
                hovertemplate="x₁ %{x:.2f}<br>x₂ %{y:.2f}<br>p(class 1) %{z:.2f}<extra></extra>",
                name="p(class 1)",
                showlegend=False,
            )
        )
    else:
        scale = [[k / (n_classes - 1), CLASS_COLORS[k]] for k in range(n_classes)]
        fig.add_trace(
            go.Heatmap(
                x=g.xs,
                y=g.ys,
                z=g.label,
                zmin=0,
                zmax=n_classes - 1,
                colorscale=scale,
                opacity=0.3,
                showscale=False,
                hoverinfo="skip",
                name="predicted class",
            )
        )
    for k in range(1 if n_classes == 2 else n_classes):
        # where class k's probability equals the best other class: the decision boundary
        others = np.delete(g.proba, 1 if n_classes == 2 else k, axis=2).max(axis=2)
        z = g.proba[:, :, 1 if n_classes == 2 else k] - others
        fig.add_trace(
            go.Contour(
                x=g.xs,
                y=g.ys,
                z=z,
                contours=dict(start=0, end=0, size=1, coloring="none"),
                line=dict(color="black", width=2.5),
                showscale=False,
                hoverinfo="skip",
                name="decision boundary",
                legendgroup="boundary",
                showlegend=k == 0,
            )
        )
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        fig.add_trace(
            go.Scatter(
                x=X[idx, 0],
                y=X[idx, 1],
                mode="markers",
                customdata=idx,
                name=f"class {c}",
                marker=dict(
                    size=8, color=CLASS_COLORS[int(c) % len(CLASS_COLORS)], line=dict(color="white", width=1)
                ),
                hovertemplate="point #%{customdata}<br>x₁ %{x:.2f}, x₂ %{y:.2f}<extra>class "
                + str(c)
                + "</extra>",
            )
        )
    # the attack markers are named in the zoom figure's legend and the table; here they only need hovering
    for t in [*_ball_traces(r), _centre_trace(r), *_attack_traces(r, methods, showlegend=False, size=12)]:
        fig.add_trace(t)
    x0, x1, y0, y1 = r.bounds
    _equal_axes(fig, (x0, x1), (y0, y1))
    fig.update_yaxes(scaleanchor="x", scaleratio=1)
    fig.update_layout(
        title=f"Point #{r.index}, ε = {r.eps:.2f}: the attacks on the map",
        height=620,
        legend=dict(orientation="h", yref="container", yanchor="bottom", y=0, x=0, xanchor="left"),
        clickmode="event+select",
        dragmode="pan",
    )
    return fig


def loss_zoom_figure(r: PointAttackResult, methods: tuple[str, ...] = ("fgsm", "pgd", "exact")) -> go.Figure:
    """Left: the true loss L(x+δ, y) around x; right: FGSM's linearisation L(x) + ∇ₓLᵀδ on the same colour scale.
    FGSM maximises the right panel over each ball (a corner for L∞); the exact δ* maximises the left one."""
    fig = make_subplots(
        rows=1,
        cols=2,
        horizontal_spacing=0.08,
        subplot_titles=("true loss L(x + δ, y)", "linearised loss L(x, y) + ∇ₓLᵀδ  (what FGSM maximises)"),
    )
    # Colour range from the L∞ ball (what the attacks can reach); the window's rim saturates instead of
    # washing out the inside of the balls.
    dx, dy = np.meshgrid(r.zoom_xs - r.x[0], r.zoom_ys - r.x[1])
    inside = np.maximum(np.abs(dx), np.abs(dy)) <= max(r.eps, 1e-9) * 1.02
    if inside.sum() < 9:  # ε ≈ 0: no ball to speak of, colour the whole window
        inside[:] = True
    both = np.concatenate([r.zoom_loss[inside], r.zoom_linear[inside]])
    lo, hi = float(both.min()), float(both.max())
    for col, z in ((1, r.zoom_loss), (2, r.zoom_linear)):
        fig.add_trace(
            go.Heatmap(
                x=r.zoom_xs,
                y=r.zoom_ys,
                z=z,
                coloraxis="coloraxis",
                name="loss",
                hovertemplate="x₁ %{x:.3f}<br>x₂ %{y:.3f}<br>loss %{z:.3f}<extra></extra>",
            ),
            row=1,
            col=col,
        )
        fig.add_trace(
            go.Contour(
                x=r.zoom_xs,
                y=r.zoom_ys,
                z=z,
                showscale=False,
                hoverinfo="skip",
                contours=dict(coloring="none", showlabels=False),
                ncontours=14,
                line=dict(color="rgba(255,255,255,0.55)", width=1),
                showlegend=False,
            ),
            row=1,
            col=col,
        )
        if (r.zoom_margin < 0).any() and (r.zoom_margin > 0).any():
            fig.add_trace(
                go.Contour(
                    x=r.zoom_xs,
                    y=r.zoom_ys,
                    z=r.zoom_margin,
                    showscale=False,
                    hoverinfo="skip",
                    contours=dict(start=0, end=0, size=1, coloring="none"),
                    line=dict(color="black", width=3),
                    name="true decision boundary",
                    legendgroup="boundary",
                    showlegend=col == 1,
                ),
                row=1,
                col=col,
            )
        for t in [
            *_ball_traces(r, showlegend=col == 1),
            _centre_trace(r, showlegend=col == 1),
            *_attack_traces(r, methods, showlegend=col == 1),
        ]:
            fig.add_trace(t, row=1, col=col)
        span = (float(r.zoom_xs[0]), float(r.zoom_xs[-1])), (float(r.zoom_ys[0]), float(r.zoom_ys[-1]))
        _equal_axes(fig, span[0], span[1], row=1, col=col)
    fig.update_yaxes(scaleanchor="x", scaleratio=1, row=1, col=1)
    fig.update_yaxes(scaleanchor="x2", scaleratio=1, row=1, col=2)
    g = r.grad
    gn = float(np.linalg.norm(g))
    if gn > 0 and r.eps > 0:
        tip = r.x + r.eps * g / gn
        fig.add_annotation(
            x=tip[0],
            y=tip[1],
            ax=r.x[0],
            ay=r.x[1],
            xref="x",
            yref="y",
            axref="x",
            ayref="y",
            showarrow=True,
            arrowhead=3,
            arrowwidth=2.5,
            arrowcolor="white",
            text="∇ₓL",
            font=dict(color="white", size=16),
        )
    fig.update_layout(
        title=f"Inside the balls around point #{r.index}: the loss and its linearisation (ε = {r.eps:.2f})",
        coloraxis=dict(
            colorscale="Viridis",
            cmin=lo,
            cmax=hi if hi > lo else lo + 1e-6,
            colorbar=dict(title=dict(text="loss (nats)", side="right"), x=1.0, len=0.8),
        ),
        height=640,
        legend=dict(orientation="h", yref="container", yanchor="bottom", y=0, x=0, xanchor="left"),
    )
    return fig


def fooling_figure(c: FoolingCurves, eps_now: float | None = None) -> go.Figure:
    """Fooling rate vs ε: colour = norm, dash = attack (FGSM dashed, PGD solid)."""
    fig = go.Figure()
    for name, rate in c.rates.items():
        method, norm = name.split("_")
        label = f"{METHOD_TEXT[method]}-{NORM_TEXT[norm]}" + (
            f" ({c.pgd_steps} steps)" if method == "pgd" else ""
        )
        fig.add_trace(
            go.Scatter(
                x=c.eps,
                y=100 * rate,
                mode="lines+markers",
                name=label,
                line=dict(color=NORM_COLORS[norm], dash=DASHES[method], width=3),
                marker=dict(size=7, symbol=SYMBOLS[method]),
                hovertemplate="ε %{x:.2f}: %{y:.1f} % fooled<extra>" + label + "</extra>",
            )
        )
    if eps_now is not None:
        fig.add_vline(
            x=eps_now,
            line=dict(color="#555", dash="dot", width=2),
            annotation_text=f"ε = {eps_now:.2f}",
            annotation_position="top left",
        )
    fig.update_layout(
        title=f"Fooling rate vs ε over the whole dataset ({c.n_correct} of {c.n_total} points classified correctly)",
        xaxis_title="ε (perturbation budget, standardised units)",
        yaxis_title="fooled (% of correctly classified points)",
        yaxis=dict(range=[-2, 102]),
        height=460,
        legend=dict(yanchor="bottom", y=0.02, xanchor="right", x=0.99),
    )
    return fig


def summary_rows(r: PointAttackResult) -> list[dict[str, object]]:
    """One row per attack for the page's table: δ, its two norms, the loss reached, the class, flipped or not."""
    rows = [
        {
            "attack": "clean x",
            "δ": "(0, 0)",
            "‖δ‖∞": 0.0,
            "‖δ‖₂": 0.0,
            "loss": float(f"{r.loss:.3g}"),
            "predicted class": r.pred,
            "label flipped": "",
        }
    ]
    for a in r.attacks.values():
        rows.append(
            {
                "attack": f"{METHOD_TEXT[a.method]}-{NORM_TEXT[a.norm]}",
                "δ": f"({a.delta[0]:+.3f}, {a.delta[1]:+.3f})",
                "‖δ‖∞": round(float(np.abs(a.delta).max()), 4),
                "‖δ‖₂": round(float(np.linalg.norm(a.delta)), 4),
                "loss": float(f"{a.loss:.3g}"),
                "predicted class": a.pred,
                "label flipped": "yes ✔" if a.flipped else "no",
            }
        )
    return rows
