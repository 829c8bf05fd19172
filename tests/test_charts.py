"""Offline chart rendering for the book, and the widgets' static fallback."""

import altair as alt
import ipywidgets
import pandas as pd

from collapse_utils import charts, widgets


def _chart(n=3):
    return alt.Chart(pd.DataFrame({"x": range(n), "y": range(n)})).mark_line().encode(x="x", y="y")


def test_book_renderer_emits_a_div_and_a_vega_embed_call():
    bundle = charts._book_renderer(_chart().to_dict())
    html = bundle["text/html"]
    div = html.split('id="')[1].split('"')[0]
    assert html.startswith('<div class="vega-chart"')
    assert f'vegaEmbed("#{div}"' in html
    # Ids differ between charts on one page, and depend on the spec.
    again = charts._book_renderer(_chart().to_dict())["text/html"]
    assert again.split('id="')[1].split('"')[0] != div


def test_renderer_is_chosen_by_the_environment(monkeypatch):
    monkeypatch.delenv(charts.BOOK_ENV, raising=False)
    assert not charts.in_book_build()
    monkeypatch.setenv(charts.BOOK_ENV, "1")
    assert charts.in_book_build()


def test_explorer_is_static_in_the_book_and_live_elsewhere(monkeypatch):
    calls = []

    def figure(n, label):
        calls.append((n, label))
        return _chart(n)

    monkeypatch.setenv(charts.BOOK_ENV, "1")
    static = widgets.explorer(figure, n=ipywidgets.IntSlider(value=4, min=2, max=9), label="a")
    assert isinstance(static, alt.Chart) and calls == [(4, "a")]
    monkeypatch.delenv(charts.BOOK_ENV)
    live = widgets.explorer(figure, n=ipywidgets.IntSlider(value=5, min=2, max=9), label="b")
    assert isinstance(live, ipywidgets.interactive)
    assert calls[-1] == (5, "b")
