"""The GAN game page (sheet §1.1–1.3, Problem 1) under AppTest, and its figures without a browser."""

import math

import numpy as np
import pytest

from core import game
from core.divergences import LOG2
from core.figures import game as figs
from tests.apptest_utils import errors, open_page, plotly_figures

PAGE = "pages/1_The_GAN_game.py"
N_FIGURES = 6  # Figure 1/2, the objective, the probe, the sweep, instance noise, §1.3's sweep


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def trace_names(fig: dict) -> list[str]:
    return [t.get("name", "") for t in fig["data"]]


def test_default_view_shows_figure_1_and_the_identity_to_six_digits():
    at = open_page(PAGE)
    assert not at.exception
    assert not errors(at)
    m = metrics(at)
    value, identity = float(m["V(G, D*)"]), float(m["2·JSD(p‖p_G) − log 4"])
    assert value == pytest.approx(identity, abs=5e-9)  # shown with 9 decimals: agreement to ≥ 6 digits
    assert float(m["JSD(p‖p_G)"].split()[0]) > 0.68  # θ = 3 by default: nearly disjoint
    figures = plotly_figures(at)
    assert len(figures) == N_FIGURES
    fig1 = figures[0]
    assert "D*(x) perfect discriminator" in trace_names(fig1)
    assert "generated samples" in trace_names(fig1) and "real samples" in trace_names(fig1)
    assert "f*(x) 1-Lipschitz critic (rescaled)" in trace_names(
        fig1
    )  # Figure 2's smooth critic, on by default
    assert at.latex and any("p_G" in el.value for el in at.latex)


def test_moving_the_generator_onto_the_data_makes_jsd_zero_and_the_value_minus_log4():
    at = open_page(PAGE)
    at.slider(key="theta").set_value(0.0).run()
    assert not at.exception
    m = metrics(at)
    assert float(m["JSD(p‖p_G)"].split()[0]) == pytest.approx(0.0, abs=1e-6)
    assert float(m["V(G, D*)"]) == pytest.approx(-math.log(4), abs=1e-8)
    at.radio(key="shape").set_value("two_gaussians").run()
    at.slider(key="sigma_g").set_value(1.0).run()
    assert not at.exception and len(plotly_figures(at)) == N_FIGURES
    assert float(metrics(at)["JSD(p‖p_G)"].split()[0]) > 0.01


def test_a_deep_link_reproduces_the_view():
    at = open_page(PAGE, query={"data": "two_modes", "theta": "8.0", "critic": "0", "presenter": "1"})
    assert not at.exception
    assert at.selectbox(key="data").value == "two_modes" and at.slider(key="theta").value == 8.0
    assert float(metrics(at)["JSD(p‖p_G)"].split()[0]) == pytest.approx(LOG2, abs=1e-3)
    assert "f*(x) 1-Lipschitz critic (rescaled)" not in trace_names(plotly_figures(at)[0])


def test_a_bad_custom_mixture_shows_an_error_not_a_traceback():
    at = open_page(PAGE, query={"data": "custom", "p_means": "0, 2", "p_stds": "0.5, -1"})
    assert not at.exception
    assert any(msg.startswith("**Cannot compute this view:** stds") for msg in errors(at))
    assert not plotly_figures(at)
    at.text_input(key="p_stds").set_value("0.5, 0.8").run()  # fix it: the page recovers
    assert not at.exception and not errors(at) and len(plotly_figures(at)) == N_FIGURES


@pytest.mark.parametrize(
    "config",
    [game.GameConfig(), game.GameConfig(data="skewed", generator="gaussian", offset=0.0, sigma_g=2.0)],
)
def test_every_figure_has_titles_axis_titles_a_legend_and_no_nan(config):
    r = game.play_game(config)
    for fig in (
        figs.discriminator_figure(r),
        figs.objective_figure(r),
        figs.probe_figure(r),
        figs.sweep_figure(r),
        figs.instance_noise_figure(r),
        figs.tricks_sweep_figure(r),
    ):
        layout = fig.layout
        assert layout.title.text
        assert layout.xaxis.title.text and layout.yaxis.title.text
        assert len(fig.data) > 1 and layout.showlegend is not False
        for trace in fig.data:
            for arr in (trace.x, trace.y):
                if arr is not None:
                    assert np.all(np.isfinite(np.asarray(arr, dtype=float))), trace.name


def test_the_other_tricks_section_shows_the_pearson_identity_and_instance_noise():
    at = open_page(PAGE, query={"theta": "6.0", "noise": "0.8"})
    assert not at.exception and not errors(at)
    m = metrics(at)
    assert float(m["V_LS(G, D*_LS)"]) == pytest.approx(float(m["½·χ²_Pearson(2p_G ‖ p + p_G)"]), abs=5e-9)
    clean_grad = float(m["|∂L_G/∂θ| sat."])
    noisy_grad = float(m["|∂L_G/∂θ| sat., noise σ = 0.8"])
    assert noisy_grad > 1e3 * clean_grad  # the blurred densities overlap again: the gradient is back
    assert float(m["JSD with noise σ = 0.8"].split()[0]) < float(m["JSD(p‖p_G)"].split()[0])
    titles = [f["layout"]["title"]["text"] for f in plotly_figures(at)]
    assert any(t.startswith("Instance noise σ = 0.8") for t in titles)
    at.slider(key="noise").set_value(0.0).run()  # no noise: the blurred view is the clean one
    m = metrics(at)
    assert float(m["JSD with noise σ = 0"].split()[0]) == pytest.approx(float(m["JSD(p‖p_G)"].split()[0]))
