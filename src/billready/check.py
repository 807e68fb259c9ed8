"""The billing-close gate: conflicted pipeline milestones in fixing order, and an exit code."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from billready.errors import UsageError
from billready.formatting import plain
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
        }


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
    for row in report.action_list().result.frame.to_dict(orient="records"):
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
    return CheckResult(kpis, charges_by_allocation, milestones, fail_on)

