"""AppTest of the Runs page: runs made by the test in a temporary runs folder are listed with status and curves."""

from __future__ import annotations

import base64
import json
import os
import time

import numpy as np
import pytest

from core import runs
from tests.apptest_utils import errors, open_page, plotly_figures

PAGE = "pages/9_Runs.py"


def values(arr):
    """Plotly JSON array: a plain list, or a typed array {'dtype': 'f8', 'bdata': base64}."""
    if isinstance(arr, dict) and "bdata" in arr:
        return np.frombuffer(base64.b64decode(arr["bdata"]), dtype=np.dtype(arr["dtype"])).tolist()
    return list(arr)


def make_run(runs_dir, status, steps, losses, kind="sleep", **config):
    """A run folder as a trainer leaves it (no process needed): config, status, metrics, samples."""
    run_dir = runs.create_run(kind, {"steps": steps, **config}, runs_dir)
    ctx = runs.RunContext(run_dir=run_dir, run_id=run_dir.name)
    for step, loss in enumerate(losses, start=1):
        if kind == "sleep":
            ctx.log(step, loss=loss, accuracy=0.5 + step / (2 * steps))
        else:  # another kind of run logs other metrics (like robust vs gan)
            ctx.log(step, robust_acc=loss)
    ctx.save_image("samples.png", np.zeros((28, 56), np.uint8))
    st = json.loads((run_dir / "status.json").read_text())
    now = time.time()
    st.update(status=status, step=len(losses), total=steps, started=now - 10, heartbeat=now, device="cpu",
              pid=os.getpid(), finished=None if status == "running" else now)  # fmt: skip
    (run_dir / "status.json").write_text(json.dumps(st))
    time.sleep(0.01)  # distinct creation times: newest first is well defined
    return run_dir.name


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    monkeypatch.setenv(
        "ADVLAB_EXTRA_TRAINERS",
        "tests.fake_trainer:SleepConfig:train_sleep,nap=tests.fake_trainer:SleepConfig:train_sleep",
    )
    monkeypatch.setenv("ADVLAB_RUNS_DIR", str(tmp_path))
    return tmp_path


def test_runs_page_lists_runs_with_status_and_compares_their_curves(runs_dir):
    done = make_run(runs_dir, "done", 4, [1.0, 0.5, 0.25, 0.125], seed=1)
    live = make_run(runs_dir, "running", 10, [2.0, 1.0], seed=2)
    at = open_page(PAGE)
    assert not at.exception and not errors(at)
    table = at.dataframe[0].value
    assert list(table["run"]) == [live, done]  # newest first
    assert [s.split()[-1] for s in table["status"]] == ["running", "done"]
    assert list(table["progress"]) == pytest.approx([0.2, 1.0])
    compare = plotly_figures(at)[0]
    assert "loss" in compare["layout"]["title"]["text"]
    assert compare["layout"]["xaxis"]["title"]["text"] and compare["layout"]["yaxis"]["title"]["text"]
    curves = {tr["name"]: values(tr["y"]) for tr in compare["data"]}
    assert len(curves) == 2 and all("seed=" in name for name in curves)  # the legend says what differs
    assert sorted(len(y) for y in curves.values()) == [2, 4]
    assert [1.0, 0.5, 0.25, 0.125] in curves.values()


def test_runs_page_switches_the_compared_metric_and_cancels_a_run(runs_dir):
    make_run(runs_dir, "done", 4, [1.0, 0.5, 0.25, 0.125])
    live = make_run(runs_dir, "running", 10, [2.0, 1.0])
    at = open_page(PAGE, query={"metric": "accuracy", "run": live})
    assert not at.exception
    compare = plotly_figures(at)[0]
    assert "accuracy" in compare["layout"]["title"]["text"]
    at.button(key="cancel_run").click().run()
    assert not at.exception
    assert (runs_dir / live / "cancel.request").exists()


def test_runs_page_with_no_runs_says_how_to_start_one(runs_dir):
    at = open_page(PAGE)
    assert not at.exception
    assert any("No runs yet" in i.value for i in at.info)


def test_runs_page_shows_a_queued_run_without_metrics(runs_dir):
    run_dir = runs.create_run("sleep", {"steps": 5}, runs_dir)
    st = json.loads((run_dir / "status.json").read_text())
    st.update(pid=os.getpid(), heartbeat=time.time())
    (run_dir / "status.json").write_text(json.dumps(st))
    at = open_page(PAGE)
    assert not at.exception and not errors(at)
    assert at.dataframe[0].value["status"][0].endswith("queued")
    assert any("not logged any metrics yet" in i.value for i in at.info)
    assert any("queued" in (p.proto.text if hasattr(p, "proto") else "") for p in at.get("progress"))


def test_runs_page_filters_by_kind_and_lets_the_user_pick_that_kinds_metric(runs_dir):
    make_run(runs_dir, "done", 3, [1.0, 0.5, 0.25])
    nap = make_run(runs_dir, "done", 2, [0.2, 0.6], kind="nap")
    at = open_page(PAGE, query={"compare": nap, "metric": "robust_acc"})
    assert not at.exception
    assert "robust_acc" in plotly_figures(at)[0]["layout"]["title"]["text"]
    at.radio(key="kind").set_value("sleep").run()  # the nap run and its metric are no longer on offer
    assert not at.exception and not errors(at)
    assert list(at.dataframe[0].value["kind"]) == ["sleep"]
    assert at.selectbox(key="metric").value in ("loss", "accuracy")
    assert "robust_acc" not in plotly_figures(at)[0]["layout"]["title"]["text"]


def test_runs_page_compares_robust_runs_on_robust_accuracy_and_leaves_out_the_epoch_counter(runs_dir):
    for seed in (1, 2):
        run_dir = runs.create_run("nap", {"steps": 2, "seed": seed}, runs_dir)
        ctx = runs.RunContext(run_dir=run_dir, run_id=run_dir.name)
        for epoch in (1, 2):
            ctx.log(40 * epoch, epoch=epoch, loss=2.0 / epoch, clean_acc=0.4 * epoch, robust_acc=0.1 * epoch)
    at = open_page(PAGE)
    assert not at.exception and not errors(at)
    metric = at.selectbox(key="metric")
    assert metric.value == "robust_acc"
    assert "epoch" not in metric.options and "clean_acc" in metric.options
    assert "robust_acc" in plotly_figures(at)[0]["layout"]["title"]["text"]
