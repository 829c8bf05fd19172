"""Charts: one look for every figure, and rendering that works offline.

In Jupyter and Colab, Altair keeps its default renderer. While the book is
built (``COLLAPSE_UTILS_BOOK_BUILD=1``, set by the book's Sphinx extension)
charts are emitted as a ``<div>`` plus a ``vegaEmbed`` call against the Vega
bundle the book serves itself, so they draw with no network.
"""

from __future__ import annotations

import hashlib
import json
import os

import altair as alt

BOOK_ENV = "COLLAPSE_UTILS_BOOK_BUILD"
WIDTH = 520
HEIGHT = 260

_counter = 0


def in_book_build() -> bool:
    """True while the book's build executes the chapters."""
    return os.environ.get(BOOK_ENV) == "1"


def _book_renderer(spec: dict, **_: object) -> dict:
    global _counter
    _counter += 1
    text = json.dumps(spec, sort_keys=True)
    # Deterministic ids keep the execution cache and the HTML stable.
    digest = hashlib.sha1(text.encode()).hexdigest()[:10]
    div = f"vega-{digest}-{_counter}"
    html = (
        f'<div class="vega-chart" id="{div}"></div>\n'
        f'<script type="text/javascript">vegaEmbed("#{div}", {text}, '
        '{"actions": false, "renderer": "svg"}).catch(console.error);</script>'
    )
    return {"text/html": html}


alt.renderers.register("collapse_book", _book_renderer)
if in_book_build():
    alt.renderers.enable("collapse_book")


def style(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """The course's chart style (fonts, sizes); used by every chapter."""
    return (
        chart.configure_view(stroke=None)
        .configure_axis(labelFontSize=12, titleFontSize=13, grid=True, gridOpacity=0.4)
        .configure_legend(labelFontSize=12, titleFontSize=13)
        .configure_title(fontSize=15, anchor="start")
    )
