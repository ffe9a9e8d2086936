"""The app shell: home page, course map, sidebar (presenter mode, global seed, device badge), URL state."""

from __future__ import annotations

import pytest
import torch

from core.device import available_devices, describe_device, resolve_device
from core.figures.style import apply_theme
from tests.apptest_utils import ROOT


def _home():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    return at


def test_home_page_lists_every_page_in_the_course_map():
    at = _home()
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    pages = sorted(p.stem.split("_", 1)[1] for p in (ROOT / "pages").glob("*.py"))
    assert pages, "no pages found"
    for path in pages:
        assert f"]({path})" in text, f"course map has no link to /{path}"


def test_sidebar_links_every_page_grouped_by_lecture_half():
    from ui.course_map import PAGES, SECTIONS

    at = _home()
    assert not at.exception
    links = [(el.proto.page, el.proto.label) for el in at.sidebar.get("page_link")]  # page = the deep link
    deep_links = {p.stem.split("_", 1)[1] for p in (ROOT / "pages").glob("*.py")}
    assert {page for page, _ in links} == deep_links | {""}, "the sidebar must link home and every page"
    assert links[0] == ("", "🧪 Home: course map")
    groups = [m.value for m in at.sidebar.markdown if m.value.startswith("**")]
    assert groups == [f"**{s}**" for s in SECTIONS]
    in_order = [p for s in SECTIONS for p in PAGES if p.section == s]
    assert links[1:] == [(p.url_path, p.title) for p in in_order]
    config = (ROOT / ".streamlit" / "config.toml").read_text()
    assert "showSidebarNavigation = false" in config, "Streamlit's flat list would show the pages twice"


def test_sidebar_has_presenter_toggle_seed_and_device_badge():
    at = _home()
    assert [t.label for t in at.sidebar.toggle] == ["Presenter mode (projector)"]
    assert at.sidebar.number_input[0].value == 0
    captions = " ".join(c.value for c in at.sidebar.caption)
    assert describe_device("auto") in captions


def test_seed_and_presenter_come_from_the_url_and_go_back_into_it():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["seed"] = "42"
    at.query_params["presenter"] = "1"
    at.run()
    assert at.sidebar.number_input[0].value == 42
    assert at.sidebar.toggle[0].value is True
    at.sidebar.number_input[0].set_value(7).run()
    assert at.query_params["seed"] == ["7"] or at.query_params["seed"] == "7"


def test_a_nonsense_url_value_falls_back_to_the_default_with_a_warning():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["seed"] = "banana"
    at.run()
    assert not at.exception
    assert at.sidebar.number_input[0].value == 0
    assert any("banana" in w.value for w in at.warning)


def test_device_auto_resolves_to_what_torch_sees():
    dev = resolve_device("auto")
    expected = "cuda" if torch.cuda.is_available() else dev.type
    assert dev.type == expected
    assert "auto" in available_devices() and "cpu" in available_devices()


def test_unknown_or_absent_device_is_a_value_error_naming_device():
    with pytest.raises(ValueError, match="device"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="device"):
            resolve_device("cuda")


def test_presenter_theme_enlarges_fonts_and_lines():
    import plotly.graph_objects as go

    normal = apply_theme(go.Figure(go.Scatter(x=[0, 1], y=[0, 1], line=dict(width=2))), presenter=False)
    big = apply_theme(go.Figure(go.Scatter(x=[0, 1], y=[0, 1], line=dict(width=2))), presenter=True)
    assert big.layout.font.size > normal.layout.font.size
    assert big.data[0].line.width > normal.data[0].line.width


def test_home_page_does_not_wait_for_torch_it_loads_it_in_the_background(monkeypatch):
    import sys

    from ui import common

    started = []
    monkeypatch.delitem(sys.modules, "torch")  # a fresh server, before any page needed torch
    monkeypatch.setattr(common, "_warm_up_torch", lambda: started.append(True))
    assert common._device_badge() == common.TORCH_LOADING
    assert started == [True]
    monkeypatch.undo()
    assert common._device_badge() == describe_device("auto")


def test_no_source_file_holds_control_characters():
    """A LaTeX string written through a non-raw string turns \\theta into a tab and \\beta into a backspace."""
    bad = []
    for path in [
        ROOT / "app.py",
        *ROOT.glob("pages/*.py"),
        *ROOT.glob("ui/*.py"),
        *ROOT.glob("core/**/*.py"),
    ]:
        text = path.read_text(encoding="utf-8")
        if any(ord(ch) < 32 and ch not in "\n\r\t" for ch in text) or "\t" in text:
            bad.append(path.relative_to(ROOT).as_posix())
    assert not bad, f"control characters in {bad}"


def test_presenter_mode_makes_every_text_it_restyles_larger_than_streamlits_default():
    import re

    from ui.common import PRESENTER_CSS

    defaults = {"stMetricValue": 2.25, "stCaptionContainer": 0.875, "stWidgetLabel": 1.0, "stSliderThumbValue": 1.0,
                "stNumberInputContainer": 1.0, "h1": 2.75, "h2": 2.25, "h3": 1.75}  # fmt: skip
    rules = re.findall(r"([^{}]+)\{font-size: ([0-9.]+)rem", PRESENTER_CSS)
    seen = set()
    for selectors, size in rules:
        for name, default in defaults.items():
            if name in selectors:
                seen.add(name)
                assert float(size) > default, f"presenter mode shrinks {name} to {size}rem"
    assert seen == set(defaults)
    at = _home()
    at.sidebar.toggle[0].set_value(True).run()
    assert any(PRESENTER_CSS == m.value for m in at.markdown)


def test_presenter_mode_makes_room_above_the_plot_for_a_legend_that_sits_there():
    import plotly.graph_objects as go

    def fig(legend):
        return go.Figure(go.Scatter(x=[0, 1], y=[0, 1], name="a"), layout=dict(title="t", legend=legend))

    top = dict(orientation="h", yanchor="bottom", y=1.02)
    assert apply_theme(fig(top), presenter=True).layout.margin.t == apply_theme(fig(top)).layout.margin.t + 60
    below = dict(orientation="h", yanchor="top", y=-0.2)
    assert apply_theme(fig(below), presenter=True).layout.margin.t == apply_theme(fig(below)).layout.margin.t
