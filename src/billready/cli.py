"""The ``billready`` command line. Parsing and printing only: the work is in the package."""
from __future__ import annotations

import argparse
import datetime
import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from billready import settings
from billready.errors import BillreadyError
from billready.formatting import OUTPUT_FORMATS, render_frame

if TYPE_CHECKING:
    from billready.check import CheckResult

logger = logging.getLogger("billready")

EXIT_OK, EXIT_CONFLICTS, EXIT_ERROR = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="billready",
        description="Catch milestone-billing errors before invoicing.",
    )
    parser.add_argument(
        "--warehouse",
        metavar="DIR",
        help="warehouse directory (default: $BILLREADY_HOME, else ./warehouse)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ingest = commands.add_parser("ingest", help="land a directory of Autotask exports in raw_autotask")
    ingest.add_argument("path", type=Path, help="directory of <Entity>.csv / <Entity>.json files")

    demo = commands.add_parser("demo", help="land the demo export shipped with billready and build")
    demo.add_argument(
        "--as-of",
        type=_date,
        default=settings.DEMO_AS_OF,
        metavar="DATE",
        help=f"evaluate date rules as of DATE (default: the demo's snapshot day, {settings.DEMO_AS_OF})",
    )
    build = commands.add_parser("build", help="dbt build: models, data tests and unit tests")
    build.add_argument("--quiet", action="store_true", help="print dbt errors only")
    build.add_argument(
        "--as-of", type=_date, default=None, metavar="DATE",
        help="evaluate date rules as of DATE, YYYY-MM-DD (default: today)",
    )

    serve = commands.add_parser("serve", help="serve the Streamlit report on localhost")
    serve.add_argument("--port", type=int, default=8501)
    serve.add_argument("--address", default="127.0.0.1")

    check = commands.add_parser(
        "check",
        help="list conflicted pipeline milestones; exit 1 when one in a --fail-on stage has a conflict",
    )
    check.add_argument("--json", action="store_true", help="print JSON instead of a table")
    check.add_argument(
        "--fail-on",
        default="approved",
        metavar="STAGES",
        help="comma list of stages whose conflicts fail the check (default: approved)",
    )

    metrics = commands.add_parser("metrics", help="list metrics, saved queries and dimensions with descriptions")
    metrics.add_argument("--format", choices=("table", "json"), default="table")

    query = commands.add_parser(
        "query",
        help="run a semantic query (MetricFlow) read-only on the warehouse",
        description=(
            "Compile metrics (or a saved query) through MetricFlow and run the SQL on the DuckDB "
            "warehouse, read-only. Filters use MetricFlow's syntax, e.g. "
            "--where \"{{ Dimension('milestone__stage') }} = 'approved'\"."
        ),
    )
    query.add_argument("--metrics", help="comma list of metrics (see `billready metrics`)")
    query.add_argument("--saved-query", help="a saved query by name instead of --metrics")
    query.add_argument("--group-by", help="comma list of dimensions, e.g. milestone__stage,metric_time__month")
    query.add_argument("--where", action="append", default=[], help="a MetricFlow filter (repeatable)")
    query.add_argument("--order", help="comma list of metrics/dimensions; prefix - for descending")
    query.add_argument("--limit", type=int)
    query.add_argument("--explain", action="store_true", help="print the SQL only; open nothing")
    query.add_argument(
        "--dialect",
        help="print the SQL transpiled to this dialect (duckdb, snowflake, bigquery, postgres, "
        "databricks, tsql); implies --explain, since the warehouse here is DuckDB",
    )
    query.add_argument("--format", choices=OUTPUT_FORMATS, default="table")

    sql = commands.add_parser("sql", help="run one read-only SQL statement against the warehouse")
    sql.add_argument("statement", help='e.g. "select stage, count(*) from marts.bi_contract_milestones group by 1"')
    sql.add_argument("--format", choices=OUTPUT_FORMATS, default="table")
    return parser


def _csv_list(text: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (text or "").split(",") if part.strip())


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _configure_logging(verbose: bool) -> None:
    # Libraries (MetricFlow, dbt) log a lot at INFO; billready's own progress is what users want.
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s" if verbose else "%(message)s",
        stream=sys.stderr,
    )
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)


def _cmd_ingest(warehouse: Path, args: argparse.Namespace) -> int:
    from billready.ingest import ingest_directory

    report = ingest_directory(args.path, settings.database_path(warehouse))
    print(report.summary())
    return EXIT_OK


def _cmd_demo(warehouse: Path, args: argparse.Namespace) -> int:
    from billready.build import build
    from billready.ingest import ingest_directory

    report = ingest_directory(settings.demo_export_dir(), settings.database_path(warehouse))
    print(report.summary())
    build(warehouse, as_of=args.as_of)
    print(f"demo warehouse ready: {settings.database_path(warehouse)}")
    return EXIT_OK


def _cmd_build(warehouse: Path, args: argparse.Namespace) -> int:
    from billready.build import build

    build(warehouse, quiet=args.quiet, as_of=args.as_of)
    return EXIT_OK


def _cmd_serve(warehouse: Path, args: argparse.Namespace) -> int:
    app = settings.project_dir() / "app" / "Home.py"
    env = {**os.environ, settings.HOME_ENV: str(warehouse)}
    command = [
        sys.executable, "-m", "streamlit", "run", str(app),
        "--server.address", args.address,
        "--server.port", str(args.port),
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "viewer",
    ]
    print(f"serving the report on http://{args.address}:{args.port} (Ctrl+C to stop)")
    return subprocess.call(command, env=env)


def _cmd_check(warehouse: Path, args: argparse.Namespace) -> int:
    from billready.check import parse_fail_on, run_check
    from billready.report import Report
    from billready.semantic import Warehouse

    fail_on = parse_fail_on(args.fail_on)
    with Warehouse(warehouse) as opened:
        result = run_check(Report(opened), fail_on)
    if args.json:
        print(json.dumps(result.as_json(), indent=2))
    else:
        print(_format_check(result))
    return result.exit_code


def _format_check(result: CheckResult) -> str:
    kpis = result.kpis
    lines = [
        f"{kpis['conflicts_found']} of {kpis['total_milestones']} pipeline milestones carry conflicts; "
        f"revenue at risk ${kpis['revenue_at_risk']:,.0f}; {kpis['charges_conflicts']} charge conflicts.",
    ]
    if result.milestones:
        lines.append("")
        lines.append(f"{'#':>3}  {'milestone':>9}  {'stage':<10} {'amount':>11}  {'due':<10}  conflicts")
        for m in result.milestones:
            lines.append(
                f"{m['priority_rank']:>3}  {m['milestone_id']:>9}  {m['stage']:<10} "
                f"{m['amount'] or 0:>11,.2f}  {m['due_date'] or '':<10}  {', '.join(m['conflicts'])}"
                f"   ({m['company_name'] or '?'} / {m['project_name'] or 'no project'})"
            )
    blocking = len(result.blocking)
    lines.append("")
    if blocking:
        lines.append(f"FAIL: {blocking} milestone(s) in stage {', '.join(result.fail_on)} carry conflicts.")
    else:
        lines.append(f"OK: no milestone in stage {', '.join(result.fail_on)} carries a conflict.")
    return "\n".join(lines)


def _cmd_metrics(warehouse: Path, args: argparse.Namespace) -> int:
    from billready.semantic import SemanticLayer

    layer = SemanticLayer(warehouse)
    listed = {
        "metrics": layer.list_metrics(),
        "saved_queries": [layer.describe_saved_query(name) for name in layer.saved_query_names()],
        "dimensions": layer.list_dimensions(),
    }
    if args.format == "json":
        print(json.dumps(listed, indent=2))
        return EXIT_OK
    print("Metrics")
    for metric in listed["metrics"]:
        print(f"  {metric['name']:<30} {metric['description'] or ''}")
    print("\nSaved queries (billready query --saved-query NAME)")
    for saved in listed["saved_queries"]:
        print(f"  {saved['name']:<30} {saved['description'] or ''}")
    print("\nDimensions (billready query --group-by NAME)")
    for dimension in listed["dimensions"]:
        print(f"  {dimension['name']:<40} {dimension['description'] or ''}")
    return EXIT_OK


def _cmd_query(warehouse: Path, args: argparse.Namespace) -> int:
    from billready.errors import UsageError
    from billready.semantic import MetricRequest, SemanticLayer, Warehouse, transpile

    if bool(args.metrics) == bool(args.saved_query):
        raise UsageError("give --metrics M[,M] or --saved-query NAME (one of them)")
    request = MetricRequest(
        metrics=_csv_list(args.metrics),
        saved_query=args.saved_query,
        group_by=_csv_list(args.group_by),
        where=tuple(args.where),
        order_by=_csv_list(args.order),
        limit=args.limit,
    )
    if args.explain or args.dialect:
        sql = SemanticLayer(warehouse).compile(request)
        print(transpile(sql, args.dialect) if args.dialect else sql)
        return EXIT_OK
    with Warehouse(warehouse) as opened:
        result = SemanticLayer(warehouse, opened).query(request)
    print(render_frame(result.frame, args.format))
    return EXIT_OK


def _cmd_sql(warehouse: Path, args: argparse.Namespace) -> int:
    from billready.semantic import Warehouse, ensure_read_only

    statement = ensure_read_only(args.statement)
    with Warehouse(warehouse) as opened:
        result = opened.query(statement)
    print(render_frame(result.frame, args.format))
    return EXIT_OK


_COMMANDS = {
    "ingest": _cmd_ingest,
    "demo": _cmd_demo,
    "build": _cmd_build,
    "serve": _cmd_serve,
    "check": _cmd_check,
    "metrics": _cmd_metrics,
    "query": _cmd_query,
    "sql": _cmd_sql,
}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``billready`` console script."""
    args = _parser().parse_args(argv)
    _configure_logging(args.verbose)
    warehouse = settings.warehouse_dir(args.warehouse)
    try:
        return _COMMANDS[args.command](warehouse, args)
    except BillreadyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
