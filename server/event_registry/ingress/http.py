"""The ingress' HTTP app: ``POST /<namespace>/<broker>`` with CloudEvents, as Knative's
``broker-ingress`` answers it.

- ``202 Accepted``: every event of the request is a valid CloudEvent and the Broker exists;
- ``400``: not a CloudEvent (the body says why), or a path that is not ``/<namespace>/<broker>``;
- ``404``: no such Broker (or the path ``/``, as Knative's); ``405``: a method other than
  POST (OPTIONS answers the CloudEvents webhook handshake); ``413``: a body over
  ``max_event_size`` (checked on ``Content-Length`` and while reading, so a large body is
  never buffered whole);
- ``503`` (with ``Retry-After``) only before the Brokers have first been listed.

Errors are plain text, one line. Events are not delivered to Trigger subscribers (yet): the
ingress registers what it sees (:mod:`.autocreating`) and drops the events.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from ..domain import models
from ..store.caching import Cache
from .events import NotACloudEvent, SeenEvent, parse

ALLOW = "POST, OPTIONS"
Seen = Callable[[models.Broker, SeenEvent], None]


class TooLarge(Exception):
    pass


def _error(status: int, message: str, **headers: str) -> Response:
    return PlainTextResponse(message + "\n", status_code=status, headers=headers or None)


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise TooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(cache: Cache, *, max_event_size: int, seen: Seen) -> Starlette:
    """The ingress app over ``cache`` (Brokers); ``seen`` is told of every accepted event."""

    async def ingress(request: Request) -> Response:
        if request.method == "OPTIONS":
            return Response(
                headers={
                    "Allow": ALLOW,
                    "WebHook-Allowed-Origin": "*",
                    "WebHook-Allowed-Rate": "*",
                }
            )
        if request.method != "POST":
            return _error(405, f"method {request.method} not allowed; use POST", Allow=ALLOW)
        if request.url.path == "/":
            return _error(404, "POST events to /<namespace>/<broker>")
        parts = request.url.path.strip("/").split("/")
        if len(parts) != 2 or not all(parts):
            return _error(400, "the path must be /<namespace>/<broker>")
        namespace, name = parts
        try:
            body = await _body(request, max_event_size)
        except TooLarge:
            return _error(413, f"the request body is over {max_event_size} bytes")
        try:
            events = parse({k.lower(): v for k, v in request.headers.items()}, body)
        except NotACloudEvent as error:
            return _error(400, str(error))
        broker = cache.snapshot.broker(namespace, name)
        if broker is None:
            if not cache.sync_state.get("Broker"):
                return _error(503, "Brokers are not listed yet; retry", **{"Retry-After": "1"})
            return _error(404, f'Broker "{name}" not found in namespace "{namespace}"')
        for event in events:
            seen(broker, event)
        return Response(status_code=202)

    methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    return Starlette(routes=[Route("/{path:path}", ingress, methods=methods)])
