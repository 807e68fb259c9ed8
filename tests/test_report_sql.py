"""Every panel's SQL is the SQL that ran: re-running the shown text gives the panel's rows."""
from __future__ import annotations

import pandas as pd
import pytest

from billready.report import Report
from billready.semantic import MetricRequest, format_sql

PANELS = [
    "kpi_overview",
    "charge_allocation",
    "status_breakdown",
    "conflict_causes",
    "resolution_steps",
    "overdue_approved",
    "action_list",
    "company_conflicts",
    "project_conflicts",
    "due_month_trend",
]
METRIC_PANELS = [name for name in PANELS if name not in ("resolution_steps", "action_list")]


@pytest.mark.parametrize("panel_name", PANELS)
def test_shown_sql_reproduces_the_panel(demo_report: Report, panel_name: str) -> None:
    panel = getattr(demo_report, panel_name)()
    rerun = demo_report.warehouse.connection.execute(panel.result.sql).fetchdf()
    pd.testing.assert_frame_equal(rerun, panel.result.frame)


@pytest.mark.parametrize("panel_name", PANELS)
def test_shown_sql_is_formatted_by_sqlglot(demo_report: Report, panel_name: str) -> None:
    sql = getattr(demo_report, panel_name)().result.sql
    assert format_sql(sql) == sql


@pytest.mark.parametrize("panel_name", METRIC_PANELS)
def test_measures_come_from_metricflow(demo_report: Report, panel_name: str) -> None:
    """Measure panels carry their semantic request, and their SQL embeds MetricFlow's compilation of it."""
    panel = getattr(demo_report, panel_name)()
    assert isinstance(panel.result.request, MetricRequest)
    compiled = demo_report.semantic.compile(panel.result.request)
    body = compiled.strip().splitlines()
    shown = panel.result.sql
    assert all(line.strip() in shown for line in body if line.strip() and not line.strip().startswith("/*"))


def test_unknown_metric_is_a_clear_error(demo_report: Report) -> None:
    from billready.errors import QueryError

    with pytest.raises(QueryError, match="no_such_metric"):
        demo_report.semantic.compile(MetricRequest(metrics=("no_such_metric",)))


@pytest.mark.parametrize("dialect", ["snowflake", "bigquery", "postgres", "databricks", "tsql", "duckdb"])
@pytest.mark.parametrize("panel_name", PANELS)
def test_transpiled_sql_parses_back_in_its_dialect(demo_report: Report, panel_name: str, dialect: str) -> None:
    import sqlglot

    from billready.semantic import transpile

    sql = getattr(demo_report, panel_name)().result.sql
    translated = transpile(sql, dialect)
    assert sqlglot.parse_one(translated, read=dialect) is not None


def test_unknown_dialect_is_a_clear_error() -> None:
    from billready.errors import QueryError
    from billready.semantic import transpile

    with pytest.raises(QueryError, match="unknown dialect"):
        transpile("select 1", "oracle9")


@pytest.mark.parametrize("panel_name", ["action_list", "findings_action_list"])
def test_action_lists_show_the_first_rows_in_fixing_order(demo_report: Report, panel_name: str) -> None:
    every = getattr(demo_report, panel_name)(limit=None).result.frame
    first = getattr(demo_report, panel_name)(limit=2).result
    assert len(every) > 2
    assert "LIMIT 2" in first.sql and "LIMIT" not in getattr(demo_report, panel_name)(limit=None).result.sql
    assert list(first.frame.columns) == list(every.columns)
    # The first column is the fixing order (priority_rank, action_rank).
    assert first.frame.iloc[:, 0].tolist() == every.iloc[:2, 0].tolist() == sorted(every.iloc[:, 0])[:2]
    # The first rows are the whole list's first rows, every column (conflicts included).
    def records(frame: pd.DataFrame) -> list[dict]:
        def plain(value: object) -> object:
            if hasattr(value, "tolist"):
                return value.tolist()  # a list column arrives as an array
            return None if pd.isna(value) else value

        return [{key: plain(value) for key, value in row.items()} for row in frame.to_dict(orient="records")]

    assert records(first.frame) == records(every.iloc[:2])
