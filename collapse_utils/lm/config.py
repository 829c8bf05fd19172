"""Every setting of the OPT-125m × wikitext2 experiment, and its presets (chapter 6).

:class:`RunConfig` is the one source of truth: the runner, the command line and the chapter read
their settings from it. :data:`PRESETS` holds the named presets:

``paper``
    The paper's protocol with the official code's settings: ``facebook/opt-125m`` fine-tuned on
    ``wikitext-2-raw-v1`` cut into 64-token blocks; AdamW (weight decay 0.01), lr 2e-5, batch
    128, no gradient clipping, cosine schedule to 1e-6 stepped once per epoch, the last epoch's
    weights tested and generating; 5-way beam search continuing every training block by 64 new
    tokens, repetition penalty 3.0; replace (5 epochs) and keep-real (10 epochs, a random 10% of
    the blocks real, the rest continuations) regimes; generations 0-9; 5 seeds. The one
    difference that changes what is learned, the prompts (real blocks), and the rest side by
    side: :func:`protocol_table`. Needs a GPU: one generation took 3.4 minutes on an H100
    (``benchmarks/paper_generation.py``).
``colab``
    ``paper`` cut to fit a free Colab T4 in about 2 hours: fp16 mixed precision (a T4 has no
    bf16), one seed, and a fifth of the training blocks (7,540 of 37.7k; validation and test
    whole). Estimated, not measured on a T4 (:func:`.figures.colab_estimate`): fine-tuning from its
    FLOPs at 40% of the T4's peak, decoding and scoring from the measured H100 times scaled by the
    ratio of memory bandwidths. ``--set max_train_blocks=none`` runs the full data (about 10
    hours: several sessions; point the output folder at Google Drive and the run resumes).
``cpu-small``
    The offline miniature: the course's synthetic language (:mod:`.language`), a tiny OPT the
    project pretrains itself on a flatter version of that language (``pretrain_temperature``),
    64-token blocks continued by 64 new tokens with the same beam search and repetition penalty,
    both main regimes, 5 generations, 2 seeds, in about 2 minutes on one CPU thread. What differs
    from the paper, and why: a 0.14M-parameter model instead of 125M; ~285 training blocks
    instead of 37.7k; so that fine-tuning moves the model in a few steps, batch 16 and lr
    1e-3 -> 1e-5 instead of batch 128 and lr 2e-5 -> 1e-6.

Settings are overridden with :meth:`RunConfig.replace` (Python), ``--set name=value`` or explicit
flags (command line). :meth:`RunConfig.validate` stops bad settings before any work with a
``ValueError`` naming the setting.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import types
import typing
from dataclasses import dataclass

from .._checks import check_choice, check_int, show

DATA_SOURCES = ("wikitext", "files", "synthetic")
REGIMES = ("replace", "keep_real", "accumulate")
PRECISIONS = ("auto", "fp32", "fp16", "bf16")
DEVICES = ("auto", "cpu", "cuda")
PROMPT_SOURCES = ("real", "previous")
LR_SCHEDULES = ("epoch", "step")
WEIGHTS = ("last", "best_val")
REAL_MIXES = ("batches", "add")
DECODERS = ("auto", "transformers")
KEEP_MODELS = ("gen0", "all")

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


@dataclass(frozen=True)
class RunConfig:
    """Settings of one run of the recursive fine-tuning experiment (chapter 6).

    The defaults are the ``paper`` preset. Field groups: data, model, fine-tuning, generation,
    experiment, execution; each field's comment says what it does.
    """

    # --- data ---------------------------------------------------------------------------------
    data: str = "wikitext"  # "wikitext" (Hugging Face hub), "files" or "synthetic"
    train_file: str | None = None  # text files for data="files" (one row per line)
    validation_file: str | None = None
    test_file: str | None = None
    block_size: int = 64  # tokens per block of real data (and per prompt)
    max_train_blocks: int | None = None  # keep only this many real training blocks (None: all)
    max_eval_blocks: int | None = None  # cap on validation and test blocks (None: all)
    # the synthetic language (data="synthetic" or model="tiny")
    language_seed: int = 0  # which words of the language are frequent
    corpus_seed: int = 1  # draws the train/validation/test text
    train_sentences: int = 1500
    validation_sentences: int = 300
    test_sentences: int = 300

    # --- model --------------------------------------------------------------------------------
    model: str = "facebook/opt-125m"  # hub id, local folder, or "tiny" (pretrained offline)
    cache_dir: str | None = None  # where "tiny" is cached (None: $COLLAPSE_UTILS_CACHE or ~/.cache)
    tiny_layers: int = 2
    tiny_hidden: int = 64
    tiny_heads: int = 4
    tiny_ffn: int = 256
    tiny_max_positions: int = 128
    tiny_dropout: float = 0.1
    tokenizer_vocab_size: int = 512
    pretrain_sentences: int = 20000  # pretraining corpus (synthetic language at a temperature)
    pretrain_temperature: float = 2.0  # > 1: flatter than the true language, as web text differs
    pretrain_steps: int = 600
    pretrain_batch_size: int = 16
    pretrain_lr: float = 3e-3
    pretrain_seed: int = 0

    # --- fine-tuning (each generation starts again from the pretrained checkpoint) ------------
    lr: float = 2e-5
    lr_min: float = 1e-6  # cosine schedule from lr down to lr_min
    warmup_steps: int = 0
    lr_schedule: str = "epoch"  # "epoch": cosine stepped once per epoch (T_max = epochs), as
    # the official code's CosineAnnealingLR; "step": cosine over every optimizer step
    batch_size: int = 128
    weight_decay: float = 0.01  # AdamW's PyTorch default, which the official code keeps
    grad_clip: float | None = None  # max gradient norm (None: no clipping, as the official code)
    weights: str = "last"  # which weights are tested and generate: "last" (end of training, as
    # the official training run) or "best_val" (the epoch with the best real validation loss)
    epochs: int | None = None  # overrides every regime's epochs when set
    epochs_replace: int = 5
    epochs_keep_real: int = 10
    epochs_accumulate: int = 5
    real_fraction: float = 0.1  # keep_real: share of real blocks in each generation's set
    real_mix: str = "batches"  # keep_real: "batches": a fresh random real_fraction of the blocks
    # stay real and the rest are the generated continuations, so the set keeps its size (the
    # official --generate_percentage); "add": every continuation plus real_fraction real on top
    eval_batch_size: int = 256  # blocks per forward pass when scoring (speed only)

    # --- generation of the next training set --------------------------------------------------
    new_tokens: int = 64  # exactly this many new tokens per block
    num_beams: int = 5
    repetition_penalty: float = 3.0  # the official code's value; the paper: 2.0 doubles ppl
    gen_batch_size: int = 512  # prompts decoded together, each with num_beams beams (speed
    # only: on an H100, 512 decode 1.7x as fast as 128, 1024 only 5% faster; bench_cuda.csv)
    prompt_source: str = "real"  # "real": continue the real training blocks every generation;
    # "previous": continue the blocks the current model was trained on
    prompt: str | None = None  # Example-1 prompt (None: Somerset prompt fitting the data)
    decoder: str = "auto"  # "auto": the course's beam search for OPT (same tokens, faster);
    # "transformers": generate() itself

    # --- experiment ---------------------------------------------------------------------------
    regimes: tuple[str, ...] = ("replace", "keep_real")
    generations: int = 10  # generation 0 (real data) to generations - 1
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    score_sequences: bool = True  # score every generated sequence with the generation-0 model
    keep_models: str = "gen0"  # "gen0": delete later generations' checkpoints once done

    # --- execution (may change when a run resumes) --------------------------------------------
    device: str = "auto"  # "auto": cuda if available, else cpu
    precision: str = "auto"  # "auto": bf16 (or fp16) autocast on cuda, fp32 on cpu
    num_threads: int | None = None  # torch CPU threads (None: torch's default)
    checkpoint_every_epoch: bool = True  # save the training state after each epoch
    progress: bool = True  # tqdm progress bars

    # --- derived --------------------------------------------------------------------------------

    def epochs_for(self, regime: str) -> int:
        """Epochs of fine-tuning in ``regime`` (``epochs`` overrides the per-regime value)."""
        if self.epochs is not None:
            return self.epochs
        return {
            "replace": self.epochs_replace,
            "keep_real": self.epochs_keep_real,
            "accumulate": self.epochs_accumulate,
        }[regime]

    def resolved_device(self) -> str:
        if self.device != "auto":
            return self.device
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"

    def resolved_precision(self) -> str:
        """ "fp32", "fp16" or "bf16" (autocast dtype for training and scoring on cuda)."""
        if self.precision != "auto":
            return self.precision
        if self.resolved_device() != "cuda":
            return "fp32"
        import torch

        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"

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

    # --- overrides and checks -------------------------------------------------------------------

    def replace(self, **changes) -> RunConfig:
        """A copy with some settings changed; values may be text as on the command line."""
        names = {f.name for f in dataclasses.fields(self)}
        for name in changes:
            if name not in names:
                raise ValueError(
                    f"unknown setting {name!r}; settings are: {', '.join(sorted(names))}"
                )
        parsed = {k: _parse(k, v) for k, v in changes.items()}
        return dataclasses.replace(self, **parsed)

    def to_dict(self) -> dict:
        return {
            k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()
        }

    @classmethod
    def from_dict(cls, values: dict) -> RunConfig:
        return RunConfig().replace(**values)

    def identity(self) -> dict:
        """Settings that define the results (not how fast they are computed, nor how many)."""
        skip = EXECUTION_SETTINGS | {"generations", "seeds", "regimes"}
        return {k: v for k, v in self.to_dict().items() if k not in skip}

    def validate(self) -> RunConfig:
        """Check every setting; raise ``ValueError`` naming the first bad one. Returns self."""
        check_choice("data", self.data, DATA_SOURCES)
        if self.data == "files":
            for name in ("train_file", "validation_file", "test_file"):
                path = getattr(self, name)
                if path is None:
                    raise ValueError(f"{name} must be set when data='files'")
                if not os.path.isfile(path):
                    raise ValueError(f"{name}: no such file {path!r}")
        for name in (
            "block_size",
            "new_tokens",
            "num_beams",
            "batch_size",
            "eval_batch_size",
            "gen_batch_size",
            "tiny_layers",
            "tiny_hidden",
            "tiny_heads",
            "tiny_ffn",
            "tiny_max_positions",
            "pretrain_batch_size",
            "generations",
            "epochs_replace",
            "epochs_keep_real",
            "epochs_accumulate",
            "train_sentences",
            "validation_sentences",
            "test_sentences",
            "pretrain_sentences",
        ):
            check_int(name, getattr(self, name), minimum=1)
        for name in (
            "warmup_steps",
            "pretrain_steps",
            "language_seed",
            "corpus_seed",
            "pretrain_seed",
        ):
            check_int(name, getattr(self, name), minimum=0)
        check_int("tokenizer_vocab_size", self.tokenizer_vocab_size, minimum=260)
        for name in ("max_train_blocks", "max_eval_blocks", "epochs", "num_threads"):
            if getattr(self, name) is not None:
                check_int(name, getattr(self, name), minimum=1)
        if self.tiny_hidden % self.tiny_heads:
            raise ValueError(
                f"tiny_hidden must be a multiple of tiny_heads={self.tiny_heads} "
                f"(got {self.tiny_hidden})"
            )
        _check_fraction("real_fraction", self.real_fraction)
        _check_fraction("tiny_dropout", self.tiny_dropout)
        for name in ("lr", "pretrain_lr", "pretrain_temperature", "repetition_penalty"):
            _check_positive(name, getattr(self, name))
        _check_positive("lr_min", self.lr_min, allow_zero=True)
        if self.lr_min > self.lr:
            raise ValueError(f"lr_min must be <= lr={self.lr!r} (got {self.lr_min!r})")
        _check_positive("weight_decay", self.weight_decay, allow_zero=True)
        if self.grad_clip is not None:
            _check_positive("grad_clip", self.grad_clip)
        if not isinstance(self.model, str) or not self.model:
            raise ValueError(
                f"model must be a hub id, a folder or {TINY!r} (got {show(self.model)})"
            )
        context = self.context_length()
        if context is not None and self.block_size + self.new_tokens > context:
            raise ValueError(
                f"block_size + new_tokens must fit the model's context of {context} tokens "
                f"(got block_size={self.block_size} + new_tokens={self.new_tokens})"
            )
        if (
            context is not None
            and self.prompt_source == "previous"
            and 2 * self.new_tokens > context
        ):
            raise ValueError(
                f"new_tokens must be at most half the model's context of {context} tokens with "
                f"prompt_source='previous' (got new_tokens={self.new_tokens})"
            )
        if not isinstance(self.regimes, tuple) or not self.regimes:
            raise ValueError(f"regimes must be a non-empty list of {', '.join(REGIMES)}")
        for regime in self.regimes:
            check_choice("regimes", regime, REGIMES)
        if len(set(self.regimes)) != len(self.regimes):
            raise ValueError(f"regimes must not repeat (got {show(self.regimes)})")
        if not isinstance(self.seeds, tuple) or not self.seeds:
            raise ValueError("seeds must be a non-empty list of integers >= 0")
        for seed in self.seeds:
            check_int("seeds", seed, minimum=0)
        if len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"seeds must not repeat (got {show(self.seeds)})")
        check_choice("prompt_source", self.prompt_source, PROMPT_SOURCES)
        check_choice("lr_schedule", self.lr_schedule, LR_SCHEDULES)
        if self.warmup_steps and self.lr_schedule != "step":
            raise ValueError(
                f"warmup_steps needs lr_schedule='step' (got warmup_steps={self.warmup_steps} "
                f"with lr_schedule={self.lr_schedule!r})"
            )
        check_choice("weights", self.weights, WEIGHTS)
        check_choice("real_mix", self.real_mix, REAL_MIXES)
        check_choice("decoder", self.decoder, DECODERS)
        check_choice("keep_models", self.keep_models, KEEP_MODELS)
        check_choice("device", self.device, DEVICES)
        check_choice("precision", self.precision, PRECISIONS)
        if self.prompt is not None and not self.prompt.strip():
            raise ValueError("prompt must be a non-empty text or None")
        return self

    def check_environment(self) -> RunConfig:
        """Check the settings that depend on this machine (device, precision). Returns self."""
        if self.device == "cuda":
            import torch

            if not torch.cuda.is_available():
                raise ValueError("device='cuda' but torch sees no CUDA device; use 'auto' or 'cpu'")
        if self.resolved_device() == "cpu" and self.precision in ("fp16", "bf16"):
            raise ValueError(
                f"precision={self.precision!r} needs a CUDA device (this machine runs on the CPU); "
                "use 'fp32' or 'auto', e.g. --set precision=auto"
            )
        return self

    def hash(self) -> str:
        text = json.dumps(self.identity(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


#: Settings used only with the project's own model (``model="tiny"``).
TINY_SETTINGS = frozenset({"tokenizer_vocab_size"})

#: Settings that only change how a run is computed; a run may resume with other values.
EXECUTION_SETTINGS = frozenset(
    {
        "cache_dir",
        "device",
        "precision",
        "num_threads",
        "checkpoint_every_epoch",
        "progress",
        "eval_batch_size",
        "gen_batch_size",
        "decoder",
        "keep_models",
        "score_sequences",
    }
)


def _check_fraction(name: str, value) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not 0.0 <= float(value) <= 1.0
    ):
        raise ValueError(f"{name} must be a number in [0, 1] (got {show(value)})")


def _check_positive(name: str, value, allow_zero: bool = False) -> None:
    ok = (
        not isinstance(value, bool)
        and isinstance(value, (int, float))
        and value == value
        and value != float("inf")
        and (value >= 0 if allow_zero else value > 0)
    )
    if not ok:
        raise ValueError(
            f"{name} must be a number {'>= 0' if allow_zero else '> 0'} (got {show(value)})"
        )


_HINTS = typing.get_type_hints(RunConfig)


def _parse(name: str, value):
    """Convert a command-line text (or a Python value) to the type of setting ``name``."""
    hint = _HINTS[name]
    args = typing.get_args(hint)
    optional = isinstance(hint, types.UnionType) and type(None) in args
    base = next((a for a in args if a is not type(None)), hint) if optional else hint
    if isinstance(value, str):
        text = value.strip()
        if optional and text.lower() in ("none", "null", ""):
            return None
        try:
            if base is bool:
                if text.lower() in ("1", "true", "yes", "on"):
                    return True
                if text.lower() in ("0", "false", "no", "off"):
                    return False
                raise ValueError
            if base is int:
                return int(text)
            if base is float:
                return float(text)
            if typing.get_origin(base) is tuple:
                item = typing.get_args(base)[0]
                return tuple(item(p.strip()) for p in text.split(",") if p.strip())
        except ValueError:
            raise ValueError(
                f"{name} cannot be read from {value!r} (expected {_type_text(base)})"
            ) from None
        return text
    if typing.get_origin(base) is tuple and isinstance(value, (list, tuple)):
        return tuple(value)
    if base is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _type_text(base) -> str:
    if typing.get_origin(base) is tuple:
        return f"a comma-separated list of {typing.get_args(base)[0].__name__}"
    return {bool: "true or false", int: "an integer", float: "a number"}.get(base, "text")


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
        "paper on a free Colab T4 in about 2 h (estimated): fp16 mixed precision, 1 seed, a "
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
    """The settings of preset ``name``, with ``overrides`` applied and checked.

    >>> preset("cpu-small", generations=3).generations
    3
    """
    check_choice("preset", name, tuple(PRESETS))
    return RunConfig().replace(**PRESETS[name][1]).replace(**overrides).validate()


#: The protocol side by side (chapter 6): one row per setting that changes what is learned or
#: measured. Each row: label, the course's setting(s) (or its fixed choice, as text), what the
#: paper states ("" where the course takes nothing from its text), what the official code
#: (iliaishacked/curse_recurse) does, and why the course differs where it does. The course's
#: own values are read from the presets.
PROTOCOL: tuple[tuple[str, tuple[str, ...] | str, str, str, str], ...] = (
    ("model", ("model",), "OPT-125m", "facebook/opt-125m, pretrained (-p)",
     "offline: no hub; a tiny OPT the project pretrains on a flatter version of the language"),
    ("text", ("data",), "WikiText-2", "wikitext-2-raw-v1",
     "offline, and every text's true probability is known"),
    ("tokenizer", ("tokenizer_vocab_size",), "", "OPT's byte-level BPE (50k tokens)",
     "a byte-level BPE trained on the language, sized to its small vocabulary"),
    ("block (tokens)", ("block_size",), "64", "64", ""),
    ("optimizer", ("lr", "lr_min", "weight_decay"), "",
     "AdamW, lr 2e-05 -> 1e-06, weight decay 0.01 (PyTorch's default)",
     "a few hundred blocks move a model only at a larger learning rate"),
    ("schedule", ("lr_schedule",), "", "cosine, stepped once per epoch (T_max = epochs)", ""),
    ("gradient clipping", ("grad_clip",), "", "none", ""),
    ("batch (blocks)", ("batch_size",), "", "128",
     "a few hundred blocks in batches of 128 would be a few steps an epoch"),
    ("precision", ("precision",), "", "fp32",
     "paper preset: bf16/fp16 autocast on a GPU, for speed only"),
    ("epochs (replace / keep real)", ("epochs_replace", "epochs_keep_real"), "5 / 10",
     "5 / 10 (-m)", ""),
    ("real data kept", ("real_fraction", "real_mix"), "10% of the original data",
     "--generate_percentage 0.1: of the set being continued, the first 10% of the shuffled "
     "batches are kept as they are, every later batch is replaced by its continuation (the set "
     "keeps its size)",
     "the same mix drawn per block rather than per batch of 128"),
    ("weights that are tested and generate", ("weights",), "",
     "the model at the end of training (the evaluation script later rescores best.ckpt)", ""),
    ("prompts", ("prompt_source",), "",
     "the current training set (main.py continues what its train loader holds); the script "
     "that chains generations is not published",
     "both presets: real blocks every generation, so that only the model changes"),
    ("decoding", ("num_beams", "new_tokens", "repetition_penalty"),
     "5-way beam search, 64 new tokens",
     "generate(num_beams=5, min_new_tokens=max_new_tokens=64, repetition_penalty=3.0)", ""),
    ("next model trains on", "the new tokens only", "the generated data",
     "the 64 new tokens only", ""),
    ("generations, seeds", ("generations", "seeds"), "0-9, 5 runs", "one run per call",
     "the book's CPU budget"),
    ("Figure 1 scores", "one perplexity per sequence",
     "perplexity of generated data under the generation-0 model",
     "one mean loss per test batch of 16 sequences",
     "a batch mean hides the tails Figure 1 is about (both presets)"),
)


def protocol_table(presets: tuple[str, ...] = ("paper", "cpu-small")):
    """:data:`PROTOCOL` as a DataFrame, with each preset's values read from the preset."""
    import pandas as pd

    configs = {name: preset(name) for name in presets}

    def show_value(cfg: RunConfig, fields) -> str:
        if isinstance(fields, str):
            return fields
        if cfg.model != TINY:  # settings of the offline model only
            fields = tuple(f for f in fields if f not in TINY_SETTINGS)
            if not fields:
                return "the model's own"
        return ", ".join(f"{f}={_short(getattr(cfg, f))}" for f in fields)

    rows = []
    for label, fields, paper, official, why in PROTOCOL:
        row = {"setting": label, "paper": paper, "official code": official}
        for name, cfg in configs.items():
            row[f"{name} preset"] = show_value(cfg, fields)
        row["why the course differs"] = why
        rows.append(row)
    return pd.DataFrame(rows).set_index("setting")


def _short(value) -> str:
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    return str(value)
