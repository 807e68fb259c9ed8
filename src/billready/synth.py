"""A synthetic Autotask tenant of any size, with the demo export's proportions.

``billready synth --milestones N [--charges M] [--seed S] OUT`` writes an export directory that
``billready ingest`` lands like any other (``<Entity>.parquet`` by default, ``.csv`` on request):
Companies, BillingCodes, Contracts, ContractServices, Projects, ContractMilestones, Tickets,
ProjectCharges, ContractCharges, TicketCharges, BillingItems and Picklists.

Proportions are the demo tenant's (demo/README.md), scaled to ``N`` milestones and ``M`` charges
(default ``M = N * 1590 / 55``):

* milestone stages 31 : 12 : 4 : 8 (incomplete, complete, approved, billed), so 47 of every 55
  milestones are in the pipeline;
* 5 of every 47 pipeline milestones break one allocation rule each, in the mix 2 contract
  reference mismatch : 2 missing allocation code : 1 charge contract mismatch : 1 project
  without contract (each rule in its variants: ended, inactive or other-contract reference; no,
  inactive or unknown code). Billed milestones get the same defects as decoys; they must not count;
* charges 1092 : 267 : 231 unallocated, project and contract (break-fix ticket charges; charges on
  contract-less projects and their tickets; contract charges, contract tickets' charges and
  charges on contract projects);
* per 55 milestones: 13 companies, 15 fixed-price contracts carrying the milestones, 11 service
  contracts, 2 expired contracts, 5 contract-less projects and 31 contract services; 784 tickets
  per 1590 charges. The rules' boundary cases occur too (a due date equal to the contract's end,
  a zero amount without a code, a fixed-price contract with two projects).

The output is deterministic for a seed (each entity, and each chunk of a large one, has its own
random stream). Generation is vectorised with numpy and the large entities (tickets, charges) are
written in chunks of ``CHUNK_ROWS``, so a million milestones and ten million charges fit in a few
GB of memory. :class:`SynthSummary` carries the planned figures (stages, allocation split, rule
breaks, charge conflicts), which the built marts must reproduce.
"""
from __future__ import annotations

import datetime
import logging
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from billready.errors import UsageError

__all__ = ["DEMO_SNAPSHOT", "FORMATS", "SynthSummary", "generate"]

logger = logging.getLogger(__name__)

DEMO_SNAPSHOT = datetime.date(2026, 8, 21)  # the demo export's snapshot day
FORMATS = ("parquet", "csv")
CHUNK_ROWS = 1_000_000

# The demo tenant's proportions (per 55 milestones, per 1590 charges).
DEMO_MILESTONES, DEMO_CHARGES, DEMO_TICKETS = 55, 1590, 784
STAGES = {"incomplete": (1, 31), "complete": (2, 12), "approved": (3, 4), "billed": (4, 8)}
STATUS_LABELS = {1: "Incompleted", 2: "Completed", 3: "Approved for Billing", 4: "Billed"}
CONFLICTED_PER_PIPELINE = (5, 47)
RULE_WEIGHTS = {
    "contract_reference_mismatch": 2,
    "missing_allocation_code": 2,
    "charge_contract_mismatch": 1,
    "project_without_contract": 1,
}
ALLOCATION = {"unallocated": 1092, "project": 267, "contract": 231}
PROJECT_ALLOCATION = {"project_charges": 158, "ticket_charges": 109}
CONTRACT_ALLOCATION = {"ticket_charges": 72, "contract_charges": 84, "project_charges": 75}
PER_55 = {
    "companies": 13,
    "fixed_price_contracts": 15,
    "service_contracts": 11,
    "expired_contracts": 2,
    "free_projects": 5,
    "contract_services": 31,
}
CONTRACT_TYPES = [(1, "Time and Materials"), (3, "Fixed Price"), (4, "Block Hours"), (6, "Retainer"),
                  (7, "Recurring Service"), (8, "Per Ticket")]

# Record ids: one range per entity, like a tenant database hands them out.
_ID_BASE = {
    "Companies": 1_000, "BillingCodes": 29_682_800, "Contracts": 30_000_000,
    "ContractServices": 40_000_000, "Projects": 50_000_000, "ContractMilestones": 60_000_000,
    "Tickets": 100_000_000, "ProjectCharges": 200_000_000, "ContractCharges": 300_000_000,
    "TicketCharges": 400_000_000, "BillingItems": 500_000_000, "Invoices": 600_000_000,
}
UNKNOWN_BILLING_CODE = 29_682_999  # names no billing code

# (name, active, unit price) of the tenant's allocation codes, as in the demo.
BILLING_CODES = [
    ("Remote Support", True, 150.0), ("Onsite Support", True, 175.0),
    ("After Hours Support", True, 225.0), ("Project Labor", True, 165.0),
    ("Fixed Fee Milestone", True, 0.0), ("Managed Services - Recurring", True, 0.0),
    ("Block Hours", True, 140.0), ("vCISO Retainer", True, 0.0), ("Hardware", True, 0.0),
    ("Software & Licensing", True, 0.0), ("Materials & Cabling", True, 0.0), ("Travel", True, 0.0),
    ("Shipping & Handling", True, 0.0), ("Internal Time", True, 0.0),
    ("Legacy Fixed Fee", False, 0.0),
]
_CODE = {name: _ID_BASE["BillingCodes"] + 1 + i for i, (name, _, _) in enumerate(BILLING_CODES)}
_MILESTONE_CODES = np.array([_CODE["Fixed Fee Milestone"], _CODE["Project Labor"]])
_INACTIVE_CODE = _CODE["Legacy Fixed Fee"]

_COMPANY_WORDS = (
    ["Harbor Point", "Whitfield", "Cascade", "Northgate", "Bluestem", "Meridian", "Sable", "Evergreen",
     "Tri-County", "Lakeside", "Ridgeline", "Pemberton", "Granite", "Juniper", "Copperline", "Westbrook"],
    ["Dental Group", "& Crane LLP", "Precision Machining", "Family Medicine", "Realty Partners",
     "Logistics Inc.", "Architects", "Veterinary Clinic", "Credit Union", "Montessori School",
     "Construction Co.", "Accounting Group"],
)
_THEMES = np.array([
    "Office 365 Migration", "Server-to-Cloud Migration", "Network Refresh", "Wi-Fi Rollout",
    "EHR Server Migration", "Security Hardening", "Office Relocation", "Backup & DR Build",
    "Document Management Rollout", "VoIP Cutover", "Virtual Desktop Build", "Firewall Replacement",
], dtype=object)
_MILESTONE_TITLES = np.array([
    "Project kick-off", "Phase 1 – Discovery & design sign-off", "Phase 2 – Build complete",
    "Phase 3 – Pilot acceptance", "Migration cutover", "Hardware delivery & staging",
    "Training complete", "Go-live & 30-day hypercare", "Final acceptance", "Documentation handover",
], dtype=object)
_TICKET_TITLES = np.array([
    "Outlook keeps asking for password", "Printer offline", "New user setup", "VPN will not connect",
    "Replace failed laptop battery", "Slow workstation", "Shared drive access request",
    "Phone system down", "Monthly patching", "Backup job failed", "Onsite: cabling for new desk",
], dtype=object)
# (item, unit price, billing code) of charges.
_ITEMS = [
    ("Netgear 8-port unmanaged switch", 45.0, "Hardware"), ("Dell 24in monitor", 189.0, "Hardware"),
    ("Logitech MK270 wireless keyboard & mouse", 39.0, "Hardware"),
    ("Microsoft 365 Business Premium (1 month)", 22.0, "Software & Licensing"),
    ("Cat6 patch cables (10-pack)", 35.0, "Materials & Cabling"), ("Trip charge", 75.0, "Travel"),
    ("UPS battery replacement", 129.0, "Hardware"), ("Freight", 48.0, "Shipping & Handling"),
    ("SSD 1TB upgrade", 119.0, "Hardware"), ("Mileage", 0.67, "Travel"),
]
_ITEM_NAMES = np.array([item for item, _, _ in _ITEMS], dtype=object)
_ITEM_PRICES = np.array([price for _, price, _ in _ITEMS])
_ITEM_CODES = np.array([_CODE[code] for _, _, code in _ITEMS])

# Charge kinds, in the order their rows are generated.
_FREE, _CONTRACT_PROJECT, _CONFLICT = 0, 1, 2  # project charges
_BREAKFIX, _FREE_TICKET, _CONTRACT_TICKET = 0, 1, 2  # tickets and their charges


@dataclass(frozen=True)
class SynthSummary:
    """What :func:`generate` wrote, and the figures a build of it must show.

    ``rule_conflicts`` counts the pipeline milestones planned to break each allocation rule (one
    rule each); ``charges_conflicts`` the charges in a charge contract mismatch with them.
    """

    directory: Path
    seed: int
    snapshot: datetime.date
    files: tuple[Path, ...]
    rows: dict[str, int]
    stages: dict[str, int]
    charges_by_allocation: dict[str, int]
    rule_conflicts: dict[str, int]
    revenue_at_risk: float
    charges_conflicts: int

    @property
    def total_milestones(self) -> int:
        """Pipeline milestones (every stage but billed)."""
        return sum(count for stage, count in self.stages.items() if stage != "billed")

    @property
    def conflicts_found(self) -> int:
        """Pipeline milestones planned to break an allocation rule."""
        return sum(self.rule_conflicts.values())

    def summary(self) -> str:
        """A few lines for the command line."""
        stages = ", ".join(f"{count:,} {stage}" for stage, count in self.stages.items())
        split = ", ".join(f"{count:,} {target}" for target, count in self.charges_by_allocation.items())
        lines = [
            f"wrote a synthetic tenant (seed {self.seed}, snapshot {self.snapshot}) to {self.directory}",
            *(f"  {name:<20} {count:>12,}" for name, count in self.rows.items()),
            f"milestones: {stages}",
            f"planned conflicts: {self.conflicts_found:,} of {self.total_milestones:,} pipeline "
            f"milestones, ${self.revenue_at_risk:,.0f} at risk, {self.charges_conflicts:,} charge conflicts",
            f"charges: {split}",
        ]
        return "\n".join(lines)


def generate(
    directory: Path,
    *,
    milestones: int,
    charges: int | None = None,
    seed: int = 0,
    file_format: str = "parquet",
    snapshot: datetime.date = DEMO_SNAPSHOT,
    chunk_rows: int = CHUNK_ROWS,
) -> SynthSummary:
    """Write a synthetic export of ``milestones`` milestones and ``charges`` charges to ``directory``.

    ``charges`` defaults to the demo's 1590 per 55 milestones. Files already in ``directory`` with
    the same names are replaced; others are left alone.
    """
    if milestones < 1:
        raise UsageError("--milestones must be at least 1")
    if charges is None:
        charges = round(milestones * DEMO_CHARGES / DEMO_MILESTONES)
    if charges < 0:
        raise UsageError("--charges must not be negative")
    if file_format not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}")
    if chunk_rows < 1:
        raise UsageError("chunk_rows must be at least 1")
    directory.mkdir(parents=True, exist_ok=True)
    tenant = _Tenant(milestones, charges, seed, snapshot, chunk_rows)
    writer = _Writer(directory, file_format)
    writer.write("Companies", [tenant.companies()])
    writer.write("BillingCodes", [_billing_codes()])
    writer.write("Contracts", [tenant.contracts()])
    writer.write("ContractServices", [tenant.contract_services()])
    writer.write("Projects", [tenant.projects()])
    writer.write("ContractMilestones", [tenant.milestones()])
    writer.write("BillingItems", [tenant.billing_items()])
    writer.write("Tickets", tenant.tickets())
    writer.write("ProjectCharges", tenant.project_charges())
    writer.write("ContractCharges", tenant.contract_charges())
    writer.write("TicketCharges", tenant.ticket_charges())
    writer.write("Picklists", [_picklists()])
    summary = SynthSummary(
        directory=directory,
        seed=seed,
        snapshot=snapshot,
        files=tuple(writer.files),
        rows=dict(writer.rows),
        stages=tenant.stage_counts(),
        charges_by_allocation=dict(tenant.allocation),
        rule_conflicts=tenant.planned_rule_conflicts(),
        revenue_at_risk=tenant.planned_revenue_at_risk(),
        charges_conflicts=tenant.planned_charge_conflicts(),
    )
    logger.debug("%s", summary.summary().splitlines()[0])
    return summary


# ------------------------------------------------------------------------------------------------
# Helpers


def _split(total: int, weights: Sequence[float]) -> list[int]:
    """``total`` split in proportion to ``weights`` (largest remainders), summing to ``total``."""
    shares = np.asarray(weights, dtype=float)
    exact = total * shares / shares.sum()
    counts = np.floor(exact).astype(int)
    remainder = total - int(counts.sum())
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[:remainder]] += 1
    return [int(c) for c in counts]


def _scaled(milestones: int, per_55: int, minimum: int = 1) -> int:
    return max(minimum, round(milestones * per_55 / DEMO_MILESTONES))


def _rng(seed: int, *stream: str | int) -> np.random.Generator:
    """An independent random stream per (seed, entity[, chunk])."""
    key = [seed] + [zlib.crc32(s.encode()) if isinstance(s, str) else int(s) for s in stream]
    return np.random.default_rng(key)


def _days(start: datetime.date, offsets: np.ndarray) -> np.ndarray:
    """Dates ``start + offsets`` days, as datetime64[D]."""
    return np.datetime64(start, "D") + offsets.astype("timedelta64[D]")


def _at_time(days: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Timestamps during office hours on the given days (datetime64[s])."""
    seconds = rng.integers(7 * 3600 + 1800, 17 * 3600 + 2700, size=len(days))
    return days.astype("datetime64[s]") + seconds.astype("timedelta64[s]")


def _ids(entity: str, count: int, start: int = 0) -> np.ndarray:
    return _ID_BASE[entity] + 1 + np.arange(start, start + count, dtype=np.int64)


def _nullable(values: np.ndarray, missing: np.ndarray) -> pa.Array:
    return pa.array(values, mask=missing)


def _strings(values: np.ndarray | list[str]) -> pa.Array:
    return pa.array(values, type=pa.string())


def _billing_codes() -> pa.Table:
    return pa.table({
        "id": pa.array(list(_CODE.values()), type=pa.int64()),
        "name": _strings([name for name, _, _ in BILLING_CODES]),
        "externalNumber": _strings([str(4000 + 10 * i) for i in range(len(BILLING_CODES))]),
        "isActive": pa.array([active for _, active, _ in BILLING_CODES]),
        "unitPrice": pa.array([price for _, _, price in BILLING_CODES]),
    })


def _picklists() -> pa.Table:
    rows = [("ContractMilestones", "status", str(value), label) for value, label in STATUS_LABELS.items()]
    rows += [("Contracts", "contractType", str(value), label) for value, label in CONTRACT_TYPES]
    return pa.table({
        "entity": _strings([r[0] for r in rows]),
        "field": _strings([r[1] for r in rows]),
        "value": _strings([r[2] for r in rows]),
        "label": _strings([r[3] for r in rows]),
        "isActive": pa.array([True] * len(rows)),
    })


class _Writer:
    """Writes one file per entity, batch by batch, and counts rows."""

    def __init__(self, directory: Path, file_format: str) -> None:
        self.directory = directory
        self.file_format = file_format
        self.files: list[Path] = []
        self.rows: dict[str, int] = {}

    def write(self, entity: str, tables: Iterator[pa.Table] | list[pa.Table]) -> None:
        path = self.directory / f"{entity}.{self.file_format}"
        sink: pq.ParquetWriter | pacsv.CSVWriter | None = None
        rows = 0
        try:
            for table in tables:
                if sink is None:
                    sink = (
                        pq.ParquetWriter(path, table.schema, compression="zstd")
                        if self.file_format == "parquet"
                        else pacsv.CSVWriter(path, table.schema)
                    )
                sink.write_table(table)
                rows += table.num_rows
        finally:
            if sink is not None:
                sink.close()
        self.files.append(path)
        self.rows[entity] = rows
        logger.debug("%s: %d rows", path.name, rows)


# ------------------------------------------------------------------------------------------------
# The tenant


@dataclass
class _Tenant:
    """The master data (arrays, one element per record) and the plan; large entities stream."""

    n_milestones: int
    n_charges: int
    seed: int
    snapshot: datetime.date
    chunk_rows: int
    allocation: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        n = self.n_milestones
        self._size_master_data(n)
        self._plan_milestones(n)
        self._plan_projects()
        self._plan_charges()

    # -- master data -------------------------------------------------------------------------

    def _size_master_data(self, n: int) -> None:
        rng = _rng(self.seed, "master")
        self.n_companies = _scaled(n, PER_55["companies"], minimum=2)
        self.company_ids = np.concatenate([[0], _ids("Companies", self.n_companies - 1)])  # 0: the MSP
        self.company_names = np.array(
            ["Lamplight Technology Group"]
            + [
                f"{_COMPANY_WORDS[0][i % 16]} {_COMPANY_WORDS[1][(i // 16 + i) % 12]}"
                + (f" {i // 192 + 1}" if i >= 192 else "")
                for i in range(self.n_companies - 1)
            ],
            dtype=object,
        )
        n_fp = _scaled(n, PER_55["fixed_price_contracts"])
        n_service = _scaled(n, PER_55["service_contracts"])
        n_expired = _scaled(n, PER_55["expired_contracts"])
        self.n_fp, self.n_service, self.n_expired = n_fp, n_service, n_expired
        n_contracts = n_fp + n_service + n_expired
        self.contract_ids = _ids("Contracts", n_contracts)
        # contracts: [fixed price | service | expired]; clients only (index 1..)
        self.contract_company = rng.integers(1, self.n_companies, size=n_contracts)
        self.contract_theme = rng.integers(0, len(_THEMES), size=n_contracts)
        start = np.concatenate([
            rng.integers(60, 420, size=n_fp),
            rng.integers(100, 900, size=n_service),
            rng.integers(500, 800, size=n_expired),
        ])
        self.contract_start = _days(self.snapshot, -start)
        self.contract_type = np.concatenate([
            np.full(n_fp, 3),
            rng.choice([7, 7, 7, 4, 1, 6], size=n_service),
            np.full(n_expired, 3),
        ])
        self.contract_status = np.concatenate([np.ones(n_fp + n_service, int), np.zeros(n_expired, int)])
        # fixed-price ends follow their milestones (_plan_milestones); others are fixed here
        self.contract_end = np.concatenate([
            np.zeros(n_fp, "datetime64[D]"),
            self.contract_start[n_fp:n_fp + n_service] + np.timedelta64(730, "D"),
            _days(self.snapshot, -rng.integers(30, 200, size=n_expired)),
        ])
        self.contract_end_missing = np.zeros(n_contracts, bool)
        self.contract_end_missing[n_fp:n_fp + n_service] = self.contract_type[n_fp:n_fp + n_service] == 1
        self.n_services = _scaled(n, PER_55["contract_services"])
        self.service_contract = n_fp + rng.integers(0, n_service, size=self.n_services)
        self.service_ids = _ids("ContractServices", self.n_services)

    # -- milestones and their defects --------------------------------------------------------

    def _plan_milestones(self, n: int) -> None:
        rng = _rng(self.seed, "milestones")
        counts = _split(n, [count for _, count in STAGES.values()])
        self.status = rng.permutation(np.repeat([value for value, _ in STAGES.values()], counts))
        billed = self.status == STAGES["billed"][0]
        pipeline = ~billed
        self.pipeline = pipeline
        self.milestone_ids = _ids("ContractMilestones", n)
        self.fp_index = rng.permutation(n) % self.n_fp  # each fixed-price contract gets its share
        self.contract_index = self.fp_index.copy()
        due_offset = np.where(pipeline, rng.integers(-20, 220, size=n), -rng.integers(30, 300, size=n))
        self.due = _days(self.snapshot, due_offset)
        self.amount = (rng.integers(10, 250, size=n) * 100).astype(float)
        self.code = rng.choice(_MILESTONE_CODES, size=n, p=[0.8, 0.2])
        self.code_missing = np.zeros(n, bool)
        self.title = rng.integers(0, len(_MILESTONE_TITLES), size=n)
        self.created = _at_time(self.due - rng.integers(60, 200, size=n).astype("timedelta64[D]"), rng)
        # project association: -1 none; else an index into the projects planned later
        self.explicit_project = np.full(n, -1)

        # defects: 5 of 47 pipeline milestones break one rule; billed milestones get decoys
        self.rule = np.full(n, -1)
        self.variant = np.zeros(n, int)
        for group in (np.flatnonzero(pipeline), np.flatnonzero(billed)):
            k = round(len(group) * CONFLICTED_PER_PIPELINE[0] / CONFLICTED_PER_PIPELINE[1])
            chosen = rng.choice(group, size=k, replace=False) if k else np.array([], int)
            rules = np.repeat(np.arange(len(RULE_WEIGHTS)), _split(k, list(RULE_WEIGHTS.values())))
            self.rule[chosen] = rules
            for i in range(len(RULE_WEIGHTS)):  # each rule's variants in equal shares
                of_rule = chosen[rules == i]
                self.variant[of_rule] = rng.permutation(np.arange(len(of_rule)) % 3)
        crm, mac, ccm, pwc = (self.rule == i for i in range(4))
        ended = crm & (self.variant == 0)
        expired = crm & (self.variant == 1)
        other_contract = crm & (self.variant == 2)
        self.crm_other_contract = other_contract
        self.ccm, self.pwc = ccm, pwc

        # a clean pipeline milestone of zero amount and no code (boundary: not a conflict)
        clean = self.rule < 0
        zero = clean & pipeline & (rng.random(n) < 1 / DEMO_MILESTONES)
        self.amount[zero] = 0.0
        self.code_missing |= zero
        # missing allocation code: none, an inactive one, or one that does not exist
        self.code_missing |= mac & (self.variant == 0)
        self.code[mac & (self.variant == 1)] = _INACTIVE_CODE
        self.code[mac & (self.variant == 2)] = UNKNOWN_BILLING_CODE
        # a few clean milestones name their contract's project explicitly (no conflict)
        self.explicit_own = clean & (rng.random(n) < 0.08)
        # contract reference: on an expired contract instead of its fixed-price contract
        if expired.any():
            self.contract_index[expired] = (
                self.n_fp + self.n_service + rng.integers(0, self.n_expired, size=int(expired.sum()))
            )

        # fixed-price contract end: its last due date (of milestones not due after it), plus 0-120
        # days; a quarter end exactly on that date (boundary: equal is not a conflict)
        fp_end = np.full(self.n_fp, np.datetime64("NaT"), "datetime64[D]")
        on_time = ~ended & ~expired
        latest = np.full(self.n_fp, np.iinfo(np.int64).min)
        np.maximum.at(latest, self.fp_index[on_time], self.due[on_time].astype(np.int64))
        has_latest = latest > np.iinfo(np.int64).min
        slack = np.where(rng.random(self.n_fp) < 0.25, 0, rng.integers(1, 120, size=self.n_fp))
        fp_end[has_latest] = (latest[has_latest] + slack[has_latest]).astype("datetime64[D]")
        fallback = self.contract_start[: self.n_fp] + np.timedelta64(365, "D")
        fp_end[~has_latest] = fallback[~has_latest]
        self.contract_end[: self.n_fp] = fp_end
        if ended.any():  # due after the contract's end
            late = rng.integers(1, 60, size=int(ended.sum())).astype("timedelta64[D]")
            self.due[ended] = fp_end[self.fp_index[ended]] + late

    def _plan_projects(self) -> None:
        """Projects: [one per fixed-price contract | second ones | contract-less | dedicated]."""
        rng = _rng(self.seed, "projects")
        n_fp = self.n_fp
        second = rng.choice(n_fp, size=round(n_fp / 15), replace=False) if n_fp >= 8 else np.array([], int)
        n_free = _scaled(self.n_milestones, PER_55["free_projects"])
        ccm_rows = np.flatnonzero(self.ccm)
        other_rows = np.flatnonzero(self.crm_other_contract)
        n_dedicated = len(ccm_rows) + len(other_rows)
        # project -> contract index (-1: none) and company index
        contract = np.concatenate([
            np.arange(n_fp), second, np.full(n_free, -1),
            self.fp_index[ccm_rows],
            n_fp + rng.integers(0, self.n_service, size=len(other_rows)),  # another contract
        ])
        company = np.where(contract >= 0, self.contract_company[np.maximum(contract, 0)], 0)
        free_slice = slice(n_fp + len(second), n_fp + len(second) + n_free)
        company[free_slice] = np.where(
            rng.random(n_free) < 0.4, 0, rng.integers(1, self.n_companies, size=n_free)
        )
        self.project_contract, self.project_company = contract, company
        self.project_ids = _ids("Projects", len(contract))
        self.project_theme = np.where(contract >= 0, self.contract_theme[np.maximum(contract, 0)],
                                      rng.integers(0, len(_THEMES), size=len(contract)))
        self.project_start = _days(self.snapshot, -rng.integers(30, 500, size=len(contract)))
        self.free_projects = np.arange(free_slice.start, free_slice.stop)
        self.fp_projects = np.concatenate([np.arange(n_fp), np.arange(n_fp, n_fp + len(second))])
        dedicated = free_slice.stop + np.arange(n_dedicated)
        self.ccm_projects = dedicated[: len(ccm_rows)]
        # explicit project associations of the milestones
        self.explicit_project[ccm_rows] = self.ccm_projects
        self.explicit_project[other_rows] = dedicated[len(ccm_rows):]
        pwc_rows = np.flatnonzero(self.pwc)
        self.explicit_project[pwc_rows] = rng.choice(self.free_projects, size=len(pwc_rows))
        own = np.flatnonzero(self.explicit_own)
        self.explicit_project[own] = self.fp_index[own]
        self.ccm_rows = ccm_rows

    # -- charges and tickets -----------------------------------------------------------------

    def _plan_charges(self) -> None:
        rng = _rng(self.seed, "charges-plan")
        self.allocation = dict(zip(ALLOCATION, _split(self.n_charges, list(ALLOCATION.values()))))
        free_pc, free_tc = _split(self.allocation["project"], list(PROJECT_ALLOCATION.values()))
        contract_tc, contract_cc, contract_pc = _split(
            self.allocation["contract"], list(CONTRACT_ALLOCATION.values())
        )
        # charges on the charge-contract-mismatch milestones' projects (1-3 each, while they last)
        wanted = rng.integers(1, 4, size=len(self.ccm_rows))
        cumulative = np.cumsum(wanted)
        self.ccm_charges = np.clip(wanted - np.maximum(cumulative - contract_pc, 0), 0, None)
        n_conflict = int(self.ccm_charges.sum())
        self.project_charge_counts = (free_pc, contract_pc - n_conflict, n_conflict)
        self.contract_charge_count = contract_cc
        self.ticket_charge_counts = (self.allocation["unallocated"], free_tc, contract_tc)
        n_ticket_charges = sum(self.ticket_charge_counts)
        n_tickets = round(self.n_charges * DEMO_TICKETS / DEMO_CHARGES)
        weights = [c if c else 0 for c in self.ticket_charge_counts]
        self.ticket_counts = _split(n_tickets, weights) if n_ticket_charges else [0, 0, 0]
        for kind, count in enumerate(self.ticket_charge_counts):  # a charge needs a ticket
            if count and not self.ticket_counts[kind]:
                self.ticket_counts[kind] = 1
        ticket_kind = _rng(self.seed, "tickets-plan").permutation(
            np.repeat([_BREAKFIX, _FREE_TICKET, _CONTRACT_TICKET], self.ticket_counts).astype(np.int8)
        )
        self.ticket_kind = ticket_kind
        self.tickets_of_kind = [np.flatnonzero(ticket_kind == k) for k in range(3)]

    # -- the plan ----------------------------------------------------------------------------

    def stage_counts(self) -> dict[str, int]:
        return {stage: int((self.status == value).sum()) for stage, (value, _) in STAGES.items()}

    def _planned_conflicted(self) -> np.ndarray:
        conflicted = self.pipeline & (self.rule >= 0)
        ccm_ok = np.zeros(self.n_milestones, bool)
        ccm_ok[self.ccm_rows[self.ccm_charges > 0]] = True
        return conflicted & ((self.rule != 2) | ccm_ok)

    def planned_rule_conflicts(self) -> dict[str, int]:
        conflicted = self._planned_conflicted()
        return {rule: int((conflicted & (self.rule == i)).sum()) for i, rule in enumerate(RULE_WEIGHTS)}

    def planned_revenue_at_risk(self) -> float:
        return float(self.amount[self._planned_conflicted()].sum())

    def planned_charge_conflicts(self) -> int:
        return int(self.ccm_charges[self.pipeline[self.ccm_rows]].sum())

    # -- tables ------------------------------------------------------------------------------

    def companies(self) -> pa.Table:
        rng = _rng(self.seed, "companies")
        n = self.n_companies
        created = _at_time(_days(self.snapshot, -rng.integers(400, 4000, size=n)), rng)
        return pa.table({
            "id": pa.array(self.company_ids, type=pa.int64()),
            "companyName": _strings(self.company_names),
            "companyNumber": _strings([f"SYN-{i:07d}" for i in range(n)]),
            "companyType": pa.array(np.where(np.arange(n) == 0, 5, 1)),
            "isActive": pa.array(rng.random(n) < 0.97),
            "createDate": pa.array(created),
        })

    def _contract_values(self, fp_or_expired: np.ndarray) -> np.ndarray:
        """estimatedRevenue: a fixed-price (or expired) contract is worth its milestones plus
        10-30 %, rounded up to 1,000 (at least 25,000), except one in 15 (the demo's share), worth
        80 % of them (rule milestones_exceed_contract_value); a service contract 60,000."""
        rng = _rng(self.seed, "contract_values")
        n = len(self.contract_ids)
        totals = np.bincount(self.contract_index, weights=self.amount, minlength=n)
        over = rng.random(n) < 1 / PER_55["fixed_price_contracts"]
        margin = 1.1 + 0.2 * rng.random(n)
        covered = np.maximum(np.ceil(totals * margin / 1000) * 1000, 25_000.0)
        exceeded = np.maximum(np.floor(totals * 0.8 / 1000) * 1000, 1_000.0)
        values = np.where(over & (totals > 1_000), exceeded, covered)
        return np.where(fp_or_expired, values, 60_000.0)

    def contracts(self) -> pa.Table:
        n = len(self.contract_ids)
        names = [
            f"{self.company_names[c]} – {_THEMES[t]}" + (" (Fixed Price)" if k == 3 else "")
            for c, t, k in zip(self.contract_company, self.contract_theme, self.contract_type)
        ]
        fp_or_expired = self.contract_type == 3
        return pa.table({
            "id": pa.array(self.contract_ids),
            "companyID": pa.array(self.company_ids[self.contract_company]),
            "contractName": _strings(names),
            "contractNumber": _strings([f"C-{i:07d}" for i in range(n)]),
            "contractType": pa.array(self.contract_type),
            "status": pa.array(self.contract_status),
            "startDate": pa.array(self.contract_start.astype("datetime64[s]")),
            "endDate": _nullable(self.contract_end.astype("datetime64[s]"), self.contract_end_missing),
            "estimatedRevenue": pa.array(self._contract_values(fp_or_expired)),
            "isDefaultContract": pa.array(np.zeros(n, bool)),
        })

    def contract_services(self) -> pa.Table:
        rng = _rng(self.seed, "services")
        n = self.n_services
        return pa.table({
            "id": pa.array(self.service_ids),
            "contractID": pa.array(self.contract_ids[self.service_contract]),
            "serviceID": pa.array(29_683_000 + rng.integers(1, 20, size=n)),
            "unitPrice": pa.array(rng.integers(5, 60, size=n) * 5.0),
            "invoiceDescription": _strings(
                rng.choice(np.array(["Managed Workstation", "Managed Server", "Backup & Disaster Recovery",
                                     "Email Security", "Endpoint Protection"], dtype=object), size=n)
            ),
        })

    def projects(self) -> pa.Table:
        rng = _rng(self.seed, "project-rows")
        n = len(self.project_ids)
        has_contract = self.project_contract >= 0
        names = [
            f"{self.company_names[c]} – {_THEMES[t]}"
            for c, t in zip(self.project_company, self.project_theme)
        ]
        numbers = [f"P{d}.{i:06d}" for i, d in enumerate(np.datetime_as_string(self.project_start).tolist())]
        return pa.table({
            "id": pa.array(self.project_ids),
            "projectName": _strings(names),
            "projectNumber": _strings([n_.replace("-", "") for n_ in numbers]),
            "companyID": pa.array(self.company_ids[self.project_company]),
            "contractID": _nullable(self.contract_ids[np.maximum(self.project_contract, 0)], ~has_contract),
            "projectType": pa.array(np.where(self.project_company == 0, 5, 8)),
            "status": pa.array(rng.choice([1, 5, 8], size=n, p=[0.2, 0.3, 0.5])),
            "startDateTime": pa.array(self.project_start.astype("datetime64[s]")),
            "endDateTime": pa.array((self.project_start + np.timedelta64(180, "D")).astype("datetime64[s]")),
        })

    def milestones(self) -> pa.Table:
        n = self.n_milestones
        explicit = self.explicit_project >= 0
        titles = _MILESTONE_TITLES[self.title]
        return pa.table({
            "id": pa.array(self.milestone_ids),
            "contractID": pa.array(self.contract_ids[self.contract_index]),
            "title": _strings(titles),
            "description": _strings(np.full(n, "Billable on written client sign-off.", dtype=object)),
            "amount": pa.array(self.amount),
            "dateDue": pa.array(self.due.astype("datetime64[s]")),
            "status": pa.array(self.status),
            "isInitialPayment": pa.array(self.title == 0),
            "billingCodeID": _nullable(self.code, self.code_missing),
            "createDate": pa.array(self.created),
            "projectID": _nullable(self.project_ids[np.maximum(self.explicit_project, 0)], ~explicit),
        })

    def billing_items(self) -> pa.Table:
        rng = _rng(self.seed, "billing-items")
        rows = np.flatnonzero(~self.pipeline)
        n = len(rows)
        contract = self.contract_index[rows]
        posted = _at_time(self.due[rows] + rng.integers(1, 10, size=n).astype("timedelta64[D]"), rng)
        invoiced = rng.random(n) < 0.75
        return pa.table({
            "id": pa.array(_ids("BillingItems", n)),
            "milestoneID": pa.array(self.milestone_ids[rows]),
            "contractID": pa.array(self.contract_ids[contract]),
            "companyID": pa.array(self.company_ids[self.contract_company[contract]]),
            "billingCodeID": _nullable(self.code[rows], self.code_missing[rows]),
            "itemName": _strings(_MILESTONE_TITLES[self.title[rows]]),
            "itemDate": pa.array(self.due[rows].astype("datetime64[s]")),
            "postedDate": pa.array(posted),
            "extendedPrice": pa.array(self.amount[rows]),
            "totalAmount": pa.array(self.amount[rows]),
            "invoiceID": _nullable(_ids("Invoices", n), ~invoiced),
        })

    def _chunks(self, total: int) -> Iterator[tuple[int, int, int]]:
        """(chunk number, first row, row count) over ``total`` rows."""
        for number, start in enumerate(range(0, total, self.chunk_rows)):
            yield number, start, min(self.chunk_rows, total - start)

    def tickets(self) -> Iterator[pa.Table]:
        total = len(self.ticket_kind)
        if total == 0:
            yield self._ticket_table(np.array([], np.int8), 0, _rng(self.seed, "tickets", 0))
        for number, start, count in self._chunks(total):
            yield self._ticket_table(self.ticket_kind[start:start + count], start, _rng(self.seed, "tickets", number))

    def _ticket_table(self, kind: np.ndarray, start: int, rng: np.random.Generator) -> pa.Table:
        n = len(kind)
        free = kind == _FREE_TICKET
        on_contract = kind == _CONTRACT_TICKET
        project = rng.choice(self.free_projects, size=n) if len(self.free_projects) else np.zeros(n, int)
        contract = self.n_fp + rng.integers(0, self.n_service, size=n)
        company = np.where(
            free, self.project_company[project],
            np.where(on_contract, self.contract_company[contract], rng.integers(0, self.n_companies, size=n)),
        )
        created = _at_time(_days(self.snapshot, -rng.integers(0, 540, size=n)), rng)
        return pa.table({
            "id": pa.array(_ids("Tickets", n, start)),
            "ticketNumber": _strings([f"T{start + i:09d}" for i in range(n)]),
            "title": _strings(_TICKET_TITLES[rng.integers(0, len(_TICKET_TITLES), size=n)]),
            "companyID": pa.array(self.company_ids[company]),
            "contractID": _nullable(self.contract_ids[contract], ~on_contract),
            "projectID": _nullable(self.project_ids[project], ~free),
            "status": pa.array(rng.choice([1, 5, 7, 8], size=n, p=[0.1, 0.7, 0.05, 0.15])),
            "priority": pa.array(rng.choice([1, 2, 3], size=n, p=[0.1, 0.6, 0.3])),
            "createDate": pa.array(created),
        })

    def _charge_columns(self, n: int, rng: np.random.Generator) -> dict[str, pa.Array]:
        """The columns every charge entity shares."""
        item = rng.integers(0, len(_ITEMS), size=n)
        quantity = rng.integers(1, 6, size=n).astype(float)
        purchased = _days(self.snapshot, -rng.integers(0, 540, size=n))
        return {
            "name": _strings(_ITEM_NAMES[item]),
            "unitQuantity": pa.array(quantity),
            "unitPrice": pa.array(_ITEM_PRICES[item]),
            "billableAmount": pa.array(np.round(quantity * _ITEM_PRICES[item], 2)),
            "billingCodeID": pa.array(_ITEM_CODES[item]),
            "isBilled": pa.array(rng.random(n) < 0.6),
            "status": pa.array(np.ones(n, int)),
            "datePurchased": pa.array(purchased.astype("datetime64[s]")),
            "createDate": pa.array(_at_time(purchased, rng)),
        }

    def project_charges(self) -> Iterator[pa.Table]:
        counts = self.project_charge_counts
        kinds = _rng(self.seed, "project-charges-plan").permutation(
            np.repeat([_FREE, _CONTRACT_PROJECT, _CONFLICT], counts).astype(np.int8)
        )
        conflict_project = np.repeat(self.ccm_projects, self.ccm_charges)
        conflict_service = _rng(self.seed, "conflict-services").integers(0, self.n_services, size=len(conflict_project))
        used = 0
        for number, start, count in self._chunks(len(kinds)) if len(kinds) else [(0, 0, 0)]:
            rng = _rng(self.seed, "project-charges", number)
            kind = kinds[start:start + count]
            project = np.where(
                kind == _FREE,
                rng.choice(self.free_projects, size=count),
                rng.choice(self.fp_projects, size=count),
            )
            service = np.zeros(count, int)
            conflicts = np.flatnonzero(kind == _CONFLICT)
            project[conflicts] = conflict_project[used:used + len(conflicts)]
            service[conflicts] = conflict_service[used:used + len(conflicts)]
            used += len(conflicts)
            has_service = kind == _CONFLICT
            yield pa.table({
                "id": pa.array(_ids("ProjectCharges", count, start)),
                "projectID": pa.array(self.project_ids[project]),
                **self._charge_columns(count, rng),
                "contractServiceID": _nullable(self.service_ids[service], ~has_service),
            })

    def contract_charges(self) -> Iterator[pa.Table]:
        total = self.contract_charge_count
        for number, start, count in self._chunks(total) if total else [(0, 0, 0)]:
            rng = _rng(self.seed, "contract-charges", number)
            contract = self.n_fp + rng.integers(0, self.n_service, size=count)
            yield pa.table({
                "id": pa.array(_ids("ContractCharges", count, start)),
                "contractID": pa.array(self.contract_ids[contract]),
                **self._charge_columns(count, rng),
                "contractServiceID": _nullable(np.zeros(count, np.int64), np.ones(count, bool)),
            })

    def ticket_charges(self) -> Iterator[pa.Table]:
        kinds = _rng(self.seed, "ticket-charges-plan").permutation(
            np.repeat([_BREAKFIX, _FREE_TICKET, _CONTRACT_TICKET], self.ticket_charge_counts).astype(np.int8)
        )
        for number, start, count in self._chunks(len(kinds)) if len(kinds) else [(0, 0, 0)]:
            rng = _rng(self.seed, "ticket-charges", number)
            kind = kinds[start:start + count]
            ticket = np.zeros(count, np.int64)
            for k, tickets in enumerate(self.tickets_of_kind):
                rows = np.flatnonzero(kind == k)
                if len(rows):
                    ticket[rows] = tickets[rng.integers(0, len(tickets), size=len(rows))]
            yield pa.table({
                "id": pa.array(_ids("TicketCharges", count, start)),
                "ticketID": pa.array(_ids("Tickets", 1)[0] + ticket),
                **self._charge_columns(count, rng),
                "contractServiceID": _nullable(np.zeros(count, np.int64), np.ones(count, bool)),
            })
