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
Their charts are in :mod:`collapse_utils.figures.lm`.

Modules: :mod:`.config` (settings, grouped by concern, and presets), :mod:`.language` (the
synthetic language with known probabilities), :mod:`.data`, :mod:`.model`, :mod:`.train`,
:mod:`.generate`, :mod:`.metrics`, :mod:`.runner`, :mod:`.results` (a run folder's
records and tables), :mod:`.controls`, :mod:`.protocol` (the presets beside the paper).
"""

from ._hub import HubUnavailableError
from .config import (
    PRESETS,
    DataSettings,
    DecodingSettings,
    ExecutionSettings,
    ExperimentSettings,
    ModelSettings,
    RunConfig,
    TrainingSettings,
    preset,
)
from .data import write_synthetic_files
from .language import Language
from .metrics import histogram, summarize
from .results import Results, load_results
from .runner import run, run_dir

__all__ = [
    "PRESETS",
    "DataSettings",
    "DecodingSettings",
    "ExecutionSettings",
    "ExperimentSettings",
    "HubUnavailableError",
    "Language",
    "ModelSettings",
    "Results",
    "RunConfig",
    "TrainingSettings",
    "histogram",
    "load_results",
    "preset",
    "run",
    "run_dir",
    "summarize",
    "write_synthetic_files",
]
