"""Figures of the black-box attacks page (sheet §2.2): results in, go.Figure out."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from core.blackbox import ALIGNED, GradientQuality, QueryBudgetResult, TransferResult

METHOD_COLORS = {"coordinate": "#1f77b4", "random": "#ff7f0e"}
TARGET_COLORS = {"svm": "#9467bd", "forest": "#2ca02c", "knn": "#d62728", "mlp": "#17becf"}


def _band(x: np.ndarray, q: np.ndarray, color: str, name: str, group: str) -> list[go.Scatter]:
    """Median line with a shaded 25–75 % band (q: [n, 3])."""
    rgba = "rgba({},{},{},0.18)".format(*(int(color[i : i + 2], 16) for i in (1, 3, 5)))
    return [
        go.Scatter(
            x=np.concatenate([x, x[::-1]]),
            y=np.concatenate([q[:, 2], q[::-1, 0]]),
            fill="toself",
            fillcolor=rgba,
            line=dict(width=0, color="rgba(0,0,0,0)"),  # stays invisible when presenter mode thickens lines
            hoverinfo="skip",
            legendgroup=group,
            showlegend=False,
            name=f"{name} (25–75 %)",
        ),
        go.Scatter(
            x=x,
            y=q[:, 1],
            mode="lines+markers",
            line=dict(color=color, width=3),
            marker=dict(size=6),
            legendgroup=group,
            name=name,
        ),
    ]


def gradient_vs_h(gq: GradientQuality, d: int = 2) -> go.Figure:
    """Median cosine between estimate and true gradient against the step h (log axis), both estimators."""
    fig = go.Figure()
    for tr in _band(
        gq.h, gq.coordinate, METHOD_COLORS["coordinate"], f"coordinate-wise ({2 * d} queries)", "coordinate"
    ):
        fig.add_trace(tr)
    for tr in _band(
        gq.h,
        gq.random,
        METHOD_COLORS["random"],
        f"random directions, k = {gq.n_dirs} ({2 * gq.n_dirs} queries)",
        "random",
    ):
        fig.add_trace(tr)
    fig.add_annotation(x=np.log10(gq.h.min()), y=0.45, xanchor="left", showarrow=False, text="round-off")
    fig.add_annotation(x=np.log10(gq.h.max()), y=0.3, xanchor="right", showarrow=False, text="curvature")
    fig.update_layout(
        title="Estimate quality vs step h",
        height=520,
        margin=dict(b=150),
        xaxis=dict(
            title="finite-difference step h (data units, log scale)", type="log", exponentformat="power"
        ),
        yaxis=dict(title="cos∠(estimate, true ∇ₓL)", range=[-0.05, 1.05]),
        legend=dict(orientation="h", y=-0.3, yanchor="top"),
    )
    return fig


def gradient_vs_queries(gq: GradientQuality) -> go.Figure:
    """Median cosine against queries per point: random directions (2k) vs coordinate-wise (2d, one point)."""
    fig = go.Figure()
    for tr in _band(
        gq.queries_random.astype(float),
        gq.random_by_k,
        METHOD_COLORS["random"],
        "random directions (2k queries)",
        "random",
    ):
        fig.add_trace(tr)
    c = gq.coordinate_at_h
    fig.add_trace(
        go.Scatter(
            x=[gq.queries_coordinate],
            y=[c[1]],
            mode="markers",
            marker=dict(color=METHOD_COLORS["coordinate"], size=18, symbol="star"),
            error_y=dict(type="data", symmetric=False, array=[c[2] - c[1]], arrayminus=[c[1] - c[0]]),
            name=f"coordinate-wise (2d = {gq.queries_coordinate} queries)",
        )
    )
    fig.update_layout(
        title=f"Estimate quality vs queries (h = {gq.h_for_k:g})",
        height=520,
        margin=dict(b=150),
        xaxis_title="queries per gradient estimate (per point)",
        yaxis=dict(title="cos∠(estimate, true ∇ₓL)", range=[-0.05, 1.05]),
        legend=dict(orientation="h", y=-0.3, yanchor="top"),
    )
    return fig


def budget_curves(qb: QueryBudgetResult) -> go.Figure:
    """Success rate of the finite-difference attack against the query budget, one line per estimator."""
    names = {"coordinate": "coordinate-wise differences", "random": "random directions (NES)"}
    fig = go.Figure()
    for method, rate in qb.success.items():
        fig.add_trace(
            go.Scatter(
                x=qb.budgets,
                y=100 * rate,
                mode="lines",
                line=dict(color=METHOD_COLORS[method], width=3, shape="hv"),
                name=names[method],
            )
        )
    sub = "∞" if qb.norm == "inf" else "₂"
    fig.update_layout(
        title=f"Success vs queries (‖δ‖{sub} ≤ {qb.eps:g})",
        height=560,
        margin=dict(b=150),
        xaxis_title="query budget per point",
        yaxis=dict(title="points fooled (%)", range=[0, 102]),
        legend=dict(orientation="h", y=-0.22, yanchor="top"),
    )
    return fig


def attack_map(
    qb: QueryBudgetResult,
    xs: np.ndarray,
    ys: np.ndarray,
    label: np.ndarray,
    method: str = "coordinate",
    max_points: int = 60,
) -> go.Figure:
    """The target's decision regions (boundary in black), some attacked points and where the attack moved them."""
    res = qb.attacks[method]
    show = np.arange(min(len(qb.x), max_points))
    x0, xa, ok = qb.x[show], res.x_adv[show], res.success[show]
    k = int(label.max()) + 1 if label.size else 2
    colors = ["#9ecae1", "#fdae6b", "#a1d99b", "#fc9272", "#bcbddc"]
    fig = go.Figure()
    fig.add_trace(
        go.Contour(
            x=xs,
            y=ys,
            z=label,
            colorscale=[[i / max(k - 1, 1), colors[i % 5]] for i in range(k)],
            contours=dict(start=0.5, end=max(k - 1.5, 0.5), size=1, coloring="heatmap"),
            line=dict(color="black", width=3),
            showscale=False,
            hoverinfo="skip",
            name="target's boundary",
            showlegend=True,
        )
    )
    lx, ly = [], []
    for a, b in zip(x0, xa, strict=True):
        lx += [a[0], b[0], None]
        ly += [a[1], b[1], None]
    fig.add_trace(
        go.Scatter(
            x=lx, y=ly, mode="lines", line=dict(color="#333", width=2), name="attack path", hoverinfo="skip"
        )
    )
    fig.add_trace(
        go.Scatter(
            x=x0[:, 0],
            y=x0[:, 1],
            mode="markers",
            name="start (classified correctly)",
            marker=dict(color="white", size=8, line=dict(color="#333", width=2)),
        )
    )
    fig.add_trace(
        go.Scatter(
            x=xa[ok, 0],
            y=xa[ok, 1],
            mode="markers",
            name="end: label flipped",
            marker=dict(color="#d62728", size=11, symbol="x"),
        )
    )
    fig.update_layout(
        title=f"Attack paths on the {qb.target_name} ({len(show)} points)",
        height=560,
        margin=dict(b=150),
        xaxis_title="x₁ (data units)",
        yaxis_title="x₂ (data units)",
        legend=dict(orientation="h", y=-0.22, yanchor="top"),
    )
    fig.update_yaxes(scaleanchor="x", scaleratio=1)
    return fig


def transfer_curves(results: dict[str, TransferResult]) -> go.Figure:
    """Transfer success against ε for each scikit-learn target, with the random-noise control (dotted)."""
    fig = go.Figure()
    for kind, r in results.items():
        color = TARGET_COLORS.get(kind, "#333")
        fig.add_trace(
            go.Scatter(
                x=r.eps,
                y=100 * r.target_success,
                mode="lines+markers",
                line=dict(color=color, width=3),
                legendgroup=kind,
                name=f"{r.name}: PGD on surrogate, replayed",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=r.eps,
                y=100 * r.random_success,
                mode="lines",
                legendgroup=kind,
                line=dict(color=color, width=2, dash="dot"),
                name=f"{r.name}: random δ (control)",
            )
        )
    fig.update_layout(
        title="Transfer attack: success on each black-box target vs ε",
        height=500,
        xaxis_title="budget ε (data units)",
        yaxis=dict(title="target's points fooled (%)", range=[0, 102]),
        legend=dict(x=1.02, y=1, xanchor="left", yanchor="top"),
    )
    return fig


def transfer_alignment(results: dict[str, TransferResult]) -> go.Figure:
    """Per target: transfer success where the surrogate's gradient points along the target's (cos > ALIGNED)
    and where it does not, with the number of points in each group."""
    fig = go.Figure()
    names, rows = [], []
    for r in results.values():
        a = r.alignment
        if a is None:
            continue
        names.append(f"{r.name}<br>median cos {np.median(a.cos):.2f}")
        rows.append(a)
    for aligned, color, label in ((True, "#2ca02c", f"gradients agree (cos > {ALIGNED:g})"),
                                  (False, "#7f7f7f", f"they do not (cos ≤ {ALIGNED:g})")):  # fmt: skip
        y = [a.success(aligned) for a in rows]
        n = [int((a.cos > ALIGNED).sum() if aligned else (a.cos <= ALIGNED).sum()) for a in rows]
        fig.add_trace(
            go.Bar(
                x=names,
                y=[100 * v if np.isfinite(v) else 0.0 for v in y],  # an empty group: no bar, "n = 0" says why
                name=label,
                marker_color=color,
                text=[f"n = {k}" for k in n],
                textposition="outside",
            )
        )
    eps = rows[0].eps if rows else float("nan")
    fig.update_layout(
        title=f"Transfer works where the gradients agree (PGD at ε = {eps:g}, replayed on each target)",
        barmode="group",
        height=460,
        xaxis_title="black-box target (median cos∠ between the surrogate's and the target's gradients)",
        yaxis=dict(title="target's points fooled (%)", range=[0, 115]),
        legend=dict(orientation="h", yref="container", y=0.0, yanchor="bottom", xanchor="left", x=0),
    )
    return fig
