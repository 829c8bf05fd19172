"""Functional approximation error: a learning procedure that is biased even with infinite data.

Chapter 4, Functional approximation error. The model is a Gaussian, so it can represent the truth
(no expressivity error), and yet the *procedure* that fits it and samples from it drifts:

- the maximum-likelihood variance (divide by M) shrinks E[sigma_n^2] by ((M - 1)/M)^n
  (:func:`estimator_frame`, closed forms from :mod:`collapse_utils.gaussian`);
- shrinkage towards a prior (a fraction of the way to a prior mean and a target variance) has a
  fixed point that is the prior, not the truth (:func:`shrinkage_chain`,
  :func:`shrinkage_expected`, :func:`shrinkage_fixed_point`);
- a fixed budget of gradient steps from a fixed start returns, generation after generation,
  to the start (:func:`gradient_fit`, :func:`gradient_chain`);
- sampling at a temperature T < 1 (a language model's temperature: the log-density divided by T,
  so the variance times T and the standard deviation times sqrt(T)) or with top-p truncation cuts
  the tails, and the variance by an exact factor per generation (:func:`sampling_variance_factor`,
  :func:`sampling_chain`);
- :func:`cascade` switches these on and off together with the statistical error of chapter 2 and
  the expressivity error of chapter 3.

Every chain is a :class:`~collapse_utils.chains.Chains` with parameters ``means`` and ``stds`` of
shape (n_generations + 1, n_chains); generation 0 is the truth. The figures are in
:mod:`collapse_utils.figures.functional_approximation`.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from scipy import special

from collapse_utils import gaussian, mixtures
from collapse_utils._checks import (
    as_rng,
    check_choice,
    check_int,
    check_nonnegative,
    check_probability,
    check_real,
    check_sample_size,
    show,
)
from collapse_utils.chains import Chains

__all__ = [
    "CASCADE_SWITCHES",
    "OPTIMIZERS",
    "cascade",
    "cascade_table",
    "estimator_frame",
    "gradient_chain",
    "gradient_fit",
    "sampling_chain",
    "sampling_variance_factor",
    "shrinkage_chain",
    "shrinkage_expected",
    "shrinkage_fixed_point",
    "truncated_variance_factor",
    "w2_to_start",
]

_DDOF = {"unbiased": 1, "mle": 0}


def _gaussians(means, stds, **info) -> Chains:
    """The one result type: fitted means and stds, row 0 the truth, ``info`` the settings."""
    return Chains({"means": means, "stds": stds}, info)


def w2_to_start(chains: Chains) -> np.ndarray:
    """W2 from each fitted Gaussian to generation 0, shape (n_generations + 1, n_chains).

    Generation 0 is the Gaussian in row 0, or the mixture ``chains.info["truth"]`` when the chain
    started from one (the expressivity switch of :func:`cascade`). Row 0 is zero.

    Used in chapter 4, Functional approximation error.
    """
    if not isinstance(chains, Chains) or not {"means", "stds"} <= set(chains.params):
        raise ValueError("chains must be a Chains of Gaussians, with means and stds")
    truth = chains.info.get("truth")
    if truth is None:
        return np.sqrt((chains.means - chains.means[0]) ** 2
                       + (chains.stds - chains.stds[0]) ** 2)
    out = mixtures.w2_to_gaussian(truth, chains.means, chains.stds)
    out[0] = 0.0
    return out


def _check_size(sample_size):
    """None (infinite data) or one integer M >= 2."""
    if sample_size is None:
        return None
    m = check_sample_size(sample_size, 2)
    if not isinstance(m, int):
        raise ValueError(f"sample_size must be None or one integer >= 2 (got {show(sample_size)})")
    return m


def _check_chains(n_chains, sample_size):
    n_chains = check_int("n_chains", n_chains, 1)
    if sample_size is None and n_chains != 1:
        raise ValueError(f"n_chains must be 1 when sample_size is None: infinite data make the "
                         f"chain deterministic (got {n_chains})")
    return n_chains


def _sample_stats(mean, var, m, ddof, rng):
    """Sample mean and variance (dividing by M - ddof) of M normal draws, from their exact law."""
    xbar = mean + np.sqrt(var / m) * rng.standard_normal(np.shape(mean))
    chi2 = 2.0 * rng.standard_gamma((m - 1) / 2, np.shape(mean))
    return xbar, var * chi2 / (m - ddof)


# --------------------------------------------------------------- the maximum-likelihood variance


def estimator_frame(sample_size: int, n_generations: int, n_chains: int = 20_000,
                    std: float = 1.0, seed=None) -> pd.DataFrame:
    """E[sigma_n^2] for the unbiased and the maximum-likelihood variance: closed form, simulation.

    The maximum-likelihood estimator divides by M, so E[sigma_n^2] = sigma_0^2 ((M - 1)/M)^n, a
    deterministic geometric shrink; the median shows the random shrink that both estimators share
    (chapter 2). Chains from :func:`collapse_utils.gaussian.simulate`.

    Used in chapter 4, Functional approximation error.

    Returns
    -------
    DataFrame
        Rows (estimator, n) with ``closed_mean`` (E[sigma_n^2]), ``mc_mean``, ``mc_se`` (standard
        error of the mean) and ``mc_median`` over the chains.
    """
    m = check_int("sample_size", sample_size, 2)
    n = check_int("n_generations", n_generations, 0)
    n_chains = check_int("n_chains", n_chains, 2)
    std = check_nonnegative("std", std)
    rng = as_rng(seed)
    gens = np.arange(n + 1)
    frames = []
    for est in gaussian.ESTIMATORS:
        run = gaussian.simulate(n, m, std=std, estimator=est, n_chains=n_chains, seed=rng)
        var = np.asarray(run.stds) ** 2
        frames.append(pd.DataFrame({
            "estimator": est, "n": gens,
            "closed_mean": gaussian.expected_variance(gens, m, std, est),
            "mc_mean": var.mean(axis=1),
            "mc_se": var.std(axis=1, ddof=1) / np.sqrt(n_chains),
            "mc_median": np.median(var, axis=1),
        }))
    return pd.concat(frames, ignore_index=True)



# ---------------------------------------------------------------------------------- shrinkage


def _check_shrink(mean_shrink, var_shrink, var_target):
    a, _ = check_probability("mean_shrink", mean_shrink)
    b, _ = check_probability("var_shrink", var_shrink)
    return float(a), float(b), check_nonnegative("var_target", var_target)


def shrinkage_chain(n_generations: int, sample_size=None, mean: float = 0.0, std: float = 1.0, *,
                    mean_shrink: float = 0.0, prior_mean: float = 0.0, var_shrink: float = 0.0,
                    var_target: float = 1.0, estimator: str = "unbiased", n_chains: int = 1,
                    seed=None) -> Chains:
    """Refit a Gaussian with shrinkage estimators, generation after generation.

    Each generation fits mu' = (1 - a) xbar + a m_0 and sigma'^2 = (1 - b) s^2 + b tau^2, with
    a = ``mean_shrink``, m_0 = ``prior_mean``, b = ``var_shrink``, tau^2 = ``var_target`` and s^2
    the sample variance (``estimator``). A ridge penalty (lambda / 2)(mu - m_0)^2 added to the
    average negative log-likelihood (sigma = 1) gives a = lambda / (1 + lambda) whatever the sample
    size: unlike a prior worth a fixed number of observations, it does not fade with more data.

    ``sample_size=None`` is infinite data (xbar = mu, s^2 = sigma^2, deterministic); otherwise the
    sample statistics come from their exact law (normal and scaled chi-square, independent).

    Used in chapter 4, Functional approximation error.
    """
    n = check_int("n_generations", n_generations, 0)
    m = _check_size(sample_size)
    n_chains = _check_chains(n_chains, m)
    mean, std = check_real("mean", mean), check_nonnegative("std", std)
    prior_mean = check_real("prior_mean", prior_mean)
    a, b, tau2 = _check_shrink(mean_shrink, var_shrink, var_target)
    ddof = _DDOF[check_choice("estimator", estimator, gaussian.ESTIMATORS)]
    rng = as_rng(seed)
    means = np.empty((n + 1, n_chains))
    var = np.empty((n + 1, n_chains))
    means[0], var[0] = mean, std**2
    for g in range(1, n + 1):
        if m is None:
            xbar, s2 = means[g - 1], var[g - 1]
        else:
            xbar, s2 = _sample_stats(means[g - 1], var[g - 1], m, ddof, rng)
        means[g] = (1 - a) * xbar + a * prior_mean
        var[g] = (1 - b) * s2 + b * tau2
    return _gaussians(means, np.sqrt(var), sample_size=m, estimator=estimator, mean_shrink=a,
                      prior_mean=prior_mean, var_shrink=b, var_target=tau2)


def _var_rate(b, m, ddof):
    """c in E[sigma_n^2 | sigma_{n-1}] = c sigma_{n-1}^2 + b tau^2."""
    return (1 - b) * (1.0 if m is None else (m - 1) / (m - ddof))


def shrinkage_expected(n, sample_size=None, mean: float = 0.0, std: float = 1.0, *,
                       mean_shrink: float = 0.0, prior_mean: float = 0.0, var_shrink: float = 0.0,
                       var_target: float = 1.0, estimator: str = "unbiased"):
    """Exact E[mu_n] and E[sigma_n^2] of :func:`shrinkage_chain`.

    Both are linear recursions: E[mu_n] = m_0 + (1 - a)^n (mu_0 - m_0), and with
    c = (1 - b) (M - 1) / (M - ddof) (c = 1 - b for infinite data),
    E[sigma_n^2] = v* + c^n (sigma_0^2 - v*) with v* = b tau^2 / (1 - c)
    (:func:`shrinkage_fixed_point`); for c = 1, E[sigma_n^2] = sigma_0^2.

    Used in chapter 4, Functional approximation error.

    Returns
    -------
    (mean, variance) : floats for an int ``n``, else arrays of ``n``'s shape.
    """
    gens = np.asarray(n)
    if gens.dtype.kind not in "iu" or (gens < 0).any():
        raise ValueError(f"n must be integers >= 0 (got {show(n)})")
    m = _check_size(sample_size)
    mean, std = check_real("mean", mean), check_nonnegative("std", std)
    prior_mean = check_real("prior_mean", prior_mean)
    a, b, tau2 = _check_shrink(mean_shrink, var_shrink, var_target)
    ddof = _DDOF[check_choice("estimator", estimator, gaussian.ESTIMATORS)]
    c = _var_rate(b, m, ddof)
    mu = prior_mean + (1 - a) ** gens * (mean - prior_mean)
    if c == 1.0:
        var = np.full(gens.shape, std**2)
    else:
        v_star = b * tau2 / (1 - c)
        var = v_star + c**gens * (std**2 - v_star)
    if gens.ndim == 0:
        return float(mu), float(var)
    return mu, var


def shrinkage_fixed_point(sample_size=None, *, mean_shrink: float = 0.0, prior_mean: float = 0.0,
                          var_shrink: float = 0.0, var_target: float = 1.0,
                          estimator: str = "unbiased"):
    """Where E[mu_n] and E[sigma_n^2] of :func:`shrinkage_chain` converge: (m_0, v*).

    v* = b tau^2 / (1 - c), c = (1 - b)(M - 1)/(M - ddof): the target tau^2 for infinite data or
    the unbiased estimator, less with the maximum-likelihood one. ``None`` for a coordinate
    without a fixed point that attracts (a = 0: the mean keeps its start; c = 1: the variance).

    Used in chapter 4, Functional approximation error.
    """
    m = _check_size(sample_size)
    prior_mean = check_real("prior_mean", prior_mean)
    a, b, tau2 = _check_shrink(mean_shrink, var_shrink, var_target)
    ddof = _DDOF[check_choice("estimator", estimator, gaussian.ESTIMATORS)]
    c = _var_rate(b, m, ddof)
    return (prior_mean if a > 0 else None), (b * tau2 / (1 - c) if c < 1 else None)



# ------------------------------------------------------------------------------ gradient steps


OPTIMIZERS = ("adam", "gd")


def gradient_fit(mean, var, steps: int, lr: float, start_mean: float = 0.0,
                 start_std: float = 1.0, optimizer: str = "gd", max_step: float = 1.0):
    """Fit N(mu, sigma^2) by ``steps`` optimiser steps on the average negative log-likelihood,
    from a fixed start.

    The parameters are (mu, log sigma). The average negative log-likelihood of data with mean
    ``mean`` and variance ``var`` (dividing by M) is log sigma + ((mean - mu)^2 + var) /
    (2 sigma^2) + const: it depends on the data only through these two statistics, so they are
    what this function takes (broadcast over arrays), and full-batch steps on M samples give
    the same result.

    ``optimizer="gd"``: gradient descent, theta <- theta - lr * gradient, each step clipped to
    +- ``max_step`` per parameter (as gradient clipping does in practice: where sigma is small the
    curvature 1 / sigma^2 of the mean makes plain steps diverge; the clip never acts on a
    well-behaved fit). ``"adam"``: Adam
    (beta1 = 0.9, beta2 = 0.999, eps = 1e-8, as ``torch.optim.Adam``), whose steps have size
    about ``lr`` whatever the gradient's scale. With enough steps both reach the
    maximum-likelihood fit (mean, sqrt(var)).

    Used in chapter 4, Functional approximation error.

    Returns
    -------
    (mu, sigma) : arrays (or floats) of the broadcast shape.
    """
    xbar = np.asarray(mean, dtype=float)
    v = np.asarray(var, dtype=float)
    if not np.isfinite(xbar).all():
        raise ValueError(f"mean must be finite (got {show(mean)})")
    if not np.isfinite(v).all() or (v < 0).any():
        raise ValueError(f"var must be finite and >= 0 (got {show(var)})")
    steps = check_int("steps", steps, 0)
    lr = check_nonnegative("lr", lr)
    start_mean = check_real("start_mean", start_mean)
    start_std = check_nonnegative("start_std", start_std)
    if start_std == 0:
        raise ValueError("start_std must be > 0 (got 0.0)")
    optimizer = check_choice("optimizer", optimizer, OPTIMIZERS)
    max_step = check_nonnegative("max_step", max_step)
    shape = np.broadcast_shapes(xbar.shape, v.shape)
    theta = np.zeros((2, *shape))
    theta[0], theta[1] = start_mean, np.log(start_std)
    m1 = np.zeros_like(theta)
    m2 = np.zeros_like(theta)
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    for t in range(1, steps + 1):
        inv = np.exp(-2 * theta[1])
        gap = xbar - theta[0]
        grad = np.stack([-gap * inv, 1.0 - (gap**2 + v) * inv])
        if optimizer == "gd":
            theta -= np.clip(lr * grad, -max_step, max_step)
            continue
        m1 = beta1 * m1 + (1 - beta1) * grad
        m2 = beta2 * m2 + (1 - beta2) * grad**2
        step = lr / (1 - beta1**t)
        theta -= step * m1 / (np.sqrt(m2) / np.sqrt(1 - beta2**t) + eps)
    mu, sigma = theta[0], np.exp(theta[1])
    if mu.ndim == 0:
        return float(mu), float(sigma)
    return mu, sigma


def gradient_chain(n_generations: int, sample_size=None, mean: float = 0.0, std: float = 1.0, *,
                   steps: int = 20, lr: float = 0.05, start_mean: float = 0.0,
                   start_std: float = 1.0, optimizer: str = "gd", n_chains: int = 1,
                   seed=None) -> Chains:
    """Each generation fits :func:`gradient_fit` from the same start to the last one's samples.

    ``sample_size=None`` is infinite data: the statistics are the last Gaussian's exact mean and
    variance. Otherwise they come from the exact law of M normal draws (the mean, and the
    variance dividing by M). The start is a fixed point of the chain: data from
    N(start_mean, start_std^2) have zero gradient there.

    Used in chapter 4, Functional approximation error.
    """
    n = check_int("n_generations", n_generations, 0)
    m = _check_size(sample_size)
    n_chains = _check_chains(n_chains, m)
    mean, std = check_real("mean", mean), check_nonnegative("std", std)
    rng = as_rng(seed)
    means = np.empty((n + 1, n_chains))
    stds = np.empty((n + 1, n_chains))
    means[0], stds[0] = mean, std
    for g in range(1, n + 1):
        if m is None:
            xbar, v = means[g - 1], stds[g - 1] ** 2
        else:
            xbar, v = _sample_stats(means[g - 1], stds[g - 1] ** 2, m, 0, rng)
        means[g], stds[g] = gradient_fit(xbar, v, steps, lr, start_mean, start_std, optimizer)
    return _gaussians(means, stds, sample_size=m, steps=steps, lr=lr, start_mean=start_mean,
                      start_std=start_std, optimizer=optimizer)


# ------------------------------------------------------------------------------- tail cutting


def truncated_variance_factor(top_p):
    """Variance of N(0, 1) truncated to its central mass ``top_p``, in closed form.

    With z = Phi^{-1}((1 + p) / 2), the variance of N(0, 1) restricted to [-z, z] is
    1 - 2 z phi(z) / (2 Phi(z) - 1) (= ``scipy.stats.truncnorm(-z, z).var()``). For a symmetric
    unimodal density the central interval is the top-p (nucleus) set: the smallest set holding
    mass p. ``top_p = 1`` gives 1. For p below about 0.01 the subtraction loses digits (relative
    error about 1e-16 / r(p)); the variance is then close to that of the uniform, z^2 / 3.

    Used in chapter 4, Functional approximation error.
    """
    p, scalar = check_probability("top_p", top_p)
    if (p <= 0).any():
        raise ValueError(f"top_p must be in (0, 1] (got {show(p[p <= 0].flat[0])})")
    z = special.ndtri((1 + p) / 2)
    with np.errstate(invalid="ignore"):
        out = np.where(p == 1, 1.0, 1 - 2 * z * np.exp(-0.5 * z**2) / np.sqrt(2 * np.pi) / p)
    return float(out) if scalar else out


def sampling_variance_factor(temperature: float = 1.0, top_p: float = 1.0) -> float:
    """Factor r by which sampling shrinks the variance: T times the top-p truncation factor.

    ``temperature`` is a language model's temperature T >= 0: the log-density is divided by T, as
    a language model divides its logits, which turns N(mu, sigma^2) into N(mu, T sigma^2) (the
    standard deviation times sqrt(T)); top-p then keeps the central mass p of the tempered
    Gaussian. With infinite data sigma_n^2 = r^n sigma_0^2 exactly; with M samples and the
    unbiased estimator E[sigma_n^2] = r^n sigma_0^2 too.

    Used in chapter 4, Functional approximation error.
    """
    t = check_nonnegative("temperature", temperature)
    return t * truncated_variance_factor(top_p)


def _tail_cut_samples(mean, std, m, scale, top_p, rng):
    """M draws per chain from N(mean, (scale std)^2) truncated to its central mass top_p."""
    shape = (np.size(mean), m)
    if top_p >= 1:
        z = rng.standard_normal(shape)
    else:
        lo = special.ndtr(-special.ndtri((1 + top_p) / 2))
        u = rng.uniform(lo, 1 - lo, shape)
        z = special.ndtri(u)
    return np.ravel(mean)[:, None] + (scale * np.ravel(std))[:, None] * z


def sampling_chain(n_generations: int, sample_size=None, mean: float = 0.0, std: float = 1.0, *,
                   temperature: float = 1.0, top_p: float = 1.0, estimator: str = "unbiased",
                   n_chains: int = 1, seed=None) -> Chains:
    """Refit a Gaussian to samples drawn at ``temperature`` T with ``top_p`` truncation.

    T is a language model's temperature: the samples come from N(mu, T sigma^2), truncated to its
    central mass ``top_p``. ``sample_size=None`` is infinite data: mu_n = mu_0 and
    sigma_n = sigma_0 r^(n/2), r = :func:`sampling_variance_factor`. Otherwise each generation
    draws M truncated, tempered samples (inverse-cdf sampling) and fits their mean and variance
    (``estimator``).

    Used in chapter 4, Functional approximation error.
    """
    n = check_int("n_generations", n_generations, 0)
    m = _check_size(sample_size)
    n_chains = _check_chains(n_chains, m)
    mean, std = check_real("mean", mean), check_nonnegative("std", std)
    t = check_nonnegative("temperature", temperature)
    r = sampling_variance_factor(t, top_p)
    top_p = float(top_p)
    ddof = _DDOF[check_choice("estimator", estimator, gaussian.ESTIMATORS)]
    rng = as_rng(seed)
    means = np.empty((n + 1, n_chains))
    stds = np.empty((n + 1, n_chains))
    means[0], stds[0] = mean, std
    for g in range(1, n + 1):
        if m is None:
            means[g], stds[g] = means[g - 1], stds[g - 1] * np.sqrt(r)
        else:
            x = _tail_cut_samples(means[g - 1], stds[g - 1], m, np.sqrt(t), top_p, rng)
            means[g], stds[g] = x.mean(axis=1), x.std(axis=1, ddof=ddof)
    return _gaussians(means, stds, sample_size=m, estimator=estimator, temperature=t,
                      top_p=top_p)


# ------------------------------------------------------------------------------------ cascade

#: The switches of :func:`cascade`, in order: name -> what it turns on.
CASCADE_SWITCHES = {
    "statistical": "finite samples (M per generation) instead of infinite data",
    "expressivity": "a two-mode truth for a one-Gaussian model",
    "learning": "a fixed budget of gradient steps from a fixed start, instead of the exact fit",
    "sampling": "top-p truncation when the model generates",
}


def cascade(n_generations: int = 100, sample_size: int = 100, n_chains: int = 300, *,
            truth: mixtures.Mixture1D | None = None, steps: int = 50, lr: float = 0.02,
            start_mean: float = 0.0, start_std: float = 1.0, top_p: float = 0.99,
            seed=None) -> dict[tuple[str, ...], Chains]:
    """The errors of chapters 2–4, each switched on or off: all 16 combinations.

    Generation 0 is the truth: ``truth`` (default 0.5 N(-2, 0.6^2) + 0.5 N(2, 0.6^2)) when the
    expressivity switch is on, its moment-matched Gaussian (same mean and variance) when off. The
    model is a Gaussian. Each generation takes data from the previous generation (the truth, then
    the last model, sampled with ``top_p`` truncation if the sampling switch is on), either M =
    ``sample_size`` draws (statistical switch on) or the exact distribution, and fits the model:
    by :func:`gradient_fit` (learning switch on) or exactly (sample mean and unbiased variance;
    with infinite data, the exact mean and variance).

    Used in chapter 4, Functional approximation error.

    Returns
    -------
    dict
        For each combination, the names of the switches it turns on (a tuple in the order of
        :data:`CASCADE_SWITCHES`; ``()`` for none) -> its :class:`Chains` (``n_chains`` chains
        with the statistical switch, else 1). Row 0 holds the truth's mean and std, and
        ``info["truth"]`` the truth itself, which :func:`w2_to_start` measures against.
    """
    n = check_int("n_generations", n_generations, 1)
    m = check_int("sample_size", sample_size, 2)
    n_chains = check_int("n_chains", n_chains, 1)
    if truth is None:
        truth = mixtures.Mixture1D([0.5, 0.5], [-2.0, 2.0], [0.6, 0.6])
    if not isinstance(truth, mixtures.Mixture1D):
        raise ValueError(f"truth must be a Mixture1D (got {type(truth).__name__})")
    steps = check_int("steps", steps, 0)
    lr = check_nonnegative("lr", lr)
    r = truncated_variance_factor(top_p)
    top_p = float(top_p)
    rng = as_rng(seed)
    gaussian_truth = mixtures.moment_match(truth)
    runs = {}
    for combo in itertools.product((False, True), repeat=4):
        stat, expr, learn, samp = combo
        p0 = truth if expr else gaussian_truth
        chains = n_chains if stat else 1
        means = np.empty((n + 1, chains))
        stds = np.empty((n + 1, chains))
        means[0], stds[0] = p0.mean(), p0.std()
        for g in range(1, n + 1):
            if stat:
                if g == 1:
                    x = p0.sample((chains, m), rng)
                else:
                    x = _tail_cut_samples(means[g - 1], stds[g - 1], m, 1.0,
                                          top_p if samp else 1.0, rng)
                xbar, v = x.mean(axis=1), x.var(axis=1)
            else:
                xbar = means[g - 1]
                v = stds[g - 1] ** 2 * (r if (samp and g > 1) else 1.0)
            if learn:
                means[g], stds[g] = gradient_fit(xbar, v, steps, lr, start_mean, start_std)
            else:
                means[g] = xbar
                stds[g] = np.sqrt(v * (m / (m - 1) if stat else 1.0))
        on = tuple(k for k, v in zip(CASCADE_SWITCHES, combo, strict=True) if v)
        runs[on] = _gaussians(means, stds, truth=p0, switches=on)
    return runs


def cascade_table(runs: dict[tuple[str, ...], Chains], generation: int = -1) -> pd.DataFrame:
    """One row per combination of :func:`cascade`: the four switches (booleans) and the median
    over chains of W2 to the truth (``w2``) and of the fitted std (``std``) at ``generation``
    (the last by default).

    Used in chapter 4, Functional approximation error.
    """
    rows = []
    for on, chains in runs.items():
        n = check_int("generation", generation, -chains.n_generations - 1, chains.n_generations)
        rows.append({**{k: k in on for k in CASCADE_SWITCHES},
                     "w2": float(np.median(w2_to_start(chains)[n])),
                     "std": float(np.median(chains.stds[n]))})
    return pd.DataFrame(rows)
