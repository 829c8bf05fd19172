"""Every qualitative claim chapter 3 makes about its numbers, checked with the chapter's calls and
seeds: a change that breaks a sentence of the book fails here."""

import numpy as np
import pytest

from collapse_utils import mixtures
from collapse_utils.mixtures import Mixture1D

P = Mixture1D(weights=[0.5, 0.5], means=[-2.0, 2.0], stds=[0.6, 0.6])
P3 = Mixture1D(weights=[0.45, 0.45, 0.10], means=[-3.0, 0.0, 4.0], stds=[0.7, 0.7, 0.5])


def test_best_gaussian_is_over_three_times_as_wide_mostly_from_between_the_modes():
    q = mixtures.moment_match(P)
    assert q.std() / 0.6 > 3
    assert (q.var() - 0.36) / q.var() > 0.9  # "almost all of it"


def test_the_gaussian_puts_tens_of_times_the_truths_mass_in_the_valley_and_the_tails():
    ratios = mixtures.failure_modes(P, mixtures.moment_match(P)).ratio
    assert all(10 <= r < 100 for r in ratios)


def test_chains_with_perfect_information_stop_and_with_samples_keep_growing():
    runs = {"perfect": mixtures.refit_chain(P, 200)}
    for m in (100, 1000):
        runs[m] = mixtures.refit_chain(P, 200, sample_size=m, n_chains=500, seed=m)
    median = {k: np.median(mixtures.distance_to_truth(c), axis=1) for k, c in runs.items()}
    assert np.ptp(median["perfect"][1:]) < 1e-9  # jumps at generation 1, then stays
    for m in (100, 1000):
        assert median[m][200] > median[m][1] > 0.9 * median["perfect"][1]
    assert median[100][200] > median[1000][200]  # faster for smaller M


@pytest.fixture(scope="module")
def three_modes():
    sample = P3.sample(20_000, seed=0)
    return (mixtures.fit_sklearn_mixture(sample, n_components=2, seed=0),
            mixtures.fit_mixture(P3, n_components=2),
            mixtures.fit_sklearn_mixture(sample, n_components=2, seed=0, tol=1e-10,
                                         max_iter=10_000))


def test_the_rare_mode_keeps_about_half_its_mass(three_modes):
    exact = three_modes[1]
    share = (exact.cdf(5.0) - exact.cdf(3.0)) / (P3.cdf(5.0) - P3.cdf(3.0))
    assert 0.4 < share < 0.6


def test_tightened_gaussian_mixture_agrees_with_exact_em_better_than_the_default(three_modes):
    default, exact, tight = three_modes

    def gap(fit):
        return np.abs(np.r_[fit.weights, fit.means, fit.stds]
                      - np.r_[exact.weights, exact.means, exact.stds]).max()

    assert gap(tight) < gap(default) / 2
    assert mixtures.kl_divergence(P3, exact) < mixtures.kl_divergence(
        P3, mixtures.moment_match(P3))  # two components beat one Gaussian
