"""Sphinx extension: make the built book readable with no network.

- Vega, Vega-Lite and vega-embed come from ``vl_convert`` and are served from
  ``_static`` (MathJax comes from the ``sphinx-mathjax-offline`` extension). The bundle
  (0.9 MB) and ``collapse-charts.js``, which fits each chart to its column, load only on
  pages that draw a chart.
- Code cells show no hidden tests: the lines from ``### BEGIN HIDDEN TESTS`` to
  ``### END HIDDEN TESTS`` are left out of the page (the executed notebook still runs them).
- Chapters executed by the build see ``COLLAPSE_UTILS_BOOK_BUILD=1``, so
  ``collapse_utils.figures.style`` emits charts for this bundle and widgets fall back
  to a static figure; Jupyter and Colab keep their defaults.
- Long runs (chapters 6 and 7) are kept in ``_build/runs``, the runs folder
  ``collapse_utils.lm.run_dir`` picks inside the repository.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from docutils import nodes

BUNDLE = "vega-offline.js"
#: The scripts a page with a chart loads, in this order (collapse-charts.js is in book/_static).
CHART_SCRIPTS = (BUNDLE, "collapse-charts.js")
HIDDEN_TESTS = re.compile(
    r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[^\n]*(\n|$)", re.M | re.S)


def _write_vega_bundle(static_dir: Path) -> None:
    import altair as alt
    import vl_convert as vlc

    version = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
    stamp = f"// vl-convert {vlc.__version__}, Vega-Lite {version}\n"
    target = static_dir / BUNDLE
    if target.exists() and target.read_text(encoding="utf-8").startswith(stamp):
        return
    bundle = vlc.javascript_bundle(vl_version=version)
    # The bundle declares top-level consts (e.g. `_`) that clash with
    # Sphinx's own scripts: a function scope keeps them private; the bundle
    # itself assigns vegaEmbed, vega and vegaLite to window.
    static_dir.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(f"{stamp}(function () {{\n{bundle}\n}})();\n", encoding="utf-8")
    tmp.replace(target)


def _config_inited(app, config) -> None:
    static_dir = Path(app.doctreedir).parent / "offline_static"
    _write_vega_bundle(static_dir)
    config.html_static_path = [*config.html_static_path, str(static_dir)]
    # pydata-sphinx-theme logs an error on every page when this is unset.
    config.html_context = {"default_mode": "auto", **config.html_context}


def _drop_thebe(app, pagename, templatename, context, doctree) -> None:
    # Thebe (live code through Binder) needs the network, and Jupyter Book adds
    # its inline script twice, a SyntaxError on every page. Colab replaces it.
    context["script_files"] = [
        js for js in context.get("script_files", [])
        if "thebe" not in str(getattr(js, "filename", js) or "")
        and "THEBE_JS_URL" not in str(getattr(js, "attributes", {}).get("body", ""))
    ]


def _chart_scripts(app, pagename, templatename, context, doctree) -> None:
    # Runs before _drop_thebe (priority 400 < 500), while context["script_files"] is still the
    # builder's list that add_js_file appends to for this page only.
    if 'class="vega-chart"' in context.get("body", ""):
        for name in CHART_SCRIPTS:
            app.builder.add_js_file(name)


def _in_code_cell(node) -> bool:
    while node is not None:
        if "cell_input" in node.get("classes", []) \
                or node.get("nb_element") == "cell_code_source":
            return True
        node = node.parent
    return False


def _hide_hidden_tests(app, doctree) -> None:
    """Leave the hidden tests of exercise cells out of the page, markers included."""
    for block in list(doctree.findall(nodes.literal_block)):
        text = block.astext()
        if "### BEGIN HIDDEN TESTS" not in text or not _in_code_cell(block):
            continue
        shown = HIDDEN_TESTS.sub("", text).rstrip()
        block.rawsource = shown  # what Sphinx highlights
        block[:] = [nodes.Text(shown)]


def _colab_opens_student_notebook(app, pagename, templatename, context, doctree) -> None:
    # The theme's Colab button opens the page's own .ipynb (the instructors' jupytext pair):
    # point it at the student notebook tools/notebooks.py writes, notebooks/NN_slug.ipynb.
    name = Path(pagename).name
    if not pagename.startswith("chapters/") or not (
            Path(app.srcdir) / "notebooks" / f"{name}.ipynb").exists():
        return
    for group in context.get("header_buttons", []):
        for button in group.get("buttons", []) if isinstance(group, dict) else []:
            if button.get("text") == "Colab":
                button["url"] = button["url"].replace(
                    f"/{pagename}.ipynb", f"/notebooks/{name}.ipynb")


def setup(app):
    os.environ["COLLAPSE_UTILS_BOOK_BUILD"] = "1"
    # tqdm's notebook bars are ipywidgets, which need a CDN to render in HTML.
    os.environ["TQDM_DISABLE"] = "1"
    app.connect("config-inited", _config_inited)
    app.connect("doctree-read", _hide_hidden_tests)
    app.connect("html-page-context", _chart_scripts, priority=400)
    app.connect("html-page-context", _drop_thebe)
    # after sphinx-book-theme adds its launch buttons (priority 501)
    app.connect("html-page-context", _colab_opens_student_notebook, priority=600)
    app.add_css_file("collapse.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
