"""The protocol side by side (chapter 6): the paper, its official code and the course's presets.

:data:`PROTOCOL` names, for each choice that changes what is learned or measured, the settings
that hold it; :func:`protocol_table` reads their values from the presets, so the table cannot
drift from the code.
"""

from __future__ import annotations

from .config import TINY, TINY_SETTINGS, RunConfig, preset

#: The protocol side by side (chapter 6): one row per setting that changes what is learned or
#: measured. Each row: label, the course's setting(s) (or its fixed choice, as text), what the
#: paper states ("" where the course takes nothing from its text), what the official code
#: (iliaishacked/curse_recurse) does, and why the course differs where it does. The course's
#: own values are read from the presets.
PROTOCOL: tuple[tuple[str, tuple[str, ...] | str, str, str, str], ...] = (
    ("model", ("model",), "OPT-125m", "facebook/opt-125m, pretrained (-p)",
     "offline: no hub; a tiny OPT the project pretrains on a flatter version of the language"),
    ("text", ("data",), "WikiText-2", "wikitext-2-raw-v1",
     "offline, and every text's true probability is known"),
    ("tokenizer", ("tokenizer_vocab_size",), "", "OPT's byte-level BPE (50k tokens)",
     "a byte-level BPE trained on the language, sized to its small vocabulary"),
    ("block (tokens)", ("block_size",), "64", "64", ""),
    ("optimizer", ("lr", "lr_min", "weight_decay"), "",
     "AdamW, lr 2e-05 -> 1e-06, weight decay 0.01 (PyTorch's default)",
     "a few hundred blocks move a model only at a larger learning rate"),
    ("schedule", ("lr_schedule",), "", "cosine, stepped once per epoch (T_max = epochs)", ""),
    ("gradient clipping", ("grad_clip",), "", "none", ""),
    ("batch (blocks)", ("batch_size",), "", "128",
     "a few hundred blocks in batches of 128 would be a few steps an epoch"),
    ("precision", ("precision",), "", "fp32",
     "paper preset: bf16/fp16 autocast on a GPU, for speed only"),
    ("epochs (replace / keep real)", ("epochs_replace", "epochs_keep_real"), "5 / 10",
     "5 / 10 (-m)", ""),
    ("real data kept", ("real_fraction", "real_mix"), "10% of the original data",
     "--generate_percentage 0.1: of the set being continued, the first 10% of the shuffled "
     "batches are kept as they are, every later batch is replaced by its continuation (the set "
     "keeps its size)",
     "the same mix drawn per block rather than per batch of 128"),
    ("weights that are tested and generate", ("weights",), "",
     "the model at the end of training (the evaluation script later rescores best.ckpt)", ""),
    ("prompts", ("prompt_source",), "",
     "the current training set (main.py continues what its train loader holds); the script "
     "that chains generations is not published",
     "both presets: real blocks every generation, so that only the model changes"),
    ("decoding", ("num_beams", "new_tokens", "repetition_penalty"),
     "5-way beam search, 64 new tokens",
     "generate(num_beams=5, min_new_tokens=max_new_tokens=64, repetition_penalty=3.0)", ""),
    ("next model trains on", "the new tokens only", "the generated data",
     "the 64 new tokens only", ""),
    ("generations, seeds", ("generations", "seeds"), "0-9, 5 runs", "one run per call",
     "the book's CPU budget"),
    ("Figure 1 scores", "one perplexity per sequence",
     "perplexity of generated data under the generation-0 model",
     "one mean loss per test batch of 16 sequences",
     "a batch mean hides the tails Figure 1 is about (both presets)"),
)


def protocol_table(presets: tuple[str, ...] = ("paper", "cpu-small")):
    """:data:`PROTOCOL` as a DataFrame, with each preset's values read from the preset."""
    import pandas as pd

    configs = {name: preset(name) for name in presets}

    def show_value(cfg: RunConfig, fields) -> str:
        if isinstance(fields, str):
            return fields
        if cfg.model != TINY:  # settings of the offline model only
            fields = tuple(f for f in fields if f not in TINY_SETTINGS)
            if not fields:
                return "the model's own"
        return ", ".join(f"{f}={_short(getattr(cfg, f))}" for f in fields)

    rows = []
    for label, fields, paper, official, why in PROTOCOL:
        row = {"setting": label, "paper": paper, "official code": official}
        for name, cfg in configs.items():
            row[f"{name} preset"] = show_value(cfg, fields)
        row["why the course differs"] = why
        rows.append(row)
    return pd.DataFrame(rows).set_index("setting")


def _short(value) -> str:
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    return str(value)
