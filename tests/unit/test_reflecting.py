"""Unit tests for event_registry.cluster.reflecting: backoff, and restarts after a bug.

The reflector reads a tiny in-memory source (a dict of objects and a queue of watch events)
instead of an API server; the cache and its listeners are the real ones.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncGenerator, Callable
from typing import Any

import pytest

from event_registry.cluster import errors, kinds
from event_registry.cluster.listwatching import WatchEvent
from event_registry.cluster.reflecting import Backoff, Reflector, ReflectorSettings
from event_registry.store.caching import Cache, Change, Kind

FAST = ReflectorSettings(restart_initial=0.001, restart_max=0.008)


class Ceiling(random.Random):
    """Jitter that always draws the top of its range, so delays are their ceilings."""

    def uniform(self, a: float, b: float) -> float:
        return b


class FakeSource:
    """One kind's objects and a queue of their watch events: ``None`` in the queue ends a
    watch as a server-side timeout does, an exception is raised as a failed watch's."""

    def __init__(self) -> None:
        self.resource = kinds.event_types()
        self.objects: dict[str, dict[str, Any]] = {}
        self.version = 0
        self.events: asyncio.Queue[WatchEvent | Exception | None] = asyncio.Queue()
        self.lists = 0
        self.open_watches = 0

    def put(self, change_type: str, name: str, *, unwatched: bool = False) -> None:
        """Change an object; ``unwatched``: as if compacted away before a watch saw it."""
        self.version += 1
        raw = event_type(name, str(self.version))
        if change_type == "DELETED":
            del self.objects[name]
        else:
            self.objects[name] = raw
        if not unwatched:
            self.events.put_nowait(WatchEvent(change_type, raw))

    def end_watch(self) -> None:
        self.events.put_nowait(None)

    def expire_watch(self) -> None:
        self.events.put_nowait(errors.Expired(410, "Expired", "too old resource version"))

    async def list(self) -> tuple[list[dict[str, Any]], str]:
        self.lists += 1
        return list(self.objects.values()), str(self.version)

    async def watch(
        self,
        resource_version: str,
        *,
        timeout_seconds: int,
        read_timeout: float,
        on_connected: Callable[[], None] = lambda: None,
    ) -> AsyncGenerator[WatchEvent, None]:
        on_connected()
        self.open_watches += 1
        try:
            while (event := await self.events.get()) is not None:
                if isinstance(event, Exception):
                    raise event
                yield event
        finally:
            self.open_watches -= 1


class RecordingCache(Cache):
    """A cache that keeps every sync-state transition of its kinds."""

    def __init__(self) -> None:
        super().__init__()
        self.transitions: list[tuple[Kind, bool | str]] = []

    def set_synced(self, kind: Kind, synced: bool) -> None:
        super().set_synced(kind, synced)
        if synced:
            self.transitions.append((kind, True))

    def mark_unsynced(self, kind: Kind, reason: str) -> None:
        super().mark_unsynced(kind, reason)
        self.transitions.append((kind, reason))


def event_type(name: str, rv: str) -> dict[str, Any]:
    return {
        "apiVersion": "eventing.knative.dev/v1beta2",
        "kind": "EventType",
        "metadata": {"name": name, "namespace": "default", "resourceVersion": rv},
        "spec": {"type": f"com.example.{name}", "source": "/s"},
    }


def names(cache: Cache) -> set[str]:
    return {e.meta.name for e in cache.snapshot.event_types_in("default")}


async def eventually(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.001)


class Flaky:
    """A cache listener that raises for the changes of the names in ``fail_on``."""

    def __init__(self, *fail_on: str) -> None:
        self.fail_on = set(fail_on)
        self.failures = 0

    def __call__(self, change: Change) -> None:
        if change.name in self.fail_on:
            self.failures += 1
            raise RuntimeError(f"listener bug on {change.name}")


@pytest.fixture
def source() -> FakeSource:
    return FakeSource()


@pytest.fixture
async def running(source: FakeSource) -> AsyncGenerator[tuple[Reflector, RecordingCache], None]:
    cache = RecordingCache()
    reflector = Reflector(source, cache, FAST, rng=Ceiling())
    task = asyncio.create_task(reflector.run())
    yield reflector, cache
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def other_kinds_synced(cache: Cache) -> None:
    for kind in ("Namespace", "Broker", "Trigger"):
        cache.set_synced(kind, True)


# backoff -------------------------------------------------------------------------------------


def test_backoff_ceilings_double_up_to_the_cap_and_reset() -> None:
    backoff = Backoff(0.5, 3.0, Ceiling())
    assert [backoff.next_delay() for _ in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    backoff.reset()
    assert backoff.next_delay() == 0.5


def test_backoff_jitter_stays_within_the_ceiling() -> None:
    backoff = Backoff(0.5, 3.0, random.Random(7))
    ceilings = [0.5, 1.0, 2.0, 3.0, 3.0, 3.0]
    delays = [backoff.next_delay() for _ in ceilings]
    assert all(0 <= delay <= ceiling for delay, ceiling in zip(delays, ceilings, strict=True))
    assert len(set(delays)) == len(delays), "full jitter draws a new delay each time"


# restarts ------------------------------------------------------------------------------------


async def test_a_listener_that_raises_restarts_the_reflector_with_a_relist(
    source: FakeSource, running: tuple[Reflector, RecordingCache]
) -> None:
    reflector, cache = running
    flaky = Flaky("b")
    seen: list[tuple[str, str]] = []
    cache.add_listener(flaky)
    cache.add_listener(lambda change: seen.append((change.type, change.name)))
    other_kinds_synced(cache)
    source.put("ADDED", "a")
    await eventually(lambda: names(cache) == {"a"} and cache.synced)

    source.put("ADDED", "b")
    await eventually(lambda: reflector.restarts == 1 and cache.synced)
    assert flaky.failures == 1
    restarting: tuple[Kind, bool | str] = ("EventType", "restarting: RuntimeError")
    assert cache.transitions.count(restarting) == 1
    assert cache.transitions[cache.transitions.index(restarting) + 1] == ("EventType", True)
    assert source.lists == 2, "a restart relists"
    assert seen == [("ADDED", "a"), ("ADDED", "b")], "later listeners still saw the change once"

    source.put("DELETED", "a")
    source.put("ADDED", "c")
    await eventually(lambda: names(cache) == {"b", "c"})
    assert seen[2:] == [("DELETED", "a"), ("ADDED", "c")]
    assert reflector.restarts == 1
    assert cache.unsynced_reasons == {}


async def test_changes_the_watch_missed_while_failing_arrive_through_the_relist(
    source: FakeSource, running: tuple[Reflector, RecordingCache]
) -> None:
    reflector, cache = running
    seen: list[tuple[str, str]] = []
    cache.add_listener(Flaky("x"))
    cache.add_listener(lambda change: seen.append((change.type, change.name)))
    source.put("ADDED", "keep")
    source.put("ADDED", "gone")
    await eventually(lambda: names(cache) == {"keep", "gone"})
    source.put("ADDED", "x")
    source.put("DELETED", "gone", unwatched=True)
    source.put("ADDED", "later", unwatched=True)
    await eventually(lambda: reflector.restarts == 1 and cache.sync_state["EventType"])
    assert names(cache) == {"keep", "x", "later"}
    assert seen == [
        ("ADDED", "keep"),
        ("ADDED", "gone"),
        ("ADDED", "x"),
        ("DELETED", "gone"),
        ("ADDED", "later"),
    ]


async def test_a_bug_during_a_relist_restarts_until_a_relist_completes(
    source: FakeSource, running: tuple[Reflector, RecordingCache]
) -> None:
    reflector, cache = running
    await eventually(lambda: source.open_watches == 1)
    cache.add_listener(Flaky("a", "b"))
    source.put("ADDED", "a", unwatched=True)
    source.put("ADDED", "b", unwatched=True)
    mark = len(cache.transitions)
    source.expire_watch()
    # Each failed relist has committed one more object, so the third one completes.
    await eventually(lambda: reflector.restarts == 2 and cache.sync_state["EventType"])
    assert names(cache) == {"a", "b"}
    assert source.lists == 4
    assert cache.transitions[mark : mark + 3] == [
        ("EventType", "restarting: RuntimeError"),
        ("EventType", "restarting: RuntimeError"),
        ("EventType", True),
    ]


async def test_restart_delays_grow_while_failures_repeat_and_reset_after_a_watch(
    source: FakeSource,
    running: tuple[Reflector, RecordingCache],
    caplog: pytest.LogCaptureFixture,
) -> None:
    reflector, cache = running
    cache.add_listener(Flaky("bad-1", "bad-2", "bad-3", "bad-4", "bad-5"))
    await eventually(lambda: source.open_watches == 1)
    caplog.set_level(logging.ERROR, logger="event_registry.cluster.reflecting")

    async def fail(name: str, restarts: int) -> None:
        source.put("ADDED", name)
        await eventually(lambda: reflector.restarts == restarts and source.open_watches == 1)

    for index in range(1, 5):
        await fail(f"bad-{index}", index)
    source.end_watch()
    await eventually(lambda: reflector.watches == 1 and source.open_watches == 1)
    await fail("bad-5", 5)

    records = [r for r in caplog.records if "reflector failed" in r.getMessage()]
    assert [r.args for r in records] == [
        ("EventType", "RuntimeError", 0.001),
        ("EventType", "RuntimeError", 0.002),
        ("EventType", "RuntimeError", 0.004),
        ("EventType", "RuntimeError", 0.008),
        ("EventType", "RuntimeError", 0.001),
    ]
    assert all(r.exc_info and isinstance(r.exc_info[1], RuntimeError) for r in records)
    assert names(cache) == {f"bad-{index}" for index in range(1, 6)}


# cancellation --------------------------------------------------------------------------------


@pytest.mark.parametrize("while_", ["watching", "waiting to restart"])
async def test_cancellation_stops_the_reflector_and_closes_its_watch(
    source: FakeSource, while_: str
) -> None:
    cache = Cache()
    cache.add_listener(Flaky("bad"))
    settings = ReflectorSettings(restart_initial=3600, restart_max=3600)
    reflector = Reflector(source, cache, settings, rng=Ceiling())
    task = asyncio.create_task(reflector.run())
    await eventually(lambda: source.open_watches == 1)
    if while_ == "waiting to restart":
        source.put("ADDED", "bad")
        await eventually(lambda: reflector.restarts == 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert source.open_watches == 0
    assert reflector.restarts == (1 if while_ == "waiting to restart" else 0)
