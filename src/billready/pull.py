"""``billready pull``: land a tenant's data from the Autotask REST API, exactly as ``ingest`` lands
an export, so everything downstream is unchanged.

A pull runs in three steps (docs/pull.md has the user's view):

1. **Plan.** Per entity, a full reload, or, for an entity with a last-modified field
   (:data:`CURSOR_FIELDS`) whose watermark from the same REST root is stored in
   ``raw_autotask._pull_state``, the records modified since that watermark plus the ids of all
   live records (so deletes are still seen). ``--full`` reloads everything.
2. **Read** every entity's pages and picklists (``entityInformation/fields``), entities in
   parallel within :class:`~billready.autotask_api.Limits`, with progress per page. Nothing is
   written yet: an interrupted or failed read leaves the warehouse as it was.
3. **Land** it all through :func:`billready.ingest.land_sources`, in one transaction: typed and
   validated like an export, records that did not change left alone, records a full reload
   lacks marked ``_deleted_at`` (and cleared when they come back), watermarks updated.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb

from billready.autotask import PICKLISTS, RAW_SCHEMA, REST_ENTITIES, Entity
from billready.autotask_api import ZONE_LOOKUP_ROOT, AutotaskClient, Credentials, connect
from billready.errors import ApiError, InputError, WarehouseError
from billready.ingest import (
    DocumentSource,
    LandedCounts,
    Landing,
    Source,
    StateRows,
    land_sources,
)

__all__ = [
    "CURSOR_FIELDS",
    "EntityReport",
    "Progress",
    "PullReport",
    "PullState",
    "pull",
    "pull_tenant",
    "read_pull_state",
]

logger = logging.getLogger(__name__)

#: The last-modified field of each entity that has one; these are pulled incrementally. The
#: other entities (ContractMilestones, charges, contracts, ...) have none and are reloaded whole.
CURSOR_FIELDS: dict[str, str] = {
    "Companies": "lastTrackedModifiedDateTime",
    "Tickets": "lastTrackedModificationDateTime",
}
PULL_STATE_TABLE = "_pull_state"
PULL_STATE_COLUMNS: dict[str, str] = {
    "entity": "VARCHAR",
    "source": "VARCHAR",  # the REST root the entity was pulled from
    "mode": "VARCHAR",  # full or incremental
    "cursor_field": "VARCHAR",
    "watermark": "TIMESTAMP",  # the latest cursor value landed (UTC); NULL without a cursor
    "pages": "BIGINT",
    "records": "BIGINT",
    "pulled_at": "TIMESTAMP",
}
#: The filter of a full reload (the API wants at least one condition).
ALL_RECORDS: tuple[dict[str, Any], ...] = ({"op": "gte", "field": "id", "value": 0},)
FULL, INCREMENTAL = "full", "incremental"
# Autotask dataType names and the DuckDB types whose values they fit.
_FITS: dict[str, frozenset[str]] = {
    "BIGINT": frozenset({"integer", "long", "short", "byte"}),
    "DOUBLE": frozenset({"integer", "long", "short", "byte", "double", "decimal", "float"}),
    "TIMESTAMP": frozenset({"datetime", "date"}),
    "BOOLEAN": frozenset({"boolean"}),
}
_KNOWN_DATA_TYPES = frozenset().union(*_FITS.values(), {"string"})


@dataclass(frozen=True)
class PullState:
    """What ``raw_autotask._pull_state`` holds for one entity."""

    entity: str
    source: str
    mode: str
    cursor_field: str | None
    watermark: datetime | None
    pulled_at: datetime | None


@dataclass(frozen=True)
class Progress:
    """One step of a pull: ``pages`` read so far of ``entity``'s ``part`` (``records``, ``ids``
    of an incremental entity's live records, or ``picklists``), holding ``records`` records of
    the ``expected`` (when counted)."""

    entity: str
    part: str
    pages: int
    records: int
    expected: int | None = None

    def describe(self) -> str:
        """``Tickets: 1,000 of 1,784 records (2 pages)``."""
        if self.part == "picklists":
            return f"{self.entity}: {self.records:,} picklist values"
        total = f" of {self.expected:,}" if self.expected is not None else ""
        pages = f"{self.pages} page{'s' if self.pages != 1 else ''}"
        what = "live ids" if self.part == "ids" else self.part
        return f"{self.entity}: {self.records:,}{total} {what} ({pages})"


@dataclass(frozen=True)
class EntityReport:
    """What a pull did for one entity: how it was read, and what landing did with it."""

    name: str
    mode: str
    since: datetime | None
    pages: int
    counts: LandedCounts


@dataclass(frozen=True)
class PullReport:
    """What one :func:`pull` landed."""

    source: str
    database: Path
    loaded_at: datetime
    entities: tuple[EntityReport, ...]
    picklists: LandedCounts
    picklist_pages: int
    requests: int
    retries: int
    extra_columns: dict[str, tuple[str, ...]]

    def entity(self, name: str) -> EntityReport:
        """The report of one entity, by plural name."""
        return next(e for e in self.entities if e.name == name)

    def summary(self) -> str:
        """A few lines for the command line: the source, then one row per entity (mode ``export``
        for what extra sources landed)."""
        received = self.picklists.received + sum(
            e.counts.received for e in self.entities if e.mode != "export"
        )
        lines = [
            f"pulled {received:,} records in {self.requests:,} requests "
            f"({self.retries} retried) from {self.source} into {self.database}",
            f"  {'entity':<22}{'mode':<13}{'pages':>6}{'received':>10}{'new':>8}{'changed':>9}"
            f"{'same':>8}{'deleted':>9}",
        ]
        rows = [(e.name, e.mode, e.pages, e.counts) for e in self.entities]
        rows.append((PICKLISTS.name, FULL, self.picklist_pages, self.picklists))
        for name, mode, pages, c in rows:
            lines.append(
                f"  {name:<22}{mode:<13}{pages:>6,}{c.received:>10,}{c.inserted:>8,}"
                f"{c.updated:>9,}{c.unchanged:>8,}{c.deleted:>9,}"
            )
        lines += [
            f"  {name}: kept fields the catalogue lacks, as VARCHAR: {', '.join(columns)}"
            for name, columns in self.extra_columns.items()
        ]
        return "\n".join(lines)


@dataclass(frozen=True)
class _Plan:
    """How one entity is read: in full, or modified since ``since`` (by ``cursor_field``)."""

    entity: Entity
    cursor_field: str | None
    since: datetime | None

    @property
    def mode(self) -> str:
        return INCREMENTAL if self.since is not None else FULL

    @property
    def filters(self) -> list[dict[str, Any]]:
        if self.since is None:
            return list(ALL_RECORDS)
        return [{"op": "gte", "field": self.cursor_field, "value": _api_timestamp(self.since)}]


@dataclass(frozen=True)
class _Read:
    """Everything read for one entity, held until the whole pull is read."""

    plan: _Plan
    pages: list[dict[str, Any]]
    live_ids: list[dict[str, Any]] | None
    fields: dict[str, Any]
    watermark: datetime | None

    def sources(self) -> list[Source]:
        """The documents to land: records, live ids (incremental), picklists."""
        entity = self.plan.entity
        sources: list[Source] = [
            DocumentSource(
                f"{entity.name}/query", entity, self.pages, complete=self.plan.since is None
            )
        ]
        if self.live_ids is not None:
            sources.append(
                DocumentSource(f"{entity.name}/query (ids)", entity, self.live_ids, keys_only=True)
            )
        sources.append(
            DocumentSource(
                f"{entity.name}/entityInformation/fields",
                PICKLISTS,
                self.fields,
                kind="fields",
                subject=entity,
                complete=True,
            )
        )
        return sources

    def data_type(self, field: str) -> str | None:
        """The API's ``dataType`` of a field (ignoring case), if it describes it."""
        for definition in self.fields["fields"]:
            if str(definition.get("name", "")).lower() == field.lower():
                data_type = definition.get("dataType")
                return str(data_type) if data_type is not None else None
        return None


class _Aborted(Exception):
    """Another entity's read failed; this one stops between pages."""


# ------------------------------------------------------------------------------------------------
# Entry points


def pull(
    database: Path,
    client: AutotaskClient,
    *,
    full: bool = False,
    progress: Callable[[Progress], None] | None = None,
    now: datetime | None = None,
    extra_sources: Sequence[Source] = (),
) -> PullReport:
    """Pull every entity and the picklists through ``client`` and land them in ``database``.

    ``full`` reloads every entity (and reconciles deletes everywhere). ``progress`` (default: a
    log line) is called after every page. ``now`` (default: the current time) is stamped as
    ``_loaded_at``. ``extra_sources`` (e.g. export files of the optional inputs, which are not
    REST entities) land in the same transaction. Raises :class:`ApiError` when the API fails or sends data billready cannot
    land, :class:`WarehouseError` when the warehouse cannot be opened; either way nothing lands.
    """
    database = Path(database)
    moment = now or datetime.now(timezone.utc)
    loaded_at = moment.astimezone(timezone.utc).replace(tzinfo=None) if moment.tzinfo else moment
    state = read_pull_state(database)
    plans = [
        _plan(entity, state.get(entity.name), client.base_url, full) for entity in REST_ENTITIES.values()
    ]
    for plan in plans:
        since = f" since {plan.since.isoformat(sep=' ')}" if plan.since else ""
        logger.info("%s: %s pull%s", plan.entity.name, plan.mode, since)
    reads = _read_all(client, plans, progress or _log_progress)
    for read in reads:
        _warn_about_types(read)
    state_rows = StateRows(
        PULL_STATE_TABLE,
        PULL_STATE_COLUMNS,
        ("entity",),
        tuple(_state_row(read, client.base_url, loaded_at) for read in reads),
    )
    sources = [source for read in reads for source in read.sources()] + list(extra_sources)
    try:
        landing = land_sources(
            sources,
            database,
            origin=client.base_url,
            now=loaded_at,
            skip_unchanged=True,
            state=(state_rows,),
        )
    except InputError as exc:
        raise _unusable(exc, reads) from None
    return _report(client, database, reads, landing)


def read_pull_state(database: Path) -> dict[str, PullState]:
    """The stored pull state per entity; empty when the warehouse or the table is missing."""
    database = Path(database)
    if not database.exists():
        return {}
    try:
        with duckdb.connect(str(database), read_only=True) as con:
            found = con.execute(
                "SELECT count(*) FROM information_schema.tables "
                "WHERE table_schema = ? AND table_name = ?",
                [RAW_SCHEMA, PULL_STATE_TABLE],
            ).fetchall()
            if not found[0][0]:
                return {}
            rows = con.execute(
                "SELECT entity, source, mode, cursor_field, watermark, pulled_at "
                f'FROM {RAW_SCHEMA}."{PULL_STATE_TABLE}"'
            ).fetchall()
    except duckdb.Error as exc:
        if "lock" in str(exc).lower():
            raise WarehouseError(
                f"the warehouse {database} is open in another process (e.g. the report); "
                "close it and run the command again"
            ) from exc
        raise WarehouseError(f"cannot read the warehouse {database}: {exc}") from exc
    return {row[0]: PullState(*row) for row in rows}


# ------------------------------------------------------------------------------------------------
# Planning and reading


def _plan(entity: Entity, state: PullState | None, source: str, full: bool) -> _Plan:
    """Incremental when the entity has a cursor and a watermark from the same source."""
    cursor = CURSOR_FIELDS.get(entity.name)
    incremental = (
        not full
        and cursor is not None
        and state is not None
        and state.source == source
        and state.cursor_field == cursor
        and state.watermark is not None
    )
    return _Plan(entity, cursor, state.watermark if incremental and state else None)


def _read_all(
    client: AutotaskClient, plans: Sequence[_Plan], progress: Callable[[Progress], None]
) -> list[_Read]:
    """Read every entity, several at once; the first failure stops the others and is raised."""
    abort = threading.Event()
    reads: dict[str, _Read] = {}
    workers = max(1, client.limits.workers)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="billready-pull") as pool:
        futures = {
            pool.submit(_read_entity, client, plan, progress, abort): plan.entity.name
            for plan in plans
        }
        try:
            for future in as_completed(futures):
                reads[futures[future]] = future.result()
        except BaseException:
            abort.set()
            for future in futures:
                future.cancel()
            raise
    return [reads[plan.entity.name] for plan in plans]


def _read_entity(
    client: AutotaskClient,
    plan: _Plan,
    progress: Callable[[Progress], None],
    abort: threading.Event,
) -> _Read:
    """Read one entity: its records, its live ids when incremental, its picklists."""
    entity = plan.entity
    if abort.is_set():
        raise _Aborted()
    expected = client.count(entity, plan.filters)
    pages = _read_pages(client, plan, plan.filters, None, "records", expected, progress, abort)
    live_ids = None
    if plan.since is not None:
        live_ids = _read_pages(client, plan, ALL_RECORDS, ("id",), "ids", None, progress, abort)
    if abort.is_set():
        raise _Aborted()
    fields = client.fields(entity)
    values = sum(len(f.get("picklistValues") or []) for f in fields["fields"])
    progress(Progress(entity.name, "picklists", 1, values))
    watermark = _latest(pages, plan.cursor_field)
    if plan.since is not None:
        watermark = max(plan.since, watermark) if watermark else plan.since
    return _Read(plan, pages, live_ids, fields, watermark)


def _read_pages(
    client: AutotaskClient,
    plan: _Plan,
    filters: Sequence[Mapping[str, Any]],
    include_fields: Sequence[str] | None,
    part: str,
    expected: int | None,
    progress: Callable[[Progress], None],
    abort: threading.Event,
) -> list[dict[str, Any]]:
    """Every page of one query, as ``{"items": [...]}`` documents, reporting progress."""
    pages: list[dict[str, Any]] = []
    records = 0
    for items in client.query(plan.entity, filters, include_fields=include_fields):
        if abort.is_set():
            raise _Aborted()
        pages.append({"items": items})
        records += len(items)
        progress(Progress(plan.entity.name, part, len(pages), records, expected))
    return pages


def _log_progress(step: Progress) -> None:
    logger.info("%s", step.describe())


def _latest(pages: Sequence[Mapping[str, Any]], field: str | None) -> datetime | None:
    """The latest value of a timestamp field in the pages (naive UTC), if any parses."""
    if field is None:
        return None
    latest = None
    for page in pages:
        for record in page["items"]:
            value = next((v for k, v in record.items() if k.lower() == field.lower()), None)
            moment = _parse_timestamp(value)
            if moment is not None and (latest is None or moment > latest):
                latest = moment
    return latest


def _parse_timestamp(value: Any) -> datetime | None:
    """An API timestamp (ISO 8601; no offset means UTC) as naive UTC, else None."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def _api_timestamp(moment: datetime) -> str:
    """A naive-UTC watermark as the API's filters take it, rounded down to the millisecond.

    Rounding down may fetch a record twice; it is then left alone as unchanged.
    """
    return moment.isoformat(timespec="milliseconds") + "Z"


# ------------------------------------------------------------------------------------------------
# Checking, state and the report


def _warn_about_types(read: _Read) -> None:
    """Warn when the API now describes a catalogue field with a type its values may not fit.

    Only a warning: values that still convert land as before; values that do not are refused
    when landing (see :func:`_unusable`).
    """
    entity = read.plan.entity
    for definition in read.fields["fields"]:
        field = entity.field(str(definition.get("name", "")))
        data_type = str(definition.get("dataType") or "").lower()
        fits = _FITS.get(field.duckdb_type) if field else None
        if field is None or field.picklist or fits is None or data_type not in _KNOWN_DATA_TYPES:
            continue
        if data_type not in fits:
            logger.warning(
                "%s.%s: the API now describes it as %r; billready lands it as %s",
                entity.name, field.name, data_type, field.duckdb_type,
            )


def _unusable(exc: InputError, reads: Sequence[_Read]) -> ApiError:
    """The message for API data that failed validation (nothing was landed)."""
    detail = ""
    read = next((r for r in reads if exc.file and exc.file.startswith(f"{r.plan.entity.name}/")), None)
    if read is not None and exc.field:
        data_type = read.data_type(exc.field)
        field = read.plan.entity.field(exc.field)
        if data_type and field:
            detail = (
                f" (the API describes {field.name} as {data_type!r}; billready lands it as "
                f"{field.duckdb_type}: if its type changed, billready's catalogue needs updating)"
            )
    return ApiError(
        f"the Autotask API sent a response billready cannot use: {exc}{detail}; nothing was landed"
    )


def _state_row(read: _Read, source: str, loaded_at: datetime) -> tuple[Any, ...]:
    """The ``_pull_state`` row of one entity (columns as :data:`PULL_STATE_COLUMNS`)."""
    records = sum(len(page["items"]) for page in read.pages)
    return (
        read.plan.entity.name,
        source,
        read.plan.mode,
        read.plan.cursor_field,
        read.watermark,
        len(read.pages),
        records,
        loaded_at,
    )


def _report(
    client: AutotaskClient, database: Path, reads: Sequence[_Read], landing: Landing
) -> PullReport:
    entities = tuple(
        EntityReport(
            name=read.plan.entity.name,
            mode=read.plan.mode,
            since=read.plan.since,
            pages=len(read.pages),
            counts=landing.counts[read.plan.entity.name],
        )
        for read in reads
    )
    pulled = {read.plan.entity.name for read in reads} | {PICKLISTS.name}
    entities += tuple(  # what extra sources landed (not pulled)
        EntityReport(name=name, mode="export", since=None, pages=0, counts=landing.counts[name])
        for name, rows in landing.rows.items()
        if name not in pulled and rows
    )
    return PullReport(
        source=client.base_url,
        database=database,
        loaded_at=landing.loaded_at,
        entities=entities,
        picklists=landing.counts[PICKLISTS.name],
        picklist_pages=len(reads),
        requests=client.requests_sent,
        retries=client.retries,
        extra_columns=landing.extra_columns,
    )


def pull_tenant(
    database: Path,
    credentials: Credentials,
    base_url: str | None = None,
    *,
    full: bool = False,
    zone_lookup_root: str = ZONE_LOOKUP_ROOT,
    progress: Callable[[Progress], None] | None = None,
    extra_sources: Sequence[Source] = (),
) -> PullReport:
    """Connect (finding the zone unless ``base_url`` names the REST root) and :func:`pull`."""
    with connect(credentials, base_url, zone_lookup_root=zone_lookup_root) as client:
        return pull(database, client, full=full, progress=progress, extra_sources=extra_sources)
