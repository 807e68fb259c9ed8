"""The Autotask entities billready lands, as typed objects.

The catalogue lives in ``billready/data/autotask_entities.json``, generated from the Autotask REST
swagger by ``scripts/extract_autotask_entities.py``. Field names are camelCase as the REST API's
JSON spells them (``id``, ``contractID``, ``dateDue``); types are DuckDB types.

Besides the REST entities it holds *optional* inputs that are not Autotask REST entities
(``Entity.optional``: MilestoneAllocations, MilestoneSplits, AgreementMilestones,
MilestoneAcceptances). They land like any export file; code that talks to the REST API iterates
:data:`REST_ENTITIES`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from typing import Any

RAW_SCHEMA = "raw_autotask"
CATALOGUE_RESOURCE = "data/autotask_entities.json"


@dataclass(frozen=True)
class Field:
    """One column of a raw table."""

    name: str
    duckdb_type: str
    picklist: bool = False
    swagger_name: str | None = None
    swagger_type: str | None = None
    swagger_format: str | None = None
    json_text: bool = False
    extra_documented: bool = False


@dataclass(frozen=True)
class Entity:
    """One raw table: an Autotask entity (or the picklists table) and its ordered fields.

    ``key`` names the fields a re-landed record is matched on (``id`` for Autotask entities).
    ``optional`` marks an input that is not an Autotask REST entity (no swagger model); rules
    that need it are evaluated only once it was landed.
    """

    name: str
    table: str
    fields: tuple[Field, ...]
    swagger_model: str | None = None
    key: tuple[str, ...] = ("id",)
    optional: bool = False
    singular_name: str | None = None

    @property
    def singular(self) -> str | None:
        """The singular entity name (``ContractMilestone``), from the swagger model if any."""
        if self.swagger_model:
            return self.swagger_model.removesuffix("Model")
        return self.singular_name

    @property
    def field_names(self) -> tuple[str, ...]:
        """The field names, in catalogue order."""
        return tuple(f.name for f in self.fields)

    @cached_property
    def _by_lower(self) -> dict[str, Field]:
        """Fields keyed by lower-cased name."""
        return {f.name.lower(): f for f in self.fields}

    def field(self, name: str) -> Field | None:
        """Return the field whose name equals ``name`` ignoring case, else None."""
        return self._by_lower.get(name.strip().lower())


def _field_from_json(data: dict[str, Any]) -> Field:
    """Build a :class:`Field` from its catalogue JSON object."""
    return Field(
        name=data["name"],
        duckdb_type=data["duckdb_type"],
        picklist=data.get("picklist", False),
        swagger_name=data.get("swagger_name"),
        swagger_type=data.get("swagger_type"),
        swagger_format=data.get("swagger_format"),
        json_text=data.get("json_text", False),
        extra_documented=data.get("extra_documented", False),
    )


def load_catalogue() -> dict[str, Entity]:
    """Read the packaged catalogue; entities keyed by their plural name, in landing order."""
    text = resources.files("billready").joinpath(CATALOGUE_RESOURCE).read_text(encoding="utf-8")
    return {
        item["name"]: Entity(
            name=item["name"],
            table=item["table"],
            swagger_model=item["swagger_model"],
            fields=tuple(_field_from_json(f) for f in item["fields"]),
            key=tuple(item.get("key", ("id",))),
            optional=item.get("optional", False),
            singular_name=item.get("singular"),
        )
        for item in json.loads(text)["entities"]
    }


ENTITIES: dict[str, Entity] = load_catalogue()

#: The Autotask REST entities (what the REST API can be queried for), in landing order.
REST_ENTITIES: dict[str, Entity] = {n: e for n, e in ENTITIES.items() if not e.optional}

#: Optional inputs that are not REST entities, in landing order.
OPTIONAL_ENTITIES: dict[str, Entity] = {n: e for n, e in ENTITIES.items() if e.optional}

#: The tenant picklists table (``raw_autotask.picklists``); a record is keyed by entity, field and
#: value. Not an Autotask entity, so it is not in :data:`ENTITIES`.
PICKLISTS = Entity(
    name="Picklists",
    table="picklists",
    fields=(
        Field("entity", "VARCHAR"),
        Field("field", "VARCHAR"),
        Field("value", "VARCHAR"),
        Field("label", "VARCHAR"),
        Field("isActive", "BOOLEAN"),
    ),
    key=("entity", "field", "value"),
)


def _aliases(entity: Entity) -> set[str]:
    """Lower-cased names an entity may go by: plural, singular, table name."""
    names = {entity.name, entity.table, entity.singular or entity.name}
    return {name.lower() for name in names}


_ENTITY_ALIASES: dict[str, Entity] = {
    alias: entity for entity in ENTITIES.values() for alias in _aliases(entity)
}


def find_entity(name: str) -> Entity | None:
    """Return the entity named ``name`` (plural, singular or table name, any case), else None."""
    return _ENTITY_ALIASES.get(name.strip().lower())


def entity_aliases() -> dict[str, str]:
    """Every lower-cased alias (plural, singular, table name) mapped to the plural entity name."""
    return {alias: entity.name for alias, entity in _ENTITY_ALIASES.items()}
