"""The Spark lane: the dbt project built on Apache Spark (local pyspark) against the DuckDB build.

Runs only when ``BILLREADY_SPARK_TESTS=1`` (``make test-spark`` sets it, after installing the spark
extra and a Java runtime); otherwise every test here is skipped, so ``pytest`` stays fast.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from billready import settings, spark
from billready.build import BuildReport
from billready.ingest import ingest_directory
from billready.refresh import refresh
from billready.synth import SynthSummary, generate

SPARK_TESTS_ENV = "BILLREADY_SPARK_TESTS"
SYNTH_MILESTONES = 3000  # "a few thousand milestones": ~87,000 charges, ~43,000 tickets
SYNTH_SEED = 20260821


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test of this directory ``spark``; skip them unless the lane is switched on."""
    here = Path(__file__).parent
    skip = pytest.mark.skip(reason=f"the Spark lane runs with {SPARK_TESTS_ENV}=1 (make test-spark)")
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.spark)
            if os.environ.get(SPARK_TESTS_ENV) != "1":
                item.add_marker(skip)


@dataclass(frozen=True)
class SparkBuilt:
    """A warehouse built on DuckDB (published) and on Spark from the same raw data."""

    name: str
    directory: Path
    report: BuildReport
    synth: SynthSummary | None = None


@pytest.fixture(scope="session")
def demo_spark(demo_warehouse: Path) -> SparkBuilt:
    """The demo warehouse (tests/conftest.py), also built on Spark as of the same day."""
    report = spark.build(demo_warehouse, quiet=True, as_of=settings.DEMO_AS_OF)
    return SparkBuilt("demo", demo_warehouse, report)


@pytest.fixture(scope="session")
def synth_spark(tmp_path_factory: pytest.TempPathFactory) -> SparkBuilt:
    """A synthetic tenant of a few thousand milestones, built on DuckDB and on Spark."""
    export = tmp_path_factory.mktemp("synth-export")
    summary = generate(export, milestones=SYNTH_MILESTONES, seed=SYNTH_SEED)
    directory = tmp_path_factory.mktemp("synth-warehouse")
    refresh(
        directory,
        land=lambda database: ingest_directory(export, database),
        as_of=summary.snapshot,
        quiet=True,
    )
    # Models and seeds only: the demo's Spark build runs every data test and unit test, and the
    # DuckDB build of this tenant its data tests; here the marts are compared row for row.
    report = spark.build(
        directory, quiet=True, as_of=summary.snapshot,
        exclude=["resource_type:unit_test", "resource_type:test"],
    )
    return SparkBuilt("synth", directory, report, summary)
