"""The billing-close gate: conflicted pipeline milestones in fixing order, and an exit code."""
from __future__ import annotations

import json
import logging
import textwrap
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from json.encoder import encode_basestring_ascii
from typing import Any, TextIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from billready.errors import UsageError
from billready.formatting import money, plain
from billready.report import ACTION_LIST_SQL, FINDINGS_ACTION_SQL, Report

logger = logging.getLogger(__name__)

STAGES = ("incomplete", "complete", "approved", "unmapped")
DEFAULT_FAIL_ON = ("approved",)
CHECK_KPIS = ("total_milestones", "conflicts_found", "revenue_at_risk", "charges_conflicts")
BATCH_ROWS = 10_000
"""Rows per Arrow record batch when check reads the findings (at most one batch is in memory)."""


def _no_findings() -> pa.RecordBatchReader:
    return pa.RecordBatchReader.from_batches(pa.schema([]), [])


@dataclass(frozen=True)
class Findings:
    """Every finding in fixing order, without holding them (a large tenant has a million): the
    count per category is at hand; the rows are read from the warehouse a record batch at a time,
    each time they are iterated, so only while the warehouse is open."""

    by_category: dict[str, int] = field(default_factory=dict)
    """Findings per rule category; categories without findings are left out."""
    read: Callable[[], pa.RecordBatchReader] = _no_findings
    """Runs the findings query: its rows in fixing order, as Arrow record batches."""

    @classmethod
    def of(cls, rows: list[dict[str, Any]]) -> Findings:
        """Findings from rows at hand (each with at least a ``category``), in their order."""
        table = pa.Table.from_pylist(rows)
        by_category = Counter(str(row["category"]) for row in rows)
        return cls(dict(by_category), lambda: pa.RecordBatchReader.from_batches(table.schema, table.to_batches()))

    def __len__(self) -> int:
        return sum(self.by_category.values())

    def __iter__(self) -> Iterator[dict[str, Any]]:
        """Every finding as a dict of JSON-friendly values, read batch by batch."""
        with self.read() as reader:
            for batch in reader:
                for row in batch.to_pylist():
                    yield {key: plain(value) for key, value in row.items()}

    def beyond(self, category: str) -> dict[str, int]:
        """Findings per category, for every category but ``category``."""
        return {name: count for name, count in self.by_category.items() if name != category}


@dataclass(frozen=True)
class CheckResult:
    """KPIs, the charge allocation split, the conflicted milestones and the findings."""

    kpis: dict[str, Any]
    charges_by_allocation: dict[str, int]
    milestones: list[dict[str, Any]]
    fail_on: tuple[str, ...]
    findings: Findings = field(default_factory=Findings)
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)
    """The rule catalogue by code: title, category, severity, fix_title, fix_steps, is_evaluated."""

    @property
    def blocking(self) -> list[dict[str, Any]]:
        """Conflicted milestones in a --fail-on stage."""
        return [m for m in self.milestones if m["stage"] in self.fail_on]

    @property
    def exit_code(self) -> int:
        """1 when a milestone in a --fail-on stage has a conflict, else 0."""
        return 1 if self.blocking else 0

    def as_json(self) -> dict[str, Any]:
        """The result as one JSON document, every finding in it (:meth:`write_json` writes the
        same document without holding the findings)."""
        return self._document(list(self.findings))

    def _document(self, findings: list[dict[str, Any]] | str) -> dict[str, Any]:
        return {
            "kpis": self.kpis,
            "charges_by_allocation": self.charges_by_allocation,
            "fail_on": list(self.fail_on),
            "blocking_milestones": len(self.blocking),
            "milestones": self.milestones,
            "findings": findings,
            "rules_not_evaluated": sorted(code for code, rule in self.rules.items() if not rule["is_evaluated"]),
        }

    def write_json(self, out: TextIO) -> None:
        """Write ``json.dumps(self.as_json(), indent=2)`` to ``out``, the findings read and
        written a record batch at a time."""
        marker = "\u0000findings\u0000"
        # Only rule codes follow the findings in the document: the marker's last occurrence is it.
        head, _, tail = json.dumps(self._document(marker), indent=2).rpartition(json.dumps(marker))
        written = 0
        with self.findings.read() as reader:  # the query runs (or fails) before anything is written
            out.write(head + "[")
            for batch in reader:
                records = _json_records(batch)
                if records:
                    out.write(("," if written else "") + ",".join(_LIST_ITEM + record for record in records))
                    written += len(records)
        out.write(("\n  ]" if written else "]") + tail)
        logger.debug("check: wrote %d findings", written)

    def fixes(self) -> list[dict[str, Any]]:
        """The catalogue's fix for every rule the conflicted milestones break, in catalogue order."""
        codes = {code for milestone in self.milestones for code in milestone["conflicts"]}
        return [rule for code, rule in self.rules.items() if code in codes]


def parse_fail_on(text: str) -> tuple[str, ...]:
    """Parse ``--fail-on`` (comma list of stages); unknown stages are an error."""
    stages = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [stage for stage in stages if stage not in STAGES]
    if unknown or not stages:
        raise UsageError(
            f"--fail-on takes a comma list of {', '.join(STAGES)}; got {text!r}"
        )
    return stages


def run_check(report: Report, fail_on: tuple[str, ...] = DEFAULT_FAIL_ON) -> CheckResult:
    """Evaluate the gate over a built warehouse.

    The findings are counted per category (the rule catalogue's live counts), not read: the
    result reads them from ``report`` when they are iterated or written (:meth:`CheckResult.write_json`),
    so ``report``'s warehouse must still be open then.
    """
    kpi_row = report.kpi_overview().result.frame.iloc[0]
    kpis = {name: plain(kpi_row[name]) or 0 for name in CHECK_KPIS}
    allocation = report.charge_allocation().result.frame
    charges_by_allocation = {
        str(row.allocation_target): int(row.total_charges) for row in allocation.itertuples()
    }
    milestones = []
    with report.list_batches(ACTION_LIST_SQL) as batches:
        for batch in batches:
            for row in batch.to_pylist():
                milestones.append(
                    {
                        "milestone_id": plain(row["milestone_id"]),
                        "stage": row["stage"],
                        "amount": plain(row["amount"]),
                        "conflicts": sorted(str(code) for code in row["conflicts"]),
                        "priority_rank": plain(row["priority_rank"]),
                        "title": row["milestone_title"],
                        "company_name": row["company_name"],
                        "project_name": row["project_name"],
                        "contract_name": row["contract_name"],
                        "due_date": plain(row["due_date"]),
                    }
                )
    rules: dict[str, dict[str, Any]] = {}
    by_category: Counter[str] = Counter()
    for row in report.rule_findings().result.frame.to_dict(orient="records"):
        rules[str(row["rule_code"])] = {key: plain(row[key]) for key in (
            "rule_code", "title", "category", "severity", "fix_title", "fix_steps", "is_evaluated", "not_evaluated_reason",
        )}
        # The live count of findings per rule, through the same filters and scope as the list.
        if plain(row["findings"]):
            by_category[str(row["category"])] += int(row["findings"])

    def read_findings() -> pa.RecordBatchReader:
        return report.list_batches(FINDINGS_ACTION_SQL, BATCH_ROWS)

    findings = Findings(dict(by_category), read_findings)
    logger.debug("check: %d conflicted milestones, %d findings", len(milestones), len(findings))
    return CheckResult(kpis, charges_by_allocation, milestones, fail_on, findings, rules)


# json.dumps(document, indent=2) puts a finding at depth 2 (the document, its findings list) and
# the finding's keys at depth 3; the findings are written in the same layout.
_LIST_ITEM = "\n    "
_KEY_INDENT = "\n      "


def _json_value(value: Any) -> str:
    """``value`` as json.dumps writes ``plain(value)`` at a finding's key in the document."""
    value = plain(value)
    if isinstance(value, (list, dict)):
        return json.dumps(value, indent=2).replace("\n", _KEY_INDENT)
    return json.dumps(value)


def _json_column(column: pa.Array) -> list[str]:
    """Every value of a column as JSON text; each distinct value is encoded once."""
    if pa.types.is_integer(column.type):
        return pc.fill_null(pc.cast(column, pa.string()), "null").to_pylist()
    try:
        encoded = pc.dictionary_encode(column)
    except pa.ArrowNotImplementedError:  # nested types (lists): value by value
        return [_json_value(value) for value in column.to_pylist()]
    distinct = encoded.dictionary
    if pa.types.is_string(distinct.type) or pa.types.is_large_string(distinct.type):
        texts = list(map(encode_basestring_ascii, distinct.to_pylist()))  # what json.dumps does to a str
    else:
        texts = [_json_value(value) for value in distinct.to_pylist()]
    texts.append("null")
    indices = pc.fill_null(encoded.indices, len(texts) - 1).to_numpy()
    return np.asarray(texts, dtype=object)[indices].tolist()


def _json_records(batch: pa.RecordBatch) -> list[str]:
    """Each row of a batch as the JSON object json.dumps(document, indent=2) writes for it."""
    if not batch.num_columns:
        return ["{}"] * batch.num_rows
    template = "{" + ",".join(
        _KEY_INDENT + json.dumps(name).replace("%", "%%") + ": %s" for name in batch.schema.names
    ) + _LIST_ITEM + "}"
    return [template % values for values in zip(*(_json_column(column) for column in batch.columns))]


def to_markdown(result: CheckResult) -> str:
    """The gate's result as Markdown, for a chat post or a mail body."""
    kpis = result.kpis
    status = "FAIL" if result.exit_code else "PASS"
    lines = [
        f"## billready check: {status}",
        "",
        f"- Pipeline milestones: {kpis['total_milestones']:,}",
        f"- Conflicts found: {kpis['conflicts_found']:,}",
        f"- Revenue at risk: {money(kpis['revenue_at_risk'])}",
        f"- Charges conflicts: {kpis['charges_conflicts']:,}",
        f"- Failing stages: {', '.join(result.fail_on)} ({len(result.blocking)} milestone(s) block the run)",
        "",
    ]
    if not result.milestones:
        lines.append("No pipeline milestone carries a conflict.")
        return "\n".join(lines)
    lines += [
        "| # | Milestone | Stage | Company | Project | Amount | Due | Conflicts |",
        "|---:|---|---|---|---|---:|---|---|",
    ]
    for m in result.milestones:
        cells = [
            str(m["priority_rank"]),
            f"{m['title'] or ''} ({m['milestone_id']})",
            m["stage"] + (" **blocking**" if m["stage"] in result.fail_on else ""),
            m["company_name"] or "",
            m["project_name"] or "",
            money(m["amount"]),
            m["due_date"] or "",
            ", ".join(m["conflicts"]),
        ]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    lines += ["", "### How to fix"]
    for rule in result.fixes():
        lines += ["", f"**{rule['title']}** (`{rule['rule_code']}`): {rule['fix_title']}.", "", rule["fix_steps"]]
    return "\n".join(lines)


def to_junit(result: CheckResult) -> str:
    """The gate's result as JUnit XML: one test case per conflicted pipeline milestone, failing
    when its stage is a --fail-on stage, plus one case for the gate itself."""
    from xml.etree import ElementTree as ET

    suite = ET.Element(
        "testsuite",
        name="billready check",
        tests=str(len(result.milestones) + 1),
        failures=str(len(result.blocking) + (1 if result.exit_code else 0)),
        errors="0",
        skipped="0",
    )
    gate = ET.SubElement(suite, "testcase", classname="billready.gate", name=f"no conflicts in stages {','.join(result.fail_on)}")
    if result.exit_code:
        ET.SubElement(gate, "failure", message=f"{len(result.blocking)} milestone(s) in a failing stage carry conflicts")
    for m in result.milestones:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"billready.milestones.{m['stage']}",
            name=f"milestone {m['milestone_id']}: {m['title'] or ''}",
        )
        detail = (
            f"{m['company_name'] or '?'} / {m['project_name'] or 'no project'}: {money(m['amount'])} "
            f"due {m['due_date'] or '?'}; conflicts: {', '.join(m['conflicts'])}"
        )
        if m["stage"] in result.fail_on:
            ET.SubElement(case, "failure", message=", ".join(m["conflicts"])).text = detail
        else:
            ET.SubElement(case, "system-out").text = detail
    ET.indent(suite)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, encoding="unicode")


def to_text(result: CheckResult) -> str:
    """The gate's result for a terminal: KPIs, the milestones in fixing order, the fixes."""
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
    if result.milestones:
        lines.append("")
        lines.append("How to fix:")
        for rule in result.fixes():
            lines.append(f"  {rule['title']} ({rule['rule_code']}): {rule['fix_title']}.")
            lines.append(textwrap.indent(textwrap.fill(rule["fix_steps"], 96), "    "))
    other = result.findings.beyond("allocation")
    if other:
        lines.append("")
        lines.append(
            f"Beyond allocation: {sum(other.values())} more finding(s) in "
            f"{', '.join(sorted(other))} (`billready rules`, or the report's section 05)."
        )
    blocking = len(result.blocking)
    lines.append("")
    if blocking:
        lines.append(f"FAIL: {blocking} milestone(s) in stage {', '.join(result.fail_on)} carry conflicts.")
    else:
        lines.append(f"OK: no milestone in stage {', '.join(result.fail_on)} carries a conflict.")
    return "\n".join(lines)
