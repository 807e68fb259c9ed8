"""Incremental refresh: the charges path builds incrementally, and gives exactly the marts a full
build of the same data gives (docs/architecture.md, "Incremental builds").

One warehouse is refreshed with the demo export, then with a changed copy (a charge's amount, a
charge moved to another project, a new charge, a project moved to another contract, a ticket and a
contract service on another contract, a charge marked deleted), landed with a clock set back; a
second warehouse lands the same data in one refresh, from scratch. Every mart must be equal, and
the first warehouse must have recomputed only the charges the changes touch.
"""
from __future__ import annotations

import csv
import datetime
import json
import shutil
from pathlib import Path

import pytest

from billready import settings
from billready.autotask import ENTITIES
from billready.ingest import DocumentSource, discover_exports, ingest_directory, land_sources
from billready.portability import manifest_problems
from billready.refresh import Snapshot, current_snapshot, refresh
from tests.conftest import mart_contents as _marts
from tests.conftest import snapshot_rows as _rows

AS_OF = settings.DEMO_AS_OF
FIRST_LANDING = datetime.datetime(2026, 8, 21, 12, 0, tzinfo=datetime.timezone.utc)
# The second landing's clock is set back: a watermark alone would miss its changes.
SECOND_LANDING = FIRST_LANDING - datetime.timedelta(days=30)
DELETED_CHARGE = "ticket-29695004"


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _changed_export(directory: Path) -> tuple[Path, set[str]]:
    """The demo export with a few changes; returns it and the charges whose row must change."""
    export = directory / "export-v2"
    shutil.copytree(settings.demo_export_dir(), export)
    expected: set[str] = set()

    project_charges = _read_csv(export / "ProjectCharges.csv")
    projects = _read_csv(export / "Projects.csv")
    contracts = [row["id"] for row in _read_csv(export / "Contracts.csv")]
    # a charge's amount
    project_charges[0]["billableAmount"] = "999.00"
    expected.add(f"project-{project_charges[0]['id']}")
    # a charge moved to another project
    moved = project_charges[1]
    other = next(p["id"] for p in projects if p["id"] != moved["projectID"] and p["contractID"])
    moved["projectID"] = other
    expected.add(f"project-{moved['id']}")
    # a parent project moved to another contract: all of its charges
    parent = next(p for p in projects if p["contractID"] and p["id"] not in (moved["projectID"],)
                  and sum(c["projectID"] == p["id"] for c in project_charges) >= 2)
    parent["contractID"] = next(c for c in contracts if c != parent["contractID"])
    expected |= {f"project-{c['id']}" for c in project_charges if c["projectID"] == parent["id"]}
    # a new charge
    new = {**project_charges[2], "id": "99990001", "billableAmount": "123.45"}
    project_charges.append(new)
    expected.add("project-99990001")
    _write_csv(export / "ProjectCharges.csv", project_charges)
    _write_csv(export / "Projects.csv", projects)

    # a ticket moved to another contract: its charges
    ticket_charges = [c for c in _read_csv(export / "TicketCharges.csv") if f"ticket-{c['id']}" != DELETED_CHARGE]
    assert ticket_charges, "the deleted charge is absent from the changed export"
    _write_csv(export / "TicketCharges.csv", ticket_charges)
    tickets_document = json.loads((export / "Tickets.json").read_text())
    pages = tickets_document if isinstance(tickets_document, list) else [tickets_document]
    tickets = [t for page in pages for t in page["items"]]
    charged = {c["ticketID"] for c in ticket_charges}
    ticket = next(t for t in tickets if str(t["id"]) in charged and t.get("contractID"))
    ticket["contractID"] = int(next(c for c in contracts if c != str(ticket["contractID"])))
    expected |= {f"ticket-{c['id']}" for c in ticket_charges if c["ticketID"] == str(ticket["id"])}
    (export / "Tickets.json").write_text(json.dumps(tickets_document))

    # a contract service moved to another contract: the charges naming it
    services = _read_csv(export / "ContractServices.csv")
    all_charges = {
        "project": project_charges,
        "contract": _read_csv(export / "ContractCharges.csv"),
        "ticket": ticket_charges,
    }
    used = {c["contractServiceID"] for rows in all_charges.values() for c in rows if c["contractServiceID"]}
    service = next(s for s in services if s["id"] in used)
    service["contractID"] = next(c for c in contracts if c != service["contractID"])
    _write_csv(export / "ContractServices.csv", services)
    expected |= {
        f"{source}-{c['id']}"
        for source, rows in all_charges.items()
        for c in rows
        if c["contractServiceID"] == service["id"]
    }

    # Changes bi_charges sees beyond int_charges__resolved's: a project and a contract renamed, a pipeline milestone moved to another contract (its project's charges
    # conflict with it or no longer do) and another taken out of the pipeline.
    charged_projects = {c["projectID"] for c in project_charges}
    renamed = next(p for p in projects if p["id"] in charged_projects and p["id"] != parent["id"])
    renamed["projectName"] += " (renamed)"
    # int_charges__resolved recomputes a changed project's project charges, whatever changed
    expected |= {f"project-{c['id']}" for c in project_charges if c["projectID"] == renamed["id"]}
    _write_csv(export / "Projects.csv", projects)
    contract_rows = _read_csv(export / "Contracts.csv")
    charged_contract = next(
        c["contractID"] for c in all_charges["contract"] if c["contractServiceID"] != service["id"]
    )
    next(c for c in contract_rows if c["id"] == charged_contract)["contractName"] += " (renamed)"
    _write_csv(export / "Contracts.csv", contract_rows)
    # Demo milestones chosen for their charges: 29687025 is the one pipeline milestone of project
    # 29686232, three of whose charges conflict with it; 29687014 (project 29686224, through its
    # contract) gets that project explicitly and another contract, so its charges conflict with it.
    milestones = {m["id"]: m for m in _read_csv(export / "ContractMilestones.csv")}
    paused, moved_milestone = milestones["29687025"], milestones["29687014"]
    assert paused["status"] != "4" and moved_milestone["status"] != "4", "both are in the pipeline"
    paused["status"] = "4"  # Billed: out of the pipeline
    moved_milestone["projectID"] = "29686224"
    moved_milestone["contractID"] = next(c for c in contracts if c != moved_milestone["contractID"])
    _write_csv(export / "ContractMilestones.csv", list(milestones.values()))
    return export, expected - {DELETED_CHARGE}


def _land_v2(export: Path, stamp: datetime.datetime):
    """Land the changed export and, in the same landing (as a complete pull does), the live ticket
    charge ids, which marks the charge the export lacks deleted."""

    def land(database: Path) -> None:
        ids = [{"id": int(c["id"])} for c in _read_csv(export / "TicketCharges.csv")]
        reconcile = DocumentSource("TicketCharges/query (ids)", ENTITIES["TicketCharges"], ids, keys_only=True)
        land_sources([*discover_exports(export), reconcile], database, origin="test", now=stamp, skip_unchanged=True)

    return land


def _recomputed(snapshot: Snapshot) -> set[str]:
    """The charges the snapshot's build computed (int_charges__resolved._refresh_id)."""
    return {
        charge_id
        for (charge_id,) in _rows(
            snapshot,
            f"select charge_id from intermediate.int_charges__resolved where _refresh_id = '{snapshot.snapshot_id}'",
        )
    }


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("incremental")
    export, expected = _changed_export(root)
    demo = settings.demo_export_dir()

    incremental = root / "incremental"
    first = refresh(incremental, land=lambda db: ingest_directory(demo, db, now=FIRST_LANDING), as_of=AS_OF, quiet=True)
    second = refresh(incremental, land=_land_v2(export, SECOND_LANDING), as_of=AS_OF, quiet=True)

    full = root / "full"

    def land_all(database: Path) -> None:
        ingest_directory(demo, database, now=FIRST_LANDING)
        _land_v2(export, SECOND_LANDING)(database)

    scratch = refresh(full, land=land_all, as_of=AS_OF, quiet=True)
    return {"first": first, "second": second, "full": scratch, "expected": expected,
            "incremental": incremental}


def test_incremental_and_full_builds_give_identical_marts(builds: dict) -> None:
    full = _marts(builds["full"])
    assert {"bi_charges", "bi_contract_milestones", "bi_findings", "bi_milestone_conflicts"} <= set(full)
    incremental = _marts(builds["second"])
    assert set(incremental) == set(full)
    for table, rows in full.items():
        assert incremental[table] == rows, f"marts.{table} differs from a full build"
    resolved = "select * exclude (_refresh_id) from intermediate.int_charges__resolved order by charge_id"
    assert _rows(builds["second"], resolved) == _rows(builds["full"], resolved)


def test_the_changes_reached_the_marts(builds: dict) -> None:
    charges = dict(_rows(builds["second"], "select charge_id, billable_amount from marts.bi_charges"))
    assert DELETED_CHARGE not in charges
    assert DELETED_CHARGE in dict(_rows(builds["first"], "select charge_id, 1 from marts.bi_charges"))
    assert float(charges["project-99990001"]) == pytest.approx(123.45)
    before = _rows(builds["first"], "select * from marts.bi_charges order by all")
    assert before != _rows(builds["second"], "select * from marts.bi_charges order by all")


def test_only_the_touched_charges_are_recomputed(builds: dict) -> None:
    first = _rows(builds["first"], "select count(*) from intermediate.int_charges__resolved")[0][0]
    assert first > 1000 and len(_recomputed(builds["first"])) == first, "a first build computes every charge"
    total = _rows(builds["full"], "select count(*) from intermediate.int_charges__resolved")[0][0]
    recomputed = _recomputed(builds["second"])
    assert recomputed == builds["expected"], "exactly the changed charges and those of changed parents"
    assert len(recomputed) < total / 10


def test_bi_charges_recomputes_few_charges_and_every_changed_one(builds: dict) -> None:
    """bi_charges recomputes the charges whose row changed (those the renames and milestone changes
    touch included, which int_charges__resolved does not recompute), and not many more."""
    columns = "* exclude (_refresh_id)"
    before = {row[0]: row for row in _rows(builds["first"], f"select {columns} from marts.bi_charges")}
    after = {row[0]: row for row in _rows(builds["second"], f"select {columns} from marts.bi_charges")}
    changed = {charge for charge, row in after.items() if before.get(charge) != row}
    recomputed = {
        charge_id
        for (charge_id,) in _rows(
            builds["second"],
            f"select charge_id from marts.bi_charges where _refresh_id = '{builds['second'].snapshot_id}'",
        )
    }
    assert changed - builds["expected"], "the renames and milestone changes reached bi_charges"
    conflicts_changed = {c for c in changed - builds["expected"] if before[c][-3:] != after[c][-3:]}
    assert conflicts_changed, "the milestone changes changed some charge's conflict flags"
    assert changed <= recomputed
    assert builds["expected"] <= recomputed
    assert len(recomputed) < len(after) / 5


def test_a_changed_model_recomputes_every_charge(builds: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A change to the model's SQL (its logic checksum) makes the next build recompute every row."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("dbt_project.yml", "profiles.yml", "models", "seeds", "macros", "data_tests"):
        source = settings.project_dir() / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, project / name)
    model = project / "models" / "intermediate" / "int_charges__resolved.sql"
    model.write_text(model.read_text() + "\n-- a change to the model\n")
    monkeypatch.setenv(settings.PROJECT_ENV, str(project))
    warehouse = tmp_path / "warehouse"
    shutil.copytree(builds["incremental"], warehouse)
    snapshot = refresh(warehouse, as_of=AS_OF, quiet=True)
    total = _rows(snapshot, "select count(*) from intermediate.int_charges__resolved")[0][0]
    assert len(_recomputed(snapshot)) == total


def test_the_incremental_branch_is_portable_sql(builds: dict) -> None:
    current = current_snapshot(builds["incremental"])
    assert current is not None
    manifest = current.directory / "target" / "manifest.json"
    compiled = json.loads(manifest.read_text())["nodes"]["model.billready.int_charges__resolved"]["compiled_code"]
    assert "affected_ticket_charges" in compiled, "the manifest holds the incremental branch"
    assert manifest_problems(manifest) == {}



def test_the_incremental_models_tests_read_the_rows_the_build_wrote(builds: dict) -> None:
    """Their data tests filter on this refresh's id (macros/get_where_subquery.sql): the whole
    table after a full build, the recomputed rows after an incremental one."""
    snapshot = builds["second"]
    target = snapshot.directory / "target"
    nodes = json.loads((target / "manifest.json").read_text())["nodes"]
    compiled = {r["unique_id"]: r["compiled_code"] for r in json.loads((target / "run_results.json").read_text())["results"]}
    filters = {
        "bi_charges": f"_refresh_id = '{snapshot.snapshot_id}'",
        "int_charges__resolved": f"_refresh_id = '{snapshot.snapshot_id}'",
        "history_milestone_states": f"refresh_id = '{snapshot.snapshot_id}'",
        "history_milestone_conflicts": f"refresh_id = '{snapshot.snapshot_id}'",
        "bi_refresh_milestones": f"refresh_id = '{snapshot.snapshot_id}'",
    }
    for model, expected_filter in filters.items():
        tests = [
            unique_id
            for unique_id, node in nodes.items()
            if node["resource_type"] == "test" and node.get("attached_node") == f"model.billready.{model}"
        ]
        assert len(tests) >= 2, model
        for test in tests:
            assert expected_filter in compiled[test], test


def test_bi_refresh_milestones_appends_each_refresh_once(builds: dict) -> None:
    """Append-only, it holds exactly the history it projects: every refresh's milestones, once."""
    columns = "refresh_id, milestone_id, stage, amount, is_in_pipeline, has_conflict"
    mart = _rows(builds["second"], f"select {columns} from marts.bi_refresh_milestones order by all")
    history = _rows(builds["second"], f"select {columns} from history.history_milestone_states order by all")
    assert mart == history
    refreshes = {row[0] for row in mart}
    assert refreshes == {builds["first"].snapshot_id, builds["second"].snapshot_id}
