"""Measures of chapter 6, as tidy pandas DataFrames for figures.

- :func:`perplexity`: ``exp`` of the mean negative log-likelihood per predicted token.
- :func:`language_stats`: generated text measured under the true language (offline source):
  true log-likelihood per word, share of words the language cannot produce there, share of rare
  words and rare constructions, distinct words used.
- :func:`summarize`: mean and standard deviation over seeds, per regime and generation.
- :func:`histogram`: binned per-sequence perplexities (log-spaced bins), the paper's Figure 1
  histograms, small enough for an Altair chart.
- :func:`filter_by_gen0`: what a filter by the generation-0 model keeps (chapter 7).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


def perplexity(nll_sum, n_tokens) -> float:
    """``exp(sum of token NLLs / number of tokens)``; arrays are summed first."""
    return float(math.exp(float(np.sum(nll_sum)) / float(np.sum(n_tokens))))


def language_stats(lang, tokenizer, prompts, continuations) -> tuple[pd.DataFrame, dict]:
    """Measure each continuation under the true language.

    Each prompt block is decoded together with its continuation; only the words that start in
    the continuation are scored, each conditioned on its sentence prefix (which may begin in the
    prompt). Text before the block's first sentence end is unscored (a block starts
    mid-sentence), and so is the last word (a block may end inside a word).

    Returns a DataFrame with one row per sequence (``true_logprob``: summed log-probability of
    its valid words in nats; ``n_words``, ``n_invalid``, ``n_slot_words``, ``n_rare_words``,
    ``n_sentences``, ``n_rare_sentences``) and a dict of totals over all sequences
    (see :func:`aggregate_language`).
    """
    prompts = np.asarray(prompts)
    continuations = np.asarray(continuations)
    if len(prompts):
        prompt_text = tokenizer.batch_decode(prompts, clean_up_tokenization_spaces=False)
    else:
        prompt_text = [""] * len(continuations)
    full_ids = np.concatenate([prompts, continuations], axis=1) if len(prompts) else continuations
    full_text = tokenizer.batch_decode(full_ids, clean_up_tokenization_spaces=False)
    rows, words, used = [], set(), set()
    for p, t in zip(prompt_text, full_text, strict=True):
        s = lang.text_stats(t, score_from=len(p), start_known=False, last_word_complete=False)
        rows.append(
            dict(
                true_logprob=s.logprob,
                n_words=s.n_words,
                n_invalid=s.n_invalid,
                n_slot_words=s.n_slot_words,
                n_rare_words=s.n_rare_words,
                n_complete=s.n_complete,
                n_sentences=s.n_sentences,
                n_rare_sentences=s.n_rare_sentences,
            )
        )
        words |= s.words
        used |= s.constructions
    frame = pd.DataFrame(rows)
    return frame, aggregate_language(lang, frame, words, used)


def aggregate_language(lang, frame: pd.DataFrame, words: set, constructions: set) -> dict:
    """Totals over sequences (ratios of sums, so longer texts weigh more).

    ``true_nll_per_word``: mean negative log-likelihood of the valid words under the true
    language (nats; the language's entropy rate for real text); ``invalid_word_rate``: share of
    scored words where a sentence leaves the language; ``grammatical_share``: share of complete
    sentences the language can produce; ``rare_word_share``: share of slot words that are rare;
    ``rare_sentence_share``: share of grammatical sentences built by a rare construction;
    ``rare_mass_kept``: share of the rare words' true mass held by the rare words that still
    appear; ``word_mass_kept``: the same for all words; ``rare_construction_mass_kept``: the same
    for rare constructions; ``distinct_words``, ``distinct_rare_words``.
    """
    tot = frame.sum(numeric_only=True) if len(frame) else pd.Series(dtype=float)

    def ratio(a, b):
        return float(tot.get(a, 0) / tot.get(b, 0)) if tot.get(b, 0) else float("nan")

    valid = tot.get("n_words", 0) - tot.get("n_invalid", 0)
    rare_c = set(lang.rare_templates)
    return {
        "true_nll_per_word": float(-tot.get("true_logprob", 0.0) / valid)
        if valid
        else float("nan"),
        "invalid_word_rate": ratio("n_invalid", "n_words"),
        "grammatical_share": ratio("n_sentences", "n_complete"),
        "rare_word_share": ratio("n_rare_words", "n_slot_words"),
        "rare_sentence_share": ratio("n_rare_sentences", "n_sentences"),
        "rare_mass_kept": lang.rare_mass_kept(words),
        "word_mass_kept": lang.word_mass(words),
        "rare_construction_mass_kept": (
            lang.construction_mass(constructions & rare_c) / lang.construction_mass(rare_c)
        ),
        "distinct_words": len(words),
        "distinct_rare_words": len(words & lang.rare_words),
        "words_scored": int(tot.get("n_words", 0)),
    }


def summarize(results: pd.DataFrame, columns=None) -> pd.DataFrame:
    """Mean, standard deviation and number of seeds of each measure per regime and generation.

    Returns a long DataFrame: regime, generation, measure, mean, sd, n_seeds.
    """
    if columns is None:
        skip = {"seed", "regime", "generation"}
        columns = [
            c
            for c in results.columns
            if c not in skip and pd.api.types.is_numeric_dtype(results[c])
        ]
    long = results.melt(
        id_vars=["regime", "generation", "seed"], value_vars=list(columns), var_name="measure"
    )
    out = (
        long.groupby(["regime", "generation", "measure"], sort=True)["value"]
        .agg(mean="mean", sd="std", n_seeds="count")
        .reset_index()
    )
    return out


def histogram(
    sequences: pd.DataFrame,
    column: str = "gen0_ppl",
    generations=None,
    bins: int = 40,
    by=("regime", "generation"),
    log: bool = True,
) -> pd.DataFrame:
    """Histogram of ``column`` per group (Figure 1 of the paper), on log-spaced bins (``log``,
    for positive values) or evenly spaced ones.

    Returns a DataFrame: the ``by`` columns, ``bin_low``, ``bin_high``, ``bin_mid`` (geometric
    centre, or arithmetic without ``log``), ``count``, ``density`` (share of the group's
    sequences in the bin).
    """
    df = sequences
    if generations is not None:
        df = df[df["generation"].isin(list(generations))]
    values = df[column].to_numpy(dtype=float)
    values = values[np.isfinite(values) & ((values > 0) if log else True)]
    if len(values) == 0:
        return pd.DataFrame(columns=[*by, "bin_low", "bin_high", "bin_mid", "count", "density"])
    top = values.max() * (1 + 1e-9) + (0 if log else 1e-9)
    edges = (np.geomspace if log else np.linspace)(values.min(), top, bins + 1)
    mids = np.sqrt(edges[:-1] * edges[1:]) if log else (edges[:-1] + edges[1:]) / 2
    frames = []
    for key, group in df.groupby(list(by), sort=True):
        v = group[column].to_numpy(dtype=float)
        counts, _ = np.histogram(v[np.isfinite(v)], bins=edges)
        f = pd.DataFrame(
            {
                "bin_low": edges[:-1],
                "bin_high": edges[1:],
                "bin_mid": mids,
                "count": counts,
                "density": counts / max(1, counts.sum()),
            }
        )
        pairs = list(zip(by, key if isinstance(key, tuple) else (key,), strict=True))
        for name, value in reversed(pairs):
            f.insert(0, name, value)
        frames.append(f)
    return pd.concat(frames, ignore_index=True)


def findings(results: pd.DataFrame, sequences: pd.DataFrame) -> dict:
    """The numbers chapter 6 states about a run, in one place: the chapter glues them into its
    prose and ``tests/test_lm_claims.py`` checks its claims against them.

    Per regime, prefixed ``{regime}_``: ``first``/``last``/``peak``: mean test perplexity over
    seeds at generation 0, at the last generation and at its highest; ``rise``:
    ``last / first - 1``; ``worse_each``: whether the mean rises at every generation;
    ``{invalid,true_nll,rare_mass}_{first,last}``: the mean ``invalid_word_rate``,
    ``true_nll_per_word`` and ``rare_mass_kept`` of the text generation 0 and the last
    generation wrote (synthetic source). Percentiles of the sequences those two generations
    wrote, pooled over seeds: ``q{5,50,99}_{first,last}`` of the perplexity under the
    generation-0 model, ``true_q{5,50,99}_{first,last}`` of the true NLL per word.
    ``error_free_max``: the largest share, over regimes and generations, of sequences with no
    invalid word; ``{regime}_q50_{error_free,with_errors}_first``: the median perplexity under
    the generation-0 model of generation 0's sequences without and with invalid words.
    """
    last = int(results.generation.max())
    out = {"last_generation": last}
    if "invalid_words" in sequences:
        clean = (sequences.invalid_words == 0).groupby([sequences.regime, sequences.generation])
        out["error_free_max"] = float(clean.mean().max())
    for regime, d in results.groupby("regime"):
        mean = d.groupby("generation").mean(numeric_only=True)
        key = f"{regime}_"
        out[key + "first"] = float(mean.test_ppl.iloc[0])
        out[key + "last"] = float(mean.test_ppl.iloc[-1])
        out[key + "peak"] = float(mean.test_ppl.max())
        out[key + "rise"] = float(mean.test_ppl.iloc[-1] / mean.test_ppl.iloc[0] - 1)
        out[key + "worse_each"] = bool((mean.test_ppl.diff().dropna() > 0).all())
        for column, name in (("invalid_word_rate", "invalid"), ("true_nll_per_word", "true_nll"),
                             ("rare_mass_kept", "rare_mass")):
            if column in mean:
                out[f"{key}{name}_first"] = float(mean[column].iloc[0])
                out[f"{key}{name}_last"] = float(mean[column].iloc[-1])
        s = sequences[sequences.regime == regime]
        if "invalid_words" in s:
            g0 = s[s.generation == 0]
            clean = g0.invalid_words == 0
            out[key + "q50_error_free_first"] = float(g0.gen0_ppl[clean].median())
            out[key + "q50_with_errors_first"] = float(g0.gen0_ppl[~clean].median())
        for g, label in ((0, "first"), (last, "last")):
            part = s[s.generation == g]
            for column, name in (("gen0_ppl", "q"), ("true_nll_per_word", "true_q")):
                if column in part:
                    for q in (5, 50, 99):
                        out[f"{key}{name}{q}_{label}"] = float(part[column].quantile(q / 100))
    return out


def filter_by_gen0(sequences: pd.DataFrame, quantile: float = 0.9) -> pd.DataFrame:
    """Keep generated sequences the generation-0 model finds plausible; describe kept vs removed.

    The threshold is the ``quantile`` of the perplexities of generation 0's own output (per
    regime). Returns, per regime and generation, the share kept and the mean of each measure
    over kept and removed sequences. Used in chapter 7.
    """
    if isinstance(quantile, bool) or not isinstance(quantile, (int, float)) \
            or not 0 < quantile <= 1:
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
