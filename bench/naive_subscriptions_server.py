"""A naive Strawberry subscription server: the side-by-side baseline of ``bench.subscriptions``.

What a straightforward Strawberry server does: Strawberry's own ``GraphQL`` ASGI app (its
graphql-transport-ws handler) on uvicorn, and a subscription whose resolver gives each
subscriber its own ``asyncio.Queue``. ``POST /trigger`` with ``{"consumable": bool}``
broadcasts one readiness change per EventType (``NAMES``, the same ten the benchmark puts on
the registry's Broker) into every queue, and each subscriber's execution resolves and
serializes every change for itself: one GraphQL execution per subscriber per event, where the
registry runs one per change for all identical subscriptions.

The types mirror the registry's ``EventTypeReadinessChange`` fields that the benchmark's
subscription selects, so both servers answer the same document with payloads of the same
shape. Run it as ``python -m bench.naive_subscriptions_server --port 0``; it prints
``naive: http://127.0.0.1:PORT/graphql`` once it listens. The uvicorn settings are the
registry's (``websockets-sansio``, the default asyncio loop started by ``asyncio.run``).
"""

from __future__ import annotations

import argparse
import asyncio
import socket
from collections.abc import AsyncGenerator

import strawberry
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

NAMESPACE = "bench"
NAMES = tuple(f"et-{index:02d}" for index in range(10))


@strawberry.type
class EventType:
    namespace: str
    name: str
    type: str
    source: str | None
    description: str | None


@strawberry.type
class EventTypeReadinessChange:
    kind: str
    event_type: EventType | None
    previous_ready: bool | None
    ready: bool | None
    previous_consumable: bool | None
    consumable: bool | None
    reason: str | None
    cause: str | None
    cursor: str


SUBSCRIBERS: set[asyncio.Queue[EventTypeReadinessChange]] = set()
_sequence = 0


def changes(consumable: bool) -> list[EventTypeReadinessChange]:
    """One change per EventType, as a Broker readiness flip produces."""
    global _sequence
    result = []
    for index, name in enumerate(NAMES):
        _sequence += 1
        result.append(
            EventTypeReadinessChange(
                kind="UPDATED",
                event_type=EventType(
                    namespace=NAMESPACE,
                    name=name,
                    type=f"dev.knative.bench.event{index}",
                    source=f"https://bench.example.com/{name}",
                    description=f"bench EventType {name}",
                ),
                previous_ready=True,
                ready=True,
                previous_consumable=not consumable,
                consumable=consumable,
                reason=None if consumable else "BenchFlip",
                cause="Broker",
                cursor=str(_sequence),
            )
        )
    return result


@strawberry.type
class Query:
    @strawberry.field
    def subscribers(self) -> int:
        return len(SUBSCRIBERS)


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def event_type_readiness_changed(
        self, namespace: str | None = None
    ) -> AsyncGenerator[EventTypeReadinessChange, None]:
        queue: asyncio.Queue[EventTypeReadinessChange] = asyncio.Queue()
        SUBSCRIBERS.add(queue)
        try:
            while True:
                change = await queue.get()
                event_type = change.event_type
                if namespace is None or (event_type and event_type.namespace == namespace):
                    yield change
        finally:
            SUBSCRIBERS.discard(queue)


schema = strawberry.Schema(query=Query, subscription=Subscription)


async def trigger(request: Request) -> JSONResponse:
    body = await request.json()
    batch = changes(bool(body["consumable"]))
    for queue in SUBSCRIBERS:
        for change in batch:
            queue.put_nowait(change)
    return JSONResponse({"subscribers": len(SUBSCRIBERS), "changes": len(batch)})


def create_app() -> Starlette:
    graphql = GraphQL[None, None](
        schema, graphql_ide=None, subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL]
    )
    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/trigger", trigger, methods=["POST"]),
        ]
    )


async def serve(host: str, port: int) -> None:
    sock = socket.socket(socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    config = uvicorn.Config(
        create_app(), log_level="warning", lifespan="off", ws="websockets-sansio"
    )
    server = uvicorn.Server(config)
    print(f"naive: http://{host}:{sock.getsockname()[1]}/graphql", flush=True)
    await server.serve(sockets=[sock])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()
