"""Fine-tuning one generation, and the token losses behind every perplexity (chapter 6).

:func:`finetune` follows the official code's recipe: AdamW, a cosine schedule from ``lr`` down to
``lr_min``, shuffled batches of blocks, the validation loss after every epoch, and the weights of
the epoch with the lowest validation loss kept. After each epoch it can save its whole state
(weights, optimizer, schedule, best weights), so that a run killed mid-training resumes at the
last finished epoch with the same result. On CUDA it trains under bf16/fp16 autocast (fp16 with a
gradient scaler); on the CPU in fp32.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .._progress import progress_bar
from . import _io, opt
from .config import TrainingSettings

#: How the training step is compiled on CUDA (``torch.compile``'s ``mode``; None: not compiled).
#: The step is OPT's forward written out (:func:`.opt.lm_loss`), which compiles as one graph.
#: Chosen by ``benchmarks/paper_generation.py`` (book appendix, "GPU").
COMPILE_MODE: str | None = "default"


@functools.cache
def _compiled_loss(mode: str):
    return torch.compile(opt.lm_loss, mode=mode, dynamic=False)


def loss_function(model, device: str, blocks):
    """The training loss ``f(model, ids)`` of a batch of full blocks: OPT's forward written out
    (compiled on CUDA) where :func:`.opt.supports` the model and no block is padded, else None
    (``transformers``' forward is used)."""
    if not opt.supports(model) or not bool((blocks.lengths == blocks.ids.shape[1]).all()):
        return None
    if device.startswith("cuda") and COMPILE_MODE is not None:
        return _compiled_loss(COMPILE_MODE)
    return opt.lm_loss


@dataclass
class Blocks:
    """A training set: token blocks, right-padded to a common width, with their lengths.

    Blocks of different lengths appear when real blocks (``block_size``) are mixed with generated
    ones (``new_tokens``); padded positions are masked out of attention and loss.
    """

    ids: torch.Tensor  # (n, width) long
    lengths: torch.Tensor  # (n,) long

    @classmethod
    def cat(cls, parts: list[torch.Tensor], pad_id: int = 0) -> Blocks:
        parts = [p for p in parts if len(p)]
        width = max(p.shape[1] for p in parts)
        ids = torch.cat([F.pad(p, (0, width - p.shape[1]), value=pad_id) for p in parts])
        lengths = torch.cat([torch.full((len(p),), p.shape[1], dtype=torch.long) for p in parts])
        return cls(ids, lengths)

    def __len__(self) -> int:
        return len(self.ids)

    def batch(self, index) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
        """(input_ids, attention_mask or None, labels) for the blocks at ``index``."""
        lengths = self.lengths[index]
        width = int(lengths.max())
        ids = self.ids[index, :width]
        if bool((lengths == width).all()):
            return ids, None, ids
        mask = torch.arange(width)[None, :] < lengths[:, None]
        return ids, mask.long(), ids.masked_fill(~mask, -100)


def autocast(device: str, precision: str):
    """Autocast context for ``precision`` on CUDA; a no-op in fp32 or on the CPU."""
    if device.startswith("cuda") and precision in ("fp16", "bf16"):
        dtype = torch.float16 if precision == "fp16" else torch.bfloat16
        return torch.autocast("cuda", dtype=dtype)
    return contextlib.nullcontext()


@torch.no_grad()
def sequence_nll(
    model,
    blocks: torch.Tensor,
    *,
    batch_size: int = 64,
    device: str = "cpu",
    precision: str = "fp32",
    progress: bool = False,
    desc: str = "scoring",
) -> tuple[np.ndarray, np.ndarray]:
    """Summed negative log-likelihood (nats) of each block and its number of predicted tokens.

    Token ``t`` of a block is predicted from tokens ``0..t-1``; the first token is not predicted,
    so a block of length L counts L - 1 tokens. ``blocks`` is a LongTensor (n, L) or
    :class:`Blocks`.
    """

    if not isinstance(blocks, Blocks):
        blocks = Blocks(blocks, torch.full((len(blocks),), blocks.shape[1], dtype=torch.long))
    was_training = model.training
    model.eval()
    sums = np.zeros(len(blocks))
    counts = np.zeros(len(blocks), dtype=np.int64)
    starts = range(0, len(blocks), batch_size)
    for start in progress_bar(starts, desc=desc, enabled=progress, leave=False):
        index = torch.arange(start, min(start + batch_size, len(blocks)))
        ids, mask, labels = blocks.batch(index)
        ids, labels = ids.to(device), labels.to(device)
        with autocast(device, precision):
            logits = model(
                input_ids=ids,
                attention_mask=None if mask is None else mask.to(device),
                use_cache=False,  # no KV cache to build: nothing is generated
            ).logits
        target = labels[:, 1:]
        nll = F.cross_entropy(
            logits[:, :-1].float().transpose(1, 2), target, reduction="none", ignore_index=-100
        )
        sums[index.numpy()] = nll.sum(dim=1).double().cpu().numpy()
        counts[index.numpy()] = (target != -100).sum(dim=1).cpu().numpy()
    model.train(was_training)
    return sums, counts


def mean_loss(model, blocks, **kwargs) -> float:
    """Mean negative log-likelihood per predicted token; ``exp`` of it is the perplexity."""
    sums, counts = sequence_nll(model, blocks, **kwargs)
    return float(sums.sum() / counts.sum())


def _cosine(t: float, lr: float, lr_min: float) -> float:
    """Multiplier of ``lr`` a fraction ``t`` of the way down a cosine from lr to lr_min."""
    return (lr_min + (lr - lr_min) * 0.5 * (1 + math.cos(math.pi * t))) / lr


def cosine_factor(step: int, total: int, warmup: int, lr: float, lr_min: float) -> float:
    """Multiplier of ``lr`` at ``step``: linear warmup, then cosine from lr to lr_min."""
    if step < warmup:
        return (step + 1) / warmup
    return _cosine(min(1.0, (step - warmup) / max(1, total - warmup)), lr, lr_min)


def epoch_cosine_factor(step: int, steps_per_epoch: int, epochs: int, lr: float, lr_min: float):
    """Multiplier of ``lr`` at ``step`` for a cosine stepped once per epoch: epoch ``e`` runs at
    ``lr_min + (lr - lr_min)(1 + cos(pi e / epochs)) / 2``, as PyTorch's
    ``CosineAnnealingLR(T_max=epochs, eta_min=lr_min)`` called after each epoch."""
    return _cosine((step // steps_per_epoch) / epochs, lr, lr_min)


def epoch_seed(key: int, epoch: int) -> int:
    return (key * 1_000_003 + epoch * 7_919) % (2**63 - 1)


@dataclass
class FinetuneResult:
    best_val_loss: float  #: lowest validation loss over the epochs
    best_epoch: int  #: 1-based epoch with the lowest validation loss
    val_losses: list[float]
    steps: int
    train_tokens: int
    seconds: float


def finetune(
    model,
    train: Blocks,
    val: torch.Tensor,
    settings: TrainingSettings,
    *,
    epochs: int,
    seed: int = 0,
    device: str = "cpu",
    precision: str = "fp32",
    eval_batch_size: int = 64,
    state_dir: str | None = None,
    progress: bool = False,
    desc: str = "fine-tuning",
    on_event=None,
) -> FinetuneResult:
    """Fine-tune ``model`` in place for ``epochs`` epochs with ``settings`` (checked when they
    were made: lr, schedule, batch, weight decay, clipping, weights kept); it ends holding the
    weights of the last epoch (``weights="last"``, the official code) or of the epoch with the
    lowest validation loss (``weights="best_val"``). ``lr_schedule``: "epoch" (cosine stepped
    once per epoch, the official code) or "step" (cosine over every step, after
    ``warmup_steps``). ``epochs`` is the generation's: ``settings.epochs_for(regime)``.

    With ``state_dir``, the training state is saved there after every epoch and picked up again
    if present (resume after a kill). ``on_event(name, info)`` is called after each epoch with
    ``name="epoch_end"``.
    """

    if not isinstance(settings, TrainingSettings):
        raise ValueError(f"settings must be a TrainingSettings (got {type(settings).__name__})")
    lr, lr_min, batch_size = settings.lr, settings.lr_min, settings.batch_size
    weight_decay, grad_clip, weights = settings.weight_decay, settings.grad_clip, settings.weights
    warmup_steps, lr_schedule = settings.warmup_steps, settings.lr_schedule
    model.to(device)
    n = len(train)
    steps_per_epoch = math.ceil(n / batch_size)
    total = epochs * steps_per_epoch
    # fused: one kernel for the whole update on CUDA (the same AdamW)
    optim = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay,
                              fused=device.startswith("cuda"))
    loss_fn = loss_function(model, device, train)
    if lr_schedule == "epoch":
        factor = lambda s: epoch_cosine_factor(s, steps_per_epoch, epochs, lr, lr_min)  # noqa: E731
    else:
        factor = lambda s: cosine_factor(s, total, warmup_steps, lr, lr_min)  # noqa: E731
    sched = torch.optim.lr_scheduler.LambdaLR(optim, factor)
    scaler = (
        torch.amp.GradScaler("cuda") if device.startswith("cuda") and precision == "fp16" else None
    )
    start_epoch, best_loss, best_epoch, best_state, history, seconds = 0, math.inf, 0, None, [], 0.0
    state_path = os.path.join(state_dir, "train_state.pt") if state_dir else None
    if state_path and os.path.exists(state_path):
        state = _io.torch_load(state_path)
        model.load_state_dict(state["model"])
        optim.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        if scaler is not None and state.get("scaler") is not None:
            scaler.load_state_dict(state["scaler"])
        start_epoch, best_loss, best_epoch = state["epoch"], state["best_loss"], state["best_epoch"]
        history, seconds = state["history"], state["seconds"]
        best_path = os.path.join(state_dir, "best.pt")
        best_state = _io.torch_load(best_path) if os.path.exists(best_path) else None
    bar = progress_bar(
        total=total,
        initial=start_epoch * steps_per_epoch,
        desc=desc,
        enabled=progress,
        leave=False,
    )
    for epoch in range(start_epoch, epochs):
        t0 = time.perf_counter()
        torch.manual_seed(epoch_seed(seed, epoch))
        order = torch.from_numpy(np.random.default_rng(epoch_seed(seed, epoch)).permutation(n))
        model.train()
        for start in range(0, n, batch_size):
            ids, mask, labels = train.batch(order[start : start + batch_size])
            with autocast(device, precision):
                if loss_fn is not None:
                    # the epoch's last, smaller batch runs eagerly: compiling a second shape
                    # would cost more than it saves
                    fn = loss_fn if len(ids) == batch_size else opt.lm_loss
                    loss = fn(model, ids.to(device, non_blocking=True))
                else:
                    loss = model(
                        input_ids=ids.to(device),
                        attention_mask=None if mask is None else mask.to(device),
                        labels=labels.to(device),
                        use_cache=False,
                    ).loss
            optim.zero_grad(set_to_none=True)
            if scaler is not None:
                scaler.scale(loss).backward()
                scaler.unscale_(optim)
            else:
                loss.backward()
            if grad_clip is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
            if scaler is not None:
                scaler.step(optim)
                scaler.update()
            else:
                optim.step()
            sched.step()
            bar.update(1)
        val_loss = mean_loss(
            model, val, batch_size=eval_batch_size, device=device, precision=precision
        )
        history.append(val_loss)
        bar.set_postfix(val_loss=f"{val_loss:.3f}")
        if val_loss < best_loss:
            best_loss, best_epoch = val_loss, epoch + 1
            if weights == "best_val":
                best_state = {
                    k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()
                }
        seconds += time.perf_counter() - t0
        if state_path:
            if best_state is not None and best_epoch == epoch + 1:
                _io.torch_save(best_state, os.path.join(state_dir, "best.pt"))
            _io.torch_save(
                {
                    "epoch": epoch + 1,
                    "model": model.state_dict(),
                    "optimizer": optim.state_dict(),
                    "scheduler": sched.state_dict(),
                    "scaler": None if scaler is None else scaler.state_dict(),
                    "best_loss": best_loss,
                    "best_epoch": best_epoch,
                    "history": history,
                    "seconds": seconds,
                },
                state_path,
            )
        if on_event is not None:
            on_event("epoch_end", {"epoch": epoch + 1, "val_loss": val_loss})
    bar.close()
    if weights == "best_val" and best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return FinetuneResult(
        best_val_loss=best_loss,
        best_epoch=best_epoch,
        val_losses=list(history),
        steps=total,
        train_tokens=int(train.lengths.sum()) * epochs,
        seconds=seconds,
    )
