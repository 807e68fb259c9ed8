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
    "action_list",
    "project_conflicts",
]


@pytest.mark.parametrize("panel_name", PANELS)
def test_shown_sql_reproduces_the_panel(demo_report: Report, panel_name: str) -> None:
    panel = getattr(demo_report, panel_name)()
    rerun = demo_report.warehouse.connection.execute(panel.result.sql).fetchdf()
    pd.testing.assert_frame_equal(rerun, panel.result.frame)


@pytest.mark.parametrize("panel_name", PANELS)
def test_shown_sql_is_formatted_by_sqlglot(demo_report: Report, panel_name: str) -> None:
    sql = getattr(demo_report, panel_name)().result.sql
    assert format_sql(sql) == sql


@pytest.mark.parametrize("panel_name", ["kpi_overview", "charge_allocation", "status_breakdown", "conflict_causes", "project_conflicts"])
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
