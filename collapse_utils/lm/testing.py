"""A very small configuration for tests and quick demos: runs a generation in about a second.

Not a preset of the experiment: the model (1 layer, d=32) and the data (16-token blocks) are too
small to say anything about collapse; they only exercise every step of the protocol.
"""

from __future__ import annotations

from .config import RunConfig, preset

TINY_TEST = dict(
    tiny_layers=1,
    tiny_hidden=32,
    tiny_heads=2,
    tiny_ffn=64,
    tiny_max_positions=48,
    tokenizer_vocab_size=300,
    pretrain_sentences=400,
    pretrain_steps=40,
    pretrain_batch_size=8,
    train_sentences=120,
    validation_sentences=30,
    test_sentences=30,
    block_size=16,
    new_tokens=16,
    batch_size=16,
    eval_batch_size=64,
    gen_batch_size=16,
    epochs_replace=2,
    epochs_keep_real=3,
    epochs_accumulate=2,
    generations=2,
    seeds=(0,),
    progress=False,
)


def tiny_test_config(cache_dir: str, **overrides) -> RunConfig:
    """The ``cpu-small`` preset shrunk to :data:`TINY_TEST`, caching its model in ``cache_dir``."""
    return preset("cpu-small", **{**TINY_TEST, "cache_dir": cache_dir, **overrides})
