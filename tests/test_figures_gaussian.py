"""Tests for collapse_utils.figures.gaussian: the chart specs (layers, sliders, legends naming the
band, the data each chart carries), built from small runs of collapse_utils.gaussian."""

import numpy as np
import pytest

from collapse_utils import gaussian
from collapse_utils.chains import Chains
from collapse_utils.figures import gaussian as figures
from collapse_utils.figures import style
from tests.specs import legends, params, rows, title_text


@pytest.fixture(scope="module")
def grid():
    rng = np.random.default_rng(0)
    return {(m, est): gaussian.simulate(8, m, estimator=est, n_chains=40, seed=rng)
            for m in (5, 10) for est in gaussian.ESTIMATORS}


def test_moments_chart_has_sliders_and_the_band_in_both_panels(grid):
    spec = figures.moments_chart(grid, M=10, n=3).to_dict()
    assert params(spec) == {"M_gauss", "n_gauss", "estimator_gauss"}
    assert legends(spec).count(style.BAND_TEXT) == 2  # one legend per panel
    data = [r for r in rows(spec) if "std_closed" in r]
    assert len(data) == 4 * 9
    one = [r for r in data if r["M"] == 10 and r["estimator"] == "mle"]
    run = grid[(10, "mle")]
    np.testing.assert_allclose([r["std_closed"] for r in one],
                               gaussian.expected_std(np.arange(9), 10, estimator="mle"), rtol=1e-4)
    np.testing.assert_allclose([r["std_mean"] for r in one], run.stds.mean(axis=1), rtol=1e-4)
    w2 = gaussian.w2_squared_to_start(run)
    np.testing.assert_allclose([r["w2_hi"] for r in one],
                               np.quantile(w2, style.BAND[1], axis=1), rtol=1e-4)
    with pytest.raises(ValueError, match="^M must be an integer in 5..10"):
        figures.moments_chart(grid, M=20)
    with pytest.raises(ValueError, match="^estimator must be one of"):
        figures.moments_chart(grid, estimator="median")


def test_moments_chart_of_one_run_is_static(grid):
    spec = figures.moments_chart({(5, "mle"): grid[(5, "mle")]}).to_dict()
    assert params(spec) == set()
    # The log panel leaves out generation 0, where W2^2 is 0.
    lower = spec["vconcat"][1]
    assert title_text(lower["title"]).startswith("Squared W₂ distance")


def test_variance_paths_chart_thins_long_runs_and_names_its_curves():
    paths, summary = gaussian.variance_paths(20, 1000, n_chains=100, n_paths=15, seed=0)
    spec = figures.variance_paths_chart(paths, summary).to_dict()
    assert max(len(v) for v in spec["datasets"].values()) <= 4000
    names = set()
    for layer in spec["layer"][1:]:
        names |= set(layer["encoding"]["color"]["scale"]["domain"])
    assert names == {"E[σₙ²], closed form", "exp(n E[log S]), closed form",
                     "mean of 100 chains", "median of 100 chains"}
    assert "M = 20" in title_text(spec["title"])
    with pytest.raises(ValueError, match="^summary must be the summary"):
        figures.variance_paths_chart(paths, summary.drop(columns="typical"))


def test_explorer_chart_stacks_the_paths_on_the_moments():
    paths, summary = gaussian.variance_paths(10, 20, n_chains=50, n_paths=3, seed=0)
    run = gaussian.simulate(20, 10, n_chains=50, seed=1)
    spec = figures.explorer_chart(paths, summary, {(10, "unbiased"): run}).to_dict()
    assert len(spec["vconcat"]) == 2 and "config" in spec


def test_logdet_chart_sets_the_closed_form_beside_the_band():
    cov = np.array([[1.0, 0.3], [0.3, 2.0]])
    run = gaussian.simulate(6, 8, cov=cov, n_chains=30, seed=2)
    spec = figures.logdet_chart(run).to_dict()
    assert legends(spec).count(style.BAND_TEXT) == 1
    data = rows(spec)
    np.testing.assert_allclose([r["closed"] for r in data],
                               gaussian.expected_log_det(np.arange(7), 8, cov), rtol=1e-4)
    np.testing.assert_allclose([r["lo"] for r in data], np.quantile(
        gaussian.log_determinants(run), style.BAND[0], axis=1), rtol=1e-4)
    assert "d = 2" in title_text(spec["title"]) and "M = 8" in title_text(spec["title"])


def test_schedules_chart_draws_a_closed_form_and_a_band_per_schedule():
    schedules = {"constant": np.full(50, 10), "linear": 10 * np.arange(1, 51)}
    runs = {k: gaussian.simulate(5, v[:5], n_chains=30, seed=3) for k, v in schedules.items()}
    spec = figures.schedules_chart(runs, schedules).to_dict()
    band, mean, closed = spec["layer"]
    assert band["mark"]["type"] == "area" and closed["mark"]["strokeDash"] == [6, 3]
    assert style.BAND_TEXT in title_text(spec["title"])
    sim = [r for r in rows(spec) if "lo" in r]
    assert len(sim) == 2 * 5 and min(r["n"] for r in sim) == 1
    lines = [r for r in rows(spec) if "closed" in r and r["schedule"] == "linear"]
    n = np.array([r["n"] for r in lines])
    assert n.max() == 50
    np.testing.assert_allclose([r["closed"] for r in lines],
                               gaussian.expected_w2_squared(n, schedules["linear"]), rtol=1e-4)
    with pytest.raises(ValueError, match="^runs and schedules must be dicts with the same"):
        figures.schedules_chart(runs, {"constant": schedules["constant"]})


@pytest.mark.parametrize("call, message", [
    (lambda: figures.moments_chart({}), "^runs must be a non-empty dict"),
    (lambda: figures.moments_chart({(5, "mle"): "run"}), "^runs must hold 1-D Chains"),
    (lambda: figures.moments_chart({5: gaussian.simulate(2, 5, n_chains=2, seed=0)}),
     r"^runs must be keyed by \(M, estimator\)"),
    (lambda: figures.logdet_chart(gaussian.simulate(2, 5, seed=0)), "^chains must be d-dim"),
    (lambda: figures.logdet_chart(Chains({"means": np.zeros((2, 1))})), "^chains must be"),
])
def test_bad_arguments_raise(call, message):
    with pytest.raises(ValueError, match=message):
        call()
