"""Tests for collapse_utils.figures.breeds: the chart specs built from a few short runs."""

import numpy as np
import pandas as pd
import pytest

from collapse_utils import breeds, discrete, remedies
from collapse_utils.figures import breeds as figures
from collapse_utils.figures import style
from collapse_utils.figures.remedies import REGIME_COLOURS
from tests.specs import rows, title_text


@pytest.fixture(scope="module")
def runs():
    return discrete.resample(breeds.breed_distribution(), 20, 10, n_chains=4, seed=1)


def test_shares_chart_has_a_generation_slider_and_ticks_at_the_truth(runs):
    spec = figures.shares_chart(runs, chain=2).to_dict()
    assert spec["params"][0]["bind"]["input"] == "range"
    assert spec["params"][0]["bind"]["max"] == 10
    bars, ticks = spec["layer"]
    assert bars["mark"]["type"] == "bar" and ticks["mark"]["type"] == "tick"
    assert "M = 20" in title_text(spec["title"])
    shares = [r for r in rows(spec) if "share" in r]
    assert len(shares) == np.count_nonzero(runs.probs[:, 2])
    start = [r["start"] for r in rows(spec) if "start" in r]
    np.testing.assert_allclose(start, breeds.breed_distribution(), rtol=1e-4)


def test_summary_chart_draws_medians_and_the_shared_band(runs):
    summary = pd.concat([breeds.collapse_summary(runs).assign(M=m) for m in (20, 50)])
    spec = figures.summary_chart(summary).to_dict()
    assert spec["params"][0]["name"] == "M" and spec["params"][0]["bind"]["options"] == [20, 50]
    assert len(spec["vconcat"]) == 3
    for panel in spec["vconcat"]:
        area, line = panel["layer"]
        assert area["mark"]["type"] == "area"
        assert line["encoding"]["color"]["title"] == style.BAND_TEXT
        assert line["encoding"]["color"]["scale"]["domain"] == ["median of the runs"]
    data = [r for r in rows(spec) if r["M"] == 20]
    left = breeds.collapse_summary(runs).pivot(index="generation", columns="chain",
                                               values="breeds_left")
    np.testing.assert_allclose([r["breeds_left_median"] for r in data], left.median(axis=1))
    np.testing.assert_allclose([r["breeds_left_lo"] for r in data],
                               np.quantile(left, style.BAND[0], axis=1), rtol=1e-4)


def test_regimes_survival_chart_uses_the_regime_colours():
    probs = breeds.breed_distribution()
    summary = pd.concat([
        breeds.collapse_summary(remedies.categorical_regime(probs, r, 5, 30, seed=0)).assign(
            regime=r) for r in ("replace", "accumulate")])
    spec = figures.regimes_survival_chart(summary).to_dict()
    scale = spec["hconcat"][0]["encoding"]["color"]["scale"]
    assert scale["domain"] == ["replace", "accumulate"]
    assert scale["range"] == [REGIME_COLOURS["replace"], REGIME_COLOURS["accumulate"]]


@pytest.mark.parametrize("call, message", [
    (lambda r: figures.shares_chart("runs"), "^chains must be Chains"),
    (lambda r: figures.summary_chart(breeds.collapse_summary(r)), "^summary must be breeds"),
    (lambda r: figures.regimes_survival_chart(breeds.collapse_summary(r).assign(M=20)),
     "^summary must be breeds.collapse_summary's table with a 'regime' column"),
])
def test_bad_arguments_raise(runs, call, message):
    with pytest.raises(ValueError, match=message):
        call(runs)


def test_samplers_chart_draws_one_line_per_sampler_in_three_panels():
    p = breeds.breed_distribution()
    runs = {name: discrete.resample(p, 20, 15, n_chains=6, seed=2, **kw)
            for name, kw in {"pure": {}, "T = 0.5": {"temperature": 0.5}}.items()}
    summary = pd.concat([breeds.collapse_summary(r).assign(sampler=n) for n, r in runs.items()])
    spec = figures.samplers_chart(summary).to_dict()
    assert spec["description"].endswith(".") and len(spec["vconcat"]) == 3
    for panel in spec["vconcat"]:
        assert panel["mark"]["type"] == "line"
        assert panel["encoding"]["color"]["scale"]["domain"] == ["pure", "T = 0.5"]
        assert panel["encoding"]["x"]["scale"]["type"] == "log"
    data = [r for r in rows(spec) if r["sampler"] == "T = 0.5"]
    assert [r["generation"] for r in data] == list(range(1, 16))
    probs = runs["T = 0.5"].probs
    np.testing.assert_allclose([r["first_share"] for r in data], probs[1:, :, 0].mean(axis=1),
                               rtol=1e-4)
    np.testing.assert_allclose([r["first_won"] for r in data], (probs[1:, :, 0] == 1).mean(axis=1),
                               rtol=1e-4)
    np.testing.assert_allclose([r["breeds_left"] for r in data],
                               np.median((probs[1:] > 0).sum(axis=-1), axis=1))


def test_samplers_chart_needs_a_sampler_column(runs):
    with pytest.raises(ValueError, match="^summary must be breeds.collapse_summary's table with "
                                         "a 'sampler' column"):
        figures.samplers_chart(breeds.collapse_summary(runs))
