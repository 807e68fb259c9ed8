"""Detail (drill-through): a rule, a project or a milestone with its milestones, charges (with
their resolved contract and allocation), contracts, billing items and every finding with its fix."""
from __future__ import annotations

import streamlit as st
import ui

from billready import formatting as fmt
from billready.errors import BillreadyError, NotInViewError

ORIGIN = "views/detail.py"
KINDS = {"rule": "Rule", "project": "Project", "milestone": "Milestone"}
PAGE_TITLES = {
    "views/overview.py": "Overview",
    "views/rules.py": "Rules & findings",
    "views/companies.py": "Companies & projects",
    "views/history.py": "History",
}

current = ui.context()
report = current.report
kind = st.query_params.get("view")
key = st.query_params.get("id")


def back(where: str = "top") -> None:
    origin = st.session_state.get("detail_origin") or "views/overview.py"
    if origin not in PAGE_TITLES:
        origin = "views/overview.py"
    if st.button(f"Back to {PAGE_TITLES[origin]}", icon=":material/arrow_back:", key=f"detail-back-{where}"):
        st.switch_page(origin, query_params=ui.filter_params())


def chooser() -> None:
    """No target in the URL: pick a rule or a project, or type a milestone id, to drill into."""
    ui.header("Detail")
    st.info(
        "Choose a rule or a project, or type a milestone's id, to see its milestones, charges, "
        "contracts, billing items and findings."
    )
    options = current.options
    if options is None:
        return
    left, middle, right = st.columns(3)
    with left:
        ui.drill_picker("rule", options.rules, "rule_code", lambda r: str(r["title"]), ORIGIN, key="detail-rule", prompt="Rule")
    with middle:
        ui.drill_picker("project", options.projects, "project_id", lambda r: str(r["project_name"]), ORIGIN, key="detail-project", prompt="Project")
    with right:
        # A tenant has up to millions of milestones: an id box, not a list to scroll.
        inputs = st.columns([4, 1], vertical_alignment="bottom")
        with inputs[0]:
            milestone_id = st.number_input("Milestone id", min_value=1, step=1, value=None, key="detail-milestone-id")
        with inputs[1]:
            if st.button("Open detail", key="open-detail-milestone", icon=":material/zoom_in:", disabled=milestone_id is None):
                ui.open_detail("milestone", int(milestone_id), ORIGIN)


def render(detail) -> None:  # noqa: ANN001  (billready.report.Detail)
    ui.header(f"{KINDS[detail.kind]}: {detail.title}")
    back()
    ui.summary_table(detail.summary)
    panels = {panel.key: panel for panel in detail.panels}
    ui.workbook_button(list(detail.panels), f"billready-{detail.kind}-{detail.key}.xlsx", key="detail-workbook")

    findings = panels.get("detail_findings")
    if findings is not None:
        st.header("Findings and how to fix them")
        frame = findings.result.frame
        if frame.empty:
            st.success("No findings: nothing to fix here.")
        for finding in frame.itertuples():
            subject = getattr(finding, "milestone_title", None)
            subject = subject if isinstance(subject, str) else getattr(finding, "charge_id", None) or "—"
            with st.expander(f"{finding.rule_title} · {subject} · {fmt.money(getattr(finding, 'amount', None))}"):
                if isinstance(getattr(finding, "detail", None), str):
                    st.write(finding.detail)
                if isinstance(getattr(finding, "cause", None), str):
                    st.caption(finding.cause)
                st.markdown(f"**Fix: {finding.fix_title}**")
                st.write(finding.fix_steps)
        ui.auto_table(findings)

    for panel in detail.panels:
        if panel.key == "detail_findings":
            continue
        st.header(panel.title)
        ui.auto_table(panel, empty=f"No {panel.title.split(' (')[0].lower()} for this {detail.kind}.")
        if panel.key == "detail_milestones" and detail.kind != "milestone":
            frame = panel.result.frame
            ui.drill_picker(
                "milestone",
                frame,
                "milestone_id",
                lambda r: f"{r['milestone_title']} · {fmt.money(r.get('amount'))}",
                ORIGIN,
                key="detail-milestones",
                prompt="Drill into a milestone",
            )
    back("bottom")


if kind not in KINDS or not key:
    if kind or key:
        st.warning("This link does not name a rule, project or milestone.")
    chooser()
else:
    try:
        if kind == "rule":
            detail = report.rule_detail(key)
        elif kind == "project":
            detail = report.project_detail(int(key))
        else:
            detail = report.milestone_detail(int(key))
    except (NotInViewError, ValueError) as exc:
        ui.header(f"{KINDS[kind]} {key}")
        st.warning(f"Nothing to show: {exc if isinstance(exc, NotInViewError) else 'not a valid id'}.")
        back()
    except BillreadyError as exc:
        ui.header(f"{KINDS[kind]} {key}")
        st.warning(f"This detail view is not available: {exc}".split("\n")[0])
        back()
    else:
        render(detail)
