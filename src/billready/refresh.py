"""Refresh: land new data, build, test, and publish atomically as the new serving snapshot.

Layout of a warehouse directory that refresh manages::

    current.json            {"snapshot": "<id>", ...}: what every reader serves (replaced atomically)
    snapshots/<id>/         one published build: billready.duckdb + target/ (dbt artifacts)
    build/                  the private build copy of a refresh in progress (wiped at every start)
    .refresh.lock           held (flock) by the one refresh allowed at a time

A refresh copies the published snapshot's DuckDB file into ``build/``, lands new data there, runs
``dbt source freshness`` and ``dbt build``, and only when every error-level test passed renames
``build/`` to ``snapshots/<id>/`` and replaces ``current.json``. Readers open a snapshot's file
read-only and never the build copy, so a reader never blocks a refresh, never sees a mix of two
builds, and a failed or killed refresh leaves the published snapshot exactly as it was. Published
snapshots are never written again; the oldest beyond ``keep`` are removed (a reader still holding
one keeps reading it: the file lives on until it closes).

Selective builds: the build copy already holds the published snapshot's models, built and tested
from the same raw data. When this refresh landed data and the project is the one that snapshot was
built with, a model none of whose inputs changed would be rebuilt to exactly what it holds; so dbt
builds only the models downstream of the raw tables whose records this landing changed (inserted,
changed or marked deleted), the models that read the refresh's id and time (tag ``every_refresh``:
the history), and, when the as-of date moved since that build, the models that read it; each with
what reads it and every data test of them. Every landing logs itself in ``_load_log``, whose
readers say in their ``meta`` what they read it for (``billready_load_log``): its staging view is
always rebuilt and tested; a model that reads it for its incremental state only is not rebuilt on
its account; one that reads which entities were ever landed is rebuilt (with what reads it) when
the landing logged an entity for the first time; any other reader, always. Anything else (a first
build, a changed project, nothing landed, ``rebuild_all``) builds everything. See
docs/architecture.md, "Selective builds".
"""
from __future__ import annotations

import datetime
import fcntl
import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from billready import settings
from billready.autotask import RAW_SCHEMA
from billready.build import BuildReport, dbt_env, project_checksum, run_dbt_commands
from billready.errors import RefreshBusyError, WarehouseError

logger = logging.getLogger(__name__)

DEFAULT_KEEP = 3
KEEP_ENV = "BILLREADY_KEEP_SNAPSHOTS"
SNAPSHOTS = "snapshots"
BUILD = "build"
LOCK = ".refresh.lock"
PARTIAL_PARSE = "partial_parse.msgpack"
MANIFEST = "manifest.json"
RAW_SOURCE = "autotask"  # the dbt source of the landed tables (models/staging/autotask/_autotask__sources.yml)
LOAD_LOG = "_load_log"
EVERY_REFRESH_TAG = "every_refresh"  # dbt_project.yml: models built by every refresh (the history)
LOAD_LOG_META = "billready_load_log"
"""A model's ``meta`` key saying what it reads ``_load_log`` for (the module's "Selective builds")."""
PATCH_ALLOWED_ENV = "BILLREADY_PATCH_ALLOWED"  # macros/patched_through.sql
AS_OF_MACRO = "as_of_date"  # macros/as_of_date.sql: how a model reads the date rules are evaluated against

Lander = Callable[[Path], Any]
"""Lands new data into the build copy's DuckDB file (e.g. ingest of an export directory)."""


@dataclass(frozen=True)
class Snapshot:
    """A published build."""

    snapshot_id: str
    directory: Path
    published_at: datetime.datetime
    landed_at: datetime.datetime | None
    as_of: str | None
    project_checksum: str | None = None
    """The dbt project the snapshot was built and unit-tested with (build.project_checksum)."""
    as_of_date: str | None = None
    """The date its rules were evaluated against (``as_of``, or the day it was built)."""
    warnings: tuple[str, ...] = ()
    """The warn-level tests that warned on it (dbt unique ids)."""

    @property
    def database(self) -> Path:
        return self.directory / settings.DATABASE_FILE


def keep_default() -> int:
    """How many published snapshots to keep: ``$BILLREADY_KEEP_SNAPSHOTS``, else 3."""
    try:
        return max(1, int(os.environ.get(KEEP_ENV, DEFAULT_KEEP)))
    except ValueError:
        return DEFAULT_KEEP


def current_snapshot(warehouse: Path) -> Snapshot | None:
    """The published snapshot readers serve, or None when nothing was published yet."""
    pointer = warehouse / settings.CURRENT_POINTER
    try:
        data = json.loads(pointer.read_text())
    except FileNotFoundError:
        return None
    except (ValueError, OSError) as exc:
        raise WarehouseError(f"{pointer} is unreadable ({exc})") from exc
    landed = data.get("landed_at")
    return Snapshot(
        snapshot_id=data["snapshot"],
        directory=warehouse / SNAPSHOTS / data["snapshot"],
        published_at=datetime.datetime.fromisoformat(data["published_at"]),
        landed_at=datetime.datetime.fromisoformat(landed) if landed else None,
        as_of=data.get("as_of"),
        project_checksum=data.get("project_checksum"),
        as_of_date=data.get("as_of_date"),
        warnings=tuple(data.get("warnings") or ()),
    )


@contextmanager
def refresh_lock(warehouse: Path, *, wait: bool = False) -> Iterator[int]:
    """Hold the warehouse's refresh lock: one refresh at a time.

    The lock is an flock, so the operating system releases it when its holders die (a killed
    refresh never leaves a stale lock). It yields the lock's file descriptor: dbt inherits it, so
    a dbt process orphaned by a killed refresh keeps the lock until it exits too. Without
    ``wait`` a second refresh is refused at once.
    """
    warehouse.mkdir(parents=True, exist_ok=True)
    path = warehouse / LOCK
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise RefreshBusyError(
                f"another refresh of {warehouse} is running ({holder}); wait for it, or pass --wait"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}, started {_now().isoformat(timespec='seconds')}")
        handle.flush()
        try:
            yield handle.fileno()
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def _new_snapshot_id(now: datetime.datetime) -> str:
    return f"{now.strftime('%Y%m%dT%H%M%S%fZ')}-{uuid.uuid4().hex[:6]}"


def _prepare_build_copy(warehouse: Path, published: Snapshot | None) -> Path:
    """A fresh build directory holding a copy of the published database (if any)."""
    build_dir = warehouse / BUILD
    if build_dir.exists():
        logger.info("removing the build copy a previous refresh left behind")
        shutil.rmtree(build_dir)
    build_dir.mkdir(parents=True)
    if published is not None:
        shutil.copyfile(published.database, build_dir / settings.DATABASE_FILE)
        # dbt's parse of the published build: with it dbt re-parses only what changed (the
        # project's files, or the few models reading BILLREADY_* environment variables).
        parsed = published.directory / "target" / PARTIAL_PARSE
        if parsed.exists():
            (build_dir / "target").mkdir()
            shutil.copyfile(parsed, build_dir / "target" / PARTIAL_PARSE)
    return build_dir


def _load_ids(database: Path) -> set[str]:
    """The loads logged in ``database`` (raw_autotask._load_log), none when it has no log yet."""
    if not database.exists():
        return set()
    with duckdb.connect(str(database)) as connection:
        logged = connection.execute(
            "select count(*) from information_schema.tables where table_schema = 'raw_autotask' and table_name = '_load_log'"
        ).fetchone()
        if not logged or not logged[0]:
            return set()
        return {str(row[0]) for row in connection.execute("select distinct load_id from raw_autotask._load_log").fetchall()}


@dataclass(frozen=True)
class BuildPlan:
    """What a refresh's ``dbt build`` covers: every node, or (``select``) what the landing changed."""

    reason: str
    select: str | None = None
    """A dbt selection (space-separated union), or None for every node."""
    changed_sources: tuple[str, ...] = ()
    """The raw tables the landing changed (``_load_log`` among them when it logged anything)."""
    first_landed: tuple[str, ...] = ()
    """The entities the landing logged for the first time."""
    as_of_readers: tuple[str, ...] = ()
    """The nodes that read the as-of date, selected because it moved since the published build."""

    def describe(self) -> str:
        if self.select is None:
            return f"building every model ({self.reason})"
        tables = [name for name in self.changed_sources if name != LOAD_LOG]
        changed = f"the models downstream of {', '.join(tables)}, " if tables else ""
        first = f" (first landing of {', '.join(self.first_landed)})" if self.first_landed else ""
        dated = f", the models that read the as-of date ({', '.join(self.as_of_readers)})" if self.as_of_readers else ""
        return (
            f"building what the landing changed: {changed}the load log's readers{first}{dated} "
            f"and the history ({self.reason})"
        )


def _raw_sources(manifest: dict[str, Any]) -> dict[str, str]:
    """The landed tables dbt reads, from a build's manifest: table name (identifier) -> source name."""
    return {
        str(node.get("identifier") or node["name"]).lower(): node["name"]
        for node in manifest.get("sources", {}).values()
        if node.get("source_name") == RAW_SOURCE
    }


def _model_meta(node: dict[str, Any]) -> dict[str, Any]:
    return {**(node.get("meta") or {}), **((node.get("config") or {}).get("meta") or {})}


def load_log_selection(manifest: dict[str, Any], *, new_entities: bool) -> list[str]:
    """The dbt selection a landing's ``_load_log`` rows call for, from the models that read the log
    (directly, or through a model marked ``staging``) and what each says it reads it for
    (``meta.billready_load_log``):

    * ``staging``: the log's view, selected alone (its data tests with it); its readers are judged
      in turn;
    * ``state``: read for an incremental model's state only: not selected for the log;
    * ``landed_entities``: which entities were ever landed: selected with what reads it when the
      landing logged an entity for the first time (``new_entities``);
    * anything else (no mark): selected with everything downstream.
    """
    models = {
        unique_id: node
        for unique_id, node in manifest.get("nodes", {}).items()
        if node.get("resource_type") == "model"
    }
    log_source = next(
        (
            unique_id
            for unique_id, node in manifest.get("sources", {}).items()
            if node.get("source_name") == RAW_SOURCE and node.get("name") == LOAD_LOG
        ),
        None,
    )
    if log_source is None:
        return []
    selection: list[str] = []
    parents, seen = [log_source], {log_source}
    while parents:
        parent = parents.pop()
        for unique_id, node in sorted(models.items()):
            if unique_id in seen or parent not in (node.get("depends_on") or {}).get("nodes", []):
                continue
            seen.add(unique_id)
            use = _model_meta(node).get(LOAD_LOG_META)
            if use == "staging":
                selection.append(node["name"])
                parents.append(unique_id)
            elif use == "state" or (use == "landed_entities" and not new_entities):
                continue
            else:
                selection.append(f"{node['name']}+")
    return selection


def as_of_date_readers(manifest: dict[str, Any]) -> list[str]:
    """The nodes whose SQL reads the as-of date: they call the ``as_of_date`` macro, or a macro
    that does (at any depth). Names of models, then of the other nodes (data tests)."""
    macros = manifest.get("macros", {})
    reading = {unique_id for unique_id, macro in macros.items() if macro.get("name") == AS_OF_MACRO}
    grew = True
    while grew:
        callers = {
            unique_id
            for unique_id, macro in macros.items()
            if reading & set((macro.get("depends_on") or {}).get("macros", []))
        }
        grew = not callers <= reading
        reading |= callers
    readers = [
        node
        for node in manifest.get("nodes", {}).values()
        if reading & set((node.get("depends_on") or {}).get("macros", []))
    ]
    models = sorted(node["name"] for node in readers if node.get("resource_type") == "model")
    others = sorted(node["name"] for node in readers if node.get("resource_type") not in ("model", "unit_test"))
    return [*models, *others]


def new_entities_landed(database: Path, load_ids: set[str]) -> list[str]:
    """The entities the loads ``load_ids`` logged that no other load had logged: landed for the
    first time."""
    if not load_ids:
        return []
    with duckdb.connect(str(database), read_only=True) as connection:
        rows = connection.execute(
            f"select distinct entity from {RAW_SCHEMA}.{LOAD_LOG} where list_contains(?, load_id) "
            f"except select entity from {RAW_SCHEMA}.{LOAD_LOG} where not list_contains(?, load_id)",
            [sorted(load_ids), sorted(load_ids)],
        ).fetchall()
    return sorted(str(row[0]) for row in rows)


def changed_raw_tables(database: Path, load_ids: set[str], tables: Collection[str]) -> set[str]:
    """Which of the raw ``tables`` hold a record that the loads ``load_ids`` landed or marked deleted.

    As the incremental models judge it (macros/incremental_changes.sql): a record's ``_loaded_at``
    or ``_deleted_at`` is the time of one of these loads, or later than every other logged load (a
    landing that logged no time of its own). ``_load_log`` counts as changed when the loads logged
    anything.
    """
    changed: set[str] = set()
    if not load_ids:
        return changed
    wanted = {table.lower() for table in tables}
    with duckdb.connect(str(database), read_only=True) as connection:
        new_times = [
            row[0]
            for row in connection.execute(
                f"select distinct loaded_at from {RAW_SCHEMA}.{LOAD_LOG} where list_contains(?, load_id)",
                [sorted(load_ids)],
            ).fetchall()
        ]
        if new_times and LOAD_LOG in wanted:
            changed.add(LOAD_LOG)
        before = connection.execute(
            f"select max(loaded_at) from {RAW_SCHEMA}.{LOAD_LOG} where not list_contains(?, load_id)",
            [sorted(load_ids)],
        ).fetchone()
        watermark = before[0] if before else None
        stamped = connection.execute(
            "select table_name from information_schema.columns where table_schema = ? and column_name = '_loaded_at'",
            [RAW_SCHEMA],
        ).fetchall()
        for (table,) in stamped:
            if table.lower() not in wanted or table == LOAD_LOG:
                continue
            has_deleted = connection.execute(
                "select count(*) from information_schema.columns "
                "where table_schema = ? and table_name = ? and column_name = '_deleted_at'",
                [RAW_SCHEMA, table],
            ).fetchone()
            stamps = ["_loaded_at", "_deleted_at"] if has_deleted and has_deleted[0] else ["_loaded_at"]
            conditions = [f"list_contains(?::timestamp[], {stamp})" for stamp in stamps]
            parameters: list[Any] = [new_times] * len(stamps)
            if watermark is not None:
                conditions += [f"{stamp} > ?" for stamp in stamps]
                parameters += [watermark] * len(stamps)
            elif not new_times:
                conditions = ["true"]  # nothing logged before or now: every record is new
                parameters = []
            found = connection.execute(
                f'select exists (select 1 from {RAW_SCHEMA}."{table}" where {" or ".join(conditions)})',
                parameters,
            ).fetchone()
            if found and found[0]:
                changed.add(table.lower())
    return changed


def plan_build(
    published: Snapshot | None,
    database: Path,
    *,
    checksum: str,
    as_of_date: datetime.date,
    landed_loads: set[str],
    rebuild_all: bool = False,
) -> BuildPlan:
    """Every node, or only what this landing changed (the module's "Selective builds")."""
    if rebuild_all:
        return BuildPlan("asked to rebuild everything")
    if published is None:
        return BuildPlan("a first build")
    if published.project_checksum != checksum:
        return BuildPlan(f"the dbt project changed since snapshot {published.snapshot_id}")
    if published.as_of_date is None:
        return BuildPlan(f"snapshot {published.snapshot_id} recorded no as-of date")
    if not landed_loads:
        return BuildPlan("nothing new was landed")
    manifest_path = published.directory / "target" / MANIFEST
    if not manifest_path.exists():
        return BuildPlan(f"snapshot {published.snapshot_id} kept no dbt manifest")
    manifest = json.loads(manifest_path.read_text())
    sources = _raw_sources(manifest)
    changed = sorted(sources[table] for table in changed_raw_tables(database, landed_loads, sources))
    if not changed:
        return BuildPlan("the landing logged nothing")
    reason = f"everything else is snapshot {published.snapshot_id}'s, built and tested from the same data"
    selection = [f"source:{RAW_SOURCE}.{name}+" for name in changed if name != LOAD_LOG]
    first_landed: list[str] = []
    if LOAD_LOG in changed:
        first_landed = new_entities_landed(database, landed_loads)
        selection += load_log_selection(manifest, new_entities=bool(first_landed))
    dated: list[str] = []
    if published.as_of_date != as_of_date.isoformat():
        # Rules judged against the date (overdue, ready before due, ...) move with it; every other
        # model's rows do not depend on it.
        dated = as_of_date_readers(manifest)
        models = {node["name"] for node in manifest.get("nodes", {}).values() if node.get("resource_type") == "model"}
        selection += [f"{name}+" if name in models else name for name in dated]
        reason += f"; the as-of date moved from {published.as_of_date} to {as_of_date.isoformat()}"
    selection.append(f"tag:{EVERY_REFRESH_TAG}+")
    return BuildPlan(
        reason,
        select=" ".join(selection),
        changed_sources=tuple(changed),
        first_landed=tuple(first_landed),
        as_of_readers=tuple(dated),
    )


def _checkpoint(database: Path) -> None:
    """Fold any write-ahead log into the file, so the snapshot is one self-contained file."""
    with duckdb.connect(str(database)) as connection:
        connection.execute("checkpoint")
    wal = database.with_name(database.name + ".wal")
    if wal.exists():
        raise WarehouseError(f"{wal} survived a checkpoint; not publishing")


def _publish(warehouse: Path, build_dir: Path, snapshot_id: str, meta: dict[str, Any]) -> Snapshot:
    snapshots = warehouse / SNAPSHOTS
    snapshots.mkdir(exist_ok=True)
    target = snapshots / snapshot_id
    os.rename(build_dir, target)  # same file system: atomic
    pointer = warehouse / settings.CURRENT_POINTER
    staged = pointer.with_suffix(".json.tmp")
    staged.write_text(json.dumps({"snapshot": snapshot_id, **meta}, indent=2))
    with staged.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(staged, pointer)  # the publish: readers see the old snapshot or the new one
    snapshot = current_snapshot(warehouse)
    assert snapshot is not None
    return snapshot


def _warnings(report: BuildReport, carried_from: Snapshot | None) -> list[str]:
    """The tests that warned: in this build, and (a selective build) those of ``carried_from`` this
    build did not run again, whose data it keeps."""
    ran = {outcome.unique_id for outcome in report.outcomes}
    kept = [unique_id for unique_id in (carried_from.warnings if carried_from else ()) if unique_id not in ran]
    return [outcome.unique_id for outcome in report.warnings] + kept


def prune(warehouse: Path, keep: int) -> list[str]:
    """Remove published snapshots beyond the newest ``keep`` (never the current one)."""
    snapshots = warehouse / SNAPSHOTS
    current = current_snapshot(warehouse)
    if not snapshots.exists():
        return []
    ids = sorted((p.name for p in snapshots.iterdir() if p.is_dir()), reverse=True)
    removed = []
    for snapshot_id in ids[keep:]:
        if current is not None and snapshot_id == current.snapshot_id:
            continue
        shutil.rmtree(snapshots / snapshot_id, ignore_errors=True)
        removed.append(snapshot_id)
    return removed


def refresh(
    warehouse: Path,
    *,
    land: Lander | None = None,
    as_of: datetime.date | None = None,
    keep: int | None = None,
    quiet: bool = False,
    wait: bool = False,
    rebuild_all: bool = False,
) -> Snapshot:
    """Land (optionally), build, test and publish a new snapshot of ``warehouse``.

    ``as_of`` (default: the day the refresh starts, local time) is the date rules are evaluated
    against. The build covers what the landing changed when it can (the module's "Selective
    builds"); ``rebuild_all`` builds and tests every model.

    Raises (and publishes nothing) when landing fails, a source is past its error freshness, or
    any model, data test or unit test fails. The published snapshot is untouched either way.
    """
    keep = keep or keep_default()
    started = time.perf_counter()
    with refresh_lock(warehouse, wait=wait) as lock_fd:
        published = current_snapshot(warehouse)
        build_dir = _prepare_build_copy(warehouse, published)
        landed_at = published.landed_at if published else None
        landed_loads: set[str] = set()
        if land is not None:
            logged_before = _load_ids(build_dir / settings.DATABASE_FILE)
            logger.info("landing new data")
            land(build_dir / settings.DATABASE_FILE)
            landed_at = _now()
            landed_loads = _load_ids(build_dir / settings.DATABASE_FILE) - logged_before
        if not (build_dir / settings.DATABASE_FILE).exists():
            raise WarehouseError(
                f"nothing to build in {warehouse}: land an export first "
                "(`billready refresh PATH`, `billready ingest PATH` or `billready demo`)"
            )
        now = _now()
        snapshot_id = _new_snapshot_id(now)
        # Unit tests check the models' logic on fixed inputs, not the data: when the published
        # snapshot was built (and so unit-tested) with this very project, they would only repeat.
        # Likewise its staging key tests passed on every record it holds, so only the keys this
        # refresh landed need testing again (macros/get_where_subquery.sql).
        checksum = project_checksum()
        unchanged = published is not None and published.project_checksum == checksum
        # One date for the whole build, passed to dbt, rather than each query's current_date: a
        # build running over midnight evaluates every rule against the day it started.
        as_of_date = as_of or datetime.date.today()
        env = dbt_env(as_of_date, snapshot_id, now, landed_loads=landed_loads if unchanged else None)
        plan = plan_build(
            published,
            build_dir / settings.DATABASE_FILE,
            checksum=checksum,
            as_of_date=as_of_date,
            landed_loads=landed_loads,
            rebuild_all=rebuild_all,
        )
        logger.info("%s", plan.describe())
        if plan.select is not None and not plan.as_of_readers:
            # Models marked `patched_through` may rewrite only what those parents changed
            # (macros/patched_through.sql): the stored rows are this project's, on this date.
            env = {**env, PATCH_ALLOWED_ENV: "1"}
        command = ["build"]
        if plan.select is not None:
            command += ["--select", plan.select]
        if unchanged:
            assert published is not None
            logger.info("unit tests skipped: the project is unchanged since snapshot %s, which passed them", published.snapshot_id)
            command += ["--exclude", "resource_type:unit_test"]
        # One dbt process for both commands: dbt starts and parses the project once.
        logger.info("checking source freshness, then building and testing (dbt source freshness, dbt build)")
        report: BuildReport = run_dbt_commands(
            build_dir, [["source", "freshness"], command], quiet=quiet, env=env, pass_fds=(lock_fd,)
        )
        _checkpoint(build_dir / settings.DATABASE_FILE)
        snapshot = _publish(
            warehouse,
            build_dir,
            snapshot_id,
            {
                "published_at": _now().isoformat(),
                "landed_at": landed_at.isoformat() if landed_at else None,
                "as_of": as_of.isoformat() if as_of else None,
                "as_of_date": as_of_date.isoformat(),
                "project_checksum": checksum,
                "build": "all" if plan.select is None else {
                    "select": plan.select,
                    "changed_sources": list(plan.changed_sources),
                    "first_landed": list(plan.first_landed),
                    "as_of_readers": list(plan.as_of_readers),
                },
                "warnings": _warnings(report, published if plan.select is not None else None),
            },
        )
        removed = prune(warehouse, keep)
    logger.info(
        "published snapshot %s in %.1f s%s",
        snapshot.snapshot_id,
        time.perf_counter() - started,
        f"; removed {len(removed)} old snapshot(s)" if removed else "",
    )
    return snapshot
