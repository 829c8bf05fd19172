"""Write the notebooks students open in Colab or Jupyter: ``notebooks/NN_slug.ipynb``.

Each one is generated from ``chapters/NN_slug.md``, never edited by hand (``make notebooks``;
``tests/test_notebooks.py`` fails when they drift from the chapters):

- its markdown is what Colab and Jupyter render: MyST admonitions, definitions, theorems, proofs
  and exercises become bold-titled blockquotes, citations "(Author, year)" linked to the paper,
  cross-references the book's numbers ("Theorem 3.1") or links, and the numbers the book glues
  into its sentences are named in the text and printed by the notebook's own ``glue`` calls;
- its exercises are the student version, made by nbgrader's own ``ClearSolutions`` and
  ``ClearHiddenTests``: a stub, the visible tests, no solution, no hidden test;
- its first code cell installs ``collapse_utils`` in Colab and shows pip's output if that fails.

The same notebook with its solutions and hidden tests kept is each chapter's nbgrader
assignment source (``tools/assignments.py``); the chapters' paired ``.ipynb`` are the book's::

    python tools/notebooks.py           # (re)write notebooks/
    python tools/notebooks.py --check   # exit 1, naming the files, if notebooks/ is stale
"""

from __future__ import annotations

import argparse
import codecs
import copy
import hashlib
import re
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import jupytext
import latexcodec  # noqa: F401  (registers the "ulatex" codec)
import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = "chapters"
OUT = "notebooks"
BOOK_TAGS = {"remove-cell", "remove-input", "remove-output", "hide-cell", "hide-input",
             "hide-output"}

ADMONITIONS = {"note": "Note", "tip": "Tip", "hint": "Hint", "important": "Important",
               "warning": "Warning", "caution": "Caution", "attention": "Attention",
               "danger": "Danger", "error": "Error", "seealso": "See also"}
PROOF_KINDS = ("algorithm", "assumption", "axiom", "conjecture", "corollary", "criterion",
               "definition", "example", "lemma", "notation", "observation", "property",
               "proposition", "remark", "theorem")
NUMBERED = {f"prf:{k}": k.capitalize() for k in PROOF_KINDS} | {"exercise": "Exercise"}
OPTIONS = {"label", "class", "nonumber", "name"}

DIRECTIVE = re.compile(r"^(?P<fence>:{3,}|`{3,})\{(?P<name>[\w:-]+)\}[ \t]*(?P<arg>.*?)\s*$")
CODE_FENCE = re.compile(r"^(`{3,}|~{3,})")
ROLE = re.compile(r"\{(?P<role>[\w:-]+)\}`(?P<content>[^`]*)`")
TARGET = re.compile(r"^\((?P<label>[\w.:-]+)\)=\s*$")
EQ_LABEL = re.compile(r"^\$\$\s*\((?P<label>[\w.:-]+)\)\s*$")
SOLUTION = re.compile(
    r"^:{3,}\{(?P<which>solution-start|solution-end)\}[^\n]*\n(?::[\w-]+:[^\n]*\n)*:{3,}[ \t]*$",
    re.M)
GLUE_IMPORT = re.compile(r"^from myst_nb import glue\s*$", re.M)
GLUE_CALL = re.compile(r"^\s*glue\(", re.M)

SOLUTION_PROMPT = (
    "**Your solution.** Write your code in the next cell, in place of "
    "`raise NotImplementedError()`; the cell after it tests your answer.")


def _error(where: str, message: str) -> ValueError:
    return ValueError(f"{where}: {message} (tools/notebooks.py turns MyST into plain markdown)")


# ----------------------------------------------------------------------------------------------
# What the whole book knows: its configuration, bibliography, labels and page titles.


@dataclass
class Label:
    """What a cross-reference to a label shows, and the page it lives on."""

    page: str  # "chapters/01_what_is_model_collapse"
    text: str  # "Definition 1.1"


@dataclass
class Book:
    """The book-wide context every chapter's conversion needs."""

    root: Path
    repo_url: str
    branch: str
    colab_url: str
    bib: dict[str, tuple[str, str | None]]  # key -> ("Shumailov et al., 2024", link)
    labels: dict[str, Label] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)  # page -> title

    @property
    def repo_path(self) -> str:  # "model-collapse-course/model-collapse"
        return self.repo_url.removeprefix("https://github.com/").strip("/")

    def notebook_path(self, page: str) -> str:
        return f"{OUT}/{Path(page).name}.ipynb"

    def colab_link(self, page: str) -> str:
        return f"{self.colab_url}/github/{self.repo_path}/blob/{self.branch}/" \
               f"{self.notebook_path(page)}"

    def page_link(self, page: str) -> str:
        """A chapter opens as its student notebook in Colab; other pages as their source."""
        if page.startswith(f"{CHAPTERS}/"):
            return self.colab_link(page)
        return f"{self.repo_url}/blob/{self.branch}/{page}.md"


def _bibliography(path: Path) -> dict[str, tuple[str, str | None]]:
    from pybtex.database import parse_file

    def plain(text: str) -> str:
        return codecs.decode(text, "ulatex").replace("{", "").replace("}", "")

    entries = {}
    for key, entry in parse_file(str(path)).entries.items():
        people = entry.persons.get("author") or entry.persons.get("editor") or []
        names = [plain(" ".join(p.prelast_names + p.last_names)) for p in people]
        if len(names) > 2:
            who = f"{names[0]} et al."
        else:
            who = " and ".join(names) or plain(entry.fields.get("title", key))
        fields = entry.fields
        link = (f"https://doi.org/{fields['doi']}" if "doi" in fields else fields.get("url")
                or (f"https://arxiv.org/abs/{fields['eprint']}" if "eprint" in fields else None))
        entries[key] = (f"{who}, {fields.get('year', 'n.d.')}", link)
    return entries


def _markdown_cells(path: Path) -> list[str]:
    if path.suffix != ".md":
        return []
    return [c.source for c in jupytext.read(path).cells if c.cell_type == "markdown"]


def load_book(root: Path = ROOT) -> Book:
    """Read ``_config.yml``, the bibliography, and every page's labels and title."""
    root = Path(root)
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    repo = config["repository"]
    book = Book(
        root=root,
        repo_url=repo["url"].rstrip("/"),
        branch=repo.get("branch", "main"),
        colab_url=config.get("launch_buttons", {}).get(
            "colab_url", "https://colab.research.google.com").rstrip("/"),
        bib={},
    )
    for bibfile in config.get("bibtex_bibfiles", []):
        book.bib.update(_bibliography(root / bibfile))
    pages = sorted((root / CHAPTERS).glob("[0-9][0-9]_*.md")) + sorted(root.glob("book/*.md"))
    for path in pages:
        page = path.relative_to(root).with_suffix("").as_posix()
        text = "\n\n".join(_markdown_cells(path)) or path.read_text(encoding="utf-8")
        title = re.search(r"^# (.+)$", text, re.M)
        book.titles[page] = title.group(1).strip() if title else path.stem
        _collect_labels(book, page, text)
    return book


def _collect_labels(book: Book, page: str, text: str) -> None:
    """Every label of a page, with what a reference to it shows, numbered as the book does."""
    chapter = int(Path(page).name[:2]) if page.startswith(f"{CHAPTERS}/") else None
    counts: dict[str, int] = {}

    def number(kind: str) -> str:
        counts[kind] = counts.get(kind, 0) + 1
        return f"{chapter}.{counts[kind]}"

    lines, fence, directives = text.splitlines(), None, []  # open backtick directives
    for i, line in enumerate(lines):
        if fence:
            if line.strip().startswith(fence):
                fence = None
            continue
        if directives and set(line.strip()) == {"`"} and len(line.strip()) >= directives[-1]:
            directives.pop()
            continue
        target, eq = TARGET.match(line), EQ_LABEL.match(line.strip())
        directive = DIRECTIVE.match(line.strip())
        if target:
            heading = next((ln for ln in lines[i + 1:] if ln.strip()), "")
            book.labels[target["label"]] = Label(page, heading.lstrip("#").strip())
        elif eq and chapter is not None:
            book.labels[eq["label"]] = Label(page, f"({number('equation')})")
        elif directive:
            if directive["fence"].startswith("`"):
                directives.append(len(directive["fence"]))
            options = {}
            for opt in lines[i + 1:]:
                o = re.match(r"^:([\w-]+):[ \t]*(.*)$", opt)
                if not o:
                    break
                options[o[1]] = o[2].strip()
            name, label = directive["name"], options.get("label")
            if name in NUMBERED:
                kind = NUMBERED[name]
                numbered = "nonumber" not in options and chapter is not None
                shown = f"{kind} {number(kind)}" if numbered else kind
            elif name == "math" and chapter is not None:
                shown = f"({number('equation')})"
            else:
                continue
            if label:
                book.labels[label] = Label(page, shown)
        elif CODE_FENCE.match(line.strip()):
            fence = CODE_FENCE.match(line.strip()).group(1)


# ----------------------------------------------------------------------------------------------
# Markdown: MyST to what Colab renders.


@dataclass
class Page:
    """One chapter being converted: its book, its name and what the conversion found."""

    book: Book
    page: str
    counts: dict[str, int] = field(default_factory=dict)
    glued: dict[str, str] = field(default_factory=dict)  # name -> format, in order of use

    @property
    def chapter(self) -> int:
        return int(Path(self.page).name[:2])

    @property
    def where(self) -> str:
        return f"{self.page}.md"


def _one_line_math(text: str) -> str:
    """Put every ``$...$`` and ``$$...$$`` on one line, so that a blockquote cannot split it."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            out.append(text[i:i + 2])
            i += 2
            continue
        if text[i] == "`":
            j = text.find("`", i + 1)
            j = len(text) if j < 0 else j + 1
            out.append(text[i:j])
            i = j
            continue
        if text[i] == "$":
            delim = "$$" if text.startswith("$$", i) else "$"
            j = text.find(delim, i + len(delim))
            if j > 0:
                j += len(delim)
                out.append(" ".join(part.strip() for part in text[i:j].split("\n")))
                i = j
                continue
        out.append(text[i])
        i += 1
    return "".join(out)


def _quote(heading: str, body: str) -> str:
    """A blockquote opening with ``heading``, run into the first paragraph when it is prose."""
    body = _one_line_math(body.strip("\n"))
    first = body.lstrip().split("\n", 1)[0] if body.strip() else ""
    run_in = first and not re.match(r"([-*+]|\d+\.|>|\||#|\$\$|```|~~~|:::)(\s|$)", first)
    if run_in:
        stop = "" if re.search(r"[.:?!]\**$", heading) else "."
        heading = heading[:-2] + stop + "**" if heading.endswith("**") else heading + stop
        text = f"{heading} {body.lstrip()}"
    else:
        text = f"{heading}\n\n{body}".rstrip()
    return "\n".join(f"> {line}".rstrip() for line in text.split("\n"))


def _options(lines: list[str], page: Page, name: str) -> tuple[dict[str, str], list[str]]:
    options: dict[str, str] = {}
    if lines and lines[0].strip() == "---":
        end = lines.index("---", 1)
        options = {k: str(v) for k, v in (yaml.safe_load("\n".join(lines[1:end])) or {}).items()}
        lines = lines[end + 1:]
    while lines and re.match(r"^:[\w-]+:", lines[0]):
        key, _, value = lines[0][1:].partition(":")
        options[key] = value.strip()
        lines = lines[1:]
    unknown = set(options) - OPTIONS
    if unknown:
        raise _error(page.where, f"the option(s) {sorted(unknown)} of {{{name}}} have no "
                     "rendering in a notebook")
    return options, lines


def _directive(name: str, arg: str, options: dict[str, str], body: str, page: Page) -> str:
    if name == "admonition":
        return _quote(f"**{arg or 'Note'}**", body)
    if name in ADMONITIONS:
        return _quote(f"**{ADMONITIONS[name]}**", f"{arg}\n{body}" if arg else body)
    if name in NUMBERED:
        title = kind = NUMBERED[name]
        if "nonumber" not in options:
            page.counts[kind] = page.counts.get(kind, 0) + 1
            title = f"{kind} {page.chapter}.{page.counts[kind]}"
        return _quote(f"**{title}" + (f" ({arg})" if arg else "") + "**", body)
    if name == "prf:proof":
        return _quote("**Proof.**", body)
    if name == "solution":
        return ""  # a solution never reaches the student's notebook
    if name == "math":
        label = options.get("label")
        tag = f" \\tag{{{_equation(page, label)}}}" if label else ""
        return f"$$\n{body.strip()}{tag}\n$$"
    raise _error(page.where, f"the directive {{{name}}} has no rendering in a notebook yet")


def _equation(page: Page, label: str) -> str:
    return page.book.labels[label].text.strip("()")


def _blocks(lines: list[str], page: Page) -> list[str]:
    """Convert the directives in ``lines`` (recursively) and the roles of the rest."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        m = DIRECTIVE.match(line.lstrip())
        if m:
            fence, indent = m["fence"], line[:len(line) - len(line.lstrip())]
            for j in range(i + 1, len(lines)):
                closing = lines[j].strip()
                if closing and set(closing) == {fence[0]} and len(closing) >= len(fence):
                    break
            else:
                raise _error(page.where, f"the directive {{{m['name']}}} is never closed")
            inner = textwrap.dedent("\n".join(lines[i + 1:j])).split("\n")
            options, body = _options(inner, page, m["name"])
            if m["name"] == "math":
                converted = "\n".join(body)
            else:
                converted = "\n".join(_blocks(body, page))
            block = _directive(m["name"], _roles(m["arg"], page), options, converted, page)
            out.extend(f"{indent}{ln}" if ln else "" for ln in block.split("\n"))
            i = j + 1
            continue
        code = CODE_FENCE.match(line)
        if code:
            j = next((j for j in range(i + 1, len(lines))
                      if lines[j].strip().startswith(code.group(1))), len(lines) - 1)
            out.extend(lines[i:j + 1])
            i = j + 1
            continue
        if TARGET.match(line):
            i += 1  # a label for cross-references: nothing to show
            continue
        term = re.match(r"^:[ \t]+(.*)$", line)
        if term and out and out[-1].strip() and not out[-1].startswith("- **"):
            out[-1] = f"- **{out[-1].strip()}**: {_roles(term[1], page)}"  # a definition list
            i += 1
            continue
        eq = EQ_LABEL.match(line.strip())
        if eq:
            out[-1] = f"{out[-1]} \\tag{{{_equation(page, eq['label'])}}}"
            out.append("$$")
            i += 1
            continue
        out.append(_roles(line, page))
        i += 1
    return out


def _cite(keys: str, page: Page, textual: bool) -> str:
    parts = []
    for key in (k.strip() for k in keys.split(",")):
        if key not in page.book.bib:
            raise _error(page.where, f"the citation key {key!r} is not in the bibliography")
        text, link = page.book.bib[key]
        if textual:
            who, year = text.rsplit(", ", 1)
            text = f"{who} ({year})"
        parts.append(f"[{text}]({link})" if link else text)
    return "; ".join(parts) if textual else f"({'; '.join(parts)})"


def _xref(role: str, content: str, page: Page) -> str:
    explicit = re.match(r"^(?P<text>.*?)\s*<(?P<target>[^>]+)>$", content)
    text, target = (explicit["text"], explicit["target"]) if explicit else (None, content)
    if role == "doc":
        base = Path(page.page).parent
        resolved = Path(target) if target.startswith("/") else base / target
        parts: list[str] = []
        for part in resolved.as_posix().lstrip("/").split("/"):
            if part == "..":
                parts.pop()
            elif part != ".":
                parts.append(part)
        doc = "/".join(parts)
        if doc not in page.book.titles:
            raise _error(page.where, f"{{doc}} names {target!r}, which is not a page of the book")
        return f"[{text or page.book.titles[doc]}]({page.book.page_link(doc)})"
    label = page.book.labels.get(target)
    if label is None:
        raise _error(page.where, f"{{{role}}} names the label {target!r}, which no page defines")
    shown = text or label.text
    if label.page == page.page:
        return shown
    return f"[{shown}]({page.book.page_link(label.page)})"


def _roles(line: str, page: Page) -> str:
    def replace(m: re.Match) -> str:
        role, content = m["role"], m["content"]
        if role in ("cite", "cite:p", "cite:ps", "cite:alp"):
            return _cite(content, page, textual=False)
        if role in ("cite:t", "cite:ts"):
            return _cite(content, page, textual=True)
        if role in ("ref", "numref", "prf:ref", "doc", "eq"):
            return _xref(role, content, page)
        if role in ("glue", "glue:", "glue:text", "glue:md", "glue:any"):
            name, _, fmt = content.partition(":")
            page.glued.setdefault(name.strip(), fmt.strip())
            return f"`<{name.strip()}>`"
        if role == "math":
            return f"${content}$"
        if role in ("sub", "sup"):
            return f"<{role}>{content}</{role}>"
        raise _error(page.where, f"the role {{{role}}} has no rendering in a notebook yet")

    return ROLE.sub(replace, line)


def to_markdown(text: str, page: Page) -> str:
    """One markdown cell of a chapter, as plain markdown (CommonMark, tables, ``$`` maths)."""
    converted = "\n".join(_blocks(text.split("\n"), page))
    return re.sub(r"\n{3,}", "\n\n", converted).strip("\n")


# ----------------------------------------------------------------------------------------------
# The notebook.


def install_cell(book: Book) -> str:
    """The first code cell: installs the course package in Colab, loudly when pip fails."""
    package = f"collapse_utils @ git+{book.repo_url}@{book.branch}"
    return textwrap.dedent(f'''\
        # Install the course package in Colab (elsewhere, check that it is there).
        import importlib.util
        import subprocess
        import sys

        PACKAGE = "{package}"
        if "google.colab" in sys.modules:
            pip = subprocess.run([sys.executable, "-m", "pip", "install", PACKAGE],
                                 capture_output=True, text=True)
            if pip.returncode != 0:
                print(pip.stdout, pip.stderr, sep="\\n")
                raise RuntimeError(f"pip could not install {{PACKAGE}}: its output is above")
            print("collapse_utils is installed")
        elif importlib.util.find_spec("collapse_utils") is None:
            raise ModuleNotFoundError(f'collapse_utils is missing: pip install "{{PACKAGE}}"')''')


def glue_cell(glued: dict[str, str]) -> str:
    """Replaces myst-nb's ``glue``: prints each number the text names, in the text's format."""
    specs = textwrap.fill(" ".join(f"{k}:{v}" for k, v in glued.items()), 96,
                          break_on_hyphens=False, break_long_words=False)
    return (
        "# The book writes the numbers that the code computes into its sentences (myst-nb's\n"
        "# glue); in this notebook the text names them `<like_this>` and glue prints them.\n"
        f'IN_TEXT = dict(spec.split(":", 1) for spec in """\n{specs}\n""".split())\n'
        "\n\n"
        "def glue(name, value, display=False):\n"
        "    if name in IN_TEXT:\n"
        '        print(f"{name}: {value:{IN_TEXT[name]}}")'
    )


def _header(page: Page, title_cell: str) -> str:
    book = page.book
    source = f"{page.page}.md"
    note = (
        f"Chapter {page.chapter} of the course [Model Collapse]({book.repo_url}), as a notebook: "
        "run the cells in order (in Colab, *Runtime → Run all*). Each exercise has a cell for "
        "your code, then a cell that tests it.\n\n"
        f"*Generated from [`{source}`]({book.repo_url}/blob/{book.branch}/{source}) by "
        "`make notebooks`: change the chapter, not this file.*")
    return f"{title_cell}\n\n{note}"


def _cell_id(cell, seen: set[str]) -> str:
    digest = hashlib.sha1(f"{cell.cell_type}\n{cell.source}".encode()).hexdigest()
    n = 8
    while digest[:n] in seen:
        n += 1
    seen.add(digest[:n])
    return digest[:n]


def student_notebook(md: Path, book: Book, *, student: bool = True):
    """The Colab / Jupyter notebook of one chapter (an ``nbformat`` notebook, no outputs).

    With ``student=False``, the instructor's version: solutions and hidden tests kept, the
    source of the chapter's nbgrader assignment (:mod:`tools.assignments`).
    """
    from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions

    md = Path(md)
    page = Page(book, md.relative_to(book.root).with_suffix("").as_posix())
    source = jupytext.read(md)
    cells, inside_solution, installed, glue_after = [], False, False, None
    glued_text: list = []  # the markdown cells that name glued numbers
    for cell in source.cells:
        cell = copy.deepcopy(cell)
        tags = [t for t in cell.metadata.get("tags", []) if t not in BOOK_TAGS]
        book_only = "remove-cell" in cell.metadata.get("tags", [])
        cell.metadata.pop("tags", None)
        if tags:
            cell.metadata["tags"] = tags
        if cell.cell_type == "code":
            if not installed:
                if "google.colab" not in cell.source:
                    raise _error(page.where, "the first code cell must be the Colab install cell")
                cell.source, installed = install_cell(book), True
            elif inside_solution and not cell.metadata.get("nbgrader", {}).get("solution"):
                raise _error(page.where, "between {solution-start} and {solution-end} only "
                             "nbgrader solution cells may stand")
            if GLUE_IMPORT.search(cell.source):  # the notebook's own glue (glue_cell) replaces it
                cell.source = re.sub(r"\n{3,}", "\n\n", GLUE_IMPORT.sub("", cell.source)).strip()
                glue_after = len(cells) + bool(cell.source)
            if cell.source:
                cells.append(cell)
            continue
        if cell.cell_type != "markdown" or book_only:
            continue
        kept = []
        last = 0
        for m in SOLUTION.finditer(cell.source):
            if not inside_solution:
                kept.append(cell.source[last:m.start()])
            if m["which"] == "solution-start":
                kept.append(SOLUTION_PROMPT)
            inside_solution = m["which"] == "solution-start"
            last = m.end()
        if not inside_solution:
            kept.append(cell.source[last:])
        text = "\n\n".join(k.strip("\n") for k in kept if k.strip())
        if any(m["role"].startswith("glue") for m in ROLE.finditer(text)):
            glued_text.append(cell)
        cell.source = to_markdown(text, page)
        if cell.source:
            cells.append(cell)
    if inside_solution:
        raise _error(page.where, "a {solution-start} has no {solution-end}")
    if page.glued:
        if glue_after is None:
            raise _error(page.where, "the text glues numbers ({glue:text}) but no cell runs "
                         "`from myst_nb import glue`")
        cells.insert(glue_after, nbformat.v4.new_code_cell(glue_cell(page.glued)))
    calls = [i for i, c in enumerate(cells)
             if c.cell_type == "code" and GLUE_CALL.search(c.source)]
    for i, cell in enumerate(cells):
        if any(cell is c for c in glued_text):
            where = "above" if calls and calls[0] < i else "below"
            example = re.search(r"`<([\w.-]+)>`", cell.source)[1]
            note = (f"*Each name in angle brackets, such as `<{example}>`, stands "
                    f"for a number of this text: the cell {where} that calls `glue` prints it.*")
            paragraphs = cell.source.split("\n\n")
            last = max(i for i, par in enumerate(paragraphs)
                       if any(f"`<{name}>`" in par for name in page.glued))
            paragraphs.insert(last + 1, note)
            cell.source = "\n\n".join(paragraphs)
    title = next(i for i, c in enumerate(cells) if c.cell_type == "markdown")
    cells[title].source = _header(page, cells[title].source)

    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": dict(source.metadata["kernelspec"]),
                   "language_info": {"name": "python"}}
    nb.cells = []
    seen: set[str] = set()
    for cell in cells:
        new = (nbformat.v4.new_code_cell if cell.cell_type == "code"
               else nbformat.v4.new_markdown_cell)(cell.source, metadata=cell.metadata)
        new.id = _cell_id(new, seen)
        nb.cells.append(new)
    if student:
        resources: dict = {}
        nb, _ = ClearSolutions().preprocess(nb, resources)
        nb, _ = ClearHiddenTests().preprocess(nb, resources)
    return nb


def render(root: Path = ROOT) -> dict[str, str]:
    """Every student notebook's text, by path relative to ``root`` (``notebooks/NN.ipynb``)."""
    book = load_book(root)
    out = {}
    for md in sorted((Path(root) / CHAPTERS).glob("[0-9][0-9]_*.md")):
        nb = student_notebook(md, book)
        out[f"{OUT}/{md.stem}.ipynb"] = nbformat.writes(nb) + "\n"
    return out


def stale(root: Path = ROOT) -> list[str]:
    """The notebooks that differ from what ``render`` writes, are missing, or have no chapter."""
    root = Path(root)
    wanted = render(root)
    present = {p.relative_to(root).as_posix() for p in (root / OUT).glob("*.ipynb")}
    bad = [p for p, text in wanted.items()
           if not (root / p).exists() or (root / p).read_text(encoding="utf-8") != text]
    return sorted(set(bad) | (present - set(wanted)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if notebooks/ differs from the chapters")
    args = parser.parse_args(argv)
    if args.check:
        bad = stale(ROOT)
        for path in bad:
            print(f"{path} is stale: run `make notebooks`", file=sys.stderr)
        return 1 if bad else 0
    wanted = render(ROOT)
    (ROOT / OUT).mkdir(exist_ok=True)
    for path in (ROOT / OUT).glob("*.ipynb"):
        if path.relative_to(ROOT).as_posix() not in wanted:
            path.unlink()
    for path, text in wanted.items():
        target = ROOT / path
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
