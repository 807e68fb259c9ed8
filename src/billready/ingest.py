"""Land an Autotask export directory in the DuckDB warehouse (schema ``raw_autotask``).

The contract is docs/architecture.md ("The raw layer"): one table per entity with the catalogue's
camelCase columns and DuckDB types, export columns the catalogue lacks kept as VARCHAR,
``_loaded_at`` and ``_source_file`` on every row, re-landing as an upsert on the record key.

A load runs in three steps:

1. :func:`discover_exports` names every export file and rejects unknown or doubled ones.
2. Each file is staged in a private in-memory DuckDB database as an all-VARCHAR table (CSV through
   ``read_csv``, JSON through Python), validated with set-based SQL (the first bad row of every
   column in one scan) and typed with the same SQL conversions.
3. Only when every file is valid is the warehouse attached; then every table is created, widened
   and upserted, and the load logged, in one transaction, so a failure leaves it as it was.
"""

from __future__ import annotations

import csv
import json
import logging
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from billready.autotask import (
    ENTITIES,
    PICKLISTS,
    RAW_SCHEMA,
    Entity,
    entity_aliases,
    find_entity,
)
from billready.errors import InputError, WarehouseError

__all__ = ["ExportFile", "IngestReport", "discover_exports", "ingest_directory"]

logger = logging.getLogger(__name__)

METADATA_COLUMNS: dict[str, str] = {"_loaded_at": "TIMESTAMP", "_source_file": "VARCHAR"}
LOAD_LOG_TABLE = "_load_log"
LOAD_LOG_COLUMNS: dict[str, str] = {
    "load_id": "VARCHAR",
    "loaded_at": "TIMESTAMP",
    "source_dir": "VARCHAR",
    "entity": "VARCHAR",
    "source_file": "VARCHAR",
    "row_count": "BIGINT",
}
EXPORT_SUFFIXES = (".csv", ".json")
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

    ``kind`` is ``csv``, ``json`` or ``fields``: an ``<Entity>.fields.json`` entityInformation
    response, whose picklists belong to ``subject``.
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
class _Staged:
    """A validated, typed export held in a table of the staging database."""

    export: ExportFile
    table: str
    columns: tuple[str, ...]
    row_count: int

    @property
    def extra_columns(self) -> tuple[str, ...]:
        """Columns the target's catalogue does not list."""
        return tuple(c for c in self.columns if self.export.target.field(c) is None)


# ------------------------------------------------------------------------------------------------
# Entry points


def ingest_directory(path: Path, database: Path, *, now: datetime | None = None) -> IngestReport:
    """Validate every export file in ``path`` and land them all in ``database``, atomically.

    ``now`` (default: the current time) is stamped as ``_loaded_at``, in UTC. Raises
    :class:`InputError` for the first problem in the export, before anything is written, and
    :class:`WarehouseError` when the warehouse cannot be opened for writing.
    """
    directory, database = Path(path), Path(database)
    exports = discover_exports(directory)
    loaded_at = _utc_naive(now)
    load_id = uuid.uuid4().hex
    con = _staging_connection()
    try:
        staged = [_stage(con, export, f"stage_{i}", loaded_at) for i, export in enumerate(exports)]
        log_rows = _load_log_rows(load_id, loaded_at, directory, staged)
        _write_warehouse(con, database, staged, log_rows)
    finally:
        con.close()
    report = _report(load_id, loaded_at, directory, database, staged)
    logger.info("%s", report.summary().splitlines()[0])
    return report


def discover_exports(directory: Path) -> list[ExportFile]:
    """Return the export files of ``directory`` in load order (file name, ignoring case).

    A ``.csv``/``.json`` file must be named after an entity (plural, singular or table name, any
    case), ``Picklists``, or ``<Entity>.fields`` (JSON only). Other files and dot files are ignored.
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
            "no export files found (expected <Entity>.csv or <Entity>.json, e.g. Contracts.csv)",
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
            "not a known export file (expected <Entity>.csv or <Entity>.json for one of "
            f"{', '.join(ENTITIES)}; Picklists.csv or .json; or <Entity>.fields.json)",
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
# Staging: each export file becomes an all-VARCHAR table, then a typed one


def _staging_connection() -> Connection:
    """An in-memory DuckDB connection in UTC, with the picklist alias tables."""
    con = duckdb.connect()
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


def _stage(con: Connection, export: ExportFile, table: str, loaded_at: datetime) -> _Staged:
    """Stage, validate and type one export file in ``table``."""
    text_table = f"{table}_text"
    columns = _STAGERS[export.kind](con, export, text_table)
    _validate(con, export, text_table, columns)
    typed = _typed_select(export, text_table, columns, loaded_at)
    con.execute(f"CREATE TABLE {table} AS {typed}")
    con.execute(f"DROP TABLE {text_table}")
    (row_count,) = _first(con, f"SELECT count(*) FROM {table}")
    staged = _Staged(export, table, tuple(columns), row_count)
    if staged.extra_columns:
        logger.info(
            "%s: keeping %d column(s) the Autotask catalogue lacks, as VARCHAR: %s",
            export.name,
            len(staged.extra_columns),
            ", ".join(staged.extra_columns),
        )
    return staged


class _ColumnNames:
    """Maps an export's column names onto raw-table column names, ignoring case.

    Catalogue fields take the catalogue's spelling; other columns keep their first spelling.
    """

    def __init__(self, export: ExportFile) -> None:
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


def _stage_csv(con: Connection, export: ExportFile, table: str) -> list[str]:
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
    return columns


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


def _stage_json(con: Connection, export: ExportFile, table: str) -> list[str]:
    """Load a JSON export (query response, list of responses, or list of records)."""
    return _stage_records(con, export, table, _json_records(export, _read_json(export)))


def _stage_fields(con: Connection, export: ExportFile, table: str) -> list[str]:
    """Load the picklist values of an ``<Entity>.fields.json`` (entityInformation/fields)."""
    return _stage_records(con, export, table, _picklist_records(export, _read_json(export)))


_STAGERS: dict[str, Callable[[Connection, ExportFile, str], list[str]]] = {
    "csv": _stage_csv,
    "json": _stage_json,
    "fields": _stage_fields,
}


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


def _json_records(export: ExportFile, document: Any) -> list[dict[str, Any]]:
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


def _picklist_records(export: ExportFile, document: Any) -> list[dict[str, Any]]:
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
    con: Connection, export: ExportFile, table: str, records: list[dict[str, Any]]
) -> list[str]:
    """Load JSON records as text columns; the key columns always exist."""
    names = _ColumnNames(export)
    for key in export.target.key:
        names.resolve(key)
    rows = [_text_record(export, names, row, record) for row, record in enumerate(records, 1)]
    _create_from_records(con, table, rows, names.columns)
    return names.columns


def _text_record(
    export: ExportFile, names: _ColumnNames, row: int, record: dict[str, Any]
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


def _validate(con: Connection, export: ExportFile, table: str, columns: list[str]) -> None:
    """Raise an InputError for the first bad value of a staged table (by row, then column)."""
    target = export.target
    missing = [key for key in target.key if key not in columns]
    if missing:
        raise export.error(f"no {missing[0]} column (every record needs {_key_phrase(target)})")
    checks = [(column, check) for column in columns for check in _checks(target, column)]
    selects = ", ".join(f"min(CASE WHEN {sql} THEN rowid END)" for _, (sql, _) in checks)
    first_bad = _first(con, f"SELECT {selects} FROM {table}") or ()
    found = [(rowid, i) for i, rowid in enumerate(first_bad) if rowid is not None]
    if found:
        rowid, i = min(found)
        column, (_, message) = checks[i]
        (value,) = _first(con, f"SELECT {_q(column)} FROM {table} WHERE rowid = ?", [rowid])
        raise export.error(message.format(value=value), row=rowid + 1, field=column)
    if target is PICKLISTS:
        _validate_picklist_entities(con, export, table)


def _checks(target: Entity, column: str) -> list[tuple[str, str]]:
    """(SQL true for a bad value, message with ``{value}``) pairs for one column."""
    text = _q(column)
    checks = []
    if column in target.key:
        message = f"missing value (every record needs {_key_phrase(target)})"
        checks.append((f"NULLIF(trim({text}), '') IS NULL", message))
    conversion = _conversion(target, column)
    if conversion:
        checks.append((conversion.invalid(text), "{value!r} is not " + conversion.expected))
    return checks


def _key_phrase(target: Entity) -> str:
    """``an id`` or ``entity, field and value``."""
    *head, last = target.key
    return f"{', '.join(head)} and {last}" if head else f"an {last}"


def _validate_picklist_entities(con: Connection, export: ExportFile, table: str) -> None:
    """Reject picklist rows naming an entity billready does not land."""
    bad = _first(
        con,
        f"SELECT rowid, entity FROM {table} WHERE lower(trim(entity)) NOT IN "
        "(SELECT alias FROM _entity_alias) ORDER BY rowid LIMIT 1",
    )
    if bad:
        rowid, entity = bad
        raise export.error(
            f"unknown entity {entity!r} (expected one of {', '.join(ENTITIES)})",
            row=rowid + 1,
            field="entity",
        )


def _typed_select(export: ExportFile, table: str, columns: list[str], loaded_at: datetime) -> str:
    """SQL selecting the typed, normalised records of a staged table, the last row per key."""
    target = export.target
    expressions = {}
    for column in columns:
        conversion = _conversion(target, column)
        text = f"t.{_q(column)}"
        expressions[column] = conversion.convert(text) if conversion else text
    joins = ""
    if target is PICKLISTS:  # plural entity names, catalogue spelling of field names
        expressions["entity"] = "ea.entity"
        expressions["field"] = "coalesce(fa.field, trim(t.field))"
        joins = (
            " JOIN _entity_alias ea ON ea.alias = lower(trim(t.entity))"
            " LEFT JOIN _field_alias fa"
            " ON fa.entity = ea.entity AND fa.alias = lower(trim(t.field))"
        )
    selects = ", ".join(f"{sql} AS {_q(column)}" for column, sql in expressions.items())
    key = ", ".join(_q(k) for k in target.key)
    return (
        f"SELECT * EXCLUDE (_row) FROM (SELECT {selects}, "
        f"TIMESTAMP {_lit(loaded_at.isoformat(sep=' '))} AS _loaded_at, "
        f"{_lit(export.name)} AS _source_file, t.rowid AS _row FROM {table} t{joins}) "
        f"QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY _row DESC) = 1 ORDER BY _row"
    )


# ------------------------------------------------------------------------------------------------
# Writing: one transaction on the attached warehouse


def _write_warehouse(
    con: Connection, database: Path, staged: list[_Staged], log_rows: list[tuple[Any, ...]]
) -> None:
    """Create, widen and upsert every raw table and append the load log, in one transaction."""
    _attach(con, database)
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            _ensure_tables(con, staged)
            for item in staged:
                _upsert(con, item)
            placeholders = ", ".join("?" for _ in LOAD_LOG_COLUMNS)
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


def _ensure_table(con: Connection, table: str, columns: dict[str, str]) -> None:
    """Create ``raw_autotask.<table>``, or add the columns it lacks (matched ignoring case)."""
    rows = con.execute(
        "SELECT column_name FROM duckdb_columns() "
        "WHERE database_name = ? AND schema_name = ? AND table_name = ?",
        [_WAREHOUSE, RAW_SCHEMA, table],
    ).fetchall()
    existing = {name.lower() for (name,) in rows}
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
    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {staged.table}")
    logger.info(
        "%s: %d records -> %s.%s", staged.export.name, staged.row_count, RAW_SCHEMA, target.table
    )


# ------------------------------------------------------------------------------------------------
# Helpers


def _load_log_rows(
    load_id: str, loaded_at: datetime, directory: Path, staged: list[_Staged]
) -> list[tuple[Any, ...]]:
    """One ``_load_log`` row per landed file."""
    source_dir = str(directory.resolve())
    return [
        (load_id, loaded_at, source_dir, s.export.target.name, s.export.name, s.row_count)
        for s in staged
    ]


def _report(
    load_id: str, loaded_at: datetime, directory: Path, database: Path, staged: list[_Staged]
) -> IngestReport:
    """Summarise a finished load."""
    rows = {name: 0 for name in (*ENTITIES, PICKLISTS.name)}
    extras: dict[str, tuple[str, ...]] = {}
    for item in staged:
        name = item.export.target.name
        rows[name] += item.row_count
        if item.extra_columns:
            extras[name] = tuple(dict.fromkeys((*extras.get(name, ()), *item.extra_columns)))
    return IngestReport(
        load_id=load_id,
        loaded_at=loaded_at,
        source_dir=directory,
        database=database,
        files=tuple(s.export.name for s in staged),
        rows=rows,
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
