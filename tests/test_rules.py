"""The rule catalogue over the demo: every rule finds its case, every rule is evaluated, and a
warehouse without the optional inputs reports their rules as "not evaluated", not "0 found"."""
from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pandas
import pytest

from billready import settings
from billready.autotask import OPTIONAL_ENTITIES
from billready.cli import main
from billready.semantic import Warehouse

SEEDS = settings.project_dir() / "seeds"
OPTIONAL_INPUT_RULES = {
    "allocation_percent_not_100": "not landed: MilestoneAllocations",
    "allocation_amount_mismatch": "not landed: MilestoneAllocations",
    "completion_over_100": "not landed: MilestoneAllocations",
    "split_not_100": "not landed: MilestoneSplits",
    "amount_differs_from_agreement": "not landed: AgreementMilestones",
    "acceptance_missing": "not landed: AgreementMilestones, MilestoneAcceptances",
    "agreement_milestone_missing": "not landed: AgreementMilestones",
}
# The demo's findings per rule as of settings.DEMO_AS_OF (demo/README.md, "Every other rule").
DEMO_FINDINGS = {
    "contract_reference_mismatch": 2,
    "missing_allocation_code": 2,
    "charge_contract_mismatch": 1,
    "project_without_contract": 1,
    "ready_before_due": 1,
    "approved_not_posted": 3,
    "out_of_sequence": 1,
    "billed_without_posting": 1,
    "double_billed": 1,
    "posted_to_other_contract": 1,
    "contract_not_fixed_price": 2,
    "milestones_exceed_contract_value": 3,
    "service_on_other_contract": 3,
    "allocation_percent_not_100": 1,
    "allocation_amount_mismatch": 1,
    "completion_over_100": 1,
    "split_not_100": 1,
    "amount_differs_from_agreement": 1,
    "acceptance_missing": 1,
    "agreement_milestone_missing": 1,
}


def _rows(warehouse: Path, sql: str) -> list[dict]:
    with Warehouse(warehouse) as connection:
        return connection.query(sql).frame.to_dict("records")


def _catalogue() -> list[dict]:
    with (SEEDS / "conflict_rules.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_every_catalogue_rule_has_a_finding_in_the_demo(demo_warehouse: Path) -> None:
    rows = _rows(
        demo_warehouse,
        """
        select conflict_rules.rule_code, count(bi_findings.finding_id) as findings
        from reference.conflict_rules as conflict_rules
        left join marts.bi_findings as bi_findings
            on conflict_rules.rule_code = bi_findings.rule_code
        group by conflict_rules.rule_code
        """,
    )
    counts = {row["rule_code"]: int(row["findings"]) for row in rows}
    assert set(counts) == {rule["rule_code"] for rule in _catalogue()}
    assert all(count >= 1 for count in counts.values()), counts
    assert counts == DEMO_FINDINGS


def test_every_rule_is_evaluated_on_the_demo(demo_warehouse: Path) -> None:
    rows = _rows(demo_warehouse, "select rule_code, is_evaluated, not_evaluated_reason from marts.bi_rule_status")
    assert len(rows) == len(_catalogue())
    assert [row for row in rows if not row["is_evaluated"] or row["not_evaluated_reason"]] == []


def test_allocation_findings_alone_are_the_reference_conflicts(demo_warehouse: Path) -> None:
    """The four allocation rules feed the published figures; the other categories do not."""
    (allocation,) = _rows(
        demo_warehouse,
        """
        select count(distinct milestone_id) as milestones, count(*) as findings
        from marts.bi_findings where category = 'allocation'
        """,
    )
    assert (int(allocation["milestones"]), int(allocation["findings"])) == (5, 6)
    (conflicts,) = _rows(
        demo_warehouse,
        """
        select count(*) as findings, count(distinct milestone_id) as milestones
        from marts.bi_milestone_conflicts
        """,
    )
    assert (int(conflicts["findings"]), int(conflicts["milestones"])) == (6, 5)
    (kpis,) = _rows(
        demo_warehouse,
        """
        select count(*) as conflicts_found, sum(amount) as revenue_at_risk
        from marts.bi_contract_milestones where has_conflict
        """,
    )
    assert (int(kpis["conflicts_found"]), float(kpis["revenue_at_risk"])) == (5, 28500.0)


def test_action_list_orders_by_stage_then_severity_then_amount(demo_warehouse: Path) -> None:
    rows = _rows(
        demo_warehouse,
        "select action_rank, stage_priority, severity_rank, amount from marts.bi_findings order by action_rank",
    )
    assert [int(row["action_rank"]) for row in rows] == list(range(1, len(rows) + 1))
    keys = [
        (
            6 if pandas.isna(row["stage_priority"]) else int(row["stage_priority"]),  # no milestone: last
            int(row["severity_rank"]),
            -float(row["amount"]),
        )
        for row in rows
    ]
    assert keys == sorted(keys)


def test_charge_mart_flags_charges_on_another_contracts_service(demo_warehouse: Path) -> None:
    (row,) = _rows(
        demo_warehouse,
        "select count(*) as charges from marts.bi_charges where has_service_on_other_contract",
    )
    assert int(row["charges"]) == DEMO_FINDINGS["service_on_other_contract"]


def test_optional_inputs_seed_lists_the_catalogues_optional_entities() -> None:
    with (SEEDS / "optional_inputs.csv").open(encoding="utf-8", newline="") as handle:
        names = [row["input_name"] for row in csv.DictReader(handle)]
    assert names == list(OPTIONAL_ENTITIES)
    needed = {
        name
        for rule in _catalogue()
        for name in (rule["required_input"] or "").split("|")
        if name
    }
    assert needed == set(OPTIONAL_ENTITIES)


def test_without_optional_inputs_their_rules_are_not_evaluated(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    export = tmp_path / "export"
    shutil.copytree(settings.demo_export_dir(), export)
    for name in OPTIONAL_ENTITIES:
        (export / f"{name}.csv").unlink()
    warehouse = tmp_path / "warehouse"
    assert main(["--warehouse", str(warehouse), "ingest", str(export)]) == 0
    as_of = settings.DEMO_AS_OF.isoformat()
    assert main(["--warehouse", str(warehouse), "build", "--quiet", "--as-of", as_of]) == 0
    capsys.readouterr()

    status = {
        row["rule_code"]: (bool(row["is_evaluated"]), row["not_evaluated_reason"])
        for row in _rows(warehouse, "select * from marts.bi_rule_status")
    }
    assert {code: reason for code, (evaluated, reason) in status.items() if not evaluated} == (
        OPTIONAL_INPUT_RULES
    )
    assert all(evaluated for code, (evaluated, _) in status.items() if code not in OPTIONAL_INPUT_RULES)
    found = {row["rule_code"] for row in _rows(warehouse, "select distinct rule_code from marts.bi_findings")}
    assert found.isdisjoint(OPTIONAL_INPUT_RULES)
    assert found == set(DEMO_FINDINGS) - set(OPTIONAL_INPUT_RULES)
