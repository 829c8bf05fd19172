"""Time one training step and one beam-search call of opt-125m, today's way against the course's
(chapter 6's GPU appendix), in one run, with random weights (no download).

Training step (batch 128 blocks of 64 tokens, bf16 autocast): ``transformers``' forward with a
multi-tensor AdamW (the course before this benchmark) against OPT's forward written out
(:mod:`collapse_utils.lm.opt`) with a fused AdamW, eager and under ``torch.compile`` modes. Beam
search (512 prompts, 5 beams, 64 new tokens, bf16): a beam-search file given by ``--old-beam``
against :mod:`collapse_utils.lm.beam`, and both against ``generate`` on 64 prompts. Also times
saving the training state once (what the runner does after each epoch).

Usage: python benchmarks/gpu_steps.py --out DIR [--old-beam PATH] [--tiny]
Writes DIR/steps.csv (a row per measurement, as soon as it is made) and prints each row.
"""

from __future__ import annotations

import argparse
import copy
import csv
import importlib.util
import os
import time

import torch

from collapse_utils.lm import _io, opt
from collapse_utils.lm.beam import beam_search
from collapse_utils.lm.generate import generation_config
from collapse_utils.lm.model import opt125m_config
from collapse_utils.lm.train import autocast

TINY = dict(hidden_size=64, word_embed_proj_dim=64, num_hidden_layers=2, ffn_dim=128,
            num_attention_heads=4, vocab_size=500)


def sync(device):
    if device == "cuda":
        torch.cuda.synchronize()


class Table:
    def __init__(self, path):
        self.path = path

    def add(self, **row):
        new = not os.path.exists(self.path)
        with open(self.path, "a", newline="") as f:
            out = csv.DictWriter(f, fieldnames=list(row))
            if new:
                out.writeheader()
            out.writerow(row)
        print(", ".join(f"{k}={v}" for k, v in row.items()), flush=True)


def train_variants(model, device, steps, batch):
    hf = lambda m, ids: m(input_ids=ids, labels=ids, use_cache=False).loss  # noqa: E731
    out = {"transformers forward, foreach AdamW (before)": (hf, False),
           "written-out forward, fused AdamW": (opt.lm_loss, True)}
    if device == "cuda":
        for mode in ("default", "reduce-overhead", "max-autotune-no-cudagraphs"):
            fn = torch.compile(opt.lm_loss, mode=mode, dynamic=False)
            out[f"written-out, compiled {mode}, fused AdamW"] = (fn, True)
    return out


def time_training(table, model, device, steps, batch, tokens):
    gen = torch.Generator().manual_seed(0)
    data = torch.randint(3, model.config.vocab_size, (steps + 3, batch, 64), generator=gen)
    for name, (fn, fused) in train_variants(model, device, steps, batch).items():
        try:
            m = copy.deepcopy(model).train()
            optim = torch.optim.AdamW(m.parameters(), lr=1e-5, weight_decay=0.01,
                                      fused=fused and device == "cuda")
            firsts, t0 = [], None
            for i in range(steps + 3):
                if i == 3:
                    sync(device)
                    t0 = time.perf_counter()
                t1 = time.perf_counter()
                ids = data[i].to(device, non_blocking=True)
                with autocast(device, "bf16"):
                    loss = fn(m, ids)
                optim.zero_grad(set_to_none=True)
                loss.backward()
                optim.step()
                if i < 3:
                    sync(device)
                    firsts.append(time.perf_counter() - t1)
            sync(device)
            ms = (time.perf_counter() - t0) / steps * 1e3
            table.add(what="train step", variant=name, ms=round(ms, 2),
                      first_s=round(firsts[0], 1), ktok_s=round(batch * 64 / ms, 1),
                      loss_after=round(float(loss), 4), agreement="")
        except Exception as e:  # a variant that fails is reported, the others still run
            table.add(what="train step", variant=name, ms="", first_s="", ktok_s="",
                      loss_after="", agreement=f"failed: {type(e).__name__}: {e}"[:200])
    # a second model instance: does the compiled step recompile for it (each generation)?
    if device == "cuda":
        fn = torch.compile(opt.lm_loss, mode="default", dynamic=False)
        for i in range(2):
            m = copy.deepcopy(model).train()
            sync(device)
            t1 = time.perf_counter()
            with autocast(device, "bf16"):
                fn(m, data[0].to(device)).backward()
            sync(device)
            table.add(what="compile per model", variant=f"instance {i + 1}", ms="",
                      first_s=round(time.perf_counter() - t1, 1), ktok_s="", loss_after="",
                      agreement="")
    # saving the training state, as the runner does after every epoch
    optim = torch.optim.AdamW(model.parameters(), fused=device == "cuda")
    with autocast(device, "bf16"):
        opt.lm_loss(model, data[0].to(device)).backward()
    optim.step()
    sync(device)
    t1 = time.perf_counter()
    _io.torch_save({"model": model.state_dict(), "optimizer": optim.state_dict()},
                   os.path.join(os.path.dirname(table.path), "state.pt"))
    table.add(what="save training state", variant="model + optimizer", ms="",
              first_s=round(time.perf_counter() - t1, 2), ktok_s="", loss_after="", agreement="")


def time_decoding(table, model, device, prompts_n, old_beam):
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    m = copy.deepcopy(model).to(dtype).eval()
    gen = torch.Generator().manual_seed(1)
    prompts = torch.randint(3, model.config.vocab_size, (prompts_n, 64), generator=gen).to(device)
    kwargs = dict(new_tokens=64, num_beams=5, repetition_penalty=3.0, eos_id=2)
    searches = {"course beam search": beam_search}
    if old_beam:
        spec = importlib.util.spec_from_file_location("old_beam", old_beam)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        searches["previous beam search"] = module.beam_search
    results = {}
    for name, search in searches.items():
        search(m, prompts[:8], **kwargs)  # warm-up
        sync(device)
        t1 = time.perf_counter()
        results[name] = search(m, prompts, **kwargs)
        sync(device)
        s = time.perf_counter() - t1
        same = ""
        if name != "course beam search":
            same = f"{(results[name] == results['course beam search']).all(1).float().mean():.3f}"
        table.add(what=f"beam search, {prompts_n} prompts", variant=name, ms=round(s / 64 * 1e3, 2),
                  first_s=round(s, 2), ktok_s=round(prompts_n * 64 / s / 1e3, 1), loss_after="",
                  agreement=same)
    few = prompts[:64]
    cfg = generation_config(new_tokens=64, num_beams=5, repetition_penalty=3.0, pad_id=1,
                            eos_id=2)
    ref = m.generate(input_ids=few, attention_mask=torch.ones_like(few), generation_config=cfg)
    agree = (ref[:, 64:] == results["course beam search"][:64]).all(1).float().mean()
    table.add(what="beam search vs generate, 64 prompts", variant="course beam search", ms="",
              first_s="", ktok_s="", loss_after="", agreement=f"{agree:.3f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--old-beam", default=None, help="a previous beam.py to time against")
    parser.add_argument("--tiny", action="store_true", help="small shapes: a check on the CPU")
    args = parser.parse_args(argv)
    from transformers import OPTForCausalLM

    os.makedirs(args.out, exist_ok=True)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.manual_seed(0)
    model = OPTForCausalLM(opt125m_config(**(TINY if args.tiny else {}))).to(device)
    assert opt.supports(model)
    table = Table(os.path.join(args.out, "steps.csv"))
    name = torch.cuda.get_device_name() if device == "cuda" else "cpu"
    print(f"{name}, torch {torch.__version__}", flush=True)
    steps, batch, prompts = (4, 8, 16) if args.tiny else (30, 128, 512)
    time_training(table, model, device, steps, batch, 64)
    time_decoding(table, model, device, prompts, args.old_beam)


if __name__ == "__main__":
    main()
