"""dbt docs: `dbt docs generate` succeeds, every mart column is documented, the report is an exposure."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from billready import settings
from billready.build import run_dbt


@pytest.fixture(scope="module")
def docs_target(demo_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    warehouse = tmp_path_factory.mktemp("docs") / "warehouse"
    shutil.copytree(demo_warehouse, warehouse)
    run_dbt(warehouse, ["docs", "generate"], quiet=True)
    return settings.dbt_target_dir(warehouse)


def test_docs_generate_writes_the_catalog(docs_target: Path) -> None:
    assert (docs_target / "catalog.json").exists()
    assert (docs_target / "index.html").exists()


def test_every_mart_column_is_documented(docs_target: Path) -> None:
    manifest = json.loads((docs_target / "manifest.json").read_text())
    catalog = json.loads((docs_target / "catalog.json").read_text())
    marts = {
        unique_id: node
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and node["original_file_path"].startswith("models/marts/")
    }
    assert {"model.billready.bi_contract_milestones", "model.billready.bi_charges"} <= set(marts)
    undocumented = []
    for unique_id, node in marts.items():
        assert node["description"], f"{unique_id} has no description"
        documented = {name.lower(): column["description"] for name, column in node["columns"].items()}
        for column in catalog["nodes"][unique_id]["columns"]:
            if not documented.get(column.lower()):
                undocumented.append(f"{node['name']}.{column}")
    assert not undocumented, undocumented


def test_the_report_is_a_dbt_exposure(docs_target: Path) -> None:
    manifest = json.loads((docs_target / "manifest.json").read_text())
    exposure = manifest["exposures"]["exposure.billready.billready_report"]
    assert exposure["type"] == "dashboard"
    assert "model.billready.bi_contract_milestones" in exposure["depends_on"]["nodes"]
