"""The report's sections: each returns its rows together with exactly the SQL that produced them.

Measures come from the semantic layer (MetricFlow); text comes from the seeds (rule causes,
fixes, stage implications); row lists are plain queries of the marts. The Streamlit pages and the
CLI only call these functions and render.
"""
from __future__ import annotations

from dataclasses import dataclass

from billready.semantic import MetricRequest, QueryResult, SemanticLayer, Warehouse, format_sql

KPI_REQUEST = MetricRequest(saved_query="kpi_overview")
STATUS_REQUEST = MetricRequest(saved_query="status_breakdown")
CHARGE_ALLOCATION_REQUEST = MetricRequest(saved_query="charge_allocation")
RULE_REQUEST = MetricRequest(saved_query="conflict_causes")
OVERDUE_REQUEST = MetricRequest(saved_query="overdue_approved")
COMPANY_REQUEST = MetricRequest(saved_query="company_conflicts")
PROJECT_REQUEST = MetricRequest(saved_query="project_conflicts")
TREND_REQUEST = MetricRequest(saved_query="due_month_trend")
REQUESTS = (
    KPI_REQUEST, STATUS_REQUEST, CHARGE_ALLOCATION_REQUEST, RULE_REQUEST,
    OVERDUE_REQUEST, COMPANY_REQUEST, PROJECT_REQUEST, TREND_REQUEST,
)

_STATUS_OUTER = """
select
    billing_stages.stage,
    billing_stages.stage_label,
    coalesce(metric_query.total_milestones, 0) as total_milestones,
    coalesce(metric_query.total_milestones, 0) * 1.0
        / nullif(sum(coalesce(metric_query.total_milestones, 0)) over (), 0) as share,
    coalesce(metric_query.pipeline_amount, 0) as pipeline_amount,
    coalesce(metric_query.conflicts_found, 0) as conflicts_found,
    coalesce(metric_query.revenue_at_risk, 0) as revenue_at_risk,
    billing_stages.billing_implication
from reference.billing_stages as billing_stages
left join metric_query
    on metric_query.milestone__stage = billing_stages.stage
where billing_stages.is_in_pipeline
    and (billing_stages.stage <> 'unmapped' or coalesce(metric_query.total_milestones, 0) > 0)
order by billing_stages.display_order
"""

_CHARGE_ALLOCATION_OUTER = """
select
    allocation_targets.allocation_target,
    allocation_targets.allocation_label,
    coalesce(metric_query.total_charges, 0) as total_charges,
    coalesce(metric_query.total_charges, 0) * 1.0
        / nullif(sum(coalesce(metric_query.total_charges, 0)) over (), 0) as share
from reference.allocation_targets as allocation_targets
left join metric_query
    on metric_query.charge__allocation_target = allocation_targets.allocation_target
order by allocation_targets.display_order
"""

_RULE_OUTER = """
select
    conflict_rules.rule_code,
    conflict_rules.title,
    conflict_rules.severity,
    conflict_rules.cause,
    coalesce(metric_query.rule_conflicts, 0) as rule_conflicts,
    coalesce(metric_query.rule_revenue_at_risk, 0) as rule_revenue_at_risk
from reference.conflict_rules as conflict_rules
left join metric_query
    on metric_query.milestone_conflict__rule_code = conflict_rules.rule_code
where conflict_rules.category = 'allocation'
order by conflict_rules.display_order
"""

RESOLUTION_STEPS_SQL = format_sql("""
select
    step_number,
    rule_code,
    title,
    body
from reference.resolution_steps
order by step_number
""")

ACTION_LIST_SQL = format_sql("""
with findings as (
    select
        milestone_id,
        list(rule_code order by rule_code) as conflicts
    from marts.bi_milestone_conflicts
    group by milestone_id
)
select
    bi_contract_milestones.priority_rank,
    bi_contract_milestones.milestone_id,
    bi_contract_milestones.milestone_title,
    bi_contract_milestones.stage,
    bi_contract_milestones.status_label,
    bi_contract_milestones.company_name,
    bi_contract_milestones.project_name,
    bi_contract_milestones.contract_name,
    bi_contract_milestones.amount,
    bi_contract_milestones.due_date,
    findings.conflicts
from marts.bi_contract_milestones as bi_contract_milestones
inner join findings
    on bi_contract_milestones.milestone_id = findings.milestone_id
order by bi_contract_milestones.priority_rank
""")


@dataclass(frozen=True)
class Panel:
    """One figure or table of the report and the query behind it."""

    key: str
    title: str
    result: QueryResult


class Report:
    """The report's sections over one read-only warehouse."""

    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse
        self.semantic = SemanticLayer(warehouse.directory, warehouse)

    def kpi_overview(self) -> Panel:
        """01: total milestones, conflicts found, revenue at risk, charges conflicts."""
        return Panel("kpi_overview", "KPI overview", self.semantic.query(KPI_REQUEST))

    def charge_allocation(self) -> Panel:
        """01: charges by allocation target, with shares."""
        result = self.semantic.query_wrapped(CHARGE_ALLOCATION_REQUEST, _CHARGE_ALLOCATION_OUTER)
        return Panel("charge_allocation", "Charges by allocation", result)

    def status_breakdown(self) -> Panel:
        """02: pipeline milestones by billing stage: count, share, amount, billing implication."""
        result = self.semantic.query_wrapped(STATUS_REQUEST, _STATUS_OUTER)
        return Panel("status_breakdown", "Milestone status breakdown", result)

    def conflict_causes(self) -> Panel:
        """03: one row per allocation rule: cause, live count and amount."""
        result = self.semantic.query_wrapped(RULE_REQUEST, _RULE_OUTER)
        return Panel("conflict_causes", "What causes allocation conflicts", result)

    def resolution_steps(self) -> Panel:
        """04: the fix steps."""
        return Panel("resolution_steps", "How to resolve", self.warehouse.query(RESOLUTION_STEPS_SQL))

    def action_list(self) -> Panel:
        """04: conflicted pipeline milestones in fixing order."""
        return Panel("action_list", "Prioritized action list", self.warehouse.query(ACTION_LIST_SQL))

    def overdue_approved(self) -> Panel:
        """04: approved milestones past their due date (approved work not yet posted)."""
        return Panel("overdue_approved", "Approved and overdue", self.semantic.query(OVERDUE_REQUEST))

    def company_conflicts(self) -> Panel:
        """Conflicts and revenue at risk per company."""
        return Panel("company_conflicts", "Revenue at risk by company", self.semantic.query(COMPANY_REQUEST))

    def project_conflicts(self) -> Panel:
        """FAQ: conflicts and revenue at risk per project."""
        return Panel("project_conflicts", "Conflicts by project", self.semantic.query(PROJECT_REQUEST))

    def due_month_trend(self) -> Panel:
        """Pipeline milestones, amount and revenue at risk by due month."""
        return Panel("due_month_trend", "Pipeline by due month", self.semantic.query(TREND_REQUEST))

    def panels(self) -> list[Panel]:
        """Every panel, in report order."""
        return [
            self.kpi_overview(),
            self.charge_allocation(),
            self.status_breakdown(),
            self.conflict_causes(),
            self.resolution_steps(),
            self.overdue_approved(),
            self.action_list(),
            self.company_conflicts(),
            self.project_conflicts(),
            self.due_month_trend(),
        ]
