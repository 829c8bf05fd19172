"""Command line of chapter 6's experiment.

Examples::

    python -m collapse_utils.lm --list-presets
    python -m collapse_utils.lm --preset cpu-small --out runs/ch6
    python -m collapse_utils.lm --preset colab --out /content/drive/MyDrive/collapse --dry-run
    python -m collapse_utils.lm --preset cpu-small --out runs/x --set epochs=3 --generations 3

Run again with the same ``--out`` to resume a run that was stopped.
"""

from __future__ import annotations

import argparse
import json
import sys

from ._hub import HubUnavailableError
from .config import PRESETS, RunConfig, preset

#: Explicit flags and the settings they set.
FLAGS = {
    "generations": ("--generations", int, "number of generations (0 .. N-1)"),
    "seeds": ("--seeds", str, "comma-separated seeds, e.g. 0,1"),
    "regimes": ("--regimes", str, "comma-separated regimes: replace, keep_real, accumulate"),
    "epochs": ("--epochs", int, "epochs of fine-tuning in every regime"),
    "real_fraction": ("--real-fraction", float, "keep_real: share of real blocks kept"),
    "data": ("--data", str, "wikitext, files or synthetic"),
    "train_file": ("--train-file", str, "train text file (data=files)"),
    "validation_file": ("--validation-file", str, "validation text file (data=files)"),
    "test_file": ("--test-file", str, "test text file (data=files)"),
    "model": ("--model", str, "hub id, local folder, or tiny"),
    "cache_dir": ("--cache-dir", str, "cache of the tiny pretrained model"),
    "device": ("--device", str, "auto, cpu or cuda"),
    "precision": ("--precision", str, "auto, fp32, fp16 or bf16"),
    "num_threads": ("--threads", int, "torch CPU threads"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m collapse_utils.lm",
        description="Recursive fine-tuning of OPT on its own generated text (Shumailov et al. "
        "2024, chapter 6). Rerun with the same --out to resume.",
    )
    parser.add_argument("--preset", default="cpu-small", help=f"one of: {', '.join(PRESETS)}")
    parser.add_argument("--out", help="output folder (results, checkpoints); required to run")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override any setting, e.g. --set epochs=3 --set lr=1e-4 (repeatable)",
    )
    for name, (flag, typ, text) in FLAGS.items():
        parser.add_argument(flag, dest=name, type=typ, default=None, help=text)
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument("--list-presets", action="store_true", help="describe the presets")
    parser.add_argument("--dry-run", action="store_true", help="print the resolved settings")
    return parser


def resolve(args, parser) -> RunConfig:
    overrides = {}
    for item in args.set:
        if "=" not in item:
            parser.error(f"--set needs NAME=VALUE (got {item!r})")
        name, value = item.split("=", 1)
        overrides[name.strip()] = value
    for name in FLAGS:
        value = getattr(args, name)
        if value is not None:
            overrides[name] = value if isinstance(value, str) else str(value)
    if args.no_progress:
        overrides["progress"] = "false"
    if args.preset not in PRESETS:
        parser.error(f"--preset must be one of {', '.join(PRESETS)} (got {args.preset!r})")
    try:
        return preset(args.preset, **overrides)
    except ValueError as exc:
        parser.error(str(exc))


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.list_presets:
        for name, (text, changes) in PRESETS.items():
            print(f"{name}: {text}")
            if changes:
                print("    " + ", ".join(f"{k}={v}" for k, v in changes.items()))
        return 0
    config = resolve(args, parser)
    if args.dry_run:
        print(json.dumps(config.to_dict(), indent=1))
        for k in ("device", "precision"):
            print(f"# resolved {k}: " + getattr(config, f"resolved_{k}")())
        try:
            config.check_environment()
        except ValueError as exc:
            print(f"# on this machine: {exc}")
        return 0
    if not args.out:
        parser.error("--out is required to run (or use --dry-run / --list-presets)")
    try:
        config.check_environment()
    except ValueError as exc:
        parser.error(str(exc))
    from .metrics import summarize
    from .runner import run

    try:
        res = run(config, args.out)
    except HubUnavailableError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:
        parser.error(str(exc))
    except KeyboardInterrupt:
        print(f"\ninterrupted: finished steps are saved in {args.out}; run the same command "
              "again to resume", file=sys.stderr)
        return 130
    if len(res.results):
        table = summarize(res.results, ["test_ppl"]).pivot(
            index="generation", columns="regime", values="mean"
        )
        print("test perplexity (mean over seeds):")
        print(table.round(2).to_string())
    print(f"results in {args.out}: results.csv, sequences/, samples.json, reference.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
