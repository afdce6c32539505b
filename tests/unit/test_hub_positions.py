"""Cursors across replicas: two hubs fed the cluster's watch events, each its own way.

Each :class:`Replica` is a cache and a hub, as one ``serve`` process has; they share the
cursor key, as ``--cursor-key-file`` makes them. A cursor of one resumes on the other after
exactly the same change when both took the same path through the cluster's changes, and
says Behind (re-query) when the other cannot know where the client is.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from event_registry.hub import positions
from event_registry.hub.changes import EventTypeChanged
from event_registry.hub.hub import Behind, Hub
from event_registry.store.caching import Cache, StoreChangeType

KEY = b"a secret every replica mounts"


def broker_raw(name: str, rv: int, *, ready: bool = True) -> dict[str, Any]:
    return {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Broker",
        "metadata": {"name": name, "namespace": "default", "resourceVersion": str(rv)},
        "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
    }


def event_type_raw(name: str, rv: int, broker: str = "default") -> dict[str, Any]:
    return {
        "apiVersion": "eventing.knative.dev/v1beta2",
        "kind": "EventType",
        "metadata": {"name": name, "namespace": "default", "resourceVersion": str(rv)},
        "spec": {"type": f"com.example.{name}", "source": "/s", "broker": broker},
        "status": {"conditions": [{"type": "Ready", "status": "True"}]},
    }


Event = tuple[str, StoreChangeType, dict[str, Any]]


class Replica:
    def __init__(self, *, resume_wait: float = 0.05) -> None:
        self.cache = Cache()
        self.hub = Hub(self.cache, cursor_key=KEY, resume_wait=resume_wait)

    def watch(self, *events: Event) -> None:
        for kind, change_type, raw in events:
            self.cache.apply(kind, change_type, raw)

    def seen_after(self, seq: int) -> list[tuple[str, str, str, bool]]:
        """What a subscriber of every EventType change receives after position ``seq``."""
        return [
            (change.type, change.name, change.cause, change.new_consumable)
            for change in self.hub.after(seq)
            if isinstance(change, EventTypeChanged)
        ]

    def cursors(self) -> list[str]:
        return [self.hub.cursor(change) for change in self.hub.after(0)]


def story() -> list[Event]:
    """A Broker, three EventTypes on it, a flip each way, an update and a deletion."""
    return [
        ("Broker", "ADDED", broker_raw("default", 1)),
        ("EventType", "ADDED", event_type_raw("a", 2)),
        ("EventType", "ADDED", event_type_raw("b", 3)),
        ("EventType", "ADDED", event_type_raw("c", 4)),
        ("Broker", "MODIFIED", broker_raw("default", 5, ready=False)),
        ("EventType", "MODIFIED", event_type_raw("b", 6)),
        ("Broker", "MODIFIED", broker_raw("default", 7)),
        ("EventType", "DELETED", event_type_raw("a", 8)),
    ]


def test_every_cursor_resumes_on_a_replica_that_saw_the_same_changes() -> None:
    first, second = Replica(), Replica()
    first.watch(*story())
    second.watch(*story())
    for seq, cursor in enumerate(first.cursors(), start=1):
        resumed = second.hub.position(cursor)
        assert second.seen_after(resumed) == first.seen_after(seq)
    assert second.hub.position(first.hub.marker_cursor(first.hub.seq)) == second.hub.seq


def test_readiness_derived_from_a_broker_flip_resumes_inside_the_fan_out() -> None:
    """The flip at rv 5 makes three derived events (a, b, c, by name): a client that took
    the Broker's and a's resumes elsewhere with b's, c's, and what followed."""
    first, second = Replica(), Replica()
    first.watch(*story())
    second.watch(*story())
    flip = next(
        c
        for c in first.hub.after(0)
        if isinstance(c, EventTypeChanged) and c.name == "a" and c.cause == "Broker"
    )
    resumed = second.hub.position(first.hub.cursor(flip))
    assert second.seen_after(resumed)[:3] == [
        ("UPDATED", "b", "Broker", False),
        ("UPDATED", "c", "Broker", False),
        ("UPDATED", "b", "EventType", False),
    ]


def test_a_replica_that_took_the_two_watches_in_another_order_resyncs_only_in_between() -> None:
    """Brokers and EventTypes are separate watch streams: one replica may apply rv 3 before
    rv 2. Where their paths differ the client must re-query; once they meet again, cursors
    resume exactly."""
    first, second = Replica(), Replica()
    first.watch(
        ("Broker", "ADDED", broker_raw("default", 1)),
        ("EventType", "ADDED", event_type_raw("a", 2)),
        ("Broker", "MODIFIED", broker_raw("default", 3, ready=False)),
    )
    second.watch(
        ("Broker", "ADDED", broker_raw("default", 1)),
        ("Broker", "MODIFIED", broker_raw("default", 3, ready=False)),
        ("EventType", "ADDED", event_type_raw("a", 2)),
    )
    after_a = first.cursors()[1]  # a ADDED, consumable, on first; never so on second
    with pytest.raises(Behind):
        second.hub.position(after_a)
    both: list[Event] = [("EventType", "MODIFIED", event_type_raw("a", 4))]
    first.watch(*both)
    second.watch(*both)
    assert second.hub.position(first.hub.cursor(first.hub.seq)) == second.hub.seq


def test_a_replica_that_started_later_resumes_from_the_state_its_list_brought() -> None:
    first = Replica()
    events = story()
    first.watch(*events)
    late = Replica()
    late.cache.replace("Broker", [broker_raw("default", 7)])
    late.cache.replace("EventType", [event_type_raw("b", 6), event_type_raw("c", 4)])
    later: list[Event] = [("EventType", "ADDED", event_type_raw("d", 9))]
    first.watch(*later)
    late.watch(*later)
    before_d = first.hub.cursor(first.hub.seq - 1)
    assert late.seen_after(late.hub.position(before_d)) == [("ADDED", "d", "EventType", True)]
    with pytest.raises(Behind):
        late.hub.position(first.cursors()[3])  # before the list: not in its history


def test_a_state_that_comes_back_resumes_at_the_right_visit() -> None:
    """x created and deleted: the states before and after are equal; a cursor of each resumes
    at its own, so the client neither misses x nor gets it twice."""
    first, second = Replica(), Replica()
    events: list[Event] = [
        ("Broker", "ADDED", broker_raw("default", 1)),
        ("EventType", "ADDED", event_type_raw("x", 2)),
        ("EventType", "DELETED", event_type_raw("x", 3)),
        ("EventType", "ADDED", event_type_raw("y", 4)),
    ]
    first.watch(*events)
    second.watch(*events)
    before_x, after_x = first.hub.cursor(1), first.hub.cursor(3)
    assert [name for _, name, _, _ in second.seen_after(second.hub.position(before_x))] == [
        "x",
        "x",
        "y",
    ]
    assert second.seen_after(second.hub.position(after_x)) == [("ADDED", "y", "EventType", True)]


def test_a_position_inside_a_relists_fan_out_resumes_only_where_it_was_made() -> None:
    first, second = Replica(), Replica()
    for replica in (first, second):
        replica.watch(*story()[:4])
        replica.cache.replace("Broker", [broker_raw("default", 9, ready=False)])
    inside = next(
        c for c in first.hub.after(0) if isinstance(c, EventTypeChanged) and c.cause == "Broker"
    )
    assert inside.stamp is not None
    assert inside.stamp.local != 0
    assert first.hub.position(first.hub.cursor(inside)) == inside.seq
    with pytest.raises(Behind):
        second.hub.position(first.hub.cursor(inside))
    at_end = first.hub.cursor(first.hub.seq)  # the relist's end: the same state on both
    assert second.hub.position(at_end) == second.hub.seq


async def test_a_replica_behind_the_cursor_waits_for_it() -> None:
    first, second = Replica(), Replica(resume_wait=5.0)
    events = story()
    first.watch(*events)
    second.watch(*events[:5])
    resuming = asyncio.create_task(second.hub.resume(first.hub.cursor(first.hub.seq - 1)))
    await asyncio.sleep(0)
    assert not resuming.done()
    second.watch(*events[5:])
    position = await resuming
    assert second.seen_after(position) == [("DELETED", "a", "EventType", False)]
    assert second.hub.resumes == {"waited": 1}
    assert await second.hub.resume(first.hub.cursor(first.hub.seq)) == second.hub.seq
    assert second.hub.resumes == {"waited": 1, "exact": 1}


def test_stamps_pack_into_a_cursors_position_and_back() -> None:
    stamp = positions.Stamp(
        positions.KindState(12345, 2**64 - 1, relisted=True),
        positions.KindState(2**62, 7),
        step=3,
        local=99,
    )
    assert positions.Stamp.unpack(stamp.pack()) == stamp
