import os
from pathlib import Path

# Tests never reach the Hugging Face hub.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"

# Chapters executed by the tests (autograding) reuse the runs the book build saved.
os.environ.setdefault(
    "COLLAPSE_UTILS_RUNS", str(Path(__file__).resolve().parents[1] / "_build" / "runs")
)
