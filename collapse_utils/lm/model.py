"""The pretrained model every generation starts from (chapter 6).

- On Colab: ``facebook/opt-125m`` and its tokenizer from the Hugging Face hub (a clear
  :class:`HubUnavailableError` when the hub cannot be reached).
- Offline (``model="tiny"``): a small OPT that the project pretrains itself, once, and caches.
  Its byte-level BPE tokenizer is trained with the ``tokenizers`` library on the pretraining
  corpus; the model (:class:`transformers.OPTForCausalLM`, built from an ``OPTConfig``) is then
  trained on that corpus. With ``data="synthetic"`` the pretraining corpus is the course's language
  drawn at ``pretrain_temperature`` > 1 (the same words and constructions, flatter laws), a
  stand-in for OPT's web corpus, which differs from wikitext2; otherwise it is the run's own
  training split. The cache folder is keyed by a hash of every setting that shapes the model.
- Any local folder holding a causal LM and its tokenizer also works.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import time
from dataclasses import dataclass

import numpy as np
import torch

from .._progress import progress_bar
from . import _io
from ._hub import HubUnavailableError, hub_call
from .config import TINY, RunConfig

#: Bumped when the pretraining procedure changes, so that old caches are not reused.
PRETRAIN_VERSION = 1

#: Special tokens of the project's tokenizer, at the ids OPT uses (pad 1, bos = eos 2).
SPECIAL_TOKENS = ["<s>", "<pad>", "</s>", "<unk>"]

__all__ = [
    "Pretrained",
    "load_pretrained",
    "tiny_pretrained",
    "opt125m_config",
    "HubUnavailableError",
]


def default_cache_dir() -> str:
    return os.environ.get("COLLAPSE_UTILS_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "collapse_utils"
    )


def opt125m_config(**changes):
    """An ``OPTConfig`` with the shape of ``facebook/opt-125m`` (12 layers, d=768, 12 heads,
    ffn 3072, vocabulary 50272, 2048 positions); no download."""
    from transformers import OPTConfig

    values = dict(
        vocab_size=50272,
        hidden_size=768,
        num_hidden_layers=12,
        ffn_dim=3072,
        num_attention_heads=12,
        max_position_embeddings=2048,
        word_embed_proj_dim=768,
        do_layer_norm_before=True,
        dropout=0.1,
        attention_dropout=0.0,
        activation_function="relu",
        pad_token_id=1,
        bos_token_id=2,
        eos_token_id=2,
    )
    values.update(changes)
    return OPTConfig(**values)


def tiny_config(config: RunConfig, vocab_size: int):
    """The ``OPTConfig`` of the project's small OPT."""
    return opt125m_config(
        vocab_size=vocab_size,
        hidden_size=config.tiny_hidden,
        word_embed_proj_dim=config.tiny_hidden,
        num_hidden_layers=config.tiny_layers,
        ffn_dim=config.tiny_ffn,
        num_attention_heads=config.tiny_heads,
        max_position_embeddings=config.tiny_max_positions,
        dropout=config.tiny_dropout,
    )


@dataclass
class Pretrained:
    """A pretrained causal LM kept on the CPU, from which each generation starts afresh."""

    name: str  #: hub id or folder
    tokenizer: object
    master: torch.nn.Module  #: the pretrained weights (CPU, fp32, eval mode)

    @property
    def context(self) -> int:
        return int(self.master.config.max_position_embeddings)

    @property
    def pad_id(self) -> int:
        pad = self.tokenizer.pad_token_id
        return int(pad if pad is not None else self.master.config.pad_token_id or 0)

    @property
    def eos_id(self) -> int | None:
        eos = self.tokenizer.eos_token_id
        return None if eos is None else int(eos)

    def fresh(self, device: str = "cpu") -> torch.nn.Module:
        """A new copy of the pretrained model on ``device``."""
        return copy.deepcopy(self.master).to(device)


def load_pretrained(config: RunConfig, progress: bool | None = None) -> Pretrained:
    """The pretrained model and tokenizer of a run (downloading, or pretraining "tiny" once)."""
    progress = config.progress if progress is None else progress
    if config.model == TINY:
        path = tiny_pretrained(config, progress=progress)
        return _load_folder(path, path)
    if os.path.isdir(config.model):
        return _load_folder(config.model, config.model)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = hub_call(
        f"the tokenizer of {config.model!r}", lambda: AutoTokenizer.from_pretrained(config.model)
    )
    model = hub_call(
        f"the model {config.model!r}",
        lambda: AutoModelForCausalLM.from_pretrained(
            config.model, dtype=torch.float32, attn_implementation="sdpa"
        ),
    )
    model.eval()
    return Pretrained(config.model, tok, model)


def _load_folder(name: str, path: str) -> Pretrained:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(
        path, dtype=torch.float32, attn_implementation="sdpa"
    )
    model.eval()
    return Pretrained(name, tok, model)


# --- the project's own small OPT ---------------------------------------------------------------


def _pretrain_settings(config: RunConfig) -> dict:
    keys = [
        "tiny_layers",
        "tiny_hidden",
        "tiny_heads",
        "tiny_ffn",
        "tiny_max_positions",
        "tiny_dropout",
        "tokenizer_vocab_size",
        "pretrain_sentences",
        "pretrain_temperature",
        "pretrain_steps",
        "pretrain_batch_size",
        "pretrain_lr",
        "pretrain_seed",
        "data",
    ]
    out = {k: getattr(config, k) for k in keys}
    out["version"] = PRETRAIN_VERSION
    if config.data == "synthetic":
        out["language_seed"] = config.language_seed
    elif config.data == "files":
        with open(config.train_file, "rb") as f:
            out["train_sha256"] = hashlib.sha256(f.read()).hexdigest()
    return out


def tiny_cache_path(config: RunConfig) -> str:
    settings = _pretrain_settings(config)
    key = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]
    return os.path.join(config.cache_dir or default_cache_dir(), "pretrained", f"tiny-opt-{key}")


def pretraining_text(config: RunConfig) -> list[str]:
    """The rows the tiny model (and its tokenizer) are pretrained on."""
    if config.data == "synthetic":
        from .data import language

        text = language(config).sample_text(
            config.pretrain_sentences,
            seed=[config.pretrain_seed, 99],
            temperature=config.pretrain_temperature,
        )
        return text.splitlines(keepends=True)
    from .data import load_rows

    return load_rows(config)["train"]


def train_tokenizer(rows: list[str], vocab_size: int, folder: str):
    """Train a byte-level BPE tokenizer on ``rows``; save it to ``folder`` and return it wrapped
    as a ``PreTrainedTokenizerFast`` (pad 1, bos = eos 2, as OPT)."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import PreTrainedTokenizerFast

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(
        rows,
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=SPECIAL_TOKENS,
        show_progress=False,
    )
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "tokenizer.json")
    bpe.save(path)
    tok = PreTrainedTokenizerFast(
        tokenizer_file=path,
        bos_token="</s>",
        eos_token="</s>",
        pad_token="<pad>",
        unk_token="<unk>",
    )
    tok.save_pretrained(folder)
    return tok


def tiny_pretrained(config: RunConfig, progress: bool = True) -> str:
    """Folder of the project's pretrained small OPT for ``config``; pretrains it if not cached."""
    path = tiny_cache_path(config)
    if os.path.isfile(os.path.join(path, "pretrain.json")):
        return path

    def write(folder: str) -> None:
        from transformers import OPTForCausalLM

        start = time.perf_counter()
        rows = pretraining_text(config)
        tok = train_tokenizer(rows, config.tokenizer_vocab_size, folder)
        from .data import make_blocks, tokenize_rows

        blocks = make_blocks(tokenize_rows(tok, rows), config.tiny_max_positions)
        if len(blocks) == 0:
            raise ValueError("the pretraining corpus is shorter than tiny_max_positions tokens")
        torch.manual_seed(config.pretrain_seed)
        model = OPTForCausalLM(tiny_config(config, len(tok)))
        losses = pretrain(model, blocks, config, progress=progress)
        model.eval()
        model.save_pretrained(folder)
        _io.write_json(
            os.path.join(folder, "pretrain.json"),
            {
                "settings": _pretrain_settings(config),
                "parameters": sum(p.numel() for p in model.parameters()),
                "vocab_size": len(tok),
                "pretrain_blocks": len(blocks),
                "final_loss": float(np.mean(losses[-20:])) if losses else None,
                "seconds": time.perf_counter() - start,
            },
        )

    try:
        _io.save_dir(path, write)
    except OSError:
        # Another process finished the same model first: use theirs.
        if not os.path.isfile(os.path.join(path, "pretrain.json")):
            raise
    return path


def pretrain(model, blocks: torch.Tensor, config: RunConfig, progress: bool = True) -> list[float]:
    """Train ``model`` on random batches of ``blocks`` (AdamW, 5% warmup, cosine to 10%)."""

    steps = config.pretrain_steps
    opt = torch.optim.AdamW(model.parameters(), lr=config.pretrain_lr, weight_decay=0.01)
    warm = max(1, steps // 20)

    def factor(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        t = (step - warm) / max(1, steps - warm)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, factor)
    gen = torch.Generator().manual_seed(config.pretrain_seed)
    model.train()
    losses = []
    bar = progress_bar(range(steps), desc="pretraining tiny OPT", enabled=progress, leave=False)
    for _ in bar:
        idx = torch.randint(0, len(blocks), (config.pretrain_batch_size,), generator=gen)
        batch = blocks[idx]
        loss = model(input_ids=batch, labels=batch, use_cache=False).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        losses.append(loss.item())
        if len(losses) % 50 == 0:
            bar.set_postfix(loss=f"{np.mean(losses[-50:]):.3f}")
    return losses
