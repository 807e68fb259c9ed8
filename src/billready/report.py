"""The report's sections: each returns its rows together with exactly the SQL that produced them.

Measures come from the semantic layer (MetricFlow); text comes from the seeds (rule causes,
fixes, stage implications); row lists are plain queries of the marts. The Streamlit pages and the
CLI only call these functions and render.
"""
from __future__ import annotations

import datetime
import os
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
READINESS_REQUEST = MetricRequest(saved_query="readiness_overview")
RULE_FINDINGS_REQUEST = MetricRequest(saved_query="rule_findings")
REFRESH_TREND_REQUEST = MetricRequest(saved_query="refresh_trend")
HISTORY_SUMMARY_REQUEST = MetricRequest(saved_query="history_summary")
REQUESTS = (
    KPI_REQUEST, STATUS_REQUEST, CHARGE_ALLOCATION_REQUEST, RULE_REQUEST,
    OVERDUE_REQUEST, COMPANY_REQUEST, PROJECT_REQUEST, TREND_REQUEST,
    READINESS_REQUEST, RULE_FINDINGS_REQUEST, REFRESH_TREND_REQUEST, HISTORY_SUMMARY_REQUEST,
)
MAX_AGE_ENV = "BILLREADY_MAX_AGE_HOURS"
DEFAULT_MAX_AGE_HOURS = 24.0


@dataclass(frozen=True)
class Freshness:
    """When the served data was built and landed, and whether it is older than allowed."""

    built_at: datetime.datetime | None
    landed_at: datetime.datetime | None
    max_age_hours: float
    now: datetime.datetime

    @property
    def age_hours(self) -> float | None:
        reference = self.landed_at or self.built_at
        return None if reference is None else (self.now - reference).total_seconds() / 3600

    @property
    def is_stale(self) -> bool:
        return self.age_hours is None or self.age_hours > self.max_age_hours

    def describe(self) -> str:
        def when(value: datetime.datetime | None) -> str:
            return value.strftime("%Y-%m-%d %H:%M UTC") if value else "unknown"

        return f"data built {when(self.built_at)} · landed {when(self.landed_at)}"

    def warning(self) -> str | None:
        if not self.is_stale:
            return None
        if self.age_hours is None:
            return "When this data was landed is unknown: refresh before billing close."
        return (
            f"This data is {self.age_hours:,.0f} hours old (more than {self.max_age_hours:g}): "
            "run `billready refresh` before billing close."
        )


def max_age_hours() -> float:
    """The age past which the report warns: ``$BILLREADY_MAX_AGE_HOURS``, else 24."""
    try:
        return float(os.environ.get(MAX_AGE_ENV, DEFAULT_MAX_AGE_HOURS))
    except ValueError:
        return DEFAULT_MAX_AGE_HOURS

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

_READINESS_OUTER = """
with rules as (
    select
        category,
        count(*) as rules,
        sum(case when is_evaluated then 1 else 0 end) as rules_evaluated,
        string_agg(case when not is_evaluated then rule_code end, ', ' order by display_order) as rules_not_evaluated
    from marts.bi_rule_status
    group by category
)
select
    rule_categories.category,
    rule_categories.category_title,
    rule_categories.description,
    rules.rules,
    rules.rules_evaluated,
    rules.rules_not_evaluated,
    coalesce(metric_query.findings, 0) as findings,
    coalesce(metric_query.finding_milestones, 0) as finding_milestones,
    coalesce(metric_query.finding_category_amount, 0) as finding_amount
from reference.rule_categories as rule_categories
inner join rules
    on rules.category = rule_categories.category
left join metric_query
    on metric_query.finding__category = rule_categories.category
order by rule_categories.display_order
"""

_RULE_FINDINGS_OUTER = """
select
    bi_rule_status.rule_code,
    bi_rule_status.category,
    bi_rule_status.severity,
    bi_rule_status.title,
    conflict_rules.cause,
    conflict_rules.fix_title,
    conflict_rules.fix_steps,
    conflict_rules.reference,
    bi_rule_status.is_evaluated,
    bi_rule_status.not_evaluated_reason,
    case when bi_rule_status.is_evaluated then coalesce(metric_query.findings, 0) end as findings,
    case when bi_rule_status.is_evaluated then coalesce(metric_query.finding_milestones, 0) end as finding_milestones,
    case when bi_rule_status.is_evaluated then coalesce(metric_query.finding_amount, 0) end as finding_amount
from marts.bi_rule_status as bi_rule_status
inner join reference.conflict_rules as conflict_rules
    on conflict_rules.rule_code = bi_rule_status.rule_code
inner join reference.rule_categories as rule_categories
    on rule_categories.category = bi_rule_status.category
left join metric_query
    on metric_query.finding__rule_code = bi_rule_status.rule_code
order by rule_categories.display_order, bi_rule_status.display_order
"""

FINDINGS_ACTION_SQL = format_sql("""
select
    action_rank,
    severity,
    category,
    rule_code,
    rule_title,
    stage,
    milestone_id,
    milestone_title,
    charge_id,
    company_name,
    project_name,
    contract_name,
    amount,
    due_date,
    detail
from marts.bi_findings
order by action_rank
""")

RESOLUTION_STEPS_SQL = format_sql("""
with steps as (
    select
        display_order as step_order,
        rule_code,
        fix_title as title,
        fix_steps as body
    from reference.conflict_rules
    where category = 'allocation'
    union all
    select
        1000 + practice_number as step_order,
        null as rule_code,
        title,
        body
    from reference.billing_practices
)
select
    row_number() over (order by step_order) as step_number,
    rule_code,
    title,
    body
from steps
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

    def readiness_overview(self) -> Panel:
        """Billing readiness: findings, milestones and amount per rule category, and which rules
        could not be evaluated (their optional input was not landed)."""
        result = self.semantic.query_wrapped(READINESS_REQUEST, _READINESS_OUTER)
        return Panel("readiness_overview", "Billing readiness overview", result)

    def rule_findings(self) -> Panel:
        """Every catalogue rule: cause, fix, live count and amount, or why it is not evaluated."""
        result = self.semantic.query_wrapped(RULE_FINDINGS_REQUEST, _RULE_FINDINGS_OUTER)
        return Panel("rule_findings", "Every rule: findings and fixes", result)

    def findings_action_list(self) -> Panel:
        """Every finding in fixing order: stage, then severity, then amount."""
        return Panel("findings_action_list", "Prioritized action list (all findings)", self.warehouse.query(FINDINGS_ACTION_SQL))

    def refresh_trend(self) -> Panel:
        """History: conflicts, revenue at risk and unbilled approved work at each refresh."""
        return Panel("refresh_trend", "Conflicts over refreshes", self.semantic.query(REFRESH_TREND_REQUEST))

    def history_summary(self) -> Panel:
        """History: conflicts resolved, average time to resolve, completion-to-posting cycle time."""
        return Panel("history_summary", "Resolution and cycle time", self.semantic.query(HISTORY_SUMMARY_REQUEST))

    def freshness(self, now: datetime.datetime | None = None) -> Freshness:
        """When the served data was built and landed, against the configured maximum age."""
        return Freshness(
            built_at=self.warehouse.built_at(),
            landed_at=self.warehouse.landed_at(),
            max_age_hours=max_age_hours(),
            now=now or datetime.datetime.now(datetime.timezone.utc),
        )

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
            self.readiness_overview(),
            self.rule_findings(),
            self.findings_action_list(),
            self.refresh_trend(),
            self.history_summary(),
        ]
