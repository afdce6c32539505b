"""Graceful drain: what ``serve`` does between SIGTERM and its exit.

In order, so that clients of a replica being replaced move to another one and lose nothing:

1. ``/readyz`` answers 503 (:attr:`Drain.started`) and the listening socket closes (done by
   the server, :mod:`.serving`): no new connection is accepted;
2. every WebSocket is closed with 1001 (going away) and a reason saying how to resume
   (:meth:`Drain.go_away`); one opened in the meantime is closed the same way as soon as it
   is tracked. Subscription cursors are valid on every replica sharing the cursor key, so a
   client resuming elsewhere with its last cursor gets exactly what it has not seen (frames
   still queued here are simply sent again there);
3. in-flight HTTP requests finish (uvicorn's graceful shutdown), for at most the drain
   timeout; then the process stops its informers and exits 0.

Closing a WebSocket never waits on the client for long: each close is bounded
(:meth:`~.live.connection.LiveConnection.close`, one second), and all are closed at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Final, Protocol

from ..graphql.live import SUBSCRIPTIONS

GOING_AWAY: Final = 1001
REASON: Final = f"server going away: reconnect, {SUBSCRIPTIONS.resume_hint}"
"""The close reason (under the 123 bytes a close frame allows)."""


class Closable(Protocol):
    async def close(self, code: int, reason: str) -> None: ...


class Drain:
    """Whether this process is going away, and the WebSockets to tell when it does."""

    def __init__(self) -> None:
        self.started = False
        self._open: set[Closable] = set()
        self._closing: set[asyncio.Task[None]] = set()

    @contextlib.contextmanager
    def tracking(self, connection: Closable) -> Iterator[None]:
        """Track ``connection`` while the block runs (closed at once if draining started)."""
        self._open.add(connection)
        if self.started:
            self._close_soon(connection)
        try:
            yield
        finally:
            self._open.discard(connection)

    @property
    def open_connections(self) -> int:
        return len(self._open)

    async def go_away(self) -> int:
        """Start draining and close every tracked WebSocket with 1001; how many were open."""
        self.started = True
        connections = list(self._open)
        await asyncio.gather(
            *(connection.close(GOING_AWAY, REASON) for connection in connections),
            return_exceptions=True,
        )
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)
        return len(connections)

    def _close_soon(self, connection: Closable) -> None:
        task = asyncio.get_running_loop().create_task(connection.close(GOING_AWAY, REASON))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)
