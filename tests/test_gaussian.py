"""Tests for collapse_utils.gaussian: closed forms against simulation, exact law against samples.

Monte Carlo checks compare a mean over C chains with its closed form and allow 4 standard errors
(sample std / sqrt(C)). With fixed seeds each check is deterministic; the 4-sigma band is what
makes it meaningful: a correct formula lands outside it with probability about 6e-5 under the
normal approximation, while the errors we guard against (wrong estimator, off-by-one in the
degrees of freedom, a missing factor) move the mean by many standard errors
(see test_tolerance_rejects_the_wrong_estimator).
"""

import numpy as np
import pytest
import scipy.linalg
import scipy.special
import scipy.stats
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy.special import gammaln

from collapse_utils.chains import Chains
from collapse_utils.gaussian import (
    expected_log_det,
    expected_log_shrink,
    expected_mean_squared_drift,
    expected_std,
    expected_variance,
    expected_w2_squared,
    log_determinants,
    simulate,
    std_shrink_factor,
    variance_paths,
    w2_gaussians,
    w2_squared_to_start,
)

ESTIMATORS = ["unbiased", "mle"]
# KS tests: reject at alpha = 1e-3, so a correct sampler fails one check with probability 1e-3.
ALPHA = 1e-3


def assert_mean_within_se(values, expected, k=4.0, axis=0):
    """Assert |mean(values) - expected| <= k standard errors, along ``axis``."""
    values = np.asarray(values, dtype=float)
    count = values.shape[axis]
    mean = values.mean(axis=axis)
    se = values.std(axis=axis, ddof=1) / np.sqrt(count)
    gap = np.abs(mean - expected)
    assert np.all(gap <= k * se + 1e-12), f"mean {mean}, expected {expected}, {gap / se} SE"


# ---------------------------------------------------------------- closed forms in one dimension

M, STD, MEAN = 20, 2.0, 1.0
GENS = [1, 5, 20]


@pytest.fixture(scope="module", params=ESTIMATORS)
def chains(request):
    return simulate(20, M, MEAN, STD, estimator=request.param, n_chains=50_000, seed=2024)


def test_expected_std_matches_simulation(chains):
    for n in GENS:
        assert_mean_within_se(chains.stds[n], expected_std(n, M, STD, chains.info["estimator"]))


def test_expected_variance_matches_simulation(chains):
    # Small n: sigma_n^2 is a product of n scaled chi2, heavy-tailed as n grows.
    for n in [1, 5, 10]:
        assert_mean_within_se(chains.stds[n] ** 2,
                              expected_variance(n, M, STD, chains.info["estimator"]))


def test_expected_mean_drift_matches_simulation(chains):
    for n in GENS:
        drift = (chains.means[n] - MEAN) ** 2
        assert_mean_within_se(drift,
                              expected_mean_squared_drift(n, M, STD, chains.info["estimator"]))


def test_expected_w2_matches_simulation(chains):
    w2 = w2_squared_to_start(chains)
    for n in GENS:
        assert_mean_within_se(w2[n], expected_w2_squared(n, M, STD, chains.info["estimator"]))


def test_tolerance_rejects_the_wrong_estimator():
    """The 4-SE check has power: the mle closed form fails on unbiased chains."""
    run = simulate(10, M, std=STD, estimator="unbiased", n_chains=50_000, seed=7)
    with pytest.raises(AssertionError):
        assert_mean_within_se(run.stds[10] ** 2, expected_variance(10, M, STD, "mle"))


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_growing_sample_sizes_match_closed_forms(estimator):
    sizes = 5 + np.arange(1, 31)  # M_i = 5 + i
    run = simulate(30, sizes, MEAN, STD, estimator=estimator, n_chains=50_000, seed=11)
    np.testing.assert_array_equal(run.info["sample_sizes"], sizes)
    w2 = w2_squared_to_start(run)
    for n in [1, 10, 30]:
        assert_mean_within_se(run.stds[n], expected_std(n, sizes, STD, estimator))
        assert_mean_within_se(run.stds[n] ** 2, expected_variance(n, sizes, STD, estimator))
        drift = (run.means[n] - MEAN) ** 2
        assert_mean_within_se(drift, expected_mean_squared_drift(n, sizes, STD, estimator))
        assert_mean_within_se(w2[n], expected_w2_squared(n, sizes, STD, estimator))


def test_closed_forms_exact_values():
    n = np.arange(0, 50)
    c = std_shrink_factor(M)
    np.testing.assert_allclose(expected_std(n, M, STD), STD * c**n, rtol=1e-13)
    np.testing.assert_allclose(expected_variance(n, M, STD), STD**2, rtol=1e-15)
    r = (M - 1) / M
    np.testing.assert_allclose(expected_variance(n, M, STD, "mle"), STD**2 * r**n, rtol=1e-13)
    np.testing.assert_allclose(
        expected_std(n, M, STD, "mle"), STD * (c * np.sqrt(r)) ** n, rtol=1e-13
    )
    np.testing.assert_allclose(expected_mean_squared_drift(n, M, STD), STD**2 * n / M, rtol=1e-13)
    np.testing.assert_allclose(
        expected_mean_squared_drift(n, M, STD, "mle"), STD**2 * (1 - r**n), rtol=1e-12, atol=0
    )
    np.testing.assert_allclose(
        expected_w2_squared(n, M, STD), STD**2 * (n / M + 2 * (1 - c**n)), rtol=1e-12, atol=1e-15
    )
    # A constant sequence gives the same answers as the int.
    for f in [expected_std, expected_variance, expected_mean_squared_drift, expected_w2_squared]:
        for est in ESTIMATORS:
            np.testing.assert_allclose(
                f(n, [M] * 49, STD, est), f(n, M, STD, est), rtol=1e-12, atol=1e-15
            )


def test_closed_form_return_types():
    assert isinstance(expected_std(3, 10), float)
    assert isinstance(expected_w2_squared(3, [10, 11, 12]), float)
    out = expected_w2_squared(np.array([[0, 1], [2, 3]]), [10, 11, 12])
    assert out.shape == (2, 2) and out[0, 0] == 0.0
    assert expected_std(0, 10, 3.0) == 3.0


def test_expected_w2_grows_without_bound():
    n = np.array([10, 100, 1000, 10_000])
    w2 = expected_w2_squared(n, 10)
    assert np.all(np.diff(w2) > 0) and w2[-1] > 1000
    # With M_i growing like i^2, sum 1/M_i converges and so does E[W2^2].
    sizes = 2 + np.arange(1, 10_001) ** 2
    assert expected_w2_squared(10_000, sizes) < 2.0


def test_std_shrink_factor_known_values():
    assert std_shrink_factor(2) == pytest.approx(np.sqrt(2 / np.pi), rel=1e-15)
    assert std_shrink_factor(3) == pytest.approx(np.sqrt(np.pi) / 2, rel=1e-15)
    # c_4 series of quality control: 1 - 1/(4M) - 7/(32 M^2) - 19/(128 M^3) + O(M^-4).
    for m in [1e3, 1e5, 1e8]:
        series = 1 - 1 / (4 * m) - 7 / (32 * m**2) - 19 / (128 * m**3)
        assert std_shrink_factor(int(m)) == pytest.approx(series, rel=1e-11, abs=0)
    # Both sides of the switch from gammaln to the asymptotic series agree with gammaln, which
    # is still accurate to ~1e-12 there.
    m = np.arange(2, 60)
    direct = np.sqrt(2 / (m - 1)) * np.exp(gammaln(m / 2) - gammaln((m - 1) / 2))
    np.testing.assert_allclose(std_shrink_factor(m), direct, rtol=1e-12)
    assert np.all(np.diff(std_shrink_factor(np.arange(2, 10_000))) > 0)


@pytest.mark.parametrize(
    "m, n, reference",
    # exp(n log c_M) with mpmath at 50 digits; for M >= 10^4 plain gammaln differences would be
    # off in the 4th digit here.
    [
        (31, 10**3, 2.4074020964605901167e-04),
        (100, 10**4, 1.0793296335556787566e-11),
        (10**4, 10**6, 1.3853264482712020215e-11),
        (10**6, 10**8, 1.3887596670418017681e-11),
    ],
)
def test_expected_std_many_generations_is_accurate(m, n, reference):
    assert expected_std(n, m) == pytest.approx(reference, rel=1e-11, abs=0)


def test_std_shrink_factor_matches_monte_carlo():
    rng = np.random.default_rng(5)
    s = rng.standard_normal((200_000, 5)).std(axis=1, ddof=1)
    assert_mean_within_se(s, std_shrink_factor(5))


# ------------------------------------------------------------- exact law against explicit samples


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_exact_and_samples_agree_in_distribution_1d(estimator):
    kw = dict(mean=MEAN, std=STD, estimator=estimator, n_chains=4000)
    exact = simulate(15, 8, seed=1, method="exact", **kw)
    samples = simulate(15, 8, seed=2, method="samples", **kw)
    assert samples.info["method"] == "samples"
    for n in [1, 15]:
        p_std = scipy.stats.ks_2samp(np.log(exact.stds[n]), np.log(samples.stds[n])).pvalue
        p_mean = scipy.stats.ks_2samp(exact.means[n], samples.means[n]).pvalue
        assert p_std > ALPHA and p_mean > ALPHA


def test_ks_detects_a_wrong_estimator():
    """The KS comparison has power: unbiased and mle chains differ after 15 generations."""
    a = simulate(15, 8, n_chains=4000, seed=1, estimator="unbiased")
    b = simulate(15, 8, n_chains=4000, seed=2, estimator="mle", method="samples")
    assert scipy.stats.ks_2samp(np.log(a.stds[15]), np.log(b.stds[15])).pvalue < ALPHA


@pytest.mark.parametrize("method", ["exact", "samples"])
def test_one_generation_follows_the_sampling_law(method):
    m = 7
    run = simulate(1, m, MEAN, STD, n_chains=4000, seed=3, method=method)
    scaled = (m - 1) * run.stds[1] ** 2 / STD**2
    assert scipy.stats.kstest(scaled, scipy.stats.chi2(m - 1).cdf).pvalue > ALPHA
    z = (run.means[1] - MEAN) / (STD / np.sqrt(m))
    assert scipy.stats.kstest(z, "norm").pvalue > ALPHA


@pytest.mark.parametrize("method", ["exact", "samples"])
def test_one_generation_follows_the_wishart_law(method):
    m, cov = 6, np.array([[2.0, 0.6], [0.6, 1.0]])
    run = simulate(1, m, [1.0, -1.0], cov=cov, n_chains=4000, seed=4, method=method)
    # For a fixed vector a, a^T (M-1) Sigma_1 a / a^T Sigma_0 a ~ chi2_{M-1} under Wishart.
    for a in [np.array([1.0, 0.0]), np.array([1.0, 1.0]), np.array([1.0, -2.0])]:
        ratio = (m - 1) * np.einsum("i,cij,j->c", a, run.covs[1], a) / (a @ cov @ a)
        assert scipy.stats.kstest(ratio, scipy.stats.chi2(m - 1).cdf).pvalue > ALPHA


def test_exact_and_samples_agree_in_distribution_nd():
    cov = np.array([[2.0, 0.6, 0.0], [0.6, 1.0, 0.3], [0.0, 0.3, 0.5]])
    kw = dict(mean=0.5, cov=cov, n_chains=3000, estimator="unbiased")
    exact = simulate(10, 6, seed=5, **kw)
    samples = simulate(10, 6, seed=6, method="samples", **kw)
    assert exact.info["method"] == "exact"
    for stat in [
        lambda r: np.linalg.slogdet(r.covs[10])[1],
        lambda r: np.log(np.trace(r.covs[10], axis1=1, axis2=2)),
        lambda r: r.covs[10][:, 0, 1] / np.sqrt(r.covs[10][:, 0, 0] * r.covs[10][:, 1, 1]),
        lambda r: r.means[10][:, 1],
    ]:
        assert scipy.stats.ks_2samp(stat(exact), stat(samples)).pvalue > ALPHA


def test_one_dimensional_cov_matches_scalar_law():
    vector = simulate(10, 5, cov=[[4.0]], n_chains=4000, seed=8)
    scalar = simulate(10, 5, std=2.0, n_chains=4000, seed=9)
    assert vector.covs.shape == (11, 4000, 1, 1) and vector.means.shape == (11, 4000, 1)
    p = scipy.stats.ks_2samp(vector.covs[10, :, 0, 0], scalar.stds[10] ** 2).pvalue
    assert p > ALPHA


# ---------------------------------------------------------------------- d dimensions, moments


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_nd_moments_match_closed_forms(estimator):
    m, n = 8, 10
    cov = np.array([[2.0, 0.6], [0.6, 1.0]])
    mean = np.array([1.0, -1.0])
    run = simulate(n, m, mean, cov=cov, estimator=estimator, n_chains=20_000, seed=12)
    r = 1.0 if estimator == "unbiased" else (m - 1) / m
    # E[Sigma_n] = r^n Sigma_0 entrywise (a martingale for the unbiased estimator).
    assert_mean_within_se(run.covs[n], r**n * cov)
    # E|mu_n - mu_0|^2 = tr(Sigma_0) sum_{i<=n} r^(i-1) / M.
    drift = ((run.means[n] - mean) ** 2).sum(axis=1)
    assert_mean_within_se(drift, np.trace(cov) * sum(r ** (i - 1) for i in range(1, n + 1)) / m)


def test_nd_singular_start_stays_in_its_subspace():
    cov = np.array([[1.0, 2.0], [2.0, 4.0]])  # rank 1, along (1, 2)
    run = simulate(20, 10, cov=cov, n_chains=500, seed=13)
    null = np.array([2.0, -1.0]) / np.sqrt(5.0)
    scale = np.einsum("ncii->nc", run.covs)
    assert np.all(np.abs(np.einsum("i,ncij,j->nc", null, run.covs, null)) <= 1e-12 * scale + 1e-300)
    assert np.all(np.abs(run.means @ null) <= 1e-12)


def test_nd_falls_back_to_samples_when_m_is_small():
    run = simulate(5, 3, cov=np.eye(3), n_chains=10, seed=0)
    assert run.info["method"] == "samples" and run.covs.shape == (6, 10, 3, 3)
    assert simulate(5, 4, cov=np.eye(3), seed=0).info["method"] == "exact"


def test_w2_squared_to_start_nd_matches_w2_gaussians():
    cov = np.array([[1.0, 0.3], [0.3, 0.5]])
    run = simulate(5, 6, [0.0, 1.0], cov=cov, n_chains=7, seed=14)
    w2 = w2_squared_to_start(run)
    assert w2.shape == (6, 7)
    np.testing.assert_allclose(w2[0], 0.0, atol=1e-12)
    for n, c in [(1, 0), (3, 4), (5, 6)]:
        expect = w2_gaussians(run.means[n, c], run.covs[n, c], run.means[0, c], run.covs[0, c])
        assert w2[n, c] == pytest.approx(expect**2, rel=1e-9, abs=1e-14)


# ------------------------------------------------------------------ the almost-sure log rate


def test_expected_log_shrink_exact_values():
    # E[log chi2_k] = psi(k/2) + log 2: 1-D unbiased, E[log S] = psi((M-1)/2) - log((M-1)/2).
    m = np.array([3, 10, 100])
    np.testing.assert_allclose(expected_log_shrink(m),
                               scipy.special.digamma((m - 1) / 2) - np.log((m - 1) / 2),
                               rtol=1e-14)
    # The mle divides by M: the factor (M - 1)/M enters the log once per dimension.
    m = m + 2  # d = 3 needs M >= 4
    np.testing.assert_allclose(expected_log_shrink(m, 3, "mle") - expected_log_shrink(m, 3),
                               3 * np.log((m - 1) / m), rtol=1e-12)
    # About -d(d+1)/2 / (M - 1) for large M.
    assert expected_log_shrink(10_000, 5) == pytest.approx(-15 / 9_999, rel=1e-3)
    assert isinstance(expected_log_shrink(10), float)


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_expected_log_shrink_matches_simulation(estimator):
    run = simulate(1, 8, cov=np.eye(3), estimator=estimator, n_chains=20_000, seed=21)
    step = log_determinants(run)[1] - log_determinants(run)[0]
    assert_mean_within_se(step, expected_log_shrink(8, 3, estimator))
    one = simulate(1, 8, estimator=estimator, n_chains=20_000, seed=22)
    assert_mean_within_se(np.log(one.stds[1] ** 2), expected_log_shrink(8, 1, estimator))


def test_expected_log_det_matches_simulation():
    cov = np.array([[2.0, 0.6], [0.6, 1.0]])
    sizes = [6, 8, 10, 12, 14]
    run = simulate(5, sizes, cov=cov, n_chains=20_000, seed=23)
    logdet = log_determinants(run)
    np.testing.assert_allclose(logdet[0], np.log(np.linalg.det(cov)), rtol=1e-12)
    for n in range(6):
        assert_mean_within_se(logdet[n], expected_log_det(n, sizes, cov))
    # Constant M: a straight line, the same as the constant sequence.
    n = np.arange(30)
    np.testing.assert_allclose(expected_log_det(n, 9, cov),
                               np.log(np.linalg.det(cov)) + n * expected_log_shrink(9, 2),
                               rtol=1e-13)
    np.testing.assert_allclose(expected_log_det(n, [9] * 29, cov), expected_log_det(n, 9, cov),
                               rtol=1e-12)


# ------------------------------------------------------------------------------ variance_paths


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_variance_paths(estimator):
    paths, summary = variance_paths(10, 20, n_chains=20_000, n_paths=3, estimator=estimator,
                                    seed=2)
    assert len(paths) == 3 * 21 and set(paths.chain) == {0, 1, 2}
    assert summary.attrs == {"M": 10, "estimator": estimator, "n_chains": 20_000}
    gens = summary.n.to_numpy()
    np.testing.assert_allclose(summary.closed_mean,
                               expected_variance(gens, 10, estimator=estimator))
    divisor = 9 if estimator == "unbiased" else 10
    np.testing.assert_allclose(summary.typical,
                               np.exp(gens * (scipy.special.digamma(4.5) + np.log(2 / divisor))))
    # The same seed draws the same chains: paths are the first chains of the summary's run.
    run = simulate(20, 10, estimator=estimator, n_chains=20_000, seed=2)
    np.testing.assert_array_equal(paths[paths.chain == 1].variance, run.stds[:, 1] ** 2)
    np.testing.assert_allclose(summary.mc_median, np.median(run.stds**2, axis=1))
    # Light tail up to n = 5 at M = 10: the mean of 20 000 chains is within 4 SE.
    for n in range(6):
        assert_mean_within_se(run.stds[n] ** 2, summary.closed_mean[n])
    # The median tracks the almost-sure rate exp(n E[log S]) within a factor 2 by n = 20.
    ratio = summary.mc_median.to_numpy()[1:] / summary.typical.to_numpy()[1:]
    assert np.all((ratio > 0.5) & (ratio < 2))


# --------------------------------------------------------------------- Theorem 3.1, qualitatively


def test_variance_collapses_while_its_mean_is_preserved():
    m = 10
    run = simulate(20 * m, m, n_chains=2000, seed=15)
    # E[log S] = psi((M-1)/2) - log((M-1)/2) = -0.115 for M = 10: log sigma_200 ~ -11.5.
    assert np.median(run.stds[20 * m]) < 1e-3
    assert np.mean(run.stds[20 * m] < 0.1) > 0.99
    # ... while E[sigma_n^2] = 1 holds exactly, and on average over chains for small n.
    assert expected_variance(20 * m, m) == 1.0
    assert_mean_within_se(run.stds[3] ** 2, 1.0)
    # W2 to the start grows.
    w2 = w2_squared_to_start(run).mean(axis=1)
    assert w2[20 * m] > w2[m] > w2[1]


# ------------------------------------------------------------------------------- w2_gaussians


def random_spd(rng, d, rank=None):
    a = rng.standard_normal((d, rank or d))
    return a @ a.T


finite = st.floats(-10, 10, allow_nan=False)
positive = st.floats(0, 10, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(m1=finite, m2=finite, v1=positive, v2=positive)
def test_w2_1d_formula(m1, m2, v1, v2):
    expect = np.sqrt((m1 - m2) ** 2 + (np.sqrt(v1) - np.sqrt(v2)) ** 2)
    assert w2_gaussians(m1, v1, m2, v2) == pytest.approx(expect, rel=1e-12, abs=1e-12)
    # The same pair written as 1 x 1 matrices.
    matrix = w2_gaussians([m1], [[v1]], [m2], [[v2]])
    assert matrix == pytest.approx(expect, rel=1e-7, abs=1e-7)


@pytest.mark.filterwarnings("ignore::scipy.linalg.LinAlgWarning")  # sqrtm of singular matrices
@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), d=st.integers(1, 4), rank=st.integers(1, 4))
@example(seed=3234, d=4, rank=4)  # ill-conditioned (cond 2.7e5): once failed a looser check
def test_w2_properties(seed, d, rank):
    rng = np.random.default_rng(seed)
    m1, m2 = rng.standard_normal(d), rng.standard_normal(d)
    s1, s2 = random_spd(rng, d, min(rank, d)), random_spd(rng, d)
    w = w2_gaussians(m1, s1, m2, s2)
    scale = np.sqrt(np.trace(s1) + np.trace(s2)) + 1.0
    assert w == pytest.approx(w2_gaussians(m2, s2, m1, s1), rel=1e-6, abs=1e-6 * scale)
    assert w >= np.linalg.norm(m1 - m2) - 1e-12
    # A Gaussian's distance to itself is 0 up to rounding: each eigenvalue of S^1/2 S S^1/2 is
    # off by about eps |S|^2, so each square root by at most min(sqrt(eps) |S|,
    # eps |S| cond(S) / 2), and W2^2 = tr terms - 2 * sum of d roots (a factor 4 of slack).
    eps, norm = np.finfo(float).eps, np.linalg.norm(s1, 2)
    rounding = 8 * d * min(np.sqrt(eps) * norm, eps * norm * np.linalg.cond(s1))
    assert w2_gaussians(m1, s1, m1, s1) ** 2 <= rounding
    # Reference: the formula with scipy's matrix square roots.
    root = scipy.linalg.sqrtm(s2)
    cross = np.real(scipy.linalg.sqrtm(root @ s1 @ root))
    ref = np.sum((m1 - m2) ** 2) + np.trace(s1 + s2 - 2 * cross)
    assert w**2 == pytest.approx(max(ref, 0.0), rel=1e-6, abs=1e-6 * scale**2)


def test_w2_commuting_covariances():
    # Diagonal covariances commute: W2^2 = |dm|^2 + sum (sqrt(a_i) - sqrt(b_i))^2.
    a, b = np.array([1.0, 4.0, 0.0]), np.array([9.0, 1.0, 2.0])
    m1, m2 = np.zeros(3), np.array([1.0, 2.0, 2.0])
    expect = np.sqrt(9.0 + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2))
    assert w2_gaussians(m1, np.diag(a), m2, np.diag(b)) == pytest.approx(expect, rel=1e-12)


def test_w2_batched_matches_pairs():
    rng = np.random.default_rng(0)
    means = rng.standard_normal((4, 3, 2))
    covs = np.array([[random_spd(rng, 2) for _ in range(3)] for _ in range(4)])
    start_mean, start_cov = np.array([0.5, 0.0]), np.eye(2)
    batch = w2_gaussians(means, covs, start_mean, start_cov)
    assert batch.shape == (4, 3)
    for i in range(4):
        for j in range(3):
            one = w2_gaussians(means[i, j], covs[i, j], start_mean, start_cov)
            assert batch[i, j] == pytest.approx(one, rel=1e-12)
    batch_1d = w2_gaussians(np.zeros(5), np.arange(5.0), 1.0, 1.0)
    assert batch_1d.shape == (5,) and batch_1d[1] == pytest.approx(1.0)


# ------------------------------------------------------------------- simulate: shapes and seeds


@st.composite
def simulate_args(draw):
    n = draw(st.integers(0, 4))
    if draw(st.booleans()):
        sizes = draw(st.integers(2, 6))
    else:
        sizes = draw(st.lists(st.integers(2, 6), min_size=n, max_size=n))
    dim = draw(st.sampled_from([None, 1, 2, 3]))
    return dict(
        n_generations=n,
        sample_size=sizes,
        n_chains=draw(st.integers(1, 4)),
        cov=None if dim is None else np.eye(dim) * draw(st.floats(0.1, 3)),
        estimator=draw(st.sampled_from(ESTIMATORS)),
        method=draw(st.sampled_from(["exact", "samples"])),
        seed=draw(st.integers(0, 2**32 - 1)),
    )


@settings(max_examples=80, deadline=None)
@given(args=simulate_args())
def test_simulate_shapes_and_reproducibility(args):
    run = simulate(**args)
    again = simulate(**args)
    n, c = args["n_generations"], args["n_chains"]
    assert isinstance(run, Chains)
    assert run.n_generations == n and run.n_chains == c
    assert run.info["sample_sizes"].shape == (n,)
    assert run.info["estimator"] == args["estimator"]
    if args["cov"] is None:
        assert list(run.params) == ["means", "stds"]
        assert run.means.shape == run.stds.shape == (n + 1, c)
        assert np.all(run.stds >= 0) and np.all(run.stds[0] == 1.0)
        np.testing.assert_array_equal(run.stds, again.stds)
    else:
        d = args["cov"].shape[0]
        assert run.means.shape == (n + 1, c, d) and run.covs.shape == (n + 1, c, d, d)
        assert list(run.params) == ["means", "covs"]
        np.testing.assert_array_equal(run.covs[0], np.broadcast_to(args["cov"], (c, d, d)))
        np.testing.assert_array_equal(run.covs, again.covs)
        if args["method"] == "exact" and np.any(run.info["sample_sizes"] - 1 < d):
            assert run.info["method"] == "samples"
    np.testing.assert_array_equal(run.means, again.means)
    assert np.all(np.isfinite(run.means)) and w2_squared_to_start(run).shape == (n + 1, c)


def test_seed_accepts_generator_and_differs_across_seeds():
    a = simulate(20, 5, n_chains=3, seed=42)
    b = simulate(20, 5, n_chains=3, seed=np.random.default_rng(42))
    c = simulate(20, 5, n_chains=3, seed=43)
    np.testing.assert_array_equal(a.stds, b.stds)
    assert not np.array_equal(a.stds, c.stds)
    assert simulate(0, 5, mean=3.0, std=2.0).means.tolist() == [[3.0]]


def test_zero_std_stays_degenerate():
    run = simulate(5, 4, mean=2.0, std=0.0, n_chains=3, seed=0)
    assert np.all(run.stds == 0) and np.all(run.means == 2.0)


# ------------------------------------------------------------------------------ error messages

BAD_CALLS = [
    (lambda: simulate(5, 1), r"^sample_size must be an integer >= 2 \(got 1\)"),
    (lambda: simulate(5, 2.5), r"^sample_size must be an integer"),
    (lambda: simulate(3, [10, 1, 10]), r"^sample_size must contain integers >= 2"),
    (lambda: simulate(3, [10, 10]), r"^sample_size .*length n_generations=3 \(got length 2\)"),
    (lambda: simulate(-1, 10), r"^n_generations must be an integer >= 0"),
    (lambda: simulate(2.5, 10), r"^n_generations"),
    (lambda: simulate(5, 10, n_chains=0), r"^n_chains must be an integer >= 1"),
    (lambda: simulate(5, 10, std=-1.0), r"^std must be a finite number >= 0"),
    (lambda: simulate(5, 10, mean=np.nan), r"^mean"),
    (lambda: simulate(5, 10, estimator="biased"), r"^estimator must be one of 'unbiased', 'mle'"),
    (lambda: simulate(5, 10, method="fast"), r"^method must be one of 'exact', 'samples'"),
    (lambda: simulate(5, 10, cov=[[1, 0, 0], [0, 1, 0]]), r"^cov must be a square matrix"),
    (lambda: simulate(5, 10, cov=[1.0, 2.0]), r"^cov must be a square matrix"),
    (lambda: simulate(5, 10, cov=[[1, 0.5], [0, 1]]), r"^cov must be symmetric"),
    (lambda: simulate(5, 10, cov=[[1, 2], [2, 1]]), r"^cov must be positive semi-definite"),
    (lambda: simulate(5, 10, mean=[0, 0, 0], cov=np.eye(2)), r"^mean must be a scalar or a vec"),
    (lambda: simulate(5, 10, mean=[0, 0]), r"^mean must be a scalar in 1-D"),
    (lambda: simulate(5, 10, std=2.0, cov=np.eye(2)), r"^std must be left at 1.0"),
    (lambda: expected_std(5, 1), r"^sample_size must be an integer >= 2"),
    (lambda: expected_std(-1, 10), r"^n must be an integer >= 0"),
    (lambda: expected_std(1.5, 10), r"^n must be an integer"),
    (lambda: expected_std([1, -2], 10), r"^n must contain integers >= 0"),
    (lambda: expected_std(3, [10, 10]), r"^n must be an integer in 0..2 \(got 3\)"),
    (lambda: expected_variance(3, 10, std=-2.0), r"^std"),
    (lambda: expected_mean_squared_drift(3, 10, estimator="MLE"), r"^estimator must be one of"),
    (lambda: expected_w2_squared(3, [[10, 10]]), r"^sample_size must be an integer or a 1-D"),
    (lambda: std_shrink_factor(1), r"^sample_size must be an integer >= 2"),
    (lambda: std_shrink_factor([5, 1]), r"^sample_size must contain integers >= 2"),
    (lambda: w2_gaussians(0.0, -1.0, 0.0, 1.0), r"^cov1 must be a variance >= 0"),
    (lambda: w2_gaussians([0, 0], np.eye(3), [0, 0], np.eye(2)), r"^cov1 must have the shape"),
    (lambda: w2_gaussians([0, 0], np.eye(2), [0, 0, 0], np.eye(3)), r"^mean2 and cov2 must"),
    (lambda: w2_gaussians(0, 1, [0, 0], [[1, 0.2], [0, 1]]), r"^cov2 must be symmetric"),
    (lambda: w2_gaussians(0, 1, [0, 0], [[1, 2], [2, 1]]), r"^cov2 must be positive semi"),
    (lambda: w2_squared_to_start(np.zeros((3, 2))), r"^chains must be Gaussian Chains"),
    (lambda: w2_squared_to_start(Chains({"probs": np.ones((2, 1, 2))})), r"^chains must be"),
    (lambda: log_determinants(simulate(2, 5)), r"^chains must be d-dimensional"),
    (lambda: expected_log_shrink(3, dim=3), r"^sample_size must be an integer >= 4"),
    (lambda: expected_log_shrink(5, dim=0), r"^dim must be an integer >= 1"),
    (lambda: expected_log_shrink(5, estimator="ml"), r"^estimator must be one of"),
    (lambda: expected_log_det(2, 5, [[1, 1], [1, 1]]), r"^cov must be positive definite"),
    (lambda: expected_log_det(3, [5, 5], np.eye(2)), r"^n must be an integer in 0..2"),
    (lambda: expected_log_det(1, 2, np.eye(2)), r"^sample_size must be an integer >= 3"),
    (lambda: variance_paths(10, 5, n_chains=5, n_paths=6), r"^n_paths must be an integer in 1..5"),
    (lambda: variance_paths(1, 5, n_chains=5, n_paths=1), r"^M must be an integer >= 2"),
    (lambda: variance_paths(5, 5, n_chains=1, n_paths=1), r"^n_chains must be an integer >= 2"),
    (lambda: variance_paths(5, 5, 5, 1, estimator="x"), r"^estimator must be one of"),
]


@pytest.mark.parametrize("call, message", BAD_CALLS)
def test_bad_arguments_raise_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
