"""Every GraphQL path shows a Broker, EventType or Trigger only to a caller who may read its kind.

Two callers of ``kubernetes`` mode, built as the authenticator builds them
(:func:`~event_registry.domain.access.reading_per_kind`): one may list EventTypes in every
namespace but neither Brokers nor Triggers, one may list only Triggers, only in ``payments``.
Each path (the list queries, ``namespace``, ``node``, ``_entities``, and every field leading
from one kind to another) is asked of both and of the open caller, on the fast and the plain
executor: what a caller may not read answers as if it did not exist, what it may read is
exactly what the open caller gets, and ``consumable`` (derived from the Broker, as Knative's
own EventType status is) is the same for all. Subscriptions: brokerChanges delivers only
where Brokers may be read; a readiness change caused by a hidden Broker keeps its reason.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from typing import Any

import orjson
import pytest

from event_registry.domain.access import OPEN, Principal, reading_per_kind
from event_registry.graphql import ids
from event_registry.graphql.completed import CompletedObjects
from event_registry.graphql.context import Context
from event_registry.graphql.limits import QueryLimits
from event_registry.graphql.schema import build_schema
from event_registry.hub.hub import Hub
from event_registry.store.caching import Cache
from tests.support.knative_fixtures import build_cache

EVENT_TYPES_ONLY = reading_per_kind("event-types-only", {"EventType": None}, None)
TRIGGERS_IN_PAYMENTS = reading_per_kind(
    "payments-triggers", {"Trigger": frozenset({"payments"})}, None
)
SCHEMAS = {"fast": build_schema(fast=True), "plain": build_schema(fast=False)}
NO_COST_LIMIT = QueryLimits(max_query_cost=0)


@pytest.fixture(scope="module")
def cache() -> Cache:
    return build_cache()


@pytest.fixture(params=sorted(SCHEMAS))
def executor(request: pytest.FixtureRequest) -> str:
    return str(request.param)


MEMO = CompletedObjects()
"""Shared by every request of the module, as the app shares one."""


async def data(
    executor: str, query: str, cache: Cache, principal: Principal, **variables: Any
) -> Any:
    context = Context(
        principal=principal,
        snapshot=cache.snapshot,
        cache=cache,
        completed=MEMO,
        limits=NO_COST_LIMIT,
    )
    result = await SCHEMAS[executor].execute(
        query, variable_values=variables, context_value=context
    )
    assert result.errors is None, result.errors
    return orjson.loads(orjson.dumps(result.data))  # kept fragments are JSON already


NAMESPACES = """{ namespaces { name
    brokers { name } eventTypes { name } triggers { name }
    counts { brokers eventTypes readyEventTypes consumableEventTypes triggers } } }"""


async def test_namespaces_list_where_any_kind_is_readable_and_count_only_those(
    cache: Cache, executor: str
) -> None:
    everything = (await data(executor, NAMESPACES, cache, OPEN))["namespaces"]
    event_types = (await data(executor, NAMESPACES, cache, EVENT_TYPES_ONLY))["namespaces"]
    assert [n["name"] for n in event_types] == ["default", "payments"]
    for seen, full in zip(event_types, everything, strict=True):
        assert (seen["brokers"], seen["triggers"]) == ([], [])
        assert seen["eventTypes"] == full["eventTypes"]
        assert seen["counts"] == {**full["counts"], "brokers": 0, "triggers": 0}
    triggers = (await data(executor, NAMESPACES, cache, TRIGGERS_IN_PAYMENTS))["namespaces"]
    assert [n["name"] for n in triggers] == ["payments"]
    (payments,) = triggers
    assert (payments["brokers"], payments["eventTypes"]) == ([], [])
    assert payments["triggers"] == everything[1]["triggers"] != []
    assert payments["counts"] == {
        "brokers": 0,
        "eventTypes": 0,
        "readyEventTypes": 0,
        "consumableEventTypes": 0,
        "triggers": 2,
    }


LISTS = """{ brokers { name } triggers { namespace name }
    eventTypes { nodes { namespace name } } }"""


async def test_each_list_query_shows_only_its_readable_kind(cache: Cache, executor: str) -> None:
    everything = await data(executor, LISTS, cache, OPEN)
    event_types = await data(executor, LISTS, cache, EVENT_TYPES_ONLY)
    assert event_types == {**everything, "brokers": [], "triggers": []}
    triggers = await data(executor, LISTS, cache, TRIGGERS_IN_PAYMENTS)
    assert triggers == {
        "brokers": [],
        "triggers": [t for t in everything["triggers"] if t["namespace"] == "payments"],
        "eventTypes": {"nodes": []},
    }
    scoped = '{ triggers(namespace: "default") { name } }'
    assert await data(executor, scoped, cache, TRIGGERS_IN_PAYMENTS) == {"triggers": []}


EVENT_TYPE_LINKS = """{ eventTypes { nodes { namespace name brokerName consumable
    broker { name ready url } consumers { name } consumerMatches { match trigger { name } } } } }"""


async def test_an_event_type_shows_its_broker_and_consumers_only_when_readable(
    cache: Cache, executor: str
) -> None:
    everything = (await data(executor, EVENT_TYPE_LINKS, cache, OPEN))["eventTypes"]["nodes"]
    seen = (await data(executor, EVENT_TYPE_LINKS, cache, EVENT_TYPES_ONLY))["eventTypes"]["nodes"]
    assert any(node["broker"] for node in everything)
    assert any(node["consumers"] for node in everything)
    assert seen == [
        {**node, "broker": None, "consumers": [], "consumerMatches": []} for node in everything
    ]
    assert [n["consumable"] for n in seen] == [n["consumable"] for n in everything]
    assert {n["consumable"] for n in seen} == {True, False}  # derived from the hidden Broker


TRIGGER_LINKS = """{ triggers(namespace: "payments") { name
    broker { name } eventTypes { name } } }"""
BROKER_LINKS = """{ brokers { namespace name eventTypes { name } triggers { name } } }"""


async def test_a_trigger_and_a_broker_show_other_kinds_only_when_readable(
    cache: Cache, executor: str
) -> None:
    everything = (await data(executor, TRIGGER_LINKS, cache, OPEN))["triggers"]
    seen = (await data(executor, TRIGGER_LINKS, cache, TRIGGERS_IN_PAYMENTS))["triggers"]
    assert any(t["broker"] for t in everything)
    assert any(t["eventTypes"] for t in everything)
    assert seen == [{**t, "broker": None, "eventTypes": []} for t in everything]
    no_triggers = reading_per_kind("no-triggers", {"EventType": None, "Broker": None}, None)
    brokers = (await data(executor, BROKER_LINKS, cache, OPEN))["brokers"]
    assert any(b["triggers"] for b in brokers)
    assert (await data(executor, BROKER_LINKS, cache, no_triggers))["brokers"] == [
        {**b, "triggers": []} for b in brokers
    ]


BY_KEY = """query($namespace: String!) {
  broker(namespace: $namespace, name: "default") { name }
  eventType(namespace: $namespace, name: "com.example.order.created") { name }
  trigger: node(id: $trigger) { id }
  brokerNode: node(id: $broker) { id }
  eventTypeNode: node(id: $eventType) { id }
  namespace(name: $namespace) { name }
  _entities(representations: $representations) { __typename }
}"""


async def test_objects_by_key_node_and_entities_are_null_where_their_kind_is_hidden(
    cache: Cache, executor: str
) -> None:
    query = BY_KEY.replace(
        "query($namespace: String!)",
        "query($namespace: String!, $trigger: ID!, $broker: ID!, $eventType: ID!,"
        " $representations: [_Any!]!)",
    )
    key = {"namespace": "payments"}
    variables = {
        **key,
        "trigger": ids.encode("Trigger", "payments", "order-created"),
        "broker": ids.encode("Broker", "payments", "default"),
        "eventType": ids.encode("EventType", "payments", "com.example.order.created"),
        "representations": [
            {"__typename": "Broker", **key, "name": "default"},
            {"__typename": "EventType", **key, "name": "com.example.order.created"},
            {"__typename": "Trigger", **key, "name": "order-created"},
        ],
    }
    everything = await data(executor, query, cache, OPEN, **variables)
    assert all(value for value in everything.values())
    assert all(everything["_entities"])
    event_types = await data(executor, query, cache, EVENT_TYPES_ONLY, **variables)
    assert event_types == {
        **everything,
        "broker": None,
        "trigger": None,
        "brokerNode": None,
        "_entities": [None, {"__typename": "EventType"}, None],
    }
    triggers = await data(executor, query, cache, TRIGGERS_IN_PAYMENTS, **variables)
    assert triggers == {
        **everything,
        "broker": None,
        "eventType": None,
        "brokerNode": None,
        "eventTypeNode": None,
        "_entities": [None, None, {"__typename": "Trigger"}],
    }


# subscriptions ------------------------------------------------------------------------------


def broker_raw(namespace: str, rv: int, ready: str, reason: str = "") -> dict[str, Any]:
    condition = {"type": "Ready", "status": ready, "reason": reason}
    return {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Broker",
        "metadata": {"name": "default", "namespace": namespace, "resourceVersion": str(rv)},
        "spec": {},
        "status": {"conditions": [condition]},
    }


def event_type_raw(namespace: str, rv: int) -> dict[str, Any]:
    return {
        "apiVersion": "eventing.knative.dev/v1beta2",
        "kind": "EventType",
        "metadata": {"name": "et", "namespace": namespace, "resourceVersion": str(rv)},
        "spec": {"type": "com.example.et", "source": "/s", "broker": "default"},
        "status": {"conditions": [{"type": "Ready", "status": "True"}]},
    }


def live_registry() -> tuple[Cache, Hub]:
    cache = Cache()
    hub = Hub(cache)
    for rv, namespace in enumerate(("team", "other"), start=1):
        cache.apply("Broker", "ADDED", broker_raw(namespace, rv, "True"))
        cache.apply("EventType", "ADDED", event_type_raw(namespace, rv + 10))
    return cache, hub


async def first_payload(
    cache: Cache, hub: Hub, principal: Principal, query: str, change: Callable[[], None]
) -> Any:
    context = Context(principal=principal, snapshot=cache.snapshot, cache=cache, hub=hub)
    stream = await SCHEMAS["fast"].subscribe(query, context_value=context)
    assert isinstance(stream, AsyncGenerator)
    try:
        async with asyncio.timeout(30):  # a missing payload fails instead of hanging
            pending = asyncio.ensure_future(anext(stream))
            await asyncio.sleep(0)  # subscribed (its position taken) before the change
            change()
            item = await pending
    finally:
        await stream.aclose()
    assert item.errors is None, item.errors
    return item.data


READINESS = """subscription { eventTypeReadinessChanged(namespace: "team") {
    eventType { name broker { name } } consumable cause reason } }"""


@pytest.mark.parametrize(
    ("principal", "broker", "reason"),
    [
        (OPEN, {"name": "default"}, "IngressNotReady"),
        (EVENT_TYPES_ONLY, None, None),  # the EventType's own reason (it is Ready)
    ],
    ids=["open", "event-types-only"],
)
async def test_a_readiness_change_caused_by_a_hidden_broker_hides_the_brokers_reason(
    principal: Principal, broker: dict[str, str] | None, reason: str | None
) -> None:
    cache, hub = live_registry()

    def flip() -> None:
        cache.apply("Broker", "MODIFIED", broker_raw("team", 100, "False", "IngressNotReady"))

    data = await first_payload(cache, hub, principal, READINESS, flip)
    assert data["eventTypeReadinessChanged"] == {
        "eventType": {"name": "et", "broker": broker},
        "consumable": False,
        "cause": "Broker",
        "reason": reason,
    }


async def test_broker_changes_are_delivered_only_where_brokers_may_be_read() -> None:
    brokers_in_other = reading_per_kind(
        "other-brokers", {"EventType": None, "Broker": frozenset({"other"})}, None
    )
    cache, hub = live_registry()

    def flip_both() -> None:
        cache.apply("Broker", "MODIFIED", broker_raw("team", 100, "False", "Flipped"))
        cache.apply("Broker", "MODIFIED", broker_raw("other", 101, "False", "Flipped"))

    query = "subscription { brokerChanges { kind broker { namespace name reason } } }"
    data = await first_payload(cache, hub, brokers_in_other, query, flip_both)
    assert data["brokerChanges"] == {
        "kind": "UPDATED",
        "broker": {"namespace": "other", "name": "default", "reason": "Flipped"},
    }
