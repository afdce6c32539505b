"""An event sent to a Broker's address registers its type, and a live subscription sees it:
``event-registry serve`` on its embedded cluster (open mode), kubectl for the cluster, a plain
HTTP POST for the event (as curl sends it) and the ``gql`` client for the subscription."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gql import Client, GraphQLRequest
from gql.transport.websockets import WebsocketsTransport

from tests.support.registry import RegistryProcess, broker, eventually, http

NAMESPACE = "shop"
DELIVER_WITHIN = 20.0
CHANGES = """
subscription Changes($namespace: String) {
  eventTypeChanges(namespace: $namespace, includeExisting: true) {
    kind eventType { name type source description }
  }
}
"""
FEATURES = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "config-features", "namespace": "knative-eventing"},
    "data": {"eventtype-auto-create": "enabled"},
}
_ids = itertools.count()


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryProcess]:
    data_dir: Path = tmp_path_factory.mktemp("ingress-registry")
    process = RegistryProcess(data_dir, "--cluster", "embedded").start()
    try:
        process.wait_ready()
        yield process
    finally:
        process.stop()


def send(url: str, type_: str) -> int:
    headers = {
        "ce-specversion": "1.0",
        "ce-id": str(next(_ids)),
        "ce-type": type_,
        "ce-source": "/orders",
        "content-type": "application/json",
    }
    return http("POST", url, body=b'{"order": 1}', headers=headers).status


async def test_an_event_sent_to_a_broker_appears_as_an_event_type_in_a_live_subscription(
    registry: RegistryProcess,
) -> None:
    registry.kubectl("create", "namespace", NAMESPACE, check=True)
    # knative-eventing exists from the start, as on a cluster with Knative installed
    registry.kubectl("get", "namespace", "knative-eventing", check=True)
    registry.apply(FEATURES, broker("default", NAMESPACE))

    def address() -> str:
        jsonpath = "jsonpath={.status.address.url}"
        got = registry.kubectl("get", "broker", "default", "-n", NAMESPACE, "-o", jsonpath)
        return got.stdout.strip()

    url = eventually(address)
    assert re.fullmatch(rf"http://127\.0\.0\.1:\d+/{NAMESPACE}/default", url), url

    added: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    live = asyncio.Event()

    async def subscribe() -> None:
        transport = WebsocketsTransport(url=re.sub(r"^http", "ws", registry.url))
        async with Client(transport=transport) as session:
            request = GraphQLRequest(CHANGES, variable_values={"namespace": NAMESPACE})
            async for result in session.subscribe(request):
                change = result["eventTypeChanges"]
                if change["kind"] == "INITIAL_SET_COMPLETE":
                    live.set()
                elif change["kind"] == "ADDED":
                    await added.put(change["eventType"])

    task = asyncio.create_task(subscribe())
    try:
        await asyncio.wait_for(live.wait(), DELIVER_WITHIN)

        async def registered() -> dict[str, Any]:
            # The ingress reads config-features every second: send until the type registers
            # (the name is deterministic, so repeats never make a second EventType).
            while True:
                assert await asyncio.to_thread(send, url, "com.shop.order.placed") == 202
                with contextlib.suppress(TimeoutError):
                    return await asyncio.wait_for(added.get(), 0.5)

        event_type = await asyncio.wait_for(registered(), DELIVER_WITHIN)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert event_type["type"] == "com.shop.order.placed"
    assert event_type["source"] == "/orders"
    assert event_type["description"] == "Event Type auto-created by controller"
    assert event_type["name"].startswith("et-default-")
    listed = registry.kubectl("get", "eventtypes", "-n", NAMESPACE, "-o", "name", check=True)
    assert listed.stdout.split() == [f"eventtype.eventing.knative.dev/{event_type['name']}"]
