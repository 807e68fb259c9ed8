"""billready check without holding every finding: the JSON document streamed a record batch at a
time is the document json.dumps writes, and the text output's counts come from an aggregate.

The reference here is what check did before it streamed: every finding of the report's findings
action list read into pandas and turned into plain values.
"""
from __future__ import annotations

import datetime
import io
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from billready.access import Scope
from billready.check import CheckResult, Findings, run_check, to_markdown, to_text
from billready.cli import main
from billready.filters import ReportFilters
from billready.formatting import plain
from billready.report import Report
from billready.semantic import Warehouse
from tests.conftest import write_csv


def _reference_findings(report: Report) -> list[dict[str, Any]]:
    frame = report.findings_action_list(limit=None).result.frame
    return [{key: plain(value) for key, value in row.items()} for row in frame.to_dict(orient="records")]


def _beyond_allocation(findings: list[dict[str, Any]]) -> str:
    other = [f for f in findings if f["category"] != "allocation"]
    return (
        f"Beyond allocation: {len(other)} more finding(s) in "
        f"{', '.join(sorted({f['category'] for f in other}))} (`billready rules`, or the report's section 05)."
    )


def _strict(text: str) -> Any:
    """JSON as a strict parser reads it (no NaN or Infinity)."""
    def refuse(constant: str) -> None:
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def _streamed(result: CheckResult) -> str:
    out = io.StringIO()
    result.write_json(out)
    return out.getvalue()


@pytest.fixture()
def demo_check(demo_warehouse: Path) -> Iterator[tuple[Report, CheckResult]]:
    with Warehouse(demo_warehouse) as warehouse:
        report = Report(warehouse)
        yield report, run_check(report)


def test_streamed_json_is_the_document(capsys: pytest.CaptureFixture[str], demo_warehouse: Path) -> None:
    code = main(["--warehouse", str(demo_warehouse), "check", "--format", "json"])
    printed = capsys.readouterr().out
    with Warehouse(demo_warehouse) as warehouse:
        report = Report(warehouse)
        result = run_check(report)
        document = result.as_json()
        reference = _reference_findings(report)
    assert code == result.exit_code == 1
    assert document["findings"] == reference and len(reference) == len(result.findings) > 20
    assert printed == json.dumps(document, indent=2) + "\n"
    assert _strict(printed) == document


def test_text_counts_the_findings_beyond_allocation(
    capsys: pytest.CaptureFixture[str], demo_warehouse: Path, demo_check: tuple[Report, CheckResult]
) -> None:
    report, result = demo_check
    reference = _reference_findings(report)
    line = _beyond_allocation(reference)
    assert main(["--warehouse", str(demo_warehouse), "check"]) == 1
    assert line in capsys.readouterr().out.splitlines()
    assert line in to_text(result).splitlines()
    categories: dict[str, int] = {}
    for finding in reference:
        categories[finding["category"]] = categories.get(finding["category"], 0) + 1
    assert result.findings.by_category == categories


@pytest.mark.parametrize(
    "filters, scoped",
    [
        (ReportFilters(rule_codes=("double_billed", "missing_allocation_code", "charge_contract_mismatch")), False),
        (ReportFilters(stages=("approved",)), False),
        (ReportFilters(), True),
        (ReportFilters(due_from=datetime.date(2100, 1, 1)), False),  # nothing in view
    ],
)
def test_filters_and_scope_apply_to_the_streamed_findings(
    demo_check: tuple[Report, CheckResult], filters: ReportFilters, scoped: bool
) -> None:
    demo_report, _ = demo_check
    scope = Scope(frozenset({int(demo_report.filter_options().companies["company_id"].iloc[0])})) if scoped else None
    report = Report(demo_report.warehouse, filters, scope)
    result = run_check(report)
    reference = _reference_findings(report)
    assert list(result.findings) == reference
    assert len(result.findings) == len(reference)
    if reference:
        assert ("Beyond allocation" in to_text(result)) == any(f["category"] != "allocation" for f in reference)
        if any(f["category"] != "allocation" for f in reference):
            assert _beyond_allocation(reference) in to_text(result).splitlines()
    document = {**result.as_json(), "findings": reference}
    assert _streamed(result) == json.dumps(document, indent=2)


def test_write_json_encodes_like_json_dumps() -> None:
    """Values of every kind the marts hold, written the way json.dumps writes their plain form."""
    rows = [
        {
            "action_rank": 1, "category": "allocation", "title": 'quote " back\\slash\nnew line\ttab',
            "name": "Café – Zürich ✓ 🧾", "amount": Decimal("1500.250000"), "whole": Decimal("24900.000000"),
            "ratio": 0.1, "float_whole": 2.0, "due_date": datetime.date(2027, 3, 3), "flag": True,
            "codes": ["b", "a"], "percent %s key": "100%", "big": 2**62,
        },
        {
            "action_rank": 2, "category": "timing", "title": None, "name": "", "amount": None, "whole": Decimal("-5"),
            "ratio": None, "float_whole": float("nan"), "due_date": None, "flag": None,
            "codes": [], "percent %s key": None, "big": None,
        },
        {
            "action_rank": 3, "category": "timing", "title": "x", "name": "Café – Zürich ✓ 🧾", "amount": Decimal("-0.5"),
            "whole": Decimal("0"), "ratio": -1e-300, "float_whole": -0.0, "due_date": datetime.date(1999, 12, 31),
            "flag": False, "codes": None, "percent %s key": "%d", "big": -1,
        },
    ]
    milestones = [{
        "milestone_id": 1, "stage": "approved", "amount": 1500.25, "conflicts": ["a"], "priority_rank": 1, "title": "Go-live",
        "company_name": "Café", "project_name": None, "contract_name": None, "due_date": "2027-03-03",
    }]
    kpis = {"total_milestones": 1, "conflicts_found": 1, "revenue_at_risk": 1500.25, "charges_conflicts": 0}
    result = CheckResult(kpis, {"project": 2}, milestones, ("approved",), Findings.of(rows))
    expected = json.dumps(result.as_json(), indent=2)
    assert _streamed(result) == expected
    assert result.as_json()["findings"][0]["amount"] == 1500.25 and result.as_json()["findings"][0]["whole"] == 24900
    assert len(result.findings) == 3 and result.findings.beyond("allocation") == {"timing": 2}
    assert "Beyond allocation: 2 more finding(s) in timing" in to_text(result)

    empty = CheckResult({**kpis, "conflicts_found": 0, "revenue_at_risk": 0}, {}, [], ("approved",))
    assert _streamed(empty) == json.dumps(empty.as_json(), indent=2)
    assert '"findings": []' in _streamed(empty)
    assert "Beyond allocation" not in to_text(empty)


def test_write_json_runs_the_query_before_writing() -> None:
    """A findings query that fails leaves nothing half-written."""
    def fail() -> Any:
        raise RuntimeError("query failed")

    result = CheckResult({}, {}, [], ("approved",), Findings({"timing": 1}, fail))
    out = io.StringIO()
    with pytest.raises(RuntimeError):
        result.write_json(out)
    assert out.getvalue() == ""


@pytest.fixture(scope="module")
def projectless_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two approved milestones without an allocation code, one of them on a contract without a
    project (its project name is null), landed through the CLI."""
    root = tmp_path_factory.mktemp("projectless")
    export = root / "export"
    export.mkdir()
    write_csv(export / "Companies.csv", [{"id": 1, "companyName": "Harbor Dental"}])
    write_csv(export / "Contracts.csv", [
        {"id": 10, "companyID": 1, "contractName": "Harbor – Fixed Price", "status": 1, "endDate": "2027-06-30T00:00:00"},
        {"id": 11, "companyID": 1, "contractName": "Harbor – Other", "status": 1, "endDate": "2027-06-30T00:00:00"},
    ])
    write_csv(export / "Projects.csv", [{"id": 100, "companyID": 1, "contractID": 11, "projectName": "Harbor M365"}])
    write_csv(export / "BillingCodes.csv", [{"id": 5, "name": "Fixed Fee Milestone", "isActive": "true"}])
    write_csv(export / "ContractMilestones.csv", [
        {"id": 1000, "contractID": 10, "title": "Go-live", "amount": 4000, "dateDue": "2027-01-15T00:00:00", "status": "Approved for Billing", "billingCodeID": 5},
        {"id": 1001, "contractID": 10, "title": "Kick-off", "amount": 1500.25, "dateDue": "2026-12-01T00:00:00", "status": "Approved for Billing", "billingCodeID": ""},
        {"id": 1002, "contractID": 11, "title": "Licences", "amount": 700, "dateDue": "2026-12-05T00:00:00", "status": "Approved for Billing", "billingCodeID": ""},
    ])
    warehouse = root / "warehouse"
    assert main(["--warehouse", str(warehouse), "ingest", "--quiet", "--as-of", "2026-11-20", str(export)]) == 0
    return warehouse


def test_a_milestone_without_project_is_null_not_nan(
    capsys: pytest.CaptureFixture[str], projectless_warehouse: Path
) -> None:
    """Null names of conflicted milestones are JSON null and "no project" in text (pandas' string
    columns once made them NaN: invalid JSON, "nan" in text, a crash in Markdown)."""
    capsys.readouterr()
    assert main(["--warehouse", str(projectless_warehouse), "check", "--json"]) == 1
    printed = capsys.readouterr().out
    payload = _strict(printed)
    assert [(m["milestone_id"], m["project_name"]) for m in payload["milestones"]] == [(1001, None), (1002, "Harbor M365")]
    assert payload["milestones"][0]["amount"] == 1500.25
    with Warehouse(projectless_warehouse) as warehouse:
        report = Report(warehouse)
        result = run_check(report)
        assert printed == json.dumps({**result.as_json(), "findings": _reference_findings(report)}, indent=2) + "\n"
    assert "(Harbor Dental / no project)" in to_text(result)
    assert "| Kick-off (1001) | approved **blocking** | Harbor Dental |  | $1,500.25 |" in to_markdown(result)
