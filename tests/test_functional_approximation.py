"""Tests for collapse_utils.functional_approximation: closed forms against simulation, exact
results exactly.

Monte Carlo checks compare a mean over C chains with its closed form and allow 4 standard errors
(sample std / sqrt(C)): with fixed seeds each check is deterministic, and a correct formula would
fail it with probability about 6e-5 under the normal approximation. Exact results (infinite-data
chains, fixed points, the truncated-normal variance) are checked to rounding.
"""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special, stats

from collapse_utils import functional_approximation as fa
from collapse_utils import gaussian, mixtures
from collapse_utils.chains import Chains


def assert_mean_within_se(values, expected, k=4.0):
    """Assert |mean(values) - expected| <= k standard errors."""
    values = np.asarray(values, dtype=float)
    se = values.std(ddof=1) / np.sqrt(values.size)
    gap = abs(values.mean() - expected)
    assert gap <= k * se + 1e-12, f"mean {values.mean()}, expected {expected}, {gap / se:.1f} SE"


# -------------------------------------------------------------- maximum-likelihood variance


def test_estimator_frame_matches_closed_forms():
    frame = fa.estimator_frame(sample_size=10, n_generations=10, n_chains=20_000, seed=0)
    assert set(frame.estimator) == {"unbiased", "mle"}
    for est, rows in frame.groupby("estimator"):
        np.testing.assert_allclose(rows.closed_mean, gaussian.expected_variance(
            rows.n.to_numpy(), 10, 1.0, est), rtol=1e-14)
        gap = np.abs(rows.mc_mean - rows.closed_mean)
        assert (gap <= 4 * rows.mc_se + 1e-12).all(), est
    mle = frame[frame.estimator == "mle"]
    np.testing.assert_allclose(mle.closed_mean, 0.9 ** mle.n.to_numpy(), rtol=1e-13)


# ---------------------------------------------------------------------------------- shrinkage


@pytest.mark.parametrize("estimator", ["unbiased", "mle"])
def test_shrinkage_expected_matches_simulation(estimator):
    kw = dict(mean_shrink=0.1, prior_mean=-1.0, var_shrink=0.2, var_target=0.5,
              estimator=estimator)
    run = fa.shrinkage_chain(8, sample_size=10, mean=2.0, std=1.5, n_chains=40_000, seed=1,
                             **kw)
    for n in (1, 4, 8):
        mu, var = fa.shrinkage_expected(n, sample_size=10, mean=2.0, std=1.5, **kw)
        assert_mean_within_se(run.means[n], mu)
        assert_mean_within_se(run.stds[n] ** 2, var)


def test_shrinkage_closed_forms_exact():
    n = np.arange(30)
    mu, var = fa.shrinkage_expected(n, None, 3.0, 2.0, mean_shrink=0.1, prior_mean=1.0,
                                    var_shrink=0.25, var_target=0.5)
    np.testing.assert_allclose(mu, 1.0 + 0.9**n * 2.0, rtol=1e-14)
    np.testing.assert_allclose(var, 0.5 + 0.75**n * 3.5, rtol=1e-14)
    # Infinite data: the chain itself is the closed form.
    run = fa.shrinkage_chain(29, None, 3.0, 2.0, mean_shrink=0.1, prior_mean=1.0,
                             var_shrink=0.25, var_target=0.5)
    np.testing.assert_allclose(run.means[:, 0], mu, rtol=1e-13)
    np.testing.assert_allclose(run.stds[:, 0] ** 2, var, rtol=1e-13)
    # No shrinkage and the unbiased estimator: the variance is a martingale (chapter 2).
    _, flat = fa.shrinkage_expected(n, 20, 0.0, 2.0)
    np.testing.assert_array_equal(flat, 4.0)
    # Maximum likelihood, no shrinkage: ((M - 1)/M)^n, as gaussian.expected_variance.
    _, mle = fa.shrinkage_expected(n, 20, 0.0, 2.0, estimator="mle")
    np.testing.assert_allclose(mle, gaussian.expected_variance(n, 20, 2.0, "mle"), rtol=1e-13)


def test_shrinkage_fixed_point():
    assert fa.shrinkage_fixed_point(20, mean_shrink=0.1, prior_mean=2.0, var_shrink=0.1,
                                    var_target=3.0) == (2.0, pytest.approx(3.0, rel=1e-15))
    _, v = fa.shrinkage_fixed_point(20, var_shrink=0.1, var_target=3.0, estimator="mle")
    assert v == pytest.approx(0.3 / (1 - 0.9 * 19 / 20), rel=1e-14) and v < 3.0
    assert fa.shrinkage_fixed_point(None) == (None, None)
    _, far = fa.shrinkage_expected(10_000, 20, 0.0, 5.0, var_shrink=0.1, var_target=3.0,
                                   estimator="mle")
    assert far == pytest.approx(v, rel=1e-12)


@settings(max_examples=40, deadline=None)
@given(a=st.floats(0.01, 1.0), b=st.floats(0.01, 1.0), tau2=st.floats(0.0, 10.0),
       m=st.integers(2, 500), est=st.sampled_from(["unbiased", "mle"]))
def test_fixed_point_is_fixed(a, b, tau2, m, est):
    mu_star, v_star = fa.shrinkage_fixed_point(m, mean_shrink=a, prior_mean=1.5, var_shrink=b,
                                               var_target=tau2, estimator=est)
    mu, var = fa.shrinkage_expected(7, m, mu_star, np.sqrt(v_star), mean_shrink=a,
                                    prior_mean=1.5, var_shrink=b, var_target=tau2, estimator=est)
    assert mu == pytest.approx(mu_star, abs=1e-12)
    assert var == pytest.approx(v_star, rel=1e-9, abs=1e-12)


def test_chains_are_the_one_result_type():
    run = fa.shrinkage_chain(5, 20, mean=1.0, std=2.0, var_shrink=0.1, n_chains=7, seed=0)
    assert isinstance(run, Chains) and run.means.shape == run.stds.shape == (6, 7)
    assert run.info["var_shrink"] == 0.1 and run.info["sample_size"] == 20
    assert (run.means[0] == 1.0).all() and (run.stds[0] == 2.0).all()
    for chains in (fa.gradient_chain(3, None, steps=2), fa.sampling_chain(3, 10, top_p=0.9)):
        assert isinstance(chains, Chains) and chains.n_generations == 3
    w2 = fa.w2_to_start(run)
    assert w2.shape == (6, 7) and (w2[0] == 0).all()
    np.testing.assert_allclose(w2[3], np.hypot(run.means[3] - 1.0, run.stds[3] - 2.0),
                               rtol=1e-14)


# ----------------------------------------------------------------------------- gradient steps


@pytest.mark.parametrize("optimizer, torch_opt", [("gd", torch.optim.SGD),
                                                  ("adam", torch.optim.Adam)])
def test_gradient_fit_matches_torch_on_explicit_samples(optimizer, torch_opt):
    """The same optimiser, run by torch on the negative log-likelihood of the samples."""
    x = np.random.default_rng(2).normal(1.5, 2.5, size=200)
    mu0, s0 = 0.3, 0.8
    mu, sigma = fa.gradient_fit(x.mean(), x.var(), steps=30, lr=0.05, start_mean=mu0,
                                start_std=s0, optimizer=optimizer)
    xt = torch.tensor(x, dtype=torch.float64)
    params = torch.tensor([mu0, np.log(s0)], dtype=torch.float64, requires_grad=True)
    opt = torch_opt([params], lr=0.05)
    for _ in range(30):
        opt.zero_grad()
        loss = params[1] + ((xt - params[0]) ** 2).mean() / (2 * torch.exp(2 * params[1]))
        loss.backward()
        opt.step()
    assert mu == pytest.approx(params[0].item(), rel=1e-10)
    assert sigma == pytest.approx(np.exp(params[1].item()), rel=1e-10)


def test_gradient_fit_converges_to_maximum_likelihood():
    for optimizer in fa.OPTIMIZERS:
        mu, sigma = fa.gradient_fit(3.0, 4.0, steps=10_000, lr=0.02, optimizer=optimizer)
        assert mu == pytest.approx(3.0, abs=1e-6) and sigma == pytest.approx(2.0, abs=1e-6)
    # No steps: the start.
    assert fa.gradient_fit(3.0, 4.0, steps=0, lr=0.1, start_mean=1.0, start_std=2.0) == (1.0, 2.0)
    mu, sigma = fa.gradient_fit(np.zeros((2, 3)), 1.0, steps=5, lr=0.1)
    assert mu.shape == sigma.shape == (2, 3)


def test_gradient_chain_start_is_a_fixed_point_and_attracts():
    fixed = fa.gradient_chain(20, None, mean=0.5, std=1.5, steps=10, lr=0.05, start_mean=0.5,
                              start_std=1.5)
    np.testing.assert_allclose(fixed.means, 0.5, rtol=1e-15)
    np.testing.assert_allclose(fixed.stds, 1.5, rtol=1e-15)
    drift = fa.gradient_chain(60, None, mean=3.0, std=2.0, steps=5, lr=0.05)
    assert abs(drift.means[-1, 0]) < 1e-10 and drift.stds[-1, 0] == pytest.approx(1.0, abs=1e-8)
    # With sigma fixed at 1 (data variance 1 = start), the mean's contraction is exact:
    # mu_K = xbar + (mu_s - xbar)(1 - lr)^K ... only while sigma stays 1, i.e. at the start.
    mu, sigma = fa.gradient_fit(1e-6, 1.0 - 1e-12, steps=7, lr=0.1)
    assert mu == pytest.approx(1e-6 * (1 - 0.9**7), rel=1e-4)


def test_gradient_chain_finite_samples_use_the_exact_law():
    """Statistics drawn from their exact law agree with explicit samples (first generation)."""
    m, chains = 30, 4000
    run = fa.gradient_chain(1, m, mean=2.0, std=1.5, steps=10, lr=0.05, n_chains=chains, seed=3)
    x = np.random.default_rng(4).normal(2.0, 1.5, size=(chains, m))
    mu, sigma = fa.gradient_fit(x.mean(axis=1), x.var(axis=1), steps=10, lr=0.05)
    assert stats.ks_2samp(run.means[1], mu).pvalue > 1e-3
    assert stats.ks_2samp(run.stds[1], sigma).pvalue > 1e-3


def test_gradient_fit_survives_extreme_data():
    mu, sigma = fa.gradient_fit(np.array([0.0, 50.0]), np.array([1e-8, 1e4]), steps=200, lr=0.1)
    assert np.isfinite(mu).all() and np.isfinite(sigma).all()


# ------------------------------------------------------------------------------ tail cutting


def test_truncated_variance_factor_is_truncnorm():
    for p in (1e-3, 0.3, 0.9, 0.99, 0.9999):
        z = special.ndtri((1 + p) / 2)
        assert fa.truncated_variance_factor(p) == pytest.approx(stats.truncnorm(-z, z).var(),
                                                                rel=1e-10)
    assert fa.truncated_variance_factor(1.0) == 1.0
    out = fa.truncated_variance_factor(np.array([0.5, 0.9]))
    assert out.shape == (2,) and np.all(np.diff(out) > 0)
    # A language model's temperature T multiplies the variance by T.
    assert fa.sampling_variance_factor(0.5, 0.9) == pytest.approx(
        0.5 * fa.truncated_variance_factor(0.9), rel=1e-15)
    assert fa.sampling_variance_factor(0.81) == pytest.approx(0.81, rel=1e-15)


@settings(max_examples=50, deadline=None)
@given(p=st.floats(0.01, 0.99999))
def test_truncated_variance_factor_bounds(p):
    r = fa.truncated_variance_factor(p)
    z = special.ndtri((1 + p) / 2)
    # Below the variance of the uniform on [-z, z] (z^2 / 3: the normal is peaked at 0) and of the
    # untruncated normal (1).
    assert 0 < r <= min(z**2 / 3, 1.0) * (1 + 1e-9) and r < 1


def test_sampling_chain_infinite_data_is_exact():
    run = fa.sampling_chain(25, None, mean=1.0, std=2.0, temperature=0.81)
    np.testing.assert_allclose(run.stds[:, 0], 2.0 * 0.9 ** np.arange(26), rtol=1e-13)
    assert run.info["temperature"] == 0.81
    np.testing.assert_array_equal(run.means, 1.0)
    r = fa.truncated_variance_factor(0.95)
    run = fa.sampling_chain(25, None, std=2.0, top_p=0.95)
    np.testing.assert_allclose(run.stds[:, 0] ** 2, 4.0 * r ** np.arange(26), rtol=1e-12)


@pytest.mark.parametrize("temperature, top_p", [(0.9, 1.0), (1.0, 0.9), (0.95, 0.99)])
def test_sampling_chain_matches_closed_form(temperature, top_p):
    r = fa.sampling_variance_factor(temperature, top_p)
    run = fa.sampling_chain(6, 20, mean=1.0, std=2.0, temperature=temperature, top_p=top_p,
                            n_chains=20_000, seed=5)
    for n in (1, 6):
        assert_mean_within_se(run.stds[n] ** 2, 4.0 * r**n)
        assert_mean_within_se(run.means[n], 1.0)


def test_sampling_tolerance_rejects_the_wrong_factor():
    """The 4-SE check has power: temperature 0.9 is not 0.95, nor a std scaled by 0.9."""
    run = fa.sampling_chain(6, 20, temperature=0.9, n_chains=20_000, seed=6)
    assert_mean_within_se(run.stds[6] ** 2, 0.9**6)
    for wrong in (0.95**6, 0.9**12):
        with pytest.raises(AssertionError):
            assert_mean_within_se(run.stds[6] ** 2, wrong)


# ---------------------------------------------------------------------------------- cascade


@pytest.fixture(scope="module")
def cascade_runs():
    return fa.cascade(n_generations=12, sample_size=50, n_chains=200, seed=7)


def test_cascade_has_every_combination(cascade_runs):
    assert len(cascade_runs) == 16 and () in cascade_runs
    assert cascade_runs[("statistical", "sampling")].info["switches"] == ("statistical",
                                                                          "sampling")
    for on, chains in cascade_runs.items():
        assert chains.n_generations == 12
        assert chains.n_chains == (200 if "statistical" in on else 1)
    table = fa.cascade_table(cascade_runs)
    assert len(table) == 16 and list(table.columns) == [*fa.CASCADE_SWITCHES, "w2", "std"]
    assert len(table[list(fa.CASCADE_SWITCHES)].drop_duplicates()) == 16


def test_cascade_switched_off_is_exact(cascade_runs):
    truth = mixtures.Mixture1D([0.5, 0.5], [-2.0, 2.0], [0.6, 0.6])
    off = cascade_runs[()]
    np.testing.assert_array_equal(fa.w2_to_start(off), 0.0)
    np.testing.assert_allclose(off.stds, truth.std(), rtol=1e-12)
    # Expressivity alone: W2 of the moment-matched Gaussian from generation 1 on.
    only = fa.w2_to_start(cascade_runs[("expressivity",)])
    assert only[0, 0] == 0.0
    expected = mixtures.w2_distance(truth, mixtures.moment_match(truth))
    np.testing.assert_allclose(only[1:], expected, rtol=1e-8)
    # Sampling alone: sigma_n^2 = r^(n - 1) sigma_0^2 (real data at generation 1).
    samp = cascade_runs[("sampling",)].stds[:, 0]
    r = fa.truncated_variance_factor(0.99)
    expected = truth.std() * np.sqrt(r) ** np.maximum(np.arange(13) - 1, 0)
    np.testing.assert_allclose(samp, expected, rtol=1e-12)
    last = fa.cascade_table(cascade_runs, generation=12).set_index(list(fa.CASCADE_SWITCHES))
    assert last.loc[(False, False, False, True), "std"] == pytest.approx(expected[-1], rel=1e-12)


def test_chains_are_seeded():
    a = fa.cascade(n_generations=3, sample_size=10, n_chains=5, seed=1)
    b = fa.cascade(n_generations=3, sample_size=10, n_chains=5, seed=1)
    for on in a:
        np.testing.assert_array_equal(a[on].stds, b[on].stds)
    c = fa.sampling_chain(3, 10, top_p=0.9, n_chains=4, seed=np.random.default_rng(3))
    d = fa.sampling_chain(3, 10, top_p=0.9, n_chains=4, seed=np.random.default_rng(3))
    np.testing.assert_array_equal(c.stds, d.stds)
    assert fa.w2_to_start(c).shape == (4, 4) and (fa.w2_to_start(c)[0] == 0).all()


# ------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("call, message", [
    (lambda: fa.estimator_frame(1, 10), "^sample_size must be an integer >= 2"),
    (lambda: fa.shrinkage_chain(5, 20, mean_shrink=1.5), "^mean_shrink must be a probability"),
    (lambda: fa.shrinkage_chain(5, 20, var_target=-1.0), "^var_target must be a finite number"),
    (lambda: fa.shrinkage_chain(5, None, n_chains=3), "^n_chains must be 1 when sample_size"),
    (lambda: fa.shrinkage_chain(5, [3, 4]), "^sample_size must be None or one integer"),
    (lambda: fa.shrinkage_expected(-1), "^n must be integers >= 0"),
    (lambda: fa.shrinkage_expected(3, estimator="map"), "^estimator must be one of"),
    (lambda: fa.gradient_fit(np.nan, 1.0, 5, 0.1), "^mean must be finite"),
    (lambda: fa.gradient_fit(0.0, -1.0, 5, 0.1), "^var must be finite and >= 0"),
    (lambda: fa.gradient_fit(0.0, 1.0, -1, 0.1), "^steps must be an integer >= 0"),
    (lambda: fa.gradient_fit(0.0, 1.0, 5, 0.1, start_std=0.0), "^start_std must be > 0"),
    (lambda: fa.gradient_fit(0.0, 1.0, 5, 0.1, optimizer="sgd"), "^optimizer must be one of"),
    (lambda: fa.gradient_chain(5, 1), "^sample_size must be an integer >= 2"),
    (lambda: fa.truncated_variance_factor(0.0), r"^top_p must be in \(0, 1\]"),
    (lambda: fa.truncated_variance_factor(1.2), "^top_p must be a probability"),
    (lambda: fa.sampling_variance_factor(-0.5), "^temperature must be a finite number >= 0"),
    (lambda: fa.sampling_chain(5, 10, estimator="x"), "^estimator must be one of"),
    (lambda: fa.cascade(n_generations=0), "^n_generations must be an integer >= 1"),
    (lambda: fa.cascade(truth="mixture"), "^truth must be a Mixture1D"),
    (lambda: fa.cascade_table(fa.cascade(2, 5, 2, seed=0), generation=3),
     r"^generation must be an integer in -3\.\.2"),
    (lambda: fa.w2_to_start("chains"), "^chains must be a Chains of Gaussians"),
])
def test_bad_arguments_raise(call, message):
    with pytest.raises(ValueError, match=message):
        call()
