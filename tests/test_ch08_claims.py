"""Every directional sentence of chapter 8, checked against the chapter's own runs.

Each fixture repeats a call of the chapter exactly (same arguments, same seed), and
``test_the_chapter_makes_these_calls`` fails if the chapter's call changes without this file.
Simulated numbers are compared with their claims within 4 standard errors; exact numbers
exactly.
"""

from pathlib import Path

import numpy as np
import pytest

from collapse_utils import breeds, regression, self_consuming, tails

CHAPTER = (Path(__file__).resolve().parents[1] / "chapters" / "08_after_the_paper.md").read_text()

CALLS = [
    "regression.simulate(w, n_generations=30, dim=10, samples=40, n_chains=2000, seed=i)",
    "regression.accumulate_ratios(runs[\"accumulate\"], breeds.breed_distribution(),\n"
    "                                      sample_size=20, n_chains=2000, seed=3)",
    "tails.zipf(100_000, exponent=2.0)",
    "np.unique(np.round(np.logspace(1, 6, 16)).astype(int))",
    "tails.scaling_table(words, sizes, cutoffs=[None, 1000, 100, 10], n_runs=10, seed=4)",
    "tails.forgetting_table([1, 2, 4, 8, 16, 32, 64], 1000, n_chains=2000, seed=5)",
    '{"fully synthetic, τ = 1": (0, 100, 1.0), "fully synthetic, τ = 0.9": (0, 100, 0.9),\n'
    '            "fresh data 20 %, τ = 1": (20, 80, 1.0), "fresh data 20 %, τ = 0.9": (20, 80, '
    '0.9)}',
    "self_consuming.mad_loop(30, real, synthetic, scale, n_chains=2000, seed=6 + i)",
    "ratios_real = (0.5, 1.0, 2.0, 8.0)",
    "self_consuming.retrain_loop(30, 100, lam, start_mean=3.0, n_chains=2000,\n"
    "                                              seed=10 + i)",
]


def test_the_chapter_makes_these_calls():
    for call in CALLS:
        assert call in CHAPTER, call


@pytest.fixture(scope="module")
def runs():
    return {w: regression.simulate(w, n_generations=30, dim=10, samples=40, n_chains=2000,
                                   seed=i) for i, w in enumerate(regression.WORKFLOWS)}


@pytest.fixture(scope="module")
def reg(runs):
    return regression.findings(runs)


# --- replace or accumulate ----------------------------------------------------------------


def test_replace_grows_linearly_as_the_closed_form_says(runs, reg):
    exact = regression.expected_test_error("replace", 30, 10, 40)
    means = runs["replace"].test_error.mean(axis=1)
    ses = runs["replace"].test_error.std(axis=1, ddof=1) / np.sqrt(2000)
    assert np.all(np.abs(means - exact)[1:] <= 4 * ses[1:])
    assert reg["replace_ratio"] > 25  # "about 30 times the first generation's"


def test_accumulate_stays_below_pi2_over_6(runs, reg):
    first = reg["accumulate_first"]
    means = runs["accumulate"].test_error.mean(axis=1)
    ses = runs["accumulate"].test_error.std(axis=1, ddof=1) / np.sqrt(2000)
    assert np.all(means[1:] <= np.pi**2 / 6 * first + 4 * ses[1:])
    assert abs(reg["accumulate_ratio"] - reg["partial_sum"]) < 0.05


def test_the_fixed_budget_lands_between_and_rises_slowly(runs, reg):
    se = reg["accumulate_subsample_last_se"]
    assert reg["accumulate_last"] + 4 * (se + reg["accumulate_last_se"]) \
        < reg["accumulate_subsample_last"]
    assert reg["accumulate_subsample_last"] + 4 * (se + reg["replace_last_se"]) \
        < reg["replace_last"]
    # "rising slowly rather than in a straight line": the last ten generations add less than
    # a tenth of what the first ten did.
    err = runs["accumulate_subsample"].test_error.mean(axis=1)
    assert err[30] - err[20] < 0.1 * (err[10] - err[0])
    assert err[30] > err[20]


# --- one constant, many models -----------------------------------------------------------


def test_all_three_models_sit_at_or_just_below_the_partial_sum(runs, reg):
    table = regression.accumulate_ratios(runs["accumulate"], breeds.breed_distribution(),
                                         sample_size=20, n_chains=2000, seed=3)
    assert np.isclose(table.closed_form[0], reg["partial_sum"])
    assert (table.closed_form[1:] < reg["partial_sum"]).all()
    assert (table.closed_form[1:] > 1.5).all()
    assert (np.abs(table.simulation - table.closed_form) <= 4 * table.simulation_se).all()


# --- tails ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scaling():
    words = tails.zipf(100_000, exponent=2.0)
    sizes = np.unique(np.round(np.logspace(1, 6, 16)).astype(int))
    return tails.scaling_table(words, sizes, cutoffs=[None, 1000, 100, 10], n_runs=10, seed=4)


def test_real_data_follow_the_power_law_and_cut_tails_plateau(scaling):
    found = tails.scaling_findings(scaling)
    assert abs(found["slope"] + 0.5) < 0.01
    assert abs(found["gain_0"] - np.sqrt(10)) < 0.1  # the last tenfold divides by about 3
    assert found["gain_100"] < 1.001 and found["gain_10"] < 1.001  # more data stop helping
    assert found["last_100"] == pytest.approx(found["floor_100"], rel=1e-3)
    # On a plateau every run may draw every kept word: no spread, so no standard error, and
    # the runs sit on the floor, below the exact error by the kept words' unseen mass.
    slack = np.where(scaling.simulated_se < 1e-15, scaling.exact - scaling.tail_mass, 0) + 1e-12
    assert (np.abs(scaling.simulated - scaling.exact) <= 4 * scaling.simulated_se + slack).all()


def test_forgetting_is_nearly_proportional_to_the_count():
    table = tails.forgetting_table([1, 2, 4, 8, 16, 32, 64], 1000, n_chains=2000, seed=5)
    found = tails.forgetting_findings(table)
    assert 1.6 < found["double_min"] <= found["double_max"] < 2.0
    assert found["worst_z"] <= 4


# --- self-consuming loops -------------------------------------------------------------------


@pytest.fixture(scope="module")
def mad():
    settings = {"synth_1": (0, 100, 1.0), "synth_09": (0, 100, 0.9),
                "fresh_1": (20, 80, 1.0), "fresh_09": (20, 80, 0.9)}
    loops = {name: self_consuming.mad_loop(30, real, synthetic, scale, n_chains=2000, seed=6 + i)
             for i, (name, (real, synthetic, scale)) in enumerate(settings.items())}
    return self_consuming.mad_findings(loops)


def test_fully_synthetic_unbiased_loses_quality_and_the_typical_chain_diversity(mad):
    truth = mad["quality_truth"]
    assert mad["synth_1_quality"] + 4 * mad["synth_1_quality_se"] < truth
    assert abs(mad["synth_1_diversity"] - 1) <= 4 * mad["synth_1_diversity_se"]
    assert mad["synth_1_diversity_median"] < 0.85


def test_fully_synthetic_biased_gains_quality_and_loses_diversity(mad):
    assert mad["synth_09_quality"] - 4 * mad["synth_09_quality_se"] > mad["quality_truth"]
    assert mad["synth_09_diversity"] < 0.01


def test_fresh_data_keep_both_close_or_settle(mad):
    assert abs(mad["fresh_1_quality"] - mad["quality_truth"]) < 0.05
    assert abs(mad["fresh_1_diversity"] - 1) < 0.05
    # The biased fresh loop has settled: its exact diversity barely moves over the last ten
    # generations, at a level well inside (0, 1).
    var, _ = self_consuming.mad_moments(30, 20, 80, 0.9)
    assert abs(var[30] / var[20] - 1) < 1e-3 and 0.4 < 0.81 * var[30] < 0.6
    assert abs(mad["fresh_09_diversity"] - mad["fresh_09_diversity_exact"]) \
        <= 4 * mad["fresh_09_diversity_se"]
    assert mad["fresh_09_quality"] > mad["quality_truth"]


@pytest.fixture(scope="module")
def retrained():
    ratios_real = (0.5, 1.0, 2.0, 8.0)
    runs = {lam: self_consuming.retrain_loop(30, 100, lam, start_mean=3.0, n_chains=2000,
                                             seed=10 + i) for i, lam in enumerate(ratios_real)}
    return self_consuming.retrain_findings(runs)


def test_retraining_returns_at_rate_lambda_over_one_plus_lambda(retrained):
    assert retrained["halving_1"] == 1.0  # "halves every generation"
    assert 5 < retrained["halving_8"] < 7
    for lam in ("0.5", "1", "2", "8"):
        assert abs(retrained[f"offset_{lam}"] - retrained[f"offset_exact_{lam}"]) \
            <= 4 * retrained[f"offset_se_{lam}"]
    assert retrained["offset_8"] > 10 * retrained["offset_se_8"]  # still visibly off at 30


def test_the_neighbourhood_widens_with_the_share_of_synthetic_data(retrained):
    limits = [retrained[f"rms_limit_{lam}"] for lam in ("0.5", "1", "2", "8")]
    assert np.all(np.diff(limits) > 0)
