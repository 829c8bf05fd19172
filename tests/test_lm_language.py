"""The synthetic language with known probabilities (collapse_utils.lm.language, chapter 6)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collapse_utils.lm.language import CLASSES, CONSTRUCTIONS, SOMERSET_SENTENCE, Language

LANG = Language(seed=0)


def test_construction_probabilities_sum_to_one_and_parse_uniquely():
    assert math.isclose(sum(p for _, p in CONSTRUCTIONS), 1.0)
    for i, t in enumerate(LANG.templates):
        words = [LANG_first_word(item) for item in t]
        assert LANG.parse(words) == i


def LANG_first_word(item):
    return CLASSES[item][0] if item in CLASSES else item


@given(st.integers(0, 10_000))
@settings(max_examples=25, deadline=None)
def test_next_word_probabilities_sum_to_one_after_any_prefix(seed):
    sentence = LANG.sample_sentences(1, seed)[0].split()
    vocab = LANG.vocabulary
    for cut in range(len(sentence)):
        prefix = sentence[:cut]
        total = sum(
            math.exp(lp)
            for w in vocab
            if (lp := LANG.word_logprobs([*prefix, w])[-1]) not in (None, -math.inf)
        )
        assert total == pytest.approx(1.0, abs=1e-12)


def test_sentence_probability_is_the_product_of_its_factors():
    t = "the ADJ NOUN VERB the NOUN .".split()
    sentence = ["the", "old", "tower", "built", "the", "church", "."]
    p_t = dict((c, p) for c, p in CONSTRUCTIONS)["the ADJ NOUN VERB the NOUN ."]
    expected = math.log(p_t) + sum(
        math.log(LANG.word_prob(w)) for item, w in zip(t, sentence, strict=True) if item in CLASSES
    )
    assert LANG.sentence_logprob(" ".join(sentence)) == pytest.approx(expected, rel=1e-12)


def test_impossible_words_get_minus_infinity_then_none_until_the_sentence_ends():
    lps = LANG.word_logprobs("the tower zzz the old . the".split())
    assert lps[0] > -math.inf and lps[1] > -math.inf
    assert lps[2] == -math.inf and lps[3] is None and lps[4] is None and lps[5] is None
    assert lps[6] > -math.inf  # a new sentence starts after "."
    assert LANG.sentence_logprob("the tower zzz .") == -math.inf
    unknown_start = LANG.word_logprobs("tower built the church . the".split(), start_known=False)
    assert unknown_start[:5] == [None] * 5 and unknown_start[5] > -math.inf


def test_entropy_and_rare_shares_match_a_large_sample():
    sentences = LANG.sample_sentences(20_000, seed=5)
    text = " ".join(sentences)
    stats = LANG.text_stats(text, start_known=True)
    exp = LANG.expected_stats()
    assert stats.n_invalid == 0 and stats.n_sentences == stats.n_complete == 20_000
    # NLL per word: the per-sentence NLL has sd ~ 5 nats; ratio estimator, 5 standard errors.
    nll = -stats.logprob / stats.n_words
    per_sentence = np.array([-LANG.sentence_logprob(s) for s in sentences[:2000]])
    se = per_sentence.std() / math.sqrt(20_000) / exp["words_per_sentence"]
    assert abs(nll - exp["entropy_per_word"]) < 5 * se
    p = exp["rare_word_share"]
    assert (
        abs(stats.n_rare_words / stats.n_slot_words - p)
        < 5 * math.sqrt(p * (1 - p) / stats.n_slot_words) * 1.5
    )  # slots within a sentence are independent
    q = exp["rare_sentence_share"]
    assert abs(stats.n_rare_sentences / stats.n_sentences - q) < 5 * math.sqrt(q * (1 - q) / 20_000)
    assert LANG.rare_mass_kept(stats.words) == pytest.approx(1.0)
    assert LANG.word_mass(stats.words) == pytest.approx(1.0)


def test_rare_words_are_the_tail_of_each_class():
    for cls, words in CLASSES.items():
        rare = [w for w in words if w in LANG.rare_words]
        common = [w for w in words if w not in LANG.rare_words]
        assert rare and common
        assert max(LANG.word_prob(w) for w in rare) <= min(LANG.word_prob(w) for w in common)
        assert sum(LANG.word_prob(w) for w in rare) <= LANG.rare_tail + 1e-12, cls
    assert LANG.rare_mass_kept(set()) == 0.0


def test_sampling_is_reproducible_and_temperature_flattens():
    assert LANG.sample_text(50, seed=3) == LANG.sample_text(50, seed=3)
    assert LANG.sample_text(50, seed=3) != LANG.sample_text(50, seed=4)
    hot = LANG.text_stats(
        " ".join(LANG.sample_sentences(3000, 1, temperature=3.0)), start_known=True
    )
    cold = LANG.text_stats(" ".join(LANG.sample_sentences(3000, 1)), start_known=True)
    assert hot.n_rare_words / hot.n_slot_words > cold.n_rare_words / cold.n_slot_words + 0.1


def test_score_from_counts_only_the_continuation():
    prompt = "built the church . the old tower"
    text = prompt + " built the church . a"
    stats = LANG.text_stats(text, score_from=len(prompt), start_known=False)
    assert stats.n_words == 5  # built the church . a
    assert stats.n_complete == 0  # the sentence started in the prompt
    full = LANG.text_stats(text, start_known=False)
    assert full.n_complete == 1 and full.n_sentences == 1
    cut = LANG.text_stats(
        "the old tower built the church . the old tow", start_known=True, last_word_complete=False
    )
    assert cut.n_words == 9 and cut.n_invalid == 0  # "tow" may be the start of "tower"
    assert LANG.text_stats("the old tow", start_known=True).n_invalid == 1


def test_somerset_prompt_is_in_the_language():
    words = SOMERSET_SENTENCE.split()
    assert all(lp is not None and lp > -math.inf for lp in LANG.word_logprobs(words))
