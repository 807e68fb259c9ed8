"""The synthetic tenant generator: deterministic, demo-shaped, ingestable. Fast: no dbt build.

That a build of a synthetic tenant shows exactly the planned figures (conflicts per rule, charge
conflicts, revenue at risk) is asserted in the Spark lane (tests/spark), which builds one on
DuckDB and on Spark.
"""
from __future__ import annotations

import collections
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from billready.cli import main
from billready.errors import UsageError
from billready.ingest import ingest_directory
from billready.synth import DEMO_CHARGES, SynthSummary, generate

ENTITY_FILES = {
    "Companies", "BillingCodes", "Contracts", "ContractServices", "Projects", "ContractMilestones",
    "BillingItems", "Tickets", "ProjectCharges", "ContractCharges", "TicketCharges", "Picklists",
}


@pytest.fixture(scope="module")
def tenant(tmp_path_factory: pytest.TempPathFactory) -> SynthSummary:
    """550 milestones: ten times the demo, in two chunks per large entity."""
    return generate(tmp_path_factory.mktemp("synth"), milestones=550, seed=11, chunk_rows=10_000)


def _contents(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


def test_same_seed_same_files_other_seed_other_files(tmp_path: Path) -> None:
    first = generate(tmp_path / "a", milestones=120, seed=5)
    again = generate(tmp_path / "b", milestones=120, seed=5)
    other = generate(tmp_path / "c", milestones=120, seed=6)
    assert _contents(tmp_path / "a") == _contents(tmp_path / "b")
    assert first.rule_conflicts == again.rule_conflicts
    assert _contents(tmp_path / "a")["ContractMilestones.parquet"] != _contents(tmp_path / "c")[
        "ContractMilestones.parquet"
    ]
    assert other.stages == first.stages  # proportions do not depend on the seed


def test_demo_size_has_the_demo_shape(tmp_path: Path) -> None:
    summary = generate(tmp_path, milestones=55, seed=1)
    assert summary.stages == {"incomplete": 31, "complete": 12, "approved": 4, "billed": 8}
    assert summary.total_milestones == 47
    assert summary.conflicts_found == 5
    assert summary.charges_by_allocation == {"unallocated": 1092, "project": 267, "contract": 231}
    assert summary.rows["ContractMilestones"] == 55
    assert (summary.rows["Companies"], summary.rows["Contracts"], summary.rows["Tickets"]) == (13, 28, 784)
    charges = summary.rows["ProjectCharges"] + summary.rows["ContractCharges"] + summary.rows["TicketCharges"]
    assert charges == DEMO_CHARGES


def test_proportions_hold_at_ten_times_the_demo(tenant: SynthSummary) -> None:
    assert tenant.stages == {"incomplete": 310, "complete": 120, "approved": 40, "billed": 80}
    assert tenant.charges_by_allocation == {"unallocated": 10920, "project": 2670, "contract": 2310}
    assert set(tenant.rows) == ENTITY_FILES
    assert {p.name for p in tenant.directory.iterdir()} == {f"{e}.parquet" for e in ENTITY_FILES}
    # 5 of 47 pipeline milestones break a rule, in the mix 2 : 2 : 1 : 1
    assert tenant.conflicts_found == 50
    assert tenant.rule_conflicts == {
        "contract_reference_mismatch": 17,
        "missing_allocation_code": 17,
        "charge_contract_mismatch": 8,
        "project_without_contract": 8,
    }
    assert 8 <= tenant.charges_conflicts <= 24  # one to three charges per mismatched milestone
    assert tenant.revenue_at_risk > 0


def test_contracts_exceeded_by_their_milestones_are_the_demos_share(tenant: SynthSummary) -> None:
    """Rule milestones_exceed_contract_value: one fixed-price contract in 15 (the demo's share),
    not every contract whose milestones outgrow a flat value."""
    contracts = pq.read_table(tenant.directory / "Contracts.parquet").to_pandas()
    milestones = pq.read_table(tenant.directory / "ContractMilestones.parquet").to_pandas()
    totals = milestones.groupby("contractID")["amount"].sum()
    fixed = contracts[contracts["contractType"] == 3].set_index("id")
    fixed = fixed[fixed.index.isin(totals.index)]
    exceeded = totals.reindex(fixed.index) > fixed["estimatedRevenue"]
    assert 1 / 30 <= exceeded.mean() <= 2 / 15
    assert (fixed["estimatedRevenue"] > 0).all()


def test_files_match_the_summary(tenant: SynthSummary) -> None:
    milestones = pq.read_table(tenant.directory / "ContractMilestones.parquet")
    by_status = collections.Counter(milestones.column("status").to_pylist())
    assert [by_status[value] for value in (1, 2, 3, 4)] == list(tenant.stages.values())
    assert pc.count_distinct(milestones.column("id")).as_py() == milestones.num_rows
    for entity, count in tenant.rows.items():
        table = pq.read_table(tenant.directory / f"{entity}.parquet")
        assert table.num_rows == count, entity
    # each billed milestone has its posted billing item
    items = pq.read_table(tenant.directory / "BillingItems.parquet")
    assert items.num_rows == tenant.stages["billed"]
    # charges point at records that exist
    tickets = set(pq.read_table(tenant.directory / "Tickets.parquet").column("id").to_pylist())
    ticket_charges = pq.read_table(tenant.directory / "TicketCharges.parquet")
    assert set(ticket_charges.column("ticketID").to_pylist()) <= tickets
    assert pc.count_distinct(ticket_charges.column("id")).as_py() == ticket_charges.num_rows


def test_the_export_lands_and_csv_lands_the_same(tmp_path: Path, tenant: SynthSummary) -> None:
    report = ingest_directory(tenant.directory, tmp_path / "parquet.duckdb")
    assert report.rows["ContractMilestones"] == 550
    assert report.rows["TicketCharges"] == tenant.rows["TicketCharges"]
    csv = generate(tmp_path / "csv", milestones=550, seed=11, file_format="csv", chunk_rows=10_000)
    assert {p.suffix for p in csv.files} == {".csv"}
    assert ingest_directory(csv.directory, tmp_path / "csv.duckdb").rows == report.rows


def test_cli_writes_the_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["synth", "--milestones", "110", "--charges", "500", "--seed", "3", str(tmp_path / "out")])
    assert code == 0
    printed = capsys.readouterr().out
    assert "110" in printed and "pipeline milestones" in printed
    assert (tmp_path / "out" / "ContractMilestones.parquet").exists()


def test_bad_sizes_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        generate(tmp_path, milestones=0)
    with pytest.raises(UsageError):
        generate(tmp_path, milestones=10, charges=-1)
    assert main(["synth", "--milestones", "0", str(tmp_path)]) == 2
