"""Every chart of the course, built from small inputs, fits a phone and a desktop and speaks to
its readers: a one-sentence description, readable names in legends, axes and tooltips, and (in
headless Chromium, with the book's Vega bundle, CSS and collapse-charts.js) a drawing no wider
than its column at 390 and at 1280 px.

The built book is checked the same way page by page (tests/test_book_offline.py); this test
needs no build, so a chart that overflows fails here first.
"""

from __future__ import annotations

import functools
import http.server
import json
import re
import shutil
import sys
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from collapse_utils import (
    breeds,
    discrete,
    functional_approximation,
    gaussian,
    gmm,
    mixtures,
    remedies,
)
from collapse_utils.chains import Chains
from collapse_utils.figures import breeds as breeds_figures
from collapse_utils.figures import discrete as discrete_figures
from collapse_utils.figures import functional_approximation as fa_figures
from collapse_utils.figures import gaussian as gaussian_figures
from collapse_utils.figures import gmm as gmm_figures
from collapse_utils.figures import lm as lm_figures
from collapse_utils.figures import mixtures as mixtures_figures
from collapse_utils.figures import remedies as remedies_figures
from collapse_utils.figures import style
from collapse_utils.figures import vae as vae_figures
from tests.specs import nodes

ROOT = Path(__file__).resolve().parents[1]
fa = functional_approximation


def _breeds():
    runs = discrete.resample(breeds.breed_distribution(), 20, 10, n_chains=4, seed=1)
    summary = pd.concat([breeds.collapse_summary(runs).assign(M=m) for m in (20, 50)])
    probs = breeds.breed_distribution()
    regimes = pd.concat([breeds.collapse_summary(remedies.categorical_regime(
        probs, r, 5, 30, seed=0)).assign(regime=r) for r in remedies.REGIMES])
    samplers = pd.concat([breeds.collapse_summary(discrete.resample(
        probs, 20, 15, n_chains=6, seed=2, **kw)).assign(sampler=name) for name, kw in {
        "pure sampling (T = 1)": {}, "temperature T = 0.9": {"temperature": 0.9},
        "temperature T = 0.5": {"temperature": 0.5}}.items()])
    return {"breeds.shares": lambda: breeds_figures.shares_chart(runs),
            "breeds.samplers": lambda: breeds_figures.samplers_chart(samplers),
            "breeds.summary": lambda: breeds_figures.summary_chart(summary),
            "breeds.regimes_survival": lambda: breeds_figures.regimes_survival_chart(regimes)}


def _discrete():
    return {
        "discrete.transition": lambda: discrete_figures.transition_chart(
            discrete.transition_matrix(10)),
        "discrete.absorption": lambda: discrete_figures.absorption_chart(
            discrete.absorption_runs(10, 300, n_chains=50, seed=0)),
        "discrete.loss": lambda: discrete_figures.loss_chart(
            discrete.loss_grid(0.2, [5, 10, 20], 30, 100, seed=0), 0.2, M=10, n=5),
        "discrete.survival": lambda: discrete_figures.survival_chart(
            discrete.survival_table([6, 3, 1], 50, 20, seed=0)),
    }


def _gaussian():
    rng = np.random.default_rng(0)
    grid = {(m, est): gaussian.simulate(8, m, estimator=est, n_chains=40, seed=rng)
            for m in (5, 10) for est in gaussian.ESTIMATORS}
    paths, summary = gaussian.variance_paths(20, 100, n_chains=100, n_paths=15, seed=0)
    horizon = 1000
    i = np.arange(1, horizon + 1)
    schedules = {"constant, M = 10": np.full(horizon, 10), "linear, M = 10 i": 10 * i,
                 "M = 10 i log²(i + 1)": (10 * i * np.log(i + 1) ** 2).astype(int),
                 "quadratic, M = 10 i²": 10 * i**2}
    runs = {k: gaussian.simulate(5, v[:5], n_chains=30, seed=3) for k, v in schedules.items()}
    return {
        "gaussian.variance_paths": lambda: gaussian_figures.variance_paths_chart(paths, summary),
        "gaussian.moments": lambda: gaussian_figures.moments_chart(grid, M=10, n=4),
        "gaussian.explorer": lambda: gaussian_figures.explorer_chart(
            paths, summary, {(10, "unbiased"): grid[(10, "unbiased")]}),
        "gaussian.logdet": lambda: gaussian_figures.logdet_chart(gaussian.simulate(
            6, 8, cov=np.eye(5), n_chains=30, seed=2)),
        "gaussian.schedules": lambda: gaussian_figures.schedules_chart(runs, schedules),
    }


def _functional_approximation():
    gens = np.arange(6)
    shrink = {b: fa.shrinkage_chain(5, 20, std=2.0, var_shrink=b, var_target=0.5, n_chains=50,
                                    seed=0) for b in (0.0, 0.1)}
    shrink_expected = {b: fa.shrinkage_expected(gens, 20, std=2.0, var_shrink=b,
                                                var_target=0.5)[1] for b in shrink}
    tails = {p: fa.sampling_chain(5, 20, top_p=p, n_chains=30, seed=1) for p in (0.9, 0.99)}
    tails_expected = {p: fa.truncated_variance_factor(p) ** gens for p in tails}
    exact = {k: fa.gradient_chain(5, None, mean=3.0, std=2.0, steps=k) for k in (5, 10)}
    sampled = {k: fa.gradient_chain(5, 40, mean=3.0, std=2.0, steps=k, n_chains=20, seed=2)
               for k in exact}
    return {
        "fa.estimator": lambda: fa_figures.estimator_chart(
            fa.estimator_frame(10, 5, n_chains=100, seed=0)),
        "fa.shrinkage": lambda: fa_figures.shrinkage_chart(shrink, shrink_expected, b=0.1),
        "fa.sampling": lambda: fa_figures.sampling_chart(tails, tails_expected, top_p=0.99),
        "fa.gradient": lambda: fa_figures.gradient_chart(exact, sampled, steps=10),
        "fa.cascade": lambda: fa_figures.cascade_chart(
            fa.cascade(n_generations=4, sample_size=10, n_chains=8, seed=3)),
    }


def _gmm_and_vae():
    chain = gmm.recursive_gmm(10, sample_size=100, keep=(0, 5, 10), seed=0, progress=False)
    rng = np.random.default_rng(0)
    n, side, n_show, latent = 10, 8, 8, 3
    vae_chain = Chains({
        "latents": np.stack([0.8**g * rng.normal(size=(30, latent))
                             for g in range(n + 1)])[:, None],
        "grids": rng.random((n + 1, 1, n_show, side, side)),
        "pixel_spread": np.linspace(0.3, 0.1, n + 1)[:, None],
        "losses": np.ones((n + 1, 1, 2))},
        {"real": rng.random((n_show, side, side)), "real_latents": rng.normal(size=(30, latent))})
    return {
        "gmm.chain": lambda: gmm_figures.chain_chart(chain),
        "gmm.snapshots": lambda: gmm_figures.snapshots_chart(chain, n_points=50),
        "vae.image_grid": lambda: vae_figures.image_grid_chart(
            vae_chain, generations=[0, 2, 4, 6, 8, 10]),
        "vae.latent": lambda: vae_figures.latent_chart(vae_chain),
    }


def _lm():
    rows = [dict(regime=regime, seed=seed, generation=g, test_ppl=4 + slope * g + 0.1 * seed,
                 true_nll_per_word=1.7 + 0.1 * g, rare_mass_kept=0.5 / (g + 1))
            for regime, slope in (("replace", 2.0), ("keep_real", 0.5)) for seed in range(2)
            for g in range(6)]
    results = pd.DataFrame(rows)
    rng = np.random.default_rng(0)
    sequences = pd.concat([pd.DataFrame(dict(
        regime=regime, seed=0, generation=g, index=range(200),
        gen0_ppl=np.exp(rng.normal(1.3 + 0.3 * g, 0.2, 200)),
        true_nll_per_word=rng.normal(2 + 0.1 * g, 0.3, 200)))
        for regime in ("replace", "keep_real") for g in range(6)], ignore_index=True)
    control = pd.DataFrame([dict(setting="weights", value=v, regime=r, generation=g,
                                 test_ppl=4.0 + g, q5=1.0, q50=2.0, q99=3.0)
                            for v in ("last", "best_val") for r in ("replace", "keep_real")
                            for g in range(6)])
    reference = {"real_train_text": {"true_nll_per_word": 1.6, "rare_mass_kept": 1.0}}
    return {
        "lm.perplexity": lambda: lm_figures.perplexity_chart(results, zero_shot=5.0),
        "lm.histogram": lambda: lm_figures.histogram_chart(sequences),
        "lm.histogram_nll": lambda: lm_figures.histogram_chart(
            sequences, column="true_nll_per_word"),
        "lm.language": lambda: lm_figures.language_chart(results, reference),
        "lm.control": lambda: lm_figures.control_chart(control),
    }


def _mixtures_and_remedies():
    two = mixtures.Mixture1D([0.5, 0.5], [-2.0, 2.0], [0.6, 0.6])
    three = mixtures.Mixture1D([0.45, 0.45, 0.1], [-2.0, 1.0, 4.0], [0.5, 0.8, 0.4])
    fits = {"2 components, GaussianMixture": mixtures.moment_match(two),
            "2 components, exact EM": mixtures.moment_match(three),
            "1 Gaussian": mixtures.moment_match(three)}
    runs = {"perfect information": mixtures.refit_chain(two, 4),
            "M = 100 samples per generation": mixtures.refit_chain(
                two, 4, sample_size=100, n_chains=20, seed=0)}
    table = remedies.regime_table(5, 10, fractions=(0.1, 0.2), n_chains=50, seed=0)
    return {
        "mixtures.fit_explorer": lambda: mixtures_figures.fit_explorer_chart(),
        "mixtures.density": lambda: mixtures_figures.density_chart(three, fits),
        "mixtures.chain": lambda: mixtures_figures.chain_chart(runs),
        "remedies.regimes": lambda: remedies_figures.regimes_chart(table),
    }


@functools.cache
def charts() -> dict:
    """Name -> a function that builds the chart: every public chart function of the chapters."""
    out = {}
    for part in (_breeds, _discrete, _gaussian, _functional_approximation, _gmm_and_vae, _lm,
                 _mixtures_and_remedies):
        out |= part()
    return out


@functools.cache
def spec(name: str) -> dict:
    return charts()[name]().to_dict()


NAMES = ["breeds.shares", "breeds.samplers", "breeds.summary", "breeds.regimes_survival",
         "discrete.transition", "discrete.absorption", "discrete.loss", "discrete.survival",
         "gaussian.variance_paths", "gaussian.moments", "gaussian.explorer", "gaussian.logdet",
         "gaussian.schedules", "fa.estimator", "fa.shrinkage", "fa.sampling", "fa.gradient",
         "fa.cascade", "gmm.chain", "gmm.snapshots", "vae.image_grid", "vae.latent",
         "lm.perplexity", "lm.histogram", "lm.histogram_nll", "lm.language", "lm.control",
         "mixtures.fit_explorer", "mixtures.density", "mixtures.chain", "remedies.regimes"]


def test_the_list_names_every_chart():
    assert sorted(NAMES) == sorted(charts())


@pytest.mark.parametrize("name", NAMES)
def test_chart_has_a_one_sentence_description(name):
    text = spec(name)["description"]
    assert text.endswith(".") and len(text) > 40 and text.count(". ") == 0, text


CODE_NAME = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)+$")  # mc_mean, keep_real, first_share


@pytest.mark.parametrize("name", NAMES)
def test_legends_and_tooltips_use_readable_names(name):
    shown = []
    for node in nodes(spec(name)):
        encoding = node.get("encoding")
        if not isinstance(encoding, dict):
            continue
        for channel, enc in encoding.items():
            entries = enc if isinstance(enc, list) else [enc]
            for e in entries:
                if not isinstance(e, dict) or "field" not in e:
                    continue
                # (An axis shared by layers takes the title one layer gives.)
                if channel in ("color", "strokeDash", "shape", "tooltip") \
                        and e.get("legend", {}) is not None:
                    shown.append((channel, e.get("title", e["field"])))
    code = [(c, t) for c, t in shown if isinstance(t, str) and CODE_NAME.match(t)]
    assert code == [], f"{name} shows column names: {code}"
    # Regimes and control values are named for readers, not by their code names.
    text = json.dumps(spec(name), ensure_ascii=False)
    if "keep_real" in text:
        assert "keep real" in text


# ---------------------------------------------------------------------------------- rendering

PAGE = """<!doctype html><html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body {{ margin: 0; font-family: sans-serif; }}
.column {{ max-width: 688px; padding: 0 16px; margin: 0 auto; }}</style>
<link rel="stylesheet" href="collapse.css">
<script src="vega-offline.js"></script><script src="collapse-charts.js"></script></head>
<body><div class="column">{charts}</div></body></html>"""

MEASURE = """() => [...document.querySelectorAll('.vega-chart')].map(d => {
    const svg = d.querySelector('svg');
    return {fitted: d.getAttribute('data-fitted'), column: d.parentElement.clientWidth,
            width: svg ? svg.getBoundingClientRect().width : null, scroll: d.scrollWidth,
            label: svg ? svg.getAttribute('aria-label') : null,
            role: svg ? svg.getAttribute('role') : null};
})"""


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """For 390 and 1280 px: each chart's fit, as collapse-charts.js left it."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.skip("Chromium not found: install Debian's `chromium` to render the charts")
    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    import offline_book

    site = tmp_path_factory.mktemp("charts")
    offline_book._write_vega_bundle(site)
    for f in ("collapse.css", "collapse-charts.js"):
        shutil.copy(ROOT / "book" / "_static" / f, site)
    divs = "\n".join(f"<h3>{name}</h3>\n{style._book_html(spec(name))['text/html']}"
                     for name in NAMES)
    (site / "index.html").write_text(PAGE.format(charts=divs), encoding="utf-8")

    handler = functools.partial(_Quiet, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    from playwright.sync_api import sync_playwright

    out = {}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=exe, args=["--headless", "--no-sandbox"])
            for width in (390, 1280):
                tab = browser.new_page(viewport={"width": width, "height": 900})
                errors = []
                tab.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
                tab.goto(f"http://127.0.0.1:{httpd.server_address[1]}/index.html")
                tab.wait_for_function(
                    "() => [...document.querySelectorAll('.vega-chart')]"
                    ".every(d => d.hasAttribute('data-fitted'))", timeout=60_000)
                out[width] = dict(zip(NAMES, tab.evaluate(MEASURE), strict=True))
                out[f"errors {width}"] = errors
                tab.close()
            browser.close()
    finally:
        httpd.shutdown()
    return out


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize("name", NAMES)
def test_chart_fits_its_column(rendered, name, width):
    assert rendered[f"errors {width}"] == []
    chart = rendered[width][name]
    assert chart["fitted"] == "fits", chart
    assert chart["width"] <= chart["column"] and chart["scroll"] <= chart["column"], chart
    # A screen reader hears one image, named by the chart's description.
    assert chart["role"] == "img" and chart["label"] == spec(name)["description"]
