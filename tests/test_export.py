"""The report's downloads (billready.export): CSV per table, the formatted Excel workbook and the
printable summary, read back and checked; under filters and a scope they hold only rows in view."""
from __future__ import annotations

import datetime
import io
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from billready import export
from billready.access import Scope
from billready.filters import ReportFilters
from billready.report import Freshness, Panel, Report
from billready.semantic import QueryResult, Warehouse

MERIDIAN = 198


def _book(data: bytes):  # noqa: ANN202
    return load_workbook(io.BytesIO(data))


def _column(sheet, name: str) -> list:  # noqa: ANN001
    header = [cell.value for cell in sheet[1]]
    index = header.index(name) + 1
    return [sheet.cell(row=row, column=index) for row in range(2, sheet.max_row + 1)]


def _all_text(book) -> str:  # noqa: ANN001
    return "\n".join(
        str(cell.value) for sheet in book.worksheets for row in sheet.iter_rows() for cell in row if cell.value is not None
    )


def test_panel_csv_reads_back(demo_report: Report) -> None:
    panel = demo_report.action_list()
    data = export.panel_csv(panel)
    assert data.startswith(b"\xef\xbb\xbf")  # Excel reads the UTF-8 names right
    frame = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    assert list(frame.columns) == list(panel.result.frame.columns)
    assert len(frame) == 5 and frame["amount"].sum() == 28500
    assert frame["due_date"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert "contract_reference_mismatch" in set(frame["conflicts"].str.split("; ").explode())


def test_workbook_sheets_formats_and_sql(demo_report: Report) -> None:
    panels = demo_report.panels()
    data = export.workbook(panels, filters_description=["Company: Acme"], built="data built 2026-11-20 08:00 UTC")
    book = _book(data)
    assert book.sheetnames[0] == "Report" and book.sheetnames[-1] == "SQL"
    assert len(book.sheetnames) == len(panels) + 2
    assert all(len(name) <= 31 for name in book.sheetnames)
    cover = "\n".join(str(c.value) for row in book["Report"].iter_rows() for c in row if c.value is not None)
    assert "Company: Acme" in cover and "data built 2026-11-20 08:00 UTC" in cover

    kpis = book["01 KPIs"]
    revenue = _column(kpis, "revenue_at_risk")[0]
    assert revenue.value == 28500 and revenue.number_format == export.MONEY_FORMAT
    assert _column(kpis, "conflict_rate")[0].number_format == export.SHARE_FORMAT

    actions = book["04 Action list"]
    due = _column(actions, "due_date")
    assert len(due) == 5
    assert all(isinstance(cell.value, datetime.datetime) and cell.number_format == export.DATE_FORMAT for cell in due)
    amounts = _column(actions, "amount")
    assert sum(cell.value for cell in amounts) == 28500
    assert all(cell.number_format == export.MONEY_FORMAT for cell in amounts)
    assert all(isinstance(cell.value, str) for cell in _column(actions, "conflicts"))
    assert actions.freeze_panes == "A2"

    shares = _column(book["02 Status breakdown"], "share")
    assert [round(cell.value, 3) for cell in shares] == [0.66, 0.255, 0.085]

    sql = book["SQL"]
    shown = [cell.value for cell in _column(sql, "SQL that ran (DuckDB)")]
    assert shown == [panel.result.sql for panel in panels]
    assert [cell.value for cell in _column(sql, "Sheet")] == book.sheetnames[1:-1]


def test_workbook_under_filters_shows_parameters_and_filters(demo_warehouse: Path) -> None:
    filters = ReportFilters(company_ids=(MERIDIAN,))
    with Warehouse(demo_warehouse) as warehouse:
        book = _book(export.report_workbook(Report(warehouse, filters=filters)))
    cover = "\n".join(str(c.value) for row in book["Report"].iter_rows() for c in row if c.value is not None)
    assert "Company: Meridian Logistics Inc." in cover
    kpis = book["01 KPIs"]
    assert _column(kpis, "total_milestones")[0].value == 4
    assert _column(kpis, "revenue_at_risk")[0].value == 7500
    parameters = [cell.value or "" for cell in _column(book["SQL"], "Bound parameters")]
    assert any('"company_ids"' in text and str(MERIDIAN) in text for text in parameters)
    assert not any(f"{MERIDIAN}" in (cell.value or "") for cell in _column(book["SQL"], "SQL that ran (DuckDB)"))


def test_exports_of_a_scoped_viewer_hold_only_their_companies(demo_warehouse: Path) -> None:
    scope = Scope(company_ids=frozenset({MERIDIAN}), user="alice@meridian.example", label="Meridian Logistics")
    with Warehouse(demo_warehouse) as warehouse:
        names = warehouse.query("select company_id, company_name from staging.stg_autotask__companies").frame
        others = [name for cid, name in zip(names["company_id"], names["company_name"]) if cid != MERIDIAN]
        report = Report(warehouse, scope=scope)
        book = _book(export.report_workbook(report))
        html = export.summary_html(report)
        csvs = b"".join(export.panel_csv(panel) for panel in report.panels()).decode("utf-8-sig")
    text = _all_text(book)
    assert "Meridian Logistics Inc." in text
    for other in others:
        assert other not in text and other not in html and other not in csvs, other
    assert "Scope: Meridian Logistics" in html
    assert "$7,500" in html


def test_summary_is_one_printable_page(demo_report: Report) -> None:
    html = export.summary_html(demo_report)
    assert html.startswith("<!DOCTYPE html>")
    assert "@page" in html and "@media print" in html
    for figure in ("47", "$28,500", "Conflict rate 10.6%", "Incompleted", "66.0%", "25.5%", "8.5%"):
        assert figure in html, figure
    assert "Filters: none" in html and "data built 20" in html
    assert html.count("<tr>") <= 1 + 4 + 1 + 10  # stage table and at most ten actions


class _FakeReport:
    """Just enough of a Report to render the summary from crafted rows."""

    filters = ReportFilters()
    scope = Scope.everything()

    def __init__(self, name: str) -> None:
        self.name = name

    @staticmethod
    def _panel(key: str, frame: pd.DataFrame) -> Panel:
        return Panel(key, key, QueryResult(sql="select 1", frame=frame, elapsed_ms=0.0))

    def kpi_overview(self) -> Panel:
        return self._panel("kpi_overview", pd.DataFrame([{
            "total_milestones": 1, "conflicts_found": 1, "revenue_at_risk": 1234.5,
            "charges_conflicts": 0, "conflict_rate": 1.0, "pipeline_amount": 1234.5,
        }]))

    def status_breakdown(self) -> Panel:
        return self._panel("status_breakdown", pd.DataFrame([{
            "stage": "approved", "stage_label": self.name, "total_milestones": 1, "share": 1.0,
            "pipeline_amount": 1234.5, "conflicts_found": 1, "revenue_at_risk": 1234.5,
        }]))

    def action_list(self) -> Panel:
        return self._panel("action_list", pd.DataFrame([{
            "priority_rank": 1, "milestone_title": self.name, "stage": "approved", "company_name": self.name,
            "contract_name": None, "amount": 1234.5, "due_date": pd.Timestamp("2026-01-31"),
            "conflicts": ["missing_allocation_code"],
        }]))

    def freshness(self) -> Freshness:
        now = datetime.datetime(2026, 11, 20, tzinfo=datetime.timezone.utc)
        return Freshness(built_at=now, landed_at=now, max_age_hours=24, now=now)


def test_summary_escapes_tenant_text() -> None:
    hostile = '<script>alert("x")</script> & Co'
    html = export.summary_html(_FakeReport(hostile))
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co" in html
    assert "$1,234.50" in html and "2026-01-31" in html and "missing_allocation_code" in html


@pytest.mark.parametrize(
    ("titles", "expected"),
    [
        (["a/b:c*d?e[f]g\\h"], ["a b c d e f g h"]),
        (["x" * 40, "x" * 40], ["x" * 31, "x" * 27 + " (2)"]),
    ],
)
def test_sheet_names_are_valid_and_unique(titles: list[str], expected: list[str]) -> None:
    panels = [Panel(f"custom_{i}", title, QueryResult(sql="select 1", frame=pd.DataFrame({"a": [1]}), elapsed_ms=0)) for i, title in enumerate(titles)]
    assert _book(export.workbook(panels)).sheetnames[1:-1] == expected


def test_column_kinds() -> None:
    frame = pd.DataFrame({
        "amount": [1.0], "revenue_at_risk": [2.0], "share": [0.5], "conflict_rate": [0.1],
        "due_date": pd.to_datetime(["2026-01-01"]), "refreshed_at": pd.to_datetime(["2026-01-01 10:30"]),
        "conflicts": [["a", "b"]], "company_name": ["Acme"], "total_milestones": [3], "milestone_id": [7],
        "is_active": [True],
    })
    kinds = {column: export.column_kind(column, frame[column]) for column in frame.columns}
    assert kinds == {
        "amount": "money", "revenue_at_risk": "money", "share": "share", "conflict_rate": "share",
        "due_date": "date", "refreshed_at": "datetime", "conflicts": "list", "company_name": "plain",
        "total_milestones": "plain", "milestone_id": "plain", "is_active": "plain",
    }
