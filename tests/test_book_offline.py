"""The built book renders with no network: every chart draws, every formula is typeset.

Serves ``_build/html`` on 127.0.0.1 and opens every page in real headless
Chromium whose requests to anywhere but 127.0.0.1 are refused. Needs Debian's
``chromium`` (``apt-get install chromium``); without it the test skips, unless
``COLLAPSE_REQUIRE_BROWSER=1`` (set by ``.ci/run``) makes it required.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

ROOT = Path(__file__).resolve().parents[1]
# COLLAPSE_BOOK_HTML lets a build made with --path-output be checked.
HTML = Path(os.environ.get("COLLAPSE_BOOK_HTML", ROOT / "_build" / "html"))
REQUIRED = os.environ.get("COLLAPSE_REQUIRE_BROWSER") == "1"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Belt and braces: no name resolves except the local server.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]

CHARTS_DRAWN = """() => [...document.querySelectorAll('.vega-chart')]
    .every(d => d.querySelector('svg, canvas') !== null)"""
MATH_DONE = """async () => {
    if (!window.MathJax || !MathJax.startup) return document.querySelectorAll('.math').length === 0;
    await MathJax.startup.promise;
    return true;
}"""
PAGE_REPORT = """() => ({
    charts: document.querySelectorAll('.vega-chart').length,
    undrawn: [...document.querySelectorAll('.vega-chart')]
        .filter(d => d.querySelector('svg, canvas') === null).map(d => d.id),
    math: document.querySelectorAll('.math').length,
    untypeset: [...document.querySelectorAll('.math')]
        .filter(m => m.querySelector('mjx-container') === null && !m.closest('mjx-container'))
        .map(m => m.textContent.slice(0, 60)),
})"""


def _chromium() -> str | None:
    env = os.environ.get("CHROMIUM")
    return env or shutil.which("chromium") or shutil.which("chromium-browser")


def _pages() -> list[Path]:
    skip = {"_static", "_sources", "_images", "_downloads"}
    return sorted(
        p for p in HTML.rglob("*.html")
        if not skip & set(p.relative_to(HTML).parts)
        # The root index.html only redirects to the first page.
        and 'http-equiv="Refresh"' not in p.read_text(encoding="utf-8", errors="replace")[:2000]
    )


@pytest.fixture(scope="module")
def server():
    if not (HTML / "index.html").exists():
        pytest.fail("the book is not built: run `make book` first (make test does)")
    handler = functools.partial(_QuietHandler, directory=str(HTML))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest's output readable
        pass


@pytest.fixture(scope="module")
def browser():
    exe = _chromium()
    if exe is None:
        message = ("Chromium not found: install Debian's `chromium` package "
                   "(apt-get install chromium) to run the offline rendering test")
        if REQUIRED:
            pytest.fail(message + " (required: COLLAPSE_REQUIRE_BROWSER=1)")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


def test_book_has_pages():
    assert (HTML / "index.html").exists(), "run `make book` first"
    chapters = [p for p in _pages() if p.parent.name == "chapters"]
    assert len(chapters) >= 2


@pytest.mark.parametrize("page", _pages() if HTML.exists() else [],
                         ids=lambda p: str(p.relative_to(HTML)))
def test_page_renders_offline(page, server, browser):
    context = browser.new_context()
    refused, failed, errors = [], [], []

    def route(r):
        host = urlparse(r.request.url).hostname
        if r.request.url.startswith(("data:", "blob:")) or host == "127.0.0.1":
            r.continue_()
        else:
            refused.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    tab = context.new_page()
    tab.on("requestfailed", lambda req: failed.append(f"{req.url} ({req.failure})"))
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    url = f"{server}/{page.relative_to(HTML).as_posix()}"
    tab.goto(url, wait_until="load")
    try:
        tab.wait_for_function(CHARTS_DRAWN, timeout=20_000)
    except PlaywrightTimeout:
        pass  # the report below says which charts did not draw
    assert tab.evaluate(MATH_DONE)
    report = tab.evaluate(PAGE_REPORT)
    context.close()

    assert refused == [], f"the page asks the network for {refused}"
    assert failed == [], f"resources failed to load: {failed}"
    assert errors == [], f"script errors: {errors}"
    assert report["undrawn"] == [], f"charts that did not draw: {report['undrawn']}"
    assert report["untypeset"] == [], f"formulas left as TeX: {report['untypeset']}"


def test_every_chapter_has_a_colab_button_to_its_notebook():
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    slug = config["repository"]["url"].removeprefix("https://github.com/")
    branch = config["repository"]["branch"]
    chapters = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.md"))
    assert chapters
    for md in chapters:
        page = HTML / "chapters" / f"{md.stem}.html"
        assert page.exists(), f"{page} was not built"
        # the student notebook written for Colab (tools/notebooks.py), not the instructors' pair
        link = (f"https://colab.research.google.com/github/{slug}/blob/{branch}/"
                f"notebooks/{md.stem}.ipynb")
        assert link in page.read_text(encoding="utf-8"), f"no Colab button to {link}"
        assert (ROOT / "notebooks" / f"{md.stem}.ipynb").exists()


# ------------------------------------------------- the book fits its readers (issue 12, part 3)

CHARTS_FITTED = """() => [...document.querySelectorAll('.vega-chart')]
    .every(d => d.hasAttribute('data-fitted'))"""
CHART_WIDTHS = """() => [...document.querySelectorAll('.vega-chart')].map(d => {
    const svg = d.querySelector('svg');
    return {id: d.id, fitted: d.getAttribute('data-fitted'), column: d.parentElement.clientWidth,
            width: svg ? Math.ceil(svg.getBoundingClientRect().width) : null,
            scroll: d.scrollWidth, label: svg ? svg.getAttribute('aria-label') : null};
})"""
LINK_CONTRAST = r"""() => {
    const parse = c => { const m = c.match(/rgba?\(([^)]+)\)/); if (!m) return null;
        const p = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number);
        return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
    const over = (top, bottom) => [0, 1, 2].map(i => top[i] * top[3] + bottom[i] * (1 - top[3]))
        .concat([1]);
    const background = el => { const layers = [];
        for (let e = el; e; e = e.parentElement) {
            const c = parse(getComputedStyle(e).backgroundColor);
            if (c && c[3] > 0) layers.push(c);
            if (c && c[3] === 1) break; }
        let colour = [255, 255, 255, 1];
        if (layers.length && layers[layers.length - 1][3] === 1) colour = layers.pop();
        while (layers.length) colour = over(layers.pop(), colour);
        return colour; };
    const lum = c => { const f = v => { v /= 255;
        return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
        return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); };
    const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
        return (x + 0.05) / (y + 0.05); };
    return [...document.querySelectorAll('div.proof a, div.admonition a')]
        .filter(a => a.offsetParent !== null).map(a => {
            const bg = background(a);
            return {link: a.textContent.trim().slice(0, 40),
                    ratio: ratio(over(parse(getComputedStyle(a).color), bg), bg)}; });
}"""


def _text(page: Path) -> str:
    return page.read_text(encoding="utf-8", errors="replace")


def _chart_pages() -> list[Path]:
    return [p for p in _pages() if 'class="vega-chart"' in _text(p)] if HTML.exists() else []


@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize("page", _chart_pages(), ids=lambda p: str(p.relative_to(HTML)))
def test_every_chart_fits_its_column_on_a_phone_and_a_desktop(page, width, server, browser):
    context = browser.new_context(viewport={"width": width, "height": 900})
    tab = context.new_page()
    tab.goto(f"{server}/{page.relative_to(HTML).as_posix()}", wait_until="load")
    tab.wait_for_function(CHARTS_FITTED, timeout=60_000)
    assert tab.evaluate(MATH_DONE)  # typeset formulas take their final width
    charts = tab.evaluate(CHART_WIDTHS)
    page_width = tab.evaluate("document.documentElement.scrollWidth")
    context.close()
    wide = [c for c in charts if c["fitted"] != "fits" or c["width"] is None
            or c["width"] > c["column"] or c["scroll"] > c["column"]]
    assert wide == [], f"charts wider than their column at {width} px: {wide}"
    assert page_width <= width, f"the page scrolls sideways at {width} px ({page_width} px)"
    # Every chart is one image to a screen reader, named by its one-sentence description.
    unnamed = [c["id"] for c in charts if not c["label"]]
    assert unnamed == [], f"charts without a text alternative: {unnamed}"


def test_the_vega_bundle_loads_only_on_pages_with_charts():
    for page in _pages():
        text = _text(page)
        has_chart = 'class="vega-chart"' in text
        for script in ("vega-offline.js", "collapse-charts.js"):
            assert (f"_static/{script}" in text) == has_chart, (page.name, script)
    assert _chart_pages(), "no page draws a chart"


class _CodeCells(HTMLParser):
    """The text of a page's code cells (myst-nb's ``div.cell_input``)."""

    def __init__(self):
        super().__init__()
        self.depth, self.text = 0, []

    def handle_starttag(self, tag, attrs):
        if tag != "div":
            return
        if self.depth or "cell_input" in (dict(attrs).get("class") or "").split():
            self.depth += 1

    def handle_endtag(self, tag):
        if tag == "div" and self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.text.append(data)


def test_hidden_tests_never_show_in_code_cells():
    shown = []
    for page in _pages():
        cells = _CodeCells()
        cells.feed(_text(page))
        if "HIDDEN TESTS" in "".join(cells.text):
            shown.append(page.name)
    assert shown == [], f"hidden tests show in the code cells of {shown}"


def test_no_output_shows_a_path_of_the_build_machine():
    machine = {str(ROOT), str(HTML.resolve().parent.parent), "site-packages/"}
    found = []
    for page in _pages():
        text = re.sub(r"<[^>]+>", "", _text(page))
        found += [(page.name, m) for m in machine if m in text]
    assert found == [], f"pages show paths of the build machine: {found}"


def test_the_references_render_their_maths():
    text = re.sub(r"<[^>]+>", "", _text(HTML / "book" / "references.html"))
    assert "Dey and David Donoho" in text
    raw = re.findall(r"\$[^$\n]{0,40}\\[A-Za-z]+[^$\n]{0,40}\$", text)
    assert raw == [], f"TeX shown raw in the references: {raw}"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_links_in_theorem_and_definition_boxes_have_contrast(scheme, server, browser):
    context = browser.new_context(color_scheme=scheme)
    tab = context.new_page()
    low = []
    for page in _pages():
        if 'class="proof' not in _text(page) and "admonition" not in _text(page):
            continue
        tab.goto(f"{server}/{page.relative_to(HTML).as_posix()}", wait_until="load")
        low += [(page.name, r["link"], round(r["ratio"], 2)) for r in tab.evaluate(LINK_CONTRAST)
                if r["ratio"] < 4.5]
    context.close()
    assert low == [], f"links under 4.5:1 contrast in boxes ({scheme} mode): {low}"
