"""Request size limits: bodies, request heads (URL and headers) and WebSocket messages.

Guarantees:

- a request body over ``max_body_size`` bytes is answered ``413`` without being read whole:
  with a ``Content-Length`` over the limit the answer goes out before any of the body is read
  (and the connection is closed, so the rest is never read); a chunked body is counted as it
  arrives and refused at the first chunk that passes the limit (:class:`LimitBody`);
- a URL over ``max_body_size`` (a GET carries its operation in the query string) is answered
  ``414``, headers over ``max_header_size`` bytes in total ``431``, as soon as the parser
  passes the limit: nothing more of that request is kept, what follows is read and dropped
  for :data:`LINGER` seconds so the client can read the answer (:func:`head_limited_protocol`);
- a WebSocket message over ``ws_max_message_size`` closes the connection with 1009 (message
  too big): uvicorn's ``ws_max_size``, enforced by the ``websockets`` frame parser before the
  message is assembled.

Every refusal is JSON ``{"errors": [{"message": ...}]}`` naming the limit and its flag.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MiB = 1024 * 1024


@dataclass(frozen=True)
class RequestLimits:
    max_body_size: int = MiB
    max_header_size: int = 64 * 1024
    ws_max_message_size: int = MiB


def body_too_large(limit: int) -> str:
    return f"the request body is larger than {limit} bytes (--max-body-size)"


def url_too_long(limit: int) -> str:
    return f"the request URL is longer than {limit} bytes (--max-body-size)"


def headers_too_large(limit: int) -> str:
    return f"the request headers are larger than {limit} bytes (--max-header-size)"


def error_body(message: str) -> bytes:
    return json.dumps({"errors": [{"message": message}]}).encode()


class LimitBody:
    """ASGI middleware: refuse HTTP request bodies over ``limit`` bytes with 413.

    A request with ``Content-Length`` within the limit passes through untouched (the server
    delivers no more than that). A chunked one is read here, counting, before the app runs;
    the app then receives it as one message (it reads bodies whole anyway).
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length: bytes | None = None
        chunked = False
        for name, value in scope["headers"]:
            if name == b"content-length":
                length = value
            elif name == b"transfer-encoding":
                chunked = True
        if length is not None:
            if not length.strip().isdigit() or int(length) > self.limit:
                await _refuse(send, 413, body_too_large(self.limit))
                return
            await self.app(scope, receive, send)
            return
        if not chunked:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await _refuse(send, 413, body_too_large(self.limit))
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)


async def _refuse(send: Send, status: int, message: str) -> None:
    body = error_body(message)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def head_limited_protocol(limits: RequestLimits) -> type[Any]:
    """uvicorn's httptools HTTP protocol, refusing a URL longer than ``max_body_size``
    (414) or headers larger than ``max_header_size`` in total (431) as they are parsed.

    httptools hands the URL and headers to callbacks in pieces and uvicorn accumulates them
    with no bound; past a limit the callback raises, which uvicorn answers through
    ``send_400_response``, answered here with the limit's own status and message instead.
    """
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    max_url = limits.max_body_size
    max_headers = limits.max_header_size

    max_head = max_url + max_headers

    class HeadLimitedHttpToolsProtocol(HttpToolsProtocol):
        _refusal: tuple[int, str] | None = None
        _header_bytes = 0
        _head_bytes = 0
        """Bytes received while a request head is incomplete: httptools accumulates a single
        header's value itself before calling back, so one huge header is bounded only here."""
        _in_head = True

        def data_received(self, data: bytes) -> None:
            if self._refusal is not None:
                return  # refused: what the client is still sending is read and dropped
            if not self._in_head or self._head_bytes + len(data) <= max_head:
                if self._in_head:
                    self._head_bytes += len(data)
                super().data_received(data)
                return
            room = max_head - self._head_bytes
            self._head_bytes = max_head
            super().data_received(data[:room])  # the callbacks may refuse it themselves
            if self._refusal is not None or self.transport.is_closing():
                return
            if self._in_head:
                self._refusal = (
                    (431, headers_too_large(max_headers))
                    if self._header_bytes
                    else (414, url_too_long(max_url))
                )
                self.send_400_response("")
                return
            self.data_received(data[room:])  # the head ended in the room: the rest follows it

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._header_bytes = 0

        def on_headers_complete(self) -> None:
            self._in_head = False
            self._head_bytes = 0
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            self._in_head = True
            self._head_bytes = 0
            super().on_message_complete()

        def on_url(self, url: bytes) -> None:
            if len(self.url) + len(url) > max_url:
                self._refusal = (414, url_too_long(max_url))
                raise _HeadTooLarge
            super().on_url(url)

        def on_header(self, name: bytes, value: bytes) -> None:
            self._header_bytes += len(name) + len(value) + 4
            if self._header_bytes > max_headers:
                self._refusal = (431, headers_too_large(max_headers))
                raise _HeadTooLarge
            super().on_header(name, value)

        def send_400_response(self, msg: str) -> None:
            if self._refusal is None:
                super().send_400_response(msg)
                return
            status, message = self._refusal
            transport = self.transport
            transport.write(_raw_response(status, message))
            # Close our side only: a client still sending its request would otherwise get a
            # reset, which can discard the answer before it reads it. Closed for good soon.
            if transport.can_write_eof():
                transport.write_eof()
                self.loop.call_later(LINGER, transport.close)
            else:
                transport.close()

    return HeadLimitedHttpToolsProtocol


LINGER = 2.0
"""Seconds a refused connection keeps reading (and dropping) what its client still sends."""


class _HeadTooLarge(Exception):
    """Raised from a parser callback: the request head passed a limit."""


_REASONS = {413: "Content Too Large", 414: "URI Too Long", 431: "Request Header Fields Too Large"}


def _raw_response(status: int, message: str) -> bytes:
    body = error_body(message)
    head = (
        f"HTTP/1.1 {status} {_REASONS[status]}\r\n"
        "content-type: application/json\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode() + body


_UNITS = {"kib": 1024, "mib": MiB, "k": 1024, "m": MiB}


def parse_size(text: str) -> int:
    """A size in bytes: ``1048576``, ``64KiB``, ``1MiB`` (case-insensitive; ``K``/``M`` too)."""
    cleaned = text.strip().lower().replace(" ", "")
    for suffix in sorted(_UNITS, key=len, reverse=True):
        if cleaned.endswith(suffix) and cleaned[: -len(suffix)].isdigit():
            return int(cleaned[: -len(suffix)]) * _UNITS[suffix]
    if cleaned.isdigit():
        return int(cleaned)
    raise ValueError(f"{text!r} is not a size (bytes, or with KiB / MiB)")
