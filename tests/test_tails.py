"""Zipf tails (chapter 8): the memorising model's exact error and the time a word survives,
against simulation (within 4 standard errors) and against exact small cases."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collapse_utils import breeds, discrete, tails


def test_zipf_is_the_breeds_law_with_more_types():
    np.testing.assert_allclose(tails.zipf(20, 1.2), breeds.breed_distribution(20, 1.2))
    p = tails.zipf(1000, 2.0)
    assert np.isclose(p.sum(), 1) and np.all(np.diff(p) < 0)


def test_memorization_error_exact_small_cases():
    p = np.array([0.5, 0.3, 0.2])
    # No draw: nothing seen. One draw: the error is sum p_i (1 - p_i).
    assert tails.memorization_error(p, 0) == pytest.approx(1.0)
    assert tails.memorization_error(p, 1) == pytest.approx(1 - p @ p)
    # Cut at k = 1: the single kept word is always seen; the rest never.
    assert tails.memorization_error(p, 5, cutoff=1) == pytest.approx(0.5)
    assert tails.tail_mass(p, 1) == pytest.approx(0.5) and tails.tail_mass(p, None) == 0
    out = tails.memorization_error(p, np.array([0, 1, 2]), cutoff=2)
    q = p[:2] / 0.8
    np.testing.assert_allclose(out, [1.0, p[:2] @ (1 - q) + 0.2, p[:2] @ (1 - q) ** 2 + 0.2])


@pytest.mark.parametrize("cutoff", [None, 50, 5])
def test_memorization_error_matches_simulation(cutoff):
    p = tails.zipf(2000, 1.5)
    sizes = np.array([10, 100, 1000])
    sim = tails.simulate_memorization(p, sizes, cutoff, n_runs=3000, seed=1)
    exact = tails.memorization_error(p, sizes, cutoff)
    for j in range(sizes.size):
        se = sim[j].std(ddof=1) / np.sqrt(sim.shape[1])
        assert abs(sim[j].mean() - exact[j]) <= 4 * se + 1e-12, (sizes[j], sim[j].mean(), exact[j])


def test_the_cut_error_falls_to_the_tail_mass_and_the_uncut_follows_the_power_law():
    p = tails.zipf(100_000, 2.0)
    big = tails.memorization_error(p, 10**8, cutoff=100)
    assert big == pytest.approx(tails.tail_mass(p, 100), rel=1e-9)
    t = np.array([10**3, 10**4])
    err = tails.memorization_error(p, t)
    slope = np.diff(np.log(err)) / np.diff(np.log(t))
    assert abs(slope[0] + (1 - 1 / 2.0)) < 0.02


def test_scaling_table_columns_and_simulated_means():
    p = tails.zipf(500, 2.0)
    table = tails.scaling_table(p, [10, 100], [None, 20], n_runs=200, seed=0)
    assert list(table.columns) == ["cutoff", "n_samples", "exact", "simulated", "simulated_se",
                                   "tail_mass"]
    assert set(table.cutoff) == {0, 20} and len(table) == 4
    assert (np.abs(table.simulated - table.exact) <= 4 * table.simulated_se + 1e-12).all()


def test_loss_time_given_loss_matches_a_direct_computation():
    # For M = 3 from count 1: the conditioned chain goes 1 -> 0 or 1 -> 1 or 1 -> 2.
    m = 3
    p = discrete.transition_matrix(m)
    h = np.array([1, 2 / 3, 1 / 3, 0])
    q = p[1:3, 1:3] * h[1:3][None, :] / h[1:3][:, None]
    t = np.linalg.solve(np.eye(2) - q, np.ones(2))
    np.testing.assert_allclose(tails.loss_time_given_loss([1, 2], m), t)
    # Conditioned rows sum to one: loss or a transient state.
    np.testing.assert_allclose(q.sum(axis=1) + p[1:3, 0] / h[1:3], 1)


@pytest.mark.parametrize("count", [1, 5, 20])
def test_loss_time_matches_simulation(count):
    times = tails.simulate_loss_times(count, 100, n_chains=4000, seed=count)
    se = times.std(ddof=1) / np.sqrt(times.size)
    assert abs(times.mean() - tails.loss_time_given_loss(count, 100)) <= 4 * se
    # About count/M of the chains take the word over instead.
    share = 1 - times.size / 4000
    assert abs(share - count / 100) <= 4 * np.sqrt(count / 100 * (1 - count / 100) / 4000)


def test_diffusion_approximates_the_exact_time_for_large_m():
    m = 2000
    counts = np.array([20, 100, 400])
    exact = tails.loss_time_given_loss(counts, m)
    np.testing.assert_allclose(tails.diffusion_loss_time(counts / m, m), exact, rtol=0.02)


def test_forgetting_grows_almost_in_proportion_to_the_count():
    counts = np.array([1, 2, 4, 8, 16, 32, 64])
    t = tails.loss_time_given_loss(counts, 1000)
    ratio = t[1:] / t[:-1]
    assert np.all((ratio > 1.6) & (ratio < 2.0)) and np.all(np.diff(ratio) < 0)


def test_forgetting_table():
    table = tails.forgetting_table([1, 4], 40, n_chains=500, seed=0)
    assert list(table.columns) == ["count", "exact", "diffusion", "simulated", "simulated_se",
                                   "lost_share"]
    assert (np.abs(table.simulated - table.exact) <= 4 * table.simulated_se).all()


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 200), beta=st.floats(0.5, 3), t=st.integers(0, 10**6),
       cut=st.integers(1, 200))
def test_error_is_a_probability_and_cutting_never_helps(n, beta, t, cut):
    p = tails.zipf(n, beta)
    cut = min(cut, n)
    full, cut_err = tails.memorization_error(p, t), tails.memorization_error(p, t, cut)
    assert 0 <= full <= 1 + 1e-12 and 0 <= cut_err <= 1 + 1e-12
    assert cut_err >= tails.tail_mass(p, cut) - 1e-12


@pytest.mark.parametrize("call, match", [
    (lambda: tails.zipf(0), "^n_types must be an integer >= 1"),
    (lambda: tails.zipf(5, 0), r"^exponent must be > 0"),
    (lambda: tails.memorization_error([0.5, 0.6], 3), "^probs must sum to 1"),
    (lambda: tails.memorization_error([0.5, 0.5], 3, cutoff=3), r"^cutoff must be an integer in"),
    (lambda: tails.memorization_error([0.5, 0.5], -1), "^n_samples must be an integer >= 0"),
    (lambda: tails.simulate_memorization([1.0], 3, n_runs=0), "^n_runs must be"),
    (lambda: tails.loss_time_given_loss(0, 10), r"^count must be an integer in 1..9"),
    (lambda: tails.loss_time_given_loss(1, 1), "^sample_size must be an integer >= 2"),
    (lambda: tails.diffusion_loss_time(0.0, 10), r"^q must be in \(0, 1\)"),
    (lambda: tails.simulate_loss_times(10, 10), r"^count must be an integer in 1..9"),
])
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_findings_read_their_tables():
    p = tails.zipf(2000, 2.0)
    table = tails.scaling_table(p, [10, 100, 1000, 10_000, 100_000], [None, 5], n_runs=2, seed=0)
    found = tails.scaling_findings(table)
    assert found["largest"] == 100_000 and found["floor_5"] == tails.tail_mass(p, 5)
    assert found["gain_0"] > 1 and abs(found["slope"] + 0.5) < 0.05
    assert found["gain_5"] == pytest.approx(1.0, abs=1e-6)
    with pytest.raises(ValueError, match="^table must be a tails.scaling_table with an uncut"):
        tails.scaling_findings(table[table.cutoff > 0])
    forget = tails.forgetting_table([1, 2, 4], 50, n_chains=200, seed=0)
    found = tails.forgetting_findings(forget)
    assert found["first_count"] == 1 and found["last_count"] == 4
    assert found["double_min"] <= found["double_max"]
    with pytest.raises(ValueError, match="^table's counts must double"):
        tails.forgetting_findings(tails.forgetting_table([1, 3], 50, n_chains=20, seed=0))
    with pytest.raises(ValueError, match="^table must be a tails.forgetting_table"):
        tails.forgetting_findings(forget.iloc[:1])
