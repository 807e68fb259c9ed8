"""Refresh: readers only ever see whole published snapshots; failed or killed refreshes change
nothing; one refresh at a time; old snapshots are pruned."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from billready import settings
from billready.cli import main
from billready.errors import BuildError, RefreshBusyError
from billready.ingest import ingest_directory
from billready.refresh import current_snapshot, refresh, refresh_lock

BILLREADY = [sys.executable, "-m", "billready.cli"]


def _milestone_count(warehouse: Path) -> int:
    with duckdb.connect(str(settings.database_path(warehouse)), read_only=True) as connection:
        return connection.execute("select count(*) from marts.bi_contract_milestones").fetchall()[0][0]


def _export_with_extra_milestone(tmp_path: Path) -> Path:
    """The demo export plus one more (clean, incomplete) milestone: 56 milestones instead of 55."""
    export = tmp_path / "export-plus-one"
    shutil.copytree(settings.demo_export_dir(), export)
    lines = (export / "ContractMilestones.csv").read_text().splitlines()
    header = lines[0].split(",")
    last = lines[-1].split(",")
    last[header.index("id")] = "99999999"
    (export / "ContractMilestones.csv").write_text("\n".join([*lines, ",".join(last)]) + "\n")
    return export


@pytest.fixture()
def published(demo_warehouse: Path, tmp_path: Path) -> Path:
    """A private copy of the published demo warehouse."""
    warehouse = tmp_path / "warehouse"
    shutil.copytree(demo_warehouse, warehouse)
    return warehouse


def _unit_tests_run(snapshot_dir: Path) -> int:
    results = json.loads((snapshot_dir / "target" / "run_results.json").read_text())["results"]
    return sum(1 for result in results if result["unique_id"].startswith("unit_test."))


def _key_test_sql(snapshot_dir: Path) -> str:
    """The SQL the unique test on stg_autotask__contract_milestones.milestone_id ran."""
    [path] = (snapshot_dir / "target" / "run").rglob("unique_stg_autotask__contract_milestones_milestone_id.sql")
    return path.read_text()


def _loads(warehouse: Path) -> set[str]:
    with duckdb.connect(str(settings.database_path(warehouse)), read_only=True) as connection:
        return {row[0] for row in connection.execute("select load_id from raw_autotask._load_log").fetchall()}


def test_refresh_publishes_a_new_snapshot_and_prunes_old_ones(
    published: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = current_snapshot(published)
    assert first is not None and _milestone_count(published) == 55
    unit_tests = _unit_tests_run(first.directory)
    assert unit_tests > 0 and first.project_checksum
    export = _export_with_extra_milestone(tmp_path)
    loads_before = _loads(published)
    second = refresh(published, land=lambda database: ingest_directory(export, database), quiet=True, keep=2)
    assert second.snapshot_id != first.snapshot_id
    assert _milestone_count(published) == 56
    assert first.database.exists(), "the previous snapshot is kept (keep=2)"
    # The same project as the published build: its unit tests are not repeated, and the staging
    # key tests test the keys of the load this refresh landed ...
    assert _unit_tests_run(second.directory) == 0 and second.project_checksum == first.project_checksum
    assert "raw_autotask\".\"_load_log" not in _key_test_sql(first.directory)
    [landed] = _loads(published) - loads_before
    assert f"load_id in ('{landed}')" in _key_test_sql(second.directory)
    # ... a changed project runs the unit tests again and tests every key.
    monkeypatch.setattr("billready.refresh.project_checksum", lambda: "changed")
    third = refresh(published, quiet=True, keep=2)
    assert _unit_tests_run(third.directory) == unit_tests
    assert "_load_log" not in _key_test_sql(third.directory)
    assert _milestone_count(published) == 56
    assert not first.directory.exists(), "the oldest snapshot beyond keep=2 is removed"
    assert sorted(p.name for p in (published / "snapshots").iterdir()) == sorted([second.snapshot_id, third.snapshot_id])
    assert not (published / "build").exists()


def test_a_failing_error_level_test_publishes_nothing(published: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "project"
    project.mkdir()
    for name in ("dbt_project.yml", "profiles.yml", "models", "seeds", "macros", "data_tests"):
        source = settings.project_dir() / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, project / name)
    (project / "data_tests" / "always_fails.sql").write_text("select 1 as failure")
    monkeypatch.setenv(settings.PROJECT_ENV, str(project))
    before = (published / settings.CURRENT_POINTER).read_text()
    with pytest.raises(BuildError, match="always_fails"):
        refresh(published, quiet=True)
    assert (published / settings.CURRENT_POINTER).read_text() == before
    assert _milestone_count(published) == 55
    monkeypatch.delenv(settings.PROJECT_ENV)
    refresh(published, quiet=True)  # the next refresh succeeds with no clean-up
    assert (published / settings.CURRENT_POINTER).read_text() != before


def test_a_landed_duplicate_of_an_old_key_fails_the_refresh(published: Path, tmp_path: Path) -> None:
    """The staging key tests read only the keys a refresh landed, but every record of those keys:
    a landing that wrote a second record for a key landed long ago (an upsert that inserted
    instead of replacing) is caught, and nothing is published."""
    export = _export_with_extra_milestone(tmp_path)

    def land_with_a_duplicate(database: Path) -> None:
        ingest_directory(export, database)
        with duckdb.connect(str(database)) as connection:
            connection.execute(
                """insert into raw_autotask.contract_milestones
                select * replace ((select max(loaded_at) from raw_autotask._load_log) as _loaded_at)
                from raw_autotask.contract_milestones
                where id = (select min(id) from raw_autotask.contract_milestones)"""
            )

    before = (published / settings.CURRENT_POINTER).read_text()
    with pytest.raises(BuildError, match="unique_stg_autotask__contract_milestones_milestone_id"):
        refresh(published, land=land_with_a_duplicate, quiet=True)
    assert (published / settings.CURRENT_POINTER).read_text() == before
    assert _milestone_count(published) == 55


def test_one_dbt_process_stops_at_the_first_failing_command(tmp_path: Path) -> None:
    """A refresh runs source freshness and build in one dbt process (billready.dbt_session): a
    failing command is named in the error, and nothing after it runs."""
    from billready.build import run_dbt_commands

    warehouse = tmp_path / "warehouse"
    with pytest.raises(BuildError, match="dbt run-operation no_such_macro failed") as caught:
        run_dbt_commands(warehouse, [["run-operation", "no_such_macro"], ["build"]], quiet=True)
    assert "no_such_macro" in str(caught.value)
    target = settings.dbt_target_dir(warehouse)
    statuses = json.loads((target / "billready_session.json").read_text())
    commands = [next(arg for arg in status["args"] if not arg.startswith("--")) for status in statuses]
    assert commands == ["parse", "run-operation"]  # build never ran
    assert [status["success"] for status in statuses] == [True, False]


def test_bad_data_exits_2_and_publishes_nothing(capsys: pytest.CaptureFixture[str], published: Path, tmp_path: Path) -> None:
    export = tmp_path / "bad"
    export.mkdir()
    (export / "Contracts.csv").write_text("id,endDate\n1,not-a-date\n")
    before = (published / settings.CURRENT_POINTER).read_text()
    assert main(["--warehouse", str(published), "refresh", str(export)]) == 2
    assert "Contracts.csv, row 1, field endDate" in capsys.readouterr().err
    assert (published / settings.CURRENT_POINTER).read_text() == before


def test_a_second_refresh_at_once_is_refused(capsys: pytest.CaptureFixture[str], published: Path) -> None:
    with refresh_lock(published):
        with pytest.raises(RefreshBusyError, match="another refresh"):
            refresh(published, quiet=True)
        assert main(["--warehouse", str(published), "build"]) == 2
        assert "another refresh" in capsys.readouterr().err


def _start_refresh(warehouse: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*BILLREADY, "--warehouse", str(warehouse), "refresh", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: we can kill billready and dbt together
    )


def test_a_refresh_killed_mid_build_changes_nothing(published: Path, tmp_path: Path) -> None:
    before = (published / settings.CURRENT_POINTER).read_text()
    export = _export_with_extra_milestone(tmp_path)
    process = _start_refresh(published, str(export))
    deadline = time.monotonic() + 120
    # Wait until dbt is building in the private copy (it has written its first artifacts).
    while not (published / "build" / "target" / "manifest.json").exists():
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert (published / settings.CURRENT_POINTER).read_text() == before
    assert _milestone_count(published) == 55
    # dbt inherited the refresh lock: it is released once every killed process is gone.
    snapshot = refresh(published, land=lambda database: ingest_directory(export, database), quiet=True, wait=True)
    assert current_snapshot(published) == snapshot
    assert _milestone_count(published) == 56


def test_readers_see_only_whole_snapshots_during_a_refresh(published: Path, tmp_path: Path) -> None:
    """A reader in a loop (another process) never errors and only ever sees the old or the new build."""
    export = _export_with_extra_milestone(tmp_path)
    reader_script = tmp_path / "reader.py"
    reader_script.write_text(
        "import json, sys, time\n"
        "from pathlib import Path\n"
        "from billready.semantic import Warehouse\n"
        "seen, errors = [], []\n"
        "stop = Path(sys.argv[2])\n"
        "while not stop.exists():\n"
        "    try:\n"
        "        with Warehouse(Path(sys.argv[1])) as warehouse:\n"
        "            rows = warehouse.query('select count(*) as milestones, (select count(*) from marts.bi_milestone_conflicts) as findings from marts.bi_contract_milestones').frame\n"
        "            seen.append([int(rows.milestones[0]), int(rows.findings[0])])\n"
        "    except Exception as exc:\n"
        "        errors.append(repr(exc))\n"
        "print(json.dumps({'seen': seen, 'errors': errors}))\n"
    )
    with duckdb.connect(str(settings.database_path(published)), read_only=True) as connection:
        findings = connection.execute("select count(*) from marts.bi_milestone_conflicts").fetchall()[0][0]
    old, new = (55, findings), (56, findings)  # the extra milestone is clean
    stop = tmp_path / "stop"
    reader = subprocess.Popen([sys.executable, str(reader_script), str(published), str(stop)], stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)
        assert main(["--warehouse", str(published), "refresh", "--quiet", "--keep", "1", str(export)]) == 0
        time.sleep(0.5)
    finally:
        stop.touch()
        out, _ = reader.communicate(timeout=60)
    result = json.loads(out)
    assert result["errors"] == []
    seen = [tuple(pair) for pair in result["seen"]]
    assert len(seen) > 5
    assert set(seen) <= {old, new}
    first_new = seen.index(new) if new in seen else len(seen)
    assert all(pair == old for pair in seen[:first_new]) and all(pair == new for pair in seen[first_new:])
    assert seen[-1] == new
