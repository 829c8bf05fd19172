"""Chapters as nbgrader assignments, with each chapter executed once per ``make test``.

The book build executes every chapter as written, the instructor's version with its solutions.
These tests reuse that run and execute again only the exercises:

(a) each chapter's student release (``nbgrader generate_assignment`` in the course folder that
    ``make assignments`` lays out) is its assignment source cell for cell, with a stub where each
    solution was and no hidden test, and is the chapter's Colab notebook (``notebooks/``);
(b) in the book's run of each chapter every cell ran without error, so the solutions pass every
    test cell, hidden ones included, in the chapter's own context;
(c) (d) ``nbgrader autograde`` of the exercises as the instructor wrote them gives full marks,
    and of the exercises as released gives zero, failing with ``NotImplementedError`` in the
    exercises and nowhere else. What is graded is each chapter's exercises (every code cell from
    its first nbgrader cell on) with the earlier cells that define a name they read
    (:func:`exercise_slice`), so that a chapter's long simulations do not run again; all the
    chapters' exercises go in one notebook, each chapter on a fresh namespace, so that one kernel
    starts and imports for the instructor and one for the student.

The cells before the exercises are the same in both versions (a), so a student's chapter runs up
to its exercises as the book's did (b).
"""

from __future__ import annotations

import ast
import concurrent.futures
import copy
import json
import re
import shutil
from pathlib import Path

import pytest
from IPython.core.inputtransformer2 import TransformerManager

from tools import assignments

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))
EXECUTED = ROOT / "_build" / "jupyter_execute" / "chapters"
HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS\n?", re.S)


def _cells(nb: Path | dict) -> list[dict]:
    if isinstance(nb, Path):
        nb = json.loads(nb.read_text(encoding="utf-8"))
    return nb["cells"]


def _source(cell: dict) -> str:
    return "".join(cell["source"])


def _nbgrader(cell: dict) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


# --- which cells the exercises need --------------------------------------------------------------

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef,
           ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def _outer(scope: ast.AST) -> list[ast.AST]:
    """The parts of a function, class or lambda evaluated in the enclosing scope."""
    args = getattr(scope, "args", None)
    defaults = (args.defaults + [d for d in args.kw_defaults if d]) if args else []
    return (getattr(scope, "decorator_list", []) + getattr(scope, "bases", [])
            + getattr(scope, "keywords", []) + defaults)


def _bound(node: ast.AST) -> set[str]:
    """Names that ``node`` binds in its scope (a nested function or class binds its name)."""
    names, todo = set(), [node]
    while todo:
        n = todo.pop()
        if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load):
            names.add(n.id)
        elif isinstance(n, ast.arg):
            names.add(n.arg)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            names |= {a.asname or a.name.split(".")[0] for a in n.names}
        elif isinstance(n, (ast.Global, ast.Nonlocal)):
            names |= set(n.names)
        if isinstance(n, _SCOPES):
            names |= {n.name} if hasattr(n, "name") else set()
        else:
            todo.extend(ast.iter_child_nodes(n))
    return names


def _read(node: ast.AST) -> tuple[set[str], set[str]]:
    """Names that ``node`` reads from its scope: (when it runs, when a function it defines is
    called), the second being the free names of the functions' bodies."""
    now, later, todo = set(), set(), [node]
    while todo:
        n = todo.pop()
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load):
            now.add(n.id)
        elif isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name):
            now.add(n.target.id)  # x += 1 reads x
        if not isinstance(n, _SCOPES):
            todo.extend(ast.iter_child_nodes(n))
            continue
        outer, args = _outer(n), [n.args] if hasattr(n, "args") else []
        inner = [c for c in ast.iter_child_nodes(n) if c not in outer and c not in args]
        local = set().union(*(_bound(c) for c in inner + args))
        for c in outer:
            now |= _read(c)[0]
            later |= _read(c)[1]
        body_now = set().union(*(_read(c)[0] for c in inner)) - local
        body_later = set().union(*(_read(c)[1] for c in inner)) - local
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            later |= body_now | body_later
        else:  # a class body or a comprehension runs at once
            now |= body_now
            later |= body_later
    return now, later


def _python(source: str) -> list[ast.stmt]:
    """A code cell's statements; IPython magics become calls, a cell magic's body stays code."""
    body = []
    if source.startswith("%%"):
        source, _, rest = source.partition("\n")
        body = ast.parse(TransformerManager().transform_cell(rest)).body
    return ast.parse(TransformerManager().transform_cell(source)).body + body


def _flow(statements: list[ast.stmt], bound: set[str], later: set[str]) -> set[str]:
    """Names the statements read before binding them, in order (loop and branch bodies too);
    adds what they bind to ``bound`` and what their functions read when called to ``later``."""
    free = set()

    def read(node):
        now, when_called = _read(node)
        later.update(when_called)
        return now - bound

    for stmt in statements:
        if isinstance(stmt, (ast.For, ast.AsyncFor, ast.While, ast.If)):
            free |= read(getattr(stmt, "iter", None) or stmt.test)
            bound |= _bound(stmt.target) if hasattr(stmt, "target") else set()
            free |= _flow(stmt.body, bound, later) | _flow(stmt.orelse, bound, later)
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            for item in stmt.items:
                free |= read(item.context_expr)
                bound |= _bound(item.optional_vars) if item.optional_vars else set()
            free |= _flow(stmt.body, bound, later)
        elif isinstance(stmt, ast.Try):
            free |= _flow(stmt.body, bound, later)
            for handler in stmt.handlers:
                free |= read(handler.type) if handler.type else set()
                bound |= {handler.name} if handler.name else set()
                free |= _flow(handler.body, bound, later)
            free |= _flow(stmt.orelse, bound, later) | _flow(stmt.finalbody, bound, later)
        else:
            free |= read(stmt)
            bound |= _bound(stmt)
            # x.attr = ... and x[i] = ... change an x bound earlier: count it as binding x
            for target in getattr(stmt, "targets", [getattr(stmt, "target", None)]):
                while isinstance(target, (ast.Attribute, ast.Subscript)):
                    target = target.value
                    if isinstance(target, ast.Name):
                        bound.add(target.id)
    return free


def _names(cells: list[dict]) -> tuple[set[str], set[str], set[str], bool]:
    """For code cells run in order: (names read before being bound, names their functions read
    when called, names bound, whether they star-import)."""
    statements = [s for c in cells for s in _python(_source(c))]
    bound, later = set(), set()
    free = _flow(statements, bound, later)
    star = any(isinstance(n, ast.ImportFrom) and any(a.name == "*" for a in n.names)
               for stmt in statements for n in ast.walk(stmt))
    return free, later - bound, bound, star


def exercise_slice(nb: dict) -> dict:
    """The notebook ``nb`` cut down to its exercises and the earlier cells they need.

    The exercises are every code cell from the first nbgrader cell on. Walking back from them, an
    earlier code cell is kept when it binds a name that a kept cell after it reads before binding
    it, or that a function of a kept cell reads when called, or when it star-imports; the kept
    cells run in the chapter's order. Markdown cells are dropped.
    """
    cells = nb["cells"]
    code = [i for i, c in enumerate(cells) if c["cell_type"] == "code"]
    first = next(k for k, i in enumerate(code) if _nbgrader(cells[i]))
    keep, kept, later = set(code[first:]), None, set()
    while keep != kept:  # again until no function's reads bring in another cell
        kept = set(keep)
        need, when_called, _, _ = _names([cells[i] for i in code[first:]])
        later |= when_called
        for i in reversed(code[:first]):
            free, when_called, bound, star = _names([cells[i]])
            if i in keep or star or bound & (need | later):
                keep.add(i)
                need = (need - bound) | free
                later |= when_called
    out = copy.deepcopy(nb)
    out["cells"] = [copy.deepcopy(c) for i, c in enumerate(cells) if i in keep]
    return out


def test_exercise_slice_keeps_what_the_exercises_read():
    def cell(source, **nbgrader):
        meta = {"nbgrader": {"grade_id": "x", **nbgrader}} if nbgrader else {}
        return {"cell_type": "code", "source": source, "metadata": meta, "outputs": []}

    nb = {"cells": [
        cell("%%capture\nimport sys"),
        cell("import numpy as np\nfrom math import *"),  # a star import may bind anything
        cell("heavy = np.ones(10**9).sum()\nmodel, v, i = 3, 4, 5"),  # all rebound or local below
        cell("p = np.array([0.5, 0.5])"),
        cell("unused = p * 2"),
        cell("q = p.copy()\nq[0] += 1"),  # changes q: kept with the cell binding it
        cell("total = 0\nfor k in range(3):\n    total += k"),
        cell("def helper(x):\n    return x + offset"),  # reads offset when called
        cell("offset = 1"),
        {"cell_type": "markdown", "source": "## Exercises", "metadata": {}},
        cell("def f(x):\n    return helper(x) + total", solution=True),
        cell("model = [v for v in q]\nfor i in range(2):\n    model.append(f(i))\n"
             "assert model[-1] == 5", grade=True),
    ]}
    kept = [_source(c) for c in exercise_slice(nb)["cells"]]
    assert kept == [_source(nb["cells"][i]) for i in (1, 3, 5, 6, 7, 8, 10, 11)]


# --- static checks -------------------------------------------------------------------------------

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
            labels += re.findall(r":label:\s*(\S+)", _source(cell))
    assert len(grade_ids) == len(set(grade_ids)), sorted(grade_ids)
    assert len(labels) == len(set(labels)), sorted(labels)


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_cells_are_well_formed(nb):
    for cell in _cells(nb):
        meta = _nbgrader(cell)
        if not meta:
            continue
        source = _source(cell)
        assert meta["grade_id"].startswith(f"ch{nb.name[:2]}-"), meta["grade_id"]
        if meta.get("solution"):
            assert "### BEGIN SOLUTION" in source and "### END SOLUTION" in source
            assert not meta.get("locked")
        if meta.get("grade"):
            assert meta.get("locked") and meta.get("points", 0) > 0, meta["grade_id"]
            assert "### BEGIN SOLUTION" not in source


# --- (a) the release -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """An nbgrader course folder with every chapter released; {chapter: (source, release)}."""
    course = tmp_path_factory.mktemp("course")
    released = assignments.course(course, runs=None, capture=True)
    return course, {p.stem: (course / "source" / p.stem / p.name, p) for p in released}


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_release_is_the_source_with_stubs_and_the_colab_notebook(nb, course):
    source, student = (_cells(p) for p in course[1][nb.stem])
    assert [c["cell_type"] for c in student] == [c["cell_type"] for c in source]
    for mine, theirs in zip(source, student, strict=True):
        meta, text = _nbgrader(mine), _source(theirs)
        assert "### BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
        if meta.get("solution"):
            assert "raise NotImplementedError()" in text, meta["grade_id"]
            body = re.search(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", _source(mine), re.S)
            assert body.group(1).strip() not in text, f"{meta['grade_id']} keeps its solution"
        elif meta.get("grade"):
            assert text.rstrip() == HIDDEN.sub("", _source(mine)).rstrip(), meta["grade_id"]
        else:
            assert text == _source(mine)
    assert any(HIDDEN.search(_source(c)) for c in source if _nbgrader(c).get("grade")), (
        f"{nb.stem} has no hidden test")
    # The source's code cells are the chapter's (so the book's run of them is theirs), and the
    # students of nbgrader and of Colab get the same notebook.
    chapter_code = [_source(c) for c in _cells(nb) if c["cell_type"] == "code"]
    assert all(_source(c) in chapter_code for c in source if _nbgrader(c))
    colab = _cells(ROOT / "notebooks" / nb.name)
    assert [_source(c) for c in student] == [_source(c) for c in colab]


# --- (b) the book's run --------------------------------------------------------------------------

@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_book_run_passes_every_test_cell(nb):
    executed = EXECUTED / nb.name
    if not executed.exists():
        pytest.fail(f"{executed} is missing: run `make book` first (make test does)")
    ran = [c for c in _cells(executed) if c["cell_type"] == "code"]
    written = [c for c in _cells(nb) if c["cell_type"] == "code"]
    if [_source(c) for c in ran] != [_source(c) for c in written]:
        pytest.fail(f"the book ran an older {nb.stem}: run `make book`")
    for cell in ran:
        where = _nbgrader(cell).get("grade_id") or _source(cell)[:60]
        assert cell.get("execution_count") is not None, f"{where} did not run"
        errors = [o["ename"] for o in cell.get("outputs", []) if o["output_type"] == "error"]
        assert not errors, f"{where} raised {errors}"
    assert any(HIDDEN.search(_source(c)) for c in ran if _nbgrader(c).get("grade"))


# --- (c) (d) autograding -------------------------------------------------------------------------

# Between chapters: a fresh namespace, as %reset -f gives, without its slow garbage collection.
FRESH = """\
for _name in [n for n in globals() if n[0] != "_" and n not in ("In", "Out", "get_ipython")]:
    del globals()[_name]"""


def exercises_notebook() -> dict:
    """Every chapter's exercise slice in one notebook, each chapter on a fresh namespace, so that
    nbgrader grades the whole book's exercises with one kernel."""
    chapters = [json.loads(nb.read_text(encoding="utf-8")) for nb in NOTEBOOKS]
    out = copy.deepcopy({**chapters[0], "cells": []})
    for nb, chapter in zip(NOTEBOOKS, chapters, strict=True):
        fresh = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                 "source": f"# {nb.stem}\n{FRESH}"}
        out["cells"] += [fresh, *exercise_slice(chapter)["cells"]]
    for k, cell in enumerate(out["cells"]):
        cell["id"] = f"cell-{k}"
    return out


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """{"instructor" | "student": Grade} for the book's exercises as one nbgrader assignment,
    submitted as written and as its release hands them out (the two graded side by side, each
    in its own course folder)."""
    folder = tmp_path_factory.mktemp("exercises")
    source = folder / "exercises.ipynb"
    source.write_text(json.dumps(exercises_notebook()), encoding="utf-8")
    student = assignments.generate(source, "exercises", assignments.new_course(folder / "mine"))
    shutil.copytree(folder / "mine", folder / "theirs")
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        mine = pool.submit(assignments.autograde, source, "exercises", "instructor",
                           folder / "mine")
        theirs = pool.submit(assignments.autograde, student, "exercises", "student",
                             folder / "theirs")
        return {"instructor": mine.result(), "student": theirs.result()}


def _graded_ids(nbs=NOTEBOOKS) -> set[str]:
    return {_nbgrader(c)["grade_id"] for nb in nbs for c in _cells(nb) if _nbgrader(c).get("grade")}


def test_solutions_score_full_marks(graded):
    result = graded["instructor"]
    assert set(result.scores) == _graded_ids()
    assert result.score == result.max_score > 0, result.scores
    assert assignments.errors(result.autograded) == []


def test_stubs_score_zero_failing_only_in_the_exercises(graded):
    result = graded["student"]
    assert set(result.scores) == _graded_ids()
    assert result.score == 0 and result.max_score > 0, result.scores
    errors = assignments.errors(result.autograded)
    exercise_ids = _graded_ids() | {_nbgrader(c)["grade_id"] for nb in NOTEBOOKS
                                    for c in _cells(nb) if _nbgrader(c).get("solution")}
    assert {name for _, name in errors} == {"NotImplementedError"}, errors
    assert {where for where, _ in errors} <= exercise_ids, errors
    # Every graded cell fails: none passes on a stub.
    assert {where for where, _ in errors} >= _graded_ids(), errors


def test_grade_a_chapter(course, tmp_path):
    """``make grade``'s path: a chapter's submission, graded against that chapter's assignment,
    whose locked test cells come back with their hidden tests, and its feedback written. (This
    submission holds only the test cells, so that no chapter code runs: every one fails.)"""
    nb = NOTEBOOKS[0]
    released = json.loads(course[1][nb.stem][1].read_text(encoding="utf-8"))
    released["cells"] = [c for c in released["cells"] if _nbgrader(c).get("grade")]
    submission = tmp_path / nb.name
    submission.write_text(json.dumps(released), encoding="utf-8")
    result = assignments.grade(submission, "s-01", course=course[0], capture=True)
    assert result.assignment == nb.stem and set(result.scores) == _graded_ids([nb])
    assert result.score == 0 and result.max_score == sum(
        _nbgrader(c)["points"] for c in _cells(nb) if _nbgrader(c).get("grade"))
    # The test cells graded are the chapter's, hidden tests included, not the submission's.
    assert _tests(result.autograded) == _tests(nb) != _tests(submission)
    assert result.feedback.is_file()


def _tests(nb: Path) -> dict[str, str]:
    return {_nbgrader(c)["grade_id"]: _source(c).strip() for c in _cells(nb)
            if _nbgrader(c).get("grade")}


# --- the command line ----------------------------------------------------------------------------

def test_grade_rejects_bad_input_before_any_work(course, tmp_path):
    nb = tmp_path / "99_nothing.ipynb"
    nb.write_text("{}")
    with pytest.raises(ValueError, match="assignment must be one of .*01_what_is"):
        assignments.grade(nb, "s1", course=course[0])
    with pytest.raises(ValueError, match="notebook must be an existing"):
        assignments.grade(tmp_path / "missing.ipynb", "s1", course=course[0])
    with pytest.raises(ValueError, match=r"student must be an id .*\(got 'a b'\)"):
        assignments.grade(nb, "a b", course=course[0])
    with pytest.raises(ValueError, match="holds no released chapter: run `make assignments`"):
        assignments.grade(nb, "s1", course=tmp_path)
    with pytest.raises(ValueError, match="chapters must be numbers or names"):
        assignments.course(tmp_path / "c", runs=None, chapters=["42"])
    with pytest.raises(ValueError, match="runs must be the book's runs folder"):
        assignments.course(tmp_path / "c", runs=tmp_path / "none")
    with pytest.raises(SystemExit) as exit_:  # the command line: a message, no traceback
        assignments.main(["grade", str(nb), "--course", str(tmp_path)])
    assert exit_.value.code == 2
