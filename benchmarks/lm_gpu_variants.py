"""Which GPU settings make chapter 6's fine-tuning and beam search faster: an experiment.

For the opt-125m shape with random weights, on one GPU, in one run:

- a training step (batch 128 x 64 tokens, bf16 autocast, AdamW, gradient clipping): AdamW's
  ``foreach`` implementation against ``fused``, each eager and under ``torch.compile``;
- one ``generate`` call (N prompts x 5 beams x 64 new tokens, bf16 weights): the dynamic KV cache
  against the static one;
- where the time goes: GPU busy time against wall time, and the costliest kernels of a step and of
  a ``generate`` call (``torch.profiler``).

Usage: python benchmarks/lm_gpu_variants.py [--gen-batch 1024] [--steps 30] [--no-compile]
"""

from __future__ import annotations

import argparse
import copy
import time

import torch

from collapse_utils.lm.generate import generation_config
from collapse_utils.lm.model import opt125m_config

BLOCK, NEW = 64, 64


def build():
    from transformers import OPTForCausalLM

    cfg = opt125m_config()
    cfg._attn_implementation = "sdpa"
    torch.manual_seed(0)
    return OPTForCausalLM(cfg).cuda()


def train_step_fn(model, opt, compiled):
    forward = torch.compile(model) if compiled else model

    def step(batch):
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = forward(input_ids=batch, labels=batch).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    return step


def timed(fn, repeat=1) -> float:
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(repeat):
        fn()
    torch.cuda.synchronize()
    return (time.perf_counter() - t0) / repeat


def profile(fn, label: str, rows: int = 12) -> None:
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as prof

    torch.cuda.synchronize()
    t0 = time.perf_counter()
    with prof(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as p:
        fn()
        torch.cuda.synchronize()
    wall = time.perf_counter() - t0
    events = p.key_averages()
    gpu = sum(e.self_device_time_total for e in events) / 1e6
    print(f"\n[{label}] wall {wall * 1e3:.0f} ms (profiled), GPU kernels {gpu * 1e3:.0f} ms")
    print(events.table(sort_by="self_device_time_total", row_limit=rows, max_name_column_width=60))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gen-batch", type=int, default=1024)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--no-compile", action="store_true")
    args = parser.parse_args()
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    print(torch.cuda.get_device_name(), torch.__version__)
    g = torch.Generator().manual_seed(0)
    batches = [torch.randint(3, 50272, (128, BLOCK), generator=g).cuda() for _ in range(4)]

    # --- training ---
    results = []
    variants = [(fused, compiled) for compiled in (False, True) for fused in (False, True)]
    if args.no_compile:
        variants = [v for v in variants if not v[1]]
    for fused, compiled in variants:
        model = build().train()
        opt = torch.optim.AdamW(model.parameters(), lr=2e-5, fused=fused, foreach=not fused)
        step = train_step_fn(model, opt, compiled)
        warm = timed(lambda s=step: [s(b) for b in batches[:3]])
        it = iter(range(10**9))
        ms = 1e3 * timed(lambda s=step, i=it: s(batches[next(i) % 4]), repeat=args.steps)
        name = f"AdamW {'fused' if fused else 'foreach'}{' + compile' if compiled else ''}"
        results.append((name, ms))
        print(f"train {name:28} {ms:7.1f} ms/step  {128 * BLOCK / ms:8.0f} ktok/s "
              f"(warm-up {warm:.1f} s)", flush=True)
        if not compiled and not fused:
            profile(lambda s=step: s(batches[0]), "train step, foreach, eager")
        del model, opt
        torch.cuda.empty_cache()

    # --- generation ---
    master = build().eval()
    model = copy.deepcopy(master).to(torch.bfloat16).eval()
    prompts = torch.randint(3, 50272, (args.gen_batch, BLOCK), generator=g).cuda()
    for cache in ("dynamic", "static"):
        cfg = generation_config(new_tokens=NEW, num_beams=5, repetition_penalty=3.0, pad_id=1,
                                eos_id=2)
        if cache == "static":
            cfg.cache_implementation = "static"

        def gen(p=prompts, cfg=cfg):
            with torch.no_grad():
                model.generate(input_ids=p, attention_mask=torch.ones_like(p),
                               generation_config=cfg)

        try:
            first = timed(gen)
            s = timed(gen)
        except Exception as e:  # noqa: BLE001 - an experiment: report and go on
            print(f"generate {cache}: failed: {type(e).__name__}: {str(e)[:300]}")
            continue
        print(f"generate {cache:8} {args.gen_batch} prompts: {s:6.2f} s "
              f"({args.gen_batch * NEW / s:7.0f} new tok/s; first call {first:.1f} s; "
              f"{s / NEW * 1e3:.1f} ms per step)", flush=True)
        if cache == "dynamic":
            profile(lambda: gen(prompts[:256]), "generate 256 prompts, dynamic cache", rows=15)
    print(f"peak GPU memory {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB")


if __name__ == "__main__":
    main()
