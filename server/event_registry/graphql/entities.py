"""Federation's ``_entities``: each representation checked against its type's key, then resolved.

A gateway sends ``{__typename, <key fields>}`` objects; the ``_Any`` scalar lets a client send
anything at all. Every representation gets exactly one of:

- the entity, from its type's ``resolve_reference`` (which applies namespace visibility);
- ``null``, when the key is well formed but names nothing the caller may see: a missing
  object and one in a hidden namespace are answered alike, so nothing reveals the latter;
- an :class:`InvalidRepresentation` error at ``_entities.<index>``, when the representation is
  not an object, its ``__typename`` is not one of our entity types, or a key field is
  missing or not a string. The message names the type and the field, never looks anything
  up, so it is the same whether or not some object exists.

Fields beyond the key are ignored (Federation lets a gateway send more than the key). Every
entity's key is read from its ``@key`` directive once, and must match the parameters of its
``resolve_reference`` (checked when the schema is built).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from strawberry.federation import Schema
from strawberry.federation.schema import FederationAny
from strawberry.federation.schema_directives import Key
from strawberry.types.base import StrawberryObjectDefinition

from .context import Info


class InvalidRepresentation(ValueError):
    """An ``_entities`` representation that no entity type can take (a client mistake)."""


@dataclass(frozen=True)
class Entity:
    """An entity type as ``_entities`` sees it: its key fields and how to resolve a key."""

    type_name: str
    key_fields: tuple[str, ...]
    resolve_reference: Callable[..., Any]


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "a list"
    return "an object"


def entity_of(definition: StrawberryObjectDefinition) -> Entity | None:
    """The entity a Strawberry type declares (None for a type without ``resolve_reference``).

    Raises TypeError when its ``@key`` fields and ``resolve_reference`` parameters differ:
    a representation's key fields are passed to it as keyword arguments.
    """
    resolve_reference = getattr(definition.origin, "resolve_reference", None)
    if resolve_reference is None:
        return None
    keys = [d for d in definition.directives or () if isinstance(d, Key)]
    if len(keys) != 1 or keys[0].resolvable is False:
        raise TypeError(f"{definition.name}: resolve_reference needs exactly one resolvable @key")
    key_fields = tuple(str(keys[0].fields).split())
    parameters = set(inspect.signature(resolve_reference).parameters) - {"info"}
    if parameters != set(key_fields) or any(c in keys[0].fields for c in "{}"):
        raise TypeError(
            f"{definition.name}: @key fields {key_fields} are not resolve_reference's "
            f"parameters {sorted(parameters)}"
        )
    return Entity(definition.name, key_fields, resolve_reference)


def key_of(representation: object, entities: Mapping[str, Entity]) -> tuple[Entity, dict[str, str]]:
    """The entity type a representation names and its key; InvalidRepresentation if malformed."""
    if not isinstance(representation, Mapping):
        raise InvalidRepresentation(
            f"A representation must be an object with __typename and key fields, "
            f"got {_json_kind(representation)}"
        )
    type_name = representation.get("__typename")
    if not isinstance(type_name, str):
        raise InvalidRepresentation(
            f"A representation's __typename must be a string, got {_json_kind(type_name)}"
        )
    entity = entities.get(type_name)
    if entity is None:
        raise InvalidRepresentation(
            f"Unknown entity type {type_name[:100]!r}; entities are {', '.join(sorted(entities))}"
        )
    key: dict[str, str] = {}
    for field in entity.key_fields:
        if field not in representation:
            raise InvalidRepresentation(f"{type_name} representation lacks key field {field!r}")
        value = representation[field]
        if not isinstance(value, str):
            raise InvalidRepresentation(
                f"{type_name} key field {field!r} must be a string, got {_json_kind(value)}"
            )
        key[field] = value
    return entity, key


class EntitiesSchema(Schema):
    """A federation schema whose ``_entities`` checks representations (see module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        definitions = (
            getattr(type_, "definition", None) for type_ in self.schema_converter.type_map.values()
        )
        found = (
            entity_of(definition)
            for definition in definitions
            if isinstance(definition, StrawberryObjectDefinition)
        )
        self.entities = {entity.type_name: entity for entity in found if entity is not None}

    def entities_resolver(
        self, info: Info, representations: list[FederationAny]
    ) -> list[FederationAny]:
        results: list[Any] = []
        for representation in representations:
            # An error stands for its representation alone (at _entities.<index>).
            try:
                entity, key = key_of(representation, self.entities)
                results.append(entity.resolve_reference(info=info, **key))
            except Exception as error:
                results.append(error)
        return results
