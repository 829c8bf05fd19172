"""The chapters as nbgrader assignments (an instructor's tool, not part of the package).

``make assignments`` lays out an nbgrader course folder in which nbgrader's own commands
(``generate_assignment``, ``autograde``, ``generate_feedback``, ``export``) work for every
chapter::

    _build/nbgrader/
        nbgrader_config.py              course id, cell timeout, what to ignore
        source/NN_slug/NN_slug.ipynb    a chapter, with its solutions and hidden tests
        release/NN_slug/NN_slug.ipynb   what students get (nbgrader generate_assignment)
        runs/                           chapters 6-7's runs from the book, read-only, shared

Each source notebook is the chapter's Colab notebook (``tools/notebooks.py``: markdown that
Jupyter renders) with its solutions and hidden tests kept, so the release is the Colab notebook.
``make grade`` autogrades one submission and writes its feedback, showing nbgrader's output. From
the repository root::

    python -m tools.assignments course
    python -m tools.assignments grade submitted.ipynb --student ID
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

from tools import notebooks

ROOT = Path(__file__).resolve().parents[1]
CONFIG = Path(__file__).with_name("nbgrader_config.py")
DEFAULT_COURSE = ROOT / "_build" / "nbgrader"
BOOK_RUNS = ROOT / "_build" / "runs"
STUDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


@dataclass(frozen=True)
class Grade:
    """The result of grading one submitted notebook."""

    assignment: str
    student: str
    scores: dict[str, tuple[float, float]]  # grade_id -> (score, max_score)
    autograded: Path
    feedback: Path | None = None

    @property
    def score(self) -> float:
        return sum(s for s, _ in self.scores.values())

    @property
    def max_score(self) -> float:
        return sum(m for _, m in self.scores.values())


def nbgrader(course: Path, *args: str, capture: bool = False) -> str:
    """Run ``nbgrader *args`` in the course folder; its output is shown unless ``capture``
    (then returned). A failed command raises ``RuntimeError`` with its output."""
    # nbgrader runs `alembic`: find it beside this interpreter, even in a venv not activated.
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent),
                                                 os.environ.get("PATH", "")]))
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env,
                          text=True, capture_output=capture)
    if done.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed (exit {done.returncode})"
                           + (f":\n{done.stdout}{done.stderr}" if capture else ""))
    return (done.stdout or "") + (done.stderr or "")


def new_course(course: Path) -> Path:
    """An nbgrader course folder holding the course's ``nbgrader_config.py``."""
    course = Path(course)
    course.mkdir(parents=True, exist_ok=True)
    shutil.copy2(CONFIG, course / "nbgrader_config.py")
    return course


def generate(source: Path, name: str, course: Path, capture: bool = True) -> Path:
    """``nbgrader generate_assignment name`` with ``source`` as its notebook; return the student
    version (``course/release/name/name.ipynb``)."""
    folder = Path(course) / "source" / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    shutil.copy2(source, folder / f"{name}.ipynb")
    nbgrader(course, "generate_assignment", name, "--force", capture=capture)
    return Path(course) / "release" / name / f"{name}.ipynb"


def autograde(notebook: Path, name: str, student: str, course: Path,
              capture: bool = True) -> Grade:
    """Put ``notebook`` in as ``student``'s submission of assignment ``name``, then
    ``nbgrader autograde`` and ``nbgrader generate_feedback`` it."""
    from nbgrader.api import Gradebook

    course = Path(course)
    submitted = course / "submitted" / student / name
    shutil.rmtree(submitted, ignore_errors=True)
    submitted.mkdir(parents=True)
    shutil.copy2(notebook, submitted / f"{name}.ipynb")
    for command in ("autograde", "generate_feedback"):
        nbgrader(course, command, name, "--student", student, "--force", capture=capture)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        nb = gb.find_submission_notebook(name, name, student)
        scores = {g.name: (float(g.score), float(g.max_score)) for g in nb.grades}
    return Grade(name, student, scores, course / "autograded" / student / name / f"{name}.ipynb",
                 course / "feedback" / student / name / f"{name}.html")


def _share_runs(runs: Path, course: Path) -> None:
    """Copy the book's runs into ``course/runs``, read-only: every submission reads them."""
    target = course / "runs"
    if target.exists():
        for path in [target, *target.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        shutil.rmtree(target)
    shutil.copytree(runs, target)
    for path in [*target.rglob("*"), target]:
        path.chmod(0o555 if path.is_dir() else 0o444)


def course(course: Path = DEFAULT_COURSE, runs: Path | None = BOOK_RUNS,
           chapters: list[str] | None = None, capture: bool = False) -> list[Path]:
    """Lay out the course folder and release every chapter (or those named in ``chapters``,
    by number or name); return the released notebooks.

    ``runs`` is the book's runs folder (``make book`` writes it), shared read-only with
    chapters 6-7's submissions; None leaves them to run their experiments themselves.
    """
    book = notebooks.load_book(ROOT)
    sources = sorted((ROOT / notebooks.CHAPTERS).glob("[0-9][0-9]_*.md"))
    if chapters:
        unknown = [c for c in chapters if not any(c in (md.stem, md.stem[:2]) for md in sources)]
        if unknown:
            raise ValueError(f"chapters must be numbers or names among "
                             f"{[md.stem for md in sources]} (got {unknown})")
        sources = [md for md in sources if md.stem in chapters or md.stem[:2] in chapters]
    if runs is not None and not Path(runs).is_dir():
        raise ValueError(f"runs must be the book's runs folder, which `make book` writes "
                         f"(got {runs}, which does not exist)")
    course = new_course(course)
    if runs is not None:
        _share_runs(Path(runs), course)
    released = []
    for md in sources:
        nb = notebooks.student_notebook(md, book, student=False)
        staged = course / f".{md.stem}.ipynb"
        staged.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
        released.append(generate(staged, md.stem, course, capture=capture))
        staged.unlink()
    return released


def grade(notebook: Path, student: str, assignment: str | None = None,
          course: Path = DEFAULT_COURSE, capture: bool = False) -> Grade:
    """Autograde one submitted chapter in the course folder and write its feedback.

    ``assignment`` defaults to the notebook's file name (``02_statistical_...``).
    """
    notebook, course = Path(notebook), Path(course)
    if not notebook.is_file():
        raise ValueError(f"notebook must be an existing .ipynb file (got {notebook})")
    if not isinstance(student, str) or not STUDENT_ID.fullmatch(student):
        raise ValueError("student must be an id of letters, digits, '_', '.' or '-' "
                         f"(got {student!r})")
    name = assignment or notebook.stem
    known = sorted(p.parent.name for p in course.glob("release/*/*.ipynb"))
    if not known:
        raise ValueError(f"course {course} holds no released chapter: run `make assignments`")
    if name not in known:
        raise ValueError(f"assignment must be one of {known} (got {name!r})")
    return autograde(notebook, name, student, course, capture=capture)


def errors(notebook: Path) -> list[tuple[str, str]]:
    """(grade_id or cell index, exception name) for every cell that raised."""
    nb = nbformat.read(notebook, as_version=4)
    return [(cell.metadata.get("nbgrader", {}).get("grade_id", str(i)), out["ename"])
            for i, cell in enumerate(nb.cells) for out in cell.get("outputs", [])
            if out.get("output_type") == "error"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.assignments", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    lay = sub.add_parser("course", help="lay out the course folder and release every chapter")
    lay.add_argument("--course", type=Path, default=DEFAULT_COURSE)
    lay.add_argument("--runs", type=Path, default=BOOK_RUNS,
                     help="the book's runs, shared read-only (default: %(default)s)")
    lay.add_argument("chapters", nargs="*", help="numbers or names (default: every chapter)")
    gr = sub.add_parser("grade", help="autograde one submission and write its feedback")
    gr.add_argument("notebook", type=Path)
    gr.add_argument("--student", required=True, help="the student's id")
    gr.add_argument("--assignment", help="chapter name; default: the notebook's file name")
    gr.add_argument("--course", type=Path, default=DEFAULT_COURSE)
    args = parser.parse_args(argv)
    try:
        if args.command == "course":
            for path in course(args.course, args.runs, args.chapters):
                print(f"released {path}")
            return 0
        result = grade(args.notebook, args.student, args.assignment, args.course)
    except ValueError as err:
        parser.error(str(err))
    except RuntimeError as err:
        print(err, file=sys.stderr)
        return 1
    for grade_id, (score, max_score) in result.scores.items():
        print(f"{grade_id:40s} {score:g} / {max_score:g}")
    print(f"{'total':40s} {result.score:g} / {result.max_score:g}")
    print(f"autograded: {result.autograded}\nfeedback:   {result.feedback}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
