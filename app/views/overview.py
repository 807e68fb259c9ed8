"""Overview: sections 01–05 of the reference report, under the sidebar's filters."""
from __future__ import annotations

import charts
import streamlit as st
import ui

from billready import formatting as fmt

ORIGIN = "views/overview.py"

current = ui.context()
report = current.report
ui.header("Milestone allocation conflicts: fix these before you invoice")

st.header("01 · KPI overview")
kpi = ui.load(report.kpi_overview, "The KPI overview")
if kpi is not None:
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
    ui.footer(kpi)

allocation = ui.load(report.charge_allocation, "Charges by allocation")
if allocation is not None:
    st.subheader("Charges by allocation")
    ui.table(
        allocation,
        {"allocation_label": "Allocation", "total_charges": "Charges", "share": "Share"},
        {"total_charges": "count", "share": "share"},
    )

st.header("02 · Milestone status breakdown")
status = ui.load(report.status_breakdown, "The status breakdown")
if status is not None:
    charts.stage_breakdown(status.result.frame)
    ui.table(
        status,
        {
            "stage_label": "Status",
            "total_milestones": "Count",
            "share": "Share",
            "pipeline_amount": "Amount",
            "conflicts_found": "Conflicts",
            "revenue_at_risk": "Revenue at risk",
            "billing_implication": "Billing implication",
        },
        {"total_milestones": "count", "share": "share", "pipeline_amount": "money", "conflicts_found": "count", "revenue_at_risk": "money"},
    )

st.header("03 · What causes allocation conflicts")
causes = ui.load(report.conflict_causes, "The conflict causes")
if causes is not None:
    frame = causes.result.frame
    charts.revenue_by(frame, "title", "rule_revenue_at_risk", "rule_conflicts", "Revenue at risk by rule", "Rule")
    for rule in frame.itertuples():
        with st.container(border=True):
            st.markdown(f"**{rule.title}** · `{rule.rule_code}`")
            st.markdown(f"{fmt.count(rule.rule_conflicts)} milestone(s) · {fmt.money(rule.rule_revenue_at_risk)}")
            st.write(rule.cause)
            ui.drill_button("rule", rule.rule_code, "Milestones, charges and fixes", ORIGIN)
    ui.footer(causes)

st.header("04 · How to resolve conflicts")
steps = ui.load(report.resolution_steps, "The resolution steps")
if steps is not None:
    for step in steps.result.frame.itertuples():
        st.markdown(f"**{step.step_number}. {step.title}**")
        st.write(step.body)
    ui.footer(steps)

overdue = ui.load(report.overdue_approved, "Approved and overdue")
if overdue is not None:
    st.subheader("Approved and overdue")
    row = overdue.result.frame.iloc[0]
    columns = st.columns(2)
    columns[0].metric("Approved and overdue", fmt.count(row["approved_overdue_milestones"]), help="Approved milestones past their due date: approved work not yet posted")
    columns[1].metric("Approved and overdue amount", fmt.money(row["approved_overdue_amount"]))
    ui.footer(overdue)

actions = ui.load(report.action_list, "The action list")
if actions is not None:
    st.subheader("Conflicted milestones, in fixing order")
    frame = actions.result.frame
    ui.limit_caption(frame, "in fixing order", "`billready check --format json`")
    stage = ui.first_column(frame, "stage_label", "status_label", "stage")
    ui.table(
        actions,
        {
            "priority_rank": "#",
            "milestone_title": "Milestone",
            stage: "Stage",
            "company_name": "Company",
            "project_name": "Project",
            "contract_name": "Contract",
            "amount": "Amount",
            "due_date": "Due",
            "conflicts": "Conflicts",
        },
        {"amount": "money", "due_date": "date", "conflicts": "list", "project_name": "text", "contract_name": "text", "company_name": "text"},
        empty="Nothing to fix: no pipeline milestone carries a conflict.",
        empty_ok=True,
    )
    ui.drill_picker(
        "milestone",
        frame,
        "milestone_id",
        lambda r: f"#{r['priority_rank']} · {r['milestone_title']} · {fmt.money(r['amount'])}",
        ORIGIN,
        key="actions",
        prompt="Drill into a conflicted milestone",
    )

st.header("05 · Billing readiness beyond allocation")
st.caption(
    "Allocation conflicts alone feed the KPIs above; these categories catch the other ways a "
    "milestone invoice goes wrong. A rule whose input was not landed is not evaluated (not zero)."
)
readiness = ui.load(report.readiness_overview, "The billing readiness overview")
if readiness is not None:
    frame = readiness.result.frame
    ui.table(
        readiness,
        {
            "category_title": "Category",
            "findings": "Findings",
            "finding_milestones": "Milestones",
            "finding_amount": "Amount",
            "rules_evaluated": "Rules evaluated",
            "rules_not_evaluated": "Not evaluated",
        },
        {
            "findings": "count",
            "finding_milestones": "count",
            "finding_amount": "money",
            "rules_not_evaluated": lambda v: v if isinstance(v, str) else "",
        },
        frame=frame.assign(
            rules_evaluated=[f"{int(e)} of {int(n)}" for e, n in zip(frame["rules_evaluated"], frame["rules"])]
        ),
    )
    st.page_link("views/rules.py", label="Every rule, its findings and fixes", icon=":material/arrow_forward:", query_params=ui.filter_params())
