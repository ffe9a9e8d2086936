"""AppTest for the Attack explorer (sheet §2.1–2.2 on MNIST): white-box and black-box attacks on one digit."""

from __future__ import annotations

import pytest

from tests.apptest_utils import errors, open_page, plotly_figures
from tests.test_page_robust_mnist import make_run

PAGE = "pages/7_Attack_explorer.py"


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_default_view_attacks_a_digit_of_the_quick_model_with_pgd(tmp_path, monkeypatch):
    monkeypatch.setenv("ADVLAB_RUNS_DIR", str(tmp_path))
    at = open_page(PAGE, timeout=180)
    assert not at.exception, at.exception
    assert not errors(at)
    figs = plotly_figures(at)
    assert len(figs) == 2
    assert "PGD-20" in figs[0]["layout"]["title"]["text"]
    m = _metrics(at)
    assert float(m["‖δ‖∞"]) <= 0.15 + 1e-6 and m["queries used"] == "20"


@pytest.mark.parametrize("query", [
    {"method": "blackbox", "budget": "300", "dirs": "10", "norm": "2", "eps_2": "2.0", "digit": "3"},
    {"method": "fgsm", "norm": "inf", "eps_inf": "0.3"},
])  # fmt: skip
def test_fgsm_and_blackbox_from_a_shared_link(tmp_path, monkeypatch, query):
    monkeypatch.setenv("ADVLAB_RUNS_DIR", str(tmp_path))
    at = open_page(PAGE, query=query, timeout=180)
    assert not at.exception, at.exception
    m = _metrics(at)
    if query["method"] == "blackbox":
        assert 0 < int(m["queries used"].replace(",", "")) <= 300
        assert float(m["‖δ‖₂"]) <= 2.0 + 1e-6
    else:
        assert float(m["‖δ‖∞"]) == pytest.approx(0.3, abs=1e-3)


def test_a_finished_run_can_be_the_target(tmp_path, monkeypatch):
    run_id = make_run(tmp_path, status="done", evaluate=False)
    monkeypatch.setenv("ADVLAB_RUNS_DIR", str(tmp_path))
    at = open_page(PAGE, query={"model": run_id, "method": "pgd", "steps": "5"}, timeout=180)
    assert not at.exception, at.exception
    assert at.selectbox(key="model").value == run_id
    assert _metrics(at)["queries used"] == "5"
