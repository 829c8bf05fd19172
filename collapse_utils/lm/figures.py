"""Figures and tables of chapters 6 and 7 from a run's results (see :func:`.load_results`)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from .. import charts
from .config import WIKITEXT2_TRAIN_BLOCKS, preset
from .metrics import histogram, summarize

#: One colour per regime, the same in every chart.
REGIME_PALETTE = {"replace": "#e45756", "keep_real": "#4c78a8", "accumulate": "#54a24b"}


def regime_scale(regimes) -> alt.Scale:
    """The regimes' colours, for the regimes a chart shows (so its legend lists no other)."""
    shown = [r for r in REGIME_PALETTE if r in set(regimes)]
    return alt.Scale(domain=shown, range=[REGIME_PALETTE[r] for r in shown])


def _band(summary: pd.DataFrame, measure: str, title: str) -> alt.LayerChart:
    data = summary[summary.measure == measure].assign(
        low=lambda d: d["mean"] - d.sd.fillna(0), high=lambda d: d["mean"] + d.sd.fillna(0))
    base = alt.Chart(data).encode(
        x=alt.X("generation:O", title="generation", axis=alt.Axis(labelAngle=0)),
        color=alt.Color("regime:N", scale=regime_scale(data.regime), title="regime"))
    band = base.mark_area(opacity=0.2).encode(y=alt.Y("low:Q", title=title,
                                                      scale=alt.Scale(zero=False)), y2="high:Q")
    line = base.mark_line(point=True).encode(
        y="mean:Q", tooltip=["regime", "generation", alt.Tooltip("mean:Q", format=".3f"),
                             alt.Tooltip("sd:Q", format=".3f"), "n_seeds"])
    return band + line


def perplexity_chart(results: pd.DataFrame, zero_shot: float | None = None) -> alt.LayerChart:
    """Test perplexity on the real test set per generation: mean ± sd over seeds, per regime."""
    chart = _band(summarize(results, ["test_ppl"]), "test_ppl", "test perplexity (real data)")
    if zero_shot is not None:
        rule = alt.Chart(pd.DataFrame({"y": [zero_shot], "label": ["pretrained, zero-shot"]}))
        chart += rule.mark_rule(strokeDash=[4, 4], color="gray").encode(y="y:Q")
    return charts.style(chart.properties(width=charts.WIDTH, height=charts.HEIGHT))


#: Axis titles of the per-sequence measures that :func:`histogram_chart` can show.
SEQUENCE_MEASURES = {
    "gen0_ppl": "perplexity of a generated sequence under the generation-0 model",
    "true_nll_per_word": "true NLL per word of a generated sequence (nats, valid words)",
}


def histogram_chart(sequences: pd.DataFrame, regime: str = "replace", generations=None,
                    bins: int = 40, column: str = "gen0_ppl") -> alt.Chart:
    """Figure 1 of the paper: one line per generation, the share of the sequences it wrote in
    each bin of ``column`` (a key of :data:`SEQUENCE_MEASURES`; all seeds pooled). Perplexity
    bins are log-spaced on a log axis."""
    if column not in SEQUENCE_MEASURES:
        raise ValueError(f"column must be one of {', '.join(SEQUENCE_MEASURES)} (got {column!r})")
    log = column == "gen0_ppl"
    hist = histogram(sequences[sequences.regime == regime], column=column,
                     generations=generations, bins=bins, log=log)
    chart = alt.Chart(hist).mark_line(interpolate="step-after").encode(
        x=alt.X("bin_mid:Q", scale=alt.Scale(type="log" if log else "linear"),
                title=SEQUENCE_MEASURES[column]),
        y=alt.Y("density:Q", title="share of sequences"),
        color=alt.Color("generation:O", scale=alt.Scale(scheme="viridis"), title="generation"),
        tooltip=["generation", alt.Tooltip("bin_mid:Q", format=".2f"), "count"],
    )
    return charts.style(chart.properties(width=charts.WIDTH, height=charts.HEIGHT,
                                         title=f"Data generated in the {regime} regime"))


def language_chart(results: pd.DataFrame, reference: dict) -> alt.HConcatChart:
    """True log-likelihood of each generation's text, and the rare words' mass it still uses.

    Only for the synthetic language, whose true probabilities are known. Dashed lines: the
    real training text.
    """
    summary = summarize(results, ["true_nll_per_word", "rare_mass_kept"])
    real = reference.get("real_train_text", {})
    panels = []
    for measure, title in [("true_nll_per_word", "true NLL per word (nats)"),
                           ("rare_mass_kept", "rare words' true mass still used")]:
        chart = _band(summary, measure, title)
        if measure in real:
            rule = alt.Chart(pd.DataFrame({"y": [real[measure]]}))
            chart += rule.mark_rule(strokeDash=[4, 4], color="gray").encode(y="y:Q")
        # two panels and a legend within the page's column
        panels.append(chart.properties(width=(charts.WIDTH - 120) // 2, height=220))
    return charts.style(alt.hconcat(*panels))


def example_texts(samples: pd.DataFrame, regime: str = "replace", seed: int = 0) -> pd.DataFrame:
    """The Example-1 prompt's continuation by each generation's model."""
    rows = samples[(samples.kind == "prompt") & (samples.regime == regime) & (samples.seed == seed)]
    return (rows.sort_values("generation").set_index("generation")[["continuation"]]
            .rename(columns={"continuation": f"continuation ({regime}, seed {seed})"}))


def control_chart(control: pd.DataFrame, measure: str = "test_ppl") -> alt.Chart:
    """A control of :func:`.controls.run_control`: ``measure`` per generation, one line per value
    of the setting (one panel per regime when there are several)."""
    setting = control.setting.iloc[0]
    titles = {"test_ppl": "test perplexity (real data)",
              "q5": "5th percentile, generation-0 perplexity",
              "q99": "99th percentile, generation-0 perplexity"}
    chart = alt.Chart(control).mark_line(point=True).encode(
        x=alt.X("generation:O", axis=alt.Axis(labelAngle=0)),
        y=alt.Y(f"{measure}:Q", title=titles.get(measure, measure), scale=alt.Scale(zero=False)),
        color=alt.Color("value:N", title=setting.replace("_", " ")),
        tooltip=["regime", "generation", "value", alt.Tooltip(f"{measure}:Q", format=".2f")])
    regimes = control.regime.unique()
    width = charts.WIDTH if len(regimes) == 1 else charts.WIDTH // 2
    chart = chart.properties(width=width, height=180)
    if len(regimes) > 1:
        chart = chart.facet(column=alt.Column("regime:N", title=None))
    return charts.style(chart)


def filter_by_gen0(sequences: pd.DataFrame, quantile: float = 0.9) -> pd.DataFrame:
    """Keep generated sequences the generation-0 model finds plausible; describe kept vs removed.

    The threshold is the ``quantile`` of the perplexities of generation 0's own output (per
    regime). Returns, per regime and generation, the share kept and the mean of each measure
    over kept and removed sequences. Used in chapter 7.
    """
    if not 0 < quantile <= 1:
        raise ValueError(f"quantile must be in (0, 1] (got {quantile!r})")
    rows = []
    for regime, group in sequences.groupby("regime"):
        threshold = group[group.generation == 0].gen0_ppl.quantile(quantile)
        kept = group.gen0_ppl <= threshold
        measures = [c for c in ("gen0_ppl", "true_nll_per_word", "invalid_words", "rare_words")
                    if c in group]
        for g, part in group.groupby("generation"):
            keep = kept.loc[part.index]
            row = {"regime": regime, "generation": g, "threshold": threshold,
                   "kept_share": keep.mean()}
            for c in measures:
                row[f"{c} kept"] = part.loc[keep, c].mean()
                row[f"{c} removed"] = part.loc[~keep, c].mean()
            rows.append(row)
    return pd.DataFrame(rows)


def _shipped(name: str) -> pd.DataFrame:
    from importlib.resources import files

    with (files(__package__) / name).open() as f:
        return pd.read_csv(f)


def benchmark_table(device: str = "cpu") -> pd.DataFrame:
    """The last measurement of ``benchmarks/bench_lm.py --csv`` on ``device`` ("cpu": one thread
    of this course's build machine; "cuda": an H100), shipped with the package."""
    table = _shipped({"cpu": "bench_cpu.csv", "cuda": "bench_cuda.csv"}[device])
    return table[["shape", "what", "work", "baseline_tok_s", "course_tok_s", "ratio", "device",
                  "date"]]


#: Datasheet figures behind the T4 estimate: fp16 tensor-core peak (TFLOP/s) and memory bandwidth
#: (GB/s) of a T4 and an H100 SXM 80GB; and the share of the T4's peak that fine-tuning is assumed
#: to reach (an assumption, not a measurement).
T4 = {"tflops": 65.0, "bandwidth": 320.0, "achieved": 0.4}
H100 = {"bandwidth": 3350.0}
#: Fine-tuning work of one ``paper`` generation (replace, 5 epochs): 6 FLOP per parameter per
#: token, 125M parameters, 12.1M tokens.
PAPER_FINETUNE_FLOP = 6 * 125e6 * WIKITEXT2_TRAIN_BLOCKS * 64 * 5


def paper_generation_times() -> pd.DataFrame:
    """One generation of the ``paper`` preset on an H100, step by step (seconds): with
    ``generate``'s beam search and with the course's (``benchmarks/paper_generation.py``)."""
    return _shipped("paper_generation_h100.csv").set_index("step")


def colab_estimate(train_share: float) -> pd.DataFrame:
    """Estimated minutes per generation on a T4 for each regime, training on ``train_share`` of
    wikitext-2's blocks: fine-tuning from its FLOPs at ``T4["achieved"]`` of the T4's peak,
    decoding and scoring from the H100 times scaled by the ratio of memory bandwidths."""
    h100 = paper_generation_times().course_beam_search_s
    decode_s, score_s = h100.iloc[1], h100.iloc[2]
    memory = H100["bandwidth"] / T4["bandwidth"]
    replace_s = PAPER_FINETUNE_FLOP / (T4["tflops"] * T4["achieved"] * 1e12)
    paper = preset("paper")
    rows = []
    for regime in paper.regimes:
        # epochs relative to replace's; with real_mix="add" keep_real's set is larger too
        add = regime == "keep_real" and paper.real_mix == "add"
        extra = paper.real_fraction if add else 0.0
        factor = paper.epochs_for(regime) / paper.epochs_for("replace") * (1 + extra)
        train = replace_s * factor * train_share
        decode = decode_s * memory * train_share
        score = score_s * memory * train_share
        rows.append({"regime": regime, "fine-tuning": train / 60, "decoding": decode / 60,
                     "scoring": score / 60, "per generation": (train + decode + score) / 60})
    return pd.DataFrame(rows).set_index("regime").round(1)
