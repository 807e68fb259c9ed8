"""The same dbt project on Apache Spark: landing, build, and running SQL on the Spark-built marts.

The ``spark`` target in ``profiles.yml`` runs Spark inside the dbt process (dbt-spark's
``method: session``: local pyspark on JDK 17) with a Derby metastore and the tables under
``<warehouse>/spark``. The path is:

1. :func:`export_raw` writes every ``raw_autotask`` table of the DuckDB warehouse (what ``ingest``
   landed) to Parquet, one directory per table;
2. ``dbt build --target spark``: its on-run-start hook (``macros/register_raw_sources.sql``)
   registers each ``autotask`` source as a table over its directory, so the sources, models,
   seeds, data tests and unit tests are the DuckDB build's, unchanged;
3. :func:`query` runs SQL on the Spark-built tables (for example MetricFlow's SQL, made Spark SQL
   by :func:`to_spark_sql`) and returns Arrow tables.

Spark runs in child processes only (dbt, and a small query worker): a JVM keeps its metastore
open for its lifetime, and a child process is also how a scheduler runs it.
"""
from __future__ import annotations

import datetime
import importlib.util
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import duckdb
import jinja2
import pyarrow as pa
import pyarrow.parquet as pq
import sqlglot
import yaml
from sqlglot import exp

from billready import settings
from billready.autotask import RAW_SCHEMA
from billready.build import BuildReport, dbt_env, run_dbt
from billready.errors import BuildError, QueryError, WarehouseError

__all__ = [
    "SPARK_TARGET",
    "build",
    "export_raw",
    "query",
    "session_conf",
    "spark_env",
    "to_spark_sql",
]

logger = logging.getLogger(__name__)

SPARK_TARGET = "spark"
HOME_ENV = "BILLREADY_SPARK_HOME"
RAW_DIR_ENV = "BILLREADY_SPARK_RAW_DIR"
RAW_TABLES_ENV = "BILLREADY_SPARK_RAW_TABLES"
JAVA_OPTIONS_ENV = "BILLREADY_SPARK_JAVA_OPTIONS"
_LOG_CONFIG = Path(__file__).with_name("data") / "spark-log4j2.properties"
_PANDAS_WARNING_FILTER = "ignore:PySpark does not yet fully support pandas:FutureWarning"
_INSTALL_HINT = "install the Spark extra (`pip install -e '.[spark]'`, or `make test-spark`)"


# ------------------------------------------------------------------------------------------------
# Where Spark keeps things, and the settings the profile and the query worker share


def spark_env(warehouse: Path) -> dict[str, str]:
    """The environment the ``spark`` profile reads: Spark's directory, the raw Parquet, logging."""
    home = settings.spark_dir(warehouse)
    return {
        HOME_ENV: str(home),
        RAW_DIR_ENV: str(home / "raw"),
        JAVA_OPTIONS_ENV: f"-Dlog4j2.configurationFile=file:{_LOG_CONFIG}",
        # pyspark warns on import that it does not fully support pandas 3; billready reads Spark
        # results through Arrow, not pandas.
        "PYTHONWARNINGS": ",".join(
            filter(None, [os.environ.get("PYTHONWARNINGS"), _PANDAS_WARNING_FILTER])
        ),
    }


def session_conf(warehouse: Path) -> dict[str, str]:
    """The Spark settings of the ``spark`` target in ``profiles.yml``, rendered for ``warehouse``.

    The profile is the one place they are written; the query worker reads them from there so that
    it opens the metastore and tables dbt built.
    """
    profile = yaml.safe_load((settings.project_dir() / "profiles.yml").read_text())
    output = profile["billready"]["outputs"][SPARK_TARGET]
    env = {**os.environ, **spark_env(warehouse)}

    def env_var(name: str, default: str | None = None) -> str:
        if name in env:
            return env[name]
        if default is None:
            raise WarehouseError(f"profiles.yml needs the environment variable {name}")
        return default

    renderer = jinja2.Environment(undefined=jinja2.StrictUndefined)
    return {
        str(key): renderer.from_string(str(value)).render(env_var=env_var)
        for key, value in output.get("server_side_parameters", {}).items()
    }


def _require_spark() -> None:
    """Fail early, with the fix, when pyspark, dbt-spark or a Java runtime is missing."""
    for module in ("pyspark", "dbt.adapters.spark"):
        if importlib.util.find_spec(module) is None:
            raise BuildError(f"{module} is not installed: {_INSTALL_HINT}")
    java_home = os.environ.get("JAVA_HOME")
    if not (java_home and (Path(java_home) / "bin" / "java").exists()) and not shutil.which("java"):
        raise BuildError(
            "Spark needs a Java 17 runtime (java on PATH or JAVA_HOME), e.g. "
            "`apt-get install -y openjdk-17-jre-headless`"
        )


# ------------------------------------------------------------------------------------------------
# Landing: the raw layer as Parquet


def export_raw(database: Path, directory: Path) -> dict[str, int]:
    """Write every ``raw_autotask`` table of ``database`` to ``directory/<table>/`` as Parquet.

    ``directory`` is replaced. Column names and types are the raw layer's (BIGINT, DOUBLE,
    BOOLEAN, TIMESTAMP without time zone, VARCHAR). Returns the rows written per table.
    """
    if not database.exists():
        raise WarehouseError(
            f"no warehouse at {database}: run `billready ingest PATH` (or `billready demo`) first"
        )
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    try:
        con = duckdb.connect(str(database), read_only=True)
    except duckdb.IOException as exc:
        raise WarehouseError(f"cannot open {database} read-only: {exc}") from exc
    counts: dict[str, int] = {}
    try:
        tables = [
            name
            for (name,) in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = ? ORDER BY table_name",
                [RAW_SCHEMA],
            ).fetchall()
        ]
        if not tables:
            raise WarehouseError(f"{database} has no {RAW_SCHEMA} tables: run `billready ingest` first")
        for table in tables:
            target = directory / table
            target.mkdir()
            path = str(target / "part-0.parquet").replace("'", "''")
            con.execute(
                f'COPY (SELECT * FROM {RAW_SCHEMA}."{table}") TO \'{path}\' (FORMAT parquet)'
            )
            (counts[table],) = con.execute(f'SELECT count(*) FROM {RAW_SCHEMA}."{table}"').fetchone()
    finally:
        con.close()
    logger.info("exported %d raw tables (%d rows) to %s", len(counts), sum(counts.values()), directory)
    return counts


# ------------------------------------------------------------------------------------------------
# Build


def build(
    warehouse: Path,
    *,
    quiet: bool = False,
    as_of: datetime.date | None = None,
    exclude: Sequence[str] = (),
) -> BuildReport:
    """Land the warehouse's raw layer for Spark and ``dbt build --target spark``.

    The DuckDB warehouse must hold an ingest (``billready ingest``); the raw tables of its
    published snapshot are exported to ``<warehouse>/spark/raw`` and the models, seeds, data tests
    and unit tests run on Spark, with dbt's artifacts in ``<warehouse>/spark/target``. ``as_of``
    is the date the date rules are evaluated against, as for the DuckDB build; ``exclude`` takes
    dbt node selectors to leave out (e.g. ``resource_type:unit_test``, which do not depend on the
    data).
    """
    _require_spark()
    env = spark_env(warehouse)
    exported = export_raw(settings.database_path(warehouse), Path(env[RAW_DIR_ENV]))
    env[RAW_TABLES_ENV] = ",".join(exported)
    env.update(dbt_env(as_of))
    command = ["build", *(["--exclude", *exclude] if exclude else [])]
    return run_dbt(warehouse, command, quiet=quiet, target=SPARK_TARGET, env=env)


# ------------------------------------------------------------------------------------------------
# Queries on the Spark-built tables


def to_spark_sql(sql: str) -> str:
    """DuckDB SQL (MetricFlow's, the report's) rewritten as Spark SQL.

    Tables keep their schema and lose DuckDB's database qualifier (``"billready"."marts".x``
    becomes ``marts.x``): on Spark the schema is the database, in the session's catalog.
    """
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
        for table in tree.find_all(exp.Table):
            table.set("catalog", None)
        return tree.sql(dialect="spark", pretty=True, unsupported_level=sqlglot.ErrorLevel.RAISE)
    except sqlglot.errors.SqlglotError as exc:
        raise QueryError(f"cannot rewrite the SQL for Spark: {exc}") from exc


def query(warehouse: Path, queries: Mapping[str, str], *, timeout: float = 900) -> dict[str, pa.Table]:
    """Run Spark SQL statements on the tables ``build`` made; their rows by name, as Arrow tables.

    One Spark session (in a child process) runs them all, on the profile's settings.
    """
    _require_spark()
    if not (settings.spark_dir(warehouse) / "metastore_db").exists():
        raise WarehouseError(
            f"no Spark build in {settings.spark_dir(warehouse)}: run `billready build --target spark`"
        )
    with tempfile.TemporaryDirectory(prefix="billready-spark-") as scratch:
        request = Path(scratch) / "queries.json"
        request.write_text(json.dumps(dict(queries)))
        command = [sys.executable, "-m", "billready.spark", str(warehouse), str(request), scratch]
        logger.debug("running %s", " ".join(command))
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout,
            env={**os.environ, **spark_env(warehouse)},
        )
        if completed.returncode != 0:
            raise QueryError(f"Spark query failed:\n{completed.stderr.strip()[-4000:]}")
        return {name: pq.read_table(Path(scratch) / f"{index}.parquet") for index, name in enumerate(queries)}


def _query_worker(warehouse: Path, request: Path, out_dir: Path) -> None:
    """The child process of :func:`query`: one Hive-enabled session, one Parquet file per query."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.enableHiveSupport()
    for key, value in session_conf(warehouse).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    try:
        for index, sql in enumerate(json.loads(request.read_text()).values()):
            pq.write_table(spark.sql(sql).toArrow(), out_dir / f"{index}.parquet")
    finally:
        spark.stop()


if __name__ == "__main__":
    _query_worker(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
