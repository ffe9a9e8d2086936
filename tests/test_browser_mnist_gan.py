"""Browser test of the MNIST GAN page: while a run is live, the sample grid from fixed noise refreshes by itself."""

from __future__ import annotations

import time

import pytest

from core import runs
from core.mnist import metrics
from core.mnist.data import load_mnist
from tests.browser import (
    assert_no_exception,
    chromium_page,
    require_browser,
    screenshot,
    streamlit_server,
    wait_for_app,
)


def grid_source(page) -> str:
    """The media URL of the sample grid (Streamlit serves st.image bytes under /media/<hash>)."""
    img = page.locator("[data-testid='stImage'] img, img[src*='/media/']").first
    img.wait_for(timeout=30_000)
    return img.get_attribute("src") or ""


@pytest.mark.browser
def test_sample_grid_refreshes_while_a_gan_run_is_live(tmp_path, cache_dir, monkeypatch):
    require_browser()
    env = {"ADVLAB_RUNS_DIR": str(tmp_path / "runs"), "ADVLAB_CACHE_DIR": str(cache_dir),
           "ADVLAB_DATA_DIR": str(tmp_path / "no_idx_here")}  # fmt: skip
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    subset = load_mnist(source="subset")
    metrics.load_classifier(subset.x_train, subset.y_train)  # cached before the run's process needs it
    run_id = runs.launch("gan", {"steps": 20_000, "batch_size": 32, "eval_every": 100, "eval_samples": 200,
                                 "data": "subset", "device": "cpu"})  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while runs.get_run(run_id).step == 0 and time.monotonic() < deadline:  # wait for its first steps
            time.sleep(0.3)
        assert runs.get_run(run_id).status == "running", runs.get_run(run_id).error
        with streamlit_server(env=env) as url, chromium_page() as page:
            page.goto(f"{url}/MNIST_GAN?run={run_id}")
            wait_for_app(page)
            assert_no_exception(page)
            first = grid_source(page)
            seen = {first}
            deadline = time.monotonic() + 30
            while len(seen) < 3 and time.monotonic() < deadline:  # two refreshes without any click
                page.wait_for_timeout(500)
                seen.add(grid_source(page))
            screenshot(page, "mnist_gan_live")
            assert len(seen) >= 3, f"the sample grid did not refresh while the run was live: {seen}"
            assert_no_exception(page)
            assert page.get_by_text("running").count() > 0
    finally:
        runs.cancel(run_id)
        deadline = time.monotonic() + 10
        while runs.get_run(run_id).is_active and time.monotonic() < deadline:
            time.sleep(0.2)
    assert not runs.get_run(run_id).is_active
