# Two set-up commands: `make demo` (the main job) and `make test` (lint + the whole suite).
# Both create .venv on first use and install the project with the pinned constraints.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export SDL_VIDEODRIVER ?= dummy
export SDL_AUDIODRIVER ?= dummy
export MUJOCO_GL ?= egl
export PYTHONHASHSEED := 0

.PHONY: demo test test-fast lint format bench clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt torch==2.13.0
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/hfrl demo --out runs/demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

test: lint
	$(BIN)/python -m pytest -q

# The edit loop: no learning or end-to-end tests (marked `slow`), stops at the first failure.
test-fast: lint
	$(BIN)/python -m pytest -q -x -m "not slow"

# Every generated section of docs/BENCHMARKS.md (and the claims table of docs/TEACHING.md),
# rewritten in place: takes hours on a 2-core machine. Some: scripts/bench_all.py --only NAME.
bench: $(STAMP)
	$(BIN)/python scripts/bench_all.py

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) runs .pytest_cache .ruff_cache
