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
    return parser


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


_COMMANDS = {
    "ingest": _cmd_ingest,
    "demo": _cmd_demo,
    "build": _cmd_build,
    "serve": _cmd_serve,
    "check": _cmd_check,
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
