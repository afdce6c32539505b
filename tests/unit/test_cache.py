"""Unit tests for event_registry.store.caching.Cache and store.snapshots.Snapshot."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from event_registry.domain import models
from event_registry.store.caching import KINDS, Cache, Change, Kind, StoreChangeType
from event_registry.store.snapshots import Snapshot
from tests.support.raw_objects import broker_raw, event_type_raw, namespace_raw, trigger_raw

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "knative"
FIXTURE_FILES = (
    "namespace-v1.yaml",
    "broker-v1.yaml",
    "eventtype-v1beta1.yaml",
    "eventtype-v1beta2.yaml",
    "eventtype-v1beta3.yaml",
    "trigger-v1.yaml",
)


def load(filename: str) -> list[dict[str, Any]]:
    with (FIXTURES / filename).open() as stream:
        return [doc for doc in yaml.safe_load_all(stream) if doc]


def names(objects: Iterable[models.EventType | models.Trigger | models.Broker]) -> list[str]:
    return [obj.meta.name for obj in objects]


# apply ----------------------------------------------------------------------------------------


def test_a_new_cache_is_empty() -> None:
    cache = Cache()
    assert cache.snapshot.revision == 0
    assert cache.snapshot.event_types_in("default") == []
    assert dict(cache.snapshot.namespaces) == {}


def test_apply_added_modified_deleted() -> None:
    cache = Cache()
    added = cache.apply("EventType", "ADDED", event_type_raw("a", "1"))
    assert added is not None
    assert (added.revision, added.kind, added.type) == (1, "EventType", "ADDED")
    assert (added.namespace, added.name) == ("default", "a")
    assert added.old is None
    assert isinstance(added.new, models.EventType)
    assert added.new.meta.resource_version == "1"
    assert cache.snapshot.event_type("default", "a") is added.new

    modified = cache.apply("EventType", "MODIFIED", event_type_raw("a", "2"))
    assert modified is not None
    assert (modified.revision, modified.type) == (2, "MODIFIED")
    assert modified.old is added.new
    assert modified.new.meta.resource_version == "2"

    deleted = cache.apply("EventType", "DELETED", event_type_raw("a", "3"))
    assert deleted is not None
    assert (deleted.revision, deleted.type) == (3, "DELETED")
    assert deleted.old is modified.new
    assert deleted.new is None
    assert cache.snapshot.event_type("default", "a") is None
    assert cache.snapshot.revision == 3


@pytest.mark.parametrize("kind", KINDS)
def test_apply_every_kind(kind: Kind) -> None:
    raw = {
        "Namespace": namespace_raw("default"),
        "Broker": broker_raw("b"),
        "EventType": event_type_raw("e"),
        "Trigger": trigger_raw("t"),
    }[kind]
    cache = Cache()
    change = cache.apply(kind, "ADDED", raw)
    assert change is not None
    assert change.kind == kind
    assert change.new.meta.name == raw["metadata"]["name"]
    assert cache.apply(kind, "ADDED", raw) is None
    gone = cache.apply(kind, "DELETED", raw)
    assert gone is not None
    assert gone.type == "DELETED"
    assert cache.snapshot.revision == 2


def test_replayed_resource_version_changes_nothing() -> None:
    cache = Cache()
    seen: list[Change] = []
    cache.add_listener(seen.append)
    cache.apply("EventType", "ADDED", event_type_raw("a", "7"))
    snapshot = cache.snapshot
    for change_type in ("ADDED", "MODIFIED"):
        assert cache.apply("EventType", change_type, event_type_raw("a", "7")) is None
    # even a different body: the resourceVersion identifies the version
    assert cache.apply("EventType", "MODIFIED", event_type_raw("a", "7", type_="other")) is None
    assert cache.snapshot is snapshot
    assert cache.snapshot.revision == 1
    assert len(seen) == 1


def test_deleting_what_is_not_there_changes_nothing() -> None:
    cache = Cache()
    assert cache.apply("EventType", "DELETED", event_type_raw("a")) is None
    cache.apply("EventType", "ADDED", event_type_raw("a"))
    assert cache.apply("EventType", "DELETED", event_type_raw("a")) is not None
    assert cache.apply("EventType", "DELETED", event_type_raw("a")) is None
    assert cache.snapshot.revision == 2


def test_change_type_follows_the_cache_not_the_event() -> None:
    cache = Cache()
    first = cache.apply("Trigger", "MODIFIED", trigger_raw("t", "1"))
    assert first is not None
    assert first.type == "ADDED"
    second = cache.apply("Trigger", "ADDED", trigger_raw("t", "2"))
    assert second is not None
    assert second.type == "MODIFIED"


def test_same_name_in_two_namespaces_are_two_objects() -> None:
    cache = Cache()
    cache.apply("EventType", "ADDED", event_type_raw("a", namespace="one"))
    cache.apply("EventType", "ADDED", event_type_raw("a", namespace="two"))
    cache.apply("EventType", "DELETED", event_type_raw("a", namespace="one"))
    assert cache.snapshot.event_type("one", "a") is None
    assert cache.snapshot.event_type("two", "a") is not None


def test_revision_bumps_by_one_per_effective_change() -> None:
    cache = Cache()
    events: list[tuple[Kind, StoreChangeType, dict[str, Any]]] = [
        ("Namespace", "ADDED", namespace_raw("default")),
        ("Broker", "ADDED", broker_raw("default")),
        ("Broker", "ADDED", broker_raw("default")),  # replay
        ("EventType", "ADDED", event_type_raw("a", "1")),
        ("EventType", "MODIFIED", event_type_raw("a", "1")),  # replay
        ("EventType", "MODIFIED", event_type_raw("a", "2")),
        ("Trigger", "DELETED", trigger_raw("nope")),  # nothing to delete
        ("EventType", "DELETED", event_type_raw("a", "2")),
    ]
    revisions = []
    for kind, change_type, raw in events:
        change = cache.apply(kind, change_type, raw)
        revisions.append(change.revision if change else None)
    assert revisions == [1, 2, None, 3, None, 4, None, 5]
    assert cache.snapshot.revision == 5


# listeners ------------------------------------------------------------------------------------


def test_listeners_are_called_in_order_with_before_and_after() -> None:
    cache = Cache()
    calls: list[tuple[str, int]] = []

    def first(change: Change) -> None:
        assert cache.snapshot is change.after, "announced after the snapshot is published"
        assert change.before.revision == change.revision - 1
        assert change.after.revision == change.revision
        before = change.before.event_type(change.namespace, change.name)
        after = change.after.event_type(change.namespace, change.name)
        assert before is change.old
        assert after is change.new
        calls.append(("first", change.revision))

    def second(change: Change) -> None:
        calls.append(("second", change.revision))

    cache.add_listener(first)
    cache.add_listener(second)
    cache.apply("EventType", "ADDED", event_type_raw("a", "1"))
    cache.apply("EventType", "MODIFIED", event_type_raw("a", "2"))
    cache.apply("EventType", "MODIFIED", event_type_raw("a", "2"))
    cache.apply("EventType", "DELETED", event_type_raw("a", "2"))
    assert calls == [
        ("first", 1),
        ("second", 1),
        ("first", 2),
        ("second", 2),
        ("first", 3),
        ("second", 3),
    ]


def test_consecutive_changes_chain_their_snapshots() -> None:
    cache = Cache()
    changes: list[Change] = []
    cache.add_listener(changes.append)
    cache.apply("Broker", "ADDED", broker_raw("b"))
    cache.apply("EventType", "ADDED", event_type_raw("a"))
    cache.replace("Trigger", [trigger_raw("t1"), trigger_raw("t2")])
    assert [c.revision for c in changes] == [1, 2, 3, 4]
    for earlier, later in itertools.pairwise(changes):
        assert later.before is earlier.after


# replace --------------------------------------------------------------------------------------


def test_replace_turns_the_difference_into_changes() -> None:
    cache = Cache()
    cache.apply("EventType", "ADDED", event_type_raw("kept", "1"))
    cache.apply("EventType", "ADDED", event_type_raw("changed", "1"))
    cache.apply("EventType", "ADDED", event_type_raw("vanished", "1"))
    cache.apply("Trigger", "ADDED", trigger_raw("other-kind"))
    seen: list[Change] = []
    cache.add_listener(seen.append)
    changes = cache.replace(
        "EventType",
        [
            event_type_raw("kept", "1"),
            event_type_raw("changed", "5"),
            event_type_raw("new", "6"),
        ],
    )
    assert seen == changes
    assert sorted((c.type, c.name) for c in changes) == [
        ("ADDED", "new"),
        ("DELETED", "vanished"),
        ("MODIFIED", "changed"),
    ]
    deleted = next(c for c in changes if c.type == "DELETED")
    assert deleted.old.meta.name == "vanished"
    assert deleted.new is None
    assert [c.revision for c in changes] == [5, 6, 7]
    assert names(cache.snapshot.event_types_in("default")) == ["changed", "kept", "new"]
    assert cache.snapshot.trigger("default", "other-kind") is not None, "other kinds untouched"


def test_replace_with_the_same_list_changes_nothing() -> None:
    cache = Cache()
    raws = [broker_raw("a", "1"), broker_raw("b", "2", namespace="other")]
    assert len(cache.replace("Broker", raws)) == 2
    snapshot = cache.snapshot
    assert cache.replace("Broker", raws) == []
    assert cache.snapshot is snapshot


def test_replace_with_an_empty_list_deletes_everything_of_the_kind() -> None:
    cache = Cache()
    cache.replace("Namespace", [namespace_raw("a"), namespace_raw("b")])
    changes = cache.replace("Namespace", [])
    assert sorted((c.type, c.name) for c in changes) == [("DELETED", "a"), ("DELETED", "b")]
    assert dict(cache.snapshot.namespaces) == {}


KEYS = st.tuples(st.sampled_from(["default", "payments"]), st.sampled_from(["a", "b", "c", "d"]))
LISTED = st.dictionaries(
    KEYS,
    st.tuples(
        st.sampled_from(["1", "2", "3"]),
        st.sampled_from([None, "default", "dev"]),
        st.sampled_from(["t1", "t2"]),
        st.booleans(),
    ),
    max_size=6,
)


def _event_type_list(
    listed: dict[tuple[str, str], tuple[str, str | None, str, bool]],
) -> list[dict[str, Any]]:
    return [
        event_type_raw(name, rv, namespace=ns, broker=broker, type_=type_, by_reference=by_ref)
        for (ns, name), (rv, broker, type_, by_ref) in listed.items()
    ]


def _all_event_types(snapshot: Snapshot) -> dict[tuple[str, str], models.EventType]:
    return {
        (et.meta.namespace, et.meta.name): et
        for group in snapshot.event_types.groups.values()
        for et in group.values()
    }


def _assert_indexes_exact(snapshot: Snapshot) -> None:
    everything = _all_event_types(snapshot).values()
    for ns in ("default", "payments"):
        in_ns = [et for et in everything if et.meta.namespace == ns]
        assert names(snapshot.event_types_in(ns)) == sorted(et.meta.name for et in in_ns)
        for broker in ("default", "dev"):
            expected = sorted(et.meta.name for et in in_ns if et.broker == broker)
            assert names(snapshot.event_types_of_broker(ns, broker)) == expected
        for type_ in ("t1", "t2"):
            expected = sorted(et.meta.name for et in in_ns if et.type == type_)
            assert names(snapshot.event_types_of_type(ns, type_)) == expected
    for index in (
        snapshot.event_types,
        snapshot.event_types_by_broker,
        snapshot.event_types_by_type,
    ):
        assert all(len(group) > 0 for group in index.groups.values()), "no empty groups left"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(LISTED, min_size=1, max_size=6))
def test_replace_makes_the_cache_equal_the_list(
    lists: list[dict[tuple[str, str], tuple[str, str | None, str, bool]]],
) -> None:
    cache = Cache()
    replayed: dict[tuple[str, str], Any] = {}

    def replay(change: Change) -> None:
        key = (change.namespace, change.name)
        if change.type == "DELETED":
            assert key in replayed
            del replayed[key]
        else:
            assert (key in replayed) == (change.type == "MODIFIED")
            replayed[key] = change.new

    cache.add_listener(replay)
    for listed in lists:
        before = _all_event_types(cache.snapshot)
        revision = cache.snapshot.revision
        changes = cache.replace("EventType", _event_type_list(listed))
        after = _all_event_types(cache.snapshot)
        assert {key: et.meta.resource_version for key, et in after.items()} == {
            key: rv for key, (rv, *_) in listed.items()
        }
        expected = {(key, "DELETED") for key in before if key not in listed} | {
            (key, "ADDED" if key not in before else "MODIFIED")
            for key, (rv, *_) in listed.items()
            if key not in before or before[key].meta.resource_version != rv
        }
        assert {((c.namespace, c.name), c.type) for c in changes} == expected
        assert len(changes) == len(expected)
        assert cache.snapshot.revision == revision + len(changes)
        assert [c.revision for c in changes] == list(
            range(revision + 1, revision + 1 + len(changes))
        )
        for key, et in after.items():
            if key in before and before[key].meta.resource_version == et.meta.resource_version:
                assert et is before[key], "unchanged objects are kept, not rebuilt"
        assert replayed == after, "listeners can rebuild the cache from the changes"
        _assert_indexes_exact(cache.snapshot)


EVENTS = st.lists(
    st.tuples(
        st.sampled_from(["ADDED", "MODIFIED", "DELETED"]),
        st.sampled_from(["a", "b", "c"]),
        st.integers(min_value=1, max_value=4).map(str),
        st.sampled_from([None, "default", "dev"]),
        st.sampled_from(["t1", "t2"]),
    ),
    max_size=25,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(EVENTS)
def test_indexes_stay_exact_under_any_event_sequence(
    events: list[tuple[StoreChangeType, str, str, str | None, str]],
) -> None:
    cache = Cache()
    for change_type, name, rv, broker, type_ in events:
        revision = cache.snapshot.revision
        raw = event_type_raw(name, rv, broker=broker, type_=type_)
        change = cache.apply("EventType", change_type, raw)
        assert cache.snapshot.revision == revision + (1 if change else 0)
        _assert_indexes_exact(cache.snapshot)


# snapshots ------------------------------------------------------------------------------------


def test_an_old_snapshot_never_changes() -> None:
    cache = Cache()
    cache.apply("Namespace", "ADDED", namespace_raw("default"))
    cache.apply("Broker", "ADDED", broker_raw("default"))
    cache.apply("EventType", "ADDED", event_type_raw("a", "1", type_="t1"))
    cache.apply("Trigger", "ADDED", trigger_raw("t"))
    old = cache.snapshot
    old_a = old.event_type("default", "a")

    cache.apply("EventType", "MODIFIED", event_type_raw("a", "2", broker="dev", type_="t2"))
    cache.apply("EventType", "ADDED", event_type_raw("b", "3"))
    cache.apply("Trigger", "DELETED", trigger_raw("t"))
    cache.apply("Broker", "DELETED", broker_raw("default"))
    cache.apply("Namespace", "DELETED", namespace_raw("default"))
    cache.replace("EventType", [])

    assert old.revision == 4
    assert old.event_type("default", "a") is old_a
    assert names(old.event_types_in("default")) == ["a"]
    assert names(old.event_types_of_broker("default", "default")) == ["a"]
    assert old.event_types_of_broker("default", "dev") == []
    assert names(old.event_types_of_type("default", "t1")) == ["a"]
    assert names(old.triggers_of_broker("default", "default")) == ["t"]
    assert old.broker("default", "default") is not None
    assert "default" in old.namespaces
    assert cache.snapshot.event_types_in("default") == []
    assert cache.snapshot.revision == 11


def test_snapshots_are_frozen() -> None:
    snapshot = Cache().snapshot
    with pytest.raises(AttributeError):
        snapshot.revision = 5  # type: ignore[misc]


def test_reads_of_a_fixture_snapshot() -> None:
    cache = Cache()
    for filename in FIXTURE_FILES:
        for raw in load(filename):
            assert cache.apply(raw["kind"], "ADDED", raw) is not None
    snapshot = cache.snapshot
    assert sorted(snapshot.namespaces) == ["default", "payments"]
    assert names(snapshot.brokers_in("default")) == ["default", "dev"]
    assert names(snapshot.event_types_of_broker("default", "default")) == [
        "com.github.issues",
        "com.github.pullrequest",
        "dev.knative.samples.heartbeat",
        "dev.knative.source.github.push-34cnb",
    ]
    assert names(snapshot.event_types_of_broker("default", "dev")) == ["org.bitbucket.repofork"]
    assert names(snapshot.event_types_of_type("payments", "com.example.order.created")) == [
        "com.example.order.created"
    ]
    assert names(snapshot.triggers_of_broker("default", "dev")) == ["bitbucket-forks"]
    assert names(snapshot.triggers_of_broker("payments", "default")) == [
        "acme-orders",
        "order-created",
    ]
    refunded = snapshot.event_type("payments", "com.example.payment.refunded")
    assert refunded is not None
    assert snapshot.broker_of(refunded) is None
    heartbeat = snapshot.event_type("default", "dev.knative.samples.heartbeat")
    assert heartbeat is not None
    assert snapshot.broker_of(heartbeat) is snapshot.broker("default", "default")


# indexes when an EventType or Trigger moves ---------------------------------------------------


def test_event_type_moving_broker_leaves_the_old_index() -> None:
    cache = Cache()
    cache.apply("EventType", "ADDED", event_type_raw("a", "1", broker="default"))
    cache.apply("EventType", "ADDED", event_type_raw("b", "1", broker="default"))
    cache.apply("EventType", "MODIFIED", event_type_raw("a", "2", broker="dev", by_reference=True))
    snapshot = cache.snapshot
    assert names(snapshot.event_types_of_broker("default", "default")) == ["b"]
    assert names(snapshot.event_types_of_broker("default", "dev")) == ["a"]
    moved = snapshot.event_types_of_broker("default", "dev")[0]
    assert moved.meta.resource_version == "2"
    cache.apply("EventType", "MODIFIED", event_type_raw("a", "3", broker=None))
    assert cache.snapshot.event_types_of_broker("default", "dev") == []
    assert ("default", "dev") not in cache.snapshot.event_types_by_broker.groups
    assert names(cache.snapshot.event_types_in("default")) == ["a", "b"]


def test_event_type_changing_type_leaves_the_old_index() -> None:
    cache = Cache()
    cache.apply("EventType", "ADDED", event_type_raw("a", "1", type_="t1"))
    cache.apply("EventType", "MODIFIED", event_type_raw("a", "2", type_="t2"))
    assert cache.snapshot.event_types_of_type("default", "t1") == []
    assert names(cache.snapshot.event_types_of_type("default", "t2")) == ["a"]
    assert ("default", "t1") not in cache.snapshot.event_types_by_type.groups


def test_event_type_without_type_is_not_type_indexed() -> None:
    cache = Cache()
    cache.apply("EventType", "ADDED", event_type_raw("a", "1", type_=""))
    assert len(cache.snapshot.event_types_by_type.groups) == 0
    assert names(cache.snapshot.event_types_in("default")) == ["a"]


def test_broker_index_is_per_namespace() -> None:
    cache = Cache()
    cache.apply("EventType", "ADDED", event_type_raw("a", namespace="one"))
    cache.apply("EventType", "ADDED", event_type_raw("b", namespace="two"))
    assert names(cache.snapshot.event_types_of_broker("one", "default")) == ["a"]
    assert names(cache.snapshot.event_types_of_broker("two", "default")) == ["b"]


def test_trigger_moving_broker_leaves_the_old_index() -> None:
    cache = Cache()
    cache.apply("Trigger", "ADDED", trigger_raw("t", "1", broker="default"))
    cache.apply("Trigger", "ADDED", trigger_raw("u", "1", broker="default"))
    cache.apply("Trigger", "MODIFIED", trigger_raw("t", "2", broker="dev"))
    assert names(cache.snapshot.triggers_of_broker("default", "default")) == ["u"]
    assert names(cache.snapshot.triggers_of_broker("default", "dev")) == ["t"]
    cache.apply("Trigger", "DELETED", trigger_raw("t", "2"))
    assert cache.snapshot.triggers_of_broker("default", "dev") == []
    assert names(cache.snapshot.triggers_in("default")) == ["u"]


def test_deleting_an_event_type_empties_every_index() -> None:
    cache = Cache()
    cache.apply("EventType", "ADDED", event_type_raw("a"))
    cache.apply("EventType", "DELETED", event_type_raw("a"))
    snapshot = cache.snapshot
    assert len(snapshot.event_types.groups) == 0
    assert len(snapshot.event_types_by_broker.groups) == 0
    assert len(snapshot.event_types_by_type.groups) == 0


def test_lists_are_sorted_by_name() -> None:
    cache = Cache()
    for name in ("m", "z", "a", "k"):
        cache.apply("Broker", "ADDED", broker_raw(name))
        cache.apply("Trigger", "ADDED", trigger_raw(name))
        cache.apply("EventType", "ADDED", event_type_raw(name))
    assert names(cache.snapshot.brokers_in("default")) == ["a", "k", "m", "z"]
    assert names(cache.snapshot.triggers_in("default")) == ["a", "k", "m", "z"]
    assert names(cache.snapshot.event_types_in("default")) == ["a", "k", "m", "z"]


# waiting for writes ---------------------------------------------------------------------------


async def test_wait_for_resolves_when_the_resource_version_appears() -> None:
    cache = Cache()
    cache.apply("EventType", "ADDED", event_type_raw("a", "1"))
    waiting = asyncio.create_task(cache.wait_for("EventType", "default", "a", "3", timeout=5))
    await asyncio.sleep(0)
    cache.apply("EventType", "MODIFIED", event_type_raw("a", "2"))
    await asyncio.sleep(0)
    assert not waiting.done()
    cache.apply("EventType", "MODIFIED", event_type_raw("a", "3"))
    found = await asyncio.wait_for(waiting, 1)
    assert found is not None
    assert found.meta.resource_version == "3"


async def test_wait_for_a_new_object() -> None:
    cache = Cache()
    waiting = asyncio.create_task(cache.wait_for("Trigger", "default", "t", "10", timeout=5))
    await asyncio.sleep(0)
    cache.apply("Trigger", "ADDED", trigger_raw("t", "10", namespace="other"))
    await asyncio.sleep(0)
    assert not waiting.done(), "another namespace is another object"
    cache.apply("Trigger", "ADDED", trigger_raw("t", "10"))
    found = await asyncio.wait_for(waiting, 1)
    assert isinstance(found, models.Trigger)


async def test_wait_for_accepts_a_newer_resource_version() -> None:
    cache = Cache()
    waiting = asyncio.create_task(cache.wait_for("Broker", "default", "b", "9", timeout=5))
    await asyncio.sleep(0)
    cache.apply("Broker", "ADDED", broker_raw("b", "12"))
    found = await asyncio.wait_for(waiting, 1)
    assert found is not None
    assert found.meta.resource_version == "12"


async def test_wait_for_what_is_already_there_returns_at_once() -> None:
    cache = Cache()
    cache.apply("EventType", "ADDED", event_type_raw("a", "5"))
    found = await asyncio.wait_for(cache.wait_for("EventType", "default", "a", "5", timeout=5), 1)
    assert found is cache.snapshot.event_type("default", "a")
    older = await asyncio.wait_for(cache.wait_for("EventType", "default", "a", "4", timeout=5), 1)
    assert older is found


async def test_wait_for_deletion() -> None:
    cache = Cache()
    cache.apply("EventType", "ADDED", event_type_raw("a", "5"))
    waiting = asyncio.create_task(cache.wait_for("EventType", "default", "a", None, timeout=5))
    await asyncio.sleep(0)
    assert not waiting.done()
    cache.apply("EventType", "DELETED", event_type_raw("a", "6"))
    assert await asyncio.wait_for(waiting, 1) is None
    gone = await asyncio.wait_for(cache.wait_for("EventType", "default", "a", None, timeout=5), 1)
    assert gone is None


async def test_wait_for_timeout_returns_the_current_object() -> None:
    cache = Cache()
    cache.apply("EventType", "ADDED", event_type_raw("a", "5"))
    current = await cache.wait_for("EventType", "default", "a", "99", timeout=0.02)
    assert current is not None
    assert current.meta.resource_version == "5"
    missing = await cache.wait_for("EventType", "default", "nope", "1", timeout=0.02)
    assert missing is None
    still_there = await cache.wait_for("EventType", "default", "a", None, timeout=0.02)
    assert still_there is current
    assert cache._waiters == [], "timed-out waiters are cleaned up"


async def test_wait_for_non_numeric_resource_versions_needs_equality() -> None:
    cache = Cache()
    cache.apply("EventType", "ADDED", event_type_raw("a", "abc"))
    current = await cache.wait_for("EventType", "default", "a", "abd", timeout=0.02)
    assert current is not None
    assert current.meta.resource_version == "abc"
    waiting = asyncio.create_task(cache.wait_for("EventType", "default", "a", "xyz", timeout=5))
    await asyncio.sleep(0)
    cache.apply("EventType", "MODIFIED", event_type_raw("a", "xyz"))
    found = await asyncio.wait_for(waiting, 1)
    assert found is not None
    assert found.meta.resource_version == "xyz"


async def test_wait_until() -> None:
    cache = Cache()
    assert await cache.wait_until(lambda s: s.revision == 0, timeout=0.01) is True
    assert await cache.wait_until(lambda s: s.revision > 0, timeout=0.01) is False
    waiting = asyncio.create_task(cache.wait_until(lambda s: s.revision >= 2, timeout=5))
    await asyncio.sleep(0)
    cache.apply("Broker", "ADDED", broker_raw("a"))
    await asyncio.sleep(0)
    assert not waiting.done()
    cache.apply("Broker", "ADDED", broker_raw("b"))
    assert await asyncio.wait_for(waiting, 1) is True
    assert cache._waiters == []


async def test_many_waiters_wake_together() -> None:
    cache = Cache()
    waiters = [
        asyncio.create_task(cache.wait_for("Broker", "default", "b", "1", timeout=5))
        for _ in range(3)
    ]
    await asyncio.sleep(0)
    cache.apply("Broker", "ADDED", broker_raw("b", "1"))
    results = await asyncio.wait_for(asyncio.gather(*waiters), 1)
    assert all(result is cache.snapshot.broker("default", "b") for result in results)


# sync state ----------------------------------------------------------------------------------


def test_sync_state() -> None:
    cache = Cache()
    assert cache.sync_state == dict.fromkeys(KINDS, False)
    assert not cache.synced
    for kind in KINDS[:-1]:
        cache.set_synced(kind, True)
        assert not cache.synced
    cache.set_synced(KINDS[-1], True)
    assert cache.synced
    assert cache.sync_state == dict.fromkeys(KINDS, True)
    state = cache.sync_state
    state["Broker"] = False
    assert cache.synced, "sync_state is a copy"
    cache.set_synced("Broker", False)
    assert not cache.synced
    assert cache.sync_state["Broker"] is False


async def test_wait_synced() -> None:
    cache = Cache()
    waiting = asyncio.create_task(cache.wait_synced())
    for kind in KINDS[:-1]:
        cache.set_synced(kind, True)
    await asyncio.sleep(0)
    assert not waiting.done()
    cache.set_synced(KINDS[-1], True)
    await asyncio.wait_for(waiting, 1)
    await asyncio.wait_for(cache.wait_synced(), 1)  # stays set


async def test_wait_synced_blocks_again_after_a_kind_loses_sync() -> None:
    cache = Cache()
    for kind in KINDS:
        cache.set_synced(kind, True)
    cache.set_synced("EventType", False)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(cache.wait_synced(), 0.02)
    cache.set_synced("EventType", True)
    await asyncio.wait_for(cache.wait_synced(), 1)


def test_unsynced_reasons_say_why_until_the_kind_is_synced_again() -> None:
    cache = Cache()
    assert cache.unsynced_reasons == dict.fromkeys(KINDS, "not listed yet")
    for kind in KINDS:
        cache.set_synced(kind, True)
    assert cache.unsynced_reasons == {}
    cache.mark_unsynced("Trigger", "restarting: KeyError")
    assert not cache.synced
    assert cache.sync_state["Trigger"] is False
    assert cache.unsynced_reasons == {"Trigger": "restarting: KeyError"}
    cache.set_synced("Broker", False)
    assert cache.unsynced_reasons == {"Trigger": "restarting: KeyError", "Broker": "unsynced"}
    cache.set_synced("Trigger", True)
    assert cache.unsynced_reasons == {"Broker": "unsynced"}


def test_a_kind_the_cache_does_not_model_is_refused_and_changes_nothing() -> None:
    """Reflectors name kinds as the cluster does; the cache models only its four."""
    cache = Cache()
    cache.apply("Broker", "ADDED", broker_raw("b", "1"))
    before = (cache.snapshot, cache.sync_state, cache.unsynced_reasons)
    source = {"metadata": {"namespace": "default", "name": "ping", "resourceVersion": "2"}}
    with pytest.raises(ValueError, match="no model of kind 'PingSource'"):
        cache.apply("PingSource", "ADDED", source)
    with pytest.raises(ValueError, match="PingSource"):
        cache.replace("PingSource", [source])
    with pytest.raises(ValueError, match="PingSource"):
        cache.set_synced("PingSource", True)
    with pytest.raises(ValueError, match="PingSource"):
        cache.mark_unsynced("PingSource", "restarting")
    assert (cache.snapshot, cache.sync_state, cache.unsynced_reasons) == before


# listeners that fail -------------------------------------------------------------------------


def test_a_failing_listener_does_not_hide_the_change_from_the_others() -> None:
    cache = Cache()
    seen: list[str] = []

    def failing(change: Change) -> None:
        raise KeyError(change.name)

    cache.add_listener(lambda change: seen.append(f"first {change.name}"))
    cache.add_listener(failing)
    cache.add_listener(lambda change: seen.append(f"last {change.name}"))
    with pytest.raises(KeyError):
        cache.apply("EventType", "ADDED", event_type_raw("a"))
    assert seen == ["first a", "last a"]
    assert cache.snapshot.event_type("default", "a") is not None
    assert cache.snapshot.revision == 1
    assert cache.apply("EventType", "ADDED", event_type_raw("a")) is None, "not applied twice"


async def test_a_failing_listener_does_not_keep_writers_waiting() -> None:
    cache = Cache()

    def failing(change: Change) -> None:
        raise RuntimeError("listener bug")

    cache.add_listener(failing)
    waiting = asyncio.create_task(cache.wait_for("EventType", "default", "a", "1", timeout=5))
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError):
        cache.apply("EventType", "ADDED", event_type_raw("a"))
    found = await asyncio.wait_for(waiting, 1)
    assert found is not None
    assert found.meta.name == "a"


def test_several_failing_listeners_are_raised_together() -> None:
    cache = Cache()

    def failing(change: Change) -> None:
        raise ValueError(change.name)

    cache.add_listener(failing)
    cache.add_listener(failing)
    with pytest.raises(ExceptionGroup) as raised:
        cache.replace("Broker", [broker_raw("b")])
    assert [type(e) for e in raised.value.exceptions] == [ValueError, ValueError]
    assert cache.snapshot.broker("default", "b") is not None
