"""Charts of the discrete chain of chapter 2 (:mod:`collapse_utils.discrete`).

Each takes a matrix or a table that :mod:`collapse_utils.discrete` computed; none simulates.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from .. import discrete
from .._checks import check_int, show
from . import style

__all__ = ["absorption_chart", "loss_chart", "survival_chart", "transition_chart"]

_N = alt.X("n:Q", title="generation n")


def _check_frame(name: str, frame, columns, source: str) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame) or not set(columns) <= set(frame.columns) \
            or frame.empty:
        raise ValueError(f"{name} must be the DataFrame discrete.{source} returns, with columns "
                         f"{sorted(columns)} (got {show(frame)})")
    return frame


def transition_chart(matrix) -> alt.Chart:
    """Heat map of the transition matrix of the count, ``discrete.transition_matrix(M)``.

    Used in chapter 2, Statistical approximation error.
    """
    p = np.asarray(matrix, dtype=float)
    if p.ndim != 2 or p.shape[0] != p.shape[1] or p.shape[0] < 2 \
            or not np.allclose(p.sum(axis=1), 1):
        raise ValueError(f"matrix must be a square row-stochastic matrix, as "
                         f"discrete.transition_matrix returns (got {show(matrix)})")
    m = p.shape[0] - 1
    i, j = np.indices(p.shape)
    cells = pd.DataFrame({"from": i.ravel(), "to": j.ravel(), "probability": p.ravel()})
    chart = alt.Chart(style.rounded(cells, 4)).mark_rect().encode(
        alt.X("to:O", title="count in the next generation"),
        alt.Y("from:O", title="count now"),
        alt.Color("probability:Q", scale=alt.Scale(
            type="sqrt", range=["white", style.PALETTE["simulation"]])),
        tooltip=[alt.Tooltip("from:O", title="count now"),
                 alt.Tooltip("to:O", title="count next"),
                 alt.Tooltip("probability:Q", format=".4f")],
    ).properties(width=280, height=280, usermeta={"keepAspect": True},
                 title=style.title(f"Transition matrix of the count, M = {m}"))
    return style.style(chart, description=(
        f"Heat map of the probability of each count in the next generation (columns, 0 to {m}) "
        "given the count now (rows): darker cells are likelier moves."))


def absorption_chart(runs: pd.DataFrame) -> alt.LayerChart:
    """Generations until absorption against the starting count: exact, simulated, diffusion.

    ``runs`` is :func:`collapse_utils.discrete.absorption_runs`' table. The exact expected time
    (:func:`~collapse_utils.discrete.expected_absorption_time`, dashed) beside the chains' mean
    and the band of their times; dotted, the diffusion approximation
    (:func:`~collapse_utils.discrete.diffusion_absorption_time`). Used in chapter 2.
    """
    runs = _check_frame("runs", runs, ["M", "count", "chain", "time"], "absorption_runs")
    m = int(runs["M"].iloc[0])
    times = runs.pivot(index="count", columns="chain", values="time")
    counts = times.index.to_numpy()
    # A chain that starts at 0 or M is absorbed at generation 0: the ends of the exact curve.
    ends = pd.DataFrame({"count": [0, m], "mean": 0.0, "lo": 0.0, "hi": 0.0})
    data = pd.concat([ends, pd.DataFrame({"count": counts, **style.spread(times.to_numpy())})],
                     ignore_index=True).sort_values("count", ignore_index=True)
    data["closed"] = discrete.expected_absorption_time(data["count"].to_numpy(), m)
    x = alt.X("count:Q", title=f"starting count (out of M = {m})")
    band = style.theory_band(data, x, "generations until absorbed", labels=(
        "exact expected time", "simulation: mean time"), scale_y=alt.Scale(zero=True))
    q = np.linspace(0, 1, 201)
    approx = pd.DataFrame({"count": m * q, "diffusion": discrete.diffusion_absorption_time(q, m)})
    dotted = alt.Chart(style.rounded(approx)).mark_line(
        strokeDash=[1, 3], strokeWidth=2, color=style.PALETTE["fit"]).encode(
        x, alt.Y("diffusion:Q"))
    n_chains = int(runs["chain"].nunique())
    return style.style(alt.layer(band, dotted).properties(
        width=style.CONTAINER, height=style.HEIGHT, title=style.title(
            "Expected time to absorption",
            f"{n_chains} chains per starting count; dotted orange: the diffusion "
            "approximation")), description=(
        f"Generations until a category is lost or takes over, against its starting count out of "
        f"M = {m}: the exact expected time, the mean and band of {n_chains} simulated chains "
        "per count, and the diffusion approximation."))


def loss_chart(data: pd.DataFrame, frequency: float, M: int, n: int) -> alt.LayerChart:
    """Sliders for M and n over :func:`collapse_utils.discrete.loss_grid`'s table: the exact
    probabilities that the category is lost or absorbed by generation n (lines) and the
    fractions of simulated chains (points).

    ``frequency`` is the category's starting probability q (the dashed line is the eventual
    loss, 1 - q); ``M`` and ``n`` are the sliders' starting values. Used in chapter 2.
    """
    data = _check_frame("data", data, ["M", "n", "lost", "absorbed", "lost_mc", "absorbed_mc"],
                        "loss_grid")
    sizes = np.sort(data["M"].unique())
    M = check_int("M", M, int(sizes[0]), int(sizes[-1]))
    n = check_int("n", n, 0, int(data["n"].max()))
    step = int(np.diff(sizes).min()) if sizes.size > 1 else 1
    m_param = alt.param(name="M_loss", value=M, bind=alt.binding_range(
        min=int(sizes[0]), max=int(sizes[-1]), step=step, name="sample size M "))
    n_param = alt.param(name="n_loss", value=n, bind=alt.binding_range(
        min=0, max=int(data["n"].max()), step=1, name="generation n "))
    base = alt.Chart(style.rounded(data)).transform_filter(alt.datum.M == m_param)
    names = {"lost": "lost", "absorbed": "absorbed (lost, or taken over)"}
    color = alt.Color("event:N", title=None, scale=alt.Scale(
        domain=list(names.values()),
        range=[style.PALETTE["highlight"], style.PALETTE["simulation"]]),
        legend=alt.Legend(orient="top-left", labelLimit=400))

    def events(keys):
        return base.transform_fold(keys, as_=["key", "p"]).transform_calculate(
            event=f"indexof(datum.key, 'lost') == 0 ? '{names['lost']}' : '{names['absorbed']}'")

    lines = events(["lost", "absorbed"]).mark_line().encode(
        _N, alt.Y("p:Q", title="probability", scale=alt.Scale(domain=[0, 1])), color)
    points = events(["lost_mc", "absorbed_mc"]).transform_filter("datum.n % 5 == 0").mark_point(
        filled=True, size=25).encode(_N, alt.Y("p:Q"), color)
    eventual = alt.Chart(pd.DataFrame({"p": [1 - frequency]})).mark_rule(
        strokeDash=[6, 4], color=style.PALETTE["highlight"]).encode(y="p:Q")
    now = base.transform_filter(alt.datum.n == n_param)
    rule = now.mark_rule(color=style.PALETTE["muted"]).encode(_N)
    readouts = [
        "'by generation ' + datum.n + ', exact / simulated:'",
        "'lost ' + format(datum.lost, '.3f') + ' / ' + format(datum.lost_mc, '.3f')",
        "'absorbed ' + format(datum.absorbed, '.3f') + ' / ' + format(datum.absorbed_mc, '.3f')",
    ]
    texts = [now.transform_calculate(label=expr).mark_text(
        align="right", x=alt.expr("width - 5"), y=style.HEIGHT - 60 + 18 * i, fontSize=12).encode(
        text="label:N") for i, expr in enumerate(readouts)]
    return style.style(alt.layer(lines, points, eventual, rule, *texts).properties(
        width=style.CONTAINER, height=style.HEIGHT,
        title=style.title(f"A category of probability q = {frequency:g}",
                          "lines: exact; points: fraction of the simulated chains; "
                          "dashed: the eventual loss, 1 - q"),
    ).add_params(m_param, n_param), description=(
        f"Probability, over the generations, that a category of starting probability "
        f"{frequency:g} is lost or absorbed, exact and simulated, for the sample size the "
        "slider picks, with a readout at the generation the second slider picks."))


def survival_chart(table: pd.DataFrame, every: int = 25) -> alt.LayerChart:
    """P(category still present) per category: exact (lines) and simulated (points every
    ``every`` generations), from :func:`collapse_utils.discrete.survival_table`.

    Used in chapter 2, Statistical approximation error.
    """
    table = _check_frame("table", table, ["category", "q", "n", "exact", "simulated"],
                         "survival_table")
    every = check_int("every", every, 1)
    base = alt.Chart(style.rounded(table))
    color = alt.Color("q:O", title="starting probability q", sort="descending",
                      scale=alt.Scale(scheme="viridis"))
    lines = base.mark_line().encode(
        _N, alt.Y("exact:Q", title="P(category still present)"), color, detail="category:N")
    points = base.transform_filter(f"datum.n % {every} == 0").mark_point(size=30).encode(
        _N, alt.Y("simulated:Q"), color)
    return style.style(alt.layer(lines, points).properties(
        width=style.CONTAINER, height=280, title=style.title(
            "The tail goes first", "lines: exact; points: fraction of the simulated chains")),
        description="Probability that each category is still present over the generations, "
                    "one line per starting probability q, exact (lines) and simulated (points): "
                    "the rarer the category, the sooner it is lost.")
