"""Land an Autotask export directory in the DuckDB warehouse (schema ``raw_autotask``).

The contract is docs/architecture.md ("The raw layer"): one table per entity with the catalogue's
camelCase columns and DuckDB types, export columns the catalogue lacks kept as VARCHAR,
``_loaded_at`` and ``_source_file`` on every row, re-landing as an upsert on the record key
that leaves unchanged records (``_loaded_at`` included) as they are.

A load runs in three steps:

1. :func:`discover_exports` names every export file and rejects unknown or doubled ones.
2. Each file is staged in a private in-memory DuckDB database (memory limit, threads and a spill
   directory beside the warehouse from the environment, as ``profiles.yml`` sets them for dbt),
   validated with set-based SQL (the first bad row of every column in one scan) and typed with
   the same SQL conversions. CSV (``read_csv``) and JSON (through Python) are staged as all-VARCHAR
   tables. Parquet is read where it lies: a column whose type already is (or converts losslessly
   to) the catalogue's is read typed, any other is rendered as the text a CSV export would hold and
   converted like CSV; the typed records stay a view over the file. Only keys that occur twice
   are deduplicated (the last row wins).
3. Only when every file is valid is the warehouse attached; then every table is created, widened
   and upserted, and the load logged, in one transaction, so a failure leaves it as it was.

:func:`land_sources` runs steps 2 and 3 for any sources: export files, or documents already in
memory (:class:`DocumentSource`, e.g. the pages ``billready pull`` read from the REST API). It can
also skip records that did not change, mark records a complete source lacks as deleted
(``_deleted_at``), and write bookkeeping rows (:class:`StateRows`) in the same transaction.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import re
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from billready.autotask import (
    ENTITIES,
    PICKLISTS,
    RAW_SCHEMA,
    Entity,
    entity_aliases,
    find_entity,
)
from billready.errors import InputError, WarehouseError

__all__ = [
    "DocumentSource",
    "ExportFile",
    "IngestReport",
    "LandedCounts",
    "Landing",
    "Source",
    "StateRows",
    "discover_exports",
    "ingest_directory",
    "land_sources",
]

logger = logging.getLogger(__name__)

METADATA_COLUMNS: dict[str, str] = {
    "_loaded_at": "TIMESTAMP",
    "_source_file": "VARCHAR",
    "_deleted_at": "TIMESTAMP",  # set when a complete source no longer holds the record
}
LOAD_LOG_TABLE = "_load_log"
LOAD_LOG_COLUMNS: dict[str, str] = {
    "load_id": "VARCHAR",
    "loaded_at": "TIMESTAMP",
    "source_dir": "VARCHAR",
    "entity": "VARCHAR",
    "source_file": "VARCHAR",
    "row_count": "BIGINT",
}
MEMORY_LIMIT_ENV = "BILLREADY_DUCKDB_MEMORY_LIMIT"  # as profiles.yml reads them for dbt
THREADS_ENV = "BILLREADY_DUCKDB_THREADS"
DBT_THREADS_ENV = "BILLREADY_THREADS"  # the default of THREADS_ENV
DEFAULT_MEMORY_LIMIT = "3GB"  # as profiles.yml: the process tree stays under 4 GiB
DEFAULT_THREADS = "2"
EXPORT_SUFFIXES = (".csv", ".json", ".parquet")
FIELDS_SUFFIX = ".fields"
_WAREHOUSE = "wh"  # the warehouse's alias once attached to the staging connection

Connection = duckdb.DuckDBPyConnection


@dataclass(frozen=True)
class IngestReport:
    """What one :func:`ingest_directory` call landed.

    ``rows`` maps every entity name, and ``Picklists``, to the records landed from this export
    (one per key: the last row wins; 0 when the entity had no file). ``extra_columns`` maps an
    entity to the export columns its catalogue lacks, kept as VARCHAR.
    """

    load_id: str
    loaded_at: datetime
    source_dir: Path
    database: Path
    files: tuple[str, ...]
    rows: dict[str, int]
    extra_columns: dict[str, tuple[str, ...]]

    @property
    def total_rows(self) -> int:
        """Records landed across all entities and picklists."""
        return sum(self.rows.values())

    def summary(self) -> str:
        """A few lines for the command line: totals, records per entity, extra columns."""
        lines = [
            f"landed {self.total_rows:,} records from {len(self.files)} files in "
            f"{self.source_dir} into {self.database}"
        ]
        width = max(len(name) for name in self.rows)
        lines += [f"  {name:<{width}}  {count:>9,}" for name, count in self.rows.items()]
        lines += [
            f"  {name}: kept extra columns {', '.join(columns)}"
            for name, columns in self.extra_columns.items()
        ]
        return "\n".join(lines)


@dataclass(frozen=True)
class ExportFile:
    """One export file and the raw table (``target``) it lands in.

    ``kind`` is ``csv``, ``parquet``, ``json`` or ``fields``: an ``<Entity>.fields.json``
    entityInformation response, whose picklists belong to ``subject``.
    """

    path: Path
    target: Entity
    kind: str
    subject: Entity | None = None

    @property
    def name(self) -> str:
        """The file name, as errors and ``_source_file`` show it."""
        return self.path.name

    def error(
        self, message: str, *, row: int | None = None, field: str | None = None
    ) -> InputError:
        """An :class:`InputError` located in this file."""
        return InputError(message, file=self.name, row=row, field=field)


@dataclass(frozen=True)
class DocumentSource:
    """Records already in memory, landed like a JSON export file named ``name``.

    ``kind`` is ``json`` (``document`` is a query response ``{"items": [...]}``, a list of them, or
    a list of records) or ``fields`` (an entityInformation/fields response of ``subject``, landing
    in the picklists). ``name`` locates errors and is stored as ``_source_file``.

    ``complete`` says the document holds every live record of its table (for picklists: every
    value of ``subject``'s fields): a landed record it lacks gets ``_deleted_at``. A ``keys_only``
    document lists the keys of live records; it only serves that reconciliation and never lands.
    """

    name: str
    target: Entity
    document: Any
    kind: str = "json"
    subject: Entity | None = None
    complete: bool = False
    keys_only: bool = False

    def error(
        self, message: str, *, row: int | None = None, field: str | None = None
    ) -> InputError:
        """An :class:`InputError` located in this source."""
        return InputError(message, file=self.name, row=row, field=field)


#: Anything :func:`land_sources` lands: an export file or a document held in memory.
Source = ExportFile | DocumentSource


@dataclass(frozen=True)
class StateRows:
    """Bookkeeping rows (e.g. pull watermarks) written in the same transaction as the data.

    ``raw_autotask.<table>`` is created with ``columns`` if missing; each row replaces the row
    with the same ``key`` values.
    """

    table: str
    columns: dict[str, str]
    key: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]


@dataclass(frozen=True)
class LandedCounts:
    """What one landing did to one raw table (picklists: to one entity's values).

    ``received`` records were staged (the last per key); of those, ``inserted`` were new,
    ``updated`` replaced a landed record (or brought a deleted one back), ``unchanged`` were
    skipped because the landed record was identical (only when skipping is asked for).
    ``deleted`` landed records were marked ``_deleted_at`` because a complete source lacked them.
    """

    received: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0

    def __add__(self, other: LandedCounts) -> LandedCounts:
        return LandedCounts(
            self.received + other.received,
            self.inserted + other.inserted,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
            self.deleted + other.deleted,
        )


@dataclass(frozen=True)
class Landing:
    """What one :func:`land_sources` call landed.

    ``rows`` maps every entity name, and ``Picklists``, to the records received (0 when no source
    held it); ``counts`` maps the same names to :class:`LandedCounts`; ``extra_columns`` maps an
    entity to the columns its catalogue lacks, kept as VARCHAR. ``sources`` names the sources
    that landed records (keys-only sources excluded).
    """

    load_id: str
    loaded_at: datetime
    database: Path
    sources: tuple[str, ...]
    rows: dict[str, int]
    counts: dict[str, LandedCounts]
    extra_columns: dict[str, tuple[str, ...]]


@dataclass(frozen=True)
class _Staged:
    """A validated, typed source: a table of the staging database, or (``view``) a view reading
    a Parquet file where it lies (until comparing it with the landed records makes it a table).
    Either has the raw columns and ``_row``, the row in the file."""

    export: Source
    table: str
    columns: tuple[str, ...]
    row_count: int
    view: bool = False
    file_signature: tuple[int, int] | None = None
    """A view's Parquet file's size and modification time when it was validated."""

    @property
    def extra_columns(self) -> tuple[str, ...]:
        """Columns the target's catalogue does not list."""
        return tuple(c for c in self.columns if self.export.target.field(c) is None)


# ------------------------------------------------------------------------------------------------
# Entry points


def ingest_directory(path: Path, database: Path, *, now: datetime | None = None) -> IngestReport:
    """Validate every export file in ``path`` and land them all in ``database``, atomically.

    ``now`` (default: the current time) is stamped as ``_loaded_at``, in UTC, on the records that
    are new or changed: a record identical to the landed one is left as it is (``_loaded_at``
    included), so ``_loaded_at`` says when a record last changed, which the incremental dbt models
    rely on (docs/architecture.md, "Incremental builds"). Raises
    :class:`InputError` for the first problem in the export, before anything is written, and
    :class:`WarehouseError` when the warehouse cannot be opened for writing.
    """
    directory, database = Path(path), Path(database)
    exports = discover_exports(directory)
    landing = land_sources(
        exports, database, origin=str(directory.resolve()), now=now, skip_unchanged=True
    )
    report = IngestReport(
        load_id=landing.load_id,
        loaded_at=landing.loaded_at,
        source_dir=directory,
        database=database,
        files=landing.sources,
        rows=landing.rows,
        extra_columns=landing.extra_columns,
    )
    logger.info("%s", report.summary().splitlines()[0])
    return report


def land_sources(
    sources: Iterable[Source],
    database: Path,
    *,
    origin: str,
    now: datetime | None = None,
    skip_unchanged: bool = False,
    state: Iterable[StateRows] = (),
) -> Landing:
    """Validate and type every source, then land them all in ``database`` in one transaction.

    ``origin`` is recorded as ``_load_log.source_dir`` (a directory, or the API's REST root).
    ``now`` (default: the current time) is stamped as ``_loaded_at`` and, on records a complete
    source lacks, ``_deleted_at``. With ``skip_unchanged``, a received record identical to the
    landed one (every column but the metadata) is left as it is, ``_loaded_at`` included.
    ``state`` rows are written in the same transaction.

    Raises :class:`InputError` for the first bad value, before anything is written, and
    :class:`WarehouseError` when the warehouse cannot be opened for writing.
    """
    database = Path(database)
    loaded_at = _utc_naive(now)
    load_id = uuid.uuid4().hex
    with _spill_directory(database) as spill:
        con = _staging_connection(spill)
        try:
            staged = [
                _stage(con, source, f"stage_{i}", loaded_at) for i, source in enumerate(sources)
            ]
            log_rows = _load_log_rows(load_id, loaded_at, origin, staged)
            counts = _write_warehouse(
                con,
                database,
                staged,
                log_rows,
                loaded_at=loaded_at,
                skip_unchanged=skip_unchanged,
                state=tuple(state),
            )
        finally:
            con.close()  # frees every staged record before the caller goes on
    return _landing(load_id, loaded_at, database, staged, counts)


def discover_exports(directory: Path) -> list[ExportFile]:
    """Return the export files of ``directory`` in load order (file name, ignoring case).

    A ``.csv``/``.json``/``.parquet`` file must be named after an entity (plural, singular or table
    name, any case), ``Picklists``, or ``<Entity>.fields`` (JSON only). Other files and dot files
    are ignored.
    """
    if not directory.is_dir():
        raise InputError("export directory not found", file=str(directory))
    paths = sorted(
        (
            p
            for p in directory.iterdir()
            if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in EXPORT_SUFFIXES
        ),
        key=lambda p: (p.name.lower(), p.name),
    )
    if not paths:
        raise InputError(
            "no export files found (expected <Entity>.csv, .json or .parquet, e.g. Contracts.csv)",
            file=directory.name or str(directory),
        )
    exports = [_classify(p) for p in paths]
    _reject_doubles(exports)
    return exports


# ------------------------------------------------------------------------------------------------
# Discovery


def _classify(path: Path) -> ExportFile:
    """Name the raw table an export file lands in, or reject the file."""
    stem, kind = path.stem, path.suffix.lower().lstrip(".")
    if stem.lower() == PICKLISTS.name.lower():
        return ExportFile(path, PICKLISTS, kind)
    if kind == "json" and stem.lower().endswith(FIELDS_SUFFIX):
        subject = find_entity(stem[: -len(FIELDS_SUFFIX)])
        if subject is not None:
            return ExportFile(path, PICKLISTS, "fields", subject)
    entity = find_entity(stem)
    if entity is None:
        raise InputError(
            "not a known export file (expected <Entity>.csv, .json or .parquet for one of "
            f"{', '.join(ENTITIES)}; Picklists.csv, .json or .parquet; or <Entity>.fields.json)",
            file=path.name,
        )
    return ExportFile(path, entity, kind)


def _reject_doubles(exports: list[ExportFile]) -> None:
    """Reject two files holding the same data (e.g. Contracts.csv and Contracts.json)."""
    seen: dict[tuple[str, str | None], ExportFile] = {}
    for export in exports:
        subject = export.subject.name if export.subject else None
        first = seen.setdefault((export.target.name, subject), export)
        if first is not export:
            what = f"the {subject} picklists" if subject else export.target.name
            raise export.error(f"{first.name} also holds {what}; keep one file per entity")


# ------------------------------------------------------------------------------------------------
# Staging: each export file becomes validated, typed records (a table, or a view over Parquet)


@contextmanager
def _spill_directory(database: Path) -> Iterator[Path]:
    """A temporary directory DuckDB may spill to, beside the warehouse (same disk) when its
    directory exists; removed afterwards."""
    parent = database.parent if database.parent.is_dir() else None
    with tempfile.TemporaryDirectory(
        prefix=".billready-ingest-", dir=parent, ignore_cleanup_errors=True
    ) as spill:
        yield Path(spill)


def _duckdb_limits() -> dict[str, str]:
    """DuckDB's memory limit and threads from the environment, with profiles.yml's defaults."""
    threads = os.environ.get(THREADS_ENV) or os.environ.get(DBT_THREADS_ENV) or DEFAULT_THREADS
    return {
        "memory_limit": os.environ.get(MEMORY_LIMIT_ENV) or DEFAULT_MEMORY_LIMIT,
        "threads": threads,
    }


def _staging_connection(spill: Path) -> Connection:
    """An in-memory DuckDB connection in UTC, with the picklist alias tables, limited to the
    environment's memory and threads and spilling to ``spill`` beyond the memory limit."""
    limits = _duckdb_limits()
    try:
        con = duckdb.connect(config={**limits, "temp_directory": str(spill)})
    except duckdb.Error as exc:
        raise WarehouseError(
            f"DuckDB refused memory limit {limits['memory_limit']!r} or {limits['threads']!r} "
            f"threads (set {MEMORY_LIMIT_ENV}, e.g. 3GB, and {THREADS_ENV} or {DBT_THREADS_ENV}, "
            f"e.g. 2): {str(exc).splitlines()[0]}"
        ) from None
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    entities = [{"alias": alias, "entity": name} for alias, name in entity_aliases().items()]
    fields = [
        {"entity": entity.name, "alias": field.name.lower(), "field": field.name}
        for entity in ENTITIES.values()
        for field in entity.fields
    ]
    _create_from_records(con, "_entity_alias", entities, ["alias", "entity"])
    _create_from_records(con, "_field_alias", fields, ["entity", "alias", "field"])
    return con


def _create_from_records(
    con: Connection, table: str, records: list[dict[str, Any]], columns: list[str]
) -> None:
    """Create a VARCHAR table from Python records (missing keys become NULL)."""
    schema = pa.schema([(column, pa.string()) for column in columns])
    con.register(f"{table}_arrow", pa.Table.from_pylist(records, schema=schema))
    try:
        con.execute(f"CREATE TABLE {_q(table)} AS SELECT * FROM {_q(table + '_arrow')}")
    finally:
        con.unregister(f"{table}_arrow")


def _stage(con: Connection, export: Source, table: str, loaded_at: datetime) -> _Staged:
    """Stage, validate and type one export file as ``table`` (a view over a Parquet file read
    where it lies, else a table), the last row per key."""
    rows = _STAGERS[export.kind](con, export, f"{table}_text")
    try:
        _validate(con, export, rows)
        typed = _typed_select(export, rows, loaded_at)
        if rows.copy is None:
            con.execute(f"CREATE VIEW {table} AS {typed}")
        else:
            con.execute(f"CREATE TABLE {table} AS {typed}")
            con.execute(f"DROP TABLE {rows.copy}")
        row_count, view = _deduplicate(con, export, table, view=rows.copy is None)
    except duckdb.Error as exc:
        if export.kind != "parquet":
            raise
        raise _unreadable(export, exc) from None
    signature = _file_signature(export) if view else None
    staged = _Staged(export, table, tuple(rows.columns), row_count, view, signature)
    typed_columns = [name for name, column in rows.columns.items() if column.typed]
    logger.debug(
        "%s: %d record(s) staged as a %s; %d column(s) read typed%s",
        export.name,
        row_count,
        "view" if view else "table",
        len(typed_columns),
        f" ({', '.join(typed_columns)})" if typed_columns else "",
    )
    if staged.extra_columns:
        logger.info(
            "%s: keeping %d column(s) the Autotask catalogue lacks, as VARCHAR: %s",
            export.name,
            len(staged.extra_columns),
            ", ".join(staged.extra_columns),
        )
    return staged


def _unreadable(export: Source, exc: duckdb.Error) -> InputError:
    """The InputError for a Parquet file whose data DuckDB could not read."""
    return export.error(f"unreadable Parquet data ({str(exc).splitlines()[0]})")


def _deduplicate(con: Connection, export: Source, table: str, *, view: bool) -> tuple[int, bool]:
    """Keep the last row (by ``_row``) of every key occurring more than once in ``table``.

    Returns the records left and whether ``table`` is still a view. Keys strictly increasing in
    row order (one ordered pass), or all distinct (one hash pass), leave ``table`` as it is; else
    a view is first copied into a table, and only the rows of repeated keys are looked at.
    """
    key = ", ".join(_q(k) for k in export.target.key)
    (total, unordered) = _first(
        con,
        f"SELECT count(*), count(*) FILTER (WHERE ({key}) <= _previous) FROM "
        f"(SELECT {key}, lag(({key})) OVER (ORDER BY _row) AS _previous FROM {table})",
    )
    if not unordered:
        return total, view
    (distinct,) = _first(con, f"SELECT count(*) FROM (SELECT DISTINCT {key} FROM {table})")
    if distinct == total:
        return total, view
    if view:
        _restage(con, table, f"SELECT * FROM {table}", view=True)
    match = " AND ".join(f"t.{_q(k)} = d.{_q(k)}" for k in export.target.key)
    (dropped,) = _first(
        con,
        f"DELETE FROM {table} AS t USING (SELECT {key}, max(_row) AS _keep FROM {table} "
        f"GROUP BY {key} HAVING count(*) > 1) AS d WHERE {match} AND t._row <> d._keep",
    )
    logger.info("%s: %d row(s) replaced by a later row of the same key", export.name, dropped)
    return total - dropped, False


def _restage(con: Connection, table: str, query: str, *, view: bool) -> int:
    """Replace the staged ``table`` (a view when ``view``) by a table of ``query``'s records,
    freeing what it held; returns the number of records."""
    (count,) = _first(con, f"CREATE TABLE {table}_next AS {query}")
    con.execute(f"DROP {'VIEW' if view else 'TABLE'} {table}")
    con.execute(f"ALTER TABLE {table}_next RENAME TO {table}")
    return count


@dataclass(frozen=True)
class _Column:
    """How one staged column is read.

    ``text`` is SQL for the value as the text a CSV export would hold (what errors quote),
    ``value`` SQL for the typed value, ``checks`` (SQL true for a bad value, message with
    ``{value}``) pairs. ``typed`` marks a Parquet column read in its own type, not through text;
    ``decode`` asks validation to read every value (to surface undecodable data before the warehouse
    is touched), for columns no check reads in full.
    """

    text: str
    value: str
    checks: tuple[tuple[str, str], ...]
    typed: bool = False
    decode: bool = False


@dataclass(frozen=True)
class _Rows:
    """The staged rows of one source, before validation and typing.

    ``source`` is a FROM item (aliased ``t``), ``row`` SQL for the 0-based row number in the
    file, ``columns`` maps raw-table column names (in order) to how they are read. ``copy``
    names the staging table ``source`` reads, dropped once the records are typed; None when
    ``source`` reads the export file itself.
    """

    source: str
    row: str
    columns: dict[str, _Column]
    copy: str | None


def _text_rows(export: Source, table: str, columns: list[str]) -> _Rows:
    """The rows of an all-VARCHAR staging table, every column converted from text."""
    return _Rows(
        f"{table} t",
        "t.rowid",
        {column: _text_column(export.target, column, f"t.{_q(column)}") for column in columns},
        copy=table,
    )


def _text_column(target: Entity, column: str, text: str, *, decode: bool = False) -> _Column:
    """A column read as text (SQL ``text``) and converted like a CSV export's."""
    conversion = _conversion(target, column)
    value = conversion.convert(text) if conversion else text
    return _Column(text, value, tuple(_checks(target, column, text)), decode=decode)


class _ColumnNames:
    """Maps an export's column names onto raw-table column names, ignoring case.

    Catalogue fields take the catalogue's spelling; other columns keep their first spelling.
    """

    def __init__(self, export: Source) -> None:
        self._export = export
        self._by_lower: dict[str, str] = {}

    @property
    def columns(self) -> list[str]:
        """The resolved column names, in first-seen order."""
        return list(self._by_lower.values())

    def seen(self, name: str) -> bool:
        """Whether a column of this name (ignoring case) was resolved before."""
        return name.strip().lower() in self._by_lower

    def resolve(self, name: str) -> str:
        """Return the raw-table column for export column ``name``."""
        key = name.strip().lower()
        if key not in self._by_lower:
            self._by_lower[key] = self._new_column(name.strip())
        return self._by_lower[key]

    def _new_column(self, name: str) -> str:
        """Name a column not seen before, rejecting empty and reserved names."""
        if not name:
            raise self._export.error("a column has an empty name")
        if name.lower() in METADATA_COLUMNS:
            raise self._export.error("column name is reserved for billready", field=name)
        field = self._export.target.field(name)
        return field.name if field else name


def _stage_csv(con: Connection, export: ExportFile, table: str) -> _Rows:
    """Load a CSV file as text columns named after its resolved header."""
    names = _ColumnNames(export)
    for name in _read_csv_header(export):
        if names.seen(name):
            raise export.error(
                "duplicate column (column names are matched ignoring case)", field=name.strip()
            )
        names.resolve(name)
    columns = names.columns
    types = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(columns)))
    select = ", ".join(f"c{i} AS {_q(column)}" for i, column in enumerate(columns))
    try:
        con.execute(
            f"CREATE TABLE {table} AS SELECT {select} FROM read_csv({_lit(str(export.path))}, "
            f"header = true, auto_detect = false, columns = {{{types}}}, "
            "delim = ',', quote = '\"', escape = '\"')"
        )
    except duckdb.Error as exc:
        raise _csv_error(export, exc) from None
    return _text_rows(export, table, columns)


def _read_csv_header(export: ExportFile) -> list[str]:
    """Return the header row of a UTF-8 CSV file (a byte-order mark is allowed)."""
    try:
        with export.path.open(encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle), None)
    except UnicodeDecodeError:
        raise export.error("not UTF-8 text") from None
    except csv.Error as exc:
        raise export.error(f"malformed CSV header ({exc})") from None
    if not header:
        raise export.error("empty file (expected a header row of field names)")
    return header


def _csv_error(export: ExportFile, exc: duckdb.Error) -> InputError:
    """Translate a DuckDB CSV reader error into an InputError on the offending data row."""
    details = []
    for line in str(exc).splitlines():
        if line.startswith(("Possible", "  file = ")):
            break
        if line.strip() and "on Line:" not in line:  # the row is reported instead
            details.append(line.strip())
    match = re.search(r"on Line: (\d+)", str(exc))
    row = int(match.group(1)) - 1 if match else None  # the header is line 1
    return export.error(f"malformed CSV ({'; '.join(details)})", row=row)


def _stage_parquet(con: Connection, export: ExportFile, table: str) -> _Rows:
    """Read a Parquet file where it lies, each column typed when its type already is (or converts
    losslessly to) the catalogue's, else as the text a CSV export would hold.

    Rows are numbered by DuckDB's ``file_row_number``; a file with a column of that name is
    copied into ``table`` first, its rows numbered by ``rowid``.
    """
    source = f"read_parquet({_lit(str(export.path))})"
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
        file_names = pq.read_schema(export.path).names  # DuckDB renames duplicates
    except (duckdb.Error, pa.ArrowException) as exc:
        raise export.error(f"not a readable Parquet file ({str(exc).splitlines()[0]})") from None
    names = _ColumnNames(export)
    kinds: dict[str, tuple[str, str]] = {}
    for name, (column, kind, *_) in zip(file_names, described):
        if names.seen(name):
            raise export.error(
                "duplicate column (column names are matched ignoring case)", field=name.strip()
            )
        kinds[names.resolve(name)] = (column, str(kind))
    if not kinds:
        raise export.error("empty file (expected columns named after the entity's fields)")
    row, copy = "t.file_row_number", None
    if any(column.lower() == "file_row_number" for column, _ in kinds.values()):
        try:
            con.execute(f"CREATE TABLE {table} AS SELECT * FROM {source}")
        except duckdb.Error as exc:
            raise _unreadable(export, exc) from None
        source, row, copy = table, "t.rowid", table
    columns = {
        name: _parquet_column(export.target, name, f"t.{_q(column)}", kind)
        for name, (column, kind) in kinds.items()
    }
    return _Rows(f"{source} t", row, columns, copy)


_PARQUET_INTEGERS = frozenset(
    {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER"}
)
_PARQUET_FLOATS = frozenset({"FLOAT", "DOUBLE"})
_PARQUET_TIMES = frozenset({"TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "DATE"})
# Types whose values always decode and render: no need to read them in full during validation.
_PARQUET_SAFE = _PARQUET_INTEGERS | _PARQUET_FLOATS | _PARQUET_TIMES | {"BOOLEAN", "UBIGINT"}
# What the text path accepts as a date: years 1 to 9999 (others render as "(BC)" or 5 digits).
_TIMESTAMP_RANGE = "TIMESTAMP '0001-01-01' AND TIMESTAMP '9999-12-31 23:59:59.999999'"


def _parquet_column(target: Entity, column: str, ref: str, kind: str) -> _Column:
    """How to read Parquet column ``ref`` (DuckDB type ``kind``) into raw column ``column``.

    Typed when the value, and every check, equals what the text a CSV export would hold gives:
    integers as BIGINT or DOUBLE; FLOAT and DOUBLE as BIGINT when integral (else the text path's
    "is not an integer"), DOUBLE as DOUBLE (-0 as 0, as its text "0" reads); BOOLEAN; TIMESTAMP
    (up to microseconds), TIMESTAMP WITH TIME ZONE and DATE as TIMESTAMP in years 1 to 9999.
    Anything else (text holding numbers, DECIMAL, FLOAT as DOUBLE, nanoseconds, BLOB, nested
    values, and every VARCHAR column) is rendered as text and converted like CSV.
    """
    kind = kind.upper()
    text = _parquet_text(ref, kind)
    field = target.field(column)
    conversion = _CONVERSIONS.get(field.duckdb_type) if field else None
    typed = _parquet_typed(field.duckdb_type if field else "VARCHAR", ref, kind)
    if conversion is None or typed is None:
        return _text_column(target, column, text, decode=kind not in _PARQUET_SAFE)
    value, invalid = typed
    checks = []
    if column in target.key:  # a typed value renders as non-empty text unless NULL
        checks.append((f"{ref} IS NULL", _missing_key(target)))
    if invalid:
        checks.append((invalid, "{value!r} is not " + conversion.expected))
    return _Column(text, value, tuple(checks), typed=True)


def _parquet_typed(wanted: str, ref: str, kind: str) -> tuple[str, str | None] | None:
    """(SQL of the typed value, SQL true for a value the text path rejects, or None) reading
    ``ref`` of DuckDB type ``kind`` as ``wanted``; None when it must go through text."""
    if wanted == "BIGINT" and kind in _PARQUET_INTEGERS:
        return f"CAST({ref} AS BIGINT)", None
    if wanted == "BIGINT" and kind in _PARQUET_FLOATS:
        return f"TRY_CAST({ref} AS BIGINT)", f"NOT ({_integral(ref)})"
    if wanted == "DOUBLE" and kind in _PARQUET_INTEGERS:
        return f"CAST({ref} AS DOUBLE)", None
    if wanted == "DOUBLE" and kind == "DOUBLE":
        return f"({ref} + CAST(0 AS DOUBLE))", None  # -0.0 + 0.0 is 0.0
    if wanted == "BOOLEAN" and kind == "BOOLEAN":
        return ref, None
    if wanted == "TIMESTAMP" and kind in _PARQUET_TIMES:
        value = f"CAST({ref} AS TIMESTAMP)"  # the session time zone is UTC
        return value, f"{value} NOT BETWEEN {_TIMESTAMP_RANGE}"
    return None


def _integral(column: str) -> str:
    """SQL true when a FLOAT/DOUBLE/DECIMAL value renders as an integer (see _parquet_text)."""
    return f"isfinite({column}) AND abs({column}) < 1e18 AND {column} = trunc({column})"


def _parquet_text(column: str, kind: str) -> str:
    """SQL rendering one Parquet column (DuckDB type ``kind``) as export text."""
    kind = kind.upper()
    if kind.startswith(("FLOAT", "DOUBLE", "DECIMAL")):
        return (
            f"CASE WHEN {_integral(column)} THEN CAST(CAST({column} AS BIGINT) AS VARCHAR) "
            f"ELSE CAST({column} AS VARCHAR) END"
        )
    if kind == "BLOB":
        return f"decode({column})"  # strings written without the UTF-8 annotation
    if kind.endswith("[]") or kind.startswith(("STRUCT", "MAP", "UNION")):
        return f"CAST(to_json({column}) AS VARCHAR)"
    return f"CAST({column} AS VARCHAR)"


def _stage_json(con: Connection, export: Source, table: str) -> _Rows:
    """Load a JSON export (query response, list of responses, or list of records)."""
    return _stage_records(con, export, table, _json_records(export, _document(export)))


def _stage_fields(con: Connection, export: Source, table: str) -> _Rows:
    """Load the picklist values of an ``<Entity>.fields.json`` (entityInformation/fields)."""
    return _stage_records(con, export, table, _picklist_records(export, _document(export)))


# Keyed by ``kind``: file kinds take an ExportFile; json and fields any Source.
_STAGERS: dict[str, Callable[[Connection, Any, str], _Rows]] = {
    "csv": _stage_csv,
    "parquet": _stage_parquet,
    "json": _stage_json,
    "fields": _stage_fields,
}


def _document(source: Source) -> Any:
    """The parsed JSON of a source: a file's contents, or the document held in memory."""
    return source.document if isinstance(source, DocumentSource) else _read_json(source)


def _read_json(export: ExportFile) -> Any:
    """Parse a UTF-8 JSON file (a byte-order mark is allowed)."""
    try:
        return json.loads(export.path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        raise export.error("not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise export.error(
            f"malformed JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None


def _json_records(export: Source, document: Any) -> list[dict[str, Any]]:
    """Return the records of a query response, a list of responses, or a list of records."""
    if _is_page(document):
        pages = [document]
    elif isinstance(document, list) and document and all(_is_page(d) for d in document):
        pages = document
    elif isinstance(document, list):
        pages = [{"items": document}]
    else:
        raise export.error(
            'expected an API query response {"items": [...]}, a list of them, or a list of records'
        )
    records = [record for page in pages for record in page["items"]]
    for row, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            raise export.error("record is not a JSON object", row=row)
    return records


def _is_page(value: Any) -> bool:
    """Whether ``value`` looks like one API query response."""
    return isinstance(value, dict) and isinstance(value.get("items"), list)


def _picklist_records(export: Source, document: Any) -> list[dict[str, Any]]:
    """Flatten an entityInformation/fields response into picklist records."""
    fields = document.get("fields") if isinstance(document, dict) else None
    if not isinstance(fields, list) or not all(isinstance(f, dict) for f in fields):
        raise export.error('expected an entityInformation/fields response {"fields": [{...}]}')
    assert export.subject is not None
    records = []
    for field in fields:
        values = field.get("picklistValues") or []
        if not isinstance(values, list) or not all(isinstance(v, dict) for v in values):
            raise export.error("picklistValues is not a list of objects", field=field.get("name"))
        records += [
            {
                "entity": export.subject.name,
                "field": field.get("name"),
                "value": value.get("value"),
                "label": value.get("label"),
                "isActive": value.get("isActive"),
            }
            for value in values
        ]
    return records


def _stage_records(
    con: Connection, export: Source, table: str, records: list[dict[str, Any]]
) -> _Rows:
    """Load JSON records as text columns; the key columns always exist."""
    names = _ColumnNames(export)
    for key in export.target.key:
        names.resolve(key)
    rows = [_text_record(export, names, row, record) for row, record in enumerate(records, 1)]
    _create_from_records(con, table, rows, names.columns)
    return _text_rows(export, table, names.columns)


def _text_record(
    export: Source, names: _ColumnNames, row: int, record: dict[str, Any]
) -> dict[str, str | None]:
    """One JSON record with resolved column names and text values."""
    out: dict[str, str | None] = {}
    for key, value in record.items():
        column = names.resolve(key)
        if column in out:
            raise export.error(
                "duplicate field (field names are matched ignoring case)", row=row, field=key
            )
        out[column] = _text(value)
    return out


def _text(value: Any) -> str | None:
    """A JSON value as the text a CSV export would hold; arrays and objects as JSON text."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# ------------------------------------------------------------------------------------------------
# Validation and typing: one SQL conversion per DuckDB type serves both


@dataclass(frozen=True)
class _Conversion:
    """How trimmed, non-empty text becomes one DuckDB type (NULL when it cannot)."""

    sql: str  # an expression over {v}
    pattern: str | None  # when set, the text must fully match it (ignoring case)
    expected: str  # completes "'x' is not ..."

    def convert(self, text: str) -> str:
        """SQL converting the text expression ``text``; NULL when empty or invalid."""
        value = f"NULLIF(trim({text}), '')"
        converted = self.sql.format(v=value)
        if self.pattern is None:
            return converted
        matches = f"regexp_full_match({value}, {_lit(self.pattern)}, 'i')"
        return f"CASE WHEN {matches} THEN {converted} END"

    def invalid(self, text: str) -> str:
        """SQL true when ``text`` is not empty and does not convert."""
        return f"(NULLIF(trim({text}), '') IS NOT NULL AND {self.convert(text)} IS NULL)"


_CONVERSIONS: dict[str, _Conversion] = {
    "BIGINT": _Conversion("TRY_CAST({v} AS BIGINT)", r"[+-]?[0-9]+", "an integer"),
    "DOUBLE": _Conversion("TRY_CAST({v} AS DOUBLE)", None, "a number"),
    "BOOLEAN": _Conversion(
        "lower({v}) IN ('true', '1', 'yes')",
        r"true|false|1|0|yes|no",
        "a boolean (expected true/false, 1/0 or yes/no)",
    ),
    "TIMESTAMP": _Conversion(
        # The session time zone is UTC: an offset converts to UTC, no offset means UTC.
        "CAST(TRY_CAST(upper({v}) AS TIMESTAMPTZ) AS TIMESTAMP)",
        r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?)?",
        "a date (expected YYYY-MM-DD or an ISO 8601 timestamp)",
    ),
}


def _conversion(target: Entity, column: str) -> _Conversion | None:
    """The conversion of a column's text; None for VARCHAR (catalogue or extra) columns."""
    field = target.field(column)
    return _CONVERSIONS.get(field.duckdb_type) if field else None


def _validate(con: Connection, export: Source, rows: _Rows) -> None:
    """Raise an InputError for the first bad value of a staged source (by row, then column).

    The same scan reads every value of the columns marked ``decode``, so data DuckDB cannot
    decode (e.g. text that is not UTF-8) fails here, before the warehouse is touched.
    """
    target = export.target
    missing = [key for key in target.key if key not in rows.columns]
    if missing:
        raise export.error(f"no {missing[0]} column (every record needs {_key_phrase(target)})")
    checks = [
        (name, check) for name, column in rows.columns.items() for check in column.checks
    ]
    selects = [f"min(CASE WHEN {sql} THEN {rows.row} END)" for _, (sql, _) in checks]
    selects += [  # length(), unlike strlen(), makes DuckDB check that Parquet text is UTF-8
        f"max(length({column.text}))" for column in rows.columns.values() if column.decode
    ]
    first_bad = _first(con, f"SELECT {', '.join(selects)} FROM {rows.source}") or ()
    found = [(row, i) for i, row in enumerate(first_bad[: len(checks)]) if row is not None]
    if found:
        row, i = min(found)
        name, (_, message) = checks[i]
        text = rows.columns[name].text
        (value,) = _first(con, f"SELECT {text} FROM {rows.source} WHERE {rows.row} = ?", [row])
        raise export.error(message.format(value=value), row=row + 1, field=name)
    if target is PICKLISTS:
        _validate_picklist_entities(con, export, rows)


def _checks(target: Entity, column: str, text: str) -> list[tuple[str, str]]:
    """(SQL true for a bad value, message with ``{value}``) pairs for one column read as the
    text SQL ``text``."""
    checks = []
    if column in target.key:
        checks.append((f"NULLIF(trim({text}), '') IS NULL", _missing_key(target)))
    conversion = _conversion(target, column)
    if conversion:
        checks.append((conversion.invalid(text), "{value!r} is not " + conversion.expected))
    return checks


def _missing_key(target: Entity) -> str:
    """The message for a record without (part of) its key."""
    return f"missing value (every record needs {_key_phrase(target)})"


def _key_phrase(target: Entity) -> str:
    """``an id`` or ``entity, field and value``."""
    *head, last = target.key
    return f"{', '.join(head)} and {last}" if head else f"an {last}"


def _validate_picklist_entities(con: Connection, export: Source, rows: _Rows) -> None:
    """Reject picklist rows naming an entity billready does not land."""
    entity = rows.columns["entity"].text
    bad = _first(
        con,
        f"SELECT {rows.row}, {entity} FROM {rows.source} WHERE lower(trim({entity})) NOT IN "
        f"(SELECT alias FROM _entity_alias) ORDER BY {rows.row} LIMIT 1",
    )
    if bad:
        row, value = bad
        raise export.error(
            f"unknown entity {value!r} (expected one of {', '.join(ENTITIES)})",
            row=row + 1,
            field="entity",
        )


def _typed_select(export: Source, rows: _Rows, loaded_at: datetime) -> str:
    """SQL selecting the typed, normalised records of staged rows, numbered by file row
    (``_row``, which the raw table does not keep)."""
    target = export.target
    expressions = {name: column.value for name, column in rows.columns.items()}
    joins = ""
    if target is PICKLISTS:  # plural entity names, catalogue spelling of field names
        entity, field = rows.columns["entity"].text, rows.columns["field"].text
        expressions["entity"] = "ea.entity"
        expressions["field"] = f"coalesce(fa.field, trim({field}))"
        joins = (
            f" JOIN _entity_alias ea ON ea.alias = lower(trim({entity}))"
            " LEFT JOIN _field_alias fa"
            f" ON fa.entity = ea.entity AND fa.alias = lower(trim({field}))"
        )
    selects = ", ".join(f"{sql} AS {_q(column)}" for column, sql in expressions.items())
    return (
        f"SELECT {selects}, "
        f"TIMESTAMP {_lit(loaded_at.isoformat(sep=' '))} AS _loaded_at, "
        f"{_lit(export.name)} AS _source_file, {rows.row} AS _row FROM {rows.source}{joins}"
    )


# ------------------------------------------------------------------------------------------------
# Writing: one transaction on the attached warehouse


def _write_warehouse(
    con: Connection,
    database: Path,
    staged: list[_Staged],
    log_rows: list[tuple[Any, ...]],
    *,
    loaded_at: datetime,
    skip_unchanged: bool = False,
    state: tuple[StateRows, ...] = (),
) -> dict[str, LandedCounts]:
    """Create, widen and upsert every raw table, mark deletes, write ``state`` and append the
    load log, in one transaction. Returns the counts per target name.

    Comparing with the landed records (and dropping unchanged ones from the staging tables) only
    reads the warehouse, so it runs before the transaction: a DuckDB transaction writes to one
    database, and the one transaction here writes to the warehouse alone.
    """
    _attach(con, database)
    try:
        live = _live_keys(con, staged)
        landed = _landed_columns(con)
        counts = []
        for item in staged:
            with _reading(item):
                counts.append(
                    _compare(con, item, landed.get(item.export.target.table, {}), skip_unchanged)
                )
        con.execute("BEGIN TRANSACTION")
        try:
            _ensure_tables(con, staged)
            for item in staged:
                if not _keys_only(item):
                    with _reading(item):
                        _upsert(con, item)
            deleted = {
                scope: _mark_deleted(con, scope, table, loaded_at) for scope, table in live.items()
            }
            _write_state(con, state)
            placeholders = ", ".join("?" for _ in LOAD_LOG_COLUMNS)
            if log_rows:
                con.executemany(
                    f"INSERT INTO {_raw(LOAD_LOG_TABLE)} ({', '.join(LOAD_LOG_COLUMNS)}) "
                    f"VALUES ({placeholders})",
                    log_rows,
                )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        con.execute(f"DETACH {_WAREHOUSE}")
    totals: dict[str, LandedCounts] = {}
    for item, count in zip(staged, counts):
        name = item.export.target.name
        totals[name] = totals.get(name, LandedCounts()) + count
    for (name, _), count in deleted.items():
        totals[name] = totals.get(name, LandedCounts()) + LandedCounts(deleted=count)
    return totals


@contextmanager
def _reading(item: _Staged) -> Iterator[None]:
    """Report a failure to read a staged view's Parquet file (validation read every value that
    might not decode, so this is a file changed or damaged since) as an InputError on the file;
    refuse a view's file whose size or modification time changed since it was validated (its
    records were never checked)."""
    if item.view and _file_signature(item.export) != item.file_signature:
        raise item.export.error("changed while it was being landed (land it again)")
    try:
        yield
    except duckdb.Error as exc:
        if not item.view or item.export.name not in str(exc):
            raise
        raise _unreadable(item.export, exc) from None


def _file_signature(export: Source) -> tuple[int, int] | None:
    """The size and modification time (ns) of an export file; None when it is gone."""
    try:
        stat = Path(export.path).stat()
    except (AttributeError, OSError):
        return None
    return (stat.st_size, stat.st_mtime_ns)


def _keys_only(item: _Staged) -> bool:
    """Whether a staged source only lists live keys (it is never upserted)."""
    return isinstance(item.export, DocumentSource) and item.export.keys_only


def _scope(item: _Staged) -> tuple[str, str | None]:
    """The records a complete source speaks for: its table, and for picklists its subject."""
    subject = item.export.subject
    return item.export.target.name, subject.name if subject else None


def _live_keys(con: Connection, staged: list[_Staged]) -> dict[tuple[str, str | None], str]:
    """Stage the live keys of every scope a complete (or keys-only) source covers.

    Returns a staging table of keys per scope. The keys are those of every source of the scope's
    table, taken before unchanged records are dropped, so a record another source holds is live.
    """
    scopes = dict.fromkeys(
        _scope(item)
        for item in staged
        if isinstance(item.export, DocumentSource) and (item.export.complete or _keys_only(item))
    )
    tables: dict[str, str] = {}
    live: dict[tuple[str, str | None], str] = {}
    for scope in scopes:
        name = scope[0]
        if name not in tables:
            items = [item for item in staged if item.export.target.name == name]
            key = ", ".join(_q(k) for k in items[0].export.target.key)
            tables[name] = f"live_{len(tables)}"
            union = " UNION ".join(f"SELECT {key} FROM {item.table}" for item in items)
            con.execute(f"CREATE TABLE {tables[name]} AS {union}")
        live[scope] = tables[name]
    return live


def _landed_columns(con: Connection) -> dict[str, dict[str, str]]:
    """Every raw table's columns, keyed by lower-cased name (one catalogue query)."""
    rows = con.execute(
        "SELECT table_name, column_name FROM duckdb_columns() "
        "WHERE database_name = ? AND schema_name = ?",
        [_WAREHOUSE, RAW_SCHEMA],
    ).fetchall()
    tables: dict[str, dict[str, str]] = {}
    for table, column in rows:
        tables.setdefault(table, {})[column.lower()] = column
    return tables


def _compare(
    con: Connection, item: _Staged, landed: dict[str, str], skip_unchanged: bool
) -> LandedCounts:
    """Count the staged records that are new or replace a landed one; with ``skip_unchanged``,
    first drop those identical to the landed record (the staged view or table becomes a table of
    the others). ``landed`` holds the raw table's columns by lower-cased name (empty when it does
    not exist yet)."""
    if _keys_only(item):
        return LandedCounts()
    target = item.export.target
    if not landed:
        return LandedCounts(received=item.row_count, inserted=item.row_count)
    raw = _raw(target.table)
    match = " AND ".join(f"r.{_q(k)} = s.{_q(k)}" for k in target.key)
    unchanged = 0
    if skip_unchanged:
        same = [match]
        if "_deleted_at" in landed:
            same.append("r._deleted_at IS NULL")
        staged_columns = {c.lower() for c in item.columns}
        for column in item.columns:
            if column.lower() in landed:
                same.append(f"r.{_q(landed[column.lower()])} IS NOT DISTINCT FROM s.{_q(column)}")
            else:
                same.append(f"s.{_q(column)} IS NULL")
        same += [
            f"r.{_q(name)} IS NULL"
            for lower, name in landed.items()
            if lower not in staged_columns and lower not in METADATA_COLUMNS
        ]
        changed = _restage(
            con,
            item.table,
            f"SELECT * FROM {item.table} AS s WHERE NOT EXISTS "
            f"(SELECT 1 FROM {raw} AS r WHERE {' AND '.join(same)})",
            view=item.view,
        )
        unchanged = item.row_count - changed
    (updated,) = _first(
        con,
        f"SELECT count(*) FROM {item.table} AS s WHERE EXISTS (SELECT 1 FROM {raw} AS r WHERE {match})",
    )
    inserted = item.row_count - unchanged - updated
    return LandedCounts(item.row_count, inserted, updated, unchanged)


def _mark_deleted(
    con: Connection, scope: tuple[str, str | None], live: str, loaded_at: datetime
) -> int:
    """Set ``_deleted_at`` on the landed records of ``scope`` whose key is not live."""
    name, subject = scope
    target = PICKLISTS if name == PICKLISTS.name else ENTITIES[name]
    match = " AND ".join(f"r.{_q(k)} = l.{_q(k)}" for k in target.key)
    within = " AND r.entity = ?" if subject else ""
    (count,) = _first(
        con,
        f"UPDATE {_raw(target.table)} AS r SET _deleted_at = ? "
        f"WHERE r._deleted_at IS NULL{within} "
        f"AND NOT EXISTS (SELECT 1 FROM {live} AS l WHERE {match})",
        [loaded_at, subject] if subject else [loaded_at],
    )
    if count:
        logger.info("%s: marked %d record(s) deleted", subject or name, count)
    return count


def _write_state(con: Connection, state: tuple[StateRows, ...]) -> None:
    """Replace bookkeeping rows by key, creating their tables when missing."""
    for rows in state:
        _ensure_table(con, rows.table, rows.columns)
        names = list(rows.columns)
        positions = [names.index(key) for key in rows.key]
        match = " AND ".join(f"{_q(key)} = ?" for key in rows.key)
        for row in rows.rows:
            con.execute(
                f"DELETE FROM {_raw(rows.table)} WHERE {match}", [row[i] for i in positions]
            )
        if rows.rows:
            con.executemany(
                f"INSERT INTO {_raw(rows.table)} ({', '.join(_q(n) for n in names)}) "
                f"VALUES ({', '.join('?' for _ in names)})",
                list(rows.rows),
            )


def _attach(con: Connection, database: Path) -> None:
    """Attach the warehouse for writing, translating lock and open errors."""
    database.parent.mkdir(parents=True, exist_ok=True)
    try:
        con.execute(f"ATTACH {_lit(str(database))} AS {_WAREHOUSE}")
    except duckdb.Error as exc:
        if "lock" in str(exc).lower():
            raise WarehouseError(
                f"the warehouse {database} is open in another process (e.g. the report); "
                "close it and run the command again"
            ) from exc
        raise WarehouseError(f"cannot open the warehouse {database}: {exc}") from exc


def _ensure_tables(con: Connection, staged: list[_Staged]) -> None:
    """Create the schema and every raw table, adding any columns a table lacks."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {_WAREHOUSE}.{RAW_SCHEMA}")
    for target in (*ENTITIES.values(), PICKLISTS):
        extras = [c for s in staged if s.export.target is target for c in s.extra_columns]
        _ensure_table(con, target.table, _table_columns(target, extras))
    _ensure_table(con, LOAD_LOG_TABLE, LOAD_LOG_COLUMNS)


def _table_columns(target: Entity, extras: Iterable[str]) -> dict[str, str]:
    """Every column a raw table needs: catalogue fields, metadata, then extra columns."""
    columns = {field.name: field.duckdb_type for field in target.fields}
    columns.update(METADATA_COLUMNS)
    for extra in extras:
        columns.setdefault(extra, "VARCHAR")
    return columns


def _warehouse_columns(con: Connection, table: str) -> dict[str, str]:
    """The columns of ``raw_autotask.<table>`` keyed by lower-cased name; empty when missing."""
    rows = con.execute(
        "SELECT column_name FROM duckdb_columns() "
        "WHERE database_name = ? AND schema_name = ? AND table_name = ?",
        [_WAREHOUSE, RAW_SCHEMA, table],
    ).fetchall()
    return {name.lower(): name for (name,) in rows}


def _ensure_table(con: Connection, table: str, columns: dict[str, str]) -> None:
    """Create ``raw_autotask.<table>``, or add the columns it lacks (matched ignoring case)."""
    existing = _warehouse_columns(con, table)
    if not existing:
        definition = ", ".join(f"{_q(name)} {kind}" for name, kind in columns.items())
        con.execute(f"CREATE TABLE {_raw(table)} ({definition})")
        return
    for name, kind in columns.items():
        if name.lower() not in existing:
            con.execute(f"ALTER TABLE {_raw(table)} ADD COLUMN {_q(name)} {kind}")


def _upsert(con: Connection, staged: _Staged) -> None:
    """Replace the landed records whose key the staged table holds, then insert the rest."""
    target = staged.export.target
    table = _raw(target.table)
    match = " AND ".join(f"r.{_q(k)} = s.{_q(k)}" for k in target.key)
    con.execute(f"DELETE FROM {table} AS r USING {staged.table} AS s WHERE {match}")
    con.execute(f"INSERT INTO {table} BY NAME SELECT * EXCLUDE (_row) FROM {staged.table}")
    logger.info(
        "%s: %d records -> %s.%s", staged.export.name, staged.row_count, RAW_SCHEMA, target.table
    )


# ------------------------------------------------------------------------------------------------
# Helpers


def _load_log_rows(
    load_id: str, loaded_at: datetime, origin: str, staged: list[_Staged]
) -> list[tuple[Any, ...]]:
    """One ``_load_log`` row per landed source (keys-only sources land nothing)."""
    return [
        (load_id, loaded_at, origin, s.export.target.name, s.export.name, s.row_count)
        for s in staged
        if not _keys_only(s)
    ]


def _landing(
    load_id: str,
    loaded_at: datetime,
    database: Path,
    staged: list[_Staged],
    counts: dict[str, LandedCounts],
) -> Landing:
    """Summarise a finished load."""
    names = (*ENTITIES, PICKLISTS.name)
    rows = dict.fromkeys(names, 0)
    extras: dict[str, tuple[str, ...]] = {}
    landed = [item for item in staged if not _keys_only(item)]
    for item in landed:
        name = item.export.target.name
        rows[name] += item.row_count
        if item.extra_columns:
            extras[name] = tuple(dict.fromkeys((*extras.get(name, ()), *item.extra_columns)))
    return Landing(
        load_id=load_id,
        loaded_at=loaded_at,
        database=database,
        sources=tuple(item.export.name for item in landed),
        rows=rows,
        counts={name: counts.get(name, LandedCounts()) for name in names},
        extra_columns=extras,
    )


def _utc_naive(moment: datetime | None) -> datetime:
    """``moment`` (default: now) as naive UTC; a naive ``moment`` is taken to be UTC already."""
    moment = moment or datetime.now(timezone.utc)
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def _first(con: Connection, sql: str, params: list[Any] | None = None) -> tuple[Any, ...] | None:
    """The first row of a query, reading the result to its end (DuckDB 2 requires that)."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0] if rows else None


def _raw(table: str) -> str:
    """The qualified name of a raw table in the attached warehouse."""
    return f"{_WAREHOUSE}.{RAW_SCHEMA}.{_q(table)}"


def _q(identifier: str) -> str:
    """Quote a SQL identifier."""
    return '"' + identifier.replace('"', '""') + '"'


def _lit(text: str) -> str:
    """Quote a SQL string literal."""
    return "'" + text.replace("'", "''") + "'"
