"""The report says when its data was built and landed, and warns past the configured age."""
from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from billready.report import Freshness, Report, max_age_hours
from billready.semantic import Warehouse

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _freshness(landed_hours_ago: float | None, max_age: float = 24) -> Freshness:
    landed = None if landed_hours_ago is None else NOW - datetime.timedelta(hours=landed_hours_ago)
    return Freshness(built_at=landed, landed_at=landed, max_age_hours=max_age, now=NOW)


def test_fresh_data_has_no_warning() -> None:
    assert _freshness(23.9).warning() is None


def test_old_data_warns_with_its_age() -> None:
    warning = _freshness(30).warning()
    assert warning is not None and "30 hours old (more than 24)" in warning


def test_unknown_landing_time_warns() -> None:
    assert "unknown" in (_freshness(None).warning() or "")


def test_max_age_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BILLREADY_MAX_AGE_HOURS", "48")
    assert max_age_hours() == 48
    assert _freshness(30, max_age_hours()).warning() is None
    monkeypatch.setenv("BILLREADY_MAX_AGE_HOURS", "not a number")
    assert max_age_hours() == 24


def test_the_demo_reports_build_and_landing_times(demo_warehouse: Path) -> None:
    with Warehouse(demo_warehouse) as warehouse:
        freshness = Report(warehouse).freshness()
    assert freshness.built_at is not None and freshness.landed_at is not None
    assert abs((freshness.built_at - freshness.landed_at).total_seconds()) < 3600
    assert freshness.describe().startswith("data built 20")
