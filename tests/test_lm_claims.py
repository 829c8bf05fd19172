"""Every qualitative claim chapters 6 and 7 make about the book's language-model runs, checked
against those runs: a change that breaks a sentence of the book fails here.

The runs are the ones the book build made (``_build/runs``, see ``lm.run_dir``): ``lm.run`` and
``run_control`` resume them and compute nothing. On a machine that has not built the book they
are computed first (about 5 minutes).
"""

import math

import pytest

from collapse_utils import lm
from collapse_utils.lm import controls
from collapse_utils.lm.metrics import findings


@pytest.fixture(scope="module")
def run():
    config = lm.preset("cpu-small", regimes=("replace", "keep_real", "accumulate"))
    return lm.run(config.replace(progress=False), lm.run_dir("cpu-small"))


@pytest.fixture(scope="module")
def found(run):
    two = run.results.regime.isin(["replace", "keep_real"])
    return findings(run.results[two], run.sequences[run.sequences.regime.isin(["replace",
                                                                               "keep_real"])])


@pytest.fixture(scope="module")
def control():
    return {s: controls.numbers(controls.run_control(s)) for s in controls.CONTROLS}


# --- chapter 6: test perplexity ------------------------------------------------------------


def test_replace_is_worse_at_every_generation_and_by_at_least_a_quarter(found):
    assert found["replace_worse_each"]
    assert found["replace_rise"] >= 0.25


def test_keep_real_rises_at_most_a_third_as_much_and_stops_rising(found):
    assert found["keep_real_rise"] <= found["replace_rise"] / 3
    assert found["keep_real_last"] < found["keep_real_peak"]


# --- chapter 6: Figure 1 --------------------------------------------------------------------


def test_under_the_generation_0_model_the_whole_replace_histogram_moves_right(found):
    assert found["replace_q99_last"] > found["replace_q99_first"]
    assert found["replace_q5_last"] > found["replace_q5_first"]


def test_under_the_true_language_mass_moves_low_and_a_tail_grows(found):
    assert found["replace_true_q5_last"] < found["replace_true_q5_first"]
    assert found["replace_true_q99_last"] > found["replace_true_q99_first"]


def test_almost_no_sequence_is_free_of_invented_words_and_errors_raise_perplexity(found):
    assert found["error_free_max"] < 0.1
    assert found["replace_q50_error_free_first"] < found["replace_q50_with_errors_first"]


# --- chapter 6: the true language ------------------------------------------------------------


def test_replace_loses_rare_words_invents_words_and_becomes_more_typical(run, found):
    real = run.reference["real_train_text"]["true_nll_per_word"]
    assert found["replace_rare_mass_last"] < found["replace_rare_mass_first"] < 1
    assert found["replace_invalid_last"] > found["replace_invalid_first"]
    assert found["replace_true_nll_last"] < found["replace_true_nll_first"]
    assert found["replace_true_nll_last"] < real
    assert found["keep_real_true_nll_last"] > real


# --- chapter 6: controls -------------------------------------------------------------------


def test_every_penalty_collapses_and_two_ends_above_none(control):
    c = control["repetition_penalty"]
    for rho in ("1_0", "2_0", "3_0"):
        key = f"repetition_penalty_{rho}_replace_test_ppl"
        assert c[key + "_last"] >= 1.25 * c[key + "_first"], rho
    assert (c["repetition_penalty_2_0_replace_test_ppl_last"]
            > c["repetition_penalty_1_0_replace_test_ppl_last"])


def test_no_penalty_gives_the_likeliest_text_and_no_generation_goes_below_it():
    frame = controls.run_control("repetition_penalty")
    floor = frame.query("value == '1.0' and generation == 0").q5.item()
    assert floor < frame.query("value == '3.0' and generation == 0").q5.item()
    assert (frame.query("generation > 0").q5 >= floor).all()


def test_best_validation_weights_damp_replace_more_than_keep_real(control):
    c = control["weights"]
    replace = c["weights_last_replace_test_ppl_last"] - c["weights_best_val_replace_test_ppl_last"]
    keep = abs(c["weights_last_keep_real_test_ppl_last"]
               - c["weights_best_val_keep_real_test_ppl_last"])
    assert replace > 0 and keep < replace


def test_how_real_data_are_mixed_in_matters_little_next_to_the_regime(control, found):
    c = control["real_mix"]
    gap = abs(c["real_mix_add_keep_real_test_ppl_last"]
              - c["real_mix_batches_keep_real_test_ppl_last"])
    assert gap < (found["replace_last"] - found["keep_real_last"]) / 10


# --- chapter 7 -----------------------------------------------------------------------------


def test_accumulate_rises_least_and_is_still_rising(run):
    mean = run.results.groupby(["regime", "generation"]).test_ppl.mean().unstack(0)
    rise = mean.iloc[-1] / mean.iloc[0] - 1
    assert rise["accumulate"] < rise["keep_real"] < rise["replace"]
    assert mean["accumulate"].iloc[-1] > mean["accumulate"].iloc[-2]  # "still rises"


def test_accumulate_takes_more_gradient_steps(run):
    r = run.results[run.results.generation == run.results.generation.max()]
    steps = (r.train_blocks / lm.preset("cpu-small").batch_size).map(math.ceil) * r.epochs
    by = steps.groupby(r.regime).mean()
    assert by["accumulate"] > by["keep_real"] > by["replace"]


def test_filtering_by_gen0_keeps_less_and_what_passes_is_hardly_cleaner(run):
    from collapse_utils.lm.metrics import filter_by_gen0

    f = filter_by_gen0(run.sequences.query("regime != 'accumulate'"), quantile=0.9)
    for _, part in f.groupby("regime"):
        part = part.sort_values("generation")
        assert (part.kept_share.diff().dropna() <= 0).all()
        assert part.kept_share.iloc[-1] <= 0.01
        first = part.iloc[0]
        assert first["invalid_words kept"] < first["invalid_words removed"]
        later = part.iloc[1:].dropna(subset=["invalid_words kept"])
        assert (later["invalid_words kept"] >= 0.9 * later["invalid_words removed"]).all()
