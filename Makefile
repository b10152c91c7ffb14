# Two commands for a newcomer: `make run` (the gateway on the embedded default) and `make test`.
# Each bootstraps what it needs: a local virtualenv with every extra, then its job.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8080
# Two workers on the 2-core machines we run on; each backend's tests stay on one worker.
PYTEST_ARGS ?= -n 2 --dist loadgroup -q

.PHONY: run sandbox test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## run: serve the gateway on the embedded default (a local MLflow registry under ./mrg-data)
run: $(STAMP)
	$(BIN)/mrg serve --port $(PORT)

## sandbox: every backend on this machine, served by the gateway
sandbox: $(STAMP)
	$(BIN)/mrg serve --sandbox --port $(PORT)

## test: the whole suite (unit, gateway, store on SQLite and PostgreSQL if configured, conformance)
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check gateway adapters mapping emulators tests bench

bench: $(STAMP)
	$(BIN)/python bench/startup.py

clean:
	rm -rf $(VENV) mrg-data mrg-sandbox
