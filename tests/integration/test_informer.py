"""The informer against a real control plane: sync, live changes, 410 relists, restarts of
the control plane, and of a reflector after a cache listener raised.

The informer runs in the test's event loop; the control plane is a separate process with a
tiny history (5 changes) so that a watch resumed from an old resourceVersion gets 410 Expired.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator

import pytest

from event_registry.cluster.client import ClusterClient
from event_registry.cluster.connecting import Connection, open_client
from event_registry.cluster.informing import Informer
from event_registry.cluster.reflecting import ReflectorSettings
from event_registry.store.caching import Cache, Change
from tests.support.controlplane import ControlPlaneProcess, free_port, knative_crd, manifest


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlaneProcess]:
    process = ControlPlaneProcess(
        tmp_path_factory.mktemp("informer"),
        "--port",
        str(free_port()),
        "--history-limit",
        "5",
        "--bookmark-interval",
        "3600",
        "--no-controllers",
    ).start()
    try:
        for crd in ("eventtype", "broker", "trigger"):
            process.kubectl("apply", "-f", "-", input=knative_crd(crd), check=True)
        process.kubectl("create", "namespace", "inf", check=True)
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
async def client(plane: ControlPlaneProcess) -> AsyncIterator[ClusterClient]:
    api = await open_client(Connection("embedded"), embedded_kubeconfig=plane.kubeconfig)
    yield api
    await api.close()


@pytest.fixture(scope="module")
async def informer(client: ClusterClient) -> AsyncIterator[Informer]:
    settings = ReflectorSettings(
        watch_timeout=(1, 1), read_timeout=5, backoff_max=1.0, restart_initial=0.2, restart_max=1.0
    )
    running = Informer(client, Cache(), settings=settings, discovery_interval=0.2)
    await running.start()
    assert await running.wait_synced(20)
    yield running
    await running.stop()


def eventtype(name: str, **spec: object) -> dict[str, object]:
    return {
        "apiVersion": "eventing.knative.dev/v1beta2",
        "kind": "EventType",
        "metadata": {"name": name, "namespace": "inf"},
        "spec": {"type": f"dev.example.{name}", "source": "https://example.com", **spec},
    }


async def eventually(predicate: object, timeout: float = 10.0) -> None:
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


async def test_kubectl_changes_reach_the_cache(
    plane: ControlPlaneProcess, informer: Informer
) -> None:
    cache = informer.cache
    plane.kubectl(
        "apply", "-f", "-", input=manifest(eventtype("seen", broker="default")), check=True
    )
    await eventually(lambda: cache.snapshot.event_type("inf", "seen") is not None)
    seen = cache.snapshot.event_type("inf", "seen")
    assert seen is not None
    assert seen.type == "dev.example.seen"
    assert seen.broker == "default"
    assert [e.meta.name for e in cache.snapshot.event_types_of_broker("inf", "default")] == ["seen"]
    plane.kubectl(
        "delete", "eventtypes.v1beta2.eventing.knative.dev", "seen", "-n", "inf", check=True
    )
    await eventually(lambda: cache.snapshot.event_type("inf", "seen") is None)


async def test_expired_watch_relists_without_loss_or_duplicates(
    plane: ControlPlaneProcess, informer: Informer
) -> None:
    cache = informer.cache
    log: list[Change] = []
    cache.add_listener(lambda change: log.append(change) if change.kind == "EventType" else None)
    relists_before = informer.reflectors["EventType"].relists
    for index in range(4):
        plane.kubectl("apply", "-f", "-", input=manifest(eventtype(f"churn-{index}")), check=True)
        # Unrelated writes push the global history past the EventType watch's position.
        for round_ in range(8):
            plane.kubectl("create", "configmap", f"noise-{index}-{round_}", "-n", "inf", check=True)
        if index % 2:
            plane.kubectl(
                "delete",
                "eventtypes.v1beta2.eventing.knative.dev",
                f"churn-{index - 1}",
                "-n",
                "inf",
                check=True,
            )
        await asyncio.sleep(1.2)  # let the 1 s watch end and resume from a compacted position
    expected = {"churn-1", "churn-3"}
    await eventually(
        lambda: {e.meta.name for e in cache.snapshot.event_types_in("inf")} == expected
    )
    assert informer.reflectors["EventType"].relists > relists_before, "no 410 relist happened"
    for name in ("churn-0", "churn-1", "churn-2", "churn-3"):
        kinds = [c.type for c in log if c.name == name]
        deleted = name in ("churn-0", "churn-2")
        assert kinds == (["ADDED", "DELETED"] if deleted else ["ADDED"]), (name, kinds)
    revisions = [c.revision for c in log]
    assert revisions == sorted(revisions)


async def test_a_failing_listener_restarts_its_reflector_and_loses_nothing(
    plane: ControlPlaneProcess, informer: Informer
) -> None:
    cache = informer.cache
    reflector = informer.reflectors["EventType"]
    restarts_before = reflector.restarts
    failures = 0
    seen: list[tuple[str, str]] = []

    def flaky(change: Change) -> None:
        nonlocal failures
        if change.kind == "EventType" and change.name.startswith("flaky-") and failures < 2:
            failures += 1
            raise RuntimeError(f"listener bug on {change.name}")

    cache.add_listener(flaky)
    cache.add_listener(
        lambda change: (
            seen.append((change.type, change.name)) if change.name.startswith("flaky-") else None
        )
    )
    assert cache.synced
    states: list[tuple[bool, str | None]] = [(True, None)]

    async def watch_readiness() -> None:
        # Polls on every turn of the event loop: the relist after a restart is a real HTTP
        # request, so the unsynced window spans many turns.
        while True:
            state = (cache.synced, cache.unsynced_reasons.get("EventType"))
            if state != states[-1]:
                states.append(state)
            await asyncio.sleep(0)

    watching = asyncio.create_task(watch_readiness())
    try:
        flaky_types = [eventtype(f"flaky-{index}") for index in range(3)]
        plane.kubectl("apply", "-f", "-", input=manifest(*flaky_types), check=True)
        wanted = {"flaky-0", "flaky-1", "flaky-2"}
        await eventually(
            lambda: (
                {e.meta.name for e in cache.snapshot.event_types_in("inf")} >= wanted
                and reflector.restarts == restarts_before + 2
                and cache.synced
            ),
            timeout=20,
        )
    finally:
        watching.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watching
    assert failures == 2
    assert sorted(seen) == [("ADDED", name) for name in sorted(wanted)], "each change once"
    assert (False, "restarting: RuntimeError") in states, states
    assert cache.synced
    assert cache.unsynced_reasons == {}

    plane.kubectl(
        "delete", "eventtypes.v1beta2.eventing.knative.dev", "flaky-1", "-n", "inf", check=True
    )
    await eventually(lambda: cache.snapshot.event_type("inf", "flaky-1") is None)
    assert reflector.restarts == restarts_before + 2
    assert seen[-1] == ("DELETED", "flaky-1")


async def test_control_plane_restart_resyncs(
    plane: ControlPlaneProcess, informer: Informer
) -> None:
    cache = informer.cache
    assert cache.synced
    plane.stop()
    await eventually(lambda: not cache.synced, timeout=15)
    plane.start()
    await eventually(lambda: cache.synced, timeout=20)
    plane.kubectl("apply", "-f", "-", input=manifest(eventtype("after-restart")), check=True)
    await eventually(lambda: cache.snapshot.event_type("inf", "after-restart") is not None)
