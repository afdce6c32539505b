"""One GraphQL subscription over one graphql-transport-ws connection.

:class:`SubscriptionSocket` opens the WebSocket, sends ``connection_init`` (the bearer token
in its payload, as the server reads it), waits for ``connection_ack``, subscribes, and then
hands out ``next`` payloads one by one, answering the server's pings. It does not retry;
it classifies why it stopped, so the caller (:mod:`event_registry_client.subscriptions`)
knows whether to reconnect:

- :class:`Dropped`: a reconnect may help — no connection, a network drop, the server
  restarting or shutting down (1001, 1006, 1012), closing a client that fell behind (4503),
  a budget (429 at the handshake, 4429);
- a :class:`~event_registry_client.errors.RegistryError`: it will not — a refused token
  (4401/4403, 401), a protocol or request error (4400, 4409, an ``error`` message, e.g. a
  malformed ``since`` cursor), a handshake refused with another status.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.typing import Subprotocol

from . import errors
from .models import Json

PROTOCOL = Subprotocol("graphql-transport-ws")
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
REFUSED_CODES = {
    4401: "unauthorized: the server saw an operation before connection_init (4401)",
    4403: "unauthorized: a valid token is required (4403)",
}
FATAL_CODES = frozenset({4400, 4409, 1002, 1003, 1007, 1008, 1009, 1010})


class Dropped(Exception):
    """The subscription stopped for a reason a reconnect may fix."""


def ws_url(url: str) -> str:
    """``http(s)://`` to ``ws(s)://``; other URLs as given."""
    return re.sub(r"^http", "ws", url)


def closed_error(code: int | None, reason: str) -> Exception:
    """What a close with ``code`` means: a :class:`Dropped` or a RegistryError."""
    if code in REFUSED_CODES:
        return errors.UnauthorizedError(REFUSED_CODES[code])
    text = f"closed {code}" + (f": {reason}" if reason else "")
    if code in FATAL_CODES:
        return errors.SubscriptionError(text, code)
    return Dropped(text)


class SubscriptionSocket:
    """A subscribed connection; :meth:`next_payload` until it returns None (completed)."""

    def __init__(self, connection: ClientConnection) -> None:
        self._connection = connection

    @classmethod
    async def open(
        cls,
        url: str,
        document: str,
        variables: Mapping[str, Any],
        *,
        token: str | None = None,
        timeout: float = 10.0,
    ) -> SubscriptionSocket:
        try:
            connection = await connect(
                ws_url(url),
                subprotocols=[PROTOCOL],
                open_timeout=timeout,
                max_size=None,
                ping_interval=None,
            )
        except InvalidStatus as error:
            status = error.response.status_code
            if status == 401:
                raise errors.UnauthorizedError("unauthorized: a valid token is required") from error
            if status in RETRYABLE_STATUSES:
                raise Dropped(f"handshake refused with HTTP {status}") from error
            raise errors.ServerError(f"WebSocket handshake refused: HTTP {status}", status) from (
                error
            )
        except (OSError, TimeoutError, InvalidHandshake) as error:
            raise Dropped(f"cannot connect to {url}: {error}") from error
        socket = cls(connection)
        try:
            await socket._send({"type": "connection_init", "payload": _init_payload(token)})
            async with asyncio.timeout(timeout):
                while (message := await socket._receive())["type"] != "connection_ack":
                    await socket._answer_ping(message)
            await socket._send(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": document, "variables": dict(variables)},
                }
            )
        except TimeoutError as error:
            await connection.close()
            raise Dropped("no connection_ack in time") from error
        except BaseException:
            await connection.close()
            raise
        return socket

    async def next_payload(self) -> Json | None:
        """The next ``next`` payload (``data``/``errors``), None once the server completes."""
        while True:
            message = await self._receive()
            kind = message.get("type")
            if kind == "next":
                payload = message.get("payload")
                if not isinstance(payload, dict):
                    raise errors.ServerError("a next message without a payload")
                return payload
            if kind == "complete":
                return None
            if kind == "error":
                raise errors.GraphQLError(_messages(message.get("payload")))
            await self._answer_ping(message)

    async def close(self) -> None:
        await self._connection.close()

    async def _answer_ping(self, message: Json) -> None:
        if message.get("type") == "ping":
            await self._send({"type": "pong"})

    async def _send(self, message: Json) -> None:
        try:
            await self._connection.send(json.dumps(message))
        except ConnectionClosed as error:
            raise _closed(error) from error

    async def _receive(self) -> Json:
        try:
            frame = await self._connection.recv()
        except ConnectionClosed as error:
            raise _closed(error) from error
        message = json.loads(frame)
        if not isinstance(message, dict):
            raise errors.ServerError("a WebSocket message that is not an object")
        return message


def _closed(error: ConnectionClosed) -> Exception:
    received = error.rcvd
    if received is None:
        return Dropped("connection lost")
    return closed_error(received.code, received.reason)


def _init_payload(token: str | None) -> Json:
    return {"Authorization": f"Bearer {token}"} if token else {}


def _messages(payload: Any) -> list[str]:
    if isinstance(payload, list):
        return [str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in payload]
    return [str(payload)]
