"""Charts and tables of the language-model runs of chapters 6 and 7 (:mod:`collapse_utils.lm`).

Each takes a run's tables (:func:`collapse_utils.lm.load_results`: ``results``, ``sequences``,
``samples``, ``reference``) or a control's (:func:`collapse_utils.lm.controls.run_control`);
none trains, generates or scores anything. Each seed × regime is one chain of generations, so
bands span :data:`.style.BAND` of the seeds, as every band of the course spans its chains.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from .._checks import check_choice
from . import style

__all__ = [
    "SEQUENCE_MEASURES",
    "control_chart",
    "example_texts",
    "histogram_chart",
    "language_chart",
    "paper_comparison",
    "perplexity_chart",
]


def _over_seeds(results: pd.DataFrame, measure: str) -> pd.DataFrame:
    """Per regime and generation: the mean of ``measure`` over seeds and the band's ends."""
    groups = results.groupby(["regime", "generation"])[measure]
    lo, hi = style.BAND
    return pd.DataFrame({"mean": groups.mean(), "lo": groups.quantile(lo),
                         "hi": groups.quantile(hi), "seeds": groups.count()}).reset_index()


def _regimes(names) -> list[str]:
    """The regimes shown, in the course's order (replace, keep_real, accumulate)."""
    shown = set(names)
    return [r for r in style.PALETTE if r in shown] + sorted(shown - set(style.PALETTE))


def _band(results: pd.DataFrame, measure: str, title: str) -> alt.LayerChart:
    data = style.rounded(_over_seeds(results, measure))
    base = alt.Chart(data).encode(
        x=alt.X("generation:O", title="generation", axis=alt.Axis(labelAngle=0)),
        color=alt.Color("regime:N", scale=style.scale(_regimes(data.regime)),
                        title=f"regime ({style.BAND_TEXT.replace('chains', 'seeds')})",
                        legend=alt.Legend(labelExpr=style.names_expr(style.REGIME_NAMES),
                                          symbolOpacity=1)))
    band = base.mark_area(opacity=0.2).encode(
        y=alt.Y("lo:Q", title=title, scale=alt.Scale(zero=False)), y2="hi:Q")
    lo, hi = (f"{round(100 * q)}th percentile of the seeds" for q in style.BAND)
    line = base.transform_calculate(
        regime_name=style.names_expr(style.REGIME_NAMES, "datum.regime")).mark_line(
        point=True).encode(
        y="mean:Q", tooltip=[alt.Tooltip("regime_name:N", title="regime"), "generation",
                             alt.Tooltip("mean:Q", title="mean over the seeds", format=".3f"),
                             alt.Tooltip("lo:Q", title=lo, format=".3f"),
                             alt.Tooltip("hi:Q", title=hi, format=".3f"), "seeds"])
    return band + line


#: Readable names of the values of chapter 6's controls (:data:`collapse_utils.lm.CONTROLS`).
_VALUE_NAMES = {"last": "last epoch", "best_val": "best real validation loss",
                "batches": "official: same size", "add": "real added on top"}


def _rule(value: float, colour: str) -> alt.Chart:
    return alt.Chart(pd.DataFrame({"y": [value]})).mark_rule(
        strokeDash=[4, 4], color=style.PALETTE[colour]).encode(y="y:Q")


def perplexity_chart(results: pd.DataFrame, zero_shot: float | None = None) -> alt.LayerChart:
    """Test perplexity on the real test set per generation, per regime: the mean over seeds and
    the band over them; dashed, the pretrained model's zero-shot perplexity (chapters 6, 7)."""
    chart = _band(results, "test_ppl", "test perplexity (real data)")
    if zero_shot is not None:
        chart += _rule(zero_shot, "muted")
    regimes = ", ".join(style.REGIME_NAMES.get(r, r) for r in _regimes(results.regime))
    return style.style(chart.properties(width=style.CONTAINER, height=style.HEIGHT), description=(
        f"Test perplexity on real data over the generations, one line per data regime "
        f"({regimes}), with the band over the seeds"
        + ("" if zero_shot is None else " and the pretrained model's zero-shot perplexity dashed")
        + "."))


#: Axis titles of the per-sequence measures that :func:`histogram_chart` can show.
SEQUENCE_MEASURES = {
    "gen0_ppl": "perplexity under the generation-0 model",
    "true_nll_per_word": "true NLL per word (nats, valid words)",
}


def histogram_chart(sequences: pd.DataFrame, regime: str = "replace", generations=None,
                    bins: int = 40, column: str = "gen0_ppl") -> alt.Chart:
    """Figure 1 of the paper (chapter 6): one line per generation, the share of the sequences it
    wrote in each bin of ``column`` (a key of :data:`SEQUENCE_MEASURES`; all seeds pooled).
    Perplexity bins are log-spaced on a log axis."""
    from ..lm.metrics import histogram

    check_choice("column", column, tuple(SEQUENCE_MEASURES))
    log = column == "gen0_ppl"
    hist = histogram(sequences[sequences.regime == regime], column=column,
                     generations=generations, bins=bins, log=log)
    chart = alt.Chart(style.rounded(hist)).mark_line(interpolate="step-after").encode(
        x=alt.X("bin_mid:Q", scale=alt.Scale(type="log" if log else "linear"),
                title=SEQUENCE_MEASURES[column]),
        y=alt.Y("density:Q", title="share of sequences"),
        color=alt.Color("generation:O", scale=alt.Scale(scheme="viridis"), title="generation"),
        tooltip=["generation", alt.Tooltip("bin_mid:Q", title=SEQUENCE_MEASURES[column],
                                           format=".2f"),
                 alt.Tooltip("count:Q", title="sequences")],
    )
    name = style.REGIME_NAMES.get(regime, regime)
    return style.style(chart.properties(
        width=style.CONTAINER, height=style.HEIGHT,
        title=style.title(f"Data generated in the {name} regime")),
        description=f"Histogram, one line per generation, of the {SEQUENCE_MEASURES[column]} of "
                    f"the sequences each generation wrote in the {name} regime.")


def language_chart(results: pd.DataFrame, reference: dict) -> alt.HConcatChart:
    """True log-likelihood of each generation's text, and the rare words' mass it still uses
    (chapter 6). Only for the synthetic language, whose true probabilities are known. Dashed:
    the real training text."""
    real = reference.get("real_train_text", {})
    panels = []
    for measure, title in [("true_nll_per_word", "true NLL per word (nats)"),
                           ("rare_mass_kept", "rare words' true mass still used")]:
        chart = _band(results, measure, title)
        if measure in real:
            chart += _rule(real[measure], "truth")
        panels.append(chart.properties(width=style.WIDTH // 2, height=220))
    return style.style(alt.hconcat(*panels), description=(
        "Two panels over the generations, one line per data regime with the band over the "
        "seeds: the true log-likelihood per word of each generation's text and the true mass of "
        "the rare words it still uses, the real training text dashed."))


def control_chart(control: pd.DataFrame, measure: str = "test_ppl") -> alt.Chart:
    """A control of :func:`collapse_utils.lm.controls.run_control` (chapter 6): ``measure`` per
    generation, one line per value of the setting (one panel per regime when there are several)."""
    titles = {"test_ppl": "test perplexity (real data)",
              "q5": "5th percentile, generation-0 perplexity",
              "q50": "median, generation-0 perplexity",
              "q99": "99th percentile, generation-0 perplexity"}
    check_choice("measure", measure, tuple(titles))
    setting = control.setting.iloc[0]
    name = setting.replace("_", " ")
    values = list(dict.fromkeys(control.value))
    # The panels' headers name the regimes (a wrapped facet cannot relabel its headers).
    regimes = _regimes(control.regime)
    names = [style.REGIME_NAMES.get(r, r) for r in regimes]
    data = control.assign(regime_name=control.regime.map(dict(zip(regimes, names, strict=True))))
    chart = alt.Chart(style.rounded(data)).transform_calculate(
        value_name=style.names_expr(_VALUE_NAMES, "datum.value"),
    ).mark_line(point=True).encode(
        x=alt.X("generation:O", axis=alt.Axis(labelAngle=0)),
        y=alt.Y(f"{measure}:Q", title=titles[measure], scale=alt.Scale(zero=False)),
        color=alt.Color("value:N", title=name, scale=style.scale(values),
                        legend=alt.Legend(labelExpr=style.names_expr(_VALUE_NAMES))),
        tooltip=[alt.Tooltip("regime_name:N", title="regime"), "generation",
                 alt.Tooltip("value_name:N", title=name),
                 alt.Tooltip(f"{measure}:Q", title=titles[measure], format=".2f")])
    width = style.CONTAINER if len(regimes) == 1 else style.WIDTH // 2
    chart = chart.properties(width=width, height=180)
    if len(regimes) > 1:
        chart = chart.facet(facet=alt.Facet("regime_name:N", title=None, sort=names,
                                            header=alt.Header(labelFontSize=12)),
                            columns=len(regimes))
    shown = ", ".join(names)
    return style.style(chart, description=(
        f"The {titles[measure]} over the generations, one line per value of the {name} "
        f"({', '.join(_VALUE_NAMES.get(v, str(v)) for v in values)}), for the regime"
        f"{'s' if len(regimes) > 1 else ''} {shown}."))


def example_texts(samples: pd.DataFrame, regime: str = "replace", seed: int = 0) -> pd.DataFrame:
    """The Example-1 prompt's continuation by each generation's model (chapter 6)."""
    rows = samples[(samples.kind == "prompt") & (samples.regime == regime) & (samples.seed == seed)]
    return (rows.sort_values("generation").set_index("generation")[["continuation"]]
            .rename(columns={"continuation": f"continuation ({regime}, seed {seed})"}))


def paper_comparison(found: dict, reference: dict, penalty: dict,
                     name: str = "cpu-small") -> pd.DataFrame:
    """The paper's numbers for OPT-125m on WikiText-2 beside a run's (chapter 6).

    ``found``: :func:`collapse_utils.lm.metrics.findings` of the run; ``reference``: its
    ``reference``; ``penalty``: :func:`collapse_utils.lm.controls.numbers` of its
    repetition-penalty control; ``name`` labels the run's column.
    """
    last = found["last_generation"]
    key = "repetition_penalty_{}_replace_test_ppl_last"
    ratio = penalty[key.format("2_0")] / penalty[key.format("1_0")]
    rows = [
        ("zero-shot test perplexity of the pretrained model", "115",
         f"{reference['zero_shot_test_ppl']:.2f}"),
        ("generation 0, fine-tuned on real data", "34 (mean)", f"{found['replace_first']:.2f}"),
        ("replace: rise in test perplexity", "+20 to +28 points by generation 9",
         f"{found['replace_last'] - found['replace_first']:+.2f} by generation {last}"),
        ("keep 10 % real: rise in test perplexity", "minor",
         f"{found['keep_real_last'] - found['keep_real_first']:+.2f} by generation {last}"),
        ("repetition penalty 2.0 against none", "doubles perplexity",
         f"{ratio:.2f}x (replace, generation {last}, seed 0)"),
    ]
    columns = ["quantity", "paper (OPT-125m, WikiText-2)", f"ours ({name})"]
    return pd.DataFrame(rows, columns=columns)
