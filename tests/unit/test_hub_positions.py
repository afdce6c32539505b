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
from hypothesis import event, given, settings
from hypothesis import strategies as st

from event_registry.domain import readiness
from event_registry.hub import positions
from event_registry.hub.changes import BrokerChanged, EventTypeChanged, HubChange
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


# any history ------------------------------------------------------------------------------------

Op = tuple[str, str, str]  # (kind, name, create / modify / delete)
OPS = st.lists(
    st.tuples(
        st.sampled_from(["EventType", "Broker"]),
        st.sampled_from(["x", "y", "z"]),
        st.sampled_from(["create", "modify", "delete"]),
    ),
    max_size=25,
)


def watch_events(ops: list[Op]) -> list[Event]:
    """The watch events a cluster makes of ``ops`` (one resourceVersion counter for all)."""
    existing: dict[tuple[str, str], int] = {}
    events: list[Event] = []
    for rv, (kind, name, op) in enumerate(ops, start=1):
        present = (kind, name) in existing
        if op == "delete" and not present:
            continue
        change_type: StoreChangeType = (
            "DELETED" if op == "delete" else "MODIFIED" if present else "ADDED"
        )
        flips = existing.get((kind, name), 0) + (op == "modify")
        if kind == "Broker":
            raw = broker_raw(f"b-{name}", rv, ready=flips % 2 == 0)
        else:
            raw = event_type_raw(name, rv, broker=f"b-{'x' if name != 'z' else 'y'}")
        events.append((kind, change_type, raw))
        if op == "delete":
            del existing[(kind, name)]
        else:
            existing[(kind, name)] = flips
    return events


State = dict[tuple[str, str], tuple[str, bool]]


def state_of(replica: Replica, seq: int) -> State:
    """Each object's resourceVersion (and an EventType's consumable) at position ``seq``."""
    changes = replica.hub.after(0)
    snapshot = changes[seq - 1].snapshot if seq else Cache().snapshot
    state: State = {}
    for brokers in snapshot.brokers.groups.values():
        for broker in brokers.values():
            state[("Broker", broker.meta.name)] = (broker.meta.resource_version, False)
    for event_types in snapshot.event_types.groups.values():
        for et in event_types.values():
            consumable = readiness.consumable(et, snapshot.broker_of(et))
            state[("EventType", et.meta.name)] = (et.meta.resource_version, consumable)
    return state


def replayed(state: State, changes: list[HubChange]) -> State:
    """``state`` with ``changes`` applied as a client applies them; a change it already had
    (a duplicate) fails."""
    state = dict(state)
    for change in changes:
        kind = "Broker" if isinstance(change, BrokerChanged) else "EventType"
        key = (kind, change.name)
        if isinstance(change, EventTypeChanged) and change.cause == "Broker":
            assert key in state, f"a readiness change of {key}, which the client never had"
            state[key] = (state[key][0], change.new_consumable)
        elif change.new is None:
            assert key in state, f"{key} deleted twice"
            del state[key]
        else:
            version = change.new.meta.resource_version
            assert state.get(key, ("", False))[0] != version, f"{key}@{version} twice"
            consumable = change.new_consumable if isinstance(change, EventTypeChanged) else False
            state[key] = (version, consumable)
    return state


def interleaved(events: list[Event], swaps: list[int]) -> list[Event]:
    """``events`` as another replica may receive them: a Broker's and an EventType's next to
    each other swapped (two watch streams), each kind still in its order."""
    events = list(events)
    for index in swaps:
        if index + 1 < len(events) and events[index][0] != events[index + 1][0]:
            events[index], events[index + 1] = events[index + 1], events[index]
    return events


@given(
    ops=OPS,
    cut=st.integers(min_value=0, max_value=25),
    swaps=st.lists(st.integers(min_value=0, max_value=24), max_size=4),
)
@settings(max_examples=300, deadline=None)
def test_any_history_resumes_exactly_or_says_behind(
    ops: list[Op], cut: int, swaps: list[int]
) -> None:
    """Same path: every cursor resumes, and what follows brings the client to the replica's
    state with nothing twice. A replica that started late (a list of the state at ``cut``), or
    that received the two kinds' events in another interleaving: each cursor resumes the same
    way, or is Behind; never a wrong or repeated change."""
    events = watch_events(ops)
    cut = min(cut, len(events))
    first, same, late, swapped = Replica(), Replica(), Replica(), Replica()
    first.watch(*events)
    same.watch(*events)
    swapped.watch(*interleaved(events, swaps))
    listed = Replica()
    listed.watch(*events[:cut])
    for kind in ("Broker", "EventType"):
        late.cache.replace(
            kind,
            [
                raw
                for k, _, raw in events[:cut]
                if k == kind and listed_has(listed, kind, raw["metadata"]["name"], raw)
            ],
        )
    late.watch(*events[cut:])
    for seq in range(first.hub.seq + 1):
        cursor = first.hub.cursor(seq)
        client = state_of(first, seq)
        for replica, must in ((same, True), (late, False), (swapped, False)):
            try:
                position = replica.hub.position(cursor)
            except Behind:
                assert not must, f"position {seq} not found on a replica of the same path"
                continue
            if replica is late:
                event("a late replica resumed a cursor")
            if replica is swapped and swapped.hub.after(0) != first.hub.after(0):
                event("a replica of another interleaving resumed a cursor")
            final = state_of(replica, replica.hub.seq)
            assert replayed(client, replica.hub.after(position)) == final


def listed_has(listed: Replica, kind: str, name: str, raw: dict[str, Any]) -> bool:
    """Whether ``raw`` is the version of the object a list at that point shows."""
    snapshot = listed.cache.snapshot
    current = (
        snapshot.broker("default", name)
        if kind == "Broker"
        else snapshot.event_type("default", name)
    )
    return (
        current is not None and current.meta.resource_version == raw["metadata"]["resourceVersion"]
    )
