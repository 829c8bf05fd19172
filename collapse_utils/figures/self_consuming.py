"""Charts of the self-consuming Gaussian loops of chapter 8 (:mod:`collapse_utils.self_consuming`).

They take the :class:`~collapse_utils.chains.Chains` that
:func:`collapse_utils.self_consuming.mad_loop` and
:func:`collapse_utils.self_consuming.retrain_loop` return; none simulates.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from .. import self_consuming
from .._checks import show
from ..chains import Chains
from . import style

__all__ = ["quality_diversity_chart", "retrain_chart"]

_X = alt.X("generation:Q", title="generation")


def _check_runs(runs, key: str, maker: str) -> dict:
    ok = isinstance(runs, dict) and 1 <= len(runs) <= len(style.SERIES) and all(
        isinstance(c, Chains) and key in c.info for c in runs.values())
    if not ok:
        raise ValueError(f"runs must map up to {len(style.SERIES)} labels to Chains from "
                         f"self_consuming.{maker} (got {show(runs)})")
    return runs


def _lines_and_points(data, y_title, colour, panel_title, log=False):
    base = alt.Chart(style.rounded(data))
    scale = alt.Scale(type="log") if log else alt.Scale(zero=False)
    lines = base.mark_line(strokeDash=[6, 3]).encode(
        _X, alt.Y("exact:Q", title=y_title, scale=scale), colour)
    points = base.mark_point(filled=True, size=22, opacity=0.8).encode(
        _X, alt.Y("simulated:Q"), colour,
        tooltip=[alt.Tooltip("loop:N", title="loop"), "generation",
                 alt.Tooltip("simulated:Q", format=".3f"), alt.Tooltip("exact:Q", format=".3f")])
    return (lines + points).properties(width=style.WIDTH // 2, height=240,
                                       title=style.title(panel_title))


def quality_diversity_chart(runs) -> alt.HConcatChart:
    """Quality (mean log-density of generated samples under the truth) and diversity (their
    variance) per generation, for each loop of ``runs`` (label to :func:`mad_loop` Chains): the
    exact expectations (dashed) and the simulated means (points). Used in chapter 8.
    """
    runs = _check_runs(runs, "scale", "mad_loop")
    frames = []
    for label, chains in runs.items():
        info = chains.info
        var, drift = self_consuming.mad_moments(chains.n_generations, info["n_real"],
                                                info["n_synthetic"], info["scale"])
        exact = self_consuming.quality_diversity(var, drift, info["scale"])
        bias = np.full(chains.n_generations + 1, info["scale"] ** 2)
        bias[0] = 1.0
        diversity = bias[:, None] * chains.stds**2
        quality = -0.5 * np.log(2 * np.pi) - 0.5 * (chains.means**2 + diversity)
        for name, values in (("quality", quality), ("diversity", diversity)):
            frames.append(pd.DataFrame({"loop": label, "quantity": name,
                                        "generation": exact["generation"],
                                        "exact": exact[name], "simulated": values.mean(axis=1)}))
    data = pd.concat(frames, ignore_index=True)
    colour = alt.Color("loop:N", title=None, scale=style.scale(list(runs)),
                       legend=alt.Legend(columns=2))
    panels = [_lines_and_points(data[data.quantity == q], title, colour, heading)
              for q, title, heading in (
                  ("quality", "E log p_0(x) of generated x", "Quality (higher: more typical)"),
                  ("diversity", "variance of generated x", "Diversity"))]
    n_chains = next(iter(runs.values())).n_chains
    chart = alt.hconcat(*panels).properties(title=style.title(
        "Self-consuming loops of a Gaussian", f"dashed: exact expectation; points: mean of "
        f"{n_chains} chains; the truth N(0, 1) is generation 0", width=style.WIDTH))
    return style.style(chart, description=(
        "Two panels against generation: without fresh data, unbiased sampling loses quality "
        "while biased sampling gains quality and loses nearly all diversity; with fresh real "
        "data both quantities settle at a level."))


def retrain_chart(runs) -> alt.HConcatChart:
    """The mean's offset from the real set's own fit, per generation, for each ratio λ of
    synthetic to real data (``runs`` maps λ to :func:`retrain_loop` Chains): left, the mean
    offset, exact (dashed, (λ/(1 + λ))ⁿ times the start) beside the simulation (points); right,
    the root-mean-square offset, the neighbourhood the loop settles in. Used in chapter 8.
    """
    runs = _check_runs(runs, "real_means", "retrain_loop")
    frames = []
    for lam, chains in runs.items():
        info = chains.info
        off = chains.means - info["real_means"]
        e, e2, _ = self_consuming.retrain_moments(
            chains.n_generations, info["n_real"], info["ratio"], off[0],
            float(chains.stds[0, 0] ** 2), info["real_stds"] ** 2)
        label = f"λ = {lam:g}"
        gens = np.arange(chains.n_generations + 1)
        frames += [pd.DataFrame({"loop": label, "quantity": "mean", "generation": gens,
                                 "exact": e.mean(axis=1), "simulated": off.mean(axis=1)}),
                   pd.DataFrame({"loop": label, "quantity": "rms", "generation": gens,
                                 "exact": np.sqrt(e2.mean(axis=1)),
                                 "simulated": np.sqrt((off**2).mean(axis=1))})]
    data = pd.concat(frames, ignore_index=True)
    labels = [f"λ = {lam:g}" for lam in runs]
    colour = alt.Color("loop:N", title="synthetic : real", scale=style.scale(labels),
                       sort=labels)
    left = _lines_and_points(data[data.quantity == "mean"], "mean offset μ_n − μ_real", colour,
                             "Mean offset")
    right = _lines_and_points(data[data.quantity == "rms"], "root-mean-square offset", colour,
                              "Root-mean-square offset (log scale)", log=True)
    first = next(iter(runs.values()))
    chart = alt.hconcat(left, right).properties(title=style.title(
        "Retraining on a fixed real set plus the model's own samples",
        f"{first.info['n_real']} real samples; the first model's mean is "
        f"{float(first.means[0, 0]):g}; dashed: exact given each real set; points: mean of "
        f"{first.n_chains} chains", width=style.WIDTH))
    return style.style(chart, description=(
        "Two panels against generation: the offset of the retrained mean from the real data's "
        "fit decays geometrically, more slowly the more synthetic data each round holds, and "
        "settles in a small neighbourhood that is wider for more synthetic data."))
