"""Landing ``<Entity>.parquet`` exports: the same validation and typing as CSV."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from billready.errors import InputError
from billready.ingest import ingest_directory

NOW = datetime.datetime(2026, 3, 1, 12, 0, tzinfo=datetime.timezone.utc)
METADATA = ("_loaded_at", "_source_file", "_deleted_at")

CSV = """id,contractID,title,amount,dateDue,status,isInitialPayment,billingCodeID,createDate
1,10,Kick-off,1500.5,2026-01-31,1,true,7,2026-01-02T09:30:00Z
2,10,Go-live,3000,2026-02-28,Ready to Bill,false,,
"""


def _typed_milestones() -> pa.Table:
    """The CSV's records as a typed Parquet export would hold them (pandas-style nullable ints)."""
    return pa.table({
        "id": pa.array([1, 2], pa.int64()),
        "contractID": pa.array([10, 10], pa.int32()),
        "title": pa.array(["Kick-off", "Go-live"]),
        "amount": pa.array([1500.5, 3000.0]),
        "dateDue": pa.array([datetime.date(2026, 1, 31), datetime.date(2026, 2, 28)]),
        "status": pa.array(["1", "Ready to Bill"]),
        "isInitialPayment": pa.array([True, False]),
        "billingCodeID": pa.array([7.0, None]),  # an integer column with a gap, as pandas writes it
        "createDate": pa.array(
            [datetime.datetime(2026, 1, 2, 9, 30, tzinfo=datetime.timezone.utc), None],
            pa.timestamp("us", tz="UTC"),
        ),
    })


def _raw(database: Path, table: str) -> tuple[list[tuple[str, str]], list[dict[str, Any]]]:
    """A raw table's column types and its rows without billready's metadata columns."""
    with duckdb.connect(str(database), read_only=True) as con:
        cursor = con.execute(f'SELECT * FROM raw_autotask."{table}" ORDER BY 1')
        names = [d[0] for d in cursor.description]
        types = [(d[0], str(d[1])) for d in cursor.description]
        records = [
            {k: v for k, v in zip(names, row) if k not in METADATA} for row in cursor.fetchall()
        ]
    return types, records


def _land(tmp_path: Path, name: str, files: dict[str, Any]) -> Path:
    export = tmp_path / name
    export.mkdir()
    for file_name, content in files.items():
        if isinstance(content, pa.Table):
            pq.write_table(content, export / file_name)
        else:
            (export / file_name).write_text(content, encoding="utf-8")
    database = tmp_path / f"{name}.duckdb"
    ingest_directory(export, database, now=NOW)
    return database


def test_typed_and_text_parquet_land_like_csv(tmp_path: Path) -> None:
    from_csv = _land(tmp_path, "csv", {"ContractMilestones.csv": CSV})
    typed = _land(tmp_path, "typed", {"ContractMilestones.parquet": _typed_milestones()})
    text = _typed_milestones().cast(pa.schema([(f.name, pa.string()) for f in _typed_milestones().schema]))
    as_text = _land(tmp_path, "text", {"contract_milestones.parquet": text})
    expected = _raw(from_csv, "contract_milestones")
    assert _raw(typed, "contract_milestones") == expected
    assert _raw(as_text, "contract_milestones") == expected
    types = dict(expected[0])
    assert (types["id"], types["amount"], types["dateDue"], types["isInitialPayment"]) == (
        "BIGINT", "DOUBLE", "TIMESTAMP", "BOOLEAN"
    )


def test_nested_values_land_as_json_text_and_picklists_parquet(tmp_path: Path) -> None:
    tickets = pa.table({
        "ID": pa.array([5], pa.int64()),  # matched ignoring case
        "userDefinedFields": pa.array([[{"name": "Site", "value": "HQ"}]]),
        "vendorTag": pa.array(["x"]),  # not in the catalogue: kept as VARCHAR
    })
    picklists = pa.table({
        "entity": ["contracts"], "field": ["STATUS"], "value": ["1"], "label": ["Active"],
        "isActive": [True],
    })
    database = _land(tmp_path, "nested", {"Tickets.parquet": tickets, "Picklists.parquet": picklists})
    types, records = _raw(database, "tickets")
    assert records[0]["id"] == 5
    assert records[0]["userDefinedFields"] == '[{"name":"Site","value":"HQ"}]'
    assert records[0]["vendorTag"] == "x" and dict(types)["vendorTag"] == "VARCHAR"
    _, labels = _raw(database, "picklists")
    assert [(r["entity"], r["field"], r["value"], r["label"]) for r in labels] == [
        ("Contracts", "status", "1", "Active")
    ]


BAD_PARQUET = {
    "not parquet": ({"Contracts.parquet": "id\n1\n"}, None, None, "not a readable Parquet file"),
    "fractional id": (
        {"Contracts.parquet": pa.table({"id": [1.0, 2.5]})}, 2, "id", "'2.5' is not an integer"
    ),
    "no id column": ({"Contracts.parquet": pa.table({"contractName": ["A"]})}, None, None, "no id column"),
    "duplicate column": (
        {"Contracts.parquet": pa.table([pa.array([1]), pa.array(["A"]), pa.array(["B"])],
                                       names=["id", "contractName", "ContractName"])},
        None, "ContractName", "duplicate column",
    ),
    "bad date text": (
        {"Contracts.parquet": pa.table({"id": [1], "endDate": ["31/12/2026"]})}, 1, "endDate",
        "is not a date",
    ),
}


@pytest.mark.parametrize("case", list(BAD_PARQUET), ids=list(BAD_PARQUET))
def test_bad_parquet_is_refused_like_bad_csv(tmp_path: Path, case: str) -> None:
    files, row, field, message = BAD_PARQUET[case]
    with pytest.raises(InputError) as caught:
        _land(tmp_path, "bad", files)
    assert (caught.value.file, caught.value.row, caught.value.field) == ("Contracts.parquet", row, field)
    assert message in caught.value.message
    assert not (tmp_path / "bad.duckdb").exists()


def test_csv_and_parquet_of_one_entity_are_refused(tmp_path: Path) -> None:
    files = {"Contracts.csv": "id\n1\n", "Contracts.parquet": pa.table({"id": [1]})}
    with pytest.raises(InputError, match="also holds Contracts"):
        _land(tmp_path, "double", files)
