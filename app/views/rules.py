"""Rules & findings: every catalogue rule with its cause and fix, and every finding in fixing order."""
from __future__ import annotations

import streamlit as st
import ui

from billready import formatting as fmt

ORIGIN = "views/rules.py"

current = ui.context()
report = current.report
ui.header("Rules and findings")

st.header("Every rule: what it catches and how to fix it")
rules = ui.load(report.rule_findings, "The rule catalogue")
if rules is not None:
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
            if rule.is_evaluated:
                ui.drill_button("rule", rule.rule_code, "Open this rule's milestones, charges and findings", ORIGIN)
    ui.footer(rules)

st.header("Prioritized action list (all findings)")
findings = ui.load(report.findings_action_list, "The findings action list")
if findings is not None:
    frame = findings.result.frame
    ui.limit_caption(frame, "in fixing order", "`billready check --format json`")
    stage = ui.first_column(frame, "stage_label", "stage")
    shown = frame.assign(
        subject=frame["milestone_title"].fillna(frame["charge_id"]) if "charge_id" in frame.columns else frame["milestone_title"]
    )
    ui.table(
        findings,
        {
            "action_rank": "#",
            "severity": "Severity",
            "rule_title": "Rule",
            stage: "Stage",
            "subject": "Milestone",
            "company_name": "Company",
            "project_name": "Project",
            "contract_name": "Contract",
            "amount": "Amount",
            "due_date": "Due",
            "detail": "Detail",
        },
        {
            stage: "text",
            "subject": "text",
            "company_name": "text",
            "project_name": "text",
            "contract_name": "text",
            "amount": "money",
            "due_date": "date",
        },
        empty="No findings: every evaluated rule passes.",
        empty_ok=True,
        frame=shown,
    )
    ui.drill_picker(
        "milestone",
        frame,
        "milestone_id",
        lambda r: f"{r['milestone_title']} · {r['company_name'] if isinstance(r['company_name'], str) else '—'}",
        ORIGIN,
        key="findings",
        prompt="Drill into a milestone with findings",
    )
