# Two entry points (see README): `make demo` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup demo build serve test clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found; install Python 3.11 or run make PYTHON=/path/to/python3.11" >&2; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP)

## Create the environment, land the demo export, build the marts and serve the report.
demo: $(STAMP)
	$(BIN)/billready demo
	$(BIN)/billready serve

## Create the environment and run every test.
test: $(STAMP)
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) warehouse target logs dbt_packages
