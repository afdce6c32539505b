"""Graceful drain: /readyz turns 503 and every WebSocket is told to go away with 1001."""

from __future__ import annotations

import asyncio

import httpx

from event_registry.app import draining
from event_registry.app.auth import Authenticator
from event_registry.app.http import Runtime, create_app
from event_registry.store.caching import KINDS, Cache


class Connection:
    """Stands in for a LiveConnection: records how it was closed."""

    def __init__(self) -> None:
        self.closed: list[tuple[int, str]] = []

    async def close(self, code: int, reason: str) -> None:
        await asyncio.sleep(0)
        self.closed.append((code, reason))


async def test_going_away_closes_every_tracked_connection_with_1001_and_how_to_resume() -> None:
    drain = draining.Drain()
    first, second, gone = Connection(), Connection(), Connection()
    with drain.tracking(first), drain.tracking(second):
        with drain.tracking(gone):
            pass
        assert drain.open_connections == 2
        assert await drain.go_away() == 2
    assert drain.started
    assert first.closed == second.closed == [(1001, draining.REASON)]
    assert gone.closed == []
    assert "since" in draining.REASON
    assert len(draining.REASON.encode()) <= 123  # what a close frame can carry


async def test_a_connection_arriving_while_draining_is_closed_at_once() -> None:
    drain = draining.Drain()
    await drain.go_away()
    late = Connection()
    with drain.tracking(late):
        for _ in range(3):  # the close runs as its own task
            await asyncio.sleep(0)
    assert late.closed == [(1001, draining.REASON)]


async def test_readyz_answers_503_once_draining() -> None:
    cache = Cache()
    for kind in KINDS:
        cache.set_synced(kind, True)
    runtime = Runtime(cache=cache, authenticator=Authenticator.open())
    transport = httpx.ASGITransport(app=create_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://registry") as client:
        ready = await client.get("/readyz")
        runtime.drain.started = True
        draining_reply = await client.get("/readyz")
    assert (ready.status_code, ready.json()["draining"]) == (200, False)
    assert (draining_reply.status_code, draining_reply.json()["draining"]) == (503, True)
    assert draining_reply.json()["synced"] is True
