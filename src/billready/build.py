"""Run the dbt project (seeds, models, data tests, unit tests) against the warehouse.

dbt runs in a child process: dbt-duckdb keeps its connection open for the life of the process that
ran it, which would lock the file against the read-only connections billready opens afterwards,
and a child process is also how a scheduler runs it.
"""
from __future__ import annotations

import datetime
import hashlib
import json
import logging
import os
import subprocess
import sys
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from billready import settings
from billready.errors import BuildError, WarehouseError

logger = logging.getLogger(__name__)

_LOCK_MARKERS = ("Could not set lock on file", "Conflicting lock is held")
_FAILED = {"error", "fail", "runtime error"}


@dataclass(frozen=True)
class NodeOutcome:
    """One dbt node's result (a model, seed, data test or unit test)."""

    unique_id: str
    status: str
    message: str | None
    relation_name: str | None = None


@dataclass
class BuildReport:
    """What a dbt invocation did, from its run_results.json."""

    command: str
    outcomes: list[NodeOutcome] = field(default_factory=list)

    @property
    def failures(self) -> list[NodeOutcome]:
        return [o for o in self.outcomes if o.status in _FAILED]

    @property
    def warnings(self) -> list[NodeOutcome]:
        return [o for o in self.outcomes if o.status == "warn"]


def _dbt_executable() -> str:
    """The dbt of the environment billready runs in."""
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def _read_run_results(target: Path, command: str) -> BuildReport:
    report = BuildReport(command=command)
    path = target / "run_results.json"
    if not path.exists():
        return report
    for result in json.loads(path.read_text()).get("results", []):
        report.outcomes.append(
            NodeOutcome(
                unique_id=result["unique_id"],
                status=str(result["status"]).lower(),
                message=result.get("message"),
                relation_name=result.get("relation_name"),
            )
        )
    return report


def run_dbt(
    warehouse: Path,
    command: Sequence[str],
    *,
    quiet: bool = False,
    target: str = settings.DEFAULT_TARGET,
    env: Mapping[str, str] | None = None,
    pass_fds: Sequence[int] = (),
) -> BuildReport:
    """Run one dbt command on the project, with artifacts written under the warehouse.

    ``target`` names the profiles.yml target (``duckdb``, or ``spark``: see billready.spark);
    ``env`` adds to the environment dbt runs in. ``pass_fds`` are file descriptors dbt inherits
    (billready.refresh passes its lock, so the lock outlives a killed parent until dbt exits too).

    dbt's progress lines are shown as it goes (only errors with ``quiet``). Raises WarehouseError
    when the DuckDB file is locked by another process and BuildError when any node fails;
    warnings are logged and returned in the report.
    """
    target_dir = _prepare(warehouse, target)
    args = [_dbt_executable(), *_dbt_args(warehouse, command, quiet=quiet, target=target)]
    returncode, text = _run_child(args, _child_env(warehouse, env), quiet=quiet, pass_fds=pass_fds)
    report = _read_run_results(target_dir, " ".join(command))
    return _checked(report, returncode, text, warehouse, target)


def run_dbt_commands(
    warehouse: Path,
    commands: Sequence[Sequence[str]],
    *,
    quiet: bool = False,
    target: str = settings.DEFAULT_TARGET,
    env: Mapping[str, str] | None = None,
    pass_fds: Sequence[int] = (),
) -> BuildReport:
    """Run dbt commands one after another in one child process (billready.dbt_session): dbt
    starts and parses the project once, not once per command. Stops at the first command that
    fails, raising as :func:`run_dbt` does for it; returns the last command's report."""
    target_dir = _prepare(warehouse, target)
    status_file = target_dir / "billready_session.json"
    status_file.unlink(missing_ok=True)
    # dbt writes manifest.json and semantic_manifest.json after every command (about a second at a
    # million milestones); the last command's are the ones kept, so the others skip writing them.
    skip_json = ["--no-write-json"]
    every = [_dbt_args(warehouse, ["parse", *skip_json], quiet=quiet, target=target)]
    for index, command in enumerate(commands):
        last = index == len(commands) - 1
        every.append(_dbt_args(warehouse, [*command, *([] if last else skip_json)], quiet=quiet, target=target))
    args = [sys.executable, "-m", "billready.dbt_session", str(status_file), json.dumps(every)]
    returncode, text = _run_child(args, _child_env(warehouse, env), quiet=quiet, pass_fds=pass_fds)
    statuses = json.loads(status_file.read_text()) if status_file.exists() else []
    if len(statuses) > 1:  # the last command that ran, after the parse
        report = _read_run_results(target_dir, " ".join(commands[len(statuses) - 2]))
    else:
        report = BuildReport(command="parse")
    if statuses and statuses[-1]["exception"]:
        text = f"{text}\n{statuses[-1]['exception']}"
    failed = returncode != 0 or not statuses or not all(status["success"] for status in statuses)
    return _checked(report, 1 if failed else 0, text, warehouse, target)


def _prepare(warehouse: Path, target: str) -> Path:
    """Create the warehouse directory and clear the last run's results; returns the target dir."""
    warehouse.mkdir(parents=True, exist_ok=True)
    target_dir = settings.dbt_target_dir(warehouse, target)
    (target_dir / "run_results.json").unlink(missing_ok=True)
    return target_dir


def _dbt_args(warehouse: Path, command: Sequence[str], *, quiet: bool, target: str) -> list[str]:
    """dbt's arguments for ``command`` on the project, artifacts under the warehouse."""
    return [
        *(["--quiet"] if quiet else []),
        "--no-use-colors",
        *command,
        "--project-dir", str(settings.project_dir()),
        "--profiles-dir", str(settings.project_dir()),
        "--target-path", str(settings.dbt_target_dir(warehouse, target)),
        "--log-path", str(warehouse / "logs"),
        "--target", target,
    ]


def _child_env(warehouse: Path, env: Mapping[str, str] | None) -> dict[str, str]:
    return {
        **os.environ,
        "BILLREADY_DUCKDB_PATH": str(settings.database_path(warehouse)),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        **(env or {}),
    }


def _run_child(args: list[str], env: Mapping[str, str], *, quiet: bool, pass_fds: Sequence[int]) -> tuple[int, str]:
    """Run dbt (or the session) in the project directory, showing its output unless ``quiet``;
    returns the exit status and the whole output."""
    logger.debug("running %s", " ".join(args))
    output: list[str] = []
    with subprocess.Popen(
        args, cwd=settings.project_dir(), env=dict(env), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, pass_fds=tuple(pass_fds),
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            if not quiet:
                sys.stdout.write(line)
                sys.stdout.flush()
        returncode = process.wait()
    return returncode, "".join(output)


def _checked(report: BuildReport, returncode: int, text: str, warehouse: Path, target: str) -> BuildReport:
    """Raise for a locked warehouse or a failed command; log the warnings; return the report."""
    if any(marker in text for marker in _LOCK_MARKERS):
        raise WarehouseError(
            f"the warehouse {settings.database_path(warehouse)} is open in another process "
            "(the report, or another billready command); close it and try again"
        )
    if returncode != 0 or report.failures:
        details = "\n".join(f"  {o.unique_id}: {o.status}: {o.message}" for o in report.failures)
        if not details:
            details = text.strip()[-4000:]
        raise BuildError(f"dbt {report.command} failed:\n{details}")
    for outcome in report.warnings:
        # The stored failing rows are read from the DuckDB file; other targets name the test only.
        stored = _stored_failures(warehouse, outcome) if target == settings.DEFAULT_TARGET else ""
        logger.warning("warning: %s: %s%s", outcome.unique_id, outcome.message, stored)
    return report


def _stored_failures(warehouse: Path, outcome: NodeOutcome, limit: int = 20) -> str:
    """The rows a warned test stored (store_failures), so the warning names what it found."""
    if not outcome.relation_name:
        return ""
    import duckdb

    with duckdb.connect(str(settings.database_path(warehouse)), read_only=True) as connection:
        cursor = connection.execute(f"select * from {outcome.relation_name} limit {limit}")
        columns = [column[0] for column in cursor.description]
        rows = cursor.fetchall()
    return "".join("\n    " + ", ".join(f"{c}={v!r}" for c, v in zip(columns, row)) for row in rows)


def dbt_env(
    as_of: datetime.date | None,
    refresh_id: str | None = None,
    refreshed_at: datetime.datetime | None = None,
    *,
    landed_loads: Collection[str] | None = None,
) -> dict[str, str]:
    """The environment a build reads its date and refresh from (macros/as_of_date.sql,
    macros/history.sql). Environment variables, not ``--vars``: a var that changes forces dbt to
    re-parse the whole project, while a changed environment variable re-parses only the files
    that read it. Empty values mean "not set" (the day the build runs; dbt's invocation).

    ``landed_loads``: the load ids this build's refresh landed, when every record landed before
    them was already tested with this project; the staging key tests then test only the keys of
    these loads (macros/get_where_subquery.sql). ``None`` tests every record."""
    return {
        "BILLREADY_AS_OF_DATE": as_of.isoformat() if as_of else "",
        "BILLREADY_REFRESH_ID": refresh_id or "",
        "BILLREADY_REFRESHED_AT": refreshed_at.strftime("%Y-%m-%d %H:%M:%S") if refreshed_at else "",
        "BILLREADY_LANDED_LOADS": "" if landed_loads is None else json.dumps(sorted(landed_loads)),
    }


PROJECT_PARTS = ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "data_tests", "analyses", "snapshots")
"""What defines the dbt project's logic: a change to any of these files changes the checksum."""


def project_checksum(project: Path | None = None) -> str:
    """A sha256 over the dbt project's files (paths and contents), for telling whether the logic a
    published build was tested with is the logic about to run."""
    project = project or settings.project_dir()
    digest = hashlib.sha256()
    for part in PROJECT_PARTS:
        root = project / part
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []
        for path in files:
            digest.update(str(path.relative_to(project)).encode())
            digest.update(b"\0")
            digest.update(path.read_bytes())
            digest.update(b"\0")
    return digest.hexdigest()

