"""Generate the demo Autotask export shipped in ``demo/autotask/``.

Usage::

    python scripts/generate_demo_data.py [--output DIR]

Writes a realistic export of a fictional MSP's Autotask tenant (Lamplight Technology Group and its
twelve clients): the files ``billready ingest`` lands (CSV per entity, the Tickets query pages and
the BillingItems query response as JSON, and the ``entityInformation/fields`` picklists of
ContractMilestones and Contracts). Field names are the REST API's camelCase names
(docs/architecture.md, "The raw layer").

The data is built so that billready reproduces the published demo figures of the reference report
("Milestone Allocation Conflicts: Fix These Before You Invoice"):

* 47 milestones in the billing pipeline: 31 Incompleted, 12 Completed, 4 Approved for Billing
  (plus 8 Billed milestones, each posted as a BillingItems row, outside the pipeline);
* 5 of them carry at least one allocation conflict, $28,500 of revenue at risk, one or more
  occurrences of each of the four rules, and 3 charges in conflict;
* 1,590 charges: 1,092 unallocated, 267 allocated to a project only, 231 allocated to a contract;
* the rules' boundary cases among clean milestones (contract ending on the due date, a zero-amount
  milestone without an allocation code, a contract with two projects);
* at least one case of every other rule of the catalogue (seeds/conflict_rules.csv; timing,
  billing, contract, charge, schedule, split and agreement rules), made by ``apply_rule_cases`` after
  the tenant is built (so the random stream, and every published figure, stays as it is), and the
  optional inputs those rules read: ``MilestoneAllocations.csv``, ``MilestoneSplits.csv``,
  ``AgreementMilestones.csv`` and ``MilestoneAcceptances.csv``.

The output is fully deterministic: a fixed seed, fixed dates (the export is a snapshot taken on
2026-08-21) and the standard library only. Re-running it rewrites the same bytes.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
from datetime import date, datetime, timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = REPO_ROOT / "demo" / "autotask"

SEED = 20260821
SNAPSHOT = datetime(2026, 8, 21, 6, 0, 0)  # when the export was taken; nothing is dated after it
API_BASE = "https://webservices15.autotask.net/ATServicesRest/V1.0"
PAGE_SIZE = 500

# Target figures (asserted at the end of generation).
CHARGES_CONTRACT_TICKET = 72  # ticket charges on tickets that carry a contract
CHARGES_CONTRACT_CHARGES = 84  # ContractCharges rows
CHARGES_CONTRACT_PROJECT = 75  # project charges on contract-linked projects (3 of them mismatched)
CHARGES_PROJECT_PROJECT = 158  # project charges on projects without a contract
CHARGES_PROJECT_TICKET = 109  # ticket charges on tickets of contract-less projects
CHARGES_UNALLOCATED = 1092  # ticket charges on break-fix tickets (no project, no contract)

# Milestone status picklist values of this tenant (ContractMilestones.fields.json).
INCOMPLETE, COMPLETE, APPROVED, BILLED = 1, 2, 3, 4
MILESTONE_STATUSES = [(1, "Incompleted", True), (2, "Completed", False), (3, "Approved for Billing", False), (4, "Billed", False)]
# Contract type picklist values of this tenant (Contracts.fields.json).
TIME_AND_MATERIALS, FIXED_PRICE, BLOCK_HOURS, RETAINER, RECURRING_SERVICE, PER_TICKET = 1, 3, 4, 6, 7, 8
CONTRACT_TYPES = [
    (1, "Time and Materials"),
    (3, "Fixed Price"),
    (4, "Block Hours"),
    (6, "Retainer"),
    (7, "Recurring Service"),
    (8, "Per Ticket"),
]
# Values used for other picklist fields (no picklist file is shipped for them; see demo/README.md).
COMPANY_TYPE_CUSTOMER, COMPANY_TYPE_OWNER = 1, 5
PROJECT_TYPE_PROPOSAL, PROJECT_TYPE_INTERNAL, PROJECT_TYPE_CLIENT = 3, 5, 8
PROJECT_STATUS_NEW, PROJECT_STATUS_COMPLETE, PROJECT_STATUS_IN_PROGRESS = 1, 5, 8
TICKET_STATUS_NEW, TICKET_STATUS_COMPLETE, TICKET_STATUS_WAITING_CUSTOMER, TICKET_STATUS_IN_PROGRESS = 1, 5, 7, 8
TICKET_TYPE_SERVICE_REQUEST, TICKET_TYPE_INCIDENT = 1, 2
COUNTRY_US = 237
OWNER_COMPANY_ID = 0  # Autotask's "zero account": the tenant's own company

RESOURCES = {  # resource id -> name (Resources are not exported; ids appear on records)
    29682885: "Dana Whitcomb (owner)",
    29682901: "Marcus Bell (service manager)",
    29682913: "Priya Raman (project manager)",
    29682927: "Tom Okafor (senior engineer)",
    29682934: "Lena Fischer (engineer)",
    29682946: "Jake Moreau (help desk)",
    29682951: "Sofia Alvarez (help desk)",
    29682968: "Erin Gallagher (billing coordinator)",
}
OWNER, SERVICE_MANAGER, PROJECT_MANAGER, SENIOR_ENGINEER, ENGINEER, HELPDESK_1, HELPDESK_2, BILLING = RESOURCES
TECHS = [SENIOR_ENGINEER, ENGINEER, HELPDESK_1, HELPDESK_2, HELPDESK_1, HELPDESK_2]
QUEUES = {29682833: "Client Portal", 29682969: "Level I Support", 29682977: "Level II Support", 29683483: "Projects"}


# --------------------------------------------------------------------------------------------
# Helpers


def d(text: str) -> datetime:
    """A date (``YYYY-MM-DD``) at midnight."""
    return datetime.strptime(text, "%Y-%m-%d")


def ts(value: datetime | None) -> str | None:
    """The export's date-time text, ``YYYY-MM-DDTHH:MM:SS``."""
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%S")


def money(value: float) -> float:
    return round(float(value), 2)


class IdSequence:
    """Increasing record ids with small gaps, like a shared tenant database hands them out."""

    def __init__(self, rng: random.Random, start: int, max_gap: int = 6) -> None:
        self._rng, self._next, self._max_gap = rng, start, max_gap

    def __call__(self) -> int:
        value = self._next
        self._next += self._rng.randint(1, self._max_gap)
        return value


def business_time(rng: random.Random, day: datetime) -> datetime:
    """A time of day during office hours on ``day`` (moved off weekends)."""
    while day.weekday() >= 5:
        day += timedelta(days=1)
    minutes = rng.randint(7 * 60 + 30, 17 * 60 + 45)
    return day.replace(hour=minutes // 60, minute=minutes % 60, second=rng.randint(0, 59))


def random_day(rng: random.Random, start: datetime, end: datetime) -> datetime:
    return start + timedelta(days=rng.randint(0, (end - start).days))


# --------------------------------------------------------------------------------------------
# The tenant: companies, billing codes, contracts, projects, milestones (hand-specified)

COMPANIES = [
    # key, name, number, address, city, state, zip, phone, web, created
    ("own", "Lamplight Technology Group", "LTG-0000", "400 Commercial St, Suite 210", "Manchester", "NH", "03101",
     "603-555-0100", "www.lamplighttech.example", "2014-03-03"),
    ("hpd", "Harbor Point Dental Group", "HPDG-0101", "88 Fore Street", "Portland", "ME", "04101",
     "207-555-0142", "www.harborpointdental.example", "2019-05-14"),
    ("wcl", "Whitfield & Crane LLP", "WCLL-0102", "One State House Square, 9th Floor", "Hartford", "CT", "06103",
     "860-555-0177", "www.whitfieldcrane.example", "2018-11-02"),
    ("cpm", "Cascade Precision Machining", "CPMA-0103", "1250 Industrial Park Dr", "Nashua", "NH", "03062",
     "603-555-0118", "www.cascadeprecision.example", "2020-02-18"),
    ("nfm", "Northgate Family Medicine", "NGFM-0104", "312 Lincoln Ave", "Worcester", "MA", "01605",
     "508-555-0163", "www.northgatefm.example", "2021-01-11"),
    ("brp", "Bluestem Realty Partners", "BSRP-0105", "45 Westminster St", "Providence", "RI", "02903",
     "401-555-0129", "www.bluestemrealty.example", "2023-09-25"),
    ("mli", "Meridian Logistics Inc.", "MRLI-0106", "7 Distribution Way", "Springfield", "MA", "01104",
     "413-555-0190", "www.meridianlogistics.example", "2019-08-06"),
    ("sfa", "Sable & Finch Architects", "SFAR-0107", "160 Bank Street", "Burlington", "VT", "05401",
     "802-555-0136", "www.sablefinch.example", "2022-04-19"),
    ("evc", "Evergreen Veterinary Clinic", "EGVC-0108", "21 Loudon Rd", "Concord", "NH", "03301",
     "603-555-0155", "www.evergreenvet.example", "2021-06-28"),
    ("tcu", "Tri-County Credit Union", "TCCU-0109", "900 Elm Street", "Manchester", "NH", "03101",
     "603-555-0171", "www.tricountycu.example", "2017-10-09"),
    ("lms", "Lakeside Montessori School", "LKMS-0110", "5 Pleasant Point Rd", "Portsmouth", "NH", "03801",
     "603-555-0148", "www.lakesidemontessori.example", "2022-08-15"),
    ("rcc", "Ridgeline Construction Co.", "RDCC-0111", "2200 Middlesex St", "Lowell", "MA", "01851",
     "978-555-0184", "www.ridgelineconstruction.example", "2024-02-12"),
    ("pag", "Pemberton Accounting Group", "PMAG-0112", "50 Franklin St, 3rd Floor", "Worcester", "MA", "01608",
     "508-555-0112", "www.pembertoncpa.example", "2020-12-01"),
]
CLIENT_KEYS = [c[0] for c in COMPANIES if c[0] != "own"]
# relative ticket volume per company (break-fix and contract work)
TICKET_WEIGHTS = {"own": 3, "hpd": 14, "wcl": 11, "cpm": 9, "nfm": 12, "brp": 6, "mli": 10, "sfa": 6, "evc": 7,
                  "tcu": 9, "lms": 6, "rcc": 5, "pag": 8}

BILLING_CODES = [
    # key, name, description, unit price, unit cost, active, external number
    ("remote", "Remote Support", "Remote help desk and engineering labor", 150.0, 0, True, "4000"),
    ("onsite", "Onsite Support", "Onsite engineering labor", 175.0, 0, True, "4010"),
    ("afterhours", "After Hours Support", "Emergency and after-hours labor (1.5x)", 225.0, 0, True, "4020"),
    ("project_labor", "Project Labor", "Project engineering labor and fixed-fee project billing", 165.0, 0, True, "4100"),
    ("fixed_fee", "Fixed Fee Milestone", "Fixed-price project milestone billing", 0.0, 0, True, "4110"),
    ("managed", "Managed Services - Recurring", "Recurring managed services (per device / per user)", 0.0, 0, True, "4200"),
    ("block", "Block Hours", "Prepaid block of support hours", 140.0, 0, True, "4210"),
    ("vciso", "vCISO Retainer", "Virtual CISO monthly retainer", 0.0, 0, True, "4220"),
    ("hardware", "Hardware", "Hardware resale", 0.0, 0, True, "4500"),
    ("software", "Software & Licensing", "Software and subscription resale", 0.0, 0, True, "4510"),
    ("materials", "Materials & Cabling", "Cabling, connectors and consumables", 0.0, 0, True, "4520"),
    ("travel", "Travel", "Mileage, trip charges and travel expenses", 0.0, 0, True, "4600"),
    ("shipping", "Shipping & Handling", "Freight and shipping pass-through", 0.0, 0, True, "4610"),
    ("internal", "Internal Time", "Non-billable internal work", 0.0, 0, True, "9000"),
    ("legacy_fixed_fee", "Legacy Fixed Fee", "Retired 2026-06: replaced by Fixed Fee Milestone", 0.0, 0, False, "4109"),
]

# Contracts. key, company, name, type, status, start, end, extras
#   extras: estimatedRevenue, renewed (key of the contract this one renews), number prefix, description
CONTRACTS = [
    ("msa_hpd_2024", "hpd", "Harbor Point Dental Group – Managed Services Agreement 2024–2025", RECURRING_SERVICE, 0,
     "2024-07-01", "2025-06-30", dict(revenue=50400, prefix="MSA", desc="Managed services, 14 workstations and 2 servers (expired; renewed)")),
    ("msa_tcu", "tcu", "Tri-County Credit Union – Managed Services Agreement", RECURRING_SERVICE, 1,
     "2025-01-01", "2027-12-31", dict(revenue=139200, prefix="MSA", desc="Co-managed IT with the credit union's IT officer")),
    ("msa_wcl", "wcl", "Whitfield & Crane LLP – Managed Services Agreement", RECURRING_SERVICE, 1,
     "2025-03-01", "2028-02-29", dict(revenue=118800, prefix="MSA", desc="Fully managed IT, 32 users")),
    ("msa_mli", "mli", "Meridian Logistics Inc. – Managed Services Agreement", RECURRING_SERVICE, 1,
     "2025-04-01", "2027-03-31", dict(revenue=96000, prefix="MSA", desc="Managed IT for office and warehouse")),
    ("msa_hpd", "hpd", "Harbor Point Dental Group – Managed Services Agreement 2025–2027", RECURRING_SERVICE, 1,
     "2025-07-01", "2027-06-30", dict(revenue=108000, prefix="MSA", renewed="msa_hpd_2024",
                                      desc="Managed services, 3 clinics")),
    ("fp_mli_wifi", "mli", "Meridian Logistics Inc. – Warehouse Wi-Fi & Scanner Rollout 2025–26 (Fixed Price)",
     FIXED_PRICE, 0, "2025-09-02", "2026-06-30", dict(revenue=31500, prefix="FP",
                                                       desc="Wi-Fi 6 coverage of warehouse aisles and dock doors; scanner re-enrolment")),
    ("msa_cpm", "cpm", "Cascade Precision Machining – Managed Services Agreement", RECURRING_SERVICE, 1,
     "2025-10-01", "2027-09-30", dict(revenue=86400, prefix="MSA", desc="Managed IT, office and shop floor")),
    ("msa_nfm", "nfm", "Northgate Family Medicine – Managed Services Agreement", RECURRING_SERVICE, 1,
     "2025-11-01", "2027-10-31", dict(revenue=79200, prefix="MSA", desc="HIPAA-aligned managed IT incl. backup & DR")),
    ("block_rcc", "rcc", "Ridgeline Construction Co. – 40 Hour Support Block (2026)", BLOCK_HOURS, 1,
     "2026-01-01", "2026-12-31", dict(revenue=5600, prefix="BH", hours=40, desc="Prepaid support hours, office and jobsites")),
    ("tm_brp", "brp", "Bluestem Realty Partners – Time & Materials Support", TIME_AND_MATERIALS, 1,
     "2026-01-01", None, dict(revenue=0, prefix="TM", desc="Ad-hoc support billed as used")),
    ("msa_sfa", "sfa", "Sable & Finch Architects – Managed Services Agreement", RECURRING_SERVICE, 1,
     "2026-01-01", "2027-12-31", dict(revenue=43200, prefix="MSA", desc="Managed IT, 12 users, CAD workstations")),
    ("msa_evc", "evc", "Evergreen Veterinary Clinic – Managed Services Agreement", RECURRING_SERVICE, 1,
     "2026-01-01", "2027-12-31", dict(revenue=38400, prefix="MSA", desc="Managed IT, 2 exam-room pods and front desk")),
    ("ret_tcu", "tcu", "Tri-County Credit Union – vCISO Retainer (2026)", RETAINER, 1,
     "2026-01-01", "2026-12-31", dict(revenue=30000, prefix="RET", desc="Monthly virtual CISO retainer")),
    ("msa_pag", "pag", "Pemberton Accounting Group – Managed Services Agreement", RECURRING_SERVICE, 1,
     "2026-01-01", "2027-12-31", dict(revenue=57600, prefix="MSA", desc="Managed IT, 18 users")),
    ("fp_hpd_o365", "hpd", "Harbor Point Dental Group – Office 365 Migration (Fixed Price)", FIXED_PRICE, 1,
     "2026-02-02", "2026-11-30", dict(revenue=20000, prefix="FP", desc="Exchange 2016 to Microsoft 365, Teams & SharePoint")),
    ("fp_wcl_dms", "wcl", "Whitfield & Crane LLP – Document Management (NetDocuments) Rollout (Fixed Price)",
     FIXED_PRICE, 1, "2026-02-16", "2027-03-31", dict(revenue=31500, prefix="FP",
                                                       desc="Migration from file shares to NetDocuments, matter-centric")),
    ("fp_nfm_ehr", "nfm", "Northgate Family Medicine – EHR Server Migration (Fixed Price)", FIXED_PRICE, 1,
     "2026-03-02", "2026-12-18", dict(revenue=24000, prefix="FP", desc="eClinicalWorks server replacement and data migration")),
    ("fp_pag_cloud", "pag", "Pemberton Accounting Group – Server-to-Cloud Migration (Fixed Price)", FIXED_PRICE, 1,
     "2026-03-09", "2027-02-26", dict(revenue=33300, prefix="FP", desc="On-prem file and tax servers to Azure")),
    ("fp_brp_move", "brp", "Bluestem Realty Partners – Office Relocation (Fixed Price)", FIXED_PRICE, 1,
     "2026-03-16", "2026-12-18", dict(revenue=12600, prefix="FP", desc="Move to 45 Westminster St: cabling, ISP, cutover")),
    ("fp_tcu_sec", "tcu", "Tri-County Credit Union – Security Hardening & Compliance (Fixed Price)", FIXED_PRICE, 1,
     "2026-03-23", "2026-10-31", dict(revenue=19600, prefix="FP", desc="NCUA exam findings: MFA, conditional access, pen-test remediation")),
    ("fp_cpm_net", "cpm", "Cascade Precision Machining – Shop-floor Network Refresh (Fixed Price)", FIXED_PRICE, 1,
     "2026-04-06", "2027-01-29", dict(revenue=33800, prefix="FP", desc="Core and access switching for Plant 1 and Plant 2")),
    ("fp_sfa_avd", "sfa", "Sable & Finch Architects – Azure Virtual Desktop Deployment (Fixed Price)", FIXED_PRICE, 1,
     "2026-04-13", "2027-02-26", dict(revenue=24400, prefix="FP", desc="GPU-backed AVD for Revit users, RDS decommission")),
    ("fp_evc_voip", "evc", "Evergreen Veterinary Clinic – VoIP Phone System Replacement (Fixed Price)", FIXED_PRICE, 1,
     "2026-04-20", "2027-01-29", dict(revenue=14400, prefix="FP", desc="Hosted PBX, 18 handsets, number porting")),
    ("fp_lms_refresh", "lms", "Lakeside Montessori School – Chromebook & Wi-Fi Refresh (Fixed Price)", FIXED_PRICE, 1,
     "2026-05-04", "2026-12-31", dict(revenue=21400, prefix="FP", desc="Classroom access points and 120 Chromebooks")),
    ("fp_rcc_sdwan", "rcc", "Ridgeline Construction Co. – Site Connectivity (LTE/SD-WAN) (Fixed Price)", FIXED_PRICE, 1,
     "2026-05-18", "2027-03-31", dict(revenue=32600, prefix="FP", desc="SD-WAN at HQ and LTE kits for 8 jobsite trailers")),
    ("fp_mli_wifi2", "mli", "Meridian Logistics Inc. – Warehouse Wi-Fi Phase 2 (Fixed Price)", FIXED_PRICE, 1,
     "2026-07-01", "2027-03-31", dict(revenue=21600, prefix="FP", renewed="fp_mli_wifi",
                                       desc="Renewal of the 2025–26 rollout: cold storage and scanner fleet")),
    ("fp_hpd_falmouth", "hpd", "Harbor Point Dental Group – Falmouth Clinic IT Build-out (Fixed Price)", FIXED_PRICE, 1,
     "2026-07-13", "2027-03-31", dict(revenue=27900, prefix="FP", desc="Network, imaging workstations and phones for the new clinic")),
    ("fp_tcu_branch", "tcu", "Tri-County Credit Union – Bedford Branch IT Fit-out (Fixed Price)", FIXED_PRICE, 1,
     "2026-07-20", "2027-03-31", dict(revenue=25200, prefix="FP", desc="Circuits, teller workstations and ATM network for the Bedford branch")),
]

# Contract services of the managed-services contracts: contract -> [(service name, serviceID, qty, unit price, unit cost)]
CONTRACT_SERVICES = {
    "msa_hpd_2024": [("Managed Workstation", 29683101, 14, 75.0, 18.0), ("Managed Server", 29683102, 2, 250.0, 60.0)],
    "msa_hpd": [("Managed Workstation", 29683101, 38, 75.0, 18.0), ("Managed Server", 29683102, 3, 250.0, 60.0),
                ("Backup & Disaster Recovery", 29683104, 3, 325.0, 140.0), ("Managed Firewall", 29683105, 3, 95.0, 35.0)],
    "msa_tcu": [("Managed Workstation", 29683101, 46, 80.0, 18.0), ("Managed Server", 29683102, 6, 275.0, 60.0),
                ("Security Awareness Training", 29683107, 52, 4.0, 1.5), ("Managed Firewall", 29683105, 4, 95.0, 35.0)],
    "msa_wcl": [("Microsoft 365 Business Premium", 29683103, 32, 24.0, 22.0), ("Managed Workstation", 29683101, 32, 75.0, 18.0),
                ("Backup & Disaster Recovery", 29683104, 1, 425.0, 180.0)],
    "msa_mli": [("Managed Workstation", 29683101, 40, 70.0, 18.0), ("Managed Network Device", 29683106, 22, 15.0, 4.0),
                ("Managed Server", 29683102, 2, 250.0, 60.0)],
    "msa_cpm": [("Managed Workstation", 29683101, 34, 75.0, 18.0), ("Managed Server", 29683102, 3, 250.0, 60.0),
                ("Managed Network Device", 29683106, 16, 15.0, 4.0)],
    "msa_nfm": [("Managed Workstation", 29683101, 26, 80.0, 18.0), ("Backup & Disaster Recovery", 29683104, 1, 450.0, 190.0),
                ("Managed Server", 29683102, 2, 275.0, 60.0), ("Microsoft 365 Business Premium", 29683103, 28, 24.0, 22.0)],
    "msa_sfa": [("Managed Workstation", 29683101, 12, 85.0, 18.0), ("Microsoft 365 Business Premium", 29683103, 12, 24.0, 22.0)],
    "msa_evc": [("Managed Workstation", 29683101, 14, 75.0, 18.0), ("Managed Firewall", 29683105, 1, 95.0, 35.0),
                ("Microsoft 365 Business Standard", 29683108, 16, 14.0, 12.5)],
    "msa_pag": [("Managed Workstation", 29683101, 18, 80.0, 18.0), ("Managed Server", 29683102, 2, 250.0, 60.0),
                ("Security Awareness Training", 29683107, 18, 4.0, 1.5)],
}

# Projects. key, company, contract key or None, name, type, status, start, end, extras
PROJECTS = [
    ("p_mli_wifi", "mli", "fp_mli_wifi", "Warehouse Wi-Fi & Scanner Rollout", PROJECT_TYPE_CLIENT, PROJECT_STATUS_IN_PROGRESS,
     "2025-09-08", "2026-08-28", dict(hours=180)),
    ("p_own_psa", "own", None, "Internal – PSA & RMM Consolidation", PROJECT_TYPE_INTERNAL, PROJECT_STATUS_IN_PROGRESS,
     "2025-11-03", "2026-10-30", dict(hours=160)),
    ("p_wcl_win11", "wcl", "msa_wcl", "Windows 11 Upgrade (covered by MSA)", PROJECT_TYPE_CLIENT, PROJECT_STATUS_IN_PROGRESS,
     "2026-01-12", "2026-09-30", dict(hours=64)),
    ("p_own_soc2", "own", None, "Internal – SOC 2 Type I Readiness", PROJECT_TYPE_INTERNAL, PROJECT_STATUS_IN_PROGRESS,
     "2026-01-19", "2026-12-18", dict(hours=120)),
    ("p_hpd_o365", "hpd", "fp_hpd_o365", "Office 365 Migration", PROJECT_TYPE_CLIENT, PROJECT_STATUS_IN_PROGRESS,
     "2026-02-09", "2026-11-30", dict(hours=118)),
    ("p_wcl_dms", "wcl", "fp_wcl_dms", "NetDocuments Rollout", PROJECT_TYPE_CLIENT, PROJECT_STATUS_IN_PROGRESS,
     "2026-02-23", "2027-03-26", dict(hours=190)),
    ("p_brp_assess", "brp", None, "Network & Security Assessment (pre-sales)", PROJECT_TYPE_PROPOSAL, PROJECT_STATUS_IN_PROGRESS,
     "2026-02-23", "2026-09-25", dict(hours=24)),
    ("p_nfm_ehr", "nfm", "fp_nfm_ehr", "EHR Server Migration", PROJECT_TYPE_CLIENT, PROJECT_STATUS_IN_PROGRESS,
     "2026-03-09", "2026-12-18", dict(hours=140)),
    ("p_pag_cloud", "pag", "fp_pag_cloud", "Server-to-Cloud Migration", PROJECT_TYPE_CLIENT, PROJECT_STATUS_IN_PROGRESS,
     "2026-03-16", "2027-02-26", dict(hours=200)),
    ("p_brp_move", "brp", "fp_brp_move", "Office Relocation – 45 Westminster St", PROJECT_TYPE_CLIENT, PROJECT_STATUS_IN_PROGRESS,
     "2026-03-23", "2026-12-18", dict(hours=76)),
    ("p_own_laptops", "own", None, "Internal – Staff Laptop Refresh 2026", PROJECT_TYPE_INTERNAL, PROJECT_STATUS_IN_PROGRESS,
     "2026-03-23", "2026-09-30", dict(hours=30)),
    ("p_tcu_sec", "tcu", "fp_tcu_sec", "Security Hardening & Compliance", PROJECT_TYPE_CLIENT, PROJECT_STATUS_IN_PROGRESS,
     "2026-03-30", "2026-10-30", dict(hours=110)),
    ("p_cpm_plant1", "cpm", "fp_cpm_net", "Shop-floor Network Refresh – Plant 1", PROJECT_TYPE_CLIENT, PROJECT_STATUS_IN_PROGRESS,
     "2026-04-13", "2026-11-20", dict(hours=96)),
    ("p_cpm_plant2", "cpm", "fp_cpm_net", "Shop-floor Network Refresh – Plant 2", PROJECT_TYPE_CLIENT, PROJECT_STATUS_NEW,
     "2026-04-13", "2027-01-29", dict(hours=84)),
    ("p_sfa_avd", "sfa", "fp_sfa_avd", "Azure Virtual Desktop Deployment", PROJECT_TYPE_CLIENT, PROJECT_STATUS_IN_PROGRESS,
     "2026-04-20", "2027-02-26", dict(hours=150)),
    ("p_evc_voip", "evc", "fp_evc_voip", "VoIP Phone System Replacement", PROJECT_TYPE_CLIENT, PROJECT_STATUS_IN_PROGRESS,
     "2026-04-27", "2027-01-29", dict(hours=70)),
    ("p_pag_tax", "pag", None, "Tax Season Readiness 2027", PROJECT_TYPE_CLIENT, PROJECT_STATUS_NEW,
     "2026-05-04", "2027-01-15", dict(hours=40)),
    ("p_lms_refresh", "lms", "fp_lms_refresh", "Chromebook & Wi-Fi Refresh", PROJECT_TYPE_CLIENT, PROJECT_STATUS_IN_PROGRESS,
     "2026-05-11", "2026-12-31", dict(hours=112)),
    ("p_rcc_sdwan", "rcc", "fp_rcc_sdwan", "Site Connectivity (LTE/SD-WAN)", PROJECT_TYPE_CLIENT, PROJECT_STATUS_IN_PROGRESS,
     "2026-05-25", "2027-03-31", dict(hours=160)),
    ("p_rcc_pilot", "rcc", None, "Jobsite Trailer Connectivity Pilot", PROJECT_TYPE_CLIENT, PROJECT_STATUS_COMPLETE,
     "2026-02-02", "2026-05-15", dict(hours=26)),
    ("p_evc_porting", "evc", None, "VoIP Number Porting", PROJECT_TYPE_CLIENT, PROJECT_STATUS_IN_PROGRESS,
     "2026-06-15", "2026-10-30", dict(hours=12,
                                      desc="Phase/task project for the carrier port (LOA, CSR, port date); "
                                           "created from the VoIP project before it was linked to a contract")),
    ("p_mli_wifi2", "mli", "fp_mli_wifi2", "Warehouse Wi-Fi Phase 2 – Cold Storage", PROJECT_TYPE_CLIENT, PROJECT_STATUS_NEW,
     "2026-07-06", "2027-03-31", dict(hours=120)),
    ("p_hpd_falmouth", "hpd", "fp_hpd_falmouth", "Falmouth Clinic IT Build-out", PROJECT_TYPE_CLIENT, PROJECT_STATUS_NEW,
     "2026-07-20", "2027-03-31", dict(hours=150)),
    ("p_tcu_branch", "tcu", "fp_tcu_branch", "Bedford Branch IT Fit-out", PROJECT_TYPE_CLIENT, PROJECT_STATUS_NEW,
     "2026-07-27", "2027-03-31", dict(hours=130)),
]

# Milestones per fixed-price contract:
#   (title, status, amount, dateDue, billing code key or None, explicit project key or None, flags)
#   flags: "initial" = isInitialPayment; "conflict" = one of the five deliberately conflicted milestones
MILESTONES = {
    "fp_mli_wifi": [
        ("Phase 1 – Site survey & design sign-off", BILLED, 9000, "2025-10-31", "legacy_fixed_fee", None, ""),
        ("Phase 2 – Aisles 1–12 coverage acceptance", BILLED, 15000, "2026-02-27", "fixed_fee", None, ""),
        # CONFLICT 1 (contract_reference_mismatch): approved on the expired, Inactive 2025–26 contract;
        # the renewal (fp_mli_wifi2) exists but the milestone was never moved to it.
        ("Phase 3 – Dock door coverage acceptance", APPROVED, 7500, "2026-08-14", "fixed_fee", None, "conflict"),
    ],
    "fp_hpd_o365": [
        ("Phase 1 – Discovery & Design sign-off", BILLED, 4800, "2026-04-10", "fixed_fee", None, ""),
        ("Phase 2 – Mailbox & OneDrive migration", COMPLETE, 6200, "2026-08-28", "fixed_fee", None, ""),
        ("Phase 3 – Teams & SharePoint cutover", INCOMPLETE, 5400, "2026-10-16", "fixed_fee", None, ""),
        # boundary: due on the contract's end date (endDate = dateDue is not a conflict)
        ("Go-live & 30-day hypercare", INCOMPLETE, 3600, "2026-11-30", "fixed_fee", None, ""),
    ],
    "fp_wcl_dms": [
        # boundary: zero amount without an allocation code (not a conflict)
        ("Project kick-off (no charge)", INCOMPLETE, 0, "2026-08-31", None, None, ""),
        ("Phase 1 – Discovery & matter-centric design sign-off", BILLED, 6300, "2026-05-15", "fixed_fee", None, ""),
        ("Phase 2 – Pilot group live (Litigation)", COMPLETE, 7800, "2026-09-11", "fixed_fee", None, ""),
        ("Phase 3 – Firm-wide rollout", INCOMPLETE, 11200, "2026-12-04", "fixed_fee", None, ""),
        ("Phase 4 – Training & close-out", INCOMPLETE, 6200, "2027-03-12", "project_labor", None, ""),
    ],
    "fp_nfm_ehr": [
        ("Deposit (25%) on signature", BILLED, 6000, "2026-03-13", "fixed_fee", None, "initial"),
        ("Phase 1 – Design & hardware sign-off", BILLED, 4500, "2026-05-29", "fixed_fee", None, ""),
        # CONFLICT 3 (charge_contract_mismatch): three charges on the project were entered against the
        # Backup & DR service of the managed-services agreement.
        ("Phase 2 – Server cutover & data migration", COMPLETE, 9000, "2026-09-04", "fixed_fee", None, "conflict"),
    ],
    "fp_pag_cloud": [
        ("Phase 1 – Assessment & migration plan", BILLED, 4200, "2026-04-24", "fixed_fee", None, ""),
        ("Phase 2 – Azure landing zone build", APPROVED, 6800, "2026-08-21", "fixed_fee", None, ""),
        ("Phase 3 – File server migration", COMPLETE, 7400, "2026-09-18", "fixed_fee", None, ""),
        ("Phase 4 – Tax application migration (UltraTax)", INCOMPLETE, 8600, "2026-11-20", "fixed_fee", None, ""),
        ("Phase 5 – Decommission & documentation", INCOMPLETE, 6300, "2027-02-12", "project_labor", None, ""),
    ],
    "fp_brp_move": [
        ("Phase 1 – Cabling & ISP order", BILLED, 3800, "2026-05-08", "fixed_fee", None, ""),
        ("Phase 2 – Move weekend cutover", COMPLETE, 5600, "2026-08-24", "fixed_fee", None, ""),
        ("Phase 3 – Punch list & close-out", INCOMPLETE, 3200, "2026-10-02", "project_labor", None, ""),
    ],
    "fp_tcu_sec": [
        ("Phase 1 – Risk assessment report", COMPLETE, 6200, "2026-08-26", "fixed_fee", None, ""),
        ("Phase 2 – MFA & conditional access rollout", INCOMPLETE, 8400, "2026-10-09", "fixed_fee", None, ""),
        # CONFLICT 5 (contract_reference_mismatch + missing_allocation_code): due after the contract ends
        # and still on the retired "Legacy Fixed Fee" allocation code.
        ("Phase 3 – Penetration test remediation sign-off", APPROVED, 5000, "2026-11-13", "legacy_fixed_fee", None, "conflict"),
    ],
    "fp_cpm_net": [
        # boundary: the contract has two projects, so milestones without a projectID have no project
        ("Hardware delivery & staging", COMPLETE, 12400, "2026-08-27", "hardware", None, ""),
        ("Plant 1 cutover", INCOMPLETE, 8200, "2026-10-23", "fixed_fee", "p_cpm_plant1", ""),
        ("Plant 2 cutover", INCOMPLETE, 8200, "2026-12-11", "fixed_fee", "p_cpm_plant2", ""),
        ("Project close-out & as-built documentation", INCOMPLETE, 5000, "2027-01-22", "project_labor", None, ""),
    ],
    "fp_sfa_avd": [
        ("Phase 1 – Design & proof of concept", COMPLETE, 5200, "2026-08-25", "fixed_fee", None, ""),
        # CONFLICT 2 (missing_allocation_code): created from a copied template without an allocation code.
        ("Phase 2 – AVD host pool build", COMPLETE, 4000, "2026-09-10", None, None, "conflict"),
        ("Phase 3 – User migration (Revit & Bluebeam users)", INCOMPLETE, 9600, "2026-11-06", "fixed_fee", None, ""),
        ("Phase 4 – Decommission on-prem RDS", INCOMPLETE, 5600, "2027-02-05", "project_labor", None, ""),
    ],
    "fp_evc_voip": [
        ("Phase 1 – Handset & network readiness", COMPLETE, 4600, "2026-08-31", "fixed_fee", None, ""),
        # CONFLICT 4 (project_without_contract): attached to the number-porting phase project, which
        # was never linked to a contract.
        ("Number porting complete", INCOMPLETE, 3000, "2026-10-16", "fixed_fee", "p_evc_porting", "conflict"),
        ("Cutover & staff training", INCOMPLETE, 6800, "2026-11-20", "fixed_fee", None, ""),
    ],
    "fp_lms_refresh": [
        ("Phase 1 – Wi-Fi design approval", APPROVED, 3400, "2026-08-20", "fixed_fee", None, ""),
        ("Phase 2 – Classroom AP installation", COMPLETE, 7200, "2026-08-28", "fixed_fee", None, ""),
        ("Phase 3 – Chromebook deployment (120 units)", INCOMPLETE, 6900, "2026-09-25", "fixed_fee", "p_lms_refresh", ""),
        ("Winter break close-out", INCOMPLETE, 3900, "2026-12-18", "project_labor", None, ""),
    ],
    "fp_rcc_sdwan": [
        ("Phase 1 – Jobsite LTE kits delivered", COMPLETE, 6400, "2026-09-03", "fixed_fee", None, ""),
        ("Phase 2 – HQ SD-WAN cutover", INCOMPLETE, 9200, "2026-10-30", "fixed_fee", None, ""),
        ("Phase 3 – Trailer sites 1–4 online", INCOMPLETE, 5800, "2026-12-11", "fixed_fee", None, ""),
        ("Phase 4 – Trailer sites 5–8 online", INCOMPLETE, 5800, "2027-02-19", "fixed_fee", None, ""),
        ("Final acceptance", INCOMPLETE, 5400, "2027-03-26", "fixed_fee", None, ""),
    ],
    "fp_mli_wifi2": [
        ("Phase 4 – Cold storage coverage", INCOMPLETE, 8800, "2026-10-30", "fixed_fee", None, ""),
        ("Phase 5 – Scanner fleet re-enrolment", INCOMPLETE, 6400, "2027-01-15", "fixed_fee", "p_mli_wifi2", ""),
        ("Final acceptance", INCOMPLETE, 6400, "2027-03-19", "fixed_fee", None, ""),
    ],
    "fp_hpd_falmouth": [
        ("Phase 1 – Network & cabling design sign-off", INCOMPLETE, 6200, "2026-09-18", "fixed_fee", None, ""),
        ("Phase 2 – Imaging & X-ray workstations", INCOMPLETE, 12500, "2026-12-04", "fixed_fee", None, ""),
        ("Phase 3 – Clinic go-live", INCOMPLETE, 9200, "2027-02-26", "fixed_fee", None, ""),
    ],
    "fp_tcu_branch": [
        ("Phase 1 – Circuit & network install", INCOMPLETE, 7600, "2026-10-09", "fixed_fee", None, ""),
        ("Phase 2 – Teller workstations & ATM network", INCOMPLETE, 9800, "2026-12-18", "fixed_fee", None, ""),
        ("Branch go-live", INCOMPLETE, 7800, "2027-03-05", "fixed_fee", None, ""),
    ],
}
MILESTONE_DESCRIPTIONS = {
    "Phase": "Billable on written client sign-off of the phase deliverables.",
    "Go-live": "Billable at go-live; includes 30 days of hypercare.",
    "Deposit": "Initial payment due on contract signature.",
    "Final": "Billable on the client's final acceptance certificate.",
}

# The three charges deliberately entered against the wrong contract (on the EHR project).
MISMATCHED_PROJECT = "p_nfm_ehr"
MISMATCHED_SERVICE = ("msa_nfm", "Backup & Disaster Recovery")
MISMATCHED_CHARGES = [
    ("Datto SIRIS 3 appliance (S3B2000)", 1, 3250.0, 2480.0, "hardware"),
    ("Datto Infinite Cloud Retention – 12 months", 1, 1440.0, 960.0, "software"),
    ("Off-site seed drive & courier", 1, 185.0, 120.0, "shipping"),
]

# Catalogues for charges.
HARDWARE_ITEMS = [
    ("Samsung 870 EVO 1TB SSD", 89.0, 129.0, "hardware"),
    ("Dell 65W USB-C power adapter", 34.0, 59.0, "hardware"),
    ("Logitech MK270 wireless keyboard & mouse", 21.0, 39.0, "hardware"),
    ("HP 58A toner cartridge", 118.0, 159.0, "hardware"),
    ("Brother TN-760 toner cartridge", 52.0, 79.0, "hardware"),
    ("Dell P2423 24\" monitor", 172.0, 239.0, "hardware"),
    ("Dell WD19S USB-C dock", 168.0, 229.0, "hardware"),
    ("APC Back-UPS 600VA", 71.0, 109.0, "hardware"),
    ("Replacement laptop battery", 62.0, 99.0, "hardware"),
    ("Crucial 16GB DDR4 SODIMM", 38.0, 65.0, "hardware"),
    ("Jabra Evolve2 40 headset", 74.0, 119.0, "hardware"),
    ("Yubico YubiKey 5 NFC", 45.0, 65.0, "hardware"),
    ("Ubiquiti U6-Lite access point", 99.0, 159.0, "hardware"),
    ("Netgear 8-port unmanaged switch", 24.0, 45.0, "hardware"),
    ("Cat6 patch cable 7 ft (10-pack)", 16.0, 35.0, "materials"),
    ("Keystone jacks & faceplate kit", 12.0, 28.0, "materials"),
    ("Misc. cabling & connectors", 9.0, 25.0, "materials"),
    ("Windows 11 Pro upgrade licence", 138.0, 199.0, "software"),
    ("Microsoft 365 Business Standard – add-on seat (annual)", 150.0, 168.0, "software"),
    ("Adobe Acrobat Pro – 1 year", 185.0, 239.88, "software"),
    ("Onsite trip charge", 0.0, 75.0, "travel"),
    ("Mileage (round trip)", 0.0, 48.0, "travel"),
    ("Emergency after-hours call-out fee", 0.0, 150.0, "afterhours"),
    ("Courier / overnight shipping", 18.0, 32.0, "shipping"),
]
PROJECT_ITEMS = [
    ("Cisco Meraki MR46 access point", 795.0, 1049.0, "hardware"),
    ("Cisco Meraki MR46 licence – 3 years", 310.0, 399.0, "software"),
    ("Aruba CX 6100 24G PoE switch", 1120.0, 1495.0, "hardware"),
    ("FortiGate 60F firewall", 540.0, 749.0, "hardware"),
    ("FortiGate 60F UTP bundle – 1 year", 360.0, 489.0, "software"),
    ("APC Smart-UPS 1500VA rack", 640.0, 869.0, "hardware"),
    ("Dell OptiPlex 7020 Micro", 780.0, 1029.0, "hardware"),
    ("Dell Latitude 5450", 1090.0, 1399.0, "hardware"),
    ("Dell PowerEdge R460 server", 5400.0, 6895.0, "hardware"),
    ("Yealink T54W handset", 139.0, 189.0, "hardware"),
    ("Poly Sync 20 speakerphone", 119.0, 169.0, "hardware"),
    ("Lenovo 300e Chromebook (Gen 4)", 265.0, 329.0, "hardware"),
    ("Google Chrome Education Upgrade licence", 30.0, 38.0, "software"),
    ("Cradlepoint E300 LTE router", 610.0, 829.0, "hardware"),
    ("Cradlepoint NetCloud licence – 1 year", 180.0, 239.0, "software"),
    ("Rack, patch panel & cable management kit", 310.0, 465.0, "materials"),
    ("Fiber patch cables & SFP+ modules", 220.0, 340.0, "materials"),
    ("Cat6A cabling run (per drop)", 95.0, 165.0, "materials"),
    ("Microsoft 365 Business Premium – annual", 264.0, 264.0, "software"),
    ("Azure Reserved Instance – 1 year", 1850.0, 2150.0, "software"),
    ("Mileage – site visit", 0.0, 62.0, "travel"),
    ("Hotel – overnight site visit", 139.0, 139.0, "travel"),
    ("Freight – equipment delivery", 85.0, 120.0, "shipping"),
]
INTERNAL_ITEMS = [
    ("Dell Latitude 7450 (staff laptop)", 1380.0, 1380.0, "internal"),
    ("Lenovo ThinkPad T14 (staff laptop)", 1240.0, 1240.0, "internal"),
    ("27\" USB-C monitor", 289.0, 289.0, "internal"),
    ("Thunderbolt dock", 229.0, 229.0, "internal"),
    ("Vanta compliance platform – quarterly", 2250.0, 2250.0, "internal"),
    ("Penetration test – internal network", 4800.0, 4800.0, "internal"),
    ("Policy template pack", 395.0, 395.0, "internal"),
    ("RMM migration consulting – vendor hours", 1200.0, 1200.0, "internal"),
    ("PSA integration connector – annual", 960.0, 960.0, "internal"),
    ("Lab switch (Aruba Instant On)", 189.0, 189.0, "internal"),
    ("Training – vendor certification voucher", 300.0, 300.0, "internal"),
    ("Team lunch – cutover weekend", 180.0, 180.0, "internal"),
]
PRESALES_ITEMS = [
    ("Network assessment probe (loaner)", 0.0, 0.0, "hardware"),
    ("Mileage – assessment visit", 0.0, 48.0, "travel"),
    ("Cradlepoint E300 LTE router (pilot)", 610.0, 829.0, "hardware"),
    ("Pilot LTE data plan – 1 month", 45.0, 60.0, "software"),
    ("Weatherproof enclosure", 85.0, 129.0, "materials"),
    ("Tax-season scanner (Fujitsu fi-8170)", 960.0, 1195.0, "hardware"),
    ("UltraTax CS workstation licence", 0.0, 0.0, "software"),
    ("Mileage (round trip)", 0.0, 48.0, "travel"),
    ("Porting fee – per number", 15.0, 25.0, "software"),
    ("Temporary call-forwarding line", 30.0, 45.0, "software"),
]
CONTRACT_ITEMS = [
    ("Replacement workstation – Dell OptiPlex 7020", 780.0, 1029.0, "hardware"),
    ("Microsoft 365 seat true-up", 22.0, 24.0, "software"),
    ("Additional managed workstation (pro-rated)", 18.0, 75.0, "managed"),
    ("Firewall licence renewal", 360.0, 489.0, "software"),
    ("Backup storage overage (500 GB)", 35.0, 60.0, "managed"),
    ("Replacement UPS battery (RBC7)", 145.0, 219.0, "hardware"),
    ("Security awareness training – new hires", 1.5, 4.0, "managed"),
    ("Domain & SSL renewal", 45.0, 89.0, "software"),
]

BREAKFIX_TITLES = [
    "Outlook not syncing shared mailbox", "Printer offline – front desk", "VPN disconnects every few minutes",
    "New user setup – {person}", "Laptop battery not holding charge", "Password reset / account locked – {person}",
    "Scan-to-email not working", "Workstation very slow after update", "Wi-Fi dropping in conference room",
    "Suspicious email reported by {person}", "Monitor flickering", "Cannot open shared drive",
    "Teams calls dropping audio", "Replace failed SSD", "Install line-of-business application update",
    "Keyboard and mouse not responding", "Onsite visit – check network closet", "Toner replacement and printer jam",
    "Request new headset", "OneDrive sync errors", "MFA phone changed – re-register {person}",
    "Offboard user – {person}", "Adobe licence not activating", "Docking station not detecting monitors",
    "Internet outage – ISP escalation", "UPS beeping in server room", "Laptop won't boot – blue screen",
]
COMPANY_TITLES = {
    "hpd": ["Dentrix imaging bridge error", "X-ray sensor not detected in Op 3", "Eaglesoft slow at front desk"],
    "wcl": ["Worldox/NetDocuments profile error", "Dictation software not recording", "Court e-filing portal certificate"],
    "cpm": ["CNC file share not reachable from shop floor", "Epicor client crashing", "Label printer on line 2 offline"],
    "nfm": ["eClinicalWorks session timing out", "Exam room PC not printing prescriptions", "Fax server queue stuck"],
    "brp": ["MLS portal not loading", "Agent laptop Wi-Fi issues", "DocuSign plugin missing in Outlook"],
    "mli": ["Handheld scanner not connecting to Wi-Fi", "WMS terminal frozen at dock 4", "Zebra printer alignment"],
    "sfa": ["Revit crashing on large model", "Plotter not printing full sheet", "Bluebeam licence transfer"],
    "evc": ["Avimark workstation freezing", "Lab machine interface not sending results", "Front desk phone not ringing"],
    "tcu": ["Teller drawer printer error", "Core banking client certificate expired", "Branch camera NVR offline"],
    "lms": ["Classroom projector not displaying", "Chromebook enrolment failed", "Parent portal login issue"],
    "rcc": ["Jobsite trailer internet down", "Plan room plotter offline", "Procore app sign-in issue"],
    "pag": ["UltraTax slow over VPN", "Scanner profile missing", "Client portal upload failing"],
    "own": ["Internal: RMM agent deployment failing", "Internal: laptop setup for new hire", "Internal: phone system forward"],
}
CONTRACT_TICKET_TITLES = [
    "Patch compliance remediation", "Monthly server maintenance", "Backup job failed – investigate",
    "Quarterly business review prep", "Firewall firmware update", "Antivirus alert – quarantine review",
    "Disk space warning on server", "New device onboarding to RMM", "Annual DR test", "Licence true-up review",
]
PROJECT_TICKET_TITLES = [
    "Procure equipment", "Site visit", "Configure and stage devices", "Vendor call", "Cutover support",
    "Documentation update", "Follow-up after go-live", "Order circuits", "User training session",
]
PEOPLE = ["J. Alvarez", "M. Chen", "S. Patel", "K. O'Brien", "R. Dubois", "A. Novak", "T. Nguyen", "L. Rossi",
          "D. Kim", "E. Walsh", "B. Okoye", "C. Lindqvist", "H. Sato", "P. Moreau", "G. Hale"]


# The rule cases beyond the four allocation rules (see Tenant.apply_rule_cases) and the optional
# inputs (docs/architecture.md, "Optional inputs").
DUPLICATE_BILLING_ITEM_ID = 29699601  # above every generated BillingItems id

# MilestoneAllocations (reference 001): (contract, milestone title, method,
#   [(itemNumber, percentage, allocationPercentage, netAmount)], header extendedPrice or None = milestone amount)
MILESTONE_ALLOCATIONS = [
    # allocation_percent_not_100: the licence line was dropped, 90% allocated
    ("fp_cpm_net", "Plant 2 cutover", "Percentage",
     [("NET-SWITCH-P2", 60.0, None, 4920.0), ("NET-LABOR-P2", 30.0, None, 2460.0)], 8200.0),
    # allocation_amount_mismatch: variable lines total 7,000 of 7,400 (header empty: the milestone amount)
    ("fp_pag_cloud", "Phase 3 – File server migration", "Variable amount",
     [("AZ-MIGR-LABOR", None, None, 4000.0), ("AZ-RI-1Y", None, None, 3000.0)], None),
    # completion_over_100: completion lines total 105%
    ("fp_wcl_dms", "Phase 3 – Firm-wide rollout", "Percent of completion",
     [("DMS-ROLL-LIT", None, 40.0, None), ("DMS-ROLL-CORP", None, 35.0, None), ("DMS-ROLL-RE", None, 30.0, None)], 11200.0),
    # clean: equal amounts, 50% + 50%, remaining 0
    ("fp_cpm_net", "Hardware delivery & staging", "Equal amount",
     [("HW-CORE", 50.0, None, 6200.0), ("HW-ACCESS", 50.0, None, 6200.0)], 12400.0),
    # clean: 70% + 30%
    ("fp_rcc_sdwan", "Phase 2 – HQ SD-WAN cutover", "Percentage",
     [("SDWAN-EDGE", 70.0, None, 6440.0), ("SDWAN-LABOR", 30.0, None, 2760.0)], 9200.0),
    # boundary: completion lines total exactly 100%
    ("fp_lms_refresh", "Phase 3 – Chromebook deployment (120 units)", "Percent of completion",
     [("CB-WAVE-1", None, 50.0, None), ("CB-WAVE-2", None, 50.0, None)], 6900.0),
]
# MilestoneSplits (reference 003): (contract, milestone title, [(company, percentage)]). Ridgeline, the
# Bedford branch's general contractor, reimburses part of the fit-out.
MILESTONE_SPLITS = [
    ("fp_tcu_branch", "Phase 2 – Teller workstations & ATM network", [("tcu", 80.0), ("rcc", 15.0)]),  # split_not_100
    ("fp_tcu_branch", "Branch go-live", [("tcu", 80.0), ("rcc", 20.0)]),  # clean
]
# AgreementMilestones (reference 004): (contract, amendmentVersion, [(title, amount, acceptanceRequired)])
AGREEMENT_MILESTONES = [
    ("fp_pag_cloud", 0, [
        ("Phase 1 – Assessment & migration plan", 4200, True),
        ("Phase 2 – Azure landing zone build", 6800, True),
        ("Phase 3 – File server migration", 7400, True),  # acceptance_missing (complete, not accepted)
        ("Phase 4 – Tax application migration (UltraTax)", 8600, True),
        ("Phase 5 – Decommission & documentation", 6300, False),
    ]),
    ("fp_hpd_falmouth", 1, [
        ("Phase 1 – Network & cabling design sign-off", 6200, True),
        ("Phase 2 – Imaging & X-ray workstations", 11800, True),  # amount_differs_from_agreement (PSA 12,500)
        ("Phase 3 – Clinic go-live", 9200, True),
    ]),
    ("fp_evc_voip", 0, [
        ("Phase 1 – Handset & network readiness", 4600, False),
        ("  number porting complete ", 3000, False),  # matches "Number porting complete" (case, spaces)
        ("Cutover & staff training", 6800, True),
        ("Post-cutover review (30 days)", 1200, False),  # agreement_milestone_missing
    ]),
]
# MilestoneAcceptances (reference 004): (contract, milestone title, accepted on, accepted by)
MILESTONE_ACCEPTANCES = [
    ("fp_pag_cloud", "Phase 1 – Assessment & migration plan", "2026-04-22", "R. Dubois (Pemberton Accounting Group)"),
    ("fp_pag_cloud", "Phase 2 – Azure landing zone build", "2026-08-19", "R. Dubois (Pemberton Accounting Group)"),
]


# --------------------------------------------------------------------------------------------
# Generation


class Tenant:
    """Builds every entity's records in memory."""

    def __init__(self, seed: int = SEED) -> None:
        self.rng = random.Random(seed)
        rng = self.rng
        self.company_ids: dict[str, int] = {}
        self.billing_code_ids: dict[str, int] = {}
        self.contract_ids: dict[str, int] = {}
        self.project_ids: dict[str, int] = {}
        self.contract_by_key: dict[str, dict] = {}
        self.project_by_key: dict[str, dict] = {}
        self.companies: list[dict] = []
        self.billing_codes: list[dict] = []
        self.contracts: list[dict] = []
        self.contract_services: list[dict] = []
        self.projects: list[dict] = []
        self.milestones: list[dict] = []
        self.project_charges: list[dict] = []
        self.contract_charges: list[dict] = []
        self.tickets: list[dict] = []
        self.ticket_charges: list[dict] = []
        self.billing_items: list[dict] = []
        self.milestone_allocations: list[dict] = []
        self.milestone_splits: list[dict] = []
        self.agreement_milestones: list[dict] = []
        self.milestone_acceptances: list[dict] = []
        self.service_ids: dict[tuple[str, str], int] = {}
        self._company_ids = IdSequence(rng, 174, 9)
        self._billing_code_ids = IdSequence(rng, 29682801, 3)
        self._contract_ids = IdSequence(rng, 29684101, 7)
        self._contract_service_ids = IdSequence(rng, 29685301, 4)
        self._project_ids = IdSequence(rng, 29686201, 6)
        self._milestone_ids = IdSequence(rng, 29687001, 3)
        self._project_charge_ids = IdSequence(rng, 29688001, 4)
        self._contract_charge_ids = IdSequence(rng, 29689401, 4)
        self._ticket_ids = IdSequence(rng, 29691001, 3)
        self._ticket_charge_ids = IdSequence(rng, 29695001, 3)
        self._billing_item_ids = IdSequence(rng, 29699501, 9)
        self._project_day_seq: dict[date, int] = {}

    # ---- reference data

    def build_companies(self) -> None:
        for key, name, number, address, city, state, zip_code, phone, web, created in COMPANIES:
            company_id = OWNER_COMPANY_ID if key == "own" else self._company_ids()
            self.company_ids[key] = company_id
            self.companies.append({
                "id": company_id,
                "companyName": name,
                "companyNumber": number,
                "companyType": COMPANY_TYPE_OWNER if key == "own" else COMPANY_TYPE_CUSTOMER,
                "isActive": True,
                "phone": phone,
                "address1": address,
                "city": city,
                "state": state,
                "postalCode": zip_code,
                "countryID": COUNTRY_US,
                "webAddress": web,
                "ownerResourceID": OWNER if key == "own" else self.rng.choice([OWNER, SERVICE_MANAGER]),
                "currencyID": 1,
                "isTaxExempt": key == "lms",
                "invoiceNonContractItemsToParentCompany": False,
                "isClientPortalActive": key != "own",
                "createDate": ts(business_time(self.rng, d(created))),
                "createdByResourceID": OWNER,
                "lastActivityDate": ts(business_time(self.rng, d("2026-08-17") + timedelta(days=self.rng.randint(0, 3)))),
            })

    def build_billing_codes(self) -> None:
        for key, name, description, unit_price, unit_cost, active, external in BILLING_CODES:
            code_id = self._billing_code_ids()
            self.billing_code_ids[key] = code_id
            self.billing_codes.append({
                "id": code_id,
                "name": name,
                "description": description,
                "externalNumber": external,
                "generalLedgerAccount": int(external),
                "isActive": active,
                "isExcludedFromNewContracts": not active or key == "internal",
                "unitPrice": float(unit_price),
                "unitCost": float(unit_cost),
                "markupRate": None,
            })

    def build_contracts(self) -> None:
        numbers: dict[str, int] = {}
        for key, company, name, ctype, status, start, end, extra in CONTRACTS:
            contract_id = self._contract_ids()
            self.contract_ids[key] = contract_id
            year = start[:4]
            numbers[year] = numbers.get(year, 0) + 1
            revenue = float(extra.get("revenue", 0))
            record = {
                "id": contract_id,
                "companyID": self.company_ids[company],
                "contractName": name,
                "contractNumber": f"{extra['prefix']}-{year}-{numbers[year]:03d}",
                "contractType": ctype,
                "status": status,
                "startDate": ts(d(start)),
                "endDate": ts(d(end)) if end else None,
                "description": extra.get("desc"),
                "estimatedRevenue": revenue,
                "estimatedCost": money(revenue * self.rng.uniform(0.42, 0.58)),
                "estimatedHours": float(extra.get("hours") or round(revenue / 165 / 2) or 0),
                "setupFee": None,
                "overageBillingRate": 165.0 if ctype == BLOCK_HOURS else None,
                "isDefaultContract": ctype == RECURRING_SERVICE and status == 1,
                "renewedContractID": self.contract_ids[extra["renewed"]] if "renewed" in extra else None,
                "billToCompanyID": self.company_ids[company],
                "purchaseOrderNumber": f"PO-{self.rng.randint(10000, 99999)}" if ctype == FIXED_PRICE and self.rng.random() < 0.5 else None,
                "serviceLevelAgreementID": 1 if ctype == RECURRING_SERVICE else None,
                "timeReportingRequiresStartAndStopTimes": 1 if ctype == RECURRING_SERVICE else 0,
                "contactName": self.rng.choice(PEOPLE),
            }
            self.contracts.append(record)
            self.contract_by_key[key] = record
            for service_name, service_id, qty, unit_price, unit_cost in CONTRACT_SERVICES.get(key, []):
                service_row_id = self._contract_service_ids()
                self.service_ids[(key, service_name)] = service_row_id
                self.contract_services.append({
                    "id": service_row_id,
                    "contractID": contract_id,
                    "serviceID": service_id,
                    "unitPrice": unit_price,
                    "unitCost": unit_cost,
                    "internalCurrencyUnitPrice": unit_price,
                    "internalCurrencyAdjustedPrice": money(unit_price * qty),
                    "invoiceDescription": f"{service_name} ({qty} × ${unit_price:,.2f}/month)",
                    "internalDescription": f"{service_name}; qty {qty}",
                    "quoteItemID": None,
                })

    def build_projects(self) -> None:
        for key, company, contract, name, ptype, status, start, end, extra in sorted(PROJECTS, key=lambda p: (p[6], p[0])):
            project_id = self._project_ids()
            self.project_ids[key] = project_id
            created = business_time(self.rng, d(start) - timedelta(days=self.rng.randint(3, 12)))
            seq = self._project_day_seq[created.date()] = self._project_day_seq.get(created.date(), 0) + 1
            company_name = next(c[1] for c in COMPANIES if c[0] == company)
            hours = float(extra.get("hours", 0))
            revenue = float(self.contract_by_key[contract]["estimatedRevenue"]) if contract and contract.startswith("fp_") else None
            if contract == "fp_cpm_net":
                revenue = money(revenue * (0.55 if key.endswith("plant1") else 0.45))
            completed_pct = {PROJECT_STATUS_NEW: 0, PROJECT_STATUS_COMPLETE: 100}.get(status, self.rng.randint(15, 80))
            actual_hours = round(hours * completed_pct / 100 * self.rng.uniform(0.85, 1.2), 2)
            record = {
                "id": project_id,
                "projectName": name if company == "own" else f"{company_name} – {name}",
                "projectNumber": f"P{created:%Y%m%d}.{seq:04d}",
                "companyID": self.company_ids[company],
                "contractID": self.contract_ids[contract] if contract else None,
                "projectType": ptype,
                "status": status,
                "statusDateTime": ts(business_time(self.rng, min(d(start) + timedelta(days=30), SNAPSHOT - timedelta(days=2)))),
                "startDateTime": ts(d(start).replace(hour=8)),
                "endDateTime": ts(d(end).replace(hour=17)),
                "completedDateTime": ts(d(end).replace(hour=16, minute=30)) if status == PROJECT_STATUS_COMPLETE else None,
                "completedPercentage": completed_pct,
                "description": extra.get("desc") or f"{name} for {company_name.rstrip('.')}.",
                "estimatedTime": hours,
                "actualHours": actual_hours,
                "actualBilledHours": actual_hours if contract is None and company != "own" else 0.0,
                "duration": (d(end) - d(start)).days,
                "originalEstimatedRevenue": revenue,
                "laborEstimatedRevenue": money(hours * 165) if company != "own" else 0.0,
                "createDateTime": ts(created),
                "creatorResourceID": PROJECT_MANAGER,
                "projectLeadResourceID": PROJECT_MANAGER if company != "own" else OWNER,
                "companyOwnerResourceID": SERVICE_MANAGER,
                "purchaseOrderNumber": self.contract_by_key[contract]["purchaseOrderNumber"] if contract else None,
                "lastActivityDateTime": ts(business_time(self.rng, SNAPSHOT - timedelta(days=self.rng.randint(1, 20)))),
            }
            self.projects.append(record)
            self.project_by_key[key] = record
        self.projects.sort(key=lambda p: p["id"])

    def build_milestones(self) -> None:
        rows = []
        for key, company, name, ctype, status, start, end, extra in CONTRACTS:
            for title, ms_status, amount, due, code, project, flags in MILESTONES.get(key, []):
                rows.append((d(start), key, title, ms_status, amount, due, code, project, flags))
        # created with their contract (within a week of its start); ids follow creation order
        dated = [(business_time(self.rng, r[0] + timedelta(days=self.rng.randint(0, 6))), n, r) for n, r in enumerate(rows)]
        dated.sort(key=lambda x: (x[0], x[1]))
        for created, _n, (start, key, title, ms_status, amount, due, code, project, flags) in dated:
            first_word = title.split()[0]
            description = MILESTONE_DESCRIPTIONS.get(first_word, "Billable on client acceptance.")
            if amount == 0:
                description = "Kick-off meeting; no charge (included in the fixed price)."
            self.milestones.append({
                "id": self._milestone_ids(),
                "contractID": self.contract_ids[key],
                "title": title,
                "description": description,
                "amount": float(amount),
                "internalCurrencyAmount": float(amount),
                "dateDue": ts(d(due)),
                "status": ms_status,
                "isInitialPayment": "initial" in flags,
                "billingCodeID": self.billing_code_ids[code] if code else None,
                "createDate": ts(created),
                "creatorResourceID": PROJECT_MANAGER,
                "projectID": self.project_ids[project] if project else None,
            })

    def build_billing_items(self) -> None:
        contracts = {c["id"]: c for c in self.contracts}
        invoice_id = 29698114
        billed = [m for m in self.milestones if m["status"] == BILLED]
        for number, milestone in enumerate(sorted(billed, key=lambda m: m["dateDue"])):
            contract = contracts[milestone["contractID"]]
            due = datetime.strptime(milestone["dateDue"], "%Y-%m-%dT%H:%M:%S")
            posted = business_time(self.rng, due + timedelta(days=self.rng.randint(1, 9)))
            invoiced = number < len(billed) - 2  # the two most recent postings are not invoiced yet
            invoice_id += self.rng.randint(6, 40)
            self.billing_items.append({
                "id": self._billing_item_ids(),
                "milestoneID": milestone["id"],
                "contractID": milestone["contractID"],
                "companyID": contract["companyID"],
                "billingCodeID": milestone["billingCodeID"],
                "itemName": milestone["title"],
                "description": f"{contract['contractName']}: {milestone['title']}",
                "itemDate": milestone["dateDue"],
                "postedDate": ts(posted),
                "postedOnTime": ts(posted),
                "quantity": 1.0,
                "rate": milestone["amount"],
                "extendedPrice": milestone["amount"],
                "taxDollars": 0.0,
                "totalAmount": milestone["amount"],
                "ourCost": 0.0,
                "invoiceID": invoice_id if invoiced else None,
                "itemApproverID": BILLING,
                "nonBillable": 0,
                "purchaseOrderNumber": contract["purchaseOrderNumber"],
                "webServiceDate": ts(posted + timedelta(minutes=self.rng.randint(1, 90))),
            })

    # ---- charges

    def _charge(self, item: tuple, when: datetime, qty: float | None = None) -> dict:
        name, unit_cost, unit_price, code = item
        if qty is None:
            qty = float(self.rng.choice([1, 1, 1, 1, 2, 2, 3, 4]))
        if code == "travel" and "Mileage" in name:
            qty = 1.0
        return {
            "name": name,
            "description": name,
            "unitQuantity": qty,
            "unitCost": unit_cost,
            "unitPrice": unit_price,
            "internalCurrencyUnitPrice": unit_price,
            "extendedCost": money(unit_cost * qty),
            "billableAmount": money(unit_price * qty),
            "internalCurrencyBillableAmount": money(unit_price * qty),
            "billingCodeID": self.billing_code_ids[code],
            "isBillableToCompany": code != "internal" and unit_price > 0,
            "isBilled": when < SNAPSHOT - timedelta(days=35) and self.rng.random() < 0.9,
            "datePurchased": ts(when.replace(hour=0, minute=0, second=0)),
            "createDate": ts(when),
            "creatorResourceID": self.rng.choice(TECHS + [PROJECT_MANAGER]),
            "purchaseOrderNumber": None,
            "internalPurchaseOrderNumber": f"LTG-PO-{self.rng.randint(3000, 4999)}" if unit_cost >= 100 else None,
            "contractServiceID": None,
            "status": 1,
        }

    def _project_window(self, project: dict) -> tuple[datetime, datetime]:
        start = datetime.strptime(project["startDateTime"][:10], "%Y-%m-%d")
        end = min(datetime.strptime(project["endDateTime"][:10], "%Y-%m-%d"), SNAPSHOT - timedelta(days=1))
        return start, max(start, end)

    def build_project_charges(self) -> None:
        rng = self.rng
        contract_projects = [k for k, p in self.project_by_key.items() if p["contractID"] is not None]
        contractless = [k for k, p in self.project_by_key.items() if p["contractID"] is None]
        # contract-linked projects: weighted by size; projects not started yet get few charges
        weights = {k: max(1.0, self.project_by_key[k]["estimatedTime"] / 20) for k in contract_projects}
        plan: list[tuple[str, tuple]] = []
        for _ in range(CHARGES_CONTRACT_PROJECT - len(MISMATCHED_CHARGES)):
            key = rng.choices(contract_projects, weights=[weights[k] for k in contract_projects])[0]
            plan.append((key, rng.choice(PROJECT_ITEMS)))
        for _ in range(CHARGES_PROJECT_PROJECT):
            key = rng.choices(contractless, weights=[{"p_own_psa": 6, "p_own_soc2": 5, "p_own_laptops": 5}.get(k, 2)
                                                     for k in contractless])[0]
            pool = INTERNAL_ITEMS if key.startswith("p_own") else PRESALES_ITEMS
            plan.append((key, rng.choice(pool)))
        charges = []
        for key, item in plan:
            project = self.project_by_key[key]
            start, end = self._project_window(project)
            when = business_time(rng, random_day(rng, start, end))
            charge = self._charge(item, when)
            charge["projectID"] = project["id"]
            charges.append(charge)
        # the three charges entered against the managed-services Backup & DR contract service
        project = self.project_by_key[MISMATCHED_PROJECT]
        service_id = self.service_ids[MISMATCHED_SERVICE]
        for offset, (name, qty, price, cost, code) in enumerate(MISMATCHED_CHARGES):
            when = business_time(rng, d("2026-07-14") + timedelta(days=offset))
            charge = self._charge((name, cost, price, code), when, float(qty))
            charge.update(projectID=project["id"], contractServiceID=service_id,
                          notes="Entered from the MSA service list by mistake")
            charges.append(charge)
        charges.sort(key=lambda c: c["createDate"])
        for charge in charges:
            self.project_charges.append({"id": self._project_charge_ids(), **charge})

    def build_contract_charges(self) -> None:
        rng = self.rng
        candidates = [c for c in CONTRACTS if c[3] in (RECURRING_SERVICE, BLOCK_HOURS, RETAINER) and c[4] == 1]
        charges = []
        for _ in range(CHARGES_CONTRACT_CHARGES):
            key, company, name, ctype, status, start, end, extra = rng.choice(candidates)
            when = business_time(rng, random_day(rng, max(d(start), d("2025-09-01")), SNAPSHOT - timedelta(days=1)))
            if ctype == BLOCK_HOURS:
                item = ("Block hours top-up (10 hours)", 0.0, 1400.0, "block")
                charge = self._charge(item, when, 1.0)
            elif ctype == RETAINER:
                item = ("Tabletop exercise facilitation", 0.0, 1200.0, "vciso")
                charge = self._charge(item, when, 1.0)
            else:
                item = rng.choice(CONTRACT_ITEMS)
                charge = self._charge(item, when)
                services = [s for (k, _n), s in self.service_ids.items() if k == key]
                if item[3] == "managed" and services:
                    charge["contractServiceID"] = rng.choice(services)
            charge["contractID"] = self.contract_ids[key]
            charges.append(charge)
        charges.sort(key=lambda c: c["createDate"])
        for charge in charges:
            self.contract_charges.append({"id": self._contract_charge_ids(), **charge})

    # ---- tickets and their charges

    def build_tickets(self) -> None:
        rng = self.rng
        companies = list(TICKET_WEIGHTS)
        active_service_contracts = {
            c[1]: c[0] for c in CONTRACTS if c[3] in (RECURRING_SERVICE, BLOCK_HOURS, TIME_AND_MATERIALS) and c[4] == 1
        }
        tickets: list[dict] = []

        def new_ticket(company: str, created: datetime, title: str, kind: str, contract: str | None = None,
                       project: str | None = None) -> dict:
            ticket = {
                "companyID": self.company_ids[company],
                "title": title.format(person=rng.choice(PEOPLE)),
                "createDate": created,
                "contractID": self.contract_ids[contract] if contract else None,
                "projectID": self.project_ids[project] if project else None,
                "_kind": kind,
            }
            tickets.append(ticket)
            return ticket

        window_start, window_end = d("2025-09-01"), SNAPSHOT - timedelta(days=1)
        # break-fix: no contract, no project
        for _ in range(545):
            company = rng.choices(companies, weights=[TICKET_WEIGHTS[c] for c in companies])[0]
            pool = BREAKFIX_TITLES * 2 + COMPANY_TITLES[company]
            new_ticket(company, business_time(rng, random_day(rng, window_start, window_end)), rng.choice(pool), "breakfix")
        # contract work: on the active managed-services / block / T&M contracts
        contract_companies = [c for c in companies if c in active_service_contracts]
        for _ in range(165):
            company = rng.choices(contract_companies, weights=[TICKET_WEIGHTS[c] for c in contract_companies])[0]
            key = active_service_contracts[company]
            cstart = self.contract_by_key[key]["startDate"]
            start = max(window_start, datetime.strptime(cstart[:10], "%Y-%m-%d"))
            new_ticket(company, business_time(rng, random_day(rng, start, window_end)), rng.choice(CONTRACT_TICKET_TITLES),
                       "contract", contract=key)
        # project tickets on contract-less projects (no contract on the ticket either)
        contractless = [k for k, p in self.project_by_key.items() if p["contractID"] is None]
        for _ in range(48):
            key = rng.choice(contractless)
            company = next(p[1] for p in PROJECTS if p[0] == key)
            start, end = self._project_window(self.project_by_key[key])
            new_ticket(company, business_time(rng, random_day(rng, start, end)), rng.choice(PROJECT_TICKET_TITLES),
                       "project", project=key)
        # project tickets on contract-linked projects, carrying the project's contract
        linked = [k for k, p in self.project_by_key.items() if p["contractID"] is not None and k != "p_mli_wifi"]
        for _ in range(26):
            key = rng.choice(linked)
            project = self.project_by_key[key]
            company = next(p[1] for p in PROJECTS if p[0] == key)
            contract = next(p[2] for p in PROJECTS if p[0] == key)
            start, end = self._project_window(project)
            new_ticket(company, business_time(rng, random_day(rng, start, end)), rng.choice(PROJECT_TICKET_TITLES),
                       "project_contract", contract=contract, project=key)

        tickets.sort(key=lambda t: t["createDate"])
        day_seq: dict[date, int] = {}
        for ticket in tickets:
            created: datetime = ticket["createDate"]
            seq = day_seq[created.date()] = day_seq.get(created.date(), 0) + 1
            age = (SNAPSHOT - created).days
            if age > 21 or (age > 3 and rng.random() < 0.7):
                status = TICKET_STATUS_COMPLETE
            else:
                status = rng.choice([TICKET_STATUS_NEW, TICKET_STATUS_IN_PROGRESS, TICKET_STATUS_IN_PROGRESS,
                                     TICKET_STATUS_WAITING_CUSTOMER])
            completed = created + timedelta(hours=rng.randint(1, 96)) if status == TICKET_STATUS_COMPLETE else None
            if completed is not None and completed > SNAPSHOT:
                completed = SNAPSHOT - timedelta(hours=1)
            kind = ticket.pop("_kind")
            queue = 29683483 if kind.startswith("project") else rng.choice([29682969, 29682969, 29682977, 29682833])
            priority = rng.choices([4, 1, 2, 3], weights=[3, 15, 55, 27])[0]
            hours = rng.choice([0.25, 0.5, 0.5, 1.0, 1.0, 1.5, 2.0, 3.0])
            resource = PROJECT_MANAGER if kind.startswith("project") and rng.random() < 0.3 else rng.choice(TECHS)
            ticket.update({
                "id": self._ticket_ids(),
                "ticketNumber": f"T{created:%Y%m%d}.{seq:04d}",
                "description": f"{ticket['title']}. Reported via {rng.choice(['phone', 'email', 'client portal', 'RMM alert'])}.",
                "status": status,
                "priority": priority,
                "queueID": queue,
                "ticketType": TICKET_TYPE_INCIDENT if kind == "breakfix" and rng.random() < 0.6 else TICKET_TYPE_SERVICE_REQUEST,
                "issueType": None,
                "subIssueType": None,
                "source": rng.choice([2, 4, 6, 8]),
                "assignedResourceID": resource,
                "assignedResourceRoleID": 29683460 if resource != PROJECT_MANAGER else 29683461,
                "creatorResourceID": rng.choice([HELPDESK_1, HELPDESK_2, SERVICE_MANAGER]),
                "creatorType": 1,
                "estimatedHours": hours,
                "hoursToBeScheduled": 0.0 if status == TICKET_STATUS_COMPLETE else hours,
                "dueDateTime": ts(created + timedelta(days=1 if priority in (1, 4) else 3)),
                "completedDate": ts(completed),
                "completedByResourceID": resource if completed else None,
                "resolvedDateTime": ts(completed),
                "firstResponseDateTime": ts(created + timedelta(minutes=rng.randint(4, 180))),
                "lastActivityDate": ts(completed or created + timedelta(hours=rng.randint(1, 30))),
                "serviceLevelAgreementID": 1 if kind == "contract" else None,
                "contractServiceID": None,
                "contractServiceBundleID": None,
                "billingCodeID": self.billing_code_ids["onsite" if "Onsite" in ticket["title"] else "remote"],
                "createDate": ts(created),
                "userDefinedFields": [],
            })
        self.tickets = tickets

    def build_ticket_charges(self) -> None:
        rng = self.rng
        by_kind: dict[str, list[dict]] = {"unallocated": [], "project": [], "contract": []}
        for ticket in self.tickets:
            if ticket["contractID"] is not None:
                by_kind["contract"].append(ticket)
            elif ticket["projectID"] is not None:
                by_kind["project"].append(ticket)
            else:
                by_kind["unallocated"].append(ticket)
        contract_keys = {v: k for k, v in self.contract_ids.items()}
        plan = ([("unallocated", CHARGES_UNALLOCATED), ("project", CHARGES_PROJECT_TICKET),
                 ("contract", CHARGES_CONTRACT_TICKET)])
        charges = []
        for kind, count in plan:
            pool = by_kind[kind]
            # most tickets carry no charge; those that do often carry several (parts + trip charge)
            chosen = [rng.choice(pool) for _ in range(count)]
            for ticket in chosen:
                created = datetime.strptime(ticket["createDate"], "%Y-%m-%dT%H:%M:%S")
                when = min(created + timedelta(hours=rng.randint(1, 72)), SNAPSHOT - timedelta(hours=2))
                when = business_time(rng, when.replace(hour=0, minute=0))
                if when < created or when > SNAPSHOT:
                    when = created + timedelta(minutes=rng.randint(10, 50))
                if kind == "project":
                    item = rng.choice(INTERNAL_ITEMS if ticket["companyID"] == OWNER_COMPANY_ID else PRESALES_ITEMS)
                else:
                    item = rng.choice(HARDWARE_ITEMS)
                charge = self._charge(item, when)
                charge["ticketID"] = ticket["id"]
                if kind == "contract" and ticket["projectID"] is None and item[3] == "software":
                    key = contract_keys[ticket["contractID"]]
                    services = [s for (k, _n), s in self.service_ids.items() if k == key]
                    if services:
                        charge["contractServiceID"] = rng.choice(services)
                charges.append(charge)
        charges.sort(key=lambda c: (c["createDate"], c["ticketID"]))
        for charge in charges:
            self.ticket_charges.append({"id": self._ticket_charge_ids(), **charge})

    def build(self) -> "Tenant":
        self.build_companies()
        self.build_billing_codes()
        self.build_contracts()
        self.build_projects()
        self.build_milestones()
        self.build_billing_items()
        self.build_project_charges()
        self.build_contract_charges()
        self.build_tickets()
        self.build_ticket_charges()
        self.tickets.sort(key=lambda t: t["id"])
        self.apply_rule_cases()
        self.build_optional_inputs()
        return self

    # ---- cases of the rules beyond the four allocation rules (docs/rules.md), made after the
    # ---- random tenant is built, with fixed ids, so they move no published figure

    def milestone(self, contract: str, title: str) -> dict:
        """The milestone of a contract (key) with a title."""
        contract_id = self.contract_ids[contract]
        (found,) = [m for m in self.milestones if m["contractID"] == contract_id and m["title"] == title]
        return found

    def billing_item(self, milestone: dict) -> dict:
        (found,) = [b for b in self.billing_items if b["milestoneID"] == milestone["id"]]
        return found

    def apply_rule_cases(self) -> None:
        # ready_before_due (+ out_of_sequence): the pen-test remediation sign-off was approved a
        # week before it is due, while Phase 2 (MFA rollout) is still incomplete. It keeps its two
        # allocation conflicts (due after the contract's 2026-10-31 end; legacy allocation code).
        self.milestone("fp_tcu_sec", "Phase 3 – Penetration test remediation sign-off")["dateDue"] = ts(d("2026-11-27"))
        # billed_without_posting: Northgate's Phase 1 was set to Billed by hand; it was never posted.
        design = self.milestone("fp_nfm_ehr", "Phase 1 – Design & hardware sign-off")
        self.billing_items.remove(self.billing_item(design))
        # double_billed: Whitfield & Crane's Phase 1 was posted again after an Approve and Post timeout.
        original = self.billing_item(self.milestone("fp_wcl_dms", "Phase 1 – Discovery & matter-centric design sign-off"))
        posted = datetime.strptime(original["postedDate"], "%Y-%m-%dT%H:%M:%S") + timedelta(days=2, minutes=17)
        self.billing_items.append({
            **original,
            "id": DUPLICATE_BILLING_ITEM_ID,
            "postedDate": ts(posted),
            "postedOnTime": ts(posted),
            "webServiceDate": ts(posted + timedelta(minutes=3)),
            "invoiceID": None,
        })
        # posted_to_other_contract: Harbor Point's O365 Phase 1 was posted while the milestone still
        # sat on the managed-services agreement; it was moved to the project contract afterwards.
        o365 = self.billing_item(self.milestone("fp_hpd_o365", "Phase 1 – Discovery & Design sign-off"))
        o365["contractID"] = self.contract_ids["msa_hpd"]
        # contract_not_fixed_price: Bluestem's relocation contract was created from the client's
        # Time and Materials template although it is sold at a fixed price.
        self.contract_by_key["fp_brp_move"]["contractType"] = TIME_AND_MATERIALS
        # milestones_exceed_contract_value: Meridian's Phase 2 gained a "Final acceptance" milestone
        # from a change order that never updated the contract value (milestones total 21,600).
        self.contract_by_key["fp_mli_wifi2"]["estimatedRevenue"] = 15200.0
        # service_on_other_contract: the three EHR project charges entered against Northgate's
        # managed-services Backup & DR service (MISMATCHED_CHARGES) already are its cases.

    def build_optional_inputs(self) -> None:
        """The optional inputs: ERP milestone allocations, customer splits, the signed agreements'
        milestone schedules and the customers' acceptances (docs/architecture.md)."""
        allocation_ids = iter(range(29700101, 29700200))
        for contract, title, method, lines, header in MILESTONE_ALLOCATIONS:
            milestone = self.milestone(contract, title)
            for item_number, percentage, completion, net_amount in lines:
                self.milestone_allocations.append({
                    "id": next(allocation_ids),
                    "milestoneID": milestone["id"],
                    "method": method,
                    "itemNumber": item_number,
                    "percentage": percentage,
                    "allocationPercentage": completion,
                    "netAmount": net_amount,
                    "extendedPrice": header,
                })
        for contract, title, shares in MILESTONE_SPLITS:
            milestone = self.milestone(contract, title)
            for company, percentage in shares:
                self.milestone_splits.append(
                    {"milestoneID": milestone["id"], "companyID": self.company_ids[company], "percentage": percentage})
        for contract, amendment, rows in AGREEMENT_MILESTONES:
            for title, amount, acceptance in rows:
                self.agreement_milestones.append({
                    "contractID": self.contract_ids[contract],
                    "title": title,
                    "amount": float(amount),
                    "acceptanceRequired": acceptance,
                    "amendmentVersion": amendment,
                })
        for contract, title, accepted, accepted_by in MILESTONE_ACCEPTANCES:
            milestone = self.milestone(contract, title)
            self.milestone_acceptances.append({
                "milestoneID": milestone["id"],
                "acceptedDate": ts(business_time(random.Random(milestone["id"]), d(accepted))),
                "acceptedBy": accepted_by,
            })


# --------------------------------------------------------------------------------------------
# Output

COLUMNS = {
    "Companies": ["id", "companyName", "companyNumber", "companyType", "isActive", "phone", "address1", "city",
                  "state", "postalCode", "countryID", "webAddress", "ownerResourceID", "currencyID", "isTaxExempt",
                  "invoiceNonContractItemsToParentCompany", "isClientPortalActive", "createDate",
                  "createdByResourceID", "lastActivityDate"],
    "Contracts": ["id", "companyID", "contractName", "contractNumber", "contractType", "status", "startDate", "endDate",
                  "description", "estimatedRevenue", "estimatedCost", "estimatedHours", "setupFee",
                  "overageBillingRate", "isDefaultContract", "renewedContractID", "billToCompanyID",
                  "purchaseOrderNumber", "serviceLevelAgreementID", "timeReportingRequiresStartAndStopTimes",
                  "contactName"],
    "Projects": ["id", "projectName", "projectNumber", "companyID", "contractID", "projectType", "status",
                 "statusDateTime", "startDateTime", "endDateTime", "completedDateTime", "completedPercentage",
                 "description", "estimatedTime", "actualHours", "actualBilledHours", "duration",
                 "originalEstimatedRevenue", "laborEstimatedRevenue", "createDateTime", "creatorResourceID",
                 "projectLeadResourceID", "companyOwnerResourceID", "purchaseOrderNumber", "lastActivityDateTime"],
    "ContractMilestones": ["id", "contractID", "title", "description", "amount", "internalCurrencyAmount", "dateDue",
                           "status", "isInitialPayment", "billingCodeID", "createDate", "creatorResourceID",
                           "projectID"],
    "BillingCodes": ["id", "name", "description", "externalNumber", "generalLedgerAccount", "isActive",
                     "isExcludedFromNewContracts", "unitPrice", "unitCost", "markupRate"],
    "ContractServices": ["id", "contractID", "serviceID", "unitPrice", "unitCost", "internalCurrencyUnitPrice",
                         "internalCurrencyAdjustedPrice", "invoiceDescription", "internalDescription", "quoteItemID"],
}
CHARGE_COLUMNS = ["name", "description", "unitQuantity", "unitCost", "unitPrice", "internalCurrencyUnitPrice",
                  "extendedCost", "billableAmount", "internalCurrencyBillableAmount", "billingCodeID",
                  "contractServiceID", "isBillableToCompany", "isBilled", "status", "datePurchased", "createDate",
                  "creatorResourceID", "purchaseOrderNumber", "internalPurchaseOrderNumber", "notes"]
COLUMNS["ProjectCharges"] = ["id", "projectID"] + CHARGE_COLUMNS
COLUMNS["ContractCharges"] = ["id", "contractID"] + CHARGE_COLUMNS
COLUMNS["TicketCharges"] = ["id", "ticketID"] + CHARGE_COLUMNS
TICKET_FIELDS = ["id", "ticketNumber", "title", "description", "companyID", "contractID", "projectID", "status",
                 "priority", "queueID", "ticketType", "issueType", "subIssueType", "source", "assignedResourceID",
                 "assignedResourceRoleID", "creatorResourceID", "creatorType", "createDate", "dueDateTime",
                 "firstResponseDateTime", "completedDate", "completedByResourceID", "resolvedDateTime",
                 "lastActivityDate", "estimatedHours", "hoursToBeScheduled", "billingCodeID",
                 "serviceLevelAgreementID", "contractServiceID", "contractServiceBundleID", "userDefinedFields"]
BILLING_ITEM_FIELDS = ["id", "milestoneID", "contractID", "companyID", "billingCodeID", "itemName", "description",
                       "itemDate", "postedDate", "postedOnTime", "quantity", "rate", "extendedPrice", "taxDollars",
                       "totalAmount", "ourCost", "invoiceID", "itemApproverID", "nonBillable", "purchaseOrderNumber",
                       "webServiceDate"]
COLUMNS["MilestoneAllocations"] = ["id", "milestoneID", "method", "itemNumber", "percentage", "allocationPercentage",
                                   "netAmount", "extendedPrice"]
COLUMNS["MilestoneSplits"] = ["milestoneID", "companyID", "percentage"]
COLUMNS["AgreementMilestones"] = ["contractID", "title", "amount", "acceptanceRequired", "amendmentVersion"]
COLUMNS["MilestoneAcceptances"] = ["milestoneID", "acceptedDate", "acceptedBy"]
MONEY_FIELDS = {"amount", "internalCurrencyAmount", "estimatedRevenue", "estimatedCost", "setupFee",
                "overageBillingRate", "unitPrice", "unitCost", "internalCurrencyUnitPrice",
                "internalCurrencyAdjustedPrice", "extendedCost", "billableAmount", "internalCurrencyBillableAmount",
                "originalEstimatedRevenue", "laborEstimatedRevenue", "markupRate", "netAmount", "extendedPrice",
                "percentage", "allocationPercentage"}


def csv_text(field: str, value: object) -> str:
    """A value as an Autotask CSV export writes it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.2f}" if field in MONEY_FIELDS else f"{value:g}"
    return str(value)


def write_csv(path: Path, columns: list[str], records: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        for record in records:
            writer.writerow([csv_text(c, record.get(c)) for c in columns])


def write_json(path: Path, document: object) -> None:
    path.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def query_pages(entity: str, records: list[dict], fields: list[str]) -> list[dict]:
    """The responses of ``POST /V1.0/{entity}/query`` followed through ``nextPageUrl``."""
    items = [{f: r.get(f) for f in fields} for r in records]
    chunks = [items[i:i + PAGE_SIZE] for i in range(0, len(items), PAGE_SIZE)] or [[]]
    pages = []
    for number, chunk in enumerate(chunks):
        last = number == len(chunks) - 1
        next_url = None if last else f"{API_BASE}/{entity}/query/next?paging=" + (
            f'{{"pageSize":{PAGE_SIZE},"previousIds":[{chunk[-1]["id"]}],"nextIds":[{chunks[number + 1][0]["id"]}]}}')
        pages.append({"items": chunk, "pageDetails": {"count": len(chunk), "requestCount": PAGE_SIZE,
                                                      "prevPageUrl": None, "nextPageUrl": next_url}})
    return pages


def picklist_document(field: str, data_type: str, values: list[tuple]) -> dict:
    return {"fields": [{
        "name": field,
        "dataType": data_type,
        "length": 0,
        "isRequired": True,
        "isReadOnly": False,
        "isQueryable": True,
        "isReference": False,
        "referenceEntityType": "",
        "isPickList": True,
        "picklistValues": [
            {"value": str(value), "label": label, "isDefaultValue": default, "sortOrder": order,
             "parentValue": "", "isActive": True, "isSystem": False}
            for order, (value, label, default) in enumerate(values, start=1)
        ],
        "picklistParentValueField": "",
        "isSupportedWebhookField": False,
    }]}


def write_export(tenant: Tenant, output: Path) -> list[Path]:
    output.mkdir(parents=True, exist_ok=True)
    written = []
    tables = {
        "Companies": tenant.companies, "Contracts": tenant.contracts, "Projects": tenant.projects,
        "ContractMilestones": tenant.milestones, "BillingCodes": tenant.billing_codes,
        "ContractServices": tenant.contract_services, "ProjectCharges": tenant.project_charges,
        "ContractCharges": tenant.contract_charges, "TicketCharges": tenant.ticket_charges,
        "MilestoneAllocations": tenant.milestone_allocations, "MilestoneSplits": tenant.milestone_splits,
        "AgreementMilestones": tenant.agreement_milestones, "MilestoneAcceptances": tenant.milestone_acceptances,
    }
    for entity, records in tables.items():
        path = output / f"{entity}.csv"
        write_csv(path, COLUMNS[entity], records)
        written.append(path)
    documents = {
        "Tickets.json": query_pages("Tickets", tenant.tickets, TICKET_FIELDS),
        "BillingItems.json": query_pages("BillingItems", tenant.billing_items, BILLING_ITEM_FIELDS)[0],
        "ContractMilestones.fields.json": picklist_document("status", "integer", MILESTONE_STATUSES),
        "Contracts.fields.json": picklist_document(
            "contractType", "integer", [(v, label, v == TIME_AND_MATERIALS) for v, label in CONTRACT_TYPES]),
    }
    for name, document in documents.items():
        path = output / name
        write_json(path, document)
        written.append(path)
    return written


def summary(tenant: Tenant) -> dict[str, int]:
    charges = len(tenant.project_charges) + len(tenant.contract_charges) + len(tenant.ticket_charges)
    pipeline = [m for m in tenant.milestones if m["status"] != BILLED]
    return {
        "companies": len(tenant.companies),
        "contracts": len(tenant.contracts),
        "projects": len(tenant.projects),
        "milestones": len(tenant.milestones),
        "pipeline milestones": len(pipeline),
        "billed milestones": len(tenant.milestones) - len(pipeline),
        "tickets": len(tenant.tickets),
        "charges": charges,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help=f"export directory (default {DEFAULT_OUTPUT})")
    args = parser.parse_args(argv)
    tenant = Tenant().build()
    counts = summary(tenant)
    assert counts["pipeline milestones"] == 47 and counts["charges"] == 1590, counts
    paths = write_export(tenant, args.output)
    for path in paths:
        print(f"wrote {path}")
    print(", ".join(f"{v} {k}" for k, v in counts.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
