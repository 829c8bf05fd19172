# The two commands: `make book` (build the book) and `make test` (every test).
# Each installs what it needs into .venv first.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(abspath $(VENV))/bin
STAMP  := $(VENV)/.installed
# torch is pinned once, in pyproject.toml's `cpu` extra.
TORCH  := $(shell grep -o '"torch==[^"]*"' pyproject.toml)

export PATH := $(BIN):$(PATH)
export HF_HUB_OFFLINE := 1

.PHONY: help install book test lint sync notebooks assignments grade bench clean

help:
	@echo "make book         build the book into _build/html (executes every chapter)"
	@echo "make test         lint, build the book, run every test"
	@echo "make sync         re-pair chapters/*.md with their .ipynb (jupytext), then make notebooks"
	@echo "make notebooks    write the students' Colab/Jupyter notebooks/*.ipynb from chapters/*.md"
	@echo "make assignments  lay out the nbgrader course folder _build/nbgrader, every chapter released"
	@echo "make grade NOTEBOOK=path.ipynb STUDENT=id   autograde a submission, write its feedback"
	@echo "make bench        run the speed benchmarks"

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@# torch first, explicitly: an unpinned torch would pull a multi-GB CUDA build.
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e ".[cpu,book,test]"
	touch $@

# Sphinx and the execution cache see only the chapters' own text and code: when the package
# changes, the executed chapters (and, when collapse_utils/lm changes, the saved runs) are
# thrown away, so that every output in the book comes from the code as it is.
PACKAGE := $(shell find collapse_utils -name '*.py' -o -name '*.csv')
LM      := $(filter collapse_utils/lm/%,$(PACKAGE))

_build/.package-stamp: $(PACKAGE)
	rm -rf _build/.jupyter_cache _build/.doctrees _build/jupyter_execute
	mkdir -p _build && touch $@

_build/.lm-stamp: $(LM)
	rm -rf _build/runs
	mkdir -p _build && touch $@

book: $(STAMP) _build/.package-stamp _build/.lm-stamp
	$(BIN)/jupyter-book build . -W -n --keep-going

lint: $(STAMP)
	$(BIN)/ruff check .

test: lint book
	$(BIN)/python -m pytest

sync: notebooks
	$(BIN)/jupytext --sync chapters/[0-9]*.md

# Generated, committed, checked by tests/test_notebooks.py: never edit notebooks/ by hand.
notebooks: $(STAMP)
	$(BIN)/python tools/notebooks.py

# The book's build runs chapters 6-7's experiments once; the course folder shares those runs.
assignments: book
	$(BIN)/python -m tools.assignments course

grade: $(STAMP)
	@test -n "$(NOTEBOOK)" -a -n "$(STUDENT)" || \
		{ echo "usage: make grade NOTEBOOK=path/to/submitted.ipynb STUDENT=id"; exit 2; }
	$(BIN)/python -m tools.assignments grade "$(NOTEBOOK)" --student "$(STUDENT)"

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_gaussian.py
	$(BIN)/python benchmarks/bench_lm.py

clean:
	rm -rf _build
