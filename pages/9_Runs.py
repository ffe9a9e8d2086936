"""Runs — every long training (MNIST GAN, MNIST adversarial training), from the app or the command line.

Runs are separate processes writing to their own folders; this page only reads them, so it shows the same
thing in every browser session and after a reload, and refreshes itself every second while a run is active.
"""

import streamlit as st

from core import runs
from core.figures import runs as figs
from ui import common as ui
from ui import runs as runs_ui

ctx = ui.setup_page("Runs", "🗂️")
st.title("🗂️ Runs")
st.markdown(
    "Long trainings never run inside the page: each is its own process writing to a folder under "
    f"`{runs.default_runs_dir()}`. Start one from the **MNIST GAN** or **Adversarial training** page, or from a "
    "terminal (a TA can prepare runs on a GPU box before class):"
)
st.code("python -m core.train gan --loss wgan-gp --arch dcgan --steps 3000 --device auto", language="bash")

all_runs = runs.list_runs()
if not all_runs:
    st.info(
        "No runs yet. Launch one from the MNIST GAN or Adversarial training page, or with the command above."
    )
    st.stop()

kinds = sorted({r.kind for r in all_runs})
kind = ui.radio("Kind of run", "kind", ["all", *kinds], "all",
                format_func=lambda k: {"all": "all kinds", "gan": "MNIST GAN", "robust": "adversarial training"}.get(k, k))  # fmt: skip
shown = [r for r in all_runs if kind == "all" or r.kind == kind]
ids = [r.run_id for r in shown]
by_id = {r.run_id: r for r in shown}
details = runs.config_differences(shown)


def label(run_id: str) -> str:
    """The run id and the settings that tell it apart from its siblings (shortened for legends)."""
    extra = details.get(run_id, "")
    return f"{run_id} · {extra[:60] + '…' if len(extra) > 61 else extra}" if extra else run_id


def keep_valid(key: str, options: list, fallback) -> None:
    """Runs come and go (and metrics differ by kind): a remembered choice that no longer exists is replaced."""
    if key not in st.session_state:
        return
    value = st.session_state[key]
    if isinstance(value, list):
        kept = [v for v in value if v in options]
        if kept != value:
            st.session_state[key] = kept or fallback
    elif value not in options:
        st.session_state[key] = fallback


# Compare runs of one kind by default: a GAN's losses and a robust model's accuracies do not share an axis.
# The picker has the full width: run labels are long, and a narrower one hides all but the first.
first_kind = by_id[ids[0]].kind
default_compare = [i for i in ids if by_id[i].kind == first_kind][:3]
keep_valid("compare", ids, default_compare)
compare = ui.multiselect("Runs to compare", "compare", ids, default_compare, format_func=label)
metric_rows = {i: runs.read_metrics(i) for i in compare}
metric_options = []
for rows in metric_rows.values():
    metric_options += [m for m in runs.metric_names(rows) if m not in metric_options]
c0, c1, c2, c3 = st.columns([2, 2, 1, 2])
with c0:
    keep_valid("metric", metric_options, runs.headline_metric(metric_options))
    metric = ui.select("Metric to compare", "metric", metric_options, runs.headline_metric(metric_options),
                       help="Runs of different kinds log different metrics; pick the one to put on the chart.")  # fmt: skip
with c1:
    smooth = ui.slider("Smoothing (moving average, points)", "smooth", 1, 50, 1, 1)
with c2:
    log_y = ui.checkbox("Log scale", "log_y", False)
with c3:
    keep_valid("run", ids, ids[0])
    inspect = ui.select("Run to inspect", "run", ids, ids[0], format_func=label)


@runs_ui.live(active=any(r.is_active for r in all_runs))
def board() -> None:
    fresh = runs.list_runs()
    runs_ui.rerun_when_changed(fresh)  # new, started or finished runs: rebuild the pickers above
    fresh = [r for r in fresh if kind == "all" or r.kind == kind]

    st.subheader(f"All runs ({len(fresh)})")
    st.dataframe(
        [
            {
                "run": r.run_id,
                "kind": r.kind,
                "status": runs_ui.status_text(r),
                "progress": r.fraction,
                "step": f"{r.step:,}/{r.total:,}" if r.total else "–",
                "elapsed": runs_ui.fmt_duration(r.elapsed_s),
                "ETA": runs_ui.fmt_duration(r.eta_s) if r.status == "running" else "–",
                "device": r.device or "–",
                "error": r.error or "",
                "settings": details.get(r.run_id, ""),
            }
            for r in fresh
        ],
        column_config={"progress": st.column_config.ProgressColumn("progress", min_value=0.0, max_value=1.0)},
        hide_index=True,
        width="stretch",
    )

    if compare and metric:
        series = {label(i): runs.metric_series(runs.read_metrics(i), metric) for i in compare if i in ids}
        ui.look_for(
            f"How {metric} moves with training for each run; runs that differ only in the settings named in the "
            "legend show what that setting does."
        )
        with ui.user_errors():
            ui.chart(figs.compare_figure(series, metric, smooth=smooth, log_y=log_y), key="compare_chart")
    elif compare:
        st.info("The selected runs have not logged any metrics yet.")

    st.subheader("Run details")
    try:
        info = runs.get_run(inspect)
    except ValueError:
        st.warning(f"Run {inspect} is gone (its folder was removed).")
        return
    head = st.columns([2, 1, 1])
    with head[0]:
        st.markdown(f"**{info.run_id}** · {info.kind} · device {info.device or '–'}")
    with head[1]:
        runs_ui.status_badge(info)
    with head[2]:
        runs_ui.cancel_button(info, key="cancel_run")
    runs_ui.progress_bar(info)
    if info.error and info.status in ("failed", "cancelled"):
        (st.error if info.status == "failed" else st.warning)(f"**{info.status}:** {info.error}")
    rows = runs.read_metrics(info.run_id)
    names = runs.metric_names(rows)
    img_col, chart_col = st.columns([1, 2])
    with img_col:
        samples = runs.artifact_path(info.run_id, "samples.png")
        if samples.is_file():
            st.image(samples.read_bytes(), caption="samples from fixed noise (latest)", width="stretch")
        else:
            st.caption("No sample grid saved yet.")
        runs_ui.artifact_downloads(info, key="dl")
        with st.expander("Configuration"):
            st.json(info.config)
    with chart_col:
        ui.look_for("Every metric this run logs, against training step.")
        ui.chart(figs.run_metrics_figure(rows, names, f"Run {info.run_id}: logged metrics"), key="run_chart")


board()
