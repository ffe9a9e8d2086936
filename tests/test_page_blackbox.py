"""AppTest: the Black-box attacks page renders its charts, answers a changed slider, and shows bad settings."""

import torch

from tests.apptest_utils import errors, open_page, plotly_figures

torch.set_num_threads(1)

PAGE = "pages/5_Black-box_attacks.py"


def _titles(at):
    return [f["layout"]["title"]["text"] for f in plotly_figures(at)]


def test_black_box_page_tells_the_story_with_no_clicks_and_follows_a_slider():
    at = open_page(PAGE, timeout=180)
    assert not at.exception
    titles = _titles(at)
    assert len(titles) == 6
    assert any("step h" in t for t in titles) and any("Transfer" in t for t in titles)
    assert any(t.startswith("Transfer works where the gradients agree") for t in titles)
    at.slider(key="k").set_value(12).run()
    assert not at.exception
    legend = [tr["name"] for f in plotly_figures(at) for tr in f["data"] if "name" in tr]
    assert any("k = 12" in name for name in legend)
    assert at.query_params["k"] == ["12"] or at.query_params["k"] == "12"


def test_zero_budget_shows_an_error_naming_eps():
    at = open_page(PAGE, query={"eps": "0.0"}, timeout=180)
    assert not at.exception
    assert any("eps" in e for e in errors(at))
