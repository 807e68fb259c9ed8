"""Landing Parquet fast (issue #8): typed columns read as they are, views over the file, dedupe only
when keys repeat, DuckDB limits from the environment. The text path is the reference: whatever
the fast path lands, or refuses, the text path must land, or refuse, identically."""

from __future__ import annotations

import datetime
import logging
import math
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import billready.ingest as ingest_module
from billready.autotask import ENTITIES
from billready.errors import InputError, WarehouseError
from billready.ingest import discover_exports, ingest_directory, land_sources
from tests.test_ingest import snapshot

NOW = datetime.datetime(2026, 3, 1, 12, 0, tzinfo=datetime.timezone.utc)
LATER = datetime.datetime(2026, 3, 2, 12, 0, tzinfo=datetime.timezone.utc)
UTC = datetime.timezone.utc


def _days(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 (date32), also for years Python's date cannot hold."""
    if year > 9999:
        return (datetime.date(9999, 12, 31) - datetime.date(1970, 1, 1)).days + 1
    return (datetime.date(year, month, day) - datetime.date(1970, 1, 1)).days


def _mixed_contracts() -> pa.Table:
    """Contracts in every column shape an export writes: typed, text-y, nulls, gaps, duplicates."""
    return pa.table({
        # out of order, with repeated keys: the last row per id wins
        "id": pa.array([5, 3, 9, 3, 1, 7, 5, 11], pa.int64()),
        "companyID": pa.array([1, None, 3, 4, 5, 6, 7, 8], pa.int32()),
        # integers with gaps, as pandas writes them; -0.0 lands as 0
        "billToCompanyID": pa.array([1.0, None, 3.0, -0.0, 9e17, 6.0, 7.0, -8.0]),
        "renewedContractID": pa.array([1.0, 2.0, None, 4.0, 5.0, 6.0, 7.0, 8.0], pa.float32()),
        "opportunityID": pa.array([1, 2, 3, None, 5, 6, 7, 4294967295], pa.uint32()),
        "timeReportingRequiresStartAndStopTimes": pa.array(
            [0, 1, 0, 1, None, 0, 1, 255], pa.uint8()
        ),
        "exclusionContractID": pa.array([None] * 8, pa.int16()),
        # strings holding numbers, booleans and dates: the text path
        "contactID": pa.array(["12", " 13 ", None, "", "+14", "-15", "016", "17"]),
        "overageBillingRate": pa.array(["1.5", None, "2", " 3e2 ", "", "-0", "0.1", "7"]),
        "isDefaultContract": pa.array(["yes", "0", None, "TRUE", "no", "1", "", "false"]),
        "endDate": pa.array([
            "2026-01-31", None, "2026-02-28T10:00:00+02:00", "", "2026-03-01 23:30",
            "2026-03-02T00:00Z", "2026-03-03T04:05:06.789", "2026-03-04",
        ]),
        # doubles for DOUBLE fields, with every corner of the text round trip
        "estimatedCost": pa.array(  # the first two rows are replaced by later ones
            [9.5, 8.5, float("nan"), -0.0, float("-inf"), float("inf"), 0.1, 2.0**53 + 2]
        ),
        "estimatedHours": pa.array(
            [2**53 + 1, 1, None, -3, 0, 10**18, -(2**63), 2**63 - 1], pa.int64()
        ),
        "estimatedRevenue": pa.array([0.1, 1.5, None, 3.0, 1e10, -2.5, 7.0, 8.25], pa.float32()),
        "setupFee": pa.array([1, 2, None, 4, 5, 6, 7, 8], pa.decimal128(10, 2)),
        "internalCurrencySetupFee": pa.array([1.25, 2.0, 3.5, None, 1e18, -0.0, 1e-7, None]),
        "isCompliant": pa.array([True, False, None, True, False, True, False, True]),
        "startDate": pa.array(
            [_days(1, 1, 1), _days(9999, 12, 31), None, _days(2026, 1, 31), _days(1970, 1, 1),
             _days(2000, 2, 29), _days(2026, 12, 31), _days(2026, 6, 1)],
            pa.date32(),
        ),
        "contractName": pa.array(["A", "", None, " spaced ", "Café", "F", "G", "H"]),
        "contractNumber": pa.array([b"N-1", b"N-2", None, b"", b"N-5", b"N-6", b"N-7", b"N-8"]),
        "contractType": pa.array([1, 2, None, 4, 5, 6, 7, 8], pa.int64()),  # a VARCHAR field
        "description": pa.array(["d"] * 7 + [None], pa.large_string()),
        "userDefinedFields": pa.array(
            [[{"name": "PO", "value": "1"}], None, [], [{"name": "x", "value": None}]] * 2
        ),
        "Region": pa.array([1, 2, 3, 4, 5, 6, 7, None], pa.int64()),  # not in the catalogue
    })


MOMENTS = [
    datetime.datetime(2026, 1, 2, 9, 30, 1, 123456, tzinfo=UTC),
    None,
    datetime.datetime(1, 1, 1, tzinfo=UTC),
    datetime.datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
]


def _mixed_milestones() -> pa.Table:
    """Timestamps in microseconds and in Berlin milliseconds; nanoseconds into a VARCHAR field."""
    moments, berlin = MOMENTS, pa.timestamp("ms", tz="Europe/Berlin")
    return pa.table({
        "id": pa.array([3, 1, 2, 4], pa.int32()),
        "createDate": pa.array(moments, pa.timestamp("us")),
        "dateDue": pa.array(moments, berlin),
        "amount": pa.array([1.5, None, 0.0, 1e-7]),
        "billingCodeID": pa.array([7.0, None, 8.0, 9.0]),
        "title": pa.array(["a", "b", "c", "d"]),
    }).append_column(
        "status",  # a VARCHAR field from nanoseconds: rendered as text
        pa.array([1_000_000_123_456_789, None, 0, -1], pa.timestamp("ns")),
    )


def _mixed_charges() -> pa.Table:
    """Timestamps in seconds and UTC milliseconds (typed), nanoseconds (the text path)."""
    return pa.table({
        "id": pa.array([10, 20, 30, 40], pa.int64()),
        "datePurchased": pa.array(MOMENTS, pa.timestamp("s")),
        "statusLastModifiedDate": pa.array(MOMENTS, pa.timestamp("ms", tz="UTC")),
        "createDate": pa.array(
            [1_000_000_123_456_789, None, 1, -1], pa.timestamp("ns")  # nanoseconds truncate
        ),
    })


def _picklists() -> pa.Table:
    """Picklist rows whose keys repeat once their entity and field names are normalised."""
    return pa.table({
        "entity": ["contracts", "Contract", "Tickets", "contracts"],
        "field": ["STATUS", "status", "queueID", "status"],
        "value": ["1", "2", "5", "1"],
        "label": ["Active", "Draft", "Triage", "Active (renamed)"],
        "isActive": [True, None, False, True],
    })


def _write(directory: Path, files: dict[str, pa.Table]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, table in files.items():
        pq.write_table(table, directory / name)
    return directory


def _text_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Send every Parquet column through the text path (the reference)."""
    monkeypatch.setattr(ingest_module, "_parquet_typed", lambda wanted, ref, kind: None)


def _strict(value: Any) -> Any:
    """A value compared strictly: -0.0 differs from 0.0, NaN equals NaN, types matter."""
    if isinstance(value, float):
        return ("float", repr(value)) if not math.isnan(value) else ("float", "nan")
    return (type(value).__name__, value)


def _landed(database: Path) -> dict[str, Any]:
    """Every raw table's columns with types, and its rows (strictly compared)."""
    return snapshot(database, value=_strict, skip=("_load_log",))


def _ingest(export: Path, database: Path, now: datetime.datetime = NOW) -> None:
    ingest_directory(export, database, now=now)


# ------------------------------------------------------------------------------------------------
# The typed path lands what the text path lands


def test_typed_parquet_lands_exactly_what_the_text_path_lands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    export = _write(tmp_path / "export", {
        "Contracts.parquet": _mixed_contracts(),
        "ContractMilestones.parquet": _mixed_milestones(),
        "ContractCharges.parquet": _mixed_charges(),
        "Picklists.parquet": _picklists(),
    })
    with caplog.at_level(logging.DEBUG, logger="billready.ingest"):
        _ingest(export, tmp_path / "typed.duckdb")
    typed = _landed(tmp_path / "typed.duckdb")
    staged = {
        r.getMessage().split(":")[0]: r.getMessage()
        for r in caplog.records
        if "staged as" in r.getMessage()
    }
    assert "read typed (id, companyID, billToCompanyID" in staged["Contracts.parquet"]
    assert "staged as a view" in staged["ContractMilestones.parquet"]  # unique keys: no copy
    assert "staged as a table" in staged["Contracts.parquet"]  # repeated keys: copied, deduped
    assert "read typed (id, datePurchased, statusLastModifiedDate)" in staged[
        "ContractCharges.parquet"
    ]

    with monkeypatch.context() as patch:
        _text_only(patch)
        _ingest(export, tmp_path / "text.duckdb")
    assert _landed(tmp_path / "text.duckdb") == typed

    contracts = {row[0][1]: row for row in typed["contract_milestones"][1]}
    assert set(contracts) == {1, 2, 3, 4}
    names = [name for name, _ in typed["contracts"][0]]
    by_id = {
        record[0][1]: dict(zip(names, (value for _, value in record)))
        for record in typed["contracts"][1]
    }
    assert sorted(by_id) == [1, 3, 5, 7, 9, 11]
    assert by_id[3]["companyID"] == 4 and by_id[5]["companyID"] == 7  # the last row per id won
    assert by_id[3]["billToCompanyID"] == 0 and by_id[11]["billToCompanyID"] == -8
    assert by_id[3]["estimatedCost"] == "0.0"  # -0.0 reads as its text "0" would (floats as repr)
    assert by_id[5]["contactID"] == 16 and by_id[3]["contactID"] is None
    assert by_id[11]["opportunityID"] == 4294967295
    assert by_id[1]["contractType"] == "5" and by_id[1]["Region"] == "5"
    assert by_id[1]["contractNumber"] == "N-5"
    picklists = sorted((r[0][1], r[1][1], r[2][1], r[3][1]) for r in typed["picklists"][1])
    assert picklists == [
        ("Contracts", "status", "1", "Active (renamed)"),
        ("Contracts", "status", "2", "Draft"),
        ("Tickets", "queueID", "5", "Triage"),
    ]


@pytest.mark.parametrize(
    ("field", "kind", "typed"),
    [
        ("id", "BIGINT", True),
        ("companyID", "INTEGER", True),
        ("companyID", "UINTEGER", True),
        ("companyID", "UBIGINT", False),  # beyond BIGINT: the text path says so
        ("companyID", "DOUBLE", True),
        ("companyID", "FLOAT", True),
        ("companyID", "DECIMAL(10,2)", False),
        ("companyID", "VARCHAR", False),
        ("estimatedCost", "DOUBLE", True),
        ("estimatedCost", "BIGINT", True),
        ("estimatedCost", "FLOAT", False),  # its text is the shortest float, not the widened double
        ("isCompliant", "BOOLEAN", True),
        ("isCompliant", "BIGINT", False),
        ("startDate", "TIMESTAMP", True),
        ("startDate", "TIMESTAMP WITH TIME ZONE", True),
        ("startDate", "DATE", True),
        ("startDate", "TIMESTAMP_NS", False),  # the text path truncates nanoseconds; a cast rounds
        ("contractName", "VARCHAR", False),  # text already
        ("Region", "BIGINT", False),  # not in the catalogue: VARCHAR
    ],
)
def test_which_parquet_columns_are_read_typed(field: str, kind: str, typed: bool) -> None:
    column = ingest_module._parquet_column(ENTITIES["Contracts"], field, "t.c", kind)
    assert column.typed is typed


# ------------------------------------------------------------------------------------------------
# Bad values on the typed path: the text path's error, naming file, row and field

BAD_TYPED = {
    "missing id": (
        {"id": pa.array([1, None, 3], pa.int64())}, 2, "id",
        "missing value (every record needs an id)",
    ),
    "fractional id": ({"id": pa.array([1.0, 2.0, 2.5])}, 3, "id", "'2.5' is not an integer"),
    "NaN reference": (
        {"id": [1, 2], "companyID": pa.array([1.0, float("nan")])}, 2, "companyID",
        "'nan' is not an integer",
    ),
    "too large an integer in a double": (
        {"id": [1, 2], "companyID": pa.array([1e18, 1.0])}, 1, "companyID",
        "'1e+18' is not an integer",
    ),
    "date past 9999": (
        {"id": [1, 2], "startDate": pa.array([_days(2026, 1, 1), _days(10000, 1, 1)], pa.date32())},
        2, "startDate", "'10000-01-01' is not a date",
    ),
    "timestamp before year 1": (
        {"id": [1], "endDate": pa.array([-62135596801], pa.timestamp("s"))},
        1, "endDate", "'0001-12-31 (BC) 23:59:59' is not a date",
    ),
    "first bad row wins over column order": (
        {"id": [1, 2, 3], "companyID": pa.array([1.0, 2.0, 3.5]),
         "billToCompanyID": pa.array([1.0, 2.5, 3.5])},
        2, "billToCompanyID", "'2.5' is not an integer",
    ),
    "then the first column in the file": (
        {"id": [1, 2], "billToCompanyID": pa.array([1.0, 2.5]), "companyID": pa.array([1.0, 2.5])},
        2, "billToCompanyID", "'2.5' is not an integer",
    ),
    "bad text beside typed columns": (
        {"id": [1, 2], "contactID": ["1", "x"], "companyID": pa.array([1.0, 2.0])}, 2, "contactID",
        "'x' is not an integer",
    ),
}


@pytest.mark.parametrize("path", ["typed", "text"])
@pytest.mark.parametrize("case", list(BAD_TYPED), ids=list(BAD_TYPED))
def test_bad_typed_values_are_refused_like_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str, path: str
) -> None:
    columns, row, field, message = BAD_TYPED[case]
    if path == "text":
        _text_only(monkeypatch)
    export = _write(tmp_path / "export", {"Contracts.parquet": pa.table(columns)})
    with pytest.raises(InputError) as caught:
        _ingest(export, tmp_path / "bad.duckdb")
    located = (caught.value.file, caught.value.row, caught.value.field)
    assert located == ("Contracts.parquet", row, field)
    assert message in caught.value.message
    assert not (tmp_path / "bad.duckdb").exists()


@pytest.mark.parametrize("path", ["typed", "text"])
def test_unknown_picklist_entity_in_parquet_is_located(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    if path == "text":
        _text_only(monkeypatch)
    table = _picklists().set_column(0, "entity", pa.array(["contracts", "Invoices", "x", "y"]))
    export = _write(tmp_path / "export", {"Picklists.parquet": table})
    with pytest.raises(InputError, match="unknown entity 'Invoices'") as caught:
        _ingest(export, tmp_path / "bad.duckdb")
    assert (caught.value.file, caught.value.row, caught.value.field) == (
        "Picklists.parquet", 2, "entity"
    )


def _not_utf8(values: list[bytes]) -> pa.Array:
    """A Parquet string column holding bytes that are not UTF-8 (as a broken writer leaves it)."""
    offsets = [0]
    for value in values:
        offsets.append(offsets[-1] + len(value))
    return pa.Array.from_buffers(
        pa.string(), len(values), [None, pa.array(offsets, pa.int32()).buffers()[1],
                                   pa.py_buffer(b"".join(values))]
    )


def test_undecodable_text_is_refused_before_the_warehouse_is_touched(tmp_path: Path) -> None:
    table = pa.table({"id": [1, 2], "contractName": _not_utf8([b"ok", b"bad \xff"])})
    export = _write(tmp_path / "export", {"Contracts.parquet": table})
    with pytest.raises(InputError, match="unreadable Parquet data") as caught:
        _ingest(export, tmp_path / "bad.duckdb")
    assert caught.value.file == "Contracts.parquet"
    assert not (tmp_path / "bad.duckdb").exists()


@pytest.mark.parametrize("replacement", ["damaged", "other valid records"])
def test_a_file_changed_after_validation_lands_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, replacement: str
) -> None:
    """A Parquet file is read where it lies, validated, then read again by the write: a file
    replaced in between (even by valid records, which were never checked) is refused."""
    table = pa.table({"id": [1], "contractName": ["A"]})
    export = _write(tmp_path / "export", {"Contracts.parquet": table})
    database = tmp_path / "wh.duckdb"
    _ingest(export, database)
    before = _landed(database)
    _write(export, {"Contracts.parquet": pa.table({"id": [1, 2], "contractName": ["B", "C"]})})
    real_write = ingest_module._write_warehouse

    def changing_write(*args: Any, **kwargs: Any) -> Any:
        if replacement == "damaged":
            changed = pa.table({"id": [1, 2], "contractName": _not_utf8([b"B", b"\xff"])})
        else:
            changed = pa.table({"id": [1, 2, 3], "contractName": ["B", "C", "never validated"]})
        pq.write_table(changed, export / "Contracts.parquet")
        return real_write(*args, **kwargs)

    monkeypatch.setattr(ingest_module, "_write_warehouse", changing_write)
    with pytest.raises(InputError, match="changed while it was being landed") as caught:
        _ingest(export, database, LATER)
    assert caught.value.file == "Contracts.parquet"
    assert _landed(database) == before


# ------------------------------------------------------------------------------------------------
# Views, copies and deduplication


def test_a_column_named_file_row_number_is_kept_and_rows_still_located(tmp_path: Path) -> None:
    table = pa.table(
        {"id": [1, 2, 1], "File_Row_Number": ["a", "b", "c"], "companyID": [1.0, 2.0, 3.0]}
    )
    export = _write(tmp_path / "export", {"Contracts.parquet": table})
    database = tmp_path / "wh.duckdb"
    report = ingest_directory(export, database, now=NOW)
    assert report.rows["Contracts"] == 2
    assert report.extra_columns == {"Contracts": ("File_Row_Number",)}
    with duckdb.connect(str(database), read_only=True) as con:
        landed = con.execute(
            'SELECT id, "File_Row_Number", companyID FROM raw_autotask.contracts ORDER BY id'
        ).fetchall()
    assert landed == [(1, "c", 3), (2, "b", 2)]
    fractional = table.set_column(2, "companyID", pa.array([1.0, 2.0, 3.5]))
    _write(export, {"Contracts.parquet": fractional})
    with pytest.raises(InputError) as caught:
        ingest_directory(export, tmp_path / "bad.duckdb", now=NOW)
    assert (caught.value.row, caught.value.field) == (3, "companyID")


def test_relanding_parquet_skips_unchanged_records(tmp_path: Path) -> None:
    export = _write(tmp_path / "export", {"Contracts.parquet": _mixed_contracts()})
    database = tmp_path / "wh.duckdb"
    def land(now: datetime.datetime) -> Any:
        return land_sources(
            discover_exports(export), database, origin=str(export), now=now, skip_unchanged=True
        )

    first = land(NOW)
    assert first.counts["Contracts"].inserted == 6
    before = _landed(database)
    again = land(LATER)
    assert (again.counts["Contracts"].unchanged, again.counts["Contracts"].updated) == (6, 0)
    assert _landed(database) == before  # _loaded_at included
    changed = _mixed_contracts()
    changed = changed.set_column(
        changed.schema.get_field_index("contractName"), "contractName",
        pa.array(["A", "", None, " spaced ", "Renamed", "F", "G", "H"]),
    )
    _write(export, {"Contracts.parquet": changed})
    third = land(LATER)
    assert (third.counts["Contracts"].unchanged, third.counts["Contracts"].updated) == (5, 1)
    with duckdb.connect(str(database), read_only=True) as con:
        assert con.execute(
            "SELECT contractName, _loaded_at FROM raw_autotask.contracts WHERE id = 1"
        ).fetchall() == [("Renamed", datetime.datetime(2026, 3, 2, 12, 0))]


def test_last_row_per_key_wins_in_every_path(tmp_path: Path) -> None:
    ids = [4, 2, 4, 1, 2, 4]
    names = ["a", "b", "c", "d", "e", "f"]
    export = tmp_path / "export"
    _write(export, {"Contracts.parquet": pa.table({"id": ids, "contractName": names})})
    (export / "Projects.csv").write_text(
        "id,projectName\n" + "".join(f"{i},{n}\n" for i, n in zip(ids, names)), encoding="utf-8"
    )
    database = tmp_path / "wh.duckdb"
    report = ingest_directory(export, database, now=NOW)
    assert report.rows["Contracts"] == report.rows["Projects"] == 3
    with duckdb.connect(str(database), read_only=True) as con:
        contracts = con.execute(
            "SELECT id, contractName FROM raw_autotask.contracts ORDER BY id"
        ).fetchall()
        projects = con.execute(
            "SELECT id, projectName FROM raw_autotask.projects ORDER BY id"
        ).fetchall()
    assert contracts == projects == [(1, "d"), (2, "e"), (4, "f")]


# ------------------------------------------------------------------------------------------------
# The staging connection: limits from the environment, a spill directory beside the warehouse


def _setting(con: duckdb.DuckDBPyConnection, name: str) -> Any:
    return con.execute(f"SELECT current_setting('{name}')").fetchone()[0]


def test_staging_connection_takes_its_limits_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BILLREADY_DUCKDB_THREADS", raising=False)
    monkeypatch.delenv("BILLREADY_DUCKDB_MEMORY_LIMIT", raising=False)
    monkeypatch.setenv("BILLREADY_THREADS", "1")
    reference = duckdb.connect(config={"memory_limit": "3GB"})
    con = ingest_module._staging_connection(tmp_path)
    assert _setting(con, "memory_limit") == _setting(reference, "memory_limit")
    assert _setting(con, "threads") == 1
    assert _setting(con, "temp_directory") == str(tmp_path)
    con.close()
    monkeypatch.setenv("BILLREADY_DUCKDB_MEMORY_LIMIT", "1GB")
    monkeypatch.setenv("BILLREADY_DUCKDB_THREADS", "3")
    reference = duckdb.connect(config={"memory_limit": "1GB"})
    con = ingest_module._staging_connection(tmp_path)
    assert _setting(con, "memory_limit") == _setting(reference, "memory_limit")
    assert _setting(con, "threads") == 3
    con.close()
    monkeypatch.setenv("BILLREADY_DUCKDB_MEMORY_LIMIT", "lots")
    with pytest.raises(WarehouseError, match="BILLREADY_DUCKDB_MEMORY_LIMIT"):
        ingest_module._staging_connection(tmp_path)


def test_spill_directory_is_beside_the_warehouse_and_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    export = _write(tmp_path / "export", {"Contracts.parquet": pa.table({"id": [1]})})
    database = tmp_path / "wh" / "billready.duckdb"
    database.parent.mkdir()
    spills = []
    real_connection = ingest_module._staging_connection

    def recording_connection(spill: Path) -> duckdb.DuckDBPyConnection:
        spills.append(spill)
        assert spill.is_dir()
        return real_connection(spill)

    monkeypatch.setattr(ingest_module, "_staging_connection", recording_connection)
    _ingest(export, database)
    with pytest.raises(InputError):
        _ingest(_write(tmp_path / "bad", {"Contracts.parquet": pa.table({"id": [1.5]})}), database)
    assert [spill.parent for spill in spills] == [database.parent, database.parent]
    assert not any(spill.exists() for spill in spills)
    assert sorted(p.name for p in database.parent.iterdir()) == ["billready.duckdb"]
