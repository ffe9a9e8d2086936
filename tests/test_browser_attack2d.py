"""Browser test for "Attack a 2D classifier": clicking a data point in Chromium attacks that point."""

from __future__ import annotations

import numpy as np
import pytest

from core import toy2d
from tests.browser import (
    assert_no_exception,
    chromium_page,
    require_browser,
    screenshot,
    streamlit_server,
    wait_for_app,
)

pytestmark = pytest.mark.browser


def _isolated_class0_point() -> tuple[int, int]:
    """(position in the class-0 trace, dataset index) of the class-0 point farthest from every other point, so a
    click on it cannot land on a neighbour. The page's default data: moons, 300 points, noise 0.15, seed 0."""
    X, y = toy2d.make_dataset("moons", 300, 0.15, 0)
    dist = np.linalg.norm(X[:, None] - X[None], axis=2) + np.eye(len(X)) * 1e9
    members = np.flatnonzero(y == 0)
    k = int(dist[members].min(axis=1).argmax())
    return k, int(members[k])


def test_clicking_a_point_selects_it_and_draws_its_balls():
    require_browser()
    k, expected = _isolated_class0_point()
    start = 1 if expected != 1 else 2
    # one torch thread: the page's tensors are tiny and the test machine is shared
    with streamlit_server(env={"OMP_NUM_THREADS": "1"}) as url, chromium_page(1400, 1800) as page:
        page.goto(f"{url}/Attack_a_2D_classifier?point={start}")
        wait_for_app(page, 120_000)
        assert_no_exception(page)
        index_box = page.get_by_label("Point index (or click a point)")
        assert index_box.input_value() == str(start)

        chart = page.locator("[data-testid='stPlotlyChart']").first
        chart.scroll_into_view_if_needed()
        # the first scatter trace holds the class-0 points, in dataset order
        point = chart.locator("g.scatterlayer g.trace").first.locator("path.point").nth(k)
        box = point.bounding_box()
        assert box is not None
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_function(
            "([sel, want]) => { const el = document.querySelector(sel); return el && el.value === want; }",
            arg=["input[aria-label='Point index (or click a point)']", str(expected)],
            timeout=60_000,
        )
        wait_for_app(page, 120_000)
        assert_no_exception(page)
        assert index_box.input_value() == str(expected)
        # the map now attacks the clicked point and draws both balls around it
        text = chart.inner_text()
        svg_text = " ".join(chart.locator("svg text").all_text_contents())
        assert f"Point #{expected}," in svg_text, text
        assert "L∞ ball" in svg_text and "L2 ball" in svg_text
        assert f"point={expected}" in page.url
        screenshot(page, "attack2d_clicked")
