"""AppTest for the MNIST tab of "Adversarial training" (sheet §2.3, Problem 4) — with finished and running runs."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path

import pytest
import torch

from core import runs
from core.mnist.evaluate import evaluate_robust_model
from core.mnist.robust import LocalRun, RobustConfig, fit, load_train_data
from tests.apptest_utils import errors, open_page, plotly_figures

PAGE = "pages/6_Adversarial_training.py"
TINY = RobustConfig(mode="pgd", eps=0.3, epochs=2, pgd_steps=2, warmup_epochs=1.0, train_size=400, eval_size=60,
                    eval_steps=2, width=8, final_eval=False)  # fmt: skip


def make_run(runs_dir: Path, config: RobustConfig = TINY, status: str = "done", evaluate: bool = True) -> str:
    """A robust run folder as the trainer leaves it: metrics, checkpoint, evaluation.json and a final status."""
    path = runs.create_run("robust", asdict(config), runs_dir)
    run = LocalRun()
    data = load_train_data(config)
    model = fit(config, data, run)
    with open(path / runs.METRICS_FILE, "w") as f:
        for row in run.metrics:
            f.write(json.dumps(row) + "\n")
    torch.save(run.artifacts["checkpoint.pt"], path / "checkpoint.pt")
    if evaluate:
        result = evaluate_robust_model(model, data.x_test, data.y_test, config.eps, steps=2)
        (path / "evaluation.json").write_text(json.dumps(result.to_dict()))
    st = json.loads((path / runs.STATUS_FILE).read_text())
    now = time.time()
    st.update(status=status, started=now - 5, finished=None if status == "running" else now, heartbeat=now,
              step=run.metrics[-1]["step"], total=run.metrics[-1]["step"] * (2 if status == "running" else 1))  # fmt: skip
    if status == "running":
        import os

        st["pid"] = os.getpid()  # alive, so the run reads as running
    (path / runs.STATUS_FILE).write_text(json.dumps(st))
    return path.name


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    make_run(root, status="done")
    make_run(root, RobustConfig(**{**asdict(TINY), "mode": "standard"}), status="done")
    return root


def test_mnist_tab_with_no_runs_offers_the_launch(tmp_path, monkeypatch):
    monkeypatch.setenv("ADVLAB_RUNS_DIR", str(tmp_path / "empty"))
    at = open_page(PAGE)
    assert not at.exception, at.exception
    assert any("No MNIST adversarial-training runs yet" in i.value for i in at.info)
    labels = [b.label for b in at.button]
    assert any("Launch" in lbl for lbl in labels) and any("comparison" in lbl for lbl in labels)


def test_mnist_tab_overlays_finished_runs_with_curves_problem4_and_digits(runs_dir, monkeypatch):
    monkeypatch.setenv("ADVLAB_RUNS_DIR", str(runs_dir))
    at = open_page(PAGE, query={"mn_eps": "0.3", "mn_mode": "fgsm_rs"})
    assert not at.exception, at.exception
    assert not errors(at)
    titles = [f["layout"]["title"]["text"] for f in plotly_figures(at)]
    for expected in ("Test accuracy per epoch", "Loss and cost", "Robustness curves", "Night", "Problem 4 measured",
                     "Adversarial digits"):  # fmt: skip
        assert any(expected in t for t in titles), (expected, titles)
    table = at.dataframe[-1].value
    assert list(table["predicted"].str.startswith("✓")) == [True, False, True, False, False]
    assert at.selectbox(key="mn_mode").value == "fgsm_rs"  # the URL chose the mode


def test_mnist_tab_shows_a_running_run_with_its_progress(tmp_path, monkeypatch):
    make_run(tmp_path, status="running", evaluate=False)
    monkeypatch.setenv("ADVLAB_RUNS_DIR", str(tmp_path))
    at = open_page(PAGE)
    assert not at.exception, at.exception
    assert any("🏃 running" in m.value for m in at.markdown)  # the status badge
    (bar,) = at.get("progress")
    assert bar.value == 50 and "ETA" in bar.proto.text
    assert any("appear here when a selected run has finished" in i.value for i in at.info)
