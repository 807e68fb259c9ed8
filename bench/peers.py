"""The peers billready is measured against, reading the same export directory.

* :func:`pandas_peer`: what an analyst would write in a notebook: read the export with pandas
  (only the columns the rules need) and compute the four allocation rules and the KPIs
  (docs/rules.md; models/intermediate/rules/int_rule_*.sql, models/marts/bi_contract_milestones.sql,
  bi_charges.sql). Its figures must equal billready's exactly (:mod:`bench.compare`).
* :func:`one_pass`: the lower bound for any engine: one DuckDB pass reading every raw table of
  the export once (a row count and a sum per table), nothing joined, nothing written.

Both read ``<Entity>.parquet``, ``.csv`` or ``.json`` (an API response, a list of them, or a plain
list of records), with column names matched ignoring case, like ``billready ingest``; picklists
come from ``Picklists.*`` or ``<Entity>.fields.json``. The pandas peer leaves out what the
synthetic and demo exports never need (deduplicating repeated ids, deleted records).
"""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from billready import settings

logger = logging.getLogger(__name__)

ALLOCATION_RULES = (
    "contract_reference_mismatch",
    "missing_allocation_code",
    "charge_contract_mismatch",
    "project_without_contract",
)

# The columns of each entity the four rules and the KPIs read.
COLUMNS: dict[str, tuple[str, ...]] = {
    "ContractMilestones": ("id", "contractID", "projectID", "billingCodeID", "amount", "dateDue", "status"),
    "Contracts": ("id", "status", "endDate"),
    "Projects": ("id", "contractID"),
    "BillingCodes": ("id", "isActive"),
    "ContractServices": ("id", "contractID"),
    "Tickets": ("id", "projectID", "contractID"),
    "ProjectCharges": ("id", "projectID", "contractServiceID"),
    "ContractCharges": ("id", "contractID", "contractServiceID"),
    "TicketCharges": ("id", "ticketID", "contractServiceID"),
}
_IDS = {"id", "contractID", "projectID", "billingCodeID", "contractServiceID", "ticketID"}
_DATES = {"dateDue", "endDate"}
_TEXT = {"status"}
_PICKLIST_COLUMNS = ("entity", "field", "value", "label")
EXTENSIONS = (".parquet", ".csv", ".json")


@dataclass
class PeerResult:
    """A peer's figures, comparable with billready's (:func:`bench.compare.billready_figures`)."""

    kpis: dict[str, Any]
    rules: dict[str, int]
    charges_by_allocation: dict[str, int]
    timings: dict[str, float] = field(default_factory=dict)

    def figures(self) -> dict[str, Any]:
        return {"kpis": self.kpis, "rules": self.rules, "charges_by_allocation": self.charges_by_allocation}


# ------------------------------------------------------------------------------------------------
# Reading an export


def entity_files(directory: Path) -> dict[str, Path]:
    """Data files of an export by lower-case stem (``contractmilestones`` -> path); ``.fields.json``
    files are picklist sources, not entities, and are left out."""
    files = {}
    for path in sorted(directory.iterdir()):
        if path.suffix.lower() in EXTENSIONS and not path.name.lower().endswith(".fields.json"):
            files[path.stem.lower()] = path
    return files


def _json_records(path: Path) -> list[dict[str, Any]]:
    document = json.loads(path.read_text())
    pages = document if isinstance(document, list) else [document]
    records: list[dict[str, Any]] = []
    for page in pages:
        if isinstance(page, dict) and "items" in page:
            records.extend(page["items"])
        elif isinstance(page, dict):
            records.append(page)
    return records


def read_entity(directory: Path, entity: str, columns: tuple[str, ...]) -> pd.DataFrame:
    """``columns`` of an entity's file (any that the file lacks are empty), typed for the rules;
    an entity without a file is an empty frame."""
    path = entity_files(directory).get(entity.lower())
    wanted = {column.lower(): column for column in columns}
    if path is None:
        frame = pd.DataFrame({column: pd.Series(dtype="object") for column in columns})
    elif path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        present = [name for name in pq.read_schema(path).names if name.lower() in wanted]
        frame = pd.read_parquet(path, columns=present)
    elif path.suffix.lower() == ".csv":
        frame = pd.read_csv(path, usecols=lambda name: name.lower() in wanted, dtype=str, keep_default_na=False, na_values=[""])
    else:
        frame = pd.DataFrame.from_records(_json_records(path))
        frame = frame[[name for name in frame.columns if name.lower() in wanted]]
    frame = frame.rename(columns={name: wanted[name.lower()] for name in frame.columns})
    for column in columns:
        if column not in frame.columns:
            frame[column] = pd.Series(np.nan, index=frame.index, dtype="float64")
        frame[column] = _typed(frame[column], column)
    return frame[list(columns)]


def _typed(values: pd.Series, column: str) -> pd.Series:
    if column in _IDS or column == "amount":
        return pd.to_numeric(values, errors="coerce").astype("float64")
    if column in _DATES:
        return pd.to_datetime(values, errors="coerce").dt.normalize()
    if column in _TEXT:
        return _as_text(values)
    if column == "isActive":
        return values.map(_as_bool).astype("object")
    return values


def _as_text(values: pd.Series) -> pd.Series:
    """A value as the text the raw layer keeps for a picklist field (``1``, not ``1.0``)."""
    if pd.api.types.is_float_dtype(values):
        values = values.astype("Int64")
    text = values.astype("string")
    return text.where(values.notna())


def _as_bool(value: Any) -> Any:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    return None


def read_picklists(directory: Path) -> pd.DataFrame:
    """The tenant's picklists: ``Picklists.*`` rows and every ``<Entity>.fields.json``."""
    frames = []
    path = entity_files(directory).get("picklists")
    if path is not None:
        if path.suffix.lower() == ".parquet":
            frame = pd.read_parquet(path)
        elif path.suffix.lower() == ".csv":
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
        else:
            frame = pd.DataFrame.from_records(_json_records(path))
        frame = frame.rename(columns={name: name.lower() for name in frame.columns})
        frames.append(frame[list(_PICKLIST_COLUMNS)])
    for fields_file in sorted(directory.glob("*.fields.json")):
        entity = fields_file.name[: -len(".fields.json")]
        rows = [
            {"entity": entity, "field": item["name"], "value": choice["value"], "label": choice["label"]}
            for item in json.loads(fields_file.read_text()).get("fields", [])
            for choice in item.get("picklistValues") or []
        ]
        frames.append(pd.DataFrame(rows, columns=list(_PICKLIST_COLUMNS)))
    if not frames:
        return pd.DataFrame(columns=list(_PICKLIST_COLUMNS))
    picklists = pd.concat(frames, ignore_index=True)
    picklists["value"] = _as_text(picklists["value"])
    return picklists


def _seed(name: str) -> pd.DataFrame:
    return pd.read_csv(settings.project_dir() / "seeds" / f"{name}.csv", dtype=str, keep_default_na=False)


# ------------------------------------------------------------------------------------------------
# The pandas peer


def pandas_peer(directory: Path) -> PeerResult:
    """Read the export and compute the KPIs, the per-rule counts and the charge allocation split."""
    started = time.perf_counter()
    tables = {entity: read_entity(directory, entity, columns) for entity, columns in COLUMNS.items()}
    picklists = read_picklists(directory)
    read_s = time.perf_counter() - started
    result = compute_allocation_rules(tables, picklists)
    total_s = time.perf_counter() - started
    result.timings = {"read_s": round(read_s, 3), "compute_s": round(total_s - read_s, 3), "total_s": round(total_s, 3)}
    return result


def _labels(picklists: pd.DataFrame, entity: str, field_name: str) -> pd.Series:
    """value -> label for one picklist field: the tenant's when it landed any for the field,
    else Autotask's built-in values (seeds/autotask_default_picklists.csv)."""
    tenant = picklists[(picklists["entity"] == entity) & (picklists["field"] == field_name)]
    if tenant.empty:
        defaults = _seed("autotask_default_picklists")
        tenant = defaults[(defaults["entity_name"] == entity) & (defaults["field_name"] == field_name)].rename(
            columns={"picklist_value": "value", "picklist_label": "label"}
        )
    return tenant.drop_duplicates("value").set_index("value")["label"]


def compute_allocation_rules(tables: dict[str, pd.DataFrame], picklists: pd.DataFrame) -> PeerResult:
    """The four allocation rules and the KPIs over typed entity frames (:data:`COLUMNS`)."""
    milestones = tables["ContractMilestones"]
    contracts = tables["Contracts"]
    projects = tables["Projects"]
    codes = tables["BillingCodes"]
    services = tables["ContractServices"]
    tickets = tables["Tickets"]

    # Stage and pipeline: status -> label (picklist, else the value) -> stage (seed), else unmapped.
    stage_map = _seed("milestone_stage_map")
    stage_of = dict(zip(stage_map["status_label"].str.strip().str.lower(), stage_map["stage"]))
    label = milestones["status"].map(_labels(picklists, "ContractMilestones", "status")).fillna(milestones["status"]).astype("string")
    stage = label.str.strip().str.lower().map(stage_of).fillna("unmapped")
    stages = _seed("billing_stages")
    pipeline_stages = set(stages.loc[stages["is_in_pipeline"].str.lower() == "true", "stage"])
    in_pipeline = stage.isin(pipeline_stages)

    # Contracts: active when the status label is Active.
    contract_label = contracts["status"].map(_labels(picklists, "Contracts", "status")).fillna(contracts["status"]).astype("string")
    contract_active = pd.Series(
        (contract_label.str.strip().str.lower() == "active").fillna(False).to_numpy(), index=contracts["id"]
    )
    contract_end = pd.Series(contracts["endDate"].to_numpy(), index=contracts["id"])
    project_contract = pd.Series(projects["contractID"].to_numpy(), index=projects["id"])

    # A milestone's project: its projectID, else the only project on its contract.
    per_contract = projects.dropna(subset=["contractID"]).groupby("contractID")["id"].agg(["min", "count"])
    only_project = per_contract.loc[per_contract["count"] == 1, "min"]
    milestone_project = milestones["projectID"].fillna(milestones["contractID"].map(only_project))

    contract = milestones["contractID"]
    contract_exists = contract.isin(contracts["id"])
    associated_contract = milestone_project.map(project_contract)
    contract_reference_mismatch = (
        ~contract_exists
        | (contract_exists & ~contract.map(contract_active).fillna(True).astype(bool))
        | (contract.map(contract_end) < milestones["dateDue"]).fillna(False)
        | (associated_contract.notna() & (contract.isna() | (associated_contract != contract)))
    )

    code = milestones["billingCodeID"]
    code_active = pd.Series(codes["isActive"].to_numpy(), index=codes["id"])
    missing_allocation_code = (milestones["amount"] > 0) & (
        code.isna() | ~code.isin(codes["id"]) | code.map(code_active).eq(False)
    )

    project_without_contract = (
        milestones["projectID"].notna()
        & milestones["projectID"].isin(projects["id"])
        & milestones["projectID"].map(project_contract).isna()
    )

    # Charges: the project and contract each resolves to (docs/rules.md, "Charges").
    service_contract = pd.Series(services["contractID"].to_numpy(), index=services["id"])
    ticket_project = pd.Series(tickets["projectID"].to_numpy(), index=tickets["id"])
    ticket_contract = pd.Series(tickets["contractID"].to_numpy(), index=tickets["id"])
    project_charges = tables["ProjectCharges"]
    contract_charges = tables["ContractCharges"]
    ticket_charges = tables["TicketCharges"]
    charges = pd.concat(
        [
            pd.DataFrame({
                "source": "project",
                "charge": project_charges["id"],
                "project": project_charges["projectID"],
                "contract": project_charges["contractServiceID"].map(service_contract).fillna(
                    project_charges["projectID"].map(project_contract)
                ),
            }),
            pd.DataFrame({
                "source": "contract",
                "charge": contract_charges["id"],
                "project": np.nan,
                "contract": contract_charges["contractID"].fillna(
                    contract_charges["contractServiceID"].map(service_contract)
                ),
            }),
            pd.DataFrame({
                "source": "ticket",
                "charge": ticket_charges["id"],
                "project": ticket_charges["ticketID"].map(ticket_project),
                "contract": ticket_charges["contractServiceID"].map(service_contract).fillna(
                    ticket_charges["ticketID"].map(ticket_contract)
                ),
            }),
        ],
        ignore_index=True,
    )
    allocation = np.where(
        charges["contract"].notna(), "contract", np.where(charges["project"].notna(), "project", "unallocated")
    )
    charges_by_allocation = {
        target: int((allocation == target).sum()) for target in ("contract", "project", "unallocated")
    }

    # charge_contract_mismatch: a charge on the milestone's project resolving to another contract.
    candidates = charges.dropna(subset=["project", "contract"])
    pairs = pd.DataFrame({
        "milestone": milestones["id"], "milestone_contract": contract, "project": milestone_project,
        "in_pipeline": in_pipeline,
    }).dropna(subset=["project"]).merge(candidates, on="project")
    pairs = pairs[pairs["milestone_contract"].isna() | (pairs["contract"] != pairs["milestone_contract"])]
    charge_contract_mismatch = milestones["id"].isin(pairs["milestone"])
    charges_conflicts = int(len(pairs.loc[pairs["in_pipeline"], ["source", "charge"]].drop_duplicates()))

    flags = pd.DataFrame({
        "contract_reference_mismatch": contract_reference_mismatch,
        "missing_allocation_code": missing_allocation_code,
        "charge_contract_mismatch": charge_contract_mismatch,
        "project_without_contract": project_without_contract,
    }).fillna(False).astype(bool)
    flags = flags.apply(lambda flag: flag & in_pipeline)  # only pipeline milestones carry conflicts
    conflicted = flags.any(axis=1)
    kpis = {
        "total_milestones": int(in_pipeline.sum()),
        "conflicts_found": int(conflicted.sum()),
        "revenue_at_risk": float(milestones.loc[conflicted.to_numpy(), "amount"].sum()),
        "charges_conflicts": charges_conflicts,
    }
    rules = {rule: int(flags[rule].sum()) for rule in ALLOCATION_RULES}
    return PeerResult(kpis=kpis, rules=rules, charges_by_allocation=charges_by_allocation)


# ------------------------------------------------------------------------------------------------
# The lower bound: one pass over every raw table


_SUM_COLUMN = {"contractmilestones": "amount", "projectcharges": "billableAmount",
               "contractcharges": "billableAmount", "ticketcharges": "billableAmount"}


def one_pass(directory: Path, *, memory_limit: str | None = None, threads: int | None = None) -> dict[str, Any]:
    """Read every raw table of the export once in DuckDB: a row count and a sum (of the amount,
    else of ``id``) per table. Returns the seconds it took and each table's figures."""
    import duckdb

    started = time.perf_counter()
    connection = duckdb.connect()
    if memory_limit:
        connection.execute(f"SET memory_limit = '{memory_limit}'")
    if threads:
        connection.execute(f"SET threads = {int(threads)}")
    tables = {}
    for stem, path in entity_files(directory).items():
        if path.suffix.lower() == ".json":
            records = _json_records(path)  # the demo's API responses: small
            tables[stem] = {"rows": len(records), "sum": float(sum(r.get("id") or 0 for r in records))}
            continue
        reader = "read_parquet" if path.suffix.lower() == ".parquet" else "read_csv_auto"
        columns = [row[0] for row in connection.execute(f"describe select * from {reader}(?)", [str(path)]).fetchall()]
        by_lower = {column.lower(): column for column in columns}
        summed = by_lower.get(_SUM_COLUMN.get(stem, "id").lower()) or by_lower.get("id")
        expression = f'sum(try_cast("{summed}" as double))' if summed else "0"
        rows, total = connection.execute(f"select count(*), {expression} from {reader}(?)", [str(path)]).fetchone()
        tables[stem] = {"rows": int(rows), "sum": float(total or 0)}
    connection.close()
    return {"seconds": round(time.perf_counter() - started, 3), "tables": tables}


def iter_charge_files(directory: Path) -> Iterator[Path]:
    """The export's charge files (project, contract, ticket charges) that exist."""
    files = entity_files(directory)
    for stem in ("projectcharges", "contractcharges", "ticketcharges"):
        if stem in files:
            yield files[stem]
