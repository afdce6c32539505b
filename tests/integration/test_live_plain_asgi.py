"""Subscriptions through a plain ASGI WebSocket (no batched writes), and what serve offers.

``event-registry serve`` runs uvicorn with :class:`BatchingWebSocketProtocol`; the app must work
the same on a server without that extension (one ``websocket.send`` per frame). Here the app
runs in this process on uvicorn's stock ``websockets-sansio`` protocol, over a real socket,
fed by changes applied to its cache as the informer would apply them; a real ``websockets``
client reads every frame of a burst larger than one batch, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from event_registry.app.auth import Authenticator
from event_registry.app.http import Runtime, create_app
from event_registry.app.live.batching import BatchingWebSocketProtocol
from event_registry.app.live.connection import SEND_BATCH
from event_registry.hub.hub import Hub
from event_registry.store.caching import Cache
from tests.support.registry import eventually_async

BURST = SEND_BATCH + 40
SUBSCRIPTION = (
    'subscription { eventTypeChanges(namespace: "default", includeExisting: true) '
    "{ kind eventType { name } } }"
)


def event_type(name: str, rv: int) -> dict[str, Any]:
    return {
        "apiVersion": "eventing.knative.dev/v1beta2",
        "kind": "EventType",
        "metadata": {"name": name, "namespace": "default", "resourceVersion": str(rv)},
        "spec": {"type": f"com.example.{name}", "source": "/s", "broker": "default"},
    }


@contextlib.asynccontextmanager
async def serving(ws: Any) -> AsyncIterator[tuple[str, Cache]]:
    cache = Cache()
    for kind in ("Namespace", "Broker", "EventType", "Trigger"):
        cache.replace(kind, [])
        cache.set_synced(kind, True)
    runtime = Runtime(cache=cache, authenticator=Authenticator.open(), hub=Hub(cache))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(runtime), log_level="warning", lifespan="off", ws=ws)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:

        async def started() -> bool:
            return server.started

        await eventually_async(started)
        yield f"ws://127.0.0.1:{port}/graphql", cache
    finally:
        server.should_exit = True
        await task
        sock.close()


async def subscribed(url: str) -> ClientConnection:
    ws = await connect(url, subprotocols=[Subprotocol("graphql-transport-ws")])
    await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
    assert json.loads(await ws.recv()) == {"type": "connection_ack"}
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}}))
    return ws


async def burst_arrives_whole(url: str, cache: Cache) -> None:
    ws = await subscribed(url)
    try:
        async with asyncio.timeout(10):  # live once the (empty) initial set is complete
            first = json.loads(await ws.recv())
        assert first["payload"]["data"]["eventTypeChanges"]["kind"] == "INITIAL_SET_COMPLETE"
        for index in range(BURST):
            cache.apply("EventType", "ADDED", event_type(f"et-{index:03d}", index + 1))
        names: list[str] = []
        async with asyncio.timeout(10):
            while len(names) < BURST:
                message = json.loads(await ws.recv())
                assert message["type"] == "next", message
                assert message["id"] == "1", message
                change = message["payload"]["data"]["eventTypeChanges"]
                assert change["kind"] == "ADDED"
                names.append(change["eventType"]["name"])
        assert names == [f"et-{index:03d}" for index in range(BURST)]
    finally:
        await ws.close()


@pytest.mark.parametrize("ws", ["websockets-sansio", BatchingWebSocketProtocol])
async def test_a_burst_reaches_the_client_whole_and_in_order(ws: Any) -> None:
    async with serving(ws) as (url, cache):
        await burst_arrives_whole(url, cache)
