"""Tests for collapse_utils.statistical_figures: the data behind chapter 2's figures.

The closed-form columns must be exactly the package's closed forms; the Monte Carlo columns must
be what the simulations give (checked against the closed forms within 4 standard errors where
the simulated quantity is light-tailed: small n relative to M); the charts must compile to
Vega-Lite with their sliders and stay under Altair's row limit.
"""

import numpy as np
import pytest
from scipy.special import digamma

from collapse_utils import discrete, gaussian
from collapse_utils.statistical_figures import (
    gaussian_chart,
    gaussian_grid,
    loss_chart,
    loss_grid,
    variance_paths,
    variance_paths_chart,
)

RTOL = 1e-4  # the charts' data keep 5 significant digits


def _params(chart) -> set[str]:
    spec = chart.to_dict()
    names = {p["name"] for p in spec.get("params", [])}
    for key in ("layer", "vconcat"):
        for sub in spec.get(key, []):
            names |= {p["name"] for p in sub.get("params", [])}
    return names


# ----------------------------------------------------------------------------------- loss_grid


@pytest.fixture(scope="module")
def loss():
    return loss_grid(0.2, [5, 10, 20], n_generations=30, n_chains=4000, seed=0)


def test_loss_grid_shape_and_closed_forms(loss):
    assert len(loss) == 3 * 31
    assert list(loss.columns) == ["M", "n", "lost", "absorbed", "lost_mc", "absorbed_mc",
                                  "lost_se", "absorbed_se"]
    for m in [5, 10, 20]:
        rows = loss[loss.M == m]
        gens = rows.n.to_numpy()
        np.testing.assert_allclose(rows.lost, discrete.prob_lost_by(m // 5, m, gens), rtol=RTOL)
        np.testing.assert_allclose(rows.absorbed, discrete.prob_absorbed_by(m // 5, m, gens),
                                   rtol=RTOL)


def test_loss_grid_simulation_matches_exact(loss):
    # Binomial fractions: 4 standard errors of the exact probability.
    for col in ["lost", "absorbed"]:
        p = loss[col].to_numpy()
        se = np.sqrt(p * (1 - p) / 4000)
        assert np.all(np.abs(loss[f"{col}_mc"] - p) <= 4 * se + 1e-12)
    assert (loss.absorbed_mc >= loss.lost_mc).all()
    assert (loss[loss.n == 0][["lost_mc", "absorbed_mc"]] == 0).all().all()


def test_loss_grid_is_reproducible():
    a = loss_grid(0.5, [4, 6], 10, 50, seed=3)
    b = loss_grid(0.5, [4, 6], 10, 50, seed=3)
    assert a.equals(b)


@pytest.mark.parametrize("kwargs, match", [
    ({"frequency": 0.0}, "frequency must be in"),
    ({"frequency": 0.3}, "frequency \\* M must be an integer"),
    ({"sample_sizes": []}, "sample_sizes must be a non-empty"),
    ({"sample_sizes": 10}, "sample_sizes must be a non-empty"),
    ({"n_generations": -1}, "n_generations must be"),
    ({"n_chains": 1}, "n_chains must be"),
])
def test_loss_grid_rejects_bad_arguments(kwargs, match):
    args = {"frequency": 0.2, "sample_sizes": [5, 10], "n_generations": 5, "n_chains": 10}
    with pytest.raises(ValueError, match=match):
        loss_grid(**{**args, **kwargs})


def test_loss_chart_has_sliders(loss):
    chart = loss_chart(loss, 0.2, M=10, n=5)
    assert {"M_loss", "n_loss"} <= _params(chart)


# ------------------------------------------------------------------------------- gaussian_grid


@pytest.fixture(scope="module")
def grid():
    return gaussian_grid([20, 40], n_generations=10, n_chains=20_000, seed=1)


def test_gaussian_grid_closed_forms(grid):
    assert len(grid) == 2 * 2 * 11
    for (m, est), rows in grid.groupby(["M", "estimator"]):
        gens = rows.n.to_numpy()
        np.testing.assert_allclose(rows["std"], gaussian.expected_std(gens, m, estimator=est),
                                   rtol=RTOL)
        np.testing.assert_allclose(rows["w2"],
                                   gaussian.expected_w2_squared(gens, m, estimator=est),
                                   rtol=RTOL)


def test_gaussian_grid_monte_carlo_columns(grid):
    # n <= M / 2: sigma_n is light-tailed; its exact variance is E[sigma_n^2] - E[sigma_n]^2.
    for (m, est), rows in grid.groupby(["M", "estimator"]):
        gens = rows.n.to_numpy()
        var = (gaussian.expected_variance(gens, m, estimator=est)
               - gaussian.expected_std(gens, m, estimator=est) ** 2)
        se = np.sqrt(np.clip(var, 0, None) / 20_000)
        assert np.all(np.abs(rows.std_mc - rows["std"]) <= 4 * se + 1e-4), (m, est)
    assert (grid.std_lo <= grid.std_hi).all() and (grid.w2_lo <= grid.w2_median).all()
    assert (grid.w2_median <= grid.w2_hi).all()
    start = grid[grid.n == 0]
    assert (start[["std", "std_mc", "std_lo", "std_hi"]] == 1).all().all()
    assert (start[["w2", "w2_mc", "w2_lo", "w2_hi", "w2_median"]] == 0).all().all()


def test_gaussian_grid_rejects_bad_arguments():
    with pytest.raises(ValueError, match="sample_sizes must"):
        gaussian_grid([1, 5], 5, 10)
    with pytest.raises(ValueError, match="estimators must be one of"):
        gaussian_grid([5], 5, 10, estimators=["median"])
    with pytest.raises(ValueError, match="estimators must be a non-empty"):
        gaussian_grid([5], 5, 10, estimators="mle")


def test_gaussian_chart_sliders_and_static(grid):
    assert {"M_gauss", "n_gauss", "estimator_gauss"} <= _params(
        gaussian_chart(grid, M=20, n=5))
    one = grid[(grid.M == 20) & (grid.estimator == "mle")]
    assert _params(gaussian_chart(one, sliders=False)) == set()
    with pytest.raises(ValueError, match="single \\(M, estimator\\)"):
        gaussian_chart(grid, sliders=False)


# ------------------------------------------------------------------------------ variance_paths


@pytest.mark.parametrize("estimator", ["unbiased", "mle"])
def test_variance_paths(estimator):
    paths, summary = variance_paths(10, 20, n_chains=20_000, n_paths=3, estimator=estimator,
                                    seed=2)
    assert len(paths) == 3 * 21 and set(paths.chain) == {0, 1, 2}
    gens = summary.n.to_numpy()
    np.testing.assert_allclose(summary.closed_mean,
                               gaussian.expected_variance(gens, 10, estimator=estimator))
    divisor = 9 if estimator == "unbiased" else 10
    np.testing.assert_allclose(summary.typical, np.exp(gens * (digamma(4.5) + np.log(2 / divisor))))
    # Light tail up to n = 5 at M = 10: the mean of 20 000 chains is within 4 SE.
    again = gaussian.simulate(5, 10, estimator=estimator, n_chains=20_000, seed=2).variances
    se = again.std(axis=1, ddof=1) / np.sqrt(20_000)
    assert np.all(np.abs(summary.mc_mean[:6] - summary.closed_mean[:6]) <= 4 * se + 1e-12)
    # The median tracks the almost-sure rate exp(n E[log S]) within a factor 2 by n = 20.
    ratio = summary.mc_median.to_numpy()[1:] / summary.typical.to_numpy()[1:]
    assert np.all((ratio > 0.5) & (ratio < 2))


def test_variance_paths_rejects_bad_arguments():
    with pytest.raises(ValueError, match="n_paths must be"):
        variance_paths(10, 5, n_chains=5, n_paths=6)
    with pytest.raises(ValueError, match="M must be"):
        variance_paths(1, 5, n_chains=5, n_paths=1)


def test_variance_paths_chart_thins_long_runs():
    spec = variance_paths_chart(M=20, n_generations=1000, n_chains=100, n_paths=15, seed=0)
    rows = max(len(v) for v in spec.to_dict()["datasets"].values())
    assert rows <= 5000
