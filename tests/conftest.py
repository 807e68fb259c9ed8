"""Shared fixtures: one demo warehouse built per test session (ingest + dbt build)."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from billready import settings
from billready.build import build
from billready.ingest import ingest_directory
from billready.report import Report
from billready.semantic import Warehouse

REFERENCE_DIR = settings.project_dir().parent / "shared" / "reference"


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse directory holding the demo export, landed and built (models, tests, unit tests)."""
    directory = tmp_path_factory.mktemp("demo-warehouse")
    ingest_directory(settings.demo_export_dir(), settings.database_path(directory))
    build(directory, quiet=True, as_of=settings.DEMO_AS_OF)
    return directory


@pytest.fixture()
def demo_report(demo_warehouse: Path) -> Iterator[Report]:
    """The report over the demo warehouse, read-only."""
    with Warehouse(demo_warehouse) as warehouse:
        yield Report(warehouse)
