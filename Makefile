# caaspp-book: `make book` builds the report book from the shipped sample; `make test` runs the tests.
# Both create .venv on first use: `make setup` installs requirements/runtime.lock, `make setup-test` adds
# requirements/test.lock (exact versions, pip --require-hashes; scripts/lock.sh regenerates both).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
DATA   ?= data/sample
JOBS   ?= $(shell nproc 2>/dev/null || echo 2)
PYTEST_ARGS ?=

RELEASE ?= final

.PHONY: book test test-fast setup setup-test sysdeps store tables notebooks html pdf clean help

help:
	@echo "make book    - system packages, .venv, ingest $(DATA), run every LEA notebook, build _build/html and _build/pdf"
	@echo "make test    - system packages, .venv, then the test suite (browser, PDF and privacy tests included)"
	@echo "make test-fast - the edit loop: every test but the slow ones (no browser, no book build), on 2 workers"
	@echo "make setup   - .venv with requirements/runtime.lock; make setup-test adds requirements/test.lock"
	@echo "make sysdeps - install the system packages (Chromium, poppler-utils, fonts) if any is missing"
	@echo "make clean   - remove the store, executed notebooks and _build (keeps .venv)"

# The lock pins pip and setuptools too: the venv's own pip installs it (pip upgrades itself to the pinned
# version), then the project goes in without dependencies or an isolated build (setuptools from the lock).
$(STAMP): requirements/runtime.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/runtime.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m compileall -q src  # bytecode now: where PYTHONDONTWRITEBYTECODE is set, every process would compile
	touch $@

# The test lock is the runtime lock (same versions) plus the `test` extra.
$(TEST_STAMP): $(STAMP) requirements/test.lock
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/test.lock
	touch $@

setup: $(STAMP)

setup-test: $(TEST_STAMP)

sysdeps:
	scripts/install-system-deps.sh

store: setup
	$(BIN)/caaspp-book ingest $(DATA)

tables: store
	$(BIN)/caaspp-book tables

notebooks: tables
	$(BIN)/caaspp-book run --jobs $(JOBS)

html: notebooks
	$(BIN)/caaspp-book build --release $(RELEASE)

pdf: html sysdeps
	$(BIN)/caaspp-book pdf --jobs $(JOBS)

book: sysdeps pdf
	@echo "Site: $(CURDIR)/_build/html/index.html"
	@echo "PDFs: $(CURDIR)/_build/pdf/caaspp-technical-report.pdf and $(CURDIR)/_build/pdf/leas/<county>/<cds>-<name>.pdf"

# Two workers; tests sharing a module's fixtures (or the one built site) stay on one worker (tests/conftest.py).
test: sysdeps setup-test
	$(BIN)/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

test-fast: setup-test
	$(BIN)/python -m pytest -n 2 --dist loadgroup -m "not slow" $(PYTEST_ARGS)

clean:
	rm -rf data/processed data/interim/lea_tables book/leas book/_generated _build
