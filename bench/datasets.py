"""The exports a benchmark reads: sizes, the empty export, and changed copies for incremental runs.

* Sizes: ``S`` is the demo export (demo/autotask), ``M`` and ``L`` synthetic tenants written by
  ``billready synth`` (:func:`billready.synth.generate`); ``NAME=MILESTONES[/CHARGES]`` names any
  other synthetic size (the test suite runs ``T=300``).
* :func:`write_empty_export`: every entity file with its schema and zero rows, to measure dbt's
  fixed cost (a build with nothing to compute).
* :func:`write_changed_exports`: for the incremental refresh, a full copy of an export in which 1%
  of the ticket and project charges have a changed ``billableAmount`` (unchanged files are
  hard-linked), and a delta export holding only another 1% of those charges, changed.
"""
from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from billready import settings
from bench.peers import entity_files

logger = logging.getLogger(__name__)

CHANGED_ENTITIES = ("projectcharges", "ticketcharges")
CHARGE_ENTITIES = ("projectcharges", "contractcharges", "ticketcharges")
AMOUNT = "billableAmount"
CHANGE_EVERY = 100  # 1 row in 100: 1%
CHANGED_OFFSET, DELTA_OFFSET = 0, 50
CHANGED_BY, DELTA_BY = 1.25, 2.5


@dataclass(frozen=True)
class Size:
    """A benchmark size: the demo export (``milestones`` None) or a synthetic tenant."""

    name: str
    milestones: int | None = None
    charges: int | None = None

    @property
    def is_demo(self) -> bool:
        return self.milestones is None

    def describe(self) -> str:
        if self.is_demo:
            return f"{self.name} (the demo export)"
        charges = f"{self.charges:,}" if self.charges is not None else "default"
        return f"{self.name} ({self.milestones:,} milestones, {charges} charges)"


SIZES = {
    "S": Size("S"),
    "M": Size("M", 100_000, 1_000_000),
    "L": Size("L", 1_000_000, 10_000_000),
}


def parse_sizes(text: str) -> list[Size]:
    """``S,M,L`` or ``NAME=MILESTONES[/CHARGES]`` items, comma separated."""
    sizes = []
    for item in (part.strip() for part in text.split(",") if part.strip()):
        if "=" in item:
            name, spec = item.split("=", 1)
            milestones, _, charges = spec.partition("/")
            sizes.append(Size(name.strip(), int(milestones), int(charges) if charges else None))
        elif item.upper() in SIZES:
            sizes.append(SIZES[item.upper()])
        else:
            raise ValueError(f"unknown size {item!r}: use S, M, L or NAME=MILESTONES[/CHARGES]")
    return sizes


def demo_export() -> Path:
    return settings.demo_export_dir()


def export_rows(directory: Path) -> dict[str, int]:
    """Rows per data file of an export (Parquet from its metadata; CSV and JSON by reading)."""
    from bench.peers import _json_records

    rows = {}
    for stem, path in entity_files(directory).items():
        suffix = path.suffix.lower()
        if suffix == ".parquet":
            rows[path.stem] = pq.ParquetFile(path).metadata.num_rows
        elif suffix == ".csv":
            rows[path.stem] = pacsv.read_csv(path).num_rows
        else:
            rows[path.stem] = len(_json_records(path))
    return rows


def export_bytes(directory: Path) -> int:
    return sum(path.stat().st_size for path in directory.iterdir() if path.is_file())


def write_empty_export(source: Path, target: Path) -> list[Path]:
    """Copy every Parquet entity file of ``source`` to ``target`` with its schema and zero rows."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    written = []
    for path in sorted(source.glob("*.parquet")):
        schema = pq.read_schema(path)
        pq.write_table(schema.empty_table(), target / path.name)
        written.append(target / path.name)
    if not written:
        raise ValueError(f"{source} holds no Parquet entity files")
    return written


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _read(path: Path) -> pa.Table:
    if path.suffix.lower() == ".parquet":
        return pq.read_table(path)
    if path.suffix.lower() == ".csv":
        header = pacsv.read_csv(path, read_options=pacsv.ReadOptions(block_size=1 << 16)).schema.names
        return pacsv.read_csv(
            path,
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in header}, strings_can_be_null=True
            ),
        )
    raise ValueError(f"cannot change {path}: only Parquet and CSV charge files are supported")


def _write(table: pa.Table, path: Path) -> None:
    if path.suffix.lower() == ".parquet":
        pq.write_table(table, path)
    else:
        pacsv.write_csv(table, path)


def _amounts(table: pa.Table) -> pa.ChunkedArray:
    column = next(name for name in table.column_names if name.lower() == AMOUNT.lower())
    return pc.cast(table[column], pa.float64())


def _total(path: Path) -> float:
    table = _read(path)
    return float(pc.sum(_amounts(table)).as_py() or 0.0)


def _changed(table: pa.Table, offset: int, by: float) -> tuple[pa.Table, pa.Array]:
    """``table`` with ``billableAmount`` raised by ``by`` on rows ``offset``, ``offset + 100``, ...,
    and the mask of those rows."""
    import numpy as np

    column = next(name for name in table.column_names if name.lower() == AMOUNT.lower())
    index = np.arange(table.num_rows)
    mask = pa.array((index % CHANGE_EVERY) == offset)
    amounts = pc.fill_null(pc.cast(table[column], pa.float64()), 0.0)
    raised = pc.if_else(mask, pc.add(amounts, by), pc.cast(table[column], pa.float64()))
    original_type = table.schema.field(column).type
    raised = raised.cast(original_type) if not pa.types.is_string(original_type) else pc.cast(raised, pa.string())
    return table.set_column(table.column_names.index(column), column, raised), mask


def write_changed_exports(source: Path, changed: Path, delta: Path) -> dict[str, Any]:
    """Write ``changed`` (a full copy of ``source``, 1% of ticket and project charges changed) and
    ``delta`` (only another 1% of those charges, changed). Returns the changed row counts, the
    charge total of ``source`` and how much landing ``changed`` or ``delta`` adds to it (the two
    change different rows, so they add up in either order), and the totals after both in order."""
    for directory in (changed, delta):
        if directory.exists():
            shutil.rmtree(directory)
        directory.mkdir(parents=True)
    files = entity_files(source)
    counts: dict[str, dict[str, int]] = {}
    for path in sorted(source.iterdir()):
        if path.is_file() and path.stem.lower() not in CHANGED_ENTITIES:
            _link_or_copy(path, changed / path.name)
    total_after_changed = sum(_total(changed / files[stem].name) for stem in CHARGE_ENTITIES
                              if stem in files and stem not in CHANGED_ENTITIES)
    base_total = sum(_total(files[stem]) for stem in CHARGE_ENTITIES if stem in files)
    delta_difference = 0.0
    for stem in CHANGED_ENTITIES:
        if stem not in files:
            continue
        path = files[stem]
        table = _read(path)
        modified, mask = _changed(table, CHANGED_OFFSET, CHANGED_BY)
        _write(modified, changed / path.name)
        total_after_changed += float(pc.sum(_amounts(modified)).as_py() or 0.0)
        raised, delta_mask = _changed(table, DELTA_OFFSET, DELTA_BY)
        delta_rows = raised.filter(delta_mask)
        _write(delta_rows, delta / path.name)
        delta_difference += float(pc.sum(_amounts(delta_rows)).as_py() or 0.0) - float(
            pc.sum(_amounts(table.filter(delta_mask))).as_py() or 0.0
        )
        counts[path.stem] = {
            "rows": table.num_rows,
            "changed": int(pc.sum(mask).as_py() or 0),
            "delta": delta_rows.num_rows,
        }
        del table, modified, raised, delta_rows
    return {
        "files": counts,
        "charge_total_base": round(base_total, 2),
        "difference": {"changed": round(total_after_changed - base_total, 2), "delta": round(delta_difference, 2)},
        "charge_total_after_changed": round(total_after_changed, 2),
        "charge_total_after_delta": round(total_after_changed + delta_difference, 2),
    }
