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
        "Revenue at risk by company",
        "FAQ · Conflicts by project",
        "Pipeline by due month",
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


def test_no_warehouse_is_a_friendly_message(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    app = _run_app(monkeypatch, tmp_path / "nothing-here")
    assert not app.exception
    assert any("billready demo" in w.value for w in app.warning)
