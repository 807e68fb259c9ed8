"""billready report: Milestone allocation conflicts, fix these before you invoice.

A thin page: every figure comes from billready.report, which returns the rows together with the
SQL that produced them; this file only renders.
"""
from __future__ import annotations

import json

import streamlit as st

from billready import formatting as fmt
from billready import settings
from billready.errors import BillreadyError
from billready.report import Panel, Report
from billready.semantic import DIALECTS, Warehouse, transpile

st.set_page_config(page_title="billready · Milestone allocation conflicts", layout="wide")


def view_sql(panel: Panel, built: str) -> None:
    """The "View SQL" expander: the semantic request, exactly the SQL that ran, and that SQL
    transpiled to another warehouse's dialect on request."""
    result = panel.result
    with st.expander(f"View SQL — {panel.title}"):
        if result.semantic is not None:
            st.caption("Semantic request (MetricFlow)")
            st.code(json.dumps(result.semantic, indent=2), language="json")
        st.caption(
            f"SQL that ran (DuckDB) · {len(result.frame)} row(s) · {result.elapsed_ms:.0f} ms · {built}"
        )
        st.code(result.sql, language="sql")
        dialect = st.selectbox("Dialect", list(DIALECTS), key=f"dialect-{panel.key}")
        if dialect != "DuckDB":
            st.caption(f"The same query for {dialect} (transpiled by sqlglot; not run here)")
            st.code(transpile(result.sql, dialect), language="sql")


def render(report: Report) -> None:
    kpi = report.kpi_overview()
    allocation = report.charge_allocation()
    status = report.status_breakdown()
    causes = report.conflict_causes()
    steps = report.resolution_steps()
    overdue = report.overdue_approved()
    actions = report.action_list()
    companies = report.company_conflicts()
    projects = report.project_conflicts()
    trend = report.due_month_trend()

    readiness = report.readiness_overview()
    rules = report.rule_findings()
    findings = report.findings_action_list()
    refresh_trend = report.refresh_trend()
    history = report.history_summary()

    freshness = report.freshness()
    built = freshness.describe()
    st.title("Milestone allocation conflicts: fix these before you invoice")
    st.caption(f"Warehouse: {report.warehouse.directory} · {built}")
    if freshness.warning():
        st.warning(freshness.warning())

    st.header("01 · KPI overview")
    row = kpi.result.frame.iloc[0]
    columns = st.columns(4)
    columns[0].metric("Total milestones", fmt.count(row["total_milestones"]), help="Milestones in the pipeline (not billed)")
    columns[1].metric("Conflicts found", fmt.count(row["conflicts_found"]), help="Pipeline milestones with an allocation conflict")
    columns[2].metric("Revenue at risk", fmt.money(row["revenue_at_risk"]), help="Amount of the conflicted milestones")
    columns[3].metric("Charges conflicts", fmt.count(row["charges_conflicts"]), help="Charges posting to another contract than the milestone")
    st.caption(
        f"Conflict rate {fmt.share(row['conflict_rate'])} of the pipeline · pipeline amount {fmt.money(row['pipeline_amount'])}"
    )
    if int(row["conflicts_found"] or 0) == 0:
        st.success("No allocation conflicts in the pipeline.")
    view_sql(kpi, built)

    st.subheader("Charges by allocation")
    frame = allocation.result.frame
    st.dataframe(
        {
            "Allocation": frame["allocation_label"],
            "Charges": [fmt.count(v) for v in frame["total_charges"]],
            "Share": [fmt.share(v) for v in frame["share"]],
        },
        hide_index=True,
    )
    view_sql(allocation, built)

    st.header("02 · Milestone status breakdown")
    frame = status.result.frame
    st.dataframe(
        {
            "Status": frame["stage_label"],
            "Count": [fmt.count(v) for v in frame["total_milestones"]],
            "Share": [fmt.share(v) for v in frame["share"]],
            "Amount": [fmt.money(v) for v in frame["pipeline_amount"]],
            "Conflicts": [fmt.count(v) for v in frame["conflicts_found"]],
            "Revenue at risk": [fmt.money(v) for v in frame["revenue_at_risk"]],
            "Billing implication": frame["billing_implication"],
        },
        hide_index=True,
    )
    view_sql(status, built)

    st.header("03 · What causes allocation conflicts")
    for rule in causes.result.frame.itertuples():
        with st.container(border=True):
            st.markdown(f"**{rule.title}** · `{rule.rule_code}`")
            st.markdown(
                f"{fmt.count(rule.rule_conflicts)} milestone(s) · {fmt.money(rule.rule_revenue_at_risk)}"
            )
            st.write(rule.cause)
    view_sql(causes, built)

    st.header("04 · How to resolve conflicts")
    for step in steps.result.frame.itertuples():
        st.markdown(f"**{step.step_number}. {step.title}**")
        st.write(step.body)
    view_sql(steps, built)

    st.subheader("Approved and overdue")
    row = overdue.result.frame.iloc[0]
    columns = st.columns(2)
    columns[0].metric("Approved and overdue", fmt.count(row["approved_overdue_milestones"]), help="Approved milestones past their due date: approved work not yet posted")
    columns[1].metric("Approved and overdue amount", fmt.money(row["approved_overdue_amount"]))
    view_sql(overdue, built)

    st.subheader("Conflicted milestones, in fixing order")
    frame = actions.result.frame
    if frame.empty:
        st.success("Nothing to fix: no pipeline milestone carries a conflict.")
    else:
        st.dataframe(
            {
                "#": frame["priority_rank"],
                "Milestone": frame["milestone_title"],
                "Stage": frame["stage"],
                "Company": frame["company_name"],
                "Project": frame["project_name"],
                "Contract": frame["contract_name"],
                "Amount": [fmt.money(v) for v in frame["amount"]],
                "Due": [None if v is None else str(v)[:10] for v in frame["due_date"]],
                "Conflicts": [", ".join(codes) for codes in frame["conflicts"]],
            },
            hide_index=True,
        )
    view_sql(actions, built)

    st.header("05 · Billing readiness beyond allocation")
    st.caption(
        "Allocation conflicts alone feed the KPIs above; these categories catch the other ways a "
        "milestone invoice goes wrong. A rule whose input was not landed is not evaluated (not zero)."
    )
    frame = readiness.result.frame
    st.dataframe(
        {
            "Category": frame["category_title"],
            "Findings": [fmt.count(v) for v in frame["findings"]],
            "Milestones": [fmt.count(v) for v in frame["finding_milestones"]],
            "Amount": [fmt.money(v) for v in frame["finding_amount"]],
            "Rules evaluated": [f"{int(e)} of {int(n)}" for e, n in zip(frame["rules_evaluated"], frame["rules"])],
            "Not evaluated": [v or "" for v in frame["rules_not_evaluated"]],
        },
        hide_index=True,
    )
    view_sql(readiness, built)

    st.subheader("Every rule: what it catches and how to fix it")
    for rule in rules.result.frame.itertuples():
        if rule.is_evaluated:
            state = f"{fmt.count(rule.findings)} finding(s) · {fmt.money(rule.finding_amount)}"
        else:
            state = f"not evaluated: {rule.not_evaluated_reason}"
        with st.expander(f"{rule.title} · {rule.category} · {rule.severity} · {state}"):
            st.markdown(f"`{rule.rule_code}` · source: {rule.reference}")
            st.write(rule.cause)
            st.markdown(f"**Fix: {rule.fix_title}**")
            st.write(rule.fix_steps)
    view_sql(rules, built)

    st.subheader("Prioritized action list (all findings)")
    frame = findings.result.frame
    if frame.empty:
        st.success("No findings: every evaluated rule passes.")
    else:
        st.dataframe(
            {
                "#": frame["action_rank"],
                "Severity": frame["severity"],
                "Rule": frame["rule_title"],
                "Stage": frame["stage"].fillna("—"),
                "Milestone": frame["milestone_title"].fillna(frame["charge_id"]).fillna("—"),
                "Company": frame["company_name"],
                "Project": frame["project_name"],
                "Contract": frame["contract_name"],
                "Amount": [fmt.money(v) for v in frame["amount"]],
                "Due": [None if v is None else str(v)[:10] for v in frame["due_date"]],
                "Detail": frame["detail"],
            },
            hide_index=True,
        )
    view_sql(findings, built)

    st.header("Revenue at risk by company")
    frame = companies.result.frame
    st.dataframe(
        {
            "Company": frame["milestone__company_name"].fillna("(no company)"),
            "Conflicts": [fmt.count(v) for v in frame["conflicts_found"]],
            "Revenue at risk": [fmt.money(v) for v in frame["revenue_at_risk"]],
        },
        hide_index=True,
    )
    view_sql(companies, built)

    st.header("FAQ · Conflicts by project")
    frame = projects.result.frame
    st.dataframe(
        {
            "Project": frame["milestone__project_name"].fillna("(no project)"),
            "Conflicts": [fmt.count(v) for v in frame["conflicts_found"]],
            "Revenue at risk": [fmt.money(v) for v in frame["revenue_at_risk"]],
        },
        hide_index=True,
    )
    view_sql(projects, built)

    st.header("Pipeline by due month")
    frame = trend.result.frame
    if frame.empty:
        st.info("No pipeline milestones with a due date.")
    else:
        chart = frame.assign(month=frame["metric_time__month"].astype(str).str[:7]).set_index("month")
        st.bar_chart(chart[["pipeline_amount", "revenue_at_risk"]], stack=False)
    view_sql(trend, built)

    st.header("History over refreshes")
    frame = refresh_trend.result.frame
    row = history.result.frame.iloc[0]
    columns = st.columns(3)
    columns[0].metric("Conflicts resolved", fmt.count(row["resolved_conflicts"]))
    columns[1].metric("Average time to resolve", fmt.days(row["avg_days_to_resolve"]))
    columns[2].metric("Completion-to-posting cycle", fmt.days(row["avg_cycle_days"]))
    view_sql(history, built)
    if len(frame) < 2:
        st.info("History builds up with every `billready refresh`: the trend appears from the second refresh on.")
    else:
        chart = frame.set_index("refresh_milestone__refreshed_at_label")
        st.line_chart(chart[["history_conflicts"]])
        st.line_chart(chart[["history_revenue_at_risk", "unbilled_approved_amount"]])
    view_sql(refresh_trend, built)


def main() -> None:
    directory = settings.warehouse_dir()
    try:
        # Open read-only per render and close at once, so the report never holds the file
        # while a build wants to write it.
        with Warehouse(directory) as warehouse:
            render(Report(warehouse))
    except BillreadyError as exc:
        st.title("billready")
        st.warning(str(exc))


main()
