"""Sphinx extension: make the built book readable with no network.

- Vega, Vega-Lite and vega-embed come from ``vl_convert`` and are served from
  ``_static`` (MathJax comes from the ``sphinx-mathjax-offline`` extension).
- Chapters executed by the build see ``COLLAPSE_UTILS_BOOK_BUILD=1``, so
  ``collapse_utils.figures.style`` emits charts for this bundle and widgets fall back
  to a static figure; Jupyter and Colab keep their defaults.
- Long runs (chapters 6 and 7) are kept in ``_build/runs``, the runs folder
  ``collapse_utils.lm.run_dir`` picks inside the repository.
"""

from __future__ import annotations

import os
from pathlib import Path

BUNDLE = "vega-offline.js"


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


def setup(app):
    os.environ["COLLAPSE_UTILS_BOOK_BUILD"] = "1"
    # tqdm's notebook bars are ipywidgets, which need a CDN to render in HTML.
    os.environ["TQDM_DISABLE"] = "1"
    app.connect("config-inited", _config_inited)
    app.connect("html-page-context", _drop_thebe)
    app.add_js_file(BUNDLE)
    app.add_css_file("collapse.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
