"""Data regimes against their exact expected moments (chapter 7).

Monte Carlo means are compared with the exact expectations within 4 standard
errors: with a dozen such comparisons, a correct formula fails by chance with
probability about 1e-3 (and the seeds are fixed, so the run is deterministic).
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collapse_utils import remedies
from collapse_utils.chains import Chains

CHAINS = 40_000


def _close(samples, exact):
    se = samples.std(ddof=1) / np.sqrt(samples.size)
    assert abs(samples.mean() - exact) <= 4 * se + 1e-12, (samples.mean(), exact, se)


@pytest.mark.parametrize("regime", ["replace", "keep_real", "accumulate"])
@pytest.mark.parametrize("m, gamma", [(10, 0.1), (25, 0.4)])
def test_expected_moments_match_simulation(regime, m, gamma):
    n = 12
    chains = remedies.gaussian_regime(regime, n, m, gamma, mean=1.0, std=2.0,
                                      n_chains=CHAINS, seed=m)
    var, drift = remedies.expected_moments(regime, n, m, gamma, std=2.0)
    assert isinstance(chains, Chains) and chains.info["regime"] == regime
    for g in (1, 2, 6, n):
        _close(chains.stds[g] ** 2, var[g])
        _close((chains.means[g] - 1.0) ** 2, drift[g])


def test_subsample_regime_by_explicit_samples_agrees_in_mean():
    # Generation 1 of every regime is the same fit to M real samples.
    sub = remedies.gaussian_regime("accumulate_subsample", 3, 8, n_chains=5000, seed=1)
    _close(sub.stds[1] ** 2, 1.0)
    _close(sub.means[1] ** 2, 1 / 8)
    assert sub.info["method"] == "samples" and sub.means.shape == sub.stds.shape == (4, 5000)


def test_closed_forms_exact_cases():
    var, drift = remedies.expected_moments("replace", 50, 20)
    assert np.allclose(var, 1.0) and np.allclose(drift[1:], np.arange(1, 51) / 20)
    var, drift = remedies.expected_moments("keep_real", 30, 20, real_fraction=1.0)
    assert np.allclose(var, 1.0) and np.allclose(drift[1:], 1 / 20)
    # Accumulating keeps the drift below (pi^2/6) sigma_0^2 / M for ever.
    var, drift = remedies.expected_moments("accumulate", 5000, 10, std=3.0)
    assert drift[-1] < np.pi**2 / 6 * 9 / 10 and drift[-1] > drift[-2]
    assert var[-1] > 0.9 * 9 and np.all(np.diff(var) <= 0)


@pytest.mark.parametrize("m, gamma", [(10, 0.1), (20, 0.2), (100, 0.5)])
def test_keep_real_converges_to_its_fixed_point(m, gamma):
    var, drift = remedies.expected_moments("keep_real", 2000, m, gamma, std=1.5)
    fixed = remedies.stationary_moments(m, gamma, std=1.5)
    assert np.allclose((var[-1], drift[-1]), fixed, rtol=1e-9)


@pytest.mark.parametrize("call, match", [
    (lambda: remedies.gaussian_regime("recycle", 3, 10), "regime must be one of"),
    (lambda: remedies.gaussian_regime("keep_real", 3, 10, 1.5), r"real_fraction must be in \[0, 1"),
    (lambda: remedies.gaussian_regime("replace", 3, 1), "sample_size"),
    (lambda: remedies.gaussian_regime("replace", 3, 10, std=-1), "std"),
    (lambda: remedies.expected_moments("accumulate_subsample", 3, 10), "regime"),
    (lambda: remedies.stationary_moments(10, 0.01), "at least one real sample"),
    (lambda: remedies.categorical_regime([0.5, 0.6], "replace", 3, 10), "probs"),
    (lambda: remedies.categorical_regime([0.5, 0.5], "keep_real", 3, 10, -0.1), "real_fraction"),
])
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@settings(max_examples=30, deadline=None)
@given(regime=st.sampled_from(remedies.REGIMES), m=st.integers(1, 40),
       gamma=st.floats(0, 1), seed=st.integers(0, 1000))
def test_categorical_regimes_stay_on_the_simplex(regime, m, gamma, seed):
    p = np.array([0.6, 0.25, 0.1, 0.05])
    chains = remedies.categorical_regime(p, regime, 15, m, gamma, n_chains=3, seed=seed)
    dists = chains.probs
    assert dists.shape == (16, 3, 4) and np.array_equal(dists[0], np.tile(p, (3, 1)))
    assert np.allclose(dists.sum(axis=-1), 1) and (dists >= 0).all()
    if regime == "replace":
        # Lost categories never come back without real data.
        lost = dists == 0
        assert not (lost[:-1] & ~lost[1:]).any()


def test_real_data_brings_categories_back():
    p = np.full(10, 0.1)
    keep = remedies.categorical_regime(p, "keep_real", 400, 20, 0.5, n_chains=20, seed=0).probs
    replace = remedies.categorical_regime(p, "replace", 400, 20, n_chains=20, seed=0).probs
    assert (replace[-1] > 0).sum(axis=-1).max() == 1  # fixed to one category
    assert (keep[-1] > 0).sum(axis=-1).min() >= 5


def test_regime_table():
    table = remedies.regime_table(5, 10, fractions=(0.1, 0.2), n_chains=50, seed=0)
    assert set(table.regime) == set(remedies.REGIMES)
    assert sorted(table[table.regime == "keep_real"].gamma_pct.unique()) == [10, 20]
    exact = table.query("regime == 'accumulate' and quantity == 'variance'").exact.to_numpy()
    assert np.allclose(exact, remedies.expected_moments("accumulate", 5, 10)[0])
    assert table.query("regime == 'accumulate_subsample'").exact.isna().all()
    again = remedies.regime_table(5, 10, fractions=(0.1, 0.2), n_chains=50, seed=0)
    assert table.equals(again)
