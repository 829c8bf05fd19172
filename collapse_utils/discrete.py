"""Discrete model collapse: resample a categorical distribution from its own empirical counts.

With a perfect learner (the fitted model is the empirical distribution of its M training
samples) only statistical approximation error acts. Each generation draws M samples from the
previous distribution and keeps their frequencies. The count of one category is then the
Wright-Fisher chain of population genetics: a Markov chain on 0..M whose only absorbing states
are 0 (the category is lost) and M (it has taken over). A category of probability q is lost in
one generation with probability (1 - q)^M and eventually with probability 1 - q, because the
count is a martingale.

Generative models are rarely sampled as they are: a temperature T < 1 or a top-k cut sharpens
the model before it generates (:func:`sharpen`). ``resample(..., temperature=T, top_k=k)`` draws
each generation's samples from the sharpened model; then the commonest category wins and the
tail goes faster (chapter 1).

The module offers the simulation (:func:`resample`, which returns a
:class:`~collapse_utils.chains.Chains`), exact results for the two-category chain from its
transition matrix (:func:`transition_matrix`, :func:`expected_absorption_time`,
:func:`prob_absorbed_by`, :func:`prob_lost_by`), and the tables chapter 2 sets beside them
(:func:`absorption_runs`, :func:`absorption_table`, :func:`loss_grid`, :func:`survival_table`).
Their charts are in :mod:`collapse_utils.figures.discrete`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import binom

from collapse_utils._checks import (
    as_rng,
    check_distribution,
    check_int,
    check_int_array,
    check_nonnegative,
    check_probability,
    check_real,
    check_sample_sizes,
    show,
)
from collapse_utils.chains import Chains

__all__ = [
    "absorption_runs",
    "absorption_table",
    "diffusion_absorption_time",
    "expected_absorption_time",
    "loss_grid",
    "prob_absorbed_by",
    "prob_eventually_lost",
    "prob_lost_by",
    "prob_lost_in_one_generation",
    "resample",
    "sharpen",
    "surviving_categories",
    "survival_table",
    "transition_matrix",
]


def sharpen(probs, temperature=1.0, top_k=None) -> np.ndarray:
    """The distribution a model of categories ``probs`` samples from at a temperature, or top-k.

    Temperature T divides the log-probabilities by T, as a language model divides its logits:
    q_k is proportional to p_k^(1/T). T < 1 sharpens towards the commonest category, T = 1 leaves
    ``probs`` as they are, T = 0 is greedy (all the mass on the commonest; ties share it). Top-k
    then keeps the k largest probabilities (ties go to the lower index) and renormalises.
    Sharpening twice at T is sharpening once at T^2. Categories of probability 0 stay at 0.

    Used in chapter 1, What is model collapse.

    Parameters
    ----------
    probs : array_like, shape (..., n_categories)
        Distributions over the last axis: entries >= 0, each summing to 1 (within 1e-9).
    temperature : float
        T >= 0.
    top_k : int, optional
        Keep the k commonest categories, 1 <= k <= n_categories; None keeps all.

    Returns
    -------
    ndarray, the shape of ``probs``; each distribution sums to 1.

    Examples
    --------
    >>> sharpen([0.5, 0.3, 0.2], temperature=0.5).round(3)
    array([0.658, 0.237, 0.105])
    >>> sharpen([0.5, 0.3, 0.2], top_k=2)
    array([0.625, 0.375, 0.   ])
    """
    p = np.asarray(probs, dtype=float)
    if p.ndim == 0 or p.shape[-1] == 0 or not np.isfinite(p).all() or (p < 0).any() \
            or (np.abs(p.sum(axis=-1) - 1) > 1e-9).any():
        raise ValueError(f"probs must hold distributions over its last axis: entries >= 0 "
                         f"summing to 1 (got {show(probs)})")
    t = check_nonnegative("temperature", temperature)
    k = None if top_k is None else check_int("top_k", top_k, 1, p.shape[-1])
    return _sharpen(p, t, k)


def _sharpen(p: np.ndarray, t: float, k: int | None) -> np.ndarray:
    """:func:`sharpen` without the checks (probabilities over the last axis)."""
    if t == 0:
        q = (p == p.max(axis=-1, keepdims=True)).astype(float)
    elif t != 1:
        with np.errstate(divide="ignore"):
            logs = np.log(p) / t
        q = np.exp(logs - logs.max(axis=-1, keepdims=True))
    else:
        q = p.copy()
    if k is not None and k < q.shape[-1]:
        cut = np.argsort(-q, axis=-1, kind="stable")[..., k:]
        np.put_along_axis(q, cut, 0.0, axis=-1)
    return q / q.sum(axis=-1, keepdims=True)


def resample(probs, sample_size, n_generations, n_chains=1, seed=None, *, temperature=1.0,
             top_k=None) -> Chains:
    """Refit a categorical distribution to M samples of itself, generation after generation.

    Each generation draws M samples from the current model, sharpened by ``temperature`` and
    ``top_k`` (:func:`sharpen`; by default the model as it is), and the next model is their
    empirical distribution.

    Used in chapter 1, What is model collapse, and chapter 2, Statistical approximation
    error.

    Parameters
    ----------
    probs : array_like, shape (n_categories,)
        Generation 0: probabilities >= 0 summing to 1 (within 1e-9).
    sample_size : int or sequence of int
        M_i >= 1, the samples drawn in each generation: one int for all, or a sequence of length
        ``n_generations``.
    n_generations : int
        Number of generations after generation 0 (>= 0).
    n_chains : int
        Number of independent chains (>= 1).
    seed : None, int or numpy.random.Generator
        Source of randomness; the same seed gives the same output.
    temperature : float
        Sampling temperature T >= 0 (1: the model as it is; below 1: mode-seeking).
    top_k : int, optional
        Sample from the k commonest categories only (1 <= k <= n_categories).

    Returns
    -------
    Chains
        ``probs`` of shape (n_generations + 1, n_chains, n_categories): row 0 is ``probs``
        (renormalised to sum to 1 exactly) and row i holds multinomial(M_i, sharpened row i-1)
        counts divided by M_i. ``info`` holds ``sample_sizes`` (M_1..M_n), ``temperature`` and
        ``top_k``.

    Examples
    --------
    >>> chains = resample([0.5, 0.3, 0.2], 10, n_generations=50, n_chains=4, seed=0)
    >>> chains.probs.shape
    (51, 4, 3)
    """
    p = check_distribution("probs", probs)
    n = check_int("n_generations", n_generations, 0)
    sizes = check_sample_sizes(sample_size, n, minimum=1)
    n_chains = check_int("n_chains", n_chains, 1)
    t = check_nonnegative("temperature", temperature)
    k = None if top_k is None else check_int("top_k", top_k, 1, p.size)
    rng = as_rng(seed)
    out = np.empty((n + 1, n_chains, p.size))
    # numpy's multinomial rejects probabilities whose sum exceeds 1 by more than ~1e-12.
    out[0] = p / p.sum()
    plain = t == 1 and k is None
    for i, m in enumerate(sizes):
        model = out[i] if plain else _sharpen(out[i], t, k)
        out[i + 1] = rng.multinomial(m, model) / m
    return Chains({"probs": out}, {"sample_sizes": sizes, "temperature": t, "top_k": k})


def surviving_categories(dists) -> np.ndarray:
    """Number of categories with non-zero probability, counted over the last axis.

    Used in chapter 2, Statistical approximation error.

    Parameters
    ----------
    dists : Chains or array_like, shape (..., n_categories)
        Chains from :func:`resample` (their ``probs`` are counted), or distributions.

    Returns
    -------
    ndarray of int, shape (...): (n_generations + 1, n_chains) for chains.
    """
    dists = dists.probs if isinstance(dists, Chains) else np.asarray(dists)
    return np.count_nonzero(dists > 0, axis=-1)


def prob_lost_in_one_generation(q, sample_size):
    """Probability (1 - q)^M that a category of probability q gets no sample out of M.

    Used in chapter 1, What is model collapse, and chapter 2, Statistical approximation
    error.

    Parameters
    ----------
    q : float or array_like
        Probability of the category, in [0, 1].
    sample_size : int or array_like of int
        M >= 1; broadcast against ``q``.

    Returns
    -------
    float or ndarray
    """
    q, q_scalar = check_probability("q", q)
    m, m_scalar = check_int_array("sample_size", sample_size, 1)
    out = (1.0 - q) ** m
    return float(out) if q_scalar and m_scalar else out


def prob_eventually_lost(q):
    """Probability 1 - q that a category of probability q is lost for good.

    The frequency of the category is a martingale absorbed at 0 or 1, so it ends at 1 with
    probability q, whatever the sample size.

    Used in chapter 2, Statistical approximation error.

    Parameters
    ----------
    q : float or array_like
        Probability of the category, in [0, 1].

    Returns
    -------
    float or ndarray
    """
    q, scalar = check_probability("q", q)
    return float(1.0 - q) if scalar else 1.0 - q


def transition_matrix(sample_size) -> np.ndarray:
    """Exact transition matrix of the two-category chain on the counts 0..M.

    Row i is the Binomial(M, i / M) pmf: the next count when the current one is i. States 0 and
    M are absorbing. The matrix is dense, (M + 1)^2 floats.

    Used in chapter 2, Statistical approximation error.

    Parameters
    ----------
    sample_size : int
        M >= 1.

    Returns
    -------
    ndarray, shape (M + 1, M + 1)
        Row-stochastic matrix.
    """
    m = check_int("sample_size", sample_size, 1)
    states = np.arange(m + 1)
    p = binom.pmf(states[None, :], m, states[:, None] / m)
    # Exact row sums keep matrix powers stochastic to rounding, not to the pmf's 1e-15 error.
    return p / p.sum(axis=1, keepdims=True)


def _check_counts(count, m):
    return check_int_array("count", count, 0, m)


def expected_absorption_time(count, sample_size):
    """Exact expected number of generations until the count hits 0 (lost) or M (fixed).

    Solves (I - Q) t = 1 on the transient states 1..M-1, with Q the transition matrix restricted
    to them; t = 0 at 0 and M. For large M, t(count) is close to
    -2M (q log q + (1 - q) log(1 - q)) with q = count / M.

    Used in chapter 2, Statistical approximation error.

    Parameters
    ----------
    count : int, array_like of int, or None
        Starting count(s) in 0..M. None returns the whole vector t(0), ..., t(M).
    sample_size : int
        M >= 1.

    Returns
    -------
    float or ndarray
        A float for an int ``count``; an array of the shape of ``count``; or shape (M + 1,) for
        ``count=None``.
    """
    m = check_int("sample_size", sample_size, 1)
    if count is not None:
        counts, scalar = _check_counts(count, m)
    p = transition_matrix(m)
    q = p[1:m, 1:m]
    times = np.zeros(m + 1)
    times[1:m] = np.linalg.solve(np.eye(m - 1) - q, np.ones(m - 1))
    if count is None:
        return times
    return float(times[counts]) if scalar else times[counts]


def _prob_in_states_by(count, sample_size, n, targets):
    """P(count chain sits in one of the absorbing ``targets`` at generation n)."""
    m = check_int("sample_size", sample_size, 1)
    counts, count_scalar = _check_counts(count, m)
    gens, n_scalar = check_int_array("n", n, 0)
    p = transition_matrix(m)
    # Absorbing targets: being there at generation n means being absorbed there by n. Iterate
    # v_n = P v_{n-1} on the column of target indicators, which serves every start at once.
    v = np.zeros(m + 1)
    v[targets] = 1.0
    wanted = np.unique(gens)
    table = np.empty((wanted.size, m + 1))
    done = 0
    for j, target in enumerate(wanted):
        gap = int(target) - done
        # A jump of `gap` steps costs gap M^2 by products with a vector, about 2 log2(gap) M^3
        # by squaring: take the cheaper.
        if gap > 2 * max(1, np.log2(max(gap, 2))) * (m + 1):
            v = np.linalg.matrix_power(p, gap) @ v
        else:
            for _ in range(gap):
                v = p @ v
        done = int(target)
        table[j] = v
    out = table[np.searchsorted(wanted, gens), counts]
    return float(out) if count_scalar and n_scalar else out


def prob_absorbed_by(count, sample_size, n):
    """Exact probability that the chain started at ``count`` is absorbed (lost or fixed) by n.

    Used in chapter 2, Statistical approximation error.

    Parameters
    ----------
    count : int or array_like of int
        Starting count(s) in 0..M.
    sample_size : int
        M >= 1.
    n : int or array_like of int
        Generation(s), >= 0; broadcast against ``count``.

    Returns
    -------
    float or ndarray
        A float when ``count`` and ``n`` are ints, else an array of their broadcast shape.
    """
    m = check_int("sample_size", sample_size, 1)
    return _prob_in_states_by(count, m, n, [0, m])


def prob_lost_by(count, sample_size, n):
    """Exact probability that the chain started at ``count`` is absorbed at 0 (lost) by n.

    It increases to 1 - count / M as n grows (see :func:`prob_eventually_lost`).

    Used in chapter 2, Statistical approximation error.

    Parameters and return value as in :func:`prob_absorbed_by`.
    """
    return _prob_in_states_by(count, sample_size, n, [0])


def diffusion_absorption_time(q, sample_size):
    """The diffusion approximation -2M (q log q + (1 - q) log(1 - q)) of the absorption time.

    Close to :func:`expected_absorption_time` at count q M for large M. Used in chapter 2,
    Statistical approximation error.

    Parameters
    ----------
    q : float or array_like
        Starting frequency, in [0, 1].
    sample_size : int
        M >= 1.

    Returns
    -------
    float or ndarray
    """
    q, scalar = check_probability("q", q)
    m = check_int("sample_size", sample_size, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -(np.where(q > 0, q * np.log(q), 0.0)
                    + np.where(q < 1, (1 - q) * np.log1p(-q), 0.0))
    out = 2.0 * m * entropy + 0.0  # + 0.0: no -0.0 at q = 0 or 1
    return float(out) if scalar else out


# ----------------------------------------------------------------- simulations set beside the exact


def _first_category(chains: Chains) -> np.ndarray:
    """Frequency of category 0, shape (n_generations + 1, n_chains)."""
    return chains.probs[:, :, 0]


def absorption_runs(sample_size, n_generations, n_chains, counts=None, seed=None) -> pd.DataFrame:
    """Two-category chains started at each count, each followed until it is absorbed.

    For every starting count j, :func:`resample` runs ``n_chains`` chains of the category's
    frequency from q = j / M. Used in chapter 2, Statistical approximation error.

    Parameters
    ----------
    sample_size : int
        M >= 2.
    n_generations : int
        Generations simulated (>= 1); every chain must be absorbed by then.
    n_chains : int
        Chains per starting count (>= 2).
    counts : sequence of int, optional
        Starting counts in 1..M-1; all of them by default.
    seed : None, int or numpy.random.Generator

    Returns
    -------
    DataFrame
        One row per (count, chain): ``M``, ``count``, ``q``, ``chain``, ``lost_first`` (lost at
        generation 1), ``lost`` (lost for good, rather than taken over) and ``time`` (the first
        generation at 0 or M).
    """
    m = check_int("sample_size", sample_size, 2)
    n = check_int("n_generations", n_generations, 1)
    n_chains = check_int("n_chains", n_chains, 2)
    if counts is None:
        counts = np.arange(1, m)
    counts, scalar = check_int_array("counts", counts, 1, m - 1)
    if scalar or counts.ndim != 1 or counts.size == 0:
        raise ValueError(f"counts must be a non-empty 1-D sequence of integers in 1..{m - 1} "
                         f"(got {show(counts)})")
    rng = as_rng(seed)
    frames = []
    for count in counts:
        q = count / m
        freq = _first_category(resample([q, 1 - q], m, n, n_chains=n_chains, seed=rng))
        absorbed = (freq == 0) | (freq == 1)
        running = int(np.count_nonzero(~absorbed[-1]))
        if running:
            raise ValueError(
                f"n_generations must be long enough for every chain to be absorbed (got {n}; "
                f"{running} of {n_chains} chains from count {count} still run)")
        frames.append(pd.DataFrame({
            "M": m, "count": int(count), "q": q, "chain": np.arange(n_chains),
            "lost_first": freq[1] == 0, "lost": freq[-1] == 0, "time": absorbed.argmax(axis=0),
        }))
    return pd.concat(frames, ignore_index=True)


_RUN_COLUMNS = ["M", "count", "q", "chain", "lost_first", "lost", "time"]


def absorption_table(runs: pd.DataFrame) -> pd.DataFrame:
    """The three exact results on losing a category beside :func:`absorption_runs`' chains.

    Used in chapter 2, Statistical approximation error.

    Returns
    -------
    DataFrame
        One row per starting count: ``count``, ``q``, then for the loss in one generation
        (``one_step``), the eventual loss (``eventually``) and the absorption time (``time``)
        the exact value, the simulated mean (suffix ``_mc``) and its standard error (``_se``).
    """
    if not isinstance(runs, pd.DataFrame) or list(runs.columns) != _RUN_COLUMNS:
        raise ValueError(f"runs must be the DataFrame absorption_runs returns, with columns "
                         f"{_RUN_COLUMNS} (got {show(runs)})")
    m = int(runs["M"].iloc[0])
    groups = runs.groupby("count")
    size = groups.size().to_numpy()
    table = groups.agg(q=("q", "first"), one_step_mc=("lost_first", "mean"),
                       eventually_mc=("lost", "mean"), time_mc=("time", "mean"),
                       time_sd=("time", "std")).reset_index()
    count, q = table["count"].to_numpy(), table["q"].to_numpy()
    table["one_step"] = prob_lost_in_one_generation(q, m)
    table["eventually"] = prob_eventually_lost(q)
    table["time"] = expected_absorption_time(count, m)
    for key in ("one_step", "eventually"):
        p = table[f"{key}_mc"]
        table[f"{key}_se"] = np.sqrt(p * (1 - p) / size)
    table["time_se"] = table.pop("time_sd") / np.sqrt(size)
    order = ["count", "q"] + [f"{k}{s}" for k in ("one_step", "eventually", "time")
                              for s in ("", "_mc", "_se")]
    return table[order]


def loss_grid(frequency, sample_sizes, n_generations, n_chains, seed=None) -> pd.DataFrame:
    """Probability that a category is lost, or absorbed, by generation n: exact and simulated.

    For each M, a category of probability ``frequency`` (count q M) is resampled with
    :func:`resample`; the exact curves are :func:`prob_lost_by` and :func:`prob_absorbed_by`.
    Used in chapter 2, Statistical approximation error.

    Parameters
    ----------
    frequency : float
        Starting probability q of the category, in (0, 1); q M must be an integer for every M.
    sample_sizes : sequence of int
        The sample sizes M >= 1 of the grid.
    n_generations : int
        Generations 0..n_generations (>= 0).
    n_chains : int
        Chains simulated per M (>= 2).
    seed : None, int or numpy.random.Generator

    Returns
    -------
    DataFrame
        One row per (M, n): ``M``, ``n``, the exact ``lost`` and ``absorbed`` and the fractions
        of chains ``lost_mc`` and ``absorbed_mc``.
    """
    q = check_real("frequency", frequency)
    if not 0 < q < 1:
        raise ValueError(f"frequency must be in (0, 1) (got {show(frequency)})")
    sizes, scalar = check_int_array("sample_sizes", sample_sizes, 1)
    if scalar or sizes.ndim != 1 or sizes.size == 0:
        raise ValueError(f"sample_sizes must be a non-empty 1-D sequence of integers >= 1 "
                         f"(got {show(sample_sizes)})")
    counts = q * sizes
    off = np.abs(counts - np.round(counts)) > 1e-9
    if off.any():
        raise ValueError(f"frequency * M must be an integer for every M in sample_sizes "
                         f"(got {q!r} * {int(sizes[off][0])})")
    n = check_int("n_generations", n_generations, 0)
    n_chains = check_int("n_chains", n_chains, 2)
    rng = as_rng(seed)
    gens = np.arange(n + 1)
    frames = []
    for m, count in zip(sizes, np.round(counts).astype(int), strict=True):
        freq = _first_category(resample([q, 1 - q], int(m), n, n_chains=n_chains, seed=rng))
        lost = (freq == 0).mean(axis=1)
        frames.append(pd.DataFrame({
            "M": int(m), "n": gens,
            "lost": prob_lost_by(int(count), int(m), gens),
            "absorbed": prob_absorbed_by(int(count), int(m), gens),
            "lost_mc": lost, "absorbed_mc": lost + (freq == 1).mean(axis=1),
        }))
    return pd.concat(frames, ignore_index=True)


def survival_table(counts, n_generations, n_chains, seed=None) -> pd.DataFrame:
    """Chance that each category is still present at generation n: exact and simulated.

    The distribution starts at ``counts / M`` with M = ``sum(counts)`` samples per generation;
    each category against all the others is a two-category chain, so its survival is
    1 - :func:`prob_lost_by`. Used in chapter 2, Statistical approximation error.

    Parameters
    ----------
    counts : sequence of int
        Starting count of each category (>= 1); their sum is the sample size M.
    n_generations : int
        Generations 0..n_generations (>= 0).
    n_chains : int
        Chains simulated (>= 1).
    seed : None, int or numpy.random.Generator

    Returns
    -------
    DataFrame
        One row per (category, n): ``category``, ``q``, ``n``, ``exact`` and ``simulated`` (the
        fraction of chains in which the category is present).
    """
    counts, scalar = check_int_array("counts", counts, 1)
    if scalar or counts.ndim != 1 or counts.size == 0:
        raise ValueError(f"counts must be a non-empty 1-D sequence of integers >= 1 "
                         f"(got {show(counts)})")
    n = check_int("n_generations", n_generations, 0)
    m = int(counts.sum())
    probs = resample(counts / m, m, n, n_chains=n_chains, seed=seed).probs
    gens = np.arange(n + 1)
    return pd.concat([pd.DataFrame({
        "category": k, "q": counts[k] / m, "n": gens,
        "exact": 1 - prob_lost_by(int(counts[k]), m, gens),
        "simulated": (probs[:, :, k] > 0).mean(axis=1),
    }) for k in range(counts.size)], ignore_index=True)
