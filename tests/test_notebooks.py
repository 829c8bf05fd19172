"""The student notebooks of ``notebooks/`` (what Colab and Jupyter open): generated, clean, working.

They are written by ``tools/notebooks.py`` (``make notebooks``) from the chapters' MyST source;
these tests fail when they drift from it, when MyST that Colab cannot render is left in them, when
a solution or a hidden test leaks into them, and when chapter 1 does not run from an empty folder.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest
import yaml

from tools import notebooks

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.md"))
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))

# What Colab and classic Jupyter show raw: directives, roles, targets, options, equation labels.
MYST = re.compile(
    r"^\s*:::|^\s*```\{|\{(?:prf:|cite|exercise|solution|glue|ref|doc|numref|eq|math|admonition)"
    r"|\{[\w:-]+\}`[^`]*`|^\([\w.:-]+\)=\s*$|^:(?:label|class|nonumber):|^\$\$\s*\(|^:\s",
    re.M)
LEAKS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


def _notebook(md: Path) -> dict:
    path = ROOT / "notebooks" / f"{md.stem}.ipynb"
    assert path.exists(), f"{path.name} is missing: run `make notebooks`"
    return json.loads(path.read_text(encoding="utf-8"))


def _text(cell: dict) -> str:
    return "".join(cell["source"])


def _nbgrader(cell) -> dict:
    return cell["metadata"].get("nbgrader", {})


@pytest.fixture(scope="module")
def rendered() -> dict[str, str]:
    return notebooks.render(ROOT)


def test_committed_notebooks_are_what_the_chapters_generate(rendered):
    committed = {p.relative_to(ROOT).as_posix() for p in (ROOT / "notebooks").glob("*.ipynb")}
    assert committed == set(rendered), (
        f"notebooks/ holds {sorted(committed)}, the chapters make {sorted(rendered)}: "
        "run `make notebooks`")
    stale = [p for p, text in rendered.items() if (ROOT / p).read_text(encoding="utf-8") != text]
    assert not stale, f"{stale} differ from their chapters: run `make notebooks` and commit them"


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.stem)
def test_markdown_holds_no_myst(md):
    for cell in _notebook(md)["cells"]:
        if cell["cell_type"] == "markdown":
            found = MYST.search(_text(cell))
            assert not found, f"MyST left in a markdown cell of {md.stem}: {found.group(0)!r}"


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.stem)
def test_no_outputs_no_solution_no_hidden_test(md):
    for cell in _notebook(md)["cells"]:
        leaked = [m for m in LEAKS if m in _text(cell)]
        assert not leaked, f"{md.stem}: {leaked} in {_text(cell)[:80]!r}"
        assert not cell.get("outputs") and cell.get("execution_count") is None


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.stem)
def test_every_exercise_has_a_stub_and_its_visible_tests(md):
    chapter = [c for c in jupytext.read(md).cells if c.cell_type == "code"]
    cells = _notebook(md)["cells"]
    by_id = {_nbgrader(c)["grade_id"]: c for c in cells if "grade_id" in _nbgrader(c)}
    graded = [c for c in chapter if c.metadata.get("nbgrader", {}).get("grade_id")]
    assert graded, f"{md.stem} has no exercise"
    assert set(by_id) == {c.metadata["nbgrader"]["grade_id"] for c in graded}
    for source in graded:
        meta = source.metadata["nbgrader"]
        student = _text(by_id[meta["grade_id"]])
        if meta.get("solution"):
            assert "raise NotImplementedError()" in student, meta["grade_id"]
        if meta.get("grade"):  # the test cell, less its hidden part
            visible = re.sub(r"[ \t]*### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS\n?", "",
                             source.source, flags=re.S)
            assert student.strip() == visible.strip(), meta["grade_id"]
    exercises = len(re.findall(r"^:::\{exercise\}", md.read_text(encoding="utf-8"), re.M))
    shown = sum(len(re.findall(r"^> \*\*Exercise \d+\.\d+", _text(c), re.M))
                for c in cells if c["cell_type"] == "markdown")
    assert shown == exercises


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.stem)
def test_install_cell_comes_first_and_is_not_silenced(md):
    cells = _notebook(md)["cells"]
    first = next(c for c in cells if c["cell_type"] == "code")
    book = notebooks.load_book(ROOT)
    assert _text(first) == notebooks.install_cell(book)
    repo = CONFIG["repository"]
    assert f'git+{repo["url"]}@{repo["branch"]}"' in _text(first)
    assert not any("%%capture" in _text(c) for c in cells)


def test_install_cell_shows_pip_output_and_raises_when_install_fails(tmp_path):
    source = notebooks.install_cell(notebooks.load_book(ROOT))
    source = re.sub(r'^PACKAGE = ".*"$', f'PACKAGE = "{tmp_path / "no-such-package"}"', source,
                    flags=re.M)
    script = "import sys, types\nsys.modules['google.colab'] = types.ModuleType('colab')\n"
    run = subprocess.run([sys.executable, "-c", script + source], capture_output=True,
                         text=True, cwd=tmp_path, timeout=120)
    assert run.returncode != 0
    assert "RuntimeError: pip could not install" in run.stderr
    assert "no-such-package" in run.stdout  # pip's own error, printed by the cell


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.stem)
def test_glued_numbers_are_printed_by_the_notebook(md):
    cells = _notebook(md)["cells"]
    names = {n for c in cells if c["cell_type"] == "markdown"
             for n in re.findall(r"`<([\w.-]+)>`", _text(c))}
    printed = "\n".join(_text(c) for c in cells if "IN_TEXT = dict(" in _text(c))
    missing = {n for n in names if not re.search(rf"(^|\s){re.escape(n)}:", printed)}
    assert not missing, f"{md.stem} names numbers that no cell prints: {sorted(missing)}"


def test_glue_prints_each_number_in_the_text_format(capsys):
    namespace: dict = {}
    exec(notebooks.glue_cell({"rise": "+.0%", "ppl": ".2f", "steps": ""}), namespace)
    for name, value in [("rise", 0.614), ("ppl", 12.3456), ("steps", 40), ("unused", 1.0)]:
        namespace["glue"](name, value, display=False)
    assert capsys.readouterr().out.splitlines() == ["rise: +61%", "ppl: 12.35", "steps: 40"]


def _page(text: str):
    book = notebooks.load_book(ROOT)
    page = notebooks.Page(book, "chapters/03_functional_expressivity_error")
    notebooks._collect_labels(book, page.page, text)  # as load_book does for a whole chapter
    return notebooks.to_markdown(text, page), page


def test_markdown_conversion_of_constructs_the_chapters_may_use():
    text, page = _page(
        "```{note}\nA note with $x$\nand $y =\nz$.\n```\n\n"
        "{cite:t}`shumailov2024nature` and {cite}`shumailov2023curse,wenger2024news`.\n\n"
        "```{math}\n:label: eq-a\nx = 1\n```\n\nSee {eq}`eq-a`, {prf:ref}`def-model-collapse` "
        "and {doc}`../book/gpu`.\n\nTerm\n: its definition\n\n"
        "- an item\n\n  :::{tip}\n  Indented.\n  :::\n\n"
        "```python\n{cite}`not converted in code`\n```")
    assert "> **Note.** A note with $x$\n> and $y = z$." in text  # maths kept on one line
    assert "Shumailov et al. (2024)](https://doi.org/" in text
    assert "([Shumailov et al., 2023](https://arxiv.org/abs/2305.17493); [Wenger, 2024]" in text
    assert "x = 1 \\tag{3.1}" in text and "See (3.1)" in text
    # a label of another chapter links to that chapter's notebook in Colab
    assert "[Definition 1.1](https://colab.research.google.com/github/" in text
    assert "notebooks/01_what_is_model_collapse.ipynb)" in text
    assert "[The full experiment on a GPU](" in text
    assert "- **Term**: its definition" in text
    assert "- an item\n\n  > **Tip.** Indented." in text
    assert "{cite}`not converted in code`" in text


@pytest.mark.parametrize("bad, message", [
    ("{unknownrole}`x`", "role {unknownrole}"),
    (":::{figure} x.png\n:::", "directive {figure}"),
    ("{cite}`nobody2099`", "'nobody2099' is not in the bibliography"),
    ("{prf:ref}`no-such-label`", "no page defines"),
    (":::{note}\nnever closed", "never closed"),
])
def test_markdown_conversion_refuses_what_it_cannot_render(bad, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        _page(bad)


def test_chapter_1_runs_from_an_empty_folder_and_fails_only_in_exercises(tmp_path):
    from nbclient import NotebookClient

    nb = nbformat.read(ROOT / "notebooks" / f"{CHAPTERS[0].stem}.ipynb", as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = {i: o for i, c in enumerate(nb.cells) if c.cell_type == "code"
              for o in c.outputs if o.output_type == "error"}
    assert errors, "the stubs should raise NotImplementedError"
    for i, error in errors.items():
        assert _nbgrader(nb.cells[i]), f"cell {i} is no exercise and failed: {error.ename}"
        assert error.ename == "NotImplementedError", (i, error.ename, error.evalue)
    assert list(tmp_path.iterdir()) == [], "chapter 1 wrote files into its folder"


def test_the_book_colab_button_opens_the_student_notebook():
    import importlib.util

    spec = importlib.util.spec_from_file_location("offline_book",
                                                  ROOT / "book" / "_ext" / "offline_book.py")
    ext = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ext)
    page = f"chapters/{CHAPTERS[0].stem}"
    theme = f"https://colab.research.google.com/github/org/repo/blob/main/{page}.ipynb"
    # the shape sphinx-book-theme's add_launch_buttons gives the rocket menu
    context = {"header_buttons": [{"type": "group", "label": "launch-buttons", "buttons": [
        {"type": "link", "text": "Colab", "url": theme}]}]}
    app = type("App", (), {"srcdir": str(ROOT)})()
    ext._colab_opens_student_notebook(app, page, "page.html", context, None)
    url = context["header_buttons"][0]["buttons"][0]["url"]
    assert url == theme.replace(f"/{page}.ipynb", f"/notebooks/{CHAPTERS[0].stem}.ipynb")
    assert (ROOT / url.split("/blob/main/")[1]).exists()
