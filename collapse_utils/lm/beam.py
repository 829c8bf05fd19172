"""Beam search for OPT that keeps each prompt's keys and values once (chapter 6, speed).

``transformers``' ``generate`` copies every beam's whole key-value cache at every step: once to
append the new token, once to reorder the beams. Profiled on an H100 (5-way beam search, 64-token
prompts, 64 new tokens), those two copies took about 60% of the decoding time. Here the prompt's
keys and values are computed once per prompt and shared by its beams; only the new tokens' keys
and values belong to a beam, in a preallocated buffer, so a step moves a fraction of the bytes.

The search is the one :func:`.generate.generation_config` asks ``generate`` for: log-softmax of the
logits in fp32, the repetition penalty applied to those log-probabilities (as ``transformers``
does), end-of-sequence banned until ``new_tokens`` tokens exist, the ``num_beams`` continuations
with the highest summed log-probability kept at each step, the best beam returned. Tests check
that it returns the same tokens as ``generate``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def supports(model) -> bool:
    """Whether :func:`beam_search` implements ``model``: an ``OPTForCausalLM`` with layer norm
    before attention and no input/output projection (opt-125m and the course's tiny OPT)."""
    if type(model).__name__ != "OPTForCausalLM":
        return False
    dec = model.model.decoder
    return bool(model.config.do_layer_norm_before) and dec.project_in is None and (
        dec.project_out is None
    )


def _split(x: torch.Tensor, heads: int) -> torch.Tensor:
    """(n, L, D) -> (n, heads, L, D / heads)."""
    n, length, d = x.shape
    return x.view(n, length, heads, d // heads).transpose(1, 2)


def _feed_forward(layer, x: torch.Tensor) -> torch.Tensor:
    return x + layer.fc2(layer.activation_fn(layer.fc1(layer.final_layer_norm(x))))


def _penalize(log_probs: torch.Tensor, seq: torch.Tensor, penalty: float) -> torch.Tensor:
    """transformers' repetition penalty: every token already in the sequence has its
    (log-)score multiplied by ``penalty`` if negative, divided by it if positive."""
    if penalty == 1.0:
        return log_probs
    seen = log_probs.gather(1, seq)
    seen = torch.where(seen < 0, seen * penalty, seen / penalty)
    return log_probs.scatter(1, seq, seen)


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
    dtype = positions.dtype

    def logits_of(x):  # (m, D) -> (m, V) in fp32
        if dec.final_layer_norm is not None:
            x = dec.final_layer_norm(x)
        return model.lm_head(x).float()

    # the prompts, once each: causal self-attention, keys and values kept per layer
    x = dec.embed_tokens(prompts) + positions[offset : offset + plen]
    prompt_kv = []
    for layer in dec.layers:
        att = layer.self_attn
        h = layer.self_attn_layer_norm(x)
        q = _split(att.q_proj(h) * att.scaling, heads)
        key, value = _split(att.k_proj(h), heads), _split(att.v_proj(h), heads)
        prompt_kv.append((key, value))
        o = F.scaled_dot_product_attention(q, key, value, is_causal=True, scale=1.0)
        x = x + att.out_proj(o.transpose(1, 2).reshape(n, plen, -1))
        x = _feed_forward(layer, x)
    logits = logits_of(x[:, -1])  # (n, V): the same for every beam at the first step

    m = n * k
    steps = new_tokens - 1  # tokens fed back (the last one is only chosen)
    head_dim = positions.shape[1] // heads
    buffers = [
        (
            torch.empty(m, heads, steps, head_dim, dtype=dtype, device=prompts.device),
            torch.empty(m, heads, steps, head_dim, dtype=dtype, device=prompts.device),
        )
        for _ in dec.layers
    ]
    tokens = torch.empty(n, k, new_tokens, dtype=torch.long, device=prompts.device)
    batch_offset = torch.arange(n, device=prompts.device)[:, None] * k
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
        tokens[:, :, t] = token
        if t == steps:
            break
        seq = torch.cat([prompts.repeat_interleave(k, dim=0), tokens.view(m, -1)[:, : t + 1]], 1)
        # feed the chosen tokens: each beam attends to its prompt's keys and to its own new ones
        x = dec.embed_tokens(token.view(m, 1)) + positions[offset + plen + t]
        for layer, (pk, pv), (bk, bv) in zip(dec.layers, prompt_kv, buffers, strict=True):
            if t > 0:
                bk[:, :, :t] = bk[flat_parent, :, :t]
                bv[:, :, :t] = bv[flat_parent, :, :t]
            att = layer.self_attn
            h = layer.self_attn_layer_norm(x)
            q = _split(att.q_proj(h) * att.scaling, heads)  # (m, H, 1, d)
            bk[:, :, t : t + 1] = _split(att.k_proj(h), heads)
            bv[:, :, t : t + 1] = _split(att.v_proj(h), heads)
            qp = q.view(n, k, heads, head_dim).transpose(1, 2)  # (n, H, k, d)
            s_prompt = qp @ pk.transpose(-1, -2)  # (n, H, k, P)
            s_new = (q @ bk[:, :, : t + 1].transpose(-1, -2)).view(n, k, heads, t + 1)
            s = torch.cat([s_prompt, s_new.transpose(1, 2)], dim=-1).float().softmax(-1).to(dtype)
            o_prompt = s[..., :plen] @ pv  # (n, H, k, d)
            p_new = s[..., plen:].transpose(1, 2).reshape(m, heads, 1, t + 1)
            o_new = (p_new @ bv[:, :, : t + 1]).view(n, k, heads, head_dim)
            o = (o_prompt.transpose(1, 2) + o_new).reshape(m, 1, -1)
            x = x + att.out_proj(o)
            x = _feed_forward(layer, x)
        logits = logits_of(x[:, 0])
    return tokens[:, 0]
