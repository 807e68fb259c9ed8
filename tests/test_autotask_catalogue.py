"""The Autotask entity catalogue: generated from the swagger, complete, loaded as typed objects."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

from billready.autotask import ENTITIES, OPTIONAL_ENTITIES, PICKLISTS, REST_ENTITIES, find_entity

REPO = Path(__file__).resolve().parent.parent
EXTRACTOR = REPO / "scripts" / "extract_autotask_entities.py"
CATALOGUE = REPO / "src" / "billready" / "data" / "autotask_entities.json"
SWAGGER = REPO.parent / "shared" / "reference" / "autotask-rest-api-v1.swagger.json"

needs_swagger = pytest.mark.skipif(
    not SWAGGER.exists(), reason=f"the Autotask swagger is not at {SWAGGER}"
)

TABLES = {  # docs/architecture.md, "The raw layer"
    "Companies": "companies",
    "Contracts": "contracts",
    "Projects": "projects",
    "ContractMilestones": "contract_milestones",
    "BillingCodes": "billing_codes",
    "ContractServices": "contract_services",
    "ProjectCharges": "project_charges",
    "ContractCharges": "contract_charges",
    "Tickets": "tickets",
    "TicketCharges": "ticket_charges",
    "BillingItems": "billing_items",
}
OPTIONAL_TABLES = {  # docs/architecture.md, "Optional inputs"
    "MilestoneAllocations": "milestone_allocations",
    "MilestoneSplits": "milestone_splits",
    "AgreementMilestones": "agreement_milestones",
    "MilestoneAcceptances": "milestone_acceptances",
}
SWAGGER_TYPES = {
    ("integer", "int32"): "BIGINT",
    ("integer", "int64"): "BIGINT",
    ("number", "double"): "DOUBLE",
    ("string", "date-time"): "TIMESTAMP",
    ("string", None): "VARCHAR",
    ("boolean", None): "BOOLEAN",
    ("array", None): "VARCHAR",
}


@pytest.fixture(scope="module")
def extractor() -> ModuleType:
    spec = importlib.util.spec_from_file_location("extract_autotask_entities", EXTRACTOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def swagger() -> dict:
    return json.loads(SWAGGER.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("pascal", "camel"),
    [
        ("ContractID", "contractID"),
        ("Id", "id"),
        ("SICCode", "sicCode"),
        ("RMMAlertID", "rmmAlertID"),
        ("SGDA", "sgda"),
        ("DateDue", "dateDue"),
        ("IsActive", "isActive"),
        ("LastTrackedModifiedDateTime", "lastTrackedModifiedDateTime"),
        ("ProblemTicketId", "problemTicketId"),
        ("Address1", "address1"),
        ("UserDefinedFields", "userDefinedFields"),
    ],
)
def test_camel_case_matches_the_rest_json(extractor: ModuleType, pascal: str, camel: str) -> None:
    assert extractor.camel_case(pascal) == camel


def test_entities_and_tables_follow_the_architecture() -> None:
    assert {name: entity.table for name, entity in REST_ENTITIES.items()} == TABLES
    assert {name: entity.table for name, entity in OPTIONAL_ENTITIES.items()} == OPTIONAL_TABLES
    assert list(ENTITIES) == [*TABLES, *OPTIONAL_TABLES]


def test_every_entity_has_an_integer_id_first() -> None:
    for entity in REST_ENTITIES.values():
        assert not entity.optional and entity.swagger_model
        assert entity.fields[0].name == "id"
        assert entity.fields[0].duckdb_type == "BIGINT"
        assert entity.key == ("id",)


def test_optional_entities_have_their_documented_keys() -> None:
    keys = {name: entity.key for name, entity in OPTIONAL_ENTITIES.items()}
    assert keys == {
        "MilestoneAllocations": ("id",),
        "MilestoneSplits": ("milestoneID", "companyID"),
        "AgreementMilestones": ("contractID", "title"),
        "MilestoneAcceptances": ("milestoneID",),
    }
    for entity in OPTIONAL_ENTITIES.values():
        assert entity.optional and entity.swagger_model is None
        assert all(f.extra_documented and not f.swagger_name for f in entity.fields)
    assert find_entity("MilestoneSplit") is OPTIONAL_ENTITIES["MilestoneSplits"]
    assert find_entity("agreement_milestones") is OPTIONAL_ENTITIES["AgreementMilestones"]


def test_picklist_fields_are_varchar_and_every_status_is_one() -> None:
    for entity in ENTITIES.values():
        for field in entity.fields:
            if field.picklist:
                assert field.duckdb_type == "VARCHAR", (entity.name, field.name)
        status = entity.field("status")
        if status is not None:
            assert status.picklist, entity.name
    picklists = {
        name: sorted(f.name for f in entity.fields if f.picklist)
        for name, entity in ENTITIES.items()
    }
    assert picklists["Contracts"] == sorted(
        ["status", "contractType", "contractCategory", "contractPeriodType", "billingPreference"]
    )
    assert picklists["Tickets"] == sorted(
        ["priority", "queueID", "ticketType", "issueType", "subIssueType", "source"]
        + ["ticketCategory", "status"]
    )
    assert picklists["BillingItems"] == ["billingItemType", "subType"]
    assert picklists["ContractServices"] == []


def test_contract_milestones_carry_the_documented_project_id() -> None:
    project_id = ENTITIES["ContractMilestones"].field("projectID")
    assert project_id is not None
    assert project_id.duckdb_type == "BIGINT"
    assert project_id.extra_documented
    assert project_id.swagger_name is None


def test_user_defined_fields_are_json_text() -> None:
    for entity in REST_ENTITIES.values():
        udf = entity.field("userDefinedFields")
        assert udf is not None and udf.json_text and udf.duckdb_type == "VARCHAR"


def test_field_lookup_ignores_case() -> None:
    milestones = ENTITIES["ContractMilestones"]
    assert milestones.field("CONTRACTID").name == "contractID"
    assert milestones.field(" DateDue ").name == "dateDue"
    assert milestones.field("nope") is None
    assert PICKLISTS.field("isactive").name == "isActive"


@pytest.mark.parametrize(
    "alias",
    ["ContractMilestones", "contractmilestones", "ContractMilestone", "contract_milestones"],
)
def test_find_entity_accepts_plural_singular_and_table_names(alias: str) -> None:
    assert find_entity(alias) is ENTITIES["ContractMilestones"]


def test_catalogue_names_its_mit_licensed_source() -> None:
    note = json.loads(CATALOGUE.read_text(encoding="utf-8"))["note"]
    assert "MIT" in note and "swagger" in note


@needs_swagger
def test_catalogue_covers_every_swagger_field(swagger: dict) -> None:
    definitions = swagger["definitions"]
    for entity in REST_ENTITIES.values():
        by_swagger_name = {f.swagger_name: f for f in entity.fields if f.swagger_name}
        for name, prop in definitions[entity.swagger_model]["properties"].items():
            if "$ref" in prop:
                assert name not in by_swagger_name, (entity.name, name)
                continue
            field = by_swagger_name[name]
            assert field.name.lower() == name.lower()
            assert (field.swagger_type, field.swagger_format) == (prop["type"], prop.get("format"))
            swagger_type = SWAGGER_TYPES[(prop["type"], prop.get("format"))]
            expected = "VARCHAR" if field.picklist else swagger_type
            assert field.duckdb_type == expected, (entity.name, name)
        extras = [f.name for f in entity.fields if not f.swagger_name]
        assert extras == (["projectID"] if entity.name == "ContractMilestones" else [])


@needs_swagger
def test_committed_catalogue_equals_the_extractor_output(
    extractor: ModuleType, swagger: dict
) -> None:
    expected = extractor.render(extractor.build_catalogue(swagger))
    assert CATALOGUE.read_text(encoding="utf-8") == expected, (
        "src/billready/data/autotask_entities.json is stale: "
        "run python scripts/extract_autotask_entities.py"
    )
