"""What a run folder holds, and how it is read (chapter 6).

A run is made of *units*, one per seed × regime × generation. Each unit's record,
``work/seed<s>/<regime>/gen<g>/progress.json``, holds the result of each of its finished
:data:`STEPS`; a unit is finished when all are there. :func:`load_results` reads the tables the
runner (:mod:`.runner`) builds from those records.
"""

from __future__ import annotations

import dataclasses
import glob
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import _io
from .config import RunConfig

#: A unit's steps, in order, by the name its record keeps each result under.
STEPS = ("trained", "evaluated", "generated", "scored")


def derive_seed(*parts) -> int:
    """A stable 63-bit seed from any parts (e.g. seed, regime, generation, purpose)."""
    return int(hashlib.sha256(repr(parts).encode()).hexdigest()[:15], 16)


@dataclass(frozen=True, order=True)
class Unit:
    """One generation of one chain: a seed, a regime and a generation."""

    seed: int
    regime: str
    generation: int

    @property
    def key(self) -> str:
        return f"seed{self.seed}/{self.regime}/gen{self.generation}"

    def seed_for(self, purpose: str) -> int:
        return derive_seed(self.seed, self.regime, self.generation, purpose)

    def previous(self, generation: int | None = None) -> Unit:
        g = self.generation - 1 if generation is None else generation
        return Unit(self.seed, self.regime, g)


_RECORD = re.compile(r"seed(\d+)/(\w+)/gen(\d+)/progress\.json$")


def read_records(out_dir: str) -> dict[Unit, dict]:
    """Every unit's record in ``out_dir``: the results of its finished steps."""
    records = {}
    for path in glob.glob(os.path.join(glob.escape(out_dir), "work", "*", "*", "*",
                                       "progress.json")):
        found = _RECORD.search(Path(path).as_posix())
        if found:
            unit = Unit(int(found[1]), found[2], int(found[3]))
            records[unit] = _io.read_json(path)
    return records


def finished(record: dict) -> bool:
    return all(step in record for step in STEPS) and "samples" in record


@dataclass
class Results:
    """A run's results as DataFrames (see :func:`load_results`)."""

    results: pd.DataFrame
    sequences: pd.DataFrame
    samples: pd.DataFrame
    reference: dict
    config: RunConfig | None
    out_dir: str
    done: list = field(default_factory=list)

    def subset(self, seeds, regimes, generations: int) -> Results:
        """Only the rows of these seeds and regimes, generations 0 .. generations - 1."""

        def keep(frame: pd.DataFrame) -> pd.DataFrame:
            if not len(frame):
                return frame
            rows = (frame.seed.isin(seeds) & frame.regime.isin(regimes)
                    & (frame.generation < generations))
            return frame[rows].reset_index(drop=True)

        return dataclasses.replace(self, results=keep(self.results),
                                   sequences=keep(self.sequences), samples=keep(self.samples))


def load_results(out_dir: str) -> Results:
    """Read a run's results (finished or not) from ``out_dir``.

    - ``results``: one row per seed × regime × generation. ``test_loss``/``test_ppl``: the
      generation's model on the real test set; ``val_loss``: the real validation loss of the
      weights kept (``weights``); ``best_epoch``, ``best_val_loss``: the epoch with the lowest;
      ``gen0_ppl_mean``/``gen0_ppl_median``/``gen0_ppl_p95``: per-sequence perplexities of the
      data this generation *generated* (the next one's training set), scored by the
      generation-0 model; with the synthetic source also ``true_nll_per_word``,
      ``invalid_word_rate``, ``rare_word_share``, ``rare_sentence_share``, ``distinct_words``,
      ``distinct_rare_words`` of that generated text; timings in seconds.
    - ``sequences``: one row per generated sequence: seed, regime, generation (of the model that
      generated it), index, ``gen0_ppl``, and with the synthetic source ``true_nll_per_word``.
    - ``samples``: seed, regime, generation, kind ("prompt" for Example 1, "block" for generated
      training blocks), prompt, continuation.
    - ``reference``: zero-shot test perplexity of the pretrained model, block counts, and with the
      synthetic source the true language's expected values and those of the real training text.
    - ``done``: the finished units, as ``seed<s>/<regime>/gen<g>``.
    """
    cfg = _io.read_json(os.path.join(out_dir, "config.json"))
    results_path = os.path.join(out_dir, "results.csv")
    results = pd.read_csv(results_path) if os.path.exists(results_path) else pd.DataFrame()
    files = sorted(glob.glob(os.path.join(glob.escape(out_dir), "sequences", "*.csv")))
    sequences = (
        pd.concat([pd.read_csv(f) for f in files], ignore_index=True) if files else pd.DataFrame()
    )
    if len(sequences):
        sequences = sequences.sort_values(["seed", "regime", "generation", "index"]).reset_index(
            drop=True
        )
    samples = pd.DataFrame(_io.read_json(os.path.join(out_dir, "samples.json"), []))
    reference = _io.read_json(os.path.join(out_dir, "reference.json"), {})
    done = sorted(unit for unit, record in read_records(out_dir).items() if finished(record))
    return Results(
        results=results,
        sequences=sequences,
        samples=samples,
        reference=reference,
        config=RunConfig.from_dict(cfg) if cfg else None,
        out_dir=out_dir,
        done=[unit.key for unit in done],
    )
