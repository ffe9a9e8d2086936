"""AppTest: the Adversarial training page (2D tab) trains both models, draws Problem 4, and shows bad settings."""

import torch

from tests.apptest_utils import errors, open_page, plotly_figures

torch.set_num_threads(1)

PAGE = "pages/6_Adversarial_training.py"
FAST = {"epochs": "5"}


def test_adversarial_training_page_draws_boundaries_and_problem4():
    at = open_page(PAGE, query=FAST, timeout=180)
    assert not at.exception
    figs = {
        f["layout"]["title"]["text"].split(",")[0]: f for f in plotly_figures(at)
    }  # the MNIST tab may add more
    boundaries = figs["Decision boundaries (black line) while training"]
    assert {"Clean vs robust test accuracy during training", "Problem 4 in δ-space"} <= set(figs)
    assert len(boundaries["frames"]) == 6  # one boundary per epoch 0..5
    assert any("1 forward + backward pass for the standard model and 8 for the robust one (PGD-7" in c.value
               for c in at.caption)  # the counted cost of PGD-7 training  # fmt: skip
    table = next(d.value for d in at.dataframe if "inside ‖δ‖∞ ≤ ε?" in d.value.columns)
    assert list(table["inside ‖δ‖∞ ≤ ε?"].str.startswith("✓")) == [True, False, True, False, False]
    at.slider(key="b").set_value(0.9).run()  # dim the night only a little: δ = −0.1·x
    assert not at.exception
    legend = [tr.get("name", "") for f in plotly_figures(at) for tr in f["data"]]
    assert any("0.9·x" in name for name in legend)


def test_zero_training_radius_shows_an_error_naming_eps():
    at = open_page(PAGE, query={**FAST, "eps": "0.0"}, timeout=180)
    assert not at.exception
    assert any("eps" in e for e in errors(at))
