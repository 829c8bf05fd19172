import os
from pathlib import Path

# Tests never reach the Hugging Face hub.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"

# Chapters executed by the tests (autograding) reuse the runs the book build saved.
os.environ.setdefault(
    "COLLAPSE_UTILS_RUNS", str(Path(__file__).resolve().parents[1] / "_build" / "runs")
)

# Property tests draw the same examples on every run (seeds everywhere): a failure found once is
# found again, and CI never fails on a draw no one can reproduce.
from hypothesis import settings  # noqa: E402

settings.register_profile("course", derandomize=True, print_blob=True)
settings.load_profile("course")
