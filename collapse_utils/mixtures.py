"""Gaussian mixtures: what a model too simple for its data keeps and loses.

Chapter 3, Functional expressivity error, fits one Gaussian (or a mixture with too few components)
to a mixture of Gaussians. In the infinite-sample limit the maximum-likelihood Gaussian is the one
with the mixture's mean and variance (:func:`moment_match`); what remains is measured by the
Kullback-Leibler divergence (:func:`kl_divergence`, numerical integration) and the 2-Wasserstein
distance (:func:`w2_distance`, through the quantile functions). :func:`refit_chain` repeats the fit
generation after generation, with perfect information (the exact distribution) or finite samples.

Chapter 5, Collapse in models trained from scratch, refits a two-component, full-covariance
``sklearn.mixture.GaussianMixture`` on its own samples (:func:`recursive_gmm`) and scores it with
the closed-form L2 distance between Gaussian mixtures (:func:`l2_distance`).
"""

from __future__ import annotations

from dataclasses import dataclass

import altair as alt
import numpy as np
import pandas as pd
from scipy import optimize, special
from threadpoolctl import threadpool_limits

from collapse_utils import charts, gaussian
from collapse_utils._checks import (
    as_rng,
    check_choice,
    check_covariance,
    check_distribution,
    check_finite_array,
    check_int,
    check_nonnegative,
    check_probability,
    check_sample_size,
    show,
)
from collapse_utils._progress import progress_bar

__all__ = [
    "GMMChain",
    "Mixture1D",
    "components_frame",
    "failure_modes",
    "gmm_chart",
    "gmm_snapshots_chart",
    "fit_mixture",
    "fit_sklearn_mixture",
    "kl_divergence",
    "kl_to_gaussian",
    "l2_distance",
    "moment_match",
    "recursive_gmm",
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


def refit_chain(p: Mixture1D, n_generations: int, n_components: int = 1, sample_size=None,
                n_chains: int = 1, estimator: str = "unbiased", seed=None) -> pd.DataFrame:
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
    DataFrame
        Rows (generation, chain) with the model's ``mean`` and ``std``, ``kl`` = KL(p || model)
        and ``w2`` = W2(p, model).
    """
    p = _check_mixture("p", p)
    n = check_int("n_generations", n_generations, 0)
    k = check_int("n_components", n_components, 1)
    n_chains = check_int("n_chains", n_chains, 1)
    estimator = check_choice("estimator", estimator, gaussian.ESTIMATORS)
    if sample_size is None:
        if n_chains != 1:
            raise ValueError(f"n_chains must be 1 when sample_size is None: perfect information "
                             f"is deterministic (got {n_chains})")
        models = [p]
        for _ in range(n):
            models.append(fit_mixture(models[-1], k))
        return _chain_frame(p, [[m] for m in models])
    m = check_sample_size(sample_size, max(2, k))
    if not isinstance(m, int):
        raise ValueError(f"sample_size must be None or one integer (got {show(sample_size)})")
    rng = as_rng(seed)
    if k == 1:
        return _gaussian_chain(p, n, m, n_chains, estimator, rng)
    models = [[p] * n_chains]
    for _ in range(n):
        models.append([fit_sklearn_mixture(q.sample(m, rng), k, rng) for q in models[-1]])
    return _chain_frame(p, models)


def _gaussian_chain(p, n, m, n_chains, estimator, rng):
    ddof = 1 if estimator == "unbiased" else 0
    rows = [pd.DataFrame({"generation": 0, "chain": np.arange(n_chains), "mean": p.mean(),
                          "std": p.std(), "kl": 0.0, "w2": 0.0})]
    if n >= 1:
        first = p.sample((n_chains, m), rng)
        mu1, sd1 = first.mean(axis=1), first.std(axis=1, ddof=ddof)
        # Generations 2..n are a Gaussian chain started at (mu1, sd1): simulate from N(0, 1) and
        # move it, as the exact law is location-scale equivariant.
        unit = gaussian.simulate(n - 1, m, 0.0, 1.0, estimator=estimator, n_chains=n_chains,
                                 seed=rng)
        means = mu1 + sd1 * unit.means
        stds = sd1 * unit.stds
        gens = np.arange(1, n + 1)[:, None] * np.ones((1, n_chains), dtype=int)
        chains = np.ones((n, 1), dtype=int) * np.arange(n_chains)
        rows.append(pd.DataFrame({
            "generation": gens.ravel(), "chain": chains.ravel(), "mean": means.ravel(),
            "std": stds.ravel(),
            "kl": kl_to_gaussian(p, means, np.maximum(stds, 1e-300)).ravel(),
            "w2": w2_to_gaussian(p, means, stds).ravel(),
        }))
    return pd.concat(rows, ignore_index=True)


def _chain_frame(p, models):
    rows = []
    for g, row in enumerate(models):
        for c, q in enumerate(row):
            same = q is p
            rows.append((g, c, q.mean(), q.std(), 0.0 if same else kl_divergence(p, q),
                         0.0 if same else w2_distance(p, q)))
    return pd.DataFrame(rows, columns=["generation", "chain", "mean", "std", "kl", "w2"])


# --------------------------------------------------------------------------- chapter 3 charts


def fit_explorer_chart(separation: float = 4.0, weight: float = 0.5, width: float = 0.6,
                       x_range: float = 7.0, n_points: int = 561) -> alt.LayerChart:
    """A two-mode mixture and its moment-matched Gaussian, with sliders, computed in the browser.

    The truth is (1 - w) N(-d/2, s^2) + w N(d/2, s^2); the fit is N(mu, sigma^2) with, in closed
    form, mu = (w - 1/2) d and sigma^2 = s^2 + w (1 - w) d^2.
    Red: where the Gaussian puts mass the truth lacks; blue: the truth's mass it misses. The
    readout gives KL(p || q) by a Riemann sum over the plotted grid (Vega computes it).

    Used in chapter 3, Functional expressivity error.
    """
    d0 = check_nonnegative("separation", separation)
    w0, _ = check_probability("weight", weight)
    s0 = check_nonnegative("width", width)
    n_points = check_int("n_points", n_points, 11, 5000)
    x = np.linspace(-x_range, x_range, n_points)
    dx = float(x[1] - x[0])
    sep = alt.param(name="sep", value=d0, bind=alt.binding_range(
        min=0, max=8, step=0.1, name="distance between the modes d "))
    wgt = alt.param(name="w", value=float(w0), bind=alt.binding_range(
        min=0.05, max=0.95, step=0.05, name="weight of the right mode w "))
    wid = alt.param(name="s", value=s0, bind=alt.binding_range(
        min=0.2, max=2, step=0.05, name="width of each mode s "))
    base = alt.Chart(pd.DataFrame({"x": x})).transform_calculate(
        p="(1 - w) * densityNormal(datum.x, -sep / 2, s) + w * densityNormal(datum.x, sep / 2, s)",
        mu="(1 - w) * (-sep / 2) + w * sep / 2",
    ).transform_calculate(
        sigma="sqrt(s * s + w * (1 - w) * sep * sep)",
    ).transform_calculate(
        q="densityNormal(datum.x, datum.mu, datum.sigma)",
    ).transform_calculate(
        top="max(datum.p, datum.q)",
        kl_part=f"datum.p > 0 ? datum.p * log(datum.p / datum.q) * {dx} : 0",
    )
    xenc = alt.X("x:Q", title="x", scale=alt.Scale(domain=[-x_range, x_range]))
    excess = base.mark_area(color="#e45756", opacity=0.35).encode(
        xenc, alt.Y("p:Q", title="density"), alt.Y2("top:Q"))
    missed = base.mark_area(color="#4c78a8", opacity=0.35).encode(
        xenc, alt.Y("q:Q"), alt.Y2("top:Q"))
    curves = base.transform_fold(["p", "q"], as_=["which", "density"]).transform_calculate(
        curve="datum.which == 'p' ? 'truth p (two modes)' : 'fitted Gaussian q'"
    ).mark_line(strokeWidth=2.2).encode(
        xenc, alt.Y("density:Q"),
        alt.Color("curve:N", title=None, scale=alt.Scale(
            domain=["truth p (two modes)", "fitted Gaussian q"], range=["#222222", "#e67e22"]),
            legend=alt.Legend(orient="top-right")))
    readout = base.transform_aggregate(kl="sum(kl_part)", mu="min(mu)", sigma="min(sigma)") \
        .transform_calculate(label=(
            "'fit: μ = ' + format(datum.mu, '.2f') + ', σ = ' + format(datum.sigma, '.2f') "
            "+ ';  KL(p‖q) ≈ ' + format(datum.kl, '.3f') + ' nats'")) \
        .mark_text(align="left", baseline="top", x=5, y=5, fontSize=12).encode(text="label:N")
    chart = alt.layer(excess, missed, curves, readout).add_params(sep, wgt, wid).properties(
        width=charts.WIDTH, height=charts.HEIGHT,
        title="One Gaussian fitted to two modes (red: mass the truth lacks; blue: mass missed)")
    return charts.style(chart)


def _sig(a, digits: int = 4) -> np.ndarray:
    """``a`` rounded to ``digits`` significant digits: smaller chart data, same picture."""
    a = np.asarray(a, dtype=float)
    with np.errstate(divide="ignore"):
        scale = np.where(a == 0, 0, np.floor(np.log10(np.abs(np.where(a == 0, 1, a)))))
    factor = 10.0 ** (digits - 1 - scale)
    return np.round(a * factor) / factor


def density_chart(p: Mixture1D, fits: dict[str, Mixture1D],
                  x_range: tuple[float, float] | None = None, n_points: int = 301,
                  floor: float = 1e-6) -> alt.VConcatChart:
    """The truth and fitted models, on a linear scale (top) and a log scale (bottom, for tails).

    ``fits`` maps a legend name to a model. Used in chapter 3, Functional expressivity error.
    """
    p = _check_mixture("p", p)
    for name, q in fits.items():
        _check_mixture(f"fits[{name!r}]", q)
    if x_range is None:
        lo = float(min(d.mean() - 4.5 * d.std() for d in [p, *fits.values()]))
        hi = float(max(d.mean() + 4.5 * d.std() for d in [p, *fits.values()]))
    else:
        lo, hi = map(float, x_range)
    x = np.linspace(lo, hi, check_int("n_points", n_points, 11, 2000))
    names = ["truth", *fits]
    frame = pd.concat([pd.DataFrame({"x": _sig(x), "model": name, "density": d.pdf(x)})
                       for name, d in zip(names, [p, *fits.values()], strict=True)])
    frame["density"] = _sig(np.maximum(frame.density, floor))
    palette = ["#222222", "#e67e22", "#4c78a8", "#54a24b", "#b279a2"][: len(names)]
    color = alt.Color("model:N", sort=names, title=None,
                      scale=alt.Scale(domain=names, range=palette),
                      legend=alt.Legend(orient="bottom", columns=2, labelLimit=400,
                                        symbolStrokeWidth=2.5))
    dash = alt.StrokeDash("model:N", sort=names, legend=None, scale=alt.Scale(
        domain=names, range=[[1, 0]] + [[6, 3]] * (len(names) - 1)))
    xenc = alt.X("x:Q", title="x", scale=alt.Scale(domain=[lo, hi]))
    base = alt.Chart(frame)
    top = base.mark_line(strokeWidth=2).encode(
        xenc, alt.Y("density:Q", title="density"), color, dash
    ).properties(width=charts.WIDTH, height=200, title="Density")
    bottom = base.mark_line(strokeWidth=2).encode(
        xenc, alt.Y("density:Q", title="density (log scale)",
                    scale=alt.Scale(type="log", domain=[floor, float(frame.density.max()) * 2])),
        color, dash,
    ).properties(width=charts.WIDTH, height=200,
                 title=f"The same on a log scale (clipped at {floor:g}): the tails")
    return charts.style(alt.vconcat(top, bottom))


def chain_chart(frame: pd.DataFrame, metric: str = "w2", band: tuple[float, float] = (0.1, 0.9),
                ) -> alt.LayerChart:
    """KL or W2 to the truth over generations, for the chains of :func:`refit_chain`.

    ``frame`` is :func:`refit_chain` output with a ``setting`` column naming each run (one chain
    for perfect information, many for finite samples); the chart draws each setting's median
    over chains and, for settings with several chains, a band between the ``band`` quantiles.

    Used in chapter 3, Functional expressivity error.
    """
    metric = check_choice("metric", metric, ("kl", "w2"))
    if "setting" not in frame:
        raise ValueError("frame must have a 'setting' column naming each run")
    lo_q, hi_q = band
    summary = frame.groupby(["setting", "generation"])[metric].agg(
        median="median", lo=lambda s: s.quantile(lo_q), hi=lambda s: s.quantile(hi_q)
    ).reset_index()
    for col in ("median", "lo", "hi"):
        summary[col] = _sig(summary[col])
    names = list(dict.fromkeys(frame["setting"]))
    palette = ["#222222", "#e67e22", "#4c78a8", "#54a24b", "#b279a2"]
    scale = alt.Scale(domain=names, range=palette[: len(names)])
    color = alt.Color("setting:N", sort=names, title=None, scale=scale,
                      legend=alt.Legend(orient="top-left", labelLimit=400, symbolType="stroke"))
    x = alt.X("generation:Q", title="generation n")
    title = {"w2": "W₂(truth, generation n)", "kl": "KL(truth ‖ generation n), nats"}[metric]
    base = alt.Chart(summary)
    bands = base.mark_area(opacity=0.2).encode(
        x, alt.Y("lo:Q", title=title), alt.Y2("hi:Q"),
        alt.Color("setting:N", sort=names, scale=scale, legend=None))
    lines = base.mark_line(strokeWidth=2).encode(x, alt.Y("median:Q"), color)
    chart = alt.layer(bands, lines).properties(
        width=charts.WIDTH, height=charts.HEIGHT,
        title=f"Distance to the truth (lines: median over chains; bands: "
              f"{lo_q:.0%}–{hi_q:.0%})")
    return charts.style(chart)


# ------------------------------------------------------- d-dimensional mixtures (chapter 5)


def _check_gmm(suffix: str, weights, means, covs):
    w = check_distribution(f"weights{suffix}", weights)
    m = check_finite_array(f"means{suffix}", means)
    if m.ndim != 2 or m.shape[0] != w.size or m.shape[1] == 0:
        raise ValueError(f"means{suffix} must have shape (K, d) with K = {w.size} "
                         f"(got shape {m.shape})")
    c = check_covariance(f"covs{suffix}", covs, batch=True)
    if c.shape != m.shape + m.shape[-1:]:
        raise ValueError(f"covs{suffix} must have shape (K, d, d) = {m.shape + m.shape[-1:]} "
                         f"(got shape {c.shape})")
    return w, m, c


def _cross_term(w1, m1, c1, w2, m2, c2) -> float:
    """sum_ij a_i b_j N(m1_i; m2_j, C1_i + C2_j) = int p q."""
    d = m1.shape[1]
    s = c1[:, None] + c2[None, :]
    diff = m1[:, None] - m2[None, :]
    sign, logdet = np.linalg.slogdet(s)
    if (sign <= 0).any():
        raise ValueError("covs must make every sum C1_i + C2_j positive definite (singular pair)")
    sol = np.linalg.solve(s, diff[..., None])[..., 0]
    quad = np.einsum("ijk,ijk->ij", diff, sol)
    log_n = -0.5 * (d * np.log(2 * np.pi) + logdet + quad)
    return float(w1 @ np.exp(log_n) @ w2)


def l2_distance(weights1, means1, covs1, weights2, means2, covs2) -> float:
    """L2 distance ||p - q||_2 = sqrt(int (p - q)^2) between two Gaussian mixtures, in closed form.

    int p q = sum_ij a_i b_j N(mu_i; nu_j, Sigma_i + Lambda_j), since the product of two Gaussian
    densities integrates to a Gaussian density evaluated at the difference of the means; so
    ||p - q||^2 = int p^2 + int q^2 - 2 int p q. The paper scores its GMM chain with this distance.

    Used in chapter 5, Collapse in models trained from scratch.

    Parameters
    ----------
    weights1, weights2 : array_like, shape (K,) and (L,)
    means1, means2 : array_like, shape (K, d) and (L, d)
    covs1, covs2 : array_like, shape (K, d, d) and (L, d, d)
        Symmetric positive definite (a sum C1_i + C2_j must be invertible).
    """
    a, m1, c1 = _check_gmm("1", weights1, means1, covs1)
    b, m2, c2 = _check_gmm("2", weights2, means2, covs2)
    if m1.shape[1] != m2.shape[1]:
        raise ValueError(f"means2 must have the dimension d = {m1.shape[1]} of means1 "
                         f"(got d = {m2.shape[1]})")
    pp = _cross_term(a, m1, c1, a, m1, c1)
    qq = _cross_term(b, m2, c2, b, m2, c2)
    pq = _cross_term(a, m1, c1, b, m2, c2)
    return float(np.sqrt(max(pp + qq - 2 * pq, 0.0)))


@dataclass(frozen=True, eq=False)
class GMMChain:
    """Gaussian mixtures, each fitted to samples of the one before (:func:`recursive_gmm`).

    Used in chapter 5, Collapse in models trained from scratch.

    Attributes
    ----------
    weights : ndarray, shape (n_generations + 1, K)
    means : ndarray, shape (n_generations + 1, K, d)
    covs : ndarray, shape (n_generations + 1, K, d, d)
        The fitted mixture of every generation; generation 0 is fitted to the original data.
    samples : dict[int, ndarray]
        For the requested generations n, the (M, d) training data of generation n (the original
        data for n = 0, samples of generation n - 1 after).
    labels : dict[int, ndarray]
        The component each of those points was drawn from (-1 for the original data).
    """

    weights: np.ndarray
    means: np.ndarray
    covs: np.ndarray
    samples: dict
    labels: dict

    @property
    def n_generations(self) -> int:
        """Number of refits after generation 0."""
        return self.weights.shape[0] - 1

    def l2_to_start(self) -> np.ndarray:
        """Closed-form L2 distance from each generation's mixture to generation 0's, (n + 1,)."""
        w0, m0, c0 = self.weights[0], self.means[0], self.covs[0]
        pp = _cross_term(w0, m0, c0, w0, m0, c0)
        out = np.empty(self.n_generations + 1)
        for g in range(out.size):
            w, m, c = self.weights[g], self.means[g], self.covs[g]
            out[g] = pp + _cross_term(w, m, c, w, m, c) - 2 * _cross_term(w0, m0, c0, w, m, c)
        return np.sqrt(np.maximum(out, 0.0))

    def component_stds(self) -> np.ndarray:
        """Root-mean-square standard deviation sqrt(tr(Sigma_k) / d) of each component, (n + 1, K).

        Components are in the order scikit-learn returned them, which may swap between
        generations; sort each row to follow the smaller and the larger one.
        """
        d = self.means.shape[-1]
        return np.sqrt(np.trace(self.covs, axis1=-2, axis2=-1) / d)


def recursive_gmm(n_generations: int = 2000, sample_size: int = 1000, n_components: int = 2,
                  data=None, keep=(0, 1, 10, 100, 1000, 2000), reuse_random_state: bool = False,
                  seed=None, progress: bool = True) -> GMMChain:
    """Refit ``sklearn.mixture.GaussianMixture`` on its own samples, generation after generation.

    The paper's GMM experiment: a ``n_components``-component, full-covariance mixture
    (scikit-learn's defaults otherwise) is fitted to ``data``; each later generation draws
    ``sample_size`` points from the last mixture (``GaussianMixture.sample``) and fits a new
    mixture to them.

    Used in chapter 5, Collapse in models trained from scratch.

    Parameters
    ----------
    n_generations : int
        Refits after generation 0 (>= 0).
    sample_size : int
        M, the points drawn per generation (>= n_components + 1).
    n_components : int
        Components of every mixture (>= 1).
    data : array_like of shape (M0, d), optional
        The original data. Default: ``sample_size`` points of two Gaussian blobs in 2-D
        (``sklearn.datasets.make_blobs(centers=2)``, unit standard deviation).
    keep : sequence of int
        Generations whose training data go into ``.samples`` (those beyond ``n_generations`` are
        ignored).
    reuse_random_state : bool
        Give every ``sample`` call the same ``random_state``. A pitfall, kept to show it:
        ``GaussianMixture.sample`` draws with the estimator's ``random_state``, so a fixed integer
        makes every generation reuse the same noise, a systematic shrink that is not the paper's
        random one. By default each generation gets fresh randomness from ``seed``.
    seed : None, int or numpy.random.Generator
    progress : bool
        Show a progress bar (``tqdm.auto``; silenced by ``TQDM_DISABLE=1``).
    """
    from sklearn.datasets import make_blobs
    from sklearn.mixture import GaussianMixture

    n = check_int("n_generations", n_generations, 0)
    k = check_int("n_components", n_components, 1)
    m = check_int("sample_size", sample_size, k + 1)
    keep = {check_int("keep", g, 0) for g in keep}
    rng = as_rng(seed)
    if data is None:
        data, _ = make_blobs(n_samples=m, centers=2, n_features=2, cluster_std=1.0,
                             random_state=int(rng.integers(2**31)))
    data = check_finite_array("data", data)
    if data.ndim != 2 or data.shape[0] < k + 1:
        raise ValueError(f"data must have shape (M0, d) with M0 >= n_components + 1 = {k + 1} "
                         f"(got shape {data.shape})")
    d = data.shape[1]
    weights = np.empty((n + 1, k))
    means = np.empty((n + 1, k, d))
    covs = np.empty((n + 1, k, d, d))
    samples, labels = {}, {}
    fixed = int(rng.integers(2**31))
    gm = GaussianMixture(k, covariance_type="full", random_state=fixed)
    x, lab = data, np.full(data.shape[0], -1)
    bar = progress_bar(total=n + 1, desc="GMM generations", enabled=progress)
    with threadpool_limits(1), bar:
        for g in range(n + 1):
            if g > 0:
                if not reuse_random_state:
                    gm.random_state = int(rng.integers(2**31))
                x, lab = gm.sample(m)
            if g in keep:
                samples[g], labels[g] = x, lab
            if not reuse_random_state:
                gm.random_state = int(rng.integers(2**31))
            gm.fit(x)
            weights[g], means[g], covs[g] = gm.weights_, gm.means_, gm.covariances_
            bar.update()
    return GMMChain(weights, means, covs, samples, labels)


def gmm_chart(chain: GMMChain, every: int = 2) -> alt.VConcatChart:
    """L2 distance to generation 0 (top) and the components' spreads (bottom), log scales.

    The spreads are each component's root-mean-square standard deviation, sorted per generation
    (scikit-learn may swap the components' order between fits). ``every`` thins the generations
    plotted. Used in chapter 5, Collapse in models trained from scratch.
    """
    if not isinstance(chain, GMMChain):
        raise ValueError(f"chain must be a GMMChain (got {type(chain).__name__})")
    every = check_int("every", every, 1)
    gens = np.arange(0, chain.n_generations + 1, every)
    l2 = chain.l2_to_start()
    spreads = np.sort(chain.component_stds(), axis=1)[gens]
    # From generation 1: the distance of generation 0 to itself is 0, off a log scale.
    top_data = pd.DataFrame({"generation": np.maximum(gens, 1),
                             "l2": _sig(l2[np.maximum(gens, 1)])}) if l2.size > 1 else \
        pd.DataFrame({"generation": [], "l2": []})
    k = spreads.shape[1]
    names = ["smaller component", "larger component"] if k == 2 else [
        f"component {i + 1} (by size)" for i in range(k)]
    bottom_data = pd.concat([pd.DataFrame({"generation": gens, "component": names[i],
                                           "std": _sig(spreads[:, i])}) for i in range(k)])
    x = alt.X("generation:Q", title="generation n")
    top = alt.Chart(top_data).mark_line(color="#e45756").encode(
        x, alt.Y("l2:Q", title="L2 distance to generation 0", scale=alt.Scale(type="log")),
        tooltip=["generation", alt.Tooltip("l2:Q", format=".4f")],
    ).properties(width=charts.WIDTH, height=180,
                 title="Distance from the first fitted mixture (closed-form L2)")
    palette = ["#4c78a8", "#f58518", "#54a24b", "#b279a2", "#e45756"]
    bottom = alt.Chart(bottom_data).mark_line().encode(
        x, alt.Y("std:Q", title="component std (log scale)", scale=alt.Scale(type="log")),
        alt.Color("component:N", sort=names, legend=None, scale=alt.Scale(
            domain=names, range=(palette * k)[:k])),
        tooltip=["generation", "component", alt.Tooltip("std:Q", format=".4f")],
    ).properties(width=charts.WIDTH, height=180,
                 title="Spread of each component (blue: the smaller, orange: the larger)"
                 if k == 2 else "Spread of each component")
    return charts.style(alt.vconcat(top, bottom))


def gmm_snapshots_chart(chain: GMMChain, generations=None, n_points: int = 400,
                        seed=0) -> alt.Chart:
    """Scatter plots of the training data of a few generations, coloured by component.

    ``n_points`` of each kept generation's data (``chain.samples``) are drawn, on common axes.
    Used in chapter 5, Collapse in models trained from scratch.
    """
    if not isinstance(chain, GMMChain):
        raise ValueError(f"chain must be a GMMChain (got {type(chain).__name__})")
    kept = sorted(chain.samples)
    generations = kept if generations is None else list(generations)
    missing = [g for g in generations if g not in chain.samples]
    if missing:
        raise ValueError(f"generations must be among the kept ones {kept} (got {missing})")
    n_points = check_int("n_points", n_points, 1)
    rng = as_rng(seed)
    frames = []
    for g in generations:
        x, lab = chain.samples[g], chain.labels[g]
        idx = rng.choice(len(x), size=min(n_points, len(x)), replace=False)
        frames.append(pd.DataFrame({
            "generation": f"generation {g}", "x": _sig(x[idx, 0]), "y": _sig(x[idx, 1]),
            "component": np.where(lab[idx] < 0, "real data", "component " + (
                lab[idx] + 1).astype(str))}))
    data = pd.concat(frames, ignore_index=True)
    order = [f"generation {g}" for g in generations]
    pad = 0.5
    xs = alt.Scale(domain=[float(data.x.min()) - pad, float(data.x.max()) + pad])
    ys = alt.Scale(domain=[float(data.y.min()) - pad, float(data.y.max()) + pad])
    chart = alt.Chart(data).mark_circle(size=10, opacity=0.6).encode(
        alt.X("x:Q", scale=xs, title=None), alt.Y("y:Q", scale=ys, title=None),
        alt.Color("component:N", title=None, scale=alt.Scale(
            domain=["real data", "component 1", "component 2"],
            range=["#7f7f7f", "#4c78a8", "#e45756"]), legend=alt.Legend(orient="top")),
    ).properties(width=170, height=170).facet(
        facet=alt.Facet("generation:N", sort=order, title=None), columns=3)
    return charts.style(chart)
