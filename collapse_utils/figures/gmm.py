"""Charts of the recursive Gaussian mixture of chapter 5 (:mod:`collapse_utils.gmm`).

Both take the :class:`~collapse_utils.chains.Chains` that :func:`collapse_utils.gmm.recursive_gmm`
returns; neither simulates.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from .. import gmm
from .._checks import check_int, show
from ..chains import Chains
from . import style

__all__ = ["chain_chart", "snapshots_chart"]


def _check(chains) -> Chains:
    if not isinstance(chains, Chains) or "samples" not in chains.info:
        raise ValueError(f"chains must be the Chains that gmm.recursive_gmm returns "
                         f"(got {show(chains)})")
    return chains


def chain_chart(chains: Chains, every: int = 2) -> alt.VConcatChart:
    """L2 distance to generation 0 (top) and the components' spreads (bottom), log scales.

    The spreads are each component's root-mean-square standard deviation
    (:func:`collapse_utils.gmm.component_stds`), sorted per generation (scikit-learn may swap the
    components' order between fits). ``every`` thins the generations plotted; the first chain is
    drawn. Used in chapter 5, Collapse in models trained from scratch.
    """
    chains = _check(chains)
    every = check_int("every", every, 1)
    gens = np.arange(0, chains.n_generations + 1, every)
    l2 = gmm.l2_to_start(chains)[:, 0]
    spreads = np.sort(gmm.component_stds(chains)[:, 0], axis=-1)[gens]
    # From generation 1: the distance of generation 0 to itself is 0, off a log scale.
    shown = np.unique(np.maximum(gens, 1)) if chains.n_generations else np.array([], dtype=int)
    top_data = style.rounded(pd.DataFrame({"generation": shown, "l2": l2[shown]}))
    k = spreads.shape[1]
    names = ["smaller component", "larger component"] if k == 2 else [
        f"component {i + 1} (by size)" for i in range(k)]
    bottom_data = style.rounded(pd.concat(
        [pd.DataFrame({"generation": gens, "component": names[i], "std": spreads[:, i]})
         for i in range(k)], ignore_index=True))
    x = alt.X("generation:Q", title="generation n")
    top = alt.Chart(top_data).mark_line(color=style.PALETTE["highlight"]).encode(
        x, alt.Y("l2:Q", title="L2 distance to generation 0", scale=alt.Scale(type="log")),
        tooltip=["generation", alt.Tooltip("l2:Q", title="L2 distance", format=".4f")],
    ).properties(width=style.WIDTH, height=180,
                 title=style.title("Distance from the first fitted mixture", "closed-form L2"))
    colours = [style.PALETTE["simulation"], style.PALETTE["fit"]] if k == 2 else (
        style.SERIES * k)[:k]
    bottom = alt.Chart(bottom_data).mark_line().encode(
        x, alt.Y("std:Q", title="component std (log scale)", scale=alt.Scale(type="log")),
        alt.Color("component:N", sort=names, title=None,
                  scale=alt.Scale(domain=names, range=colours),
                  legend=alt.Legend(orient="top")),
        tooltip=["generation", "component",
                 alt.Tooltip("std:Q", title="component std", format=".4f")],
    ).properties(width=style.WIDTH, height=180, title="Spread of each component")
    return style.style(alt.vconcat(top, bottom), description=(
        "Two panels over the generations on log scales: the L2 distance of the fitted mixture "
        "to the first one, and each component's spread, the components sorted by size."))


def snapshots_chart(chains: Chains, generations=None, n_points: int = 400) -> alt.FacetChart:
    """Scatter plots of the training data of a few generations, coloured by component.

    ``generations`` are among those kept (``chains.info["samples"]``; default: all kept). Of each,
    ``n_points`` evenly spaced points are drawn (no randomness: the same chart every time), on
    common axes. Used in chapter 5, Collapse in models trained from scratch.
    """
    chains = _check(chains)
    samples, labels = chains.info["samples"], chains.info["labels"]
    kept = sorted(samples)
    generations = kept if generations is None else list(generations)
    missing = [g for g in generations if g not in samples]
    if missing or not generations:
        raise ValueError(f"generations must be among the kept ones {kept} (got {generations})")
    n_points = check_int("n_points", n_points, 1)
    frames = []
    for g in generations:
        x, lab = samples[g], labels[g]
        idx = np.unique(np.linspace(0, len(x) - 1, min(n_points, len(x))).round().astype(int))
        frames.append(pd.DataFrame({
            "generation": f"generation {g}", "x": x[idx, 0], "y": x[idx, 1],
            "component": np.where(lab[idx] < 0, "real data",
                                  "component " + (lab[idx] + 1).astype(str))}))
    data = style.rounded(pd.concat(frames, ignore_index=True))
    order = [f"generation {g}" for g in generations]
    pad = 0.5
    xs = alt.Scale(domain=[float(data.x.min()) - pad, float(data.x.max()) + pad])
    ys = alt.Scale(domain=[float(data.y.min()) - pad, float(data.y.max()) + pad])
    k = chains.means.shape[-2]
    names = ["real data"] + [f"component {i + 1}" for i in range(k)]
    colours = [style.PALETTE["truth"], style.PALETTE["simulation"], style.PALETTE["highlight"],
               style.PALETTE["other"], style.PALETTE["fourth"], style.PALETTE["fit"]]
    chart = alt.Chart(data).mark_circle(size=10, opacity=0.6).encode(
        alt.X("x:Q", scale=xs, title=None), alt.Y("y:Q", scale=ys, title=None),
        alt.Color("component:N", title=None, scale=alt.Scale(
            domain=names, range=(colours * k)[:k + 1]), legend=alt.Legend(orient="top")),
    ).properties(width=170, height=170).facet(
        facet=alt.Facet("generation:N", sort=order, title=None), columns=3,
    ).properties(usermeta={"keepAspect": True})
    return style.style(chart, description=(
        f"Scatter plots of the training data of generations {', '.join(map(str, generations))} "
        "on common axes, coloured by the mixture component that drew each point."))
