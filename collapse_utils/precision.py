"""Finite precision, the further source of error the paper names: rounding that compounds.

Chapter 5, Collapse in models trained from scratch. A computer keeps every number in a
floating-point format with ``p`` significant bits (:data:`SIGNIFICAND_BITS`): rounding to the
nearest one changes a number by a relative error of at most :func:`unit_roundoff` ``= 2^-p``.
This module rounds to the formats that training uses (:func:`round_to`: float32, bfloat16,
float16, beside float64), runs the Gaussian chain of chapter 2 with its fitted parameters kept in
each format, from the same random draws (:func:`gaussian_chains`), and gives the closed form of
how far the chains drift apart (:func:`expected_squared_log_gap`). The GMM chain keeps its data
in a format through ``collapse_utils.gmm.recursive_gmm(precision=...)``. The chapter's numbers
come from :func:`findings`; the charts are in :mod:`collapse_utils.figures.precision`.
"""

from __future__ import annotations

import numpy as np
from scipy.special import digamma, polygamma

from ._checks import as_rng, check_choice, check_finite_array, check_int, check_real, show
from .chains import Chains

__all__ = [
    "FORMATS",
    "SIGNIFICAND_BITS",
    "expected_squared_log_gap",
    "findings",
    "gaussian_chains",
    "log_std_gap",
    "round_to",
    "unit_roundoff",
]

FORMATS = ("float64", "float32", "bfloat16", "float16")

#: Significant bits of each format, the leading (implicit) one included.
SIGNIFICAND_BITS = {"float64": 53, "float32": 24, "bfloat16": 8, "float16": 11}


def _check_format(name: str, fmt) -> str:
    return check_choice(name, fmt, FORMATS)


def unit_roundoff(fmt: str) -> float:
    """``2^-p``: the largest relative error of rounding to the nearest number of the format ``fmt``
    (within its normal range). Used in chapter 5."""
    return 2.0 ** -SIGNIFICAND_BITS[_check_format("fmt", fmt)]


def round_to(x, fmt: str) -> np.ndarray:
    """``x`` rounded to the nearest number of the format ``fmt`` (ties to even), as float64.

    float32 and float16 are numpy's own conversions. bfloat16 is float32 with its last 16 bits
    rounded off, as PyTorch converts: float64 goes to float32 first (this double rounding can
    differ from a direct rounding only on exact ties of the float32 value, about once in 2^29).
    Used in chapter 5.
    """
    fmt = _check_format("fmt", fmt)
    x = check_finite_array("x", x)
    if fmt == "float64":
        return x.copy()
    if fmt != "bfloat16":
        with np.errstate(over="ignore"):
            return x.astype(fmt).astype(np.float64)
    with np.errstate(over="ignore"):
        single = np.array(x, dtype=np.float32, ndmin=1)
    bits = single.view(np.uint32).astype(np.uint64)
    # Round the low 16 bits to nearest, ties to even: add 0x7FFF plus the lowest kept bit.
    bits = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    return bits.astype(np.uint32).view(np.float32).astype(np.float64).reshape(x.shape)


def gaussian_chains(n_generations: int, sample_size: int, formats=FORMATS, *, mean=0.0,
                    std=1.0, n_chains: int = 1, seed=None) -> dict[str, Chains]:
    """The Gaussian chain of chapter 2, its fitted mean and standard deviation kept in each format.

    Each generation fits the unbiased mean and variance of ``sample_size`` samples of the last
    one, drawn from their exact law as chapter 2 does (the mean of M standard normals, and the
    root of a chi-square with M - 1 degrees of freedom over M - 1), then rounds both parameters to
    the format (:func:`round_to`), as a model whose weights are kept in bfloat16 would be. Every
    format uses *the same* draws: the chains differ only by rounding.

    Used in chapter 5, Collapse in models trained from scratch.

    Returns
    -------
    dict of str to Chains
        One per format, in the order given: ``means`` and ``stds`` of shape (n + 1, n_chains),
        row 0 the start N(mean, std^2) rounded to the format; ``info`` holds ``format``,
        ``sample_size`` and ``std``.
    """
    n = check_int("n_generations", n_generations, 1)
    m = check_int("sample_size", sample_size, 2)
    n_chains = check_int("n_chains", n_chains, 1)
    mu0, sigma0 = check_real("mean", mean), check_real("std", std)
    if sigma0 <= 0:
        raise ValueError(f"std must be > 0 (got {show(std)})")
    if isinstance(formats, str) or not formats:
        raise ValueError(f"formats must be a non-empty sequence of {', '.join(FORMATS)} "
                         f"(got {show(formats)})")
    formats = [_check_format("formats", f) for f in formats]
    rng = as_rng(seed)
    z = rng.standard_normal((n, n_chains)) / np.sqrt(m)  # the sample mean of M standard normals
    s = np.sqrt(rng.chisquare(m - 1, (n, n_chains)) / (m - 1))  # the sample std of M of them
    out = {}
    for fmt in formats:
        means, stds = np.empty((n + 1, n_chains)), np.empty((n + 1, n_chains))
        means[0], stds[0] = round_to(mu0, fmt), round_to(sigma0, fmt)
        for g in range(n):
            means[g + 1] = round_to(means[g] + stds[g] * z[g], fmt)
            stds[g + 1] = round_to(stds[g] * s[g], fmt)
        out[fmt] = Chains({"means": means, "stds": stds},
                          {"format": fmt, "sample_size": m, "std": sigma0, "method": "exact"})
    return out


def _check_gaussian(name: str, chains) -> Chains:
    if not isinstance(chains, Chains) or "format" not in chains.info \
            or "stds" not in chains.params:
        raise ValueError(f"{name} must be one of the Chains that gaussian_chains returns "
                         f"(got {show(chains)})")
    return chains


def log_std_gap(chains: Chains, reference: Chains) -> np.ndarray:
    """``log sigma_n - log sigma_n(reference)`` per generation and chain, shape (n + 1, n_chains):
    how far rounding has moved a chain from the chain run with the same draws in ``reference``
    (float64). Used in chapter 5."""
    chains, reference = _check_gaussian("chains", chains), _check_gaussian("reference", reference)
    if chains.stds.shape != reference.stds.shape:
        raise ValueError(f"reference must have the shape of chains {chains.stds.shape} "
                         f"(got {reference.stds.shape})")
    return np.log(chains.stds) - np.log(reference.stds)


def _frac_moment(mean_log2, sd_log2) -> np.ndarray:
    """E[4^-frac(L)] for L ~ N(mean_log2, sd_log2^2), each pair: Gauss-Legendre on pieces of
    mean +- 10 sd no wider than one sd, cut at the integers where frac(L) jumps."""
    nodes, weights = np.polynomial.legendre.leggauss(8)
    out = np.empty(len(mean_log2))
    for j, (m, s) in enumerate(zip(mean_log2, sd_log2, strict=True)):
        lo, hi = m - 10 * s, m + 10 * s
        edges = np.unique(np.concatenate([np.linspace(lo, hi, 21),
                                          np.arange(np.ceil(lo), np.floor(hi) + 1)]))
        a, b = edges[:-1, None], edges[1:, None]
        x = (a + b) / 2 + (b - a) / 2 * nodes
        f = 4.0 ** -(x - np.floor((a + b) / 2)) * np.exp(-0.5 * ((x - m) / s) ** 2)
        out[j] = np.sum((b - a) / 2 * weights * f) / (s * np.sqrt(2 * np.pi))
    return out


def expected_squared_log_gap(n_generations: int, sample_size: int, fmt: str,
                             std=1.0) -> np.ndarray:
    """Closed form of E[(log sigma_n - log sigma_n(float64))^2] for :func:`gaussian_chains`.

    Rounding sigma_i to the format multiplies it by 1 + e_i, with e_i the relative rounding
    error, and the same draws then scale both chains alike: the gap in log sigma is the sum of
    the log(1 + e_i) ~ e_i of every generation. Rounding to nearest makes e_i mean-zero, with
    variance ulp(sigma_i)^2 / (12 sigma_i^2) = 4^(1 - p) E[4^-frac(log2 sigma_i)] / 12, and the
    draws of successive generations make the e_i independent. log sigma_i is a sum of i
    independent log factors (chapter 2); its exact mean and variance enter, with a normal law
    for the sum. Long after the start, log2 sigma_i is spread over many binades, E[4^-frac] =
    3 / (8 log 2), and the gap's root mean square is sqrt(n) 2^(1 - p) / sqrt(32 log 2).
    Valid while sigma stays in the format's normal range. Used in chapter 5.

    Returns an array of shape (n_generations + 1,), entry 0 equal to 0.
    """
    n = check_int("n_generations", n_generations, 1)
    m = check_int("sample_size", sample_size, 2)
    p = SIGNIFICAND_BITS[_check_format("fmt", fmt)]
    sigma0 = check_real("std", std)
    if sigma0 <= 0:
        raise ValueError(f"std must be > 0 (got {show(std)})")
    # log s with s^2 ~ chi2(M - 1) / (M - 1): exact mean and variance.
    half = (m - 1) / 2
    step_mean = 0.5 * (digamma(half) - np.log(half))
    step_var = 0.25 * float(polygamma(1, half))
    i = np.arange(1, n + 1)
    mean_log2 = (np.log(sigma0) + i * step_mean) / np.log(2)
    sd_log2 = np.sqrt(i * step_var) / np.log(2)
    per_generation = 4.0 ** (1 - p) / 12 * _frac_moment(mean_log2, sd_log2)
    return np.concatenate([[0.0], np.cumsum(per_generation)])


def findings(gaussian_runs: dict[str, Chains], gmm_runs: dict[str, Chains],
             reference: str = "float64", threshold: float = 0.1) -> dict[str, float]:
    """The numbers chapter 5's section on finite precision states, by name (for ``glue``).

    For each format other than ``reference``, from the Gaussian runs (:func:`gaussian_chains`):
    ``{fmt}_gap_first`` and ``{fmt}_gap_last``, the root mean square over chains of the log-std
    gap at generations 1 and n, ``{fmt}_gap_closed`` the closed form at n, ``{fmt}_gap_growth``
    their ratio last / first; and from the GMM runs (``gmm.recursive_gmm(precision=...)``, one
    chain each): ``gmm_{fmt}_first`` and ``gmm_{fmt}_last``, the relative L2 gap
    (``gmm.relative_l2_gap``) at generations 1 and n, ``gmm_{fmt}_growth`` their ratio, and
    ``gmm_{fmt}_apart``, the generation from which the gap stays above ``threshold`` (-1 if it
    ends below).
    Also ``generations``, ``gmm_generations`` and ``sample_size``. Used in chapter 5.
    """
    from . import gmm  # gmm imports this module

    for name, runs in (("gaussian_runs", gaussian_runs), ("gmm_runs", gmm_runs)):
        if not isinstance(runs, dict) or reference not in runs or len(runs) < 2:
            raise ValueError(f"{name} must be a dict of runs by format holding {reference!r} "
                             f"and at least one other format (got {show(runs)})")
    ref = _check_gaussian("gaussian_runs", gaussian_runs[reference])
    n, m = ref.n_generations, ref.info["sample_size"]
    out = {"generations": n, "sample_size": m}
    for fmt, chains in gaussian_runs.items():
        if fmt == reference:
            continue
        rms = np.sqrt(np.mean(log_std_gap(chains, ref) ** 2, axis=1))
        closed = np.sqrt(expected_squared_log_gap(n, m, fmt, ref.info["std"]))
        out |= {f"{fmt}_gap_first": float(rms[1]), f"{fmt}_gap_last": float(rms[-1]),
                f"{fmt}_gap_closed": float(closed[-1]),
                f"{fmt}_gap_growth": float(rms[-1] / rms[1])}
    gmm_ref = gmm_runs[reference]
    for fmt, chains in gmm_runs.items():
        if fmt == reference:
            continue
        gap = gmm.relative_l2_gap(chains, gmm_ref)[:, 0]
        close = np.flatnonzero(gap <= threshold)
        apart = close[-1] + 1 if close.size else 0
        out |= {f"gmm_{fmt}_first": float(gap[1]), f"gmm_{fmt}_last": float(gap[-1]),
                f"gmm_{fmt}_growth": float(gap[-1] / gap[1]),
                f"gmm_{fmt}_apart": int(apart) if apart < gap.size else -1}
    out["gmm_generations"] = gmm_ref.n_generations
    return out
