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
- sampling at temperature tau < 1 or with top-p truncation cuts the tails, and the variance by an
  exact factor per generation (:func:`sampling_variance_factor`, :func:`sampling_chain`);
- :func:`cascade` switches these on and off together with the statistical error of chapter 2 and
  the expressivity error of chapter 3.

Every chain is a :class:`FittedChains` of Gaussians (means and standard deviations per generation
and chain); generation 0 is the truth.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import altair as alt
import numpy as np
import pandas as pd
from scipy import special

from collapse_utils import charts, gaussian, mixtures
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

__all__ = [
    "CASCADE_SWITCHES",
    "FittedChains",
    "OPTIMIZERS",
    "cascade",
    "cascade_chart",
    "estimator_chart",
    "estimator_frame",
    "gradient_chain",
    "gradient_chart",
    "gradient_frame",
    "gradient_fit",
    "sampling_chain",
    "sampling_chart",
    "sampling_frame",
    "sampling_variance_factor",
    "shrinkage_chain",
    "shrinkage_chart",
    "shrinkage_frame",
    "shrinkage_expected",
    "shrinkage_fixed_point",
    "truncated_variance_factor",
]

_DDOF = {"unbiased": 1, "mle": 0}


@dataclass(frozen=True, eq=False)
class FittedChains:
    """Fitted Gaussians per generation and chain; row 0 is generation 0 (the truth).

    Used in chapter 4, Functional approximation error.

    Attributes
    ----------
    means, stds : ndarray, shape (n_generations + 1, n_chains)
    """

    means: np.ndarray
    stds: np.ndarray

    @property
    def n_generations(self) -> int:
        """Generations after generation 0."""
        return self.means.shape[0] - 1

    @property
    def variances(self) -> np.ndarray:
        """``stds ** 2``."""
        return self.stds**2

    def w2_to_start(self) -> np.ndarray:
        """W2 from each fitted Gaussian to generation 0's, shape (n_generations + 1, n_chains)."""
        return np.sqrt((self.means - self.means[0]) ** 2 + (self.stds - self.stds[0]) ** 2)


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
        var = gaussian.simulate(n, m, std=std, estimator=est, n_chains=n_chains, seed=rng).variances
        frames.append(pd.DataFrame({
            "estimator": est, "n": gens,
            "closed_mean": gaussian.expected_variance(gens, m, std, est),
            "mc_mean": var.mean(axis=1),
            "mc_se": var.std(axis=1, ddof=1) / np.sqrt(n_chains),
            "mc_median": np.median(var, axis=1),
        }))
    return pd.concat(frames, ignore_index=True)


def estimator_chart(frame: pd.DataFrame) -> alt.LayerChart:
    """Closed-form E[sigma_n^2] (lines), simulated means (dots) and medians (dashed), per estimator.

    Used in chapter 4, Functional approximation error.
    """
    names = {"unbiased": "unbiased (÷ (M − 1))", "mle": "maximum likelihood (÷ M)"}
    data = frame.assign(estimator=frame.estimator.map(names))
    color = alt.Color("estimator:N", title="variance estimator", scale=alt.Scale(
        domain=list(names.values()), range=["#4c78a8", "#e45756"]),
        legend=alt.Legend(orient="bottom-left", labelLimit=300))
    x = alt.X("n:Q", title="generation n")
    y_title = "σₙ² (log scale)"
    base = alt.Chart(data)
    closed = base.mark_line(strokeWidth=2.2).encode(
        x, alt.Y("closed_mean:Q", title=y_title, scale=alt.Scale(type="log")), color)
    every = max(1, int(frame.n.max()) // 40)
    thinned = base.transform_filter(alt.datum.n % every == 0)
    points = thinned.mark_point(filled=True, size=30).encode(
        x, alt.Y("mc_mean:Q"), color,
        tooltip=["estimator", "n", alt.Tooltip("mc_mean:Q", format=".4f"),
                 alt.Tooltip("closed_mean:Q", format=".4f")])
    median = base.mark_line(strokeDash=[5, 4], strokeWidth=1.5).encode(
        x, alt.Y("mc_median:Q"), color)
    return charts.style(alt.layer(closed, points, median).properties(
        width=charts.WIDTH, height=charts.HEIGHT,
        title="E[σₙ²]: closed form (lines), mean of the chains (dots), median (dashed)"))


# ---------------------------------------------------------------------------------- shrinkage


def _check_shrink(mean_shrink, var_shrink, var_target):
    a, _ = check_probability("mean_shrink", mean_shrink)
    b, _ = check_probability("var_shrink", var_shrink)
    return float(a), float(b), check_nonnegative("var_target", var_target)


def shrinkage_chain(n_generations: int, sample_size=None, mean: float = 0.0, std: float = 1.0, *,
                    mean_shrink: float = 0.0, prior_mean: float = 0.0, var_shrink: float = 0.0,
                    var_target: float = 1.0, estimator: str = "unbiased", n_chains: int = 1,
                    seed=None) -> FittedChains:
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
    return FittedChains(means, np.sqrt(var))


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


def shrinkage_frame(var_shrinks=(0.0, 0.02, 0.05, 0.1, 0.2), sample_size: int = 20,
                    n_generations: int = 100, std: float = 2.0, var_target: float = 1.0,
                    n_chains: int = 2000, seed=None) -> pd.DataFrame:
    """Data of :func:`shrinkage_chart`: sigma_n^2 of shrinkage chains for several b.

    For each b in ``var_shrinks``: the closed-form E[sigma_n^2] (:func:`shrinkage_expected`), the
    mean and the 10% and 90% quantiles of ``n_chains`` simulated chains (unbiased estimator),
    and the target. Used in chapter 4, Functional approximation error.
    """
    rng = as_rng(seed)
    n = check_int("n_generations", n_generations, 0)
    gens = np.arange(n + 1)
    frames = []
    for b in var_shrinks:
        run = shrinkage_chain(n, sample_size, 0.0, std, var_shrink=b, var_target=var_target,
                              n_chains=n_chains, seed=rng)
        _, closed = shrinkage_expected(gens, sample_size, 0.0, std, var_shrink=b,
                                       var_target=var_target)
        var = run.variances
        frames.append(pd.DataFrame({
            "b": float(b), "n": gens, "closed": closed, "mc_mean": var.mean(axis=1),
            "mc_lo": np.quantile(var, 0.1, axis=1), "mc_hi": np.quantile(var, 0.9, axis=1),
            "target": float(var_target)}))
    return _rounded(pd.concat(frames, ignore_index=True))


def _rounded(frame: pd.DataFrame, digits: int = 5) -> pd.DataFrame:
    """Floats to ``digits`` significant digits: lighter chart data, same picture."""
    floats = frame.select_dtypes("float").columns
    frame[floats] = frame[floats].apply(lambda c: c.map(lambda v: float(f"{v:.{digits}g}")))
    return frame


def shrinkage_chart(frame: pd.DataFrame, b: float) -> alt.LayerChart:
    """E[sigma_n^2] of shrinkage chains, closed form against simulation, with a slider for b.

    ``frame`` has columns ``b``, ``n``, ``closed``, ``mc_mean``, ``mc_lo``, ``mc_hi`` and
    ``target`` (see chapter 4). Used in chapter 4, Functional approximation error.
    """
    values = sorted(frame.b.unique())
    pick = alt.param(name="b_shrink", value=float(b), bind=alt.binding_select(
        options=[float(v) for v in values], name="variance shrinkage b "))
    base = alt.Chart(frame).add_params(pick).transform_filter(alt.datum.b == pick)
    x = alt.X("n:Q", title="generation n")
    band = base.mark_area(opacity=0.2, color="#4c78a8").encode(
        x, alt.Y("mc_lo:Q", title="fitted variance σₙ²"), alt.Y2("mc_hi:Q"))
    mc = base.mark_line(color="#4c78a8", strokeWidth=1.5).encode(x, alt.Y("mc_mean:Q"))
    closed = base.mark_line(color="#222222", strokeDash=[6, 3], strokeWidth=2).encode(
        x, alt.Y("closed:Q"))
    target = base.mark_rule(color="#e45756").encode(alt.Y("target:Q"))
    return charts.style(alt.layer(band, mc, closed, target).properties(
        width=charts.WIDTH, height=charts.HEIGHT,
        title="σₙ² with shrinkage (blue: mean and 10–90% of chains; dashed: closed form; "
              "red: target τ²)"))


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
                   seed=None) -> FittedChains:
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
    return FittedChains(means, stds)


def gradient_frame(steps=(5, 20, 100), sample_size: int = 100, n_generations: int = 60,
                   mean: float = 3.0, std: float = 2.0, lr: float = 0.05, n_chains: int = 500,
                   seed=None) -> pd.DataFrame:
    """Data of :func:`gradient_chart`: gradient-fitted chains for several step budgets.

    For each budget, the infinite-data chain and the median and 10–90% quantiles of
    ``n_chains`` chains with M = ``sample_size``; the start is N(0, 1).
    Used in chapter 4, Functional approximation error.
    """
    rng = as_rng(seed)
    n = check_int("n_generations", n_generations, 0)
    m = check_int("sample_size", sample_size, 2)
    gens = np.arange(n + 1)
    frames = []
    for k in steps:
        exact = gradient_chain(n, None, mean, std, steps=k, lr=lr)
        frames.append(pd.DataFrame({"steps": int(k), "n": gens, "setting": "infinite data",
                                    "mean": exact.means[:, 0], "std": exact.stds[:, 0]}))
        run = gradient_chain(n, m, mean, std, steps=k, lr=lr, n_chains=n_chains, seed=rng)
        q = np.quantile
        frames.append(pd.DataFrame({
            "steps": int(k), "n": gens, "setting": f"M = {m} samples (median of {n_chains})",
            "mean": np.median(run.means, axis=1), "std": np.median(run.stds, axis=1),
            "mean_lo": q(run.means, 0.1, axis=1), "mean_hi": q(run.means, 0.9, axis=1),
            "std_lo": q(run.stds, 0.1, axis=1), "std_hi": q(run.stds, 0.9, axis=1)}))
    return _rounded(pd.concat(frames, ignore_index=True))


def gradient_chart(frame: pd.DataFrame, steps: int) -> alt.VConcatChart:
    """Mean and std of gradient-fitted chains over generations, with a menu for the step budget.

    ``frame`` has columns ``steps``, ``n``, ``setting`` (infinite data or M samples),
    ``mean``, ``std`` and, for the finite chains, 10–90% bands ``mean_lo``, ``mean_hi``,
    ``std_lo``, ``std_hi``. Used in chapter 4, Functional approximation error.
    """
    values = sorted(int(v) for v in frame.steps.unique())
    pick = alt.param(name="steps_budget", value=int(steps), bind=alt.binding_select(
        options=values, name="gradient steps per generation "))
    base = alt.Chart(frame).add_params(pick).transform_filter(alt.datum.steps == pick)
    x = alt.X("n:Q", title="generation n")
    names = list(dict.fromkeys(frame.setting))
    color = alt.Color("setting:N", title=None, sort=names, scale=alt.Scale(
        domain=names, range=["#222222", "#4c78a8"]), legend=alt.Legend(orient="top",
                                                                       labelLimit=300))

    def panel(col, title):
        band = base.transform_filter(alt.datum[f"{col}_lo"] != None).mark_area(  # noqa: E711
            opacity=0.2, color="#4c78a8").encode(x, alt.Y(f"{col}_lo:Q", title=title),
                                                 alt.Y2(f"{col}_hi:Q"))
        line = base.mark_line(strokeWidth=2).encode(x, alt.Y(f"{col}:Q"), color)
        return alt.layer(band, line).properties(width=charts.WIDTH, height=170)

    return charts.style(alt.vconcat(panel("mean", "fitted mean μₙ"),
                                    panel("std", "fitted std σₙ")))


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
    """Factor r by which sampling shrinks the variance: tau^2 times the top-p truncation factor.

    Temperature tau scales a Gaussian's std by tau (its log-density is divided by tau^2, i.e. its
    variance multiplied by tau^2); top-p then keeps the central mass p of the tempered Gaussian.
    With infinite data sigma_n^2 = r^n sigma_0^2 exactly; with M samples and the unbiased
    estimator E[sigma_n^2] = r^n sigma_0^2 too.

    Used in chapter 4, Functional approximation error.
    """
    tau = check_nonnegative("temperature", temperature)
    return tau**2 * truncated_variance_factor(top_p)


def _tail_cut_samples(mean, std, m, temperature, top_p, rng):
    """M draws per chain from N(mean, (tau std)^2) truncated to its central mass top_p."""
    shape = (np.size(mean), m)
    if top_p >= 1:
        z = rng.standard_normal(shape)
    else:
        lo = special.ndtr(-special.ndtri((1 + top_p) / 2))
        u = rng.uniform(lo, 1 - lo, shape)
        z = special.ndtri(u)
    return np.ravel(mean)[:, None] + (temperature * np.ravel(std))[:, None] * z


def sampling_chain(n_generations: int, sample_size=None, mean: float = 0.0, std: float = 1.0, *,
                   temperature: float = 1.0, top_p: float = 1.0, estimator: str = "unbiased",
                   n_chains: int = 1, seed=None) -> FittedChains:
    """Refit a Gaussian to samples drawn at ``temperature`` with ``top_p`` truncation.

    ``sample_size=None`` is infinite data: mu_n = mu_0 and sigma_n = sigma_0 r^(n/2), r =
    :func:`sampling_variance_factor`. Otherwise each generation draws M truncated, tempered
    samples (inverse-cdf sampling) and fits their mean and variance (``estimator``).

    Used in chapter 4, Functional approximation error.
    """
    n = check_int("n_generations", n_generations, 0)
    m = _check_size(sample_size)
    n_chains = _check_chains(n_chains, m)
    mean, std = check_real("mean", mean), check_nonnegative("std", std)
    tau = check_nonnegative("temperature", temperature)
    r = sampling_variance_factor(tau, top_p)
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
            x = _tail_cut_samples(means[g - 1], stds[g - 1], m, tau, top_p, rng)
            means[g], stds[g] = x.mean(axis=1), x.std(axis=1, ddof=ddof)
    return FittedChains(means, stds)


def sampling_frame(top_ps=(0.9, 0.95, 0.99, 0.999), sample_size: int = 100,
                   n_generations: int = 100, n_chains: int = 500, seed=None) -> pd.DataFrame:
    """Data of :func:`sampling_chart`: sigma_n^2 under top-p sampling, closed form and simulated.

    sigma_0 = 1, temperature 1, unbiased estimator; for each p the closed form r(p)^n and the
    mean and 10–90% quantiles of ``n_chains`` chains. Used in chapter 4.
    """
    rng = as_rng(seed)
    n = check_int("n_generations", n_generations, 0)
    gens = np.arange(n + 1)
    frames = []
    for p in top_ps:
        run = sampling_chain(n, sample_size, top_p=p, n_chains=n_chains, seed=rng)
        var = run.variances
        frames.append(pd.DataFrame({
            "top_p": float(p), "n": gens, "closed": truncated_variance_factor(p) ** gens,
            "mc_mean": var.mean(axis=1), "mc_lo": np.quantile(var, 0.1, axis=1),
            "mc_hi": np.quantile(var, 0.9, axis=1)}))
    return _rounded(pd.concat(frames, ignore_index=True))


def sampling_chart(frame: pd.DataFrame, top_p: float) -> alt.LayerChart:
    """sigma_n^2 under top-p sampling: closed form r^n against the simulated mean, menu for p.

    ``frame`` has columns ``top_p``, ``n``, ``closed``, ``mc_mean``, ``mc_lo``, ``mc_hi``.
    Used in chapter 4, Functional approximation error.
    """
    values = sorted(float(v) for v in frame.top_p.unique())
    pick = alt.param(name="top_p_pick", value=float(top_p), bind=alt.binding_select(
        options=values, name="top-p "))
    base = alt.Chart(frame).add_params(pick).transform_filter(alt.datum.top_p == pick)
    x = alt.X("n:Q", title="generation n")
    band = base.mark_area(opacity=0.2, color="#4c78a8").encode(
        x, alt.Y("mc_lo:Q", title="fitted variance σₙ²", scale=alt.Scale(type="log")),
        alt.Y2("mc_hi:Q"))
    mc = base.mark_line(color="#4c78a8", strokeWidth=1.5).encode(x, alt.Y("mc_mean:Q"))
    closed = base.mark_line(color="#222222", strokeDash=[6, 3], strokeWidth=2).encode(
        x, alt.Y("closed:Q"))
    return charts.style(alt.layer(band, mc, closed).properties(
        width=charts.WIDTH, height=charts.HEIGHT,
        title="σₙ² with top-p sampling (blue: mean and 10–90% of chains; dashed: rⁿ)"))


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
            seed=None) -> pd.DataFrame:
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
    DataFrame
        One row per combination and generation: the four switches (booleans), ``n``, and the
        median and 10–90% quantiles over chains of W2 to the truth (``w2``, ``w2_lo``,
        ``w2_hi``) and of the fitted std (``std``, ``std_lo``, ``std_hi``).
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
    rows = []
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
        w2 = mixtures.w2_to_gaussian(p0, means, stds)
        w2[0] = 0.0
        q = np.quantile
        rows.append(pd.DataFrame({
            **dict(zip(CASCADE_SWITCHES, combo, strict=True)), "n": np.arange(n + 1),
            "w2": np.median(w2, axis=1), "w2_lo": q(w2, 0.1, axis=1), "w2_hi": q(w2, 0.9, axis=1),
            "std": np.median(stds, axis=1), "std_lo": q(stds, 0.1, axis=1),
            "std_hi": q(stds, 0.9, axis=1),
        }))
    return _rounded(pd.concat(rows, ignore_index=True))


def cascade_chart(frame: pd.DataFrame,
                  on: tuple[str, ...] = ("statistical",)) -> alt.VConcatChart:
    """W2 to the truth and the fitted std, with one checkbox per error source.

    ``frame`` is :func:`cascade` output; ``on`` names the switches ticked at first. Grey: all
    16 combinations' medians, for reference. Used in chapter 4, Functional approximation error.
    """
    for name in on:
        check_choice("on", name, tuple(CASCADE_SWITCHES))
    labels = {"statistical": "statistical error (finite M) ",
              "expressivity": "expressivity error (two-mode truth) ",
              "learning": "learning: gradient steps from a fixed start ",
              "sampling": "sampling: top-p truncation "}
    params = {k: alt.param(name=f"cascade_{k}", value=k in on,
                           bind=alt.binding_checkbox(name=labels[k])) for k in CASCADE_SWITCHES}
    # Switches as 0/1 and 4 significant digits: a third of the page weight of the raw frame.
    data = frame.copy()
    data[list(CASCADE_SWITCHES)] = data[list(CASCADE_SWITCHES)].astype(int)
    data = _rounded(data, 4)
    chosen = " && ".join(f"datum.{k} == (cascade_{k} ? 1 : 0)" for k in CASCADE_SWITCHES)
    combo = " + ".join(f"datum.{k}" for k in CASCADE_SWITCHES)
    x = alt.X("n:Q", title="generation n")

    def panel(col, title):
        others = alt.Chart(data).transform_calculate(combo=f"'' + {combo}").mark_line(
            color="#bbbbbb", strokeWidth=0.8).encode(
            x, alt.Y(f"{col}:Q", title=title), detail="combo:N")
        sel = alt.Chart(data).transform_filter(chosen)
        band = sel.mark_area(opacity=0.25, color="#e45756").encode(
            x, alt.Y(f"{col}_lo:Q"), alt.Y2(f"{col}_hi:Q"))
        line = sel.mark_line(color="#e45756", strokeWidth=2.5).encode(
            x, alt.Y(f"{col}:Q"), tooltip=["n", alt.Tooltip(f"{col}:Q", format=".3f")])
        return alt.layer(others, band, line).properties(width=charts.WIDTH, height=190)

    chart = alt.vconcat(panel("w2", "W₂ to the truth"), panel("std", "fitted std σₙ"))
    return charts.style(chart.add_params(*params.values()).properties(
        title="The cascade: red, the ticked errors (median and 10–90% of chains); grey, all 16"))
