"""nbgrader's own command line in the course folder that ``make assignments`` lays out.

Chapters 1 and 6 are released by ``python -m tools.assignments course``; then, as an instructor
would, ``nbgrader autograde``, ``generate_feedback`` and ``export`` run in that folder, reading
only its ``nbgrader_config.py``. Two students hand in each chapter: ada the instructor's version
(every exercise solved), bob the release untouched. Chapter 6 grades against the book's runs,
shared read-only, within the course's cell timeout.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tools import assignments

ROOT = Path(__file__).resolve().parents[1]
RUNS = ROOT / "_build" / "runs"
CHAPTERS = ("01_what_is_model_collapse", "06_language_models")
STUDENTS = {"ada": "source", "bob": "release"}
MYST = re.compile(r":::\{|```\{|\{(?:cite|prf:\w+|ref|numref|eq|glue:\w+)\}`")
HIDDEN = "### BEGIN HIDDEN TESTS"


def nbgrader(course: Path, *args: str) -> str:
    """An nbgrader command as an instructor types it, in the course folder."""
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    env.pop("COLLAPSE_UTILS_RUNS", None)  # the course config points the kernels at its runs
    done = subprocess.run(["nbgrader", *args], cwd=course, env=env, capture_output=True,
                          text=True, timeout=1200)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def files(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.relative_to(folder).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in folder.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The course folder after release, autograde, feedback and export; nbgrader's logs."""
    if not RUNS.is_dir():
        pytest.fail(f"{RUNS} is missing: run `make book` first (make test does)")
    course = tmp_path_factory.mktemp("nbgrader") / "course"
    env = {k: v for k, v in os.environ.items() if k != "COLLAPSE_UTILS_RUNS"}
    done = subprocess.run([sys.executable, "-m", "tools.assignments", "course", "--course",
                           str(course), "01", "06"], cwd=ROOT, env=env, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    for student, version in STUDENTS.items():
        for name in CHAPTERS:
            (course / "submitted" / student / name).mkdir(parents=True)
            shutil.copy2(course / version / name / f"{name}.ipynb",
                         course / "submitted" / student / name / f"{name}.ipynb")
    runs = files(course / "runs")
    logs = {name: nbgrader(course, "autograde", name) for name in CHAPTERS}
    for name in CHAPTERS:
        nbgrader(course, "generate_feedback", name)
    nbgrader(course, "export")
    return course, logs, runs


def test_the_course_folder_is_what_nbgrader_reads(graded):
    course = graded[0]
    config = (course / "nbgrader_config.py").read_text(encoding="utf-8")
    assert config == assignments.CONFIG.read_text(encoding="utf-8")
    assert re.search(r"c\.Execute\.timeout = (\d+)", config)[1] == "1800"
    # Where chapter 6, in a kernel nbgrader starts, finds its run: the course's shared runs (the
    # book's own, which the repository would give without the config, are not read).
    env = {k: v for k, v in os.environ.items() if k != "COLLAPSE_UTILS_RUNS"}
    read = subprocess.run(
        [sys.executable, "-c", "from traitlets.config.loader import PyFileConfigLoader;"
         f" PyFileConfigLoader('nbgrader_config.py', {str(course)!r}).load_config();"
         " from collapse_utils import lm; print(lm.run_dir('cpu-small'))"],
        cwd=course, env=env, capture_output=True, text=True)
    assert read.stdout.strip() == str(course / "runs" / "cpu-small"), read.stderr
    for name in CHAPTERS:
        release = nbformat.read(course / "release" / name / f"{name}.ipynb", as_version=4)
        text = "\n".join(c.source for c in release.cells)
        assert not MYST.search(text) and HIDDEN not in text and "BEGIN SOLUTION" not in text


def test_solutions_score_full_marks_and_stubs_zero(graded):
    course = graded[0]
    with open(course / "grades.csv", newline="", encoding="utf-8") as f:
        rows = {(r["student_id"], r["assignment"]): r for r in csv.DictReader(f)}
    for name in CHAPTERS:
        ada, bob = rows["ada", name], rows["bob", name]
        assert float(ada["max_score"]) > 0 and float(ada["score"]) == float(ada["max_score"])
        assert float(bob["score"]) == 0 and bob["max_score"] == ada["max_score"]
        errors = assignments.errors(course / "autograded" / "ada" / name / f"{name}.ipynb")
        assert errors == [], f"{name}: cells raised {errors}"


def test_chapter_6_grades_against_the_shared_read_only_runs(graded):
    course, _, runs = graded
    assert files(course / "runs") == runs  # read, never written
    assert all(not (p.stat().st_mode & 0o222) for p in (course / "runs").rglob("*"))
    copied = [p for sub in ("submitted", "autograded", "feedback")
              for p in (course / sub).rglob("*") if p.is_dir() and p.name == "runs"]
    assert copied == []


def test_feedback_reads_cleanly(graded):
    course = graded[0]
    for student in STUDENTS:
        for name in CHAPTERS:
            page = (course / "feedback" / student / name / f"{name}.html").read_text(
                encoding="utf-8")
            assert not MYST.search(page), f"raw MyST in {student}'s feedback on {name}"


def test_the_only_warnings_are_the_known_checksum_ones(graded):
    """The instructors' page explains these: one per test cell with hidden tests, for a release
    handed in untouched (jupyter/nbgrader#1961)."""
    course, logs, _ = graded
    for name in CHAPTERS:
        source = nbformat.read(course / "source" / name / f"{name}.ipynb", as_version=4)
        hidden = {c.metadata["nbgrader"]["grade_id"] for c in source.cells if HIDDEN in c.source}
        warned = re.findall(r"WARNING\] Attribute 'checksum' for cell (\S+) has changed",
                            logs[name])
        assert hidden and sorted(warned) == sorted(hidden)  # bob's, none of ada's
        others = [line for line in logs[name].splitlines() if "| WARNING]" in line
                  and "checksum" not in line]
        assert others == []
