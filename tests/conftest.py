"""Shared fixtures: one demo warehouse built per test session (ingest + dbt build)."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from billready import settings
from billready.ingest import ingest_directory
from billready.refresh import refresh
from billready.report import Report
from billready.refresh import Snapshot
from billready.semantic import Warehouse

REFERENCE_DIR = settings.project_dir().parent / "shared" / "reference"


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse with the demo export landed, built (models, tests, unit tests) and published."""
    directory = tmp_path_factory.mktemp("demo-warehouse")
    refresh(
        directory,
        land=lambda database: ingest_directory(settings.demo_export_dir(), database),
        as_of=settings.DEMO_AS_OF,
        quiet=True,
    )
    return directory


@pytest.fixture()
def demo_report(demo_warehouse: Path) -> Iterator[Report]:
    """The report over the demo warehouse, read-only."""
    with Warehouse(demo_warehouse) as warehouse:
        yield Report(warehouse)


def write_csv(path: Path, rows: list[dict]) -> None:
    """Write rows (dicts with the same keys) as a CSV export file."""
    import csv

    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture(scope="session")
def clean_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A one-milestone tenant with nothing wrong in its allocation and no optional inputs,
    landed through the CLI (`billready ingest`)."""
    from billready.cli import main

    root = tmp_path_factory.mktemp("clean")
    export = root / "export"
    export.mkdir()
    write_csv(export / "Companies.csv", [{"id": 1, "companyName": "Harbor Dental"}])
    write_csv(export / "Contracts.csv", [{"id": 10, "companyID": 1, "contractName": "Harbor – Fixed Price", "status": 1, "endDate": "2027-06-30T00:00:00"}])
    write_csv(export / "Projects.csv", [{"id": 100, "companyID": 1, "contractID": 10, "projectName": "Harbor M365"}])
    write_csv(export / "BillingCodes.csv", [{"id": 5, "name": "Fixed Fee Milestone", "isActive": "true"}])
    write_csv(export / "ContractMilestones.csv", [
        {"id": 1000, "contractID": 10, "title": "Go-live", "amount": 4000, "dateDue": "2027-01-15T00:00:00", "status": "Approved for Billing", "billingCodeID": 5},
    ])
    warehouse = root / "warehouse"
    assert main(["--warehouse", str(warehouse), "ingest", "--quiet", "--as-of", "2026-11-20", str(export)]) == 0
    return warehouse


# Marts read from the history models, which accumulate one snapshot per refresh: they differ by
# design between a warehouse refreshed twice and one built once.
HISTORY_MARTS = {"bi_conflict_resolutions", "bi_milestone_cycle_times", "bi_refresh_milestones"}


def snapshot_rows(snapshot: Snapshot, sql: str) -> list[tuple]:
    """The rows ``sql`` returns on a published snapshot, read-only."""
    import duckdb

    with duckdb.connect(str(snapshot.database), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def mart_contents(snapshot: Snapshot) -> dict[str, list[tuple]]:
    """Every mart's full contents, in a stable order (all columns but `_refresh_id`, which says
    which build computed a row; not the history marts or the incremental models' state tables)."""
    columns: dict[str, list[str]] = {}
    for table, column in snapshot_rows(
        snapshot,
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'marts' order by table_name, ordinal_position",
    ):
        columns.setdefault(table, []).append(column)
    return {
        table: snapshot_rows(
            snapshot, f'select {", ".join(c for c in names if c != "_refresh_id")} from marts."{table}" order by all'
        )
        for table, names in columns.items()
        if table not in HISTORY_MARTS and "__" not in table
    }
