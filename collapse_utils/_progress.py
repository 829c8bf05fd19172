"""Progress bars for long loops, silenced in the book build."""

from __future__ import annotations

import os


def progress_bar(iterable=None, *, total=None, desc=None, enabled=True, leave=True, **kwargs):
    """A ``tqdm.auto`` bar, off when ``enabled`` is False or ``TQDM_DISABLE`` is set.

    tqdm's notebook bars ignore ``TQDM_DISABLE`` (only its console bars read it), and the book
    build needs them off: their ipywidgets cannot render offline.
    """
    from tqdm.auto import tqdm

    off = not enabled or os.environ.get("TQDM_DISABLE", "").lower() not in ("", "0", "false")
    return tqdm(iterable, total=total, desc=desc, disable=off, leave=leave, **kwargs)
