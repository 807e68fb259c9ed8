"""History across refreshes: three refreshes of a small tenant, and the trend metrics compared
with values computed by hand from what changed between them."""
from __future__ import annotations

import csv
import datetime
from pathlib import Path

import duckdb
import pytest

from billready import settings
from billready.ingest import ingest_directory
from billready.refresh import refresh
from billready.report import Report
from billready.semantic import Warehouse

AS_OF = datetime.date(2026, 11, 20)


def _write(export: Path, entity: str, rows: list[dict]) -> None:
    with (export / f"{entity}.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _export(directory: Path, milestones: list[dict], billing_items: list[dict] | None = None) -> Path:
    directory.mkdir()
    _write(directory, "Companies", [{"id": 1, "companyName": "Harbor Dental"}])
    _write(directory, "Contracts", [{"id": 10, "companyID": 1, "contractName": "Harbor – Fixed Price", "status": 1, "endDate": "2027-12-31"}])
    _write(directory, "Projects", [{"id": 100, "companyID": 1, "contractID": 10, "projectName": "Harbor M365"}])
    _write(directory, "BillingCodes", [{"id": 5, "name": "Fixed Fee Milestone", "isActive": "true"}])
    _write(directory, "ContractMilestones", milestones)
    if billing_items:
        _write(directory, "BillingItems", billing_items)
    return directory


def _milestone(milestone_id: int, status: str, amount: int, code: int | None) -> dict:
    return {"id": milestone_id, "contractID": 10, "title": f"M{milestone_id}", "amount": amount,
            "dateDue": "2026-12-15", "status": status, "billingCodeID": code if code is not None else ""}


@pytest.fixture(scope="module")
def three_refreshes(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, datetime.date]:
    root = tmp_path_factory.mktemp("history")
    warehouse = root / "warehouse"
    posted = datetime.datetime.now(datetime.timezone.utc).date() + datetime.timedelta(days=3)
    exports = [
        # 1: A approved without a code (conflict, $1,000), B complete and clean.
        _export(root / "e1", [_milestone(1, "Approved for Billing", 1000, None), _milestone(2, "Completed", 2000, 5)]),
        # 2: A fixed; B approved; C new and without a code (conflict, $500).
        _export(root / "e2", [_milestone(1, "Approved for Billing", 1000, 5), _milestone(2, "Approved for Billing", 2000, 5),
                              _milestone(3, "In Progress", 500, None)]),
        # 3: C fixed; B billed, posted three days after today.
        _export(root / "e3", [_milestone(1, "Approved for Billing", 1000, 5), _milestone(2, "Billed", 2000, 5),
                              _milestone(3, "In Progress", 500, 5)],
                [{"id": 1, "milestoneID": 2, "contractID": 10, "postedDate": posted.isoformat(), "extendedPrice": 2000}]),
    ]
    for export in exports:
        refresh(warehouse, land=lambda database, export=export: ingest_directory(export, database), as_of=AS_OF, quiet=True)
    return warehouse, posted


def _refresh_times(warehouse: Path) -> list[datetime.datetime]:
    with duckdb.connect(str(settings.database_path(warehouse)), read_only=True) as connection:
        return [row[0] for row in connection.execute(
            "select distinct refreshed_at from history.history_milestone_states order by 1").fetchall()]


def test_history_accumulates_one_state_per_refresh(three_refreshes: tuple[Path, datetime.date]) -> None:
    warehouse, _ = three_refreshes
    with duckdb.connect(str(settings.database_path(warehouse)), read_only=True) as connection:
        per_refresh = connection.execute(
            "select refresh_id, count(*) from history.history_milestone_states group by 1 order by 1").fetchall()
        snapshot_ids = sorted(p.name for p in (warehouse / "snapshots").iterdir())
    assert [count for _, count in per_refresh] == [2, 3, 3]
    assert [refresh_id for refresh_id, _ in per_refresh][-len(snapshot_ids):] == snapshot_ids


def test_refresh_trend_equals_hand_computed_values(three_refreshes: tuple[Path, datetime.date]) -> None:
    warehouse, _ = three_refreshes
    with Warehouse(warehouse) as opened:
        frame = Report(opened).refresh_trend().result.frame
    assert list(frame["history_conflicts"]) == [1, 1, 0]
    assert [float(v) for v in frame["history_revenue_at_risk"]] == [1000.0, 500.0, 0.0]
    # approved and not billed: A ($1,000); then A and B ($3,000); then A again (B was billed)
    assert [float(v) for v in frame["unbilled_approved_amount"]] == [1000.0, 3000.0, 1000.0]


def test_time_to_resolve_and_cycle_time_equal_hand_computed_values(three_refreshes: tuple[Path, datetime.date]) -> None:
    warehouse, posted = three_refreshes
    first, second, third = _refresh_times(warehouse)
    with Warehouse(warehouse) as opened:
        row = Report(opened).history_summary().result.frame.iloc[0]
    assert int(row["resolved_conflicts"]) == 2
    # A: seen at refresh 1, gone at refresh 2; C: seen at 2, gone at 3
    expected_days = ((second - first).total_seconds() + (third - second).total_seconds()) / 2 / 86400
    assert float(row["avg_days_to_resolve"]) == pytest.approx(expected_days, abs=1e-9)
    # B: first seen complete at refresh 1, posted three days after today
    assert float(row["avg_cycle_days"]) == (posted - first.date()).days


def test_full_refresh_keeps_history(three_refreshes: tuple[Path, datetime.date], tmp_path: Path) -> None:
    """`dbt build --full-refresh` does not wipe the history (full_refresh=false on its models)."""
    import shutil

    from billready.build import run_dbt

    copy = tmp_path / "copy"
    shutil.copytree(settings.serving_dir(three_refreshes[0]), copy)
    run_dbt(copy, ["build", "--full-refresh", "--select", "history_milestone_states"], quiet=True)
    with duckdb.connect(str(copy / settings.DATABASE_FILE), read_only=True) as connection:
        assert connection.execute("select count(distinct refresh_id) from history.history_milestone_states").fetchall()[0][0] == 4
