"""Tests for collapse_utils.figures.mixtures: the chart specs (layers, legends, colours, data)."""

import inspect
import re

import numpy as np
import pytest

from collapse_utils import mixtures
from collapse_utils.figures import mixtures as figures
from collapse_utils.figures import style
from tests.specs import rows, title_text

TWO = mixtures.Mixture1D([0.5, 0.5], [-2.0, 2.0], [0.6, 0.6])


@pytest.fixture(scope="module")
def runs():
    return {"perfect information": mixtures.refit_chain(TWO, 4),
            "M = 50": mixtures.refit_chain(TWO, 4, sample_size=50, n_chains=20, seed=0)}


def test_no_colour_typed_outside_the_palette():
    assert not re.search(r"#[0-9a-fA-F]{6}", inspect.getsource(figures))


def test_fit_explorer_chart_spec():
    spec = figures.fit_explorer_chart(separation=3.0, weight=0.3).to_dict()
    assert {p["name"]: p["value"] for p in spec["params"]} == {"sep": 3.0, "w": 0.3, "s": 0.6}
    # Two readout lines, and an invisible point that leaves them room above the curves.
    assert [layer["mark"]["type"] for layer in spec["layer"]] == [
        "area", "area", "line", "text", "text", "point"]
    assert spec["layer"][-1]["mark"]["opacity"] == 0
    assert spec["layer"][0]["mark"]["color"] == style.PALETTE["highlight"]
    assert spec["layer"][2]["encoding"]["color"]["scale"]["range"] == [
        style.PALETTE["truth"], style.PALETTE["fit"]]


def test_density_chart_spec():
    q = mixtures.moment_match(TWO)
    spec = figures.density_chart(TWO, {"q": q}, x_range=(-5, 5), n_points=51).to_dict()
    top, bottom = spec["vconcat"]
    assert top["encoding"]["color"]["scale"]["domain"] == ["truth", "q"]
    assert top["encoding"]["color"]["scale"]["range"][0] == style.PALETTE["truth"]
    assert bottom["encoding"]["y"]["scale"]["type"] == "log"
    data = rows(spec)
    assert len(data) == 2 * 51 and min(r["density"] for r in data) >= 1e-6


def test_chain_chart_has_a_legend_and_a_band_per_run_with_several_chains(runs):
    spec = figures.chain_chart(runs, metric="kl").to_dict()
    bands, lines = spec["layer"]
    # The regression: a band layer with legend=None removed the whole chart's legend.
    for layer in (bands, lines):
        assert layer["encoding"]["color"].get("legend") is not None
        assert layer["encoding"]["color"]["scale"]["domain"] == list(runs)
    assert style.BAND_TEXT in title_text(spec["title"])
    assert "KL" in bands["encoding"]["y"]["title"]
    data = rows(spec)
    assert len(data) == 2 * 5
    single = [r for r in data if r["setting"] == "perfect information"]
    assert all(r["lo"] is None for r in single)
    several = [r for r in data if r["setting"] == "M = 50"]
    assert all(r["lo"] <= r["median"] <= r["hi"] for r in several)


@pytest.mark.parametrize("call, message", [
    (lambda: figures.fit_explorer_chart(weight=2.0), "^weight must be a probability"),
    (lambda: figures.density_chart("p", {}), "^p must be a Mixture1D"),
    (lambda: figures.density_chart(TWO, {"q": 1}), r"^fits\['q'\] must be a Mixture1D"),
    (lambda: figures.chain_chart({}), "^runs must be a non-empty dict"),
    (lambda: figures.chain_chart({"a": mixtures.refit_chain(TWO, 1)}, metric="l2"),
     "^metric must be one of"),
])
def test_bad_arguments_raise(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_chain_chart_medians_are_the_chains(runs):
    spec = figures.chain_chart(runs).to_dict()
    data = [r for r in rows(spec) if r["setting"] == "M = 50"]
    w2 = mixtures.distance_to_truth(runs["M = 50"])
    np.testing.assert_allclose([r["median"] for r in data], np.median(w2, axis=1), rtol=1e-3)
