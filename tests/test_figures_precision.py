"""Tests for collapse_utils.figures.precision: the charts draw the science's numbers, describe
themselves, and take only runs by format."""

import numpy as np
import pytest

from collapse_utils import gmm, precision
from collapse_utils.figures import precision as figures
from tests.specs import rows


@pytest.fixture(scope="module")
def gaussian_runs():
    return precision.gaussian_chains(100, 200, n_chains=300, seed=0)


@pytest.fixture(scope="module")
def gmm_runs():
    return {f: gmm.recursive_gmm(12, sample_size=100, keep=(), precision=f, seed=0,
                                 progress=False) for f in ("float64", "float16", "bfloat16")}


def test_gaussian_gap_chart_draws_rms_band_and_closed_form(gaussian_runs):
    spec = figures.gaussian_gap_chart(gaussian_runs).to_dict()
    assert len(spec["hconcat"]) == 3 and "square root" in spec["description"]
    titles = [panel["title"] for panel in spec["hconcat"]]
    assert titles == ["float32 (24 significant bits)", "bfloat16 (8 significant bits)",
                      "float16 (11 significant bits)"]
    gap = np.abs(precision.log_std_gap(gaussian_runs["bfloat16"], gaussian_runs["float64"]))
    closed = np.sqrt(precision.expected_squared_log_gap(100, 200, "bfloat16"))
    drawn = [r for r in rows(spec) if r["generation"] == 100]
    # One row per panel at n = 100; the bfloat16 panel's is the one near its closed form.
    bf16 = min(drawn, key=lambda r: abs(np.log(r["closed"] / closed[100])))
    assert bf16["closed"] == pytest.approx(closed[100], rel=1e-4)
    assert bf16["mean"] == pytest.approx(np.sqrt((gap[100] ** 2).mean()), rel=1e-4)
    assert bf16["lo"] <= bf16["mean"] <= bf16["hi"]
    assert min(r["generation"] for r in rows(spec)) == 1  # a log axis: generation 0 left off


def test_gmm_gap_chart_draws_the_gap_and_the_square_root_reference(gmm_runs):
    spec = figures.gmm_gap_chart(gmm_runs).to_dict()
    assert "square root" in spec["description"]
    data = rows(spec)
    assert {r["format"] for r in data} == {"float16", "bfloat16"}
    gap = gmm.relative_l2_gap(gmm_runs["bfloat16"], gmm_runs["float64"])[:, 0]
    at = {r["generation"]: r for r in data if r["format"] == "bfloat16"}
    assert at[12]["gap"] == pytest.approx(gap[12], rel=1e-4)
    assert at[4]["added"] == pytest.approx(gap[1] * 2, rel=1e-4)


@pytest.mark.parametrize("chart", [figures.gaussian_gap_chart, figures.gmm_gap_chart])
def test_charts_need_the_reference_and_another_format(chart, gaussian_runs):
    with pytest.raises(ValueError, match="runs must map formats to Chains, with 'float64'"):
        chart({"float64": gaussian_runs["float64"]})
    with pytest.raises(ValueError, match="runs must map formats to Chains"):
        chart("float16")
