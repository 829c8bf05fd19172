"""Chapters as graded assignments, with nbgrader (an instructor's tool, not part of the package).

Every chapter's exercises are nbgrader cells, so each chapter notebook is an
assignment as written (the instructor's version, with solutions). This module
writes the student releases and grades a submitted notebook; run it from the
repository root (nbgrader comes with the ``test`` extra)::

    python -m tools.assignments release             # -> _build/assignments/
    python -m tools.assignments grade submitted.ipynb

``make assignments`` and ``make grade NOTEBOOK=...`` run the same. The
instructors' page of the book gives the whole workflow.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

COURSE_ID = "model-collapse"
DEFAULT_CHAPTERS = Path("chapters")
DEFAULT_COURSE = Path("_build/nbgrader")
DEFAULT_RELEASE = Path("_build/assignments")
# Chapters run their own simulations: give autograding room beyond nbgrader's 30 s.
CELL_TIMEOUT_S = 1800


@dataclass(frozen=True)
class Grade:
    """The result of grading one submitted notebook."""

    assignment: str
    scores: dict[str, tuple[float, float]]  # grade_id -> (score, max_score)
    autograded: Path

    @property
    def score(self) -> float:
        return sum(s for s, _ in self.scores.values())

    @property
    def max_score(self) -> float:
        return sum(m for _, m in self.scores.values())


def chapter_notebooks(chapters: Path = DEFAULT_CHAPTERS) -> list[Path]:
    """The chapter notebooks (``NN_slug.ipynb``), in book order."""
    chapters = Path(chapters)
    if not chapters.is_dir():
        raise ValueError(f"chapters must be a folder of chapter notebooks (got {chapters})")
    return sorted(chapters.glob("[0-9][0-9]_*.ipynb"))


def _api(course: Path):
    # nbgrader runs the `alembic` command: find it beside this interpreter
    # even when the virtual environment is not activated.
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    config = Config()
    config.CourseDirectory.root = str(Path(course).resolve())
    config.CourseDirectory.course_id = COURSE_ID
    config.Execute.timeout = CELL_TIMEOUT_S
    coursedir = CourseDirectory(config=config)
    return NbGraderAPI(coursedir=coursedir, config=config)


def _check(result: dict, what: str) -> None:
    if not result.get("success"):
        raise RuntimeError(f"nbgrader {what} failed:\n{result.get('error') or result.get('log')}")


def generate(notebook: Path, name: str, course: Path = DEFAULT_COURSE) -> Path:
    """Make ``notebook`` the nbgrader assignment ``name`` of the course folder ``course``
    (``nbgrader generate_assignment``); return the student version in ``course/release``."""
    source = Path(course) / "source" / name
    shutil.rmtree(source, ignore_errors=True)
    source.mkdir(parents=True)
    shutil.copy2(notebook, source / f"{name}.ipynb")
    _check(_api(course).generate_assignment(name, force=True), f"generate_assignment {name}")
    return Path(course) / "release" / name / f"{name}.ipynb"


def autograde(notebook: Path, name: str, student: str = "student",
              course: Path = DEFAULT_COURSE) -> Grade:
    """Autograde ``notebook`` as ``student``'s submission of the generated assignment ``name``
    (``nbgrader autograde``)."""
    from nbgrader.api import Gradebook

    course = Path(course)
    submitted = course / "submitted" / student / name
    shutil.rmtree(submitted, ignore_errors=True)
    submitted.mkdir(parents=True)
    shutil.copy2(notebook, submitted / f"{name}.ipynb")
    _check(_api(course).autograde(name, student, force=True, create=True), f"autograde {name}")
    db = f"sqlite:///{(course / 'gradebook.db').resolve()}"
    with Gradebook(db) as gb:
        nb = gb.find_submission_notebook(name, name, student)
        scores = {g.name: (float(g.score), float(g.max_score)) for g in nb.grades}
    return Grade(name, scores, course / "autograded" / student / name / f"{name}.ipynb")


def release(
    chapters: Path = DEFAULT_CHAPTERS,
    course: Path = DEFAULT_COURSE,
    out: Path | None = DEFAULT_RELEASE,
) -> list[Path]:
    """Write the student release of every chapter into ``out``; return the notebooks.

    Each chapter becomes an nbgrader assignment named after its file, generated
    in the course folder ``course`` (whose ``release/`` is copied to ``out``
    unless ``out`` is None).
    """
    notebooks = chapter_notebooks(chapters)
    if not notebooks:
        raise ValueError(f"chapters holds no NN_slug.ipynb notebooks ({chapters})")
    released = []
    for nb in notebooks:
        target = generate(nb, nb.stem, course)
        if out is not None:
            shutil.rmtree(Path(out) / nb.stem, ignore_errors=True)
            shutil.copytree(target.parent, Path(out) / nb.stem)
            target = Path(out) / nb.stem / nb.name
        released.append(target)
    return released


def grade(
    notebook: Path,
    assignment: str | None = None,
    student: str = "student",
    chapters: Path = DEFAULT_CHAPTERS,
    course: Path = DEFAULT_COURSE,
) -> Grade:
    """Autograde one submitted chapter notebook with ``nbgrader autograde``.

    ``assignment`` defaults to the notebook's file name (``02_statistical_...``).
    The assignment is generated first if the course folder lacks it.
    """
    notebook = Path(notebook)
    if not notebook.is_file():
        raise ValueError(f"notebook must be an existing .ipynb file (got {notebook})")
    name = assignment or notebook.stem
    known = {nb.stem: nb for nb in chapter_notebooks(chapters)}
    if name not in known:
        raise ValueError(f"assignment must be one of {sorted(known)} (got {name!r})")
    if not (Path(course) / "release" / name / f"{name}.ipynb").exists():
        generate(known[name], name, course)
    return autograde(notebook, name, student, course)


def errors(notebook: Path) -> list[tuple[str, str]]:
    """(grade_id or cell index, exception name) for every cell that raised."""
    nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
    found = []
    for i, cell in enumerate(nb["cells"]):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                where = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", str(i))
                found.append((where, out["ename"]))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.assignments",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    rel = sub.add_parser("release", help="write every chapter's student version")
    rel.add_argument("--chapters", type=Path, default=DEFAULT_CHAPTERS)
    rel.add_argument("--out", type=Path, default=DEFAULT_RELEASE)
    gr = sub.add_parser("grade", help="autograde a submitted chapter notebook")
    gr.add_argument("notebook", type=Path)
    gr.add_argument("--assignment", help="chapter name; default: the notebook's file name")
    gr.add_argument("--student", default="student")
    gr.add_argument("--chapters", type=Path, default=DEFAULT_CHAPTERS)
    args = parser.parse_args(argv)
    try:
        if args.command == "release":
            for path in release(args.chapters, out=args.out):
                print(path)
            return 0
        result = grade(args.notebook, args.assignment, args.student, args.chapters)
    except ValueError as err:
        parser.error(str(err))
    for grade_id, (score, max_score) in result.scores.items():
        print(f"{grade_id:40s} {score:g} / {max_score:g}")
    print(f"{'total':40s} {result.score:g} / {result.max_score:g}")
    print(f"autograded notebook: {result.autograded}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
