"""Completed objects reused between requests answer exactly what completing them again would.

Each check runs the same query twice against the same snapshot — once with a
:class:`CompletedObjects` memo shared by every request of the test (as the app shares one), once
without — and compares the JSON. Random sequences of changes (Broker readiness flips,
EventType edits, Triggers added, edited and deleted, objects in another namespace) run between
checks, so every dependency the memo tracks (the object itself, its namespace's Brokers,
EventTypes and Triggers) changes under entries it already holds.
"""

from __future__ import annotations

import copy
import gc
import tracemalloc
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from event_registry.domain.access import OPEN, Principal, reading_per_kind
from event_registry.graphql.completed import CompletedObjects
from event_registry.graphql.context import Context
from event_registry.graphql.limits import QueryLimits
from event_registry.graphql.schema import schema
from event_registry.store.caching import Cache
from tests.support.knative_fixtures import FIXTURE_FILES, build_cache, load

DEFAULT_ONLY = Principal("default-reader", frozenset({"default"}), frozenset())
NO_TRIGGERS = reading_per_kind("no-triggers", {"EventType": None, "Broker": None}, None)
NO_BROKERS = reading_per_kind(
    "no-brokers", {"EventType": frozenset({"default"}), "Trigger": frozenset({"default"})}, None
)
PRINCIPALS = (OPEN, DEFAULT_ONLY, NO_TRIGGERS, NO_BROKERS)
"""Callers with different rights share one memo: none may get what another completed."""
NO_COST_LIMIT = QueryLimits(max_query_cost=0)
"""The queries below nest lists on purpose (every dependency the memo tracks): what is
checked is completion, not the query cost limit (see test_query_cost.py)."""

QUERIES = [
    """{ eventTypes(namespace: "default") { totalCount nodes {
        id name namespace type source schema description ready reason consumable apiVersion
        labels { key value } attributes { name value required }
        conditions { type status reason message lastTransitionTime severity }
        reference { apiVersion kind name namespace }
        broker { name ready eventTypes { name consumable } triggers { name } }
        consumers { name ready broker { name ready } }
        consumerMatches { match trigger { name eventTypes { name } } } } } }""",
    """{ brokers(namespace: "default") { name ready url
        eventTypes { name ready consumable broker { name ready } }
        triggers { name subscriberUri eventTypes { name consumable } } } }""",
    """{ triggers(namespace: "default") { name ready broker { name ready }
        eventTypes { name consumable consumers { name } } } }""",
    """{ a: eventTypes(namespace: "default") { nodes { name consumable } }
         b: eventTypes(namespace: "default") { nodes { name n2: name ready } } }""",
    """{ eventTypes { nodes { namespace name consumable broker { name ready } } } }""",
]


def raws() -> dict[tuple[str, str, str], dict[str, Any]]:
    found = {}
    for filename in FIXTURE_FILES:
        for raw in load(filename):
            meta = raw["metadata"]
            found[raw["kind"], meta.get("namespace", ""), meta["name"]] = raw
    return found


RAWS = raws()
BROKERS = sorted(key for key in RAWS if key[0] == "Broker")
EVENT_TYPES = sorted(key for key in RAWS if key[0] == "EventType")
TRIGGERS = sorted(key for key in RAWS if key[0] == "Trigger")


def flip_broker(raw: dict[str, Any], serial: int) -> dict[str, Any]:
    raw = copy.deepcopy(raw)
    status = "True" if serial % 2 else "False"
    raw["status"] = {"conditions": [{"type": "Ready", "status": status, "reason": f"r{serial}"}]}
    return raw


def edit_event_type(raw: dict[str, Any], serial: int) -> dict[str, Any]:
    raw = copy.deepcopy(raw)
    raw["metadata"].setdefault("labels", {})["serial"] = str(serial)
    raw["status"] = {"conditions": [{"type": "Ready", "status": "True" if serial % 3 else "False"}]}
    return raw


def edit_trigger(raw: dict[str, Any], serial: int) -> dict[str, Any]:
    raw = copy.deepcopy(raw)
    raw["spec"]["filter"] = {"attributes": {"type": "com.github.issues"}} if serial % 2 else {}
    raw["spec"].pop("filters", None)
    return raw


change = st.one_of(
    st.tuples(st.just("broker"), st.sampled_from(BROKERS)),
    st.tuples(st.just("event_type"), st.sampled_from(EVENT_TYPES)),
    st.tuples(st.just("trigger"), st.sampled_from(TRIGGERS)),
    st.tuples(st.just("delete_trigger"), st.sampled_from(TRIGGERS)),
    st.tuples(st.just("delete_event_type"), st.sampled_from(EVENT_TYPES)),
)


def apply(cache: Cache, kind: str, key: tuple[str, str, str], serial: int) -> None:
    raw = copy.deepcopy(RAWS[key])
    raw["metadata"]["resourceVersion"] = str(1000 + serial)
    if kind == "broker":
        cache.apply("Broker", "MODIFIED", flip_broker(raw, serial))
    elif kind == "event_type":
        cache.apply("EventType", "MODIFIED", edit_event_type(raw, serial))
    elif kind == "trigger":
        cache.apply("Trigger", "MODIFIED", edit_trigger(raw, serial))
    elif kind == "delete_trigger":
        cache.apply("Trigger", "DELETED", raw)
    else:
        cache.apply("EventType", "DELETED", raw)


async def answer(
    query: str, cache: Cache, memo: CompletedObjects | None, principal: Principal = OPEN
) -> Any:
    context = Context(
        principal=principal,
        snapshot=cache.snapshot,
        cache=cache,
        completed=memo,
        limits=NO_COST_LIMIT,
    )
    result = await schema.execute(query, context_value=context)
    assert result.errors is None, result.errors
    return orjson.loads(orjson.dumps(result.data))


async def same_with_and_without(cache: Cache, memo: CompletedObjects) -> None:
    for query in QUERIES:
        for principal in PRINCIPALS:
            assert await answer(query, cache, memo, principal) == await answer(
                query, cache, None, principal
            ), query


@settings(max_examples=25, deadline=None)
@given(st.lists(change, min_size=1, max_size=12))
async def test_reused_objects_equal_fresh_ones_through_any_changes(
    changes: list[tuple[str, tuple[str, str, str]]],
) -> None:
    cache = build_cache()
    memo = CompletedObjects()
    await same_with_and_without(cache, memo)
    for serial, (kind, key) in enumerate(changes):
        apply(cache, kind, key, serial)
        await same_with_and_without(cache, memo)


async def test_unchanged_objects_are_reused_and_changed_ones_completed_again() -> None:
    cache = build_cache()
    memo = CompletedObjects()
    query = '{ eventTypes(namespace: "default") { nodes { name description consumable } } }'
    first = await answer(query, cache, memo)
    count = len(first["eventTypes"]["nodes"])
    assert (memo.hits, memo.misses) == (0, count)

    def counted() -> tuple[int, int]:
        hits, misses = memo.hits, memo.misses
        memo.hits = memo.misses = 0
        return hits, misses

    counted()
    apply(cache, "broker", ("Broker", "payments", "default"), 1)  # another namespace
    assert await answer(query, cache, memo) == first
    assert counted() == (count, 0)
    apply(cache, "trigger", TRIGGERS[0], 2)  # not read by this selection
    assert await answer(query, cache, memo) == first
    assert counted() == (count, 0)
    apply(cache, "event_type", EVENT_TYPES[0], 3)  # one object changes
    await answer(query, cache, memo)
    assert counted() == (count - 1, 1)
    apply(cache, "broker", ("Broker", "default", "default"), 4)  # consumable reads Brokers
    await answer(query, cache, memo)
    assert counted() == (0, count)


async def test_after_a_broker_change_the_parts_that_read_only_the_model_are_reused() -> None:
    cache = build_cache()
    memo = CompletedObjects()
    query = (
        '{ eventTypes(namespace: "default") { nodes { name consumable '
        "conditions { type status } labels { key value } } } }"
    )
    first = await answer(query, cache, memo)
    count = len(first["eventTypes"]["nodes"])
    assert (memo.hits, memo.misses) == (0, 3 * count)  # each EventType, its conditions, labels
    memo.hits = memo.misses = 0
    apply(cache, "broker", ("Broker", "default", "default"), 1)
    again = await answer(query, cache, memo)
    assert again == await answer(query, cache, None)
    # Every EventType is completed again (consumable reads its Broker); its conditions and
    # labels depend on the EventType alone and come from the memo.
    assert (memo.hits, memo.misses) == (2 * count, count)


def test_capacity_bounds_the_entries() -> None:
    memo = CompletedObjects(capacity=10)
    models = [object() for _ in range(25)]
    for model in models:
        memo.put(memo.slot("shape"), id(model), model, (), {"x": 1})
    assert len(memo) <= 10
    assert memo.get(memo.slot("shape"), id(models[-1]), models[-1], ()) is not None
    assert memo.get(memo.slot("shape"), id(models[0]), models[0], ()) is None


def test_a_new_version_of_an_object_takes_the_place_of_the_old_one() -> None:
    memo = CompletedObjects()
    slot = memo.slot("shape")
    old, new = object(), object()
    memo.put(slot, ("ns", "a"), old, (), {"v": 1})
    memo.put(slot, ("ns", "a"), new, (), {"v": 2})
    assert len(memo) == 1
    assert memo.get(slot, ("ns", "a"), old, ()) is None
    kept = memo.get(slot, ("ns", "a"), new, ())
    assert kept is not None


def test_a_kept_object_costs_about_its_json_length() -> None:
    """orjson's bytes keep kilobytes of growth room; the memo must keep exact copies."""
    memo = CompletedObjects()
    slot = memo.slot("shape")
    models = [object() for _ in range(200)]
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        for index, model in enumerate(models):
            memo.put(slot, index, model, (), {"name": f"event-type-{index}", "ready": True})
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    grown = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    assert grown / len(models) < 600  # ~40 bytes of JSON, plus the entry and its keys


async def test_a_query_leaves_no_reference_cycles_behind() -> None:
    """Each request's executor is freed by reference counting: cycles left per request pile
    up until a young-generation collection frees tens of thousands of objects at once."""
    cache = build_cache()
    memo = CompletedObjects()
    await answer(QUERIES[0], cache, memo)  # plans and memo entries made once
    gc.collect()
    gc.disable()
    try:
        for _ in range(3):
            await answer(QUERIES[0], cache, None)
            await answer(QUERIES[0], cache, memo)
        left = gc.collect()
    finally:
        gc.enable()
    assert left == 0
