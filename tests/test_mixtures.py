"""Tests for collapse_utils.mixtures: closed forms exactly, numerics against independent methods.

Exact results (moment matching, Gaussian KL and W2) are checked to rounding. Numerical integrals
are checked against an independent method (scipy.integrate.quad on the real line, or a dense
grid). Monte Carlo checks compare a mean over many draws with its exact value and allow 4 standard
errors (sample std / sqrt(count)): with fixed seeds each check is deterministic, and a correct
formula would fail it with probability about 6e-5.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, special, stats

from collapse_utils import gaussian
from collapse_utils.chains import Chains
from collapse_utils.mixtures import (
    Mixture1D,
    components_frame,
    distance_to_truth,
    failure_modes,
    fit_mixture,
    fit_sklearn_mixture,
    kl_divergence,
    kl_to_gaussian,
    model_at,
    moment_match,
    refit_chain,
    w2_distance,
    w2_to_gaussian,
)

TWO = Mixture1D([0.5, 0.5], [-2.0, 2.0], [0.6, 0.6])
THREE = Mixture1D([0.45, 0.45, 0.10], [-3.0, 0.0, 4.0], [0.7, 0.7, 0.5])


def assert_mean_within_se(values, expected, k=4.0):
    """Assert |mean(values) - expected| <= k standard errors."""
    values = np.asarray(values, dtype=float)
    se = values.std(ddof=1) / np.sqrt(values.size)
    gap = abs(values.mean() - expected)
    assert gap <= k * se + 1e-12, f"mean {values.mean()}, expected {expected}, {gap / se:.1f} SE"


def kl_gaussians(m1, s1, m2, s2):
    return np.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - 0.5


def quad_kl(p, q):
    """KL(p || q) by adaptive quadrature on the real line, an independent check."""
    lo, hi = (p.means - 14 * p.stds).min(), (p.means + 14 * p.stds).max()
    pts = np.unique(np.concatenate([p.means, p.means - 3 * p.stds, p.means + 3 * p.stds]))
    value, _ = integrate.quad(lambda x: p.pdf(x) * (p.logpdf(x) - q.logpdf(x)), lo, hi,
                              points=pts, limit=500, epsabs=1e-13, epsrel=1e-11)
    return value


mixtures_st = st.integers(1, 4).flatmap(lambda k: st.tuples(
    st.lists(st.floats(0.05, 1.0), min_size=k, max_size=k),
    st.lists(st.floats(-5, 5), min_size=k, max_size=k),
    st.lists(st.floats(0.1, 3.0), min_size=k, max_size=k),
)).map(lambda t: Mixture1D(np.array(t[0]) / sum(t[0]), t[1], t[2]))


# ----------------------------------------------------------------------------- the mixture


def test_mixture_moments_and_densities():
    assert TWO.mean() == 0.0 and TWO.var() == pytest.approx(4.36, rel=1e-15)
    assert THREE.second_moment() == pytest.approx(THREE.var() + THREE.mean() ** 2, rel=1e-14)
    x = np.linspace(-8, 8, 101)
    expected = 0.45 * stats.norm.pdf(x, -3, 0.7) + 0.45 * stats.norm.pdf(x, 0, 0.7) \
        + 0.1 * stats.norm.pdf(x, 4, 0.5)
    np.testing.assert_allclose(THREE.pdf(x), expected, rtol=1e-13)
    cdf = 0.45 * stats.norm.cdf(x, -3, 0.7) + 0.45 * stats.norm.cdf(x, 0, 0.7) \
        + 0.1 * stats.norm.cdf(x, 4, 0.5)
    np.testing.assert_allclose(THREE.cdf(x), cdf, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(THREE.cdf(x) + THREE.sf(x), 1.0, rtol=1e-14)
    # Far tails stay accurate on the log scale.
    assert THREE.logcdf(-60.0) == pytest.approx(np.log(0.45) + special.log_ndtr(-57 / 0.7),
                                                rel=1e-12)
    total, _ = integrate.quad(THREE.pdf, -20, 20, points=[-3, 0, 4])
    assert total == pytest.approx(1.0, abs=1e-10)


def test_ppf_inverts_cdf_including_far_tails():
    q = np.array([1e-300, 1e-20, 1e-6, 0.01, 0.3, 0.5, 0.7, 0.99, 1 - 1e-12])
    x = THREE.ppf(q)
    lower = q <= 0.5
    np.testing.assert_allclose(np.exp(THREE.logcdf(x[lower])), q[lower], rtol=1e-11)
    np.testing.assert_allclose(THREE.sf(x[~lower]), 1 - q[~lower], rtol=1e-9)
    assert THREE.ppf(0.0) == -np.inf and THREE.ppf(1.0) == np.inf
    assert isinstance(THREE.ppf(0.5), float)
    # A Gaussian's quantiles are exact.
    g = Mixture1D.gaussian(1.0, 2.0)
    np.testing.assert_allclose(g.ppf(q[:-1]), stats.norm.ppf(q[:-1], 1, 2), rtol=1e-12)
    t = np.linspace(-30, 30, 13)
    np.testing.assert_allclose(THREE.normal_score(THREE.normal_score_quantile(t)), t,
                               rtol=1e-12, atol=1e-12)


def test_sample_matches_moments():
    x = THREE.sample(200_000, seed=1)
    assert_mean_within_se(x, THREE.mean())
    assert_mean_within_se((x - THREE.mean()) ** 2, THREE.var())
    assert stats.kstest(x[:20_000], THREE.cdf).pvalue > 1e-3
    np.testing.assert_array_equal(THREE.sample(5, seed=3), THREE.sample(5, seed=3))
    assert THREE.sample((2, 3), seed=0).shape == (2, 3)


def test_entropy_against_quadrature():
    lo, hi = -15, 15
    ref, _ = integrate.quad(lambda x: -THREE.pdf(x) * THREE.logpdf(x), lo, hi,
                            points=[-3, 0, 4], limit=200, epsabs=1e-13)
    assert THREE.entropy() == pytest.approx(ref, abs=1e-10)
    assert Mixture1D.gaussian(0, 2.0).entropy() == pytest.approx(stats.norm(0, 2).entropy(),
                                                                  rel=1e-15)


# ---------------------------------------------------------------------- moment matching, KL


def test_moment_match_closed_form():
    q = moment_match(TWO)
    assert q.n_components == 1
    assert q.mean() == 0.0 and q.var() == pytest.approx(0.36 + 4.0, rel=1e-15)
    w1, w2, m1, m2, s1, s2 = 0.2, 0.8, 1.0, 3.0, 1.0, 0.5
    q = moment_match(Mixture1D([w1, w2], [m1, m2], [s1, s2]))
    assert q.mean() == pytest.approx(w1 * m1 + w2 * m2, rel=1e-15)
    assert q.var() == pytest.approx(w1 * s1**2 + w2 * s2**2 + w1 * w2 * (m1 - m2) ** 2, rel=1e-14)


def test_moment_match_is_the_max_likelihood_fit_on_a_large_sample():
    x = TWO.sample(400_000, seed=2)
    q = moment_match(TWO)
    assert_mean_within_se(x, q.mean())
    assert_mean_within_se((x - q.mean()) ** 2, q.var())


def test_kl_between_gaussians_is_exact():
    a, b = Mixture1D.gaussian(1.0, 2.0), Mixture1D.gaussian(-1.0, 0.5)
    assert kl_divergence(a, b) == pytest.approx(kl_gaussians(1, 2, -1, 0.5), rel=1e-12)
    assert kl_divergence(a, a) == 0.0


@pytest.mark.parametrize("p, q", [(TWO, moment_match(TWO)), (THREE, moment_match(THREE)),
                                  (moment_match(THREE), THREE),
                                  (Mixture1D([0.5, 0.5], [-10, 10], [0.05, 0.05]),
                                   Mixture1D.gaussian(0, 3))])
def test_kl_against_quad(p, q):
    assert kl_divergence(p, q) == pytest.approx(quad_kl(p, q), rel=1e-9, abs=1e-12)


def test_kl_to_gaussian_matches_kl_divergence_and_entropy_gap():
    q = moment_match(THREE)
    assert kl_to_gaussian(THREE, q.mean(), q.std()) == pytest.approx(
        kl_divergence(THREE, q), rel=1e-10)
    assert kl_divergence(THREE, q) == pytest.approx(q.entropy() - THREE.entropy(), rel=1e-10)
    means, stds = np.array([0.0, 1.0, -2.0]), np.array([1.0, 2.0, 0.5])
    out = kl_to_gaussian(THREE, means, stds)
    expected = [kl_divergence(THREE, Mixture1D.gaussian(m, s))
                for m, s in zip(means, stds, strict=True)]
    np.testing.assert_allclose(out, expected, rtol=1e-9)


@settings(max_examples=30, deadline=None)
@given(p=mixtures_st, dm=st.floats(-1, 1), ds=st.floats(0.5, 2.0))
def test_moment_match_minimises_kl_over_gaussians(p, dm, ds):
    q = moment_match(p)
    best = kl_to_gaussian(p, q.mean(), q.std())
    assert best >= 0
    assert kl_to_gaussian(p, q.mean() + dm, q.std() * ds) >= best - 1e-12


# ---------------------------------------------------------------------------------------- W2


def test_w2_between_gaussians_is_exact():
    a, b = Mixture1D.gaussian(1.0, 2.0), Mixture1D.gaussian(-1.0, 0.5)
    assert w2_distance(a, b) == pytest.approx(gaussian.w2_gaussians(1.0, 4.0, -1.0, 0.25),
                                              rel=1e-12)
    assert w2_to_gaussian(a, -1.0, 0.5) == pytest.approx(np.sqrt(4 + 1.5**2), rel=1e-12)


def test_w2_against_the_transport_map_integral():
    """W2^2 = int (x - T(x))^2 p(x) dx with T = G^{-1} o F, by adaptive quadrature."""
    for p in (TWO, THREE):
        q = moment_match(p)
        lo, hi = (p.means - 14 * p.stds).min(), (p.means + 14 * p.stds).max()

        def integrand(x, p=p, q=q):
            return (x - q.normal_score_quantile(p.normal_score(x))) ** 2 * p.pdf(x)

        ref, _ = integrate.quad(integrand, lo, hi, points=np.unique(p.means), limit=500,
                                epsabs=1e-13, epsrel=1e-11)
        assert w2_distance(p, q) == pytest.approx(np.sqrt(ref), rel=1e-8)
        assert w2_to_gaussian(p, q.mean(), q.std()) == pytest.approx(np.sqrt(ref), rel=1e-8)


def test_w2_against_sorted_samples():
    """The empirical W2 between large samples (sorted pairing) converges to W2."""
    n = 400_000
    x = np.sort(THREE.sample(n, seed=4))
    y = np.sort(TWO.sample(n, seed=5))
    assert np.sqrt(np.mean((x - y) ** 2)) == pytest.approx(w2_distance(THREE, TWO), rel=0.01)


def test_w2_to_gaussian_vectorised():
    means, stds = np.array([0.0, 1.0]), np.array([[1.0], [2.0], [0.0]])
    out = w2_to_gaussian(THREE, means, stds)
    assert out.shape == (3, 2)
    for i in range(3):
        for j in range(2):
            if stds[i, 0] > 0:
                ref = w2_distance(THREE, Mixture1D.gaussian(means[j], stds[i, 0]))
                assert out[i, j] == pytest.approx(ref, rel=1e-9)
    # A point mass at m: W2^2 = E[(X - m)^2].
    assert out[2, 1] == pytest.approx(np.sqrt(THREE.var() + (THREE.mean() - 1.0) ** 2), rel=1e-12)


@settings(max_examples=25, deadline=None)
@given(p=mixtures_st, q=mixtures_st, r=mixtures_st, shift=st.floats(-3, 3))
def test_w2_is_a_metric_and_shifts(p, q, r, shift):
    pq, qp = w2_distance(p, q), w2_distance(q, p)
    assert pq == pytest.approx(qp, rel=1e-9, abs=1e-12)
    assert w2_distance(p, p) == 0.0
    assert pq <= w2_distance(p, r) + w2_distance(r, q) + 1e-9
    moved = Mixture1D(p.weights, p.means + shift, p.stds)
    assert w2_distance(p, moved) == pytest.approx(abs(shift), rel=1e-8, abs=1e-9)


# ---------------------------------------------------------------------------- failure modes


def test_failure_modes_two_symmetric_modes():
    q = moment_match(TWO)
    frame = failure_modes(TWO, q)
    assert list(frame.columns) == ["region", "truth_mass", "model_mass", "ratio"]
    # The gap is a symmetric interval [-a, a] where p = 1% of its peak: check it by root finding.
    from scipy.optimize import brentq

    peak = TWO.pdf(2.0)
    a = brentq(lambda x: TWO.pdf(x) - 0.01 * peak, 0.0, 2.0)
    assert frame.truth_mass[0] == pytest.approx(TWO.cdf(a) - TWO.cdf(-a), rel=1e-6)
    assert frame.model_mass[0] == pytest.approx(q.cdf(a) - q.cdf(-a), rel=1e-6)
    assert frame.truth_mass[1] == pytest.approx(0.002, rel=1e-12)
    assert frame.model_mass[1] == pytest.approx(2 * q.sf(TWO.ppf(0.999)), rel=1e-10)
    assert (frame.ratio > 10).all()


def test_failure_modes_of_a_perfect_model_are_one():
    frame = failure_modes(TWO, TWO)
    np.testing.assert_allclose(frame.ratio, 1.0, rtol=1e-10)
    single = failure_modes(Mixture1D.gaussian(), Mixture1D.gaussian())
    assert single.truth_mass[0] == 0.0 and single.model_mass[0] == 0.0


# ------------------------------------------------------------------------- fitting mixtures


def test_fit_mixture_one_component_is_moment_matching():
    q = fit_mixture(THREE, 1)
    assert q.mean() == moment_match(THREE).mean() and q.var() == moment_match(THREE).var()


def test_fit_mixture_recovers_a_representable_truth():
    q = fit_mixture(THREE, 3)
    np.testing.assert_allclose(q.weights, THREE.weights, atol=1e-8)
    np.testing.assert_allclose(q.means, THREE.means, atol=1e-8)
    np.testing.assert_allclose(q.stds, THREE.stds, atol=1e-8)


def test_fit_mixture_is_a_projection_and_matches_sklearn():
    q = fit_mixture(THREE, 2)
    again = fit_mixture(q, 2)
    np.testing.assert_allclose(again.means, q.means, atol=1e-8)
    np.testing.assert_allclose(again.stds, q.stds, atol=1e-8)
    # EM on a large sample, run to convergence, lands within sampling noise of exact EM.
    fit = fit_sklearn_mixture(THREE.sample(100_000, seed=6), 2, seed=0, tol=1e-10,
                              max_iter=10_000)
    np.testing.assert_allclose(fit.means, q.means, atol=0.05)
    np.testing.assert_allclose(fit.weights, q.weights, atol=0.02)
    # Mixture likelihood never loses to the one-Gaussian fit.
    assert kl_divergence(THREE, q) < kl_divergence(THREE, moment_match(THREE))


# ---------------------------------------------------------------------------------- chains


def test_refit_chain_perfect_information_stops_after_one_generation():
    chains = refit_chain(TWO, 5)
    assert isinstance(chains, Chains)
    assert chains.n_generations == 5 and chains.n_chains == 1
    # Row 0 is the truth; the one-Gaussian models leave their second slot empty.
    assert model_at(chains, 0).n_components == 2
    np.testing.assert_array_equal(chains.means[0, 0], TWO.means)
    np.testing.assert_array_equal(chains.weights[1:, 0, 1], 0.0)
    assert np.isnan(chains.means[1:, 0, 1]).all()
    q = moment_match(TWO)
    np.testing.assert_array_equal(chains.stds[1:, 0, 0], q.std())
    kl = distance_to_truth(chains, "kl")
    assert kl.shape == (6, 1) and kl[0, 0] == 0.0
    np.testing.assert_allclose(kl[1:], kl_divergence(TWO, q), rtol=1e-9)
    np.testing.assert_allclose(distance_to_truth(chains)[1:], w2_distance(TWO, q), rtol=1e-9)
    two = refit_chain(THREE, 3, n_components=2)
    assert model_at(two, 3).n_components == 2
    w2 = distance_to_truth(two)
    np.testing.assert_allclose(w2[1:], w2[1, 0], rtol=1e-8)
    assert w2[1, 0] == pytest.approx(w2_distance(THREE, fit_mixture(THREE, 2)), rel=1e-12)


def test_refit_chain_finite_samples_match_closed_forms():
    m, n_chains = 20, 20_000
    chains = refit_chain(TWO, 6, sample_size=m, n_chains=n_chains, seed=7)
    means, stds = chains.means[..., 0], chains.stds[..., 0]
    assert_mean_within_se(means[1], 0.0)
    # Unbiased estimator: E[sigma_n^2] = Var_p(X) for every n (a martingale from generation 1 on).
    for g in (1, 6):
        assert_mean_within_se(stds[g] ** 2, TWO.var())
    # Drift of the mean: generation 1 adds Var_p / M, each later one E[sigma^2] / M = Var_p / M.
    assert_mean_within_se(means[6] ** 2, 6 * TWO.var() / m)
    # The distances are those of the fitted Gaussians.
    fitted = model_at(chains, 1, 3)
    assert fitted.n_components == 1 and fitted.mean() == means[1, 3]
    assert distance_to_truth(chains, "kl")[1, 3] == pytest.approx(kl_divergence(TWO, fitted),
                                                                rel=1e-9)
    assert distance_to_truth(chains, "w2")[1, 3] == pytest.approx(w2_distance(TWO, fitted),
                                                                rel=1e-9)


def test_refit_chain_sklearn_runs_and_is_seeded():
    a = refit_chain(THREE, 2, n_components=2, sample_size=300, n_chains=2, seed=1)
    b = refit_chain(THREE, 2, n_components=2, sample_size=300, n_chains=2, seed=1)
    for name in ("weights", "means", "stds"):
        np.testing.assert_array_equal(a.params[name], b.params[name])
    assert a.means.shape == (3, 2, 3) and a.info["n_components"] == 2
    np.testing.assert_allclose(a.weights.sum(axis=-1), 1.0, rtol=1e-12)
    assert (distance_to_truth(a)[1:] > 0).all()


def test_components_frame():
    q = moment_match(TWO)
    table = components_frame({"q": q, "p": TWO})
    assert list(table.model) == ["q", "p", "p"]
    assert list(table.columns) == ["model", "component", "weight", "mean", "std"]


# ------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("call, message", [
    (lambda: Mixture1D([0.5, 0.6], [0, 1], [1, 1]), "^weights must sum to 1"),
    (lambda: Mixture1D([0.5, 0.5], [0], [1, 1]), "^means must have one entry per weight"),
    (lambda: Mixture1D([0.5, 0.5], [0, 1], [1, 0]), "^stds must be > 0"),
    (lambda: Mixture1D([1.0], [np.nan], [1]), "^means must be finite"),
    (lambda: moment_match("p"), "^p must be a Mixture1D"),
    (lambda: kl_divergence(TWO, 3), "^q must be a Mixture1D"),
    (lambda: w2_distance(TWO, TWO, n_grid=2), "^n_grid must be an integer >= 11"),
    (lambda: kl_to_gaussian(TWO, 0.0, 0.0), "^std must be > 0"),
    (lambda: w2_to_gaussian(TWO, 0.0, -1.0), "^std must be >= 0"),
    (lambda: TWO.ppf(1.5), "^q must be a probability"),
    (lambda: TWO.sample(-1), "^size must be an integer >= 0"),
    (lambda: failure_modes(TWO, TWO, level=0.0), "^level must be in"),
    (lambda: failure_modes(TWO, TWO, tail=0.5), "^tail must be in"),
    (lambda: fit_mixture(TWO, 0), "^n_components must be an integer >= 1"),
    (lambda: fit_sklearn_mixture(np.zeros((3, 2)), 2), "^x must be a 1-D array"),
    (lambda: refit_chain(TWO, -1), "^n_generations must be an integer >= 0"),
    (lambda: refit_chain(TWO, 2, n_chains=3), "^n_chains must be 1 when sample_size is None"),
    (lambda: refit_chain(TWO, 2, sample_size=1), "^sample_size must be an integer >= 2"),
    (lambda: refit_chain(TWO, 2, sample_size=10, estimator="x"), "^estimator must be one of"),
    (lambda: distance_to_truth(refit_chain(TWO, 1), "l2"), "^metric must be one of"),
    (lambda: distance_to_truth("chains"), "^chains must be a Chains from refit_chain"),
    (lambda: model_at(refit_chain(TWO, 1), 2), r"^generation must be an integer in 0\.\.1"),
])
def test_bad_arguments_raise(call, message):
    with pytest.raises(ValueError, match=message):
        call()
