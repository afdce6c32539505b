"""Two ``serve`` replicas on one control plane: a client moves between them and loses nothing.

One control plane (``python -m event_registry controlplane``, no controllers: the test writes
every status itself), two ``serve --kubeconfig … --cursor-key-file …`` processes sharing the
key, as replicas behind a Service do. The python client (clients/python) subscribes to
``eventTypeChanges`` through a :class:`CuttingProxy` standing in for the Service; a reference
subscriber stays on replica B all along.

While EventTypes are created, labelled and made ready and the Broker flips (each flip makes
derived readiness events: one UPDATED per EventType whose ``consumable`` changed), the client
is moved: the proxy drops its connection and sends the reconnect to the other replica (A→B,
B→A), then replica A gets SIGTERM (graceful drain: its WebSockets are closed with 1001) and
the client resumes on B; last, A is started again (a fresh list of the cluster) and the client
is moved to it, as a rolling restart does. It must yield exactly the reference's changes, in
the same order, with the same cursors (a change's cursor is the same on every replica that
took the same path), no duplicate, and never ``ResyncRequired``. Each write is awaited on
both replicas (their caches show it) before the next, so both apply the two watch streams
(Brokers, EventTypes) in the same order, as they do when changes are not milliseconds apart.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from event_registry_client import (
    AsyncRegistryClient,
    Backoff,
    ChangeKind,
    EventTypeChange,
    Reconnecting,
    Reconnection,
    ResyncRequired,
)
from tests.clients.kreg_support import CuttingProxy
from tests.support.controlplane import ControlPlaneProcess, knative_crd, manifest
from tests.support.registry import RegistryProcess, broker, eventtype

NAMESPACE = "moves"
QUICK = Reconnection(backoff=Backoff(initial=0.05, maximum=0.2))
WITHIN = 30.0
STATE = """query($namespace: String!) {
  brokers(namespace: $namespace) { name ready }
  eventTypes(namespace: $namespace, first: 100) {
    nodes { name ready consumable labels { key value } }
  }
}"""


@dataclass
class Cluster:
    plane: ControlPlaneProcess
    a: RegistryProcess
    b: RegistryProcess


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    base: Path = tmp_path_factory.mktemp("replicas")
    plane = ControlPlaneProcess(base / "plane", "--no-controllers").start()
    replicas: list[RegistryProcess] = []
    try:
        for crd in ("eventtype", "broker", "trigger"):
            plane.kubectl("apply", "-f", "-", input=knative_crd(crd), check=True)
        plane.kubectl("create", "namespace", NAMESPACE, check=True)
        key = base / "cursor-key"
        key.write_text("the secret both replicas mount\n")
        for name in ("a", "b"):
            replica = RegistryProcess(
                base / name,
                "--kubeconfig",
                str(plane.kubeconfig),
                "--cursor-key-file",
                str(key),
                "--resume-wait",
                "5",
                "--drain-timeout",
                "5",
                log_level="info",
            )
            replicas.append(replica)
            replica.start()
        for replica in replicas:
            replica.wait_ready()
        yield Cluster(plane, *replicas)
    finally:
        for replica in replicas:
            replica.stop()
        plane.stop()


class Writer:
    """Writes to the control plane, each write awaited on every running replica."""

    def __init__(self, cluster: Cluster) -> None:
        self.plane = cluster.plane
        self.replicas = [cluster.a, cluster.b]
        self.last = self.state(cluster.b)

    @staticmethod
    def state(replica: RegistryProcess) -> str:
        return json.dumps(replica.query(STATE, {"namespace": NAMESPACE})["data"], sort_keys=True)

    async def settle(self) -> None:
        running = [r for r in self.replicas if r.running]
        for _ in range(int(WITHIN / 0.05)):
            states = {self.state(replica) for replica in running}
            if len(states) == 1 and self.last not in states:
                self.last = states.pop()
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"the replicas did not show the write: {states}")

    async def kubectl(self, *args: str, input: str | None = None) -> None:
        self.plane.kubectl(*args, "-n", NAMESPACE, input=input, check=True)
        await self.settle()

    async def create(self, name: str) -> None:
        document = eventtype(name, NAMESPACE, type=f"dev.moves.{name}", broker="default")
        await self.kubectl("create", "-f", "-", input=manifest(document))

    async def ready(self, kind: str, name: str, status: str = "True") -> None:
        condition = {"type": "Ready", "status": status, "reason": f"Ready{status}"}
        patch = json.dumps({"status": {"conditions": [condition]}})
        await self.kubectl("patch", kind, name, "--subresource=status", "--type=merge", "-p", patch)

    async def created_ready(self, name: str) -> None:
        await self.create(name)
        await self.ready("eventtypes.eventing.knative.dev", name)

    async def flip(self, status: str) -> None:
        await self.ready("brokers.eventing.knative.dev", "default", status)

    async def label(self, name: str, label: str) -> None:
        await self.kubectl("label", "eventtypes.eventing.knative.dev", name, label)


@dataclass
class Collector:
    events: list[Any]
    task: asyncio.Task[None]

    @classmethod
    def start(cls, iterator: AsyncIterator[Any]) -> Collector:
        events: list[Any] = []

        async def collect() -> None:
            async for event in iterator:
                events.append(event)

        return cls(events, asyncio.get_running_loop().create_task(collect()))

    def changes(self) -> list[EventTypeChange]:
        return [e for e in self.events if isinstance(e, EventTypeChange)]

    def saw(self, name: str) -> bool:
        return any(c.event_type is not None and c.event_type.name == name for c in self.changes())

    async def until(self, predicate: Any, what: str) -> None:
        for _ in range(int(WITHIN / 0.02)):
            if self.task.done():
                self.task.result()
                raise AssertionError(f"the subscription ended before {what}: {self.events}")
            if predicate():
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"{what} not within {WITHIN}s: {self.events[-10:]}")

    async def stop(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


def from_first(collector: Collector, name: str) -> list[tuple[ChangeKind, str, str]]:
    """(kind, EventType, cursor) of every change from ``name``'s first one on."""
    rows = [
        (c.kind, c.event_type.name if c.event_type else "", c.cursor) for c in collector.changes()
    ]
    first = next((i for i, row in enumerate(rows) if row[1] == name), len(rows))
    return rows[first:]


def reconnects(collector: Collector) -> list[Reconnecting]:
    return [e for e in collector.events if isinstance(e, Reconnecting)]


ADDED, UPDATED, DELETED = ChangeKind.ADDED, ChangeKind.UPDATED, ChangeKind.DELETED
EXPECTED = [
    # on A: two EventTypes created, then made ready (consumable: the Broker is ready)
    (ADDED, "e1"), (UPDATED, "e1"), (ADDED, "e2"), (UPDATED, "e2"),
    # moved to B: the Broker flips to not ready (derived: e1, e2), e1 labelled
    (UPDATED, "e1"), (UPDATED, "e2"), (UPDATED, "e1"),
    # back on A: the Broker flips to ready (derived), e3 created and made ready, e2 labelled
    (UPDATED, "e1"), (UPDATED, "e2"), (ADDED, "e3"), (UPDATED, "e3"), (UPDATED, "e2"),
    # A drained, on B: the Broker flips again (derived: e1, e2, e3), e3 deleted, end created
    (UPDATED, "e1"), (UPDATED, "e2"), (UPDATED, "e3"), (DELETED, "e3"), (ADDED, "end"),
    # A started again (it lists the cluster anew), the client moved from B to it: e1 labelled
    (UPDATED, "e1"),
]  # fmt: skip


async def test_a_client_moved_between_replicas_gets_every_change_once_in_order(
    cluster: Cluster,
) -> None:
    cluster.plane.kubectl(
        "apply", "-f", "-", input=manifest(broker("default", NAMESPACE)), check=True
    )
    writer = Writer(cluster)
    await writer.flip("True")
    proxy = await CuttingProxy(cluster.a.url).start()
    moving_client = AsyncRegistryClient(proxy.url, reconnection=QUICK)
    reference_client = AsyncRegistryClient(cluster.b.url)
    moving = Collector.start(moving_client.event_type_changes(NAMESPACE))
    reference = Collector.start(reference_client.event_type_changes(NAMESPACE))

    async def caught_up(count: int, moves: int) -> None:
        await reference.until(lambda: len(from_first(reference, "e1")) == count, "the reference")
        await moving.until(
            lambda: len(from_first(moving, "e1")) == count and len(reconnects(moving)) == moves,
            f"{count} changes after {moves} moves",
        )

    try:
        for attempt in range(int(WITHIN / 0.2)):  # until both subscriptions see a write
            await writer.create(f"start-{attempt}")
            await asyncio.sleep(0.2)
            if moving.saw(f"start-{attempt}") and reference.saw(f"start-{attempt}"):
                break
        else:
            raise AssertionError("the subscriptions never started")
        await writer.created_ready("e1")
        await writer.created_ready("e2")
        await caught_up(4, moves=0)

        proxy.retarget(cluster.b.url)  # A → B, changes flowing while the client reconnects
        proxy.cut()
        await writer.flip("False")
        await writer.label("e1", "phase=one")
        await caught_up(7, moves=1)

        proxy.retarget(cluster.a.url)  # B → A
        proxy.cut()
        await writer.flip("True")
        await writer.created_ready("e3")
        await writer.label("e2", "phase=two")
        await caught_up(12, moves=2)

        proxy.retarget(cluster.b.url)  # A goes away (SIGTERM): drained, the client moves
        status = await asyncio.to_thread(cluster.a.terminate)
        await writer.flip("False")
        await writer.kubectl("delete", "eventtypes.eventing.knative.dev", "e3")
        await writer.create("end")
        await caught_up(17, moves=3)
        resumes_on_b = resumes(cluster.b)
        drained = cluster.a.output()

        cluster.a.start()  # a restarted replica: its history starts with a fresh list
        cluster.a.wait_ready()
        proxy.retarget(cluster.a.url)
        proxy.cut()
        await writer.label("e1", "restarted=yes")
        await caught_up(18, moves=4)
        resumes_on_restarted_a = resumes(cluster.a)
    finally:
        await moving.stop()
        await reference.stop()
        await moving_client.aclose()
        await reference_client.aclose()
        await proxy.close()

    assert status == 0
    assert "closed 1 WebSocket(s) with 1001" in drained
    assert "closed 1001: server going away" in reconnects(moving)[2].reason
    assert not [e for e in moving.events if isinstance(e, ResyncRequired)]
    got, expected = from_first(moving, "e1"), from_first(reference, "e1")
    assert [(kind, name) for kind, name, _ in got] == EXPECTED
    # The same cursors as B's while the client moved between replicas that watched the same
    # changes; the restarted A reached its state by a list, so its cursors are its own.
    assert got[:-1] == expected[:-1], "the moved client's changes (or cursors) differ from B's"
    assert got[-1][:2] == expected[-1][:2]
    assert len({cursor for _, _, cursor in got}) == len(got), "a change delivered twice"
    assert resumes_on_b["exact"] + resumes_on_b["waited"] == 2  # from A, twice; never a resync
    assert resumes_on_b["resync"] == 0
    assert resumes_on_restarted_a["exact"] + resumes_on_restarted_a["waited"] == 1


def resumes(replica: RegistryProcess) -> dict[str, float]:
    """``event_registry_subscription_resumes_total`` by outcome, from a real scrape."""
    families = text_string_to_metric_families(replica.get("/metrics").text)
    return {
        sample.labels["outcome"]: sample.value
        for family in families
        if family.name == "event_registry_subscription_resumes"
        for sample in family.samples
        if sample.name.endswith("_total")
    }
