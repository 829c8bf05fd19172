"""Charts of the dog breeds of chapters 1 and 7 (:mod:`collapse_utils.breeds`).

They take the :class:`~collapse_utils.chains.Chains` of breed shares, or the tables
:func:`collapse_utils.breeds.collapse_summary` makes from them; none simulates.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from .. import breeds
from .._checks import show
from ..chains import Chains
from . import style
from .remedies import REGIME_COLOURS

__all__ = ["regimes_survival_chart", "samplers_chart", "shares_chart", "summary_chart"]

_GENERATION = alt.X("generation:Q", title="generation")
_SUMMARY = {"generation", "chain", "breeds_left", "top_share", "tail_mass"}


def _check_summary(summary, key: str) -> pd.DataFrame:
    if not isinstance(summary, pd.DataFrame) or not _SUMMARY | {key} <= set(summary.columns) \
            or summary.empty:
        raise ValueError(f"summary must be breeds.collapse_summary's table with a {key!r} column "
                         f"added (got {show(summary)})")
    return summary


def shares_chart(chains: Chains, chain: int = 0) -> alt.LayerChart:
    """Bar chart of one chain's breed shares, with a slider for the generation; red ticks mark
    generation 0. Used in chapter 1, What is model collapse.
    """
    data = breeds.tidy_shares(chains, chain)
    start = data[data.generation == 0][["breed", "share"]].rename(columns={"share": "start"})
    last = int(data.generation.max())
    gen = alt.param(name="generation", value=0,
                    bind=alt.binding_range(min=0, max=last, step=1, name="generation "))
    x = alt.X("breed:N", sort=list(breeds.BREEDS), title=None, axis=alt.Axis(labelAngle=-45))
    y = alt.Y("share:Q", title="share of the training data", scale=alt.Scale(domain=[0, 1]))
    bars = (
        alt.Chart(style.rounded(data)).mark_bar(color=style.PALETTE["simulation"])
        .encode(x=x, y=y, tooltip=["breed", alt.Tooltip("share:Q", title="share",
                                                         format=".3f")])
        .add_params(gen).transform_filter(alt.datum.generation == gen)
    )
    ticks = (
        alt.Chart(style.rounded(start)).mark_tick(color=style.PALETTE["highlight"], thickness=2,
                                                  size=18)
        .encode(x=x, y="start:Q", tooltip=["breed", alt.Tooltip(
            "start:Q", title="share at generation 0", format=".3f")])
    )
    sizes = np.asarray(chains.info.get("sample_sizes", []))
    m = f", M = {sizes[0]}" if sizes.size and np.all(sizes == sizes[0]) else ""
    return style.style((bars + ticks).properties(
        width=style.CONTAINER, height=style.HEIGHT,
        title=alt.Title(f"Breed shares, one run{m}", subtitle="red ticks: generation 0")),
        description=f"Bar chart of the share of each of the {len(breeds.BREEDS)} breeds in one "
                    "run's training data at the generation the slider picks, with red ticks at "
                    "the shares of generation 0.")


_PANELS = {"tail_mass": "mass of the 10 rarest", "breeds_left": "breeds left",
           "top_share": "share of the commonest"}


def summary_chart(summary: pd.DataFrame) -> alt.VConcatChart:
    """Median over runs, and the band of the runs, of the tail's mass, the breeds left and the
    commonest breed's share; a menu picks the sample size M.

    ``summary`` is :func:`collapse_utils.breeds.collapse_summary`'s table with an added ``M``
    column. Used in chapter 1, What is model collapse.
    """
    summary = _check_summary(summary, "M")
    frames = []
    for m, rows in summary.groupby("M"):
        part = {"M": int(m), "generation": np.sort(rows.generation.unique())}
        for col in _PANELS:
            values = rows.pivot(index="generation", columns="chain", values=col).to_numpy(float)
            part |= {f"{col}_median": np.median(values, axis=1),
                     **{f"{col}_{k}": v for k, v in style.spread(values).items() if k != "mean"}}
        frames.append(pd.DataFrame(part))
    data = pd.concat(frames, ignore_index=True)
    sizes = sorted(int(m) for m in data.M.unique())
    pick = alt.param(name="M", value=sizes[len(sizes) // 2], bind=alt.binding_select(
        options=sizes, name="sample size M "))

    def panel(col: str, title: str) -> alt.LayerChart:
        band = style.theory_band(data, _GENERATION, title, closed=None, mean=f"{col}_median",
                                 lo=f"{col}_lo", hi=f"{col}_hi",
                                 labels=("", "median of the runs"),
                                 scale_y=alt.Scale(zero=True))
        return band.transform_filter(alt.datum.M == pick).properties(width=style.WIDTH,
                                                                     height=150)

    return style.style(
        alt.vconcat(*(panel(c, t) for c, t in _PANELS.items())).add_params(pick),
        description="Three panels over the generations, for the sample size the menu picks: the "
                    "median over runs, and the band of the runs, of the 10 rarest breeds' mass, "
                    "of the number of breeds left and of the commonest breed's share.")


def regimes_survival_chart(summary: pd.DataFrame) -> alt.HConcatChart:
    """Median breeds left and tail mass per data regime (``collapse_summary`` + a ``regime``
    column), in the regimes' colours. Used in chapter 7, What prevents collapse.
    """
    summary = _check_summary(summary, "regime")
    medians = summary.groupby(["regime", "generation"], as_index=False)[
        ["breeds_left", "tail_mass"]].median()
    names = list(summary.regime.unique())
    color = alt.Color("regime:N", sort=names, title="regime", scale=alt.Scale(
        domain=names, range=[REGIME_COLOURS.get(r, style.PALETTE["muted"]) for r in names]),
        legend=alt.Legend(labelExpr=style.names_expr(style.REGIME_NAMES), columns=2))
    base = alt.Chart(style.rounded(medians)).encode(x=_GENERATION, color=color)
    left = base.mark_line().encode(y=alt.Y("breeds_left:Q", title="breeds left (median run)"))
    tail = base.mark_line().encode(y=alt.Y("tail_mass:Q", title="mass of the 10 rarest"))
    size = {"width": style.WIDTH // 2, "height": 220}
    return style.style(
        alt.hconcat(left.properties(**size), tail.properties(**size)),
        description="Two line charts over the generations, one line per data regime: the "
                    "median run's number of breeds left and the mass of the 10 rarest breeds.")


_SAMPLER_PANELS = {
    "first_share": "golden retriever's share (mean of runs)",
    "first_won": "runs it has won (fraction)",
    "breeds_left": "breeds left (median run)",
}


def samplers_chart(summary: pd.DataFrame) -> alt.VConcatChart:
    """Per way of sampling, over the generations (log scale): the mean share of the breed that
    was commonest at generation 0, the fraction of runs in which it holds every picture, and the
    median number of breeds left.

    ``summary`` is :func:`collapse_utils.breeds.collapse_summary`'s table with an added
    ``sampler`` column. Used in chapter 1, What is model collapse.
    """
    summary = _check_summary(summary, "sampler")
    if "first_share" not in summary.columns:
        raise ValueError("summary must be breeds.collapse_summary's table, with its first_share "
                         "column")
    summary = summary[summary.generation >= 1].reset_index(drop=True)
    summary["first_won"] = summary.first_share == 1.0
    data = summary.groupby(["sampler", "generation"], as_index=False, sort=False).agg(
        first_share=("first_share", "mean"), first_won=("first_won", "mean"),
        breeds_left=("breeds_left", "median"))
    names = list(summary.sampler.unique())
    color = alt.Color("sampler:N", sort=names, title="sampling", scale=style.scale(names),
                      legend=alt.Legend(orient="top", labelLimit=300, columns=1))
    base = alt.Chart(style.rounded(data)).mark_line().encode(color=color)
    last = list(_SAMPLER_PANELS)[-1]
    panels = [base.encode(
        x=alt.X("generation:Q", scale=alt.Scale(type="log"),
                title="generation (log scale)" if col == last else None),
        y=alt.Y(f"{col}:Q", title=title),
        tooltip=["sampler", "generation", alt.Tooltip(f"{col}:Q", title=title, format=".3f")],
    ).properties(width=style.WIDTH, height=130) for col, title in _SAMPLER_PANELS.items()]
    n_chains = summary.chain.nunique()
    return style.style(
        alt.vconcat(*panels).properties(title=style.title(
            "Sampled below temperature 1, the commonest breed wins, and fast",
            f"{n_chains} runs per way of sampling")),
        description=("Three panels over the generations on a log scale, one line per way of "
                     "sampling the model: the golden retriever's mean share, the fraction of "
                     "runs in which it holds every picture, and the median number of breeds "
                     "left."))
