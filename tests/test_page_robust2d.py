"""AppTest: the Adversarial training page (2D tab) trains both models, draws Problem 4, and shows bad settings."""

import torch

from tests.apptest_utils import errors, open_page, plotly_figures

torch.set_num_threads(1)

PAGE = "pages/6_Adversarial_training.py"
FAST = {"epochs": "5"}


def test_adversarial_training_page_draws_boundaries_and_problem4():
    at = open_page(PAGE, query=FAST, timeout=180)
    assert not at.exception
    figs = plotly_figures(at)
    titles = [f["layout"]["title"]["text"] for f in figs]
    assert len(figs) == 4 and any("Problem 4" in t for t in titles)
    assert len(figs[0]["frames"]) == 6  # one boundary per epoch 0..5
    table = at.dataframe[0].value
    assert list(table["inside ‖δ‖∞ ≤ ε?"].str.startswith("✓")) == [True, False, True, False, False]
    at.slider(key="b").set_value(0.9).run()  # dim the night only a little: δ = −0.1·x
    assert not at.exception
    legend = [tr.get("name", "") for f in plotly_figures(at) for tr in f["data"]]
    assert any("0.9·x" in name for name in legend)


def test_zero_training_radius_shows_an_error_naming_eps():
    at = open_page(PAGE, query={**FAST, "eps": "0.0"}, timeout=180)
    assert not at.exception
    assert any("eps" in e for e in errors(at))
