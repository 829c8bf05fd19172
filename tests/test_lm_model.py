"""Data, model, fine-tuning, generation and perplexity of collapse_utils.lm (chapter 6)."""

import math
import os
import time

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from collapse_utils.lm import HubUnavailableError, preset, write_synthetic_files
from collapse_utils.lm.__main__ import main
from collapse_utils.lm.config import TrainingSettings
from collapse_utils.lm.data import load_rows, load_splits, make_blocks, tokenize_rows
from collapse_utils.lm.generate import continue_blocks, generation_config
from collapse_utils.lm.model import load_pretrained, opt125m_config
from collapse_utils.lm.runner import real_subset
from collapse_utils.lm.train import (
    Blocks,
    cosine_factor,
    epoch_cosine_factor,
    finetune,
    mean_loss,
    sequence_nll,
)


@pytest.fixture(scope="module")
def tiny(tiny_lm_config):
    cfg = tiny_lm_config()
    pre = load_pretrained(cfg)
    return cfg, pre, load_splits(cfg, pre.tokenizer)


def random_opt(vocab=40, layers=1, hidden=16, seed=0):
    from transformers import OPTForCausalLM

    torch.manual_seed(seed)
    cfg = opt125m_config(
        vocab_size=vocab,
        hidden_size=hidden,
        word_embed_proj_dim=hidden,
        num_hidden_layers=layers,
        ffn_dim=32,
        num_attention_heads=2,
        max_position_embeddings=160,
        dropout=0.0,
    )
    return OPTForCausalLM(cfg).eval()


# --- data ----------------------------------------------------------------------------------


@given(st.lists(st.integers(0, 999), max_size=300), st.integers(1, 70))
@settings(max_examples=60, deadline=None)
def test_blocking_is_exact(ids, block_size):
    blocks = make_blocks(ids, block_size)
    n = len(ids) // block_size
    assert blocks.shape == (n, block_size)
    assert blocks.flatten().tolist() == ids[: n * block_size]


def test_tokenise_concatenates_rows_without_special_tokens(tiny):
    _, pre, _ = tiny
    rows = ["the old tower built the church .\n", "", "in 1360 the mason raised the spire .\n"]
    ids = tokenize_rows(pre.tokenizer, rows, batch=1)
    expected = sum((pre.tokenizer(r, add_special_tokens=False)["input_ids"] for r in rows if r), [])
    assert ids.tolist() == expected
    assert pre.eos_id not in ids.tolist()


def test_files_source_gives_the_same_blocks_as_the_synthetic_source(tiny, tmp_path):
    cfg, pre, splits = tiny
    files = write_synthetic_files(cfg, str(tmp_path))
    from_files = load_splits(cfg.replace(data="files", **files), pre.tokenizer)
    for split in ("train", "validation", "test"):
        assert torch.equal(from_files[split], splits[split])
    assert splits.train.shape[1] == cfg.block_size


def test_keep_real_subset_has_exactly_the_asked_fraction():
    for n, f in [(281, 0.1), (100, 0.0), (100, 1.0), (7, 0.5), (1000, 0.37)]:
        idx = real_subset(n, f, seed=3)
        assert len(idx) == math.floor(f * n + 0.5) and len(set(idx.tolist())) == len(idx)
        assert idx.min() >= 0 if len(idx) else True
    assert not torch.equal(real_subset(281, 0.1, 1), real_subset(281, 0.1, 2))  # fresh each time


def test_padded_blocks_score_like_unpadded_ones():
    model = random_opt()
    long, short = torch.randint(3, 40, (3, 12)), torch.randint(3, 40, (2, 7))
    mixed = Blocks.cat([long, short], pad_id=1)
    sums, counts = sequence_nll(model, mixed, batch_size=5)
    s_long, c_long = sequence_nll(model, long)
    s_short, c_short = sequence_nll(model, short)
    assert counts.tolist() == [11, 11, 11, 6, 6]
    np.testing.assert_allclose(sums, np.concatenate([s_long, s_short]), rtol=1e-5)


# --- perplexity ----------------------------------------------------------------------------


def test_perplexity_matches_a_hand_computation():
    model = random_opt(seed=1)
    blocks = torch.randint(0, 40, (4, 9))
    with torch.no_grad():
        logits = model(input_ids=blocks).logits.double().numpy()
    total, count = 0.0, 0
    for b in range(4):
        for t in range(1, 9):
            z = logits[b, t - 1]
            log_z = np.log(np.exp(z - z.max()).sum()) + z.max()
            total += log_z - z[blocks[b, t]]
            count += 1
    loss = mean_loss(model, blocks, batch_size=3)
    assert loss == pytest.approx(total / count, rel=1e-6)
    hf = model(input_ids=blocks, labels=blocks).loss.item()
    assert loss == pytest.approx(hf, rel=1e-6)
    assert math.exp(loss) == pytest.approx(math.exp(total / count), rel=1e-6)


# --- fine-tuning ---------------------------------------------------------------------------


def test_cosine_schedule_runs_from_lr_to_lr_min():
    lr, lr_min, total = 2e-5, 1e-6, 100
    assert cosine_factor(0, total, 0, lr, lr_min) * lr == pytest.approx(lr)
    assert cosine_factor(total, total, 0, lr, lr_min) * lr == pytest.approx(lr_min)
    mid = cosine_factor(50, total, 0, lr, lr_min) * lr
    assert mid == pytest.approx((lr + lr_min) / 2)


def test_epoch_cosine_matches_torch_cosine_annealing_stepped_per_epoch():
    lr, lr_min, epochs, steps = 2e-5, 1e-6, 5, 7
    opt = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs, eta_min=lr_min)
    for epoch in range(epochs):
        for step in range(epoch * steps, (epoch + 1) * steps):
            factor = epoch_cosine_factor(step, steps, epochs, lr, lr_min)
            assert factor * lr == pytest.approx(opt.param_groups[0]["lr"], rel=1e-12)
        opt.step()  # no gradients: changes nothing, but keeps the scheduler's call order
        sched.step()


def test_finetune_refuses_bad_choices_before_any_work(tiny):
    _, pre, splits = tiny
    kwargs = dict(lr=1e-3, lr_min=1e-5, batch_size=16)
    with pytest.raises(ValueError, match="weights must be one of 'last', 'best_val'"):
        TrainingSettings(weights="best", **kwargs)
    with pytest.raises(ValueError, match="warmup_steps needs lr_schedule='step'"):
        TrainingSettings(warmup_steps=5, **kwargs)
    with pytest.raises(ValueError, match="settings must be a TrainingSettings"):
        finetune(pre.fresh(), Blocks.cat([splits.train]), splits.validation, kwargs, epochs=1)


@pytest.mark.parametrize("weights", ["best_val", "last"])
def test_finetune_keeps_the_weights_asked_for(tiny, weights):
    cfg, pre, splits = tiny
    model = pre.fresh()
    res = finetune(
        model,
        Blocks.cat([splits.train]),
        splits.validation,
        TrainingSettings(lr=5e-3, lr_min=1e-4, batch_size=16, weights=weights),
        epochs=4,
        seed=1,
    )
    assert len(res.val_losses) == 4
    assert res.best_epoch == int(np.argmin(res.val_losses)) + 1
    kept = res.best_val_loss if weights == "best_val" else res.val_losses[-1]
    assert mean_loss(model, splits.validation) == pytest.approx(kept, rel=1e-6)


# --- generation ----------------------------------------------------------------------------


def eos_loving(model, eos):
    def hook(module, inputs, output):
        output = output.clone()
        output[..., eos] += 100.0
        return output

    model.lm_head.register_forward_hook(hook)
    return model


def test_every_block_gets_exactly_new_tokens_even_when_eos_is_likeliest():
    model = eos_loving(random_opt(seed=2), eos=2)
    prompts = torch.randint(3, 40, (5, 64))
    cfg = generation_config(new_tokens=64, num_beams=5, repetition_penalty=3.0, pad_id=1, eos_id=2)
    cfg.min_new_tokens = None  # plain generate stops at once
    plain = model.generate(
        input_ids=prompts, attention_mask=torch.ones_like(prompts), generation_config=cfg
    )
    assert plain.shape[1] < 64 + 64
    new = continue_blocks(model, prompts, new_tokens=64, num_beams=5, batch_size=2, eos_id=2)
    assert new.shape == (5, 64)
    assert not (new == 2).any()


def test_generation_is_deterministic_and_batch_independent(tiny):
    _, pre, splits = tiny
    model = pre.fresh()
    prompts = splits.train[:6]
    a = continue_blocks(model, prompts, new_tokens=16, batch_size=6, eos_id=pre.eos_id)
    b = continue_blocks(model, prompts, new_tokens=16, batch_size=4, eos_id=pre.eos_id)
    assert a.shape == (6, 16)
    assert torch.equal(a, b)


# --- the hub, offline ----------------------------------------------------------------------


def test_hub_model_fails_fast_and_clearly_offline():
    assert os.environ.get("HF_HUB_OFFLINE") == "1"
    start = time.perf_counter()
    with pytest.raises(HubUnavailableError, match="HF_HUB_OFFLINE=1 is set.*cpu-small"):
        load_pretrained(preset("paper", device="cpu", precision="fp32"))
    with pytest.raises(HubUnavailableError, match="wikitext"):
        load_rows(preset("paper"))
    assert time.perf_counter() - start < 20


def test_cli_reports_the_hub_error_without_a_traceback(tmp_path, capsys):
    code = main(
        [
            "--preset",
            "paper",
            "--device",
            "cpu",
            "--precision",
            "fp32",
            "--out",
            str(tmp_path / "run"),
            "--no-progress",
        ]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert "could not load" in err and "Traceback" not in err
