"""Timings and cost estimates of the full experiment (the GPU page): the benchmark tables shipped
with the package and the Colab T4 estimate built on them. The charts of chapters 6 and 7 are in
:mod:`collapse_utils.figures.lm`."""

from __future__ import annotations

import pandas as pd

from .config import WIKITEXT2_TRAIN_BLOCKS, preset


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
