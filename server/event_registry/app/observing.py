"""Each HTTP request observed: its request id bound and echoed, its latency counted.

Guarantees: every HTTP response carries ``X-Request-Id`` (the caller's, when plausible, else a
new one: :mod:`.logs`), and everything logged while serving the request carries that id;
every request is counted once in :class:`~.metrics.RequestStats` under the operation type
the GraphQL app found (``scope["state"]["operation"]``; ``other`` when none), whether it
succeeded, failed or was refused; with the access log on, one info record per request.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import logs
from .live.tally import OperationLabel
from .metrics import RequestStats

REQUEST_ID_HEADER = b"x-request-id"


def header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


def bind_request_id(scope: Scope) -> str:
    """The request id of ``scope``, bound for what is logged in this context."""
    request_id = logs.request_id_for(header(scope, REQUEST_ID_HEADER))
    logs.REQUEST_ID.set(request_id)
    return request_id


class Observe:
    def __init__(self, app: ASGIApp, requests: RequestStats) -> None:
        self.app = app
        self.requests = requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = bind_request_id(scope)
        echoed = request_id.encode("latin-1")
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (REQUEST_ID_HEADER, echoed)]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            operation: OperationLabel = scope.get("state", {}).get("operation", "other")
            self.requests.observe(operation, seconds)
            if logs.ACCESS.isEnabledFor(logging.INFO):
                logs.ACCESS.info(
                    "%s %s %d",
                    scope["method"],
                    scope["path"],
                    status,
                    extra={"operation": operation, "status": status, "duration_seconds": seconds},
                )
