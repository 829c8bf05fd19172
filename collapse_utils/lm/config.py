"""Every setting of the OPT-125m × wikitext2 experiment, and its presets (chapter 6).

Settings are typed dataclasses, one per concern, each checking its own fields when it is made:

- :class:`DataSettings` (``config.corpus``): the text and its blocks;
- :class:`ModelSettings` (``config.base_model``): the pretrained model, or the tiny one;
- :class:`TrainingSettings` (``config.training``): how each generation is fine-tuned;
- :class:`DecodingSettings` (``config.decoding``): how the next training set is generated;
- :class:`ExperimentSettings` (``config.experiment``): regimes, generations, seeds;
- :class:`ExecutionSettings` (``config.execution``): device, batch sizes for speed, files kept.

:class:`RunConfig` holds one of each. Every setting has a name of its own, so ``config.lr``
reads ``config.training.lr`` and ``config.replace(lr=1e-4)`` changes it. A folder's results are
defined by every group but ``execution``; ``seeds``, ``regimes`` and ``generations`` may grow
between calls (:meth:`RunConfig.identity`). The command line (``python -m collapse_utils.lm``)
parses the same dataclasses with transformers' ``HfArgumentParser``.

:data:`PRESETS` holds the named presets:

``paper``
    The paper's protocol with the official code's settings: ``facebook/opt-125m`` fine-tuned on
    ``wikitext-2-raw-v1`` cut into 64-token blocks; AdamW (weight decay 0.01), lr 2e-5, batch
    128, no gradient clipping, cosine schedule to 1e-6 stepped once per epoch, the last epoch's
    weights tested and generating; 5-way beam search continuing every training block by 64 new
    tokens, repetition penalty 3.0; replace (5 epochs) and keep-real (10 epochs, a random 10% of
    the blocks real, the rest continuations) regimes; generations 0-9; 5 seeds. The one
    difference that changes what is learned, the prompts (real blocks), and the rest side by
    side: :func:`.protocol.protocol_table`. Needs a GPU: one generation took 1.7 minutes on an H200
    (``benchmarks/paper_generation.py``; the book's GPU appendix).
``colab``
    ``paper`` cut to fit one free Colab T4 session: fp16 mixed precision (a T4 has no bf16), one
    seed, and a fifth of the training blocks (7,540 of 37.7k; validation and test whole).
    Estimated, not measured on a T4 (the book's GPU appendix): fine-tuning from its FLOPs,
    decoding and scoring from the measured H200 times scaled by the ratio of memory bandwidths.
    ``--set max_train_blocks=none`` runs the full data over several sessions (point the output
    folder at Google Drive and the run resumes).
``cpu-small``
    The offline miniature: the course's synthetic language (:mod:`.language`), a tiny OPT the
    project pretrains itself on a flatter version of that language (``pretrain_temperature``),
    64-token blocks continued by 64 new tokens with the same beam search and repetition penalty,
    both main regimes, 5 generations, 2 seeds, in about 2 minutes on one CPU thread. What differs
    from the paper, and why: a 0.14M-parameter model instead of 125M; ~285 training blocks
    instead of 37.7k; so that fine-tuning moves the model in a few steps, batch 16 and lr
    1e-3 -> 1e-5 instead of batch 128 and lr 2e-5 -> 1e-6.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import json
import math
import numbers
import os
import types
import typing
from dataclasses import dataclass, field
from typing import ClassVar, Literal

import numpy as np

from .._checks import check_choice, show

Data = Literal["wikitext", "files", "synthetic"]
Regime = Literal["replace", "keep_real", "accumulate"]
Precision = Literal["auto", "fp32", "fp16", "bf16"]
Device = Literal["auto", "cpu", "cuda"]
PromptSource = Literal["real", "previous"]
LrSchedule = Literal["epoch", "step"]
Weights = Literal["last", "best_val"]
RealMix = Literal["batches", "add"]
Decoder = Literal["auto", "transformers"]
KeepModels = Literal["gen0", "all"]

DATA_SOURCES = typing.get_args(Data)
REGIMES = typing.get_args(Regime)
PRECISIONS = typing.get_args(Precision)
DEVICES = typing.get_args(Device)
PROMPT_SOURCES = typing.get_args(PromptSource)
LR_SCHEDULES = typing.get_args(LrSchedule)
WEIGHTS = typing.get_args(Weights)
REAL_MIXES = typing.get_args(RealMix)
DECODERS = typing.get_args(Decoder)
KEEP_MODELS = typing.get_args(KeepModels)

#: The model name that selects the project's own small OPT, pretrained offline.
TINY = "tiny"

#: Context lengths of hub models known without downloading their configuration.
KNOWN_CONTEXT = {
    "facebook/opt-125m": 2048,
    "facebook/opt-350m": 2048,
    "facebook/opt-1.3b": 2048,
}

#: Example 1's prompt for English models: an original paraphrase in the spirit of the paper's
#: Somerset prompt (church towers, Poyntz Wright, before 1360, a master mason); not the paper's
#: text.
SOMERSET_PROMPT = (
    "According to Poyntz Wright, the building of Somerset's church towers, several of them begun "
    "before 1360, was usually led by a master mason with a small band of travelling masons, "
    "helped by labourers from the parish. Other writers disagree, and argue that"
)


def setting(default, help: str, *, low=None, strict: bool = False, high=None, aliases=()):
    """A settings field: its default, its ``--help`` text and the range its value must lie in
    (``low`` <= value, or < with ``strict``; value <= ``high``)."""
    meta = {"help": help, "range": (low, strict, high)}
    if aliases:
        meta["aliases"] = list(aliases)
    return field(default=default, metadata=meta)


def _check(name: str, hint, value, bounds):
    """``value`` as setting ``name`` of type ``hint`` holds it; ValueError if it cannot."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        inner = next(a for a in args if a is not type(None))
        try:
            return _check(name, inner, value, bounds)
        except ValueError as exc:
            raise ValueError(str(exc).replace(" (got", " or None (got", 1)) from None
    if origin is Literal:
        return check_choice(name, value, args)
    if origin is tuple:
        if not isinstance(value, (tuple, list, np.ndarray)) or len(value) == 0:
            raise ValueError(f"{name} must be a non-empty list (got {show(value)})")
        items = tuple(_check(name, args[0], v, bounds) for v in value)
        if len(set(items)) != len(items):
            raise ValueError(f"{name} must not repeat (got {show(items)})")
        return items
    low, strict, high = bounds
    if hint is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be True or False (got {show(value)})")
        return value
    if hint is str:
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{name} must be a non-empty text (got {show(value)})")
        return value
    if hint is int:
        ok = isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))
        kind = "an integer"
    else:  # float
        ok = (isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
              and math.isfinite(value))
        kind = "a number"
    ok = ok and (low is None or (value > low if strict else value >= low))
    ok = ok and (high is None or value <= high)
    if not ok:
        where = "" if low is None else f" {'>' if strict else '>='} {low}"
        if high is not None:
            where = f" in [{low}, {high}]"
        raise ValueError(f"{name} must be {kind}{where} (got {show(value)})")
    return float(value) if hint is float else int(value)


@functools.cache
def _hints(cls) -> dict:
    return typing.get_type_hints(cls)


class _Settings:
    """Each field is checked against its type and range when a group is made."""

    def __post_init__(self):
        hints = _hints(type(self))
        for f in dataclasses.fields(self):
            value = _check(f.name, hints[f.name], getattr(self, f.name), f.metadata["range"])
            object.__setattr__(self, f.name, value)
        self.check()

    def check(self) -> None:
        """Checks that involve several fields of the group."""


@dataclass(frozen=True)
class DataSettings(_Settings):
    """The text the models learn from, and how it is cut into blocks."""

    _argument_group_name: ClassVar[str] = "data"

    data: Data = setting("wikitext", "wikitext (the hub), files (three local text files, one "
                         "row per line) or synthetic (the course's language)")
    train_file: str | None = setting(None, "training text file (data=files)")
    validation_file: str | None = setting(None, "validation text file (data=files)")
    test_file: str | None = setting(None, "test text file (data=files)")
    block_size: int = setting(64, "tokens per block of real data (and per prompt)", low=1)
    max_train_blocks: int | None = setting(None, "keep only the first N training blocks "
                                           "(none: all)", low=1)
    max_eval_blocks: int | None = setting(None, "keep only the first N validation and test "
                                          "blocks (none: all)", low=1)
    language_seed: int = setting(0, "synthetic language: which words are frequent", low=0)
    corpus_seed: int = setting(1, "synthetic language: draws the three splits' text", low=0)
    train_sentences: int = setting(1500, "synthetic language: training sentences", low=1)
    validation_sentences: int = setting(300, "synthetic language: validation sentences", low=1)
    test_sentences: int = setting(300, "synthetic language: test sentences", low=1)

    def check(self) -> None:
        if self.data != "files":
            return
        for name in ("train_file", "validation_file", "test_file"):
            path = getattr(self, name)
            if path is None:
                raise ValueError(f"{name} must be set when data='files'")
            if not os.path.isfile(path):
                raise ValueError(f"{name}: no such file {path!r}")


@dataclass(frozen=True)
class ModelSettings(_Settings):
    """The pretrained model every generation starts from; the tiny one's shape and pretraining."""

    _argument_group_name: ClassVar[str] = "model"

    model: str = setting("facebook/opt-125m", "hub id, local folder, or tiny (the project's own "
                         "small OPT, pretrained offline)")
    tiny_layers: int = setting(2, "tiny: decoder layers", low=1)
    tiny_hidden: int = setting(64, "tiny: hidden size", low=1)
    tiny_heads: int = setting(4, "tiny: attention heads", low=1)
    tiny_ffn: int = setting(256, "tiny: feed-forward size", low=1)
    tiny_max_positions: int = setting(128, "tiny: context length", low=1)
    tiny_dropout: float = setting(0.1, "tiny: dropout", low=0.0, high=1.0)
    tokenizer_vocab_size: int = setting(512, "tiny: byte-level BPE vocabulary", low=260)
    pretrain_sentences: int = setting(20000, "tiny: pretraining corpus, in sentences", low=1)
    pretrain_temperature: float = setting(2.0, "tiny: > 1 draws the pretraining text from a "
                                          "flatter language, as web text differs", low=0.0,
                                          strict=True)
    pretrain_steps: int = setting(600, "tiny: pretraining steps", low=0)
    pretrain_batch_size: int = setting(16, "tiny: pretraining batch", low=1)
    pretrain_lr: float = setting(3e-3, "tiny: pretraining learning rate", low=0.0, strict=True)
    pretrain_seed: int = setting(0, "tiny: pretraining seed", low=0)

    def check(self) -> None:
        if self.tiny_hidden % self.tiny_heads:
            raise ValueError(f"tiny_hidden must be a multiple of tiny_heads={self.tiny_heads} "
                             f"(got {self.tiny_hidden})")


@dataclass(frozen=True)
class TrainingSettings(_Settings):
    """How each generation fine-tunes a fresh copy of the pretrained model
    (:func:`.train.finetune`)."""

    _argument_group_name: ClassVar[str] = "training"

    lr: float = setting(2e-5, "peak learning rate (AdamW)", low=0.0, strict=True)
    lr_min: float = setting(1e-6, "the cosine schedule ends here", low=0.0)
    lr_schedule: LrSchedule = setting("epoch", "epoch: cosine stepped once per epoch "
                                      "(T_max = epochs), as the official code; step: cosine "
                                      "over every optimizer step")
    warmup_steps: int = setting(0, "linear warmup steps (lr_schedule=step)", low=0)
    batch_size: int = setting(128, "blocks per optimizer step", low=1)
    weight_decay: float = setting(0.01, "AdamW's (PyTorch's default, as the official code)",
                                  low=0.0)
    grad_clip: float | None = setting(None, "max gradient norm (none: no clipping, as the "
                                      "official code)", low=0.0, strict=True)
    weights: Weights = setting("last", "weights that are tested and generate: last (end of "
                               "training, as the official code) or best_val (the epoch with "
                               "the best real validation loss)")
    epochs: int | None = setting(None, "epochs in every regime (none: per regime)", low=1)
    epochs_replace: int = setting(5, "epochs of fine-tuning in the replace regime", low=1)
    epochs_keep_real: int = setting(10, "epochs of fine-tuning in the keep_real regime", low=1)
    epochs_accumulate: int = setting(5, "epochs of fine-tuning in the accumulate regime", low=1)

    def check(self) -> None:
        if self.lr_min > self.lr:
            raise ValueError(f"lr_min must be <= lr={self.lr!r} (got {self.lr_min!r})")
        if self.warmup_steps and self.lr_schedule != "step":
            raise ValueError(
                f"warmup_steps needs lr_schedule='step' (got warmup_steps={self.warmup_steps} "
                f"with lr_schedule={self.lr_schedule!r})"
            )

    def epochs_for(self, regime: str) -> int:
        """Epochs of fine-tuning in ``regime`` (``epochs`` overrides the per-regime value)."""
        check_choice("regime", regime, REGIMES)
        if self.epochs is not None:
            return self.epochs
        return getattr(self, f"epochs_{regime}")


@dataclass(frozen=True)
class DecodingSettings(_Settings):
    """How each generation writes the next one's training set."""

    _argument_group_name: ClassVar[str] = "decoding"

    new_tokens: int = setting(64, "exactly this many new tokens per block", low=1)
    num_beams: int = setting(5, "beam search width", low=1)
    repetition_penalty: float = setting(3.0, "the official code's 3.0 (the paper: 2.0 doubles "
                                        "perplexity)", low=0.0, strict=True)
    prompt_source: PromptSource = setting("real", "real: continue the real training blocks "
                                          "every generation; previous: the blocks the model "
                                          "was trained on")
    prompt: str | None = setting(None, "Example 1's prompt (none: the Somerset prompt that "
                                 "fits the data)")


@dataclass(frozen=True)
class ExperimentSettings(_Settings):
    """Which chains run: regimes, generations and seeds, and how keep_real mixes real data."""

    _argument_group_name: ClassVar[str] = "experiment"

    regimes: tuple[Regime, ...] = setting(("replace", "keep_real"), "comma-separated: replace, "
                                          "keep_real, accumulate")
    generations: int = setting(10, "generation 0 (real data) to generations - 1", low=1)
    seeds: tuple[int, ...] = setting((0, 1, 2, 3, 4), "comma-separated seeds", low=0)
    real_fraction: float = setting(0.1, "keep_real: share of real blocks in each generation's "
                                   "set", low=0.0, high=1.0)
    real_mix: RealMix = setting("batches", "keep_real: batches (a fresh random real_fraction "
                                "of the blocks stay real, the others are their continuations: "
                                "the official --generate_percentage) or add (every "
                                "continuation, plus real_fraction real on top)")


@dataclass(frozen=True)
class ExecutionSettings(_Settings):
    """How a run is computed and what it keeps: these may change when a run resumes."""

    _argument_group_name: ClassVar[str] = "execution"

    device: Device = setting("auto", "auto: cuda if available, else cpu")
    precision: Precision = setting("auto", "auto: bf16 (or fp16) autocast on cuda, fp32 on cpu")
    num_threads: int | None = setting(None, "torch CPU threads (none: torch's default)", low=1,
                                      aliases=("--threads",))
    eval_batch_size: int = setting(256, "blocks per forward pass when scoring", low=1)
    gen_batch_size: int = setting(512, "prompts decoded together, each with num_beams beams (on "
                                  "an H100 512 decode 1.7x as fast as 128: benchmarks/results)",
                                  low=1)
    decoder: Decoder = setting("auto", "auto: the course's beam search for OPT (same tokens, "
                               "faster); transformers: generate() itself")
    score_sequences: bool = setting(True, "score every generated sequence with the "
                                    "generation-0 model")
    keep_models: KeepModels = setting("gen0", "gen0: delete later generations' checkpoints once "
                                      "done")
    checkpoint_every_epoch: bool = setting(True, "save the training state after each epoch")
    cache_dir: str | None = setting(None, "where tiny is cached (none: $COLLAPSE_UTILS_CACHE or "
                                    "~/.cache/collapse_utils)")
    progress: bool = setting(True, "progress bars")


#: Each group of :class:`RunConfig`: attribute -> settings class.
GROUPS: dict[str, type] = {
    "corpus": DataSettings,
    "base_model": ModelSettings,
    "training": TrainingSettings,
    "decoding": DecodingSettings,
    "experiment": ExperimentSettings,
    "execution": ExecutionSettings,
}

#: Every setting's name -> the group that holds it.
OWNER = {f.name: group for group, cls in GROUPS.items() for f in dataclasses.fields(cls)}
assert len(OWNER) == sum(len(dataclasses.fields(c)) for c in GROUPS.values())

#: Settings that may grow when a run folder is used again.
EXTENT = ("seeds", "regimes", "generations")

#: Settings used only with the project's own model (``model="tiny"``); :mod:`.protocol` shows
#: them for that model only.
TINY_SETTINGS = frozenset({"tokenizer_vocab_size"})


@dataclass(frozen=True)
class RunConfig:
    """Settings of one run of the recursive fine-tuning experiment (chapter 6).

    The defaults are the ``paper`` preset. ``config.<setting>`` reads any setting from its group.
    """

    corpus: DataSettings = field(default_factory=DataSettings)
    base_model: ModelSettings = field(default_factory=ModelSettings)
    training: TrainingSettings = field(default_factory=TrainingSettings)
    decoding: DecodingSettings = field(default_factory=DecodingSettings)
    experiment: ExperimentSettings = field(default_factory=ExperimentSettings)
    execution: ExecutionSettings = field(default_factory=ExecutionSettings)

    def __post_init__(self):
        for group, cls in GROUPS.items():
            value = getattr(self, group)
            if not isinstance(value, cls):
                raise ValueError(f"{group} must be a {cls.__name__} (got {show(value)})")
        context = self.context_length()
        if context is not None and self.block_size + self.new_tokens > context:
            raise ValueError(
                f"block_size + new_tokens must fit the model's context of {context} tokens "
                f"(got block_size={self.block_size} + new_tokens={self.new_tokens})"
            )
        previous = self.prompt_source == "previous"
        if context is not None and previous and 2 * self.new_tokens > context:
            raise ValueError(
                f"new_tokens must be at most half the model's context of {context} tokens with "
                f"prompt_source='previous' (got new_tokens={self.new_tokens})"
            )

    def __getattr__(self, name: str):
        group = OWNER.get(name)
        if group is None:
            raise AttributeError(f"RunConfig has no setting {name!r}")
        return getattr(getattr(self, group), name)

    # --- derived ---------------------------------------------------------------------------------

    def epochs_for(self, regime: str) -> int:
        """Epochs of fine-tuning in ``regime``."""
        return self.training.epochs_for(regime)

    def resolved_device(self) -> str:
        """"cpu" or "cuda" (ValueError when cuda is asked for and torch sees none)."""
        from .._torch import resolve_device

        return resolve_device(self.device)

    def resolved_precision(self) -> str:
        """"fp32", "fp16" or "bf16" (autocast dtype for training and scoring on cuda)."""
        if self.precision != "auto":
            return self.precision
        if self.resolved_device() != "cuda":
            return "fp32"
        import torch

        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"

    def check_environment(self) -> RunConfig:
        """Check the settings that depend on this machine (device, precision). Returns self."""
        try:
            device = self.resolved_device()
        except ValueError:
            raise ValueError(f"device={self.device!r} but torch sees no such device on this "
                             "machine; use 'auto' or 'cpu'") from None
        if device == "cpu" and self.precision in ("fp16", "bf16"):
            raise ValueError(
                f"precision={self.precision!r} needs a CUDA device (this machine runs on the CPU); "
                "use 'fp32' or 'auto', e.g. --precision auto"
            )
        return self

    def context_length(self) -> int | None:
        """The model's context length when known without loading it (None otherwise)."""
        if self.model == TINY:
            return self.tiny_max_positions
        if self.model in KNOWN_CONTEXT:
            return KNOWN_CONTEXT[self.model]
        cfg = os.path.join(self.model, "config.json")
        if os.path.isfile(cfg):
            with open(cfg) as f:
                return json.load(f).get("max_position_embeddings")
        return None

    def example_prompt(self) -> str:
        if self.prompt is not None:
            return self.prompt
        if self.data == "synthetic":
            from .language import SOMERSET_SENTENCE

            return SOMERSET_SENTENCE
        return SOMERSET_PROMPT

    # --- changes, files, identity ----------------------------------------------------------------

    def replace(self, **changes) -> RunConfig:
        """A copy with some settings changed, by name (``lr=1e-4``); checked like a new one."""
        for name in changes:
            if name not in OWNER:
                near = difflib.get_close_matches(name, OWNER, n=1)
                hint = f"; did you mean {near[0]!r}?" if near else ""
                raise ValueError(f"unknown setting {name!r}{hint}")
        groups: dict[str, dict] = {}
        for name, value in changes.items():
            groups.setdefault(OWNER[name], {})[name] = value
        return dataclasses.replace(self, **{
            group: dataclasses.replace(getattr(self, group), **values)
            for group, values in groups.items()
        })

    def to_dict(self) -> dict:
        """Every setting by name (lists for tuples), as ``config.json`` holds them."""
        return {
            name: list(value) if isinstance(value, tuple) else value
            for group in GROUPS
            for name, value in dataclasses.asdict(getattr(self, group)).items()
        }

    @classmethod
    def from_dict(cls, values: dict) -> RunConfig:
        """The settings of :meth:`to_dict` (settings not named keep the ``paper`` defaults)."""
        return cls().replace(**values)

    def identity(self) -> dict:
        """The settings that define a run's results: all but ``execution`` and :data:`EXTENT`."""
        skip = {f.name for f in dataclasses.fields(ExecutionSettings)} | set(EXTENT)
        return {k: v for k, v in self.to_dict().items() if k not in skip}


#: 64-token blocks in wikitext-2-raw-v1's training split with OPT's tokenizer.
WIKITEXT2_TRAIN_BLOCKS = 37_700
#: The colab preset's training blocks: a fifth of wikitext-2's.
COLAB_TRAIN_BLOCKS = WIKITEXT2_TRAIN_BLOCKS // 5

_CPU_SMALL = dict(
    data="synthetic",
    model=TINY,
    block_size=64,
    new_tokens=64,
    lr=1e-3,
    lr_min=1e-5,
    batch_size=16,
    eval_batch_size=64,
    gen_batch_size=32,  # on the CPU, small batches decode fastest (the KV cache stays in cache)
    generations=5,
    seeds=(0, 1),
    device="cpu",
    precision="fp32",
    # One thread: a 0.1M-parameter model gains little from more, and on a shared or busy
    # machine extra threads wait on each other (measured: 20x slower training on 2 busy cores).
    num_threads=1,
)

#: name -> (description, settings that differ from the RunConfig defaults)
PRESETS: dict[str, tuple[str, dict]] = {
    "paper": (
        "The paper's protocol with the official code's settings (GPU): OPT-125m on wikitext-2, "
        "10 generations, 5 seeds, replace and keep_real.",
        {},
    ),
    "colab": (
        "paper cut to fit a free Colab T4 session (estimated): fp16 mixed precision, 1 seed, a "
        "fifth of the training blocks; write to Google Drive and rerun the same command to resume.",
        dict(
            seeds=(0,),
            precision="fp16",
            max_train_blocks=COLAB_TRAIN_BLOCKS,
            gen_batch_size=256,
            eval_batch_size=64,
        ),
    ),
    "cpu-small": (
        "Offline miniature on the CPU (about 4 minutes, one thread): synthetic language, tiny OPT "
        "pretrained by the project, 64+64-token blocks, 5 generations, 2 seeds, replace and "
        "keep_real; batch 16, lr 1e-3 -> 1e-5.",
        _CPU_SMALL,
    ),
}


def preset(name: str = "paper", **overrides) -> RunConfig:
    """The settings of preset ``name`` (a key of :data:`PRESETS`) with ``overrides`` applied.

    >>> preset("cpu-small", generations=3).generations
    3
    """
    check_choice("preset", name, tuple(PRESETS))
    return RunConfig().replace(**{**PRESETS[name][1], **overrides})
