"""Tests for collapse_utils.figures.self_consuming: the quality-diversity and retraining charts
draw the chains of collapse_utils.self_consuming with their exact expectations."""

import numpy as np
import pytest

from collapse_utils import self_consuming as sc
from collapse_utils.figures import self_consuming as figures
from tests.specs import rows


def test_quality_diversity_chart_carries_exact_and_simulated_values():
    runs = {"fully synthetic": sc.mad_loop(5, 0, 20, 0.9, n_chains=30, seed=0),
            "fresh data": sc.mad_loop(5, 4, 16, 1.0, n_chains=30, seed=1)}
    spec = figures.quality_diversity_chart(runs).to_dict()
    data = rows(spec)
    assert len(data) == 2 * 2 * 6
    div = [r for r in data if r["loop"] == "fully synthetic" and r["quantity"] == "diversity"]
    var, drift = sc.mad_moments(5, 0, 20, 0.9)
    np.testing.assert_allclose([r["exact"] for r in div],
                               sc.quality_diversity(var, drift, 0.9).diversity, rtol=1e-4)
    chains = runs["fully synthetic"]
    np.testing.assert_allclose([r["simulated"] for r in div][1:],
                               0.81 * (chains.stds[1:] ** 2).mean(axis=1), rtol=1e-4)
    assert spec["description"].startswith("Two panels against generation")


def test_retrain_chart_has_one_colour_per_ratio_and_a_log_panel():
    runs = {lam: sc.retrain_loop(5, 10, lam, 3.0, n_chains=20, seed=0) for lam in (0.5, 2.0)}
    spec = figures.retrain_chart(runs).to_dict()
    assert {r["loop"] for r in rows(spec)} == {"λ = 0.5", "λ = 2"}
    mean = [r for r in rows(spec) if r["loop"] == "λ = 2" and r["quantity"] == "mean"]
    start = float(np.mean(3.0 - runs[2.0].info["real_means"]))
    np.testing.assert_allclose([r["exact"] for r in mean], start * (2 / 3) ** np.arange(6),
                               rtol=1e-4)
    right = spec["hconcat"][1]["layer"][0]["encoding"]["y"]
    assert right["scale"]["type"] == "log"


def test_bad_runs_are_refused():
    mad = {"a": sc.mad_loop(2, 0, 5, n_chains=2, seed=0)}
    with pytest.raises(ValueError, match="^runs must map up to 5 labels to Chains from "
                                         "self_consuming.retrain_loop"):
        figures.retrain_chart(mad)
    with pytest.raises(ValueError, match="self_consuming.mad_loop"):
        figures.quality_diversity_chart({})
