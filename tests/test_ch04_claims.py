"""Every claim chapter 4 makes about its runs, checked against those runs (same settings, same
seeds): a change that breaks a sentence of the chapter fails here. Monte Carlo agreement allows
4 standard errors."""

import numpy as np
import pytest

from collapse_utils import functional_approximation as fa


def test_the_simulated_means_sit_near_the_closed_forms():
    frame = fa.estimator_frame(sample_size=20, n_generations=100, seed=1)
    rows = frame[frame.n.isin([10, 50, 100])]
    assert np.all(np.abs(rows.mc_mean - rows.closed_mean) <= 4 * rows.mc_se)
    # "drives the typical (median) chain to zero even when the mean stays put"
    unbiased = rows[rows.estimator == "unbiased"]
    assert unbiased.mc_median.iloc[-1] < 0.01 * unbiased.closed_mean.iloc[-1]


def test_the_temperature_multiplies_the_variance_by_t():
    t = 0.9
    run = fa.sampling_chain(20, sample_size=100, temperature=t, n_chains=20_000, seed=5)
    v20 = run.stds[20] ** 2
    se = v20.std() / np.sqrt(v20.size)
    assert abs(v20.mean() - t**20) <= 4 * se
    assert abs(v20.mean() - t**40) > 20 * se  # sigma times T would be another temperature


def test_even_top_p_0999_keeps_less_than_half_the_variance_over_100_generations():
    r = fa.truncated_variance_factor(0.999)
    assert 0.01 < 1 - r < 0.02 and r**100 < 0.5


@pytest.fixture(scope="module")
def exact():
    return {k: fa.gradient_chain(60, None, mean=3.0, std=2.0, steps=k, lr=0.05)
            for k in (5, 20, 100)}


def test_a_fixed_budget_of_steps_pulls_the_chain_to_its_start(exact):
    means = {k: c.means[:, 0] for k, c in exact.items()}
    stds = {k: c.stds[:, 0] for k, c in exact.items()}
    # 5 steps: back at the start N(0, 1) within ten generations.
    assert abs(means[5][10]) < 0.01 and abs(stds[5][10] - 1) < 0.01
    # 20 steps: the mean is lost as fast; the std first grows above the truth's, then returns.
    assert abs(means[20][10]) < 0.01 and stds[20][1:3].max() > 2.0
    assert abs(stds[20][60] - 1) < 0.01
    # 100 steps: the mean still drifts to zero, the inflated std stays.
    assert abs(means[100][60]) < 0.01 and stds[100][60] > 2.0


def test_adam_stops_somewhere_else():
    adam = fa.gradient_chain(60, None, mean=3.0, std=2.0, steps=10, lr=0.05, optimizer="adam")
    assert abs(adam.means[60, 0]) > 0.1 and abs(adam.stds[60, 0] - 1) > 0.1


@pytest.fixture(scope="module")
def cascade():
    runs = fa.cascade(n_generations=100, sample_size=100, n_chains=300, steps=50, lr=0.02,
                      top_p=0.99, seed=7)
    table = fa.cascade_table(runs, generation=100)
    return runs, table.set_index(list(fa.CASCADE_SWITCHES))


def _row(table, *on):
    return table.loc[tuple(k in on for k in fa.CASCADE_SWITCHES)]


def test_the_cascade_sentences(cascade):
    runs, table = cascade
    assert _row(table).w2 == 0  # everything off: the truth forever
    # Expressivity alone: W2 jumps at generation 1 and stays there.
    w2 = fa.w2_to_start(runs[("expressivity",)])[:, 0]
    assert w2[1] > 0.5 and np.allclose(w2[1:], w2[1])
    # Statistical alone grows; top-p alone drives sigma to zero geometrically.
    stat = np.median(fa.w2_to_start(runs[("statistical",)]), axis=1)
    assert stat[100] > stat[50] > stat[10]
    assert _row(table, "sampling")["std"] < 0.05 * _row(table)["std"]
    # The learning procedure with truncation settles below its start N(0, 1).
    assert _row(table, "learning", "sampling")["std"] < 1
    # No combination returns to the truth.
    assert (table.w2.drop(index=[tuple([False] * 4)]) > 0.5).all()
