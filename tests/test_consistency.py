"""One source of truth: the things that must agree across files do."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import jupytext
import pytest
import yaml
from jupytext.compare import compare_notebooks
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.md"))
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
REPO_URL = CONFIG["repository"]["url"]
BRANCH = CONFIG["repository"]["branch"]


def _requirements(specs) -> dict[str, str]:
    reqs = [Requirement(s) for s in specs if not s.startswith("-e")]
    return {r.name.lower().replace("_", "-"): str(r.specifier) for r in reqs}


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"])
    for extra in ("cpu", "book", "test"):
        wanted += project["optional-dependencies"][extra]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert _requirements(pip) == _requirements(wanted)
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    assert Requirement("python" + project["requires-python"]).specifier.contains(
        python.split("=")[-1])


def test_toc_lists_every_chapter():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [c["file"] for part in toc["parts"] for c in part["chapters"]]
    listed = {f for f in files if f.startswith("chapters/")}
    assert listed == {f"chapters/{p.stem}" for p in CHAPTERS}
    for f in files:
        assert (ROOT / f"{f}.md").exists(), f


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.stem)
def test_pair_in_sync(md):
    nb = md.with_suffix(".ipynb")
    assert nb.exists(), f"{md.name} has no paired .ipynb: run `make sync`"
    compare_notebooks(jupytext.read(nb), jupytext.read(md), fmt="md:myst",
                      compare_outputs=False)


def test_every_notebook_has_a_markdown_source():
    for nb in (ROOT / "chapters").glob("*.ipynb"):
        assert nb.with_suffix(".md").exists(), f"{nb.name} has no .md source"


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.stem)
def test_notebook_committed_without_outputs(md):
    cells = json.loads(md.with_suffix(".ipynb").read_text())["cells"]
    for cell in cells:
        assert not cell.get("outputs"), f"{md.stem}.ipynb has outputs: run `make sync`"
        assert cell.get("execution_count") is None


def colab_cell(url: str = REPO_URL, branch: str = BRANCH) -> str:
    """The first code cell of every chapter."""
    return (
        "%%capture\n"
        "# Colab: install the course package (does nothing elsewhere).\n"
        "import sys\n"
        'if "google.colab" in sys.modules:\n'
        f'    %pip install "collapse_utils @ git+{url}@{branch}"'
    )


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.stem)
def test_first_code_cell_installs_from_the_repository_in_colab(md):
    nb = jupytext.read(md)
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert first.source.strip() == colab_cell(), "the Colab cell differs from _config.yml's URL"
    assert "remove-cell" in first.metadata.get("tags", [])


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_layout(md):
    """Title, objectives, a summary and exercises, as every chapter has."""
    text = md.read_text()
    assert re.search(r"^# \S", text, re.M), "no title"
    assert ":::{admonition} What you will learn" in text
    assert re.search(r"^## Summary", text, re.M)
    assert re.search(r"^## Exercises", text, re.M)
