"""``python -m bench``: the command line, the printed table and the exit code.

Exit codes: 0 when every step ran and every peer's figures equal billready's (missed targets are
reported, not failed, unless ``--strict``); 1 on unequal results or a failed step; 2 on bad
arguments.
"""
from __future__ import annotations

import argparse
import datetime
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import datasets
from bench.process import StepFailed
from bench.render import dbt_seconds, size_rows
from bench.runner import Bench, Options

logger = logging.getLogger(__name__)

GIB = 2**30


class _ElapsedFormatter(logging.Formatter):
    """``[  12.3 s] message``: seconds since the benchmark started."""

    def __init__(self) -> None:
        super().__init__()
        self.started = time.time()

    def format(self, record: logging.LogRecord) -> str:
        elapsed = record.created - self.started
        return f"[{elapsed:7.1f} s] {record.getMessage()}"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Measure billready (ingest, build, publish, check, report) against a pandas "
        "peer and a one-pass lower bound at several sizes; print a table and write JSON.",
    )
    parser.add_argument("--sizes", default="S,M", help="comma list of S (demo), M, L, or NAME=MILESTONES[/CHARGES] (default S,M)")
    parser.add_argument("--out", type=Path, default=Path("bench/results/latest.json"), help="JSON results file")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "billready-bench",
                        help="scratch directory for exports and warehouses (default $TMPDIR/billready-bench)")
    parser.add_argument("--repeats", type=int, default=7, help="timed runs of each report panel (default 7)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs of each panel first (default 1)")
    parser.add_argument("--check-repeats", type=int, default=3, help="warm runs of check (default 3)")
    parser.add_argument("--memory-limit", default=os.environ.get("BILLREADY_DUCKDB_MEMORY_LIMIT", "3GB"),
                        help="DuckDB memory limit for dbt and the one-pass peer (default 3GB, as profiles.yml)")
    parser.add_argument("--threads", type=int, default=int(os.environ.get("BILLREADY_THREADS", "2")),
                        help="dbt threads and DuckDB threads (default 2)")
    parser.add_argument("--as-of", type=datetime.date.fromisoformat, default=None,
                        help="the as-of date of every build (default the demo's)")
    parser.add_argument("--seed", type=int, default=0, help="synth seed")
    parser.add_argument("--skip", default="", help="comma list of fixed, pandas, onepass, incremental")
    parser.add_argument("--incremental", default="changed,delta",
                        help="incremental refreshes: changed (full export, 1%% changed), delta (changed rows only); default both")
    parser.add_argument("--project", choices=("worktree", "HEAD"), default="worktree",
                        help="measure the dbt project of the working tree (default) or of git HEAD (profiles.yml always from the working tree)")
    parser.add_argument("--reuse-exports", action="store_true", help="reuse synthetic exports a previous run left in --workdir")
    parser.add_argument("--keep-work", action="store_true", help="keep warehouses and changed exports")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    return parser


def table(results: dict[str, Any]) -> str:
    """The results as plain-text tables: steps per size, report panels, targets."""
    sizes = results["sizes"]
    names = list(sizes)
    fixed = results.get("fixed_cost")
    lines = []

    def row(label: str, values: list[str]) -> None:
        lines.append(f"{label:<48}" + "".join(f"{value:>16}" for value in values))

    row("", names)
    for label, cells in size_rows(results):
        row(label.replace("`", "").replace("**", ""), cells)
    if fixed:
        lines.append("")
        lines.append(
            f"dbt fixed cost (empty export): dbt (source freshness + build) "
            f"{dbt_seconds(fixed['phases']):.1f} s, refresh total {fixed['total_s']:.1f} s"
        )

    def report(n: str) -> dict[str, Any]:
        return (sizes[n].get("serve") or {}).get("report") or {}

    panels = sorted({panel for n in names for panel in report(n)})
    if panels:
        lines.append("")
        row("report panel, warm p50 / p95 (ms)", names)
        for panel in panels:
            row(f"  {panel}", [
                f"{sizes[n]['serve']['report'][panel]['p50_ms']:,.0f} / {sizes[n]['serve']['report'][panel]['p95_ms']:,.0f}"
                if panel in report(n) else "-"
                for n in names
            ])
    lines.append("")
    lines.append("targets")
    for target in results.get("targets", []):
        verdict = {True: "PASS", False: "MISS", None: "n/a"}[target["passed"]]
        ratio = "-" if target["ratio"] is None else f"{target['ratio']:g}"
        lines.append(f"  {verdict:<5} {target['name']:<18} ratio {ratio:>8} (bound {target['bound']:g})  {target['statement']}")
        lines.append(f"        {target['detail']}")
    machine = results["machine"]
    lines.append("")
    lines.append(
        f"machine: {machine['cpu_count']} CPUs ({machine.get('cpu_model')}), {machine['memory_bytes'] / GIB:.0f} GiB, "
        f"Python {machine['python']}, duckdb {machine['versions'].get('duckdb')}, dbt-core "
        f"{machine['versions'].get('dbt-core')}, dbt-duckdb {machine['versions'].get('dbt-duckdb')}; load "
        f"{machine['load_average']} at start, {machine.get('load_average_at_end')} at end"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_ElapsedFormatter())
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    try:
        sizes = datasets.parse_sizes(args.sizes)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    skip = {part.strip() for part in args.skip.split(",") if part.strip()}
    unknown = skip - {"fixed", "pandas", "onepass", "incremental"}
    if unknown:
        print(f"error: unknown --skip item(s) {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    incremental = tuple(part.strip() for part in args.incremental.split(",") if part.strip())
    if set(incremental) - {"changed", "delta"}:
        print("error: --incremental takes a comma list of changed, delta", file=sys.stderr)
        return 2
    from billready import settings

    options = Options(
        sizes=sizes,
        out=args.out.resolve(),
        workdir=args.workdir.resolve(),
        repeats=args.repeats,
        warmup=args.warmup,
        check_repeats=args.check_repeats,
        memory_limit=args.memory_limit,
        threads=args.threads,
        as_of=args.as_of or settings.DEMO_AS_OF,
        seed=args.seed,
        skip=skip,
        incremental=incremental,
        project=args.project,
        reuse_exports=args.reuse_exports,
        keep_work=args.keep_work,
    )
    bench = Bench(options)
    try:
        results = bench.run()
    except StepFailed as exc:
        logger.error("%s", exc)
        bench.results.setdefault("errors", []).append(str(exc))
        bench._save()
        return 1
    printed = table(results)
    print(printed)
    # The printed table beside the JSON (latest.json -> latest.txt), so the two never disagree.
    options.out.with_suffix(".txt").write_text(printed + "\n")
    print(f"\nresults written to {options.out} and {options.out.with_suffix('.txt').name}")
    if results["errors"]:
        for error in results["errors"]:
            print(f"error: {error}", file=sys.stderr)
        return 1
    if args.strict and any(target["passed"] is False for target in results.get("targets", [])):
        return 1
    return 0
