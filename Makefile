# `make bench` runs the main job, `make test` the whole check; each makes .venv first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.rlkit-installed

.PHONY: bench test test-slow lint venv clean

# Reinstall when the dependencies or the compiled A* change.
$(STAMP): pyproject.toml setup.py planners/_gridsearch.c
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

bench: $(STAMP)
	$(BIN)/rlkit bench --suite quick

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest

test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow

clean:
	rm -rf $(VENV) build *.egg-info planners/*.so .pytest_cache .mypy_cache .ruff_cache
