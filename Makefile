# Two entry points (see README): `make demo` and `make test` (= `make test-main test-spark`).
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SPARK_STAMP := $(VENV)/.installed-spark

.PHONY: setup demo build serve test test-main test-spark bench clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found; install Python 3.11 or run make PYTHON=/path/to/python3.11" >&2; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP)

# The Spark lane's extra (dbt-spark, pyspark) and a Java 17 runtime (apt-get when missing).
$(SPARK_STAMP): $(STAMP) pyproject.toml
	sh scripts/ensure_java.sh
	$(BIN)/python -m pip install --quiet -e '.[dev,spark]'
	@touch $(SPARK_STAMP)

## Create the environment, land the demo export, build the marts and serve the report.
demo: $(STAMP)
	$(BIN)/billready demo
	$(BIN)/billready serve

## Create the environment and run every test: the main suite, then the Spark lane.
test: test-main test-spark

## The main suite (DuckDB; the Spark lane's tests are skipped), with the browser tests: Debian's
## chromium is installed when missing (scripts/ensure_chromium.sh; they skip, saying why, without it).
test-main: $(STAMP)
	sh scripts/ensure_chromium.sh
	$(BIN)/python -m pytest

## The Spark lane: the dbt project built on local Apache Spark, compared with the DuckDB build.
test-spark: $(SPARK_STAMP)
	BILLREADY_SPARK_TESTS=1 $(BIN)/python -m pytest tests/spark

## The benchmark (docs/performance.md): S, M and L, with its peers; not part of `make test`.
bench: $(STAMP)
	$(BIN)/python -m bench --sizes S,M,L --out bench/results/latest.json

clean:
	rm -rf $(VENV) warehouse target logs dbt_packages
