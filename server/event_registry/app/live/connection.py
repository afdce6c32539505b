"""One GraphQL-over-WebSocket connection: handshake, auth, subscriptions, bounded delivery.

Guarantees:

- a connection must send ``connection_init`` within ``init_timeout`` (else 4408) and
  authenticate there (bearer token in the payload or the handshake's header; else 4403);
- frames to the client go through an :class:`Outbox`: producers (subscription groups) never
  wait for this client; once it is ``coalesce_after`` frames behind, pending changes of the
  same object are coalesced to the latest; a client more than ``outbox_limit`` frames behind
  is disconnected with 4503 (its subscriptions and buffers released at once) and can resume
  from its last cursor, so one stalled client cannot slow others or grow memory;
- at most ``max_subscriptions`` subscriptions per connection; a duplicate id closes with 4409;
- keepalive frames (``ping`` / ``ka``) are sent every ``keepalive_interval`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from graphql import OperationType
from starlette.types import Send
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.http import process_result

from ...domain import access
from ...graphql.context import Context
from ...graphql.schema import schema
from . import protocols
from .fanout import Fanout, Group, group_key, operation_problem, operation_type

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LiveSettings:
    init_timeout: float = 10.0
    keepalive_interval: float = 15.0
    max_subscriptions: int = 100
    outbox_limit: int = 1_000
    coalesce_after: int = 256


class Outbox:
    """Frames waiting for one client; ``put`` never blocks.

    While the client keeps up (fewer than ``coalesce_after`` frames pending) every frame is
    kept, so bursts such as a resume replay arrive complete. A client that falls behind gets
    the pending change of an object replaced by its newer one (latest state per object);
    past ``limit`` pending frames it is ``overflowed`` and will be disconnected.
    """

    def __init__(self, limit: int, *, coalesce_after: int = 256) -> None:
        self._frames: OrderedDict[int, tuple[Hashable | None, str]] = OrderedDict()
        self._slot_of: dict[Hashable, int] = {}
        self._slots = itertools.count()
        self._ready = asyncio.Event()
        self._limit = limit
        self._coalesce_after = min(coalesce_after, limit)
        self.overflowed = False

    def put(self, frame: str, key: Hashable | None = None) -> None:
        if key is not None and len(self._frames) >= self._coalesce_after:
            older = self._slot_of.get(key)
            if older is not None:
                self._frames.pop(older, None)
        slot = next(self._slots)
        self._frames[slot] = (key, frame)
        if key is not None:
            self._slot_of[key] = slot
        if len(self._frames) > self._limit:
            self.overflowed = True
        self._ready.set()

    async def get(self) -> str:
        while not self._frames:
            self._ready.clear()
            await self._ready.wait()
        slot, (key, frame) = self._frames.popitem(last=False)
        if key is not None and self._slot_of.get(key) == slot:
            del self._slot_of[key]
        return frame

    def __len__(self) -> int:
        return len(self._frames)


class _Subscription:
    """One client subscription: a member of a group, writing into its connection's outbox."""

    def __init__(self, connection: LiveConnection, subscription_id: str) -> None:
        self.connection = connection
        self.id = subscription_id
        self.prefix = protocols.next_prefix(connection.protocol, subscription_id)
        self.group: Group | None = None

    def deliver(self, payload_json: str, object_key: str | None) -> None:
        key = (self.id, object_key) if object_key is not None else None
        self.connection.enqueue(self.prefix + payload_json + "}", key)

    def fail(self, errors: list[dict[str, Any]]) -> None:
        self.connection.enqueue(protocols.error_frame(self.connection.protocol, self.id, errors))
        self.connection.forget(self)

    def finish(self) -> None:
        self.connection.enqueue(protocols.complete_frame(self.id))
        self.connection.forget(self)


class LiveConnection:
    def __init__(
        self,
        websocket: WebSocket,
        runtime: Any,
        fanout: Fanout,
        settings: LiveSettings,
        *,
        send: Send | None = None,
    ) -> None:
        self.websocket = websocket
        self._send = send
        self.runtime = runtime
        self.fanout = fanout
        self.settings = settings
        self.protocol = ""
        self.principal: access.Principal | None = None
        self.subscriptions: dict[str, _Subscription] = {}
        self.outbox = Outbox(settings.outbox_limit, coalesce_after=settings.coalesce_after)
        self._closing = False
        self._slow = False
        self._sender: asyncio.Task[None] | None = None
        self._receiver: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()

    # lifecycle ----------------------------------------------------------------------------

    async def serve(self) -> None:
        offered = self.websocket.scope.get("subprotocols") or []
        protocol = next((p for p in protocols.PROTOCOLS if p in offered), None)
        if protocol is None:
            await self.websocket.close(code=4406, reason="Subprotocol not acceptable")
            return
        self.protocol = protocol
        await self.websocket.accept(subprotocol=protocol)
        self._sender = asyncio.create_task(self._send_loop(), name="ws-sender")
        self._receiver = receiver = asyncio.create_task(self._receive_loop(), name="ws-receiver")
        try:
            # The receiver ends on disconnect, or is cancelled by close() (e.g. a slow client).
            await asyncio.wait({receiver})
            if not receiver.cancelled():
                error = receiver.exception()
                if error is not None and not isinstance(error, WebSocketDisconnect):
                    log.error("websocket connection failed", exc_info=error)
        finally:
            await self._cleanup()

    async def _receive_loop(self) -> None:
        try:
            async with asyncio.timeout(self.settings.init_timeout):
                first = await self.websocket.receive_text()
        except TimeoutError:
            await self.close(protocols.INIT_TIMEOUT, "Connection initialisation timeout")
            return
        await self._handle(protocols.parse(self.protocol, first))
        while not self._closing:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None:
                await self.close(protocols.BAD_MESSAGE, "Binary messages are not supported")
                return
            await self._handle(protocols.parse(self.protocol, text))

    async def close(self, code: int, reason: str) -> None:
        """Close with ``code``; a client that does not read cannot block this: after a second
        the connection is abandoned (its subscriptions and buffers are released at once)."""
        if self._closing:
            return
        self._closing = True
        current = asyncio.current_task()
        if self._sender is not None and self._sender is not current:
            self._sender.cancel()
        # Queue the close frame (it follows whatever the client has yet to read), then stop
        # receiving; the receiver's end releases everything held for this connection.
        with contextlib.suppress(Exception):
            async with asyncio.timeout(1.0):
                await self.websocket.close(code=code, reason=reason)
        if self._receiver is not None and self._receiver is not current:
            self._receiver.cancel()

    async def _cleanup(self) -> None:
        self._closing = True
        for subscription in list(self.subscriptions.values()):
            self.forget(subscription)
        tasks = [t for t in (self._sender, self._receiver) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    # outgoing -----------------------------------------------------------------------------

    def enqueue(self, frame: str, key: Hashable | None = None) -> None:
        if self._closing or self._slow:
            return
        self.outbox.put(frame, key)
        if self.outbox.overflowed:
            self._slow = True
            reason = "too slow: reconnect and resume with since: <last cursor>"
            task = asyncio.get_running_loop().create_task(self.close(protocols.TOO_SLOW, reason))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _send_loop(self) -> None:
        """Send queued frames; after ``keepalive_interval`` idle seconds, a keepalive frame
        (one task does both, to keep idle connections cheap)."""
        interval = self.settings.keepalive_interval
        while True:
            if len(self.outbox):
                frame = await self.outbox.get()
            else:
                try:
                    async with asyncio.timeout(interval):
                        frame = await self.outbox.get()
                except TimeoutError:
                    if self.principal is None:
                        continue
                    frame = protocols.keepalive(self.protocol)
            if self._send is not None:  # the server's own send: one call per frame, no layers
                await self._send({"type": "websocket.send", "text": frame})
            else:
                await self.websocket.send_text(frame)

    # incoming -----------------------------------------------------------------------------

    async def _handle(self, message: protocols.ClientMessage) -> None:
        kind = message.kind
        if kind == "INVALID":
            await self.close(protocols.BAD_MESSAGE, message.error[:120])
        elif kind == "INIT":
            await self._init(message)
        elif kind == "PING":
            self.enqueue(protocols.pong())
        elif kind == "PONG":
            return
        elif kind == "TERMINATE":
            await self.close(1000, "Normal closure")
        elif self.principal is None:
            await self.close(protocols.UNAUTHORIZED, "Unauthorized")
        elif kind == "SUBSCRIBE":
            await self._subscribe(message)
        elif kind == "STOP" and message.id in self.subscriptions:
            self.forget(self.subscriptions[message.id])

    async def _init(self, message: protocols.ClientMessage) -> None:
        if self.principal is not None:
            await self.close(protocols.TOO_MANY_INITS, "Too many initialisation requests")
            return
        params = message.payload
        header = params.get("Authorization") or params.get("authorization")
        if not header and isinstance(params.get("token"), str):
            header = f"Bearer {params['token']}"
        if not header:
            header = self.websocket.headers.get("authorization")
        principal = self.runtime.authenticator.principal_for_header(
            header if isinstance(header, str) else None
        )
        if principal is None:
            if self.protocol == protocols.LEGACY_WS:
                with contextlib.suppress(Exception):
                    await self.websocket.send_text(protocols.connection_error("Forbidden"))
            await self.close(protocols.FORBIDDEN, "Forbidden")
            return
        self.principal = principal
        self.enqueue(protocols.ack(self.protocol))
        if self.protocol == protocols.LEGACY_WS:
            self.enqueue(protocols.keepalive(self.protocol))

    def _context(self) -> Context:
        runtime = self.runtime
        assert self.principal is not None
        return Context(
            principal=self.principal,
            snapshot=runtime.cache.snapshot,
            cache=runtime.cache,
            services=runtime.services,
            hub=runtime.hub,
        )

    async def _subscribe(self, message: protocols.ClientMessage) -> None:
        subscription_id = message.id
        assert subscription_id is not None
        assert self.principal is not None
        if subscription_id in self.subscriptions:
            await self.close(
                protocols.DUPLICATE_ID, f"Subscriber for {subscription_id} already exists"
            )
            return
        payload = message.payload
        query = payload["query"]
        variables = payload.get("variables") if isinstance(payload.get("variables"), dict) else None
        name = (
            payload.get("operationName") if isinstance(payload.get("operationName"), str) else None
        )
        kind = operation_type(query, name)
        if kind is None and (problem := operation_problem(query, name)) is not None:
            self.enqueue(
                protocols.error_frame(self.protocol, subscription_id, [{"message": problem}])
            )
            return
        if kind in (OperationType.QUERY, OperationType.MUTATION):
            result = await schema.execute(
                query, variable_values=variables, context_value=self._context(), operation_name=name
            )
            payload_json = json.dumps(process_result(result), separators=(",", ":"))
            self.enqueue(protocols.next_frame(self.protocol, subscription_id, payload_json))
            self.enqueue(protocols.complete_frame(subscription_id))
            return
        if len(self.subscriptions) >= self.settings.max_subscriptions:
            message_text = (
                f"too many subscriptions on this connection (max {self.settings.max_subscriptions})"
            )
            self.enqueue(
                protocols.error_frame(self.protocol, subscription_id, [{"message": message_text}])
            )
            return
        subscription = _Subscription(self, subscription_id)
        self.subscriptions[subscription_id] = subscription
        context = self._context()
        subscription.group = self.fanout.join(
            group_key(query, name, variables, self.principal.scope_key),
            subscription,
            lambda: schema.subscribe(
                query, variable_values=variables, context_value=context, operation_name=name
            ),
            lambda: context.memo.get("object_key"),
        )

    def forget(self, subscription: _Subscription) -> None:
        if self.subscriptions.get(subscription.id) is subscription:
            del self.subscriptions[subscription.id]
        if subscription.group is not None:
            self.fanout.leave(subscription.group, subscription)
            subscription.group = None
