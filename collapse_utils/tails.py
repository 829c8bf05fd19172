"""Tails of a Zipf vocabulary: what cutting them does to a scaling law, and how long they last.

Two results after the paper, both about the rare words of a Zipf law p_i ∝ i^(−β) (the law of
the dog breeds of chapter 1, with more types):

- Dohmatob et al. (2024), *A Tale of Tails*: a model that memorises every (word, answer) pair it
  has seen errs on a test word exactly when that word never appeared in its T training draws.
  Trained on real data, its error Σ p_i (1 − p_i)^T falls like T^(−(1 − 1/β)); trained on data
  from a model that kept only the k commonest words, it cannot fall below the mass of the lost
  tail, Σ_{i>k} p_i (:func:`memorization_error`, :func:`simulate_memorization`).
- Suresh et al. (2024): refitting a categorical distribution to M of its own draws, a word seen
  k times is forgotten after a number of generations that grows about linearly in k
  (:func:`loss_time_given_loss`, exact; :func:`diffusion_loss_time`, the Wright–Fisher
  diffusion's −2M q log q/(1 − q); :func:`simulate_loss_times`).

The charts are in :mod:`collapse_utils.figures.tails`. Used in chapter 8, What came after the
paper.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import discrete
from ._checks import (
    as_rng,
    check_distribution,
    check_int,
    check_int_array,
    check_probability,
    check_real,
)

__all__ = ["diffusion_loss_time", "forgetting_findings", "forgetting_table",
           "loss_time_given_loss", "memorization_error", "scaling_findings", "scaling_table",
           "simulate_loss_times", "simulate_memorization", "tail_mass", "zipf"]


def zipf(n_types, exponent=2.0) -> np.ndarray:
    """Zipf probabilities p_i ∝ i^(−exponent), i = 1..n_types, commonest first.

    :func:`collapse_utils.breeds.breed_distribution` is the same law over 20 breeds. Used in
    chapter 8.
    """
    n = check_int("n_types", n_types, 1)
    beta = check_real("exponent", exponent)
    if beta <= 0:
        raise ValueError(f"exponent must be > 0 (got {exponent!r})")
    w = np.arange(1, n + 1, dtype=float) ** -beta
    return w / w.sum()


def _cut(probs, cutoff) -> tuple[np.ndarray, int]:
    p = check_distribution("probs", probs)
    k = p.size if cutoff is None else check_int("cutoff", cutoff, 1, p.size)
    return p, k


def tail_mass(probs, cutoff) -> float:
    """Σ_{i>k} p_i: the mass of the words beyond the ``cutoff`` k commonest. Used in chapter 8."""
    p, k = _cut(probs, cutoff)
    return float(p[k:].sum())


def memorization_error(probs, n_samples, cutoff=None):
    """Exact expected test error of the memorising model after T training draws.

    The training draws come from ``probs`` restricted to its ``cutoff`` commonest entries and
    renormalised (all of them for ``cutoff=None``); the test word comes from ``probs``. The error
    is the chance that the test word was never drawn:
    Σ_{i≤k} p_i (1 − p_i/P_k)^T + Σ_{i>k} p_i, with P_k the kept mass. ``n_samples`` may be an
    array; the result has its shape. Used in chapter 8.
    """
    p, k = _cut(probs, cutoff)
    t, scalar = check_int_array("n_samples", n_samples, 0)
    q = p[:k] / p[:k].sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        log_miss = np.log1p(-q)  # -inf where q = 1: a single kept word is always seen
        unseen = np.exp(np.multiply.outer(t, log_miss))
    unseen = np.where(np.multiply.outer(t, np.ones(k)) == 0, 1.0, unseen)  # no draw: none seen
    out = unseen @ p[:k] + p[k:].sum()
    return float(out) if scalar else out


def simulate_memorization(probs, n_samples, cutoff=None, *, n_runs=1, seed=None) -> np.ndarray:
    """Draw T training words, then measure the test error Σ p_i [word i never drawn].

    Returns an array of shape (len(n_samples), n_runs) (or (n_runs,) for an int ``n_samples``);
    its mean estimates :func:`memorization_error`. Used in chapter 8.
    """
    p, k = _cut(probs, cutoff)
    t, scalar = check_int_array("n_samples", n_samples, 0)
    runs = check_int("n_runs", n_runs, 1)
    rng = as_rng(seed)
    q = p[:k] / p[:k].sum()
    sizes = np.atleast_1d(t)
    out = np.empty((sizes.size, runs))
    for j, size in enumerate(sizes):
        counts = rng.multinomial(int(size), q, size=runs)
        out[j] = (counts == 0) @ p[:k] + p[k:].sum()
    return out[0] if scalar else out


def scaling_table(probs, n_samples, cutoffs, *, n_runs=10, seed=None) -> pd.DataFrame:
    """Exact and simulated test errors for every training size and cut-off.

    ``cutoffs`` may hold None (no cut). Columns: cutoff (0 for no cut), n_samples, exact,
    simulated (mean of ``n_runs``), simulated_se, tail_mass. Used in chapter 8.
    """
    p = check_distribution("probs", probs)
    rng = as_rng(seed)
    frames = []
    for cutoff in cutoffs:
        sim = simulate_memorization(p, n_samples, cutoff, n_runs=n_runs, seed=rng)
        frames.append(pd.DataFrame({
            "cutoff": 0 if cutoff is None else int(cutoff), "n_samples": np.asarray(n_samples),
            "exact": memorization_error(p, n_samples, cutoff), "simulated": sim.mean(axis=1),
            "simulated_se": sim.std(axis=1, ddof=1) / np.sqrt(sim.shape[1])
            if sim.shape[1] > 1 else np.nan,
            "tail_mass": tail_mass(p, cutoff)}))
    return pd.concat(frames, ignore_index=True)


def scaling_findings(table: pd.DataFrame) -> dict[str, float]:
    """The numbers chapter 8 states about a :func:`scaling_table`.

    ``slope``: the log-log slope of the exact uncut error between the two training sizes
    nearest 10³ and 10⁵; per cut-off k: ``floor_k`` (the tail mass), ``last_k`` (the exact
    error at the largest size) and ``gain_k``, the factor by which the last tenfold of data
    (or the last step, if the sizes are coarser) cut the error; ``gain_0`` for the uncut law.
    Used in chapter 8 and its claims test.
    """
    columns = {"cutoff", "n_samples", "exact", "tail_mass"}
    if not isinstance(table, pd.DataFrame) or not columns <= set(table.columns) \
            or 0 not in set(table.cutoff):
        raise ValueError("table must be a tails.scaling_table with an uncut curve (cutoff None)")
    out = {}
    for k, part in table.groupby("cutoff"):
        part = part.sort_values("n_samples")
        t, err = part.n_samples.to_numpy(), part.exact.to_numpy()
        ref = np.searchsorted(t, t[-1] / 10, side="right") - 1
        ref = min(max(ref, 0), t.size - 2)
        out[f"gain_{k}"] = float(err[ref] / err[-1])
        out[f"last_{k}"] = float(err[-1])
        out[f"floor_{k}"] = float(part.tail_mass.iloc[0])
        if k == 0:
            lo, hi = (int(np.argmin(np.abs(np.log10(t) - x))) for x in (3, 5))
            out["slope"] = float(np.log(err[hi] / err[lo]) / np.log(t[hi] / t[lo]))
            out["largest"] = int(t[-1])
    return out


# ------------------------------------------------------------------------ how long a word lasts


def loss_time_given_loss(count, sample_size):
    """Exact expected generations until a word of count k out of M is lost, given that it is.

    The two-category chain of chapter 2 (:func:`collapse_utils.discrete.transition_matrix`),
    conditioned on ending at 0: its transitions become P(i, j) h(j)/h(i) with h(i) = 1 − i/M,
    the chance of being lost from count i; the expected time solves (I − Q_h) t = 1 on the
    counts 1..M−1. Used in chapter 8.
    """
    m = check_int("sample_size", sample_size, 2)
    counts, scalar = check_int_array("count", count, 1, m - 1)
    p = discrete.transition_matrix(m)[1:m, 1:m]
    h = 1 - np.arange(1, m) / m
    q = p * h[None, :] / h[:, None]
    times = np.linalg.solve(np.eye(m - 1) - q, np.ones(m - 1))
    out = times[counts - 1]
    return float(out) if scalar else out


def diffusion_loss_time(q, sample_size):
    """The diffusion approximation −2M q log q/(1 − q) of :func:`loss_time_given_loss`.

    It is the Wright–Fisher model's mean time to loss, given loss, from frequency q = k/M; for
    small q it is about 2k log(M/k): nearly linear in the count k. Used in chapter 8.
    """
    q, scalar = check_probability("q", q)
    m = check_int("sample_size", sample_size, 1)
    if np.any((q <= 0) | (q >= 1)):
        raise ValueError(f"q must be in (0, 1) (got {q.min() if q.min() <= 0 else q.max()!r})")
    out = -2.0 * m * q * np.log(q) / (1 - q)
    return float(out) if scalar else out


def simulate_loss_times(count, sample_size, *, n_chains=1, seed=None) -> np.ndarray:
    """Run ``n_chains`` chains from ``count`` of M until each word is lost or fixed.

    Each generation draws the next count from Binomial(M, count/M). Returns the generation of
    loss of every chain that lost the word (the others took it over; there are about
    count/M × n_chains of them). Used in chapter 8.
    """
    m = check_int("sample_size", sample_size, 2)
    k = check_int("count", count, 1, m - 1)
    chains = check_int("n_chains", n_chains, 1)
    rng = as_rng(seed)
    x = np.full(chains, k)
    lost_at = np.full(chains, -1)
    alive = np.arange(chains)
    g = 0
    while alive.size:
        g += 1
        x[alive] = rng.binomial(m, x[alive] / m)
        lost_at[alive[x[alive] == 0]] = g
        alive = alive[(x[alive] > 0) & (x[alive] < m)]
    return lost_at[lost_at > 0]


def forgetting_table(counts, sample_size, *, n_chains=2000, seed=None) -> pd.DataFrame:
    """For each count k: exact, diffusion and simulated mean generations until lost, given lost.

    Columns: count, exact, diffusion, simulated, simulated_se, lost_share. Used in chapter 8.
    """
    m = check_int("sample_size", sample_size, 2)
    ks, _ = check_int_array("counts", counts, 1, m - 1)
    ks = np.atleast_1d(ks)
    rng = as_rng(seed)
    rows = []
    for k in ks:
        times = simulate_loss_times(int(k), m, n_chains=n_chains, seed=rng)
        rows.append((int(k), times.mean(), times.std(ddof=1) / np.sqrt(times.size),
                     times.size / n_chains))
    frame = pd.DataFrame(rows, columns=["count", "simulated", "simulated_se", "lost_share"])
    frame.insert(1, "exact", loss_time_given_loss(ks, m))
    frame.insert(2, "diffusion", diffusion_loss_time(ks / m, m))
    return frame


def forgetting_findings(table: pd.DataFrame) -> dict[str, float]:
    """The numbers chapter 8 states about a :func:`forgetting_table` whose counts double.

    ``first`` and ``last``: the exact times for the smallest and largest count;
    ``double_min`` and ``double_max``: the range of t(2k)/t(k) over the table's successive
    counts; ``worst_z``: the largest |simulated − exact| in standard errors. Used in chapter 8
    and its claims test.
    """
    columns = {"count", "exact", "simulated", "simulated_se"}
    if not isinstance(table, pd.DataFrame) or not columns <= set(table.columns) or len(table) < 2:
        raise ValueError("table must be a tails.forgetting_table of at least two counts")
    table = table.sort_values("count")
    counts, exact = table["count"].to_numpy(), table["exact"].to_numpy()
    if not np.all(counts[1:] == 2 * counts[:-1]):
        raise ValueError(f"table's counts must double from one row to the next (got {counts})")
    double = exact[1:] / exact[:-1]
    z = np.abs(table.simulated - table.exact) / table.simulated_se
    return {"first_count": int(counts[0]), "last_count": int(counts[-1]),
            "first": float(exact[0]), "last": float(exact[-1]),
            "double_min": float(double.min()), "double_max": float(double.max()),
            "worst_z": float(z.max())}
