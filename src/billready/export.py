"""Downloads of the report: each table as CSV, every section as a formatted Excel workbook, and a
one-page printable summary (HTML with print CSS).

Everything here renders panels the report already produced (billready.report): the rows are the
rows the report shows, under the same filters and viewer scope, and the SQL sheet holds exactly
the SQL that ran with its bound parameters. Nothing here queries on its own except
:func:`summary_html` and :func:`report_workbook`, which ask the report for its panels.
"""
from __future__ import annotations

import datetime
import html
import io
import json
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from billready import formatting as fmt

if TYPE_CHECKING:
    from billready.report import Panel, Report

MONEY_FORMAT = '"$"#,##0.00;-"$"#,##0.00'
SHARE_FORMAT = "0.0%"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
COUNT_FORMAT = "#,##0"

_MONEY_WORDS = ("amount", "revenue", "value", "price")
_SHARE_NAMES = ("share", "conflict_rate", "percentage")


def _is_list(value: Any) -> bool:
    return isinstance(value, (list, tuple)) or (isinstance(value, np.ndarray) and value.ndim > 0)


def _missing(value: Any) -> bool:
    if value is None or _is_list(value):
        return value is None
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _is_midnight(value: Any) -> bool:
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime.datetime):
        return value.time() == datetime.time()
    return isinstance(value, datetime.date)


def column_kind(name: str, series: pd.Series | None = None) -> str:
    """How a column is formatted: ``money``, ``share``, ``date``, ``datetime``, ``list`` or ``plain``.

    Money and shares are recognised by name (the marts name them consistently: ``amount``,
    ``revenue_at_risk``, ``share``...) on numeric columns; dates and lists by their values.
    """
    lowered = name.lower()
    numeric = True
    if series is not None:
        values = [v for v in series.tolist() if not _missing(v)]
        if pd.api.types.is_datetime64_any_dtype(series) or (
            values and all(isinstance(v, datetime.date) for v in values)
        ):
            return "date" if all(_is_midnight(v) for v in values) else "datetime"
        if values and all(_is_list(v) for v in values):
            return "list"
        numeric = not pd.api.types.is_bool_dtype(series) and (
            pd.api.types.is_numeric_dtype(series)
            or bool(values) and all(isinstance(v, (int, float, Decimal)) and not isinstance(v, bool) for v in values)
        )
    if not numeric or lowered.endswith(("_id", "_label", "_rank", "_number")):
        return "plain"
    if any(word in lowered for word in _MONEY_WORDS):
        return "money"
    if lowered in _SHARE_NAMES or lowered.endswith(("_share", "_rate")):
        return "share"
    return "plain"


def _listed(value: Any) -> str:
    items = value.tolist() if hasattr(value, "tolist") else list(value)
    return "; ".join(str(fmt.plain(item)) for item in items)


def _cell(value: Any, kind: str) -> Any:
    """A value as Excel should hold it: numbers as numbers, dates as dates, lists as text."""
    if _is_list(value):
        return _listed(value)
    if _missing(value):
        return None
    if kind in ("date", "datetime"):
        if isinstance(value, pd.Timestamp):
            value = value.to_pydatetime()
        if isinstance(value, datetime.datetime):
            value = value.replace(tzinfo=None)
            return value.date() if kind == "date" else value
        return value
    if isinstance(value, Decimal):
        return float(value)
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return value.item()
    return value


def _csv_cell(value: Any) -> Any:
    if _is_list(value):
        return _listed(value)
    return fmt.plain(value)


def frame_csv(frame: pd.DataFrame) -> bytes:
    """Rows as CSV (UTF-8 with a byte-order mark, so Excel opens names like "Harbor – Fixed Price"
    right); dates as ISO dates, lists joined with "; "."""
    text = frame.map(_csv_cell).to_csv(index=False, lineterminator="\n")
    return text.encode("utf-8-sig")


def panel_csv(panel: Panel) -> bytes:
    """One panel's rows as CSV: exactly the rows its SQL returned."""
    return frame_csv(panel.result.frame)


SHEET_NAMES = {
    "kpi_overview": "01 KPIs",
    "charge_allocation": "01 Charges by allocation",
    "status_breakdown": "02 Status breakdown",
    "conflict_causes": "03 Conflict causes",
    "resolution_steps": "04 How to resolve",
    "overdue_approved": "04 Approved and overdue",
    "action_list": "04 Action list",
    "readiness_overview": "05 Billing readiness",
    "rule_findings": "Rules",
    "findings_action_list": "All findings",
    "company_conflicts": "By company",
    "project_conflicts": "By project",
    "due_month_trend": "By due month",
    "refresh_trend": "Over refreshes",
    "history_summary": "Resolution and cycle time",
    "detail_milestones": "Milestones",
    "detail_charges": "Charges",
    "detail_contracts": "Contracts",
    "detail_billing_items": "Billing items",
    "detail_findings": "Findings",
}
"""Sheet names for the report's panels (Excel allows 31 characters); others use the panel title."""


def _sheet_name(title: str, taken: set[str]) -> str:
    name = re.sub(r"\s+", " ", re.sub(r"[\[\]:*?/\\]", " ", title)).strip() or "Sheet"
    name = name[:31].strip()
    candidate, number = name, 2
    while candidate.lower() in taken:
        suffix = f" ({number})"
        candidate = name[: 31 - len(suffix)].rstrip() + suffix
        number += 1
    taken.add(candidate.lower())
    return candidate


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, default=lambda v: fmt.plain(v) if not isinstance(v, (set, frozenset)) else sorted(v))


def _description_lines(description: str | Iterable[str] | None) -> list[str]:
    if description is None:
        return []
    if isinstance(description, str):
        return [description] if description else []
    return [line for line in description if line]


def workbook(
    panels: Sequence[Panel],
    *,
    filters_description: str | Iterable[str] | None = None,
    built: str | None = None,
    title: str = "billready · Milestone allocation conflicts",
    scope_description: str | None = None,
) -> bytes:
    """An Excel workbook (.xlsx): a cover sheet (title, build time, filters, one line per section),
    one sheet per panel (money as currency, shares as percentages, dates as dates, header row
    frozen and filterable) and an "SQL" sheet with each panel's SQL and bound parameters."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook()
    cover = book.active
    cover.title = "Report"
    bold = Font(bold=True)
    header_fill = PatternFill("solid", fgColor="DDE3EA")
    taken = {"report", "sql"}

    filters = _description_lines(filters_description)
    cover.append([title])
    cover["A1"].font = Font(bold=True, size=14)
    cover.append(["Built", built or "unknown"])
    cover.append(["Filters", "; ".join(filters) if filters else "none (every row in view)"])
    if scope_description:
        cover.append(["Scope", scope_description])
    cover.append(["Exported", datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")])
    cover.append([])
    cover.append(["Sheet", "Section", "Rows"])
    for cell in cover[cover.max_row]:
        cell.font = bold
    for row in cover.iter_rows(min_row=2, max_row=5, max_col=1):
        row[0].font = bold

    sql_rows: list[list[Any]] = []
    for panel in panels:
        frame = panel.result.frame
        name = _sheet_name(SHEET_NAMES.get(panel.key, panel.title), taken)
        sheet = book.create_sheet(name)
        cover.append([name, panel.title, len(frame)])
        columns = [str(column) for column in frame.columns]
        kinds = [column_kind(column, frame[column]) for column in frame.columns]
        sheet.append(columns)
        for cell in sheet[1]:
            cell.font = bold
            cell.fill = header_fill
        for values in frame.itertuples(index=False, name=None):
            sheet.append([_cell(value, kind) for value, kind in zip(values, kinds)])
        for index, (column, kind) in enumerate(zip(columns, kinds), start=1):
            letter = get_column_letter(index)
            number_format = {
                "money": MONEY_FORMAT,
                "share": SHARE_FORMAT,
                "date": DATE_FORMAT,
                "datetime": DATETIME_FORMAT,
            }.get(kind)
            if number_format:
                for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                    cell.number_format = number_format
            last = min(len(frame) + 1, 200)  # iter_rows past the data would add empty rows
            width = max([len(column)] + [len(str(c.value)) for (c,) in sheet.iter_rows(min_row=2, max_row=last, min_col=index, max_col=index) if c.value is not None])
            sheet.column_dimensions[letter].width = min(max(width + 2, 8), 60)
        sheet.freeze_panes = "A2"
        if columns:
            sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(1, len(frame) + 1)}"
        result = panel.result
        sql_rows.append([
            name,
            panel.title,
            result.sql,
            _json(result.parameters) if result.parameters else "",
            _json(result.semantic) if result.semantic else "",
            len(frame),
        ])

    sql_sheet = book.create_sheet("SQL")
    sql_sheet.append(["Sheet", "Section", "SQL that ran (DuckDB)", "Bound parameters", "Semantic request", "Rows"])
    for cell in sql_sheet[1]:
        cell.font = bold
        cell.fill = header_fill
    wrap = Alignment(wrap_text=True, vertical="top")
    for row in sql_rows:
        sql_sheet.append(row)
        for cell in sql_sheet[sql_sheet.max_row]:
            cell.alignment = wrap
    for letter, width in zip("ABCDEF", (24, 32, 100, 40, 50, 8)):
        sql_sheet.column_dimensions[letter].width = width
    sql_sheet.freeze_panes = "A2"
    cover.column_dimensions["A"].width = 32
    cover.column_dimensions["B"].width = 60

    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _report_context(report: Report) -> tuple[list[str], str, str | None]:
    """The filters (human-readable), build time and scope of a report, as far as it knows them."""
    filters = getattr(report, "filters", None)
    lines: list[str] = []
    if filters is not None and not filters.is_empty():
        options = report.filter_options() if hasattr(report, "filter_options") else None
        lines = filters.describe(options)
    scope = getattr(report, "scope", None)
    scope_text = scope.label if scope is not None and scope.is_restricted else None
    return lines, report.freshness().describe(), scope_text


def report_workbook(report: Report) -> bytes:
    """Every panel of the report (under its filters and scope) as one workbook."""
    lines, built, scope_text = _report_context(report)
    return workbook(report.panels(), filters_description=lines, built=built, scope_description=scope_text)


_PRINT_CSS = """
@page { size: A4 portrait; margin: 12mm; }
* { box-sizing: border-box; }
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; font-size: 10.5pt;
       color: #1b1f24; margin: 0 auto; max-width: 190mm; padding: 8mm 0; }
h1 { font-size: 16pt; margin: 0 0 2mm; }
h2 { font-size: 11.5pt; margin: 5mm 0 2mm; border-bottom: 1px solid #c8ced6; padding-bottom: 1mm; }
p.meta { color: #57606a; margin: 0 0 1mm; font-size: 9pt; }
.kpis { display: flex; gap: 3mm; margin: 3mm 0; }
.kpi { flex: 1; border: 1px solid #c8ced6; border-radius: 2mm; padding: 2.5mm; }
.kpi .label { font-size: 8.5pt; color: #57606a; }
.kpi .value { font-size: 16pt; font-weight: 600; }
table { width: 100%; border-collapse: collapse; font-size: 9pt; }
th, td { text-align: left; padding: 1mm 1.5mm; border-bottom: 1px solid #e1e4e8; vertical-align: top; }
th { background: #eef1f4; }
td.num, th.num { text-align: right; white-space: nowrap; }
.ok { color: #1a7f37; font-weight: 600; }
footer { margin-top: 5mm; font-size: 8pt; color: #57606a; }
@media print { body { padding: 0; } h2 { break-after: avoid; } tr { break-inside: avoid; } }
"""


def _table(headers: Sequence[tuple[str, bool]], rows: Iterable[Sequence[Any]]) -> str:
    head = "".join(f'<th class="num">{html.escape(h)}</th>' if num else f"<th>{html.escape(h)}</th>" for h, num in headers)
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="num">{html.escape(str(v))}</td>' if num else f"<td>{html.escape(str(v))}</td>"
            for v, (_, num) in zip(row, headers)
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _text(value: Any, default: str = "—") -> str:
    return default if _missing(value) else str(value)


def summary_html(report: Report, *, top_actions: int = 10) -> str:
    """One printable page: KPIs, the stage table, the top actions, the filters and the build time.

    Every value is HTML-escaped (names come from the tenant's data).
    """
    filters, built, scope_text = _report_context(report)
    kpi = report.kpi_overview().result.frame
    row = kpi.iloc[0] if len(kpi) else pd.Series(dtype=object)
    status = report.status_breakdown().result.frame
    actions = report.action_list().result.frame

    def metric(label: str, value: str) -> str:
        return f'<div class="kpi"><div class="label">{html.escape(label)}</div><div class="value">{html.escape(value)}</div></div>'

    kpis = "".join([
        metric("Total milestones", fmt.count(row.get("total_milestones"))),
        metric("Conflicts found", fmt.count(row.get("conflicts_found"))),
        metric("Revenue at risk", fmt.money(row.get("revenue_at_risk"))),
        metric("Charges conflicts", fmt.count(row.get("charges_conflicts"))),
    ])
    rate = (
        f"Conflict rate {fmt.share(row.get('conflict_rate'))} of the pipeline · "
        f"pipeline amount {fmt.money(row.get('pipeline_amount'))}"
    )
    stage_table = _table(
        [("Status", False), ("Count", True), ("Share", True), ("Amount", True), ("Conflicts", True), ("Revenue at risk", True)],
        (
            [
                _text(r.stage_label),
                fmt.count(r.total_milestones),
                fmt.share(r.share),
                fmt.money(r.pipeline_amount),
                fmt.count(r.conflicts_found),
                fmt.money(r.revenue_at_risk),
            ]
            for r in status.itertuples()
        ),
    )
    if actions.empty:
        action_block = '<p class="ok">Nothing to fix: no pipeline milestone carries a conflict.</p>'
    else:
        shown = actions.head(top_actions)
        action_block = _table(
            [("#", True), ("Milestone", False), ("Stage", False), ("Company", False), ("Contract", False), ("Amount", True), ("Due", False), ("Conflicts", False)],
            (
                [
                    fmt.count(r.priority_rank),
                    _text(r.milestone_title),
                    _text(getattr(r, "stage_label", None) if not _missing(getattr(r, "stage_label", None)) else r.stage),
                    _text(r.company_name),
                    _text(r.contract_name),
                    fmt.money(r.amount),
                    _text(fmt.plain(r.due_date)),
                    _listed(r.conflicts) if not _missing(r.conflicts) else "",
                ]
                for r in shown.itertuples()
            ),
        )
        if len(actions) > len(shown):
            action_block += f'<p class="meta">{len(actions) - len(shown)} more in the full action list.</p>'
    filter_text = "; ".join(filters) if filters else "none (every milestone in view)"
    scope_line = f'<p class="meta">Scope: {html.escape(scope_text)}</p>' if scope_text else ""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>billready · Milestone allocation conflicts</title>
<style>{_PRINT_CSS}</style>
</head>
<body>
<h1>Milestone allocation conflicts: fix these before you invoice</h1>
<p class="meta">{html.escape(built)}</p>
<p class="meta">Filters: {html.escape(filter_text)}</p>
{scope_line}
<h2>KPI overview</h2>
<div class="kpis">{kpis}</div>
<p class="meta">{html.escape(rate)}</p>
<h2>Milestone status breakdown</h2>
{stage_table}
<h2>Top actions, in fixing order</h2>
{action_block}
<footer>billready · every figure comes from the semantic layer; the SQL behind each is in the report's "View SQL" panels and the Excel export.</footer>
</body>
</html>
"""
