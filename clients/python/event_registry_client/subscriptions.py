"""Subscriptions that survive dropped connections.

:func:`follow` runs one subscription as an async iterator of typed events and reconnects when
the connection drops (:class:`~event_registry_client.websocket.Dropped`), waiting
:class:`~event_registry_client.backoff.Backoff` delays and yielding a
:class:`~event_registry_client.changes.Reconnecting` before each wait. What a consumer sees:

- ``eventTypeChanges`` (resumable): every change exactly once, in order, across reconnects.
  The iterator keeps the cursor of the last event it yielded and resumes with ``since`` from
  it, so the server replays exactly what came after. When the server answers
  ``RESYNC_REQUIRED`` (the cursor is older than its retained history, from before a restart,
  or the subscription fell behind), or the connection dropped before the initial set
  completed, the iterator yields :class:`~event_registry_client.changes.ResyncRequired` and
  re-queries: it resubscribes with ``includeExisting``, so the current state follows as
  ``EXISTING`` events and one ``INITIAL_SET_COMPLETE``, then live changes.
- ``eventTypeReadinessChanged`` and ``brokerChanges`` have no ``since``: after a reconnect
  the iterator yields ``ResyncRequired`` (changes in between are unknown) and goes on live;
  after the server's ``RESYNC_REQUIRED`` (which ends the subscription) it yields
  ``ResyncRequired`` and subscribes again.

A failure a reconnect cannot fix (a refused token, an invalid cursor, a protocol error) is
raised as a :class:`~event_registry_client.errors.RegistryError`. So is a failure of the very
first connection, unless ``retry_first`` is set: a command pointed at a wrong URL fails at
once rather than retrying forever. ``max_attempts`` bounds consecutive failed reconnects
(None: no bound); a successful subscribe resets the count.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from . import errors
from .changes import ChangeKind, EventTypeChange, Reconnecting, ResyncRequired
from .models import Json
from .reconnection import Reconnection, Target
from .websocket import Dropped, SubscriptionSocket

E = TypeVar("E")


@dataclass
class Resumption:
    """The variables of the next subscribe for a resumable ``eventTypeChanges``."""

    include_existing: bool
    cursor: str | None
    initial_pending: bool

    def variables(self, base: Mapping[str, Any]) -> Json:
        if self.cursor is not None:
            return {**base, "includeExisting": False, "since": self.cursor}
        return {**base, "includeExisting": self.include_existing, "since": None}

    def resync(self) -> None:
        """Re-query: the whole current state, then live changes."""
        self.include_existing, self.cursor, self.initial_pending = True, None, True

    def passed(self, change: EventTypeChange) -> None:
        """``change`` was yielded: resume after it (except inside the initial set)."""
        if change.kind is ChangeKind.INITIAL_SET_COMPLETE:
            self.initial_pending = False
        if not self.initial_pending:
            self.cursor = change.cursor


async def event_type_changes(
    target: Target,
    document: str,
    variables: Mapping[str, Any],
    *,
    include_existing: bool,
    since: str | None,
    reconnection: Reconnection,
) -> AsyncIterator[EventTypeChange | ResyncRequired | Reconnecting]:
    """``eventTypeChanges`` resumed with ``since`` across reconnects (see the module doc)."""
    state = Resumption(include_existing, since, include_existing and since is None)
    attempt = 0
    connected_before = False
    while True:
        try:
            socket = await SubscriptionSocket.open(
                target.url,
                document,
                state.variables(variables),
                token=target.token,
                timeout=reconnection.open_timeout,
            )
        except Dropped as dropped:
            if not connected_before and not reconnection.retry_first:
                raise errors.UnreachableError(str(dropped)) from dropped
            attempt += 1
            notice = _reconnecting(reconnection, attempt, str(dropped))
            yield notice
            await asyncio.sleep(notice.delay)
            continue
        connected_before = True
        attempt = 0
        try:
            while (payload := await socket.next_payload()) is not None:
                change = _decode(payload, "eventTypeChanges", EventTypeChange.from_json)
                if change is None:
                    state.resync()
                    yield ResyncRequired(_error_text(payload))
                    break
                if change.kind is ChangeKind.RESYNC_REQUIRED:
                    state.resync()
                    yield ResyncRequired(change.message or "query again", change.cursor)
                    break
                yield change
                state.passed(change)
            else:
                return
        except Dropped as dropped:
            if state.initial_pending:
                state.resync()
                yield ResyncRequired("the connection dropped before the initial set completed")
            attempt += 1
            notice = _reconnecting(reconnection, attempt, str(dropped))
            yield notice
            await asyncio.sleep(notice.delay)
        finally:
            await socket.close()


async def live_changes(
    target: Target,
    document: str,
    variables: Mapping[str, Any],
    root: str,
    decode: Callable[[Json], E],
    *,
    reconnection: Reconnection,
) -> AsyncIterator[E | ResyncRequired | Reconnecting]:
    """A subscription without ``since``: reconnects, then says ResyncRequired."""
    attempt = 0
    connected_before = False
    owed_resync = False
    while True:
        try:
            socket = await SubscriptionSocket.open(
                target.url,
                document,
                variables,
                token=target.token,
                timeout=reconnection.open_timeout,
            )
        except Dropped as dropped:
            if not connected_before and not reconnection.retry_first:
                raise errors.UnreachableError(str(dropped)) from dropped
            attempt += 1
            notice = _reconnecting(reconnection, attempt, str(dropped))
            yield notice
            await asyncio.sleep(notice.delay)
            continue
        if owed_resync:
            yield ResyncRequired("reconnected: changes while disconnected are unknown")
        connected_before = True
        owed_resync = False
        attempt = 0
        try:
            while (payload := await socket.next_payload()) is not None:
                event = _decode(payload, root, decode)
                if event is None:
                    yield ResyncRequired(_error_text(payload))
                    continue
                if getattr(event, "kind", None) is ChangeKind.RESYNC_REQUIRED:
                    # the server ends such a subscription: subscribe again, live
                    message = getattr(event, "message", None) or "RESYNC_REQUIRED: query again"
                    yield ResyncRequired(str(message), getattr(event, "cursor", None))
                    break
                yield event
            else:
                return
        except Dropped as dropped:
            owed_resync = True
            attempt += 1
            notice = _reconnecting(reconnection, attempt, str(dropped))
            yield notice
            await asyncio.sleep(notice.delay)
        finally:
            await socket.close()


def _decode(payload: Json, root: str, decode: Callable[[Json], E]) -> E | None:
    """The event in a ``next`` payload; None when it carries only errors (an event the
    server could not send, e.g. over its response size limit: one was missed)."""
    data = payload.get("data")
    if isinstance(data, dict) and isinstance(data.get(root), dict):
        return decode(data[root])
    return None


def _error_text(payload: Json) -> str:
    messages = [str(e.get("message")) for e in payload.get("errors") or () if isinstance(e, dict)]
    return "an event was lost: " + ("; ".join(messages) or "no data")


def _reconnecting(reconnection: Reconnection, attempt: int, reason: str) -> Reconnecting:
    """The notice before reconnect ``attempt``, or UnreachableError past ``max_attempts``."""
    if reconnection.max_attempts is not None and attempt > reconnection.max_attempts:
        raise errors.UnreachableError(f"gave up after {attempt - 1} reconnects: {reason}")
    return Reconnecting(attempt, reconnection.backoff.delay(attempt), reason)
