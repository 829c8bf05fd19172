"""Atomic writes: every file a run keeps is written to a temporary name, then ``os.replace``d.

A run killed at any moment leaves each file either complete or absent, never half written; this
is what makes resuming safe, also on Google Drive. The temporary name carries the writer's
process id: the next write of the same path removes what a process that no longer runs left
behind (a file, or a folder of :func:`save_dir`).
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import uuid

import torch


def _tmp(path: str) -> str:
    return f"{path}.tmp{os.getpid()}-{uuid.uuid4().hex[:8]}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def clear_leftovers(path: str) -> None:
    """Remove the temporary copies of ``path`` whose writer no longer runs."""
    for leftover in glob.glob(glob.escape(path) + ".tmp*"):
        owner = leftover[len(path) + 4:].split("-", 1)[0]
        if not (owner.isdigit() and _alive(int(owner))):
            remove(leftover)


def _prepare(path: str) -> str:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    clear_leftovers(path)
    return _tmp(path)


def write_text(path: str, text: str) -> None:
    tmp = _prepare(path)
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        remove(tmp)
        raise


def write_json(path: str, obj) -> None:
    write_text(path, json.dumps(obj, indent=1, sort_keys=True, default=_default) + "\n")


def _default(obj):
    if hasattr(obj, "item"):
        return obj.item()
    if isinstance(obj, (set, frozenset, tuple)):
        return sorted(obj) if isinstance(obj, (set, frozenset)) else list(obj)
    raise TypeError(f"cannot write {type(obj).__name__} as JSON")


def read_json(path: str, default=None):
    if not os.path.exists(path):
        return default
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def write_csv(path: str, frame) -> None:
    write_text(path, frame.to_csv(index=False))


def torch_save(obj, path: str) -> None:
    tmp = _prepare(path)
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    except BaseException:
        remove(tmp)
        raise


def torch_load(path: str):
    return torch.load(path, map_location="cpu", weights_only=False)


def save_dir(path: str, write) -> None:
    """Fill a fresh folder with ``write(tmp_folder)``, then move it to ``path`` in one rename."""
    tmp = _prepare(path)
    try:
        write(tmp)
        if os.path.exists(path):
            shutil.rmtree(path)
        os.replace(tmp, path)
    except BaseException:  # an error or Ctrl-C: leave no half-written folder behind
        remove(tmp)
        raise


def remove(path: str) -> None:
    """Delete a file or folder if it exists."""
    if os.path.isdir(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.exists(path):
        os.remove(path)
