"""GraphQL subscriptions end to end, with clients nobody here wrote.

A real ``event-registry serve`` (tokens mode, embedded control plane and readiness controller)
is fed through the PyPI kubectl and GraphQL mutations, and watched through:

- the npm ``graphql-ws`` client (graphql-transport-ws over ``ws``), run by
  ``subscriptions/subscribe.mjs`` in its own Node process, one JSON line per payload;
- the ``gql`` Python client (``WebsocketsTransport``) over both graphql-transport-ws and the
  legacy graphql-ws (subscriptions-transport-ws) protocol;
- the ``websockets`` library, raw, for protocol conformance and for a client that stalls.

Tokens: ``ALPHA_READER`` reads ``alpha``; ``ALPHA_BETA_READER`` reads ``alpha`` and ``beta``;
``WRITER`` reads and writes every namespace the tests use. Each test works in namespaces of
its own where it can, so the module shares one server.

The 410 relist path needs a registry whose watches can be made to expire: a separate
``event-registry controlplane`` (history of 5 changes) reached by the registry through a TCP
proxy in this process; the proxy cuts the registry off, the cluster changes and compacts,
the proxy lets it back, and the registry's watch resumes from a compacted resourceVersion
(410 Expired → relist).

Nothing sleeps for long: everything is polled with a deadline. The keepalive and
``connection_init`` timeout checks use connections opened by the first test, so their 10 s
and 15 s server defaults elapse while the other tests run.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from gql import Client, GraphQLRequest
from gql.client import AsyncClientSession
from gql.transport.websockets import WebsocketsTransport
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.support.controlplane import ControlPlaneProcess
from tests.support.registry import (
    Json,
    RegistryProcess,
    broker,
    data_of,
    eventtype,
    eventually,
    post_graphql,
    write_tokens,
)

T = TypeVar("T")

CLIENTS = Path(__file__).resolve().parent / "subscriptions"
SUBSCRIBE_MJS = CLIENTS / "subscribe.mjs"

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"

ALPHA, BETA = "alpha", "beta"
FLOW = "flow"  # includeExisting under concurrent writes
RESUME = "resume"  # since
BULK = "bulk"  # the stalled client
WIRE = "wire"  # protocol conformance
NAMESPACES = (ALPHA, BETA, FLOW, RESUME, BULK, WIRE)

ALPHA_READER = "alpha-reader-token"
ALPHA_BETA_READER = "alpha-beta-reader-token"
WRITER = "writer-token-every-namespace"
TOKENS = [
    {"token": ALPHA_READER, "name": "alpha-reader", "namespaces": {ALPHA: ["read"]}},
    {
        "token": ALPHA_BETA_READER,
        "name": "alpha-beta-reader",
        "namespaces": {ALPHA: ["read"], BETA: ["read"]},
    },
    {"token": WRITER, "name": "writer", "namespaces": {ns: ["write"] for ns in NAMESPACES}},
]

DELIVER_WITHIN = 10.0
"""Seconds any awaited delivery gets (generous: the whole stack shares two CPUs)."""

INIT_TIMEOUT = 10.0  # LiveSettings.init_timeout; not a serve flag
KEEPALIVE_INTERVAL = 15.0  # LiveSettings.keepalive_interval; not a serve flag
MAX_SUBSCRIPTIONS = 100  # LiveSettings.max_subscriptions; not a serve flag


# node and npm --------------------------------------------------------------------------------


def node_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(
            f"`{name}` is not on PATH: the subscription e2e tests need Node.js 20+ and npm "
            "(e.g. `apt-get install nodejs npm`) to run the npm graphql-ws client"
        )
    return found


@pytest.fixture(scope="module")
def node() -> str:
    """Node, with ``subscriptions/``'s dependencies installed from its lockfile (``npm ci``
    when ``node_modules`` is missing or older than the lockfile)."""
    node = node_tool("node")
    npm = node_tool("npm")
    installed = CLIENTS / "node_modules" / ".package-lock.json"
    lockfile = CLIENTS / "package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lockfile.stat().st_mtime:
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=CLIENTS,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if result.returncode != 0:
            pytest.fail(f"npm ci failed in {CLIENTS}:\n{result.stdout}\n{result.stderr}")
    return node


# subscribers ---------------------------------------------------------------------------------


def ws_url(url: str) -> str:
    return re.sub(r"^http", "ws", url)


@dataclass(frozen=True)
class Delivery:
    at: float
    """Wall-clock time of receipt (seconds since the epoch)."""
    payload: Json
    """The GraphQL result: ``data`` and/or ``errors``."""


@dataclass
class Subscriber:
    """One subscription of one client; collects what the server delivers, in order."""

    label: str
    deliveries: list[Delivery] = field(default_factory=list)
    connected: bool = False
    closed: tuple[int | None, str] | None = None
    failures: list[str] = field(default_factory=list)
    completed: bool = False

    def changes(self, root: str) -> list[Json]:
        """The root field's value of every payload with data."""
        found: list[Json] = []
        for delivery in self.deliveries:
            data = delivery.payload.get("data")
            if isinstance(data, dict) and isinstance(data.get(root), dict):
                found.append(data[root])
        return found

    def mentions(self, name: str) -> bool:
        needle = json.dumps(name)
        return any(needle in json.dumps(d.payload) for d in self.deliveries)

    @property
    def ended(self) -> bool:
        return self.completed or self.closed is not None or bool(self.failures)

    async def until(
        self, predicate: Callable[[], object], what: str, timeout: float = DELIVER_WITHIN
    ) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{self.label}: {what} not within {timeout}s; received "
                    f"{[d.payload for d in self.deliveries][-10:]}, closed={self.closed}, "
                    f"failures={self.failures}{self.diagnostics()}"
                )
            await asyncio.sleep(0.02)

    def diagnostics(self) -> str:
        return ""

    async def stop(self) -> None:
        raise NotImplementedError


class NodeSubscriber(Subscriber):
    """``node subscribe.mjs``: the npm graphql-ws client in its own process."""

    process: asyncio.subprocess.Process | None = None
    _reader: asyncio.Task[None] | None = None
    _stderr: asyncio.Task[bytes] | None = None

    async def start(
        self, node: str, url: str, token: str | None, query: str, variables: Json | None
    ) -> NodeSubscriber:
        self.process = await asyncio.create_subprocess_exec(
            node,
            str(SUBSCRIBE_MJS),
            ws_url(url),
            token or "-",
            query,
            json.dumps(variables) if variables is not None else "-",
            cwd=CLIENTS,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            limit=1 << 24,
        )
        assert self.process.stdout is not None and self.process.stderr is not None
        self._reader = asyncio.create_task(self._read(self.process.stdout))
        self._stderr = asyncio.create_task(self.process.stderr.read())
        await self.until(lambda: self.connected or self.ended, "connection_ack")
        return self

    async def _read(self, stdout: asyncio.StreamReader) -> None:
        async for line in stdout:
            record = json.loads(line)
            event = record["event"]
            if event == "connected":
                self.connected = True
            elif event == "next":
                self.deliveries.append(Delivery(record["t"] / 1000, record["payload"]))
            elif event == "complete":
                self.completed = True
            elif event == "closed":
                self.closed = (record.get("code"), str(record.get("reason") or ""))
            else:
                self.failures.append(json.dumps(record.get("error")))

    def diagnostics(self) -> str:
        if self._stderr is not None and self._stderr.done():
            return f"\nstderr: {self._stderr.result().decode(errors='replace')[-2000:]}"
        return ""

    async def stop(self) -> None:
        if self.process is None:
            return
        if self.process.returncode is None:
            self.process.terminate()
        try:
            async with asyncio.timeout(10):
                await self.process.wait()
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
        for task in (self._reader, self._stderr):
            if task is not None:
                with contextlib.suppress(Exception):
                    await task
        self.process = None


class GqlSubscriber(Subscriber):
    """The ``gql`` client's ``WebsocketsTransport`` with one subprotocol, in a task."""

    _task: asyncio.Task[None] | None = None

    async def start(
        self,
        url: str,
        token: str | None,
        query: str,
        variables: Json | None,
        *,
        subprotocol: str,
        token_in_header: bool = False,
    ) -> GqlSubscriber:
        headers = {"Authorization": f"Bearer {token}"} if token and token_in_header else None
        init_payload = {"token": token} if token and not token_in_header else {}
        transport = WebsocketsTransport(
            url=ws_url(url),
            headers=headers,
            init_payload=init_payload,
            subprotocols=[subprotocol],
            close_timeout=2,
        )
        self._task = asyncio.create_task(self._run(transport, query, variables))
        await self.until(lambda: self.connected or self.ended, "connection_ack")
        return self

    async def _run(
        self, transport: WebsocketsTransport, query: str, variables: Json | None
    ) -> None:
        try:
            async with Client(transport=transport) as session:
                assert isinstance(session, AsyncClientSession)
                self.connected = True
                request = GraphQLRequest(query, variable_values=variables)
                async for result in session.subscribe(request, get_execution_result=True):
                    payload: Json = {"data": result.data}
                    if result.errors:
                        payload["errors"] = result.errors
                    self.deliveries.append(Delivery(time.time(), payload))
            self.completed = True
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self.failures.append(f"{type(error).__name__}: {error}")

    async def stop(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None


class Subscribers:
    """Starts subscribers for one test and stops every one of them at its end."""

    def __init__(self, node: str, url: str) -> None:
        self._node = node
        self.url = url
        self._started: list[Subscriber] = []

    async def node(
        self,
        label: str,
        token: str | None,
        query: str,
        variables: Json | None = None,
        *,
        url: str | None = None,
    ) -> NodeSubscriber:
        subscriber = NodeSubscriber(label)
        self._started.append(subscriber)
        return await subscriber.start(self._node, url or self.url, token, query, variables)

    async def gql(
        self,
        label: str,
        token: str | None,
        query: str,
        variables: Json | None = None,
        *,
        subprotocol: str = TRANSPORT_WS,
        token_in_header: bool = False,
        url: str | None = None,
    ) -> GqlSubscriber:
        subscriber = GqlSubscriber(label)
        self._started.append(subscriber)
        return await subscriber.start(
            url or self.url,
            token,
            query,
            variables,
            subprotocol=subprotocol,
            token_in_header=token_in_header,
        )

    async def close(self) -> None:
        for subscriber in self._started:
            await subscriber.stop()
        self._started.clear()


# raw websockets --------------------------------------------------------------------------------


async def open_raw(
    url: str,
    subprotocol: str = TRANSPORT_WS,
    *,
    headers: Mapping[str, str] | None = None,
    sock: socket.socket | None = None,
    max_queue: int | None = 64,
) -> ClientConnection:
    return await connect(
        ws_url(url),
        subprotocols=[subprotocol],  # type: ignore[list-item]
        additional_headers=dict(headers) if headers else None,
        sock=sock,
        max_queue=max_queue,
        max_size=None,
        ping_interval=None,
        close_timeout=2,
        compression=None,
    )


async def send(ws: ClientConnection, message: Json | str) -> None:
    await ws.send(message if isinstance(message, str) else json.dumps(message))


async def receive(ws: ClientConnection, timeout: float = DELIVER_WITHIN) -> Json:
    async with asyncio.timeout(timeout):
        message = json.loads(await ws.recv())
    assert isinstance(message, dict), message
    return message


async def initialise(ws: ClientConnection, token: str | None = WRITER) -> Json:
    """connection_init → connection_ack (and, for the legacy protocol, the first ``ka``)."""
    await send(ws, {"type": "connection_init", "payload": {"token": token} if token else {}})
    ack = await receive(ws)
    assert ack == {"type": "connection_ack"}, ack
    return ack


async def close_of(ws: ClientConnection, timeout: float = DELIVER_WITHIN) -> tuple[int, str]:
    """Read until the server closes; its close code and reason (frames read are dropped)."""
    with contextlib.suppress(ConnectionClosed):
        async with asyncio.timeout(timeout):
            while True:
                await ws.recv()
    assert ws.close_code is not None, "the connection ended without a close frame"
    return ws.close_code, ws.close_reason or ""


async def frames_until(
    ws: ClientConnection, subscription_id: str, timeout: float = DELIVER_WITHIN
) -> list[Json]:
    """Every frame up to and including the one ending ``subscription_id`` (complete/error)."""
    frames: list[Json] = []
    while True:
        frame = await receive(ws, timeout)
        frames.append(frame)
        if frame.get("id") == subscription_id and frame["type"] in ("complete", "error"):
            return frames


# writing -----------------------------------------------------------------------------------------


async def kubectl(
    registry: RegistryProcess | ControlPlaneProcess, *args: str, input: str = ""
) -> str:
    """The PyPI kubectl in a thread (the event loop keeps serving the clients meanwhile)."""
    result = await asyncio.to_thread(
        registry.kubectl, *args, input=input or None, check=True, timeout=60
    )
    return result.stdout


async def graphql(url: str, query: str, token: str | None = WRITER, **variables: Any) -> Json:
    """One GraphQL POST in a thread; its ``data`` (no errors allowed)."""
    return data_of(await asyncio.to_thread(post_graphql, url, query, variables or None, token))


REGISTER = """
mutation Register($input: RegisterEventTypeInput!) {
  registerEventType(input: $input) {
    __typename
    ... on ValidationFailed { message errors { field message } }
  }
}
"""

DELETE = """
mutation Delete($ns: String!, $name: String!) { deleteEventType(namespace: $ns, name: $name) {
  __typename } }
"""


async def register(url: str, namespace: str, name: str, **fields: Any) -> None:
    data = await graphql(
        url,
        REGISTER,
        input={"namespace": namespace, "name": name, "type": f"dev.example.{name}", **fields},
    )
    assert data["registerEventType"]["__typename"] == "EventTypeRegistered", data


async def delete(url: str, namespace: str, name: str) -> None:
    data = await graphql(url, DELETE, ns=namespace, name=name)
    assert data["deleteEventType"]["__typename"] == "Deleted", data


async def seen_by_all(subscribers: Sequence[Subscriber], name: str) -> None:
    for subscriber in subscribers:
        await subscriber.until(lambda s=subscriber: s.mentions(name), f"a payload about {name}")  # type: ignore[misc]


async def sentinel(url: str, namespace: str, subscribers: Sequence[Subscriber]) -> str:
    """Register a throwaway EventType (on no Broker) and wait until every subscriber has
    been told about it: from then on their subscriptions are certainly live."""
    name = f"sentinel-{secrets.token_hex(3)}"
    await register(url, namespace, name)
    await seen_by_all(subscribers, name)
    return name


def patch_broker_ready(status: str, reason: str | None = None) -> str:
    condition: Json = {"type": "Ready", "status": status}
    if reason is not None:
        condition["reason"] = reason
    return json.dumps({"status": {"conditions": [condition]}})


async def set_broker_ready(
    registry: RegistryProcess, namespace: str, name: str, status: str, reason: str | None = None
) -> None:
    await kubectl(
        registry,
        "patch",
        "brokers.eventing.knative.dev",
        name,
        "-n",
        namespace,
        "--subresource=status",
        "--type=merge",
        "-p",
        patch_broker_ready(status, reason),
    )


# the registry ---------------------------------------------------------------------------------


ORDERS, PAYMENTS, AUDITS = "orders-placed", "payments-received", "audits-written"
"""alpha's EventTypes: two on Broker ``default``, one on Broker ``other``."""


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryProcess]:
    """``event-registry serve`` in tokens mode with alpha's Brokers and EventTypes, all
    consumable."""
    workdir = tmp_path_factory.mktemp("subscriptions")
    tokens = write_tokens(workdir / "tokens.yaml", TOKENS)
    running = RegistryProcess(workdir / "registry", tokens_file=tokens)
    try:
        running.start()
        running.wait_ready()
        for namespace in NAMESPACES:
            running.kubectl("create", "namespace", namespace, check=True)
        documents = [
            broker("default", ALPHA),
            broker("other", ALPHA),
            broker("default", BETA),
            broker("default", BULK),
            eventtype(ORDERS, ALPHA, type="com.example.order.placed", broker="default"),
            eventtype(PAYMENTS, ALPHA, type="com.example.payment.received", broker="default"),
            eventtype(AUDITS, ALPHA, type="com.example.audit.written", broker="other"),
        ]
        eventually(lambda: running.apply(*documents), timeout=30, interval=0.25)

        def consumable() -> bool:
            data = data_of(
                running.query(
                    f'{{ eventTypes(namespace: "{ALPHA}") {{ nodes {{ name consumable }} }} }}',
                    token=ALPHA_READER,
                )
            )
            shown = {n["name"]: n["consumable"] for n in data["eventTypes"]["nodes"]}
            return shown == {ORDERS: True, PAYMENTS: True, AUDITS: True}

        eventually(consumable, timeout=30, interval=0.1)
        yield running
    except BaseException:
        print(running.output())
        raise
    finally:
        running.stop()


@pytest.fixture
async def subscribers(node: str, registry: RegistryProcess) -> AsyncIterator[Subscribers]:
    opened = Subscribers(node, registry.url)
    try:
        yield opened
    finally:
        await opened.close()


@dataclass
class LongConnections:
    """Connections opened early and left alone, for the server's timers."""

    opened_at: float
    uninitialised: ClientConnection
    idle: ClientConnection
    idle_frames: list[tuple[float, Json]]
    reader: asyncio.Task[None]


@pytest.fixture(scope="module")
async def long_connections(registry: RegistryProcess) -> AsyncIterator[LongConnections]:
    """One graphql-transport-ws connection that never sends connection_init, one that is
    initialised and then only listens (its frames are recorded with their times)."""
    uninitialised = await open_raw(registry.url)
    idle = await open_raw(registry.url)
    await initialise(idle)
    frames: list[tuple[float, Json]] = []

    async def record() -> None:
        with contextlib.suppress(ConnectionClosed):
            async for message in idle:
                frames.append((time.monotonic(), json.loads(message)))

    reader = asyncio.create_task(record())
    connections = LongConnections(time.monotonic(), uninitialised, idle, frames, reader)
    try:
        yield connections
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
        await uninitialised.close()
        await idle.close()


# readiness flips ----------------------------------------------------------------------------


READINESS = """
subscription Readiness($namespace: String) {
  eventTypeReadinessChanged(namespace: $namespace) {
    kind cause reason previousReady ready previousConsumable consumable cursor
    eventType { namespace name consumable broker { name ready } }
  }
}
"""


def broker_caused(subscriber: Subscriber) -> list[Json]:
    return [
        change
        for change in subscriber.changes("eventTypeReadinessChanged")
        if change["cause"] == "Broker"
    ]


async def test_broker_readiness_flip_reaches_every_subscriber(
    registry: RegistryProcess,
    subscribers: Subscribers,
    long_connections: LongConnections,
) -> None:
    """A Broker's status patched to not ready (and back) tells every subscriber of its
    EventTypes, whatever the client and protocol: one event per affected EventType."""
    alpha = {"namespace": ALPHA}
    everyone = [
        await subscribers.node("node-1 (alpha token)", ALPHA_READER, READINESS, alpha),
        await subscribers.node("node-2 (alpha token)", ALPHA_READER, READINESS, alpha),
        await subscribers.node("node-3 (alpha token, every namespace)", ALPHA_READER, READINESS),
        await subscribers.node("node-4 (alpha+beta token)", ALPHA_BETA_READER, READINESS, alpha),
        await subscribers.gql(
            "gql transport-ws (alpha token)",
            ALPHA_READER,
            READINESS,
            alpha,
            subprotocol=TRANSPORT_WS,
        ),
        await subscribers.gql(
            "gql transport-ws (alpha+beta token in the handshake header)",
            ALPHA_BETA_READER,
            READINESS,
            alpha,
            subprotocol=TRANSPORT_WS,
            token_in_header=True,
        ),
        await subscribers.gql(
            "gql legacy graphql-ws (alpha+beta token)",
            ALPHA_BETA_READER,
            READINESS,
            alpha,
            subprotocol=LEGACY_WS,
        ),
        await subscribers.gql(
            "gql legacy graphql-ws (alpha token, every namespace)",
            ALPHA_READER,
            READINESS,
            subprotocol=LEGACY_WS,
        ),
    ]
    await sentinel(registry.url, ALPHA, everyone)

    await set_broker_ready(registry, ALPHA, "default", "False", "Testing")
    for subscriber in everyone:
        await subscriber.until(lambda s=subscriber: len(broker_caused(s)) >= 2, "two flips")  # type: ignore[misc]

    await set_broker_ready(registry, ALPHA, "default", "True")
    for subscriber in everyone:
        await subscriber.until(lambda s=subscriber: len(broker_caused(s)) >= 4, "two flips back")  # type: ignore[misc]

    # A last change proves that nothing else was on its way.
    await sentinel(registry.url, ALPHA, everyone)
    for subscriber in everyone:
        flips = broker_caused(subscriber)
        down = sorted(flips[:2], key=lambda change: str(change["eventType"]["name"]))
        up = sorted(flips[2:], key=lambda change: str(change["eventType"]["name"]))
        assert len(flips) == 4, (subscriber.label, flips)
        for change, name in zip(down, (ORDERS, PAYMENTS), strict=True):
            assert {k: v for k, v in change.items() if k != "cursor"} == {
                "kind": "UPDATED",
                "cause": "Broker",
                "reason": "Testing",
                "previousReady": True,
                "ready": True,
                "previousConsumable": True,
                "consumable": False,
                "eventType": {
                    "namespace": ALPHA,
                    "name": name,
                    "consumable": False,
                    "broker": {"name": "default", "ready": False},
                },
            }, subscriber.label
        for change, name in zip(up, (ORDERS, PAYMENTS), strict=True):
            assert change["kind"] == "UPDATED", subscriber.label
            assert change["cause"] == "Broker", subscriber.label
            assert (change["previousConsumable"], change["consumable"]) == (False, True)
            assert change["eventType"] == {
                "namespace": ALPHA,
                "name": name,
                "consumable": True,
                "broker": {"name": "default", "ready": True},
            }, subscriber.label
        names = {
            str(c["eventType"]["name"]) for c in subscriber.changes("eventTypeReadinessChanged")
        }
        assert AUDITS not in names, f"{subscriber.label}: an EventType of another Broker flipped"
        cursors = [str(c["cursor"]) for c in flips]
        assert len(set(cursors)) == 4, (subscriber.label, cursors)
    # Every client saw the same events (the same cursors) for the same subscription.
    assert len({tuple(str(c["cursor"]) for c in broker_caused(s)) for s in everyone}) == 1


# includeExisting under concurrent writes ----------------------------------------------------


CHANGES = """
subscription Changes($namespace: String, $includeExisting: Boolean!, $since: String) {
  eventTypeChanges(namespace: $namespace, includeExisting: $includeExisting, since: $since) {
    kind cursor message filterTransition
    eventType { namespace name ready labels { key value } }
  }
}
"""


def kinds_and_names(subscriber: Subscriber) -> list[tuple[str, str | None]]:
    return [
        (str(c["kind"]), c["eventType"]["name"] if c["eventType"] else None)
        for c in subscriber.changes("eventTypeChanges")
    ]


async def test_include_existing_has_no_gap_and_no_duplicate_under_concurrent_writes(
    registry: RegistryProcess, subscribers: Subscribers
) -> None:
    """EventTypes are registered one after another while clients subscribe with
    includeExisting: each EventType reaches each client exactly once, as EXISTING or as
    ADDED, and INITIAL_SET_COMPLETE comes once, after every EXISTING."""
    names = [f"flow-{index:02d}" for index in range(40)]
    written: list[str] = []

    async def write_all() -> None:
        for name in names:
            await register(registry.url, FLOW, name)
            written.append(name)

    writer = asyncio.create_task(write_all())
    try:
        deadline = time.monotonic() + 30
        while len(written) < 12:
            assert time.monotonic() < deadline and not writer.done(), "the writes stalled"
            await asyncio.sleep(0.01)
        variables = {"namespace": FLOW, "includeExisting": True}
        clients = await asyncio.gather(
            subscribers.node("node", WRITER, CHANGES, variables),
            subscribers.gql("gql transport-ws", WRITER, CHANGES, variables),
            subscribers.gql("gql legacy", WRITER, CHANGES, variables, subprotocol=LEGACY_WS),
        )
        await writer
    finally:
        if not writer.done():
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer

    def introduced(subscriber: Subscriber) -> list[str]:
        return [
            name
            for kind, name in kinds_and_names(subscriber)
            if kind in ("EXISTING", "ADDED") and name is not None
        ]

    for subscriber in clients:
        await subscriber.until(
            lambda s=subscriber: set(introduced(s)) >= set(names), "every EventType"  # type: ignore[misc]
        )
        # Then one more change, so anything still in flight for these 40 has arrived.
    await sentinel(registry.url, FLOW, clients)
    for subscriber in clients:
        sequence = kinds_and_names(subscriber)
        kinds = [kind for kind, _ in sequence]
        assert kinds.count("INITIAL_SET_COMPLETE") == 1, (subscriber.label, sequence)
        marker = kinds.index("INITIAL_SET_COMPLETE")
        assert set(kinds[:marker]) <= {"EXISTING"}, (subscriber.label, sequence)
        assert "EXISTING" not in kinds[marker:], (subscriber.label, sequence)
        existing = [name for _, name in sequence[:marker]]
        assert existing, f"{subscriber.label}: subscribed before the first write"
        assert len(existing) < len(names), f"{subscriber.label}: subscribed after the last write"
        appeared = [n for n in introduced(subscriber) if n in names]
        assert sorted(appeared) == names, (subscriber.label, sequence)  # once each, none missing
        seen: set[str] = set()
        for kind, name in sequence:
            if kind == "UPDATED" and name in names:
                assert name in seen, f"{subscriber.label}: {name} UPDATED before it appeared"
            if name is not None:
                seen.add(name)
        live = [str(c["cursor"]) for c in subscriber.changes("eventTypeChanges")[marker + 1 :]]
        assert len(set(live)) == len(live), f"{subscriber.label}: a live change came twice"


# resuming with since ------------------------------------------------------------------------


def after_cursor(reference: Subscriber, cursor: str) -> list[Json]:
    """The reference's changes after ``cursor`` (which it must have received)."""
    changes = reference.changes("eventTypeChanges")
    cursors = [str(c["cursor"]) for c in changes]
    assert cursor in cursors, f"{reference.label} never received cursor {cursor}"
    return changes[cursors.index(cursor) + 1 :]


def settled(subscriber: Subscriber, name: str) -> bool:
    """The subscriber saw the readiness controller's status for ``name``."""
    return any(
        c["eventType"] and c["eventType"]["name"] == name and c["eventType"]["ready"] is not None
        for c in subscriber.changes("eventTypeChanges")
    )


def last_cursor(subscriber: Subscriber) -> str:
    return str(subscriber.changes("eventTypeChanges")[-1]["cursor"])


async def label_event_type(registry: RegistryProcess, namespace: str, name: str, label: str) -> None:
    await kubectl(
        registry, "label", "eventtypes.eventing.knative.dev", name, "-n", namespace, label
    )


async def test_resume_with_since_delivers_exactly_the_missed_changes(
    registry: RegistryProcess, subscribers: Subscribers
) -> None:
    """A client that disconnects and resumes with its last cursor gets the changes it missed,
    in order, and none it had already seen; a reference client that never left shows what
    happened meanwhile."""
    live = {"namespace": RESUME, "includeExisting": False}
    reference = await subscribers.node("reference (never disconnects)", WRITER, CHANGES, live)
    first = await subscribers.gql("first connection", WRITER, CHANGES, live)
    start = await sentinel(registry.url, RESUME, [reference, first])
    before = [f"before-{index}" for index in range(3)]
    for name in before:
        await register(registry.url, RESUME, name)
    for name in [start, *before]:
        await first.until(lambda n=name: settled(first, n), f"{name}'s status")  # type: ignore[misc]
    seen = first.changes("eventTypeChanges")
    cursor = last_cursor(first)
    await first.stop()

    # Missed while away: one change of each of three objects.
    await delete(registry.url, RESUME, before[0])
    await label_event_type(registry, RESUME, before[1], "phase=one")
    await label_event_type(registry, RESUME, before[2], "phase=one")
    await reference.until(
        lambda: sum(c["eventType"]["labels"] != [] for c in after_cursor(reference, cursor)) == 2
        and any(c["kind"] == "DELETED" for c in after_cursor(reference, cursor)),
        "the missed changes",
    )
    missed = after_cursor(reference, cursor)
    resumed = await subscribers.node(
        "resumed (npm graphql-ws)", WRITER, CHANGES, {**live, "since": cursor}
    )
    await resumed.until(
        lambda: len(resumed.changes("eventTypeChanges")) >= len(missed), "the missed changes"
    )
    await sentinel(registry.url, RESUME, [reference, resumed])
    got = resumed.changes("eventTypeChanges")
    assert got[: len(missed)] == missed
    assert [(c["kind"], c["eventType"]["name"]) for c in missed[:3]] == [
        ("DELETED", before[0]),
        ("UPDATED", before[1]),
        ("UPDATED", before[2]),
    ]
    assert not {str(c["cursor"]) for c in got} & {str(c["cursor"]) for c in seen}
    assert got == after_cursor(reference, cursor), "the live changes after the replay differ"

    # Missed while away again: several changes of the same objects. The server's outbox
    # coalesces pending changes per object (see the module's report), so what is asserted
    # here is the weaker guarantee: an ordered subset of what happened, without anything
    # seen before, ending with the latest state of every object that changed.
    cursor = last_cursor(resumed)
    await resumed.stop()
    after = [f"after-{index}" for index in range(3)]
    for name in after:
        await register(registry.url, RESUME, name)
    await delete(registry.url, RESUME, before[1])
    await reference.until(
        lambda: all(settled(reference, name) for name in after)
        and any(
            c["kind"] == "DELETED" and c["eventType"]["name"] == before[1]
            for c in after_cursor(reference, cursor)
        ),
        "the second round of changes",
    )
    again = await subscribers.gql(
        "resumed again (gql legacy)",
        WRITER,
        CHANGES,
        {**live, "since": cursor},
        subprotocol=LEGACY_WS,
    )
    await again.until(
        lambda: again.changes("eventTypeChanges")
        and last_cursor(again) == last_cursor(reference),
        "the replay",
    )
    missed = after_cursor(reference, cursor)
    replayed = again.changes("eventTypeChanges")
    position = {str(c["cursor"]): index for index, c in enumerate(missed)}
    indices = [position.get(str(c["cursor"]), -1) for c in replayed]
    assert -1 not in indices, "a replayed change the reference never saw (or one seen before)"
    assert indices == sorted(indices) and len(set(indices)) == len(indices), indices
    for change in replayed:
        assert change == missed[position[str(change["cursor"])]]
    latest = {str(c["eventType"]["name"]): c for c in missed}
    assert {str(c["eventType"]["name"]): c for c in replayed} == latest

    # And the resumed subscription is live afterwards.
    await sentinel(registry.url, RESUME, [again])


async def test_since_with_a_garbage_cursor_is_a_readable_error(
    registry: RegistryProcess, subscribers: Subscribers
) -> None:
    variables = {"namespace": RESUME, "includeExisting": False, "since": "garbage!!"}
    client = await subscribers.node("garbage cursor", WRITER, CHANGES, variables)
    await client.until(lambda: client.deliveries and client.ended, "an error")
    payload = client.deliveries[0].payload
    assert payload.get("data") is None, payload
    assert [e["message"] for e in payload["errors"]] == ["not a cursor returned by this API"]
    assert client.completed
