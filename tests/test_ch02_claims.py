"""Every claim chapter 2 makes about its runs, checked against those runs (same settings, same
seeds): a change that breaks a sentence of the chapter fails here. Monte Carlo agreement allows
4 standard errors."""

import numpy as np
import pytest

from collapse_utils import discrete, gaussian


def test_every_simulated_absorption_value_lies_near_the_exact_one():
    runs = discrete.absorption_runs(50, n_generations=600, n_chains=2000, seed=20240724)
    table = discrete.absorption_table(runs)
    for key in ("one_step", "eventually", "time"):
        # The binomial SE of a frequency from the exact probability (a rare loss reads 0 / 2000).
        se = table["time_se"] if key == "time" else np.sqrt(table[key] * (1 - table[key]) / 2000)
        assert np.all(np.abs(table[f"{key}_mc"] - table[key]) <= 4 * se + 1e-12), key
    assert discrete.prob_lost_in_one_generation(0.2, 50) < 1e-4  # "essentially never"


def test_the_mean_frequency_stays_at_q_while_chains_are_absorbed():
    freq = discrete.resample([0.2, 0.8], 50, 600, n_chains=2000, seed=1).probs[:, :, 0]
    absorbed = [np.isin(freq[n], [0, 1]).mean() for n in (0, 10, 50, 600)]
    assert absorbed == sorted(absorbed) and absorbed[-1] == 1.0
    for n in (10, 50, 600):
        assert abs(freq[n].mean() - 0.2) <= 4 * freq[n].std(ddof=1) / np.sqrt(2000)


def test_the_median_variance_follows_the_almost_sure_rate():
    _, summary = gaussian.variance_paths(10, 200, n_chains=20_000, n_paths=15, seed=0)
    last = summary.set_index("n").loc[200]
    assert abs(np.log(last.mc_median / last.typical)) < 1
    assert last.typical < 1e-9 and last.closed_mean == 1


@pytest.fixture(scope="module")
def grid():
    rng = np.random.default_rng(2)
    return {(m, est): gaussian.simulate(100, m, estimator=est, n_chains=2000, seed=rng)
            for m in range(5, 101, 5) for est in gaussian.ESTIMATORS}


def test_the_mean_of_chains_strays_from_e_w2_once_n_is_several_times_m(grid):
    def at(m, n):
        w2 = gaussian.w2_squared_to_start(grid[(m, "unbiased")])[n]
        return w2.mean(), w2.std(ddof=1) / np.sqrt(w2.size), gaussian.expected_w2_squared(n, m)

    for m, n in [(20, 20), (100, 100)]:  # up to n = M: close
        mean, se, closed = at(m, n)
        assert abs(mean - closed) <= 4 * se, (m, n)
    assert at(5, 100)[0] < at(5, 100)[2]  # below it at M = 5
    assert at(20, 100)[0] > at(20, 100)[2]  # above it at M = 20, n = 100
    # With the MLE, E[W2^2] levels off near 2 sigma_0^2.
    mle = gaussian.expected_w2_squared([100, 1000, 10_000], 20, estimator="mle")
    assert np.all(np.diff(mle) >= 0) and abs(mle[-1] - 2) < 1e-3


def test_only_a_summable_schedule_keeps_e_w2_bounded_and_it_costs_more_than_n_squared():
    i = np.arange(1, 100_001)
    linear = 10 * i
    log2 = np.ceil(10 * i * np.log(i + 1) ** 2).astype(int)
    quadratic = 10 * i**2
    horizons = [10_000, 100_000]
    grow = {name: np.diff(gaussian.expected_w2_squared(horizons, m))[0]
            for name, m in (("linear", linear), ("log2", log2), ("quadratic", quadratic))}
    assert grow["linear"] > 0.2  # log(10) / 10: still growing
    assert 0 < grow["log2"] < 0.01 and 0 < grow["quadratic"] < 1e-4
    # Totals over n generations: more than order n^2 for the bounded schedules.
    per_n2 = [log2[:n].sum() / n**2 for n in (1000, 10_000, 100_000)]
    assert per_n2 == sorted(per_n2) and per_n2[-1] > 2.5 * per_n2[0]  # like log^2 n
    n = 10_000
    assert abs(quadratic[:n].sum() / (10 * n**3 / 3) - 1) < 1e-3
    assert abs(log2[:n].sum() / (10 * n**2 * np.log(n) ** 2 / 2) - 1) < 0.15
