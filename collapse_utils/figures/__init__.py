"""Every chart of the course, one module per science module of the same name.

``collapse_utils.gaussian`` computes; ``collapse_utils.figures.gaussian`` draws. Charts take the
science modules' results (or tables made from them) and never simulate. :mod:`.style` holds the
one palette, the one look, the one rounding helper and the one "closed form beside simulation"
layer every chart uses; importing this package sets up offline rendering for the book build.
"""

from . import style  # noqa: F401  (registers the renderer)
