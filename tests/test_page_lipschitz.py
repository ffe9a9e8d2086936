"""The Lipschitz critics page (sheet §1.3.1, Problem 2) under AppTest, and its figures without a browser."""

import numpy as np
import pytest

from core import lipschitz
from core.figures import lipschitz as figs
from tests.apptest_utils import errors, open_page, plotly_figures

PAGE = "pages/3_Lipschitz_critics.py"


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_default_view_shows_bound_above_measured_and_every_chart():
    at = open_page(PAGE)
    assert not at.exception and not errors(at)
    m = metrics(at)
    assert float(m["∏ σ(W_i) (bound)"]) >= float(m["measured max ‖∇f‖"])
    assert float(m["∏ σ after normalisation"]) == pytest.approx(1.0, abs=1e-6)
    figures = plotly_figures(at)
    assert len(figures) == 6
    assert at.dataframe and len(at.dataframe[0].value) == 3  # the per-layer table: one row per layer
    titles = [f["layout"]["title"]["text"] for f in figures]
    assert any("Power iteration" in t for t in titles) and any("Problem 2" in t for t in titles)


def test_changing_the_critic_and_the_rounds_reruns_without_exception():
    at = open_page(PAGE)
    at.slider(key="layers").set_value(5).run()
    at.slider(key="n_iter").set_value(20).run()
    at.selectbox(key="act").set_value("tanh").run()
    assert not at.exception and not errors(at)
    assert len(plotly_figures(at)) == 6
    layer_fig = plotly_figures(at)[0]
    assert len(layer_fig["data"][0]["x"]) == 5  # one bar per layer
    assert "20 rounds" in layer_fig["data"][1]["name"]


def test_clip_level_zero_shows_an_error_not_a_traceback():
    at = open_page(PAGE, query={"clip_c": "0.0"})
    assert not at.exception
    assert any(msg.startswith("**Cannot compute this view:** clip_c") for msg in errors(at))
    at.number_input(key="clip_c").set_value(0.02).run()
    assert not at.exception and not errors(at) and len(plotly_figures(at)) == 6


def test_every_figure_has_titles_axis_titles_and_no_nan():
    r = lipschitz.analyse_critic(lipschitz.LipschitzConfig(critic=lipschitz.CriticConfig(layers=4, width=8)))
    c = lipschitz.composition(width=8)
    for fig in (
        figs.layer_norms_figure(r),
        figs.power_iteration_figure(r),
        figs.bounds_figure(r),
        figs.clip_sweep_figure(r),
        figs.slice_figure(r),
        figs.composition_figure(c),
    ):
        assert fig.layout.title.text
        assert fig.layout.xaxis.title.text or fig.layout.xaxis2.title.text
        assert fig.layout.yaxis.title.text
        assert len(fig.data) > 1
        for trace in fig.data:
            for arr in (trace.x, trace.y):
                if arr is not None and trace.type != "bar":
                    assert np.all(np.isfinite(np.asarray(arr, dtype=float))), trace.name
            if trace.type == "bar":
                assert np.all(np.isfinite(np.asarray(trace.y, dtype=float))), trace.name
