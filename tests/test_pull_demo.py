"""`billready demo --api`: the demo pulled over HTTP from the Autotask stand-in publishes the same
figures as the demo ingested from files (one dbt build, so it lives apart from test_pull.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from billready.cli import main


def _check_json(capsys: pytest.CaptureFixture[str], warehouse: Path) -> dict:
    main(["--warehouse", str(warehouse), "check", "--json"])
    return json.loads(capsys.readouterr().out)


def test_demo_api_pulls_the_demo_and_publishes_the_same_figures(
    tmp_path: Path, demo_warehouse: Path, capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    warehouse = tmp_path / "warehouse"
    assert main(["--warehouse", str(warehouse), "demo", "--api", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"pulled [\d,]+ records in \d+ requests \(0 retried\) from http://127\.0\.0\.1:", out)
    assert "published snapshot" in out
    progress = [r.getMessage() for r in caplog.records if r.name == "billready.pull"]
    assert any(re.fullmatch(r"TicketCharges: 500 of [\d,]+ records \(1 page\)", m) for m in progress)
    assert any(re.fullmatch(r"TicketCharges: ([\d,]+) of \1 records \([2-9] pages\)", m) for m in progress)
    assert _check_json(capsys, warehouse) == _check_json(capsys, demo_warehouse)
