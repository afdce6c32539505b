"""Event expiry (--event-ttl) on a real ApiServer and storage, with a hand-driven clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from event_registry.controlplane.api import events_enabling
from event_registry.controlplane.api.apiserver import ApiServer, Target
from event_registry.controlplane.api.events import EVENTS
from event_registry.controlplane.api.expiring import EventExpiry, last_written
from event_registry.controlplane.api.resources import NAMESPACES
from event_registry.controlplane.storage.sqlite import Storage


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def api(tmp_path: Path) -> Iterator[ApiServer]:
    storage = Storage(tmp_path / "data", history_limit=1000)
    server = ApiServer(storage)
    server.create(Target(NAMESPACES, "v1"), {"metadata": {"name": "shop"}})
    events_enabling.install(server)
    yield server
    storage.close()


def event(name: str, last: str = "2026-01-01T00:00:00Z") -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "involvedObject": {"kind": "EventType", "namespace": "shop", "name": "orders"},
        "reason": "Ready",
        "message": "ready",
        "type": "Normal",
        "firstTimestamp": "2026-01-01T00:00:00Z",
        "lastTimestamp": last,
        "count": 1,
    }


def names(api: ApiServer) -> list[str]:
    return [obj["metadata"]["name"] for obj in api.storage.items(EVENTS.key)]


def test_an_event_goes_its_ttl_after_its_last_write_not_its_first(api: ApiServer) -> None:
    clock = Clock(1000.0)
    expiry = EventExpiry(api, ttl=60, clock=clock)
    target = Target(EVENTS, "v1", "shop")
    api.create(target, event("first"))
    clock.now = 1030
    api.create(target, event("second"))
    api.patch(
        Target(EVENTS, "v1", "shop", "first"),
        "application/merge-patch+json",
        {"count": 2},
    )

    clock.now = 1059
    assert expiry.expire_due() == 0
    clock.now = 1061
    assert expiry.expire_due() == 0, "first was written again at 1030"
    assert names(api) == ["first", "second"]

    clock.now = 1091
    assert expiry.expire_due() == 2
    assert names(api) == []
    assert expiry.expired == 2


def test_other_kinds_never_expire(api: ApiServer) -> None:
    clock = Clock(0.0)
    expiry = EventExpiry(api, ttl=1, clock=clock)
    api.create(Target(NAMESPACES, "v1"), {"metadata": {"name": "kept"}})
    clock.now = 100
    assert expiry.expire_due() == 0
    assert api.storage.get(NAMESPACES.key, "", "kept") is not None


async def test_after_a_restart_stored_events_expire_from_the_time_they_carry(
    api: ApiServer,
) -> None:
    target = Target(EVENTS, "v1", "shop")
    api.create(target, event("old", last="2026-01-01T00:00:00Z"))
    api.create(target, event("recent", last="2026-01-01T00:10:00Z"))
    stored = api.storage.get(EVENTS.key, "shop", "recent")
    assert stored is not None
    created = last_written({"metadata": stored["metadata"]})
    assert created is not None
    carried = last_written(stored)
    assert carried is not None
    clock = Clock(max(created, carried))
    expiry = EventExpiry(api, ttl=3600, clock=clock)
    await expiry.start()
    await expiry.stop()
    # both were created now: creationTimestamp is their latest time, an hour is left
    clock.now += 3599
    assert expiry.expire_due() == 0
    clock.now += 2
    assert expiry.expire_due() == 2


def test_last_written_reads_the_latest_time_an_event_carries() -> None:
    series = {
        "metadata": {"creationTimestamp": "2026-01-01T00:00:00Z"},
        "eventTime": "2026-01-01T00:00:01.000000Z",
        "series": {"count": 3, "lastObservedTime": "2026-01-01T00:05:00.000000Z"},
    }
    assert last_written(series) == last_written({"lastTimestamp": "2026-01-01T00:05:00Z"})
    assert last_written({"metadata": {}}) is None
