"""Browser test: launch a tiny MNIST adversarial-training run from the page and watch its accuracy curve grow."""

from __future__ import annotations

import os
import re
import signal
import time

import pytest

from core import runs
from tests.browser import (
    assert_no_exception,
    chromium_page,
    require_browser,
    screenshot,
    streamlit_server,
    wait_for_app,
)

pytestmark = pytest.mark.browser

LIVE_TITLE = "Test accuracy per epoch"


def _points(page) -> int:
    """Markers drawn in the live accuracy chart (one per epoch and curve)."""
    chart = page.locator(".js-plotly-plot").filter(has=page.locator("text.gtitle", has_text=LIVE_TITLE))
    return chart.locator(".scatterlayer .trace .points path").count()


def _stop_all(runs_dir) -> None:
    """Never leave a run process behind: cancel, then kill what is still alive."""
    for info in runs.list_runs(runs_dir):
        if info.is_active:
            runs.cancel(info.run_id, runs_dir)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(i.is_active for i in runs.list_runs(runs_dir)):
        time.sleep(0.3)
    for info in runs.list_runs(runs_dir):
        if info.is_active and info.pid:
            try:
                os.kill(info.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def test_launch_a_tiny_run_and_watch_the_accuracy_curve_update(tmp_path):
    require_browser()
    runs_dir = tmp_path / "runs"
    env = {"ADVLAB_RUNS_DIR": str(runs_dir), "OMP_NUM_THREADS": "1"}
    try:
        with streamlit_server(env=env) as url, chromium_page(height=1400) as page:
            # A standard run of 3 epochs: the cheapest run that still draws a curve point per epoch.
            page.goto(f"{url}/Adversarial_training?mn_mode=standard&mn_epochs=3&mn_eps=0.3", timeout=120_000)
            wait_for_app(page, timeout_ms=240_000)
            page.get_by_role("tab", name="MNIST").click()
            page.get_by_role("button", name=re.compile("Launch standard")).click()

            # The live fragment refreshes by itself: no reload, the number of curve points grows epoch by epoch.
            deadline = time.monotonic() + 240
            while _points(page) == 0 and time.monotonic() < deadline:
                page.wait_for_timeout(500)
            first = _points(page)
            assert first > 0, "no accuracy curve appeared after the launch"
            while _points(page) <= first and time.monotonic() < deadline:
                page.wait_for_timeout(500)
            later = _points(page)
            assert later > first, f"the accuracy curve did not update ({first} -> {later} points)"
            assert_no_exception(page)
            (info,) = runs.list_runs(runs_dir, kind="robust")
            assert info.config["mode"] == "standard" and info.config["epochs"] == 3
            screenshot(page, "robust_mnist_live")
    finally:
        _stop_all(runs_dir)
