import os

import pytest

# Tests never reach the Hugging Face hub.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"

# Chapters executed by the tests (autograding) reuse the runs the book build saved: run_dir
# finds them in the repository's _build/runs (collapse_utils.lm.runner.runs_root).

# Property tests draw the same examples on every run (seeds everywhere): a failure found once is
# found again, and CI never fails on a draw no one can reproduce.
from hypothesis import settings  # noqa: E402

settings.register_profile("course", derandomize=True, print_blob=True)
settings.load_profile("course")


# A very small run of chapter 6's experiment: every step of the protocol in about a second a
# generation. Not a preset: the model (1 layer, d=32) and the data (16-token blocks) are too
# small to say anything about collapse.
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


@pytest.fixture(scope="session")
def tiny_lm_config(tmp_path_factory):
    """``tiny_lm_config(**overrides)``: the cpu-small preset shrunk to TINY_TEST; its pretrained
    model is built once per test session, in one cache."""
    from collapse_utils.lm import preset

    cache = str(tmp_path_factory.getbasetemp() / "lm_cache")

    def make(**overrides):
        return preset("cpu-small", **{**TINY_TEST, "cache_dir": cache, **overrides})

    return make
