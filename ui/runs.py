"""Streamlit pieces for runs, shared by the Runs, MNIST GAN and Adversarial training pages.

A page never trains: it launches a run (a separate process, core.runs.launch) and watches its folder.
Live refresh is a fragment that reruns itself every second while a run is active:

    infos = runs.list_runs(kind="gan")
    @runs_ui.live(active=any(r.is_active for r in infos))
    def board():
        info = runs.get_run(run_id)
        runs_ui.status_badge(info); runs_ui.progress_bar(info); runs_ui.cancel_button(info, key="cancel")
        runs_ui.rerun_when_changed([info])   # full rerun when it finishes, so the page stops polling
    board()
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from core import runs
from ui import common as ui

STATUS_LOOK = {  # status -> (icon, badge colour)
    "queued": ("⏳", "gray"),
    "running": ("🏃", "blue"),
    "done": ("✅", "green"),
    "failed": ("❌", "red"),
    "cancelled": ("⏹️", "orange"),
}


def fmt_duration(seconds: float | None) -> str:
    """'42 s', '3 min 05 s', '1 h 02 min'; '–' when unknown."""
    if seconds is None or seconds != seconds:
        return "–"
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


def status_text(info: runs.RunInfo) -> str:
    """'🏃 running' etc."""
    return f"{STATUS_LOOK.get(info.status, ('?', 'gray'))[0]} {info.status}"


def status_badge(info: runs.RunInfo) -> None:
    """A coloured badge with the run's status (and its error as the tooltip)."""
    icon, color = STATUS_LOOK.get(info.status, ("❔", "gray"))
    st.badge(f"{icon} {info.status}", color=color, help=info.error or None)


def progress_bar(info: runs.RunInfo) -> None:
    """step/total with the elapsed time and ETA while running; the outcome once finished."""
    if info.status == "queued":
        st.progress(0.0, text="queued — waiting for a free slot on the device (one run at a time by default)")
        return
    text = f"step {info.step:,}/{info.total:,}" if info.total else "starting…"
    if info.status == "running":
        text += f" · {fmt_duration(info.elapsed_s)} elapsed · ETA {fmt_duration(info.eta_s)}"
    else:
        text += f" · {info.status} after {fmt_duration(info.elapsed_s)}"
    st.progress(info.fraction, text=text)


def cancel_button(info: runs.RunInfo, key: str, runs_dir: Any = None) -> bool:
    """A 'Cancel run' button (disabled unless the run is queued or running); True when clicked."""
    clicked = st.button("⏹️ Cancel run", key=key, disabled=not info.is_active,
                        help="Stops the run within 2 s; its checkpoint and metrics so far are kept.")  # fmt: skip
    if clicked:
        with ui.user_errors():
            runs.cancel(info.run_id, runs_dir)
        st.toast(f"Cancel requested for {info.run_id}", icon="⏹️")
    return clicked


def run_label(info: runs.RunInfo, detail: str = "") -> str:
    """'gan-20261124-084512-ab12 · ✅ done · loss=wgan-gp' for pickers and legends."""
    return f"{info.run_id} · {status_text(info)}" + (f" · {detail}" if detail else "")


def run_picker(kind: str | None, key: str, label: str = "Run", runs_dir: Any = None,
               multi: bool = False, default_count: int = 3) -> Any:  # fmt: skip
    """Pick one run (or several with multi=True) of `kind` (None = every kind), newest first, bound to the URL.

    Returns a run id, a list of run ids, or None / [] when there are no runs yet.
    """
    infos = runs.list_runs(runs_dir, kind=kind)
    by_id = {i.run_id: i for i in infos}
    ids = list(by_id)
    details = runs.config_differences(infos) if len(infos) > 1 else {}

    def fmt(run_id: str) -> str:
        return run_label(by_id[run_id], details.get(run_id, "")) if run_id in by_id else run_id

    if multi:
        return ui.multiselect(label, key, ids, ids[:default_count], format_func=fmt)
    if not ids:
        return None
    return ui.select(label, key, ids, ids[0], format_func=fmt)


def live(active: bool, run_every: float = 1.0) -> Callable:
    """Decorator: an st.fragment that reruns every `run_every` s while `active`, else only when clicked."""
    return st.fragment(run_every=run_every if active else None)


def rerun_when_changed(infos: list[runs.RunInfo], key: str = "_runs_signature") -> None:
    """Inside a live fragment: rerun the whole page when runs appear, start or finish (so pickers and the
    polling switch catch up); otherwise only the fragment refreshes."""
    signature = tuple((i.run_id, i.status, i.step > 0) for i in infos)
    previous = st.session_state.get(key)
    st.session_state[key] = signature
    if previous is not None and previous != signature:
        st.rerun(scope="app")


def launch_button(
    kind: str, config: dict, key: str, label: str = "🚀 Launch run", runs_dir: Any = None
) -> str | None:
    """A button that validates `config`, starts a run of `kind` in its own process and returns its id."""
    if not st.button(label, key=key, type="primary"):
        return None
    with ui.user_errors():
        run_id = runs.launch(kind, config, runs_dir)
    st.toast(f"Started {run_id}; it keeps running if you close the page.", icon="🚀")
    return run_id


def artifact_downloads(info: runs.RunInfo, key: str, runs_dir: Any = None) -> None:
    """Download buttons for the run's samples (PNG) and checkpoint (state dicts), when they exist."""
    for name, what, mime in [
        ("samples.png", "samples (PNG)", "image/png"),
        ("checkpoint.pt", "checkpoint (.pt)", "application/octet-stream"),
    ]:
        path = runs.artifact_path(info.run_id, name, runs_dir)
        exists = path.is_file()
        st.download_button(
            f"⬇️ {what}",
            data=(lambda p=path: p.read_bytes()) if exists else b"",  # read only when clicked
            file_name=f"{info.run_id}-{name}",
            mime=mime,
            key=f"{key}_{name}",
            disabled=not exists,
            on_click="ignore",
            width="stretch",
            help=f"{name} of this run" if exists else f"{name} is not written yet",
        )
