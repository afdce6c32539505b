"""Subscriptions of the client across dropped connections, against a real serve.

The client reaches the registry through a :class:`CuttingProxy`, which drops every connection
and refuses new ones for as long as a test needs; meanwhile EventTypes are written straight
to the registry. Then:

- a cut shorter than the retained history loses and duplicates nothing: the resumed
  subscription (``since`` = the last cursor) yields exactly the changes a subscriber that
  never dropped sees, with the same cursors, and no ``ResyncRequired``;
- a cut longer than the retained history (``--hub-history 20``; 25 EventTypes, 50 changes)
  yields the server's ``RESYNC_REQUIRED`` as a typed ``ResyncRequired`` and the client
  re-queries: the current set as ``EXISTING`` (the forgotten changes are not replayed), one
  ``INITIAL_SET_COMPLETE``, then live changes;
- ``readiness_changes`` (no ``since``) reconnects and says ``ResyncRequired``; when a Broker
  flip of 25 EventTypes overtakes the retained history, the server says RESYNC_REQUIRED and
  ends the subscription, and the iterator says ``ResyncRequired`` and subscribes again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from event_registry_client import (
    AsyncRegistryClient,
    Backoff,
    ChangeKind,
    EventTypeChange,
    ReadinessChange,
    Reconnecting,
    Reconnection,
    ResyncRequired,
    unwrap,
)
from tests.clients.kreg_support import CuttingProxy
from tests.support.registry import RegistryProcess, broker

HISTORY = 20
QUICK = Reconnection(backoff=Backoff(initial=0.05, maximum=0.2))
WITHIN = 30.0


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryProcess]:
    base: Path = tmp_path_factory.mktemp("client-resume")
    process = RegistryProcess(base / "data", "--hub-history", str(HISTORY))
    process.start()
    try:
        process.wait_ready()
        for namespace in ("cut", "resync", "ready", "flood"):
            process.kubectl("create", "namespace", namespace, check=True)
            process.apply(broker("default", namespace))
        yield process
    finally:
        process.stop()


@pytest.fixture
async def proxy(registry: RegistryProcess) -> AsyncIterator[CuttingProxy]:
    proxy = await CuttingProxy(registry.url).start()
    try:
        yield proxy
    finally:
        await proxy.close()


@pytest.fixture(scope="module")
async def direct(registry: RegistryProcess) -> AsyncIterator[AsyncRegistryClient]:
    async with AsyncRegistryClient(registry.url) as client:
        yield client


@dataclass
class Collector:
    """Runs an iterator in a task, keeping every event it yields."""

    events: list[Any] = field(default_factory=list)
    task: asyncio.Task[None] | None = None

    def start(self, iterator: AsyncIterator[Any]) -> Collector:
        async def collect() -> None:
            async for event in iterator:
                self.events.append(event)

        self.task = asyncio.get_running_loop().create_task(collect())
        return self

    async def until(self, predicate: Any, what: str, within: float = WITHIN) -> None:
        for _ in range(int(within / 0.02)):
            if self.task is not None and self.task.done():
                self.task.result()
                raise AssertionError(f"the subscription ended before {what}: {self.events}")
            if predicate():
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"{what} not within {within}s: {self.events[-10:]}")

    def changes(self) -> list[EventTypeChange]:
        return [e for e in self.events if isinstance(e, EventTypeChange)]

    def saw(self, kind: ChangeKind, name: str) -> bool:
        return any(
            c.kind is kind and c.event_type is not None and c.event_type.name == name
            for c in self.changes()
        )

    def settled(self, name: str) -> bool:
        """``name``'s status (its Ready condition) has arrived."""
        return any(
            c.event_type is not None and c.event_type.name == name and c.event_type.ready
            for c in self.changes()
        )

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task


def markers(collector: Collector) -> int:
    return sum(c.kind is ChangeKind.INITIAL_SET_COMPLETE for c in collector.changes())


async def register(client: AsyncRegistryClient, namespace: str, *names: str) -> None:
    for name in names:
        unwrap(
            await client.register_event_type(
                namespace, name=name, type=f"dev.{namespace}.{name}", broker="default"
            )
        )


async def all_ready(client: AsyncRegistryClient, namespace: str, names: list[str]) -> None:
    for _ in range(int(WITHIN / 0.05)):
        ready = {e.name for e in await client.event_types(namespace) if e.ready}
        if ready >= set(names):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{names} not ready")


async def test_a_cut_within_the_history_loses_and_duplicates_nothing(
    proxy: CuttingProxy, direct: AsyncRegistryClient
) -> None:
    cutting = AsyncRegistryClient(proxy.url, reconnection=QUICK)
    through_proxy = Collector().start(cutting.event_type_changes("cut", include_existing=True))
    steady = Collector().start(direct.event_type_changes("cut"))
    try:
        await through_proxy.until(
            lambda: any(c.kind is ChangeKind.INITIAL_SET_COMPLETE for c in through_proxy.changes()),
            "the initial set",
        )
        await register(direct, "cut", "before")
        await through_proxy.until(lambda: through_proxy.settled("before"), "before's status")

        proxy.cut(stay_down=True)
        await through_proxy.until(
            lambda: any(isinstance(e, Reconnecting) for e in through_proxy.events), "a reconnect"
        )
        during = ["during-1", "during-2", "during-3"]
        await register(direct, "cut", *during)
        await all_ready(direct, "cut", during)
        proxy.up()
        await register(direct, "cut", "after")
        await through_proxy.until(lambda: through_proxy.settled("after"), "after's status")
        await steady.until(lambda: steady.settled("after"), "after's status (steady)")
    finally:
        await through_proxy.stop()
        await steady.stop()
        await cutting.aclose()

    assert not [e for e in through_proxy.events if isinstance(e, ResyncRequired)]
    live = [c for c in through_proxy.changes() if c.kind not in _INITIAL]
    added = [c.event_type.name for c in live if c.kind is ChangeKind.ADDED and c.event_type]
    assert added == ["before", *during, "after"]
    cursors = [c.cursor for c in live]
    assert len(cursors) == len(set(cursors))
    assert [(c.kind, c.cursor) for c in live] == [(c.kind, c.cursor) for c in steady.changes()]


_INITIAL = (ChangeKind.EXISTING, ChangeKind.INITIAL_SET_COMPLETE)


async def test_a_cut_longer_than_the_history_resyncs_and_requeries(
    proxy: CuttingProxy, direct: AsyncRegistryClient
) -> None:
    cutting = AsyncRegistryClient(proxy.url, reconnection=QUICK)
    seen = Collector().start(cutting.event_type_changes("resync", include_existing=True))
    try:
        await seen.until(lambda: markers(seen) == 1, "the initial set")
        await register(direct, "resync", "seed")
        await seen.until(lambda: seen.settled("seed"), "seed's status")
        proxy.cut(stay_down=True)
        forgotten = [f"forgotten-{index:02d}" for index in range(HISTORY + 5)]
        await register(direct, "resync", *forgotten)
        await all_ready(direct, "resync", forgotten)
        proxy.up()
        await seen.until(lambda: markers(seen) == 2, "the re-queried set")
        await register(direct, "resync", "later")
        await seen.until(lambda: seen.saw(ChangeKind.ADDED, "later"), "later")
    finally:
        await seen.stop()
        await cutting.aclose()

    resyncs = [e for e in seen.events if isinstance(e, ResyncRequired)]
    assert len(resyncs) == 1
    assert resyncs[0].cursor is not None
    assert "retained history" in resyncs[0].message
    after = seen.events[seen.events.index(resyncs[0]) + 1 :]
    changes = [e for e in after if isinstance(e, EventTypeChange)]
    marker = next(i for i, c in enumerate(changes) if c.kind is ChangeKind.INITIAL_SET_COMPLETE)
    existing = {c.event_type.name for c in changes[:marker] if c.event_type}
    assert {c.kind for c in changes[:marker]} == {ChangeKind.EXISTING}
    assert existing == {"seed", *forgotten}
    assert not [n for n in forgotten if seen.saw(ChangeKind.ADDED, n)]
    first_live = changes[marker + 1]
    assert first_live.kind is ChangeKind.ADDED
    assert first_live.event_type is not None
    assert first_live.event_type.name == "later"


async def test_readiness_changes_reconnect_and_say_resync_required(
    proxy: CuttingProxy, direct: AsyncRegistryClient
) -> None:
    cutting = AsyncRegistryClient(proxy.url, reconnection=QUICK)
    seen = Collector().start(cutting.readiness_changes("ready"))
    try:
        for index in range(int(WITHIN)):  # until the subscription is surely listening
            await register(direct, "ready", f"probe-{index}")
            with contextlib.suppress(AssertionError):
                await seen.until(
                    lambda: any(isinstance(e, ReadinessChange) for e in seen.events),
                    "a readiness change",
                    within=1.0,
                )
                break
        proxy.cut()
        await seen.until(
            lambda: any(isinstance(e, ResyncRequired) for e in seen.events), "the resync"
        )
        await register(direct, "ready", "second")
        await seen.until(
            lambda: any(
                isinstance(e, ReadinessChange) and e.event_type and e.event_type.name == "second"
                for e in seen.events
            ),
            "second's readiness",
        )
    finally:
        await seen.stop()
        await cutting.aclose()
    kinds = [type(e).__name__ for e in seen.events]
    resync = kinds.index("ResyncRequired")
    assert "Reconnecting" in kinds[:resync]
    assert kinds[-1] == "ReadinessChange"


async def test_readiness_changes_overtaken_by_the_history_subscribe_again(
    registry: RegistryProcess, direct: AsyncRegistryClient
) -> None:
    names = [f"flooded-{index:02d}" for index in range(HISTORY + 5)]
    await register(direct, "flood", *names)
    await all_ready(direct, "flood", names)
    seen = Collector().start(direct.readiness_changes("flood"))
    try:
        for index in range(int(WITHIN)):  # until the subscription is surely listening
            await register(direct, "flood", f"probe-{index}")
            with contextlib.suppress(AssertionError):
                await seen.until(
                    lambda: any(isinstance(e, ReadinessChange) for e in seen.events),
                    "a readiness change",
                    within=1.0,
                )
                break
        unwrap(await direct.delete_broker("flood", "default"))
        await seen.until(
            lambda: any(isinstance(e, ResyncRequired) for e in seen.events), "the resync"
        )
        resync = next(i for i, e in enumerate(seen.events) if isinstance(e, ResyncRequired))
        unwrap(await direct.create_broker("flood", "default"))
        await seen.until(
            lambda: any(isinstance(e, ReadinessChange) for e in seen.events[resync + 1 :]),
            "readiness changes after subscribing again",
        )
    finally:
        await seen.stop()
    resyncs = [e for e in seen.events if isinstance(e, ResyncRequired)]
    assert resyncs[0].message == "RESYNC_REQUIRED: query again"  # readiness has no message
    assert resyncs[0].cursor is not None
    assert not [e for e in seen.events if isinstance(e, Reconnecting)]
