"""Tests for collapse_utils.figures.functional_approximation: the chart specs (menus, layers,
legends, colours, the data each chart carries)."""

import inspect
import re

import numpy as np
import pytest

from collapse_utils import functional_approximation as fa
from collapse_utils.figures import functional_approximation as figures
from collapse_utils.figures import style
from tests.specs import filters, rows, title_text

GENS = np.arange(6)


@pytest.fixture(scope="module")
def shrinkage():
    runs = {b: fa.shrinkage_chain(5, 20, std=2.0, var_shrink=b, var_target=0.5, n_chains=50,
                                  seed=0) for b in (0.0, 0.1)}
    expected = {b: fa.shrinkage_expected(GENS, 20, std=2.0, var_shrink=b, var_target=0.5)[1]
                for b in runs}
    return runs, expected


def test_no_colour_typed_outside_the_palette():
    assert not re.search(r"#[0-9a-fA-F]{6}", inspect.getsource(figures))


def test_estimator_chart_spec():
    spec = figures.estimator_chart(fa.estimator_frame(10, 5, n_chains=100, seed=0)).to_dict()
    closed, points, median = spec["layer"]
    assert closed["encoding"]["y"]["scale"]["type"] == "log"
    assert closed["encoding"]["color"]["scale"]["range"] == [
        style.PALETTE["simulation"], style.PALETTE["highlight"]]
    assert points["mark"]["type"] == "point" and median["mark"]["strokeDash"] == [5, 4]


def test_shrinkage_chart_is_a_theory_band_on_a_menu(shrinkage):
    runs, expected = shrinkage
    spec = figures.shrinkage_chart(runs, expected, b=0.1).to_dict()
    (param,) = spec["params"]
    assert param["value"] == 0.1 and param["bind"]["options"] == [0.0, 0.1]
    band, target = spec["layer"]
    area, lines = band["layer"]
    assert area["mark"]["type"] == "area" and lines["encoding"]["color"]["title"] == \
        style.BAND_TEXT
    assert target["mark"]["color"] == style.PALETTE["highlight"]
    # Every layer shows only the picked b.
    assert sum(f"{param['name']}" in f for f in filters(spec)) == 3
    data = [r for r in rows(spec) if r["b"] == 0.1]
    assert len(data) == 6 and all(r["target"] == 0.5 for r in data)
    assert all(r["lo"] <= r["mean"] * (1 + 1e-4) and r["mean"] <= r["hi"] * (1 + 1e-4)
               for r in data)
    np.testing.assert_allclose([r["closed"] for r in data], expected[0.1], rtol=1e-4)


def test_sampling_chart_spec():
    runs = {p: fa.sampling_chain(5, 20, top_p=p, n_chains=30, seed=1) for p in (0.9, 0.99)}
    expected = {p: fa.truncated_variance_factor(p) ** GENS for p in runs}
    spec = figures.sampling_chart(runs, expected, top_p=0.99).to_dict()
    assert spec["params"][0]["value"] == 0.99
    area, lines = spec["layer"]
    assert area["encoding"]["y"]["scale"]["type"] == "log"
    assert len(rows(spec)) == 2 * 6


def test_gradient_chart_spec():
    exact = {k: fa.gradient_chain(5, None, mean=3.0, std=2.0, steps=k) for k in (5, 10)}
    sampled = {k: fa.gradient_chain(5, 40, mean=3.0, std=2.0, steps=k, n_chains=20, seed=2)
               for k in exact}
    spec = figures.gradient_chart(exact, sampled, steps=10).to_dict()
    assert spec["params"][0]["value"] == 10
    top, bottom = spec["vconcat"]
    assert top["layer"][0]["encoding"]["y"]["title"] == "fitted mean μₙ"
    assert top["layer"][1]["encoding"]["color"]["scale"]["domain"] == [
        "infinite data", "M = 40: median"]
    data = [r for r in rows(spec) if r["steps"] == 10]
    assert {r["closed"] for r in data if r["n"] == 0} == {3.0, 2.0}


def test_cascade_chart_spec():
    runs = fa.cascade(n_generations=4, sample_size=10, n_chains=8, seed=3)
    spec = figures.cascade_chart(runs, on=("statistical", "sampling")).to_dict()
    params = {p["name"]: p["value"] for p in spec["params"]}
    assert params == {"cascade_statistical": True, "cascade_expressivity": False,
                      "cascade_learning": False, "cascade_sampling": True}
    others, band, line = spec["vconcat"][0]["layer"]
    assert others["mark"]["color"] == style.PALETTE["muted"]
    assert line["mark"]["color"] == style.PALETTE["highlight"]
    assert style.BAND_TEXT in title_text(spec["title"])
    assert len(rows(spec)) == 16 * 5


@pytest.mark.parametrize("call, message", [
    (lambda s: figures.shrinkage_chart(s[0], s[1], b=0.5), "^b must be one of the runs'"),
    (lambda s: figures.shrinkage_chart({}, {}, b=0.0), "^runs must be a non-empty dict"),
    (lambda s: figures.shrinkage_chart(s[0], {0.0: GENS}, b=0.0),
     "^expected must have one closed form per run"),
    (lambda s: figures.cascade_chart({}, on=("luck",)), "^on must be one of"),
])
def test_bad_arguments_raise(shrinkage, call, message):
    with pytest.raises(ValueError, match=message):
        call(shrinkage)
