"""The hub's cursors: what a resuming client is told for each kind of cursor it brings back."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from event_registry.hub.hub import Behind, Hub, InvalidCursor
from event_registry.store.caching import Cache

SHARED_KEY = b"a secret the replicas share"


def event_type_raw(name: str, namespace: str, rv: int) -> dict[str, Any]:
    return {
        "apiVersion": "eventing.knative.dev/v1beta2",
        "kind": "EventType",
        "metadata": {"name": name, "namespace": namespace, "resourceVersion": str(rv)},
        "spec": {"type": f"com.example.{name}", "source": "/s", "broker": "default"},
    }


def change(cache: Cache, count: int = 1, namespace: str = "default") -> None:
    for _ in range(count):
        rv = cache.snapshot.revision + 1
        cache.apply("EventType", "ADDED", event_type_raw(f"e{rv}", namespace, rv))


def tampered(cursor: str) -> str:
    return cursor[:10] + ("A" if cursor[10] != "A" else "B") + cursor[11:]


def test_a_cursor_names_its_position() -> None:
    cache = Cache()
    hub = Hub(cache)
    change(cache, 3)
    assert [hub.position(hub.cursor(seq)) for seq in (0, 1, 2, 3)] == [0, 1, 2, 3]
    assert hub.position(hub.marker_cursor(2)) == 2


def test_the_cursor_of_a_change_is_the_same_for_everyone_markers_are_fresh() -> None:
    cache = Cache()
    hub = Hub(cache)
    change(cache, 2)
    assert hub.cursor(2) == hub.cursor(2)
    markers = {hub.marker_cursor(2) for _ in range(10)}
    assert len(markers) == 10
    assert hub.cursor(2) not in markers


def test_hidden_changes_do_not_change_the_shape_of_cursors() -> None:
    """Whether 1 or 500 changes (of any namespace) lie between two cursors, they look alike."""
    cache = Cache()
    hub = Hub(cache)
    change(cache)
    first = hub.cursor(hub.seq)
    change(cache)
    next_one = hub.cursor(hub.seq)
    change(cache, 500, namespace="hidden")
    change(cache)
    far = hub.cursor(hub.seq)
    assert len(first) == len(next_one) == len(far)
    assert hub.position(far) - hub.position(first) == 502  # only the hub can tell


async def test_a_cursor_ahead_of_the_server_waits_for_its_changes_then_is_behind() -> None:
    """A cursor naming changes this process has not applied (another replica's) waits for them,
    at most resume_wait, then answers Behind (the client re-queries)."""
    ahead_cache = Cache()
    ahead = Hub(ahead_cache, cursor_key=SHARED_KEY)
    change(ahead_cache, 3)
    cache = Cache()
    hub = Hub(cache, cursor_key=SHARED_KEY, resume_wait=0.05)
    change(cache, 2)
    with pytest.raises(Behind, match="not seen the changes"):
        await hub.resume(ahead.cursor(3))
    assert hub.resumes == {"resync": 1}
    with pytest.raises(Behind, match="not in the history"):
        hub.position(ahead.cursor(3))  # without waiting: not here (yet)


def test_a_trimmed_position_is_behind_and_its_cursor_is_forgotten() -> None:
    cache = Cache()
    hub = Hub(cache, history=10)
    change(cache)
    [first] = hub.after(0)
    old = hub.cursor(first)
    change(cache, 30)
    with pytest.raises(Behind, match="not in the history"):
        hub.position(old)
    assert len(hub._cursors) == 0
    assert hub.cursor(first) == old  # still the same cursor, sealed again from the change
    assert len(hub._cursors) == 0
    assert hub.position(hub.cursor(hub.seq)) == hub.seq
    assert len(hub._cursors) == 1


def test_a_cursor_of_an_earlier_version_is_behind() -> None:
    """Clients holding cursors across an upgrade re-query instead of failing."""
    hub = Hub(Cache(), cursor_key=SHARED_KEY)
    with pytest.raises(Behind, match="earlier version"):
        hub.position("qNExnYqhMKE55-ZclbrqsbX5SJDFaw4bf2OUe1k0")


@pytest.mark.parametrize("text", ["garbage!!", "", "A" * 39, "MTIzNDo1"])
def test_anything_not_shaped_like_a_cursor_is_invalid(text: str) -> None:
    hub = Hub(Cache())
    with pytest.raises(InvalidCursor, match="not a cursor returned by this API"):
        hub.position(text)


def test_per_process_key_a_cursor_of_another_process_is_behind() -> None:
    """Default key: a cursor of the process before a restart cannot be opened any more, and
    the client is told to resync, as before cursors were sealed."""
    cache = Cache()
    before_restart = Hub(Cache())
    change(cache, 3)
    hub = Hub(cache)
    with pytest.raises(Behind, match="before a server restart"):
        hub.position(before_restart.cursor(0))


def test_per_process_key_a_modified_cursor_is_behind_too() -> None:
    """Without a shared key, a modified cursor cannot be told from one of a previous process:
    the client resyncs (and learns nothing)."""
    cache = Cache()
    hub = Hub(cache)
    change(cache, 3)
    with pytest.raises(Behind):
        hub.position(tampered(hub.cursor(2)))


def test_shared_key_a_cursor_from_before_a_restart_is_behind_unless_the_state_matches() -> None:
    """A restarted process resumes a cursor of its predecessor where its own history passes
    through the same state; elsewhere the client is told to resync."""
    before_cache = Cache()
    before_restart = Hub(before_cache, cursor_key=SHARED_KEY)
    change(before_cache, 2)
    before_cache.apply("EventType", "MODIFIED", event_type_raw("e1", "default", 3))
    cache = Cache()
    hub = Hub(cache, cursor_key=SHARED_KEY)
    cache.replace(
        "EventType", [event_type_raw("e1", "default", 3), event_type_raw("e2", "default", 2)]
    )
    with pytest.raises(Behind, match="not in the history"):
        hub.position(before_restart.cursor(2))  # e1 as at rv 1: a state never here
    assert hub.position(before_restart.cursor(3)) == hub.seq  # the state the list brought
    assert hub.position(before_restart.cursor(0)) == 0  # nothing, on both


def test_shared_key_a_modified_or_foreign_cursor_is_invalid() -> None:
    cache = Cache()
    hub = Hub(cache, cursor_key=SHARED_KEY)
    change(cache, 3)
    with pytest.raises(InvalidCursor, match="not a cursor returned by this API"):
        hub.position(tampered(hub.cursor(2)))
    with pytest.raises(InvalidCursor, match="not a cursor returned by this API"):
        hub.position(Hub(Cache()).cursor(0))


async def test_lag_counts_what_the_slowest_reader_has_yet_to_take() -> None:
    cache = Cache()
    hub = Hub(cache)
    change(cache, 3)
    assert hub.lag == 0, "no reader: nothing is behind"
    assert hub.readers == 0
    processed = asyncio.Event()

    async def read_from(position: int) -> None:
        await hub.wait_after(position)
        await processed.wait()  # still working through what it took

    slow = asyncio.create_task(read_from(1))
    caught_up = asyncio.create_task(read_from(3))
    await asyncio.sleep(0)
    assert hub.readers == 2
    assert hub.lag == 2, "newest position 3, the slowest reader asked from 1"
    change(cache)
    await asyncio.sleep(0)
    assert hub.lag == 3, "the slowest reader has taken none of the new change either"
    processed.set()
    await asyncio.gather(slow, caught_up)
    assert hub.readers == 0, "finished readers no longer count"
    assert hub.lag == 0
