"""The registry's HTTP app: ``/graphql`` (POST, GET for queries, GraphiQL for browsers, and
WebSocket subscriptions over graphql-transport-ws and graphql-ws, see :mod:`.live`),
``/healthz``, ``/readyz`` (503 until every informer has synced, and once draining: see
:mod:`.draining`), ``/metrics`` (Prometheus,
see :mod:`.metrics`; no token needed, no namespace named) and the static assets. Every HTTP
request gets a request id and is counted by operation type (:mod:`.observing`).

Authentication runs before GraphQL: in ``tokens`` and ``kubernetes`` modes a request without
a valid bearer token gets 401 and never reaches a resolver, whatever its method, parameters
or ``Accept`` (only the GraphiQL page, which holds no data, is served without one); when the
cluster cannot review a token the answer is 503 (see :mod:`.auth`). Request sizes are
limited before anything reads them (:mod:`.limits`); WebSocket handshakes are checked for
their ``Origin`` and against per-caller budgets (:mod:`.origins`, :mod:`.budgets`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import process_result

from ..domain import access
from ..graphql.completed import CompletedObjects
from ..graphql.context import Context
from ..graphql.limits import DEFAULT_QUERY_LIMITS, QueryLimits
from ..graphql.live import operation
from ..graphql.schema import schema
from ..graphql.writing import WritePort
from ..hub.hub import Hub
from ..store.caching import Cache
from . import graphiql
from .auth import Authenticating, AuthUnavailable
from .budgets import Budgets
from .draining import Drain
from .limits import LimitBody, RequestLimits
from .live.connection import LiveConnection, LiveSettings
from .live.fanout import Fanout
from .live.tally import LiveTally, operation_label
from .metrics import CONTENT_TYPE, RegistryCollector, RequestStats, WatchCounters, registry_of
from .metrics import exposition as metrics_exposition
from .observing import Observe, bind_request_id
from .origins import OriginPolicy
from .responses import ResponseCache, is_query, key_for

STATIC = Path(__file__).resolve().parent.parent / "static"


@dataclass
class Runtime:
    """What the app serves from: the cache, authentication, and write-side services."""

    cache: Cache
    authenticator: Authenticating
    services: WritePort | None = None
    """Where mutations write (None: a read-only app)."""
    writes_as: Callable[[access.Principal], WritePort | None] | None = None
    """A caller's own write port, for principals with a cluster identity (``kubernetes``
    mode: writes made as the caller); others write through :attr:`services`."""
    hub: Hub | None = None
    """Live changes for subscriptions (None: no subscriptions)."""
    completed: CompletedObjects | None = field(default_factory=CompletedObjects)
    """Completed objects shared by every request of this app (see graphql/completed.py)."""
    limits: QueryLimits = DEFAULT_QUERY_LIMITS
    """Query cost and response size limits of every operation (see graphql/limits.py)."""
    reflectors: Mapping[str, WatchCounters] = field(default_factory=dict)
    """The informer's reflectors by kind, for ``/metrics`` (read at scrape time)."""
    drain: Drain = field(default_factory=Drain)
    """Set going on SIGTERM: ``/readyz`` turns 503 and WebSockets close with 1001."""

    def services_for(self, principal: access.Principal) -> WritePort | None:
        """Where ``principal``'s mutations write."""
        if self.writes_as is not None and principal.identity is not None:
            return self.writes_as(principal)
        return self.services


class RegistryGraphQL(GraphQL[Context, None]):
    def __init__(self, runtime: Runtime) -> None:
        super().__init__(schema, graphql_ide="graphiql", allow_queries_via_get=True)
        self.runtime = runtime
        self.responses = ResponseCache(max_response_bytes=runtime.limits.max_response_bytes)

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        principal = request.scope.get("state", {}).get("principal", access.NOBODY)
        cache = self.runtime.cache
        return Context(
            principal=principal,
            snapshot=cache.snapshot,
            cache=cache,
            services=self.runtime.services_for(principal),
            hub=self.runtime.hub,
            request=request,
            completed=self.runtime.completed,
            limits=self.runtime.limits,
        )

    async def execute_single(
        self,
        request: Request,
        request_adapter: Any,
        sub_response: Any,
        context: Context,
        root_value: Any,
        request_data: Any,
    ) -> Any:
        """Queries are answered from :class:`ResponseCache` when the snapshot is unchanged."""
        query = request_data.query
        if isinstance(query, str):
            chosen = operation(query, request_data.operation_name)
            request.scope.setdefault("state", {})["operation"] = operation_label(chosen.type)
        if not isinstance(query, str) or not is_query(query, request_data.operation_name):
            return await super().execute_single(
                request, request_adapter, sub_response, context, root_value, request_data
            )
        key = key_for(
            query,
            request_data.operation_name,
            request_data.variables,
            context.principal.scope_key,
            context.snapshot.revision,
        )
        cached = self.responses.get(key)
        if cached is not None:
            return cached
        result = await super().execute_single(
            request, request_adapter, sub_response, context, root_value, request_data
        )
        if not result.errors:
            self.responses.put(key, result)
        return result

    async def process_result(self, request: Any, result: Any) -> Any:
        return self.responses.processed(result, process_result)

    def encode_json(self, data: object) -> bytes:
        return self.responses.encoded(data)

    def decode_json(self, data: str | bytes) -> object:
        try:
            return super().decode_json(data)
        except RecursionError as error:
            # Nested deeper than the parser's stack: answered like malformed JSON (400).
            raise json.JSONDecodeError("nested too deeply", "", 0) from error

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        return HTMLResponse(graphiql.PAGE)


OPERATION_PARAMETERS = frozenset({"query", "variables", "operationName", "extensions"})


def is_ide_page_request(scope: Scope, headers: dict[str, str]) -> bool:
    """A browser asking for the GraphiQL page itself: a GET accepting HTML whose parameters,
    decoded as Starlette and Strawberry decode them, carry no part of an operation."""
    if scope["method"] != "GET" or "text/html" not in headers.get("accept", ""):
        return False
    query_string = scope.get("query_string", b"").decode("latin-1")
    parameters = parse_qs(query_string, keep_blank_values=True)
    return OPERATION_PARAMETERS.isdisjoint(parameters)


class Authenticate:
    """Resolve the principal of HTTP requests to ``/graphql``; refuse unknown tokens.

    Every method reaches this check (the route takes them all; GraphQL refuses what it does
    not serve, after authentication). The GraphiQL page is served to anyone without a token
    (it holds no data), so a person can open it and store a token, and it is served from
    here, a path that cannot execute anything; every operation goes through the token check.
    """

    def __init__(self, app: ASGIApp, authenticator: Authenticating) -> None:
        self.app = app
        self.authenticator = authenticator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            principal = await self.authenticator.authenticate(headers.get("authorization"))
        except AuthUnavailable as error:
            body = {"errors": [{"message": f"{error}; try again shortly"}]}
            await JSONResponse(body, status_code=503, headers={"Retry-After": "1"})(
                scope, receive, send
            )
            return
        if principal is None and is_ide_page_request(scope, headers):
            await HTMLResponse(graphiql.PAGE)(scope, receive, send)
            return
        if principal is None:
            body = {"errors": [{"message": "a valid bearer token is required"}]}
            response = JSONResponse(
                body, status_code=401, headers={"WWW-Authenticate": 'Bearer realm="event-registry"'}
            )
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)


def create_app(
    runtime: Runtime,
    live_settings: LiveSettings | None = None,
    *,
    limits: RequestLimits | None = None,
    budgets: Budgets | None = None,
    origins: OriginPolicy | None = None,
) -> ASGIApp:
    """The registry's ASGI app.

    WebSockets to ``/graphql`` go straight to :class:`LiveConnection` with the server's own
    ``send`` (no middleware wrappers: subscription fan-out sends many small frames, and each
    layer costs on every one); it checks their ``Origin`` and budgets. Everything else goes
    through the body size limit, then Starlette's routing.
    """
    registry_graphql = RegistryGraphQL(runtime)
    graphql_app = Authenticate(registry_graphql, runtime.authenticator)
    fanout = Fanout(max_payload_bytes=runtime.limits.max_response_bytes)
    tally = LiveTally()
    requests = RequestStats()
    metrics_registry = registry_of(
        RegistryCollector(
            cache=runtime.cache,
            requests=requests,
            responses=registry_graphql.responses,
            tally=tally,
            fanout=fanout,
            hub=runtime.hub,
            reflectors=runtime.reflectors,
        )
    )
    settings = live_settings or LiveSettings()
    limits = limits or RequestLimits()
    budgets = budgets or Budgets()
    origins = origins or OriginPolicy()

    async def healthz(request: Request) -> Response:
        return Response(b"ok", media_type="text/plain")

    async def metrics(request: Request) -> Response:
        return Response(metrics_exposition(metrics_registry), media_type=CONTENT_TYPE)

    async def dashboard(request: Request) -> Response:
        return RedirectResponse("/ui/")

    async def readyz(request: Request) -> Response:
        state = runtime.cache.sync_state
        body = json.dumps(
            {
                "synced": runtime.cache.synced,
                "informers": state,
                "reasons": runtime.cache.unsynced_reasons,
                "draining": runtime.drain.started,
            }
        )
        status = 200 if runtime.cache.synced and not runtime.drain.started else 503
        return Response(body, status_code=status, media_type="application/json")

    routes: ASGIApp = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
            Route("/graphql", graphql_app),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
            # The dashboard (clients/web, built into static/ui): a page holding no data,
            # served without a token like GraphiQL; its requests go through /graphql.
            Route("/", dashboard),
            Mount("/ui", StaticFiles(directory=STATIC / "ui", html=True), name="ui"),
        ]
    )

    routes = Observe(LimitBody(routes, limits.max_body_size), requests)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"].rstrip("/") == "/graphql":
            bind_request_id(scope)
            websocket = WebSocket(scope, receive=receive, send=send)
            connection = LiveConnection(
                websocket,
                runtime,
                fanout,
                settings,
                send=send,
                budgets=budgets,
                origins=origins,
                tally=tally,
            )
            with runtime.drain.tracking(connection):
                await connection.serve()
            return
        await routes(scope, receive, send)

    return app
