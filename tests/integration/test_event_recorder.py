"""The event recorder against a real control plane: it writes, counts, and never hurts its caller.

A control plane process without controllers (only the recorder under test writes Events), one
cluster client for the module. What a controller may rely on: ``record`` returns at once and
never raises, whatever the API answers or whether it answers at all; a full queue drops;
refusals and an unreachable API are logged once, not per Event.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from event_registry.cluster import kinds
from event_registry.cluster.client import ClusterClient
from event_registry.cluster.connecting import Connection, open_client
from event_registry.cluster.recording import REPORTING_CONTROLLER, EventRecorder
from tests.support.controlplane import ControlPlaneProcess, free_port

NS = "recorded"
LOGGER = "event_registry.cluster.recording"


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlaneProcess]:
    process = ControlPlaneProcess(tmp_path_factory.mktemp("recorder"), "--no-controllers").start()
    try:
        process.kubectl("create", "namespace", NS, check=True)
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
async def client(plane: ControlPlaneProcess) -> AsyncIterator[ClusterClient]:
    async with await open_client(
        Connection("embedded"), embedded_kubeconfig=plane.kubeconfig
    ) as opened:
        yield opened


@pytest.fixture
async def recorder(client: ClusterClient) -> AsyncIterator[EventRecorder]:
    recording = EventRecorder(client, host="test-host", retry_delay=0.01)
    await recording.start()
    yield recording
    await recording.stop()


def config_map(name: str, namespace: str = NS) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace, "uid": f"uid-{name}"},
    }


async def events_about(client: ClusterClient, name: str) -> list[dict[str, Any]]:
    listed = await client.request(
        "GET",
        kinds.EVENTS.path(NS),
        query=[("fieldSelector", f"involvedObject.name={name}")],
    )
    items: list[dict[str, Any]] = listed["items"]
    return items


async def test_an_event_is_written_as_client_go_writes_it(
    client: ClusterClient, recorder: EventRecorder
) -> None:
    recorder.record(config_map("settings"), "Normal", "Loaded", "settings loaded")
    assert await recorder.wait_idle(10)
    (event,) = await events_about(client, "settings")
    assert event["metadata"]["name"].startswith("settings.")
    assert event["involvedObject"] == {
        "kind": "ConfigMap",
        "apiVersion": "v1",
        "namespace": NS,
        "name": "settings",
        "uid": "uid-settings",
    }
    assert event["source"] == {"component": REPORTING_CONTROLLER, "host": "test-host"}
    assert (event["reportingComponent"], event["reportingInstance"]) == (
        REPORTING_CONTROLLER,
        "test-host",
    )
    assert (event["type"], event["reason"], event["message"], event["count"]) == (
        "Normal",
        "Loaded",
        "settings loaded",
        1,
    )
    assert event["firstTimestamp"] == event["lastTimestamp"]


async def test_repeats_patch_one_event(client: ClusterClient, recorder: EventRecorder) -> None:
    for _ in range(3):
        recorder.record(config_map("flaky"), "Warning", "Failed", "cannot load")
    recorder.record(config_map("flaky"), "Warning", "Failed", "another failure")
    assert await recorder.wait_idle(10)
    by_message = {e["message"]: e for e in await events_about(client, "flaky")}
    assert sorted(by_message) == ["another failure", "cannot load"]
    assert by_message["cannot load"]["count"] == 3
    assert by_message["another failure"]["count"] == 1
    assert recorder.written == 4


async def test_an_expired_event_is_written_anew(
    client: ClusterClient, recorder: EventRecorder
) -> None:
    recorder.record(config_map("gone"), "Normal", "Loaded", "loaded")
    assert await recorder.wait_idle(10)
    (first,) = await events_about(client, "gone")
    await client.delete(kinds.EVENTS, NS, first["metadata"]["name"])
    recorder.record(config_map("gone"), "Normal", "Loaded", "loaded")
    assert await recorder.wait_idle(10)
    (again,) = await events_about(client, "gone")
    assert again["metadata"]["name"] == first["metadata"]["name"]
    assert again["count"] == 2


async def test_a_full_queue_drops_without_blocking(client: ClusterClient) -> None:
    recording = EventRecorder(client, queue_size=2)  # not started: nothing drains the queue
    for number in range(5):
        recording.record(config_map(f"burst-{number}"), "Normal", "Burst", "burst")
    assert recording.dropped == 3
    await recording.start()
    assert await recording.wait_idle(10)
    await recording.stop()
    assert recording.written == 2


async def test_refusals_are_logged_once_and_never_raised(
    client: ClusterClient, recorder: EventRecorder, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    for name in ("a", "b", "c"):  # their namespace does not exist: 404 for each
        recorder.record(config_map(name, "nowhere"), "Normal", "Loaded", "loaded")
    assert await recorder.wait_idle(10)
    warnings = [r for r in caplog.records if r.name == LOGGER and r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "the API refused an Event" in warnings[0].getMessage()
    assert recorder.dropped == 3

    recorder.record(config_map("fine"), "Normal", "Loaded", "loaded")
    assert await recorder.wait_idle(10)
    infos = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert "Events are written again" in infos


async def test_an_unreachable_api_is_retried_then_dropped(
    plane: ControlPlaneProcess, tmp_path_factory: pytest.TempPathFactory
) -> None:
    config = plane.kubeconfig.read_text().replace(plane.url, f"http://127.0.0.1:{free_port()}")
    kubeconfig = tmp_path_factory.mktemp("unreachable") / "kubeconfig"
    kubeconfig.write_text(config)
    async with await open_client(
        Connection("embedded"), embedded_kubeconfig=kubeconfig
    ) as unreachable:
        recording = EventRecorder(unreachable, max_tries=3, retry_delay=0.01)
        await recording.start()
        recording.record(config_map("lost"), "Normal", "Loaded", "loaded")
        assert await recording.wait_idle(30)
        await recording.stop()
    assert (recording.written, recording.dropped) == (0, 1)


async def test_a_bad_object_never_fails_the_caller(recorder: EventRecorder) -> None:
    recorder.record({"metadata": "not a mapping"}, "Normal", "Odd", "odd")
    assert await recorder.wait_idle(10)


async def test_the_object_is_named_in_the_version_clients_resolve_its_kind_to(
    client: ClusterClient, recorder: EventRecorder
) -> None:
    read_as_v1beta2 = {
        "apiVersion": "eventing.knative.dev/v1beta2",
        "kind": "EventType",
        "metadata": {"name": "orders", "namespace": NS, "uid": "uid-orders"},
    }
    recorder.record(read_as_v1beta2, "Normal", "Ready", "EventType is ready")
    unknown = {**config_map("odd"), "apiVersion": "example.com/v1", "kind": "Odd"}
    recorder.record(unknown, "Normal", "Seen", "seen")
    assert await recorder.wait_idle(10)
    (event,) = await events_about(client, "orders")
    assert event["involvedObject"]["apiVersion"] == "eventing.knative.dev/v1beta3"
    (odd,) = await events_about(client, "odd")
    assert odd["involvedObject"]["apiVersion"] == "example.com/v1", "kept when not served"
