"""Browser: train on the 1D GAN critics page, press Play, and the frame slider advances."""

from __future__ import annotations

import re

import pytest

from tests.browser import (
    assert_no_exception,
    chromium_page,
    require_browser,
    screenshot,
    streamlit_server,
    wait_for_app,
)


@pytest.mark.browser
def test_train_then_play_advances_the_frame_slider(tmp_path):
    require_browser()
    query = "steps=60&snapshots=20&batch=64&critics=perfect,gradient_penalty"
    with streamlit_server(env={"ADVLAB_RUNS_DIR": str(tmp_path / "runs")}) as url, chromium_page() as page:
        page.goto(f"{url}/1D_GAN_critics?{query}", timeout=60_000)
        wait_for_app(page)
        page.get_by_role("button", name=re.compile("Train")).click()
        wait_for_app(page)
        page.wait_for_selector(".js-plotly-plot .slider-container", timeout=60_000)
        assert_no_exception(page)
        current = page.locator(".js-plotly-plot .slider-group > text.slider-label").first  # the current value
        assert "generator step 0" in current.text_content()
        page.locator(".js-plotly-plot .updatemenu-button", has_text="Play").first.click()
        page.wait_for_timeout(1500)
        step = int(re.search(r"generator step (\d+)", current.text_content()).group(1))
        assert step > 0, "the animation did not advance"
        screenshot(page, "1D_GAN_critics_playing")
