"""WebSocket admission: connection and subscription budgets per caller and in total, the
handshake's ``Origin``, and that a closed connection leaves nothing behind.

The app runs in this process on uvicorn with serve's own WebSocket protocol, over real
sockets, so the test can read the server's budget counts (they must return to zero exactly)
and hold weak references to its connection objects (they must be freed once closed); clients
are real ``websockets`` clients.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import socket
import weakref
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
import uvicorn
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Subprotocol

from event_registry.app.auth import Authenticator
from event_registry.app.budgets import Budgets, BudgetSettings
from event_registry.app.http import Runtime, create_app
from event_registry.app.live.batching import BatchingWebSocketProtocol
from event_registry.app.live.connection import LiveConnection
from event_registry.app.origins import OriginPolicy
from event_registry.domain import access
from event_registry.hub.hub import Hub
from event_registry.store.caching import Cache
from tests.support.registry import eventually_async

PROTOCOL = Subprotocol("graphql-transport-ws")
SUBSCRIPTION = 'subscription { eventTypeChanges(namespace: "default") { kind } }'
TOKENS = {f"token-of-caller-{n}": f"caller-{n}" for n in range(4)}


def tokens_mode() -> Authenticator:
    everything = frozenset({"default"})
    principals = {
        token: access.Principal(name, everything, everything) for token, name in TOKENS.items()
    }
    return Authenticator("tokens", principals)


class Served:
    def __init__(self, url: str, budgets: Budgets) -> None:
        self.url = url
        self.budgets = budgets
        self.clients: list[ClientConnection] = []

    async def connect(
        self,
        *,
        token: str | None = None,
        origin: str | None = None,
        init: bool = True,
        init_token: str | None = None,
    ) -> ClientConnection:
        headers = {"authorization": f"Bearer {token}"} if token else None
        ws = await connect(
            self.url,
            subprotocols=[PROTOCOL],
            additional_headers=headers,
            origin=origin,  # type: ignore[arg-type]
        )
        self.clients.append(ws)
        if init:
            payload = {"token": init_token} if init_token else {}
            await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
            assert json.loads(await ws.recv()) == {"type": "connection_ack"}
        return ws

    async def settled(self) -> None:
        """Every client closed and the server's counts back to zero."""
        for ws in self.clients:
            await ws.close()

        async def zero() -> bool:
            return self.budgets.connections.held == 0 and self.budgets.subscriptions.held == 0

        await eventually_async(zero)


@contextlib.asynccontextmanager
async def serving(
    settings: BudgetSettings,
    *,
    authenticator: Authenticator | None = None,
    origins: Sequence[str] | None = None,
) -> AsyncIterator[Served]:
    cache = Cache()
    for kind in ("Namespace", "Broker", "EventType", "Trigger"):
        cache.replace(kind, [])
        cache.set_synced(kind, True)
    runtime = Runtime(
        cache=cache, authenticator=authenticator or Authenticator.open(), hub=Hub(cache)
    )
    budgets = Budgets(settings)
    app = create_app(runtime, budgets=budgets, origins=OriginPolicy.from_list(origins))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    sock.listen(256)
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off", ws=BatchingWebSocketProtocol)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    served = Served(f"ws://127.0.0.1:{port}/graphql", budgets)
    try:

        async def started() -> bool:
            return server.started

        await eventually_async(started)
        yield served
    finally:
        for ws in served.clients:
            await ws.close()
        server.should_exit = True
        await task
        sock.close()


async def subscribe(ws: ClientConnection, subscription_id: str) -> None:
    message = {"id": subscription_id, "type": "subscribe", "payload": {"query": SUBSCRIPTION}}
    await ws.send(json.dumps(message))


async def received(ws: ClientConnection) -> dict[str, Any]:
    """The next message that is not the server's keepalive ``ping``."""
    while True:
        message: dict[str, Any] = json.loads(await ws.recv())
        if message["type"] != "ping":
            return message


async def handled(ws: ClientConnection) -> None:
    """Wait until the server has handled every message sent on ``ws`` so far (it answers a
    ``ping`` after them); messages on different connections are handled in no set order."""
    await ws.send(json.dumps({"type": "ping"}))
    assert await received(ws) == {"type": "pong"}


async def refused_status(served: Served, **options: Any) -> InvalidStatus:
    with pytest.raises(InvalidStatus) as refused:
        await served.connect(**options)
    return refused.value


def message_of(refusal: InvalidStatus) -> str:
    body = json.loads(refusal.response.body or b"{}")
    message: str = body["errors"][0]["message"]
    return message


# connections ---------------------------------------------------------------------------------


async def test_a_caller_over_its_connection_budget_is_refused_429_at_the_handshake() -> None:
    async with serving(BudgetSettings(max_connections_per_caller=3)) as served:
        held = [await served.connect() for _ in range(3)]
        refusal = await refused_status(served)
        assert refusal.response.status_code == 429
        assert message_of(refusal) == (
            "too many connections for this caller (max 3, --max-connections-per-caller)"
        )
        assert served.budgets.connections.held == 3

        await held[0].close()

        async def accepted_again() -> ClientConnection | None:
            try:
                return await served.connect()
            except InvalidStatus:
                return None

        await eventually_async(accepted_again)
        await served.settled()


async def test_a_caller_opening_connections_faster_than_its_rate_is_refused_429() -> None:
    """A burst is let through; then new connections are paced per caller, even when the
    earlier ones were closed (a handshake flood), and another caller is not affected."""
    settings = BudgetSettings(max_connections_per_caller=2, connection_rate_per_caller=0.01)
    async with serving(settings, authenticator=tokens_mode()) as served:
        first, second = list(TOKENS)[:2]
        for _ in range(2):
            await (await served.connect(token=first)).close()
        refusal = await refused_status(served, token=first)
        assert refusal.response.status_code == 429
        assert message_of(refusal) == (
            "too many new connections from this caller (max 0.01/s, --connection-rate-per-caller)"
        )
        await served.connect(token=second)
        await served.settled()


async def test_the_total_connection_budget_applies_across_callers() -> None:
    settings = BudgetSettings(max_connections=3, max_connections_per_caller=2)
    async with serving(settings, authenticator=tokens_mode()) as served:
        tokens = list(TOKENS)
        await served.connect(token=tokens[0])
        await served.connect(token=tokens[0])
        await served.connect(token=tokens[1])
        refusal = await refused_status(served, token=tokens[2])
        assert refusal.response.status_code == 429
        assert "on this server (max 3, --max-connections)" in message_of(refusal)
        await served.settled()


async def test_a_token_sent_in_connection_init_is_counted_against_the_token() -> None:
    """Until ``connection_init`` the connection counts against its address; then against the
    token it names, and one over that token's budget is closed 4429."""
    settings = BudgetSettings(max_connections_per_caller=2)
    async with serving(settings, authenticator=tokens_mode()) as served:
        first, second = list(TOKENS)[:2]
        await served.connect(init_token=first)
        await served.connect(init_token=first)
        assert served.budgets.connections.held_by("token:caller-0") == 2
        assert served.budgets.connections.held_by("address:127.0.0.1") == 0
        third = await served.connect(init=False)
        await third.send(json.dumps({"type": "connection_init", "payload": {"token": first}}))
        with pytest.raises(ConnectionClosed) as closed:
            await third.recv()
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4429
        assert "--max-connections-per-caller" in closed.value.rcvd.reason
        await served.connect(init_token=second)  # another token: its own budget
        await served.settled()


async def test_a_handshake_with_a_valid_token_header_is_counted_against_the_token() -> None:
    settings = BudgetSettings(max_connections_per_caller=1)
    async with serving(settings, authenticator=tokens_mode()) as served:
        first, second = list(TOKENS)[:2]
        await served.connect(token=first)
        assert (await refused_status(served, token=first)).response.status_code == 429
        await served.connect(token=second)
        await served.settled()


# subscriptions -------------------------------------------------------------------------------


async def test_a_subscription_over_the_callers_budget_gets_an_error_and_the_connection_stays() -> (
    None
):
    async with serving(BudgetSettings(max_subscriptions_per_caller=2)) as served:
        ws = await served.connect()
        other = await served.connect()
        await subscribe(ws, "a")
        await subscribe(other, "b")
        await handled(other)
        await subscribe(ws, "c")
        error = await received(ws)
        assert error["type"] == "error"
        assert error["id"] == "c"
        assert error["payload"] == [
            {
                "message": "too many subscriptions for this caller "
                "(max 2, --max-subscriptions-per-caller)"
            }
        ]
        assert served.budgets.subscriptions.held == 2

        await ws.send(json.dumps({"id": "a", "type": "complete"}))
        await subscribe(ws, "d")  # handled after the complete: the count is back already
        await handled(ws)  # and no error for "d" before the pong
        assert served.budgets.subscriptions.held == 2
        await served.settled()


async def test_the_total_subscription_budget_applies_across_callers() -> None:
    settings = BudgetSettings(max_subscriptions=2)
    async with serving(settings, authenticator=tokens_mode()) as served:
        tokens = list(TOKENS)
        one = await served.connect(token=tokens[0])
        two = await served.connect(token=tokens[1])
        await subscribe(one, "1")
        await subscribe(one, "2")
        await handled(one)
        await subscribe(two, "3")
        error = await received(two)
        assert error["id"] == "3"
        assert "on this server (max 2, --max-subscriptions)" in error["payload"][0]["message"]
        await served.settled()


async def test_closing_a_connection_gives_back_its_subscriptions_and_frees_it() -> None:
    async with serving(BudgetSettings()) as served:
        ws = await served.connect()
        for index in range(5):
            await subscribe(ws, str(index))
        await handled(ws)
        assert served.budgets.subscriptions.held == 5
        gc.collect()
        connections = [o for o in gc.get_objects() if isinstance(o, LiveConnection)]
        assert len(connections) == 1
        freed = weakref.ref(connections[0])
        del connections

        await served.settled()

        async def collected() -> bool:
            gc.collect()
            return freed() is None

        await eventually_async(collected)


# handshakes ----------------------------------------------------------------------------------


async def test_a_foreign_origin_is_refused_403_and_loopback_or_none_are_not() -> None:
    async with serving(BudgetSettings()) as served:
        refusal = await refused_status(served, origin="http://evil.example")
        assert refusal.response.status_code == 403
        assert "--allowed-origins" in message_of(refusal)
        assert served.budgets.connections.held == 0
        await served.connect(origin="http://localhost:3000")
        await served.connect(origin=served.url.replace("ws://", "http://").removesuffix("/graphql"))
        await served.connect()
        await served.settled()


async def test_configured_origins_replace_the_loopback_default() -> None:
    async with serving(BudgetSettings(), origins=["https://app.example"]) as served:
        await served.connect(origin="https://app.example")
        refusal = await refused_status(served, origin="http://localhost:3000")
        assert refusal.response.status_code == 403
        await served.settled()


async def test_a_flood_of_handshakes_from_one_address_does_not_starve_other_callers() -> None:
    """200 simultaneous handshakes from one address that never send ``connection_init``: those
    over the address's budget are refused at once, and a caller with a token still gets in."""
    settings = BudgetSettings(max_connections_per_caller=20)
    async with serving(settings, authenticator=tokens_mode()) as served:

        async def flood_one() -> int:
            try:
                await served.connect(init=False)
            except InvalidStatus as refused:
                return refused.response.status_code
            return 101

        statuses = await asyncio.gather(*(flood_one() for _ in range(200)))
        assert sorted(set(statuses)) == [101, 429]
        assert statuses.count(101) == 20
        await served.connect(token=next(iter(TOKENS)))
        await served.settled()
