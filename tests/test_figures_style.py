"""Tests for collapse_utils.figures.style: offline rendering for the book, the widgets' static
fallback, and the shared pieces every chart uses (palette scale, rounding, the band)."""

import inspect
import re

import altair as alt
import ipywidgets
import numpy as np
import pandas as pd
import pytest

from collapse_utils import widgets
from collapse_utils.figures import style


def _chart(n=3):
    return alt.Chart(pd.DataFrame({"x": range(n), "y": range(n)})).mark_line().encode(x="x", y="y")


def test_book_renderer_emits_a_div_and_a_call_that_fits_the_chart():
    html = style._book_html(_chart().to_dict())["text/html"]
    div = html.split('id="')[1].split('"')[0]
    assert html.startswith('<div class="vega-chart"')
    # collapseChart (book/_static/collapse-charts.js) draws with vegaEmbed, fitted to the column.
    assert f'collapseChart("{div}"' in html
    # Ids differ between charts on one page, and depend on the spec.
    again = style._book_html(_chart().to_dict())["text/html"]
    assert again.split('id="')[1].split('"')[0] != div


def test_renderer_is_chosen_when_a_chart_is_shown(monkeypatch):
    assert alt.renderers.active == "collapse_utils"
    monkeypatch.setenv(style.BOOK_ENV, "1")
    assert style.in_book_build()
    assert "collapseChart" in style._renderer(_chart().to_dict())["text/html"]
    monkeypatch.delenv(style.BOOK_ENV)
    assert not style.in_book_build()
    assert "collapseChart" not in str(style._renderer(_chart().to_dict()))


def test_explorer_is_static_in_the_book_and_live_elsewhere(monkeypatch):
    calls = []

    def figure(n, label):
        calls.append((n, label))
        return _chart(n)

    monkeypatch.setenv(style.BOOK_ENV, "1")
    static = widgets.explorer(figure, n=ipywidgets.IntSlider(value=4, min=2, max=9), label="a")
    assert isinstance(static, alt.Chart) and calls == [(4, "a")]
    monkeypatch.delenv(style.BOOK_ENV)
    live = widgets.explorer(figure, n=ipywidgets.IntSlider(value=5, min=2, max=9), label="b")
    assert isinstance(live, ipywidgets.interactive)
    assert calls[-1] == (5, "b")


def test_style_configures_the_look_once():
    spec = style.style(_chart(), description="A line.").to_dict()
    assert spec["config"]["title"]["anchor"] == "start" and spec["config"]["axis"]["grid"]
    # Legends above the plot, inside a phone's column; marks hidden from screen readers, which
    # read the description instead.
    assert spec["config"]["legend"]["orient"] == "top" and spec["config"]["aria"] is False
    assert spec["description"] == "A line."


@pytest.mark.parametrize("description", [None, "", "  ", "no period", 3])
def test_style_needs_a_one_sentence_description(description):
    with pytest.raises(ValueError, match="^description must be one sentence ending with a period"):
        style.style(_chart(), description=description)
    with pytest.raises(TypeError):
        style.style(_chart())


def _public_chart_functions():
    import importlib
    import pkgutil

    from collapse_utils import figures

    for info in pkgutil.iter_modules(figures.__path__):
        module = importlib.import_module(f"collapse_utils.figures.{info.name}")
        for name in getattr(module, "__all__", []):
            if name.endswith("_chart") and inspect.isfunction(getattr(module, name)):
                yield f"{info.name}.{name}", getattr(module, name)


@pytest.mark.parametrize("name, function", list(_public_chart_functions()),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_every_public_chart_function_describes_its_chart(name, function):
    # style() refuses a chart without a one-sentence description (above), and each figure test
    # builds its charts through it; here, no public chart function can skip it.
    source = inspect.getsource(function)
    assert "style.style(" in source and "description=" in source, name


def test_title_lines_fit_a_phone():
    t = style.title("Only a superlinear growth keeps the expected distance bounded",
                    "dashed: closed form; solid: mean of 20000 chains; band: 10–90% of chains")
    assert isinstance(t.text, list) and all(len(line) <= style.PHONE // 8 for line in t.text)
    assert all(len(line) <= style.PHONE / 6.5 for line in t.subtitle)
    assert " ".join(t.subtitle) == "dashed: closed form; solid: mean of 20000 chains; band: " \
                                   "10–90% of chains"
    assert style.title("Short").text == "Short"


def test_names_expr_maps_names_and_keeps_the_others():
    expr = style.names_expr({"keep_real": "keep real", "a": "b"}, "datum.regime")
    assert expr == ('datum.regime == "keep_real" ? "keep real" : '
                    'datum.regime == "a" ? "b" : datum.regime')


def test_scale_keeps_palette_colours_and_fills_the_rest_in_order():
    s = style.scale(["simulation", "a", "b", "simulation"]).to_dict()
    assert s["domain"] == ["simulation", "a", "b"]
    assert s["range"][0] == style.PALETTE["simulation"]
    # The free names take the series colours, skipping the one already used.
    assert s["range"][1:] == [c for c in style.SERIES if c != style.PALETTE["simulation"]][:2]
    with pytest.raises(ValueError, match="^names must hold at most 5 names outside PALETTE"):
        style.scale(list("abcdef"))


def test_rounded_keeps_five_significant_digits_and_leaves_the_input_alone():
    frame = pd.DataFrame({"x": [123456.789, 0.0, np.nan, -np.inf, 1.23456789e-8, -2.5],
                          "i": [1, 2, 3, 4, 5, 6]})
    out = style.rounded(frame)
    np.testing.assert_array_equal(out.x, [123460.0, 0.0, np.nan, -np.inf, 1.2346e-8, -2.5])
    assert out.i.tolist() == frame.i.tolist() and frame.x.iloc[0] == 123456.789
    assert style.rounded(frame, digits=2).x.iloc[0] == 120000.0


def test_spread_is_the_mean_and_the_band_quantiles_over_chains():
    values = np.arange(20.0).reshape(2, 10)  # two generations, ten chains
    s = style.spread(values)
    np.testing.assert_array_equal(s["mean"], [4.5, 14.5])
    np.testing.assert_allclose(s["lo"], np.quantile(values, style.BAND[0], axis=1))
    np.testing.assert_allclose(s["hi"], np.quantile(values, style.BAND[1], axis=1))
    assert style.BAND == (0.1, 0.9) and "10–90% of chains" in style.BAND_TEXT


def test_theory_band_draws_a_band_and_names_it_in_the_legend():
    data = pd.DataFrame({"n": [0, 1], "closed": [1.0, 2.0], "mean": [1.0, 2.1],
                         "lo": [0.5, 1.5], "hi": [1.5, 2.5]})
    spec = style.theory_band(data, alt.X("n:Q"), "y", labels=("exact", "mean")).to_dict()
    band, lines = spec["layer"]
    assert band["mark"]["type"] == "area" and band["encoding"]["y2"]["field"] == "hi"
    assert lines["encoding"]["color"]["title"] == style.BAND_TEXT
    assert lines["encoding"]["color"]["scale"]["domain"] == ["exact", "mean"]
    assert lines["transform"][0]["fold"] == ["closed", "mean"]
    alone = style.theory_band(data, alt.X("n:Q"), "y", closed=None).to_dict()
    assert alone["layer"][1]["transform"][0]["fold"] == ["mean"]


def test_no_colour_is_typed_outside_the_palette():
    from collapse_utils.figures import breeds, discrete, gaussian

    for module in (breeds, discrete, gaussian, widgets):
        assert not re.search(r"#[0-9a-fA-F]{6}", inspect.getsource(module)), module.__name__
