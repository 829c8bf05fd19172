"""Dog breeds: a long-tailed categorical distribution that collapses.

The picture from Wenger's News & Views on the paper: a model trained on
pictures of dogs sees rare breeds rarely, loses them first, and ends up
drawing one breed. Here the "model" is the empirical distribution of a finite
sample, refitted each generation (:func:`collapse_utils.discrete.resample`, or a
data regime of :mod:`collapse_utils.remedies`). Sampled as it is, the model ends
with a breed drawn at random; sampled at a temperature below 1 (mode-seeking), it
ends with the commonest breed, sooner (:func:`compare_samplers`). Used in chapter
1, What is model collapse (and chapter 7). The charts are in
:mod:`collapse_utils.figures.breeds`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from . import discrete
from ._checks import check_int, show
from .chains import Chains

#: Twenty breeds, most common first.
BREEDS = (
    "Golden Retriever", "Labrador Retriever", "French Bulldog", "German Shepherd",
    "Poodle", "Beagle", "Dachshund", "Rottweiler", "Boxer", "Shih Tzu",
    "Border Collie", "Corgi", "Dalmatian", "Whippet", "Saluki",
    "Basenji", "Komondor", "Azawakh", "Otterhound", "Norwegian Lundehund",
)


def breed_distribution(n_breeds: int = 20, exponent: float = 1.2) -> np.ndarray:
    """Zipf probabilities p_k ∝ k^(-exponent) for the first ``n_breeds`` breeds.

    Used in chapters 1 and 7.
    """
    if not isinstance(n_breeds, int | np.integer) or not 2 <= n_breeds <= len(BREEDS):
        raise ValueError(f"n_breeds must be an integer in 2..{len(BREEDS)} (got {n_breeds!r})")
    if not exponent >= 0:
        raise ValueError(f"exponent must be >= 0 (got {exponent!r})")
    weights = np.arange(1, n_breeds + 1, dtype=float) ** -float(exponent)
    return weights / weights.sum()


def _probs(chains) -> np.ndarray:
    if not isinstance(chains, Chains) or "probs" not in chains.params \
            or chains.probs.shape[-1] > len(BREEDS):
        raise ValueError(f"chains must be Chains of at most {len(BREEDS)} breeds' probs, from "
                         f"discrete.resample or remedies.categorical_regime (got {show(chains)})")
    return chains.probs


def tidy_shares(chains: Chains, chain: int = 0) -> pd.DataFrame:
    """One chain of breed shares as rows (generation, breed, rank, share), zeros dropped.

    Used in chapter 1, What is model collapse.
    """
    probs = _probs(chains)
    chain = check_int("chain", chain, 0, chains.n_chains - 1)
    shares = probs[:, chain, :]
    gen, k = np.nonzero(shares)
    return pd.DataFrame(
        {"generation": gen, "breed": np.asarray(BREEDS)[k], "rank": k + 1, "share": shares[gen, k]}
    )


def collapse_summary(chains: Chains, tail: int = 10) -> pd.DataFrame:
    """Per generation and chain: breeds left, share of the commonest, mass of the ``tail`` rarest.

    Columns ``generation``, ``chain``, ``breeds_left``, ``top_share`` (the commonest breed of that
    generation), ``first_share`` (the breed that was commonest at generation 0, the golden
    retriever) and ``tail_mass`` (the ``tail`` breeds that were rarest at generation 0). Used in
    chapters 1 and 7.
    """
    dists = _probs(chains)
    n_cat = dists.shape[-1]
    if not 1 <= tail <= n_cat:
        raise ValueError(f"tail must be in 1..{n_cat} (got {tail})")
    rarest = np.argsort(dists[0, 0])[:tail]
    gen, chain = np.meshgrid(np.arange(dists.shape[0]), np.arange(dists.shape[1]), indexing="ij")
    return pd.DataFrame({
        "generation": gen.ravel(),
        "chain": chain.ravel(),
        "breeds_left": discrete.surviving_categories(dists).ravel(),
        "top_share": dists.max(axis=-1).ravel(),
        "first_share": dists[..., np.argmax(dists[0, 0])].ravel(),
        "tail_mass": dists[..., rarest].sum(axis=-1).ravel(),
    })


def compare_samplers(runs: Mapping[str, Chains], generation: int, tail: int = 10) -> pd.DataFrame:
    """How each way of sampling the model ends: one row per entry of ``runs``.

    ``runs`` maps a name to chains of breed shares (e.g. :func:`~collapse_utils.discrete.resample`
    at a temperature or with top-k), all started from the same distribution. The row holds, over
    the chains, at ``generation``: the mean ``first_share`` (share of the breed commonest at
    generation 0), ``tail_mass`` (mass of the ``tail`` breeds rarest at generation 0) and
    ``breeds_left``, each with its standard error (suffix ``_se``); and at the last generation
    ``first_wins``, the fraction of chains in which that breed holds all the mass (with
    ``first_wins_se``), and ``absorbed``, the fraction in which any one breed does.

    Used in chapter 1, What is model collapse.
    """
    if not isinstance(runs, Mapping) or not runs:
        raise ValueError(f"runs must be a non-empty dict of name -> Chains (got {show(runs)})")
    rows = []
    for name, chains in runs.items():
        dists = _probs(chains)
        n = check_int("generation", generation, 0, chains.n_generations)
        summary = collapse_summary(chains, tail)
        at = summary[summary.generation == n]
        last = dists[-1]
        first = np.argmax(dists[0, 0])
        row = {"sampler": name, "n_chains": chains.n_chains, "generation": n}
        for col in ("first_share", "tail_mass", "breeds_left"):
            values = at[col].to_numpy(float)
            row[col] = values.mean()
            row[f"{col}_se"] = values.std(ddof=1) / np.sqrt(values.size) if values.size > 1 \
                else np.nan
        wins = last[:, first] == 1.0
        row["first_wins"] = wins.mean()
        row["first_wins_se"] = np.sqrt(wins.mean() * (1 - wins.mean()) / wins.size)
        row["absorbed"] = (last.max(axis=-1) == 1.0).mean()
        rows.append(row)
    return pd.DataFrame(rows).set_index("sampler")
