"""The interactive figures of chapter 2, Statistical approximation error.

Used in chapter 2. Each figure comes in two parts: a function that builds its data (a small
``pandas.DataFrame`` of closed forms next to Monte Carlo summaries, tested in
``tests/test_statistical_figures.py``) and a function that draws it with Altair. The slider
figures precompute a grid of sample sizes M and generations n; Altair parameters bound to the
sliders pick the rows to show, so Vega redraws them in the browser and they stay interactive in
the static book.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
from scipy.special import digamma

from collapse_utils import discrete, gaussian
from collapse_utils._checks import (
    as_rng,
    check_choice,
    check_int,
    check_int_array,
    check_real,
    show,
)

__all__ = [
    "gaussian_chart",
    "gaussian_grid",
    "loss_chart",
    "loss_grid",
    "variance_paths",
    "variance_paths_chart",
]

# Digits kept in the charts' data: enough for every readout, and a third of the page weight.
_DIGITS = 5
# Rows of sample paths drawn at most (Altair refuses more than 5000 rows per chart).
_MAX_ROWS = 4000
_WIDTH, _HEIGHT = 560, 280

CLOSED = "closed form"
MC = "Monte Carlo mean"
MEDIAN = "Monte Carlo median"


def _sizes(sample_sizes, minimum):
    sizes, scalar = check_int_array("sample_sizes", sample_sizes, minimum)
    if scalar or sizes.ndim != 1 or sizes.size == 0:
        raise ValueError(
            f"sample_sizes must be a non-empty 1-D sequence of integers >= {minimum} "
            f"(got {show(sample_sizes)})"
        )
    return sizes


def _round(frame: pd.DataFrame) -> pd.DataFrame:
    floats = frame.select_dtypes("float").columns
    frame[floats] = frame[floats].apply(lambda c: c.map(lambda v: float(f"{v:.{_DIGITS}g}")))
    return frame


# ------------------------------------------------------------------------- discrete categories


def loss_grid(frequency, sample_sizes, n_generations, n_chains, seed=None) -> pd.DataFrame:
    """Probability that a category is lost, or absorbed, by generation n: exact and simulated.

    Used in chapter 2. For each M, a category of probability ``frequency`` (count q M) is
    resampled with :func:`collapse_utils.discrete.resample`; the exact curves come from
    :func:`~collapse_utils.discrete.prob_lost_by` and
    :func:`~collapse_utils.discrete.prob_absorbed_by`.

    Parameters
    ----------
    frequency : float
        Starting probability q of the category, in (0, 1); q M must be an integer for every M.
    sample_sizes : sequence of int
        The sample sizes M >= 1 of the grid.
    n_generations : int
        Generations 0..n_generations (>= 0).
    n_chains : int
        Chains simulated per M (>= 2).
    seed : None, int or numpy.random.Generator

    Returns
    -------
    DataFrame
        One row per (M, n): ``M``, ``n``, the exact ``lost`` and ``absorbed``, the simulated
        fractions ``lost_mc`` and ``absorbed_mc`` and their standard errors ``lost_se`` and
        ``absorbed_se`` (binomial, sqrt(p (1 - p) / n_chains)).
    """
    q = check_real("frequency", frequency)
    if not 0 < q < 1:
        raise ValueError(f"frequency must be in (0, 1) (got {show(frequency)})")
    sizes = _sizes(sample_sizes, 1)
    counts = q * sizes
    off = np.abs(counts - np.round(counts)) > 1e-9
    if off.any():
        raise ValueError(
            f"frequency * M must be an integer for every M in sample_sizes "
            f"(got {q!r} * {int(sizes[off][0])})"
        )
    n = check_int("n_generations", n_generations, 0)
    n_chains = check_int("n_chains", n_chains, 2)
    rng = as_rng(seed)
    gens = np.arange(n + 1)
    frames = []
    for m, count in zip(sizes, np.round(counts).astype(int), strict=True):
        freq = discrete.resample([q, 1 - q], int(m), n, n_chains=n_chains, seed=rng)[:, :, 0]
        lost = (freq == 0).mean(axis=1)
        absorbed = lost + (freq == 1).mean(axis=1)
        frames.append(pd.DataFrame({
            "M": int(m),
            "n": gens,
            "lost": discrete.prob_lost_by(int(count), int(m), gens),
            "absorbed": discrete.prob_absorbed_by(int(count), int(m), gens),
            "lost_mc": lost,
            "absorbed_mc": absorbed,
            "lost_se": np.sqrt(lost * (1 - lost) / n_chains),
            "absorbed_se": np.sqrt(absorbed * (1 - absorbed) / n_chains),
        }))
    return _round(pd.concat(frames, ignore_index=True))


def loss_chart(data: pd.DataFrame, frequency: float, M: int, n: int) -> alt.LayerChart:
    """Sliders for M and n over :func:`loss_grid`'s data: exact curves, simulated points.

    Used in chapter 2. ``frequency`` labels the dashed line at 1 - q (the eventual loss);
    ``M`` and ``n`` are the sliders' starting values.
    """
    sizes = np.sort(data["M"].unique())
    step = int(np.diff(sizes).min()) if sizes.size > 1 else 1
    m_param = alt.param(name="M_loss", value=int(M), bind=alt.binding_range(
        min=int(sizes[0]), max=int(sizes[-1]), step=step, name="sample size M "))
    n_param = alt.param(name="n_loss", value=int(n), bind=alt.binding_range(
        min=0, max=int(data["n"].max()), step=1, name="generation n "))
    base = alt.Chart(data).transform_filter(alt.datum.M == m_param)
    names = {"lost": "lost", "absorbed": "absorbed (lost, or taken over)"}
    color = alt.Color("event:N", title=None, scale=alt.Scale(
        domain=list(names.values()), range=["#c0392b", "#2c6fbb"]),
        legend=alt.Legend(orient="top-left", labelLimit=400))
    x = alt.X("n:Q", title="generation n")
    exact = base.transform_fold(["lost", "absorbed"], as_=["key", "p"]).transform_calculate(
        event=f"datum.key == 'lost' ? '{names['lost']}' : '{names['absorbed']}'")
    lines = exact.mark_line().encode(x, alt.Y("p:Q", title="probability", scale=alt.Scale(
        domain=[0, 1])), color)
    sim = base.transform_filter("datum.n % 5 == 0").transform_fold(
        ["lost_mc", "absorbed_mc"], as_=["key", "p"]).transform_calculate(
        event=f"datum.key == 'lost_mc' ? '{names['lost']}' : '{names['absorbed']}'",
        se="datum.key == 'lost_mc' ? datum.lost_se : datum.absorbed_se",
        lo="datum.p - 2 * datum.se", hi="datum.p + 2 * datum.se")
    points = sim.mark_point(filled=True, size=25).encode(x, alt.Y("p:Q"), color)
    bars = sim.mark_rule().encode(x, alt.Y("lo:Q"), alt.Y2("hi:Q"), color)
    eventual = alt.Chart(pd.DataFrame({"p": [1 - frequency]})).mark_rule(
        strokeDash=[6, 4], color="#c0392b").encode(y="p:Q")
    now = base.transform_filter(alt.datum.n == n_param)
    rule = now.mark_rule(color="gray").encode(x)
    lines_of_text = [
        "'by generation ' + datum.n",
        "'P(lost) = ' + format(datum.lost, '.3f') + ' exact, ' + format(datum.lost_mc, '.3f')"
        " + ' ± ' + format(2 * datum.lost_se, '.3f') + ' simulated'",
        "'P(absorbed) = ' + format(datum.absorbed, '.3f') + ' exact, '"
        " + format(datum.absorbed_mc, '.3f') + ' ± ' + format(2 * datum.absorbed_se, '.3f')"
        " + ' simulated'",
    ]
    texts = [now.transform_calculate(label=expr).mark_text(
        align="right", x=_WIDTH - 5, y=_HEIGHT - 60 + 18 * i, fontSize=12).encode(text="label:N")
        for i, expr in enumerate(lines_of_text)]
    return alt.layer(lines, bars, points, eventual, rule, *texts).properties(
        width=_WIDTH, height=_HEIGHT,
        title=alt.Title(f"A category of starting probability q = {frequency:g}",
                        subtitle="lines: exact; points: simulated, ± 2 standard errors; "
                                 "dashed: the eventual loss, 1 - q"),
    ).add_params(m_param, n_param)


# ---------------------------------------------------------------------------- Gaussians, 1-D


def gaussian_grid(sample_sizes, n_generations, n_chains, estimators=gaussian.ESTIMATORS,
                  seed=None) -> pd.DataFrame:
    """E[sigma_n] and E[W2^2] to generation 0: closed form, Monte Carlo mean and quantiles.

    Used in chapter 2. Generation 0 is N(0, 1); each (M, estimator) is simulated with
    :func:`collapse_utils.gaussian.simulate` (``method="exact"``); the closed forms are
    :func:`~collapse_utils.gaussian.expected_std` and
    :func:`~collapse_utils.gaussian.expected_w2_squared`.

    Parameters
    ----------
    sample_sizes : sequence of int
        The sample sizes M >= 2 of the grid.
    n_generations : int
        Generations 0..n_generations (>= 0).
    n_chains : int
        Chains per (M, estimator), >= 2.
    estimators : sequence of {"unbiased", "mle"}
    seed : None, int or numpy.random.Generator

    Returns
    -------
    DataFrame
        One row per (M, estimator, n): ``std`` (closed form), ``std_mc`` (mean over chains),
        ``std_lo`` and ``std_hi`` (the 10% and 90% quantiles over chains); ``w2``, ``w2_mc``,
        ``w2_lo``, ``w2_hi`` the same for W2^2, and ``w2_median``.
    """
    sizes = _sizes(sample_sizes, 2)
    n = check_int("n_generations", n_generations, 0)
    n_chains = check_int("n_chains", n_chains, 2)
    if isinstance(estimators, str) or len(estimators) == 0:
        raise ValueError(f"estimators must be a non-empty sequence of {gaussian.ESTIMATORS} "
                         f"(got {show(estimators)})")
    estimators = [check_choice("estimators", e, gaussian.ESTIMATORS) for e in estimators]
    rng = as_rng(seed)
    gens = np.arange(n + 1)
    frames = []
    for m in sizes:
        for est in estimators:
            run = gaussian.simulate(n, int(m), estimator=est, n_chains=n_chains, seed=rng)
            w2 = run.w2_squared_to_start()
            frames.append(pd.DataFrame({
                "M": int(m),
                "estimator": est,
                "n": gens,
                "std": gaussian.expected_std(gens, int(m), estimator=est),
                "std_mc": run.stds.mean(axis=1),
                "std_lo": np.quantile(run.stds, 0.1, axis=1),
                "std_hi": np.quantile(run.stds, 0.9, axis=1),
                "w2": gaussian.expected_w2_squared(gens, int(m), estimator=est),
                "w2_mc": w2.mean(axis=1),
                "w2_median": np.median(w2, axis=1),
                "w2_lo": np.quantile(w2, 0.1, axis=1),
                "w2_hi": np.quantile(w2, 0.9, axis=1),
            }))
    return _round(pd.concat(frames, ignore_index=True))


def _gaussian_panel(base, key, title, y_title, x, readout, log=False):
    """One panel of :func:`gaussian_chart`: band, closed form, Monte Carlo mean (and median)."""
    names = {key: CLOSED, f"{key}_mc": MC, f"{key}_median": MEDIAN}
    if log:
        # W2^2 is 0 at generation 0, which a log scale cannot show.
        base = base.transform_filter("datum.n >= 1")
    else:
        names.pop(f"{key}_median")
    domain = list(names.values())
    expr = " : ".join(f"datum.what == '{k}' ? '{v}'" for k, v in names.items()) + " : ''"
    curves = base.transform_fold(list(names), as_=["what", "value"]).transform_calculate(
        curve=expr)
    scale = alt.Scale(type="log") if log else alt.Scale()
    legend = alt.Legend(orient="bottom-left" if log else "top-right")
    band = base.mark_area(opacity=0.22, color="#e67e22").encode(
        x, alt.Y(f"{key}_lo:Q", title=y_title, scale=scale), alt.Y2(f"{key}_hi:Q"))
    lines = curves.mark_line().encode(
        x, alt.Y("value:Q", scale=scale),
        alt.Color("curve:N", title=None, legend=legend, scale=alt.Scale(
            domain=domain, range=["#222222", "#e67e22", "#2c6fbb"][:len(domain)])),
        alt.StrokeDash("curve:N", title=None, legend=legend, scale=alt.Scale(
            domain=domain, range=[[1, 0], [5, 3], [1, 0]][:len(domain)])))
    layers = [band, lines]
    if readout is not None:
        now = base.transform_filter(alt.datum.n == readout)
        label = (f"'n = ' + datum.n + ':  ' + format(datum.{key}, '.3f') + ' closed form,  '"
                 f" + format(datum.{key}_mc, '.3f') + ' Monte Carlo mean'")
        if log:
            label += f" + ',  ' + format(datum.{key}_median, '.3f') + ' median'"
        layers += [
            now.mark_rule(color="gray").encode(x),
            now.mark_point(color="#222222", filled=True).encode(x, alt.Y(f"{key}:Q")),
            now.transform_calculate(label=label).mark_text(
                align="left", baseline="top", x=5, y=4, fontSize=12).encode(text="label:N"),
        ]
    return alt.layer(*layers).properties(width=_WIDTH, height=200, title=title)


def gaussian_chart(data: pd.DataFrame, M: int | None = None, n: int | None = None,
                   estimator: str = "unbiased", sliders: bool = True) -> alt.VConcatChart:
    """E[sigma_n] (top) and E[W2^2] (bottom) over :func:`gaussian_grid`'s data.

    Used in chapter 2. With ``sliders`` the chart gets sliders for M and n and a radio button
    for the estimator, starting at ``M``, ``n`` and ``estimator``; without, ``data`` must hold a
    single (M, estimator) and the chart is static. The band spans the quantiles of the grid.
    """
    x = alt.X("n:Q", title="generation n")
    base = alt.Chart(data)
    params = []
    readout = None
    if sliders:
        sizes = np.sort(data["M"].unique())
        step = int(np.diff(sizes).min()) if sizes.size > 1 else 1
        m_param = alt.param(name="M_gauss", value=int(M if M is not None else sizes[0]),
                            bind=alt.binding_range(min=int(sizes[0]), max=int(sizes[-1]),
                                                   step=step, name="sample size M "))
        readout = alt.param(name="n_gauss", value=int(n if n is not None else 0),
                            bind=alt.binding_range(min=0, max=int(data["n"].max()), step=1,
                                                   name="generation n "))
        e_param = alt.param(name="estimator_gauss", value=estimator, bind=alt.binding_radio(
            options=list(data["estimator"].unique()), name="estimator "))
        params = [m_param, readout, e_param]
        base = base.transform_filter(
            (alt.datum.M == m_param) & (alt.datum.estimator == e_param))
    elif data[["M", "estimator"]].drop_duplicates().shape[0] != 1:
        raise ValueError("data must hold a single (M, estimator) when sliders=False "
                         f"(got {data[['M', 'estimator']].drop_duplicates().shape[0]})")
    top = _gaussian_panel(base, "std", "Fitted standard deviation σₙ (band: 10%–90% of chains)",
                          "σₙ", x, readout)
    bottom = _gaussian_panel(
        base, "w2", "Squared Wasserstein-2 distance to generation 0 (log scale; band: 10%–90%)",
        "W₂²", x, readout, log=True)
    chart = alt.vconcat(top, bottom).resolve_scale(
        color="independent", strokeDash="independent").resolve_legend(
        color="independent", strokeDash="independent")
    return chart.add_params(*params) if params else chart


def variance_paths(M, n_generations, n_chains, n_paths, estimator="unbiased", seed=None):
    """Sample paths of sigma_n^2 and their summaries, next to the closed forms (1-D, sigma_0 = 1).

    Used in chapter 2.

    Parameters
    ----------
    M : int
        Sample size per generation (>= 2).
    n_generations : int
        Generations 0..n_generations (>= 0).
    n_chains : int
        Chains for the summaries (>= 2).
    n_paths : int
        How many of the chains to return as paths, 1..n_chains.
    estimator : {"unbiased", "mle"}
    seed : None, int or numpy.random.Generator

    Returns
    -------
    paths : DataFrame
        ``chain``, ``n``, ``variance``: the first ``n_paths`` chains.
    summary : DataFrame
        ``n`` and, per generation, ``closed_mean`` (E[sigma_n^2] in closed form), ``typical``
        (exp(n E[log S]), the almost-sure rate), ``mc_mean`` and ``mc_median`` over the chains.
    """
    m = check_int("M", M, 2)
    n = check_int("n_generations", n_generations, 0)
    n_chains = check_int("n_chains", n_chains, 2)
    n_paths = check_int("n_paths", n_paths, 1, n_chains)
    estimator = check_choice("estimator", estimator, gaussian.ESTIMATORS)
    run = gaussian.simulate(n, m, estimator=estimator, n_chains=n_chains, seed=seed)
    var = run.variances
    gens = np.arange(n + 1)
    k = m - 1
    # log S = log(chi2_k / k) for the unbiased estimator, log(chi2_k / M) for the mle.
    log_s = digamma(k / 2) + np.log(2 / (k if estimator == "unbiased" else m))
    paths = pd.DataFrame({
        "chain": np.repeat(np.arange(n_paths), n + 1),
        "n": np.tile(gens, n_paths),
        "variance": var[:, :n_paths].T.ravel(),
    })
    summary = pd.DataFrame({
        "n": gens,
        "closed_mean": gaussian.expected_variance(gens, m, estimator=estimator),
        "typical": np.exp(gens * log_s),
        "mc_mean": var.mean(axis=1),
        "mc_median": np.median(var, axis=1),
    })
    return paths, summary


def variance_paths_chart(M=10, n_generations=200, estimator="unbiased", n_chains=20_000,
                         n_paths=15, seed=0) -> alt.LayerChart:
    """Log-scale chart of :func:`variance_paths`: thin sample paths, summaries, closed forms.

    Used in chapter 2 (also as the live notebook's explorer figure).
    """
    paths, summary = variance_paths(M, n_generations, n_chains, n_paths, estimator, seed)
    # Thin long runs so that the chart's data stays within Altair's 5000 rows.
    every = -(-len(paths) // _MAX_ROWS)
    paths = paths[paths["n"] % every == 0]
    names = {"closed_mean": "E[σₙ²], closed form",
             "mc_mean": f"mean of {n_chains} chains",
             "mc_median": f"median of {n_chains} chains",
             "typical": "exp(n E[log S]), closed form"}
    x = alt.X("n:Q", title="generation n")
    y = alt.Y("variance:Q", scale=alt.Scale(type="log"), title="fitted variance σₙ²",
              axis=alt.Axis(format=".0e"))
    thin = alt.Chart(paths).mark_line(strokeWidth=0.7, opacity=0.45, color="#7f8c8d").encode(
        x, y, detail="chain:N")
    long = summary.melt("n", var_name="key", value_name="variance")
    long["curve"] = long["key"].map(names)
    domain = list(names.values())
    legend = alt.Legend(orient="bottom-left", labelLimit=300)
    color = alt.Color("curve:N", title=None, legend=legend, scale=alt.Scale(
        domain=domain, range=["#222222", "#e67e22", "#8fc1e3", "#4a148c"]))
    dash = alt.StrokeDash("curve:N", title=None, legend=legend, scale=alt.Scale(
        domain=domain, range=[[1, 0], [1, 0], [1, 0], [6, 4]]))
    # The median and the almost-sure rate coincide: draw the rate last, dashed, over the median.
    curves = [alt.Chart(long[long.key == key]).mark_line(strokeWidth=width).encode(
        x, y, color, dash) for key, width in
        [("closed_mean", 2.2), ("mc_mean", 2.2), ("mc_median", 6), ("typical", 1.6)]]
    return alt.layer(thin, *curves).properties(
        width=_WIDTH, height=300,
        title=f"σₙ² of {n_paths} chains (grey), M = {M}, {estimator} estimator")
