"""Report filters, per-client scope and drill-through over the demo warehouse.

Expected figures are computed here straight from the marts with plain pandas, independently of
billready.filters, so a filter that leaks rows or drops them fails.
"""
from __future__ import annotations

import datetime

import pandas as pd
import pytest

from billready.access import Scope
from billready.errors import FilterError, NotInViewError, QueryError
from billready.filters import ReportFilters, apply
from billready.report import Report
from billready.semantic import format_sql

HOSTILE = [
    "x'; drop table marts.bi_charges; --",
    "approved' or '1'='1",
    "$company_ids",
    "); select * from raw_autotask.Companies; --",
]


def marts(report: Report, table: str) -> pd.DataFrame:
    return report.warehouse.connection.execute(f"select * from marts.{table}").fetchdf()


def kpis(report: Report) -> dict[str, float]:
    row = report.kpi_overview().result.frame.iloc[0]
    return {key: float(row[key]) for key in ("total_milestones", "conflicts_found", "revenue_at_risk", "charges_conflicts")}


def expected_kpis(milestones: pd.DataFrame, charges: pd.DataFrame) -> dict[str, float]:
    pipeline = milestones[milestones["is_in_pipeline"]]
    conflicted = milestones[milestones["has_conflict"]]
    return {
        "total_milestones": float(len(pipeline)),
        "conflicts_found": float(len(conflicted)),
        "revenue_at_risk": float(conflicted["amount"].sum()),
        "charges_conflicts": float(charges["is_contract_conflict"].sum()),
    }


@pytest.fixture()
def companies(demo_report: Report) -> pd.DataFrame:
    return demo_report.filter_options().companies


def test_no_filter_leaves_the_sql_untouched(demo_report: Report) -> None:
    sql = demo_report.semantic.compile(demo_report.kpi_overview().result.request)
    assert demo_report.kpi_overview().result.sql == sql
    assert demo_report.kpi_overview().result.parameters == {}


def test_company_filter_matches_the_marts(demo_report: Report, companies: pd.DataFrame) -> None:
    milestones, charges = marts(demo_report, "bi_contract_milestones"), marts(demo_report, "bi_charges")
    for company_id in companies["company_id"]:
        filtered = demo_report.with_filters(ReportFilters(company_ids=(int(company_id),)))
        assert kpis(filtered) == expected_kpis(
            milestones[milestones["company_id"] == company_id], charges[charges["company_id"] == company_id]
        ), company_id


def test_company_filters_partition_the_pipeline(demo_report: Report, companies: pd.DataFrame) -> None:
    """Summed over every company, the filtered KPIs give the unfiltered ones (the demo has no
    milestone without a company)."""
    total = {key: 0.0 for key in kpis(demo_report)}
    for company_id in companies["company_id"]:
        for key, value in kpis(demo_report.with_filters(ReportFilters(company_ids=(int(company_id),)))).items():
            total[key] += value
    unfiltered = kpis(demo_report)
    assert {key: total[key] for key in ("total_milestones", "conflicts_found", "revenue_at_risk")} == {
        key: unfiltered[key] for key in ("total_milestones", "conflicts_found", "revenue_at_risk")
    }


def test_stage_and_due_filters_select_milestones(demo_report: Report) -> None:
    milestones = marts(demo_report, "bi_contract_milestones")
    filters = ReportFilters(stages=("approved", "complete"), due_from="2026-09-01", due_to="2026-12-31")
    report = demo_report.with_filters(filters)
    selected = milestones[
        milestones["stage"].isin(["approved", "complete"])
        & (milestones["due_date"] >= pd.Timestamp("2026-09-01"))
        & (milestones["due_date"] <= pd.Timestamp("2026-12-31"))
    ]
    assert len(selected) > 0
    status = report.status_breakdown().result.frame.set_index("stage")
    assert int(status["total_milestones"].sum()) == int(selected["is_in_pipeline"].sum())
    assert set(status.index[status["total_milestones"] > 0]) <= {"approved", "complete"}
    actions = report.action_list().result.frame
    assert set(actions["milestone_id"]) == set(selected.loc[selected["has_conflict"], "milestone_id"])


def test_rule_filter_keeps_milestones_with_that_rule(demo_report: Report) -> None:
    findings = marts(demo_report, "bi_findings")
    report = demo_report.with_filters(ReportFilters(rule_codes=("missing_allocation_code",)))
    flagged = set(findings.loc[findings["rule_code"] == "missing_allocation_code", "milestone_id"])
    assert flagged
    assert set(report.action_list().result.frame["milestone_id"]) <= flagged
    assert set(report.findings_action_list().result.frame["rule_code"]) == {"missing_allocation_code"}
    causes = report.conflict_causes().result.frame.set_index("rule_code")
    assert causes.loc["missing_allocation_code", "rule_conflicts"] == len(flagged)


def test_filtered_sql_is_what_ran(demo_report: Report, companies: pd.DataFrame) -> None:
    report = demo_report.with_filters(
        ReportFilters(company_ids=tuple(int(c) for c in companies["company_id"][:3]), stages=("approved",))
    )
    for panel in report.panels():
        result = panel.result
        assert format_sql(result.sql) == result.sql, panel.key
        rerun = report.warehouse.connection.execute(result.sql, result.parameters or None).fetchdf()
        pd.testing.assert_frame_equal(rerun, result.frame, obj=panel.key)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_text_is_only_a_bound_value(demo_report: Report, hostile: str) -> None:
    report = demo_report.with_filters(ReportFilters(stages=(hostile,), rule_codes=(hostile,)))
    for panel in report.panels():
        assert hostile not in panel.result.sql, panel.key
    kpi = report.kpi_overview().result
    assert kpi.parameters["stages"] == [hostile]
    assert float(kpi.frame.iloc[0]["total_milestones"]) == 0
    assert len(report.action_list().result.frame) == 0
    # Nothing was dropped or changed.
    assert len(marts(demo_report, "bi_charges")) > 0
    with pytest.raises(NotInViewError):
        demo_report.rule_detail(hostile)


@pytest.mark.parametrize("bad", ["1; drop table x", "1 or 1=1", "abc"])
def test_ids_must_be_numbers(bad: str) -> None:
    with pytest.raises(FilterError, match="company"):
        ReportFilters(company_ids=(bad,))


def test_dates_and_ranges_are_checked() -> None:
    with pytest.raises(FilterError, match="not a date"):
        ReportFilters(due_from="2026-02-30")
    with pytest.raises(FilterError, match="empty"):
        ReportFilters(due_from="2026-03-01", due_to="2026-02-01")


def test_query_params_round_trip() -> None:
    filters = ReportFilters(
        company_ids=(3, 1), project_ids=(7,), contract_ids=(9,), stages=("approved",),
        rule_codes=("missing_allocation_code",), due_from=datetime.date(2026, 1, 1), due_to="2026-12-31",
    )
    params = filters.to_query_params()
    assert params["company"] == ["1", "3"]
    assert ReportFilters.from_query_params(params) == filters
    assert ReportFilters.from_query_params({}) == ReportFilters()
    with pytest.raises(FilterError):
        ReportFilters.from_query_params({"project": ["seven"]})


# Per-client scope -------------------------------------------------------------------------------


def test_scoped_viewer_sees_only_their_companies(demo_report: Report, companies: pd.DataFrame) -> None:
    allowed = companies.iloc[:2]
    scope = Scope(frozenset(int(c) for c in allowed["company_id"]))
    report = Report(demo_report.warehouse, scope=scope)
    names = set(allowed["company_name"])
    milestones = marts(demo_report, "bi_contract_milestones")
    charges = marts(demo_report, "bi_charges")
    in_scope = milestones[milestones["company_id"].isin(scope.company_ids)]
    assert kpis(report) == expected_kpis(in_scope, charges[charges["company_id"].isin(scope.company_ids)])
    for panel in report.panels():
        frame = panel.result.frame
        if "company_name" in frame:
            assert set(frame["company_name"].dropna()) <= names, panel.key
        if "milestone__company_name" in frame:
            assert set(frame["milestone__company_name"].dropna()) <= names, panel.key
        if "milestone_id" in frame:
            assert set(frame["milestone_id"].dropna()) <= set(in_scope["milestone_id"]), panel.key
    options = report.filter_options()
    assert set(options.companies["company_id"]) == set(scope.company_ids)
    assert set(options.projects["company_id"]) <= set(scope.company_ids)


def test_filters_cannot_widen_a_scope(demo_report: Report, companies: pd.DataFrame) -> None:
    inside, outside = int(companies["company_id"].iloc[0]), int(companies["company_id"].iloc[-1])
    report = Report(demo_report.warehouse, ReportFilters(company_ids=(outside,)), Scope(frozenset({inside})))
    assert kpis(report)["total_milestones"] == 0
    assert report.findings_action_list().result.frame.empty


def test_scoped_viewer_cannot_drill_into_another_company(demo_report: Report, companies: pd.DataFrame) -> None:
    milestones = marts(demo_report, "bi_contract_milestones")
    inside = int(companies["company_id"].iloc[0])
    report = Report(demo_report.warehouse, scope=Scope(frozenset({inside})))
    foreign = milestones[milestones["company_id"] != inside].iloc[0]
    with pytest.raises(NotInViewError):
        report.milestone_detail(int(foreign["milestone_id"]))
    with pytest.raises(NotInViewError):
        report.project_detail(int(foreign["project_id"]))
    rule = report.rule_detail("charge_contract_mismatch")
    for panel in rule.panels:
        if "company_name" in panel.result.frame:
            assert set(panel.result.frame["company_name"].dropna()) <= set(companies["company_name"].iloc[:1])
    own = milestones[milestones["company_id"] == inside].iloc[0]
    detail = report.milestone_detail(int(own["milestone_id"]))
    assert detail.panel("detail_milestones").result.frame["milestone_id"].tolist() == [own["milestone_id"]]


def test_a_scoped_query_of_an_unlisted_table_is_refused() -> None:
    scope = Scope(frozenset({1}))
    with pytest.raises(QueryError, match="not available"):
        apply("select * from raw_autotask.ContractMilestones", ReportFilters(), scope)
    with pytest.raises(QueryError, match="not available"):
        apply("select * from bi_charges", ReportFilters(), scope)
    sql, params = apply("select count(*) from marts.bi_charges", ReportFilters(), scope)
    assert "$scope_company_ids" in sql and params == {"scope_company_ids": [1]}


# Drill-through ----------------------------------------------------------------------------------


def test_milestone_detail(demo_report: Report) -> None:
    findings = marts(demo_report, "bi_findings")
    milestone_id = int(demo_report.action_list().result.frame["milestone_id"].iloc[0])
    detail = demo_report.milestone_detail(milestone_id)
    assert detail.kind == "milestone" and detail.summary["milestone_id"] == milestone_id
    shown = detail.panel("detail_findings").result.frame
    own = findings[findings["milestone_id"] == milestone_id]
    assert set(own["finding_id"].str.cat(sep="|").split("|")) and set(own["rule_code"]) <= set(shown["rule_code"])
    assert shown["fix_title"].notna().all() and shown["fix_steps"].notna().all()
    charges = detail.panel("detail_charges").result.frame
    assert set(charges["allocation_target"]) <= {"contract", "project", "unallocated"}
    assert detail.panel("detail_contracts").result.frame["contract_id"].notna().all()
    assert detail.panel("detail_milestones").result.parameters == {"milestone_id": milestone_id}


def test_project_detail_holds_the_projects_rows(demo_report: Report) -> None:
    milestones = marts(demo_report, "bi_contract_milestones")
    charges = marts(demo_report, "bi_charges")
    project_id = int(milestones.loc[milestones["has_conflict"], "project_id"].dropna().iloc[0])
    detail = demo_report.project_detail(project_id)
    assert set(detail.panel("detail_milestones").result.frame["milestone_id"]) == set(
        milestones.loc[milestones["project_id"] == project_id, "milestone_id"]
    )
    assert set(detail.panel("detail_charges").result.frame["charge_id"]) == set(
        charges.loc[charges["project_id"] == project_id, "charge_id"]
    )


def test_rule_detail_lists_the_rules_findings(demo_report: Report) -> None:
    findings = marts(demo_report, "bi_findings")
    detail = demo_report.rule_detail("service_on_other_contract")
    assert detail.summary["fix_title"]
    shown = detail.panel("detail_findings").result.frame
    assert set(shown["rule_code"]) == {"service_on_other_contract"}
    assert len(shown) == int((findings["rule_code"] == "service_on_other_contract").sum())
    assert set(detail.panel("detail_charges").result.frame["charge_id"]) >= set(shown["charge_id"])


def test_unknown_drill_targets_are_not_in_view(demo_report: Report) -> None:
    with pytest.raises(NotInViewError):
        demo_report.milestone_detail(123456789)
    with pytest.raises(NotInViewError):
        demo_report.milestone_detail("12; drop table x")  # type: ignore[arg-type]
    with pytest.raises(NotInViewError):
        demo_report.rule_detail("no_such_rule")
