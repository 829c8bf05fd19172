"""What the full experiment costs (the book's GPU appendix): the measured tables of
``benchmarks/results/`` and the Colab T4 estimate built on them.

Not part of ``collapse_utils``: these are measurements of this project's code on named machines,
written by the benchmark scripts beside this file.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from collapse_utils.lm import preset
from collapse_utils.lm.config import WIKITEXT2_TRAIN_BLOCKS

RESULTS = Path(__file__).parent / "results"

#: Datasheet figures behind the T4 estimate: fp16 tensor-core peak (TFLOP/s) and memory bandwidth
#: (GB/s) of a T4 and of the H200 the paper generation was timed on; and the share of the T4's
#: peak that fine-tuning is assumed to reach (an assumption, not a measurement).
T4 = {"tflops": 65.0, "bandwidth": 320.0, "achieved": 0.4}
H200 = {"bandwidth": 4800.0}
#: Fine-tuning work of one ``paper`` generation (replace, 5 epochs): 6 FLOP per parameter per
#: token, 125M parameters, 12.1M tokens.
PAPER_FINETUNE_FLOP = 6 * 125e6 * WIKITEXT2_TRAIN_BLOCKS * 64 * 5
STEPS = ["fine_tuning_s", "generation_s", "scoring_s", "total_s"]


def read(name: str) -> pd.DataFrame:
    """A table of ``benchmarks/results/``."""
    return pd.read_csv(RESULTS / name)


def benchmark_table() -> pd.DataFrame:
    """The last ``bench_lm.py --csv`` on one CPU thread of the book's build machine."""
    table = read("cpu-bench-lm.csv")
    return table[["shape", "what", "work", "baseline_tok_s", "course_tok_s", "ratio", "device",
                  "date"]]


def paper_generation() -> pd.DataFrame:
    """Seconds per step of one ``paper`` generation on the H200, before and after this project's
    GPU work, measured in one session by ``benchmarks/paper_generation.py``: the code before, its
    generation 0; the code now, its generation 0 (which includes compiling the training step)
    and generation 1 (compiled already, as every later generation)."""
    before = read("h200-paper-generation-before.csv").assign(code="before")
    now = read("h200-paper-generation.csv").assign(code="now")
    table = pd.concat([before, now], ignore_index=True)
    table["generation"] = table.unit.str.extract(r"gen(\d+)$")[0].astype(int)
    table = table.set_index(["code", "generation"])[STEPS]
    table.loc[("speed-up", 1), :] = table.loc[("before", 0)] / table.loc[("now", 1)]
    return table.round(2)


def numerics() -> pd.DataFrame:
    """Generation 0's test perplexity and validation loss in the two timed runs: the same
    protocol, seed and data, computed before and now (bf16 both)."""
    cols = ["test_ppl", "best_val_loss"]
    before = read("h200-paper-generation-results-before.csv").query("generation == 0")[cols]
    now = read("h200-paper-generation-results.csv").query("generation == 0")[cols]
    table = pd.concat([before.assign(code="before"), now.assign(code="now")]).set_index("code")
    table.loc["relative difference"] = table.loc["now"] / table.loc["before"] - 1
    return table


def colab_estimate(train_share: float) -> pd.DataFrame:
    """Estimated minutes per generation on a T4 for each regime, training on ``train_share`` of
    WikiText-2's blocks: fine-tuning from its FLOPs at ``T4["achieved"]`` of the T4's peak,
    decoding and scoring from the H200's times (a generation after the first) scaled by the ratio
    of memory bandwidths."""
    h200 = paper_generation().loc[("now", 1)]
    memory = H200["bandwidth"] / T4["bandwidth"]
    replace_s = PAPER_FINETUNE_FLOP / (T4["tflops"] * T4["achieved"] * 1e12)
    paper = preset("paper")
    rows = []
    for regime in paper.regimes:
        # epochs relative to replace's; with real_mix="add" keep_real's set is larger too
        add = regime == "keep_real" and paper.real_mix == "add"
        extra = paper.real_fraction if add else 0.0
        factor = paper.epochs_for(regime) / paper.epochs_for("replace") * (1 + extra)
        train = replace_s * factor * train_share
        decode = h200.generation_s * memory * train_share
        score = h200.scoring_s * memory * train_share
        rows.append({"regime": regime, "fine-tuning": train / 60, "decoding": decode / 60,
                     "scoring": score / 60, "per generation": (train + decode + score) / 60})
    return pd.DataFrame(rows).set_index("regime").round(1)
