"""Charts of the regression workflows of chapter 8 (:mod:`collapse_utils.regression`).

They take the :class:`~collapse_utils.chains.Chains` that
:func:`collapse_utils.regression.simulate` returns; none simulates. The closed form beside the
simulation is :func:`~collapse_utils.figures.style.theory_band`.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from .. import regression
from .._checks import show
from ..chains import Chains
from . import style

__all__ = ["workflows_chart"]

_X = alt.X("generation:Q", title="generation n")
_TITLES = {"replace": "replace", "accumulate": "accumulate",
           "accumulate_subsample": "accumulate-subsample (simulation only)"}


def _check_runs(runs) -> dict[str, Chains]:
    ok = isinstance(runs, dict) and set(runs) == set(regression.WORKFLOWS) and all(
        isinstance(c, Chains) and "test_error" in c.params for c in runs.values())
    if not ok:
        raise ValueError(f"runs must map each of {regression.WORKFLOWS} to Chains from "
                         f"regression.simulate (got {show(runs)})")
    settings = {(c.info["dim"], c.info["samples"], c.info["noise"], c.n_generations)
                for c in runs.values()}
    if len(settings) != 1:
        raise ValueError(f"runs must share dim, samples, noise and n_generations (got {settings})")
    return runs


def workflows_chart(runs) -> alt.HConcatChart:
    """Excess test error per generation under each workflow: the exact expectation (dashed)
    beside the mean and the band of the chains; the accumulate panel marks the bound π²/6 times
    the first generation's expected error. Used in chapter 8.
    """
    runs = _check_runs(runs)
    info = runs["replace"].info
    n = runs["replace"].n_generations
    gens = np.arange(n + 1)
    panels = []
    for workflow, chains in runs.items():
        data = pd.DataFrame({"generation": gens, **style.spread(chains.test_error)})
        closed = None
        if workflow != "accumulate_subsample":
            data["closed"] = regression.expected_test_error(workflow, n, info["dim"],
                                                            info["samples"], info["noise"])
            closed = "closed"
        layers = [style.theory_band(data, _X, "excess test error ‖w − w*‖²", closed=closed,
                                    labels=("exact expectation", "simulation: mean"),
                                    scale_y=alt.Scale(zero=True))]
        if workflow == "accumulate":
            bound = np.pi**2 / 6 * regression.expected_test_error(
                "accumulate", 1, info["dim"], info["samples"], info["noise"])[1]
            rule = pd.DataFrame({"bound": [bound], "label": ["π²/6 × generation 1"]})
            base = alt.Chart(rule)
            layers += [base.mark_rule(color=style.PALETTE["highlight"], strokeDash=[2, 2])
                       .encode(y="bound:Q"),
                       base.mark_text(align="left", dx=4, dy=-6, color=style.PALETTE["highlight"])
                       .encode(x=alt.datum(0), y="bound:Q", text="label:N")]
        panels.append(alt.layer(*layers).properties(width=style.WIDTH // 3, height=220,
                                                   title=style.title(_TITLES[workflow])))
    chart = alt.hconcat(*panels).resolve_scale(y="independent").properties(title=style.title(
        f"OLS refitted to its own predictions: d = {info['dim']}, T = {info['samples']}, "
        f"σ = {info['noise']:g}", f"{runs['replace'].n_chains} chains per workflow",
        width=style.WIDTH))
    return style.style(chart, description=(
        "Three panels of excess test error against generation: under replace it grows in a "
        "straight line, under accumulate it levels off below pi squared over six times the "
        "first generation's error, and under accumulate-subsample it keeps rising slowly."))
