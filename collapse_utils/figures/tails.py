"""Charts of the Zipf tails of chapter 8 (:mod:`collapse_utils.tails`).

They take the tables :func:`collapse_utils.tails.scaling_table` and
:func:`collapse_utils.tails.forgetting_table` return; none simulates.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from .._checks import check_int, show
from . import style

__all__ = ["forgetting_chart", "scaling_chart"]


def _check_frame(name, frame, columns, maker) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame) or not set(columns) <= set(frame.columns) \
            or frame.empty:
        raise ValueError(f"{name} must be the table tails.{maker} returns, with columns "
                         f"{sorted(columns)} (got {show(frame)})")
    return frame


def _cut_name(k: int) -> str:
    return "real data (no cut)" if k == 0 else f"tail cut at k = {k:,}"


def scaling_chart(table: pd.DataFrame) -> alt.LayerChart:
    """Log-log test error of the memorising model against the number of training draws, one
    colour per cut-off: the exact error (lines), the simulated mean (points) and the mass of the
    lost tail (dotted), the floor the error cannot pass. Used in chapter 8.
    """
    table = _check_frame("table", table, ["cutoff", "n_samples", "exact", "simulated",
                                          "tail_mass"], "scaling_table")
    data = table.assign(curve=table["cutoff"].map(_cut_name))
    cuts = sorted(data["cutoff"].unique(), key=lambda k: (k != 0, -k))
    colour = alt.Color("curve:N", title=None, scale=style.scale([_cut_name(k) for k in cuts]),
                       legend=alt.Legend(orient="bottom-left"), sort=[_cut_name(k) for k in cuts])
    x = alt.X("n_samples:Q", scale=alt.Scale(type="log"), title="training draws T")
    y = alt.Y("exact:Q", scale=alt.Scale(type="log"), title="test error (unseen mass)")
    base = alt.Chart(style.rounded(data))
    lines = base.mark_line().encode(x, y, colour)
    points = base.mark_point(filled=True, size=30).encode(
        x, alt.Y("simulated:Q"), colour,
        tooltip=[alt.Tooltip("curve:N", title="training data"),
                 alt.Tooltip("n_samples:Q", title="training draws"),
                 alt.Tooltip("exact:Q", format=".2e"), alt.Tooltip("simulated:Q", format=".2e")])
    floors = base.transform_filter(alt.datum.cutoff > 0).mark_line(
        strokeDash=[1, 3], strokeWidth=2).encode(x, alt.Y("tail_mass:Q"), colour)
    chart = alt.layer(lines, floors, points).properties(
        width=style.CONTAINER, height=300, title=style.title(
            "Cutting the tail turns the scaling law into a plateau",
            "lines: exact; points: simulated mean; dotted: mass of the cut tail"))
    return style.style(chart, description=(
        "Log-log lines of test error against training size: with real data the error falls as "
        "a power law, and each cut tail makes its curve bend and flatten onto the mass of the "
        "words it lost."))


def forgetting_chart(table: pd.DataFrame, sample_size: int) -> alt.LayerChart:
    """Generations until a word of count k (out of M = ``sample_size``) is lost, given that it
    is lost: exact (solid), the diffusion approximation (dashed) and the simulated mean with
    two standard errors (points and bars), on log-log axes. Used in chapter 8.
    """
    table = _check_frame("table", table, ["count", "exact", "diffusion", "simulated",
                                          "simulated_se"], "forgetting_table")
    m = check_int("sample_size", sample_size, 2)
    data = table.assign(lo=table.simulated - 2 * table.simulated_se,
                        hi=table.simulated + 2 * table.simulated_se)
    curves = data.melt("count", ["exact", "diffusion"], var_name="curve", value_name="time")
    curves["curve"] = curves["curve"].map({"exact": "exact (conditioned chain)",
                                           "diffusion": "diffusion: −2M q log q/(1 − q)"})
    names = ["exact (conditioned chain)", "diffusion: −2M q log q/(1 − q)"]
    x = alt.X("count:Q", scale=alt.Scale(type="log"), title=f"count k of the word (of M = {m})")
    y = alt.Y("time:Q", scale=alt.Scale(type="log"), title="generations until lost, given lost")
    lines = alt.Chart(style.rounded(curves)).mark_line().encode(
        x, y, alt.Color("curve:N", title=None, scale=alt.Scale(
            domain=names, range=[style.PALETTE["truth"], style.PALETTE["fit"]]),
            legend=alt.Legend(orient="top-left")),
        alt.StrokeDash("curve:N", title=None, scale=alt.Scale(domain=names,
                                                              range=[[1, 0], [6, 3]])))
    base = alt.Chart(style.rounded(data))
    bars = base.mark_rule(color=style.PALETTE["simulation"]).encode(
        x, alt.Y("lo:Q"), alt.Y2("hi:Q"))
    points = base.mark_point(filled=True, size=40, color=style.PALETTE["simulation"]).encode(
        x, alt.Y("simulated:Q"), tooltip=[alt.Tooltip("count:Q", title="count k"),
                                          alt.Tooltip("exact:Q", format=".1f"),
                                          alt.Tooltip("simulated:Q", format=".1f")])
    chart = alt.layer(lines, bars, points).properties(
        width=style.CONTAINER, height=style.HEIGHT, title=style.title(
            "How long a word survives resampling",
            "blue: mean of the simulated chains that lost the word, ± 2 standard errors"))
    return style.style(chart, description=(
        "Log-log chart of the generations until a word is lost against its count: the exact "
        "curve, its diffusion approximation and the simulated points rise almost in proportion "
        "to the count."))
