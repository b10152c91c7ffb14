# Two commands for a newcomer: `make run` (the gateway on the embedded default) and `make test`.
# Each bootstraps what it needs: a local virtualenv with every extra, then its job.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8080
# Two workers on the 2-core machines we run on; each backend's tests stay on one worker.
PYTEST_ARGS ?= -n 2 --dist loadgroup -q

.PHONY: run serve test fidelity lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m emulators.azureml.azurite --install
	touch $(STAMP)

## run: the gateway over every backend on this machine: the embedded local MLflow registry,
## a real MLflow server and the SageMaker, Vertex AI, Azure ML and Hugging Face emulators
run: $(STAMP)
	$(BIN)/mrg serve --sandbox --seed --port $(PORT)

## serve: the gateway on the embedded default alone (a local MLflow registry under ./mrg-data)
serve: $(STAMP)
	$(BIN)/mrg serve --port $(PORT)

## test: the whole suite (unit, gateway, store on SQLite and PostgreSQL if configured, conformance)
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## fidelity: regenerate docs/fidelity.md from the conformance suite's round-trip test
fidelity: $(STAMP)
	rm -rf build/fidelity
	MRG_FIDELITY_OUT=build/fidelity $(BIN)/python -m pytest tests/conformance -k test_every_carried_field_round_trips $(PYTEST_ARGS)
	$(BIN)/python -m gateway.pilot.fidelity_doc build/fidelity docs/fidelity.md

lint: $(STAMP)
	$(BIN)/ruff check gateway adapters mapping emulators tests bench

bench: $(STAMP)
	$(BIN)/python bench/startup.py

clean:
	rm -rf $(VENV) mrg-data mrg-sandbox
