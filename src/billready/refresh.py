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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from billready import settings
from billready.build import BuildReport, dbt_env, project_checksum, run_dbt_commands
from billready.errors import RefreshBusyError, WarehouseError

logger = logging.getLogger(__name__)

DEFAULT_KEEP = 3
KEEP_ENV = "BILLREADY_KEEP_SNAPSHOTS"
SNAPSHOTS = "snapshots"
BUILD = "build"
LOCK = ".refresh.lock"
PARTIAL_PARSE = "partial_parse.msgpack"

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
) -> Snapshot:
    """Land (optionally), build, test and publish a new snapshot of ``warehouse``.

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
        env = dbt_env(as_of, snapshot_id, now, landed_loads=landed_loads if unchanged else None)
        command = ["build"]
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
                "project_checksum": checksum,
                "warnings": [outcome.unique_id for outcome in report.warnings],
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
