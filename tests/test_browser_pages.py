"""Every page opened by its deep link on a freshly started server renders without an exception block.

Streamlit 1.67 routes a deep link wrongly on a fresh server when a pages/ folder sits beside st.navigation; this
test opens each page as the *first* request of a new server so that regression cannot come back unnoticed.
"""

from __future__ import annotations

import pytest

from tests.browser import (
    ROOT,
    assert_no_exception,
    chromium_page,
    require_browser,
    screenshot,
    streamlit_server,
    wait_for_app,
)

# url path, expected page title text, whether a plotly chart must render with no user action
PAGES = [
    ("", "Adversarial Lab", False),
    ("The_GAN_game", "GAN game", True),
    ("1D_GAN_critics", "critic", True),
    ("Lipschitz_critics", "Lipschitz", True),
    ("Attack_a_2D_classifier", "Attack", True),
    ("Black-box_attacks", "Black-box", True),
    ("Adversarial_training", "Adversarial training", True),
    ("Attack_explorer", "Attack explorer", False),
    ("MNIST_GAN", "MNIST GAN", False),
    ("Runs", "Runs", False),
]


def _page_files() -> set[str]:
    return {p.stem.split("_", 1)[1] for p in (ROOT / "pages").glob("*.py")}


@pytest.mark.browser
@pytest.mark.parametrize(("path", "title", "needs_chart"), PAGES, ids=[p[0] or "home" for p in PAGES])
def test_deep_link_on_fresh_server_renders(path, title, needs_chart, tmp_path):
    require_browser()
    if path and path not in _page_files():
        pytest.fail(f"page file for /{path} is missing from pages/")
    env = {"ADVLAB_RUNS_DIR": str(tmp_path / "runs")}
    with streamlit_server(env=env) as url, chromium_page() as page:
        page.goto(f"{url}/{path}", timeout=60_000)
        wait_for_app(page)
        if needs_chart:
            page.wait_for_selector(".js-plotly-plot", timeout=60_000)
            wait_for_app(page)
        assert_no_exception(page)
        heading = page.locator("h1").first.inner_text(timeout=10_000)
        assert title.lower() in heading.lower(), f"/{path} showed '{heading}', not the {title} page"
        screenshot(page, path or "home")
