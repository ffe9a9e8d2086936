"""Shared helpers for streamlit.testing.v1.AppTest page tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")


def open_page(page: str, query: dict[str, str] | None = None, timeout: float = 60) -> AppTest:
    """Run the app, switch to `page` (e.g. 'pages/1_The_GAN_game.py') with optional URL query, and run it."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.run()
    at.switch_page(page)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    return at


def plotly_figures(at: AppTest) -> list[dict[str, Any]]:
    """Every plotly chart on the page as a figure dict."""
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def errors(at: AppTest) -> list[str]:
    """Texts of the st.error blocks."""
    return [e.value for e in at.error]
