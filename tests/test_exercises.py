"""Chapters as nbgrader assignments: solutions score full marks, releases score zero."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from collapse_utils import assignments

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = assignments.chapter_notebooks(ROOT / "chapters")


def _cells(nb: Path) -> list[dict]:
    return json.loads(nb.read_text(encoding="utf-8"))["cells"]


def _nbgrader(cell: dict) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def test_every_chapter_has_graded_exercises():
    for nb in NOTEBOOKS:
        graded = [c for c in _cells(nb) if _nbgrader(c).get("grade")]
        solutions = [c for c in _cells(nb) if _nbgrader(c).get("solution")]
        assert graded and solutions, f"{nb.name} has no nbgrader exercise"


def test_exercise_ids_unique_across_the_book():
    grade_ids, labels = [], []
    for nb in NOTEBOOKS:
        for cell in _cells(nb):
            if "grade_id" in _nbgrader(cell):
                grade_ids.append(_nbgrader(cell)["grade_id"])
            labels += re.findall(r":label:\s*(\S+)", "".join(cell["source"]))
    assert len(grade_ids) == len(set(grade_ids)), sorted(grade_ids)
    assert len(labels) == len(set(labels)), sorted(labels)


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_cells_are_well_formed(nb):
    for cell in _cells(nb):
        meta = _nbgrader(cell)
        if not meta:
            continue
        source = "".join(cell["source"])
        assert meta["grade_id"].startswith(f"ch{nb.name[:2]}-"), meta["grade_id"]
        if meta.get("solution"):
            assert "### BEGIN SOLUTION" in source and "### END SOLUTION" in source
            assert not meta.get("locked")
        if meta.get("grade"):
            assert meta.get("locked") and meta.get("points", 0) > 0, meta["grade_id"]
            assert "### BEGIN SOLUTION" not in source


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = tmp_path_factory.mktemp("course")
    released = assignments.release(ROOT / "chapters", course, out=None)
    return course, {p.stem: p for p in released}


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_chapter_as_written_scores_full_marks(nb, course):
    course_dir, _ = course
    result = assignments.grade(nb, chapters=ROOT / "chapters", course=course_dir,
                               student="instructor")
    assert result.max_score > 0
    assert result.score == result.max_score, result.scores
    assert assignments.errors(result.autograded) == []


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_student_release_fails_only_in_exercises(nb, course):
    course_dir, released = course
    student_nb = released[nb.stem]
    source = "".join("".join(c["source"]) for c in _cells(student_nb))
    assert "### BEGIN SOLUTION" not in source and "raise NotImplementedError()" in source
    result = assignments.grade(student_nb, chapters=ROOT / "chapters", course=course_dir,
                               student="blank")
    assert result.score == 0 and result.max_score > 0, result.scores
    errors = assignments.errors(result.autograded)
    graded_ids = {_nbgrader(c)["grade_id"] for c in _cells(nb) if _nbgrader(c).get("grade")}
    exercise_ids = graded_ids | {_nbgrader(c)["grade_id"] for c in _cells(nb)
                                 if _nbgrader(c).get("solution")}
    assert errors, "the release raised nothing: its exercises are not stubbed"
    assert {name for _, name in errors} == {"NotImplementedError"}, errors
    assert {where for where, _ in errors} <= exercise_ids, errors
    # Every graded cell fails: none passes on a blank stub.
    assert {where for where, _ in errors} >= graded_ids, errors


def test_grade_rejects_unknown_assignment(tmp_path):
    nb = tmp_path / "99_nothing.ipynb"
    nb.write_text("{}")
    with pytest.raises(ValueError, match="assignment must be one of"):
        assignments.grade(nb, chapters=ROOT / "chapters", course=tmp_path)
    with pytest.raises(ValueError, match="notebook must be an existing"):
        assignments.grade(tmp_path / "missing.ipynb", chapters=ROOT / "chapters")
