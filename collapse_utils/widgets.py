"""ipywidgets explorers for live notebooks, with a static fallback for the book.

A static HTML page has no kernel to recompute a figure when a slider moves, so
during the book build an explorer shows its figure at the default settings
(the book's interactive figures use Altair parameters instead).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .figures import style


def explorer(figure: Callable[..., Any], **controls: Any):
    """Sliders for ``figure``'s keyword arguments; ``figure`` returns a chart.

    ``controls`` maps each argument to an ipywidgets control (whose ``value``
    is the default) or to a fixed value. Used in chapter 2, Statistical approximation error.
    """
    import ipywidgets as w

    if style.in_book_build():
        defaults = {k: getattr(c, "value", c) for k, c in controls.items()}
        return figure(**defaults)
    fixed = {k: w.fixed(c) if not isinstance(c, w.Widget) else c for k, c in controls.items()}
    return w.interactive(figure, **fixed)
