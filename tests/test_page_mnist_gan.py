"""AppTest of the MNIST GAN page: launch a tiny real run from the page, then see its status, curves and samples."""

from __future__ import annotations

import base64
import json
import time

import numpy as np
import pytest

from core import runs
from core.mnist import metrics
from core.mnist.data import load_mnist
from tests.apptest_utils import errors, open_page, plotly_figures

PAGE = "pages/8_MNIST_GAN.py"


def values(arr) -> list:
    """Plotly JSON array: a plain list, or a typed array {'dtype': 'f8', 'bdata': base64}."""
    if isinstance(arr, dict) and "bdata" in arr:
        return np.frombuffer(base64.b64decode(arr["bdata"]), dtype=np.dtype(arr["dtype"])).tolist()
    return list(arr)


@pytest.fixture
def runs_dir(tmp_path, cache_dir, monkeypatch):
    """Runs, the classifier cache and an empty data folder (so 'auto' means the offline subset) for this test."""
    monkeypatch.setenv("ADVLAB_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("ADVLAB_CACHE_DIR", str(cache_dir))
    monkeypatch.setenv("ADVLAB_DATA_DIR", str(tmp_path / "no_idx_here"))
    subset = load_mnist(source="subset")
    metrics.load_classifier(subset.x_train, subset.y_train)  # the run's process then finds it cached
    return tmp_path / "runs"


def texts(at) -> str:
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption])


def test_page_without_runs_offers_the_settings_formulas_and_says_which_mnist(runs_dir):
    at = open_page(PAGE, query={"loss": "wgan-gp"})
    assert not at.exception and not errors(at)
    assert at.selectbox(key="loss").value == "wgan-gp"
    assert any(r"\nabla" in latex.value for latex in at.latex)  # the gradient penalty's formula is shown
    assert "offline MNIST subset" in texts(at)
    assert any("No GAN runs yet" in i.value for i in at.info)


def test_launching_a_tiny_run_shows_its_status_curves_and_samples(runs_dir):
    at = open_page(PAGE, query={"steps": "20", "batch": "32"})
    at.button(key="launch").click().run(timeout=60)
    assert not at.exception and not errors(at)
    (info,) = runs.list_runs(runs_dir, kind="gan")
    assert info.config["steps"] == 20 and info.config["batch_size"] == 32
    assert info.config["conditional"] is True and info.config["truncation"] == pytest.approx(0.7)
    deadline = time.monotonic() + 90
    while runs.get_run(info.run_id, runs_dir).is_active and time.monotonic() < deadline:
        time.sleep(0.5)
    final = runs.get_run(info.run_id, runs_dir)
    assert final.status == "done", final.error
    at.run(timeout=60)
    assert not at.exception
    assert at.selectbox(key="run").value == info.run_id  # the page watches the run it launched
    assert "done" in texts(at)
    assert "offline MNIST subset" in texts(at)
    assert "device cpu (float32)" in texts(
        at
    )  # the numerics the run trained with (bfloat16 autocast on a GPU)
    figures = {fig["layout"]["title"]["text"].split(" ")[0]: fig for fig in plotly_figures(at)}
    assert {"Losses", "Critic", "Sample", "Class"} <= set(figures)
    losses = [values(tr["y"]) for tr in figures["Losses"]["data"]]
    assert len(losses) == 2 and all(len(y) >= 1 and np.all(np.isfinite(y)) for y in losses)
    score = values(figures["Sample"]["data"][0]["y"])
    assert len(score) == 1 and 1.0 <= score[0] <= 10.0
    assert sum(values(figures["Class"]["data"][0]["y"])) == pytest.approx(100.0, abs=0.5)
    assert at.get("image"), "the sample grid from fixed noise is shown"
    assert "row = digit y" in "".join(str(image.proto) for image in at.get("image"))  # its caption
    metric_labels = [m.label for m in at.metric]
    assert "drew the digit asked" in metric_labels
    assert 0 <= float(at.metric[metric_labels.index("drew the digit asked")].value.rstrip(" %")) <= 100

    # Draw from this run: the checkpoint's averaged generator, sampled with the page's digit, ψ and seed.
    assert any("Draw from this run" in h.value for h in at.subheader)
    captions = lambda: "".join(str(image.proto) for image in at.get("image"))  # noqa: E731
    assert "checkpoint of step 20" in captions() and "row r = digit r" in captions()
    at.selectbox(key="draw_digit").set_value(7)
    at.slider(key="draw_psi").set_value(0.0)
    at.run(timeout=60)
    assert not at.exception and not errors(at)
    assert "digit y = 7" in captions() and "ψ = 0" in captions()


def test_an_unconditional_run_is_launched_when_the_toggle_is_off(runs_dir):
    at = open_page(PAGE, query={"steps": "10", "batch": "32", "conditional": "0"})
    assert at.toggle(key="conditional").value is False
    assert at.slider(key="psi").value == pytest.approx(
        1.0
    )  # no truncation by default for one G of all digits
    assert not any("projection" in c.value for c in at.caption)
    at.button(key="launch").click().run(timeout=60)
    assert not at.exception and not errors(at)
    (info,) = runs.list_runs(runs_dir, kind="gan")
    assert info.config["conditional"] is False and info.config["truncation"] == pytest.approx(1.0)


def test_a_failed_run_shows_its_reason(runs_dir):
    path = runs.create_run("gan", {"steps": 50, "device": "cpu"}, runs_dir)
    status = json.loads((path / "status.json").read_text())
    status.update(
        status="failed", error="FloatingPointError: loss became NaN at step 7", finished=time.time()
    )
    (path / "status.json").write_text(json.dumps(status))
    at = open_page(PAGE)
    assert not at.exception
    assert any("loss became NaN at step 7" in e for e in errors(at))
