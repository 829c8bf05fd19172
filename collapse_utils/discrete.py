"""Discrete model collapse: resample a categorical distribution from its own empirical counts.

With a perfect learner (the fitted model is the empirical distribution of its M training
samples) only statistical approximation error acts. Each generation draws M samples from the
previous distribution and keeps their frequencies. The count of one category is then the
Wright-Fisher chain of population genetics: a Markov chain on 0..M whose only absorbing states
are 0 (the category is lost) and M (it has taken over). A category of probability q is lost in
one generation with probability (1 - q)^M and eventually with probability 1 - q, because the
count is a martingale.

The module offers the simulation (:func:`resample`) and exact results for the two-category
chain from its transition matrix (:func:`transition_matrix`, :func:`expected_absorption_time`,
:func:`prob_absorbed_by`, :func:`prob_lost_by`).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import binom

from collapse_utils._checks import (
    as_rng,
    check_distribution,
    check_int,
    check_int_array,
    check_probability,
    check_sample_sizes,
)

__all__ = [
    "expected_absorption_time",
    "prob_absorbed_by",
    "prob_eventually_lost",
    "prob_lost_by",
    "prob_lost_in_one_generation",
    "resample",
    "surviving_categories",
    "transition_matrix",
]


def resample(probs, sample_size, n_generations, n_chains=1, seed=None) -> np.ndarray:
    """Refit a categorical distribution to M samples of itself, generation after generation.

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

    Returns
    -------
    ndarray, shape (n_generations + 1, n_chains, n_categories)
        The distributions; row 0 is ``probs`` (renormalised to sum to 1 exactly) and row i holds
        multinomial(M_i, row i-1) counts divided by M_i.

    Examples
    --------
    >>> dists = resample([0.5, 0.3, 0.2], 10, n_generations=50, n_chains=4, seed=0)
    >>> dists.shape
    (51, 4, 3)
    """
    p = check_distribution("probs", probs)
    n = check_int("n_generations", n_generations, 0)
    sizes = check_sample_sizes(sample_size, n, minimum=1)
    n_chains = check_int("n_chains", n_chains, 1)
    rng = as_rng(seed)
    out = np.empty((n + 1, n_chains, p.size))
    # numpy's multinomial rejects probabilities whose sum exceeds 1 by more than ~1e-12.
    out[0] = p / p.sum()
    for i, m in enumerate(sizes):
        out[i + 1] = rng.multinomial(m, out[i]) / m
    return out


def surviving_categories(dists) -> np.ndarray:
    """Number of categories with non-zero probability, counted over the last axis.

    Used in chapter 2, Statistical approximation error.

    Parameters
    ----------
    dists : array_like, shape (..., n_categories)
        Distributions, e.g. the output of :func:`resample`.

    Returns
    -------
    ndarray of int, shape (...)
    """
    return np.count_nonzero(np.asarray(dists) > 0, axis=-1)


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
