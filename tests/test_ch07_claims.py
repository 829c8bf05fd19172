"""Every claim chapter 7 makes about its Gaussian-regime runs and its dog-breed runs, checked
against those runs (same settings, same seeds as the chapter's code cells): a change that breaks a
sentence of the chapter fails here.

Monte Carlo agreement with a closed form allows 4 standard errors computed from the chains;
comparisons between regimes, or between two generations of one run, allow 4 standard errors of
the difference. The language-model part of chapter 7 is checked in tests/test_lm_claims.py.
"""

import numpy as np
import pytest

from collapse_utils import breeds, gaussian, remedies

# The chapter's settings: "The Gaussian, exactly" and "Rare categories under each regime".
M, GENERATIONS, CHAINS = 20, 60, 4000
FRACTIONS = np.arange(5, 55, 5) / 100
PRINTED = (0.05, 0.1, 0.2, 0.5)  # the gammas whose fixed points the chapter prints
BREED_M, BREED_RUNS, BREED_GENERATIONS, BREED_REAL = 200, 100, 300, 0.1
QUANTITIES = ("variance", "mean drift", "W2²")


def _mean_se(values):
    return values.mean(), values.std(ddof=1) / np.sqrt(values.size)


def _per_chain(run, g):
    """Per chain at generation g (an index or a slice): the quantities regime_table averages."""
    return {"variance": run.stds[g] ** 2,
            "mean drift": (run.means[g] - run.means[0]) ** 2,
            "W2²": gaussian.w2_squared_to_start(run)[g]}


@pytest.fixture(scope="module")
def gaussian_run():
    """The chapter's regime_table, and the chains it averaged, recorded as it drew them."""
    chains = {}
    draw = remedies.gaussian_regime

    def record(*args, **kwargs):
        run = draw(*args, **kwargs)
        regime = run.info["regime"]
        pct = round(100 * run.info["real_fraction"]) if regime == "keep_real" else -1
        chains[regime, pct] = run
        return run

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(remedies, "gaussian_regime", record)
        table = remedies.regime_table(GENERATIONS, M, fractions=FRACTIONS, n_chains=CHAINS,
                                      seed=0)
    return table, chains


def test_the_recorded_chains_are_the_chapters_table(gaussian_run):
    table, chains = gaussian_run
    assert len(chains) == 3 + len(FRACTIONS)
    for (regime, pct), run in chains.items():
        rows = table[(table.regime == regime) & (table.gamma_pct == pct)]
        every = _per_chain(run, slice(None))  # all generations at once
        for quantity in QUANTITIES:
            mc = rows[rows.quantity == quantity].sort_values("generation").monte_carlo
            np.testing.assert_allclose(mc, every[quantity].mean(axis=-1), rtol=1e-12, atol=1e-15)


def test_the_monte_carlo_dots_sit_on_the_closed_forms(gaussian_run):
    # "Dashed lines are the exact expectations, dots the Monte Carlo means", at the printed
    # generation and halfway, for every regime that has a closed form and every gamma.
    table, chains = gaussian_run
    for (regime, pct), run in chains.items():
        if regime == "accumulate_subsample":
            continue
        var, drift = remedies.expected_moments(regime, GENERATIONS, M, max(pct, 0) / 100)
        for g in (GENERATIONS // 2, GENERATIONS):
            values = _per_chain(run, g)
            for quantity, exact in (("variance", var[g]), ("mean drift", drift[g])):
                mean, se = _mean_se(values[quantity])
                assert abs(mean - exact) <= 4 * se, (regime, pct, g, quantity, mean, exact, se)


def test_replace_drifts_without_bound_and_its_dotted_variance_sags(gaussian_run):
    _, chains = gaussian_run
    var, drift = remedies.expected_moments("replace", GENERATIONS, M)
    # Exact: E(mu_n - mu_0)^2 = n / M grows with every generation; E sigma_n^2 stays 1.
    np.testing.assert_allclose(drift, np.arange(GENERATIONS + 1) / M, rtol=1e-12)
    np.testing.assert_allclose(var, 1.0, rtol=1e-12)
    run = chains["replace", -1]
    # The run drifts too: from generation 30 to 60 the mean's squared distance grows.
    grown = _per_chain(run, GENERATIONS)["mean drift"] - _per_chain(run, 30)["mean drift"]
    mean, se = _mean_se(grown)
    assert mean > 4 * se
    # "the dotted Monte Carlo variance also sags below 1 ...: the expectation is carried by
    # rare chains": the last dot is below 1, most chains are well below 1 (more than half, by
    # 4 binomial standard errors), and the few above 1 hold most of the total.
    v = _per_chain(run, GENERATIONS)["variance"]
    assert v.mean() < 1
    below = (v < 1).mean()
    assert below - 0.5 > 4 * 0.5 / np.sqrt(v.size)
    assert v[v >= 1].sum() > 0.5 * v.sum()


def test_accumulate_keeps_both_moments_close_to_the_truth_for_ever(gaussian_run):
    _, chains = gaussian_run
    var, drift = remedies.expected_moments("accumulate", 100_000, M)  # as the chapter prints
    bound = np.pi**2 / 6 / M
    # Proposition: the drift grows but never above pi^2/6 sigma_0^2 / M ...
    assert np.all(np.diff(drift) > 0) and drift[-1] <= bound
    # ... and E sigma_n^2 decreases to a positive limit, within (pi^2/6 - 1)/(M - 1) of 1:
    # the product of (1 - 1/((i+1)((i+1)M-1))) is at least 1 minus the sum of those terms.
    assert np.all(np.diff(var[1:]) < 0) and var[-1] >= 1 - (np.pi**2 / 6 - 1) / (M - 1)
    # The run agrees at its last generation with the bounds (up to its own noise).
    values = _per_chain(chains["accumulate", -1], GENERATIONS)
    mean, se = _mean_se(values["mean drift"])
    assert mean <= bound + 4 * se
    mean, se = _mean_se(values["variance"])
    assert mean >= var[-1] - 4 * se and mean <= 1 + 4 * se


def test_accumulate_subsample_stays_bounded_but_spreads_more(gaussian_run):
    # "stays bounded in this range, though its spread is larger": every column of the chapter's
    # table (E sigma^2, E(mu - mu_0)^2, E W2^2) stops growing between generations 30 and 60, and
    # at generation 60 each is larger than accumulate's.
    _, chains = gaussian_run
    sub = chains["accumulate_subsample", -1]
    acc = chains["accumulate", -1]
    late, mid = _per_chain(sub, GENERATIONS), _per_chain(sub, GENERATIONS // 2)
    other = _per_chain(acc, GENERATIONS)
    for quantity in QUANTITIES:
        change, se = _mean_se(late[quantity] - mid[quantity])
        assert abs(change) <= 4 * se, (quantity, change, se)
        (a, se_a), (b, se_b) = _mean_se(late[quantity]), _mean_se(other[quantity])
        assert a - b > 4 * np.hypot(se_a, se_b), (quantity, a, b)
    # Bounded, unlike replace: far below replace's drift at the same generation.
    (a, se_a), (b, se_b) = (_mean_se(late["mean drift"]),
                            _mean_se(_per_chain(chains["replace", -1], GENERATIONS)["mean drift"]))
    assert b - a > 4 * np.hypot(se_a, se_b)


def test_keep_real_settles_closer_to_the_truth_as_gamma_grows_and_wider(gaussian_run):
    _, chains = gaussian_run
    fixed = np.array([remedies.stationary_moments(M, g) for g in FRACTIONS])
    for g, point in zip(FRACTIONS, fixed, strict=True):
        var, drift = remedies.expected_moments("keep_real", 2000, M, g)
        np.testing.assert_allclose((var[-1], drift[-1]), point, rtol=1e-9)  # "settles"
    # "whose distance from the truth shrinks as gamma grows", over the chapter's gammas.
    assert np.all(np.diff(fixed[:, 1]) < 0)
    assert set(PRINTED) <= {round(g, 2) for g in FRACTIONS}
    # "its stationary variance is above sigma_0^2": exactly, and in the run at generation 60.
    assert np.all(fixed[:, 0] > 1)
    for g in FRACTIONS:
        mean, se = _mean_se(_per_chain(chains["keep_real", round(100 * g)], GENERATIONS)[
            "variance"])
        assert mean - 1 > 4 * se, (g, mean, se)


@pytest.fixture(scope="module")
def breed_runs():
    probs = breeds.breed_distribution()
    return {regime: remedies.categorical_regime(
        probs, regime, BREED_GENERATIONS, BREED_M, real_fraction=BREED_REAL,
        n_chains=BREED_RUNS, seed=1) for regime in remedies.REGIMES}


def _left(probs, g):
    """Breeds left at generation g: mean over the runs and its standard error."""
    return _mean_se((probs[g] > 0).sum(axis=-1).astype(float))


def _comebacks(probs):
    return int(((probs[1:-1] == 0) & (probs[2:] > 0)).sum())


def test_the_breed_summary_is_the_chapters(breed_runs):
    # The chart reads breeds.collapse_summary(runs, tail=10); its breeds_left is what _left counts.
    for runs in breed_runs.values():
        assert runs.probs.shape == (BREED_GENERATIONS + 1, BREED_RUNS, 20)
        summary = breeds.collapse_summary(runs, tail=10)
        means = summary.groupby("generation").breeds_left.mean().to_numpy()
        counted = [_left(runs.probs, g)[0] for g in range(BREED_GENERATIONS + 1)]
        np.testing.assert_allclose(means, counted, rtol=1e-12)


def test_replacing_loses_breeds_for_good(breed_runs):
    # Summary: "categories vanish for good".
    probs = breed_runs["replace"].probs
    assert _comebacks(probs) == 0
    lost, se = _mean_se(((probs[1] > 0).sum(-1) - (probs[-1] > 0).sum(-1)).astype(float))
    assert lost > 4 * se


def test_real_data_brings_lost_breeds_back(breed_runs):
    # Summary: "lost categories come back"; and more breeds survive than under replace.
    probs = breed_runs["keep_real"].probs
    assert _comebacks(probs) > 0
    (a, se_a), (b, se_b) = _left(probs, -1), _left(breed_runs["replace"].probs, -1)
    assert a - b > 4 * np.hypot(se_a, se_b)


def test_accumulating_never_loses_a_breed_the_real_data_held(breed_runs):
    probs = breed_runs["accumulate"].probs
    held = probs[1] > 0  # the M real pictures of generation 1
    assert np.all(probs[1:][:, held] > 0)


def test_subsampling_keeps_most_of_the_benefit(breed_runs):
    # "subsampling the pool to a fixed budget keeps most of that benefit": its gain in breeds
    # left over replace, at the last generation, is more than half accumulate's.
    (sub, se_s), (acc, se_a), (rep, se_r) = (_left(breed_runs[r].probs, -1) for r in (
        "accumulate_subsample", "accumulate", "replace"))
    margin = (sub - rep) - 0.5 * (acc - rep)
    assert margin > 4 * np.sqrt(se_s**2 + 0.25 * se_a**2 + 0.25 * se_r**2)
