"""Landing Autotask exports in raw_autotask: shapes, types, picklists, upserts, bad input."""

from __future__ import annotations

from collections.abc import Callable

import csv
import json
import logging
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
import pytest

import billready.ingest as ingest_module
from billready.autotask import ENTITIES
from billready.errors import BillreadyError, InputError, WarehouseError
from billready.ingest import ingest_directory

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
METADATA = ("_loaded_at", "_source_file", "_deleted_at")

MILESTONES = [
    {
        "id": 1,
        "contractID": 10,
        "title": "Kick-off",
        "amount": 1500.5,
        "dateDue": "2026-01-31",
        "status": 1,
        "isInitialPayment": True,
        "createDate": "2026-01-02T09:30:00.123Z",
    },
    {
        "id": 2,
        "contractID": 10,
        "title": "Go-live",
        "amount": 3000,
        "dateDue": "2026-02-28T10:00:00+02:00",
        "status": "Ready to Bill",
        "isInitialPayment": False,
        "createDate": None,
    },
]


# ------------------------------------------------------------------------------------------------
# Helpers


def write_csv(directory: Path, name: str, header: list[str], rows: list[list[Any]]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows([["" if v is None else v for v in row] for row in rows])
    return path


def write_json(directory: Path, name: str, document: Any) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def records_csv(directory: Path, name: str, records: list[dict[str, Any]]) -> Path:
    header = list(records[0])
    rows = [[_csv_text(r.get(k)) for k in header] for r in records]
    return write_csv(directory, name, header, rows)


def _csv_text(value: Any) -> Any:
    return {True: "true", False: "false"}.get(value, value) if isinstance(value, bool) else value


def page(items: list[dict[str, Any]], next_url: str | None = None) -> dict[str, Any]:
    details = {"count": len(items), "requestCount": 500, "nextPageUrl": next_url}
    return {"items": items, "pageDetails": {**details, "prevPageUrl": None}}


def rows(database: Path, table: str, order: str = "id") -> list[dict[str, Any]]:
    with duckdb.connect(str(database), read_only=True) as con:
        cursor = con.execute(f'SELECT * FROM raw_autotask."{table}" ORDER BY {order}')
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]


def column_types(database: Path, table: str) -> dict[str, str]:
    with duckdb.connect(str(database), read_only=True) as con:
        return dict(
            con.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'raw_autotask' AND table_name = ? ORDER BY ordinal_position",
                [table],
            ).fetchall()
        )


def snapshot(
    database: Path, *, value: Callable[[Any], Any] | None = None, skip: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Every raw_autotask table (but ``skip``): its columns and types, and its rows in a stable
    order, each value passed through ``value`` when given."""
    with duckdb.connect(str(database), read_only=True) as con:
        tables = [
            t
            for (t,) in con.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'raw_autotask' ORDER BY table_name"
            ).fetchall()
            if t not in skip
        ]
        result = {}
        for table in tables:
            cursor = con.execute(f'SELECT * FROM raw_autotask."{table}"')
            columns = [(d[0], str(d[1])) for d in cursor.description]
            rows = cursor.fetchall()
            if value is not None:
                rows = [tuple(value(v) for v in row) for row in rows]
            result[table] = (columns, sorted(rows, key=repr))
        return result


def without_metadata(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k not in METADATA} for r in records]


@pytest.fixture
def landed(tmp_path: Path) -> Path:
    """A warehouse holding one good export (contracts, milestones, picklists)."""
    export = tmp_path / "good"
    records_csv(export, "ContractMilestones.csv", MILESTONES)
    contract = {"id": 10, "contractName": "Retainer", "status": 1}
    write_json(export, "Contracts.json", page([contract]))
    write_csv(export, "Picklists.csv", ["entity", "field", "value", "label", "isActive"],
              [["Contracts", "status", "1", "Active", "true"]])
    database = tmp_path / "wh" / "billready.duckdb"
    ingest_directory(export, database, now=NOW)
    return database


# ------------------------------------------------------------------------------------------------
# Shapes and types


def test_csv_and_every_json_shape_land_identically(tmp_path: Path) -> None:
    shapes = {
        "csv": lambda d: records_csv(d, "ContractMilestones.csv", MILESTONES),
        "response": lambda d: write_json(d, "ContractMilestones.json", page(MILESTONES)),
        "pages": lambda d: write_json(
            d, "ContractMilestones.json", [page(MILESTONES[:1], "next"), page(MILESTONES[1:])]
        ),
        "list": lambda d: write_json(d, "ContractMilestones.json", MILESTONES),
    }
    landed = {}
    for shape, write in shapes.items():
        write(tmp_path / shape)
        database = tmp_path / f"{shape}.duckdb"
        report = ingest_directory(tmp_path / shape, database, now=NOW)
        assert report.rows["ContractMilestones"] == 2
        landed[shape] = without_metadata(rows(database, "contract_milestones"))
        assert column_types(database, "contract_milestones") == column_types(
            tmp_path / "csv.duckdb", "contract_milestones"
        )
    assert landed["response"] == landed["csv"]
    assert landed["pages"] == landed["csv"]
    assert landed["list"] == landed["csv"]


def test_columns_are_camel_case_and_typed(tmp_path: Path) -> None:
    export = tmp_path / "export"
    write_csv(
        export,
        "ContractMilestones.csv",
        ["ID", "ContractID", "DateDue", "Amount", "IsInitialPayment", "Status", "CreateDate"],
        [
            ["7", "10", "2026-02-28T10:00:00+02:00", "12.5", "YES", "1", "2026-01-02 09:30"],
            ["8", " 11 ", "2026-03-01T23:30:00.1234567Z", "", "0", "Billed", ""],
        ],
    )
    database = tmp_path / "wh.duckdb"
    ingest_directory(export, database, now=NOW)
    types = column_types(database, "contract_milestones")
    assert list(types)[:3] == ["id", "amount", "billingCodeID"]
    assert {k: types[k] for k in ("id", "contractID", "dateDue", "amount", "isInitialPayment")} == {
        "id": "BIGINT",
        "contractID": "BIGINT",
        "dateDue": "TIMESTAMP",
        "amount": "DOUBLE",
        "isInitialPayment": "BOOLEAN",
    }
    assert types["status"] == "VARCHAR"
    assert types["projectID"] == "BIGINT"
    assert types["userDefinedFields"] == "VARCHAR"
    assert (types["_loaded_at"], types["_source_file"]) == ("TIMESTAMP", "VARCHAR")
    first, second = rows(database, "contract_milestones")
    assert first["dateDue"] == datetime(2026, 2, 28, 8, 0)  # offset converted to UTC
    assert first["createDate"] == datetime(2026, 1, 2, 9, 30)
    assert (first["amount"], first["isInitialPayment"], first["status"]) == (12.5, True, "1")
    assert second["contractID"] == 11
    assert second["dateDue"] == datetime(2026, 3, 1, 23, 30, 0, 123456)
    assert second["amount"] is None and second["createDate"] is None
    assert second["isInitialPayment"] is False
    assert first["_loaded_at"] == datetime(2026, 3, 1, 12, 0)
    assert first["_source_file"] == "ContractMilestones.csv"


def test_utf8_bom_and_crlf_are_accepted(tmp_path: Path) -> None:
    export = tmp_path / "export"
    export.mkdir()
    (export / "Companies.csv").write_bytes(
        "\ufeffid,companyName\r\n1,Café Ltd\r\n".encode("utf-8")
    )
    database = tmp_path / "wh.duckdb"
    ingest_directory(export, database, now=NOW)
    assert without_metadata(rows(database, "companies"))[0]["companyName"] == "Café Ltd"


def test_extra_column_kept_and_missing_field_null(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    export = tmp_path / "export"
    write_csv(export, "Contracts.csv", ["id", "contractName", "Region Code"], [["1", "A", "EU"]])
    database = tmp_path / "wh.duckdb"
    with caplog.at_level(logging.INFO, logger="billready.ingest"):
        report = ingest_directory(export, database, now=NOW)
    assert report.extra_columns == {"Contracts": ("Region Code",)}
    assert column_types(database, "contracts")["Region Code"] == "VARCHAR"
    (contract,) = rows(database, "contracts")
    assert contract["Region Code"] == "EU"
    assert contract["endDate"] is None and contract["status"] is None
    mentions = [r for r in caplog.records if "Region Code" in r.getMessage()]
    assert len(mentions) == 1 and mentions[0].levelno == logging.INFO


def test_user_defined_fields_land_as_json_text(tmp_path: Path) -> None:
    udfs = [{"name": "Project ID", "value": "42"}, {"name": "PO", "value": None}]
    write_json(tmp_path / "export", "Contracts.json", page([{"id": 1, "userDefinedFields": udfs}]))
    database = tmp_path / "wh.duckdb"
    ingest_directory(tmp_path / "export", database, now=NOW)
    (contract,) = rows(database, "contracts")
    assert json.loads(contract["userDefinedFields"]) == udfs


def test_every_table_exists_after_any_ingest(tmp_path: Path) -> None:
    write_csv(tmp_path / "export", "Contracts.csv", ["id"], [["1"]])
    write_json(tmp_path / "export", "Tickets.json", page([]))
    database = tmp_path / "wh.duckdb"
    report = ingest_directory(tmp_path / "export", database, now=NOW)
    assert report.files == ("Contracts.csv", "Tickets.json")
    tables = snapshot(database)
    for entity in ENTITIES.values():
        columns = [name for name, _ in tables[entity.table][0]]
        assert columns == [*entity.field_names, *METADATA]
        if entity.name != "Contracts":
            assert tables[entity.table][1] == []
            assert report.rows[entity.name] == 0
    assert [c for c, _ in tables["picklists"][0]] == [
        "entity", "field", "value", "label", "isActive", *METADATA
    ]
    assert "_load_log" in tables


def test_optional_entities_land_with_their_composite_keys(tmp_path: Path) -> None:
    """Optional inputs (not REST entities) land like exports, keyed on their documented keys, and
    the load log records them; an optional input with no file lands as an empty table."""
    export = tmp_path / "export"
    write_csv(
        export,
        "MilestoneSplits.csv",
        ["milestoneID", "companyID", "percentage"],
        [["7", "1", "80"], ["7", "2", "15"], ["7", "2", "20"]],  # the last row per key wins
    )
    write_csv(
        export,
        "AgreementMilestones.csv",
        ["contractID", "title", "amount", "acceptanceRequired", "amendmentVersion"],
        [["10", "Go-live", "4000", "true", "2"], ["10", "Training", "", "no", ""]],
    )
    database = tmp_path / "wh.duckdb"
    report = ingest_directory(export, database, now=NOW)
    assert report.rows["MilestoneSplits"] == 2 and report.rows["AgreementMilestones"] == 2
    assert report.rows["MilestoneAllocations"] == 0
    splits = without_metadata(rows(database, "milestone_splits", order="companyID"))
    assert splits == [
        {"milestoneID": 7, "companyID": 1, "percentage": 80.0},
        {"milestoneID": 7, "companyID": 2, "percentage": 20.0},
    ]
    agreements = without_metadata(rows(database, "agreement_milestones", order="title"))
    assert agreements[0] == {
        "contractID": 10, "title": "Go-live", "amount": 4000.0, "acceptanceRequired": True,
        "amendmentVersion": 2,
    }
    assert agreements[1]["acceptanceRequired"] is False and agreements[1]["amount"] is None
    assert rows(database, "milestone_allocations") == []
    log = rows(database, "_load_log", order="entity")
    assert [(r["entity"], r["row_count"]) for r in log] == [("AgreementMilestones", 2), ("MilestoneSplits", 2)]

    write_csv(tmp_path / "again", "MilestoneSplits.csv", ["milestoneID", "companyID", "percentage"], [["7", "2", "25"]])
    ingest_directory(tmp_path / "again", database, now=NOW)
    splits = without_metadata(rows(database, "milestone_splits", order="companyID"))
    assert [s["percentage"] for s in splits] == [80.0, 25.0]  # upsert on (milestoneID, companyID)


def test_optional_entity_key_is_required(tmp_path: Path) -> None:
    write_csv(tmp_path / "export", "MilestoneSplits.csv", ["milestoneID", "percentage"], [["7", "80"]])
    with pytest.raises(InputError) as caught:
        ingest_directory(tmp_path / "export", tmp_path / "wh.duckdb", now=NOW)
    assert caught.value.file == "MilestoneSplits.csv"
    assert "companyID" in str(caught.value)


def test_load_log_records_each_file(landed: Path) -> None:
    log = rows(landed, "_load_log", order="source_file")
    assert [(r["entity"], r["source_file"], r["row_count"]) for r in log] == [
        ("ContractMilestones", "ContractMilestones.csv", 2),
        ("Contracts", "Contracts.json", 1),
        ("Picklists", "Picklists.csv", 1),
    ]
    assert len({r["load_id"] for r in log}) == 1
    assert all(r["loaded_at"] == datetime(2026, 3, 1, 12, 0) for r in log)
    assert all(r["source_dir"].endswith("good") for r in log)


# ------------------------------------------------------------------------------------------------
# Picklists


def test_picklists_from_csv_normalise_entity_and_field_names(tmp_path: Path) -> None:
    write_csv(
        tmp_path / "export",
        "Picklists.csv",
        ["Entity", "Field", "Value", "Label", "IsActive"],
        [
            ["ContractMilestone", "Status", "1", "In Progress", "true"],
            ["contract_milestones", "status", "2", "Ready to Bill", "1"],
            ["Tickets", "QueueID", "5", "Triage", "no"],
            ["Contracts", "customPick", "x", "Custom", ""],
        ],
    )
    database = tmp_path / "wh.duckdb"
    ingest_directory(tmp_path / "export", database, now=NOW)
    landed = without_metadata(rows(database, "picklists", order="entity, field, value"))
    assert landed == [
        {"entity": "ContractMilestones", "field": "status", "value": "1", "label": "In Progress",
         "isActive": True},
        {"entity": "ContractMilestones", "field": "status", "value": "2", "label": "Ready to Bill",
         "isActive": True},
        {"entity": "Contracts", "field": "customPick", "value": "x", "label": "Custom",
         "isActive": None},
        {"entity": "Tickets", "field": "queueID", "value": "5", "label": "Triage",
         "isActive": False},
    ]


def test_picklists_from_entity_information_fields(tmp_path: Path) -> None:
    fields = {
        "fields": [
            {"name": "id", "dataType": "long", "isPickList": False, "picklistValues": None},
            {
                "name": "status",
                "dataType": "integer",
                "isPickList": True,
                "picklistValues": [
                    {"value": "1", "label": "In Progress", "isActive": True, "sortOrder": 1},
                    {"value": "4", "label": "Approved", "isActive": False, "sortOrder": 2},
                ],
            },
        ]
    }
    write_json(tmp_path / "export", "ContractMilestones.fields.json", fields)
    inactive = {"entity": "Contracts", "field": "status", "value": "0", "label": "Inactive"}
    write_json(tmp_path / "export", "Picklists.json", [{**inactive, "isActive": True}])
    database = tmp_path / "wh.duckdb"
    report = ingest_directory(tmp_path / "export", database, now=NOW)
    assert report.rows["Picklists"] == 3
    landed = rows(database, "picklists", order="entity, value")
    assert [(r["entity"], r["field"], r["value"], r["label"], r["isActive"]) for r in landed] == [
        ("ContractMilestones", "status", "1", "In Progress", True),
        ("ContractMilestones", "status", "4", "Approved", False),
        ("Contracts", "status", "0", "Inactive", True),
    ]
    assert landed[0]["_source_file"] == "ContractMilestones.fields.json"


# ------------------------------------------------------------------------------------------------
# Re-landing


def test_relanding_the_same_export_is_idempotent(tmp_path: Path, landed: Path) -> None:
    before = snapshot(landed)
    ingest_directory(tmp_path / "good", landed, now=NOW)
    after = snapshot(landed)
    for table in before:
        if table != "_load_log":
            assert after[table] == before[table], table
    assert len(after["_load_log"][1]) == 2 * len(before["_load_log"][1])


def test_relanding_upserts_latest_wins_and_absent_records_are_kept(
    tmp_path: Path, landed: Path
) -> None:
    changed = [{**MILESTONES[1], "title": "Go-live (moved)", "dateDue": "2026-03-31"}]
    new = [{"id": 3, "contractID": 10, "title": "Handover", "dateDue": "2026-04-30"}]
    export = tmp_path / "second"
    records = [{**record, "Phase": "P1"} for record in changed + new]
    write_json(export, "ContractMilestones.json", page(records))
    later = datetime(2026, 3, 2, tzinfo=timezone.utc)
    ingest_directory(export, landed, now=later)
    milestones = {r["id"]: r for r in rows(landed, "contract_milestones")}
    assert sorted(milestones) == [1, 2, 3]
    assert milestones[1]["title"] == "Kick-off"  # absent from the new export: kept
    assert milestones[1]["_loaded_at"] == datetime(2026, 3, 1, 12, 0)
    assert milestones[1]["Phase"] is None
    assert milestones[2]["title"] == "Go-live (moved)"
    assert milestones[2]["dateDue"] == datetime(2026, 3, 31)
    assert milestones[2]["_loaded_at"] == datetime(2026, 3, 2)
    assert milestones[2]["_source_file"] == "ContractMilestones.json"
    assert milestones[3]["Phase"] == "P1"  # new extra column added by name
    assert len(rows(landed, "contracts")) == 1  # untouched entity


def test_last_row_for_an_id_wins_within_a_file(tmp_path: Path) -> None:
    write_csv(tmp_path / "export", "Projects.csv", ["id", "projectName"],
              [["1", "first"], ["2", "other"], ["1", "second"]])
    database = tmp_path / "wh.duckdb"
    report = ingest_directory(tmp_path / "export", database, now=NOW)
    assert report.rows["Projects"] == 2
    assert [r["projectName"] for r in rows(database, "projects")] == ["second", "other"]


def test_failure_while_writing_rolls_everything_back(
    tmp_path: Path, landed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(landed)
    calls = []
    real_upsert = ingest_module._upsert

    def failing_upsert(con: Any, staged: Any) -> None:
        calls.append(staged)
        real_upsert(con, staged)
        if len(calls) == 2:
            raise RuntimeError("disk full")

    monkeypatch.setattr(ingest_module, "_upsert", failing_upsert)
    export = tmp_path / "second"
    write_csv(export, "Companies.csv", ["id", "companyName", "Brand New"], [["5", "Acme", "x"]])
    write_csv(export, "Contracts.csv", ["id", "contractName"], [["10", "changed"], ["11", "new"]])
    with pytest.raises(RuntimeError, match="disk full"):
        ingest_directory(export, landed, now=NOW)
    assert snapshot(landed) == before


# ------------------------------------------------------------------------------------------------
# Bad input: one InputError naming file, row and field; the warehouse is left as it was

BAD_INPUTS = {
    "unknown entity file": (
        {"Invoices.csv": "id\n1\n"}, "Invoices.csv", None, None, "not a known export file"),
    "csv and json for one entity": (
        {"Contracts.csv": "id\n1\n", "Contracts.json": "[]"}, "Contracts.json", None, None,
        "Contracts.csv also holds Contracts"),
    "no id column": (
        {"Contracts.csv": "contractName\nA\n"}, "Contracts.csv", None, None, "no id column"),
    "empty id": (
        {"Contracts.csv": "id,contractName\n1,A\n,B\n"}, "Contracts.csv", 2, "id", "missing value"),
    "json record without id": (
        {"Contracts.json": '[{"id": 1}, {"contractName": "B"}]'}, "Contracts.json", 2, "id",
        "missing value"),
    "non-integer id": (
        {"Contracts.csv": "id\n1\n2\nabc\n"}, "Contracts.csv", 3, "id",
        "'abc' is not an integer"),
    "fractional integer": (
        {"ContractMilestones.csv": "id,contractID\n1,1.5\n"}, "ContractMilestones.csv", 1,
        "contractID", "'1.5' is not an integer"),
    "bad number": (
        {"ContractMilestones.csv": "id,amount\n1,\"1,500\"\n"}, "ContractMilestones.csv", 1,
        "amount", "'1,500' is not a number"),
    "bad boolean": (
        {"ContractMilestones.json": '[{"id": 1, "isInitialPayment": "maybe"}]'},
        "ContractMilestones.json", 1, "isInitialPayment", "'maybe' is not a boolean"),
    "bad date": (
        {"Contracts.csv": "id,endDate\n1,2026-12-01\n2,\n3,2026-13-01\n"}, "Contracts.csv", 3,
        "endDate", "'2026-13-01' is not a date"),
    "date in a local format": (
        {"Contracts.csv": "id,startDate\n1,01/31/2026\n"}, "Contracts.csv", 1, "startDate",
        "is not a date"),
    "duplicate header": (
        {"Contracts.csv": "id,ContractName,contractname\n1,A,B\n"}, "Contracts.csv", None,
        "contractname", "duplicate column"),
    "duplicate json field": (
        {"Contracts.json": '[{"id": 1, "ID": 2}]'}, "Contracts.json", 1, "ID", "duplicate field"),
    "malformed json": (
        {"Contracts.json": '{"items": [ {"id": 1,, ]}'}, "Contracts.json", None, None,
        "malformed JSON"),
    "json of the wrong shape": (
        {"Contracts.json": '{"id": 1}'}, "Contracts.json", None, None, "expected an API query"),
    "json record not an object": (
        {"Contracts.json": '{"items": [{"id": 1}, 2], "pageDetails": {}}'}, "Contracts.json", 2,
        None, "not a JSON object"),
    "ragged csv row": (
        {"Contracts.csv": "id,contractName\n1,A\n2,B,extra\n"}, "Contracts.csv", 2, None,
        "malformed CSV"),
    "empty csv": ({"Contracts.csv": ""}, "Contracts.csv", None, None, "empty file"),
    "unknown picklist entity": (
        {"Picklists.csv": "entity,field,value\nContracts,status,1\nWidgets,kind,1\n"},
        "Picklists.csv", 2, "entity", "unknown entity 'Widgets'"),
    "picklist row without a value": (
        {"Picklists.csv": "entity,field,value,label\nContracts,status,,Active\n"},
        "Picklists.csv", 1, "value", "missing value"),
    "fields file of the wrong shape": (
        {"Contracts.fields.json": '{"items": []}'}, "Contracts.fields.json", None, None,
        "entityInformation/fields"),
    "first problem is reported: earliest row, then column": (
        {"Contracts.csv": "id,startDate,endDate\n1,2026-01-01,2026-01-01\n2,2026-01-01,bad\n"
                          "3,bad,bad\n",
         "Companies.csv": "id\n1\n"},
        "Contracts.csv", 2, "endDate", "'bad' is not a date"),
    "a later file is bad after a good one": (
        {"Companies.csv": "id,companyName\n99,New Co\n", "Tickets.csv": "id,priority,dueDateTime\n"
                                                                        "1,High,tomorrow\n"},
        "Tickets.csv", 1, "dueDateTime", "'tomorrow' is not a date"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS), ids=list(BAD_INPUTS))
def test_bad_input_raises_one_input_error_and_changes_nothing(
    tmp_path: Path, landed: Path, case: str
) -> None:
    files, file, row, field, message = BAD_INPUTS[case]
    export = tmp_path / "bad"
    export.mkdir()
    for name, text in files.items():
        (export / name).write_text(text, encoding="utf-8")
    before = snapshot(landed)
    with pytest.raises(InputError) as caught:
        ingest_directory(export, landed, now=NOW)
    error = caught.value
    assert (error.file, error.row, error.field) == (file, row, field)
    assert message in error.message
    assert snapshot(landed) == before


def test_input_error_reads_file_row_field_and_problem(tmp_path: Path) -> None:
    write_csv(tmp_path / "export", "Contracts.csv", ["id", "endDate"],
              [["1", "2026-12-01"], ["2", ""], ["3", "2026-13-01"]])
    with pytest.raises(InputError) as caught:
        ingest_directory(tmp_path / "export", tmp_path / "wh.duckdb", now=NOW)
    assert str(caught.value) == (
        "Contracts.csv, row 3, field endDate: '2026-13-01' is not a date "
        "(expected YYYY-MM-DD or an ISO 8601 timestamp)"
    )
    assert isinstance(caught.value, BillreadyError)
    assert not (tmp_path / "wh.duckdb").exists()


@pytest.mark.parametrize("contents", [[], ["README.txt", "notes.md"]], ids=["empty", "no exports"])
def test_directory_without_exports_is_an_input_error(tmp_path: Path, contents: list[str]) -> None:
    export = tmp_path / "export"
    export.mkdir()
    for name in contents:
        (export / name).write_text("hello", encoding="utf-8")
    with pytest.raises(InputError, match="no export files") as caught:
        ingest_directory(export, tmp_path / "wh.duckdb")
    assert caught.value.file == "export"


def test_missing_directory_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        ingest_directory(tmp_path / "nope", tmp_path / "wh.duckdb")


# ------------------------------------------------------------------------------------------------
# Warehouse held by another process


def test_locked_warehouse_is_a_warehouse_error(tmp_path: Path, landed: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; con = duckdb.connect(sys.argv[1]); print('ready', flush=True); "
            "sys.stdin.read()",
            str(landed),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(WarehouseError, match="open in another process"):
            ingest_directory(tmp_path / "good", landed, now=NOW)
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
