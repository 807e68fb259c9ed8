"""The semantic manifest passes MetricFlow's config validations, so a broken metric fails the
tests, not the report; and every metric the report asks for exists."""
from __future__ import annotations

import json
from pathlib import Path

from metricflow_semantic_interfaces.validations.semantic_manifest_validator import (
    SemanticManifestValidator,
)
from metricflow_semantics.model.dbt_manifest_parser import parse_manifest_from_dbt_generated_manifest

from billready import report, settings


def test_semantic_manifest_is_valid(demo_warehouse: Path) -> None:
    text = settings.semantic_manifest_path(demo_warehouse).read_text()
    manifest = parse_manifest_from_dbt_generated_manifest(text)
    results = SemanticManifestValidator().validate_semantic_manifest(manifest)
    assert not results.has_blocking_issues, [str(issue) for issue in results.all_issues]
    assert not results.all_issues, [str(issue) for issue in results.all_issues]


def test_report_metrics_are_defined_once(demo_warehouse: Path) -> None:
    manifest = json.loads(settings.semantic_manifest_path(demo_warehouse).read_text())
    names = [metric["name"] for metric in manifest["metrics"]]
    assert len(names) == len(set(names))
    saved = {query["name"]: query for query in manifest["saved_queries"]}
    for request in report.REQUESTS:
        assert request.saved_query in saved
        assert set(saved[request.saved_query]["query_params"]["metrics"]) <= set(names)
