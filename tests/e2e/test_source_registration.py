"""Auto-registration end to end: ``kubectl apply`` of the design note's GitHubSource to a real
``event-registry serve`` (embedded control plane, its readiness controller and source
registrar), watched through a live ``eventTypeChanges`` subscription (graphql-transport-ws
over the ``websockets`` library) and read back with a query.

Nothing sleeps: everything waits with a deadline.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from tests.support.registry import RegistryProcess, broker, data_of

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sources" / "github-source.yaml"
DEADLINE = 15.0
SOURCE = {
    "apiVersion": "sources.knative.dev/v1alpha1",
    "kind": "GitHubSource",
    "name": "github-source-sample",
    "namespace": "registrar",
}
CHANGES = """
subscription {
  eventTypeChanges(namespace: "registrar") {
    kind
    eventType { name type source producers { apiVersion kind name namespace } autoCreated }
  }
}
"""


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryProcess]:
    process = RegistryProcess(tmp_path_factory.mktemp("registrar-e2e")).start()
    try:
        process.wait_ready()
        yield process
    finally:
        process.stop()


def ws_url(url: str) -> str:
    return "ws" + url.removeprefix("http")


async def subscribe(url: str, query: str) -> ClientConnection:
    ws = await connect(ws_url(url), subprotocols=[Subprotocol("graphql-transport-ws")])
    await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
    ack = json.loads(await asyncio.wait_for(ws.recv(), DEADLINE))
    assert ack["type"] == "connection_ack", ack
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
    return ws


async def next_change(ws: ClientConnection) -> dict[str, Any]:
    message = json.loads(await asyncio.wait_for(ws.recv(), DEADLINE))
    assert message["type"] == "next", message
    assert "errors" not in message["payload"], message
    change: dict[str, Any] = message["payload"]["data"]["eventTypeChanges"]
    return change


async def test_applied_github_source_shows_its_eventtypes_live_with_their_producer(
    registry: RegistryProcess,
) -> None:
    registry.kubectl("create", "namespace", "registrar", check=True)
    registry.apply(broker("default", "registrar"))
    ws = await subscribe(registry.url, CHANGES)
    try:
        source = yaml.safe_load(EXAMPLE.read_text())
        source["metadata"]["namespace"] = "registrar"
        await asyncio.to_thread(registry.apply, source)
        added: dict[str, dict[str, Any]] = {}
        while len(added) < 2:
            change = await next_change(ws)
            if change["kind"] == "ADDED":
                added[change["eventType"]["type"]] = change["eventType"]
        assert set(added) == {
            "dev.knative.source.github.push",
            "dev.knative.source.github.pull_request",
        }
        for event_type in added.values():
            assert event_type["source"] == "https://github.com/my-other-user/my-other-repo"
            assert event_type["producers"] == [SOURCE]
            assert event_type["autoCreated"] is False

        await asyncio.to_thread(
            registry.kubectl,
            "delete", "githubsource", "github-source-sample", "-n", "registrar", check=True,
        )  # fmt: skip
        deleted: set[str] = set()
        while len(deleted) < 2:
            change = await next_change(ws)
            if change["kind"] == "DELETED":
                deleted.add(change["eventType"]["name"])
        assert deleted == {event_type["name"] for event_type in added.values()}
    finally:
        await ws.close()
    listed = data_of(registry.query('{ eventTypes(namespace: "registrar") { totalCount } }'))[
        "eventTypes"
    ]
    assert listed["totalCount"] == 0
