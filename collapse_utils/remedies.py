"""What prevents collapse: replace, keep real data, accumulate.

Generation 1 is fitted to M real samples. From then on each generation's
training set is, by regime:

- ``"replace"``: M samples from the last model (the paper's main setting);
- ``"keep_real"``: round(γM) fresh real samples plus the rest from the last
  model (the paper's 10% regime keeps a fresh random 10%);
- ``"accumulate"``: every sample seen so far, real and generated, plus M new
  ones from the last model (Gerstgrasser et al. 2024);
- ``"accumulate_subsample"``: M samples drawn without replacement from that
  growing pool (Kazdan, Schaeffer et al. 2024).

Each ``*_regime`` function returns a :class:`~collapse_utils.chains.Chains` like the base chain
it varies (:func:`collapse_utils.gaussian.simulate`, :func:`collapse_utils.discrete.resample`),
with the regime in ``info``. The charts are in :mod:`collapse_utils.figures.remedies`.

Used in chapter 7, What prevents collapse.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import gaussian
from ._checks import (
    as_rng,
    check_choice,
    check_distribution,
    check_int,
    check_nonnegative,
    check_real,
)
from .chains import Chains

REGIMES = ("replace", "keep_real", "accumulate", "accumulate_subsample")


def _check_fraction(real_fraction) -> float:
    gamma = check_real("real_fraction", real_fraction)
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"real_fraction must be in [0, 1] (got {real_fraction!r})")
    return gamma


def _chunk(rng, m: int, mean, std, shape):
    """Exact law of the mean and the sum of squared deviations of m normal samples."""
    if m == 0:
        return np.zeros(shape), np.zeros(shape)
    chunk_mean = mean + std * rng.standard_normal(shape) / np.sqrt(m)
    chunk_m2 = std**2 * (rng.chisquare(m - 1, shape) if m > 1 else np.zeros(shape))
    return chunk_mean, chunk_m2


def _merge(n, mean, m2, k, k_mean, k_m2):
    """Pool two samples' (count, mean, sum of squared deviations): Chan et al.'s update."""
    total = n + k
    delta = k_mean - mean
    return total, mean + delta * k / total, m2 + k_m2 + delta**2 * n * k / total


def gaussian_regime(
    regime,
    n_generations,
    sample_size,
    real_fraction=0.1,
    mean=0.0,
    std=1.0,
    *,
    n_chains=1,
    seed=None,
) -> Chains:
    """Refit a Gaussian (unbiased estimators) generation after generation under a data regime.

    Returns ``means`` and ``stds``, each of shape (n_generations + 1, n_chains), as
    :func:`collapse_utils.gaussian.simulate` does: row 0 is the true N(mean, std²); row 1 is
    fitted to M real samples. ``"replace"``, ``"keep_real"`` and ``"accumulate"`` draw the exact
    law of each chunk's mean and sum of squares (no samples, ``info["method"] == "exact"``);
    ``"accumulate_subsample"`` keeps every sample, since it subsamples them
    (``info["method"] == "samples"``). Used in chapter 7.
    """
    regime = check_choice("regime", regime, REGIMES)
    n = check_int("n_generations", n_generations, 1)
    m = check_int("sample_size", sample_size, 2)
    gamma = _check_fraction(real_fraction)
    mu0, sigma0 = check_real("mean", mean), check_nonnegative("std", std)
    chains = check_int("n_chains", n_chains, 1)
    rng = as_rng(seed)
    means = np.empty((n + 1, chains))
    stds = np.empty((n + 1, chains))
    means[0], stds[0] = mu0, sigma0
    shape = (chains,)
    n_real = round(gamma * m)
    info = {"regime": regime, "real_fraction": gamma, "estimator": "unbiased",
            "sample_sizes": np.full(n, m), "method": "exact"}

    if regime == "accumulate_subsample":
        pool = np.empty((chains, n * m))
        pool[:, :m] = rng.normal(mu0, sigma0, (chains, m))
        for i in range(1, n + 1):
            size = i * m
            if i == 1:
                train = pool[:, :m]
            else:
                picks = np.stack([rng.choice(size, m, replace=False) for _ in range(chains)])
                train = np.take_along_axis(pool[:, :size], picks, axis=1)
            means[i], stds[i] = train.mean(axis=1), train.std(axis=1, ddof=1)
            if i < n:
                new = means[i][:, None] + stds[i][:, None] * rng.standard_normal((chains, m))
                pool[:, size:size + m] = new
        return Chains({"means": means, "stds": stds}, info | {"method": "samples"})

    count = np.full(shape, float(m))
    pool_mean, pool_m2 = _chunk(rng, m, mu0, sigma0, shape)
    for i in range(1, n + 1):
        means[i] = pool_mean
        stds[i] = np.sqrt(pool_m2 / (count - 1))
        if i == n:
            break
        if regime == "replace":
            count = np.full(shape, float(m))
            pool_mean, pool_m2 = _chunk(rng, m, means[i], stds[i], shape)
        elif regime == "keep_real":
            k_mean, k_m2 = _chunk(rng, m - n_real, means[i], stds[i], shape)
            r_mean, r_m2 = _chunk(rng, n_real, mu0, sigma0, shape)
            count, pool_mean, pool_m2 = _merge(m - n_real, k_mean, k_m2, n_real, r_mean, r_m2)
        else:  # accumulate
            k_mean, k_m2 = _chunk(rng, m, means[i], stds[i], shape)
            count, pool_mean, pool_m2 = _merge(count, pool_mean, pool_m2, m, k_mean, k_m2)
    return Chains({"means": means, "stds": stds}, info)


def categorical_regime(
    probs,
    regime,
    n_generations,
    sample_size,
    real_fraction=0.1,
    *,
    n_chains=1,
    seed=None,
) -> Chains:
    """Refit a categorical distribution (empirical frequencies) under a data regime.

    Returns ``probs`` of shape (n_generations + 1, n_chains, n_categories), as
    :func:`collapse_utils.discrete.resample` does: row 0 is ``probs``, row 1 the frequencies of
    M real samples. Used in chapter 7 (the breeds of chapter 1).
    """
    p0 = check_distribution("probs", probs)
    regime = check_choice("regime", regime, REGIMES)
    n = check_int("n_generations", n_generations, 1)
    m = check_int("sample_size", sample_size, 1)
    gamma = _check_fraction(real_fraction)
    chains = check_int("n_chains", n_chains, 1)
    rng = as_rng(seed)
    n_real = round(gamma * m)
    out = np.empty((n + 1, chains, p0.size))
    out[0] = p0
    pool = rng.multinomial(m, p0, size=chains)
    for i in range(1, n + 1):
        if regime == "accumulate_subsample" and i > 1:
            counts = np.stack([rng.multivariate_hypergeometric(c, m) for c in pool])
        else:
            counts = pool
        out[i] = counts / counts.sum(axis=1, keepdims=True)
        if i == n:
            break
        new = rng.multinomial(m - (n_real if regime == "keep_real" else 0), out[i])
        if regime == "replace":
            pool = new
        elif regime == "keep_real":
            pool = new + rng.multinomial(n_real, p0, size=chains)
        else:
            pool = pool + new
    return Chains({"probs": out}, {"regime": regime, "real_fraction": gamma,
                                   "sample_sizes": np.full(n, m)})


def expected_moments(regime, n_generations, sample_size, real_fraction=0.1, std=1.0):
    """Exact E[σ_n²] and E[(μ_n − μ_0)²] for generations 0..n, as two arrays.

    The expectations obey linear recursions (derived in chapter 7):

    - replace: E σ² stays σ_0², E(μ−μ_0)² grows by E σ²/M each generation;
    - keep_real with k = round(γM) real samples of M:
      E σ'² = [(M−k−1+k/M) E σ² + (k−1+(M−k)/M) σ_0² + k(M−k)/M · E(μ−μ_0)²] / (M−1),
      E(μ'−μ_0)² = (1−k/M)² E(μ−μ_0)² + (M−k)/M² · E σ² + k/M² · σ_0²;
    - accumulate (generation i fitted to iM samples):
      E σ²_{i+1} = E σ²_i · (1 − 1/((i+1)((i+1)M−1))),
      E(μ_{i+1}−μ_0)² = E(μ_i−μ_0)² + E σ²_i / (M (i+1)²), bounded by (π²/6) σ_0²/M.

    Used in chapter 7.
    """
    regime = check_choice("regime", regime, REGIMES[:3])
    n = check_int("n_generations", n_generations, 1)
    m = check_int("sample_size", sample_size, 2)
    gamma = _check_fraction(real_fraction)
    var0 = check_nonnegative("std", std) ** 2
    k = round(gamma * m) if regime == "keep_real" else 0
    var = np.empty(n + 1)
    drift = np.empty(n + 1)
    var[0], drift[0] = var0, 0.0
    var[1], drift[1] = var0, var0 / m
    for i in range(1, n):
        if regime == "accumulate":
            var[i + 1] = var[i] * (1 - 1 / ((i + 1) * ((i + 1) * m - 1)))
            drift[i + 1] = drift[i] + var[i] / (m * (i + 1) ** 2)
            continue
        a = m - k - 1 + k / m
        b = k - 1 + (m - k) / m
        c = k * (m - k) / m
        var[i + 1] = (a * var[i] + b * var0 + c * drift[i]) / (m - 1)
        drift[i + 1] = (1 - k / m) ** 2 * drift[i] + (m - k) / m**2 * var[i] + k / m**2 * var0
    return var, drift


def stationary_moments(sample_size, real_fraction, std=1.0) -> tuple[float, float]:
    """The fixed point (E σ², E(μ−μ_0)²) of the keep_real recursion, for real_fraction > 0.

    Used in chapter 7.
    """
    m = check_int("sample_size", sample_size, 2)
    gamma = _check_fraction(real_fraction)
    k = round(gamma * m)
    if k == 0:
        raise ValueError(
            f"real_fraction must keep at least one real sample of {m} (got {real_fraction!r}): "
            "without real data there is no fixed point"
        )
    var0 = check_nonnegative("std", std) ** 2
    a, b, c = m - k - 1 + k / m, k - 1 + (m - k) / m, k * (m - k) / m
    # Solve v = (a v + b v0 + c d)/(m-1),  d = (1-k/m)^2 d + (m-k)/m^2 v + k/m^2 v0.
    lhs = np.array([[m - 1 - a, -c], [-(m - k) / m**2, 1 - (1 - k / m) ** 2]])
    rhs = np.array([b * var0, k / m**2 * var0])
    var, drift = np.linalg.solve(lhs, rhs)
    return float(var), float(drift)


def regime_table(n_generations, sample_size, fractions=(0.1,), *, n_chains=2000, seed=None):
    """Tidy closed forms and Monte Carlo means for every regime (and every γ of keep_real).

    Columns: regime, gamma_pct (keep_real only, else -1), generation, quantity
    ("variance", "mean drift", "W2²"), exact (NaN where no closed form), monte_carlo.
    Used in chapter 7.
    """
    rng = as_rng(seed)
    rows = []
    for regime in REGIMES:
        for gamma in fractions if regime == "keep_real" else (0.0,):
            chains = gaussian_regime(regime, n_generations, sample_size, gamma,
                                     n_chains=n_chains, seed=rng)
            mc = {
                "variance": (chains.stds**2).mean(axis=1),
                "mean drift": ((chains.means - chains.means[0]) ** 2).mean(axis=1),
                "W2²": gaussian.w2_squared_to_start(chains).mean(axis=1),
            }
            exact = {"W2²": np.full(n_generations + 1, np.nan)}
            if regime != "accumulate_subsample":
                exact["variance"], exact["mean drift"] = expected_moments(
                    regime, n_generations, sample_size, gamma)
            else:
                exact["variance"] = exact["mean drift"] = exact["W2²"]
            pct = round(100 * gamma) if regime == "keep_real" else -1
            for quantity, values in mc.items():
                for g in range(n_generations + 1):
                    rows.append((regime, pct, g, quantity, exact[quantity][g], values[g]))
    return pd.DataFrame(rows, columns=["regime", "gamma_pct", "generation", "quantity",
                                       "exact", "monte_carlo"])
