"""Charts of the data regimes of chapter 7 (:mod:`collapse_utils.remedies`).

They take the tables :func:`collapse_utils.remedies.regime_table` returns; they never simulate.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from ..remedies import REGIMES
from . import style

__all__ = ["REGIME_COLOURS", "regimes_chart"]

#: One colour per regime, the same in every chart (the regimes of chapters 6 and 7 from the
#: palette; the subsampled pool in the fourth colour).
REGIME_COLOURS = {r: style.PALETTE.get(r, style.PALETTE["fourth"]) for r in REGIMES}

_COLUMNS = {"regime", "gamma_pct", "generation", "quantity", "exact", "monte_carlo"}


def regimes_chart(table: pd.DataFrame) -> alt.VConcatChart:
    """Closed forms (dashed lines) and Monte Carlo means (dots) per regime, with γ and regime
    controls: E σ², E (μ − μ_0)² and E W₂² to the truth per generation.

    ``table`` is :func:`collapse_utils.remedies.regime_table`'s output. Used in chapter 7.
    """
    if not isinstance(table, pd.DataFrame) or not _COLUMNS <= set(table.columns):
        raise ValueError(f"table must be a DataFrame from remedies.regime_table, with columns "
                         f"{sorted(_COLUMNS)}")
    pcts = sorted(int(p) for p in table.gamma_pct.unique() if p >= 0)
    if not pcts:
        raise ValueError("table must hold at least one keep_real fraction (gamma_pct >= 0)")
    gamma = alt.param(name="gamma_pct", value=10 if 10 in pcts else pcts[0], bind=alt.binding_range(
        min=pcts[0], max=pcts[-1], step=pcts[1] - pcts[0] if len(pcts) > 1 else 1,
        name="real data kept, γ (%) "))
    pick = alt.param(name="regime_pick", value="all", bind=alt.binding_radio(
        options=["all", *REGIMES], labels=["all", *(style.REGIME_NAMES[r] for r in REGIMES)],
        name="regime "))
    base = (
        alt.Chart(style.rounded(table))
        .add_params(gamma, pick)
        .transform_filter("datum.gamma_pct < 0 || datum.gamma_pct == gamma_pct")
        .transform_filter("regime_pick == 'all' || datum.regime == regime_pick")
    )
    color = alt.Color("regime:N", title="regime", scale=alt.Scale(
        domain=list(REGIMES), range=[REGIME_COLOURS[r] for r in REGIMES]),
        legend=alt.Legend(labelExpr=style.names_expr(style.REGIME_NAMES), columns=2))
    x = alt.X("generation:Q")

    def panel(quantity, title):
        part = base.transform_filter(alt.datum.quantity == quantity)
        y = alt.Scale(zero=False)
        lines = part.mark_line(strokeDash=[6, 3]).encode(
            x=x, y=alt.Y("exact:Q", title=title, scale=y), color=color)
        points = part.transform_calculate(
            regime_name=style.names_expr(style.REGIME_NAMES, "datum.regime")).mark_point(
            size=14, filled=True, opacity=0.6).encode(
            x=x, y=alt.Y("monte_carlo:Q", title=title, scale=y), color=color,
            tooltip=[alt.Tooltip("regime_name:N", title="regime"), "generation",
                     alt.Tooltip("monte_carlo:Q", title="Monte Carlo mean", format=".3f"),
                     alt.Tooltip("exact:Q", title="closed form", format=".3f")])
        # W₂² has no closed form here: its panel draws the dots alone.
        closed = table.loc[table.quantity == quantity, "exact"].notna().any()
        return (lines + points if closed else points).properties(width=style.WIDTH // 2,
                                                                  height=200)

    top = alt.hconcat(panel("variance", "E σ²_n"), panel("mean drift", "E (μ_n − μ_0)²"))
    chart = alt.vconcat(top, panel("W2²", "E W₂² to the truth (Monte Carlo)")).properties(
        title=style.title("Closed form (dashed) beside Monte Carlo means (dots), per regime"))
    return style.style(chart, description=(
        "Three panels over the generations, one colour per data regime: the expected variance, "
        "the expected squared drift of the mean and the expected squared Wasserstein-2 distance "
        "to the truth, closed forms beside Monte Carlo means, for the share of real data the "
        "slider picks."))
