"""What every page shares: page setup and sidebar, URL-bound widgets, friendly errors, themed charts.

Every widget made here takes its first value from the URL (st.query_params[key]) and writes its current value
back, so a teacher can share a link that opens exactly the view on the projector.
"""

from __future__ import annotations

import functools
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import streamlit as st

from core.figures.style import apply_theme
from ui.course_map import HOME, SECTIONS, in_section

SIDEBAR_KEYS = ("presenter", "seed")


@dataclass(frozen=True)
class PageContext:
    seed: int
    presenter: bool
    device: str


TORCH_LOADING = "loading torch…"

# Presenter mode: everything a lecture hall reads grows. Streamlit's own sizes are 1rem for text and widget values,
# 0.875rem for captions and 2.25rem for metric values, so each rule below is larger than the default it replaces.
PRESENTER_CSS = (
    "<style>[data-testid='stMarkdownContainer'] p, [data-testid='stMarkdownContainer'] li,"
    " [data-testid='stWidgetLabel'] p {font-size: 1.3rem !important;}"
    " [data-testid='stMetricValue'], [data-testid='stMetricValue'] [data-testid='stMarkdownContainer'] p"
    " {font-size: 2.8rem !important;}"
    " [data-testid='stSelectbox'] input, [data-testid='stMultiSelect'] span, [data-testid='stNumberInputContainer'] input,"
    " [data-testid='stTextInputRootElement'] input, [data-testid='stSliderThumbValue']"
    " {font-size: 1.2rem !important;}"
    " h1 {font-size: 3.2rem !important;} h2 {font-size: 2.4rem !important;} h3 {font-size: 1.9rem !important;}"
    " [data-testid='stCaptionContainer'], [data-testid='stCaptionContainer'] p {font-size: 1.15rem !important;}"
    "</style>"
)


def _device_badge() -> str:
    """The torch device the app trains on; on a page that has not needed torch yet, "loading torch…".

    The home page needs no torch, and importing it there (2–3 s on a 2-core laptop) held back the course map of
    a freshly started server. So there torch is imported in the background, ready for the next page.
    """
    if "torch" in sys.modules:  # a page imported it (or the warm-up has begun: `import torch` then waits)
        return _torch_device()
    _warm_up_torch()
    return TORCH_LOADING


@functools.cache
def _warm_up_torch() -> None:
    """Import torch in a background thread of the server, once (a rare second thread would only wait on it)."""
    threading.Thread(target=_import_torch, name="torch-warm-up", daemon=True).start()


def _import_torch() -> None:
    import torch

    # One server answers a whole class: the pages' models are tiny, and torch's intra-op threads fighting over
    # the cores made a 2D-toy training 40x slower under load. Long runs are separate processes with their own.
    torch.set_num_threads(1)


@st.cache_resource(show_spinner=False)
def _torch_device() -> str:
    from core.device import describe_device

    _import_torch()
    return describe_device("auto")


def setup_page(title: str, icon: str = "🧪", layout: str = "wide") -> PageContext:
    """set_page_config, the presenter style, and the sidebar (presenter toggle, global seed, device badge)."""
    st.set_page_config(page_title=f"{title} · Adversarial Lab", page_icon=icon, layout=layout)
    with st.sidebar:
        _navigation()
        presenter = toggle(
            "Presenter mode (projector)",
            "presenter",
            False,
            help="Larger fonts, thicker lines and markers for a lecture hall.",
        )
        seed = number(
            "Global seed",
            "seed",
            0,
            2**31 - 1,
            0,
            1,
            help="Every random thing on the page is seeded from this: same seed, same pictures.",
        )
        device = _device_badge()
        st.caption(f"Torch device: **{device}**")
    if presenter:
        st.markdown(PRESENTER_CSS, unsafe_allow_html=True)
    return PageContext(seed=int(seed), presenter=bool(presenter), device=device)


def _navigation() -> None:
    """The pages grouped by lecture half, in the sidebar (Streamlit's flat file list is off in config.toml)."""
    st.page_link(HOME.file, label=HOME.title)
    for section in SECTIONS:
        st.markdown(f"**{section}**")
        for page in in_section(section):
            st.page_link(page.file, label=page.title)
    st.divider()


# -- URL-bound widgets ------------------------------------------------------------------------------------
def _from_url(key: str, default: Any, parse: Callable[[str], Any]) -> None:
    """Seed st.session_state[key] from the URL the first time a widget with this key is drawn."""
    if key in st.session_state:
        return
    value = default
    raw = st.query_params.get(key)
    if raw is not None:
        try:
            value = parse(raw)
        except (ValueError, TypeError):
            st.warning(f"Ignoring the link's value {raw!r} for '{key}'; using {default!r}.")
    st.session_state[key] = value


def _to_url(key: str, value: Any) -> None:
    if isinstance(value, bool):
        text = "1" if value else "0"
    elif isinstance(value, list | tuple):
        text = ",".join(str(v) for v in value)
    else:
        text = str(value)
    if st.query_params.get(key) != text:
        st.query_params[key] = text


def _number_parser(lo: float, hi: float, cast: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse(raw: str) -> Any:
        v = cast(float(raw)) if cast is int else cast(raw)
        if not lo <= v <= hi:
            raise ValueError(raw)
        return v

    return parse


def _bind_number(key: str, lo: float, hi: float, default: float, step: float) -> Callable[[Any], Any]:
    """Seed a numeric widget from the URL; its type is int when all of lo/hi/default/step are ints."""
    cast = int if all(isinstance(v, int) for v in (lo, hi, default, step)) else float
    _from_url(key, cast(default), _number_parser(lo, hi, cast))
    return cast


def _option_parser(options: Sequence[Any]) -> Callable[[str], Any]:
    """Map a URL value back to one of the options (matched by str())."""
    by_text = {str(o): o for o in options}

    def parse(raw: str) -> Any:
        if raw not in by_text:
            raise ValueError(raw)
        return by_text[raw]

    return parse


def slider(
    label: str,
    key: str,
    min_value: float,
    max_value: float,
    default: float,
    step: float,
    help: str | None = None,
    **kw: Any,
) -> Any:
    """st.slider bound to the URL; int if all of min/max/default/step are ints."""
    cast = _bind_number(key, min_value, max_value, default, step)
    value = st.slider(label, cast(min_value), cast(max_value), step=cast(step), key=key, help=help, **kw)
    _to_url(key, value)
    return value


def number(
    label: str,
    key: str,
    min_value: float,
    max_value: float,
    default: float,
    step: float,
    help: str | None = None,
    **kw: Any,
) -> Any:
    """st.number_input bound to the URL."""
    cast = _bind_number(key, min_value, max_value, default, step)
    value = st.number_input(
        label, cast(min_value), cast(max_value), step=cast(step), key=key, help=help, **kw
    )
    _to_url(key, value)
    return value


def select(
    label: str,
    key: str,
    options: Sequence[Any],
    default: Any,
    format_func: Callable[[Any], str] = str,
    help: str | None = None,
    **kw: Any,
) -> Any:
    """st.selectbox bound to the URL (options matched by their str())."""
    options = list(options)
    _from_url(key, default, _option_parser(options))
    value = st.selectbox(label, options, key=key, format_func=format_func, help=help, **kw)
    _to_url(key, value)
    return value


def radio(
    label: str,
    key: str,
    options: Sequence[Any],
    default: Any,
    horizontal: bool = True,
    format_func: Callable[[Any], str] = str,
    help: str | None = None,
    **kw: Any,
) -> Any:
    """st.radio bound to the URL."""
    options = list(options)
    _from_url(key, default, _option_parser(options))
    value = st.radio(label, options, key=key, horizontal=horizontal, format_func=format_func, help=help, **kw)
    _to_url(key, value)
    return value


def multiselect(
    label: str,
    key: str,
    options: Sequence[Any],
    default: Sequence[Any],
    format_func: Callable[[Any], str] = str,
    help: str | None = None,
    **kw: Any,
) -> list[Any]:
    """st.multiselect bound to the URL (comma-separated)."""
    options = list(options)
    one = _option_parser(options)

    def parse(raw: str) -> list[Any]:
        return [one(p) for p in raw.split(",") if p]

    _from_url(key, list(default), parse)
    value = st.multiselect(label, options, key=key, format_func=format_func, help=help, **kw)
    _to_url(key, value)
    return value


def _parse_bool(raw: str) -> bool:
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(raw)


def checkbox(label: str, key: str, default: bool, help: str | None = None, **kw: Any) -> bool:
    """st.checkbox bound to the URL (1/0)."""
    _from_url(key, bool(default), _parse_bool)
    value = st.checkbox(label, key=key, help=help, **kw)
    _to_url(key, value)
    return value


def toggle(label: str, key: str, default: bool, help: str | None = None, **kw: Any) -> bool:
    """st.toggle bound to the URL (1/0)."""
    _from_url(key, bool(default), _parse_bool)
    value = st.toggle(label, key=key, help=help, **kw)
    _to_url(key, value)
    return value


def text(label: str, key: str, default: str, help: str | None = None, **kw: Any) -> str:
    """st.text_input bound to the URL."""
    _from_url(key, default, str)
    value = st.text_input(label, key=key, help=help, **kw)
    _to_url(key, value)
    return value


# -- errors, captions, charts -----------------------------------------------------------------------------
@contextmanager
def user_errors() -> Iterator[None]:
    """Show a bad setting as st.error (the ValueError's message names the parameter) and stop the page."""
    try:
        yield
    except ValueError as err:
        st.error(f"**Cannot compute this view:** {err}", icon="⚠️")
        st.stop()


def look_for(text: str) -> None:
    """The one-line 'what to look for' caption above a chart."""
    st.caption(f"👀 **What to look for:** {text}")


def presenter_on() -> bool:
    return bool(st.session_state.get("presenter", False))


def chart(fig: Any, key: str | None = None, **kw: Any) -> Any:
    """st.plotly_chart with the project's theme (presenter-aware), full width."""
    return st.plotly_chart(
        apply_theme(fig, presenter_on()), key=key, width="stretch", config={"displaylogo": False}, **kw
    )


def metric_row(values: dict[str, Any], help: dict[str, str] | None = None) -> None:
    """A row of st.metric tiles."""
    cols = st.columns(len(values))
    for col, (name, value) in zip(cols, values.items(), strict=True):
        col.metric(name, value, help=(help or {}).get(name))


class Progress:
    """A progress bar with step count and ETA: call it with (done, total)."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._bar = st.progress(0.0, text=text)
        self._t0 = time.perf_counter()

    def __call__(self, done: int, total: int) -> None:
        frac = min(max(done / max(total, 1), 0.0), 1.0)
        elapsed = time.perf_counter() - self._t0
        eta = elapsed / frac - elapsed if frac > 0 else float("nan")
        eta_text = f" · ETA {eta:.0f} s" if frac > 0 and eta == eta else ""
        self._bar.progress(frac, text=f"{self._text} — {done}/{total}{eta_text}")

    def done(self) -> None:
        self._bar.empty()
