"""The ``billready`` command line. Parsing and printing only: the work is in the package."""
from __future__ import annotations

import argparse
import datetime
import json
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

from billready import settings
from billready.errors import BillreadyError
from billready.formatting import OUTPUT_FORMATS, money, render_frame

if TYPE_CHECKING:
    from collections.abc import Callable

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

    refresh_options = argparse.ArgumentParser(add_help=False)
    refresh_options.add_argument(
        "--as-of", type=_date, default=None, metavar="DATE",
        help="evaluate date rules as of DATE, YYYY-MM-DD (default: today)",
    )
    refresh_options.add_argument(
        "--keep", type=int, default=None, metavar="N",
        help="published snapshots to keep (default: $BILLREADY_KEEP_SNAPSHOTS, else 3)",
    )
    refresh_options.add_argument("--wait", action="store_true", help="wait for a running refresh instead of refusing")
    refresh_options.add_argument("--quiet", action="store_true", help="print dbt errors only")
    refresh_options.add_argument(
        "--rebuild-all", action="store_true",
        help="build and test every model (default: after a landing, only what the landed data changes)",
    )

    refresh = commands.add_parser(
        "refresh",
        parents=[refresh_options],
        help="land new data (optional), build and test a copy, publish it atomically",
        description=(
            "Copy the published snapshot, land PATH into the copy (when given), run dbt source "
            "freshness and dbt build on it, and publish it as the new snapshot only when every "
            "error-level test passed. Readers keep reading the old snapshot until then."
        ),
    )
    refresh.add_argument("path", type=Path, nargs="?", help="directory of Autotask exports to land first")

    ingest = commands.add_parser(
        "ingest", parents=[refresh_options],
        help="land a directory of Autotask exports and publish a new build (= refresh PATH)",
    )
    ingest.add_argument("path", type=Path, help="directory of <Entity>.csv / .json / .parquet files")

    demo = commands.add_parser(
        "demo", parents=[refresh_options], help="land the demo export shipped with billready and build",
    )
    demo.set_defaults(demo_as_of=settings.DEMO_AS_OF)
    demo.add_argument(
        "--api", action="store_true",
        help="serve the demo export from a local Autotask API stand-in and pull it over HTTP",
    )

    pull = commands.add_parser(
        "pull", parents=[refresh_options],
        help="pull the Autotask REST API into raw_autotask and publish a new build",
        description=(
            "Pull every entity and the picklists from the Autotask REST API (credentials from "
            "AUTOTASK_USERNAME, AUTOTASK_SECRET, AUTOTASK_INTEGRATION_CODE), incrementally where "
            "an entity has a last-modified field, land them like `ingest` does, build and "
            "publish. See docs/pull.md."
        ),
    )
    pull.add_argument(
        "--base-url", metavar="URL",
        help="the REST root, the part before /V1.0/ (default: $AUTOTASK_BASE_URL, else the zone "
        "Autotask names for the user)",
    )
    pull.add_argument("--full", action="store_true", help="reload every entity, ignoring watermarks")

    standin = commands.add_parser(
        "standin", help="serve an export directory as a local Autotask REST API (127.0.0.1)",
    )
    standin.add_argument("path", type=Path, help="an export directory `billready ingest` accepts")
    standin.add_argument("--port", type=int, default=8580, help="port on 127.0.0.1 (default 8580; 0 picks one)")
    build = commands.add_parser(
        "build", parents=[refresh_options],
        help="rebuild and republish from the landed data (dbt build: models, data tests, unit tests)",
    )
    build.add_argument(
        "--target", choices=("duckdb", "spark"), default="duckdb",
        help="duckdb (default): rebuild and publish the warehouse; spark: build the same project on "
        "Apache Spark from the published raw data (needs the spark extra and Java 17; "
        "docs/warehouses.md)",
    )

    synth = commands.add_parser(
        "synth", help="write a synthetic Autotask export of any size, in the demo's proportions",
    )
    synth.add_argument("out", type=Path, help="directory to write <Entity>.parquet (or .csv) files to")
    synth.add_argument("--milestones", type=int, required=True, metavar="N", help="contract milestones")
    synth.add_argument(
        "--charges", type=int, default=None, metavar="M",
        help="project, contract and ticket charges together (default: 1590 per 55 milestones)",
    )
    synth.add_argument("--seed", type=int, default=0, help="random seed (same seed, same files)")
    synth.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    synth.add_argument(
        "--snapshot", type=_date, default=None, metavar="DATE",
        help="the day the export is taken (default: the demo's, 2026-08-21)",
    )

    serve = commands.add_parser("serve", help="serve the Streamlit report on localhost")
    serve.add_argument("--port", type=int, default=8501)
    serve.add_argument("--address", default="127.0.0.1")

    check = commands.add_parser(
        "check",
        help="list conflicted pipeline milestones; exit 1 when one in a --fail-on stage has a conflict",
    )
    check.add_argument(
        "--format", choices=("text", "json", "markdown", "junit"), default="text",
        help="text (default), json, markdown (for mail or chat) or junit (for CI)",
    )
    check.add_argument("--json", action="store_true", help="same as --format json")
    check.add_argument(
        "--fail-on",
        default="approved",
        metavar="STAGES",
        help="comma list of stages whose conflicts fail the check (default: approved)",
    )

    rules = commands.add_parser("rules", help="the rule catalogue: every rule, its live findings, or why it is not evaluated")
    rules.add_argument("--format", choices=OUTPUT_FORMATS, default="table")
    rules.add_argument("--explain", metavar="RULE", help="print one rule's cause and fix")

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


def _refresh(
    warehouse: Path,
    args: argparse.Namespace,
    export: Path | None,
    as_of: datetime.date | None,
    land: Callable[[Path], None] | None = None,
) -> int:
    """Every command that changes data goes through billready.refresh (``land`` lands it into the
    build copy's database; by default, ingesting ``export``)."""
    from billready.ingest import ingest_directory
    from billready.refresh import refresh

    def land_export(database: Path) -> None:
        assert export is not None
        print(ingest_directory(export, database).summary())

    snapshot = refresh(
        warehouse,
        land=land or (land_export if export is not None else None),
        as_of=as_of,
        keep=args.keep,
        quiet=args.quiet,
        wait=args.wait,
        rebuild_all=args.rebuild_all,
    )
    print(f"published snapshot {snapshot.snapshot_id} in {warehouse}")
    return EXIT_OK


def _cmd_refresh(warehouse: Path, args: argparse.Namespace) -> int:
    return _refresh(warehouse, args, args.path, args.as_of)


def _cmd_ingest(warehouse: Path, args: argparse.Namespace) -> int:
    return _refresh(warehouse, args, args.path, args.as_of)


def _cmd_demo(warehouse: Path, args: argparse.Namespace) -> int:
    # The demo is a snapshot of a fictional tenant: evaluate it as of its snapshot day by default.
    as_of = args.as_of or args.demo_as_of
    if args.api:  # the same export, served by a local Autotask stand-in and pulled over HTTP
        from billready.standin import pull_demo

        return _refresh(warehouse, args, None, as_of, land=lambda db: print(pull_demo(db).summary()))
    return _refresh(warehouse, args, settings.demo_export_dir(), as_of)


def _cmd_pull(warehouse: Path, args: argparse.Namespace) -> int:
    from billready.autotask_api import Credentials, resolve_base_url
    from billready.pull import pull_tenant

    credentials = Credentials.from_env()  # refuse missing credentials before anything starts
    base_url = resolve_base_url(args.base_url)

    def land(database: Path) -> None:
        print(pull_tenant(database, credentials, base_url, full=args.full).summary())

    return _refresh(warehouse, args, None, args.as_of, land=land)


def _cmd_standin(warehouse: Path, args: argparse.Namespace) -> int:
    from billready.standin import serve_standin

    serve_standin(args.path, port=args.port)
    return EXIT_OK


def _cmd_build(warehouse: Path, args: argparse.Namespace) -> int:
    if args.target == "spark":
        from billready import spark

        spark.build(warehouse, quiet=args.quiet, as_of=args.as_of)
        print(f"built on Spark in {settings.spark_dir(warehouse)}")
        return EXIT_OK
    return _refresh(warehouse, args, None, args.as_of)


def _cmd_synth(warehouse: Path, args: argparse.Namespace) -> int:
    from billready.synth import DEMO_SNAPSHOT, generate

    summary = generate(
        args.out,
        milestones=args.milestones,
        charges=args.charges,
        seed=args.seed,
        file_format=args.format,
        snapshot=args.snapshot or DEMO_SNAPSHOT,
    )
    print(summary.summary())
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
    from billready.check import parse_fail_on, run_check, to_junit, to_markdown, to_text
    from billready.report import Report
    from billready.semantic import Warehouse

    fail_on = parse_fail_on(args.fail_on)
    output_format = "json" if args.json else args.format
    with Warehouse(warehouse) as opened:
        result = run_check(Report(opened), fail_on)
        if output_format == "json":  # the findings stream from the warehouse: write while it is open
            result.write_json(sys.stdout)
            print()
            return result.exit_code
    if output_format == "markdown":
        print(to_markdown(result))
    elif output_format == "junit":
        print(to_junit(result))
    else:
        print(to_text(result))
    return result.exit_code


def _cmd_rules(warehouse: Path, args: argparse.Namespace) -> int:
    from billready.errors import UsageError
    from billready.report import Report
    from billready.semantic import Warehouse

    with Warehouse(warehouse) as opened:
        frame = Report(opened).rule_findings().result.frame
    if args.explain:
        match = frame[frame["rule_code"] == args.explain]
        if match.empty:
            raise UsageError(f"no rule {args.explain!r}; rules: {', '.join(frame['rule_code'])}")
        rule = match.iloc[0]
        state = (
            f"{int(rule['findings'])} finding(s), {money(rule['finding_amount'])}"
            if rule["is_evaluated"] else f"not evaluated: {rule['not_evaluated_reason']}"
        )
        print(f"{rule['title']} ({rule['rule_code']}) · {rule['category']} · {rule['severity']} · {state}")
        print(f"\nCause\n{textwrap.fill(rule['cause'], 96)}")
        print(f"\nFix: {rule['fix_title']}\n{textwrap.fill(rule['fix_steps'], 96)}")
        print(f"\nSource: {rule['reference']}")
        return EXIT_OK
    columns = ["rule_code", "category", "severity", "is_evaluated", "findings", "finding_amount", "title", "not_evaluated_reason"]
    print(render_frame(frame[columns], args.format))
    return EXIT_OK


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
    "refresh": _cmd_refresh,
    "ingest": _cmd_ingest,
    "demo": _cmd_demo,
    "pull": _cmd_pull,
    "standin": _cmd_standin,
    "build": _cmd_build,
    "synth": _cmd_synth,
    "serve": _cmd_serve,
    "check": _cmd_check,
    "rules": _cmd_rules,
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
    except BrokenPipeError:  # the reader of our output went away (`billready rules | head`)
        sys.stderr.close()
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
