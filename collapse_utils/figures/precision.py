"""Charts of finite precision, chapter 5 (:mod:`collapse_utils.precision`).

They take the runs by format that :func:`collapse_utils.precision.gaussian_chains` and
``collapse_utils.gmm.recursive_gmm(precision=...)`` return; they never simulate.
"""

from __future__ import annotations

from collections.abc import Mapping

import altair as alt
import numpy as np
import pandas as pd

from .. import gmm, precision
from .._checks import show
from ..chains import Chains
from . import style

__all__ = ["gaussian_gap_chart", "gmm_gap_chart"]


def _check_runs(runs, reference: str) -> dict[str, Chains]:
    if not isinstance(runs, Mapping) or reference not in runs or len(runs) < 2 \
            or not all(isinstance(c, Chains) for c in runs.values()):
        raise ValueError(f"runs must map formats to Chains, with {reference!r} and at least one "
                         f"other format (got {show(runs)})")
    return dict(runs)


def _log_generations(n: int, points: int = 60) -> np.ndarray:
    """About ``points`` generations from 1 to n, evenly spaced on a log scale."""
    return np.unique(np.geomspace(1, n, points).round().astype(int))


def gaussian_gap_chart(runs: Mapping[str, Chains], reference: str = "float64") -> alt.HConcatChart:
    """The gap in log sigma between each format's Gaussian chain and the ``reference`` chain run
    with the same draws: root mean square over chains (solid), 10–90% of the chains' absolute
    gaps (band) and the closed form (dashed), one panel per format, log-log axes.

    ``runs`` is what :func:`collapse_utils.precision.gaussian_chains` returns. Used in chapter 5.
    """
    runs = _check_runs(runs, reference)
    ref = runs[reference]
    gens = _log_generations(ref.n_generations)
    x = alt.X("generation:Q", title="generation n", scale=alt.Scale(type="log"))
    panels = []
    for fmt, chains in runs.items():
        if fmt == reference:
            continue
        gap = np.abs(precision.log_std_gap(chains, ref))[gens]
        closed = np.sqrt(precision.expected_squared_log_gap(
            ref.n_generations, ref.info["sample_size"], fmt, ref.info["std"]))[gens]
        lo, hi = np.quantile(gap, style.BAND, axis=1)
        data = pd.DataFrame({"generation": gens, "closed": closed,
                             "mean": np.sqrt((gap**2).mean(axis=1)), "lo": lo, "hi": hi})
        band = style.theory_band(data, x, "|log σₙ − log σₙ(float64)|",
                                 labels=("closed form", "simulation: root mean square"),
                                 scale_y=alt.Scale(type="log"))
        bits = precision.SIGNIFICAND_BITS[fmt]
        panels.append(band.properties(width=165, height=200,
                                      title=f"{fmt} ({bits} significant bits)"))
    chart = alt.hconcat(*panels).resolve_scale(y="independent").properties(
        title=f"Same draws, parameters kept in lower precision: {ref.n_chains} chains, "
              f"M = {ref.info['sample_size']}")
    return style.style(chart, description=(
        "For each lower-precision format, the gap between the fitted standard deviation and the "
        "float64 chain grows with the generations like the square root of n, on the dashed "
        "closed form."))


def gmm_gap_chart(runs: Mapping[str, Chains], reference: str = "float64") -> alt.LayerChart:
    """Relative L2 distance between each format's GMM chain and the ``reference`` chain of the
    same seed, per generation (solid), beside the gap that adding errors alone would give, the
    first generation's gap times sqrt(n) (dotted), log-log axes.

    ``runs`` maps formats to ``gmm.recursive_gmm(..., precision=fmt)`` chains of one seed.
    Used in chapter 5.
    """
    runs = _check_runs(runs, reference)
    ref = runs[reference]
    gens = _log_generations(ref.n_generations, 80)
    frames = []
    for fmt, chains in runs.items():
        if fmt == reference:
            continue
        gap = gmm.relative_l2_gap(chains, ref)[:, 0]
        frames.append(pd.DataFrame({"generation": gens, "format": fmt, "gap": gap[gens],
                                    "added": gap[1] * np.sqrt(gens)}))
    data = style.rounded(pd.concat(frames, ignore_index=True))
    names = list(data["format"].unique())
    colour = alt.Color("format:N", title="data kept in", scale=style.scale(names))
    base = alt.Chart(data).encode(
        alt.X("generation:Q", title="generation n", scale=alt.Scale(type="log")), colour)
    measured = base.mark_line().encode(
        alt.Y("gap:Q", title="‖pₙ − pₙ(float64)‖₂ / ‖pₙ(float64)‖₂", scale=alt.Scale(type="log")),
        tooltip=["format", "generation", alt.Tooltip("gap:Q", format=".2e")])
    added = base.mark_line(strokeDash=[1, 3], strokeWidth=2).encode(alt.Y("added:Q"))
    chart = alt.layer(measured, added).properties(
        width=style.WIDTH, height=260,
        title="GMM chains of one seed, data kept in lower precision (dotted: gap at n = 1 × √n)")
    return style.style(chart, description=(
        "The distance between the GMM chain whose data are kept in lower precision and the "
        "float64 chain grows far faster than the square root of the generations, until the two "
        "chains hold different mixtures."))
