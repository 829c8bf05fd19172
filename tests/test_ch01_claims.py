"""Every claim chapter 1 makes about its runs, checked against those runs (same settings, same
seeds): a change that breaks a sentence of the chapter fails here.

Comparisons between samplers allow 4 standard errors of the difference; a frequency that not
every chain has settled yet also allows the share of unsettled chains.
"""

import numpy as np
import pandas as pd
import pytest

from collapse_utils import breeds, discrete

PROBS = breeds.breed_distribution(n_breeds=20, exponent=1.2)
M = 200
AT = 10  # the generation the prose of "Why the golden retrievers win" reads
SAMPLERS = {"pure": {}, "cold": {"temperature": 0.9}, "topk": {"top_k": 5}}


def test_the_one_run_ends_with_a_single_breed():
    run = discrete.resample(PROBS, sample_size=M, n_generations=350, seed=7).probs[:, 0]
    assert run[-1].max() == 1.0  # "the winner was ..."


@pytest.fixture(scope="module")
def summary():
    runs = [breeds.collapse_summary(discrete.resample(PROBS, sample_size=m, n_generations=400,
                                                      n_chains=200, seed=m), tail=10).assign(M=m)
            for m in (100, 200, 500)]
    return pd.concat(runs, ignore_index=True)


def test_larger_samples_slow_the_collapse_down(summary):
    median = summary.groupby(["M", "generation"]).median(numeric_only=True).reset_index()
    half, one = [], []
    for _, rows in median.groupby("M"):
        half.append(rows.generation[rows.tail_mass <= rows.tail_mass.iloc[0] / 2].min())
        one.append(rows.generation[rows.breeds_left == 1].min())
    assert half[0] < half[1] < half[2]
    # One breed left in the median run: later for M = 200 than for M = 100, not at all for 500
    # within 400 generations ("do not stop it" is the tail's fall at every M).
    assert one[0] < one[1] and np.isnan(one[2])
    assert all(rows.tail_mass.iloc[-1] < rows.tail_mass.iloc[0] / 2
               for _, rows in median.groupby("M"))


@pytest.fixture(scope="module")
def compared():
    runs = {key: discrete.resample(PROBS, M, 1000, n_chains=200, seed=11, **kw)
            for key, kw in SAMPLERS.items()}
    return runs, breeds.compare_samplers(runs, generation=AT)


def _apart(table, a, b, col):
    """table[a] - table[b] for col, in standard errors of the difference."""
    se = np.hypot(table.loc[a, f"{col}_se"], table.loc[b, f"{col}_se"])
    return (table.loc[a, col] - table.loc[b, col]) / se


def test_pure_sampling_keeps_the_starting_share_and_is_a_lottery(compared):
    _, table = compared
    pure = table.loc["pure"]
    assert abs(pure.first_share - PROBS[0]) <= 4 * pure.first_share_se
    assert abs(pure.first_wins - PROBS[0]) <= 4 * pure.first_wins_se + (1 - pure.absorbed)


def test_below_temperature_one_the_commonest_breed_wins_and_the_tail_goes_faster(compared):
    _, table = compared
    assert _apart(table, "cold", "pure", "first_share") > 4
    assert table.loc["cold", "first_wins"] - table.loc["pure", "first_wins"] > 4 * np.hypot(
        table.loc["cold", "first_wins_se"], table.loc["pure", "first_wins_se"])
    assert _apart(table, "pure", "cold", "tail_mass") > 4
    assert _apart(table, "pure", "cold", "breeds_left") > 4


def test_top_k_drops_the_tail_at_once_then_the_lottery_is_back(compared):
    runs, table = compared
    probs = runs["topk"].probs
    assert np.all(probs[1:, :, 5:] == 0)  # the 15 rarest, from generation 1, in every run
    top = table.loc["topk"]
    share_among_5 = PROBS[0] / PROBS[:5].sum()
    assert abs(top.first_wins - share_among_5) <= 4 * top.first_wins_se + (1 - top.absorbed)


def test_with_infinite_data_the_temperature_compounds():
    once = discrete.sharpen(PROBS, temperature=0.9**AT)
    repeated = PROBS
    for _ in range(AT):
        repeated = discrete.sharpen(repeated, temperature=0.9)
    np.testing.assert_allclose(once, repeated, rtol=1e-9)
    assert once[0] > discrete.sharpen(PROBS, temperature=0.9)[0] > PROBS[0]
