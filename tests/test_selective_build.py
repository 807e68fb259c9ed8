"""Selective builds: after a landing, a refresh builds only what the landed data changes, and its
marts equal a build of everything from the same data (billready.refresh, docs/architecture.md,
"Selective builds").

One warehouse lands the demo export without its optional inputs, then the same export again
(nothing changed), then a company renamed together with an optional input landed for the first
time, then that export again with the as-of date a week later, then one project charge moved so
that a pipeline milestone's charge conflicts change (bi_contract_milestones is patched). Each
selective snapshot is compared with a build of everything over a copy of it.
"""
from __future__ import annotations

import copy
import csv
import dataclasses
import datetime
import json
import shutil
from pathlib import Path

import pytest

from billready import settings
from billready.cli import main
from billready.ingest import ingest_directory
from billready.refresh import (
    EVERY_REFRESH_TAG,
    LOAD_LOG,
    Snapshot,
    current_snapshot,
    load_log_selection,
    plan_build,
    refresh,
)
from tests.conftest import mart_contents, snapshot_rows, write_csv

AS_OF = settings.DEMO_AS_OF
LATER = AS_OF + datetime.timedelta(days=7)
KEEP = 10  # every snapshot of the sequence stays readable
OPTIONAL = ("MilestoneAllocations", "MilestoneSplits", "AgreementMilestones", "MilestoneAcceptances")
FIRST_TIME_INPUT = "MilestoneSplits"
RENAMED_COMPANY_SUFFIX = " (renamed)"
# Demo milestone 29687025 (complete) has three project charges resolving to another contract.
CONFLICTED_MILESTONE = 29687025
MOVED_CHARGE = "29688411"


def _export_without_optional(root: Path) -> Path:
    export = root / "psa-only"
    shutil.copytree(settings.demo_export_dir(), export)
    for name in OPTIONAL:
        (export / f"{name}.csv").unlink()
    return export


def _export_with_renamed_company_and_splits(root: Path, base: Path) -> Path:
    """``base`` with one company renamed, plus the demo's MilestoneSplits (never landed before)."""
    export = root / "renamed-with-splits"
    shutil.copytree(base, export)

    def read(name: str) -> list[dict[str, str]]:
        with (export / f"{name}.csv").open(newline="") as handle:
            return list(csv.DictReader(handle))

    companies = read("Companies")
    contract_companies = {row["id"]: row["companyID"] for row in read("Contracts")}
    billed_company = contract_companies[read("ContractMilestones")[0]["contractID"]]
    next(row for row in companies if row["id"] == billed_company)["companyName"] += RENAMED_COMPANY_SUFFIX
    write_csv(export / "Companies.csv", companies)
    shutil.copy(settings.demo_export_dir() / f"{FIRST_TIME_INPUT}.csv", export)
    return export


def _export_with_moved_charge(root: Path, base: Path) -> Path:
    """``base`` with one of CONFLICTED_MILESTONE's conflicting project charges on another project."""
    export = root / "moved-charge"
    shutil.copytree(base, export)
    with (export / "ProjectCharges.csv").open(newline="") as handle:
        charges = list(csv.DictReader(handle))
    moved = next(row for row in charges if row["id"] == MOVED_CHARGE)
    moved["projectID"] = next(row["projectID"] for row in charges if row["projectID"] != moved["projectID"])
    write_csv(export / "ProjectCharges.csv", charges)
    return export


def _compiled(snapshot: Snapshot, model: str) -> str:
    results = json.loads((snapshot.directory / "target" / "run_results.json").read_text())["results"]
    return next(r["compiled_code"] for r in results if r["unique_id"] == f"model.billready.{model}")


def _build_of(snapshot: Snapshot) -> object:
    return json.loads((snapshot.directory.parent.parent / "current.json").read_text())["build"]


def _rebuilt_in_full(warehouse: Path, root: Path, name: str, as_of: datetime.date = AS_OF) -> Snapshot:
    """A build of everything over a copy of ``warehouse``'s published data
    (`billready refresh --rebuild-all`)."""
    copy_dir = root / name
    shutil.copytree(warehouse, copy_dir)
    argv = ["--warehouse", str(copy_dir), "refresh", "--rebuild-all", "--quiet", "--as-of", as_of.isoformat()]
    assert main(argv) == 0
    snapshot = current_snapshot(copy_dir)
    assert snapshot is not None and _build_of(snapshot) == "all"
    return snapshot


def _models_built(snapshot: Snapshot) -> set[str]:
    results = json.loads((snapshot.directory / "target" / "run_results.json").read_text())["results"]
    return {r["unique_id"].split(".")[-1] for r in results if r["unique_id"].startswith("model.")}


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("selective")
    psa_only = _export_without_optional(root)
    changed = _export_with_renamed_company_and_splits(root, psa_only)
    warehouse = root / "warehouse"
    first = refresh(warehouse, land=lambda db: ingest_directory(psa_only, db), as_of=AS_OF, quiet=True, keep=KEEP)
    first_build = _build_of(first)
    same = refresh(warehouse, land=lambda db: ingest_directory(psa_only, db), as_of=AS_OF, quiet=True, keep=KEEP)
    same_build = _build_of(same)
    same_full = _rebuilt_in_full(warehouse, root, "same-full")
    second = refresh(warehouse, land=lambda db: ingest_directory(changed, db), as_of=AS_OF, quiet=True, keep=KEEP)
    second_build = _build_of(second)
    second_full = _rebuilt_in_full(warehouse, root, "second-full")
    later = refresh(warehouse, land=lambda db: ingest_directory(changed, db), as_of=LATER, quiet=True, keep=KEEP)
    later_build = _build_of(later)
    later_full = _rebuilt_in_full(warehouse, root, "later-full", as_of=LATER)
    moved = _export_with_moved_charge(root, changed)
    charges = refresh(warehouse, land=lambda db: ingest_directory(moved, db), as_of=LATER, quiet=True, keep=KEEP)
    charges_build = _build_of(charges)
    charges_full = _rebuilt_in_full(warehouse, root, "charges-full", as_of=LATER)
    return {
        "warehouse": warehouse,
        "first": first, "first_build": first_build,
        "same": same, "same_build": same_build, "same_full": same_full,
        "second": second, "second_build": second_build, "second_full": second_full,
        "later": later, "later_build": later_build, "later_full": later_full,
        "charges": charges, "charges_build": charges_build, "charges_full": charges_full,
    }


def test_a_first_build_builds_everything(builds: dict) -> None:
    assert builds["first_build"] == "all"


def test_a_landing_that_changed_nothing_builds_the_log_view_and_the_history(builds: dict) -> None:
    assert builds["same_build"] == {
        "select": f"stg_autotask__load_log tag:{EVERY_REFRESH_TAG}+",
        "changed_sources": [LOAD_LOG],
        "first_landed": [],
        "as_of_readers": [],
    }
    built = _models_built(builds["same"])
    assert "stg_autotask__load_log" in built and "history_milestone_states" in built
    assert not built & {"bi_charges", "int_charges__resolved", "bi_contract_milestones", "int_rules__evaluation"}
    assert mart_contents(builds["same"]) == mart_contents(builds["first"])
    assert mart_contents(builds["same"]) == mart_contents(builds["same_full"])


def test_a_changed_table_and_a_first_landed_input_build_what_reads_them(builds: dict) -> None:
    build = builds["second_build"]
    assert set(build["changed_sources"]) == {"companies", "milestone_splits", LOAD_LOG}
    assert build["first_landed"] == [FIRST_TIME_INPUT]
    terms = build["select"].split()
    assert {"source:autotask.companies+", "source:autotask.milestone_splits+", "int_rules__evaluation+"} <= set(terms)
    built = _models_built(builds["second"])
    assert {"stg_autotask__companies", "int_rules__evaluation", "bi_rule_status", "bi_contract_milestones"} <= built
    assert "int_charges__resolved" not in built, "no input of the charge resolution changed"


def test_selective_marts_equal_a_build_of_everything(builds: dict) -> None:
    selective, full = mart_contents(builds["second"]), mart_contents(builds["second_full"])
    assert set(selective) == set(full)
    for table, rows in full.items():
        assert selective[table] == rows, f"marts.{table} differs from a build of everything"


def test_the_changes_reached_the_marts(builds: dict) -> None:
    status = "select rule_code, is_evaluated from marts.bi_rule_status where rule_code = 'split_not_100'"
    assert snapshot_rows(builds["first"], status) == [("split_not_100", False)]
    assert snapshot_rows(builds["second"], status) == [("split_not_100", True)]
    renamed = f"select count(*) from marts.bi_contract_milestones where company_name like '%{RENAMED_COMPANY_SUFFIX}'"
    assert snapshot_rows(builds["first"], renamed) == [(0,)]
    assert snapshot_rows(builds["second"], renamed)[0][0] > 0


def test_a_moved_as_of_date_builds_what_reads_it(builds: dict) -> None:
    """A daily refresh moves the date rules are judged against: the models that read it (and what
    reads them) are rebuilt, the rest (the charges, most rules) is the published build's."""
    build = builds["later_build"]
    assert build["changed_sources"] == [LOAD_LOG]
    assert {"bi_contract_milestones", "int_rule_approved_not_posted", "int_rule_ready_before_due"} <= set(
        build["as_of_readers"]
    )
    assert "bi_contract_milestones+" in build["select"].split()
    built = _models_built(builds["later"])
    assert {"bi_contract_milestones", "bi_findings", "int_rule_ready_before_due"} <= built
    assert not built & {"int_charges__resolved", "bi_charges", "int_rule_contract_reference_mismatch"}
    dates = "select distinct as_of_date from marts.bi_contract_milestones"
    assert snapshot_rows(builds["later"], dates) == [(LATER,)]
    selective, full = mart_contents(builds["later"]), mart_contents(builds["later_full"])
    assert selective != mart_contents(builds["second"]), "the later date changed the marts"
    for table, rows in full.items():
        assert selective[table] == rows, f"marts.{table} differs from a build of everything"


def test_a_charges_only_change_patches_the_milestones_it_moves(builds: dict) -> None:
    """bi_contract_milestones rewrites only the milestones whose charge conflicts moved
    (macros/patched_through.sql), and equals a build of everything."""
    assert builds["charges_build"]["changed_sources"] == [LOAD_LOG, "project_charges"]
    assert "bi_contract_milestones" in _models_built(builds["charges"])
    assert "charge_rule_changes" in _compiled(builds["charges"], "bi_contract_milestones"), "patched"
    for rebuilt in ("first", "second", "later", "charges_full"):
        assert "charge_rule_changes" not in _compiled(builds[rebuilt], "bi_contract_milestones"), rebuilt
    count = f"select mismatched_charge_count from marts.bi_contract_milestones where milestone_id = {CONFLICTED_MILESTONE}"
    assert snapshot_rows(builds["later"], count) == [(3,)]
    assert snapshot_rows(builds["charges"], count) == [(2,)]
    selective, full = mart_contents(builds["charges"]), mart_contents(builds["charges_full"])
    for table, rows in full.items():
        assert selective[table] == rows, f"marts.{table} differs from a build of everything"


def test_every_other_refresh_builds_everything(builds: dict) -> None:
    """The plan's reasons to build everything, on the published snapshot and its data."""
    published = current_snapshot(builds["warehouse"])
    assert published is not None and published.project_checksum and published.as_of_date
    database = published.database
    as_of = datetime.date.fromisoformat(published.as_of_date)
    loads = {row[0] for row in snapshot_rows(published, "select load_id from raw_autotask._load_log")}
    base = {"checksum": published.project_checksum, "as_of_date": as_of, "landed_loads": loads}
    assert plan_build(published, database, **base).select is not None

    def reason(snapshot: Snapshot | None, **overrides: object) -> str:
        plan = plan_build(snapshot, database, **{**base, **overrides})  # type: ignore[arg-type]
        assert plan.select is None
        return plan.reason

    assert "first build" in reason(None)
    assert "project changed" in reason(published, checksum="another")
    moved = plan_build(published, database, **{**base, "as_of_date": as_of + datetime.timedelta(days=1)})
    assert moved.select is not None and "bi_contract_milestones" in moved.as_of_readers
    assert "nothing new" in reason(published, landed_loads=set())
    assert "rebuild" in reason(published, rebuild_all=True)
    assert "no as-of date" in reason(dataclasses.replace(published, as_of_date=None))


def test_an_unknown_reader_of_the_load_log_is_built_with_what_reads_it(builds: dict) -> None:
    manifest = json.loads((builds["second"].directory / "target" / "manifest.json").read_text())
    assert load_log_selection(manifest, new_entities=False) == ["stg_autotask__load_log"]
    assert load_log_selection(manifest, new_entities=True) == ["stg_autotask__load_log", "int_rules__evaluation+"]
    changed = copy.deepcopy(manifest)
    log_source = next(uid for uid, node in changed["sources"].items() if node["name"] == LOAD_LOG)
    reader = copy.deepcopy(changed["nodes"]["model.billready.stg_autotask__companies"])
    reader.update(name="int_new_reader", config={**reader["config"], "meta": {}}, meta={},
                  depends_on={"nodes": [log_source], "macros": []})
    changed["nodes"]["model.billready.int_new_reader"] = reader
    assert "int_new_reader+" in load_log_selection(changed, new_entities=False)
    charges = changed["nodes"]["model.billready.bi_charges"]
    charges["config"]["meta"] = {}
    charges["meta"] = {}
    assert "bi_charges+" in load_log_selection(changed, new_entities=False), "a reader without a mark"


def test_an_unchanged_project_is_not_parsed_again(builds: dict) -> None:
    """The refresh id, time, as-of date and landed loads are read at run time
    (macros/runtime_env_var.sql): a refresh of an unchanged project re-parses no file."""
    log = (builds["second"].directory / "logs" / "dbt.log").read_text()
    assert "Partial parsing enabled, no changes found, skipping parsing" in log
    assert "files changed" not in log or "0 files changed" in log
