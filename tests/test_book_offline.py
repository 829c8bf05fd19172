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
import shutil
import threading
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
        link = (f"https://colab.research.google.com/github/{slug}/blob/{branch}/"
                f"chapters/{md.stem}.ipynb")
        assert link in page.read_text(encoding="utf-8"), f"no Colab button to {link}"
        assert md.with_suffix(".ipynb").exists()
