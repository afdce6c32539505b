"""Unit tests for event_registry.hub.changes: cache changes → the changes subscriptions see."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from event_registry.domain import models, readiness
from event_registry.hub.changes import BrokerChanged, EventTypeChanged, HubChange, derive
from event_registry.store.caching import Cache, Change, Kind, StoreChangeType
from tests.support.raw_objects import broker_raw, event_type_raw, namespace_raw, trigger_raw


class Cluster:
    """A cache fed like a reflector feeds it, with a fresh resourceVersion for every event."""

    def __init__(self) -> None:
        self.cache = Cache()
        self._versions = itertools.count(1)

    def apply(self, kind: Kind, change_type: StoreChangeType, raw: dict[str, Any]) -> Change:
        raw["metadata"]["resourceVersion"] = str(next(self._versions))
        change = self.cache.apply(kind, change_type, raw)
        assert change is not None
        return change

    def event_type(
        self, name: str, change_type: StoreChangeType = "ADDED", **fields: Any
    ) -> Change:
        return self.apply("EventType", change_type, event_type_raw(name, **fields))

    def broker(self, name: str, change_type: StoreChangeType = "ADDED", **fields: Any) -> Change:
        return self.apply("Broker", change_type, broker_raw(name, **fields))


def event_type_changes(derived: list[HubChange]) -> list[EventTypeChanged]:
    assert all(isinstance(change, EventTypeChanged) for change in derived)
    return [change for change in derived if isinstance(change, EventTypeChanged)]


def flips(derived: list[HubChange]) -> list[tuple[str, bool, bool]]:
    """The (name, before, after) consumable flips among the derived changes."""
    return [
        (change.name, change.old_consumable, change.new_consumable)
        for change in derived
        if isinstance(change, EventTypeChanged)
    ]


# an EventType's own change ----------------------------------------------------------------------


def test_an_added_event_type_is_one_change_with_its_consumability() -> None:
    cluster = Cluster()
    cluster.broker("default", ready="True")
    change = cluster.event_type("et", ready="True")
    [derived] = event_type_changes(derive(change, next_seq=7))
    assert (derived.seq, derived.type, derived.namespace, derived.name) == (
        7,
        "ADDED",
        "default",
        "et",
    )
    assert derived.old is None
    assert derived.new is change.new
    assert derived.latest is change.new
    assert (derived.old_consumable, derived.new_consumable) == (False, True)
    assert derived.cause == "EventType"
    assert derived.snapshot is change.after


@pytest.mark.parametrize(
    ("event_type_ready", "broker_ready", "consumable"),
    [
        ("True", "True", True),
        ("False", "True", False),
        ("Unknown", "True", False),
        (None, "True", False),
        ("True", "False", False),
        ("True", "Unknown", False),
        ("True", None, False),
    ],
)
def test_consumable_needs_a_ready_event_type_on_a_ready_broker(
    event_type_ready: str | None, broker_ready: str | None, consumable: bool
) -> None:
    cluster = Cluster()
    cluster.broker("default", ready=broker_ready)
    [derived] = event_type_changes(derive(cluster.event_type("et", ready=event_type_ready), 1))
    assert derived.new_consumable is consumable


def test_a_ready_event_type_without_its_broker_is_not_consumable() -> None:
    cluster = Cluster()
    cluster.broker("other", ready="True")
    [missing] = event_type_changes(derive(cluster.event_type("a", ready="True"), 1))
    [brokerless] = event_type_changes(derive(cluster.event_type("b", broker=None, ready="True"), 2))
    assert not missing.new_consumable
    assert not brokerless.new_consumable


def test_an_updated_event_type_reports_its_readiness_flip() -> None:
    cluster = Cluster()
    cluster.broker("default", ready="True")
    added = cluster.event_type("et", ready="False")
    updated = cluster.event_type("et", "MODIFIED", ready="True")
    [derived] = event_type_changes(derive(updated, 2))
    assert derived.type == "UPDATED"
    assert derived.old is added.new
    assert derived.new is updated.new
    assert (derived.old_consumable, derived.new_consumable) == (False, True)

    [back] = event_type_changes(derive(cluster.event_type("et", "MODIFIED", ready="False"), 3))
    assert (back.old_consumable, back.new_consumable) == (True, False)


def test_an_update_without_a_readiness_flip_is_still_its_own_change() -> None:
    cluster = Cluster()
    cluster.broker("default", ready="True")
    cluster.event_type("et", ready="True")
    change = cluster.event_type("et", "MODIFIED", ready="True", type_="com.example.renamed")
    [derived] = event_type_changes(derive(change, 2))
    assert (derived.type, derived.old_consumable, derived.new_consumable) == (
        "UPDATED",
        True,
        True,
    )
    assert isinstance(derived.new, models.EventType)
    assert derived.new.type == "com.example.renamed"


def test_a_deleted_event_type_was_consumable_and_is_no_longer() -> None:
    cluster = Cluster()
    cluster.broker("default", ready="True")
    added = cluster.event_type("et", ready="True")
    deleted = cluster.event_type("et", "DELETED")
    [derived] = event_type_changes(derive(deleted, 3))
    assert derived.type == "DELETED"
    assert derived.old is added.new
    assert derived.new is None
    assert derived.latest is added.new
    assert (derived.old_consumable, derived.new_consumable) == (True, False)
    assert derived.snapshot.event_type("default", "et") is None


def test_moving_an_event_type_to_another_broker_compares_both_brokers() -> None:
    cluster = Cluster()
    cluster.broker("ready", ready="True")
    cluster.broker("broken", ready="False")
    cluster.event_type("et", broker="broken", ready="True")
    [derived] = event_type_changes(
        derive(cluster.event_type("et", "MODIFIED", broker="ready", ready="True"), 4)
    )
    assert (derived.old_consumable, derived.new_consumable) == (False, True)


# a Broker's change fans out to its EventTypes -------------------------------------------------


def registry_of_one_broker(cluster: Cluster, broker_ready: str | None) -> None:
    """Broker ``default`` (maybe absent) carrying ``a`` and ``b`` (ready), ``c`` (not ready)
    and ``d`` (ready, by reference); ``other`` (on another Broker) and ``elsewhere`` (in
    another namespace) are ready but not carried by it."""
    if broker_ready is not None:
        cluster.broker("default", ready=broker_ready)
    cluster.event_type("b", ready="True")
    cluster.event_type("a", ready="True")
    cluster.event_type("c", ready="False")
    cluster.event_type("d", ready="True", by_reference=True)
    cluster.broker("second", ready="True")
    cluster.event_type("other", broker="second", ready="True")
    cluster.broker("default", namespace="payments", ready="True")
    cluster.event_type("elsewhere", namespace="payments", ready="True")


def test_a_broker_appearing_ready_makes_its_ready_event_types_consumable() -> None:
    cluster = Cluster()
    registry_of_one_broker(cluster, broker_ready=None)
    change = cluster.broker("default", ready="True")
    derived = derive(change, next_seq=10)
    head, *rest = derived
    assert isinstance(head, BrokerChanged)
    assert (head.seq, head.type, head.namespace, head.name) == (10, "ADDED", "default", "default")
    assert (head.old, head.new, head.snapshot) == (None, change.new, change.after)
    assert flips(derived) == [("a", False, True), ("b", False, True), ("d", False, True)]
    assert [c.seq for c in derived] == [10, 11, 12, 13]
    for fanned in event_type_changes(rest):
        assert fanned.type == "UPDATED"
        assert fanned.cause == "Broker"
        assert fanned.namespace == "default"
        assert fanned.old is fanned.new is change.after.event_type("default", fanned.name)
        assert fanned.snapshot is change.after


def test_a_broker_turning_not_ready_makes_its_event_types_unconsumable() -> None:
    cluster = Cluster()
    registry_of_one_broker(cluster, broker_ready="True")
    derived = derive(cluster.broker("default", "MODIFIED", ready="False"), 1)
    assert isinstance(derived[0], BrokerChanged)
    assert derived[0].type == "UPDATED"
    assert flips(derived) == [("a", True, False), ("b", True, False), ("d", True, False)]


def test_a_broker_turning_ready_again() -> None:
    cluster = Cluster()
    registry_of_one_broker(cluster, broker_ready="Unknown")
    derived = derive(cluster.broker("default", "MODIFIED", ready="True"), 1)
    assert flips(derived) == [("a", False, True), ("b", False, True), ("d", False, True)]


def test_a_vanishing_broker_makes_its_event_types_unconsumable() -> None:
    cluster = Cluster()
    registry_of_one_broker(cluster, broker_ready="True")
    existing = cluster.cache.snapshot.broker("default", "default")
    derived = derive(cluster.broker("default", "DELETED"), 1)
    head = derived[0]
    assert isinstance(head, BrokerChanged)
    assert (head.type, head.old, head.new) == ("DELETED", existing, None)
    assert flips(derived) == [("a", True, False), ("b", True, False), ("d", True, False)]


@pytest.mark.parametrize("ready", ["True", "False"])
def test_a_broker_change_that_flips_nothing_is_only_the_broker_change(ready: str) -> None:
    cluster = Cluster()
    registry_of_one_broker(cluster, broker_ready=ready)
    derived = derive(cluster.broker("default", "MODIFIED", ready=ready), 1)
    assert [type(change) for change in derived] == [BrokerChanged]


def test_a_broker_without_event_types_is_only_the_broker_change() -> None:
    cluster = Cluster()
    derived = derive(cluster.broker("lonely", ready="True"), 1)
    assert [type(change) for change in derived] == [BrokerChanged]


@pytest.mark.parametrize(
    ("kind", "raw"),
    [
        pytest.param("Trigger", trigger_raw("t"), id="trigger"),
        pytest.param("Namespace", namespace_raw("default"), id="namespace"),
    ],
)
def test_other_kinds_cause_no_hub_change(kind: Kind, raw: dict[str, Any]) -> None:
    cluster = Cluster()
    cluster.broker("default", ready="True")
    cluster.event_type("et", ready="True")
    assert derive(cluster.apply(kind, "ADDED", raw), 1) == []


def test_a_derived_change_keeps_the_snapshot_right_after_it() -> None:
    cluster = Cluster()
    cluster.broker("default", ready="True")
    [first] = event_type_changes(derive(cluster.event_type("et", ready="True"), 1))
    cluster.broker("default", "MODIFIED", ready="False")
    cluster.event_type("et", "DELETED")
    assert readiness.consumable(first.latest, first.snapshot.broker_of(first.latest))
    assert first.snapshot.event_type("default", "et") is first.latest


# every readiness flip is told, in order, and nothing else -------------------------------------

EVENT_TYPE_NAMES = ("e0", "e1", "e2")
BROKER_NAMES = ("b0", "b1")
READY = st.sampled_from(["True", "False", "Unknown", None])
Step = tuple[str, str, bool, str | None, str]


@st.composite
def steps(draw: st.DrawFn) -> Step:
    kind = draw(st.sampled_from(["EventType", "Broker"]))
    name = draw(st.sampled_from(EVENT_TYPE_NAMES if kind == "EventType" else BROKER_NAMES))
    return (kind, name, draw(st.booleans()), draw(READY), draw(st.sampled_from(BROKER_NAMES)))


@given(st.lists(steps(), max_size=30))
def test_folding_the_derived_flips_always_gives_the_true_consumability(
    history: list[Step],
) -> None:
    """Whatever happens, a subscriber that only follows the derived changes knows exactly
    which EventTypes are consumable, and is told of each flip once."""
    cluster = Cluster()
    known: dict[str, bool] = {}
    next_seq = 1
    for kind, name, delete, ready, broker in history:
        snapshot = cluster.cache.snapshot
        exists = (
            snapshot.event_type("default", name)
            if kind == "EventType"
            else snapshot.broker("default", name)
        )
        if delete and exists is None:
            continue
        change_type: StoreChangeType = "DELETED" if delete else "MODIFIED" if exists else "ADDED"
        if kind == "EventType":
            change = cluster.event_type(name, change_type, broker=broker, ready=ready)
        else:
            change = cluster.broker(name, change_type, ready=ready)
        derived = derive(change, next_seq)
        assert [c.seq for c in derived] == list(range(next_seq, next_seq + len(derived)))
        next_seq += len(derived)
        for hub_change in event_type_changes(derived[1:] if kind == "Broker" else derived):
            assert hub_change.old_consumable == known.get(hub_change.name, False)
            known[hub_change.name] = hub_change.new_consumable
        after = cluster.cache.snapshot
        truth = {
            et.meta.name: readiness.consumable(et, after.broker_of(et))
            for et in after.event_types_in("default")
        }
        assert {n: c for n, c in known.items() if c} == {n: c for n, c in truth.items() if c}
