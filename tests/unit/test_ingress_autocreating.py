"""What the auto-creator queues (ingress.autocreating), on a real cache, a hand-driven clock and
a recording stand-in for the cluster client (the API seam only)."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest

from event_registry.cluster import errors
from event_registry.cluster.client import ClusterClient
from event_registry.cluster.kinds import ResourceRef
from event_registry.domain import models
from event_registry.ingress.autocreating import AutoCreator, Wanted, manifest
from event_registry.ingress.events import SeenEvent
from event_registry.ingress.limits import IngressSettings
from event_registry.ingress.naming import event_type_name
from event_registry.store.caching import Cache


class RecordingClient:
    """Records creates; ``failures`` are raised by the next creates, in order."""

    def __init__(self) -> None:
        self.created: list[dict[str, Any]] = []
        self.failures: list[errors.ClusterError] = []

    async def create(
        self, resource: ResourceRef, namespace: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        if self.failures:
            raise self.failures.pop(0)
        self.created.append(body)
        return body


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


BROKER = models.Broker(meta=models.Meta(namespace="ns", name="default", uid="uid-1"))
OTHER = models.Broker(meta=models.Meta(namespace="ns", name="other", uid="uid-2"))


def seen(type_: str, source: str = "/s") -> SeenEvent:
    return SeenEvent(type_, source, "1.0")


class Rig:
    def __init__(self, **settings: Any) -> None:
        self.client = RecordingClient()
        self.cache = Cache()
        self.clock = Clock()
        self.enabled = True
        self.creator = AutoCreator(
            cast(ClusterClient, self.client),
            self.cache,
            IngressSettings(**settings),
            enabled=lambda: self.enabled,
            clock=self.clock,
        )

    async def drain(self) -> list[str]:
        """Run the queued creations; the types created, in order (then forgotten)."""
        self.creator.start()
        for _ in range(100):
            await asyncio.sleep(0)
        await self.creator.stop()
        types = [
            a["value"]
            for body in self.client.created
            for a in body["spec"]["attributes"]
            if a["name"] == "type"
        ]
        self.client.created.clear()
        return types

    def show_in_cache(self, broker: models.Broker, event: SeenEvent, name: str) -> None:
        body = manifest(Wanted(broker.meta.namespace, name, broker, event))
        self.cache.apply("EventType", "ADDED", body)


@pytest.fixture
def rig() -> Rig:
    return Rig(per_broker_per_minute=3, per_namespace=5, pending_limit=10)


async def test_nothing_is_queued_while_the_flag_is_off(rig: Rig) -> None:
    rig.enabled = False
    rig.creator.saw(BROKER, seen("a"))
    assert await rig.drain() == []


async def test_a_new_type_is_created_once_however_often_it_is_seen(rig: Rig) -> None:
    for _ in range(5):
        rig.creator.saw(BROKER, seen("a"))
    assert await rig.drain() == ["a"]
    rig.creator.saw(BROKER, seen("a"))  # created, not in the cache yet: still known
    assert await rig.drain() == []


async def test_a_type_the_cache_shows_is_not_created(rig: Rig) -> None:
    rig.show_in_cache(BROKER, seen("a"), event_type_name("default", "ns", "a", "/s"))
    rig.creator.saw(BROKER, seen("a"))
    assert await rig.drain() == []


async def test_once_the_cache_has_shown_it_a_deleted_type_is_created_again(rig: Rig) -> None:
    name = event_type_name("default", "ns", "a", "/s")
    rig.creator.saw(BROKER, seen("a"))
    assert await rig.drain() == ["a"]
    rig.show_in_cache(BROKER, seen("a"), name)
    assert rig.cache.snapshot.event_type("ns", name) is not None
    rig.cache.apply("EventType", "DELETED", manifest(Wanted("ns", name, BROKER, seen("a"))))
    rig.creator.saw(BROKER, seen("a"))
    assert await rig.drain() == ["a"]


async def test_a_broker_gets_its_limit_a_minute(rig: Rig) -> None:
    for n in range(6):
        rig.creator.saw(BROKER, seen(f"t{n}"))
    assert await rig.drain() == ["t0", "t1", "t2"]
    assert rig.creator.skipped == 3
    rig.clock.now += 59.0
    rig.creator.saw(BROKER, seen("t6"))
    assert await rig.drain() == []
    rig.clock.now += 1.0
    rig.creator.saw(BROKER, seen("t7"))
    assert await rig.drain() == ["t7"]


async def test_a_namespace_holds_its_limit_counting_the_cache_and_what_is_queued(
    rig: Rig,
) -> None:
    for n in range(3):
        rig.creator.saw(BROKER, seen(f"a{n}"))
    for n in range(3):
        rig.creator.saw(OTHER, seen(f"b{n}"))
    assert await rig.drain() == ["a0", "a1", "a2", "b0", "b1"]
    rig.clock.now += 120.0  # the per-Broker windows are empty again; the queue memory too
    rig.creator.saw(OTHER, seen("b9"))
    assert await rig.drain() == ["b9"]  # the five never reached the cache here
    for broker, type_ in [(BROKER, "a0"), (BROKER, "a1"), (BROKER, "a2"), (OTHER, "b0")]:
        name = event_type_name(broker.meta.name, "ns", type_, "/s")
        rig.show_in_cache(broker, seen(type_), name)
    rig.creator.saw(OTHER, seen("b10"))  # four in the cache and b9 queued: five
    assert await rig.drain() == []


async def test_a_failed_create_is_tried_again_by_the_next_event(rig: Rig) -> None:
    rig.client.failures.append(errors.Unavailable(0, "Unreachable", "down"))
    rig.creator.saw(BROKER, seen("a"))
    assert await rig.drain() == []
    rig.creator.saw(BROKER, seen("a"))
    assert await rig.drain() == ["a"]


async def test_already_exists_counts_as_created(rig: Rig) -> None:
    rig.client.failures.append(errors.AlreadyExists(409, "AlreadyExists", "exists"))
    rig.creator.saw(BROKER, seen("a"))
    assert await rig.drain() == []
    assert rig.creator.created == 0
    rig.creator.saw(BROKER, seen("a"))  # not tried again: it exists
    assert await rig.drain() == []


async def test_a_full_queue_skips_new_types_without_blocking() -> None:
    rig = Rig(per_broker_per_minute=100, pending_limit=2)
    for n in range(4):
        rig.creator.saw(BROKER, seen(f"t{n}"))
    assert rig.creator.skipped == 2
    assert await rig.drain() == ["t0", "t1"]
    rig.creator.saw(BROKER, seen("t2"))  # skipped ones were not remembered
    assert await rig.drain() == ["t2"]
