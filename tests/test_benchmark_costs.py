"""The GPU appendix's cost tables and Colab estimate (benchmarks/costs.py)."""

import sys
from pathlib import Path

import numpy as np
import pytest

from collapse_utils.lm import preset
from collapse_utils.lm.config import WIKITEXT2_TRAIN_BLOCKS

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
import costs  # noqa: E402


def test_paper_generation_steps_add_up_and_the_speed_up_is_their_ratio():
    table = costs.paper_generation()
    timed = table.drop(index="speed-up")
    steps = ["fine_tuning_s", "generation_s", "scoring_s"]
    assert np.allclose(timed[steps].sum(axis=1), timed.total_s, atol=0.15)
    ratio = table.loc[("before", 0)] / table.loc[("now", 1)]
    assert np.allclose(table.loc[("speed-up", 1)], ratio, atol=0.01)


def test_colab_estimate_follows_the_protocol_and_scales_with_the_data():
    full = costs.colab_estimate(1.0)
    # keep_real trains 10 epochs on a set of the same size (the official mix); replace 5 epochs
    ratio = full.loc["keep_real", "fine-tuning"] / full.loc["replace", "fine-tuning"]
    assert ratio == pytest.approx(10 / 5, abs=0.02)
    half = costs.colab_estimate(0.5)
    assert np.allclose(half.to_numpy(), full.to_numpy() / 2, atol=0.06)


def test_the_colab_preset_fits_a_free_session_and_the_full_protocol_does_not():
    # what book/gpu.md says: the colab preset's 10 generations of both regimes fit in a free
    # session (at most 5 hours here), all of WikiText-2 does not
    share = preset("colab").max_train_blocks / WIKITEXT2_TRAIN_BLOCKS
    hours = lambda s: 10 * costs.colab_estimate(s)["per generation"].sum() / 60  # noqa: E731
    assert hours(share) < 5 < hours(1.0)


def test_the_faster_code_computes_the_same_model():
    # book/gpu.md: generation 0's test perplexity within 1% of the code before
    assert abs(costs.numerics().loc["relative difference", "test_ppl"]) < 0.01


def test_benchmark_table_has_its_ratio():
    table = costs.benchmark_table()
    assert np.allclose(table.ratio, table.course_tok_s / table.baseline_tok_s, atol=0.01)
