"""Self-consuming Gaussian loops: sampling bias, fresh real data, and a fixed real set.

Two results after the paper, in the Gaussian of chapter 2 (unbiased mean and variance fits to
explicit samples; the truth is N(0, 1)):

- Alemohammad et al. (2023), *Self-consuming generative models go MAD*: the next model trains
  on ``n_real`` fresh real samples and ``n_synthetic`` samples of the last model, drawn with
  their standard deviation scaled by ``scale`` = τ ≤ 1 (sampling biased toward typical samples:
  a temperature T = τ² below 1, as in chapter 4). ``n_real = 0`` is their fully synthetic loop
  (:func:`mad_loop`, exact moments :func:`mad_moments`).
- Bertrand et al. (2024): the next model trains on one fixed real set of ``n_real`` samples and
  ``ratio`` × ``n_real`` samples of the last model, starting from a given first model
  (:func:`retrain_loop`, exact moments given the real set :func:`retrain_moments`). The mean's
  offset from the real set's own fit shrinks by ratio/(1 + ratio) a generation.

Both return :class:`~collapse_utils.chains.Chains` with ``means`` and ``stds`` of shape
(n_generations + 1, n_chains). The charts are in :mod:`collapse_utils.figures.self_consuming`.
Used in chapter 8, What came after the paper.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._checks import (
    as_rng,
    check_finite_array,
    check_int,
    check_nonnegative,
    check_real,
    show,
)
from .chains import Chains

__all__ = ["mad_findings", "mad_loop", "mad_moments", "quality_diversity", "retrain_findings",
           "retrain_loop", "retrain_moments"]

_LOG_2PI = np.log(2 * np.pi)


def _check_scale(scale) -> float:
    tau = check_real("scale", scale)
    if not 0 < tau <= 1:
        raise ValueError(f"scale must be in (0, 1] (got {scale!r})")
    return tau


def _check_sizes(n_real, n_synthetic) -> tuple[int, int]:
    k = check_int("n_real", n_real, 0)
    m = check_int("n_synthetic", n_synthetic, 0)
    if k + m < 2:
        raise ValueError(f"n_real + n_synthetic must be >= 2 to fit a variance "
                         f"(got {k} + {m})")
    return k, m


def _fit(samples):
    return samples.mean(axis=1), samples.std(axis=1, ddof=1)


def mad_loop(n_generations, n_real, n_synthetic, scale=1.0, *, n_chains=1, seed=None) -> Chains:
    """Alemohammad et al.'s loops on a Gaussian: fresh real data plus biased synthetic data.

    Row 0 is the truth N(0, 1); generation 1 is fitted to n_real + n_synthetic real samples;
    generation i + 1 to ``n_real`` fresh real samples and ``n_synthetic`` samples of
    N(μ_i, (τ σ_i)²). Used in chapter 8.
    """
    n = check_int("n_generations", n_generations, 1)
    k, m = _check_sizes(n_real, n_synthetic)
    tau = _check_scale(scale)
    chains = check_int("n_chains", n_chains, 1)
    rng = as_rng(seed)
    means, stds = np.zeros((n + 1, chains)), np.ones((n + 1, chains))
    means[1], stds[1] = _fit(rng.standard_normal((chains, k + m)))
    for i in range(1, n):
        synthetic = means[i][:, None] + tau * stds[i][:, None] * rng.standard_normal((chains, m))
        real = rng.standard_normal((chains, k))
        means[i + 1], stds[i + 1] = _fit(np.concatenate([real, synthetic], axis=1))
    info = {"n_real": k, "n_synthetic": m, "scale": tau, "estimator": "unbiased"}
    return Chains({"means": means, "stds": stds}, info)


def mad_moments(n_generations, n_real, n_synthetic, scale=1.0) -> tuple[np.ndarray, np.ndarray]:
    """Exact E σ_i² and E μ_i² of :func:`mad_loop`, generations 0..n_generations.

    With k real and m synthetic samples (N = k + m), writing v = E σ² and d = E μ²:
    d' = (k + m² d + m τ² v)/N² and
    v' = [(k − 1 + m/N) + (m − 1 + k/N) τ² v + (k m/N) d]/(N − 1),
    the pooled-sample identities of chapter 7 with the synthetic variance τ² σ². Used in
    chapter 8.
    """
    n = check_int("n_generations", n_generations, 1)
    k, m = _check_sizes(n_real, n_synthetic)
    tau2 = _check_scale(scale) ** 2
    big = k + m
    var, drift = np.ones(n + 1), np.zeros(n + 1)
    drift[1] = 1 / big
    for i in range(1, n):
        drift[i + 1] = (k + m**2 * drift[i] + m * tau2 * var[i]) / big**2
        var[i + 1] = ((k - 1 + m / big) + (m - 1 + k / big) * tau2 * var[i]
                      + k * m / big * drift[i]) / (big - 1)
    return var, drift


def quality_diversity(var, drift, scale=1.0) -> pd.DataFrame:
    """Quality and diversity of what each generation generates, from E σ² and E μ².

    Quality is the mean log-density under the truth of a generated sample,
    −½ log 2π − ½ (E μ² + τ² E σ²); diversity is the expected variance τ² E σ² of the generated
    samples (generation 0, the truth, is sampled without bias). Both are linear in the moments,
    so they are exact given exact moments. Columns: generation, quality, diversity. Used in
    chapter 8.
    """
    tau2 = _check_scale(scale) ** 2
    var, drift = np.asarray(var, dtype=float), np.asarray(drift, dtype=float)
    if var.ndim != 1 or var.shape != drift.shape or var.size < 1:
        raise ValueError(f"var and drift must be 1-D arrays of the same length "
                         f"(got shapes {var.shape} and {drift.shape})")
    bias = np.full(var.size, tau2)
    bias[0] = 1.0
    diversity = bias * var
    return pd.DataFrame({"generation": np.arange(var.size),
                         "quality": -0.5 * _LOG_2PI - 0.5 * (drift + diversity),
                         "diversity": diversity})


def retrain_loop(n_generations, n_real, ratio, start_mean, start_std=1.0, *, n_chains=1,
                 seed=None) -> Chains:
    """Bertrand et al.'s iterative retraining on a fixed real set plus the model's own samples.

    Each chain draws one real set of ``n_real`` samples of N(0, 1), kept for every generation;
    row 0 is the first model N(start_mean, start_std²); generation i + 1 is fitted to the real
    set and round(ratio × n_real) samples of generation i. ``info["real_means"]`` and
    ``info["real_stds"]`` hold each chain's real-set fit, the model retraining should return
    to. Used in chapter 8.
    """
    n = check_int("n_generations", n_generations, 1)
    k = check_int("n_real", n_real, 2)
    lam = check_nonnegative("ratio", ratio)
    m = round(lam * k)
    mu0, sd0 = check_real("start_mean", start_mean), check_nonnegative("start_std", start_std)
    chains = check_int("n_chains", n_chains, 1)
    rng = as_rng(seed)
    real = rng.standard_normal((chains, k))
    means, stds = np.empty((n + 1, chains)), np.empty((n + 1, chains))
    means[0], stds[0] = mu0, sd0
    for i in range(n):
        synthetic = means[i][:, None] + stds[i][:, None] * rng.standard_normal((chains, m))
        means[i + 1], stds[i + 1] = _fit(np.concatenate([real, synthetic], axis=1))
    real_means, real_stds = _fit(real)
    info = {"n_real": k, "n_synthetic": m, "ratio": lam, "real_means": real_means,
            "real_stds": real_stds, "estimator": "unbiased"}
    return Chains({"means": means, "stds": stds}, info)


def retrain_moments(n_generations, n_real, ratio, offset, start_var=1.0, real_var=1.0):
    """Exact moments of :func:`retrain_loop` given the real set, generations 0..n_generations.

    With k real and m = round(ratio k) synthetic samples (N = k + m), e the mean's offset from
    the real set's mean, s² the real set's unbiased variance and v = E σ²:
    E e' = (m/N) E e, E e'² = (m² E e² + m v)/N², and
    v' = [(k − 1) s² + (m − 1) v + (k m/N)(E e² + v/m)]/(N − 1).
    ``offset`` (the first model's e) and ``real_var`` (s²) may be arrays, one entry per real
    set. Returns (E e, E e², E σ²), each of shape (n_generations + 1, *their shape). Used in
    chapter 8.
    """
    n = check_int("n_generations", n_generations, 1)
    k = check_int("n_real", n_real, 2)
    m = round(check_nonnegative("ratio", ratio) * k)
    big = k + m
    start = check_nonnegative("start_var", start_var)
    e0 = check_finite_array("offset", offset)
    s2 = check_finite_array("real_var", real_var)
    if (s2 < 0).any():
        raise ValueError(f"real_var must be >= 0 (got {show(s2.min())})")
    e0, s2 = np.broadcast_arrays(e0, s2)
    e, e2, var = (np.empty((n + 1, *e0.shape)) for _ in range(3))
    e[0], e2[0], var[0] = e0, e0**2, start
    for i in range(n):
        e[i + 1] = m / big * e[i]
        e2[i + 1] = (m**2 * e2[i] + m * var[i]) / big**2
        between = k * m / big * (e2[i] + var[i] / m) if m else 0.0
        var[i + 1] = ((k - 1) * s2 + max(m - 1, 0) * var[i] + between) / (big - 1)
    return e, e2, var


def retrain_findings(runs) -> dict[str, float]:
    """The numbers chapter 8 states about :func:`retrain_loop` runs, one run per ratio.

    For each ratio λ (``runs`` maps λ to Chains of the same settings): the contraction factor
    m/N, the generations the mean offset takes to halve, the simulated and exact mean offset
    and root-mean-square offset at the last generation (with standard errors), and the exact
    long-run RMS offset. Used in chapter 8 and its claims test.
    """
    out = {}
    for lam, chains in runs.items():
        info = chains.info
        if "real_means" not in info:
            raise ValueError(f"runs must map ratios to Chains from self_consuming.retrain_loop "
                             f"(got {show(chains)})")
        k, m = info["n_real"], info["n_synthetic"]
        off = chains.means - info["real_means"]
        exact = retrain_moments(chains.n_generations, k, info["ratio"], off[0],
                                float(chains.stds[0, 0] ** 2), info["real_stds"] ** 2)
        far = retrain_moments(2000, k, info["ratio"], off[0], float(chains.stds[0, 0] ** 2),
                              info["real_stds"] ** 2)
        c = chains.n_chains
        key = f"{lam:g}"
        out[f"factor_{key}"] = m / (k + m)
        out[f"halving_{key}"] = float(np.log(0.5) / np.log(m / (k + m))) if m else 0.0
        out[f"offset_{key}"] = float(off[-1].mean())
        out[f"offset_se_{key}"] = float(off[-1].std(ddof=1) / np.sqrt(c))
        out[f"offset_exact_{key}"] = float(exact[0][-1].mean())
        out[f"rms_{key}"] = float(np.sqrt((off[-1] ** 2).mean()))
        out[f"rms_exact_{key}"] = float(np.sqrt(exact[1][-1].mean()))
        out[f"rms_limit_{key}"] = float(np.sqrt(far[1][-1].mean()))
        out[f"start_offset_{key}"] = float(off[0].mean())
    return out


def mad_findings(runs) -> dict[str, float]:
    """Quality and diversity of :func:`mad_loop` runs at generations 0, 1 and last.

    ``runs`` maps a label to Chains; for each, the simulated mean quality and diversity (with
    standard errors) at the last generation and the truth's values, and the exact ones from
    :func:`mad_moments`. Used in chapter 8 and its claims test.
    """
    out = {"quality_truth": float(-0.5 * _LOG_2PI - 0.5), "diversity_truth": 1.0}
    for label, chains in runs.items():
        info = chains.info
        if "scale" not in info or "n_real" not in info:
            raise ValueError(f"runs must map labels to Chains from self_consuming.mad_loop "
                             f"(got {show(chains)})")
        tau2 = info["scale"] ** 2
        div = tau2 * chains.stds[-1] ** 2
        qual = -0.5 * _LOG_2PI - 0.5 * (chains.means[-1] ** 2 + div)
        var, drift = mad_moments(chains.n_generations, info["n_real"], info["n_synthetic"],
                                 info["scale"])
        exact = quality_diversity(var, drift, info["scale"]).iloc[-1]
        c = np.sqrt(chains.n_chains)
        out.update({f"{label}_quality": float(qual.mean()),
                    f"{label}_quality_se": float(qual.std(ddof=1) / c),
                    f"{label}_quality_exact": float(exact.quality),
                    f"{label}_diversity": float(div.mean()),
                    f"{label}_diversity_se": float(div.std(ddof=1) / c),
                    f"{label}_diversity_exact": float(exact.diversity),
                    f"{label}_diversity_median": float(np.median(div))})
    return out
