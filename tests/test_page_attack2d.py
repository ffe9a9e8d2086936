"""AppTest for "Attack a 2D classifier": the default view tells Problem 3's story, ε and the point respond.

AppTest cannot send plotly selection events (a click on a data point), so the point is chosen here through the
URL-bound index input and the URL; tests/test_browser_attack2d.py clicks a real point in Chromium.
"""

from __future__ import annotations

import base64

import numpy as np
import pytest
import torch

from tests.apptest_utils import errors, open_page, plotly_figures

PAGE = "pages/4_Attack_a_2D_classifier.py"


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """The page's tensors are tiny: on a loaded 2-core machine a second torch thread only adds waiting."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _trace(fig: dict, prefix: str) -> dict:
    return next(t for t in fig["data"] if str(t.get("name", "")).startswith(prefix))


def _arr(v) -> np.ndarray:
    """A plotly array from the figure JSON: a list, or plotly's base64 typed array {dtype, bdata}."""
    if isinstance(v, dict) and "bdata" in v:
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
    return np.asarray(v, dtype=float)


def _width(trace: dict, axis: str = "x") -> float:
    a = _arr(trace[axis])
    return float(a.max() - a.min())


def _titles(at) -> list[str]:
    return [f["layout"]["title"]["text"] for f in plotly_figures(at)]


def test_default_view_draws_both_balls_fgsm_corner_and_fooling_curves():
    at = open_page(PAGE)
    assert not at.exception and not errors(at)
    figs = plotly_figures(at)
    assert len(figs) == 3
    attack_map, zoom, curves = figs
    index = at.number_input(key="point").value
    assert (
        f"#{index}," in attack_map["layout"]["title"]["text"]
        and "ε = 0.30" in attack_map["layout"]["title"]["text"]
    )
    square, circle = _trace(attack_map, "L∞ ball"), _trace(attack_map, "L2 ball")
    assert _width(square) == pytest.approx(0.6, abs=1e-6)
    assert _width(circle, "y") == pytest.approx(0.6, abs=1e-3)
    # the default point tells the story: FGSM's L∞ corner flips the label, FGSM-L2 does not
    assert "flipped ✔" in _trace(attack_map, "FGSM-L∞")["name"]
    assert "not flipped" in _trace(attack_map, "FGSM-L2")["name"]
    # data points carry their index, so a click can pick them
    assert any(
        t.get("customdata") is not None for t in attack_map["data"] if t.get("name", "").startswith("class")
    )
    assert len([t for t in zoom["data"] if t["type"] == "heatmap"]) == 2
    assert len([t for t in curves["data"] if t["type"] == "scatter"]) == 4
    assert at.query_params["point"] == [str(index)] or at.query_params["point"] == str(index)


def test_changing_eps_and_the_point_redraws_the_attack():
    at = open_page(PAGE)
    at.slider(key="eps").set_value(0.6).run()
    assert not at.exception
    square = _trace(plotly_figures(at)[0], "L∞ ball")
    assert _width(square) == pytest.approx(1.2, abs=1e-6)
    assert "ε = 0.60" in _titles(at)[0]
    # a "click" on point 5, simulated through the index input the click callback writes to
    at.number_input(key="point").set_value(5).run()
    assert not at.exception
    assert "#5," in _titles(at)[0] and "#5:" in _titles(at)[1]
    assert str(at.query_params["point"]).strip("[]'") == "5"


def test_deep_link_opens_the_named_point_dataset_and_model():
    at = open_page(
        PAGE, query={"data": "blobs", "model": "logistic", "point": "7", "eps": "0.5", "show": "fgsm"}
    )
    assert not at.exception and not errors(at)
    attack_map = plotly_figures(at)[0]
    assert (
        "#7," in attack_map["layout"]["title"]["text"] and "ε = 0.50" in attack_map["layout"]["title"]["text"]
    )
    names = [t.get("name", "") for t in attack_map["data"]]
    assert sum(n.startswith("class ") for n in names) == 3  # three blobs
    assert any(n.startswith("FGSM-L∞") for n in names) and not any(n.startswith("PGD") for n in names)


def test_dual_gradient_ascent_is_drawn_with_its_path_and_its_lagrangian_when_shown():
    at = open_page(PAGE, query={"show": "fgsm,pgd,exact,dual"})
    assert not at.exception and not errors(at)
    names = [str(t.get("name", "")) for t in plotly_figures(at)[0]["data"]]
    assert "dual ascent-L2 path (60 steps)" in names and "dual ascent-L∞ path (60 steps)" in names
    assert any(n.startswith("dual ascent-L2 → class") for n in names)
    assert any(r"\mathcal{L}(\delta, \lambda)" in el.value for el in at.latex)
    plain = open_page(PAGE)  # not shown by default: the default picture and its cost stay as they were
    assert not any("dual" in str(t.get("name", "")) for t in plotly_figures(plain)[0]["data"])
