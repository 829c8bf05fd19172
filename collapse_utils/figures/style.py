"""One look for every chart: palette, sizes, rounding, the closed-form-beside-simulation layer,
and rendering that works offline in the book.

In Jupyter and Colab charts render with Altair's default renderer. While the book is built
(``COLLAPSE_UTILS_BOOK_BUILD=1``, set by the book's Sphinx extension) each chart is emitted as a
``<div>`` plus a ``vegaEmbed`` call against the Vega bundle the book serves itself, so it draws
with no network. The choice is made each time a chart is shown, not at import.
"""

from __future__ import annotations

import hashlib
import json
import os
import textwrap

import altair as alt
import numpy as np
import pandas as pd

BOOK_ENV = "COLLAPSE_UTILS_BOOK_BUILD"
WIDTH = 520
HEIGHT = 260

#: The course's colours, by role. Every chart takes its colours from here.
PALETTE = {
    "truth": "#222222",  # the real distribution, generation 0, a closed form
    "simulation": "#4c78a8",  # Monte Carlo: simulated chains
    "highlight": "#e45756",  # what a chart points at: a target, the tail, the lost mass
    "fit": "#e67e22",  # a fitted model
    "other": "#54a24b",
    "fourth": "#b279a2",
    "muted": "#bbbbbb",  # context: single chains, other categories
    # the regimes of chapters 6 and 7, the same in every chart
    "replace": "#e45756",
    "keep_real": "#4c78a8",
    "accumulate": "#54a24b",
}

#: Readable names of the data regimes of chapters 6 and 7, for legends, tooltips and buttons.
REGIME_NAMES = {"replace": "replace", "keep_real": "keep real", "accumulate": "accumulate",
                "accumulate_subsample": "accumulate, subsampled"}

#: Colours for a series of up to five named curves, in order.
SERIES = [PALETTE[k] for k in ("truth", "fit", "simulation", "other", "fourth")]

#: What every band drawn around simulated chains means, said in each chart's title or legend.
BAND = (0.1, 0.9)
BAND_TEXT = "band: 10–90% of chains"


def in_book_build() -> bool:
    """True while the book's build executes the chapters."""
    return os.environ.get(BOOK_ENV) == "1"


_counter = 0


def _book_html(spec: dict) -> dict:
    global _counter
    _counter += 1
    text = json.dumps(spec, sort_keys=True)
    # Deterministic ids keep the execution cache and the HTML stable.
    div = f"vega-{hashlib.sha1(text.encode()).hexdigest()[:10]}-{_counter}"
    # collapseChart (book/_static/collapse-charts.js) draws with vegaEmbed and fits the chart
    # to its column.
    html = (
        f'<div class="vega-chart" id="{div}"></div>\n'
        f'<script type="text/javascript">collapseChart("{div}", {text});</script>'
    )
    return {"text/html": html}


_default = alt.renderers.get()


def _renderer(spec: dict, **kwargs) -> dict:
    return _book_html(spec) if in_book_build() else _default(spec, **kwargs)


alt.renderers.register("collapse_utils", _renderer)
alt.renderers.enable("collapse_utils")


def style(chart: alt.TopLevelMixin, *, description: str) -> alt.TopLevelMixin:
    """The course's look (fonts, grid, legends above the plot); applied by every public chart
    function, once, last.

    ``description``: one sentence saying what the chart shows, read by screen readers in place
    of the drawing (whose marks and guides are hidden from them).
    """
    if not isinstance(description, str) or not description.strip() \
            or not description.rstrip().endswith("."):
        raise ValueError(f"description must be one sentence ending with a period, saying what "
                         f"the chart shows (got {description!r})")
    return (
        chart.properties(description=description.strip())
        .configure(aria=False)
        .configure_view(stroke=None)
        .configure_axis(labelFontSize=12, titleFontSize=13, grid=True, gridOpacity=0.4)
        # Legends above the plot, never beside it: they stay inside a phone's column.
        .configure_legend(labelFontSize=12, titleFontSize=13, orient="top", labelLimit=320,
                          titleLimit=320)
        .configure_title(fontSize=15, anchor="start", subtitleFontSize=12)
    )


#: The widest a chart's text may be, in pixels: a phone's column (390 px screen) less margins.
PHONE = 340


def _lines(text: str, limit: int) -> list[str]:
    """``text`` in lines of at most ``limit`` characters, broken after a "; " where it can be:
    joined with spaces, the lines give ``text`` back."""
    lines: list[str] = []
    for i, part in enumerate(parts := text.split("; ")):
        part += ";" if i < len(parts) - 1 else ""
        if lines and len(lines[-1]) + 1 + len(part) <= limit:
            lines[-1] += " " + part
        else:
            lines += textwrap.wrap(part, limit) or [part]
    return lines


def title(text: str, subtitle: str | None = None, width: int = PHONE) -> alt.Title:
    """A chart title whose lines fit ``width`` pixels (a phone's column by default): the title
    (15 px) in lines of at most ``width / 8`` characters, the subtitle (12 px) of ``width / 6.5``.
    """
    lines = _lines(text, max(12, width // 8))
    kwargs = {} if subtitle is None else {"subtitle": _lines(subtitle, max(16, int(width / 6.5)))}
    return alt.Title(lines[0] if len(lines) == 1 else lines, **kwargs)


def names_expr(names: dict, value: str = "datum.label") -> str:
    """A Vega expression that reads ``names[value]`` (``value`` itself when it is not a key):
    a legend's ``labelExpr``, or a calculated field that a tooltip shows."""
    expr = value
    for key, name in reversed(names.items()):
        expr = f"{value} == {json.dumps(key)} ? {json.dumps(name)} : {expr}"
    return expr


#: The width of a single or layered chart: its column's (the chart is redrawn when the column
#: changes). Compositions (vconcat, hconcat, facet) cannot take it; their views are
#: :data:`WIDTH` wide and the book narrows them to the column (book/_static/collapse-charts.js).
CONTAINER = "container"


def scale(names) -> alt.Scale:
    """A colour scale for named curves: a name in :data:`PALETTE` keeps its colour, others take
    :data:`SERIES` in order. Only the names given appear in the legend."""
    names = list(dict.fromkeys(names))
    free = [c for c in SERIES if c not in {PALETTE[n] for n in names if n in PALETTE}]
    others = [n for n in names if n not in PALETTE]
    if len(others) > len(free):
        raise ValueError(f"names must hold at most {len(free)} names outside PALETTE here "
                         f"(got {len(others)}: {others})")
    free = iter(free)
    return alt.Scale(domain=names, range=[PALETTE.get(n) or next(free) for n in names])


def rounded(frame: pd.DataFrame, digits: int = 5) -> pd.DataFrame:
    """A copy with floats cut to ``digits`` significant digits: lighter chart data, same picture."""
    frame = frame.copy()
    for col in frame.select_dtypes("float").columns:
        values = frame[col].to_numpy()
        finite = np.isfinite(values) & (values != 0)
        mag = np.zeros_like(values)
        mag[finite] = np.floor(np.log10(np.abs(values[finite])))
        factor = 10.0 ** (digits - 1 - mag)
        frame[col] = np.where(finite, np.round(values * factor) / factor, values)
    return frame


def spread(values, axis: int = 1) -> dict[str, np.ndarray]:
    """Mean and the :data:`BAND` quantiles of ``values`` over chains (``axis``): the numbers
    :func:`theory_band` draws."""
    values = np.asarray(values, dtype=float)
    lo, hi = np.quantile(values, BAND, axis=axis)
    return {"mean": values.mean(axis=axis), "lo": lo, "hi": hi}


def theory_band(data: pd.DataFrame, x: alt.X | str, y_title: str, *, closed: str = "closed",
                mean: str = "mean", lo: str = "lo", hi: str = "hi",
                labels=("closed form", "simulation: mean"), scale_y=None) -> alt.LayerChart:
    """The closed form beside the simulation: a band over :data:`BAND` of the chains, the
    chains' mean (solid) and the closed form (dashed), with a legend naming both curves.

    ``data`` has one row per x with columns ``closed``, ``mean``, ``lo``, ``hi`` (see
    :func:`spread`); pass ``closed=None`` when there is no closed form.
    """
    scale_y = scale_y or alt.Scale(zero=False)
    base = alt.Chart(rounded(data))
    band = base.mark_area(opacity=0.2, color=PALETTE["simulation"]).encode(
        x, alt.Y(f"{lo}:Q", title=y_title, scale=scale_y), alt.Y2(f"{hi}:Q"))
    curves = {mean: labels[1]} if closed is None else {closed: labels[0], mean: labels[1]}
    colours = {labels[0]: PALETTE["truth"], labels[1]: PALETTE["simulation"]}
    shown = list(curves.values())
    lines = base.transform_fold(list(curves), as_=["column", "value"]).transform_calculate(
        curve=" : ".join(f"datum.column == '{k}' ? '{v}'" for k, v in curves.items()) + " : ''"
    ).mark_line().encode(
        x, alt.Y("value:Q", scale=scale_y),
        alt.Color("curve:N", title=BAND_TEXT, scale=alt.Scale(
            domain=shown, range=[colours[c] for c in shown])),
        alt.StrokeDash("curve:N", title=BAND_TEXT, scale=alt.Scale(
            domain=shown, range=[[6, 3] if c == labels[0] else [1, 0] for c in shown])),
    )
    return alt.layer(band, lines)
