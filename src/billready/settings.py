"""Where things live: the warehouse directory, the DuckDB file, the dbt project and the demo export."""
from __future__ import annotations

import datetime
import json
import os
from pathlib import Path

HOME_ENV = "BILLREADY_HOME"
PROJECT_ENV = "BILLREADY_PROJECT_DIR"
DEFAULT_WAREHOUSE = Path("warehouse")
DATABASE_FILE = "billready.duckdb"
DEFAULT_TARGET = "duckdb"  # the profiles.yml target the warehouse file belongs to
# The demo export is a snapshot of a fictional tenant on this day; `billready demo` evaluates
# date-based rules as of it (unless --as-of says otherwise) so the demo reads the same every day.
DEMO_AS_OF = datetime.date(2026, 11, 20)


def warehouse_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The warehouse directory: ``--warehouse DIR``, else ``$BILLREADY_HOME``, else ``./warehouse``."""
    if explicit:
        chosen = Path(explicit)
    elif os.environ.get(HOME_ENV):
        chosen = Path(os.environ[HOME_ENV])
    else:
        chosen = DEFAULT_WAREHOUSE
    return chosen.expanduser().resolve()


CURRENT_POINTER = "current.json"
"""In a warehouse directory, names the published snapshot every reader uses (see billready.refresh)."""


def serving_dir(warehouse: Path) -> Path:
    """The directory holding the DuckDB file and dbt artifacts readers should use.

    A warehouse that ``billready refresh`` manages has a ``current.json`` naming its published
    snapshot (``snapshots/<id>/``); any other directory (a build workspace, a test's scratch
    warehouse) holds its files itself.
    """
    pointer = warehouse / CURRENT_POINTER
    try:
        snapshot = json.loads(pointer.read_text())["snapshot"]
    except FileNotFoundError:
        return warehouse
    except (ValueError, KeyError, OSError) as exc:
        from billready.errors import WarehouseError

        raise WarehouseError(f"{pointer} is unreadable ({exc}); run `billready refresh` to publish again") from exc
    return warehouse / "snapshots" / snapshot


def database_path(warehouse: Path) -> Path:
    """The DuckDB file of a warehouse: its published snapshot's, or its own when it has none."""
    return serving_dir(warehouse) / DATABASE_FILE


def dbt_target_dir(warehouse: Path, target: str = DEFAULT_TARGET) -> Path:
    """dbt's artifacts (manifest, semantic manifest, run results) live beside the data they built."""
    if target != DEFAULT_TARGET:  # another engine's build (billready.spark) lives beside the snapshots
        return warehouse / target / "target"
    return serving_dir(warehouse) / "target"


def spark_dir(warehouse: Path) -> Path:
    """The Spark build of a warehouse: raw Parquet, metastore and tables (``--target spark``)."""
    return warehouse / "spark"


def semantic_manifest_path(warehouse: Path) -> Path:
    """The semantic manifest dbt wrote for the warehouse's last build."""
    return dbt_target_dir(warehouse) / "semantic_manifest.json"


def project_dir() -> Path:
    """The dbt project (the directory holding dbt_project.yml).

    ``$BILLREADY_PROJECT_DIR`` wins; otherwise the repository this package was installed from.
    """
    if os.environ.get(PROJECT_ENV):
        return Path(os.environ[PROJECT_ENV]).expanduser().resolve()
    return Path(__file__).resolve().parents[2]


def demo_export_dir() -> Path:
    """The demo Autotask export shipped in the repository."""
    return project_dir() / "demo" / "autotask"
