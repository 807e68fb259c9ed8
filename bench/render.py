"""Render a benchmark's JSON as the Markdown tables of docs/performance.md.

``python -m bench.render bench/results/latest.json`` prints the steps per size, the report panels'
warm p50/p95, the targets, the machine and dbt's slowest nodes at the largest size.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

GIB = 2**30


def dbt_seconds(phases: dict[str, float]) -> float:
    """dbt's time in a refresh: one process for source freshness and build since 2026-11-23
    (the "build" phase), two before (a "freshness" phase, then "build")."""
    return phases.get("freshness", 0.0) + phases.get("build", 0.0)


def _get(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def _s(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:,.2f}" if value < 10 else f"{value:,.1f}"


STEPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ingest (s)", ("refresh", "phases", "ingest")),
    ("dbt: source freshness + build (s)", ("refresh", "phases", "dbt")),
    ("checkpoint + publish (s)", ("refresh", "phases", "publish")),
    ("refresh total (s)", ("refresh", "total_s")),
    ("`check`, fresh process (s)", ("serve", "check", "cold_s")),
    ("`check`, warm (s)", ("serve", "check", "warm_p50_s")),
    ("`check --format json` adds (s)", ("serve", "check", "json_s")),
    ("pandas peer, read + compute (s)", ("pandas", "total_s")),
    ("one DuckDB pass, lower bound (s)", ("onepass", "seconds")),
    ("refresh, 1% of charges changed, full export (s)", ("incremental", "changed", "refresh", "total_s")),
    ("refresh, delta export only (s)", ("incremental", "delta", "refresh", "total_s")),
)
"""The per-size step figures both tables show: label and path into a size's results ("dbt" and
"publish" are sums of refresh phases)."""


def _step(size: dict[str, Any], path: tuple[str, ...]) -> float | None:
    phases = _get(size, "refresh", "phases") or {}
    if path == ("refresh", "phases", "dbt"):
        return dbt_seconds(phases) if phases else None
    if path == ("refresh", "phases", "publish"):
        return phases.get("checkpoint", 0.0) + phases.get("publish", 0.0) if phases else None
    return _get(size, *path)


def size_rows(results: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """The per-size table, label and one cell per size ("–" when not measured), for the Markdown
    and the plain-text renderings alike."""
    sizes = results["sizes"]
    names = list(sizes)

    def cells(value: Any) -> list[str]:
        return [value(sizes[n]) for n in names]

    def ratio(size: dict[str, Any]) -> str:
        value = _get(size, "incremental", "changed", "ratio_to_full")
        return f"{value:.2f}" if value else "–"

    def slowest(size: dict[str, Any]) -> str:
        panels = _get(size, "serve", "report")
        return f"{max(p['p95_ms'] for p in panels.values()):,.0f}" if panels else "–"

    def peak(step: str) -> Any:
        return lambda size: f"{_get(size, step, 'peak_rss_bytes') / GIB:.2f}" if _get(size, step, "peak_rss_bytes") else "–"

    rows = [
        ("milestones", cells(lambda size: f"{size['export']['milestones']:,}")),
        ("charges", cells(lambda size: f"{size['export']['charges']:,}")),
    ]
    rows += [(label, cells(lambda size, path=path: _s(_step(size, path)))) for label, path in STEPS]
    rows += [
        ("1% changed refresh ÷ full refresh", cells(ratio)),
        ("slowest report panel, warm p95 (ms)", cells(slowest)),
        ("peak memory, refresh (GiB)", cells(peak("refresh"))),
        ("peak memory, check + report (GiB)", cells(peak("serve"))),
        ("peak memory, pandas peer (GiB)", cells(peak("pandas"))),
        ("pandas figures equal billready's", [{True: "yes", False: "**no**"}.get(results["equal_results"].get(n), "–") for n in names]),
    ]
    return rows


def markdown(results: dict[str, Any]) -> str:
    sizes = results["sizes"]
    names = list(sizes)
    out: list[str] = []

    def row(cells: list[str]) -> None:
        out.append("| " + " | ".join(cells) + " |")

    row(["", *names])
    row(["---", *["---:" for _ in names]])
    for label, cells in size_rows(results):
        row([label, *cells])
    fixed = results.get("fixed_cost")
    if fixed:
        out.append("")
        out.append(
            f"dbt's fixed cost (the same refresh of an export with every file and no rows): dbt "
            f"(source freshness + build) {dbt_seconds(fixed['phases']):.1f} s, "
            f"refresh total {fixed['total_s']:.1f} s."
        )
    panels = sorted({p for n in names for p in (_get(sizes[n], "serve", "report") or {})})
    if panels:
        out.append("")
        row(["report panel: warm p50 / p95 ms (SQL alone p95)", *names])
        row(["---", *["---:" for _ in names]])
        for panel in panels:
            cells = []
            for n in names:
                timing = (_get(sizes[n], "serve", "report") or {}).get(panel)
                cells.append("–" if timing is None else
                             f"{timing['p50_ms']:,.0f} / {timing['p95_ms']:,.0f} ({timing['sql_p95_ms']:,.0f}), {timing['rows']:,} rows")
            row([f"`{panel}`", *cells])
    out.append("")
    row(["target", "bound", "measured ratio", "result", "detail"])
    row(["---", "---:", "---:", "---", "---"])
    for target in results.get("targets", []):
        verdict = {True: "pass", False: "**miss**", None: "n/a"}[target["passed"]]
        ratio = "–" if target["ratio"] is None else f"{target['ratio']:g}"
        row([target["statement"], f"{target['bound']:g}", ratio, verdict, target["detail"]])
    machine = results["machine"]
    out.append("")
    out.append(
        f"Machine: {machine['cpu_count']} CPUs ({machine.get('cpu_model')}), {machine['memory_bytes'] / GIB:.0f} GiB, "
        f"{machine['platform']}; Python {machine['python']}, duckdb {machine['versions'].get('duckdb')}, dbt-core "
        f"{machine['versions'].get('dbt-core')}, dbt-duckdb {machine['versions'].get('dbt-duckdb')}, pandas "
        f"{machine['versions'].get('pandas')}, pyarrow {machine['versions'].get('pyarrow')}. DuckDB memory limit "
        f"{results['config']['memory_limit']}, {results['config']['threads']} threads. Load average "
        f"{machine['load_average']} at the start, {machine.get('load_average_at_end')} at the end."
    )
    largest = names[-1] if names else None
    slowest = _get(sizes.get(largest, {}), "refresh", "dbt", "slowest") if largest else None
    if slowest:
        out.append("")
        by_type = _get(sizes[largest], "refresh", "dbt", "by_type") or {}
        out.append(f"dbt at {largest} (run_results.json): " + ", ".join(
            f"{kind} {entry['count']} nodes {entry['seconds']:.1f} s" for kind, entry in by_type.items() if entry["seconds"] >= 0.1
        ) + f"; elapsed {_get(sizes[largest], 'refresh', 'dbt', 'elapsed_s'):.1f} s. Slowest nodes:")
        out.append("")
        row(["node", "seconds"])
        row(["---", "---:"])
        for node in slowest[:10]:
            row([f"`{node['node']}`", f"{node['seconds']:.1f}"])
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    path = Path(argv[0]) if argv else Path("bench/results/latest.json")
    print(markdown(json.loads(path.read_text())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
