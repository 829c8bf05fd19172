"""Tests for collapse_utils.gmm: the closed-form L2 distance and the recursive GMM of chapter 5.

The L2 distance is checked against independent numerical integrals (quadrature in 1-D, a dense
grid in 2-D) and for the metric axioms (hypothesis, derandomized). The chain is checked for its
bookkeeping, its seeding, the short loop chapter 5 shows (the same numbers, exactly), and the
pitfall of a reused random_state (the same noise every generation, exactly).
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from collapse_utils import gmm
from collapse_utils.chains import Chains
from collapse_utils.gmm import l2_distance, recursive_gmm

# ------------------------------------------------------------------------ L2 between mixtures


def test_l2_distance_1d_against_quadrature():
    w1, m1, c1 = [0.3, 0.7], [[-1.0], [2.0]], [[[0.5]], [[1.5]]]
    w2, m2, c2 = [1.0], [[0.5]], [[[2.0]]]

    def density(w, m, c):
        return lambda x: sum(wk * stats.norm(mk[0], np.sqrt(ck[0][0])).pdf(x)
                             for wk, mk, ck in zip(w, m, c, strict=True))

    p, q = density(w1, m1, c1), density(w2, m2, c2)
    ref, _ = integrate.quad(lambda x: (p(x) - q(x)) ** 2, -20, 20, limit=200)
    assert l2_distance(w1, m1, c1, w2, m2, c2) == pytest.approx(np.sqrt(ref), rel=1e-10)


def test_l2_distance_2d_against_a_grid():
    w1, m1 = [0.4, 0.6], [[0.0, 0.0], [2.0, 1.0]]
    c1 = [[[1.0, 0.3], [0.3, 0.5]], [[0.4, -0.1], [-0.1, 0.8]]]
    w2, m2, c2 = [1.0], [[1.0, 0.5]], [[[1.2, 0.2], [0.2, 1.0]]]
    g = np.linspace(-7, 9, 801)
    xx, yy = np.meshgrid(g, g, indexing="ij")
    pts = np.stack([xx, yy], -1)

    def density(w, m, c):
        return sum(wk * stats.multivariate_normal(mk, ck).pdf(pts)
                   for wk, mk, ck in zip(w, m, c, strict=True))

    diff = (density(w1, m1, c1) - density(w2, m2, c2)) ** 2
    ref = integrate.trapezoid(integrate.trapezoid(diff, g, axis=1), g)
    assert l2_distance(w1, m1, c1, w2, m2, c2) == pytest.approx(np.sqrt(ref), rel=1e-6)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), d=st.integers(1, 3))
def test_l2_distance_is_a_metric(seed, d):
    rng = np.random.default_rng(seed)

    def random_gmm(k):
        a = rng.normal(size=(k, d, d))
        covs = a @ a.transpose(0, 2, 1) + 0.3 * np.eye(d)
        return rng.dirichlet(np.ones(k)), rng.normal(size=(k, d)), covs

    p, q, r = random_gmm(2), random_gmm(3), random_gmm(1)
    assert l2_distance(*p, *p) == pytest.approx(0.0, abs=1e-7)
    assert l2_distance(*p, *q) == pytest.approx(l2_distance(*q, *p), rel=1e-10)
    assert l2_distance(*p, *q) <= l2_distance(*p, *r) + l2_distance(*r, *q) + 1e-9


# ------------------------------------------------------------------------- the recursive GMM


@pytest.fixture(scope="module")
def gmm_chain():
    return recursive_gmm(30, sample_size=200, keep=(0, 1, 30), seed=0, progress=False)


def test_recursive_gmm_bookkeeping(gmm_chain):
    c = gmm_chain
    assert isinstance(c, Chains) and c.n_generations == 30 and c.n_chains == 1
    assert c.weights.shape == (31, 1, 2) and c.means.shape == (31, 1, 2, 2)
    assert c.covs.shape == (31, 1, 2, 2, 2)
    np.testing.assert_allclose(c.weights.sum(axis=-1), 1.0, rtol=1e-12)
    samples, labels = c.info["samples"], c.info["labels"]
    assert sorted(samples) == [0, 1, 30] and samples[1].shape == (200, 2)
    assert (labels[0] == -1).all() and set(np.unique(labels[30])) <= {0, 1}
    assert c.info["sample_size"] == 200 and c.info["n_components"] == 2
    l2 = gmm.l2_to_start(c)
    assert l2.shape == (31, 1) and l2[0, 0] == 0.0
    for g in (1, 30):
        assert l2[g, 0] == pytest.approx(l2_distance(c.weights[0, 0], c.means[0, 0], c.covs[0, 0],
                                                     c.weights[g, 0], c.means[g, 0],
                                                     c.covs[g, 0]), rel=1e-10)
    stds = gmm.component_stds(c)
    assert stds.shape == (31, 1, 2)
    np.testing.assert_allclose(stds[5, 0, 1], np.sqrt(np.trace(c.covs[5, 0, 1]) / 2), rtol=1e-14)


def test_recursive_gmm_is_the_chapters_short_loop(gmm_chain):
    """Chapter 5 shows the loop in a few lines; the package's chain gives the same fits."""
    from sklearn.datasets import make_blobs
    from sklearn.mixture import GaussianMixture

    rng = np.random.default_rng(0)

    def fresh():
        return int(rng.integers(2**31))

    x, _ = make_blobs(n_samples=200, centers=2, random_state=fresh())
    model = GaussianMixture(n_components=2, covariance_type="full", random_state=fresh())
    model.set_params(random_state=fresh()).fit(x)
    np.testing.assert_array_equal(x, gmm_chain.info["samples"][0])
    for g in range(1, 6):
        x, _ = model.set_params(random_state=fresh()).sample(200)
        model.set_params(random_state=fresh()).fit(x)
        np.testing.assert_array_equal(model.means_, gmm_chain.means[g, 0])
        np.testing.assert_array_equal(model.covariances_, gmm_chain.covs[g, 0])


def test_recursive_gmm_is_seeded_and_fresh(gmm_chain):
    again = recursive_gmm(30, sample_size=200, keep=(0, 1, 30), seed=0, progress=False)
    np.testing.assert_array_equal(again.means, gmm_chain.means)
    other = recursive_gmm(30, sample_size=200, keep=(0, 1, 30), seed=1, progress=False)
    assert not np.allclose(other.means[1:], gmm_chain.means[1:])


def test_recursive_gmm_reused_state_repeats_the_noise():
    """With one random_state, each component's standardised draws are the same every time."""
    data = np.random.default_rng(0).normal(size=(300, 2))
    c = recursive_gmm(3, sample_size=300, n_components=1, data=data, keep=(1, 2, 3),
                      reuse_random_state=True, seed=1, progress=False)
    samples = c.info["samples"]

    def mahalanobis(x, g):
        """|z| for x = mean + (a square root of cov) z: the same for the same noise z."""
        diff = x - c.means[g - 1, 0, 0]
        return np.sqrt(np.einsum("ij,ij->i", diff,
                                 np.linalg.solve(c.covs[g - 1, 0, 0], diff.T).T))

    np.testing.assert_allclose(mahalanobis(samples[2], 2), mahalanobis(samples[3], 3),
                               rtol=1e-8)


def test_recursive_gmm_shrinks_small_samples():
    c = recursive_gmm(300, sample_size=30, n_components=1, keep=(), seed=2, progress=False)
    stds = gmm.component_stds(c)
    assert stds[-1, 0, 0] < 0.5 * stds[0, 0, 0]


# ------------------------------------------------------------ finite precision and findings


def test_precision_rounds_the_data_and_nothing_else(gmm_chain):
    from collapse_utils.precision import round_to

    same = recursive_gmm(30, sample_size=200, keep=(0, 1, 30), precision="float64", seed=0,
                         progress=False)
    np.testing.assert_array_equal(same.means, gmm_chain.means)
    low = recursive_gmm(30, sample_size=200, keep=(0, 1, 30), precision="bfloat16", seed=0,
                        progress=False)
    assert low.info["precision"] == "bfloat16"
    for g in (0, 1, 30):
        x = low.info["samples"][g]
        np.testing.assert_array_equal(round_to(x, "bfloat16"), x)
    # Generation 0 sees the rounded original data: fits within rounding of the float64 fit.
    np.testing.assert_array_equal(low.info["samples"][0],
                                  round_to(gmm_chain.info["samples"][0], "bfloat16"))
    assert 0 < gmm.relative_l2_gap(low, gmm_chain)[0, 0] < 0.01
    with pytest.raises(ValueError, match="^precision must be one of 'float64'"):
        recursive_gmm(2, precision="half")


def test_relative_l2_gap_is_label_free(gmm_chain):
    assert np.all(gmm.relative_l2_gap(gmm_chain, gmm_chain) == 0)
    swapped = Chains({k: v[:, :, ::-1] for k, v in gmm_chain.params.items()}, gmm_chain.info)
    np.testing.assert_allclose(gmm.relative_l2_gap(swapped, gmm_chain), 0, atol=1e-7)
    other = recursive_gmm(30, sample_size=200, keep=(), seed=1, progress=False)
    gap = gmm.relative_l2_gap(other, gmm_chain)
    c = gmm_chain
    # ||q||^2 from the distance to a far-away N(., I), whose own squared norm is 1 / (4 pi).
    far = l2_distance(c.weights[7, 0], c.means[7, 0], c.covs[7, 0], [1.0], [[1e6, 1e6]],
                      [np.eye(2)])
    norm = np.sqrt(far**2 - 1 / (4 * np.pi))
    expected = l2_distance(other.weights[7, 0], other.means[7, 0], other.covs[7, 0],
                           c.weights[7, 0], c.means[7, 0], c.covs[7, 0]) / norm
    assert gap[7, 0] == pytest.approx(expected, rel=1e-8)
    short = recursive_gmm(3, sample_size=200, keep=(), seed=1, progress=False)
    with pytest.raises(ValueError, match="^reference must have the shape"):
        gmm.relative_l2_gap(short, gmm_chain)


def test_findings(gmm_chain):
    from scipy.special import digamma

    found = gmm.findings(gmm_chain)
    stds = np.sort(gmm.component_stds(gmm_chain)[:, 0], axis=-1)
    assert found["generations"] == 30 and found["points"] == 100
    assert found["std_first"] == pytest.approx(stds[0].mean())
    assert found["shrink_small"] == pytest.approx(stds[-1, 0] / stds[0].mean())
    # 1-D: E log(s^2) = psi((m - 1)/2) - log((m - 1)/2) for the unbiased variance of m points.
    log_step = (digamma(99 / 2) - np.log(99 / 2)) / 2 + np.log(99 / 100) / 2
    assert found["predicted_shrink"] == pytest.approx(np.exp(30 * log_step), rel=1e-12)
    assert found["factor_unbiased"] * found["factor_mle"] == pytest.approx(np.exp(log_step))
    assert found["means_gap_first"] > 1 and found["lost_at"] in range(-1, 31)


# ------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("call, message", [
    (lambda: l2_distance([1.0], [[0.0]], [[[1.0]]], [1.0], [[0.0, 1.0]], [np.eye(2)]),
     "^means2 must have the dimension"),
    (lambda: l2_distance([1.0], [0.0], [[[1.0]]], [1.0], [[0.0]], [[[1.0]]]),
     r"^means1 must have shape \(K, d\)"),
    (lambda: l2_distance([1.0], [[0.0]], [[[-1.0]]], [1.0], [[0.0]], [[[1.0]]]),
     "^covs1 must be positive semi-definite"),
    (lambda: recursive_gmm(-1), "^n_generations must be an integer >= 0"),
    (lambda: recursive_gmm(2, sample_size=2), "^sample_size must be an integer >= 3"),
    (lambda: recursive_gmm(2, data=np.zeros(5)), r"^data must have shape \(M0, d\)"),
    (lambda: gmm.l2_to_start("chain"), "^chains must be a Chains of Gaussian mixtures"),
    (lambda: gmm.component_stds(Chains({"means": np.zeros((2, 1))})),
     "^chains must be a Chains of Gaussian mixtures"),
])
def test_bad_arguments_raise(call, message):
    with pytest.raises(ValueError, match=message):
        call()
