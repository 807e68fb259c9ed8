"""The Spark path's pieces that need no Spark: landing Parquet, the session settings, SQL rewrite.

The Spark lane (tests/spark, `make test-spark`) runs the whole path on Spark.
"""
from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from billready import settings, spark
from billready.autotask import RAW_SCHEMA


def test_export_raw_writes_every_raw_table_as_parquet(demo_warehouse: Path, tmp_path: Path) -> None:
    counts = spark.export_raw(settings.database_path(demo_warehouse), tmp_path / "raw")
    with duckdb.connect(str(settings.database_path(demo_warehouse)), read_only=True) as con:
        tables = {
            name: [c[0] for c in con.execute(f'SELECT * FROM {RAW_SCHEMA}."{name}" LIMIT 0').description]
            for (name,) in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = ?", [RAW_SCHEMA]
            ).fetchall()
        }
    assert set(counts) == set(tables)
    assert counts["contract_milestones"] == 55
    for name, columns in tables.items():
        written = pq.read_table(tmp_path / "raw" / name)
        assert written.num_rows == counts[name]
        assert written.column_names == columns
    # types the Spark tables read: TIMESTAMP without time zone, BIGINT ids
    schema = pq.read_schema(tmp_path / "raw" / "contract_milestones" / "part-0.parquet")
    assert str(schema.field("dateDue").type) == "timestamp[us]"
    assert str(schema.field("id").type) == "int64"


def test_session_settings_come_from_the_profile(tmp_path: Path) -> None:
    conf = spark.session_conf(tmp_path)
    home = settings.spark_dir(tmp_path)
    assert conf["spark.sql.warehouse.dir"] == f"{home}/tables"
    assert f"databaseName={home}/metastore_db" in conf["spark.hadoop.javax.jdo.option.ConnectionURL"]
    assert conf["spark.sql.session.timeZone"] == "UTC"
    assert conf["spark.sql.ansi.enabled"] == "false"
    assert conf["spark.master"].startswith("local")


def test_metricflow_sql_is_rewritten_for_spark() -> None:
    sql = spark.to_spark_sql(
        'SELECT CAST(COALESCE(MAX(m.n), 0) AS DOUBLE) AS rate, list(x) AS xs, "amount"\n'
        'FROM "billready"."marts"."bi_contract_milestones" AS m'
    )
    assert "FROM `marts`.`bi_contract_milestones`" in sql
    assert "billready" not in sql and '"' not in sql
    assert "COLLECT_LIST(x)" in sql


def test_build_on_spark_refuses_a_warehouse_without_landed_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from billready.cli import main

    assert main(["--warehouse", str(tmp_path / "empty"), "build", "--target", "spark"]) == 2
    error = capsys.readouterr().err
    assert "error:" in error and ("ingest" in error or "spark" in error)
