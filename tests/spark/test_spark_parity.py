"""On Apache Spark the dbt project builds unchanged and gives the DuckDB build's figures.

The demo export is built on Spark in full (every model, seed, data test and unit test passes);
a synthetic tenant of a few thousand milestones is built on Spark with its models and seeds. For
both, the marts equal the DuckDB marts row for row (after normalising types and order), and the
report's MetricFlow queries, rewritten for Spark, return the same figures.
"""
from __future__ import annotations

import datetime
import decimal
import math
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from billready import settings, spark
from billready.portability import manifest_problems, spark_functions
from billready.report import (
    CHARGE_ALLOCATION_REQUEST,
    KPI_REQUEST,
    PROJECT_REQUEST,
    RULE_REQUEST,
    STATUS_REQUEST,
    Report,
)
from billready.semantic import MetricRequest, Warehouse

from .conftest import SparkBuilt

MARTS = {  # mart -> its key
    "bi_contract_milestones": "milestone_id",
    "bi_charges": "charge_id",
    "bi_milestone_conflicts": "milestone_conflict_id",
}
REQUESTS: dict[str, MetricRequest] = {
    "kpi_overview": KPI_REQUEST,
    "status_breakdown": STATUS_REQUEST,
    "charge_allocation": CHARGE_ALLOCATION_REQUEST,
    "conflict_causes": RULE_REQUEST,
    "project_conflicts": PROJECT_REQUEST,
}


# ------------------------------------------------------------------------------------------------
# Normalising DuckDB and Spark rows


def _value(value: Any) -> Any:
    """One cell in a form both engines agree on: numbers as rounded floats, naive UTC times."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, decimal.Decimal, float)):
        number = float(value)
        return None if math.isnan(number) else round(number, 6)
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        return value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return value


def _rows(table: pa.Table, key: str | None = None) -> list[dict[str, Any]]:
    """A table's rows as normalised dicts, columns by name, in key order (else in full order).
    `_refresh_id` (which build computed a row) differs between two builds by design."""
    rows = [{name: _value(v) for name, v in row.items() if name != "_refresh_id"} for row in table.to_pylist()]
    if key is not None:
        return sorted(rows, key=lambda r: r[key])
    return sorted(rows, key=lambda r: [(v is None, repr(v)) for v in r.values()])


def _duckdb(directory: Path, sql: str) -> pa.Table:
    with duckdb.connect(str(settings.database_path(directory)), read_only=True) as con:
        return con.sql(sql).to_arrow_table()


def _metric_sql(directory: Path) -> dict[str, str]:
    """The report's MetricFlow SQL (DuckDB) per request, compiled on the DuckDB build."""
    with Warehouse(directory) as warehouse:
        semantic = Report(warehouse).semantic
        return {name: semantic.compile(request) for name, request in REQUESTS.items()}


def _spark_results(built: SparkBuilt) -> dict[str, pa.Table]:
    """Everything the tests read from Spark, in one Spark session."""
    queries = {f"mart:{mart}": f"select * from marts.{mart}" for mart in MARTS}
    queries |= {f"metric:{name}": spark.to_spark_sql(sql) for name, sql in _metric_sql(built.directory).items()}
    queries["functions"] = "show functions"
    return spark.query(built.directory, queries)


@pytest.fixture(scope="module", params=["demo", "synth"])
def built(request: pytest.FixtureRequest) -> tuple[SparkBuilt, dict[str, pa.Table]]:
    """Each tenant built on both engines, with its Spark results."""
    tenant: SparkBuilt = request.getfixturevalue(f"{request.param}_spark")
    return tenant, _spark_results(tenant)


# ------------------------------------------------------------------------------------------------
# The build on Spark


def test_spark_build_passes_models_seeds_data_tests_and_unit_tests(
    built: tuple[SparkBuilt, dict[str, pa.Table]],
) -> None:
    tenant, _ = built
    kinds = {outcome.unique_id.split(".")[0] for outcome in tenant.report.outcomes}
    assert {"model", "seed"} | ({"test", "unit_test"} if tenant.synth is None else set()) <= kinds
    assert tenant.report.failures == []
    assert (settings.spark_dir(tenant.directory) / "target" / "manifest.json").exists()


def test_sql_dbt_compiled_for_spark_passes_the_portability_check(
    built: tuple[SparkBuilt, dict[str, pa.Table]],
) -> None:
    tenant, _ = built
    manifest = settings.dbt_target_dir(tenant.directory, spark.SPARK_TARGET) / "manifest.json"
    assert manifest_problems(manifest, check_types=True) == {}


def test_the_portability_checks_function_list_is_this_sparks(
    built: tuple[SparkBuilt, dict[str, pa.Table]],
) -> None:
    _, results = built
    live = {name for name in results["functions"].column(0).to_pylist() if name.isidentifier()}
    assert spark_functions() == live, "regenerate src/billready/data/spark_functions.txt"


# ------------------------------------------------------------------------------------------------
# Same results


@pytest.mark.parametrize("mart", list(MARTS))
def test_marts_equal_the_duckdb_marts_row_for_row(
    built: tuple[SparkBuilt, dict[str, pa.Table]], mart: str
) -> None:
    tenant, results = built
    on_duckdb = _rows(_duckdb(tenant.directory, f"select * from marts.{mart}"), MARTS[mart])
    on_spark = _rows(results[f"mart:{mart}"], MARTS[mart])
    assert len(on_spark) == len(on_duckdb) > 0
    assert set(on_spark[0]) == set(on_duckdb[0])
    mismatches = [(d, s) for d, s in zip(on_duckdb, on_spark) if d != s]
    assert not mismatches, f"{len(mismatches)} rows differ, e.g. DuckDB {mismatches[0][0]} Spark {mismatches[0][1]}"


@pytest.mark.parametrize("request_name", list(REQUESTS))
def test_metrics_on_spark_equal_the_duckdb_figures(
    built: tuple[SparkBuilt, dict[str, pa.Table]], request_name: str
) -> None:
    tenant, results = built
    on_duckdb = _rows(_duckdb(tenant.directory, _metric_sql(tenant.directory)[request_name]))
    on_spark = _rows(results[f"metric:{request_name}"])
    assert on_spark == on_duckdb
    assert on_duckdb, "the request returned no rows"


def test_kpis_on_spark_are_the_published_ones(built: tuple[SparkBuilt, dict[str, pa.Table]]) -> None:
    tenant, results = built
    (kpis,) = _rows(results["metric:kpi_overview"])
    if tenant.synth is None:  # the demo's published figures
        expected = {"total_milestones": 47, "conflicts_found": 5, "revenue_at_risk": 28500, "charges_conflicts": 3}
    else:
        plan = tenant.synth
        # conflicts_found and revenue_at_risk may also count non-allocation rules (date rules);
        # the allocation rules' share is checked in test_synthetic_marts_show_the_planned_figures
        expected = {"total_milestones": plan.total_milestones, "charges_conflicts": plan.charges_conflicts}
    assert {name: kpis[name] for name in expected} == expected


def test_synthetic_marts_show_the_planned_figures(synth_spark: SparkBuilt) -> None:
    """The generator's plan, as the DuckDB marts show it (Spark equals DuckDB, above)."""
    plan = synth_spark.synth
    assert plan is not None
    directory = synth_spark.directory
    stages = {
        row["stage"]: row["n"]
        for row in _duckdb(directory, "select stage, count(*) as n from marts.bi_contract_milestones group by 1").to_pylist()
    }
    assert stages == {stage: count for stage, count in plan.stages.items() if count}
    split = {
        row["allocation_target"]: row["n"]
        for row in _duckdb(directory, "select allocation_target, count(*) as n from marts.bi_charges group by 1").to_pylist()
    }
    assert split == plan.charges_by_allocation
    findings = _duckdb(
        directory,
        "select rule_code, count(*) as n, sum(amount) as amount from marts.bi_milestone_conflicts "
        f"where rule_code in ({', '.join(repr(r) for r in plan.rule_conflicts)}) group by 1",
    ).to_pylist()
    assert {row["rule_code"]: row["n"] for row in findings} == plan.rule_conflicts
    assert sum(float(row["amount"]) for row in findings) == plan.revenue_at_risk  # one rule each
    conflicted_charges = _duckdb(directory, "select count(*) as n from marts.bi_charges where is_contract_conflict")
    assert conflicted_charges.column("n")[0].as_py() == plan.charges_conflicts
