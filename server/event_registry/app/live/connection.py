"""One GraphQL-over-WebSocket connection: handshake, auth, subscriptions, bounded delivery.

Guarantees:

- a handshake from a browser page of a foreign ``Origin`` is refused with 403 (see
  :mod:`..origins`), and one over the caller's or the server's connection budget with 429
  (see :mod:`..budgets`), both before the connection is accepted where the server offers
  ASGI denial responses (else accepted and closed with 4403 / 4429); a ``tokens``-mode
  connection is counted against its address until ``connection_init`` names its token, then
  against the token (closed with 4429 if that is over budget);
- a connection must send ``connection_init`` within ``init_timeout`` (else 4408) and
  authenticate there (bearer token in the payload or the handshake's header; else 4403, and
  4401 in ``kubernetes`` mode; 1013 when the cluster cannot review the token);
- where the caller's access can change (``kubernetes`` mode), it is checked again every
  ``recheck_interval`` and at once after any RBAC change: a subscription that could deliver
  a namespace the caller may no longer read gets an ``error`` message (extensions.code
  ``FORBIDDEN``) and ends, its pending frames dropped, so nothing of it is sent after the
  check; a token no longer valid closes the connection with 4403. New subscriptions use the
  new rights (an existing one is not widened);
- frames to the client go through an :class:`~.outbox.Outbox`: producers (subscription groups) never
  wait for this client; once it is ``coalesce_after`` frames behind, pending changes of the
  same object are coalesced to the latest; a client more than ``outbox_limit`` frames behind
  is disconnected with 4503 (its subscriptions and buffers released at once) and can resume
  from its last cursor, so one stalled client cannot slow others or grow memory;
- at most ``max_subscriptions`` subscriptions per connection, and within the caller's and the
  server's subscription budgets (else an ``error`` message for that id: the connection stays
  usable); a duplicate id closes with 4409. Budget counts are given back the moment a
  subscription or the connection ends;
- a keepalive frame (``ping`` / ``ka``) goes out after ``keepalive_interval`` seconds without
  any frame sent (one timer per connection, no task wake-ups while idle);
- frames go out in batches of up to ``SEND_BATCH`` per write where the server offers it
  (:mod:`.batching`), in the order they were queued.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import OperationType
from starlette.responses import JSONResponse
from starlette.types import Send
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.http import process_result

from ...domain import access
from ...graphql.context import Context
from ...graphql.limits import bounded
from ...graphql.live import SUBSCRIPTIONS, operation
from ...graphql.schema import schema
from ..auth import AuthUnavailable
from ..budgets import Budgets, caller_for_address, caller_for_token
from ..origins import OriginPolicy
from . import batching, protocols
from .fanout import Fanout, Group
from .outbox import Item, Outbox
from .tally import LiveTally, operation_label

log = logging.getLogger(__name__)

SEND_BATCH = 128
"""Frames written to a client at once (bounded, so a stalled client's backlog stays in the
outbox, where it is coalesced and counted against the limit, not in the transport)."""


@dataclass(frozen=True)
class LiveSettings:
    init_timeout: float = 10.0
    keepalive_interval: float = 15.0
    max_subscriptions: int = 100
    outbox_limit: int = 1_000
    coalesce_after: int = 256


class _Subscription:
    """One client subscription: a member of a group, writing into its connection's outbox."""

    def __init__(self, connection: LiveConnection, subscription_id: str) -> None:
        self.connection = connection
        self.id = subscription_id
        self.prefix = protocols.next_prefix(connection.protocol, subscription_id).encode()
        self.group: Group | None = None
        self.namespaces: frozenset[str] | None = None
        """The namespaces it can deliver changes of (None: any)."""

    def deliver(self, burst: Sequence[Item]) -> None:
        self.connection.enqueue_run(self.prefix, b"}", burst, self.id)

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
        budgets: Budgets | None = None,
        origins: OriginPolicy | None = None,
        tally: LiveTally | None = None,
    ) -> None:
        self.websocket = websocket
        self.tally = tally or LiveTally()
        self.budgets = budgets or Budgets()
        self.origins = origins or OriginPolicy()
        self.caller = ""
        """Whom this connection and its subscriptions are counted against (once admitted)."""
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
        extension = (websocket.scope.get("extensions") or {}).get(batching.EXTENSION) or {}
        self._writer: batching.FrameWriter | None = extension.get("writer") if send else None
        self._last_sent = 0.0
        self._flush_scheduled = False
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._keepalive: asyncio.TimerHandle | None = None
        self._sender: asyncio.Task[None] | None = None
        self._receiver: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._rechecker: asyncio.Task[None] | None = None

    @property
    def subscriber_count(self) -> int:
        return len(self.subscriptions)

    @property
    def pending_frames(self) -> int:
        return len(self.outbox)

    # lifecycle ----------------------------------------------------------------------------

    async def serve(self) -> None:
        if not await self._admitted():
            return
        tally = self.tally
        tally.open.add(self)
        tally.connections_total += 1
        try:
            await self._serve()
        finally:
            tally.open.discard(self)
            self.budgets.connections.give_back(self.caller)

    async def _admitted(self) -> bool:
        """Check the handshake's ``Origin`` and take a connection from the caller's budget;
        refuse it otherwise (nothing is counted then)."""
        websocket = self.websocket
        headers = websocket.headers
        if not self.origins.allows(
            headers.get("origin"),
            scheme=websocket.scope.get("scheme", "ws"),
            host=headers.get("host"),
        ):
            await self._deny(
                403,
                protocols.FORBIDDEN,
                "this Origin may not open a WebSocket here (--allowed-origins)",
            )
            return False
        principal = None
        if self.runtime.authenticator.mode == "tokens":
            principal = self.runtime.authenticator.principal_for_header(
                headers.get("authorization")
            )
        caller = (
            caller_for_token(principal)
            if principal is not None
            else caller_for_address(websocket.scope)
        )
        refusal = self.budgets.connections.take(caller)
        if refusal is None:
            refusal = self.budgets.connection_rate.allow(caller)
            if refusal is not None:
                self.budgets.connections.give_back(caller)
        if refusal is not None:
            await self._deny(429, protocols.OVER_BUDGET, refusal)
            return False
        self.caller = caller
        return True

    async def _deny(self, status: int, code: int, message: str) -> None:
        """Refuse the handshake with ``status`` where the server can, else accept and close."""
        if "websocket.http.response" in (self.websocket.scope.get("extensions") or {}):
            body = {"errors": [{"message": message}]}
            with contextlib.suppress(Exception):
                await self.websocket.send_denial_response(JSONResponse(body, status_code=status))
            return
        with contextlib.suppress(Exception):
            await self.websocket.accept()
            await self.websocket.close(code=code, reason=message[:120])

    async def _serve(self) -> None:
        offered = self.websocket.scope.get("subprotocols") or []
        protocol = next((p for p in protocols.PROTOCOLS if p in offered), None)
        if protocol is None:
            await self.websocket.close(code=4406, reason="Subprotocol not acceptable")
            return
        self.protocol = protocol
        await self.websocket.accept(subprotocol=protocol)
        self._sender = asyncio.create_task(self._send_loop(), name="ws-sender")
        loop = asyncio.get_running_loop()
        self._last_sent = loop.time()
        interval = self.settings.keepalive_interval
        self._keepalive = loop.call_later(interval, self._keepalive_due)
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
        if self._keepalive is not None:
            self._keepalive.cancel()
        if self._rechecker is not None:
            self._rechecker.cancel()
        for subscription in list(self.subscriptions.values()):
            self.forget(subscription)
        tasks = [t for t in (self._sender, self._receiver) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    # outgoing -----------------------------------------------------------------------------

    def enqueue(self, frame: str) -> None:
        if self._closing or self._slow:
            return
        self.outbox.put(frame.encode())
        self._queued()

    def enqueue_run(
        self, prefix: bytes, suffix: bytes, items: Sequence[Item], owner: Hashable
    ) -> None:
        if self._closing or self._slow:
            return
        self.outbox.put_run(prefix, suffix, items, owner)
        self._queued()

    def _queued(self) -> None:
        """After a put: flush on the next loop iteration; close a client too far behind."""
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self._loop.call_soon(self._flush)
        if self.outbox.overflowed:
            self._slow = True
            self.tally.too_slow_closes += 1
            reason = f"too slow: reconnect and {SUBSCRIPTIONS.resume_hint}"
            task = asyncio.get_running_loop().create_task(self.close(protocols.TOO_SLOW, reason))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    def _keepalive_due(self) -> None:
        """Timer: queue a keepalive frame when nothing was sent for a whole interval."""
        loop = asyncio.get_running_loop()
        interval = self.settings.keepalive_interval
        idle = loop.time() - self._last_sent
        if self._closing:
            return
        if idle >= interval and self.principal is not None and not len(self.outbox):
            self.enqueue(protocols.keepalive(self.protocol))
            idle = 0.0
        self._keepalive = loop.call_later(max(interval - idle, 0.05), self._keepalive_due)

    def _flush(self) -> None:
        """Write what is queued now, in batches of ``SEND_BATCH`` frames per write, when the
        server offers batched writes (:mod:`.batching`) and the transport takes more; else
        leave it to the sender task. One call per loop iteration however many frames came."""
        self._flush_scheduled = False
        writer = self._writer
        if writer is None or self._closing:
            self._wake.set()
            return
        outbox = self.outbox
        while len(outbox) and writer.writable.is_set():
            if not write_batch(writer, outbox):
                return
            self._last_sent = self._loop.time()
        if len(outbox):
            self._wake.set()  # the transport is full: the sender waits until it drains

    async def _send_loop(self) -> None:
        """Send what :meth:`_flush` left: when the transport is full (waiting for it to drain)
        or, without batched writes, one ``websocket.send`` per frame. Frames are taken and
        written without waiting in between, so the two never reorder them."""
        loop = asyncio.get_running_loop()
        writer = self._writer
        send = self._send
        outbox = self.outbox
        while True:
            await self._wake.wait()
            self._wake.clear()
            while len(outbox):
                if writer is not None:
                    if not writer.writable.is_set():
                        await writer.writable.wait()
                    if not write_batch(writer, outbox):
                        return
                else:
                    for frame in outbox.take(SEND_BATCH):
                        text = frame.decode()
                        if send is not None:  # the server's own send: no layers
                            await send({"type": "websocket.send", "text": text})
                        else:
                            await self.websocket.send_text(text)
                self._last_sent = loop.time()

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
        authenticator = self.runtime.authenticator
        authorization = header if isinstance(header, str) else None
        try:
            principal = await authenticator.authenticate(authorization)
        except AuthUnavailable as error:
            await self.close(1013, str(error)[:120])
            return
        if principal is None:
            if self.protocol == protocols.LEGACY_WS:
                with contextlib.suppress(Exception):
                    await self.websocket.send_text(protocols.connection_error("Forbidden"))
            if authenticator.mode == "kubernetes":
                await self.close(protocols.UNAUTHORIZED, "Unauthorized")
            else:
                await self.close(protocols.FORBIDDEN, "Forbidden")
            return
        if authenticator.mode != "open" and (caller := caller_for_token(principal)) != self.caller:
            refusal = self.budgets.connections.take(caller)
            if refusal is not None:
                await self.close(protocols.OVER_BUDGET, refusal[:120])
                return
            self.budgets.connections.give_back(self.caller)
            self.caller = caller
        self.principal = principal
        self.enqueue(protocols.ack(self.protocol))
        if self.protocol == protocols.LEGACY_WS:
            self.enqueue(protocols.keepalive(self.protocol))
        interval = authenticator.recheck_interval
        if interval is not None:
            self._rechecker = asyncio.create_task(
                self._recheck(authorization, interval), name="ws-recheck"
            )

    async def _recheck(self, authorization: str | None, interval: float) -> None:
        """Authenticate the caller again every ``interval`` and after every RBAC change."""
        authenticator = self.runtime.authenticator
        while not self._closing:
            await authenticator.wait_for_change(interval)
            try:
                principal = await authenticator.authenticate(authorization)
            except AuthUnavailable as error:
                log.warning("cannot check a live connection's caller again: %s", error)
                continue
            if principal is None:
                await self.close(protocols.FORBIDDEN, "the token is no longer valid")
                return
            self._reauthorized(principal)

    def _reauthorized(self, principal: access.Principal) -> None:
        """Take the caller's current rights; end subscriptions that would now show more."""
        previous, self.principal = self.principal, principal
        if previous is None or previous.scope_key == principal.scope_key:
            return
        for subscription in list(self.subscriptions.values()):
            if still_allowed(subscription.namespaces, previous, principal):
                continue
            self.outbox.discard(subscription.id)
            subscription.fail(
                [
                    {
                        "message": "access to what this subscription watches was revoked",
                        "extensions": {"code": "FORBIDDEN"},
                    }
                ]
            )

    def _context(self) -> Context:
        runtime = self.runtime
        assert self.principal is not None
        return Context(
            principal=self.principal,
            snapshot=runtime.cache.snapshot,
            cache=runtime.cache,
            services=runtime.services_for(self.principal),
            hub=runtime.hub,
            completed=runtime.completed,
            limits=runtime.limits,
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
        chosen = operation(query, name)
        self.tally.operations[operation_label(chosen.type)] += 1
        if chosen.error is not None:
            # Answered here: Strawberry's subscribe path raises on a syntax error with a
            # parser cache.
            error = dict(chosen.error)
            self.enqueue(protocols.error_frame(self.protocol, subscription_id, [error]))
            return
        if chosen.type in (OperationType.QUERY, OperationType.MUTATION):
            result = await schema.execute(
                query, variable_values=variables, context_value=self._context(), operation_name=name
            )
            encoded = orjson.dumps(process_result(result))
            payload_json = bounded(encoded, self.runtime.limits.max_response_bytes).decode()
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
        refusal = self.budgets.subscriptions.take(self.caller)
        if refusal is not None:
            self.enqueue(
                protocols.error_frame(self.protocol, subscription_id, [{"message": refusal}])
            )
            return
        subscription = _Subscription(self, subscription_id)
        subscription.namespaces = SUBSCRIPTIONS.namespaces(chosen, variables)
        self.subscriptions[subscription_id] = subscription
        context = self._context()
        subscription.group = self.fanout.join(
            SUBSCRIPTIONS.group_key(chosen, variables, self.principal.scope_key),
            subscription,
            lambda: schema.subscribe(
                query, variable_values=variables, context_value=context, operation_name=name
            ),
            functools.partial(SUBSCRIPTIONS.coalescing_key, context),
        )

    def forget(self, subscription: _Subscription) -> None:
        if self.subscriptions.get(subscription.id) is subscription:
            del self.subscriptions[subscription.id]
            self.budgets.subscriptions.give_back(self.caller)
        if subscription.group is not None:
            self.fanout.leave(subscription.group, subscription)
            subscription.group = None


def write_batch(writer: batching.FrameWriter, outbox: Outbox) -> bool:
    """Write the next ``SEND_BATCH`` frames of ``outbox`` in one write (encoded here when the
    writer takes frames as encoded); False if the connection is closed."""
    if writer.frames_as_encoded:
        return writer.write_frames(outbox.take_frames(SEND_BATCH)[0])
    return writer.write_texts(outbox.take(SEND_BATCH))


def still_allowed(
    watched: frozenset[str] | None, previous: access.Principal, current: access.Principal
) -> bool:
    """Whether a subscription made with ``previous``'s rights shows ``current`` nothing more
    than it may read, kind by kind (it delivers changes of ``watched`` namespaces; None: of
    any)."""
    if watched is not None and not all(current.can_read(namespace) for namespace in watched):
        return False
    return previous.reads_within(current, watched)
