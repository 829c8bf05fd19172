"""Charts of the Gaussian chains of chapter 2 (:mod:`collapse_utils.gaussian`).

They take the :class:`~collapse_utils.chains.Chains` that :func:`collapse_utils.gaussian.simulate`
returns (or the tables :func:`collapse_utils.gaussian.variance_paths` makes); none simulates. The
closed form beside the simulation is :func:`~collapse_utils.figures.style.theory_band`.
"""

from __future__ import annotations

from collections.abc import Mapping

import altair as alt
import numpy as np
import pandas as pd

from .. import gaussian
from .._checks import check_choice, check_int, show
from ..chains import Chains
from . import style

__all__ = ["explorer_chart", "logdet_chart", "moments_chart", "schedules_chart",
           "variance_paths_chart"]

_N = alt.X("n:Q", title="generation n")
_INDEPENDENT = {"color": "independent", "strokeDash": "independent"}


def _check_1d(name: str, chains) -> Chains:
    if not isinstance(chains, Chains) or not {"means", "stds"} <= set(chains.params) \
            or "sample_sizes" not in chains.info:
        raise ValueError(f"{name} must hold 1-D Chains from gaussian.simulate (got {show(chains)})")
    return chains


# --------------------------------------------------------------------------- sample paths


def _variance_paths(paths: pd.DataFrame, summary: pd.DataFrame, max_rows: int,
                    width=style.CONTAINER) -> alt.LayerChart:
    settings = summary.attrs if isinstance(summary, pd.DataFrame) else {}
    columns = {"n", "closed_mean", "typical", "mc_mean", "mc_median"}
    if not {"M", "estimator", "n_chains"} <= set(settings) or not columns <= set(summary.columns):
        raise ValueError("summary must be the summary gaussian.variance_paths returns")
    if not isinstance(paths, pd.DataFrame) or not {"chain", "n", "variance"} <= set(paths.columns):
        raise ValueError("paths must be the paths gaussian.variance_paths returns")
    max_rows = check_int("max_rows", max_rows, 1)
    # Thin long runs so that the chart's data stays small.
    every = -(-len(paths) // max_rows)
    paths = paths[paths["n"] % every == 0]
    n_chains = settings["n_chains"]
    names = {"closed_mean": "E[σₙ²], closed form",
             "typical": "exp(n E[log S]), closed form",
             "mc_mean": f"mean of {n_chains} chains",
             "mc_median": f"median of {n_chains} chains"}
    y = alt.Y("variance:Q", scale=alt.Scale(type="log"), title="fitted variance σₙ²",
              axis=alt.Axis(format=".0e"))
    thin = alt.Chart(style.rounded(paths)).mark_line(
        strokeWidth=0.7, opacity=0.45, color=style.PALETTE["muted"]).encode(
        _N, y, detail="chain:N")
    long = summary.melt("n", value_vars=list(names), var_name="key", value_name="variance")
    long["curve"] = long["key"].map(names)
    domain = list(names.values())
    legend = alt.Legend(orient="bottom-left", labelLimit=300)
    color = alt.Color("curve:N", title=None, legend=legend, scale=alt.Scale(domain=domain, range=[
        style.PALETTE[k] for k in ("truth", "fit", "simulation", "other")]))
    dash = alt.StrokeDash("curve:N", title=None, legend=legend, scale=alt.Scale(
        domain=domain, range=[[6, 3], [6, 3], [1, 0], [1, 0]]))
    # The median and the almost-sure rate coincide: draw the rate last, dashed, over the median.
    curves = [alt.Chart(style.rounded(long[long.key == key])).mark_line(strokeWidth=width).encode(
        _N, y, color, dash) for key, width in
        [("closed_mean", 2.2), ("mc_mean", 2.2), ("mc_median", 6), ("typical", 1.6)]]
    n_paths = paths["chain"].nunique()
    return alt.layer(thin, *curves).properties(
        width=width, height=300,
        title=style.title(f"σₙ² of {n_paths} chains (grey)",
                          f"M = {settings['M']}, {settings['estimator']} estimator"))


def variance_paths_chart(paths: pd.DataFrame, summary: pd.DataFrame,
                         max_rows: int = 4000) -> alt.LayerChart:
    """Log-scale chart of :func:`collapse_utils.gaussian.variance_paths`: thin sample paths, the
    chains' mean and median, the closed forms (dashed). At most ``max_rows`` path points are drawn.

    Used in chapter 2, Statistical approximation error.
    """
    return style.style(_variance_paths(paths, summary, max_rows), description=(
        "Fitted variance over the generations on a log scale: thin grey sample paths, the "
        "chains' mean and median, and the closed forms of the expected variance and of its "
        "almost-sure rate."))


# ------------------------------------------------------------------- E[sigma_n] and E[W2^2]


def _moments_frame(runs) -> pd.DataFrame:
    if not isinstance(runs, Mapping) or not runs:
        raise ValueError("runs must be a non-empty dict of (M, estimator) -> Chains from "
                         "gaussian.simulate")
    frames = []
    for key, chains in runs.items():
        chains = _check_1d("runs", chains)
        if not (isinstance(key, tuple) and len(key) == 2):
            raise ValueError(f"runs must be keyed by (M, estimator) (got {show(key)})")
        est, sizes = chains.info["estimator"], chains.info["sample_sizes"]
        gens = np.arange(chains.n_generations + 1)
        std0 = float(chains.stds[0, 0])
        w2 = gaussian.w2_squared_to_start(chains)
        frame = pd.DataFrame({"M": int(key[0]), "estimator": est, "n": gens,
                              "std_closed": gaussian.expected_std(gens, sizes, std0, est),
                              "w2_closed": gaussian.expected_w2_squared(gens, sizes, std0, est),
                              "w2_median": np.median(w2, axis=1)})
        for name, values in (("std", chains.stds), ("w2", w2)):
            for stat, v in style.spread(values).items():
                frame[f"{name}_{stat}"] = v
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _moments_panel(data, key, y_title, labels, title, predicate, readout, log=False):
    """One panel of :func:`moments_chart`: the band, the closed form, the readout at n."""
    if log:
        # W2^2 is 0 at generation 0, which a log scale cannot show.
        predicate = "datum.n >= 1" if predicate is None else (alt.datum.n >= 1) & predicate
    cols = {"closed": f"{key}_closed", "mean": f"{key}_mean", "lo": f"{key}_lo",
            "hi": f"{key}_hi"}
    scale = alt.Scale(type="log") if log else alt.Scale(zero=False)
    band = style.theory_band(data, _N, y_title, labels=labels, scale_y=scale, **cols)
    # The band's data sit on its layer, so one filter there serves the band and its curves.
    layers = [band if predicate is None else band.transform_filter(predicate)]
    base = alt.Chart(style.rounded(data))
    if predicate is not None:
        base = base.transform_filter(predicate)
    if log:
        layers.append(base.mark_line(strokeDash=[1, 3], strokeWidth=2,
                                     color=style.PALETTE["simulation"]).encode(
            _N, alt.Y(f"{key}_median:Q", scale=scale)))
    if readout is not None:
        now = base.transform_filter(alt.datum.n == readout)
        labels = [f"'n = ' + datum.n + ': closed form ' + format(datum.{key}_closed, '.3f')",
                  f"'mean of the chains ' + format(datum.{key}_mean, '.3f')"]
        if log:
            labels[1] += f" + ', median ' + format(datum.{key}_median, '.3f')"
        layers += [
            now.mark_rule(color=style.PALETTE["muted"]).encode(_N),
            now.mark_point(color=style.PALETTE["truth"], filled=True).encode(
                _N, alt.Y(f"{key}_closed:Q", scale=scale)),
            *(now.transform_calculate(label=label).mark_text(
                align="left", baseline="top", x=5, y=4 + 16 * i, fontSize=12).encode(
                text="label:N") for i, label in enumerate(labels)),
        ]
    return alt.layer(*layers).properties(width=style.WIDTH, height=200, title=title)


def _moments(runs, M, n, estimator) -> alt.VConcatChart:
    data = _moments_frame(runs)
    predicate = readout = None
    params = []
    if len(runs) > 1:
        sizes = np.sort(data["M"].unique())
        M = check_int("M", sizes[0] if M is None else M, int(sizes[0]), int(sizes[-1]))
        top = int(data["n"].max())
        n = check_int("n", 0 if n is None else n, 0, top)
        estimator = check_choice("estimator", estimator, list(data["estimator"].unique()))
        step = int(np.diff(sizes).min()) if sizes.size > 1 else 1
        m_param = alt.param(name="M_gauss", value=M, bind=alt.binding_range(
            min=int(sizes[0]), max=int(sizes[-1]), step=step, name="sample size M "))
        readout = alt.param(name="n_gauss", value=n, bind=alt.binding_range(
            min=0, max=top, step=1, name="generation n "))
        e_param = alt.param(name="estimator_gauss", value=estimator, bind=alt.binding_radio(
            options=list(data["estimator"].unique()), name="estimator "))
        params = [m_param, readout, e_param]
        predicate = (alt.datum.M == m_param) & (alt.datum.estimator == e_param)
    upper = _moments_panel(
        data, "std", "σₙ", ("closed form E[σₙ]", "simulation: mean σₙ"),
        style.title("Fitted standard deviation σₙ"), predicate, readout)
    lower = _moments_panel(
        data, "w2", "W₂²", ("closed form E[W₂²]", "simulation: mean W₂²"),
        style.title("Squared W₂ distance to generation 0",
                    "log scale; dotted: median of the chains"),
        predicate, readout, log=True)
    chart = alt.vconcat(upper, lower).resolve_scale(**_INDEPENDENT).resolve_legend(
        **_INDEPENDENT)
    return chart.add_params(*params) if params else chart


def moments_chart(runs: Mapping[tuple[int, str], Chains], M: int | None = None,
                  n: int | None = None, estimator: str = "unbiased") -> alt.VConcatChart:
    """E[sigma_n] (top) and E[W2^2] to generation 0 (bottom): closed forms beside the chains.

    ``runs`` maps (M, estimator) to 1-D chains of :func:`collapse_utils.gaussian.simulate`. With
    several runs the chart gets sliders for M and n and a radio button for the estimator,
    starting at ``M``, ``n`` and ``estimator``; with one, it is static. Used in chapter 2.
    """
    return style.style(_moments(runs, M, n, estimator), description=(
        "Two panels over the generations: the fitted standard deviation and the squared "
        "Wasserstein-2 distance to generation 0, each as the chains' mean and band beside its "
        "closed form, for the sample size and estimator the controls pick."))


def explorer_chart(paths: pd.DataFrame, summary: pd.DataFrame,
                   runs: Mapping[tuple[int, str], Chains]) -> alt.VConcatChart:
    """:func:`variance_paths_chart` above :func:`moments_chart` for one run: the live
    notebook's explorer figure in chapter 2."""
    return style.style(alt.vconcat(_variance_paths(paths, summary, 4000, style.WIDTH),
                                   _moments(runs, None, None, "unbiased")).resolve_scale(
        **_INDEPENDENT), description=(
        "Three panels over the generations for one sample size and estimator: sample paths of "
        "the fitted variance, then the fitted standard deviation and the squared Wasserstein-2 "
        "distance to generation 0 beside their closed forms."))


# ------------------------------------------------------------------------- d dimensions


def logdet_chart(chains: Chains) -> alt.LayerChart:
    """log det Sigma_n of d-dimensional chains beside its closed form
    (:func:`collapse_utils.gaussian.expected_log_det`).

    Used in chapter 2, Statistical approximation error.
    """
    if not isinstance(chains, Chains) or "covs" not in chains.params:
        raise ValueError(f"chains must be d-dimensional Chains from gaussian.simulate with cov "
                         f"(got {show(chains)})")
    sizes = chains.info["sample_sizes"]
    gens = np.arange(chains.n_generations + 1)
    data = pd.DataFrame({"n": gens, **style.spread(gaussian.log_determinants(chains))})
    data["closed"] = gaussian.expected_log_det(gens, sizes, chains.covs[0, 0],
                                               chains.info["estimator"])
    d = chains.covs.shape[-1]
    m = f"M = {sizes[0]}" if np.all(sizes == sizes[0]) else "growing M"
    band = style.theory_band(data, _N, "log det Σₙ")
    return style.style(band.properties(
        width=style.CONTAINER, height=240,
        title=style.title(f"log det Σₙ in d = {d} dimensions", f"{m}, {chains.n_chains} chains")),
        description=f"The log-determinant of the fitted covariance in {d} dimensions over the "
                    "generations: the chains' mean and band beside its closed form.")


# --------------------------------------------------------------------- growing sample sizes


def schedules_chart(runs: Mapping[str, Chains], schedules: Mapping) -> alt.LayerChart:
    """E[W2^2] to generation 0 under sample sizes M_i that grow with i, log-log.

    ``schedules`` maps a legend name to M_1, M_2, ... over the whole horizon of the closed form
    (:func:`collapse_utils.gaussian.expected_w2_squared`, dashed); ``runs`` maps the same names to
    1-D chains of :func:`collapse_utils.gaussian.simulate` over the first generations (mean of the
    chains, solid, and the band). Used in chapter 2.
    """
    if not isinstance(runs, Mapping) or not runs or not isinstance(schedules, Mapping) \
            or set(runs) != set(schedules):
        raise ValueError("runs and schedules must be dicts with the same names")
    names = list(schedules)
    closed, simulated = [], []
    for name in names:
        chains = _check_1d("runs", runs[name])
        sizes = np.asarray(schedules[name])
        grid = np.unique(np.geomspace(1, len(sizes), 120).astype(int))
        closed.append(pd.DataFrame({"schedule": name, "n": grid,
                                    "closed": gaussian.expected_w2_squared(grid, sizes)}))
        w2 = gaussian.w2_squared_to_start(chains)[1:]
        simulated.append(pd.DataFrame({"schedule": name, "n": np.arange(1, len(w2) + 1),
                                       **style.spread(w2)}))
    x = alt.X("n:Q", title="generation n (log scale)", scale=alt.Scale(type="log"))
    y = alt.Scale(type="log")
    color = alt.Color("schedule:N", title="sample size Mᵢ", sort=names, scale=style.scale(names),
                      legend=alt.Legend(columns=2, labelLimit=160, symbolOpacity=1))
    sim = alt.Chart(style.rounded(pd.concat(simulated, ignore_index=True)))
    band = sim.mark_area(opacity=0.2).encode(
        x, alt.Y("lo:Q", title="W₂² to generation 0", scale=y), alt.Y2("hi:Q"), color)
    mean = sim.mark_line(strokeWidth=2).encode(x, alt.Y("mean:Q", scale=y), color)
    lines = alt.Chart(style.rounded(pd.concat(closed, ignore_index=True))).mark_line(
        strokeDash=[6, 3]).encode(x, alt.Y("closed:Q", scale=y), color)
    n_chains = next(iter(runs.values())).n_chains
    return style.style(alt.layer(band, mean, lines).properties(
        width=style.CONTAINER, height=280, title=style.title(
            "Only a superlinear growth keeps the expected distance bounded",
            f"dashed: closed form E[W₂²]; solid: mean of {n_chains} chains; "
            f"{style.BAND_TEXT}")), description=(
        "Log-log chart of the expected squared Wasserstein-2 distance to generation 0 under "
        "sample sizes that grow with the generation, one colour per schedule: closed forms "
        "(dashed) beside the chains' means and bands."))
