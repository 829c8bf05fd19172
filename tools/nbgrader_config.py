"""The course's nbgrader settings.

``make assignments`` copies this file into the course folder (``_build/nbgrader/``), where every
``nbgrader`` command run in that folder reads it.
"""

import os
from pathlib import Path

c = get_config()  # noqa: F821 (nbgrader defines it when it reads this file)
HERE = Path(__file__).resolve().parent

c.CourseDirectory.course_id = "model-collapse"
c.CourseDirectory.root = str(HERE)

# nbgrader's default (30 s a cell) would stop chapter 6's experiment cell. With the shared runs
# below every cell of the book takes seconds; without them chapter 6 runs its experiment, which
# takes minutes on a laptop's CPU.
c.Execute.timeout = 1800

# Never collected with a submission, nor copied into autograded or feedback folders.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "runs",
                            ".cache"]

# Chapters 6 and 7 read their language-model runs (`collapse_utils.lm.run_dir`) from one shared,
# read-only folder of the course, written once by `make assignments` from the book's build: no
# submission runs the experiment again, and no run is copied into a student's folder. The
# kernels nbgrader starts inherit this variable.
os.environ.setdefault("COLLAPSE_UTILS_RUNS", str(HERE / "runs"))
