"""Generating the next training set: every block continued by exactly ``new_tokens`` tokens.

As in the paper, each prompt block is continued with ``num_beams``-way beam search (no sampling)
and the official code's repetition penalty. ``min_new_tokens = max_new_tokens = new_tokens``
forbids the end-of-sequence token until the last step, so no beam stops early and every
continuation has exactly ``new_tokens`` tokens, none of them end-of-sequence or padding (this is
checked). All prompts are blocks of the same length, so batches need no padding.

On CUDA with fp16/bf16 the model generates from a half-precision copy (decoding is
memory-bound), in large batches of prompts. For OPT models the search runs in
:func:`.beam.beam_search`, which returns the same tokens as ``generate`` with fewer bytes moved
(``decoder="transformers"`` asks for ``generate`` itself).
"""

from __future__ import annotations

import copy
import os

import torch

from .._checks import check_choice
from .._progress import progress_bar
from . import _io, beam
from .config import DECODERS


def generation_config(
    *, new_tokens: int, num_beams: int, repetition_penalty: float, pad_id: int, eos_id: int | None
):
    """The full ``GenerationConfig`` (none of the model's own defaults are inherited)."""
    from transformers import GenerationConfig

    return GenerationConfig(
        do_sample=False,
        num_beams=num_beams,
        num_return_sequences=1,
        max_new_tokens=new_tokens,
        min_new_tokens=new_tokens,
        repetition_penalty=repetition_penalty,
        length_penalty=1.0,
        early_stopping=False,
        pad_token_id=pad_id,
        eos_token_id=eos_id,
        bos_token_id=eos_id,
        use_cache=True,
    )


def generation_model(model, device: str, precision: str):
    """The model to decode with: a half-precision copy on CUDA with fp16/bf16, else itself
    (moved to ``device``)."""
    if device.startswith("cuda") and precision in ("fp16", "bf16"):
        dtype = torch.float16 if precision == "fp16" else torch.bfloat16
        model = copy.deepcopy(model).to(device=device, dtype=dtype)
    model.to(device).eval()
    return model


def _check_new(new: torch.Tensor, n: int, new_tokens: int, eos_id: int | None):
    if new.shape != (n, new_tokens):
        raise RuntimeError(
            f"generate returned {tuple(new.shape)} new tokens, expected {(n, new_tokens)}"
        )
    if eos_id is not None and bool((new == eos_id).any()):
        raise RuntimeError("a continuation contains the end-of-sequence token")


@torch.no_grad()
def continue_blocks(
    model,
    prompts: torch.Tensor,
    *,
    new_tokens: int = 64,
    num_beams: int = 5,
    repetition_penalty: float = 3.0,
    batch_size: int = 64,
    pad_id: int = 1,
    eos_id: int | None = 2,
    device: str = "cpu",
    precision: str = "fp32",
    chunk_dir: str | None = None,
    progress: bool = False,
    desc: str = "generating",
    on_event=None,
    decoder: str = "auto",
) -> torch.Tensor:
    """The ``new_tokens`` tokens continuing each prompt block, a LongTensor (n, new_tokens).

    With ``chunk_dir`` each batch's output is saved there as soon as it is done, and batches
    already there are not generated again (resume after a kill). ``on_event("gen_batch", info)``
    is called after each batch. ``decoder`` is one of :data:`DECODERS`.
    """
    check_choice("decoder", decoder, DECODERS)
    gen_model = generation_model(model, device, precision)
    fast = decoder == "auto" and beam.supports(gen_model)
    cfg = generation_config(
        new_tokens=new_tokens,
        num_beams=num_beams,
        repetition_penalty=repetition_penalty,
        pad_id=pad_id,
        eos_id=eos_id,
    )
    n = len(prompts)
    outputs = []
    for start in progress_bar(range(0, n, batch_size), desc=desc, enabled=progress, leave=False):
        batch = prompts[start : start + batch_size]
        path = os.path.join(chunk_dir, f"{start:09d}.pt") if chunk_dir else None
        if path and os.path.exists(path):
            new = _io.torch_load(path)
        else:
            ids = batch.to(device)
            if fast:
                new = beam.beam_search(
                    gen_model,
                    ids,
                    new_tokens=new_tokens,
                    num_beams=num_beams,
                    repetition_penalty=repetition_penalty,
                    eos_id=eos_id,
                ).cpu()
            else:
                out = gen_model.generate(
                    input_ids=ids, attention_mask=torch.ones_like(ids), generation_config=cfg
                )
                new = out[:, ids.shape[1] :].cpu()
            _check_new(new, len(batch), new_tokens, eos_id)
            if path:
                _io.torch_save(new, path)
            if on_event is not None:
                on_event("gen_batch", {"start": start, "n": len(batch)})
        outputs.append(new)
    result = torch.cat(outputs) if outputs else torch.zeros(0, new_tokens, dtype=torch.long)
    _check_new(result, n, new_tokens, eos_id)
    return result


def continue_text(
    model,
    tokenizer,
    prompt: str,
    *,
    new_tokens: int = 64,
    num_beams: int = 5,
    repetition_penalty: float = 3.0,
    max_prompt_tokens: int | None = None,
    device: str = "cpu",
    precision: str = "fp32",
    decoder: str = "auto",
) -> str:
    """The continuation of a text prompt (Example 1), decoded; the prompt is cut to its last
    ``max_prompt_tokens`` tokens if longer."""
    ids = tokenizer(prompt, add_special_tokens=False, return_tensors="pt")["input_ids"]
    if max_prompt_tokens is not None:
        ids = ids[:, -max_prompt_tokens:]
    new = continue_blocks(
        model,
        ids,
        new_tokens=new_tokens,
        num_beams=num_beams,
        repetition_penalty=repetition_penalty,
        batch_size=1,
        pad_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0,
        eos_id=tokenizer.eos_token_id,
        device=device,
        precision=precision,
        decoder=decoder,
    )
    return tokenizer.decode(new[0], clean_up_tokenization_spaces=False)
