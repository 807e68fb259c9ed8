"""Report filters and per-client scope, applied to every query as filtered sources with bound
parameters.

A filter narrows the report to some companies, projects, contracts, billing stages, rules and a
due-date range. A scope (billready.access) restricts a viewer to some companies. Both reach SQL
the same way: :func:`apply` rewrites a query (a MetricFlow compilation, a presentation query
around one, or a plain query of the marts) so that every tenant table it reads is read through a
filtered common table expression, and every value the user chose is a bound parameter
(``$company_ids``, ``$due_from``...). Nothing the user typed is ever pasted into SQL text: a value
full of quotes and semicolons is just a string no row equals.

Semantics (docs/report.md):

- Company, project, contract, stage and due-date filters select *milestones* by their own
  columns; the rule filter selects milestones that have a finding of one of the rules.
- Tables keyed by milestone (conflicts, history, cycle times) follow the selected milestones.
- Findings match on their own columns (a filter on a column a finding does not have, such as the
  stage of a contract-level finding, leaves it out) and on their rule.
- Charges match on their own company, project and contract; when a stage, due-date or rule filter
  is on, only charges of projects with a selected milestone remain.
- The scope restricts every tenant table by company; a row whose company is unknown is outside
  every restricted scope. Reference tables (seeds, the rule catalogue, rule status) are not
  tenant data and are never filtered.

With no filter and no scope the query runs unchanged.
"""
from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlglot
from sqlglot import exp

from billready.errors import FilterError

if TYPE_CHECKING:
    import pandas as pd

    from billready.access import Scope

_QUERY_KEYS = {
    "company_ids": "company",
    "project_ids": "project",
    "contract_ids": "contract",
    "stages": "stage",
    "rule_codes": "rule",
    "due_from": "due_from",
    "due_to": "due_to",
}


def _ids(values: Iterable[Any], name: str) -> tuple[int, ...]:
    ids = []
    for value in values:
        try:
            ids.append(int(str(value).strip()))
        except ValueError:
            raise FilterError(f"{name}: {value!r} is not an id (a whole number)") from None
    return tuple(sorted(set(ids)))


def _texts(values: Iterable[Any]) -> tuple[str, ...]:
    return tuple(sorted({str(value) for value in values if str(value) != ""}))


def _date(value: Any, name: str) -> datetime.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value).strip())
    except ValueError:
        raise FilterError(f"{name}: {value!r} is not a date (YYYY-MM-DD)") from None


@dataclass(frozen=True)
class ReportFilters:
    """What the viewer narrowed the report to. Empty tuples and None mean "no filter"."""

    company_ids: tuple[int, ...] = ()
    project_ids: tuple[int, ...] = ()
    contract_ids: tuple[int, ...] = ()
    stages: tuple[str, ...] = ()
    rule_codes: tuple[str, ...] = ()
    due_from: datetime.date | None = None
    due_to: datetime.date | None = None

    def __post_init__(self) -> None:
        # Normalise and validate whatever the caller passed (lists, strings from a URL...).
        object.__setattr__(self, "company_ids", _ids(self.company_ids, "company"))
        object.__setattr__(self, "project_ids", _ids(self.project_ids, "project"))
        object.__setattr__(self, "contract_ids", _ids(self.contract_ids, "contract"))
        object.__setattr__(self, "stages", _texts(self.stages))
        object.__setattr__(self, "rule_codes", _texts(self.rule_codes))
        object.__setattr__(self, "due_from", _date(self.due_from, "due_from"))
        object.__setattr__(self, "due_to", _date(self.due_to, "due_to"))
        if self.due_from and self.due_to and self.due_from > self.due_to:
            raise FilterError(f"due-date range is empty: {self.due_from} is after {self.due_to}")

    def is_empty(self) -> bool:
        return self == ReportFilters()

    @property
    def narrows_milestones_only(self) -> bool:
        """True when a stage, due-date or rule filter is on (charges then follow milestones)."""
        return bool(self.stages or self.rule_codes or self.due_from or self.due_to)

    def to_query_params(self) -> dict[str, list[str]]:
        """The filters as URL query parameters (round trip with :meth:`from_query_params`)."""
        params: dict[str, list[str]] = {}
        for attribute, key in _QUERY_KEYS.items():
            value = getattr(self, attribute)
            if isinstance(value, tuple) and value:
                params[key] = [str(item) for item in value]
            elif isinstance(value, datetime.date):
                params[key] = [value.isoformat()]
        return params

    @classmethod
    def from_query_params(cls, mapping: Mapping[str, Any]) -> ReportFilters:
        """Filters from URL query parameters; a bad value raises FilterError naming it."""

        def values(key: str) -> list[Any]:
            if hasattr(mapping, "get_all"):
                return list(mapping.get_all(key))  # streamlit's st.query_params
            raw = mapping.get(key, [])
            return list(raw) if isinstance(raw, (list, tuple)) else [raw]

        def single(key: str) -> Any:
            found = values(key)
            return found[-1] if found else None

        return cls(
            company_ids=tuple(values("company")),
            project_ids=tuple(values("project")),
            contract_ids=tuple(values("contract")),
            stages=tuple(values("stage")),
            rule_codes=tuple(values("rule")),
            due_from=single("due_from"),
            due_to=single("due_to"),
        )

    def describe(self, options: FilterOptions | None = None) -> list[str]:
        """Human-readable lines, with names instead of ids when the options are given."""

        def named(ids: tuple[Any, ...], frame: pd.DataFrame | None, key: str, label: str) -> str:
            names = {}
            if frame is not None and len(frame):
                names = dict(zip(frame[key], frame[label]))
            return ", ".join(str(names.get(item, item)) for item in ids)

        lines = []
        if self.company_ids:
            lines.append("Company: " + named(self.company_ids, options and options.companies, "company_id", "company_name"))
        if self.project_ids:
            lines.append("Project: " + named(self.project_ids, options and options.projects, "project_id", "project_name"))
        if self.contract_ids:
            lines.append("Contract: " + named(self.contract_ids, options and options.contracts, "contract_id", "contract_name"))
        if self.stages:
            lines.append("Stage: " + named(self.stages, options and options.stages, "stage", "stage_label"))
        if self.rule_codes:
            lines.append("Rule: " + named(self.rule_codes, options and options.rules, "rule_code", "title"))
        if self.due_from and self.due_to:
            lines.append(f"Due {self.due_from.isoformat()} to {self.due_to.isoformat()}")
        elif self.due_from:
            lines.append(f"Due from {self.due_from.isoformat()}")
        elif self.due_to:
            lines.append(f"Due until {self.due_to.isoformat()}")
        return lines


@dataclass(frozen=True)
class FilterOptions:
    """The values a viewer can filter on, already limited to the viewer's scope."""

    companies: pd.DataFrame
    projects: pd.DataFrame
    contracts: pd.DataFrame
    stages: pd.DataFrame
    rules: pd.DataFrame
    due_min: datetime.date | None
    due_max: datetime.date | None


# Tenant tables and the columns filters apply to. "milestone" tables follow the selected
# milestones; the others match on their own columns.
_MILESTONES = "bi_contract_milestones"
_FOLLOW_MILESTONES = ("bi_milestone_conflicts", "bi_refresh_milestones", "bi_conflict_resolutions", "bi_milestone_cycle_times")
_OWN_COLUMNS: dict[tuple[str, str], tuple[str, ...]] = {
    ("marts", "bi_findings"): ("company_id", "project_id", "contract_id", "stage", "due_date", "rule_code"),
    ("marts", "bi_charges"): ("company_id", "project_id", "contract_id"),
    ("staging", "stg_autotask__contracts"): ("company_id",),
    ("staging", "stg_autotask__billing_items"): ("company_id",),
    ("staging", "stg_autotask__companies"): ("company_id",),
    ("staging", "stg_autotask__projects"): ("company_id",),
}
# Lookups without a company of their own: in a restricted scope, only the rows of contracts
# the scope includes.
_VIA_CONTRACT = (("intermediate", "int_contracts__statuses"),)
_MILESTONE_COLUMNS = ("company_id", "project_id", "contract_id", "stage", "due_date")
TENANT_TABLES: tuple[tuple[str, str], ...] = (
    ("marts", _MILESTONES),
    *(("marts", name) for name in _FOLLOW_MILESTONES),
    *_OWN_COLUMNS,
    *_VIA_CONTRACT,
)
"""Every table holding a tenant's rows: each is read through a filtered CTE when a filter or a
restricted scope is on. A query reading any other schema than marts/reference/staging's listed
tables is refused under a restricted scope (see :func:`apply`)."""

_REFERENCE_OK = {("reference", None), ("marts", "bi_rule_status"), ("marts", "metricflow_time_spine")}


def _predicates(columns: Iterable[str], filters: ReportFilters, scope: Scope | None) -> list[str]:
    """Conditions on the given columns for the active filters, with $parameters for values."""
    columns = set(columns)
    conditions = []
    if scope is not None and scope.is_restricted and "company_id" in columns:
        conditions.append("list_contains($scope_company_ids, company_id)")
    checks = (
        ("company_id", filters.company_ids, "list_contains($company_ids, company_id)"),
        ("project_id", filters.project_ids, "list_contains($project_ids, project_id)"),
        ("contract_id", filters.contract_ids, "list_contains($contract_ids, contract_id)"),
        ("stage", filters.stages, "list_contains($stages, stage)"),
        ("due_date", filters.due_from, "due_date >= $due_from"),
        ("due_date", filters.due_to, "due_date <= $due_to"),
        ("rule_code", filters.rule_codes, "list_contains($rule_codes, rule_code)"),
    )
    for column, value, condition in checks:
        if value and column in columns:
            conditions.append(condition)
    return conditions


def _where(conditions: list[str]) -> str:
    return ("\n    where " + "\n        and ".join(conditions)) if conditions else ""


def cte_name(table: str) -> str:
    """The name of the filtered CTE that stands in for a tenant table."""
    return f"{table}__in_view"


def _ctes(filters: ReportFilters, scope: Scope | None, needed: set[tuple[str, str]]) -> dict[str, str]:
    """The filtered CTEs (name -> body) for the tables a query reads, in dependency order."""
    ctes: dict[str, str] = {}
    milestone_conditions = _predicates(_MILESTONE_COLUMNS, filters, scope)
    if filters.rule_codes:
        milestone_conditions.append(
            "milestone_id in (select findings.milestone_id from marts.bi_findings as findings"
            " where list_contains($rule_codes, findings.rule_code))"
        )
    follows = {("marts", name) for name in _FOLLOW_MILESTONES}
    charges_follow = ("marts", "bi_charges") in needed and filters.narrows_milestones_only
    if ("marts", _MILESTONES) in needed or needed & follows or charges_follow:
        ctes["milestones_in_view"] = f"select milestone_id, project_id from marts.{_MILESTONES}{_where(milestone_conditions)}"
    for schema, table in TENANT_TABLES:
        if (schema, table) not in needed:
            continue
        if (schema, table) in _VIA_CONTRACT:
            conditions = []
            if scope is not None and scope.is_restricted:
                conditions.append(
                    "contract_id in (select contracts.contract_id from staging.stg_autotask__contracts as contracts"
                    " where list_contains($scope_company_ids, contracts.company_id))"
                )
            body = f"select * from {schema}.{table}{_where(conditions)}"
        elif table == _MILESTONES or table in _FOLLOW_MILESTONES:
            body = (
                f"select * from {schema}.{table}"
                "\n    where milestone_id in (select milestone_id from milestones_in_view)"
            )
        else:
            conditions = _predicates(_OWN_COLUMNS[(schema, table)], filters, scope)
            if table == "bi_charges" and charges_follow:
                conditions.append("project_id in (select project_id from milestones_in_view)")
            body = f"select * from {schema}.{table}{_where(conditions)}"
        ctes[cte_name(table)] = body
    return ctes


def parameters(filters: ReportFilters, scope: Scope | None) -> dict[str, Any]:
    """The bound parameters for a query filtered by :func:`apply` (only those its text uses)."""
    values: dict[str, Any] = {
        "company_ids": list(filters.company_ids),
        "project_ids": list(filters.project_ids),
        "contract_ids": list(filters.contract_ids),
        "stages": list(filters.stages),
        "rule_codes": list(filters.rule_codes),
        "due_from": filters.due_from,
        "due_to": filters.due_to,
    }
    if scope is not None and scope.is_restricted:
        values["scope_company_ids"] = sorted(scope.company_ids or ())
    return values


def _table_key(table: exp.Table) -> tuple[str, str]:
    return (table.db.lower(), table.name.lower())


def apply(
    sql: str,
    filters: ReportFilters,
    scope: Scope | None = None,
    params: Mapping[str, Any] | None = None,
) -> tuple[str, dict[str, Any]]:
    """``sql`` rewritten to read every tenant table through a filtered CTE, and its parameters.

    ``params`` are the query's own bound parameters (e.g. a drill-through key), kept as they are.
    The returned text is formatted by sqlglot and is exactly what runs; the returned parameters
    are exactly those it names. Under a restricted scope, a query reading a table that is neither
    tenant data billready filters nor reference data is refused, so no new query can leak rows by
    forgetting to be listed here.
    """
    from billready.errors import QueryError
    from billready.semantic import format_sql

    own = dict(params or {})
    restricted = scope is not None and scope.is_restricted
    if filters.is_empty() and not restricted:
        return sql, own
    tree = sqlglot.parse_one(sql, read="duckdb")
    cte_names = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    needed: set[tuple[str, str]] = set()
    tables = [t for t in tree.find_all(exp.Table) if t.name.lower() not in cte_names or t.db]
    for table in tables:
        key = _table_key(table)
        if key in TENANT_TABLES:
            needed.add(key)
        elif restricted and (key[0], None) not in _REFERENCE_OK and key not in _REFERENCE_OK:
            raise QueryError(f"{key[0]}.{key[1]} is not available to a scoped viewer")
    ctes = _ctes(filters, scope, needed)
    for table in tables:
        key = _table_key(table)
        if key in TENANT_TABLES:
            alias = table.alias or table.name
            table.replace(exp.to_table(cte_name(key[1])).as_(alias))
    added = [
        exp.CTE(this=sqlglot.parse_one(body, read="duckdb"), alias=exp.TableAlias(this=exp.to_identifier(name)))
        for name, body in ctes.items()
    ]
    existing = tree.args.get("with_")
    if existing is not None:
        existing.set("expressions", added + list(existing.expressions))
    else:
        tree.set("with_", exp.With(expressions=added))
    text = format_sql(tree.sql(dialect="duckdb"))
    values = {**parameters(filters, scope), **own}
    used = {placeholder.name for placeholder in sqlglot.parse_one(text, read="duckdb").find_all(exp.Placeholder)}
    return text, {name: value for name, value in values.items() if name in used}
