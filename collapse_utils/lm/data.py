"""Data for chapter 6: text sources, tokenisation, and 64-token blocks.

A source gives three lists of text rows (train, validation, test):

- ``"wikitext"``: the Hugging Face dataset ``wikitext`` / ``wikitext-2-raw-v1`` (needs the hub,
  e.g. on Colab);
- ``"files"``: three local text files, one row per line (line ends kept, as in wikitext's rows);
- ``"synthetic"``: text drawn from the course's language (:mod:`.language`), so that the true
  probability of every text is known.

Each split is tokenised row by row with no special tokens, the ids are concatenated, and the
stream is cut into blocks of ``block_size`` tokens; the incomplete last block is dropped.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch

from ._hub import hub_call
from .config import RunConfig
from .language import Language

SPLITS = ("train", "validation", "test")


@dataclass
class Splits:
    """Token blocks of the three splits, each a LongTensor of shape (n_blocks, block_size)."""

    train: torch.Tensor
    validation: torch.Tensor
    test: torch.Tensor

    def __getitem__(self, name: str) -> torch.Tensor:
        return getattr(self, name)


def language(config: RunConfig) -> Language:
    """The synthetic language of a run."""
    return Language(seed=config.language_seed)


def synthetic_rows(config: RunConfig) -> dict[str, list[str]]:
    """The synthetic source's rows: each split drawn with its own seed from ``corpus_seed``."""
    lang = language(config)
    sizes = {
        "train": config.train_sentences,
        "validation": config.validation_sentences,
        "test": config.test_sentences,
    }
    return {
        split: lang.sample_text(n, seed=[config.corpus_seed, i]).splitlines(keepends=True)
        for i, (split, n) in enumerate(sizes.items())
    }


def write_synthetic_files(config: RunConfig, folder: str) -> dict[str, str]:
    """Write the synthetic splits as ``train.txt``, ``validation.txt``, ``test.txt``.

    Returns the ``train_file``/``validation_file``/``test_file`` settings that read them back
    with ``data="files"``.
    """
    os.makedirs(folder, exist_ok=True)
    out = {}
    for split, rows in synthetic_rows(config).items():
        path = os.path.join(folder, f"{split}.txt")
        with open(path, "w", encoding="utf-8") as f:
            f.writelines(rows)
        out[f"{split}_file"] = path
    return out


def read_rows(path: str) -> list[str]:
    """Rows of a text file, line ends kept."""
    with open(path, encoding="utf-8") as f:
        return f.read().splitlines(keepends=True)


def load_rows(config: RunConfig) -> dict[str, list[str]]:
    """The text rows of each split for ``config.data``."""
    if config.data == "synthetic":
        return synthetic_rows(config)
    if config.data == "files":
        return {
            "train": read_rows(config.train_file),
            "validation": read_rows(config.validation_file),
            "test": read_rows(config.test_file),
        }
    import datasets

    ds = hub_call(
        "the dataset 'wikitext' (wikitext-2-raw-v1)",
        lambda: datasets.load_dataset("wikitext", "wikitext-2-raw-v1"),
    )
    return {split: list(ds[split]["text"]) for split in SPLITS}


def tokenize_rows(tokenizer, rows: list[str], batch: int = 2000) -> np.ndarray:
    """Token ids of every row, concatenated (no special tokens)."""
    pieces = []
    for start in range(0, len(rows), batch):
        chunk = [r for r in rows[start : start + batch] if r]
        if chunk:
            enc = tokenizer(chunk, add_special_tokens=False)["input_ids"]
            pieces.extend(np.asarray(ids, dtype=np.int64) for ids in enc)
    return np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int64)


def make_blocks(ids, block_size: int) -> torch.Tensor:
    """Cut a token stream into ``len(ids) // block_size`` blocks; the remainder is dropped."""
    ids = torch.as_tensor(np.asarray(ids), dtype=torch.long)
    n = ids.numel() // block_size
    return ids[: n * block_size].reshape(n, block_size).clone()


def load_splits(config: RunConfig, tokenizer) -> Splits:
    """Tokenise and block the three splits of ``config.data``.

    ``max_train_blocks`` keeps the first blocks of the training split, ``max_eval_blocks`` the
    first blocks of validation and test.
    """
    rows = load_rows(config)
    blocks = {}
    for split in SPLITS:
        b = make_blocks(tokenize_rows(tokenizer, rows[split]), config.block_size)
        limit = config.max_train_blocks if split == "train" else config.max_eval_blocks
        if limit is not None:
            b = b[:limit]
        if len(b) == 0:
            raise ValueError(
                f"the {split} split has fewer than block_size={config.block_size} tokens"
            )
        blocks[split] = b
    return Splits(**blocks)
