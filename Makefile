# caaspp-book: `make book` builds the report book from the shipped sample; `make test` runs the tests.
# Both create .venv from requirements.lock (exact versions) on first use.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DATA   ?= data/sample
JOBS   ?= $(shell nproc 2>/dev/null || echo 2)
PYTEST_ARGS ?=

.PHONY: book test setup store tables notebooks html clean help

help:
	@echo "make book   - set up .venv, ingest $(DATA), run every LEA notebook, build _build/html"
	@echo "make test   - set up .venv and run the test suite"
	@echo "make clean  - remove the store, executed notebooks and _build (keeps .venv)"

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

setup: $(STAMP)

store: setup
	$(BIN)/caaspp-book ingest $(DATA)

tables: store
	$(BIN)/caaspp-book tables

notebooks: tables
	$(BIN)/caaspp-book run --jobs $(JOBS)

html: notebooks
	$(BIN)/caaspp-book build

book: html
	@echo "Book: $(CURDIR)/_build/html/index.html"

test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf data/processed book/leas book/_generated _build
