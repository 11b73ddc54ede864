# fabric: `make demo` and `make test` bootstrap everything they need on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?= -m "not slow"

.PHONY: demo test test-all lint bench deps clean

$(STAMP): pyproject.toml
	@bash scripts/bootstrap.sh "$(PYTHON)" "$(VENV)"
	@touch $(STAMP)

deps: $(STAMP)

demo: $(STAMP)
	$(BIN)/fabric demo

test: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

test-all: $(STAMP)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check fabric tests bench
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/render.py
	$(BIN)/python bench/twin.py
	$(BIN)/python bench/collect.py
	$(BIN)/python bench/deploy.py
	$(BIN)/python bench/engine.py

clean:
	rm -rf $(VENV) build *.egg-info
