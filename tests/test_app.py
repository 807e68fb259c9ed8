"""The Streamlit report, driven by Streamlit's AppTest: every section renders, and every "View SQL"
panel shows exactly the SQL that produced its figure."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from billready import settings
from billready.report import Report
from billready.semantic import Warehouse

APP = str(settings.project_dir() / "app" / "Home.py")


def _run_app(monkeypatch: pytest.MonkeyPatch, warehouse: Path) -> AppTest:
    monkeypatch.setenv(settings.HOME_ENV, str(warehouse))
    app = AppTest.from_file(APP, default_timeout=60)
    app.run()
    return app


def test_every_section_renders(monkeypatch: pytest.MonkeyPatch, demo_warehouse: Path) -> None:
    app = _run_app(monkeypatch, demo_warehouse)
    assert not app.exception, [e.value for e in app.exception]
    headers = [h.value for h in app.header]
    assert headers == [
        "01 · KPI overview",
        "02 · Milestone status breakdown",
        "03 · What causes allocation conflicts",
        "04 · How to resolve conflicts",
        "05 · Billing readiness beyond allocation",
        "Revenue at risk by company",
        "FAQ · Conflicts by project",
        "Pipeline by due month",
        "History over refreshes",
    ]
    assert any("data built 20" in caption.value for caption in app.caption)
    metrics = {m.label: m.value for m in app.metric}
    assert {label: metrics[label] for label in ("Total milestones", "Conflicts found", "Revenue at risk", "Charges conflicts")} == {
        "Total milestones": "47",
        "Conflicts found": "5",
        "Revenue at risk": "$28,500",
        "Charges conflicts": "3",
    }
    assert any("Conflict rate 10.6%" in caption.value for caption in app.caption)


def test_sql_panels_show_the_sql_that_ran(monkeypatch: pytest.MonkeyPatch, demo_warehouse: Path) -> None:
    app = _run_app(monkeypatch, demo_warehouse)
    shown = [block.value for block in app.code if block.language == "sql"]
    with Warehouse(demo_warehouse) as warehouse:
        expected = [panel.result.sql for panel in Report(warehouse).panels()]
    assert sorted(shown) == sorted(expected)
    with Warehouse(demo_warehouse) as warehouse:
        for sql in shown:
            warehouse.connection.execute(sql).fetchall()


def test_dialect_choice_shows_transpiled_sql(monkeypatch: pytest.MonkeyPatch, demo_warehouse: Path) -> None:
    import sqlglot

    app = _run_app(monkeypatch, demo_warehouse)
    before = [block.value for block in app.code if block.language == "sql"]
    app.selectbox(key="dialect-status_breakdown").select("T-SQL").run()
    assert not app.exception
    after = [block.value for block in app.code if block.language == "sql"]
    assert len(after) == len(before) + 1
    added = after[after.index(before[2]) + 1]  # shown right below the status breakdown's SQL
    assert added != before[2]
    sqlglot.parse_one(added, read="tsql")


def test_readiness_shows_categories_and_every_rule(monkeypatch: pytest.MonkeyPatch, demo_warehouse: Path) -> None:
    app = _run_app(monkeypatch, demo_warehouse)
    labels = [expander.label for expander in app.expander]
    rule_labels = [label for label in labels if " · " in label and "finding(s)" in label]
    with Warehouse(demo_warehouse) as warehouse:
        catalogue = Report(warehouse).rule_findings().result.frame
    assert len(rule_labels) == len(catalogue) == 20
    for rule in catalogue.itertuples():
        assert any(label.startswith(f"{rule.title} · {rule.category} · {rule.severity} · {int(rule.findings)} finding(s)") for label in rule_labels)


def test_rules_without_their_input_show_as_not_evaluated(monkeypatch: pytest.MonkeyPatch, clean_warehouse: Path) -> None:
    app = _run_app(monkeypatch, clean_warehouse)
    assert not app.exception
    labels = [expander.label for expander in app.expander]
    not_evaluated = [label for label in labels if "not evaluated: not landed" in label]
    assert len(not_evaluated) == 7  # schedule (3), split (1), agreement (3)
    assert all("finding(s)" not in label for label in not_evaluated)
    overview = next(frame.value for frame in app.dataframe if "Rules evaluated" in frame.value.columns)
    by_category = dict(zip(overview["Category"], overview["Rules evaluated"]))
    assert by_category["Allocation conflicts"] == "4 of 4"
    assert sorted(v for v in by_category.values() if v.startswith("0 of")) == ["0 of 1", "0 of 3", "0 of 3"]


def test_no_warehouse_is_a_friendly_message(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    app = _run_app(monkeypatch, tmp_path / "nothing-here")
    assert not app.exception
    assert any("billready demo" in w.value for w in app.warning)
