"""JSON from the cluster nested too deeply for a response is a readable error, never a 5xx.

A Trigger created with kubectl may hold ``spec.filters`` nested hundreds of levels deep; the
response encoder (orjson) refuses more than 254 levels, so serving them would fail the whole
response. Executed through the fast and the plain executor, then encoded as the HTTP layer
encodes answers.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from event_registry.domain.access import OPEN
from event_registry.graphql.context import Context
from event_registry.graphql.schema import build_schema
from event_registry.graphql.types import MAX_SERVED_JSON_DEPTH
from event_registry.store.caching import Cache
from tests.support.raw_objects import broker_raw, namespace_raw, trigger_raw

SCHEMAS = {"fast": build_schema(fast=True), "plain": build_schema(fast=False)}
QUERY = '{ triggers(namespace: "default") { name filters } }'


def nested_filter(levels: int) -> dict[str, Any]:
    nested: dict[str, Any] = {"exact": {"type": "x"}}
    for _ in range(levels):
        nested = {"not": nested}
    return nested


@pytest.fixture(scope="module")
def cache() -> Cache:
    cache = Cache()
    cache.apply("Namespace", "ADDED", namespace_raw("default"))
    cache.apply("Broker", "ADDED", broker_raw("default"))
    for name, levels in (("shallow", 5), ("deep", 300)):
        raw = trigger_raw(name)
        raw["spec"]["filters"] = [nested_filter(levels)]
        assert cache.apply("Trigger", "ADDED", raw) is not None
    return cache


@pytest.mark.parametrize("fast", SCHEMAS)
async def test_filters_too_deep_to_serve_are_an_error_at_their_field(
    cache: Cache, fast: str
) -> None:
    context = Context(principal=OPEN, snapshot=cache.snapshot, cache=cache)
    result = await SCHEMAS[fast].execute(QUERY, context_value=context)
    assert result.data is not None
    assert result.data["triggers"][0]["name"] == "deep"  # ordered by name
    assert result.data["triggers"][0]["filters"] is None
    assert result.data["triggers"][1] == {"name": "shallow", "filters": [nested_filter(5)]}
    assert result.errors is not None
    assert [(e.path, e.message) for e in result.errors] == [
        (
            ["triggers", 0, "filters"],
            f"Trigger default/deep: spec.filters nest deeper than {MAX_SERVED_JSON_DEPTH} "
            "levels and cannot be served",
        )
    ]
    orjson.dumps(result.data)
