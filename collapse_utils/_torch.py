"""The one way the course picks a torch device, limits torch's CPU threads and seeds torch.

Used by the VAE of chapter 5 (:mod:`collapse_utils.vae`) and the language models of chapters 6
and 7 (:mod:`collapse_utils.lm`). Seeds follow the rest of the package: ``None``, an int or a
``numpy.random.Generator``; torch's seeds are drawn from a Generator, so one numpy seed fixes a
whole run, and an int is torch's seed itself.
"""

from __future__ import annotations

import contextlib

import numpy as np
import torch

from ._checks import as_rng, check_int, show

__all__ = [
    "deterministic",
    "limit_threads",
    "resolve_device",
    "seeded",
    "torch_generator",
    "torch_seed",
]

_KINDS = ("cpu", "cuda", "mps")


def resolve_device(device=None) -> str:
    """The device to run on, as a string torch accepts (``"cpu"``, ``"cuda"``, ``"cuda:1"``...).

    ``None`` or ``"auto"``: ``"cuda"`` when torch sees a CUDA device, else ``"cpu"``. A string or
    ``torch.device`` naming ``cpu``, ``cuda[:index]`` or ``mps`` is checked against this machine:
    asking for a device it lacks raises ``ValueError`` before any work.
    """
    if device is None or (isinstance(device, str) and device == "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    allowed = "None, 'auto', 'cpu', 'cuda', 'cuda:<index>', 'mps' or a torch.device"
    if not isinstance(device, str | torch.device):
        raise ValueError(f"device must be {allowed} (got {show(device)})")
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise ValueError(f"device must be {allowed} (got {show(device)})") from None
    if parsed.type not in _KINDS:
        raise ValueError(f"device must be {allowed} (got {show(device)})")
    if parsed.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ValueError(f"device is {str(parsed)!r} but torch sees no CUDA device; "
                             "use None (auto) or 'cpu'")
        if parsed.index is not None and parsed.index >= count:
            raise ValueError(f"device index must be below the {count} CUDA device(s) "
                             f"(got {str(parsed)!r})")
    if parsed.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError("device is 'mps' but torch sees no MPS device; use None (auto) or 'cpu'")
    return str(parsed)


class limit_threads(contextlib.ContextDecorator):  # noqa: N801 (used like a function)
    """Context: torch uses ``num_threads`` CPU threads inside, its previous setting after.

    ``None`` leaves torch's setting as it is. The argument is checked when the context is made,
    before any work. Small networks train fastest on one thread, and on a shared machine more
    threads mostly wait for each other.
    """

    def __init__(self, num_threads: int | None):
        self.n = None if num_threads is None else check_int("num_threads", num_threads, 1)

    def __enter__(self):
        self._old = torch.get_num_threads()
        if self.n is not None:
            torch.set_num_threads(self.n)
        return self

    def __exit__(self, *exc):
        torch.set_num_threads(self._old)
        return False


def torch_seed(seed=None) -> int:
    """An integer seed for torch from ``seed``: an int is used as it is; a numpy Generator gives
    a fresh draw each call (so successive calls give independent seeds); None, a random one."""
    if isinstance(seed, int | np.integer) and not isinstance(seed, bool | np.bool_):
        if not 0 <= seed < 2**64:
            raise ValueError(f"seed must be an integer in 0..2**64 - 1 (got {seed})")
        return int(seed)
    return int(as_rng(seed).integers(2**62))


def torch_generator(seed=None) -> torch.Generator:
    """A CPU ``torch.Generator`` seeded by :func:`torch_seed`.

    Draw noise on it (``torch.randn(..., generator=g)``) and move the result to the device: the
    same numbers on every device.
    """
    return torch.Generator().manual_seed(torch_seed(seed))


@contextlib.contextmanager
def seeded(seed=None):
    """Context: torch's global random states (the CPU's and every CUDA device's) seeded by
    :func:`torch_seed`, as ``torch.manual_seed`` does, and restored after.

    For code that draws from the global state (a module's initial weights, dropout) without
    touching the caller's randomness. Yields the torch seed used.
    """
    value = torch_seed(seed)
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(value)
        yield value


@contextlib.contextmanager
def deterministic():
    """Context: cuDNN uses deterministic algorithms (and no benchmarking), restored after.

    On a GPU, cuDNN's fastest convolution backward passes add in an order that varies from run
    to run; training amplifies those last-bit differences. Inside this context the same seed
    gives the same numbers on the same GPU. No effect on the CPU, which is deterministic.
    """
    cudnn = torch.backends.cudnn
    old = cudnn.deterministic, cudnn.benchmark
    cudnn.deterministic, cudnn.benchmark = True, False
    try:
        yield
    finally:
        cudnn.deterministic, cudnn.benchmark = old
