"""The benchmark (bench/, docs/performance.md) at a tiny size, so it cannot rot.

One run of ``python -m bench`` on a 300-milestone synthetic tenant (one full refresh, check and
every report panel, the pandas peer, the one-pass lower bound, and a refresh from a delta export;
dbt's fixed-cost build is skipped: it is the same refresh on empty files, covered below without
dbt). The equal-results check is shown to be real: a peer fed a perturbed export, or a perturbed
result, fails it.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from bench import datasets, targets
from bench.cli import main, table
from bench.compare import ResultMismatch, assert_equal_results, differences
from bench.peers import pandas_peer
from bench.render import markdown
from bench.steps import panel_methods
from billready import settings
from billready.ingest import ingest_directory

SIZE = "T"


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("bench")
    out = root / "results.json"
    code = main([
        "--sizes", f"{SIZE}=300", "--skip", "fixed", "--incremental", "delta",
        "--repeats", "2", "--check-repeats", "1", "--workdir", str(root / "work"), "--out", str(out),
    ])
    results = json.loads(out.read_text())
    results["exit_code"] = code
    results["printed"] = out.with_suffix(".txt").read_text()
    return results


@pytest.fixture(scope="module")
def export(bench_run: dict[str, Any]) -> Path:
    return Path(bench_run["sizes"][SIZE]["export"]["directory"])


def test_the_benchmark_runs_every_step_and_the_peer_agrees(bench_run: dict[str, Any]) -> None:
    assert bench_run["exit_code"] == 0, bench_run["errors"]
    assert bench_run["errors"] == []
    assert bench_run["equal_results"] == {SIZE: True}
    size = bench_run["sizes"][SIZE]
    assert size["export"]["milestones"] == 300
    phases = size["refresh"]["phases"]
    assert set(phases) == {"copy", "ingest", "build", "checkpoint", "publish"}  # build: dbt source freshness + build
    assert all(seconds >= 0 for seconds in phases.values()) and phases["build"] > 0
    assert size["refresh"]["dbt"]["slowest"] and size["refresh"]["peak_rss_bytes"] > 0
    assert size["serve"]["figures"]["kpis"]["total_milestones"] == 256
    report = size["serve"]["report"]
    assert set(report) == set(panel_methods()) and "kpi_overview" in report
    assert all(timing["runs"] == 2 and timing["p95_ms"] >= timing["p50_ms"] > 0 for timing in report.values())
    assert size["pandas"]["equal"] and size["pandas"]["total_s"] > 0
    assert size["onepass"]["tables"]["ticketcharges"]["rows"] == size["export"]["rows"]["TicketCharges"]
    delta = size["incremental"]["delta"]
    assert delta["charge_total_matches"], (delta["refresh"]["charge_total"], delta["expected_charge_total"])
    assert delta["ratio_to_full"] > 0
    machine = bench_run["machine"]
    assert machine["cpu_count"] and machine["memory_bytes"] and machine["versions"]["duckdb"]
    assert len(machine["load_average"]) == 3
    assert bench_run["config"]["environment"]["BILLREADY_DUCKDB_MEMORY_LIMIT"] == "3GB"
    names = [target["name"] for target in bench_run["targets"]]
    assert names == ["build_vs_one_pass", "kpis_vs_pandas", "report_p95", "peak_memory", "linear_growth"]
    rendered = table({key: value for key, value in bench_run.items() if key != "printed"})
    assert "report panel, warm p50 / p95 (ms)" in rendered and "targets" in rendered
    assert bench_run["printed"] == rendered + "\n"  # the .txt beside the JSON is the printed table
    assert "| target | bound | measured ratio | result | detail |" in markdown(bench_run)


def test_a_peer_reading_a_perturbed_export_fails_the_equality_check(
    bench_run: dict[str, Any], export: Path, tmp_path: Path
) -> None:
    billready = bench_run["sizes"][SIZE]["serve"]["figures"]
    assert differences(billready, pandas_peer(export).figures()) == []
    perturbed = tmp_path / "perturbed"
    perturbed.mkdir()
    for path in export.glob("*.parquet"):
        (perturbed / path.name).write_bytes(path.read_bytes())
    milestones = pq.read_table(perturbed / "ContractMilestones.parquet")
    column = milestones.column_names.index("billingCodeID")
    milestones = milestones.set_column(column, "billingCodeID", pa.nulls(milestones.num_rows, pa.int64()))
    pq.write_table(milestones, perturbed / "ContractMilestones.parquet")
    with pytest.raises(ResultMismatch, match="rules.missing_allocation_code"):
        assert_equal_results(billready, pandas_peer(perturbed).figures())


def test_a_perturbed_peer_result_fails_the_equality_check(bench_run: dict[str, Any]) -> None:
    billready = bench_run["sizes"][SIZE]["serve"]["figures"]
    peer = json.loads(json.dumps(bench_run["sizes"][SIZE]["pandas"]["figures"]))
    assert_equal_results(billready, peer)
    peer["kpis"]["revenue_at_risk"] += 0.01
    peer["charges_by_allocation"]["project"] -= 1
    with pytest.raises(ResultMismatch) as raised:
        assert_equal_results(billready, peer)
    assert "kpis.revenue_at_risk" in str(raised.value) and "charges_by_allocation.project" in str(raised.value)


def test_the_pandas_peer_reads_the_demo_export_and_matches_its_published_figures() -> None:
    peer = pandas_peer(settings.demo_export_dir())
    assert peer.kpis == {"total_milestones": 47, "conflicts_found": 5, "revenue_at_risk": 28500.0, "charges_conflicts": 3}
    assert peer.charges_by_allocation == {"contract": 231, "project": 267, "unallocated": 1092}


def test_the_empty_export_has_every_file_and_lands_with_no_rows(export: Path, tmp_path: Path) -> None:
    written = datasets.write_empty_export(export, tmp_path / "empty")
    assert {path.name for path in written} == {path.name for path in export.glob("*.parquet")}
    assert all(pq.ParquetFile(path).metadata.num_rows == 0 for path in written)
    assert pq.read_schema(tmp_path / "empty" / "TicketCharges.parquet") == pq.read_schema(export / "TicketCharges.parquet")
    report = ingest_directory(tmp_path / "empty", tmp_path / "billready.duckdb")
    assert sum(report.rows.values()) == 0


def test_the_changed_exports_change_one_percent_of_the_charges(export: Path, tmp_path: Path) -> None:
    written = datasets.write_changed_exports(export, tmp_path / "changed", tmp_path / "delta")
    for name in ("ProjectCharges", "TicketCharges"):
        before = pq.read_table(export / f"{name}.parquet")
        after = pq.read_table(tmp_path / "changed" / f"{name}.parquet")
        changed = pc.sum(pc.not_equal(before["billableAmount"], after["billableAmount"])).as_py()
        expected = -(-before.num_rows // datasets.CHANGE_EVERY)
        assert changed == written["files"][name]["changed"] == expected
        assert pq.ParquetFile(tmp_path / "delta" / f"{name}.parquet").metadata.num_rows == written["files"][name]["delta"]
    assert (tmp_path / "changed" / "ContractMilestones.parquet").read_bytes() == (export / "ContractMilestones.parquet").read_bytes()
    assert not (tmp_path / "delta" / "ContractMilestones.parquet").exists()
    assert written["charge_total_after_delta"] > written["charge_total_after_changed"]


def _size(ingest: float, build: float, pandas_s: float, onepass: float, p95: float, peak_gib: float) -> dict[str, Any]:
    return {
        "is_demo": False,
        "export": {"charges": 1},
        "refresh": {"phases": {"ingest": ingest, "build": build}, "total_s": ingest + build,
                    "peak_rss_bytes": int(peak_gib * 2**30)},
        "serve": {"report": {"kpi_overview": {"p95_ms": p95}}, "peak_rss_bytes": 2**28},
        "pandas": {"total_s": pandas_s},
        "onepass": {"seconds": onepass},
    }


def test_targets_are_ratios_with_pass_and_miss() -> None:
    results = {
        "fixed_cost": {"phases": {"build": 10.0}},
        "sizes": {"M": _size(2, 12, 40, 1, 50, 1), "L": _size(20, 60, 100, 10, 150, 5)},
    }
    evaluated = {target.name: target for target in targets.evaluate(results)}
    assert evaluated["build_vs_one_pass"].ratio == 5.0 and not evaluated["build_vs_one_pass"].passed
    assert evaluated["kpis_vs_pandas"].ratio == 1.429 and not evaluated["kpis_vs_pandas"].passed
    assert evaluated["report_p95"].ratio == 1.5 and "kpi_overview 150 ms" in evaluated["report_p95"].detail
    assert evaluated["peak_memory"].ratio == 1.25 and not evaluated["peak_memory"].passed
    assert evaluated["linear_growth"].ratio == 17.5 and not evaluated["linear_growth"].passed
    assert "build less fixed 25.0x (2.0 s at M)" in evaluated["linear_growth"].detail
    # M's build within the fixed cost's spread: M counts its ingest alone, said so, not divided by 0
    results["sizes"] = {"M": _size(2, 9, 40, 1, 50, 1), "L": _size(20, 60, 100, 10, 150, 5)}
    growth = next(target for target in targets.evaluate(results) if target.name == "linear_growth")
    assert growth.ratio == 35.0 and "M counts its ingest alone" in growth.detail
    results["sizes"] = {"M": _size(2, 12, 40, 1, 50, 1)}
    evaluated = {target.name: target for target in targets.evaluate(results)}
    assert evaluated["build_vs_one_pass"].passed and "evaluated at M" in evaluated["build_vs_one_pass"].detail
    assert evaluated["kpis_vs_pandas"].passed and evaluated["linear_growth"].passed is None
