"""The course's beam search for OPT (collapse_utils.lm.beam) returns what generate() returns."""

import pytest
import torch

from collapse_utils.lm import preset
from collapse_utils.lm.beam import beam_search, supports
from collapse_utils.lm.generate import continue_blocks, generation_config
from collapse_utils.lm.model import opt125m_config


def opt(seed=0, vocab=300, hidden=64, layers=2, heads=4, **changes):
    from transformers import OPTForCausalLM

    values = dict(
        vocab_size=vocab,
        hidden_size=hidden,
        word_embed_proj_dim=hidden,
        num_hidden_layers=layers,
        ffn_dim=2 * hidden,
        num_attention_heads=heads,
        max_position_embeddings=128,
        dropout=0.0,
    )
    cfg = opt125m_config(**{**values, **changes})
    cfg._attn_implementation = "sdpa"
    torch.manual_seed(seed)
    return OPTForCausalLM(cfg).eval()


def reference(model, prompts, new_tokens, num_beams, penalty, eos_id=2):
    cfg = generation_config(
        new_tokens=new_tokens,
        num_beams=num_beams,
        repetition_penalty=penalty,
        pad_id=1,
        eos_id=eos_id,
    )
    out = model.generate(
        input_ids=prompts, attention_mask=torch.ones_like(prompts), generation_config=cfg
    )
    return out[:, prompts.shape[1] :]


@pytest.mark.parametrize(
    "seed,vocab,hidden,layers,heads,plen,new,beams,penalty",
    [
        (0, 300, 64, 2, 4, 16, 20, 5, 3.0),
        (1, 1000, 128, 3, 8, 32, 24, 5, 3.0),
        (2, 50, 32, 1, 2, 8, 30, 3, 2.0),  # a small vocabulary: the penalty bites hard
        (3, 300, 64, 2, 4, 16, 12, 1, 1.0),  # one beam and no penalty: greedy decoding
        (4, 300, 64, 2, 4, 5, 2, 4, 3.0),  # two new tokens: the first step and the last
    ],
)
def test_beam_search_returns_the_tokens_generate_returns(
    seed, vocab, hidden, layers, heads, plen, new, beams, penalty
):
    model = opt(seed, vocab, hidden, layers, heads)
    g = torch.Generator().manual_seed(seed)
    prompts = torch.randint(3, vocab, (7, plen), generator=g)
    want = reference(model, prompts, new, beams, penalty)
    got = beam_search(
        model, prompts, new_tokens=new, num_beams=beams, repetition_penalty=penalty, eos_id=2
    )
    assert got.shape == (7, new)
    assert torch.equal(got, want)


def test_beam_search_matches_generate_on_the_pretrained_tiny_model(tiny_pretrained):
    pre, blocks = tiny_pretrained
    model = pre.fresh()
    new = pre.context - blocks.shape[1]  # as far as the context goes
    want = reference(model, blocks, new, 5, 3.0, eos_id=pre.eos_id)
    got = continue_blocks(model, blocks, new_tokens=new, batch_size=8, eos_id=pre.eos_id)
    assert torch.equal(got, want)


@pytest.fixture(scope="module")
def tiny_pretrained(tiny_lm_config):
    from collapse_utils.lm.data import load_splits
    from collapse_utils.lm.model import load_pretrained

    cfg = tiny_lm_config()
    pre = load_pretrained(cfg, progress=False)
    return pre, load_splits(cfg, pre.tokenizer).train[:12]


def test_eos_is_banned_until_the_last_token():
    model = opt(5, vocab=40, hidden=16, layers=1, heads=2)
    model.lm_head.register_forward_hook(lambda m, i, out: out + 100.0 * (torch.arange(40) == 2))
    new = beam_search(
        model, torch.randint(3, 40, (4, 8)), new_tokens=10, num_beams=5,
        repetition_penalty=3.0, eos_id=2,
    )
    assert new.shape == (4, 10) and not bool((new == 2).any())


def test_models_it_does_not_implement_fall_back_to_generate():
    post_ln = opt(6, do_layer_norm_before=False)  # opt-350m's layout
    projected = opt(7, word_embed_proj_dim=32)
    assert supports(opt(0)) and not supports(post_ln) and not supports(projected)
    for model in (post_ln, projected):
        prompts = torch.randint(3, 300, (3, 8), generator=torch.Generator().manual_seed(0))
        got = continue_blocks(model, prompts, new_tokens=6, batch_size=3)
        assert torch.equal(got, reference(model, prompts, 6, 5, 3.0))


def test_decoder_setting_is_checked():
    model, prompts = opt(0), torch.randint(3, 300, (2, 8))
    with pytest.raises(ValueError, match="decoder"):
        continue_blocks(model, prompts, new_tokens=4, decoder="fast")
    with pytest.raises(ValueError, match="decoder"):
        preset("cpu-small", decoder="hf")
    same = continue_blocks(model, prompts, new_tokens=4, decoder="transformers")
    assert torch.equal(same, continue_blocks(model, prompts, new_tokens=4))


def test_prompt_and_new_tokens_must_fit_the_context():
    with pytest.raises(ValueError, match="context"):
        beam_search(
            opt(0), torch.randint(3, 300, (1, 100)), new_tokens=40, num_beams=2,
            repetition_penalty=1.0, eos_id=2,
        )
