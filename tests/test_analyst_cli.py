"""The analysts' CLI: `metrics`, `query` and `sql`, read-only against the built warehouse."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from billready import settings
from billready.cli import main


def _run(capsys: pytest.CaptureFixture[str], warehouse: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--warehouse", str(warehouse), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _mart(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(settings.database_path(warehouse)), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def test_metrics_lists_metrics_saved_queries_and_dimensions(capsys: pytest.CaptureFixture[str], demo_warehouse: Path) -> None:
    code, out, _ = _run(capsys, demo_warehouse, "metrics", "--format", "json")
    assert code == 0
    listed = json.loads(out)
    metrics = {metric["name"]: metric for metric in listed["metrics"]}
    assert {"total_milestones", "conflicts_found", "revenue_at_risk", "charges_conflicts", "conflict_rate",
            "approved_overdue_milestones", "approved_overdue_amount", "pipeline_amount"} <= set(metrics)
    assert all(metric["description"] for metric in metrics.values())
    assert "milestone__stage" in metrics["revenue_at_risk"]["dimensions"]
    assert {saved["name"] for saved in listed["saved_queries"]} >= {"kpi_overview", "status_breakdown", "due_month_trend"}
    assert all(dimension["description"] for dimension in listed["dimensions"])


def test_query_equals_direct_aggregates_of_the_marts(capsys: pytest.CaptureFixture[str], demo_warehouse: Path) -> None:
    code, out, _ = _run(capsys, demo_warehouse, "query", "--metrics", "total_milestones,pipeline_amount,revenue_at_risk",
                        "--group-by", "milestone__stage", "--order", "milestone__stage", "--format", "json")
    assert code == 0
    got = [(row["milestone__stage"], row["total_milestones"], row["pipeline_amount"], row["revenue_at_risk"]) for row in json.loads(out)]
    expected = _mart(demo_warehouse, """
        select stage, count(*), sum(amount), coalesce(sum(amount) filter (where has_conflict), 0)
        from marts.bi_contract_milestones where is_in_pipeline group by stage order by stage""")
    assert got == [(stage, count, float(amount), float(risk)) for stage, count, amount, risk in expected]


def test_query_overdue_rate_and_trend_equal_the_marts(capsys: pytest.CaptureFixture[str], demo_warehouse: Path) -> None:
    code, out, _ = _run(capsys, demo_warehouse, "query", "--saved-query", "kpi_overview", "--format", "json")
    kpis = json.loads(out)[0]
    [(pipeline, conflicted)] = _mart(demo_warehouse, "select count(*) filter (where is_in_pipeline), count(*) filter (where has_conflict) from marts.bi_contract_milestones")
    assert kpis["conflict_rate"] == pytest.approx(conflicted / pipeline)

    code, out, _ = _run(capsys, demo_warehouse, "query", "--saved-query", "overdue_approved", "--format", "json")
    overdue = json.loads(out)[0]
    [(count, amount)] = _mart(demo_warehouse, f"""
        select count(*), coalesce(sum(amount), 0) from marts.bi_contract_milestones
        where stage = 'approved' and due_date < date '{settings.DEMO_AS_OF}'""")
    assert (overdue["approved_overdue_milestones"], overdue["approved_overdue_amount"]) == (count, float(amount))

    code, out, _ = _run(capsys, demo_warehouse, "query", "--saved-query", "due_month_trend", "--format", "json")
    trend = [(row["metric_time__month"], row["total_milestones"], row["pipeline_amount"]) for row in json.loads(out)]
    expected = _mart(demo_warehouse, """
        select strftime(date_trunc('month', due_date), '%Y-%m-%d'), count(*), sum(amount)
        from marts.bi_contract_milestones where is_in_pipeline and due_date is not null group by 1 order by 1""")
    assert trend == [(month, count, float(amount)) for month, count, amount in expected]


def test_query_with_a_filter(capsys: pytest.CaptureFixture[str], demo_warehouse: Path) -> None:
    code, out, _ = _run(capsys, demo_warehouse, "query", "--metrics", "revenue_at_risk", "--format", "csv",
                        "--where", "{{ Dimension('milestone__stage') }} = 'approved'")
    assert code == 0
    [(expected,)] = _mart(demo_warehouse, "select sum(amount) from marts.bi_contract_milestones where stage = 'approved' and has_conflict")
    assert out.splitlines() == ["revenue_at_risk", str(int(expected))]


def test_explain_prints_sql_and_touches_nothing(capsys: pytest.CaptureFixture[str], demo_warehouse: Path, tmp_path: Path) -> None:
    """Only the semantic manifest is read: with no DuckDB file at all, --explain still works and creates none."""
    manifest_only = tmp_path / "manifest-only"
    shutil.copytree(settings.dbt_target_dir(demo_warehouse), settings.dbt_target_dir(manifest_only))
    code, out, _ = _run(capsys, manifest_only, "query", "--metrics", "revenue_at_risk", "--group-by", "milestone__stage", "--explain")
    assert code == 0
    assert "bi_contract_milestones" in out and out.lstrip().upper().startswith(("SELECT", "WITH", "/*"))
    assert not settings.database_path(manifest_only).exists()
    code, out, _ = _run(capsys, manifest_only, "query", "--saved-query", "kpi_overview", "--dialect", "bigquery")
    assert code == 0
    assert "`billready`.`marts`.`bi_contract_milestones`" in out


def test_query_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], demo_warehouse: Path) -> None:
    assert _run(capsys, demo_warehouse, "query", "--metrics", "no_such_metric")[0] == 2
    code, _, err = _run(capsys, demo_warehouse, "query")
    assert code == 2 and "--metrics" in err
    code, _, err = _run(capsys, demo_warehouse, "query", "--saved-query", "nope")
    assert code == 2 and "no saved query named 'nope'" in err


def test_sql_runs_read_only_queries(capsys: pytest.CaptureFixture[str], demo_warehouse: Path) -> None:
    code, out, _ = _run(capsys, demo_warehouse, "sql", "select count(*) as n from marts.bi_charges", "--format", "csv")
    assert code == 0 and out.split() == ["n", "1590"]


@pytest.mark.parametrize(
    "statement",
    [
        "delete from marts.bi_charges",
        "drop table marts.bi_contract_milestones",
        "create table marts.x as select 1",
        "insert into marts.bi_charges select * from marts.bi_charges",
        "update marts.bi_contract_milestones set amount = 0",
        "select 1; delete from marts.bi_charges",
        "copy marts.bi_charges to '/tmp/billready-leak.csv'",
        "attach '/tmp/other.duckdb' as other",
        "select * from read_csv('/etc/passwd')",
    ],
)
def test_sql_refuses_writes_and_file_access(capsys: pytest.CaptureFixture[str], demo_warehouse: Path, statement: str) -> None:
    before = _mart(demo_warehouse, "select count(*), sum(amount) from marts.bi_contract_milestones")
    code, out, err = _run(capsys, demo_warehouse, "sql", statement)
    assert code == 2
    assert err.startswith("error: ")
    assert _mart(demo_warehouse, "select count(*), sum(amount) from marts.bi_contract_milestones") == before
    assert not Path("/tmp/billready-leak.csv").exists()
