"""Gaussian mixtures on the real line: what a model too simple for its data keeps and loses.

Chapter 3, Functional expressivity error, fits one Gaussian (or a mixture with too few components)
to a mixture of Gaussians. In the infinite-sample limit the maximum-likelihood Gaussian is the one
with the mixture's mean and variance (:func:`moment_match`); what remains is measured by the
Kullback-Leibler divergence (:func:`kl_divergence`, numerical integration) and the 2-Wasserstein
distance (:func:`w2_distance`, through the quantile functions). :func:`refit_chain` repeats the fit
generation after generation, with perfect information (the exact distribution) or finite samples,
and returns a :class:`~collapse_utils.chains.Chains`. Chapter 4 takes its two-mode truth from here.
The figures are in :mod:`collapse_utils.figures.mixtures`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special
from threadpoolctl import threadpool_limits

from collapse_utils import gaussian
from collapse_utils._checks import (
    as_rng,
    check_choice,
    check_distribution,
    check_finite_array,
    check_int,
    check_nonnegative,
    check_probability,
    check_sample_size,
    show,
)
from collapse_utils.chains import Chains

__all__ = [
    "DISTANCES",
    "Mixture1D",
    "components_frame",
    "distance_to_truth",
    "failure_modes",
    "fit_mixture",
    "fit_sklearn_mixture",
    "kl_divergence",
    "kl_to_gaussian",
    "model_at",
    "moment_match",
    "refit_chain",
    "w2_distance",
    "w2_to_gaussian",
]

_LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)
# Half-width, in component standard deviations, of the grids and integration ranges: beyond
# 14 sigma a normal density is below 1e-43 of its peak.
_SPAN = 14.0


# ------------------------------------------------------------------------------ 1-D mixtures


@dataclass(frozen=True, eq=False, init=False)
class Mixture1D:
    """A mixture of Gaussians on the real line: sum_k w_k N(mu_k, sigma_k^2).

    A single Gaussian is a mixture with one component (:meth:`gaussian`). Used in chapters 3 and 4.

    Parameters
    ----------
    weights : array_like, shape (K,)
        Mixing weights, >= 0, summing to 1.
    means : array_like, shape (K,)
        Component means.
    stds : array_like, shape (K,)
        Component standard deviations, > 0.
    """

    weights: np.ndarray
    means: np.ndarray
    stds: np.ndarray

    def __init__(self, weights, means, stds):
        w = check_distribution("weights", weights)
        m = check_finite_array("means", means)
        s = check_finite_array("stds", stds)
        if m.shape != w.shape:
            raise ValueError(
                f"means must have one entry per weight, shape {w.shape} (got shape {m.shape})")
        if s.shape != w.shape:
            raise ValueError(
                f"stds must have one entry per weight, shape {w.shape} (got shape {s.shape})")
        if (s <= 0).any():
            raise ValueError(f"stds must be > 0 (got {show(s[s <= 0][0])})")
        for name, arr in (("weights", w), ("means", m), ("stds", s)):
            arr = arr.copy()
            arr.flags.writeable = False
            object.__setattr__(self, name, arr)

    @classmethod
    def gaussian(cls, mean=0.0, std=1.0) -> Mixture1D:
        """The Gaussian N(mean, std^2) as a one-component mixture."""
        return cls([1.0], [mean], [std])

    def __repr__(self) -> str:
        def fmt(a):
            return "[" + ", ".join(f"{v:.4g}" for v in a) + "]"

        return (f"Mixture1D(weights={fmt(self.weights)}, means={fmt(self.means)}, "
                f"stds={fmt(self.stds)})")

    @property
    def n_components(self) -> int:
        """Number of components K."""
        return self.weights.size

    def mean(self) -> float:
        """Mean sum_k w_k mu_k."""
        return float(self.weights @ self.means)

    def var(self) -> float:
        """Variance sum_k w_k (sigma_k^2 + (mu_k - mu)^2) (the law of total variance)."""
        return float(self.weights @ (self.stds**2 + (self.means - self.mean()) ** 2))

    def std(self) -> float:
        """Standard deviation."""
        return float(np.sqrt(self.var()))

    def second_moment(self) -> float:
        """E[X^2] = sum_k w_k (sigma_k^2 + mu_k^2)."""
        return float(self.weights @ (self.stds**2 + self.means**2))

    def _components(self, x):
        x = np.asarray(x, dtype=float)
        z = (x[..., None] - self.means) / self.stds
        with np.errstate(divide="ignore"):
            logw = np.log(self.weights)
        return z, logw

    def logpdf(self, x):
        """Log density at ``x`` (any shape)."""
        z, logw = self._components(x)
        return special.logsumexp(logw - 0.5 * z**2 - np.log(self.stds) - _LOG_SQRT_2PI, axis=-1)

    def pdf(self, x):
        """Density at ``x``."""
        return np.exp(self.logpdf(x))

    def logcdf(self, x):
        """log P(X <= x), accurate far in the left tail."""
        z, logw = self._components(x)
        return special.logsumexp(logw + special.log_ndtr(z), axis=-1)

    def logsf(self, x):
        """log P(X > x), accurate far in the right tail."""
        z, logw = self._components(x)
        return special.logsumexp(logw + special.log_ndtr(-z), axis=-1)

    def cdf(self, x):
        """P(X <= x)."""
        return np.exp(self.logcdf(x))

    def sf(self, x):
        """P(X > x)."""
        return np.exp(self.logsf(x))

    def normal_score(self, x):
        """Phi^{-1}(F(x)), the standard normal quantile at this distribution's cdf (monotone in x).

        For a Gaussian N(mu, sigma^2) it is (x - mu) / sigma. Computed from the nearer tail, so it
        stays accurate far from the median.
        """
        lc, ls = self.logcdf(x), self.logsf(x)
        return np.where(lc < ls, special.ndtri_exp(np.minimum(lc, 0.0)),
                        -special.ndtri_exp(np.minimum(ls, 0.0)))

    def normal_score_quantile(self, t):
        """F^{-1}(Phi(t)), with Phi the standard normal cdf: the inverse of :meth:`normal_score`.

        For a Gaussian N(mu, sigma^2) it is mu + sigma t, the map that sends a standard normal to
        this distribution while keeping the order. For a mixture, safeguarded Newton on
        ``normal_score(x) = t`` (nearly linear in x), from a bracket found on a grid of
        +- 40 sigma_k around every component; accurate for |t| up to about 37.
        """
        t = np.asarray(t, dtype=float)
        if self.n_components == 1:
            return self.means[0] + self.stds[0] * t
        grid = np.unique((self.means[:, None]
                          + self.stds[:, None] * np.linspace(-40, 40, 321)).ravel())
        h_grid = self.normal_score(grid)
        idx = np.clip(np.searchsorted(h_grid, t), 1, grid.size - 1)
        lo, hi = grid[idx - 1], grid[idx]
        x = lo + (hi - lo) * np.clip((t - h_grid[idx - 1])
                                     / (h_grid[idx] - h_grid[idx - 1]), 0.0, 1.0)
        tol = 4 * np.finfo(float).eps * float(np.abs(grid).max())
        for _ in range(100):
            h = self.normal_score(x)
            above = h > t
            hi = np.where(above, x, hi)
            lo = np.where(above, lo, x)
            slope = np.exp(self.logpdf(x) + 0.5 * h**2 + _LOG_SQRT_2PI)
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                new = x - (h - t) / slope
            bad = ~np.isfinite(new) | (new < lo) | (new > hi)
            new = np.where(bad, 0.5 * (lo + hi), new)
            # Converged where h matches t to rounding (h has relative error ~1e-14 far in the
            # tails, so a step-size test would never stop there) or the bracket has closed.
            done = (np.abs(h - t) <= 1e-13 * (1 + np.abs(t))) | (hi - lo <= tol)
            x = np.where(done, x, new)
            if done.all():
                break
        return x

    def ppf(self, q):
        """Quantile function F^{-1}(q); ppf(0) = -inf, ppf(1) = inf."""
        q, scalar = check_probability("q", q)
        with np.errstate(divide="ignore"):
            t = np.where(q <= 0.5, special.ndtri(q), -special.ndtri(1 - q))
        out = self.normal_score_quantile(np.where(np.isfinite(t), t, 0.0))
        out = np.where(q == 0, -np.inf, np.where(q == 1, np.inf, out))
        return float(out) if scalar else out

    def sample(self, size, seed=None) -> np.ndarray:
        """``size`` independent draws, shape (size,) or ``size`` if it is a tuple."""
        rng = as_rng(seed)
        shape = (check_int("size", size, 0),) if np.ndim(size) == 0 else tuple(
            check_int("size", s, 0) for s in size)
        k = rng.choice(self.n_components, size=shape, p=self.weights)
        return self.means[k] + self.stds[k] * rng.standard_normal(shape)

    def entropy(self) -> float:
        """Differential entropy -E[log p(X)], by numerical integration (Gauss-Legendre panels)."""
        if self.n_components == 1:
            return float(0.5 + _LOG_SQRT_2PI + np.log(self.stds[0]))
        x, w = _x_nodes((self,))
        lp = self.logpdf(x)
        return float(-w @ (np.exp(lp) * lp))


def _x_nodes(dists, n_grid: int = 161):
    """Quadrature nodes and weights for int f(x) dx where the distributions in ``dists`` live.

    Panels end at a grid of +- 14 sigma_k around every component of every distribution (so a
    narrow component is resolved as finely as a wide one); 5-point Gauss-Legendre rules integrate
    each panel. Beyond the panels every density is below 1e-43 of its peak.
    """
    ends = np.unique(np.concatenate([
        (d.means[:, None] + d.stds[:, None] * np.linspace(-_SPAN, _SPAN, n_grid)).ravel()
        for d in dists]))
    g, gw = np.polynomial.legendre.leggauss(5)
    mid, half = 0.5 * (ends[1:] + ends[:-1]), 0.5 * (ends[1:] - ends[:-1])
    return (mid[:, None] + half[:, None] * g).ravel(), (half[:, None] * gw).ravel()


def _check_mixture(name: str, value) -> Mixture1D:
    if not isinstance(value, Mixture1D):
        raise ValueError(f"{name} must be a Mixture1D (got {type(value).__name__})")
    return value


def components_frame(models: dict[str, Mixture1D]) -> pd.DataFrame:
    """The components of several mixtures as a table: model, component, weight, mean, std.

    Used in chapter 3, Functional expressivity error.
    """
    rows = []
    for name, q in models.items():
        q = _check_mixture(f"models[{name!r}]", q)
        for k in range(q.n_components):
            rows.append((name, k + 1, q.weights[k], q.means[k], q.stds[k]))
    return pd.DataFrame(rows, columns=["model", "component", "weight", "mean", "std"])


def moment_match(p: Mixture1D) -> Mixture1D:
    """The maximum-likelihood Gaussian for data from ``p``, in the infinite-sample limit.

    Maximising E_p[log N(X; mu, sigma^2)] over (mu, sigma) gives the moments of ``p``:
    mu = sum_k w_k mu_k and sigma^2 = sum_k w_k (sigma_k^2 + mu_k^2) - mu^2; for two components
    sigma^2 = w_1 sigma_1^2 + w_2 sigma_2^2 + w_1 w_2 (mu_1 - mu_2)^2. The same Gaussian minimises
    KL(p || q) over all Gaussians q.

    Used in chapter 3, Functional expressivity error.
    """
    p = _check_mixture("p", p)
    return Mixture1D.gaussian(p.mean(), p.std())


def kl_divergence(p: Mixture1D, q: Mixture1D) -> float:
    """KL(p || q) = E_p[log p(X) - log q(X)] in nats, by numerical integration.

    Composite 5-point Gauss-Legendre rules on panels of 28 sigma_k / 160 across mu_k +- 14 sigma_k
    of every component of ``p`` and ``q`` (so that the integrand's structure from either is
    resolved); all but 1e-43 of ``p``'s mass lies there. Accurate to about 1e-10.

    Used in chapter 3, Functional expressivity error.
    """
    p = _check_mixture("p", p)
    q = _check_mixture("q", q)
    x, w = _x_nodes((p, q))
    lp = p.logpdf(x)
    return max(float(w @ (np.exp(lp) * (lp - q.logpdf(x)))), 0.0)


def kl_to_gaussian(p: Mixture1D, mean, std):
    """KL(p || N(mean, std^2)) for many Gaussians at once (broadcast over ``mean`` and ``std``).

    KL = -H(p) + log(std sqrt(2 pi)) + (E_p[X^2] - 2 mean E_p[X] + mean^2) / (2 std^2): only the
    entropy H(p) needs an integral, computed once. At the moment-matched Gaussian it is
    H(q*) - H(p), the entropy the Gaussian adds.

    Used in chapter 3, Functional expressivity error.
    """
    p = _check_mixture("p", p)
    mean = check_finite_array("mean", mean)
    std = check_finite_array("std", std)
    if (std <= 0).any():
        raise ValueError(f"std must be > 0 (got {show(std[std <= 0].flat[0])})")
    quad_term = p.second_moment() - 2 * mean * p.mean() + mean**2
    out = -p.entropy() + np.log(std) + _LOG_SQRT_2PI + quad_term / (2 * std**2)
    out = np.maximum(out, 0.0)
    return float(out) if out.ndim == 0 else out


def _score_nodes(dists, n_grid: int):
    """Quadrature for int g(t) phi(t) dt, t the normal score Phi^{-1}(u) of a probability level.

    The integral over u in (0, 1) of a function of the quantiles is the integral over t of the same
    function of F^{-1}(Phi(t)) against the standard normal density. Panels end at the scores of a
    grid of +- 14 sigma_k around every component of every distribution in ``dists``, so that each
    quantile function moves by at most 28 sigma_k / (n_grid - 1) across a panel, even where it is
    steep (in a gap between modes); 5-point Gauss-Legendre rules integrate each panel.

    Returns the nodes t and the weights (phi(t) included), whose sum is 1 to about 1e-14.
    """
    grid = np.linspace(-_SPAN, _SPAN, n_grid)
    ends = [np.zeros(1)]
    for d in dists:
        x = (d.means[:, None] + d.stds[:, None] * grid).ravel()
        lc, ls = d.logcdf(x), d.logsf(x)
        ends.append(np.where(lc < ls, special.ndtri_exp(np.minimum(lc, 0.0)),
                             -special.ndtri_exp(np.minimum(ls, 0.0))))
    t = np.unique(np.concatenate(ends))
    t = t[np.isfinite(t)]
    g, gw = np.polynomial.legendre.leggauss(5)
    mid, half = 0.5 * (t[1:] + t[:-1]), 0.5 * (t[1:] - t[:-1])
    nodes = mid[:, None] + half[:, None] * g
    weights = half[:, None] * gw * np.exp(-0.5 * nodes**2 - _LOG_SQRT_2PI)
    return nodes.ravel(), weights.ravel()


def w2_distance(p: Mixture1D, q: Mixture1D, n_grid: int = 101) -> float:
    """2-Wasserstein distance between two 1-D mixtures, through their quantile functions.

    W2^2 = int_0^1 (F_p^{-1}(u) - F_q^{-1}(u))^2 du: in one dimension the optimal coupling pairs
    equal quantiles. The integral is taken over the normal score t = Phi^{-1}(u) with panels that
    follow both quantile functions (see ``_score_nodes``); accurate to about 1e-10 relative with
    the default ``n_grid``. Two Gaussians give sqrt((mu_1 - mu_2)^2 + (sigma_1 - sigma_2)^2).

    Used in chapter 3, Functional expressivity error.
    """
    p = _check_mixture("p", p)
    q = _check_mixture("q", q)
    n_grid = check_int("n_grid", n_grid, 11)
    t, w = _score_nodes((p, q), n_grid)
    gap = p.normal_score_quantile(t) - q.normal_score_quantile(t)
    return float(np.sqrt(w @ gap**2))


def w2_to_gaussian(p: Mixture1D, mean, std, n_grid: int = 101):
    """W2(p, N(mean, std^2)) for many Gaussians at once (broadcast over ``mean`` and ``std``).

    W2^2 = E_p[X^2] - 2 mean E_p[X] + mean^2 + std^2 - 2 std C_p, where
    C_p = int_0^1 F_p^{-1}(u) Phi^{-1}(u) du is computed once (it is sigma for a Gaussian p).

    Used in chapter 3, Functional expressivity error.
    """
    p = _check_mixture("p", p)
    mean = check_finite_array("mean", mean)
    std = check_finite_array("std", std)
    if (std < 0).any():
        raise ValueError(f"std must be >= 0 (got {show(std[std < 0].flat[0])})")
    n_grid = check_int("n_grid", n_grid, 11)
    if p.n_components == 1:
        c = float(p.stds[0])
    else:
        t, w = _score_nodes((p,), n_grid)
        c = float(w @ (p.normal_score_quantile(t) * t))
    w2 = p.second_moment() - 2 * mean * p.mean() + mean**2 + std**2 - 2 * std * c
    out = np.sqrt(np.maximum(w2, 0.0))
    return float(out) if out.ndim == 0 else out


def failure_modes(p: Mixture1D, q: Mixture1D, level: float = 0.01,
                  tail: float = 0.001) -> pd.DataFrame:
    """How much mass a model ``q`` puts where the truth ``p`` has almost none.

    Two regions, the two failure modes of chapter 3:

    - *between the modes*: the points between ``p``'s smallest and largest component means where
      ``p``'s density is below ``level`` times its peak (its boundaries found by root finding);
    - *tails*: beyond ``p``'s ``tail`` and ``1 - tail`` quantiles, where ``p`` has mass 2 tail.

    Used in chapter 3, Functional expressivity error.

    Returns
    -------
    DataFrame
        One row per region: ``region``, ``truth_mass``, ``model_mass`` and their ``ratio``.
    """
    p = _check_mixture("p", p)
    q = _check_mixture("q", q)
    level, _ = check_probability("level", level)
    tail, _ = check_probability("tail", tail)
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1) (got {show(level)})")
    if not 0 < tail < 0.5:
        raise ValueError(f"tail must be in (0, 0.5) (got {show(tail)})")
    a, b = float(p.means.min()), float(p.means.max())
    truth_gap = model_gap = 0.0
    if b > a:
        x = np.linspace(a, b, 4001)
        lp = p.logpdf(x)
        peak = np.max(p.logpdf(_x_nodes((p,))[0]))
        g = lp - (peak + np.log(level))
        # Intervals where g < 0, their ends refined by root finding.
        below = g < 0
        edges = np.flatnonzero(np.diff(below.astype(int)))
        for i in edges:
            x[i] = x[i + 1] = optimize.brentq(
                lambda t: float(p.logpdf(t)) - (peak + np.log(level)), x[i], x[i + 1],
                xtol=1e-13)
        starts = [i + 1 for i in edges if below[i + 1]] + ([0] if below[0] else [])
        ends = [i for i in edges if below[i]] + ([x.size - 1] if below[-1] else [])
        for s, e in zip(sorted(starts), sorted(ends), strict=True):
            truth_gap += float(p.cdf(x[e]) - p.cdf(x[s]))
            model_gap += float(q.cdf(x[e]) - q.cdf(x[s]))
    lo_q, hi_q = p.ppf(tail), p.ppf(1 - tail)
    truth_tail = 2 * float(tail)
    model_tail = float(q.cdf(lo_q) + q.sf(hi_q))
    frame = pd.DataFrame({
        "region": [f"between the modes (density < {float(level):g} of the peak)",
                   f"tails (beyond the truth's {float(tail):g} and {1 - float(tail):g} quantiles)"],
        "truth_mass": [truth_gap, truth_tail],
        "model_mass": [model_gap, model_tail],
    })
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["ratio"] = frame.model_mass / frame.truth_mass
    return frame


# ----------------------------------------------------------------- fitting a mixture to a mixture


def fit_mixture(p: Mixture1D, n_components: int, tol: float = 1e-11,
                max_iter: int = 10_000) -> Mixture1D:
    """The maximum-likelihood K-component mixture for data from ``p``, in the infinite-sample limit.

    Expectation-maximisation run on the exact density: the expectations over the data become
    integrals against ``p``, computed with the quadrature of :func:`kl_divergence`. The start is
    deterministic (means at ``p``'s quantiles (k + 1/2) / K, equal weights, stds ``p.std() / K``),
    so EM finds one local maximum, the same every time; it stops when no weight, and no mean or
    std in units of ``p.std()``, moves by more than ``tol``. With ``n_components = 1`` the answer
    is :func:`moment_match`.

    Used in chapter 3, Functional expressivity error.
    """
    p = _check_mixture("p", p)
    k = check_int("n_components", n_components, 1)
    tol = check_nonnegative("tol", tol)
    max_iter = check_int("max_iter", max_iter, 1)
    if k == 1:
        return moment_match(p)
    x, w = _x_nodes((p,))
    w = w * p.pdf(x)
    w /= w.sum()
    weights = np.full(k, 1.0 / k)
    means = p.ppf((np.arange(k) + 0.5) / k)
    stds = np.full(k, p.std() / k)
    scale = p.std()
    for _ in range(max_iter):
        logr = np.log(weights) - 0.5 * ((x[:, None] - means) / stds) ** 2 - np.log(stds)
        r = np.exp(logr - special.logsumexp(logr, axis=1, keepdims=True)) * w[:, None]
        new_weights = r.sum(axis=0)
        new_means = (r * x[:, None]).sum(axis=0) / new_weights
        new_stds = np.sqrt((r * (x[:, None] - new_means) ** 2).sum(axis=0) / new_weights)
        new_stds = np.maximum(new_stds, 1e-12 * scale)
        change = max(np.abs(new_weights - weights).max(),
                     np.abs(new_means - means).max() / scale,
                     np.abs(new_stds - stds).max() / scale)
        weights, means, stds = new_weights, new_means, new_stds
        if change <= tol:
            break
    order = np.argsort(means)
    return Mixture1D(weights[order] / weights.sum(), means[order], stds[order])


def fit_sklearn_mixture(x, n_components: int, seed=None, tol: float = 1e-3,
                        max_iter: int = 100) -> Mixture1D:
    """Fit ``sklearn.mixture.GaussianMixture`` (full covariance) to 1-D data ``x``.

    ``tol`` and ``max_iter`` are scikit-learn's EM stopping rule (its defaults: stop when the
    average log-likelihood gains less than 1e-3). The components come back sorted by mean.

    Used in chapter 3, Functional expressivity error.
    """
    from sklearn.mixture import GaussianMixture

    x = check_finite_array("x", x)
    k = check_int("n_components", n_components, 1)
    if x.ndim != 1 or x.size < max(2, k):
        raise ValueError(f"x must be a 1-D array of at least max(2, n_components) = {max(2, k)} "
                         f"values (got shape {x.shape})")
    tol = check_nonnegative("tol", tol)
    max_iter = check_int("max_iter", max_iter, 1)
    rng = as_rng(seed)
    gm = GaussianMixture(k, covariance_type="full", tol=tol, max_iter=max_iter,
                         random_state=int(rng.integers(2**31)))
    # One thread: on small data, OpenMP threads only wait for each other (k-means init).
    with threadpool_limits(1):
        gm.fit(x[:, None])
    order = np.argsort(gm.means_[:, 0])
    return Mixture1D(gm.weights_[order] / gm.weights_.sum(), gm.means_[order, 0],
                     np.sqrt(gm.covariances_[order, 0, 0]))


# ------------------------------------------------------------------------------ the refit loop

#: The distances to the truth that :func:`distance_to_truth` measures.
DISTANCES = ("kl", "w2")


def refit_chain(p: Mixture1D, n_generations: int, n_components: int = 1, sample_size=None,
                n_chains: int = 1, estimator: str = "unbiased", seed=None) -> Chains:
    """Fit a model to ``p``, then refit it to itself, generation after generation.

    Generation 0 is the truth ``p``; generation n >= 1 is a ``n_components``-component model
    fitted to generation n - 1.

    - ``sample_size=None``: perfect information, the infinite-sample limit. Each fit is the exact
      maximum-likelihood fit to the previous distribution (:func:`moment_match` for one component,
      :func:`fit_mixture` for more); the chain is deterministic and ``n_chains`` must be 1.
    - ``sample_size=M``: each generation draws M points from the previous one and fits them. One
      component: mean and standard deviation (``estimator``, as in chapter 2), and from generation
      2 on the exact Gaussian chain of :func:`collapse_utils.gaussian.simulate`. More components:
      :func:`fit_sklearn_mixture`.

    Used in chapter 3, Functional expressivity error.

    Returns
    -------
    Chains
        ``weights``, ``means`` and ``stds``, each of shape (n_generations + 1, n_chains, K) with K
        the larger of ``p``'s and the model's number of components; row 0 is ``p``. A mixture with
        fewer than K components has weight 0 and NaN mean and std in the slots it lacks
        (:func:`model_at` rebuilds it). ``info`` holds ``n_components``, ``sample_size`` and
        ``estimator``. :func:`distance_to_truth` measures each generation against ``p``.
    """
    p = _check_mixture("p", p)
    n = check_int("n_generations", n_generations, 0)
    k = check_int("n_components", n_components, 1)
    n_chains = check_int("n_chains", n_chains, 1)
    estimator = check_choice("estimator", estimator, gaussian.ESTIMATORS)
    info = {"n_components": k, "sample_size": sample_size, "estimator": estimator}
    if sample_size is None:
        if n_chains != 1:
            raise ValueError(f"n_chains must be 1 when sample_size is None: perfect information "
                             f"is deterministic (got {n_chains})")
        models = [p]
        for _ in range(n):
            models.append(fit_mixture(models[-1], k))
        return _pack(p, [[q] for q in models[1:]], 1, k, info)
    m = check_sample_size(sample_size, max(2, k))
    if not isinstance(m, int):
        raise ValueError(f"sample_size must be None or one integer (got {show(sample_size)})")
    rng = as_rng(seed)
    if k == 1:
        return _pack(p, _gaussian_chain(p, n, m, n_chains, estimator, rng), n_chains, k, info)
    models = [[p] * n_chains]
    for _ in range(n):
        models.append([fit_sklearn_mixture(q.sample(m, rng), k, rng) for q in models[-1]])
    return _pack(p, models[1:], n_chains, k, info)


def _gaussian_chain(p, n, m, n_chains, estimator, rng):
    """(means, stds) of generations 1..n, each of shape (n, n_chains)."""
    if n == 0:
        return np.empty((0, n_chains)), np.empty((0, n_chains))
    ddof = 1 if estimator == "unbiased" else 0
    first = p.sample((n_chains, m), rng)
    mu1, sd1 = first.mean(axis=1), first.std(axis=1, ddof=ddof)
    # Generations 2..n are a Gaussian chain started at (mu1, sd1): simulate from N(0, 1) and
    # move it, as the exact law is location-scale equivariant.
    unit = gaussian.simulate(n - 1, m, 0.0, 1.0, estimator=estimator, n_chains=n_chains,
                             seed=rng)
    return mu1 + sd1 * np.asarray(unit.means), sd1 * np.asarray(unit.stds)


def _pack(p, fitted, n_chains, k, info) -> Chains:
    """Chains from the truth and the fitted models: ``fitted`` is either rows of Mixture1D
    (generation 1..n, chain) or the (means, stds) arrays of one-Gaussian models."""
    size = max(p.n_components, k)
    n = len(fitted[0]) if isinstance(fitted, tuple) else len(fitted)
    weights = np.zeros((n + 1, n_chains, size))
    means = np.full((n + 1, n_chains, size), np.nan)
    stds = np.full((n + 1, n_chains, size), np.nan)
    j = p.n_components
    weights[0, :, :j], means[0, :, :j], stds[0, :, :j] = p.weights, p.means, p.stds
    if isinstance(fitted, tuple):
        weights[1:, :, 0] = 1.0
        means[1:, :, 0], stds[1:, :, 0] = fitted
    else:
        for g, row in enumerate(fitted, start=1):
            for c, q in enumerate(row):
                j = q.n_components
                weights[g, c, :j], means[g, c, :j], stds[g, c, :j] = q.weights, q.means, q.stds
    return Chains({"weights": weights, "means": means, "stds": stds}, info)


def _check_chains(chains) -> Chains:
    names = ("weights", "means", "stds")
    if not (isinstance(chains, Chains) and all(
            name in chains.params and chains.params[name].ndim == 3 for name in names)):
        raise ValueError("chains must be a Chains from refit_chain, with weights, means and stds "
                         "of shape (n_generations + 1, n_chains, K)")
    return chains


def model_at(chains: Chains, generation: int, chain: int = 0) -> Mixture1D:
    """The mixture of :func:`refit_chain`'s ``chains`` at ``generation`` in ``chain``.

    Used in chapter 3, Functional expressivity error.
    """
    chains = _check_chains(chains)
    g = check_int("generation", generation, 0, chains.n_generations)
    c = check_int("chain", chain, 0, chains.n_chains - 1)
    keep = ~np.isnan(chains.means[g, c])
    return Mixture1D(chains.weights[g, c, keep], chains.means[g, c, keep],
                     chains.stds[g, c, keep])


def distance_to_truth(chains: Chains, metric: str = "w2") -> np.ndarray:
    """How far each generation of :func:`refit_chain` is from the truth, generation 0.

    ``metric="w2"``: W2(truth, generation n); ``"kl"``: KL(truth || generation n) in nats. One
    Gaussian per generation uses the closed forms of :func:`w2_to_gaussian` and
    :func:`kl_to_gaussian` for every chain at once; mixtures, :func:`w2_distance` and
    :func:`kl_divergence` one model at a time.

    Used in chapter 3, Functional expressivity error.

    Returns
    -------
    ndarray, shape (n_generations + 1, n_chains)
        Row 0 is zero.
    """
    chains = _check_chains(chains)
    metric = check_choice("metric", metric, DISTANCES)
    p = model_at(chains, 0)
    out = np.zeros((chains.n_generations + 1, chains.n_chains))
    means, stds = chains.means[1:], chains.stds[1:]
    if np.isnan(means[..., 1:]).all():  # every model is one Gaussian
        mean, std = means[..., 0], stds[..., 0]
        out[1:] = (kl_to_gaussian(p, mean, np.maximum(std, 1e-300)) if metric == "kl"
                   else w2_to_gaussian(p, mean, std))
        return out
    distance = kl_divergence if metric == "kl" else w2_distance
    for g in range(1, chains.n_generations + 1):
        for c in range(chains.n_chains):
            out[g, c] = distance(p, model_at(chains, g, c))
    return out
