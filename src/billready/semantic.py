"""Read-only access to the built warehouse and the semantic layer (MetricFlow over the dbt YAML).

Every measure billready shows is compiled here from the metrics defined in
``models/marts/_semantic_models.yml``; nothing re-types a measure. The SQL a caller shows is the
SQL that ran: :meth:`Warehouse.query` executes exactly the string it returns in the result.
"""
from __future__ import annotations

import contextlib
import datetime
import json
import logging
import time
from collections.abc import Iterator
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


DIALECTS: dict[str, str] = {
    "DuckDB": "duckdb",
    "Snowflake": "snowflake",
    "BigQuery": "bigquery",
    "Postgres": "postgres",
    "Databricks / Spark": "databricks",
    "T-SQL": "tsql",
}
"""Dialects the SQL panels and ``billready query --dialect`` transpile to (label -> sqlglot name)."""


def transpile(sql: str, dialect: str) -> str:
    """DuckDB SQL rewritten for another warehouse's dialect (a sqlglot name or a DIALECTS label)."""
    target = DIALECTS.get(dialect, dialect)
    if target not in DIALECTS.values():
        raise QueryError(f"unknown dialect {dialect!r}; choose one of {', '.join(DIALECTS.values())}")
    try:
        return sqlglot.transpile(sql, read="duckdb", write=target, pretty=True)[0]
    except sqlglot.errors.SqlglotError as exc:
        raise QueryError(f"cannot transpile to {target}: {exc}") from exc


_READ_ONLY_ROOTS = (sqlglot.exp.Select, sqlglot.exp.Union, sqlglot.exp.Intersect, sqlglot.exp.Except)
_WRITING_NODES = (
    sqlglot.exp.Insert, sqlglot.exp.Update, sqlglot.exp.Delete, sqlglot.exp.Merge,
    sqlglot.exp.Create, sqlglot.exp.Drop, sqlglot.exp.Alter, sqlglot.exp.Copy,
    sqlglot.exp.Command, sqlglot.exp.Set, sqlglot.exp.Pragma, sqlglot.exp.Attach,
    sqlglot.exp.Detach, sqlglot.exp.Use, sqlglot.exp.Transaction, sqlglot.exp.Commit,
    sqlglot.exp.Rollback, sqlglot.exp.Into,
)


def ensure_read_only(sql: str) -> str:
    """Accept exactly one read-only statement (a query), or raise QueryError saying why not.

    This is the first guard; the second is the connection itself, opened read-only and without
    external access (no files, no ATTACH, no extensions).
    """
    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except sqlglot.errors.SqlglotError as exc:
        raise QueryError(f"cannot parse the statement: {exc}") from exc
    if len(statements) != 1:
        raise QueryError(f"give exactly one statement (got {len(statements)})")
    statement = statements[0]
    writing = next((node for node in statement.walk() if isinstance(node, _WRITING_NODES)), None)
    if writing is not None or not isinstance(statement, _READ_ONLY_ROOTS):
        kind = type(writing or statement).__name__.upper()
        raise QueryError(f"refused: billready sql runs read-only queries only (statement type: {kind})")
    return sql


@dataclass(frozen=True)
class MetricRequest:
    """A semantic request: a saved query by name, or metrics with group-by dimensions, filters,
    ordering and limit (filters, ordering and limit may also narrow a saved query)."""

    metrics: tuple[str, ...] = ()
    group_by: tuple[str, ...] = ()
    where: tuple[str, ...] = ()
    order_by: tuple[str, ...] = ()
    limit: int | None = None
    saved_query: str | None = None

    def describe(self) -> dict[str, Any]:
        """The request as plain data, for display next to its SQL."""
        described: dict[str, Any] = {}
        if self.saved_query:
            described["saved_query"] = self.saved_query
        if self.metrics:
            described["metrics"] = list(self.metrics)
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
    parameters: dict[str, Any] = field(default_factory=dict)
    """The bound parameters the SQL ran with (``$name`` in the text), for display beside it."""
    semantic: dict[str, Any] | None = None
    """The semantic request with a saved query's parameters spelled out (None for plain SQL)."""


class Warehouse:
    """A read-only connection to the warehouse's DuckDB file."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        # A refresh may publish (and prune) between reading current.json and opening the file:
        # then read the pointer again. Published snapshot files are never written after publish.
        for attempt in range(3):
            self.serving_dir = settings.serving_dir(directory)
            self.path = settings.database_path(directory)
            if not self.path.exists():
                if attempt < 2 and self.serving_dir != directory:
                    continue
                raise WarehouseError(
                    f"no warehouse in {directory} (nothing published yet): run `billready demo`, "
                    "or `billready refresh PATH` with a directory of Autotask exports"
                )
            try:
                # Readers see the warehouse and nothing else: no files, no extensions, no ATTACH.
                self.connection = duckdb.connect(
                    str(self.path), read_only=True, config={"enable_external_access": False}
                )
                break
            except duckdb.IOException as exc:
                if attempt < 2 and not self.path.exists():
                    continue
                raise WarehouseError(
                    f"cannot open {self.path} read-only: another process is writing to it; "
                    f"try again when it finishes ({exc})"
                ) from exc

    def query(self, sql: str, parameters: dict[str, Any] | None = None) -> QueryResult:
        """Run one statement with named bound parameters; return its rows with the SQL text itself."""
        started = time.perf_counter()
        with self._errors(sql):
            if parameters:
                frame = self.connection.execute(sql, parameters).fetchdf()
            else:
                frame = self.connection.execute(sql).fetchdf()
        elapsed = (time.perf_counter() - started) * 1000
        return QueryResult(sql=sql, frame=frame, elapsed_ms=elapsed, parameters=dict(parameters or {}))

    def stream(self, sql: str, parameters: dict[str, Any] | None = None, batch_size: int = 10_000) -> Any:
        """Run one statement and return a ``pyarrow.RecordBatchReader`` over its rows, in batches
        of at most ``batch_size``: for a caller that writes every row without holding them. The
        query runs, or fails, here; the reader holds the connection until it is read out or
        closed (use it as a context manager)."""
        with self._errors(sql):
            return self.connection.sql(sql, params=parameters or None).to_arrow_reader(batch_size)

    @contextlib.contextmanager
    def _errors(self, sql: str) -> Iterator[None]:
        """Translate DuckDB's errors: a missing table means an unbuilt warehouse."""
        try:
            yield
        except duckdb.CatalogException as exc:
            raise WarehouseError(
                f"the warehouse {self.path} has not been built (missing table): run `billready build` ({exc})"
            ) from exc
        except duckdb.Error as exc:
            raise QueryError(f"query failed: {exc}\n{sql}") from exc

    def built_at(self) -> datetime.datetime | None:
        """When dbt last built this warehouse (UTC), from its run_results.json; None if unknown."""
        path = self.serving_dir / "target" / "run_results.json"
        try:
            generated = json.loads(path.read_text())["metadata"]["generated_at"]
        except (OSError, KeyError, ValueError):
            return None
        return datetime.datetime.fromisoformat(generated.replace("Z", "+00:00"))

    def landed_at(self) -> datetime.datetime | None:
        """When data was last landed (UTC): the newest load in raw_autotask._load_log."""
        try:
            row = self.connection.execute("select max(loaded_at) from raw_autotask._load_log").fetchone()
        except duckdb.Error:
            return None
        value = row[0] if row else None
        return value.replace(tzinfo=datetime.timezone.utc) if value is not None else None

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


_COMPILED: dict[tuple[Any, ...], str] = {}
"""Compiled SQL by (semantic manifest file, request), shared by every SemanticLayer of the process:
a published snapshot's manifest never changes, so a request always compiles to the same text, and
MetricFlow takes 10-30 ms per compile (a report page asks about fifteen times per render)."""
_COMPILED_MAX = 2000


class SemanticLayer:
    """Compiles metric requests to SQL with MetricFlow; runs them on the warehouse when given one.

    Compiling needs only the semantic manifest dbt wrote, so ``billready query --explain`` never
    opens the DuckDB file.
    """

    def __init__(self, directory: Path, warehouse: Warehouse | None = None) -> None:
        from metricflow.engine.metricflow_engine import MetricFlowEngine
        from metricflow_semantics.model.dbt_manifest_parser import (
            parse_manifest_from_dbt_generated_manifest,
        )
        from metricflow_semantics.model.semantic_manifest_lookup import SemanticManifestLookup

        self.directory = directory
        self.warehouse = warehouse
        # The manifest of the very snapshot the warehouse connection reads (not a newer one).
        base = warehouse.serving_dir if warehouse is not None else settings.serving_dir(directory)
        manifest_path = base / "target" / "semantic_manifest.json"
        if not manifest_path.exists():
            raise WarehouseError(
                f"no semantic manifest at {manifest_path}: run `billready build` first"
            )
        self.manifest = parse_manifest_from_dbt_generated_manifest(manifest_path.read_text())
        self._engine = MetricFlowEngine(
            semantic_manifest_lookup=SemanticManifestLookup(self.manifest),
            sql_client=_DuckDbSqlClient(),
        )
        stat = manifest_path.stat()
        self._manifest_key = (str(manifest_path.resolve()), stat.st_mtime_ns, stat.st_size)

    def saved_query_names(self) -> list[str]:
        return sorted(saved.name for saved in self.manifest.saved_queries)

    def describe(self, request: MetricRequest) -> dict[str, Any]:
        """The request as plain data; a saved query's own metrics, group-by, filters and order too."""
        described = request.describe()
        if request.saved_query:
            saved = self._saved_query(request.saved_query)
            params = saved.query_params
            described["metrics"] = list(params.metrics)
            if params.group_by:
                described["group_by"] = list(params.group_by)
            wheres = [w.where_sql_template for w in params.where.where_filters] if params.where else []
            if wheres or request.where:
                described["where"] = wheres + list(request.where)
            if params.order_by and not request.order_by:
                described["order_by"] = list(params.order_by)
            if params.limit is not None and request.limit is None:
                described["limit"] = params.limit
        return described

    def describe_saved_query(self, name: str) -> dict[str, Any]:
        """A saved query's name, label, description and parameters."""
        saved = self._saved_query(name)
        return {
            "name": saved.name,
            "label": saved.label,
            "description": saved.description,
            **{k: v for k, v in self.describe(MetricRequest(saved_query=name)).items() if k != "saved_query"},
        }

    def _saved_query(self, name: str) -> Any:
        for saved in self.manifest.saved_queries:
            if saved.name == name:
                return saved
        raise QueryError(
            f"no saved query named {name!r}; saved queries: {', '.join(self.saved_query_names())}"
        )

    def compile(self, request: MetricRequest) -> str:
        """The formatted DuckDB SQL MetricFlow generates for a request."""
        key = (*self._manifest_key, request)
        if key not in _COMPILED:
            if len(_COMPILED) >= _COMPILED_MAX:
                _COMPILED.clear()
            _COMPILED[key] = self._compile(request)
        return _COMPILED[key]

    def _compile(self, request: MetricRequest) -> str:
        from metricflow.engine.metricflow_engine import MetricFlowQueryRequest

        if request.saved_query:
            self._saved_query(request.saved_query)
        elif not request.metrics:
            raise QueryError("a request names at least one metric or a saved query")
        mf_request = MetricFlowQueryRequest.create(
            saved_query_name=request.saved_query,
            metric_names=list(request.metrics) or None,
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

    def _run(self, request: MetricRequest, sql: str) -> QueryResult:
        if self.warehouse is None:
            raise QueryError("this semantic layer compiles only; open a Warehouse to run queries")
        result = self.warehouse.query(sql)
        result.request = request
        result.semantic = self.describe(request)
        return result

    def query(self, request: MetricRequest) -> QueryResult:
        """Compile a request and run it; the result carries the SQL that ran."""
        return self._run(request, self.compile(request))

    def compile_wrapped(self, request: MetricRequest, outer_sql: str | None = None) -> str:
        """A request's SQL, optionally inside a presentation query over its output.

        ``outer_sql`` reads the metric output as the CTE ``metric_query`` (shares of a total,
        labels from a seed). The metric itself is still MetricFlow's; the whole statement is
        formatted once, and that text is what runs and what is shown.
        """
        compiled = self.compile(request)
        if outer_sql is None:
            return compiled
        return format_sql(f"with metric_query as (\n{compiled}\n)\n{outer_sql}")

    def list_metrics(self) -> list[dict[str, Any]]:
        """Every metric with its label, type, description and the dimensions it can be grouped by."""
        listed = []
        for metric in sorted(self._engine.list_metrics(include_dimensions=True), key=lambda m: m.name):
            listed.append(
                {
                    "name": metric.name,
                    "label": metric.label,
                    "type": str(metric.type.value),
                    "description": metric.description,
                    "dimensions": sorted(
                        {dimension.granularity_free_dunder_name for dimension in metric.dimensions}
                    ),
                }
            )
        return listed

    def list_dimensions(self) -> list[dict[str, Any]]:
        """Every dimension (qualified, as group-by takes it) with its description."""
        seen: dict[str, dict[str, Any]] = {}
        for dimension in self._engine.list_dimensions():
            seen.setdefault(
                dimension.granularity_free_dunder_name,
                {
                    "name": dimension.granularity_free_dunder_name,
                    "type": str(dimension.type.value),
                    "description": dimension.description,
                },
            )
        return [seen[name] for name in sorted(seen)]
