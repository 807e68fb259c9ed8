"""Read-only access to the built warehouse and the semantic layer (MetricFlow over the dbt YAML).

Every measure billready shows is compiled here from the metrics defined in
``models/marts/_semantic_models.yml``; nothing re-types a measure. The SQL a caller shows is the
SQL that ran: :meth:`Warehouse.query` executes exactly the string it returns in the result.
"""
from __future__ import annotations

import datetime
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import sqlglot

from billready import settings
from billready.errors import QueryError, WarehouseError

logger = logging.getLogger(__name__)


def format_sql(sql: str) -> str:
    """Pretty-print DuckDB SQL with sqlglot (the formatted text is what runs)."""
    return sqlglot.transpile(sql, read="duckdb", write="duckdb", pretty=True)[0]


@dataclass(frozen=True)
class MetricRequest:
    """A semantic request: metrics, group-by dimensions, filters, ordering and limit."""

    metrics: tuple[str, ...]
    group_by: tuple[str, ...] = ()
    where: tuple[str, ...] = ()
    order_by: tuple[str, ...] = ()
    limit: int | None = None

    def describe(self) -> dict[str, Any]:
        """The request as plain data, for display next to its SQL."""
        described: dict[str, Any] = {"metrics": list(self.metrics)}
        if self.group_by:
            described["group_by"] = list(self.group_by)
        if self.where:
            described["where"] = list(self.where)
        if self.order_by:
            described["order_by"] = list(self.order_by)
        if self.limit is not None:
            described["limit"] = self.limit
        return described


@dataclass
class QueryResult:
    """Rows, and exactly the SQL that produced them."""

    sql: str
    frame: pd.DataFrame
    elapsed_ms: float
    request: MetricRequest | None = None
    parameters: list[Any] = field(default_factory=list)


class Warehouse:
    """A read-only connection to the warehouse's DuckDB file."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = settings.database_path(directory)
        if not self.path.exists():
            raise WarehouseError(
                f"no warehouse at {self.path}: run `billready demo`, or `billready ingest PATH` "
                "and `billready build` first"
            )
        try:
            self.connection = duckdb.connect(str(self.path), read_only=True)
        except duckdb.IOException as exc:
            raise WarehouseError(
                f"cannot open {self.path} read-only: another process is writing to it "
                f"(ingest or build); try again when it finishes ({exc})"
            ) from exc

    def query(self, sql: str, parameters: list[Any] | None = None) -> QueryResult:
        """Run one statement and return its rows with the SQL text itself."""
        started = time.perf_counter()
        try:
            frame = self.connection.execute(sql, parameters or []).fetchdf()
        except duckdb.CatalogException as exc:
            raise WarehouseError(
                f"the warehouse {self.path} has not been built (missing table): run `billready build` ({exc})"
            ) from exc
        except duckdb.Error as exc:
            raise QueryError(f"query failed: {exc}\n{sql}") from exc
        elapsed = (time.perf_counter() - started) * 1000
        return QueryResult(sql=sql, frame=frame, elapsed_ms=elapsed, parameters=list(parameters or []))

    def built_at(self) -> datetime.datetime | None:
        """When dbt last built this warehouse (UTC), from its run_results.json; None if unknown."""
        path = settings.dbt_target_dir(self.directory) / "run_results.json"
        try:
            generated = json.loads(path.read_text())["metadata"]["generated_at"]
        except (OSError, KeyError, ValueError):
            return None
        return datetime.datetime.fromisoformat(generated.replace("Z", "+00:00"))

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class _DuckDbSqlClient:
    """The part of MetricFlow's SqlClient protocol the engine needs to render DuckDB SQL.

    billready only asks MetricFlow to *compile* (explain); the warehouse runs the SQL itself, so
    the execution methods refuse.
    """

    def __init__(self) -> None:
        from metricflow.sql.render.duckdb_renderer import DuckDbSqlPlanRenderer

        self._renderer = DuckDbSqlPlanRenderer()

    @property
    def sql_engine_type(self) -> Any:
        from metricflow.protocols.sql_client import SqlEngine

        return SqlEngine.DUCKDB

    @property
    def sql_plan_renderer(self) -> Any:
        return self._renderer

    def query(self, stmt: str, sql_bind_parameter_set: Any = None) -> Any:
        raise NotImplementedError("billready compiles with MetricFlow and runs SQL on the warehouse")

    execute = query
    dry_run = query

    def close(self) -> None:
        return None

    def render_bind_parameter_key(self, bind_parameter_key: str) -> str:
        return f"${bind_parameter_key}"


class SemanticLayer:
    """Compiles metric requests to SQL with MetricFlow and runs them on the warehouse."""

    def __init__(self, warehouse: Warehouse) -> None:
        from metricflow.engine.metricflow_engine import MetricFlowEngine
        from metricflow_semantics.model.dbt_manifest_parser import (
            parse_manifest_from_dbt_generated_manifest,
        )
        from metricflow_semantics.model.semantic_manifest_lookup import SemanticManifestLookup

        self.warehouse = warehouse
        manifest_path = settings.semantic_manifest_path(warehouse.directory)
        if not manifest_path.exists():
            raise WarehouseError(
                f"no semantic manifest at {manifest_path}: run `billready build` first"
            )
        self.manifest = parse_manifest_from_dbt_generated_manifest(manifest_path.read_text())
        self._engine = MetricFlowEngine(
            semantic_manifest_lookup=SemanticManifestLookup(self.manifest),
            sql_client=_DuckDbSqlClient(),
        )

    def compile(self, request: MetricRequest) -> str:
        """The formatted DuckDB SQL MetricFlow generates for a request."""
        from metricflow.engine.metricflow_engine import MetricFlowQueryRequest

        mf_request = MetricFlowQueryRequest.create(
            metric_names=list(request.metrics),
            group_by_names=list(request.group_by) or None,
            where_constraints=list(request.where) or None,
            order_by_names=list(request.order_by) or None,
            limit=request.limit,
        )
        try:
            explained = self._engine.explain(mf_request)
        except Exception as exc:  # MetricFlow raises many unrelated types for a bad request
            raise QueryError(f"MetricFlow cannot compile {request.describe()}: {exc}") from exc
        return format_sql(explained.sql_statement.sql)

    def query(self, request: MetricRequest) -> QueryResult:
        """Compile a request and run it; the result carries the SQL that ran."""
        result = self.warehouse.query(self.compile(request))
        result.request = request
        return result

    def query_wrapped(self, request: MetricRequest, outer_sql: str) -> QueryResult:
        """Run a presentation query over a metric query's output.

        ``outer_sql`` reads the metric output as the CTE ``metric_query`` (shares of a total,
        labels from a seed). The metric itself is still MetricFlow's; the whole statement is
        formatted once and that text is what runs and what is shown.
        """
        sql = format_sql(f"with metric_query as (\n{self.compile(request)}\n)\n{outer_sql}")
        result = self.warehouse.query(sql)
        result.request = request
        return result
