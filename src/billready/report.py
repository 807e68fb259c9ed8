"""The report's sections: each returns its rows together with exactly the SQL that produced them.

Measures come from the semantic layer (MetricFlow); text comes from the seeds (rule causes,
fixes, stage implications); row lists are plain queries of the marts. The Streamlit pages and the
CLI only call these functions and render.
"""
from __future__ import annotations

import datetime
import os
from dataclasses import dataclass, field, replace
from typing import Any

from billready import filters as filtering
from billready.access import Scope
from billready.errors import NotInViewError
from billready.filters import FilterOptions, ReportFilters
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
    bi_findings.action_rank,
    bi_findings.severity,
    bi_findings.category,
    bi_findings.rule_code,
    bi_findings.rule_title,
    bi_findings.stage,
    bi_findings.stage_label,
    bi_findings.milestone_id,
    bi_findings.milestone_title,
    bi_findings.charge_id,
    bi_findings.company_name,
    bi_findings.project_name,
    bi_findings.contract_name,
    bi_findings.amount,
    bi_findings.due_date,
    bi_findings.detail
from marts.bi_findings as bi_findings
order by bi_findings.action_rank
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

_ACTION_LIST_SQL = """
with milestones as (
    select
        bi_contract_milestones.priority_rank,
        bi_contract_milestones.milestone_id,
        bi_contract_milestones.milestone_title,
        bi_contract_milestones.stage,
        bi_contract_milestones.status_label,
        bi_contract_milestones.status_label as stage_label,
        bi_contract_milestones.company_name,
        bi_contract_milestones.project_name,
        bi_contract_milestones.contract_name,
        bi_contract_milestones.amount,
        bi_contract_milestones.due_date
    from marts.bi_contract_milestones as bi_contract_milestones
    where bi_contract_milestones.milestone_id in (
        select bi_milestone_conflicts.milestone_id from marts.bi_milestone_conflicts as bi_milestone_conflicts
    )
    order by bi_contract_milestones.priority_rank{limit}
),
findings as (
    select
        bi_milestone_conflicts.milestone_id,
        list(bi_milestone_conflicts.rule_code order by bi_milestone_conflicts.rule_code) as conflicts
    from marts.bi_milestone_conflicts as bi_milestone_conflicts
    where bi_milestone_conflicts.milestone_id in (select milestones.milestone_id from milestones)
    group by bi_milestone_conflicts.milestone_id
)
select
    milestones.*,
    findings.conflicts
from milestones
inner join findings
    on milestones.milestone_id = findings.milestone_id
order by milestones.priority_rank
"""


def action_list_sql(limit: int | None) -> str:
    """The action list: conflicted pipeline milestones in fixing order, the first ``limit`` (a
    whole number from code, never from a viewer; None: all). The limit applies before the
    conflicts are gathered, so the first rows cost the same at any size (bi_contract_milestones
    is stored in fixing order)."""
    return format_sql(_ACTION_LIST_SQL.format(limit="" if limit is None else f"\n    limit {int(limit)}"))


ACTION_LIST_SQL = action_list_sql(None)
"""The whole action list (what ``billready check`` reads)."""



OPTION_SQL: dict[str, str] = {
    "companies": format_sql("""
select distinct
    company_id,
    company_name
from marts.bi_contract_milestones
where company_id is not null
order by company_name, company_id
"""),
    "projects": format_sql("""
select distinct
    project_id,
    project_name,
    company_id
from marts.bi_contract_milestones
where project_id is not null
order by project_name, project_id
"""),
    "contracts": format_sql("""
select distinct
    contract_id,
    contract_name,
    company_id
from marts.bi_contract_milestones
where contract_id is not null
order by contract_name, contract_id
"""),
    # The tenant's own status labels name each billing stage (the seed's label when none is used).
    "stages": format_sql("""
with labels as (
    select
        stage,
        string_agg(distinct status_label, ' / ' order by status_label) as status_labels
    from marts.bi_contract_milestones
    group by stage
)
select
    billing_stages.stage,
    coalesce(labels.status_labels, billing_stages.stage_label) as stage_label
from reference.billing_stages as billing_stages
left join labels
    on labels.stage = billing_stages.stage
where labels.stage is not null or billing_stages.stage <> 'unmapped'
order by billing_stages.display_order
"""),
    "rules": format_sql("""
select
    rule_code,
    title,
    category
from reference.conflict_rules
order by display_order
"""),
    "due_range": format_sql("""
select
    min(due_date) as due_min,
    max(due_date) as due_max
from marts.bi_contract_milestones
"""),
}
"""The filter choices; read through the scope only (filters never narrow their own options)."""

# Drill-through: each kind names its subject milestones and charges; the panels are the same.
_SUBJECTS = {
    "milestone": {
        "milestones": "milestone_id = $milestone_id",
        "charges": "false",
        "findings": "true",
    },
    "project": {
        "milestones": "project_id = $project_id",
        "charges": "project_id = $project_id",
        "findings": "true",
    },
    "rule": {
        "milestones": "milestone_id in (select findings.milestone_id from marts.bi_findings as findings where findings.rule_code = $rule_code)",
        "charges": "charge_id in (select findings.charge_id from marts.bi_findings as findings where findings.rule_code = $rule_code)",
        "findings": "rule_code = $rule_code",
    },
}
_SUBJECT_CTES = """
with subject_milestones as (
    select
        milestone_id,
        project_id,
        contract_id
    from marts.bi_contract_milestones
    where {milestones}
),
subject_charges as (
    select charge_id
    from marts.bi_charges
    where project_id in (select project_id from subject_milestones)
        or {charges}
),
subject_contracts as (
    select contract_id from subject_milestones
    union
    select contract_id
    from marts.bi_charges
    where charge_id in (select charge_id from subject_charges)
),
subject_findings as (
    select finding_id
    from marts.bi_findings
    where (
        milestone_id in (select milestone_id from subject_milestones)
        or charge_id in (select charge_id from subject_charges)
        or (milestone_id is null and charge_id is null and contract_id in (select contract_id from subject_contracts))
    )
        and {findings}
)
"""
_DETAIL_BODIES = {
    "detail_milestones": """
select
    priority_rank,
    milestone_id,
    milestone_title,
    status_label,
    stage,
    company_name,
    project_id,
    project_name,
    contract_id,
    contract_name,
    contract_status_label,
    billing_code_name,
    amount,
    due_date,
    days_past_due,
    conflict_count
from marts.bi_contract_milestones
where milestone_id in (select milestone_id from subject_milestones)
order by priority_rank
""",
    "detail_charges": """
select
    charge_id,
    charge_source,
    charge_name,
    purchased_date,
    billable_amount,
    project_name,
    contract_id,
    contract_name,
    contract_resolved_from,
    allocation_target,
    is_contract_conflict,
    has_service_on_other_contract
from marts.bi_charges
where charge_id in (select charge_id from subject_charges)
order by purchased_date, charge_id
""",
    "detail_contracts": """
select
    contracts.contract_id,
    contracts.contract_name,
    contracts.contract_number,
    contract_statuses.status_label,
    contract_statuses.contract_type_label,
    contract_statuses.is_active,
    contracts.start_date,
    contracts.end_date,
    contracts.estimated_revenue,
    contracts.renewed_contract_id
from staging.stg_autotask__contracts as contracts
left join intermediate.int_contracts__statuses as contract_statuses
    on contracts.contract_id = contract_statuses.contract_id
where contracts.contract_id in (select contract_id from subject_contracts)
order by contracts.contract_name, contracts.contract_id
""",
    "detail_billing_items": """
select
    billing_item_id,
    milestone_id,
    invoice_id,
    item_name,
    extended_price,
    item_date,
    posted_date
from staging.stg_autotask__billing_items
where milestone_id in (select milestone_id from subject_milestones)
order by item_date, billing_item_id
""",
    "detail_findings": """
select
    bi_findings.action_rank,
    bi_findings.severity,
    bi_findings.rule_code,
    bi_findings.rule_title,
    bi_findings.milestone_id,
    bi_findings.milestone_title,
    bi_findings.charge_id,
    bi_findings.contract_name,
    bi_findings.amount,
    bi_findings.detail,
    conflict_rules.cause,
    conflict_rules.fix_title,
    conflict_rules.fix_steps
from marts.bi_findings as bi_findings
inner join reference.conflict_rules as conflict_rules
    on bi_findings.rule_code = conflict_rules.rule_code
where bi_findings.finding_id in (select finding_id from subject_findings)
order by bi_findings.action_rank
""",
}
DETAIL_PANELS = (
    ("detail_milestones", "Milestones"),
    ("detail_charges", "Charges (resolved contract and allocation)"),
    ("detail_contracts", "Contracts"),
    ("detail_billing_items", "Billing items"),
    ("detail_findings", "Findings and fixes"),
)
_DETAIL_SUMMARIES = {
    "milestone": """
select
    milestone_title as title,
    milestone_id,
    status_label,
    stage,
    company_id,
    company_name,
    project_id,
    project_name,
    contract_id,
    contract_name,
    amount,
    due_date,
    conflict_count
from marts.bi_contract_milestones
where milestone_id = $milestone_id
""",
    "project": """
select
    projects.project_name as title,
    projects.project_id,
    projects.project_number,
    projects.company_id,
    companies.company_name,
    projects.contract_id,
    projects.start_date,
    projects.end_date
from staging.stg_autotask__projects as projects
left join staging.stg_autotask__companies as companies
    on projects.company_id = companies.company_id
where projects.project_id = $project_id
""",
    "rule": """
select
    title,
    rule_code,
    category,
    severity,
    grain,
    cause,
    fix_title,
    fix_steps,
    reference
from reference.conflict_rules
where rule_code = $rule_code
""",
}
DETAIL_SQL: dict[str, dict[str, str]] = {
    kind: {
        "summary": format_sql(_DETAIL_SUMMARIES[kind]),
        **{
            key: format_sql(_SUBJECT_CTES.format(**subjects) + body)
            for key, body in _DETAIL_BODIES.items()
        },
    }
    for kind, subjects in _SUBJECTS.items()
}
"""Drill-through queries by kind (milestone, project, rule): a summary row and one query per panel,
with the subject as a bound parameter."""


LIST_LIMIT = 1000
"""Rows the report's lists show (and export): the action lists' first in fixing order, the
company and project tables' first by revenue at risk. A list is for working through; at a
million findings, fetching them all would make the page slow and the workbook larger than a sheet
holds. ``billready check`` streams every conflicted milestone and finding (:meth:`Report.list_batches`)."""


def _limited(sql: str, limit: int | None) -> str:
    """A list query with a row limit (a whole number from code, never from a viewer)."""
    if limit is None:
        return sql
    return format_sql(f"{sql}\nlimit {int(limit)}")


@dataclass(frozen=True)
class Panel:
    """One figure or table of the report and the query behind it."""

    key: str
    title: str
    result: QueryResult


@dataclass(frozen=True)
class Detail:
    """A drill-through view: one rule, project or milestone, with its related rows."""

    kind: str
    key: Any
    title: str
    summary: dict[str, Any]
    panels: list[Panel] = field(default_factory=list)

    def panel(self, key: str) -> Panel:
        return next(panel for panel in self.panels if panel.key == key)


def _as_id(value: Any, kind: str) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        raise NotInViewError(f"{kind} {value!r} is not an id") from None


class Report:
    """The report's sections over one read-only warehouse, narrowed by filters and a scope.

    Every panel's query reads the tenant tables through billready.filters: the filters and the
    viewer's scope become filtered CTEs with bound parameters, so each figure, table, drill-through
    and export shows only rows in view, and the SQL a panel carries is still exactly what ran.
    """

    def __init__(
        self,
        warehouse: Warehouse,
        filters: ReportFilters | None = None,
        scope: Scope | None = None,
    ) -> None:
        self.warehouse = warehouse
        self.semantic = SemanticLayer(warehouse.directory, warehouse)
        self.filters = filters or ReportFilters()
        self.scope = scope or Scope.everything()

    def with_filters(self, filters: ReportFilters) -> Report:
        """The same warehouse and scope with other filters (no new connection)."""
        other = Report.__new__(Report)
        other.warehouse, other.semantic, other.scope = self.warehouse, self.semantic, self.scope
        other.filters = filters
        return other

    def _plain(self, sql: str, params: dict[str, Any] | None = None, *, filtered: bool = True) -> QueryResult:
        """A query of the marts, read through the filters (or only the scope) with bound parameters."""
        text, bound = filtering.apply(sql, self.filters if filtered else ReportFilters(), self.scope, params)
        return self.warehouse.query(text, bound)

    def _metric(self, request: MetricRequest, outer_sql: str | None = None) -> QueryResult:
        """A MetricFlow request (optionally inside a presentation query), read through the filters."""
        sql = self.semantic.compile_wrapped(request, outer_sql)
        text, bound = filtering.apply(sql, self.filters, self.scope)
        result = self.warehouse.query(text, bound)
        result.request = request
        result.semantic = self.semantic.describe(request)
        if not self.filters.is_empty():
            result.semantic["filters"] = self.filters.describe()
        if self.scope.is_restricted:
            result.semantic["scope"] = self.scope.label
        return result

    def kpi_overview(self) -> Panel:
        """01: total milestones, conflicts found, revenue at risk, charges conflicts."""
        return Panel("kpi_overview", "KPI overview", self._metric(KPI_REQUEST))

    def charge_allocation(self) -> Panel:
        """01: charges by allocation target, with shares."""
        result = self._metric(CHARGE_ALLOCATION_REQUEST, _CHARGE_ALLOCATION_OUTER)
        return Panel("charge_allocation", "Charges by allocation", result)

    def status_breakdown(self) -> Panel:
        """02: pipeline milestones by billing stage: count, share, amount, billing implication."""
        result = self._metric(STATUS_REQUEST, _STATUS_OUTER)
        return Panel("status_breakdown", "Milestone status breakdown", result)

    def conflict_causes(self) -> Panel:
        """03: one row per allocation rule: cause, live count and amount."""
        result = self._metric(RULE_REQUEST, _RULE_OUTER)
        return Panel("conflict_causes", "What causes allocation conflicts", result)

    def resolution_steps(self) -> Panel:
        """04: the fix steps."""
        return Panel("resolution_steps", "How to resolve", self._plain(RESOLUTION_STEPS_SQL))

    def action_list(self, limit: int | None = LIST_LIMIT) -> Panel:
        """04: conflicted pipeline milestones in fixing order: the first ``limit`` (None: all)."""
        return Panel("action_list", "Prioritized action list", self._plain(action_list_sql(limit)))

    def overdue_approved(self) -> Panel:
        """04: approved milestones past their due date (approved work not yet posted)."""
        return Panel("overdue_approved", "Approved and overdue", self._metric(OVERDUE_REQUEST))

    def company_conflicts(self, limit: int | None = LIST_LIMIT) -> Panel:
        """Conflicts and revenue at risk per company, most at risk first: the first ``limit``
        (None: all; `billready query --saved-query company_conflicts` lists every one)."""
        request = replace(COMPANY_REQUEST, limit=limit)
        return Panel("company_conflicts", "Revenue at risk by company", self._metric(request))

    def project_conflicts(self, limit: int | None = LIST_LIMIT) -> Panel:
        """FAQ: conflicts and revenue at risk per project, most at risk first: the first
        ``limit`` (None: all)."""
        request = replace(PROJECT_REQUEST, limit=limit)
        return Panel("project_conflicts", "Conflicts by project", self._metric(request))

    def due_month_trend(self) -> Panel:
        """Pipeline milestones, amount and revenue at risk by due month."""
        return Panel("due_month_trend", "Pipeline by due month", self._metric(TREND_REQUEST))

    def readiness_overview(self) -> Panel:
        """Billing readiness: findings, milestones and amount per rule category, and which rules
        could not be evaluated (their optional input was not landed)."""
        result = self._metric(READINESS_REQUEST, _READINESS_OUTER)
        return Panel("readiness_overview", "Billing readiness overview", result)

    def rule_findings(self) -> Panel:
        """Every catalogue rule: cause, fix, live count and amount, or why it is not evaluated."""
        result = self._metric(RULE_FINDINGS_REQUEST, _RULE_FINDINGS_OUTER)
        return Panel("rule_findings", "Every rule: findings and fixes", result)

    def findings_action_list(self, limit: int | None = LIST_LIMIT) -> Panel:
        """Every finding in fixing order (stage, then severity, then amount): the first ``limit``
        (None: all)."""
        return Panel(
            "findings_action_list",
            "Prioritized action list (all findings)",
            self._plain(_limited(FINDINGS_ACTION_SQL, limit)),
        )

    def list_batches(self, sql: str, batch_size: int = 10_000) -> Any:
        """Every row of a list query (ACTION_LIST_SQL, FINDINGS_ACTION_SQL), read through the
        filters and the scope as its panel is, as a ``pyarrow.RecordBatchReader`` streaming record
        batches of at most ``batch_size`` rows in the query's order: for a caller that writes every
        row (``billready check``) without a DataFrame of a million. The query runs, or fails, here;
        the reader holds the connection until it is read out or closed (use it as a context
        manager)."""
        text, bound = filtering.apply(sql, self.filters, self.scope)
        return self.warehouse.stream(text, bound, batch_size)

    def refresh_trend(self) -> Panel:
        """History: conflicts, revenue at risk and unbilled approved work at each refresh."""
        return Panel("refresh_trend", "Conflicts over refreshes", self._metric(REFRESH_TREND_REQUEST))

    def history_summary(self) -> Panel:
        """History: conflicts resolved, average time to resolve, completion-to-posting cycle time."""
        return Panel("history_summary", "Resolution and cycle time", self._metric(HISTORY_SUMMARY_REQUEST))

    def filter_options(self) -> FilterOptions:
        """What the viewer can filter on: the companies, projects, contracts, stages and rules of
        the milestones in the viewer's scope (the current filters do not narrow the options)."""
        frames = {}
        for name, sql in OPTION_SQL.items():
            frames[name] = self._plain(sql, filtered=False)
        due = frames.pop("due_range").frame.iloc[0]

        def as_date(value: Any) -> datetime.date | None:
            return None if value is None or value != value else value.date() if hasattr(value, "date") else value

        return FilterOptions(
            companies=frames["companies"].frame,
            projects=frames["projects"].frame,
            contracts=frames["contracts"].frame,
            stages=frames["stages"].frame,
            rules=frames["rules"].frame,
            due_min=as_date(due["due_min"]),
            due_max=as_date(due["due_max"]),
        )

    def _detail(self, kind: str, key: Any, params: dict[str, Any], *, filtered: bool) -> Detail:
        queries = DETAIL_SQL[kind]
        summary_result = self._plain(queries["summary"], params, filtered=filtered)
        if summary_result.frame.empty:
            raise NotInViewError(f"no {kind} {key} in view" + (f" (scope: {self.scope.label})" if self.scope.is_restricted else ""))
        summary = {
            column: (None if value != value else value)  # NaN/NA -> None
            for column, value in summary_result.frame.iloc[0].to_dict().items()
        }
        panels = [
            Panel(panel_key, title, self._plain(queries[panel_key], params, filtered=filtered))
            for panel_key, title in DETAIL_PANELS
        ]
        return Detail(kind, key, str(summary.get("title") or f"{kind} {key}"), summary, panels)

    def milestone_detail(self, milestone_id: int) -> Detail:
        """One milestone: itself, its project's charges, its contract, its billing items, its
        findings with their fixes. The scope applies; the report's filters do not (a charge on
        another contract is exactly what the viewer came to see)."""
        return self._detail("milestone", milestone_id, {"milestone_id": _as_id(milestone_id, "milestone")}, filtered=False)

    def project_detail(self, project_id: int) -> Detail:
        """One project: its milestones, charges, contracts, billing items and findings (scope only)."""
        return self._detail("project", project_id, {"project_id": _as_id(project_id, "project")}, filtered=False)

    def rule_detail(self, rule_code: str) -> Detail:
        """One rule: its cause and fix, and the milestones, charges, contracts, billing items and
        findings it flags, within the report's filters and the scope."""
        return self._detail("rule", rule_code, {"rule_code": str(rule_code)}, filtered=True)

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
