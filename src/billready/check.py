"""The billing-close gate: conflicted pipeline milestones in fixing order, and an exit code."""
from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import Any

from billready.errors import UsageError
from billready.formatting import money, plain
from billready.report import Report

STAGES = ("incomplete", "complete", "approved", "unmapped")
DEFAULT_FAIL_ON = ("approved",)
CHECK_KPIS = ("total_milestones", "conflicts_found", "revenue_at_risk", "charges_conflicts")


@dataclass(frozen=True)
class CheckResult:
    """KPIs, the charge allocation split and the conflicted milestones."""

    kpis: dict[str, Any]
    charges_by_allocation: dict[str, int]
    milestones: list[dict[str, Any]]
    fail_on: tuple[str, ...]
    findings: list[dict[str, Any]] = field(default_factory=list)
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)
    """The rule catalogue by code: title, category, severity, fix_title, fix_steps, is_evaluated."""

    @property
    def blocking(self) -> list[dict[str, Any]]:
        """Conflicted milestones in a --fail-on stage."""
        return [m for m in self.milestones if m["stage"] in self.fail_on]

    @property
    def exit_code(self) -> int:
        """1 when a milestone in a --fail-on stage has a conflict, else 0."""
        return 1 if self.blocking else 0

    def as_json(self) -> dict[str, Any]:
        return {
            "kpis": self.kpis,
            "charges_by_allocation": self.charges_by_allocation,
            "fail_on": list(self.fail_on),
            "blocking_milestones": len(self.blocking),
            "milestones": self.milestones,
            "findings": self.findings,
            "rules_not_evaluated": sorted(code for code, rule in self.rules.items() if not rule["is_evaluated"]),
        }

    def fixes(self) -> list[dict[str, Any]]:
        """The catalogue's fix for every rule the conflicted milestones break, in catalogue order."""
        codes = {code for milestone in self.milestones for code in milestone["conflicts"]}
        return [rule for code, rule in self.rules.items() if code in codes]


def parse_fail_on(text: str) -> tuple[str, ...]:
    """Parse ``--fail-on`` (comma list of stages); unknown stages are an error."""
    stages = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [stage for stage in stages if stage not in STAGES]
    if unknown or not stages:
        raise UsageError(
            f"--fail-on takes a comma list of {', '.join(STAGES)}; got {text!r}"
        )
    return stages


def run_check(report: Report, fail_on: tuple[str, ...] = DEFAULT_FAIL_ON) -> CheckResult:
    """Evaluate the gate over a built warehouse."""
    kpi_row = report.kpi_overview().result.frame.iloc[0]
    kpis = {name: plain(kpi_row[name]) or 0 for name in CHECK_KPIS}
    allocation = report.charge_allocation().result.frame
    charges_by_allocation = {
        str(row.allocation_target): int(row.total_charges) for row in allocation.itertuples()
    }
    milestones = []
    for row in report.action_list(limit=None).result.frame.to_dict(orient="records"):
        milestones.append(
            {
                "milestone_id": plain(row["milestone_id"]),
                "stage": row["stage"],
                "amount": plain(row["amount"]),
                "conflicts": sorted(str(code) for code in row["conflicts"]),
                "priority_rank": plain(row["priority_rank"]),
                "title": row["milestone_title"],
                "company_name": row["company_name"],
                "project_name": row["project_name"],
                "contract_name": row["contract_name"],
                "due_date": plain(row["due_date"]),
            }
        )
    findings = [
        {key: plain(value) for key, value in row.items()}
        for row in report.findings_action_list(limit=None).result.frame.to_dict(orient="records")
    ]
    rules = {
        str(row["rule_code"]): {key: plain(row[key]) for key in (
            "rule_code", "title", "category", "severity", "fix_title", "fix_steps", "is_evaluated", "not_evaluated_reason",
        )}
        for row in report.rule_findings().result.frame.to_dict(orient="records")
    }
    return CheckResult(kpis, charges_by_allocation, milestones, fail_on, findings, rules)



def to_markdown(result: CheckResult) -> str:
    """The gate's result as Markdown, for a chat post or a mail body."""
    kpis = result.kpis
    status = "FAIL" if result.exit_code else "PASS"
    lines = [
        f"## billready check: {status}",
        "",
        f"- Pipeline milestones: {kpis['total_milestones']:,}",
        f"- Conflicts found: {kpis['conflicts_found']:,}",
        f"- Revenue at risk: {money(kpis['revenue_at_risk'])}",
        f"- Charges conflicts: {kpis['charges_conflicts']:,}",
        f"- Failing stages: {', '.join(result.fail_on)} ({len(result.blocking)} milestone(s) block the run)",
        "",
    ]
    if not result.milestones:
        lines.append("No pipeline milestone carries a conflict.")
        return "\n".join(lines)
    lines += [
        "| # | Milestone | Stage | Company | Project | Amount | Due | Conflicts |",
        "|---:|---|---|---|---|---:|---|---|",
    ]
    for m in result.milestones:
        cells = [
            str(m["priority_rank"]),
            f"{m['title'] or ''} ({m['milestone_id']})",
            m["stage"] + (" **blocking**" if m["stage"] in result.fail_on else ""),
            m["company_name"] or "",
            m["project_name"] or "",
            money(m["amount"]),
            m["due_date"] or "",
            ", ".join(m["conflicts"]),
        ]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    lines += ["", "### How to fix"]
    for rule in result.fixes():
        lines += ["", f"**{rule['title']}** (`{rule['rule_code']}`): {rule['fix_title']}.", "", rule["fix_steps"]]
    return "\n".join(lines)


def to_junit(result: CheckResult) -> str:
    """The gate's result as JUnit XML: one test case per conflicted pipeline milestone, failing
    when its stage is a --fail-on stage, plus one case for the gate itself."""
    from xml.etree import ElementTree as ET

    suite = ET.Element(
        "testsuite",
        name="billready check",
        tests=str(len(result.milestones) + 1),
        failures=str(len(result.blocking) + (1 if result.exit_code else 0)),
        errors="0",
        skipped="0",
    )
    gate = ET.SubElement(suite, "testcase", classname="billready.gate", name=f"no conflicts in stages {','.join(result.fail_on)}")
    if result.exit_code:
        ET.SubElement(gate, "failure", message=f"{len(result.blocking)} milestone(s) in a failing stage carry conflicts")
    for m in result.milestones:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"billready.milestones.{m['stage']}",
            name=f"milestone {m['milestone_id']}: {m['title'] or ''}",
        )
        detail = (
            f"{m['company_name'] or '?'} / {m['project_name'] or 'no project'}: {money(m['amount'])} "
            f"due {m['due_date'] or '?'}; conflicts: {', '.join(m['conflicts'])}"
        )
        if m["stage"] in result.fail_on:
            ET.SubElement(case, "failure", message=", ".join(m["conflicts"])).text = detail
        else:
            ET.SubElement(case, "system-out").text = detail
    ET.indent(suite)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, encoding="unicode")


def to_text(result: CheckResult) -> str:
    """The gate's result for a terminal: KPIs, the milestones in fixing order, the fixes."""
    kpis = result.kpis
    lines = [
        f"{kpis['conflicts_found']} of {kpis['total_milestones']} pipeline milestones carry conflicts; "
        f"revenue at risk ${kpis['revenue_at_risk']:,.0f}; {kpis['charges_conflicts']} charge conflicts.",
    ]
    if result.milestones:
        lines.append("")
        lines.append(f"{'#':>3}  {'milestone':>9}  {'stage':<10} {'amount':>11}  {'due':<10}  conflicts")
        for m in result.milestones:
            lines.append(
                f"{m['priority_rank']:>3}  {m['milestone_id']:>9}  {m['stage']:<10} "
                f"{m['amount'] or 0:>11,.2f}  {m['due_date'] or '':<10}  {', '.join(m['conflicts'])}"
                f"   ({m['company_name'] or '?'} / {m['project_name'] or 'no project'})"
            )
    if result.milestones:
        lines.append("")
        lines.append("How to fix:")
        for rule in result.fixes():
            lines.append(f"  {rule['title']} ({rule['rule_code']}): {rule['fix_title']}.")
            lines.append(textwrap.indent(textwrap.fill(rule["fix_steps"], 96), "    "))
    other = [f for f in result.findings if f["category"] != "allocation"]
    if other:
        lines.append("")
        lines.append(
            f"Beyond allocation: {len(other)} more finding(s) in "
            f"{', '.join(sorted({f['category'] for f in other}))} (`billready rules`, or the report's section 05)."
        )
    blocking = len(result.blocking)
    lines.append("")
    if blocking:
        lines.append(f"FAIL: {blocking} milestone(s) in stage {', '.join(result.fail_on)} carry conflicts.")
    else:
        lines.append(f"OK: no milestone in stage {', '.join(result.fail_on)} carries a conflict.")
    return "\n".join(lines)
