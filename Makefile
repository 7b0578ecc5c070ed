# `make bench` runs the main job, `make test` the whole check; each makes .venv first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.rlkit-installed

.PHONY: bench bench-anchors test test-slow lint venv clean

# Reinstall when the dependencies or the compiled A* change.
$(STAMP): pyproject.toml setup.py planners/_gridsearch.c
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

bench: $(STAMP)
	$(BIN)/rlkit bench --suite quick

# GridNavVectorEnv against NAVIX and XLand-MiniGrid (JAX, CPU). jax lives in its own venv,
# .venv-anchors, which the script makes on first use (pip install jax navix, xminigrid).
bench-anchors: $(STAMP)
	$(BIN)/python benchmarks/env_throughput.py --anchors --sections anchors \
		--out benchmarks/results/env_throughput/anchors.json \
		--report benchmarks/results/env_throughput/report.md

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest

test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow

clean:
	rm -rf $(VENV) .venv-anchors build *.egg-info planners/*.so .pytest_cache .mypy_cache .ruff_cache
