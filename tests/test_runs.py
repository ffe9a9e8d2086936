"""The run manager: runs are separate processes with their own folders, seen alike by every reader."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from core import runs, train

ROOT = Path(__file__).resolve().parents[1]
FAKE = "tests.fake_trainer:SleepConfig:train_sleep"


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    """A fresh runs directory and the fake 'sleep' trainer (inherited by the run processes)."""
    monkeypatch.setenv("ADVLAB_EXTRA_TRAINERS", FAKE)
    monkeypatch.setenv("ADVLAB_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.delenv("ADVLAB_MAX_RUNS", raising=False)
    yield tmp_path / "runs"
    for info in runs.list_runs(tmp_path / "runs"):  # never leave a run process behind
        if info.is_active and info.pid:
            try:
                os.kill(info.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def wait_for(fn, timeout=15.0, every=0.05):
    """Poll fn() until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"condition not met within {timeout} s")


def status_of(run_id, runs_dir):
    return runs.get_run(run_id, runs_dir).status


def test_short_run_goes_queued_running_done_with_metrics_and_samples(runs_dir):
    run_id = runs.launch("sleep", {"steps": 8, "step_s": 0.1}, runs_dir)
    seen = [status_of(run_id, runs_dir)]
    assert seen == ["queued"]
    assert run_id.startswith("sleep-")

    def finished():
        s = status_of(run_id, runs_dir)
        if s != seen[-1]:
            seen.append(s)
        return s not in runs.ACTIVE_STATUSES

    wait_for(finished)
    assert seen == ["queued", "running", "done"]
    info = runs.get_run(run_id, runs_dir)
    assert (info.step, info.total, info.device, info.error) == (8, 8, "cpu", None)
    assert info.config["steps"] == 8 and info.config["seed"] == 0  # the full validated config is stored
    rows = runs.read_metrics(run_id, runs_dir)
    assert [r["step"] for r in rows] == list(range(1, 9))
    assert rows[-1]["loss"] == pytest.approx(1 / 8)
    assert runs.metric_names(rows) == ["loss", "score"]
    png = runs.artifact_path(run_id, "samples.png", runs_dir)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads(runs.artifact_path(run_id, "final.json", runs_dir).read_text())["loss"] == 0.125


def test_cancel_takes_effect_within_2_s(runs_dir):
    run_id = runs.launch("sleep", {"steps": 2000, "step_s": 0.05}, runs_dir)
    wait_for(lambda: runs.get_run(run_id, runs_dir).step >= 2)
    t0 = time.monotonic()
    runs.cancel(run_id, runs_dir)
    wait_for(lambda: status_of(run_id, runs_dir) == "cancelled", timeout=2.0, every=0.02)
    assert time.monotonic() - t0 < 2.0
    assert runs.get_run(run_id, runs_dir).step < 2000


def test_trainer_that_ignores_cancel_is_still_stopped_within_2_s(runs_dir):
    run_id = runs.launch("sleep", {"steps": 2000, "step_s": 0.05, "ignore_cancel": True}, runs_dir)
    wait_for(lambda: runs.get_run(run_id, runs_dir).step >= 2)
    t0 = time.monotonic()
    runs.cancel(run_id, runs_dir)
    wait_for(lambda: status_of(run_id, runs_dir) == "cancelled", timeout=2.0, every=0.02)
    pid = runs.get_run(run_id, runs_dir).pid
    wait_for(lambda: not runs._pid_alive(pid), timeout=2.0)
    assert time.monotonic() - t0 < 2.5


def test_killed_process_is_reported_as_failed_not_running(runs_dir):
    run_id = runs.launch("sleep", {"steps": 2000, "step_s": 0.05}, runs_dir)
    info = wait_for(lambda: (i := runs.get_run(run_id, runs_dir)).step >= 1 and i)
    os.kill(info.pid, signal.SIGKILL)
    info = wait_for(lambda: (i := runs.get_run(run_id, runs_dir)).status == "failed" and i, timeout=3)
    assert "killed" in info.error and not info.is_active
    raw = json.loads((info.path / "status.json").read_text())
    assert raw["status"] == "running"  # the reader works it out; the dead process could not write it


def test_failing_trainer_marks_run_failed_with_the_exception_text(runs_dir):
    run_id = runs.launch("sleep", {"steps": 10, "step_s": 0.01, "fail_at": 3}, runs_dir)
    wait_for(lambda: status_of(run_id, runs_dir) == "failed")
    info = runs.get_run(run_id, runs_dir)
    assert info.error == "FloatingPointError: loss became NaN at step 3"
    assert [r["step"] for r in runs.read_metrics(run_id, runs_dir)] == [1, 2]


def test_run_started_from_the_cli_shows_up_for_every_reader(runs_dir):
    cmd = [sys.executable, "-m", "core.train", "sleep", "--steps", "3", "--step-s", "0.01", "--runs-dir",
           str(runs_dir), "--seed", "5", "--data-dir", str(runs_dir.parent / "mnist")]  # fmt: skip
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "done" in out.stdout
    mine = runs.list_runs(runs_dir)
    assert [(r.kind, r.status, r.config["seed"]) for r in mine] == [("sleep", "done", 5)]
    final = json.loads(runs.artifact_path(mine[0].run_id, "final.json", runs_dir).read_text())
    assert final["data_dir"] == str((runs_dir.parent / "mnist").resolve())  # --data-dir reached the trainer
    # A second reader (another process, like another browser session's server) sees the same runs.
    other = subprocess.run([sys.executable, "-m", "core.train", "list", "--runs-dir", str(runs_dir)], cwd=ROOT,
                           capture_output=True, text=True, timeout=60)  # fmt: skip
    assert mine[0].run_id in other.stdout and "done" in other.stdout


def test_concurrency_limit_queues_the_second_run(runs_dir):
    first = runs.launch("sleep", {"steps": 2000, "step_s": 0.05}, runs_dir)
    wait_for(lambda: status_of(first, runs_dir) == "running")
    second = runs.launch("sleep", {"steps": 3, "step_s": 0.01}, runs_dir)
    wait_for(lambda: runs.get_run(second, runs_dir).heartbeat > runs.get_run(second, runs_dir).created + 0.5)
    assert status_of(second, runs_dir) == "queued"  # alive, waiting for the CPU slot
    assert [r.run_id for r in runs.list_runs(runs_dir)] == [second, first]  # newest first
    runs.cancel(first, runs_dir)
    wait_for(lambda: status_of(second, runs_dir) == "done")
    assert status_of(first, runs_dir) == "cancelled"


def test_cancel_while_queued_never_starts_the_run(runs_dir):
    first = runs.launch("sleep", {"steps": 2000, "step_s": 0.05}, runs_dir)
    wait_for(lambda: status_of(first, runs_dir) == "running")
    second = runs.launch("sleep", {"steps": 3, "step_s": 0.01}, runs_dir)
    runs.cancel(second, runs_dir)
    info = wait_for(lambda: (i := runs.get_run(second, runs_dir)).status == "cancelled" and i)
    assert info.started is None and runs.read_metrics(second, runs_dir) == []
    runs.cancel(first, runs_dir)


@pytest.mark.parametrize("bad", ["../etc", "a/b", "", ".", "..", "/tmp", "Run-ID", "x" * 200, None, 7])
def test_bad_run_id_is_rejected(runs_dir, bad):
    with pytest.raises(ValueError, match="^run_id:"):
        runs.get_run(bad, runs_dir)
    with pytest.raises(ValueError, match="^run_id:"):
        runs.cancel(bad, runs_dir)


def test_unknown_run_and_bad_artifact_names_are_rejected(runs_dir):
    with pytest.raises(ValueError, match="^run_id: no run"):
        runs.read_metrics("gan-20260101-000000-abcd", runs_dir)
    run_dir = runs.create_run("sleep", {"steps": 1}, runs_dir)
    for bad in ["../status.json", "/etc/passwd", "a/../../b", "", ".hidden"]:
        with pytest.raises(ValueError, match="^name:"):
            runs.artifact_path(run_dir.name, bad, runs_dir)
    assert (
        runs.artifact_path(run_dir.name, "grids/step_10.png", runs_dir) == run_dir / "grids" / "step_10.png"
    )


def test_launch_validates_the_config_before_creating_anything(runs_dir):
    with pytest.raises(ValueError, match="^steps:"):
        runs.launch("sleep", {"steps": 0}, runs_dir)
    with pytest.raises(ValueError, match="^config: unknown field.*bogus"):
        runs.launch("sleep", {"bogus": 1}, runs_dir)
    with pytest.raises(ValueError, match="^kind: unknown run kind"):
        runs.launch("nope", {}, runs_dir)
    assert runs.list_runs(runs_dir) == []


def test_reader_ignores_a_half_written_last_line(runs_dir):
    run_dir = runs.create_run("sleep", {"steps": 1}, runs_dir)
    with open(run_dir / "metrics.jsonl", "w") as f:
        f.write('{"step": 1, "time": 0, "loss": 0.5}\n{"step": 2, "time": 0, "loss": 0.25}\n{"step": 3, "ti')
    assert [r["step"] for r in runs.read_metrics(run_dir.name, runs_dir)] == [1, 2]
    with open(run_dir / "metrics.jsonl", "a") as f:
        f.write('me": 0, "loss": 0.125}\n')  # the writer finishes the line: now it counts
    assert [r["loss"] for r in runs.read_metrics(run_dir.name, runs_dir)] == [0.5, 0.25, 0.125]


def test_run_without_heartbeat_reads_as_failed(runs_dir):
    run_dir = runs.create_run("sleep", {"steps": 1}, runs_dir)
    status = json.loads((run_dir / "status.json").read_text())
    status.update(status="running", heartbeat=time.time() - 3600, pid=None, host="another-machine")
    (run_dir / "status.json").write_text(json.dumps(status))
    info = runs.get_run(run_dir.name, runs_dir)
    assert info.status == "failed" and "no heartbeat" in info.error


def test_log_writes_non_finite_values_as_null_so_readers_never_see_nan(runs_dir):
    run_dir = runs.create_run("sleep", {"steps": 1}, runs_dir)
    ctx = runs.RunContext(run_dir=run_dir, run_id=run_dir.name)
    ctx.log(1, loss=float("nan"), score=2.0)
    assert runs.read_metrics(run_dir.name, runs_dir) == [
        {"step": 1, "time": pytest.approx(time.time(), abs=60), "loss": None, "score": 2.0}
    ]
    with pytest.raises(ValueError, match="^name:"):
        ctx.save_json("status.json", {})  # the run manager's own files are not artifacts


def test_cli_flags_come_from_the_config_fields():
    import argparse

    from tests.fake_trainer import SleepConfig

    parser = argparse.ArgumentParser()
    train.add_config_flags(parser, SleepConfig)
    args = parser.parse_args(["--step-s", "0.5", "--fail-at", "3", "--ignore-cancel"])
    assert (args.step_s, args.fail_at, args.ignore_cancel, args.steps, args.device) == (
        0.5,
        3,
        True,
        10,
        "cpu",
    )


def test_extra_trainers_env_is_parsed(monkeypatch):
    monkeypatch.setenv("ADVLAB_EXTRA_TRAINERS", f"{FAKE}, nap=tests.fake_trainer:SleepConfig:train_sleep")
    table = train.trainers()
    assert table["sleep"] == table["nap"] == ("tests.fake_trainer", "SleepConfig", "train_sleep")
    assert set(runs.RUN_KINDS) <= set(table)
    monkeypatch.setenv("ADVLAB_EXTRA_TRAINERS", "nonsense")
    with pytest.raises(ValueError, match="^ADVLAB_EXTRA_TRAINERS"):
        train.trainers()


def test_queued_runs_start_first_come_first_served(runs_dir):
    first = runs.launch("sleep", {"steps": 2000, "step_s": 0.05}, runs_dir)
    wait_for(lambda: status_of(first, runs_dir) == "running")
    second = runs.launch("sleep", {"steps": 2000, "step_s": 0.05}, runs_dir)
    wait_for(lambda: (runs._read_json(runs.get_run(second, runs_dir).path / "status.json") or {}).get("pool"))
    third = runs.launch("sleep", {"steps": 2, "step_s": 0.01}, runs_dir)
    wait_for(lambda: (runs._read_json(runs.get_run(third, runs_dir).path / "status.json") or {}).get("pool"))
    runs.cancel(first, runs_dir)
    wait_for(lambda: status_of(second, runs_dir) == "running")
    assert status_of(third, runs_dir) == "queued"  # it waits for the older run, not for luck
    runs.cancel(second, runs_dir)
    wait_for(lambda: status_of(third, runs_dir) == "done")


def test_compare_figure_has_one_titled_line_per_run_and_never_plots_nan():
    from core.figures import runs as figs

    series = {
        "a": (np.array([1, 2, 3, 4.0]), np.array([1.0, np.nan, 0.5, np.inf])),
        "b": (np.array([1, 2.0]), np.array([2.0, 1.0])),
    }
    fig = figs.compare_figure(series, "loss_d", smooth=1)
    assert [t.name for t in fig.data] == ["a", "b"]
    assert list(fig.data[0].y) == [1.0, 0.5] and list(fig.data[0].x) == [1.0, 3.0]
    assert "loss_d" in fig.layout.title.text
    assert fig.layout.xaxis.title.text and fig.layout.yaxis.title.text
    smoothed = figs.compare_figure(series, "loss_d", smooth=2)
    assert [t.name for t in smoothed.data if t.showlegend is not False] == ["a", "b"]
    np.testing.assert_allclose(figs.moving_average(np.array([1.0, 3.0, 5.0, 7.0]), 2), [1.0, 2.0, 4.0, 6.0])
    with pytest.raises(ValueError, match="^smooth:"):
        figs.compare_figure(series, "loss_d", smooth=0)
    log = figs.compare_figure({"c": (np.array([1.0, 2.0]), np.array([0.0, 1.0]))}, "loss", log_y=True)
    assert list(log.data[0].y) == [1.0]  # log axis: no zero


def test_config_differences_name_what_tells_runs_apart(runs_dir):
    a = runs.create_run("sleep", {"steps": 3, "seed": 1}, runs_dir).name
    b = runs.create_run("sleep", {"steps": 3, "seed": 2}, runs_dir).name
    diffs = runs.config_differences(runs.list_runs(runs_dir))
    assert diffs == {a: "seed=1", b: "seed=2"}


def test_eta_is_timed_from_the_first_step_not_from_a_slow_setup(runs_dir):
    run_dir = runs.create_run("sleep", {"steps": 1}, runs_dir)
    info = runs.get_run(run_dir.name, runs_dir)
    t = 1000.0
    running = dataclasses.replace(info, status="running", started=t, pace_since=t + 100, pace_step=1,
                                  heartbeat=t + 110, step=11, total=31)  # fmt: skip
    assert running.eta_s == pytest.approx(20.0)  # 1 s per step since step 1; the 100 s of setup do not count
    assert running.fraction == pytest.approx(11 / 31)
    assert dataclasses.replace(running, status="done").eta_s is None


def test_slots_are_one_per_gpu_by_default_and_follow_advlab_max_runs(monkeypatch):
    import torch

    monkeypatch.setenv("ADVLAB_MAX_RUNS", "2")
    assert runs._slot_names("cpu") == [("cpu-0", None), ("cpu-1", None)]
    monkeypatch.delenv("ADVLAB_MAX_RUNS")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert runs._slot_names("auto") == [("cuda0-0", 0), ("cuda1-0", 1)]  # a run goes to whichever GPU is free
    monkeypatch.setenv("ADVLAB_MAX_RUNS", "0")
    with pytest.raises(ValueError, match="^ADVLAB_MAX_RUNS"):
        runs._slot_names("cpu")


def test_damaged_status_file_shows_the_run_as_failed_instead_of_hiding_it(runs_dir):
    run_dir = runs.create_run("sleep", {"steps": 1}, runs_dir)
    (run_dir / "status.json").write_text('{"status": "runn')
    info = runs.get_run(run_dir.name, runs_dir)
    assert info.status == "failed" and "unreadable" in info.error


def test_the_epoch_counter_is_no_metric_and_comparisons_open_on_the_headline_one():
    rows = [{"step": 40, "time": 1.0, "epoch": 1, "loss": 2.1, "clean_acc": 0.7, "robust_acc": 0.1},
            {"step": 80, "time": 2.0, "epoch": 2, "loss": 1.5, "clean_acc": 0.8, "robust_acc": 0.3}]  # fmt: skip
    names = runs.metric_names(rows)
    assert names == ["loss", "clean_acc", "robust_acc"]
    assert runs.headline_metric(names) == "robust_acc"  # adversarial training: robust accuracy first
    assert runs.headline_metric(["loss_d", "loss_g", "mnist_fd", "mnist_score"]) == "mnist_score"  # a GAN
    assert runs.headline_metric(["accuracy", "score"]) == "accuracy"  # none known: the first logged
    assert runs.headline_metric([]) is None
