"""Companies & projects: where the revenue at risk sits, and the pipeline by due month."""
from __future__ import annotations

import charts
import streamlit as st
import ui

from billready import formatting as fmt

ORIGIN = "views/companies.py"

current = ui.context()
report = current.report
ui.header("Companies and projects")

st.header("Revenue at risk by company")
companies = ui.load(report.company_conflicts, "Revenue at risk by company")
if companies is not None:
    frame = companies.result.frame
    charts.revenue_by(frame, "milestone__company_name", "revenue_at_risk", "conflicts_found", "Revenue at risk by company", "Company")
    ui.table(
        companies,
        {"milestone__company_name": "Company", "conflicts_found": "Conflicts", "revenue_at_risk": "Revenue at risk"},
        {"milestone__company_name": lambda v: v if isinstance(v, str) else "(no company)", "conflicts_found": "count", "revenue_at_risk": "money"},
        empty="No company has a milestone in view.",
    )
    ui.limit_caption(frame, "companies by revenue at risk", "`billready query --saved-query company_conflicts`")

st.header("FAQ · Conflicts by project")
projects = ui.load(report.project_conflicts, "Conflicts by project")
if projects is not None:
    frame = projects.result.frame
    ui.table(
        projects,
        {"milestone__project_name": "Project", "conflicts_found": "Conflicts", "revenue_at_risk": "Revenue at risk"},
        {"milestone__project_name": lambda v: v if isinstance(v, str) else "(no project)", "conflicts_found": "count", "revenue_at_risk": "money"},
        empty="No project has a milestone in view.",
    )
    ui.limit_caption(frame, "projects by revenue at risk", "`billready query --saved-query project_conflicts`")
    options = current.options.projects if current.options is not None else None
    if options is not None and not options.empty:
        in_view = options
        if "milestone__project_name" in frame.columns:
            in_view = options[options["project_name"].isin(frame["milestone__project_name"])]
        ui.drill_picker(
            "project",
            in_view,
            "project_id",
            lambda r: str(r["project_name"]),
            ORIGIN,
            key="projects",
            prompt="Drill into a project",
        )

st.header("Pipeline by due month")
trend = ui.load(report.due_month_trend, "The pipeline by due month")
if trend is not None:
    frame = trend.result.frame
    if frame.empty:
        st.info("No pipeline milestones with a due date.")
    else:
        charts.due_month(frame)
    ui.table(
        trend,
        {
            "metric_time__month": "Due month",
            "total_milestones": "Milestones",
            "pipeline_amount": "Pipeline amount",
            "revenue_at_risk": "Revenue at risk",
        },
        {"metric_time__month": lambda v: str(fmt.plain(v))[:7], "total_milestones": "count", "pipeline_amount": "money", "revenue_at_risk": "money"},
        empty="No pipeline milestones with a due date.",
    )
