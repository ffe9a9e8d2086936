"""AppTest: the 1D GAN critics page trains a short run and shows the animated panels and the curves."""

from tests.apptest_utils import errors, open_page, plotly_figures

PAGE = "pages/2_1D_GAN_critics.py"
SHORT = {"steps": "40", "snapshots": "6", "batch": "64"}


def test_page_trains_a_short_run_and_renders_the_animation_and_the_curves():
    at = open_page(PAGE, query={**SHORT, "critics": "perfect,gradient_penalty,spectral_norm"})
    assert not at.exception, at.exception
    assert not errors(at)
    figs = plotly_figures(at)
    animated = [f for f in figs if f.get("frames")]
    assert len(animated) == 1 and len(animated[0]["frames"]) == 6
    buttons = [b["label"] for b in animated[0]["layout"]["updatemenus"][0]["buttons"]]
    assert any("Play" in b for b in buttons)
    curves = [
        f
        for f in figs
        if "JSD" in str(f["layout"].get("title", {}).get("text", ""))
        or "JSD" in str(f["layout"].get("yaxis", {}).get("title", {}).get("text", ""))
    ]
    assert curves and len(curves[0]["data"]) == 2 * 3  # JSD and W1 for each of the 3 critics
    table = at.dataframe[0].value
    slope = dict(zip(table["critic"], table["critic's largest slope max|f′(x)|"], strict=True))
    assert float(slope["Spectral normalisation"]) <= 1.0 + 1e-3  # §1.3.1: 1-Lipschitz by construction
    assert str(slope["Perfect D* = p/(p+p_G)"]).startswith("—")
    # Train again with the same settings: served from the cache, same picture
    at.button(key="train").click().run()
    assert not at.exception
    assert len([f for f in plotly_figures(at) if f.get("frames")]) == 1


def test_bad_settings_show_an_error_naming_the_setting():
    at = open_page(PAGE, query={**SHORT, "gp_lambda": "-1.0"})
    assert not at.exception
    assert any("gp_lambda" in e for e in errors(at))
    at = open_page(PAGE, query={**SHORT, "steps": "0"})
    assert not at.exception
    assert any("steps" in e for e in errors(at))


def test_a_second_visitor_with_the_same_settings_gets_the_first_visitors_training(monkeypatch):
    from core.gan1d import jobs, trainer

    trained = []

    def counting(config, **kw):
        trained.append(config)
        return trainer.train_critics(config, **kw)

    monkeypatch.setattr(jobs, "train_critics", counting)
    query = {**SHORT, "critics": "perfect,spectral_norm", "batch": "48"}  # settings no other test trains
    first = open_page(PAGE, query=query)
    second = open_page(PAGE, query=query)  # another browser session on the same server
    assert not first.exception and not second.exception
    assert len(trained) == 1 and trained[0].batch == 48  # one training for both visitors
    assert plotly_figures(second) == plotly_figures(first)
