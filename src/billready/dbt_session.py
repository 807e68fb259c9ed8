"""Several dbt commands in one process: one start, one parse.

``python -m billready.dbt_session STATUS_FILE COMMANDS_JSON`` parses the project once (``dbt
parse``, which writes the manifests and the partial-parse file as usual), then runs each command of
``COMMANDS_JSON`` (a JSON list of dbt argument lists) with that manifest, stopping at the first that
fails. After every command it rewrites STATUS_FILE, a JSON list of ``{"args", "success",
"exception"}``, so the parent can tell which command failed. Exit status: 0 when every command
succeeded, else 1.

billready.build runs this as a child process, as it runs dbt itself (see there why): a refresh's
``dbt source freshness`` and ``dbt build`` then cost one start of dbt and one parse, not two.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def _status(args: list[str], success: bool, exception: BaseException | None) -> dict[str, Any]:
    return {
        "args": args,
        "success": success,
        "exception": None if exception is None else f"{type(exception).__name__}: {exception}",
    }


def main(argv: list[str]) -> int:
    from dbt.cli.main import dbtRunner
    from dbt.contracts.graph.manifest import Manifest

    status_file = Path(argv[0])
    parse_args, *commands = json.loads(argv[1])
    statuses: list[dict[str, Any]] = []

    def record(args: list[str], success: bool, exception: BaseException | None) -> None:
        statuses.append(_status(args, success, exception))
        # A parse that fails on the first build leaves no target directory behind.
        status_file.parent.mkdir(parents=True, exist_ok=True)
        status_file.write_text(json.dumps(statuses, indent=2))

    parsed = dbtRunner().invoke(parse_args)
    manifest = parsed.result if isinstance(parsed.result, Manifest) else None
    record(parse_args, parsed.success and manifest is not None, parsed.exception)
    if manifest is None or not parsed.success:
        return 1
    for args in commands:
        result = dbtRunner(manifest=manifest).invoke(args)
        record(args, result.success, result.exception)
        if not result.success:
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
