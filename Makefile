# Pipewise — `make run` serves the app with demo data; `make test` runs the whole suite.
PYTHON ?= python3
# Test processes (pytest-xdist; each has its own SQLite database and files); 0 runs one.
TEST_PROCESSES ?= 2
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test test-postgres bench install install-test clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(TEST_STAMP)

install: $(STAMP)

install-test: $(TEST_STAMP)

run: $(STAMP)
	$(BIN)/pipewise db upgrade
	$(BIN)/pipewise init --demo-admin
	$(BIN)/pipewise demo --if-empty
	$(BIN)/pipewise serve

test: $(TEST_STAMP)
	$(BIN)/python -m pytest -n $(TEST_PROCESSES) --dist loadfile

bench: $(TEST_STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var
