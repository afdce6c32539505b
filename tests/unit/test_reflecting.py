"""Unit tests for event_registry.cluster.reflecting: relists after 410, bookmarks, backoff,
and restarts after a bug.

The reflector reads a fake list-watcher (tests/support/fake_listwatcher.py) instead of an API
server; the cache and its listeners are the real ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable

import pytest

from event_registry.cluster import errors
from event_registry.cluster.raw import RawObjects
from event_registry.cluster.reflecting import Backoff, Reflector, ReflectorSettings
from event_registry.store.caching import Cache, Change, Kind
from tests.support.fake_listwatcher import FakeListWatcher as FakeSource

FAST = ReflectorSettings(restart_initial=0.001, restart_max=0.008)


class Ceiling(random.Random):
    """Jitter that always draws the top of its range, so delays are their ceilings."""

    def uniform(self, a: float, b: float) -> float:
        return b


class RecordingCache(Cache):
    """A cache that keeps every sync-state transition of its kinds."""

    def __init__(self) -> None:
        super().__init__()
        self.transitions: list[tuple[str, bool | str]] = []

    def set_synced(self, kind: str, synced: bool) -> None:
        super().set_synced(kind, synced)
        if synced:
            self.transitions.append((kind, True))

    def mark_unsynced(self, kind: str, reason: str) -> None:
        super().mark_unsynced(kind, reason)
        self.transitions.append((kind, reason))


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
    assert reflector.expired == 0, "a restart is not a 410"


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


# relists, bookmarks and backoff (the list-watcher of an API server, faked) --------------------

RETRY = ReflectorSettings(
    backoff_initial=0.001, backoff_max=0.004, restart_initial=0.001, restart_max=0.008
)


@contextlib.asynccontextmanager
async def reflecting(source: FakeSource) -> AsyncIterator[tuple[Reflector, RecordingCache]]:
    cache = RecordingCache()
    reflector = Reflector(source, cache, RETRY, rng=Ceiling())
    task = asyncio.create_task(reflector.run())
    try:
        yield reflector, cache
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def recorded(cache: Cache) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    cache.add_listener(lambda change: seen.append((change.type, change.name)))
    return seen


def retry_delays(caplog: pytest.LogCaptureFixture) -> list[object]:
    return [
        r.args[2]
        for r in caplog.records
        if "retrying in" in r.getMessage() and isinstance(r.args, tuple)
    ]


async def test_a_410_relists_and_delivers_exactly_what_changed_meanwhile(
    source: FakeSource,
) -> None:
    async with reflecting(source) as (reflector, cache):
        seen = recorded(cache)
        await eventually(lambda: source.open_watches == 1)
        for name in ("kept", "changed", "gone"):
            source.put("ADDED", name)
        await eventually(lambda: names(cache) == {"kept", "changed", "gone"})
        source.put("MODIFIED", "changed", unwatched=True)
        source.put("DELETED", "gone", unwatched=True)
        source.put("ADDED", "new", unwatched=True)
        mark = len(cache.transitions)
        source.expire_watch()
        await eventually(lambda: reflector.relists == 2 and source.open_watches == 1)

        assert names(cache) == {"kept", "changed", "new"}
        assert seen[3:] == [("DELETED", "gone"), ("MODIFIED", "changed"), ("ADDED", "new")]
        assert source.watched_from[-1] == str(source.version), "watches on from the relist"
        assert all(synced is True for _, synced in cache.transitions[mark:]), (
            "a 410 is routine: the kind never shows as unsynced"
        )
        assert reflector.restarts == 0
        assert reflector.expired == 1, "counted for /metrics"


async def test_a_watch_resumed_from_a_compacted_version_gets_410_and_relists(
    source: FakeSource,
) -> None:
    async with reflecting(source) as (reflector, cache):
        seen = recorded(cache)
        await eventually(lambda: source.open_watches == 1)
        source.put("ADDED", "a")
        await eventually(lambda: names(cache) == {"a"})
        source.put("ADDED", "b", unwatched=True)
        source.compact()
        source.end_watch()
        await eventually(lambda: reflector.relists == 2 and source.open_watches == 1)

        assert source.watched_from == ["0", "1", "2"]
        assert seen == [("ADDED", "a"), ("ADDED", "b")]
        assert reflector.expired == 1


async def test_a_bookmark_moves_the_watch_on_without_a_change_or_a_relist(
    source: FakeSource,
) -> None:
    async with reflecting(source) as (reflector, cache):
        seen = recorded(cache)
        await eventually(lambda: source.open_watches == 1)
        source.put("ADDED", "a")
        await eventually(lambda: names(cache) == {"a"})
        revision = cache.snapshot.revision
        source.version += 5  # changes of other objects move the cluster's resourceVersion
        source.bookmark()
        source.compact()
        source.end_watch()
        await eventually(lambda: len(source.watched_from) == 2 and source.open_watches == 1)

        assert source.watched_from == ["0", "6"], "resumed from the bookmark, not from 1"
        assert reflector.resource_version == "6"
        assert reflector.relists == 1
        assert seen == [("ADDED", "a")]
        assert cache.snapshot.revision == revision, "a bookmark changes nothing in the cache"


async def test_failures_back_off_exponentially_and_the_backoff_resets_after_a_watch(
    source: FakeSource, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="event_registry.cluster.reflecting")
    for _ in range(4):
        source.fail_next("watch", errors.Unavailable(0, "Unreachable", "connection refused"))
    async with reflecting(source) as (reflector, cache):
        await eventually(lambda: source.open_watches == 1)
        assert retry_delays(caplog) == [0.001, 0.002, 0.004, 0.004], "doubling up to the cap"
        assert source.lists == 1, "a lost connection resumes the watch without a relist"
        assert source.watched_from == ["0"] * 5
        assert cache.transitions[1:] == [("EventType", "retrying: Unreachable")] * 4 + [
            ("EventType", True)
        ], "unsynced while failing, synced again once the watch is back"

        source.fail_next("watch", errors.Unavailable(0, "Unreachable", "connection refused"))
        source.end_watch()
        await eventually(lambda: len(source.watched_from) == 7 and source.open_watches == 1)
        assert retry_delays(caplog)[4:] == [0.001], "a completed watch starts the backoff over"
        assert reflector.restarts == 0


@pytest.mark.parametrize(
    ("error", "relists"),
    [
        pytest.param(errors.Unavailable(0, "Disconnected", "reset"), False, id="transport"),
        pytest.param(errors.ClusterError(503, "ServiceUnavailable", "busy"), False, id="503"),
        pytest.param(errors.ClusterError(429, "TooManyRequests", "slow down"), False, id="429"),
        pytest.param(errors.Forbidden(403, "Forbidden", "no"), True, id="403"),
        pytest.param(errors.NotFound(404, "NotFound", "no such resource"), True, id="404"),
    ],
)
async def test_a_failed_watch_relists_only_when_the_server_refused_it(
    source: FakeSource, error: errors.ClusterError, relists: bool
) -> None:
    async with reflecting(source) as (_, cache):
        await eventually(lambda: source.open_watches == 1)
        source.fail_next("watch", error)
        source.end_watch()
        await eventually(lambda: len(source.watched_from) == 3 and source.open_watches == 1)
        assert source.lists == (2 if relists else 1)
        assert ("EventType", f"retrying: {error.reason}") in cache.transitions


async def test_a_kind_is_unsynced_until_a_failing_list_succeeds(
    source: FakeSource, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="event_registry.cluster.reflecting")
    source.put("ADDED", "a")
    source.fail_next("list", errors.Unavailable(0, "Unreachable", "connection refused"))
    source.fail_next("list", errors.ClusterError(500, "InternalError", "etcd is sad"))
    async with reflecting(source) as (reflector, cache):
        await eventually(lambda: reflector.listed.is_set())
        assert source.lists == 3
        assert names(cache) == {"a"}
        assert cache.transitions[:3] == [
            ("EventType", "retrying: Unreachable"),
            ("EventType", "retrying: InternalError"),
            ("EventType", True),
        ]
        assert retry_delays(caplog) == [0.001, 0.002]


async def test_raw_objects_are_current_when_the_cache_announces_a_change(
    source: FakeSource,
) -> None:
    raw = RawObjects()
    cache = Cache()
    seen: list[tuple[str, str, str | None]] = []

    def look_up_raw(change: Change) -> None:
        found = raw.get("EventType", change.namespace, change.name)
        rv = None if found is None else str(found["metadata"]["resourceVersion"])
        seen.append((change.type, change.name, rv))

    cache.add_listener(look_up_raw)
    reflector = Reflector(source, cache, RETRY, rng=Ceiling(), raw=raw)
    task = asyncio.create_task(reflector.run())
    try:
        await eventually(lambda: source.open_watches == 1)
        source.put("ADDED", "a")
        source.put("MODIFIED", "a")
        await eventually(lambda: len(seen) == 2)
        source.put("ADDED", "b", unwatched=True)
        source.put("DELETED", "a", unwatched=True)
        source.expire_watch()
        await eventually(lambda: reflector.relists == 2)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert seen == [
        ("ADDED", "a", "1"),
        ("MODIFIED", "a", "2"),
        ("DELETED", "a", None),
        ("ADDED", "b", "3"),
    ]
    assert [obj["metadata"]["name"] for obj in raw.of_kind("EventType")] == ["b"]
