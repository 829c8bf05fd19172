"""Command line of chapter 6's experiment.

Examples::

    python -m collapse_utils.lm --list-presets
    python -m collapse_utils.lm --preset cpu-small --out runs/ch6
    python -m collapse_utils.lm --preset colab --out /content/drive/MyDrive/collapse --dry-run
    python -m collapse_utils.lm --preset cpu-small --out runs/x --epochs 3 --seeds 0,1

Every setting of :mod:`.config` is a flag (``--help`` lists them by group, with the preset's
values as defaults); ``--set name=value`` is the same as ``--name value``. Run again with the
same ``--out`` to resume a run that was stopped. Every error ends in one line and a non-zero
exit: 2 for bad settings, 1 when the run cannot go on, 130 when interrupted.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import typing

from .config import GROUPS, PRESETS, RunConfig

USAGE = "%(prog)s [--preset NAME] [--out DIR] [--SETTING VALUE ...] [--dry-run]"
DESCRIPTION = ("Recursive fine-tuning of OPT on its own generated text (Shumailov et al. 2024, "
               "chapter 6). Rerun with the same --out to resume.")


def _parser_class():
    from transformers import HfArgumentParser

    class Parser(HfArgumentParser):
        """HfArgumentParser, with tuples read as comma-separated lists and ``none`` as None."""

        @staticmethod
        def _parse_dataclass_field(parser, field):
            field = copy.copy(field)
            field.metadata = {k: v for k, v in field.metadata.items() if k != "range"}
            origin, args = typing.get_origin(field.type), typing.get_args(field.type)
            if origin is tuple:
                field.type = _items(args[0])
            elif type(None) in args and bool not in args:
                field.type = _optional(next(a for a in args if a is not type(None)))
            HfArgumentParser._parse_dataclass_field(parser, field)

        def error(self, message: str):
            """One line, not the usage of sixty settings."""
            self.exit(2, f"{self.prog}: error: {message}\n")

    return Parser


def _optional(kind):
    def convert(text: str):
        return None if text.strip().lower() in ("none", "") else kind(text)

    convert.__name__ = f"{kind.__name__} (or none)"
    return convert


def _items(kind):
    kind = str if typing.get_origin(kind) is typing.Literal else kind

    def convert(text: str):
        return tuple(kind(part.strip()) for part in text.split(",") if part.strip())

    convert.__name__ = f"comma-separated {kind.__name__}"
    return convert


def build_parser(preset_name: str = "cpu-small", base: RunConfig | None = None):
    """The parser of every setting, with ``base``'s values as defaults (by default preset
    ``preset_name``'s)."""
    parser = _parser_class()(list(GROUPS.values()), prog="python -m collapse_utils.lm",
                             usage=USAGE, description=DESCRIPTION, allow_abbrev=False)
    run = parser.add_argument_group("run")
    run.add_argument("--preset", default="cpu-small", choices=list(PRESETS),
                     help="the settings every flag below changes")
    run.add_argument("--out", help="output folder (results, checkpoints); required to run")
    run.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                     help="the same as --NAME VALUE, e.g. --set epochs=3 (repeatable)")
    run.add_argument("--list-presets", action="store_true", help="describe the presets")
    run.add_argument("--dry-run", action="store_true", help="print the resolved settings")
    if base is None and preset_name in PRESETS:
        base = RunConfig().replace(**PRESETS[preset_name][1])
    if base is not None:
        parser.set_defaults(**base.to_dict())
    return parser


def parse(
    argv: list[str], base: RunConfig | None = None
) -> tuple[RunConfig, argparse.Namespace, argparse.ArgumentParser]:
    """The settings, the other options and the parser of a command line, on top of ``base``
    (by default the ``--preset``); bad settings exit with a one-line usage error."""
    first = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    first.add_argument("--preset", default="cpu-small")
    first.add_argument("--set", action="append", default=[])
    known, rest = first.parse_known_args(argv)
    parser = build_parser(known.preset, base)
    expanded = ["--preset", known.preset]
    for item in known.set:
        name, eq, value = item.partition("=")
        if not eq or not name.strip():
            parser.error(f"--set needs NAME=VALUE (got {item!r})")
        expanded += [f"--{name.strip()}", value]
    try:
        *groups, options, unknown = parser.parse_args_into_dataclasses(
            expanded + rest, return_remaining_strings=True, look_for_args_file=False
        )
        if unknown:
            parser.error(f"unknown setting {unknown[0]!r}; --help lists them")
        return RunConfig(**dict(zip(GROUPS, groups, strict=True))), options, parser
    except ValueError as exc:
        parser.error(str(exc))


def main(argv: list[str] | None = None) -> int:
    config, args, parser = parse(list(sys.argv[1:] if argv is None else argv))
    if args.list_presets:
        for name, (text, changes) in PRESETS.items():
            print(f"{name}: {text}")
            if changes:
                print("    " + ", ".join(f"{k}={v}" for k, v in changes.items()))
        return 0
    if args.dry_run:
        print(json.dumps(config.to_dict(), indent=1))
        try:
            config.check_environment()
            print(f"# resolved device: {config.resolved_device()}")
            print(f"# resolved precision: {config.resolved_precision()}")
        except ValueError as exc:
            print(f"# resolved: not on this machine: {exc}")
        return 0
    if not args.out:
        parser.error("--out is required to run (or use --dry-run / --list-presets)")
    from ._hub import HubUnavailableError
    from .metrics import summarize
    from .runner import run

    try:
        res = run(config, args.out)
    except ValueError as exc:
        parser.error(str(exc))
    except (HubUnavailableError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
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
