"""Charts and tables of chapters 6 and 7 (collapse_utils.figures.lm) from results tables: no run,
no model. The filter of chapter 7 is science (collapse_utils.lm.metrics) and is tested here on the
same tables."""

import json
import re

import numpy as np
import pandas as pd
import pytest

from collapse_utils.figures import lm as lm_figures
from collapse_utils.figures import style
from collapse_utils.lm.metrics import filter_by_gen0


@pytest.fixture
def results():
    rows = []
    for regime, slope in (("replace", 2.0), ("keep_real", 0.5)):
        for seed in range(5):
            for g in range(4):
                rows.append(dict(regime=regime, seed=seed, generation=g,
                                 test_ppl=4 + slope * g + 0.1 * seed,
                                 true_nll_per_word=1.7, rare_mass_kept=0.5 / (g + 1)))
    return pd.DataFrame(rows)


@pytest.fixture
def sequences():
    rng = np.random.default_rng(0)
    frames = []
    for regime in ("replace", "keep_real"):
        for g in range(3):
            ppl = np.exp(rng.normal(1.3 + 0.3 * g, 0.2, 200))
            frames.append(pd.DataFrame(dict(regime=regime, seed=0, generation=g, index=range(200),
                                            gen0_ppl=ppl, invalid_words=rng.poisson(2, 200))))
    return pd.concat(frames, ignore_index=True)


def test_perplexity_chart_bands_span_the_courses_band_over_seeds(results):
    spec = lm_figures.perplexity_chart(results, zero_shot=5.0).to_dict()
    rows = pd.DataFrame(next(v for v in spec["datasets"].values() if "lo" in v[0]))
    row = rows[(rows.regime == "replace") & (rows.generation == 3)].iloc[0]
    seeds = 4 + 2.0 * 3 + 0.1 * np.arange(5)
    assert row["mean"] == pytest.approx(seeds.mean())
    assert [row.lo, row.hi] == pytest.approx(np.quantile(seeds, style.BAND))
    text = json.dumps(spec, ensure_ascii=False)
    assert style.BAND_TEXT.replace("chains", "seeds") in text
    colours = next(x["encoding"]["color"]["scale"] for x in spec["layer"] if "color" in
                   x.get("encoding", {}))
    assert colours["domain"] == ["replace", "keep_real"]  # the course's order and colours
    assert colours["range"] == [style.PALETTE["replace"], style.PALETTE["keep_real"]]


def test_charts_build_and_take_colours_from_the_palette(results, sequences):
    charts = [
        lm_figures.perplexity_chart(results, zero_shot=5.0),
        lm_figures.language_chart(results, {"real_train_text": {"rare_mass_kept": 1.0}}),
        lm_figures.histogram_chart(sequences),
    ]
    for chart in charts:
        text = json.dumps(chart.to_dict())
        hexes = {h.lower() for h in re.findall(r"#[0-9a-fA-F]{6}", text)}
        assert hexes <= {c.lower() for c in style.PALETTE.values()}


def test_histogram_chart_axes(sequences):
    assert lm_figures.histogram_chart(sequences).to_dict()["encoding"]["x"]["scale"]["type"] \
        == "log"
    truth = sequences.assign(true_nll_per_word=sequences.gen0_ppl.map(np.log))
    spec = lm_figures.histogram_chart(truth, column="true_nll_per_word").to_dict()
    assert spec["encoding"]["x"]["scale"]["type"] == "linear"
    with pytest.raises(ValueError, match="column must be one of"):
        lm_figures.histogram_chart(sequences, column="test_ppl")


def test_control_chart_draws_one_line_per_value():
    rows = [dict(setting="weights", value=v, regime=r, generation=g, test_ppl=4.0 + g, q5=1.0,
                 q50=2.0, q99=3.0)
            for v in ("last", "best_val") for r in ("replace", "keep_real") for g in range(3)]
    spec = lm_figures.control_chart(pd.DataFrame(rows)).to_dict()
    assert "facet" in spec and spec["spec"]["encoding"]["color"]["field"] == "value"
    with pytest.raises(ValueError, match="measure must be one of"):
        lm_figures.control_chart(pd.DataFrame(rows), "q42")


def test_example_texts_orders_generations():
    samples = pd.DataFrame(dict(kind="prompt", regime="replace", seed=0, generation=[2, 0, 1],
                                continuation=["c", "a", "b"]))
    table = lm_figures.example_texts(samples)
    assert table.index.tolist() == [0, 1, 2] and table.iloc[:, 0].tolist() == ["a", "b", "c"]


def test_paper_comparison_sets_the_papers_numbers_beside_the_runs():
    found = dict(last_generation=4, replace_first=4.0, replace_last=6.5, keep_real_first=4.0,
                 keep_real_last=4.25)
    penalty = {"repetition_penalty_2_0_replace_test_ppl_last": 9.0,
               "repetition_penalty_1_0_replace_test_ppl_last": 6.0}
    table = lm_figures.paper_comparison(found, {"zero_shot_test_ppl": 12.345}, penalty)
    assert table["ours (cpu-small)"].tolist() == [
        "12.35", "4.00", "+2.50 by generation 4", "+0.25 by generation 4",
        "1.50x (replace, generation 4, seed 0)"]
    assert table["paper (OPT-125m, WikiText-2)"].iloc[0] == "115"


def test_filter_keeps_the_quantile_of_generation_0(sequences):
    out = filter_by_gen0(sequences, quantile=0.9)
    gen0 = out[out.generation == 0]
    assert np.allclose(gen0.kept_share, 0.9, atol=0.01)
    # Later generations drift to higher perplexity, so less passes.
    for _, part in out.groupby("regime"):
        assert np.all(np.diff(part.sort_values("generation").kept_share.to_numpy()) < 0)
    assert (out["gen0_ppl kept"] <= out.threshold + 1e-12).all()
    with pytest.raises(ValueError, match="quantile must be in"):
        filter_by_gen0(sequences, quantile=0)
