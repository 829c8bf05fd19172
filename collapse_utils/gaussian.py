"""Gaussian model collapse: refit a normal distribution to its own samples, over and over.

Generation 0 is N(mean, std^2) (or N(mean, cov) in d dimensions). Generation i draws M_i samples
from generation i-1 and refits the mean and the variance (or covariance). This is the setting of
Theorem 3.1 of Shumailov et al. (Nature, 2024): with the unbiased estimator the variance is a
martingale, E[sigma_n^2] = sigma_0^2, and yet sigma_n -> 0 almost surely while the expected
squared 2-Wasserstein distance to generation 0 grows without bound.

The module offers the simulation (:func:`simulate`, which returns a
:class:`~collapse_utils.chains.Chains`), functions of its chains (:func:`w2_squared_to_start`,
:func:`log_determinants`, :func:`variance_paths`), the exact closed forms for its moments
(:func:`expected_std`, :func:`expected_variance`, :func:`expected_mean_squared_drift`,
:func:`expected_w2_squared`, :func:`std_shrink_factor`, :func:`expected_log_shrink`,
:func:`expected_log_det`) and the closed-form 2-Wasserstein distance between Gaussians
(:func:`w2_gaussians`). The charts are in :mod:`collapse_utils.figures.gaussian`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import digamma, gammaln

from collapse_utils._checks import (
    as_rng,
    check_choice,
    check_covariance,
    check_finite_array,
    check_int,
    check_int_array,
    check_nonnegative,
    check_real,
    check_sample_size,
    check_sample_sizes,
    show,
)
from collapse_utils.chains import Chains

__all__ = [
    "ESTIMATORS",
    "METHODS",
    "expected_log_det",
    "expected_log_shrink",
    "expected_mean_squared_drift",
    "expected_std",
    "expected_variance",
    "expected_w2_squared",
    "log_determinants",
    "simulate",
    "std_shrink_factor",
    "variance_paths",
    "w2_gaussians",
    "w2_squared_to_start",
]

ESTIMATORS = ("unbiased", "mle")
METHODS = ("exact", "samples")

# method="samples" draws at most this many numbers at once: the explicit samples of 10^4 chains
# at M = 10^4 would otherwise need 800 MB.
_BLOCK = 2**22


def w2_squared_to_start(chains: Chains) -> np.ndarray:
    """Squared 2-Wasserstein distance from each fitted Gaussian to generation 0.

    Used in chapter 2, Statistical approximation error.

    Parameters
    ----------
    chains : Chains
        Gaussian chains with ``means`` and ``stds`` (1-D) or ``means`` and ``covs``
        (d dimensions), as :func:`simulate` returns.

    Returns
    -------
    ndarray, shape (n_generations + 1, n_chains)
        In 1-D ``(mu_n - mu_0)^2 + (sigma_n - sigma_0)^2``; in d dimensions the closed form of
        :func:`w2_gaussians`, squared. Row 0 is zero.
    """
    params = _check_chains(chains)
    means = chains.means
    if "stds" in params:
        return (means - means[0]) ** 2 + (chains.stds - chains.stds[0]) ** 2
    return _w2_squared(means, chains.covs, means[0], chains.covs[0])


def log_determinants(chains: Chains) -> np.ndarray:
    """log det Sigma_n of every fitted covariance, shape (n_generations + 1, n_chains).

    Used in chapter 2, Statistical approximation error.
    """
    if "covs" not in _check_chains(chains):
        raise ValueError("chains must be d-dimensional (simulated with cov) for log_determinants")
    return np.linalg.slogdet(chains.covs)[1]


def _check_chains(chains) -> tuple[str, ...]:
    params = tuple(chains.params) if isinstance(chains, Chains) else ()
    if "means" not in params or not ("stds" in params or "covs" in params):
        raise ValueError(f"chains must be Gaussian Chains with means and stds (or covs), as "
                         f"simulate returns (got {show(chains)})")
    return params


def simulate(
    n_generations,
    sample_size,
    mean=0.0,
    std=1.0,
    *,
    cov=None,
    estimator="unbiased",
    n_chains=1,
    seed=None,
    method="exact",
) -> Chains:
    """Simulate chains of Gaussians, each refitted to samples drawn from the previous one.

    Used in chapter 2, Statistical approximation error.

    Parameters
    ----------
    n_generations : int
        Number of refits n (>= 0).
    sample_size : int or sequence of int
        M_i, the samples drawn in each generation: one int for all, or a sequence of length
        ``n_generations``. Each M_i >= 2 (a variance needs two points).
    mean : float, or array_like of shape (d,) with ``cov``
        Mean of generation 0; a scalar is broadcast to d dimensions when ``cov`` is given.
    std : float
        Standard deviation of generation 0 in 1-D (>= 0). Leave it at 1.0 when ``cov`` is given.
    cov : array_like of shape (d, d), optional
        Covariance of generation 0 (symmetric positive semi-definite, may be singular). Giving it
        switches to d dimensions.
    estimator : {"unbiased", "mle"}
        Refit the variance dividing by M - 1 (unbiased) or by M (maximum likelihood).
    n_chains : int
        Number of independent chains (>= 1).
    seed : None, int or numpy.random.Generator
        Source of randomness; the same seed gives the same output.
    method : {"exact", "samples"}
        ``"exact"`` draws the fitted parameters from their exact sampling law, without drawing
        the samples: in 1-D sigma_i^2 = sigma_{i-1}^2 chi2_{M-1} / (M-1) (or / M for mle) and
        mu_i = mu_{i-1} + sigma_{i-1} Z / sqrt(M), which are independent for normal data; in d
        dimensions the Bartlett decomposition of the Wishart law. It needs M_i - 1 >= d for every
        generation; otherwise the whole run falls back to ``"samples"`` (see
        ``info["method"]``).
        ``"samples"`` draws all M_i samples and fits them: slower, and the check on ``"exact"``.

    Returns
    -------
    Chains
        ``means`` and ``stds`` of shape (n_generations + 1, n_chains) in 1-D; ``means`` of shape
        (n_generations + 1, n_chains, d) and ``covs`` of shape (n_generations + 1, n_chains, d, d)
        in d dimensions. ``info`` holds ``estimator``, ``sample_sizes`` (M_1..M_n) and
        ``method`` (``"samples"`` where ``"exact"`` fell back to it).

    Examples
    --------
    >>> chains = simulate(100, 20, n_chains=1000, seed=0)
    >>> chains.stds.shape
    (101, 1000)
    """
    n = check_int("n_generations", n_generations, 0)
    sizes = check_sample_sizes(sample_size, n, minimum=2)
    n_chains = check_int("n_chains", n_chains, 1)
    estimator = check_choice("estimator", estimator, ESTIMATORS)
    method = check_choice("method", method, METHODS)
    if cov is None:
        if np.ndim(mean) != 0:
            raise ValueError(
                f"mean must be a scalar in 1-D; give cov for d dimensions "
                f"(got shape {np.shape(mean)})"
            )
        mean = check_real("mean", mean)
        std = check_nonnegative("std", std)
    else:
        cov = check_covariance("cov", cov)
        d = cov.shape[0]
        if np.ndim(std) != 0 or std != 1.0:
            raise ValueError(
                f"std must be left at 1.0 when cov is given; the covariance sets the spread "
                f"(got {show(std)})"
            )
        mean = check_finite_array("mean", mean)
        if mean.ndim == 0:
            mean = np.full(d, float(mean))
        elif mean.shape != (d,):
            raise ValueError(
                f"mean must be a scalar or a vector of length {d} to match cov of shape "
                f"{cov.shape} (got shape {mean.shape})"
            )
        if method == "exact" and (sizes - 1 < d).any():
            # The Bartlett factor needs chi2 with M - 1 - k >= 1 degrees of freedom for k < d.
            method = "samples"
    rng = as_rng(seed)
    ddof = 1 if estimator == "unbiased" else 0
    info = {"estimator": estimator, "sample_sizes": sizes, "method": method}
    if cov is None:
        run = _exact_1d if method == "exact" else _samples_1d
        means, stds = run(sizes, ddof, mean, std, n_chains, rng)
        return Chains({"means": means, "stds": stds}, info)
    run = _exact_nd if method == "exact" else _samples_nd
    means, covs = run(sizes, ddof, mean, cov, n_chains, rng)
    return Chains({"means": means, "covs": covs}, info)


def _exact_1d(sizes, ddof, mean, std, n_chains, rng):
    n = len(sizes)
    means = np.empty((n + 1, n_chains))
    stds = np.empty((n + 1, n_chains))
    means[0] = mean
    stds[0] = std
    # Everything below works in place on the two output arrays: at 10^7 entries the temporaries,
    # not the arithmetic, dominate the time.
    ratios = stds[1:]
    dof = (sizes - 1).astype(float)
    # chi2_k = 2 Gamma(k/2); numpy's gamma sampler is faster than its chisquare, and the factor 2
    # folds into the scaling below.
    if n:
        # A scalar shape takes numpy's faster path when M is constant.
        shape = dof[0] / 2 if (dof == dof[0]).all() else (dof / 2)[:, None]
        rng.standard_gamma(shape, out=ratios)
    ratios *= (2.0 / (sizes - ddof))[:, None]
    np.cumprod(ratios, axis=0, out=ratios)
    np.sqrt(ratios, out=ratios)
    ratios *= std

    steps = means[1:]
    if n:
        rng.standard_normal(out=steps)
    # The sample mean is independent of the sample variance for normal data, so the step of
    # generation i only depends on sigma_{i-1}.
    steps *= stds[:-1]
    steps *= (1.0 / np.sqrt(sizes))[:, None]
    np.cumsum(steps, axis=0, out=steps)
    steps += mean
    return means, stds


def _samples_1d(sizes, ddof, mean, std, n_chains, rng):
    n = len(sizes)
    means = np.empty((n + 1, n_chains))
    stds = np.empty((n + 1, n_chains))
    means[0] = mean
    stds[0] = std
    for i, m in enumerate(sizes, start=1):
        block = max(1, _BLOCK // int(m))
        for start in range(0, n_chains, block):
            rows = slice(start, min(n_chains, start + block))
            x = rng.standard_normal((rows.stop - rows.start, int(m)))
            x *= stds[i - 1, rows, None]
            x += means[i - 1, rows, None]
            means[i, rows] = x.mean(axis=1)
            stds[i, rows] = np.sqrt(x.var(axis=1, ddof=ddof))
    return means, stds


def _exact_nd(sizes, ddof, mean, cov, n_chains, rng):
    n, d = len(sizes), len(mean)
    means = np.empty((n + 1, n_chains, d))
    covs = np.empty((n + 1, n_chains, d, d))
    means[0] = mean
    covs[0] = cov
    # Any factor with L L^T = Sigma works, because Wishart(I) is invariant under rotations; the
    # eigen-decomposition root also exists for singular starting covariances, unlike Cholesky.
    factor = np.broadcast_to(_psd_sqrt(cov), (n_chains, d, d)).copy()
    diag = np.arange(d)
    below = np.tril_indices(d, -1)
    for i, m in enumerate(sizes, start=1):
        # Bartlett: (M - 1) times the sample covariance is L A A^T L^T with A lower triangular,
        # A_kk^2 ~ chi2_{M-1-k} and N(0, 1) below the diagonal, independent of the sample mean.
        a = np.zeros((n_chains, d, d))
        a[:, diag, diag] = np.sqrt(2.0 * rng.standard_gamma((m - 1 - diag) / 2, (n_chains, d)))
        a[:, below[0], below[1]] = rng.standard_normal((n_chains, len(below[0])))
        z = rng.standard_normal((n_chains, d, 1))
        means[i] = means[i - 1] + (factor @ z)[..., 0] / np.sqrt(m)
        factor = factor @ a
        factor /= np.sqrt(m - ddof)
        covs[i] = factor @ np.swapaxes(factor, -1, -2)
    return means, covs


def _samples_nd(sizes, ddof, mean, cov, n_chains, rng):
    n, d = len(sizes), len(mean)
    means = np.empty((n + 1, n_chains, d))
    covs = np.empty((n + 1, n_chains, d, d))
    means[0] = mean
    covs[0] = cov
    for i, m in enumerate(sizes, start=1):
        root = _psd_sqrt(covs[i - 1])
        block = max(1, _BLOCK // (int(m) * d))
        for start in range(0, n_chains, block):
            rows = slice(start, min(n_chains, start + block))
            x = rng.standard_normal((rows.stop - rows.start, int(m), d))
            x = x @ np.swapaxes(root[rows], -1, -2)
            x += means[i - 1, rows, None, :]
            centre = x.mean(axis=1)
            x -= centre[:, None, :]
            means[i, rows] = centre
            covs[i, rows] = np.swapaxes(x, -1, -2) @ x / (m - ddof)
    return means, covs


def _psd_sqrt(s: np.ndarray) -> np.ndarray:
    """Symmetric square root of (a batch of) PSD matrices; rounding-level negative eigenvalues
    are clipped to zero."""
    w, v = np.linalg.eigh(s)
    return (v * np.sqrt(np.clip(w, 0.0, None))[..., None, :]) @ np.swapaxes(v, -1, -2)


def _w2_squared(m1, s1, m2, s2) -> np.ndarray:
    """Squared W2 between batches of d-dimensional Gaussians (no argument checks)."""
    r2 = _psd_sqrt(s2)
    inner = r2 @ s1 @ r2
    inner = 0.5 * (inner + np.swapaxes(inner, -1, -2))
    cross = np.sqrt(np.clip(np.linalg.eigvalsh(inner), 0.0, None)).sum(axis=-1)
    spread = np.trace(s1, axis1=-2, axis2=-1) + np.trace(s2, axis1=-2, axis2=-1) - 2.0 * cross
    # The trace term is >= 0 in exact arithmetic; rounding can make it -1e-16 for equal inputs.
    return ((m1 - m2) ** 2).sum(axis=-1) + np.clip(spread, 0.0, None)


def w2_gaussians(mean1, cov1, mean2, cov2):
    """2-Wasserstein distance (not squared) between two Gaussians, in closed form.

    W2^2 = |m1 - m2|^2 + tr(S1 + S2 - 2 (S2^{1/2} S1 S2^{1/2})^{1/2}); in 1-D it is
    sqrt((m1 - m2)^2 + (s1 - s2)^2) with s the standard deviations.

    Used in chapter 2, Statistical approximation error.

    Parameters
    ----------
    mean1, mean2 : float or array_like, shape (..., d)
        Means. Scalars (or arrays with ``cov`` of the same shape) mean 1-D Gaussians.
    cov1, cov2 : float or array_like, shape (..., d, d)
        Covariances; in 1-D the variances. Symmetric positive semi-definite.

    Returns
    -------
    float or ndarray
        The distance; an array of the broadcast batch shape when batches are given.

    Notes
    -----
    A pair is 1-D when ``cov`` has the same shape as ``mean`` (elementwise variances) and
    d-dimensional when ``cov`` has shape ``mean.shape + (d,)``. Leading batch dimensions of the
    two pairs broadcast against each other.
    """
    m1, s1, d1 = _check_gaussian("mean1", "cov1", mean1, cov1)
    m2, s2, d2 = _check_gaussian("mean2", "cov2", mean2, cov2)
    if d1 != d2:
        raise ValueError(
            f"mean2 and cov2 must have the dimension of mean1 and cov1 ({_dim_text(d1)}; got "
            f"{_dim_text(d2)})"
        )
    if d1 is None:
        out = np.sqrt((m1 - m2) ** 2 + (np.sqrt(s1) - np.sqrt(s2)) ** 2)
    else:
        out = np.sqrt(_w2_squared(m1, s1, m2, s2))
    return float(out) if out.ndim == 0 else out


def _dim_text(d):
    return "1-D" if d is None else f"d={d}"


def _check_gaussian(mean_name, cov_name, mean, cov):
    m = check_finite_array(mean_name, mean)
    s = check_finite_array(cov_name, cov)
    if s.shape == m.shape:
        if (s < 0).any():
            raise ValueError(f"{cov_name} must be a variance >= 0 in 1-D (got {show(s[s < 0][0])})")
        return m, s, None
    if m.ndim >= 1 and s.shape == m.shape + m.shape[-1:]:
        return m, check_covariance(cov_name, s, batch=True), m.shape[-1]
    raise ValueError(
        f"{cov_name} must have the shape of {mean_name} (1-D variances) or "
        f"{mean_name}.shape + (d,) (covariance matrices); got {mean_name} of shape {m.shape} "
        f"and {cov_name} of shape {s.shape}"
    )


def std_shrink_factor(sample_size):
    """c_M = E[s] / sigma for the unbiased sample standard deviation s of M normal samples.

    c_M = sqrt(2 / (M - 1)) Gamma(M / 2) / Gamma((M - 1) / 2), about 1 - 1/(4M); after n
    generations with the unbiased estimator E[sigma_n] = sigma_0 c_M^n.

    Used in chapter 2, Statistical approximation error.

    Parameters
    ----------
    sample_size : int or array_like of int
        M >= 2.

    Returns
    -------
    float or ndarray
    """
    sizes, scalar = check_int_array("sample_size", sample_size, 2)
    out = np.exp(_log_c(sizes))
    return float(out) if scalar else out


def _log_c(sizes) -> np.ndarray:
    """log c_M, accurate to about 1e-14 relative for every M >= 2."""
    k = np.asarray(sizes, dtype=float) - 1.0
    # gammaln(M/2) - gammaln((M-1)/2) cancels: at M = 10^4 it keeps only 7 digits of log c_M,
    # at 10^6 three. For large k the asymptotic series of log Gamma((k+1)/2) - log Gamma(k/2)
    # is accurate to double precision instead.
    large = k >= 30
    kl = np.where(large, k, 30.0)
    series = -1 / (4 * kl) + 1 / (24 * kl**3) - 1 / (20 * kl**5) + 17 / (112 * kl**7)
    series -= 31 / (36 * kl**9)
    ks = np.where(large, 2.0, k)
    direct = 0.5 * np.log(2.0 / ks) + gammaln((ks + 1) / 2) - gammaln(ks / 2)
    return np.where(large, series, direct)


def _closed_form_logs(n, sample_size, estimator):
    """log E[sigma_n]/std, log E[sigma_n^2]/std^2 and E[(mu_n - mu_0)^2]/std^2 at generation n.

    Logs, so that 1 - E[sigma_n]/std keeps its digits through expm1 when it is tiny.
    """
    estimator = check_choice("estimator", estimator, ESTIMATORS)
    sizes = check_sample_size(sample_size, 2)
    if isinstance(sizes, int):
        gens, scalar = check_int_array("n", n, 0)
        m = float(sizes)
        log_keep = np.log1p(-1.0 / m) if estimator == "mle" else 0.0
        log_std = gens * (_log_c(sizes) + 0.5 * log_keep)
        log_var = gens * log_keep
        # sum_{i<=n} E[sigma_{i-1}^2] / M, a geometric sum for the mle.
        drift = gens / m if estimator == "unbiased" else -np.expm1(log_var)
        return log_std, log_var, drift, scalar
    gens, scalar = check_int_array("n", n, 0, len(sizes))
    m = sizes.astype(float)
    log_keep = np.log1p(-1.0 / m) if estimator == "mle" else np.zeros_like(m)
    log_std = np.concatenate([[0.0], np.cumsum(_log_c(sizes) + 0.5 * log_keep)])
    log_var = np.concatenate([[0.0], np.cumsum(log_keep)])
    drift = np.concatenate([[0.0], np.cumsum(np.exp(log_var[:-1]) / m)])
    return log_std[gens], log_var[gens], drift[gens], scalar


def _as_result(values, scalar):
    return float(values) if scalar else np.asarray(values, dtype=float)


def expected_std(n, sample_size, std=1.0, estimator="unbiased"):
    """Exact E[sigma_n], the expected fitted standard deviation at generation n (1-D).

    Unbiased: std * prod_{i<=n} c_{M_i}; mle: std * prod_{i<=n} c_{M_i} sqrt((M_i - 1) / M_i),
    with c_M from :func:`std_shrink_factor`.

    Used in chapter 2, Statistical approximation error.

    Parameters
    ----------
    n : int or array_like of int
        Generation(s), >= 0; at most ``len(sample_size)`` for a sequence.
    sample_size : int or sequence of int
        M (the same for every generation) or M_1, M_2, ...; each >= 2.
    std : float
        Standard deviation of generation 0 (>= 0).
    estimator : {"unbiased", "mle"}

    Returns
    -------
    float or ndarray
        A float for an int ``n``, else an array of the shape of ``n``.
    """
    std = check_nonnegative("std", std)
    log_std, _, _, scalar = _closed_form_logs(n, sample_size, estimator)
    return _as_result(std * np.exp(log_std), scalar)


def expected_variance(n, sample_size, std=1.0, estimator="unbiased"):
    """Exact E[sigma_n^2] at generation n (1-D).

    Unbiased: std^2 for every n (the variance is a martingale); mle: std^2 prod (M_i - 1) / M_i.

    Used in chapter 2, Statistical approximation error.

    Parameters and return value as in :func:`expected_std`.
    """
    std = check_nonnegative("std", std)
    _, log_var, _, scalar = _closed_form_logs(n, sample_size, estimator)
    return _as_result(std**2 * np.exp(log_var), scalar)


def expected_mean_squared_drift(n, sample_size, std=1.0, estimator="unbiased"):
    """Exact E[(mu_n - mu_0)^2] = sum_{i<=n} E[sigma_{i-1}^2] / M_i (1-D).

    The mean is a random walk whose steps have variance sigma_{i-1}^2 / M_i: n std^2 / M for the
    unbiased estimator and constant M, std^2 (1 - ((M - 1) / M)^n) for the mle.

    Used in chapter 2, Statistical approximation error.

    Parameters and return value as in :func:`expected_std`.
    """
    std = check_nonnegative("std", std)
    _, _, drift, scalar = _closed_form_logs(n, sample_size, estimator)
    return _as_result(std**2 * drift, scalar)


def expected_w2_squared(n, sample_size, std=1.0, estimator="unbiased"):
    """Exact E[W2^2] between generation n and generation 0 (1-D).

    E[W2^2] = E[(mu_n - mu_0)^2] + E[sigma_n^2] - 2 std E[sigma_n] + std^2; for the unbiased
    estimator and constant M it is std^2 (n / M + 2 (1 - c_M^n)), which grows without bound.

    Used in chapter 2, Statistical approximation error.

    Parameters and return value as in :func:`expected_std`.
    """
    std = check_nonnegative("std", std)
    log_std, log_var, drift, scalar = _closed_form_logs(n, sample_size, estimator)
    # (E[sigma_n^2] - std^2) - 2 std (E[sigma_n] - std), each difference through expm1.
    spread = np.expm1(log_var) - 2.0 * np.expm1(log_std)
    return _as_result(std**2 * (drift + spread), scalar)


def expected_log_shrink(sample_size, dim=1, estimator="unbiased"):
    """E[log det Sigma_i - log det Sigma_{i-1}]: the almost-sure rate of collapse per generation.

    sum_{k<d} psi((M - 1 - k) / 2) - d log((M - 1) / 2) for the unbiased estimator (log(M / 2)
    for the mle), with psi the digamma function; in 1-D it is E[log S] for the factor
    S = sigma_i^2 / sigma_{i-1}^2, about -1/(M - 1). Used in chapter 2, Statistical
    approximation error.

    Parameters
    ----------
    sample_size : int or array_like of int
        M >= dim + 1.
    dim : int
        Dimension d >= 1.
    estimator : {"unbiased", "mle"}

    Returns
    -------
    float or ndarray
    """
    d = check_int("dim", dim, 1)
    estimator = check_choice("estimator", estimator, ESTIMATORS)
    sizes, scalar = check_int_array("sample_size", sample_size, d + 1)
    m = sizes.astype(float)[..., None]
    ddof = 1 if estimator == "unbiased" else 0
    out = (digamma((m - 1 - np.arange(d)) / 2) - np.log((m - ddof) / 2)).sum(axis=-1)
    return float(out) if scalar else out


def expected_log_det(n, sample_size, cov, estimator="unbiased"):
    """Exact E[log det Sigma_n] at generation n, starting from the covariance ``cov``.

    A straight line down for constant M: log det Sigma_0 + n :func:`expected_log_shrink`. Used
    in chapter 2, Statistical approximation error.

    Parameters
    ----------
    n : int or array_like of int
        Generation(s), >= 0; at most ``len(sample_size)`` for a sequence.
    sample_size : int or sequence of int
        M (the same for every generation) or M_1, M_2, ...; each >= d + 1.
    cov : array_like, shape (d, d)
        Covariance of generation 0, positive definite.
    estimator : {"unbiased", "mle"}

    Returns
    -------
    float or ndarray
        A float for an int ``n``, else an array of the shape of ``n``.
    """
    cov = check_covariance("cov", cov)
    sign, start = np.linalg.slogdet(cov)
    if sign <= 0 or not np.isfinite(start):
        raise ValueError("cov must be positive definite: a singular covariance has log det -inf")
    d = cov.shape[0]
    sizes = check_sample_size(sample_size, d + 1)
    if isinstance(sizes, int):
        gens, scalar = check_int_array("n", n, 0)
        out = start + gens * expected_log_shrink(sizes, d, estimator)
    else:
        gens, scalar = check_int_array("n", n, 0, len(sizes))
        steps = np.concatenate([[0.0], np.cumsum(expected_log_shrink(sizes, d, estimator))])
        out = start + steps[gens]
    return _as_result(out, scalar)


# ---------------------------------------------------------------- runs behind chapter 2's figures


def variance_paths(M, n_generations, n_chains, n_paths, estimator="unbiased", seed=None):
    """Sample paths of sigma_n^2 and their summaries, next to the closed forms (1-D, sigma_0 = 1).

    Used in chapter 2, Statistical approximation error.

    Parameters
    ----------
    M : int
        Sample size per generation (>= 2).
    n_generations : int
        Generations 0..n_generations (>= 0).
    n_chains : int
        Chains for the summaries (>= 2).
    n_paths : int
        How many of the chains to return as paths, 1..n_chains.
    estimator : {"unbiased", "mle"}
    seed : None, int or numpy.random.Generator

    Returns
    -------
    paths : DataFrame
        ``chain``, ``n``, ``variance``: the first ``n_paths`` chains.
    summary : DataFrame
        ``n`` and, per generation, ``closed_mean`` (E[sigma_n^2] in closed form), ``typical``
        (exp(n E[log S]), the almost-sure rate, from :func:`expected_log_shrink`), ``mc_mean``
        and ``mc_median`` over the chains; its ``attrs`` hold ``M``, ``estimator`` and
        ``n_chains``.
    """
    m = check_int("M", M, 2)
    n = check_int("n_generations", n_generations, 0)
    n_chains = check_int("n_chains", n_chains, 2)
    n_paths = check_int("n_paths", n_paths, 1, n_chains)
    estimator = check_choice("estimator", estimator, ESTIMATORS)
    var = simulate(n, m, estimator=estimator, n_chains=n_chains, seed=seed).stds ** 2
    gens = np.arange(n + 1)
    paths = pd.DataFrame({
        "chain": np.repeat(np.arange(n_paths), n + 1),
        "n": np.tile(gens, n_paths),
        "variance": var[:, :n_paths].T.ravel(),
    })
    summary = pd.DataFrame({
        "n": gens,
        "closed_mean": expected_variance(gens, m, estimator=estimator),
        "typical": np.exp(gens * expected_log_shrink(m, 1, estimator)),
        "mc_mean": var.mean(axis=1),
        "mc_median": np.median(var, axis=1),
    })
    summary.attrs = {"M": m, "estimator": estimator, "n_chains": n_chains}
    return paths, summary
