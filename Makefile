# Two entry points: `make demo` and `make test`; each builds its own venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The real DfE sample files live beside the project when it is checked out
# next to shared/; WELLBEING_DFE_DATA points elsewhere if they do not.
WELLBEING_DFE_DATA ?= $(abspath $(firstword $(wildcard ../shared/data/dfe-mtc)))
export WELLBEING_DFE_DATA

.PHONY: demo test lint typecheck pytest clean

# constraints.txt pins every package to the versions the suite last passed
# with, so a new release elsewhere cannot change a clean build.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/wellbeing demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest

test: lint typecheck pytest

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
