"""Self-consuming Gaussian loops (chapter 8) against their exact moments (within 4 standard
errors of explicit-sample Monte Carlo) and exact special cases."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collapse_utils import remedies
from collapse_utils import self_consuming as sc

CHAINS = 6000


def _close(samples, exact):
    se = samples.std(ddof=1) / np.sqrt(samples.size)
    assert np.all(np.abs(samples.mean() - exact) <= 4 * se + 1e-12), (samples.mean(), exact, se)


@pytest.mark.parametrize("k, m, tau", [(0, 30, 1.0), (0, 30, 0.8), (6, 24, 0.9), (10, 1, 0.5)])
def test_mad_moments_match_simulation(k, m, tau):
    n = 10
    runs = sc.mad_loop(n, k, m, tau, n_chains=CHAINS, seed=k + m)
    var, drift = sc.mad_moments(n, k, m, tau)
    for g in (1, 2, 5, n):
        _close(runs.stds[g] ** 2, var[g])
        _close(runs.means[g] ** 2, drift[g])


def test_mad_moments_special_cases():
    # Fully synthetic: E sigma^2 shrinks by tau^2 a generation, the drift adds tau^2 E sigma^2/m.
    var, drift = sc.mad_moments(20, 0, 50, 0.9)
    np.testing.assert_allclose(var[1:], 0.81 ** np.arange(20))
    np.testing.assert_allclose(np.diff(drift[1:]), 0.81 * var[1:-1] / 50)
    # With tau = 1 and fresh data the loop is chapter 7's keep_real regime.
    var, drift = sc.mad_moments(30, 4, 16, 1.0)
    ref_var, ref_drift = remedies.expected_moments("keep_real", 30, 20, real_fraction=0.2)
    np.testing.assert_allclose(var, ref_var)
    np.testing.assert_allclose(drift, ref_drift)


def test_quality_and_diversity_from_moments():
    qd = sc.quality_diversity([1.0, 0.5], [0.0, 0.1], scale=0.5)
    assert list(qd.columns) == ["generation", "quality", "diversity"]
    np.testing.assert_allclose(qd.diversity, [1.0, 0.125])
    np.testing.assert_allclose(qd.quality, -0.5 * np.log(2 * np.pi) - 0.5 * np.array([1.0, 0.225]))
    with pytest.raises(ValueError, match="^var and drift must be 1-D arrays of the same length"):
        sc.quality_diversity([1.0, 0.5], [0.0])


@pytest.mark.parametrize("ratio", [0.0, 0.5, 2.0])
def test_retrain_moments_match_simulation_given_the_real_set(ratio):
    n, k = 8, 20
    runs = sc.retrain_loop(n, k, ratio, 2.0, 1.5, n_chains=CHAINS, seed=int(10 * ratio))
    off = runs.means - runs.info["real_means"]
    e, e2, var = sc.retrain_moments(n, k, ratio, off[0], 1.5**2, runs.info["real_stds"] ** 2)
    assert e.shape == (n + 1, CHAINS)
    for g in (1, 2, n):
        # Each chain has its own exact conditional moments: compare the residuals' mean to 0.
        _close(off[g] - e[g], 0.0)
        _close(off[g] ** 2 - e2[g], 0.0)
        _close(runs.stds[g] ** 2 - var[g], 0.0)


def test_retrain_offset_contracts_by_ratio_over_one_plus_ratio():
    e, _, _ = sc.retrain_moments(10, 50, 2.0, 3.0)
    np.testing.assert_allclose(e, 3.0 * (2 / 3) ** np.arange(11))
    e, e2, var = sc.retrain_moments(5, 50, 0.0, 3.0, real_var=2.0)
    np.testing.assert_allclose(e[1:], 0)
    np.testing.assert_allclose(var[1:], 2.0)


def test_findings():
    runs = {"a": sc.mad_loop(4, 0, 10, 0.9, n_chains=50, seed=0)}
    found = sc.mad_findings(runs)
    assert {"a_quality", "a_quality_se", "a_diversity_exact", "quality_truth"} <= set(found)
    runs = {1.0: sc.retrain_loop(4, 10, 1.0, 3.0, n_chains=50, seed=0)}
    found = sc.retrain_findings(runs)
    assert found["factor_1"] == 0.5 and found["halving_1"] == 1.0
    with pytest.raises(ValueError, match="^runs must map labels to Chains from"):
        sc.mad_findings({"b": runs[1.0]})
    with pytest.raises(ValueError, match="^runs must map ratios to Chains from"):
        sc.retrain_findings({"b": sc.mad_loop(2, 0, 5, n_chains=2, seed=0)})


@settings(max_examples=20, deadline=None)
@given(k=st.integers(0, 6), m=st.integers(0, 6), tau=st.floats(0.1, 1),
       seed=st.integers(0, 1000))
def test_loops_shapes_and_generation_zero(k, m, tau, seed):
    if k + m < 2:
        return
    runs = sc.mad_loop(3, k, m, tau, n_chains=4, seed=seed)
    assert runs.means.shape == runs.stds.shape == (4, 4)
    assert (runs.means[0] == 0).all() and (runs.stds[0] == 1).all() and (runs.stds >= 0).all()
    var, drift = sc.mad_moments(3, k, m, tau)
    assert (var > 0).all() and (drift >= 0).all()


@pytest.mark.parametrize("call, match", [
    (lambda: sc.mad_loop(3, 0, 1), r"^n_real \+ n_synthetic must be >= 2"),
    (lambda: sc.mad_loop(3, 0, 10, scale=1.5), r"^scale must be in \(0, 1\]"),
    (lambda: sc.mad_loop(3, -1, 10), "^n_real must be an integer >= 0"),
    (lambda: sc.mad_moments(0, 0, 10), "^n_generations must be an integer >= 1"),
    (lambda: sc.retrain_loop(3, 1, 1.0, 0.0), "^n_real must be an integer >= 2"),
    (lambda: sc.retrain_loop(3, 10, -1.0, 0.0), "^ratio must be a finite number >= 0"),
    (lambda: sc.retrain_loop(3, 10, 1.0, float("nan")), "^start_mean must be a finite"),
    (lambda: sc.retrain_moments(3, 10, 1.0, 0.0, real_var=-1.0), "^real_var must be >= 0"),
])
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()
