"""billready pull against the local Autotask stand-in: equality with ingest, paging, retries,
limits, atomicity, incremental loads and deletes, credentials, and the swagger's paths."""

from __future__ import annotations

import csv
import json
import logging
import re
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
import pytest

import billready.ingest as ingest_module
from billready import settings
from billready.autotask import PICKLISTS, REST_ENTITIES
from billready.autotask_api import (
    AutotaskClient,
    Credentials,
    Limits,
    RetryPolicy,
    connect,
    normalise_base_url,
)
from billready.cli import main
from billready.errors import ApiAuthError, ApiError, UsageError
from billready.ingest import ingest_directory
from billready.pull import Progress, PullReport, pull, read_pull_state
from billready.standin import AutotaskStandIn, Fault

SWAGGER = settings.project_dir().parent / "shared" / "reference" / "autotask-rest-api-v1.swagger.json"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
LATER = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)
METADATA = {"_loaded_at", "_source_file", "_deleted_at"}
DATA_TABLES = sorted([e.table for e in REST_ENTITIES.values()] + [PICKLISTS.table])


# ------------------------------------------------------------------------------------------------
# Helpers


class FakeTime:
    """A clock that only moves when something sleeps on it: retries and pacing cost no time."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds


def client_for(standin: AutotaskStandIn, fake: FakeTime | None = None, **options: Any) -> AutotaskClient:
    fake = fake or FakeTime()
    options.setdefault("retry", RetryPolicy(attempts=4, backoff=0.5, timeout=10))
    return connect(standin.credentials, standin.base_url, sleep=fake.sleep, clock=fake.clock, **options)


def pull_from(standin: AutotaskStandIn, database: Path, *, now: datetime = NOW, full: bool = False,
              fake: FakeTime | None = None, **options: Any) -> PullReport:
    with client_for(standin, fake, **options) as client:
        return pull(database, client, full=full, now=now)


def table_rows(database: Path, table: str) -> dict[Any, dict[str, Any]]:
    """A raw table's rows by key (id; picklists by entity, field, value)."""
    return all_rows(database, [table])[table]


def all_rows(database: Path, tables: list[str] = DATA_TABLES) -> dict[str, dict[Any, dict[str, Any]]]:
    """Raw tables' rows by key, read over one connection."""
    result = {}
    with duckdb.connect(str(database), read_only=True) as con:
        for table in tables:
            cursor = con.execute(f'SELECT * FROM raw_autotask."{table}"')
            names = [d[0] for d in cursor.description]
            rows = [dict(zip(names, row)) for row in cursor.fetchall()]
            key = (lambda r: (r["entity"], r["field"], r["value"])) if table == "picklists" else (lambda r: r["id"])
            result[table] = {key(r): r for r in rows}
    return result


def snapshot(database: Path, *, metadata: bool = True, tables: list[str] | None = None) -> dict[str, Any]:
    """Tables (all of raw_autotask by default) as (columns with types, sorted rows)."""
    with duckdb.connect(str(database), read_only=True) as con:
        names = tables or [t for (t,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw_autotask'"
        ).fetchall()]
        result = {}
        for table in sorted(names):
            cursor = con.execute(f'SELECT * FROM raw_autotask."{table}"')
            keep = [i for i, d in enumerate(cursor.description) if metadata or d[0] not in METADATA]
            columns = [(cursor.description[i][0], str(cursor.description[i][1])) for i in keep]
            rows = sorted((tuple(row[i] for i in keep) for row in cursor.fetchall()), key=repr)
            result[table] = (columns, rows)
        return result


def write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture(scope="module")
def demo_standin() -> Iterator[AutotaskStandIn]:
    """The demo export, served (shared by the tests that do not change or break it)."""
    with AutotaskStandIn(settings.demo_export_dir()) as standin:
        yield standin


@pytest.fixture(scope="module")
def demo_ingested(tmp_path_factory: pytest.TempPathFactory) -> Path:
    database = tmp_path_factory.mktemp("ingested") / "billready.duckdb"
    ingest_directory(settings.demo_export_dir(), database, now=NOW)
    return database


@pytest.fixture()
def small_export(tmp_path: Path) -> Path:
    """A small tenant: incremental entities (Companies, Tickets) and full-reload ones."""
    export = tmp_path / "export"
    write_csv(export / "Companies.csv", [
        {"id": i, "companyName": f"Company {i}", "lastTrackedModifiedDateTime": f"2026-01-0{i}T10:00:00Z"}
        for i in (1, 2, 3)
    ])
    write_csv(export / "Contracts.csv", [
        {"id": 10, "companyID": 1, "contractName": "Fixed price", "status": 1, "endDate": "2027-06-30"},
        {"id": 11, "companyID": 2, "contractName": "Retainer", "status": 0, "endDate": "2026-12-31"},
    ])
    write_csv(export / "ContractMilestones.csv", [
        {"id": 100 + i, "contractID": 10, "title": f"Phase {i}", "amount": 1000 * i,
         "dateDue": "2026-06-30", "status": 1, "projectID": ""}
        for i in (1, 2, 3)
    ])
    write_csv(export / "ProjectCharges.csv", [
        {"id": 200 + i, "projectID": 5, "name": f"Charge {i}", "billableAmount": 10.5 * i}
        for i in (1, 2, 3)
    ])
    (export / "Tickets.json").write_text(json.dumps([
        {"id": 300 + i, "title": f"Ticket {i}", "companyID": 1, "userDefinedFields": [],
         "lastTrackedModificationDateTime": f"2026-02-0{i}T08:00:00.123Z"}
        for i in (1, 2, 3)
    ]))
    (export / "Contracts.fields.json").write_text(json.dumps({"fields": [
        {"name": "status", "dataType": "integer", "isPickList": True, "picklistValues": [
            {"value": "0", "label": "Inactive", "isActive": True},
            {"value": "1", "label": "Active", "isActive": True},
        ]},
    ]}))
    return export


@pytest.fixture()
def standin(small_export: Path) -> Iterator[AutotaskStandIn]:
    with AutotaskStandIn(small_export) as served:
        yield served


# ------------------------------------------------------------------------------------------------
# The pull lands what ingest lands


def test_pull_equals_ingest_row_for_row_and_pages(
    tmp_path: Path, demo_standin: AutotaskStandIn, demo_ingested: Path
) -> None:
    steps: list[Progress] = []
    with client_for(demo_standin) as client:
        report = pull(tmp_path / "pulled.duckdb", client, now=NOW, progress=steps.append)
    pulled = snapshot(tmp_path / "pulled.duckdb", metadata=False, tables=DATA_TABLES)
    assert pulled == snapshot(demo_ingested, metadata=False, tables=DATA_TABLES)
    # Same columns in the same order, metadata included (the contract downstream relies on).
    with_meta = snapshot(tmp_path / "pulled.duckdb", tables=DATA_TABLES)
    assert {t: c for t, (c, _) in with_meta.items()} == {
        t: c for t, (c, _) in snapshot(demo_ingested, tables=DATA_TABLES).items()
    }
    # More than 500 records span several pages, each followed through nextPageUrl.
    charges = len(table_rows(demo_ingested, "ticket_charges"))
    assert charges > 1000
    assert report.entity("TicketCharges").pages == -(-charges // 500)
    assert report.entity("TicketCharges").counts.received == charges
    steps = [s for s in steps if s.entity == "TicketCharges" and s.part == "records"]
    assert [(s.pages, s.records, s.expected) for s in steps] == [
        (page, min(500 * page, charges), charges) for page in range(1, -(-charges // 500) + 1)
    ]
    assert any("paging=" in r.query for r in demo_standin.requests if r.path.endswith("/TicketCharges/query"))
    assert all(r.status == 200 for r in demo_standin.requests)
    assert report.picklists.received == len(table_rows(demo_ingested, "picklists"))
    rows = table_rows(tmp_path / "pulled.duckdb", "contract_milestones")
    assert {r["_source_file"] for r in rows.values()} == {"ContractMilestones/query"}
    assert all(r["_deleted_at"] is None for r in rows.values())


def test_every_request_uses_a_path_and_method_the_swagger_lists(tmp_path: Path, standin: AutotaskStandIn) -> None:
    if not SWAGGER.exists():
        pytest.skip("the reference swagger is not beside the repository")
    swagger = json.loads(SWAGGER.read_text(encoding="utf-8"))
    patterns = [
        (re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$"), set(ops))
        for path, ops in swagger["paths"].items()
    ]
    base_path = swagger["basePath"]
    with connect(standin.credentials, zone_lookup_root=standin.zone_lookup_root,
                 limits=Limits(check_every=5)) as client:
        pull(tmp_path / "wh.duckdb", client, now=NOW)
        standin.update("Tickets", 301, title="changed")
        pull(tmp_path / "wh.duckdb", client, now=LATER)  # incremental: filters and an id sweep
    seen = {(r.method, r.path) for r in standin.requests}
    assert {m for m, _ in seen} == {"GET", "POST"}
    for method, path in seen:
        assert path.startswith(base_path + "/")
        relative = path[len(base_path):]
        assert any(p.match(relative) and method.lower() in ops for p, ops in patterns), (method, path)
    paths = {p for _, p in seen}
    for expected in ("/V1.0/ZoneInformation", "/V1.0/ThresholdInformation", "/V1.0/Tickets/query",
                     "/V1.0/Tickets/query/count", "/V1.0/Tickets/entityInformation/fields"):
        assert base_path + expected in paths


# ------------------------------------------------------------------------------------------------
# Failures: retried, or the warehouse is left as it was


def test_429_500_and_a_dropped_page_are_retried_and_the_result_is_complete(
    tmp_path: Path, demo_ingested: Path
) -> None:
    faults = [
        Fault("429", path="TicketCharges/query?paging", times=2, retry_after="7"),
        Fault("500", path="Tickets/query", times=2),
        Fault("drop", path="Contracts/query", times=1),
        Fault("429", path="BillingItems/query", times=1, retry_after=None),
    ]
    fake = FakeTime()
    with AutotaskStandIn(settings.demo_export_dir(), faults=faults) as served:
        report = pull_from(served, tmp_path / "wh.duckdb", fake=fake)
        statuses = [r.status for r in served.requests]
    assert all(f.hits == f.times for f in faults)
    assert report.retries == 6 and statuses.count(429) == 3 and statuses.count(500) == 2
    assert fake.sleeps.count(7.0) == 2  # Retry-After honoured
    assert 0.5 in fake.sleeps and 1.0 in fake.sleeps  # exponential backoff otherwise
    assert snapshot(tmp_path / "wh.duckdb", metadata=False, tables=DATA_TABLES) == snapshot(
        demo_ingested, metadata=False, tables=DATA_TABLES
    )


def test_a_connection_dropped_mid_pull_leaves_the_warehouse_unchanged(
    tmp_path: Path, small_export: Path
) -> None:
    database = tmp_path / "wh.duckdb"
    many = [{"id": 1000 + i, "projectID": 5, "name": f"Charge {i}"} for i in range(600)]
    write_csv(small_export / "ProjectCharges.csv", many)
    with AutotaskStandIn(small_export) as served:
        pull_from(served, database)
        before = snapshot(database)
        state = read_pull_state(database)
        served.update("ContractMilestones", 101, title="renamed")
        served.faults.append(Fault("drop", path="ProjectCharges/query?paging", times=100))
        with pytest.raises(ApiError, match=r"ProjectCharges/query failed 4 times \(last: connection failed"):
            pull_from(served, database, now=LATER)
        assert snapshot(database) == before
        assert read_pull_state(database) == state
        served.faults.clear()
        report = pull_from(served, database, now=LATER)  # the next run picks up cleanly
    assert report.entity("ContractMilestones").counts.updated == 1
    assert table_rows(database, "contract_milestones")[101]["title"] == "renamed"


def test_a_failure_while_landing_rolls_everything_back(
    tmp_path: Path, standin: AutotaskStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "wh.duckdb"
    pull_from(standin, database)
    before = snapshot(database)
    standin.update("Tickets", 302, title="changed")
    standin.delete("ContractMilestones", 103)
    calls = []
    real_upsert = ingest_module._upsert

    def killed_upsert(con: Any, staged: Any) -> None:
        calls.append(staged)
        real_upsert(con, staged)
        if len(calls) == 3:
            raise KeyboardInterrupt  # as a kill would, mid-transaction

    monkeypatch.setattr(ingest_module, "_upsert", killed_upsert)
    with pytest.raises(KeyboardInterrupt):
        pull_from(standin, database, now=LATER)
    assert snapshot(database) == before
    monkeypatch.setattr(ingest_module, "_upsert", real_upsert)
    report = pull_from(standin, database, now=LATER)
    assert report.entity("Tickets").counts.updated == 1
    assert report.entity("ContractMilestones").counts.deleted == 1


def test_exhausted_retries_raise_and_land_nothing(tmp_path: Path, standin: AutotaskStandIn) -> None:
    database = tmp_path / "wh.duckdb"
    standin.faults.append(Fault("500", path="Companies/query/count", times=100))
    fake = FakeTime()
    with pytest.raises(ApiError, match=r"POST /V1.0/Companies/query/count failed 4 times \(last: HTTP 500\)"):
        pull_from(standin, database, fake=fake)
    assert fake.sleeps == [0.5, 1.0, 2.0]
    assert not database.exists()


# ------------------------------------------------------------------------------------------------
# Credentials, zones and unusable responses: one clear message, exit 2, no secret anywhere


def _pull_cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, warehouse: Path,
              credentials: Credentials, *args: str) -> tuple[int, str]:
    monkeypatch.setenv("AUTOTASK_USERNAME", credentials.username)
    monkeypatch.setenv("AUTOTASK_SECRET", credentials.secret)
    monkeypatch.setenv("AUTOTASK_INTEGRATION_CODE", credentials.integration_code)
    monkeypatch.delenv("AUTOTASK_BASE_URL", raising=False)
    code = main(["--warehouse", str(warehouse), "pull", "--quiet", *args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_bad_credentials_exit_2_with_a_clear_message_and_no_secret(
    tmp_path: Path, standin: AutotaskStandIn, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    wrong = Credentials(standin.credentials.username, "s3cr3t-W0rd-that-must-not-leak", "INTEGRATION-XYZ-123")
    with caplog.at_level(logging.DEBUG):
        code, output = _pull_cli(capsys, monkeypatch, tmp_path / "wh", wrong, "--base-url", standin.base_url)
    assert code == 2
    assert "refused the credentials (HTTP 401" in output
    assert "AUTOTASK_SECRET" in output
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (wrong.secret, wrong.integration_code):
        assert secret not in output and secret not in logged
        assert secret not in repr(wrong)
    assert output.count("error:") == 1
    assert not (tmp_path / "wh" / "current.json").exists()


def test_missing_credentials_and_bad_base_urls_are_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AUTOTASK_USERNAME", "AUTOTASK_SECRET", "AUTOTASK_INTEGRATION_CODE"):
        monkeypatch.delenv(name, raising=False)
    assert main(["--warehouse", str(tmp_path / "wh"), "pull"]) == 2
    assert "set AUTOTASK_USERNAME, AUTOTASK_SECRET, AUTOTASK_INTEGRATION_CODE" in capsys.readouterr().err
    creds = Credentials("u@example.com", "secret-value", "code-value")
    for url, message in [
        ("http://webservices5.autotask.net/ATServicesRest", "use https://"),
        ("https://u:secret-value@webservices5.autotask.net/ATServicesRest", "must not carry credentials"),
        ("ftp://example.com", "not an http(s) URL"),
    ]:
        code, output = _pull_cli(capsys, monkeypatch, tmp_path / "wh", creds, "--base-url", url)
        assert code == 2 and message in output and "secret-value" not in output


def test_base_url_is_normalised_to_the_rest_root() -> None:
    assert normalise_base_url("https://webservices5.autotask.net/ATServicesRest/V1.0/") == (
        "https://webservices5.autotask.net/ATServicesRest"
    )
    assert normalise_base_url("http://127.0.0.1:8580/ATServicesRest/") == "http://127.0.0.1:8580/ATServicesRest"
    with pytest.raises(UsageError):
        normalise_base_url("https://host/ATServicesRest?user=x")


def test_the_zone_comes_from_zone_information_and_an_unknown_user_is_refused(
    standin: AutotaskStandIn,
) -> None:
    with connect(standin.credentials, zone_lookup_root=standin.zone_lookup_root) as client:
        assert client.base_url == standin.base_url
    stranger = Credentials("nobody@example.com", "x", "y")
    with pytest.raises(ApiError, match="unknown Autotask zone for AUTOTASK_USERNAME") as caught:
        connect(stranger, zone_lookup_root=standin.zone_lookup_root)
    assert "--base-url" in str(caught.value)
    assert standin.requests[-1].path.endswith("/V1.0/ZoneInformation") and standin.requests[-1].status == 404


def test_a_field_whose_type_changed_exits_2_and_lands_nothing(
    tmp_path: Path, standin: AutotaskStandIn, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    database = tmp_path / "wh.duckdb"
    pull_from(standin, database)
    before = snapshot(database)
    standin.update("Contracts", 11, endDate="end of next quarter")
    with pytest.raises(ApiError) as caught:
        pull_from(standin, database, now=LATER)
    message = str(caught.value)
    assert "Contracts/query, row 2, field endDate: 'end of next quarter' is not a date" in message
    assert "the API describes endDate as 'datetime'" in message and "nothing was landed" in message
    assert snapshot(database) == before
    code, output = _pull_cli(capsys, monkeypatch, tmp_path / "cli", standin.credentials, "--base-url", standin.base_url)
    assert code == 2 and output.count("error:") == 1 and "endDate" in output


def test_a_record_without_id_exits_2(tmp_path: Path, standin: AutotaskStandIn) -> None:
    def drop_an_id(path: str, document: Any) -> Any:
        if path.endswith("/ContractMilestones/query"):
            del document["items"][1]["id"]
        return document

    standin.on_response = drop_an_id
    with pytest.raises(ApiError, match=r"ContractMilestones/query, row 2, field id: missing value"):
        pull_from(standin, tmp_path / "wh.duckdb")
    assert not (tmp_path / "wh.duckdb").exists()


def test_fields_the_swagger_lacks_are_kept_and_reported_once(
    tmp_path: Path, standin: AutotaskStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    standin.update("Contracts", 10, regionCode="EU")
    with caplog.at_level(logging.INFO, logger="billready"):
        report = pull_from(standin, tmp_path / "wh.duckdb")
    assert report.extra_columns == {"Contracts": ("regionCode",)}
    assert "kept fields the catalogue lacks, as VARCHAR: regionCode" in report.summary()
    assert table_rows(tmp_path / "wh.duckdb", "contracts")[10]["regionCode"] == "EU"
    assert len([r for r in caplog.records if "regionCode" in r.getMessage()]) == 1


def test_secrets_never_reach_the_warehouse(tmp_path: Path, standin: AutotaskStandIn) -> None:
    database = tmp_path / "wh.duckdb"
    pull_from(standin, database)
    text = json.dumps(snapshot(database), default=str)
    assert standin.credentials.secret not in text
    assert standin.credentials.integration_code not in text
    assert standin.base_url in text  # the source is recorded (_load_log, _pull_state)


# ------------------------------------------------------------------------------------------------
# Incremental loads and deletes


def test_a_second_pull_moves_exactly_the_changed_and_deleted_records(
    tmp_path: Path, standin: AutotaskStandIn
) -> None:
    database = tmp_path / "wh.duckdb"
    first = pull_from(standin, database)
    assert {e.name: e.mode for e in first.entities}["Tickets"] == "full"
    before = all_rows(database)
    standin.requests.clear()
    standin.update("Tickets", 302, title="Printer on fire")  # incremental entity
    standin.update("Companies", 1, companyName="Harbor Dental Group")  # incremental entity
    standin.update("ContractMilestones", 101, amount=1250.0)  # reloaded whole
    standin.delete("ProjectCharges", 202)  # reloaded whole: the delete is reconciled
    report = pull_from(standin, database, now=LATER)

    after = all_rows(database)
    moved = {
        (table, key) for table in DATA_TABLES for key in before[table]
        if before[table][key] != after[table].get(key)
    }
    assert moved == {("tickets", 302), ("companies", 1), ("contract_milestones", 101), ("project_charges", 202)}
    assert all(set(before[t]) == set(after[t]) for t in DATA_TABLES)  # nothing removed or added
    later = datetime(2026, 3, 2, 12, 0)
    assert after["tickets"][302]["title"] == "Printer on fire" and after["tickets"][302]["_loaded_at"] == later
    assert after["contract_milestones"][101]["amount"] == 1250.0
    assert after["project_charges"][202]["_deleted_at"] == later  # kept, marked deleted
    assert after["project_charges"][202]["name"] == before["project_charges"][202]["name"]

    modes = {e.name: (e.mode, e.counts) for e in report.entities}
    assert modes["Tickets"][0] == modes["Companies"][0] == "incremental"
    assert modes["ContractMilestones"][0] == "full"
    # The watermark is inclusive: the last ticket of the first pull comes again, left unchanged.
    assert (modes["Tickets"][1].received, modes["Tickets"][1].updated, modes["Tickets"][1].unchanged) == (2, 1, 1)
    assert (modes["ContractMilestones"][1].updated, modes["ContractMilestones"][1].unchanged) == (1, 2)
    assert modes["ProjectCharges"][1].deleted == 1
    ticket_queries = [r.body for r in standin.requests if r.path.endswith("/Tickets/query")]
    cursor = {"op": "gte", "field": "lastTrackedModificationDateTime", "value": "2026-02-03T08:00:00.123Z"}
    assert {"MaxRecords": 500, "filter": [cursor]} in ticket_queries
    assert {"MaxRecords": 500, "filter": [{"op": "gte", "field": "id", "value": 0}], "IncludeFields": ["id"]} in ticket_queries
    state = read_pull_state(database)
    assert state["Tickets"].mode == "incremental" and state["Tickets"].watermark > datetime(2026, 2, 3, 8)
    assert state["ContractMilestones"].watermark is None and state["ContractMilestones"].source == standin.base_url

    # Nothing changed: a third pull moves nothing at all.
    third = pull_from(standin, database, now=datetime(2026, 3, 3, tzinfo=timezone.utc))
    assert all_rows(database) == after
    assert sum(e.counts.updated + e.counts.inserted + e.counts.deleted for e in third.entities) == 0


def test_deletes_of_incremental_entities_and_picklists_are_reconciled_and_undone(
    tmp_path: Path, standin: AutotaskStandIn
) -> None:
    database = tmp_path / "wh.duckdb"
    pull_from(standin, database)
    deleted = standin.records("Tickets")[0]
    standin.delete("Tickets", 301)
    standin._picklists[("Contracts", "status")].pop(0)  # the tenant retired a status
    report = pull_from(standin, database, now=LATER)
    assert report.entity("Tickets").mode == "incremental" and report.entity("Tickets").counts.deleted == 1
    assert report.picklists.deleted == 1
    assert table_rows(database, "tickets")[301]["_deleted_at"] == datetime(2026, 3, 2, 12)
    assert table_rows(database, "picklists")[("Contracts", "status", "0")]["_deleted_at"] is not None

    standin.insert("Tickets", deleted)  # it comes back (with a newer modification time)
    report = pull_from(standin, database, now=datetime(2026, 3, 3, tzinfo=timezone.utc), full=True)
    assert {e.mode for e in report.entities} == {"full"}
    assert table_rows(database, "tickets")[301]["_deleted_at"] is None
    assert report.entity("Tickets").counts.updated == 1


def test_another_rest_root_starts_over_with_a_full_pull(tmp_path: Path, small_export: Path) -> None:
    database = tmp_path / "wh.duckdb"
    with AutotaskStandIn(small_export) as first:
        pull_from(first, database)
    with AutotaskStandIn(small_export) as second:  # another port: another source
        report = pull_from(second, database, now=LATER)
    assert {e.mode for e in report.entities} == {"full"}


# ------------------------------------------------------------------------------------------------
# Limits


def test_at_most_three_requests_in_flight_per_endpoint(small_export: Path) -> None:
    entity = REST_ENTITIES["Tickets"]
    failures: list[ApiError] = []

    def read_fields(client: AutotaskClient) -> None:
        try:
            client.fields(entity)
        except ApiError as exc:  # without the client's limit, retries may run out
            failures.append(exc)

    for per_endpoint, expect_429 in ((3, False), (8, True)):
        with AutotaskStandIn(small_export, latency=0.15) as served:
            with client_for(served, limits=Limits(per_endpoint=per_endpoint, check_every=10_000)) as client:
                threads = [threading.Thread(target=read_fields, args=(client,)) for _ in range(8)]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
            rejected = [r for r in served.requests if r.status == 429]
            if expect_429:  # the stand-in enforces the API's limit, so the client's limit matters
                assert served.peak_in_flight["tickets"] > 3 and rejected
            else:
                assert served.peak_in_flight["tickets"] == 3 and not rejected and not failures


def test_requests_slow_down_when_the_hourly_budget_runs_low(tmp_path: Path, small_export: Path) -> None:
    fake = FakeTime()
    limits = Limits(check_every=5, max_pace=300, workers=1)  # one at a time: sleeps are exact
    with AutotaskStandIn(small_export, threshold=100, used=60) as served:
        pull_from(served, tmp_path / "slow.duckdb", fake=fake, limits=limits)
        checks = sum(r.path.endswith("/ThresholdInformation") for r in served.requests)
        paced = len(served.requests) - checks
        assert {r.status for r in served.requests} == {200}  # nothing was refused
    # 40 requests left of 100 in a 60-minute window: 3600 / 39 = 92 s apart at first, more as the
    # remainder shrinks (up to max_pace); every request but the first waits its turn.
    assert len(fake.sleeps) == paced - 1 and checks >= paced // 5
    assert fake.sleeps[0] == pytest.approx(3600 / 39)
    assert all(b >= a - 1e-6 for a, b in zip(fake.sleeps, fake.sleeps[1:]))
    assert max(fake.sleeps) == pytest.approx(300)
    relaxed = FakeTime()
    with AutotaskStandIn(small_export, threshold=10_000, used=10) as served:
        pull_from(served, tmp_path / "fast.duckdb", fake=relaxed)
    assert relaxed.sleeps == []


# ------------------------------------------------------------------------------------------------
# The stand-in's query language


@pytest.mark.parametrize(
    ("condition", "ids"),
    [
        ({"op": "eq", "field": "companyName", "value": "company 2"}, [2]),  # strings ignore case
        ({"op": "noteq", "field": "id", "value": 2}, [1, 3]),
        ({"op": "gt", "field": "id", "value": 1}, [2, 3]),
        ({"op": "gte", "field": "lastTrackedModifiedDateTime", "value": "2026-01-02T10:00:00Z"}, [2, 3]),
        ({"op": "lt", "field": "lastTrackedModifiedDateTime", "value": "2026-01-02T12:00:00+01:00"}, [1, 2]),
        ({"op": "lte", "field": "id", "value": 2}, [1, 2]),
        ({"op": "in", "field": "id", "value": [1, 3, 9]}, [1, 3]),
        ({"op": "notIn", "field": "id", "value": [1, 3]}, [2]),
        ({"op": "beginsWith", "field": "companyName", "value": "COMP"}, [1, 2, 3]),
        ({"op": "contains", "field": "companyName", "value": "y 3"}, [3]),
        ({"op": "exist", "field": "companyName"}, [1, 2, 3]),
        ({"op": "notExist", "field": "phone"}, [1, 2, 3]),
        ({"op": "or", "items": [{"op": "eq", "field": "id", "value": 1},
                                {"op": "and", "items": [{"op": "gt", "field": "id", "value": 2},
                                                        {"op": "exist", "field": "companyName"}]}]}, [1, 3]),
    ],
)
def test_standin_filters(standin: AutotaskStandIn, condition: dict[str, Any], ids: list[int]) -> None:
    entity = REST_ENTITIES["Companies"]
    with client_for(standin) as client:
        found = [r["id"] for page in client.query(entity, [condition]) for r in page]
        assert found == ids
        assert client.count(entity, [condition]) == len(ids)


def test_standin_pages_get_queries_and_refuses_bad_ones(standin: AutotaskStandIn) -> None:
    import requests

    headers = standin.credentials.headers()
    search = json.dumps({"MaxRecords": 2, "filter": [{"op": "gte", "field": "id", "value": 0}]})
    url = f"{standin.base_url}/V1.0/Companies/query"
    first = requests.get(url, params={"search": search}, headers=headers, timeout=10).json()
    assert [r["id"] for r in first["items"]] == [1, 2]
    second = requests.get(first["pageDetails"]["nextPageUrl"], headers=headers, timeout=10).json()
    assert [r["id"] for r in second["items"]] == [3] and second["pageDetails"]["nextPageUrl"] is None
    bad = [
        ({"MaxRecords": 501, "filter": [{"op": "gte", "field": "id", "value": 0}]}, 400),
        ({"MaxRecords": 10}, 400),
        ({"filter": [{"op": "like", "field": "id", "value": 0}]}, 400),
        ({"filter": [{"op": "eq", "field": "noSuchField", "value": 0}]}, 400),
    ]
    for body, status in bad:
        assert requests.post(url, json=body, headers=headers, timeout=10).status_code == status
    assert requests.post(url, json={}, headers={}, timeout=10).status_code == 401
    assert requests.get(f"{standin.base_url}/V1.0/Widgets/query", headers=headers, timeout=10).status_code == 404
    with pytest.raises(ApiAuthError):
        with connect(Credentials(standin.credentials.username, "wrong", "wrong"), standin.base_url) as client:
            client.fields(REST_ENTITIES["Companies"])


# ------------------------------------------------------------------------------------------------
# The shared landing code, directly


def test_a_complete_picklist_source_speaks_only_for_its_entity(tmp_path: Path) -> None:
    from billready.ingest import DocumentSource, StateRows, land_sources

    database = tmp_path / "wh.duckdb"

    def fields(*values: str) -> dict[str, Any]:
        picks = [{"value": v, "label": f"Label {v}", "isActive": True} for v in values]
        return {"fields": [{"name": "status", "picklistValues": picks}]}

    def land(contracts: dict[str, Any], milestones: dict[str, Any] | None, now: datetime) -> None:
        sources = [DocumentSource("Contracts/entityInformation/fields", PICKLISTS, contracts,
                                  kind="fields", subject=REST_ENTITIES["Contracts"], complete=True)]
        if milestones is not None:
            sources.append(DocumentSource("ContractMilestones/entityInformation/fields", PICKLISTS,
                                          milestones, kind="fields",
                                          subject=REST_ENTITIES["ContractMilestones"], complete=True))
        state = StateRows("_state", {"k": "VARCHAR", "v": "BIGINT"}, ("k",), (("a", now.day),))
        land_sources(sources, database, origin="test", now=now, skip_unchanged=True, state=[state])

    land(fields("0", "1"), fields("1", "2"), NOW)
    land(fields("1"), None, LATER)  # Contracts lost "0"; nothing said about ContractMilestones
    rows = table_rows(database, "picklists")
    deleted = {key for key, row in rows.items() if row["_deleted_at"] is not None}
    assert deleted == {("Contracts", "status", "0")}
    assert rows[("Contracts", "status", "1")]["_loaded_at"] == datetime(2026, 3, 1, 12)  # unchanged
    with duckdb.connect(str(database), read_only=True) as con:
        assert con.execute('SELECT k, v FROM raw_autotask."_state"').fetchall() == [("a", 2)]
