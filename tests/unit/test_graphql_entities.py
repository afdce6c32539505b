"""``_entities`` with malformed representations: typed errors per item, never a masked one.

Executed through both the fast and the plain executor over a cache built from the Knative
fixtures, as the HTTP layer executes it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import strawberry
import yaml
from strawberry.types import ExecutionResult

from event_registry.domain.access import OPEN, Principal
from event_registry.graphql.context import Context
from event_registry.graphql.entities import entity_of
from event_registry.graphql.schema import build_schema
from event_registry.store.caching import Cache

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "knative"
DEFAULT_ONLY = Principal("default-reader", frozenset({"default"}), frozenset())
SCHEMAS = {"fast": build_schema(fast=True), "plain": build_schema(fast=False)}

ENTITIES = """
query($representations: [_Any!]!) {
  _entities(representations: $representations) {
    __typename
    ... on Namespace { name }
    ... on Broker { namespace name }
  }
}
"""

MALFORMED = [
    (5, "A representation must be an object with __typename and key fields, got a number"),
    ([1], "A representation must be an object with __typename and key fields, got a list"),
    ({}, "A representation's __typename must be a string, got null"),
    ({"__typename": True}, "A representation's __typename must be a string, got a boolean"),
    (
        {"__typename": "Label", "key": "a"},
        "Unknown entity type 'Label'; entities are Broker, EventType, Namespace, Trigger",
    ),
    ({"__typename": "Namespace"}, "Namespace representation lacks key field 'name'"),
    (
        {"__typename": "Broker", "namespace": "default"},
        "Broker representation lacks key field 'name'",
    ),
    (
        {"__typename": "Trigger", "namespace": None, "name": "x"},
        "Trigger key field 'namespace' must be a string, got null",
    ),
    (
        {"__typename": "EventType", "namespace": "default", "name": {"a": 1}},
        "EventType key field 'name' must be a string, got an object",
    ),
]


@pytest.fixture(scope="module")
def cache() -> Cache:
    cache = Cache()
    for filename in ("namespace-v1.yaml", "broker-v1.yaml"):
        for raw in yaml.safe_load_all((FIXTURES / filename).read_text()):
            if raw:
                assert cache.apply(raw["kind"], "ADDED", raw) is not None
    return cache


async def entities(
    cache: Cache, representations: list[Any], *, fast: str, principal: Principal = OPEN
) -> ExecutionResult:
    context = Context(principal=principal, snapshot=cache.snapshot, cache=cache)
    return await SCHEMAS[fast].execute(
        ENTITIES, variable_values={"representations": representations}, context_value=context
    )


@pytest.mark.parametrize("fast", SCHEMAS)
async def test_each_malformed_representation_gets_its_own_readable_error(
    cache: Cache, fast: str
) -> None:
    valid = {"__typename": "Namespace", "name": "default", "ignored": [1, 2]}
    representations = [valid] + [representation for representation, _ in MALFORMED] + [valid]
    result = await entities(cache, representations, fast=fast)
    assert result.data is not None
    default = {"__typename": "Namespace", "name": "default"}
    assert result.data["_entities"] == [default] + [None] * len(MALFORMED) + [default]
    assert result.errors is not None
    errors = {tuple(error.path or ()): error.message for error in result.errors}
    assert errors == {
        ("_entities", index + 1): message for index, (_, message) in enumerate(MALFORMED)
    }


@pytest.mark.parametrize("fast", SCHEMAS)
async def test_a_hidden_entity_is_null_exactly_like_a_missing_one(cache: Cache, fast: str) -> None:
    def broker(namespace: str, name: str = "default") -> dict[str, str]:
        return {"__typename": "Broker", "namespace": namespace, "name": name}

    def namespace(name: str) -> dict[str, str]:
        return {"__typename": "Namespace", "name": name}

    hidden = [broker("payments"), namespace("payments"), broker("payments", "")]
    missing = [broker("nowhere"), namespace("nowhere"), broker("nowhere", "")]
    for representations in (hidden, missing):
        result = await entities(cache, representations, fast=fast, principal=DEFAULT_ONLY)
        assert result.errors is None
        assert result.data == {"_entities": [None, None, None]}
    visible = await entities(cache, hidden[:2], fast=fast)
    assert visible.data is not None
    assert None not in visible.data["_entities"]


async def test_an_ill_typed_variable_is_answered_not_masked(cache: Cache) -> None:
    result = await entities(cache, [None], fast="fast")
    assert result.errors is not None
    (error,) = result.errors
    assert error.message.startswith("Variable '$representations' has invalid value at [0]")


def test_an_entity_whose_key_is_not_its_resolve_reference_parameters_is_refused() -> None:
    @strawberry.federation.type(keys=["namespace name"])
    class Mismatched:
        name: str

        @classmethod
        def resolve_reference(cls, name: str) -> Mismatched:
            return Mismatched(name=name)

    with pytest.raises(TypeError, match="are not resolve_reference's parameters"):
        entity_of(Mismatched.__strawberry_definition__)  # type: ignore[attr-defined]
