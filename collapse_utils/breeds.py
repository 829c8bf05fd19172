"""Dog breeds: a long-tailed categorical distribution that collapses.

The picture from Wenger's News & Views on the paper: a model trained on
pictures of dogs sees rare breeds rarely, loses them first, and ends up
drawing one breed. Here the "model" is the empirical distribution of a finite
sample, refitted each generation (`collapse_utils.discrete.resample`).
Used in chapter 1, What is model collapse (and chapter 7).
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from . import charts, discrete

#: Twenty breeds, most common first.
BREEDS = (
    "Golden Retriever", "Labrador Retriever", "French Bulldog", "German Shepherd",
    "Poodle", "Beagle", "Dachshund", "Rottweiler", "Boxer", "Shih Tzu",
    "Border Collie", "Corgi", "Dalmatian", "Whippet", "Saluki",
    "Basenji", "Komondor", "Azawakh", "Otterhound", "Norwegian Lundehund",
)


def breed_distribution(n_breeds: int = 20, exponent: float = 1.2) -> np.ndarray:
    """Zipf probabilities p_k ∝ k^(-exponent) for the first ``n_breeds`` breeds."""
    if not isinstance(n_breeds, int | np.integer) or not 2 <= n_breeds <= len(BREEDS):
        raise ValueError(f"n_breeds must be an integer in 2..{len(BREEDS)} (got {n_breeds!r})")
    if not exponent >= 0:
        raise ValueError(f"exponent must be >= 0 (got {exponent!r})")
    weights = np.arange(1, n_breeds + 1, dtype=float) ** -float(exponent)
    return weights / weights.sum()


def tidy_shares(dists: np.ndarray, chain: int = 0) -> pd.DataFrame:
    """One chain of ``resample``'s output as rows (generation, breed, share), zeros dropped."""
    shares = dists[:, chain, :]
    gen, k = np.nonzero(shares)
    return pd.DataFrame(
        {"generation": gen, "breed": np.asarray(BREEDS)[k], "rank": k + 1, "share": shares[gen, k]}
    )


def collapse_summary(dists: np.ndarray, tail: int = 10) -> pd.DataFrame:
    """Per generation and chain: breeds left, share of the commonest, mass of the ``tail`` rarest.

    The tail is the ``tail`` breeds that were rarest at generation 0.
    """
    n_cat = dists.shape[-1]
    if not 1 <= tail <= n_cat:
        raise ValueError(f"tail must be in 1..{n_cat} (got {tail})")
    rarest = np.argsort(dists[0, 0])[:tail]
    gens, chains = np.meshgrid(np.arange(dists.shape[0]), np.arange(dists.shape[1]), indexing="ij")
    return pd.DataFrame({
        "generation": gens.ravel(),
        "chain": chains.ravel(),
        "breeds_left": discrete.surviving_categories(dists).ravel(),
        "top_share": dists.max(axis=-1).ravel(),
        "tail_mass": dists[..., rarest].sum(axis=-1).ravel(),
    })


def shares_chart(dists: np.ndarray, sample_size: int) -> alt.Chart:
    """Bar chart of one chain's breed shares, with a slider for the generation."""
    data = tidy_shares(dists)
    start = data[data.generation == 0][["breed", "share"]].rename(columns={"share": "start"})
    last = int(data.generation.max())
    gen = alt.param(name="generation", value=0,
                    bind=alt.binding_range(min=0, max=last, step=1, name="generation "))
    x = alt.X("breed:N", sort=list(BREEDS), title=None, axis=alt.Axis(labelAngle=-45))
    y = alt.Y("share:Q", title="share of the training data", scale=alt.Scale(domain=[0, 1]))
    bars = (
        alt.Chart(data).mark_bar(color="#4c78a8")
        .encode(x=x, y=y, tooltip=["breed", alt.Tooltip("share:Q", format=".3f")])
        .add_params(gen).transform_filter(alt.datum.generation == gen)
    )
    ticks = (
        alt.Chart(start).mark_tick(color="#e45756", thickness=2, size=18)
        .encode(x=x, y="start:Q", tooltip=["breed", alt.Tooltip("start:Q", format=".3f")])
    )
    title = f"Breed shares, one run, M = {sample_size} (red ticks: generation 0)"
    return charts.style((bars + ticks).properties(width=charts.WIDTH, height=charts.HEIGHT,
                                                 title=title))


def summary_chart(summary: pd.DataFrame) -> alt.VConcatChart:
    """Median and 10–90% band over chains of breeds left and the commonest breed's share.

    ``summary`` is ``collapse_summary`` output with an added ``M`` column; a
    dropdown picks M.
    """
    quantiles = (
        summary.groupby(["M", "generation"])
        .agg(**{f"{col}_{q}": (col, lambda s, q=q: s.quantile(q / 100))
                for col in ("breeds_left", "top_share", "tail_mass") for q in (10, 50, 90)})
        .reset_index()
    )
    sizes = sorted(quantiles.M.unique())
    menu = alt.binding_select(options=[int(m) for m in sizes], name="sample size M ")
    pick = alt.param(name="M", value=int(sizes[len(sizes) // 2]), bind=menu)
    base = alt.Chart(quantiles).add_params(pick).transform_filter(alt.datum.M == pick)
    x = alt.X("generation:Q", title="generation")

    def panel(col: str, title: str, color: str) -> alt.LayerChart:
        band = base.mark_area(opacity=0.25, color=color).encode(
            x=x, y=alt.Y(f"{col}_10:Q", title=title), y2=f"{col}_90:Q")
        line = base.mark_line(color=color).encode(x=x, y=f"{col}_50:Q")
        return (band + line).properties(width=charts.WIDTH, height=150)

    return charts.style(alt.vconcat(
        panel("tail_mass", "mass of the 10 rarest", "#e45756"),
        panel("breeds_left", "breeds left", "#4c78a8"),
        panel("top_share", "share of the commonest", "#54a24b"),
    ))


def regimes_survival_chart(summary: pd.DataFrame) -> alt.HConcatChart:
    """Median breeds left and tail mass per data regime (``collapse_summary`` + a regime column).

    Used in chapter 7, What prevents collapse.
    """
    medians = summary.groupby(["regime", "generation"], as_index=False)[
        ["breeds_left", "tail_mass"]].median()
    color = alt.Color("regime:N", sort=list(summary.regime.unique()), title="regime")
    base = alt.Chart(medians).encode(x=alt.X("generation:Q"), color=color)
    left = base.mark_line().encode(y=alt.Y("breeds_left:Q", title="breeds left (median run)"))
    tail = base.mark_line().encode(y=alt.Y("tail_mass:Q", title="mass of the 10 rarest"))
    size = {"width": charts.WIDTH // 2, "height": 220}
    return charts.style(alt.hconcat(left.properties(**size), tail.properties(**size)))
