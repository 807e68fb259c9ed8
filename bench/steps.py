"""Benchmark steps, each run in its own process: ``python -m bench.steps NAME --result FILE ...``.

:func:`bench.process.run_step` starts them and samples their memory. Every step writes a JSON
object to ``--result`` with its timings and ``rusage`` (its own and its children's peak memory).

* ``synth``: write a synthetic export (:func:`billready.synth.generate`).
* ``changes``: write the changed and delta exports for the incremental refresh.
* ``refresh``: :func:`billready.refresh.refresh` of an export into a warehouse, timed per phase
  (copy, ingest, source freshness, dbt build, checkpoint, publish) with dbt's run_results.
* ``serve``: ``billready check`` as the CLI runs it (cold: open, compile, query), then warm, then
  every report panel (:class:`billready.report.Report`) after a warm-up, several times each.
* ``pandas``: the pandas peer (:func:`bench.peers.pandas_peer`).
* ``onepass``: the lower bound (:func:`bench.peers.one_pass`).
"""
from __future__ import annotations

import argparse
import datetime
import inspect
import json
import os
import logging
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.machine import load_average, own_peak_rss

logger = logging.getLogger("bench.steps")

TOP_NODES = 15


def _percentile(values: list[float], share: float) -> float:
    """The ``share`` percentile (0-1) with linear interpolation, like numpy's default."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    position = share * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summarise_ms(samples_s: list[float]) -> dict[str, float]:
    """p50, p95 and max of timings given in seconds, in milliseconds."""
    ms = [sample * 1000 for sample in samples_s]
    return {
        "p50_ms": round(_percentile(ms, 0.50), 2),
        "p95_ms": round(_percentile(ms, 0.95), 2),
        "max_ms": round(max(ms), 2),
        "runs": len(ms),
    }


# ------------------------------------------------------------------------------------------------
# Steps


def step_synth(args: argparse.Namespace) -> dict[str, Any]:
    from billready.synth import generate

    started = time.perf_counter()
    summary = generate(Path(args.out), milestones=args.milestones, charges=args.charges, seed=args.seed)
    return {
        "seconds": round(time.perf_counter() - started, 3),
        "rows": summary.rows,
        "planned": {
            "total_milestones": summary.total_milestones,
            "conflicts_found": summary.conflicts_found,
            "rule_conflicts": summary.rule_conflicts,
            "revenue_at_risk": summary.revenue_at_risk,
            "charges_conflicts": summary.charges_conflicts,
            "charges_by_allocation": summary.charges_by_allocation,
        },
    }


def step_changes(args: argparse.Namespace) -> dict[str, Any]:
    from bench.datasets import write_changed_exports

    started = time.perf_counter()
    written = write_changed_exports(Path(args.source), Path(args.changed), Path(args.delta))
    return {"seconds": round(time.perf_counter() - started, 3), **written}


def _run_results_summary(target: Path) -> dict[str, Any]:
    """dbt's own timings: elapsed, per resource type, and the slowest nodes."""
    path = target / "run_results.json"
    if not path.exists():
        return {}
    data = json.loads(path.read_text())
    by_type: dict[str, dict[str, float]] = {}
    nodes = []
    for result in data.get("results", []):
        kind = result["unique_id"].split(".")[0]
        seconds = float(result.get("execution_time") or 0.0)
        entry = by_type.setdefault(kind, {"count": 0, "seconds": 0.0})
        entry["count"] += 1
        entry["seconds"] = round(entry["seconds"] + seconds, 3)
        nodes.append((seconds, result["unique_id"], result.get("status")))
    nodes.sort(reverse=True)
    return {
        "elapsed_s": round(float(data.get("elapsed_time") or 0.0), 3),
        "threads": data.get("args", {}).get("threads"),
        "by_type": by_type,
        "slowest": [{"node": node, "seconds": round(seconds, 3), "status": status} for seconds, node, status in nodes[:TOP_NODES]],
    }


def step_refresh(args: argparse.Namespace) -> dict[str, Any]:
    """A refresh of ``--export`` into ``--warehouse``, timed per phase by wrapping the refresh
    module's own functions (the refresh itself is billready's, unchanged)."""
    import billready.refresh as refresh_module
    from billready.ingest import ingest_directory
    from billready.semantic import Warehouse

    phases: dict[str, float] = {}
    memory: dict[str, int] = {}

    def timed(phase: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*positional: Any, **keywords: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*positional, **keywords)
            finally:
                phases[phase] = round(phases.get(phase, 0.0) + time.perf_counter() - started, 3)
                logger.info("%s: %.1f s", phase, time.perf_counter() - started)
        return wrapper

    # dbt's own peak is not read here: on Linux a child's ru_maxrss starts from its parent's
    # resident size at exec, so only the sampled process tree (bench.process) tells dbt apart.
    # The refresh runs `dbt source freshness` and `dbt build` in one dbt process (one start, one
    # parse): the "build" phase is that whole process.
    timed_dbt = timed("build", refresh_module.run_dbt_commands)

    def land(database: Path) -> Any:
        report = ingest_directory(Path(args.export), database)
        memory["ingest_self_maxrss_bytes"] = own_peak_rss()["self_maxrss_bytes"]
        return report

    refresh_module._prepare_build_copy = timed("copy", refresh_module._prepare_build_copy)
    refresh_module.run_dbt_commands = timed_dbt
    refresh_module._checkpoint = timed("checkpoint", refresh_module._checkpoint)
    refresh_module._publish = timed("publish", refresh_module._publish)
    started = time.perf_counter()
    snapshot = refresh_module.refresh(
        Path(args.warehouse),
        land=timed("ingest", land),
        as_of=datetime.date.fromisoformat(args.as_of) if args.as_of else None,
        quiet=True,
    )
    total = time.perf_counter() - started
    with Warehouse(Path(args.warehouse)) as warehouse:
        charges = warehouse.query(
            "select count(*) as charges, round(sum(billable_amount), 2) as charge_total from marts.bi_charges"
        ).frame.iloc[0]
    return {
        "phases": phases,
        "total_s": round(total, 3),
        "memory": memory,
        "snapshot": snapshot.snapshot_id,
        "database_bytes": snapshot.database.stat().st_size,
        "charges": int(charges["charges"]),
        "charge_total": float(charges["charge_total"] or 0.0),
        "dbt": _run_results_summary(snapshot.directory / "target"),
    }


def panel_methods() -> list[str]:
    """Every Report method that returns a Panel, in the class's order."""
    from billready.report import Report

    names = []
    for name, member in vars(Report).items():
        if name.startswith("_") or not callable(member):
            continue
        if inspect.signature(member).return_annotation in ("Panel", "'Panel'"):
            names.append(name)
    return names


def step_serve(args: argparse.Namespace) -> dict[str, Any]:
    """``check`` cold and warm, then every report panel warm: p50/p95 of the panel call (compile,
    query, fetch) and of its SQL alone (``QueryResult.elapsed_ms``)."""
    from billready.check import run_check
    from billready.report import Report
    from billready.semantic import Warehouse

    warehouse_dir = Path(args.warehouse)
    started = time.perf_counter()
    with Warehouse(warehouse_dir) as warehouse:
        check = run_check(Report(warehouse))
        cold = time.perf_counter() - started
        # What `billready check --format json` adds: every conflicted milestone and finding,
        # streamed to the output.
        started = time.perf_counter()
        with open(os.devnull, "w", encoding="utf-8") as sink:
            check.write_json(sink)
        json_s = time.perf_counter() - started
    result: dict[str, Any] = {"check": {"cold_s": round(cold, 3), "json_s": round(json_s, 3)}}
    with Warehouse(warehouse_dir) as warehouse:
        report = Report(warehouse)
        warm = []
        for _ in range(max(1, args.check_repeats)):
            started = time.perf_counter()
            run_check(report)
            warm.append(time.perf_counter() - started)
        result["check"].update({
            "warm_p50_s": round(statistics.median(warm), 3),
            "milestones": len(check.milestones),
            "findings": len(check.findings),
        })
        panels: dict[str, Any] = {}
        for name in panel_methods():
            method = getattr(report, name)
            for _ in range(args.warmup):
                method()
            calls, sql = [], []
            rows = 0
            for _ in range(args.repeats):
                started = time.perf_counter()
                panel = method()
                calls.append(time.perf_counter() - started)
                sql.append(panel.result.elapsed_ms / 1000)
                rows = len(panel.result.frame)
            sql_summary = summarise_ms(sql)
            panels[name] = {
                **summarise_ms(calls),
                "sql_p50_ms": sql_summary["p50_ms"],
                "sql_p95_ms": sql_summary["p95_ms"],
                "rows": rows,
            }
            logger.info("%s: p50 %.1f ms, p95 %.1f ms, %d rows", name, panels[name]["p50_ms"], panels[name]["p95_ms"], rows)
        causes = report.conflict_causes().result.frame
    result["report"] = panels
    result["figures"] = {
        "kpis": check.kpis,
        "rules": {str(row.rule_code): int(row.rule_conflicts) for row in causes.itertuples()},
        "charges_by_allocation": check.charges_by_allocation,
    }
    return result


def step_pandas(args: argparse.Namespace) -> dict[str, Any]:
    from bench.peers import pandas_peer

    peer = pandas_peer(Path(args.export))
    return {**peer.timings, "figures": peer.figures()}


def step_onepass(args: argparse.Namespace) -> dict[str, Any]:
    from bench.peers import one_pass

    return one_pass(Path(args.export), memory_limit=args.memory_limit, threads=args.threads)


STEPS: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {
    "synth": step_synth,
    "changes": step_changes,
    "refresh": step_refresh,
    "serve": step_serve,
    "pandas": step_pandas,
    "onepass": step_onepass,
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.steps")
    parser.add_argument("step", choices=sorted(STEPS))
    parser.add_argument("--result", required=True, type=Path)
    parser.add_argument("--out")
    parser.add_argument("--milestones", type=int)
    parser.add_argument("--charges", type=int)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--source")
    parser.add_argument("--changed")
    parser.add_argument("--delta")
    parser.add_argument("--export")
    parser.add_argument("--warehouse")
    parser.add_argument("--as-of")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--check-repeats", type=int, default=3)
    parser.add_argument("--memory-limit")
    parser.add_argument("--threads", type=int)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stdout)
    load_before = load_average()
    result = STEPS[args.step](args)
    result["rusage"] = own_peak_rss()
    result["step_load"] = {"before": load_before, "after": load_average()}
    args.result.write_text(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
