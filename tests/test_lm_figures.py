"""The benchmark tables and the Colab cost estimate of the GPU page (collapse_utils.lm.figures);
the charts of chapters 6 and 7 are tested in test_figures_lm.py."""

import numpy as np
import pytest

from collapse_utils.lm import figures, preset
from collapse_utils.lm.config import WIKITEXT2_TRAIN_BLOCKS


@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_benchmark_tables_are_shipped_and_complete(device):
    table = figures.benchmark_table(device)
    assert set(table["shape"]) == {"opt-125m", "cpu-small"}
    assert set(table["what"]) == {"train", "gen (hf)", "generate"}
    assert np.allclose(table.ratio, table.course_tok_s / table.baseline_tok_s, atol=0.01)
    assert table.device.str.startswith(device).all()


def test_paper_generation_times_add_up():
    times = figures.paper_generation_times()
    cols = ["transformers_generate_s", "course_beam_search_s"]
    assert np.allclose(times[cols].iloc[:3].sum(), times[cols].iloc[3], atol=0.05)


def test_colab_estimate_follows_the_protocol_and_fits_the_session():
    full = figures.colab_estimate(1.0)
    # keep_real trains 10 epochs on a set of the same size (the official mix); replace 5 epochs
    ratio = full.loc["keep_real", "fine-tuning"] / full.loc["replace", "fine-tuning"]
    assert ratio == pytest.approx(10 / 5, abs=0.02)
    assert (full["decoding"] > full["fine-tuning"].min()).all()  # decoding is the larger cost
    # the colab preset's share: 10 generations of both regimes in under 3 hours (the issue's)
    share = preset("colab").max_train_blocks / WIKITEXT2_TRAIN_BLOCKS
    assert 10 * figures.colab_estimate(share)["per generation"].sum() / 60 < 3
