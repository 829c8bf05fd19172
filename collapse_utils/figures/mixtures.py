"""The figures of chapter 3, Functional expressivity error, drawn from
:mod:`collapse_utils.mixtures`.

:func:`fit_explorer_chart` computes a two-mode mixture and its moment-matched Gaussian in the
browser, under sliders; :func:`density_chart` draws fitted models beside the truth;
:func:`chain_chart` draws the distance to the truth of :func:`collapse_utils.mixtures.refit_chain`.
"""

from __future__ import annotations

from collections.abc import Mapping

import altair as alt
import numpy as np
import pandas as pd

from collapse_utils import mixtures
from collapse_utils._checks import check_choice, check_int, check_nonnegative, check_probability
from collapse_utils.chains import Chains
from collapse_utils.figures import style

__all__ = ["chain_chart", "density_chart", "fit_explorer_chart"]


def fit_explorer_chart(separation: float = 4.0, weight: float = 0.5, width: float = 0.6,
                       x_range: float = 7.0, n_points: int = 561) -> alt.LayerChart:
    """A two-mode mixture and its moment-matched Gaussian, with sliders, computed in the browser.

    The truth is (1 - w) N(-d/2, s^2) + w N(d/2, s^2); the fit is N(mu, sigma^2) with, in closed
    form, mu = (w - 1/2) d and sigma^2 = s^2 + w (1 - w) d^2.
    Red: where the Gaussian puts mass the truth lacks; blue: the truth's mass it misses. The
    readout gives KL(p || q) by a Riemann sum over the plotted grid (Vega computes it).

    Used in chapter 3, Functional expressivity error.
    """
    d0 = check_nonnegative("separation", separation)
    w0, _ = check_probability("weight", weight)
    s0 = check_nonnegative("width", width)
    n_points = check_int("n_points", n_points, 11, 5000)
    x = np.linspace(-x_range, x_range, n_points)
    dx = float(x[1] - x[0])
    sep = alt.param(name="sep", value=d0, bind=alt.binding_range(
        min=0, max=8, step=0.1, name="distance between the modes d "))
    wgt = alt.param(name="w", value=float(w0), bind=alt.binding_range(
        min=0.05, max=0.95, step=0.05, name="weight of the right mode w "))
    wid = alt.param(name="s", value=s0, bind=alt.binding_range(
        min=0.2, max=2, step=0.05, name="width of each mode s "))
    base = alt.Chart(style.rounded(pd.DataFrame({"x": x}))).transform_calculate(
        p="(1 - w) * densityNormal(datum.x, -sep / 2, s) + w * densityNormal(datum.x, sep / 2, s)",
        mu="(1 - w) * (-sep / 2) + w * sep / 2",
    ).transform_calculate(
        sigma="sqrt(s * s + w * (1 - w) * sep * sep)",
    ).transform_calculate(
        q="densityNormal(datum.x, datum.mu, datum.sigma)",
    ).transform_calculate(
        top="max(datum.p, datum.q)",
        kl_part=f"datum.p > 0 ? datum.p * log(datum.p / datum.q) * {dx} : 0",
    )
    xenc = alt.X("x:Q", title="x", scale=alt.Scale(domain=[-x_range, x_range]))
    excess = base.mark_area(color=style.PALETTE["highlight"], opacity=0.35).encode(
        xenc, alt.Y("p:Q", title="density"), alt.Y2("top:Q"))
    missed = base.mark_area(color=style.PALETTE["simulation"], opacity=0.35).encode(
        xenc, alt.Y("q:Q"), alt.Y2("top:Q"))
    names = {"p": "truth p (two modes)", "q": "fitted Gaussian q"}
    curves = base.transform_fold(["p", "q"], as_=["which", "density"]).transform_calculate(
        curve=f"datum.which == 'p' ? '{names['p']}' : '{names['q']}'"
    ).mark_line(strokeWidth=2.2).encode(
        xenc, alt.Y("density:Q"),
        alt.Color("curve:N", title=None,
                  scale=alt.Scale(domain=list(names.values()),
                                  range=[style.PALETTE["truth"], style.PALETTE["fit"]])))
    fitted = base.transform_aggregate(kl="sum(kl_part)", mu="min(mu)", sigma="min(sigma)",
                                      top="max(top)")
    # An invisible point a third above the highest density: room for the readout.
    room = fitted.transform_calculate(room="datum.top * 1.35").mark_point(opacity=0).encode(
        alt.Y("room:Q"))
    readout = [fitted.transform_calculate(label=label).mark_text(
        align="left", baseline="top", x=5, y=5 + 16 * i, fontSize=12).encode(text="label:N")
        for i, label in enumerate([
            "'fit: μ = ' + format(datum.mu, '.2f') + ', σ = ' + format(datum.sigma, '.2f')",
            "'KL(p‖q) ≈ ' + format(datum.kl, '.3f') + ' nats'"])]
    chart = alt.layer(excess, missed, curves, *readout, room).add_params(sep, wgt, wid).properties(
        width=style.CONTAINER, height=style.HEIGHT,
        title=style.title("One Gaussian fitted to two modes",
                          "red: mass the truth lacks; blue: mass missed"))
    return style.style(chart, description=(
        "A mixture of two Gaussian modes and the single Gaussian fitted to it, redrawn as the "
        "sliders change the modes' distance, weight and width, with the fit's mean, standard "
        "deviation and KL divergence from the truth."))


def _check_model(name: str, value) -> mixtures.Mixture1D:
    if not isinstance(value, mixtures.Mixture1D):
        raise ValueError(f"{name} must be a Mixture1D (got {type(value).__name__})")
    return value


def density_chart(p: mixtures.Mixture1D, fits: Mapping[str, mixtures.Mixture1D],
                  x_range: tuple[float, float] | None = None, n_points: int = 301,
                  floor: float = 1e-6) -> alt.VConcatChart:
    """The truth and fitted models, on a linear scale (top) and a log scale (bottom, for tails).

    ``fits`` maps a legend name to a model. Used in chapter 3, Functional expressivity error.
    """
    p = _check_model("p", p)
    for name, q in fits.items():
        _check_model(f"fits[{name!r}]", q)
    models = [p, *fits.values()]
    if x_range is None:
        lo = float(min(d.mean() - 4.5 * d.std() for d in models))
        hi = float(max(d.mean() + 4.5 * d.std() for d in models))
    else:
        lo, hi = map(float, x_range)
    x = np.linspace(lo, hi, check_int("n_points", n_points, 11, 2000))
    names = ["truth", *fits]
    frame = pd.concat([pd.DataFrame({"x": x, "model": name, "density": d.pdf(x)})
                       for name, d in zip(names, models, strict=True)])
    frame["density"] = np.maximum(frame.density, floor)
    # One legend for both channels: a legend=None on one would conflict with the other's.
    legend = alt.Legend(orient="bottom", columns=1, labelLimit=320, symbolStrokeWidth=2.5)
    color = alt.Color("model:N", sort=names, title=None, scale=style.scale(names), legend=legend)
    dash = alt.StrokeDash("model:N", sort=names, title=None, legend=legend, scale=alt.Scale(
        domain=names, range=[[1, 0]] + [[6, 3]] * (len(names) - 1)))
    xenc = alt.X("x:Q", title="x", scale=alt.Scale(domain=[lo, hi]))
    base = alt.Chart(style.rounded(frame, 4))
    top = base.mark_line(strokeWidth=2).encode(
        xenc, alt.Y("density:Q", title="density"), color, dash
    ).properties(width=style.WIDTH, height=200, title="Density")
    bottom = base.mark_line(strokeWidth=2).encode(
        xenc, alt.Y("density:Q", title="density (log scale)",
                    scale=alt.Scale(type="log", domain=[floor, float(frame.density.max()) * 2])),
        color, dash,
    ).properties(width=style.WIDTH, height=200,
                 title=style.title("The same on a log scale: the tails",
                                   f"clipped at {floor:g}"))
    return style.style(alt.vconcat(top, bottom), description=(
        f"The truth's density and {len(fits)} fitted model{'s' if len(fits) > 1 else ''} "
        f"({', '.join(fits)}) on a linear scale, then on a log scale that shows the tails."))


def chain_chart(runs: Mapping[str, Chains], metric: str = "w2") -> alt.LayerChart:
    """KL or W2 to the truth over generations, one curve per run of
    :func:`collapse_utils.mixtures.refit_chain`.

    ``runs`` maps a legend name to a run; the chart draws each run's median over chains of
    :func:`collapse_utils.mixtures.distance_to_truth` and, for runs with several chains, a band
    over :data:`~collapse_utils.figures.style.BAND` of them.

    Used in chapter 3, Functional expressivity error.
    """
    metric = check_choice("metric", metric, mixtures.DISTANCES)
    if not isinstance(runs, Mapping) or not runs:
        raise ValueError("runs must be a non-empty dict of legend name -> Chains from refit_chain")
    frames = []
    for name, chains in runs.items():
        dist = mixtures.distance_to_truth(chains, metric)
        lo, hi = np.quantile(dist, style.BAND, axis=1)
        several = chains.n_chains > 1
        frames.append(pd.DataFrame({
            "setting": name, "generation": np.arange(chains.n_generations + 1),
            "median": np.median(dist, axis=1),
            "lo": lo if several else np.nan, "hi": hi if several else np.nan}))
    names = list(runs)
    # Both layers carry the same colour encoding, legend included: a layer with legend=None would
    # remove the legend of the whole chart.
    color = alt.Color("setting:N", sort=names, title=None, scale=style.scale(names),
                      legend=alt.Legend(orient="top-left", labelLimit=260, symbolType="stroke",
                                        symbolOpacity=1, symbolStrokeWidth=2.5))
    x = alt.X("generation:Q", title="generation n")
    title = {"w2": "W₂(truth, generation n)", "kl": "KL(truth ‖ generation n), nats"}[metric]
    base = alt.Chart(style.rounded(pd.concat(frames, ignore_index=True), 4))
    bands = base.transform_filter("isValid(datum.lo)").mark_area(opacity=0.2).encode(
        x, alt.Y("lo:Q", title=title), alt.Y2("hi:Q"), color)
    lines = base.mark_line(strokeWidth=2).encode(x, alt.Y("median:Q"), color)
    chart = alt.layer(bands, lines).properties(
        width=style.CONTAINER, height=style.HEIGHT,
        title=style.title("Distance to the truth",
                          f"lines: median over chains; {style.BAND_TEXT}"))
    metric_name = {"w2": "Wasserstein-2 distance", "kl": "KL divergence"}[metric]
    return style.style(chart, description=(
        f"The {metric_name} from the truth to each generation's fitted model, one line per "
        f"setting ({', '.join(names)}): the median over chains and the band of the chains."))
