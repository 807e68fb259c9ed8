"""The billready command line: check's output and exit codes, bad input, JSON exports."""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from billready import settings
from billready.cli import main


def _check_json(capsys: pytest.CaptureFixture[str], warehouse: Path, *extra: str) -> tuple[int, dict]:
    code = main(["--warehouse", str(warehouse), "check", "--json", *extra])
    return code, json.loads(capsys.readouterr().out)


def test_check_json_on_the_demo(capsys: pytest.CaptureFixture[str], demo_warehouse: Path) -> None:
    code, payload = _check_json(capsys, demo_warehouse)
    assert code == 1  # the demo has conflicted approved milestones
    assert payload["kpis"] == {
        "total_milestones": 47,
        "conflicts_found": 5,
        "revenue_at_risk": 28500,
        "charges_conflicts": 3,
    }
    assert payload["charges_by_allocation"] == {"contract": 231, "project": 267, "unallocated": 1092}
    milestones = payload["milestones"]
    assert len(milestones) == 5
    assert sum(m["amount"] for m in milestones) == 28500
    for milestone in milestones:
        assert set(milestone) >= {"milestone_id", "stage", "amount", "conflicts"}
        assert milestone["conflicts"] == sorted(milestone["conflicts"]) and milestone["conflicts"]
    stages = [m["stage"] for m in milestones]
    order = ["approved", "complete", "incomplete", "unmapped"]
    assert stages == sorted(stages, key=order.index)


def test_check_exit_codes_follow_fail_on(capsys: pytest.CaptureFixture[str], demo_warehouse: Path) -> None:
    code, payload = _check_json(capsys, demo_warehouse, "--fail-on", "unmapped")
    assert code == 0 and payload["blocking_milestones"] == 0
    code, payload = _check_json(capsys, demo_warehouse, "--fail-on", "incomplete,complete")
    assert code == 1
    assert payload["blocking_milestones"] == sum(
        1 for m in payload["milestones"] if m["stage"] in ("incomplete", "complete")
    )


def test_check_text_output(capsys: pytest.CaptureFixture[str], demo_warehouse: Path) -> None:
    code = main(["--warehouse", str(demo_warehouse), "check"])
    out = capsys.readouterr().out
    assert code == 1
    assert "5 of 47 pipeline milestones carry conflicts; revenue at risk $28,500; 3 charge conflicts." in out
    assert "FAIL:" in out


def test_check_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], demo_warehouse: Path, tmp_path: Path) -> None:
    assert main(["--warehouse", str(demo_warehouse), "check", "--fail-on", "paid"]) == 2
    assert "--fail-on" in capsys.readouterr().err
    assert main(["--warehouse", str(tmp_path / "missing"), "check"]) == 2
    assert "no warehouse" in capsys.readouterr().err


def _write_csv(path: Path, rows: list[dict]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_clean_export_passes_the_gate(capsys: pytest.CaptureFixture[str], clean_warehouse: Path) -> None:
    """A tenant whose approved milestone is clean: check exits 0 and lists nothing."""
    code, payload = _check_json(capsys, clean_warehouse)
    assert code == 0
    assert payload["milestones"] == []
    assert payload["kpis"] == {"total_milestones": 1, "conflicts_found": 0, "revenue_at_risk": 0, "charges_conflicts": 0}


def test_bad_export_is_rejected_and_nothing_lands(
    capsys: pytest.CaptureFixture[str], demo_warehouse: Path, tmp_path: Path
) -> None:
    warehouse = tmp_path / "warehouse"
    shutil.copytree(demo_warehouse, warehouse)
    database = settings.database_path(warehouse)

    def snapshot() -> dict[str, list]:
        with duckdb.connect(str(database), read_only=True) as connection:
            tables = [t for (t,) in connection.execute(
                "select table_name from information_schema.tables where table_schema = 'raw_autotask' order by 1"
            ).fetchall()]
            return {t: sorted(map(repr, connection.execute(f'select * from raw_autotask."{t}"').fetchall())) for t in tables}

    before = snapshot()
    export = tmp_path / "bad"
    shutil.copytree(settings.demo_export_dir(), export)
    rows = list(csv.DictReader((export / "Contracts.csv").open()))
    rows[2]["endDate"] = "2026-13-45"
    _write_csv(export / "Contracts.csv", rows)
    assert main(["--warehouse", str(warehouse), "ingest", str(export)]) == 2
    err = capsys.readouterr().err
    assert "Contracts.csv" in err and "row 3" in err and "endDate" in err
    assert snapshot() == before


def _csv_rows(path: Path) -> list[dict]:
    return [{key: (value if value != "" else None) for key, value in row.items()} for row in csv.DictReader(path.open())]


def test_json_export_gives_the_same_result_as_csv(
    capsys: pytest.CaptureFixture[str], demo_warehouse: Path, tmp_path: Path
) -> None:
    """The demo export rewritten as API query responses (JSON) lands and checks identically."""
    export = tmp_path / "json-export"
    shutil.copytree(settings.demo_export_dir(), export)
    for number, path in enumerate(sorted(export.glob("*.csv"))):
        items = _csv_rows(path)
        if number % 2:
            payload: object = {"items": items, "pageDetails": {"count": len(items), "nextPageUrl": None}}
        else:
            payload = items
        path.with_suffix(".json").write_text(json.dumps(payload))
        path.unlink()
    warehouse = tmp_path / "warehouse"
    as_of = str(settings.DEMO_AS_OF)  # the demo fixture's as-of: timing findings depend on it
    assert main(["--warehouse", str(warehouse), "ingest", "--quiet", "--as-of", as_of, str(export)]) == 0
    assert main(["--warehouse", str(warehouse), "build", "--quiet", "--as-of", as_of]) == 0
    capsys.readouterr()
    assert _check_json(capsys, warehouse) == _check_json(capsys, demo_warehouse)


def test_check_markdown_and_junit(capsys: pytest.CaptureFixture[str], demo_warehouse: Path) -> None:
    from xml.etree import ElementTree as ET

    assert main(["--warehouse", str(demo_warehouse), "check", "--format", "markdown"]) == 1
    markdown = capsys.readouterr().out
    assert markdown.startswith("## billready check: FAIL")
    assert "- Revenue at risk: $28,500" in markdown
    assert markdown.count("**blocking**") == 2
    assert len([line for line in markdown.splitlines() if line.startswith("| ") and line[2].isdigit()]) == 5

    assert main(["--warehouse", str(demo_warehouse), "check", "--format", "junit"]) == 1
    suite = ET.fromstring(capsys.readouterr().out.split("\n", 1)[1])
    assert suite.get("tests") == "6" and suite.get("failures") == "3"
    failing = [case.get("name") for case in suite.iter("testcase") if case.find("failure") is not None]
    assert len(failing) == 3 and failing[0].startswith("no conflicts in stages approved")

    assert main(["--warehouse", str(demo_warehouse), "check", "--format", "junit", "--fail-on", "unmapped"]) == 0
    suite = ET.fromstring(capsys.readouterr().out.split("\n", 1)[1])
    assert suite.get("failures") == "0"


def test_check_explains_fixes_from_the_catalogue(capsys: pytest.CaptureFixture[str], demo_warehouse: Path) -> None:
    import csv as csv_module

    catalogue = {row["rule_code"]: row for row in csv_module.DictReader((settings.project_dir() / "seeds" / "conflict_rules.csv").open())}
    assert main(["--warehouse", str(demo_warehouse), "check"]) == 1
    out = capsys.readouterr().out
    assert "How to fix:" in out
    for code in ("contract_reference_mismatch", "missing_allocation_code", "charge_contract_mismatch", "project_without_contract"):
        assert f"{catalogue[code]['title']} ({code}): {catalogue[code]['fix_title']}." in out
    code, payload = _check_json(capsys, demo_warehouse)
    assert {finding["rule_code"] for finding in payload["findings"]} == set(catalogue)
    assert [finding["action_rank"] for finding in payload["findings"]] == list(range(1, len(payload["findings"]) + 1))
    assert payload["rules_not_evaluated"] == []


def test_rules_lists_the_catalogue_and_explains_one(capsys: pytest.CaptureFixture[str], demo_warehouse: Path, clean_warehouse: Path) -> None:
    assert main(["--warehouse", str(demo_warehouse), "rules", "--format", "json"]) == 0
    rules = json.loads(capsys.readouterr().out)
    assert len(rules) == 20 and all(rule["is_evaluated"] and rule["findings"] >= 1 for rule in rules)
    assert main(["--warehouse", str(clean_warehouse), "rules", "--format", "json"]) == 0
    rules = {rule["rule_code"]: rule for rule in json.loads(capsys.readouterr().out)}
    assert rules["split_not_100"]["is_evaluated"] is False and rules["split_not_100"]["findings"] is None
    assert "MilestoneSplits" in rules["split_not_100"]["not_evaluated_reason"]
    assert main(["--warehouse", str(demo_warehouse), "rules", "--explain", "double_billed"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Double billed (double_billed) · billing · blocker · 1 finding(s)")
    assert main(["--warehouse", str(demo_warehouse), "rules", "--explain", "nope"]) == 2
