"""The OPT-125m × wikitext2 experiment of Shumailov et al. (2024), full and in miniature.

Chapter 6.

One call runs it (or resumes it) and returns tidy DataFrames::

    from collapse_utils import lm
    res = lm.run("cpu-small", "runs/ch6")  # Colab: lm.run("colab", "/content/drive/MyDrive/ch6")
    res.results  # one row per seed x regime x generation
    lm.summarize(res.results, ["test_ppl"])  # mean and sd over seeds, long format
    lm.histogram(res.sequences, generations=[0, 1, 2, 3, 4])  # Figure 1's histograms
    res.samples  # Example 1: the Somerset prompt's continuation, per generation

The same runs from a shell: ``python -m collapse_utils.lm --preset cpu-small --out runs/ch6``.

Modules: :mod:`.config` (settings and presets), :mod:`.language` (the synthetic language with
known probabilities), :mod:`.data`, :mod:`.model`, :mod:`.train`, :mod:`.generate`,
:mod:`.metrics`, :mod:`.runner`.
"""

from ._hub import HubUnavailableError
from .config import PRESETS, RunConfig, preset
from .data import write_synthetic_files
from .language import Language
from .metrics import histogram, summarize
from .runner import Results, load_results, run, run_dir

__all__ = [
    "PRESETS",
    "HubUnavailableError",
    "Language",
    "Results",
    "RunConfig",
    "histogram",
    "load_results",
    "preset",
    "run",
    "run_dir",
    "summarize",
    "write_synthetic_files",
]
