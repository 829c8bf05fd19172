"""OPT's forward pass written out (chapter 6, speed).

The same arithmetic as ``transformers``' ``OPTForCausalLM`` for the models the course uses
(opt-125m and its tiny OPT: layer norm before attention, no input/output projection, learned
positions): the training loss, and the prompt pass of :mod:`.beam`. Written as plain functions
of the model's own modules, so that autograd trains the model's parameters, and with fixed shapes
and no data-dependent branches, so that ``torch.compile`` captures a whole training step as one
graph (``transformers``' own forward builds masks and caches that break it into pieces).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def supports(model) -> bool:
    """Whether these functions implement ``model``: an ``OPTForCausalLM`` with layer norm before
    attention, no input/output projection and no layer drop."""
    if type(model).__name__ != "OPTForCausalLM":
        return False
    dec, cfg = model.model.decoder, model.config
    return bool(cfg.do_layer_norm_before) and dec.project_in is None and (
        dec.project_out is None and not getattr(cfg, "layerdrop", 0.0)
    )


def split_heads(x: torch.Tensor, heads: int) -> torch.Tensor:
    """(n, L, D) -> (n, heads, L, D / heads)."""
    n, length, d = x.shape
    return x.view(n, length, heads, d // heads).transpose(1, 2)


def feed_forward(layer, x: torch.Tensor, training: bool = False) -> torch.Tensor:
    """The residual feed-forward block of one decoder layer."""
    h = layer.fc2(layer.activation_fn(layer.fc1(layer.final_layer_norm(x))))
    return x + F.dropout(h, p=layer.dropout, training=training)


def causal_forward(model, ids: torch.Tensor, *, training: bool = False, keep_kv: bool = False):
    """Hidden states after the final layer norm, (n, L, D), of full blocks ``ids`` (n, L) (no
    padding); with ``keep_kv`` also each layer's keys and values, (n, heads, L, D / heads)."""
    dec = model.model.decoder
    n, length = ids.shape
    heads = dec.layers[0].self_attn.num_heads
    offset = dec.embed_positions.offset
    x = dec.embed_tokens(ids) + dec.embed_positions.weight[offset : offset + length]
    kv = []
    for layer in dec.layers:
        att = layer.self_attn
        h = layer.self_attn_layer_norm(x)
        q = split_heads(att.q_proj(h) * att.scaling, heads)
        key, value = split_heads(att.k_proj(h), heads), split_heads(att.v_proj(h), heads)
        if keep_kv:
            kv.append((key, value))
        o = F.scaled_dot_product_attention(
            q, key, value, is_causal=True, scale=1.0, dropout_p=att.dropout if training else 0.0
        )
        o = att.out_proj(o.transpose(1, 2).reshape(n, length, -1))
        x = feed_forward(layer, x + F.dropout(o, p=layer.dropout, training=training), training)
    if dec.final_layer_norm is not None:
        x = dec.final_layer_norm(x)
    return (x, kv) if keep_kv else x


def lm_loss(model, ids: torch.Tensor, training: bool = True) -> torch.Tensor:
    """Mean next-token cross-entropy over full blocks ``ids`` (n, L), as ``model(input_ids=ids,
    labels=ids).loss``: token t predicted from tokens 0..t-1, logits in fp32."""
    logits = model.lm_head(causal_forward(model, ids, training=training))
    return F.cross_entropy(logits[:, :-1].flatten(0, 1).float(), ids[:, 1:].flatten())
