"""Beam search for OPT that never copies a key or value (chapter 6, speed).

``transformers``' ``generate`` copies every beam's whole key-value cache at every step: once to
append the new token, once to reorder the beams. Profiled on an H100 (5-way beam search, 64-token
prompts, 64 new tokens), those two copies took about 60% of the decoding time. Here the prompt's
keys and values are computed once per prompt and shared by its beams, and each new token's keys
and values are written once, into the slot of the beam that fed it. A beam finds its own history
through an ancestry table (which slot held its token at each position): it scores its query
against every slot of its prompt's beams and keeps the scores of its ancestors, so reordering the
beams moves a small table of integers instead of the cache.

The search is the one :func:`.generate.generation_config` asks ``generate`` for: log-softmax of the
logits in fp32, the repetition penalty applied to those log-probabilities (as ``transformers``
does), end-of-sequence banned until ``new_tokens`` tokens exist, the ``num_beams`` continuations
with the highest summed log-probability kept at each step, the best beam returned. Tests check
that it returns the same tokens as ``generate``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .opt import causal_forward, feed_forward, split_heads, supports

__all__ = ["beam_search", "supports"]


def _penalize(log_probs: torch.Tensor, seq: torch.Tensor, penalty: float) -> torch.Tensor:
    """transformers' repetition penalty, in place: every token already in the sequence has its
    (log-)score multiplied by ``penalty`` if negative, divided by it if positive."""
    if penalty == 1.0:
        return log_probs
    seen = log_probs.gather(1, seq)
    return log_probs.scatter_(1, seq, torch.where(seen < 0, seen * penalty, seen / penalty))


@torch.no_grad()
def beam_search(
    model,
    prompts: torch.Tensor,
    *,
    new_tokens: int,
    num_beams: int,
    repetition_penalty: float,
    eos_id: int | None,
) -> torch.Tensor:
    """The best beam's ``new_tokens`` tokens after each prompt, a LongTensor (n, new_tokens).

    ``prompts`` (n, P) are full blocks (no padding), on the model's device.
    """
    dec = model.model.decoder
    heads = dec.layers[0].self_attn.num_heads
    n, plen = prompts.shape
    k = num_beams
    positions = dec.embed_positions.weight
    offset = dec.embed_positions.offset
    if plen + new_tokens > positions.shape[0] - offset:
        raise ValueError(
            f"prompt length {plen} + new_tokens={new_tokens} exceeds the model's context"
        )
    dtype, device = positions.dtype, prompts.device
    x, prompt_kv = causal_forward(model, prompts, keep_kv=True)  # the prompts, once each
    logits = model.lm_head(x[:, -1]).float()  # (n, V): the same for every beam at first

    m = n * k
    steps = new_tokens - 1  # tokens fed back (the last one is only chosen)
    head_dim = positions.shape[1] // heads
    # keys and values of the token fed at position j by slot s of prompt i: [i, :, j * k + s]
    buffers = [
        tuple(torch.empty(n, heads, steps * k, head_dim, dtype=dtype, device=device) for _ in "kv")
        for _ in dec.layers
    ]
    ancestry = torch.empty(m, max(steps, 1), dtype=torch.long, device=device)
    slot = torch.arange(k, device=device).repeat(n)  # each beam's slot within its prompt
    tokens = torch.empty(n, k, new_tokens, dtype=torch.long, device=device)
    batch_offset = torch.arange(n, device=device)[:, None] * k
    repeated = prompts.repeat_interleave(k, dim=0)
    seq = prompts
    scores = None
    for t in range(new_tokens):
        log_probs = _penalize(F.log_softmax(logits, dim=-1), seq, repetition_penalty)
        if eos_id is not None:
            log_probs[:, eos_id] = -float("inf")  # min_new_tokens = new_tokens
        vocab = log_probs.shape[-1]
        if t == 0:
            scores, token = log_probs.topk(k, dim=-1)  # (n, k)
            parent = torch.zeros_like(token)
        else:
            total = (log_probs.view(n, k, vocab) + scores[..., None]).view(n, k * vocab)
            scores, index = total.topk(k, dim=-1)
            parent, token = index // vocab, index % vocab
        flat_parent = (parent + batch_offset).view(-1)
        if t > 0:
            tokens[:, :, :t] = tokens.view(m, new_tokens)[flat_parent, :t].view(n, k, t)
            ancestry[:, :t] = ancestry[flat_parent, :t]
        tokens[:, :, t] = token
        if t == steps:
            break
        ancestry[:, t] = slot
        seq = torch.cat([repeated, tokens.view(m, -1)[:, : t + 1]], 1)
        # which of its prompt's slots holds each beam's token at each position so far
        pick = ancestry[:, : t + 1].view(n, 1, k, t + 1, 1).expand(n, heads, k, t + 1, 1)
        x = dec.embed_tokens(token.view(m, 1)) + positions[offset + plen + t]
        for layer, (pk, pv), (bk, bv) in zip(dec.layers, prompt_kv, buffers, strict=True):
            att = layer.self_attn
            h = layer.self_attn_layer_norm(x)
            q = split_heads(att.q_proj(h) * att.scaling, heads).view(n, k, heads, head_dim)
            for buf, proj in ((bk, att.k_proj), (bv, att.v_proj)):
                new = split_heads(proj(h), heads).view(n, k, heads, head_dim).transpose(1, 2)
                buf.view(n, heads, steps, k, head_dim)[:, :, t] = new
            q = q.transpose(1, 2)  # (n, H, k, d)
            s_prompt = q @ pk.transpose(-1, -2)  # (n, H, k, P)
            s_slots = q @ bk[:, :, : (t + 1) * k].transpose(-1, -2)  # (n, H, k, (t + 1) k)
            s_new = s_slots.view(n, heads, k, t + 1, k).gather(-1, pick).squeeze(-1)
            s = torch.cat([s_prompt, s_new], dim=-1).float().softmax(-1).to(dtype)
            w_new = torch.zeros(n, heads, k, t + 1, k, dtype=dtype, device=device)
            w_new.scatter_(-1, pick, s[..., plen:, None])
            o = s[..., :plen] @ pv + w_new.view(n, heads, k, -1) @ bv[:, :, : (t + 1) * k]
            x = x + att.out_proj(o.transpose(1, 2).reshape(m, 1, -1))
            x = feed_forward(layer, x)
        logits = model.lm_head(dec.final_layer_norm(x[:, 0])).float()
    return tokens[:, 0]
