"""Figures of the 2D adversarial-training view (sheet §2.3, Problem 4): results in, go.Figure out."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.figures.style import CLASS_COLORS
from core.perturbation_sets import Dimming, NormBall
from core.robust2d import MODEL_NAMES, MODELS, Robust2DResult, SetAccuracy

MODEL_COLORS = {"standard": "#9467bd", "robust": "#2ca02c"}
CONTAINED_COLOR = "#2ca02c"
NOT_CONTAINED_COLOR = "#d62728"
_PROB_SCALE = [[0.0, "#9ecae1"], [0.5, "#ffffff"], [1.0, "#fdae6b"]]  # class 0 blue, class 1 orange


def _frame_epochs(epochs: int, max_frames: int = 16) -> list[int]:
    """Epochs to show in the animation: evenly spaced, always the first and the last (keeps the page light)."""
    if epochs + 1 <= max_frames:
        return list(range(epochs + 1))
    return sorted(set(np.linspace(0, epochs, max_frames).round().astype(int).tolist()))


def _surface_trace(result: Robust2DResult, model: str, epoch: int, show_scale: bool) -> go.Contour:
    if result.n_classes == 2:
        z, zmin, zmax, start = result.surfaces[model][epoch], 0.0, 1.0, 0.5
        scale = _PROB_SCALE
        bar_title = "p(class 1)"
    else:
        z, zmin, zmax, start = result.predicted[model][epoch], 0, result.n_classes - 1, 0.5
        k = result.n_classes
        scale = [[i / max(k - 1, 1), CLASS_COLORS[i % len(CLASS_COLORS)]] for i in range(k)]
        bar_title = "class"
    return go.Contour(
        x=result.grid_x,
        y=result.grid_y,
        z=np.round(z, 2),
        zmin=zmin,
        zmax=zmax,
        colorscale=scale,
        opacity=0.75 if result.n_classes == 2 else 0.35,
        contours=dict(
            start=start, end=zmax - 0.5 if result.n_classes > 2 else start, size=1, coloring="heatmap"
        ),
        line=dict(width=3, color="black"),
        showscale=show_scale,
        hoverinfo="skip",
        colorbar=dict(title=bar_title, len=0.55, y=0.75) if show_scale else None,
        name="decision boundary",
        showlegend=False,
    )


def boundary_animation(result: Robust2DResult) -> go.Figure:
    """Standard vs PGD-trained boundaries side by side, animated over the epochs (play / scrub)."""
    epochs = _frame_epochs(result.config.epochs)
    last = epochs[-1]
    fig = make_subplots(
        rows=1, cols=2, subplot_titles=[MODEL_NAMES[m] for m in MODELS], horizontal_spacing=0.08
    )
    for col, model in enumerate(MODELS, start=1):
        fig.add_trace(
            _surface_trace(result, model, last, show_scale=col == 2 and result.n_classes == 2), row=1, col=col
        )
    for col in (1, 2):
        for c in range(result.n_classes):
            sel = result.y_train == c
            fig.add_trace(
                go.Scatter(
                    x=result.x_train[sel, 0],
                    y=result.x_train[sel, 1],
                    mode="markers",
                    name=f"class {c}",
                    legendgroup=f"class {c}",
                    showlegend=col == 1,
                    marker=dict(
                        color=CLASS_COLORS[c % len(CLASS_COLORS)], size=7, line=dict(width=1, color="white")
                    ),
                ),
                row=1,
                col=col,
            )
    frames = [
        go.Frame(
            name=str(e),
            traces=[0, 1],
            data=[_surface_trace(result, m, e, show_scale=i == 1) for i, m in enumerate(MODELS)],
        )
        for e in epochs
    ]
    fig.frames = frames
    steps = [
        dict(
            method="animate",
            label=str(e),
            args=[
                [str(e)],
                dict(mode="immediate", frame=dict(duration=0, redraw=True), transition=dict(duration=0)),
            ],
        )
        for e in epochs
    ]
    fig.update_layout(
        title=f"Decision boundaries (black line) while training, ε = {result.config.eps:g} (L∞) — drag or press ▶",
        height=640,
        legend=dict(x=1.02, y=0.05, xanchor="left", yanchor="bottom"),
        updatemenus=[
            dict(
                type="buttons",
                showactive=False,
                x=0.0,
                y=-0.24,
                xanchor="left",
                yanchor="top",
                buttons=[
                    dict(
                        label="▶ Play",
                        method="animate",
                        args=[
                            None,
                            dict(
                                frame=dict(duration=350, redraw=True),
                                fromcurrent=True,
                                transition=dict(duration=0),
                            ),
                        ],
                    ),
                    dict(
                        label="⏸ Pause",
                        method="animate",
                        args=[[None], dict(mode="immediate", frame=dict(duration=0))],
                    ),
                ],
            )
        ],
        sliders=[
            dict(
                active=len(epochs) - 1,
                steps=steps,
                x=0.15,
                len=0.85,
                y=-0.24,
                currentvalue=dict(prefix="epoch ", visible=True),
            )
        ],
        margin=dict(b=150),
    )
    # a scale bar: the training ball itself, so the room the robust boundary leaves can be judged by eye
    e = result.config.eps
    cx, cy = result.grid_x[0] + e + 0.15, result.grid_y[-1] - e - 0.15
    for col in (1, 2):
        fig.add_trace(
            go.Scatter(
                x=[cx - e, cx + e, cx + e, cx - e, cx - e],
                y=[cy - e, cy - e, cy + e, cy + e, cy - e],
                mode="lines",
                fill="toself",
                fillcolor="rgba(255,255,255,0.6)",
                line=dict(color="black", width=2),
                name=f"the ε-square ‖δ‖∞ ≤ {e:g}",
                legendgroup="ball",
                showlegend=col == 1,
                hoverinfo="skip",
            ),
            row=1,
            col=col,
        )
    for col in (1, 2):
        fig.update_xaxes(title_text="x₁ (data units)", row=1, col=col)
        fig.update_yaxes(
            title_text="x₂ (data units)", row=1, col=col, scaleanchor=f"x{col if col > 1 else ''}"
        )
    return fig


def accuracy_curves(result: Robust2DResult) -> go.Figure:
    """Clean and robust test accuracy of both models against epoch."""
    fig = go.Figure()
    x = np.arange(result.config.epochs + 1)
    for model in MODELS:
        color = MODEL_COLORS[model]
        fig.add_trace(
            go.Scatter(
                x=x,
                y=100 * result.clean_acc[model],
                mode="lines",
                line=dict(color=color, width=3),
                name=f"{MODEL_NAMES[model]} · clean",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=100 * result.robust_acc[model],
                mode="lines",
                line=dict(color=color, width=3, dash="dash"),
                name=f"{MODEL_NAMES[model]} · robust (PGD, ε = {result.config.eps:g})",
            )
        )
    fig.update_layout(
        title="Clean vs robust test accuracy during training",
        height=480,
        xaxis_title="epoch",
        yaxis_title="test accuracy (%)",
        yaxis_range=[0, 102],
        margin=dict(b=120),
        legend=dict(orientation="h", y=-0.3, yanchor="top"),
    )
    return fig


def _ball_outline(ball: NormBall, n: int = 181) -> tuple[np.ndarray, np.ndarray]:
    r = ball.radius
    if ball.norm == "inf":
        return np.array([-r, r, r, -r, -r]), np.array([-r, -r, r, r, -r])
    t = np.linspace(0, 2 * np.pi, n)
    return r * np.cos(t), r * np.sin(t)


def problem4_sets_figure(
    items: list, contained: np.ndarray, train_ball: NormBall, x_data: np.ndarray
) -> go.Figure:
    """δ-space: the training square, the four other balls (green: contained, red: not) and the "night" δ's."""
    fig = go.Figure()
    for item, inside in zip(
        items, contained, strict=True
    ):  # the night's cloud first, so the balls draw on top
        if isinstance(item.pset, Dimming):
            deltas = (item.pset.brightness - 1.0) * np.asarray(x_data)
            fig.add_trace(
                go.Scatter(
                    x=deltas[:, 0],
                    y=deltas[:, 1],
                    mode="markers",
                    marker=dict(
                        color=CONTAINED_COLOR if inside else NOT_CONTAINED_COLOR,
                        size=5,
                        opacity=0.35,
                        symbol="x",
                    ),
                    name=f"{item.label}: δ = (b−1)·x {'✓' if inside else '✗'}",
                )
            )
    tx, ty = _ball_outline(train_ball)
    fig.add_trace(
        go.Scatter(
            x=tx,
            y=ty,
            mode="lines",
            fill="toself",
            fillcolor="rgba(0,0,0,0.08)",
            line=dict(color="black", width=6),
            name=f"trained on: ‖δ‖∞ ≤ {train_ball.radius:g}",
        )
    )
    for item, inside in zip(items, contained, strict=True):
        if isinstance(item.pset, NormBall):
            bx, by = _ball_outline(item.pset)
            dash = "solid" if item.pset.norm == "inf" else "dash"
            fig.add_trace(
                go.Scatter(
                    x=bx,
                    y=by,
                    mode="lines",
                    line=dict(color=CONTAINED_COLOR if inside else NOT_CONTAINED_COLOR, width=4, dash=dash),
                    name=f"{item.label} {'✓ contained' if inside else '✗ not contained'}",
                )
            )
    fig.update_layout(
        title="Problem 4 in δ-space",
        height=600,
        xaxis_title="δ₁ (data units)",
        yaxis_title="δ₂ (data units)",
        margin=dict(b=230),
        legend=dict(orientation="h", y=-0.25, x=0.5, xanchor="center", yanchor="top"),
    )
    fig.update_yaxes(scaleanchor="x", scaleratio=1)
    return fig


def set_accuracy_figure(result: Robust2DResult, sets: SetAccuracy) -> go.Figure:
    """Both models' test accuracy under each of the five sets (✓ contained / ✗ not), beside clean and ε-ball."""
    labels = ["clean", "ε-ball"] + [
        f"{it.number}. {'✓' if c else '✗'}" for it, c in zip(sets.items, sets.contained, strict=True)
    ]
    fig = go.Figure()
    for model in MODELS:
        vals = np.concatenate(
            [[result.clean_acc[model][-1], result.robust_acc[model][-1]], sets.accuracy[model]]
        )
        fig.add_trace(
            go.Bar(
                x=labels,
                y=100 * vals,
                name=MODEL_NAMES[model],
                marker_color=MODEL_COLORS[model],
                text=[f"{100 * v:.0f}" for v in vals],
                textposition="outside",
            )
        )
    fig.update_layout(
        title="Accuracy under each set of Problem 4",
        barmode="group",
        height=600,
        xaxis_title="Problem 4 choice (✓ = contained)",
        yaxis_title="test accuracy (%)",
        yaxis_range=[0, 112],
        margin=dict(b=150),
        legend=dict(orientation="h", y=-0.3, x=0.5, xanchor="center", yanchor="top"),
    )
    return fig
