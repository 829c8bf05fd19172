"""The figures of chapter 4, Functional approximation error, drawn from
:mod:`collapse_utils.functional_approximation`.

The charts take the chains the science module returns (a dict of
:class:`~collapse_utils.chains.Chains`, one per setting a menu picks) and the closed forms beside
them; the closed form beside the simulation is :func:`~collapse_utils.figures.style.theory_band`.
"""

from __future__ import annotations

from collections.abc import Mapping

import altair as alt
import numpy as np
import pandas as pd

from collapse_utils import functional_approximation as fa
from collapse_utils._checks import check_choice
from collapse_utils.chains import Chains
from collapse_utils.figures import style

__all__ = ["cascade_chart", "estimator_chart", "gradient_chart", "sampling_chart",
           "shrinkage_chart"]

_X = alt.X("n:Q", title="generation n")


def _check_runs(name: str, runs, expected=None) -> None:
    if not isinstance(runs, Mapping) or not runs or not all(
            isinstance(c, Chains) for c in runs.values()):
        raise ValueError(f"{name} must be a non-empty dict of setting -> Chains")
    if expected is not None and set(expected) != set(runs):
        raise ValueError(f"expected must have one closed form per run, for {sorted(runs)} "
                         f"(got {sorted(expected)})")


def _band_frame(key: str, runs, expected, values, centre="mean") -> pd.DataFrame:
    """One row per setting and generation: the closed form and the chains' summary."""
    frames = []
    for k, chains in runs.items():
        v = values(chains)
        s = style.spread(v)
        if centre == "median":
            s["median"] = np.median(v, axis=1)
        frames.append(pd.DataFrame({key: k, "n": np.arange(chains.n_generations + 1),
                                    "closed": expected[k], **s}))
    return pd.concat(frames, ignore_index=True)


def _on_menu(layer: alt.LayerChart, key: str, pick) -> alt.LayerChart:
    """``layer`` showing only the rows whose ``key`` is the menu's choice."""
    return alt.layer(*(c.transform_filter(alt.datum[key] == pick) for c in layer.layer),
                     data=layer.data)


def _menu(name: str, keys, value, label: str):
    options = sorted(keys)
    if value not in options:
        raise ValueError(f"{name} must be one of the runs' settings {options} (got {value!r})")
    return alt.param(name=f"{name}_pick", value=value,
                     bind=alt.binding_select(options=options, name=label))


def estimator_chart(frame: pd.DataFrame) -> alt.LayerChart:
    """Closed-form E[sigma_n^2] (lines), simulated means (dots) and medians (dashed), per estimator.

    ``frame`` is :func:`collapse_utils.functional_approximation.estimator_frame`.
    Used in chapter 4, Functional approximation error.
    """
    names = {"unbiased": "unbiased (÷ (M − 1))", "mle": "maximum likelihood (÷ M)"}
    data = style.rounded(frame.assign(estimator=frame.estimator.map(names)))
    color = alt.Color("estimator:N", title="variance estimator", scale=alt.Scale(
        domain=list(names.values()),
        range=[style.PALETTE["simulation"], style.PALETTE["highlight"]]),
        legend=alt.Legend(orient="bottom-left", labelLimit=300))
    base = alt.Chart(data)
    closed = base.mark_line(strokeWidth=2.2).encode(
        _X, alt.Y("closed_mean:Q", title="σₙ² (log scale)", scale=alt.Scale(type="log")), color)
    every = max(1, int(frame.n.max()) // 40)
    points = base.transform_filter(alt.datum.n % every == 0).mark_point(
        filled=True, size=30).encode(
        _X, alt.Y("mc_mean:Q"), color,
        tooltip=["estimator", alt.Tooltip("n:Q", title="generation n"),
                 alt.Tooltip("mc_mean:Q", title="mean of the chains", format=".4f"),
                 alt.Tooltip("closed_mean:Q", title="closed form", format=".4f")])
    median = base.mark_line(strokeDash=[5, 4], strokeWidth=1.5).encode(
        _X, alt.Y("mc_median:Q"), color)
    return style.style(alt.layer(closed, points, median).properties(
        width=style.CONTAINER, height=style.HEIGHT,
        title=style.title("E[σₙ²] per variance estimator",
                          "lines: closed form; dots: mean of the chains; dashed: median")),
        description="Fitted variance over the generations on a log scale for the unbiased and "
                    "the maximum-likelihood estimators: closed-form expectation, mean and "
                    "median of the chains.")


def shrinkage_chart(runs: Mapping[float, Chains], expected: Mapping, b: float) -> alt.LayerChart:
    """sigma_n^2 of shrinkage chains beside its closed form, with a menu for b.

    ``runs`` maps b to :func:`~collapse_utils.functional_approximation.shrinkage_chain` chains,
    ``expected`` maps b to the closed-form E[sigma_n^2]
    (:func:`~collapse_utils.functional_approximation.shrinkage_expected`); the red rule is the
    target tau^2. Used in chapter 4, Functional approximation error.
    """
    _check_runs("runs", runs, expected)
    pick = _menu("b", [float(k) for k in runs], float(b), "variance shrinkage b ")
    data = _band_frame("b", {float(k): c for k, c in runs.items()},
                       {float(k): v for k, v in expected.items()}, lambda c: c.stds**2)
    data["target"] = data.b.map({float(k): c.info["var_target"] for k, c in runs.items()})
    band = style.theory_band(data, _X, "fitted variance σₙ²", labels=(
        "closed form E[σₙ²]", "simulation: mean σₙ²"), scale_y=alt.Scale(zero=True))
    target = alt.Chart(style.rounded(data)).mark_rule(color=style.PALETTE["highlight"]).encode(
        alt.Y("target:Q"))
    chart = alt.layer(_on_menu(band, "b", pick),
                      target.transform_filter(alt.datum.b == pick)).add_params(pick)
    return style.style(chart.properties(
        width=style.CONTAINER, height=style.HEIGHT,
        title=style.title("σₙ² with variance shrinkage",
                          "closed form beside the chains; red: the target τ²")),
        description="Fitted variance over the generations when each fit shrinks it toward a "
                    "target, for the shrinkage b the menu picks: the chains' mean and band "
                    "beside the closed form, and the target as a red rule.")


def sampling_chart(runs: Mapping[float, Chains], expected: Mapping,
                   top_p: float) -> alt.LayerChart:
    """sigma_n^2 under top-p sampling beside its closed form, log scale, with a menu for p.

    ``runs`` maps p to :func:`~collapse_utils.functional_approximation.sampling_chain` chains,
    ``expected`` maps p to the closed-form E[sigma_n^2] (r(p)^n sigma_0^2).
    Used in chapter 4, Functional approximation error.
    """
    _check_runs("runs", runs, expected)
    pick = _menu("top_p", [float(k) for k in runs], float(top_p), "top-p ")
    data = _band_frame("top_p", {float(k): c for k, c in runs.items()},
                       {float(k): v for k, v in expected.items()}, lambda c: c.stds**2)
    band = style.theory_band(data, _X, "fitted variance σₙ² (log scale)", labels=(
        "closed form r(p)ⁿ σ₀²", "simulation: mean σₙ²"), scale_y=alt.Scale(type="log"))
    return style.style(_on_menu(band, "top_p", pick).add_params(pick).properties(
        width=style.CONTAINER, height=style.HEIGHT,
        title=style.title("σₙ² with top-p sampling", "closed form beside the chains")),
        description="Fitted variance over the generations on a log scale when each generation "
                    "samples only the top p of the model's mass, for the p the menu picks: the "
                    "chains' mean and band beside the closed form.")


def gradient_chart(exact: Mapping[int, Chains], sampled: Mapping[int, Chains],
                   steps: int) -> alt.VConcatChart:
    """Mean and std of gradient-fitted chains over generations, with a menu for the step budget.

    ``exact`` maps a step budget to the infinite-data chain, ``sampled`` to chains with M
    samples per generation (:func:`~collapse_utils.functional_approximation.gradient_chain`);
    the chart draws the infinite-data chain beside the median and band of the sampled ones.
    Used in chapter 4, Functional approximation error.
    """
    _check_runs("exact", exact)
    _check_runs("sampled", sampled, exact)
    pick = _menu("steps", [int(k) for k in exact], int(steps), "gradient steps per generation ")
    exact = {int(k): c for k, c in exact.items()}
    sampled = {int(k): c for k, c in sampled.items()}
    m = next(iter(sampled.values())).info.get("sample_size")
    labels = ("infinite data", f"M = {m}: median")

    def panel(param, title):
        closed = {k: getattr(c, param)[:, 0] for k, c in exact.items()}
        data = _band_frame("steps", sampled, closed, lambda c: getattr(c, param), "median")
        band = style.theory_band(data, _X, title, mean="median", labels=labels)
        return _on_menu(band, "steps", pick).properties(width=style.WIDTH, height=170)

    chart = alt.vconcat(panel("means", "fitted mean μₙ"), panel("stds", "fitted std σₙ"))
    return style.style(chart.add_params(pick), description=(
        "Two panels over the generations, for the number of gradient steps the menu picks: the "
        "fitted mean and standard deviation of the infinite-data chain beside the median and "
        "band of chains fitted to finite samples."))


_CASCADE_LABELS = {"statistical": "statistical error (finite M) ",
                   "expressivity": "expressivity error (two-mode truth) ",
                   "learning": "learning: gradient steps from a fixed start ",
                   "sampling": "sampling: top-p truncation "}


def cascade_chart(runs: Mapping[tuple[str, ...], Chains],
                  on: tuple[str, ...] = ("statistical",)) -> alt.VConcatChart:
    """W2 to the truth and the fitted std, with one checkbox per error source.

    ``runs`` is :func:`collapse_utils.functional_approximation.cascade`; ``on`` names the
    switches ticked at first. Red: the ticked combination's median and band over chains; grey:
    all 16 combinations' medians, for reference. Used in chapter 4.
    """
    switches = list(fa.CASCADE_SWITCHES)
    for name in on:
        check_choice("on", name, switches)
    _check_runs("runs", runs)
    frames = []
    for combo, chains in runs.items():
        row = {k: int(k in combo) for k in switches}
        for col, v in (("w2", fa.w2_to_start(chains)), ("std", chains.stds)):
            lo, hi = np.quantile(v, style.BAND, axis=1)
            row |= {col: np.median(v, axis=1), f"{col}_lo": lo, f"{col}_hi": hi}
        frames.append(pd.DataFrame({"n": np.arange(chains.n_generations + 1), **row}))
    # Switches as 0/1 and 4 significant digits: a third of the page weight of raw floats.
    data = style.rounded(pd.concat(frames, ignore_index=True), 4)
    params = {k: alt.param(name=f"cascade_{k}", value=k in on,
                           bind=alt.binding_checkbox(name=_CASCADE_LABELS[k])) for k in switches}
    chosen = " && ".join(f"datum.{k} == (cascade_{k} ? 1 : 0)" for k in switches)
    combo = " + ".join(f"datum.{k}" for k in switches)

    def panel(col, title):
        others = alt.Chart(data).transform_calculate(combo=f"'' + {combo}").mark_line(
            color=style.PALETTE["muted"], strokeWidth=0.8).encode(
            _X, alt.Y(f"{col}:Q", title=title), detail="combo:N")
        sel = alt.Chart(data).transform_filter(chosen)
        band = sel.mark_area(opacity=0.25, color=style.PALETTE["highlight"]).encode(
            _X, alt.Y(f"{col}_lo:Q"), alt.Y2(f"{col}_hi:Q"))
        line = sel.mark_line(color=style.PALETTE["highlight"], strokeWidth=2.5).encode(
            _X, alt.Y(f"{col}:Q"), tooltip=[alt.Tooltip("n:Q", title="generation n"),
                                            alt.Tooltip(f"{col}:Q", title=title, format=".3f")])
        return alt.layer(others, band, line).properties(width=style.WIDTH, height=190)

    chart = alt.vconcat(panel("w2", "W₂ to the truth"), panel("std", "fitted std σₙ"))
    return style.style(chart.add_params(*params.values()).properties(
        title=style.title("The cascade of errors", f"red: the ticked errors' median; "
                                                   f"{style.BAND_TEXT}; grey: all 16")),
        description="Two panels over the generations: the Wasserstein-2 distance to the truth "
                    "and the fitted standard deviation for the error sources the checkboxes "
                    "tick, beside all 16 combinations in grey.")
