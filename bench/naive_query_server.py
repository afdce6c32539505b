"""A naive query server: the side-by-side baselines of ``bench.queries``.

It lists the cluster once at start-up (Namespaces, Brokers, EventTypes as
``eventing.knative.dev/v1beta2`` and Triggers, through kubernetes_asyncio with the registry's
own :class:`~event_registry.cluster.listwatching.ListerWatcher`), builds a
:class:`~event_registry.store.caching.Cache` from those lists (the same normalized models,
snapshots and indexes the registry serves from; no watch, so the data stays as listed) and
serves two things over HTTP:

- ``POST /graphql``: the registry's schema built with ``build_schema(fast=False)`` (plain
  Strawberry/graphql-core execution, the same resolvers, the same extensions) behind
  Strawberry's own ``GraphQL`` ASGI app: what a straightforward Strawberry server over the same
  cache answers. The caller is the open-mode principal (every namespace), as in the registry's
  development default.
- ``POST /prebuilt``: the same GraphQL request body; the answer is JSON bytes built once per
  distinct request (the first request of a kind executes it, every later one returns the stored
  bytes from a trivial Starlette endpoint): the cost of HTTP and I/O alone, without GraphQL.

Run it as ``python -m bench.naive_query_server --kubeconfig PATH --port 0``; it prints
``naive: http://127.0.0.1:PORT/graphql`` once the cache is built and it listens, after a line
``naive loaded: {...}`` with what it listed and how long it took. The listening socket and the
uvicorn settings are the registry's (``IPPROTO_TCP``, so TCP_NODELAY is set on accepted
connections; ``lifespan="off"``; the default asyncio loop started by ``asyncio.run``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import time
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from strawberry.asgi import GraphQL
from strawberry.federation import Schema

from event_registry.cluster import kinds
from event_registry.cluster.connecting import Connection, open_client
from event_registry.cluster.listwatching import ListerWatcher
from event_registry.domain import access
from event_registry.graphql.context import Context
from event_registry.graphql.schema import build_schema
from event_registry.store.caching import Cache

EVENT_TYPE_VERSION = "v1beta2"


async def load_cache(kubeconfig: Path) -> tuple[Cache, dict[str, Any]]:
    """List every watched kind once and build a synced Cache from the lists."""
    began = time.perf_counter()
    client = await open_client(Connection("kubeconfig", kubeconfig))
    counts: dict[str, int] = {}
    cache = Cache()
    list_seconds = 0.0
    build_seconds = 0.0
    try:
        for resource in (
            kinds.NAMESPACES,
            kinds.BROKERS,
            kinds.event_types(EVENT_TYPE_VERSION),
            kinds.TRIGGERS,
        ):
            listed = time.perf_counter()
            items, _ = await ListerWatcher(client, resource).list()
            built = time.perf_counter()
            cache.replace(resource.kind, items)
            cache.set_synced(resource.kind, True)
            list_seconds += built - listed
            build_seconds += time.perf_counter() - built
            counts[resource.kind] = len(items)
    finally:
        await client.close()
    info = {
        "objects": counts,
        "list_seconds": round(list_seconds, 3),
        "build_seconds": round(build_seconds, 3),
        "total_seconds": round(time.perf_counter() - began, 3),
    }
    return cache, info


def context_for(cache: Cache, request: Any = None) -> Context:
    return Context(principal=access.OPEN, snapshot=cache.snapshot, cache=cache, request=request)


class NaiveGraphQL(GraphQL[Context, None]):
    """Strawberry's plain ASGI app over the cache (no IDE, no subscriptions needed)."""

    def __init__(self, schema: Schema, cache: Cache) -> None:
        super().__init__(schema, graphql_ide=None)
        self.cache = cache

    async def get_context(self, request: Any, response: Any) -> Context:
        return context_for(self.cache, request)


class Prebuilt:
    """``POST /prebuilt``: the GraphQL answer as JSON bytes, built on first request."""

    def __init__(self, schema: Schema, cache: Cache) -> None:
        self.schema = schema
        self.cache = cache
        self.answers: dict[tuple[str, str], bytes] = {}

    async def answer(self, request: Request) -> Response:
        payload = json.loads(await request.body())
        query = str(payload["query"])
        variables = payload.get("variables") or {}
        key = (query, json.dumps(variables, sort_keys=True))
        answer = self.answers.get(key)
        if answer is None:
            result = await self.schema.execute(
                query, variable_values=variables, context_value=context_for(self.cache)
            )
            document: dict[str, Any] = {"data": result.data}
            if result.errors:
                document["errors"] = [error.formatted for error in result.errors]
            if result.extensions:  # the query cost, as the GraphQL endpoints report it
                document["extensions"] = result.extensions
            answer = json.dumps(document).encode()
            self.answers[key] = answer
        return Response(answer, media_type="application/json")


def create_app(cache: Cache, info: dict[str, Any]) -> Starlette:
    schema = build_schema(fast=False)

    async def readyz(request: Request) -> JSONResponse:
        return JSONResponse({"synced": cache.synced, **info})

    return Starlette(
        routes=[
            Route("/graphql", NaiveGraphQL(schema, cache), methods=["POST"]),
            Route("/prebuilt", Prebuilt(schema, cache).answer, methods=["POST"]),
            Route("/readyz", readyz),
        ]
    )


async def serve(kubeconfig: Path, host: str, port: int) -> None:
    cache, info = await load_cache(kubeconfig)
    print(f"naive loaded: {json.dumps(info)}", flush=True)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # TCP_NODELAY
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    config = uvicorn.Config(create_app(cache, info), log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    print(f"naive: http://{host}:{sock.getsockname()[1]}/graphql", flush=True)
    await server.serve(sockets=[sock])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--kubeconfig", type=Path, required=True, help="the cluster to list")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    asyncio.run(serve(args.kubeconfig, args.host, args.port))


if __name__ == "__main__":
    main()
