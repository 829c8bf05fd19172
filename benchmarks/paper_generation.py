"""Time generations of the ``paper`` preset end to end, offline, with the runner itself (chapter 6).

No download is needed: the model is an OPT with facebook/opt-125m's exact shape (vocabulary 50272
included) and random weights, and the data are text files of the course's synthetic language sized
like wikitext-2 (37.7k training blocks of 64 tokens, about 3.9k validation and 4.4k test blocks).
Everything else is the ``paper`` preset: 5 epochs of fine-tuning at batch 128 with validation after
each epoch and checkpoints, 5-way beam search continuing every training block by 64 tokens,
every generated sequence scored by the generation-0 model, the test perplexity. Random weights do
not change the amount of work, so the times are those of the real experiment on the same GPU.

Usage: python benchmarks/paper_generation.py --out DIR [--generations 1] [--regime replace]
       [--precision auto] [--compile MODE|none] [--scale 1.0] [--set name=value ...]
``--compile`` sets how the training step is compiled on CUDA (:data:`.train.COMPILE_MODE`);
``--scale`` shrinks the data (a quick check on the CPU).
Prints the time of each step of each generation, and appends it to ``DIR/times.csv`` as soon as
the generation is done (chapter 6 shows these steps: fine-tuning, generation, scoring).
"""

from __future__ import annotations

import argparse
import csv
import os
import time

import torch

from collapse_utils.lm import preset, run, train, write_synthetic_files
from collapse_utils.lm.__main__ import parse
from collapse_utils.lm.config import REGIMES, WIKITEXT2_TRAIN_BLOCKS
from collapse_utils.lm.model import opt125m_config, train_tokenizer

#: Sentences of the synthetic language (about 9.1 tokens each with the tokenizer trained here) that
#: give at least as many 64-token blocks as wikitext-2 (37.7k training, about 3.9k validation and
#: 4.4k test blocks); the training split is then cut to exactly WIKITEXT2_TRAIN_BLOCKS.
SENTENCES = (270_000, 28_000, 31_500)


def prepare(folder: str, scale: float = 1.0) -> dict:
    """The random OPT-125m folder and wikitext-2-sized text files (made once, then reused)."""
    model_dir = os.path.join(folder, "opt-125m-random")
    data_dir = os.path.join(folder, "text")
    names = ("train_sentences", "validation_sentences", "test_sentences")
    sizes = {k: max(1, round(v * scale)) for k, v in zip(names, SENTENCES, strict=True)}
    files = write_synthetic_files(preset("cpu-small", **sizes), data_dir)
    if not os.path.isfile(os.path.join(model_dir, "config.json")):
        from transformers import OPTForCausalLM

        with open(files["train_file"]) as f:
            rows = f.readlines()
        train_tokenizer(rows, 8000, model_dir)
        torch.manual_seed(0)
        OPTForCausalLM(opt125m_config()).save_pretrained(model_dir)
    return dict(
        model=model_dir,
        data="files",
        **files,
        max_train_blocks=max(1, round(WIKITEXT2_TRAIN_BLOCKS * scale)),
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="folder for the model, data and run")
    parser.add_argument("--generations", type=int, default=1)
    parser.add_argument("--regime", default="replace", choices=list(REGIMES))
    parser.add_argument("--precision", default="auto", choices=["auto", "fp32", "fp16", "bf16"])
    parser.add_argument("--compile", default=train.COMPILE_MODE or "none",
                        help="torch.compile mode of the training step on CUDA, or none")
    parser.add_argument("--scale", type=float, default=1.0, help="share of the data sizes")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args(argv)
    train.COMPILE_MODE = None if args.compile == "none" else args.compile
    t0 = time.perf_counter()
    settings = prepare(args.out, args.scale)
    print(f"model and data ready in {time.perf_counter() - t0:.0f} s", flush=True)
    cfg = preset(
        "paper",
        **settings,
        seeds=(0,),
        regimes=(args.regime,),
        generations=args.generations,
        precision=args.precision,
    )
    cfg = parse([arg for item in args.set for arg in ("--set", item)], base=cfg)[0]
    device = cfg.resolved_device()
    name = torch.cuda.get_device_name() if device == "cuda" else "cpu"
    print(
        f"{name}: precision {cfg.resolved_precision()}, batch {cfg.batch_size}, "
        f"generation batch {cfg.gen_batch_size} prompts x {cfg.num_beams} beams",
        flush=True,
    )
    marks: dict[str, dict[str, float]] = {}
    clock = time.perf_counter()
    times_path = os.path.join(args.out, "times.csv")
    fields = ["gpu", "precision", "gen_batch_size", "decoder", "compile", "unit", "fine_tuning_s",
              "generation_s", "scoring_s", "total_s"]

    def write_row(unit: str) -> None:
        m = marks[unit]
        row = dict(
            gpu=name,
            precision=cfg.resolved_precision(),
            gen_batch_size=cfg.gen_batch_size,
            decoder=cfg.decoder,
            compile=args.compile,
            unit=unit,
            fine_tuning_s=round(m["trained"] - m["unit_start"], 1),
            generation_s=round(m["generated"] - m["trained"], 1),
            scoring_s=round(m["unit_end"] - m["generated"], 1),
            total_s=round(m["unit_end"] - m["unit_start"], 1),
        )
        new = not os.path.exists(times_path)
        with open(times_path, "a", newline="") as f:
            out = csv.DictWriter(f, fieldnames=fields)
            if new:
                out.writeheader()
            out.writerow(row)
        print(", ".join(f"{k} {v}" for k, v in row.items() if k.endswith("_s")), flush=True)

    def on_event(event, info):
        # a line per step, so that a run cut off still tells where the time went
        now = time.perf_counter()
        unit = info.get("unit", "")
        marks.setdefault(unit, {})[event] = now
        if event != "gen_batch" or info["start"] // max(1, info["n"]) % 8 == 0:
            details = {k: v for k, v in info.items() if k != "unit"}
            print(f"{now - clock:7.1f} s  {unit} {event} {details}", flush=True)
        # a unit resumed half-way has no marks for the steps done before: no row for it
        if event == "unit_end" and {"unit_start", "trained", "generated"} <= set(marks[unit]):
            write_row(unit)

    res = run(cfg, os.path.join(args.out, "run"), on_event=on_event)
    print(f"blocks: {res.reference['blocks']}; {res.reference['parameters'] / 1e6:.1f}M "
          f"parameters; whole run with the zero-shot reference: "
          f"{time.perf_counter() - clock:.0f} s; step times in {times_path}")

if __name__ == "__main__":
    main()
