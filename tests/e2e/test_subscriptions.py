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
its own where it can, so a server is shared by the module. There are three, each started
with the ``serve`` flags its tests need (module-scoped, about a second each to start):

- ``registry``: default timers and buffers (``--ws-max-subscriptions`` set explicitly), and
  a ``--cursor-key-file`` (so a modified cursor is an error rather than one from before a
  restart, as it is with the default per-process key of the other registries);
- ``narrow``: ``--ws-outbox-limit 50``, so a stalled client overflows its outbox after a few
  changes, and a Broker flip of 200 EventTypes is four times the limit;
- ``forgetful``: ``--hub-history 20`` (cursors and subscriptions fall out of the retained
  history after a couple of dozen changes), ``--ws-init-timeout 1`` and
  ``--ws-keepalive-interval 1`` (the timers fire within the test that checks them).

The 410 relist path needs a registry whose watches can be made to expire: a separate
``event-registry controlplane`` (history of 5 changes) reached by the registry through a TCP
proxy in this process; the proxy cuts the registry off, the cluster changes and compacts,
the proxy lets it back, and the registry's watch resumes from a compacted resourceVersion
(410 Expired → relist).

Nothing sleeps: everything is polled with a deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import re
import secrets
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import pytest
import yaml
from gql import Client, GraphQLRequest
from gql.client import AsyncClientSession
from gql.transport.websockets import WebsocketsTransport
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from tests.support import node as node_support
from tests.support.controlplane import ControlPlaneProcess, manifest
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
S = TypeVar("S", bound="Subscriber")

CLIENTS = Path(__file__).resolve().parent / "subscriptions"
SUBSCRIBE_MJS = CLIENTS / "subscribe.mjs"

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"

ALPHA, BETA = "alpha", "beta"
FLOW = "flow"  # includeExisting under concurrent writes
RESUME = "resume"  # since
WIRE = "wire"  # protocol conformance
NAMESPACES = (ALPHA, BETA, FLOW, RESUME, WIRE)
"""The namespaces of ``registry``."""
BULK = "bulk"  # the stalled client
BURST = "burst"  # a Broker flip larger than the outbox
NARROW_NAMESPACES = (BULK, BURST)
"""The namespaces of ``narrow``."""
HISTORY = "history"  # a cursor older than the retained history
BEHIND = "behind"  # subscriptions overtaken by the retained history
FORGETFUL_NAMESPACES = (HISTORY, BEHIND)
"""The namespaces of ``forgetful``."""

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
    {
        "token": WRITER,
        "name": "writer",
        "namespaces": {
            ns: ["write"] for ns in (*NAMESPACES, *NARROW_NAMESPACES, *FORGETFUL_NAMESPACES)
        },
    },
]

DELIVER_WITHIN = 10.0
"""Seconds any awaited delivery gets (generous: the whole stack shares two CPUs)."""

MAX_SUBSCRIPTIONS = 30  # registry: --ws-max-subscriptions
OUTBOX_LIMIT = 50  # narrow: --ws-outbox-limit
HUB_HISTORY = 20  # forgetful: --hub-history
INIT_TIMEOUT = 1.0  # forgetful: --ws-init-timeout
KEEPALIVE_INTERVAL = 1.0  # forgetful: --ws-keepalive-interval


# node and npm --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def node() -> str:
    """Node, with this test's npm packages installed from their lockfile."""
    return node_support.installed(CLIENTS)


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
        """Each kind of client stops its own way (Node process, Python task)."""
        raise TypeError(f"{type(self).__name__} must implement stop()")


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
        assert self.process.stdout is not None
        assert self.process.stderr is not None
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
        subprotocols=[Subprotocol(subprotocol)],
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


async def each_until(
    subscribers: Sequence[S],
    predicate: Callable[[S], object],
    what: str,
    timeout: float = DELIVER_WITHIN,
) -> None:
    """Wait until ``predicate(subscriber)`` holds for every subscriber."""
    for subscriber in subscribers:
        await subscriber.until(functools.partial(predicate, subscriber), what, timeout)


async def seen_by_all(subscribers: Sequence[Subscriber], name: str) -> None:
    await each_until(subscribers, lambda s: s.mentions(name), f"a payload about {name}")


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


# the registries -------------------------------------------------------------------------------


ORDERS, PAYMENTS, AUDITS = "orders-placed", "payments-received", "audits-written"
"""alpha's EventTypes: two on Broker ``default``, one on Broker ``other``."""

OVERTAKEN = "overtaken"
"""behind's Broker whose flip overtakes eventTypeChanges subscriptions."""
OVERTAKEN_TOO = "overtaken-too"
"""behind's Broker whose flip overtakes readiness and Broker subscriptions."""
OVERTAKING = HUB_HISTORY + 5
"""EventTypes on each of those Brokers: a flip appends one change more than that at once."""


def on_broker(namespace: str, broker_name: str, count: int) -> list[Json]:
    return [
        eventtype(
            f"{broker_name}-{index:03d}",
            namespace,
            type=f"dev.{namespace}.{broker_name}.{index}",
            broker=broker_name,
        )
        for index in range(count)
    ]


def consumable_event_types(registry: RegistryProcess, namespace: str) -> dict[str, bool]:
    data = data_of(
        registry.query(
            "query Consumable($ns: String) { eventTypes(namespace: $ns) "
            "{ nodes { name consumable } } }",
            {"ns": namespace},
            token=WRITER,
        )
    )
    return {str(n["name"]): bool(n["consumable"]) for n in data["eventTypes"]["nodes"]}


@contextlib.contextmanager
def serving(
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    flags: Sequence[str],
    namespaces: Sequence[str],
    documents: Sequence[Json],
) -> Iterator[RegistryProcess]:
    """``event-registry serve`` in tokens mode with ``flags``, ``namespaces`` and
    ``documents``, once every EventType among them is consumable."""
    workdir = tmp_path_factory.mktemp(name)
    tokens = write_tokens(workdir / "tokens.yaml", TOKENS)
    running = RegistryProcess(workdir / "registry", *flags, tokens_file=tokens)
    try:
        running.start()
        running.wait_ready()
        for namespace in namespaces:
            running.kubectl("create", "namespace", namespace, check=True)
        eventually(lambda: running.apply(*documents), timeout=30, interval=0.25)
        expected: dict[str, dict[str, bool]] = {}
        for document in documents:
            if document["kind"] == "EventType":
                metadata = document["metadata"]
                expected.setdefault(metadata["namespace"], {})[metadata["name"]] = True

        def consumable() -> bool:
            return all(
                consumable_event_types(running, namespace) == shown
                for namespace, shown in expected.items()
            )

        eventually(consumable, timeout=30, interval=0.1)
        yield running
    except BaseException:
        print(running.output())
        raise
    finally:
        running.stop()


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryProcess]:
    """The registry most tests share: alpha's Brokers and EventTypes, all consumable."""
    documents = [
        broker("default", ALPHA),
        broker("other", ALPHA),
        broker("default", BETA),
        eventtype(ORDERS, ALPHA, type="com.example.order.placed", broker="default"),
        eventtype(PAYMENTS, ALPHA, type="com.example.payment.received", broker="default"),
        eventtype(AUDITS, ALPHA, type="com.example.audit.written", broker="other"),
    ]
    cursor_key = tmp_path_factory.mktemp("cursor-key") / "secret"
    cursor_key.write_text(secrets.token_urlsafe(32) + "\n")
    flags = [
        "--ws-max-subscriptions",
        str(MAX_SUBSCRIPTIONS),
        "--cursor-key-file",
        str(cursor_key),
    ]
    with serving(tmp_path_factory, "subscriptions", flags, NAMESPACES, documents) as running:
        yield running


@pytest.fixture(scope="module")
def narrow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryProcess]:
    """A registry whose connections are closed 4503 once more than 50 frames are pending."""
    documents = [broker("default", BULK), broker("default", BURST)]
    flags = ["--ws-outbox-limit", str(OUTBOX_LIMIT)]
    with serving(tmp_path_factory, "narrow", flags, NARROW_NAMESPACES, documents) as running:
        yield running


@pytest.fixture(scope="module")
def forgetful(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryProcess]:
    """A registry keeping 20 changes for ``since`` and quick timers; behind's Brokers carry
    more EventTypes than that."""
    documents = [
        broker(OVERTAKEN, BEHIND),
        broker(OVERTAKEN_TOO, BEHIND),
        *on_broker(BEHIND, OVERTAKEN, OVERTAKING),
        *on_broker(BEHIND, OVERTAKEN_TOO, OVERTAKING),
    ]
    flags = [
        "--hub-history",
        str(HUB_HISTORY),
        "--ws-init-timeout",
        str(INIT_TIMEOUT),
        "--ws-keepalive-interval",
        str(KEEPALIVE_INTERVAL),
    ]
    with serving(tmp_path_factory, "forgetful", flags, FORGETFUL_NAMESPACES, documents) as running:
        yield running


@pytest.fixture
async def subscribers(node: str, registry: RegistryProcess) -> AsyncIterator[Subscribers]:
    opened = Subscribers(node, registry.url)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def narrow_subscribers(node: str, narrow: RegistryProcess) -> AsyncIterator[Subscribers]:
    opened = Subscribers(node, narrow.url)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def forgetful_subscribers(
    node: str, forgetful: RegistryProcess
) -> AsyncIterator[Subscribers]:
    opened = Subscribers(node, forgetful.url)
    try:
        yield opened
    finally:
        await opened.close()


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
    await each_until(everyone, lambda s: len(broker_caused(s)) >= 2, "two flips")

    await set_broker_ready(registry, ALPHA, "default", "True")
    await each_until(everyone, lambda s: len(broker_caused(s)) >= 4, "two flips back")

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
    eventType { namespace name type ready labels { key value } }
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
    subscribed = asyncio.Event()

    async def write_all() -> None:
        for index, name in enumerate(names):
            if index == 28:  # the last twelve certainly go to live subscriptions
                await subscribed.wait()
            await register(registry.url, FLOW, name)
            written.append(name)

    writer = asyncio.create_task(write_all())
    try:
        deadline = time.monotonic() + 30
        while len(written) < 12:
            assert time.monotonic() < deadline, "the writes stalled"
            assert not writer.done(), "the writer ended early"
            await asyncio.sleep(0.01)
        variables = {"namespace": FLOW, "includeExisting": True}
        clients = await asyncio.gather(
            subscribers.node("node", WRITER, CHANGES, variables),
            subscribers.gql("gql transport-ws", WRITER, CHANGES, variables),
            subscribers.gql("gql legacy", WRITER, CHANGES, variables, subprotocol=LEGACY_WS),
        )
        subscribed.set()
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

    await each_until(clients, lambda s: set(introduced(s)) >= set(names), "every EventType")
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


async def label_event_type(
    registry: RegistryProcess, namespace: str, name: str, label: str
) -> None:
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
        await first.until(functools.partial(settled, first, name), f"{name}'s status")
    seen = first.changes("eventTypeChanges")
    cursor = last_cursor(first)
    await first.stop()

    # Missed while away: one change of each of three objects.
    await delete(registry.url, RESUME, before[0])
    await label_event_type(registry, RESUME, before[1], "phase=one")
    await label_event_type(registry, RESUME, before[2], "phase=one")
    await reference.until(
        lambda: (
            sum(c["eventType"]["labels"] != [] for c in after_cursor(reference, cursor)) == 2
            and any(c["kind"] == "DELETED" for c in after_cursor(reference, cursor))
        ),
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

    # Missed while away again: several changes of the same objects (each new EventType is
    # ADDED, then UPDATED with the status the readiness controller writes) and a deletion.
    # The replay is every one of them, in order: nothing coalesced, nothing seen before.
    cursor = last_cursor(resumed)
    await resumed.stop()
    after = [f"after-{index}" for index in range(3)]
    for name in after:
        await register(registry.url, RESUME, name)
    await delete(registry.url, RESUME, before[1])
    await reference.until(
        lambda: (
            all(settled(reference, name) for name in after)
            and any(
                c["kind"] == "DELETED" and c["eventType"]["name"] == before[1]
                for c in after_cursor(reference, cursor)
            )
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
        lambda: again.changes("eventTypeChanges") and last_cursor(again) == last_cursor(reference),
        "the replay",
    )
    missed = after_cursor(reference, cursor)
    replayed = again.changes("eventTypeChanges")
    assert replayed == missed
    for name in after:
        kinds = [str(c["kind"]) for c in replayed if c["eventType"]["name"] == name]
        assert kinds[:2] == ["ADDED", "UPDATED"], (name, kinds)
    assert [c["kind"] for c in replayed if c["eventType"]["name"] == before[1]] == ["DELETED"]

    # And the resumed subscription is live afterwards.
    await sentinel(registry.url, RESUME, [again])


async def test_since_with_a_garbage_cursor_is_a_readable_error(
    registry: RegistryProcess, subscribers: Subscribers
) -> None:
    variables = {"namespace": RESUME, "includeExisting": False, "since": "garbage!!"}
    client = await subscribers.node("garbage cursor", WRITER, CHANGES, variables)
    await client.until(lambda: bool(client.failures), "an error message")
    # An error before the first payload is the protocol's `error` message, not a `next`.
    assert not client.deliveries
    assert any("not a cursor returned by this API" in failure for failure in client.failures)


# namespaces a token may not read --------------------------------------------------------------


BROKERS = """
subscription Brokers($namespace: String) {
  brokerChanges(namespace: $namespace) { kind cursor broker { namespace name ready } }
}
"""


def namespaces_in(subscriber: Subscriber) -> set[str]:
    found: set[str] = set()
    for delivery in subscriber.deliveries:
        found |= set(re.findall(r'"namespace": "([^"]+)"', json.dumps(delivery.payload)))
    return found


async def test_a_token_never_receives_changes_of_namespaces_it_cannot_read(
    registry: RegistryProcess, subscribers: Subscribers
) -> None:
    """beta changes first, alpha's after: the alpha token hears only alpha's, whatever it
    asks for; the alpha+beta token hears both."""
    live = {"includeExisting": False}
    alpha_only = [
        await subscribers.node("alpha token, every namespace", ALPHA_READER, CHANGES, live),
        await subscribers.gql(
            "alpha token, readiness", ALPHA_READER, READINESS, {}, subprotocol=LEGACY_WS
        ),
        await subscribers.node("alpha token, brokers", ALPHA_READER, BROKERS, {}),
    ]
    both = [
        await subscribers.gql("alpha+beta token", ALPHA_BETA_READER, CHANGES, live),
        await subscribers.node("alpha+beta token, readiness", ALPHA_BETA_READER, READINESS, {}),
        await subscribers.gql(
            "alpha+beta token, brokers", ALPHA_BETA_READER, BROKERS, {}, subprotocol=LEGACY_WS
        ),
    ]
    await sentinel(registry.url, ALPHA, [*alpha_only[:2], *both[:2]])
    await registry_label_broker(registry, ALPHA, "other", "round=start")
    await seen_by_all([alpha_only[2], both[2]], "other")

    # beta: an EventType appears on beta's Broker, which then stops being ready.
    await register(registry.url, BETA, "beta-secret", broker="default")
    await both[0].until(lambda: settled(both[0], "beta-secret"), "beta-secret's status")
    await set_broker_ready(registry, BETA, "default", "False", "Hidden")
    await both[1].until(
        lambda: any(c["cause"] == "Broker" for c in both[1].changes("eventTypeReadinessChanged")),
        "beta's Broker flip",
    )
    await both[2].until(lambda: BETA in namespaces_in(both[2]), "beta's Broker change")
    # The alpha token asking for beta explicitly: an empty initial set, then nothing.
    asking = await subscribers.node(
        "alpha token asking for beta",
        ALPHA_READER,
        CHANGES,
        {"namespace": BETA, "includeExisting": True},
    )
    await asking.until(lambda: asking.deliveries, "INITIAL_SET_COMPLETE")
    await label_event_type(registry, BETA, "beta-secret", "round=beta")

    # alpha, afterwards.
    await register(registry.url, ALPHA, "alpha-visible", broker="default")
    await registry_label_broker(registry, ALPHA, "other", "round=end")
    await seen_by_all([*alpha_only[:2], *both[:2]], "alpha-visible")
    await each_until(
        [alpha_only[2], both[2]],
        lambda s: (
            len([c for c in s.changes("brokerChanges") if c["broker"]["name"] == "other"]) >= 2
        ),
        "alpha's second Broker change",
    )
    await both[0].until(
        lambda: any(
            c["eventType"]["labels"]
            for c in both[0].changes("eventTypeChanges")
            if c["eventType"]["name"] == "beta-secret"
        ),
        "beta-secret's label",
    )

    for subscriber in alpha_only:
        assert namespaces_in(subscriber) == {ALPHA}, subscriber.label
        assert not subscriber.mentions("beta-secret"), subscriber.label
    for subscriber in both:
        assert namespaces_in(subscriber) == {ALPHA, BETA}, subscriber.label
    assert [(c["kind"], c["eventType"]) for c in asking.changes("eventTypeChanges")] == [
        ("INITIAL_SET_COMPLETE", None)
    ]
    assert not asking.ended


def cursor_of(subscriber: Subscriber, name: str) -> str:
    """The cursor of the first change about ``name`` the subscriber received."""
    return next(
        str(c["cursor"])
        for c in subscriber.changes("eventTypeChanges")
        if c["eventType"] and c["eventType"]["name"] == name
    )


def completed_initial_set(subscriber: Subscriber) -> bool:
    return any(c["kind"] == "INITIAL_SET_COMPLETE" for c in subscriber.changes("eventTypeChanges"))


def through(changes: list[Json], name: str) -> list[Json]:
    """``changes`` up to and including the first one about ``name``."""
    names = [c["eventType"]["name"] if c["eventType"] else None for c in changes]
    return changes[: names.index(name) + 1]


async def test_cursors_tell_a_token_nothing_about_namespaces_it_cannot_read(
    registry: RegistryProcess, subscribers: Subscribers
) -> None:
    """Between two alpha changes, beta changes the alpha token cannot see: the two cursors it
    gets look like any two cursors (same length, unrelated characters), so they cannot be
    subtracted; each resumes to exactly what the token saw after it; a modified one is a
    readable error; initial-set markers never repeat."""
    live = {"includeExisting": False}
    reader = await subscribers.node("alpha token", ALPHA_READER, CHANGES, live)
    watcher = await subscribers.gql("alpha+beta token", ALPHA_BETA_READER, CHANGES, live)
    quiet = await sentinel(registry.url, ALPHA, [reader, watcher])
    hidden = [f"hidden-{secrets.token_hex(2)}-{index}" for index in range(6)]
    for name in hidden:
        await register(registry.url, BETA, name)
    await watcher.until(lambda: all(watcher.mentions(n) for n in hidden), "the beta changes")
    loud = await sentinel(registry.url, ALPHA, [reader, watcher])
    before, after = cursor_of(reader, quiet), cursor_of(reader, loud)

    # The same cursors for everyone, and the beta changes really lie between them.
    assert (cursor_of(watcher, quiet), cursor_of(watcher, loud)) == (before, after)
    between = through(after_cursor(watcher, before), loud)[:-1]
    assert set(hidden) <= {c["eventType"]["name"] for c in between}
    assert BETA not in namespaces_in(reader)
    # Nothing to read in them: the shape of any cursor, characters as unrelated as chance.
    for cursor in (before, after):
        assert re.fullmatch(r"[A-Za-z0-9_-]{80}", cursor), cursor
    assert sum(a == b for a, b in zip(before, after, strict=True)) < 10, (before, after)

    for cursor in (before, after):
        resumed = await subscribers.gql(
            "alpha token resuming", ALPHA_READER, CHANGES, {**live, "since": cursor}
        )
        end = await sentinel(registry.url, ALPHA, [reader, resumed])
        got = through(resumed.changes("eventTypeChanges"), end)
        assert got == through(after_cursor(reader, cursor), end)
        assert "RESYNC_REQUIRED" not in {c["kind"] for c in got}
        assert BETA not in namespaces_in(resumed)

    tampered = before[:-1] + ("A" if before[-1] != "A" else "B")
    refused = await subscribers.node(
        "alpha token, modified cursor", ALPHA_READER, CHANGES, {**live, "since": tampered}
    )
    await refused.until(lambda: bool(refused.failures), "an error message")
    assert any("not a cursor returned by this API" in f for f in refused.failures)

    initials = [
        await subscribers.node(
            f"alpha token, initial set {index}",
            ALPHA_READER,
            CHANGES,
            {"namespace": ALPHA, "includeExisting": True},
        )
        for index in range(2)
    ]
    await each_until(initials, completed_initial_set, "INITIAL_SET_COMPLETE")
    markers = [
        str(c["cursor"])
        for s in initials
        for c in s.changes("eventTypeChanges")
        if c["kind"] == "INITIAL_SET_COMPLETE"
    ]
    assert len(set(markers)) == 2, markers
    assert not set(markers) & {str(c["cursor"]) for c in reader.changes("eventTypeChanges")}


async def registry_label_broker(
    registry: RegistryProcess, namespace: str, name: str, label: str
) -> None:
    await kubectl(
        registry,
        "label",
        "--overwrite",
        "brokers.eventing.knative.dev",
        name,
        "-n",
        namespace,
        label,
    )


# clients behind: the outbox limit (the narrow registry) ------------------------------------


STALLED_SUBSCRIPTIONS = 20
BULK_EVENT_TYPES = 40
HEAVY = """
subscription Heavy {
  eventTypeChanges(namespace: "bulk") {
    kind cursor eventType { name a: description b: description c: description }
  }
}
"""
PROMPTLY = 3.0
"""Seconds within which healthy clients must hear of a write while another client stalls."""
LET_GO_WITHIN = 5.0
"""Seconds within which a client past the outbox limit must find its connection ended."""


def stalled_socket(url: str) -> socket.socket:
    """A connected socket whose receive buffer is as small as the kernel allows."""
    parts = urlsplit(url)
    assert parts.hostname is not None
    assert parts.port is not None
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((parts.hostname, parts.port))
    return sock


async def read_to_the_end(ws: ClientConnection, timeout: float = LET_GO_WITHIN) -> list[Json]:
    """Every frame until the connection ends, which it must within ``timeout``."""
    frames: list[Json] = []
    try:
        async with asyncio.timeout(timeout):
            with contextlib.suppress(ConnectionClosed):
                async for message in ws:
                    frames.append(json.loads(message))
    except TimeoutError:
        raise AssertionError(
            f"still connected after {timeout}s and {len(frames)} frames: {frames[-3:]}"
        ) from None
    return frames


async def test_a_stalled_client_does_not_delay_the_others_and_is_disconnected(
    narrow: RegistryProcess, narrow_subscribers: Subscribers
) -> None:
    """One client subscribes 20 times to big payloads (12 KB each) and stops reading; 40
    EventTypes with 4 KB descriptions are registered. The other clients hear of each write
    promptly. The stalled client's outbox overflows after a few writes (once the socket
    buffers, a few MB, are full, the outbox takes its 50 frames): the server disconnects it
    and queues nothing more for it. When it reads again it gets what was buffered before the
    overflow, then the end of its connection: a 4503 close, or no close frame at all (the
    close frame waits behind the unread data, and the server does not wait for it)."""
    stalled = await open_raw(narrow.url, sock=stalled_socket(narrow.url), max_queue=1)
    try:
        await initialise(stalled)
        for index in range(STALLED_SUBSCRIPTIONS):
            await send(
                stalled, {"type": "subscribe", "id": f"heavy-{index}", "payload": {"query": HEAVY}}
            )
        live = {"namespace": BULK, "includeExisting": False}
        healthy = [
            await narrow_subscribers.node("node-1", WRITER, CHANGES, live),
            await narrow_subscribers.node("node-2", WRITER, CHANGES, live),
            await narrow_subscribers.gql("gql transport-ws", WRITER, CHANGES, live),
            await narrow_subscribers.gql(
                "gql legacy", WRITER, CHANGES, live, subprotocol=LEGACY_WS
            ),
        ]
        await sentinel(narrow.url, BULK, healthy)

        names = [f"bulk-{index:03d}" for index in range(BULK_EVENT_TYPES)]
        written: dict[str, float] = {}
        gate = asyncio.Semaphore(6)

        async def write(name: str) -> None:
            async with gate:
                description = secrets.token_urlsafe(3000)  # 4000 incompressible characters
                await register(narrow.url, BULK, name, description=description)
                written[name] = time.time()

        await asyncio.gather(*(write(name) for name in names))

        def added(subscriber: Subscriber) -> dict[str, float]:
            return {
                str(c["eventType"]["name"]): d.at
                for d in subscriber.deliveries
                if (c := d.payload["data"]["eventTypeChanges"])["kind"] == "ADDED"
            }

        lags: list[float] = []
        await each_until(healthy, lambda s: set(added(s)) >= set(names), "every ADDED")
        for subscriber in healthy:
            assert not subscriber.ended, subscriber.label
            received = added(subscriber)
            lags += [received[name] - written[name] for name in names]
        assert max(lags) < PROMPTLY, f"a healthy client waited {max(lags):.2f}s"

        # The stalled client reads again.
        frames = await read_to_the_end(stalled)
        code, reason = stalled.close_code, stalled.close_reason or ""
        assert code in (4503, 1006), (code, reason)  # 1006: ended without a close frame
        if code == 4503:
            assert "since" in reason, reason
        assert all(f["type"] == "next" for f in frames), [f for f in frames if f["type"] != "next"]
        assert all(str(f["id"]).startswith("heavy-") for f in frames)
        heard = {str(f["payload"]["data"]["eventTypeChanges"]["eventType"]["name"]) for f in frames}
        produced = STALLED_SUBSCRIPTIONS * (BULK_EVENT_TYPES + 1)  # at least one per change
        assert len(frames) < produced, f"all {len(frames)} frames were queued for a stalled client"
        # Each write is 20 frames of 12 KB (40 with its status): the socket buffers hold a dozen
        # writes' worth at most, so the last quarter were written after the server let it go.
        assert not heard & set(names[-BULK_EVENT_TYPES // 4 :]), sorted(heard)
    finally:
        await stalled.close()


async def test_a_client_further_behind_than_the_outbox_limit_is_closed_4503(
    narrow: RegistryProcess,
) -> None:
    """60 subscriptions to the same Broker changes on one connection: one change puts 60
    frames into its outbox at once, more than the limit of 50. The client is closed with 4503
    and told how to resume, although it reads; it gets at most the 51 frames pending when it
    overflowed."""
    ws = await open_raw(narrow.url)
    try:
        await initialise(ws)
        variables = {"namespace": BULK}
        for index in range(OUTBOX_LIMIT + 10):
            payload = {"query": BROKERS, "variables": variables}
            await send(ws, {"type": "subscribe", "id": f"b{index}", "payload": payload})
        await send(ws, {"type": "subscribe", "id": "probe", "payload": {"query": "{ __typename }"}})
        assert [f["type"] for f in await frames_until(ws, "probe")] == ["next", "complete"]
        await registry_label_broker(narrow, BULK, "default", f"poked={secrets.token_hex(3)}")
        frames = await read_to_the_end(ws)
        assert (ws.close_code, ws.close_reason) == (
            4503,
            "too slow: reconnect and resume with since: <last cursor>",
        ), frames[-3:]
        assert len(frames) <= OUTBOX_LIMIT + 1, len(frames)
        for frame in frames:
            assert frame["type"] == "next", frame
            assert frame["payload"]["data"]["brokerChanges"]["kind"] == "UPDATED", frame
    finally:
        await ws.close()


BURST_EVENT_TYPES = 200


async def test_a_broker_flip_larger_than_the_outbox_reaches_healthy_clients_whole(
    narrow: RegistryProcess, narrow_subscribers: Subscribers
) -> None:
    """A Broker carrying 200 EventTypes, four times the outbox limit, is flipped to not ready
    and back: every healthy subscriber of readiness changes gets 200 events each time, one per
    EventType, and stays connected (the flip is sent as it is produced, not queued whole)."""
    documents = on_broker(BURST, "default", BURST_EVENT_TYPES)
    names = sorted(str(d["metadata"]["name"]) for d in documents)
    await asyncio.gather(
        *(kubectl(narrow, "apply", "-f", "-", input=manifest(*documents[i::4])) for i in range(4))
    )
    await asyncio.to_thread(
        eventually,
        lambda: consumable_event_types(narrow, BURST) == dict.fromkeys(names, True),
        30,
        interval=0.2,
    )
    variables = {"namespace": BURST}
    clients = [
        await narrow_subscribers.node("node", WRITER, READINESS, variables),
        await narrow_subscribers.gql("gql transport-ws", WRITER, READINESS, variables),
        await narrow_subscribers.gql(
            "gql legacy", WRITER, READINESS, variables, subprotocol=LEGACY_WS
        ),
    ]
    await sentinel(narrow.url, BURST, clients)

    await set_broker_ready(narrow, BURST, "default", "False", "Burst")
    await each_until(clients, lambda s: len(broker_caused(s)) >= len(names), "the flip")
    await set_broker_ready(narrow, BURST, "default", "True")
    await each_until(clients, lambda s: len(broker_caused(s)) >= 2 * len(names), "the flip back")
    await sentinel(narrow.url, BURST, clients)

    for subscriber in clients:
        assert not subscriber.ended, (subscriber.label, subscriber.closed, subscriber.failures)
        flips = broker_caused(subscriber)
        assert len(flips) == 2 * len(names), (subscriber.label, len(flips))
        down, up = flips[: len(names)], flips[len(names) :]
        assert sorted(str(c["eventType"]["name"]) for c in down) == names, subscriber.label
        assert sorted(str(c["eventType"]["name"]) for c in up) == names, subscriber.label
        for change in down:
            assert (change["previousConsumable"], change["consumable"]) == (True, False), change
            assert change["reason"] == "Burst", change
        for change in up:
            assert (change["previousConsumable"], change["consumable"]) == (False, True), change
        assert len({str(c["cursor"]) for c in flips}) == len(flips), subscriber.label
    assert len({tuple(str(c["cursor"]) for c in broker_caused(s)) for s in clients}) == 1


# protocol conformance -----------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "not-a-known-token"])
async def test_transport_ws_without_a_valid_token_is_closed_4403(
    registry: RegistryProcess, token: str | None
) -> None:
    ws = await open_raw(registry.url, TRANSPORT_WS)
    try:
        await send(ws, {"type": "connection_init", "payload": {"token": token} if token else {}})
        assert await close_of(ws) == (4403, "Forbidden")
    finally:
        await ws.close()


@pytest.mark.parametrize("token", [None, "not-a-known-token"])
async def test_legacy_ws_without_a_valid_token_gets_connection_error_and_close(
    registry: RegistryProcess, token: str | None
) -> None:
    ws = await open_raw(registry.url, LEGACY_WS)
    try:
        await send(ws, {"type": "connection_init", "payload": {"token": token} if token else {}})
        error = await receive(ws)
        assert error["type"] == "connection_error", error
        assert error["payload"]["message"], error
        assert (await close_of(ws))[0] == 4403
    finally:
        await ws.close()


@pytest.mark.parametrize("subprotocol", [TRANSPORT_WS, LEGACY_WS])
async def test_a_token_in_the_handshake_header_is_accepted(
    registry: RegistryProcess, subprotocol: str
) -> None:
    headers = {"Authorization": f"Bearer {ALPHA_READER}"}
    ws = await open_raw(registry.url, subprotocol, headers=headers)
    try:
        await initialise(ws, token=None)
        start = "subscribe" if subprotocol == TRANSPORT_WS else "start"
        query = f'{{ eventType(namespace: "{ALPHA}", name: "{ORDERS}") {{ name }} }}'
        await send(ws, {"type": start, "id": "q", "payload": {"query": query}})
        frames = [f for f in await frames_until(ws, "q") if f["type"] != "ka"]
        data = frames[0]["payload"]["data"]
        assert data == {"eventType": {"name": ORDERS}}, frames
        assert frames[-1] == {"type": "complete", "id": "q"}
    finally:
        await ws.close()


async def test_subscribe_before_connection_init_is_closed_4401(
    registry: RegistryProcess,
) -> None:
    ws = await open_raw(registry.url)
    try:
        await send(ws, {"type": "subscribe", "id": "early", "payload": {"query": BROKERS}})
        assert (await close_of(ws))[0] == 4401
    finally:
        await ws.close()


async def test_a_duplicate_subscription_id_is_closed_4409(registry: RegistryProcess) -> None:
    ws = await open_raw(registry.url)
    try:
        await initialise(ws)
        for _ in range(2):
            await send(ws, {"type": "subscribe", "id": "twice", "payload": {"query": BROKERS}})
        code, reason = await close_of(ws)
        assert code == 4409, reason
        assert "twice" in reason
    finally:
        await ws.close()


@pytest.mark.parametrize(
    "message",
    ["{not json", '{"payload": {}}', '{"type": "no-such-message"}', '["connection_init"]'],
)
async def test_an_invalid_message_is_closed_4400(registry: RegistryProcess, message: str) -> None:
    ws = await open_raw(registry.url)
    try:
        await initialise(ws)
        await send(ws, message)
        assert (await close_of(ws))[0] == 4400
    finally:
        await ws.close()


async def test_a_second_connection_init_is_closed_4429(registry: RegistryProcess) -> None:
    ws = await open_raw(registry.url)
    try:
        await initialise(ws)
        await send(ws, {"type": "connection_init", "payload": {"token": WRITER}})
        assert (await close_of(ws))[0] == 4429
    finally:
        await ws.close()


@pytest.mark.parametrize("subprotocol", [TRANSPORT_WS, LEGACY_WS])
async def test_queries_and_mutations_work_over_the_websocket(
    registry: RegistryProcess, subprotocol: str
) -> None:
    """A query or a mutation sent as a subscription operation gets one result and complete;
    an invalid subscription document gets an ``error`` message for its id, and the connection
    lives on."""
    start = "subscribe" if subprotocol == TRANSPORT_WS else "start"
    result_type = "next" if subprotocol == TRANSPORT_WS else "data"
    name = f"over-{subprotocol}"
    ws = await open_raw(registry.url, subprotocol)
    try:
        await initialise(ws)

        async def run(operation_id: str, query: str, variables: Json | None = None) -> list[Json]:
            payload: Json = {"query": query}
            if variables is not None:
                payload["variables"] = variables
            await send(ws, {"type": start, "id": operation_id, "payload": payload})
            return [f for f in await frames_until(ws, operation_id) if f["type"] != "ka"]

        frames = await run(
            "register", REGISTER, {"input": {"namespace": WIRE, "name": name, "type": "dev.wire"}}
        )
        assert [f["type"] for f in frames] == [result_type, "complete"], frames
        assert frames[0]["payload"]["data"] == {
            "registerEventType": {"__typename": "EventTypeRegistered"}
        }
        assert "cost" in frames[0]["payload"]["extensions"]  # as over HTTP
        frames = await run(
            "read",
            "query Read($ns: String!, $n: String!) { eventType(namespace: $ns, name: $n) "
            "{ namespace name type } }",
            {"ns": WIRE, "n": name},
        )
        assert frames[0]["payload"]["data"] == {
            "eventType": {"namespace": WIRE, "name": name, "type": "dev.wire"}
        }, frames
        # A subscription document that does not validate, or does not parse, ends that
        # operation with an ``error`` message (a list of errors in graphql-transport-ws, one
        # error in the legacy protocol), and nothing else.
        for operation_id, document, expected in [
            ("invalid", "subscription { noSuchField }", "Cannot query field 'noSuchField'"),
            ("unparsable", "subscription {", "Syntax Error"),
            ("huge", "subscription { " + "__typename " * 2_100 + "}", "more than 2000 tokens"),
        ]:
            frames = await run(operation_id, document)
            assert [(f["type"], f["id"]) for f in frames] == [("error", operation_id)], frames
            errors = frames[0]["payload"]
            if subprotocol == LEGACY_WS:
                assert isinstance(errors, dict), errors
                errors = [errors]
            assert isinstance(errors, list), errors
            assert any(expected in str(e["message"]) for e in errors), errors
        frames = await run("delete", DELETE, {"ns": WIRE, "name": name})
        assert [f["id"] for f in frames] == ["delete", "delete"], frames  # the others ended
        assert frames[0]["payload"]["data"] == {"deleteEventType": {"__typename": "Deleted"}}
    finally:
        await ws.close()


async def test_more_subscriptions_than_the_limit_on_one_connection_are_refused(
    registry: RegistryProcess,
) -> None:
    ws = await open_raw(registry.url)
    try:
        await initialise(ws)
        for index in range(MAX_SUBSCRIPTIONS):
            await send(ws, {"type": "subscribe", "id": f"s{index}", "payload": {"query": BROKERS}})
        await send(ws, {"type": "subscribe", "id": "one-too-many", "payload": {"query": BROKERS}})
        frame = await receive(ws)
        assert frame["type"] == "error", frame
        assert frame["id"] == "one-too-many", frame
        assert "too many subscriptions" in frame["payload"][0]["message"], frame
        # The connection lives on; a freed slot can be used again.
        await send(ws, {"type": "complete", "id": "s0"})
        await send(
            ws, {"type": "subscribe", "id": "in-the-freed-slot", "payload": {"query": BROKERS}}
        )
        await send(ws, {"type": "subscribe", "id": "probe", "payload": {"query": "{ __typename }"}})
        frames = await frames_until(ws, "probe")
        assert not [f for f in frames if f["type"] == "error"], frames
        assert frames[0]["payload"]["data"] == {"__typename": "Query"}
        assert frames[0]["payload"]["extensions"] == {"cost": {"requested": 0, "limit": 500_000}}
    finally:
        await ws.close()


async def test_a_client_ping_gets_a_pong(registry: RegistryProcess) -> None:
    ws = await open_raw(registry.url)
    try:
        await initialise(ws)
        await send(ws, {"type": "ping"})
        assert await receive(ws) == {"type": "pong"}
    finally:
        await ws.close()


async def test_compression_offered_by_a_client_is_declined(registry: RegistryProcess) -> None:
    """Clients such as ``ws`` and ``websockets`` offer permessage-deflate by default; the
    registry answers without it (frames are small JSON, zlib state per subscriber is not)."""
    ws = await connect(
        ws_url(registry.url),
        subprotocols=[Subprotocol(TRANSPORT_WS)],
        compression="deflate",
        additional_headers={"Authorization": f"Bearer {WRITER}"},
    )
    try:
        assert ws.response is not None
        assert ws.response.headers.get("Sec-WebSocket-Extensions") is None
        await initialise(ws)
        query = "query { namespaces { name } }"
        await send(ws, {"type": "subscribe", "id": "q", "payload": {"query": query}})
        frames = await frames_until(ws, "q")
        assert [f["type"] for f in frames] == ["next", "complete"]
        assert isinstance(frames[0]["payload"]["data"]["namespaces"], list)
    finally:
        await ws.close()


async def test_legacy_connection_terminate_closes_normally(registry: RegistryProcess) -> None:
    ws = await open_raw(registry.url, LEGACY_WS)
    try:
        await initialise(ws)
        await send(ws, {"type": "start", "id": "1", "payload": {"query": BROKERS}})
        await send(ws, {"type": "connection_terminate"})
        assert (await close_of(ws))[0] == 1000
    finally:
        await ws.close()


# the 410 relist path --------------------------------------------------------------------------


class HoldingProxy:
    """A loopback TCP proxy in a thread of its own (so nothing the tests block on stalls it).

    :meth:`hold` cuts every open connection and keeps new ones waiting, accepted but not
    forwarded, until :meth:`release`: a client behind it loses its server for a while and
    then reconnects, with requests prepared while it was cut off.
    """

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        assert parts.hostname is not None
        assert parts.port is not None
        self._upstream = (parts.hostname, parts.port)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="holding-proxy")
        self._server: asyncio.Server | None = None
        self._gate: asyncio.Event | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0
        self.held = 0
        """Connections that waited while the proxy held."""

    def start(self) -> HoldingProxy:
        self._thread.start()
        self._call(self._start())
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=15)

    async def _start(self) -> None:
        self._gate = asyncio.Event()
        self._gate.set()
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        upstream: asyncio.StreamWriter | None = None
        try:
            assert self._gate is not None
            if not self._gate.is_set():
                self.held += 1
                await self._gate.wait()
            upstream_reader, upstream = await asyncio.open_connection(*self._upstream)
            self._writers.add(upstream)
            await asyncio.gather(self._pipe(reader, upstream), self._pipe(upstream_reader, writer))
        except (ConnectionError, OSError):
            pass
        finally:
            for end in (writer, upstream):
                if end is not None:
                    self._writers.discard(end)
                    end.transport.abort()
            self._tasks.discard(task)

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(1 << 16):
            writer.write(data)
            await writer.drain()
        writer.transport.abort()

    async def _cut(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()

    async def _hold(self) -> None:
        assert self._gate is not None
        self._gate.clear()
        await self._cut()

    async def _release(self) -> None:
        assert self._gate is not None
        self._gate.set()

    def hold(self) -> None:
        self._call(self._hold())

    def release(self) -> None:
        self._call(self._release())

    async def _stop(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._cut()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._call(self._release())
            self._call(self._stop())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(15)
        self._loop.close()


RELIST = "relist"


@dataclass
class Relisting:
    plane: ControlPlaneProcess
    proxy: HoldingProxy
    registry: RegistryProcess
    log: Path


@pytest.fixture(scope="module")
def relisting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Relisting]:
    """A control plane keeping 5 changes of history, and an open-mode registry reaching it
    through a :class:`HoldingProxy`."""
    workdir = tmp_path_factory.mktemp("relist")
    plane = ControlPlaneProcess(
        workdir / "plane", "--history-limit", "5", "--bookmark-interval", "3600", "--no-controllers"
    )
    (workdir / "plane").mkdir()
    plane.start()
    proxy = HoldingProxy(plane.url).start()
    registry: RegistryProcess | None = None
    try:
        config = yaml.safe_load(plane.kubeconfig.read_text())
        for cluster in config["clusters"]:
            cluster["cluster"]["server"] = proxy.url
        proxied = workdir / "proxied-kubeconfig"
        proxied.write_text(yaml.safe_dump(config))
        plane.kubectl("create", "namespace", RELIST, check=True)
        log = workdir / "registry.log"
        registry = RegistryProcess(
            workdir / "registry", "--kubeconfig", str(proxied), log=log, log_level="info"
        )
        registry.start()
        registry.wait_ready()
        yield Relisting(plane, proxy, registry, log)
    finally:
        if registry is not None:
            registry.stop()
        proxy.stop()
        plane.stop()


def relist_event_type(name: str, **spec: Any) -> Json:
    return eventtype(name, RELIST, type=f"dev.relist.{name}", **spec)


async def test_a_relist_after_410_reports_vanished_event_types_as_deleted(
    relisting: Relisting, node: str
) -> None:
    """The registry is cut off from the cluster; meanwhile an EventType is deleted, one is
    changed, one is created and the cluster's history moves past the registry's watch. Back
    in touch, the watch gets 410 Expired, the registry relists, and subscribers are told:
    DELETED (with the last known state), UPDATED, ADDED — and nothing for the untouched."""
    plane, proxy, registry = relisting.plane, relisting.proxy, relisting.registry
    opened = Subscribers(node, registry.url)
    try:
        await kubectl(
            plane,
            "apply",
            "-f",
            "-",
            input=manifest(
                relist_event_type("victim", description="about to vanish"),
                relist_event_type("survivor"),
                relist_event_type("changer"),
            ),
        )
        variables = {"namespace": RELIST, "includeExisting": True}
        watchers = [
            await opened.node("node", None, CHANGES, variables),
            await opened.gql("gql legacy", None, CHANGES, variables, subprotocol=LEGACY_WS),
        ]
        await each_until(
            watchers,
            lambda w: (
                [kind for kind, _ in kinds_and_names(w)]
                == ["EXISTING", "EXISTING", "EXISTING", "INITIAL_SET_COMPLETE"]
            ),
            "the initial set",
        )
        marker = len(watchers[0].deliveries)

        await asyncio.to_thread(proxy.hold)
        await kubectl(plane, "delete", "eventtypes.eventing.knative.dev", "victim", "-n", RELIST)
        await kubectl(
            plane, "label", "eventtypes.eventing.knative.dev", "changer", "-n", RELIST, "moved=yes"
        )
        await kubectl(plane, "apply", "-f", "-", input=manifest(relist_event_type("newcomer")))
        noise = [
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": f"noise-{index}", "namespace": RELIST},
                "data": {"index": str(index)},
            }
            for index in range(8)
        ]
        await kubectl(plane, "apply", "-f", "-", input=manifest(*noise))
        assert not [w for w in watchers if len(w.deliveries) > marker], "news while cut off"
        await asyncio.to_thread(proxy.release)

        expected = {
            ("DELETED", "victim"),
            ("UPDATED", "changer"),
            ("ADDED", "newcomer"),
        }
        await each_until(
            watchers, lambda w: set(kinds_and_names(w)[4:]) >= expected, "the relist's changes"
        )
        assert proxy.held, "no request waited for the proxy: nothing was cut off"
        log = relisting.log.read_text(errors="replace")
        assert re.search(r"EventType: resourceVersion \S+ expired; relisting", log), log[-4000:]
        await kubectl(plane, "apply", "-f", "-", input=manifest(relist_event_type("afterwards")))
        await seen_by_all(watchers, "afterwards")
        for watcher in watchers:
            changes = watcher.changes("eventTypeChanges")[4:]
            assert sorted(kinds_and_names(watcher)[4:]) == sorted(
                [*expected, ("ADDED", "afterwards")]
            ), watcher.label
            deleted = next(c for c in changes if c["kind"] == "DELETED")
            assert deleted["eventType"]["namespace"] == RELIST
            assert deleted["eventType"]["name"] == "victim"
            assert deleted["eventType"]["type"] == "dev.relist.victim"  # the last known state
            changed = next(c for c in changes if c["kind"] == "UPDATED")
            assert changed["eventType"]["labels"] == [{"key": "moved", "value": "yes"}]
    finally:
        await opened.close()


async def test_a_cursor_from_before_a_restart_asks_for_a_resync(
    relisting: Relisting, node: str
) -> None:
    """After the registry restarts, a cursor it handed out earlier cannot be resumed from:
    the subscription says RESYNC_REQUIRED first, then carries on with live changes."""
    plane, registry = relisting.plane, relisting.registry
    opened = Subscribers(node, registry.url)
    try:
        live = {"namespace": RELIST, "includeExisting": False}
        before = await opened.node("before the restart", None, CHANGES, live)
        await kubectl(plane, "apply", "-f", "-", input=manifest(relist_event_type("pre-restart")))
        await seen_by_all([before], "pre-restart")
        cursor = last_cursor(before)
        await opened.close()

        await asyncio.to_thread(registry.stop)
        await asyncio.to_thread(registry.start)
        await asyncio.to_thread(registry.wait_ready)
        opened.url = registry.url
        resumed = await opened.node("after the restart", None, CHANGES, {**live, "since": cursor})
        await resumed.until(lambda: resumed.deliveries, "RESYNC_REQUIRED")
        first = resumed.changes("eventTypeChanges")[0]
        assert first["kind"] == "RESYNC_REQUIRED", first
        assert first["eventType"] is None
        assert "query again" in str(first["message"])
        await kubectl(plane, "apply", "-f", "-", input=manifest(relist_event_type("post-restart")))
        await seen_by_all([resumed], "post-restart")
        assert [c["kind"] for c in resumed.changes("eventTypeChanges")] == [
            "RESYNC_REQUIRED",
            "ADDED",
        ]
    finally:
        await opened.close()


# the server's timers (the forgetful registry) ------------------------------------------------


async def test_no_connection_init_within_the_timeout_is_closed_4408(
    forgetful: RegistryProcess,
) -> None:
    opened = time.monotonic()
    ws = await open_raw(forgetful.url)
    try:
        code, reason = await close_of(ws, timeout=INIT_TIMEOUT + DELIVER_WITHIN)
    finally:
        await ws.close()
    waited = time.monotonic() - opened
    assert (code, reason) == (4408, "Connection initialisation timeout")
    assert INIT_TIMEOUT * 0.9 <= waited < INIT_TIMEOUT + 3, waited


@pytest.mark.parametrize(
    ("subprotocol", "keepalive"), [(TRANSPORT_WS, {"type": "ping"}), (LEGACY_WS, {"type": "ka"})]
)
async def test_the_server_sends_keepalives_every_interval(
    forgetful: RegistryProcess, subprotocol: str, keepalive: Json
) -> None:
    """``ping`` (graphql-transport-ws) or ``ka`` (legacy, which also gets one right after the
    ack) every ``--ws-keepalive-interval`` seconds, to a client that sends nothing."""
    ws = await open_raw(forgetful.url, subprotocol)
    try:
        await initialise(ws)
        acked = time.monotonic()
        if subprotocol == LEGACY_WS:
            assert await receive(ws, timeout=1) == keepalive
        heard: list[float] = []
        for _ in range(2):
            assert await receive(ws, timeout=KEEPALIVE_INTERVAL + DELIVER_WITHIN) == keepalive
            heard.append(time.monotonic())
            if subprotocol == TRANSPORT_WS:
                await send(ws, {"type": "pong"})
        first, second = heard[0] - acked, heard[1] - heard[0]
        assert KEEPALIVE_INTERVAL * 0.8 <= first < KEEPALIVE_INTERVAL + 2, first
        assert KEEPALIVE_INTERVAL * 0.5 <= second < KEEPALIVE_INTERVAL + 2, second
    finally:
        await ws.close()


# RESYNC_REQUIRED (the forgetful registry) ------------------------------------------------------


async def register_all(url: str, namespace: str, names: Sequence[str]) -> None:
    gate = asyncio.Semaphore(6)

    async def one(name: str) -> None:
        async with gate:
            await register(url, namespace, name)

    await asyncio.gather(*(one(name) for name in names))


def settled_in(registry: RegistryProcess, namespace: str, names: Sequence[str]) -> bool:
    """Every one of ``names`` shows the readiness controller's status (so the registry, and
    its hub, have every change of theirs)."""
    data = data_of(
        registry.query(
            "query Ready($ns: String) { eventTypes(namespace: $ns) { nodes { name ready } } }",
            {"ns": namespace},
            token=WRITER,
        )
    )
    shown = {str(n["name"]) for n in data["eventTypes"]["nodes"] if n["ready"] is not None}
    return shown >= set(names)


async def test_a_cursor_older_than_the_retained_history_asks_for_a_resync(
    forgetful: RegistryProcess, forgetful_subscribers: Subscribers
) -> None:
    """A client leaves; 25 EventTypes are registered (50 changes with their statuses, the hub
    keeps 20). Resuming from its cursor, it is told RESYNC_REQUIRED, gets none of the
    forgotten changes, then live changes; the RESYNC_REQUIRED cursor is one to resume from."""
    live = {"namespace": HISTORY, "includeExisting": False}
    first = await forgetful_subscribers.node("first connection", WRITER, CHANGES, live)
    await sentinel(forgetful.url, HISTORY, [first])
    cursor = last_cursor(first)
    await first.stop()

    forgotten = [f"forgotten-{index:02d}" for index in range(HUB_HISTORY + 5)]
    await register_all(forgetful.url, HISTORY, forgotten)
    await asyncio.to_thread(
        eventually, lambda: settled_in(forgetful, HISTORY, forgotten), 30, interval=0.1
    )
    resumed = await forgetful_subscribers.node(
        "resumed (too late)", WRITER, CHANGES, {**live, "since": cursor}
    )
    await resumed.until(lambda: resumed.deliveries, "RESYNC_REQUIRED")
    name = await sentinel(forgetful.url, HISTORY, [resumed])
    await resumed.until(functools.partial(settled, resumed, name), f"{name}'s status")
    changes = resumed.changes("eventTypeChanges")
    resync, after = changes[0], changes[1:]
    assert resync["kind"] == "RESYNC_REQUIRED", resync
    assert resync["eventType"] is None, resync
    assert resync["message"] == "the cursor is older than the retained history: query again"
    assert [(c["kind"], c["eventType"]["name"]) for c in after[:2]] == [
        ("ADDED", name),
        ("UPDATED", name),
    ], after
    assert not [n for n in forgotten if resumed.mentions(n)]
    assert not resumed.ended

    again = await forgetful_subscribers.gql(
        "resumed from the RESYNC_REQUIRED cursor",
        WRITER,
        CHANGES,
        {**live, "since": resync["cursor"]},
    )
    await again.until(lambda: len(again.changes("eventTypeChanges")) >= len(after), "the replay")
    assert again.changes("eventTypeChanges") == after


async def test_a_subscription_overtaken_by_the_retained_history_asks_for_a_resync(
    forgetful: RegistryProcess, forgetful_subscribers: Subscribers
) -> None:
    """A Broker carrying 25 EventTypes stops being ready: 26 changes at once, more than the
    hub keeps, so a live eventTypeChanges subscription cannot read them. It is told
    RESYNC_REQUIRED (none of the 26 changes) and completes; resuming from that cursor works."""
    live = {"namespace": BEHIND, "includeExisting": False}
    overtaken = await forgetful_subscribers.node("overtaken", WRITER, CHANGES, live)
    start = await sentinel(forgetful.url, BEHIND, [overtaken])
    await overtaken.until(functools.partial(settled, overtaken, start), f"{start}'s status")
    before = len(overtaken.deliveries)

    await set_broker_ready(forgetful, BEHIND, OVERTAKEN, "False", "Overtaken")
    await overtaken.until(lambda: overtaken.ended, "the end of the subscription")
    assert overtaken.completed, (overtaken.closed, overtaken.failures)
    changes = overtaken.changes("eventTypeChanges")[before:]
    assert [(c["kind"], c["eventType"], c["message"]) for c in changes] == [
        (
            "RESYNC_REQUIRED",
            None,
            "this subscription fell behind the retained history: query again",
        )
    ]
    assert not overtaken.mentions(f"{OVERTAKEN}-000")

    resumed = await forgetful_subscribers.node(
        "resumed", WRITER, CHANGES, {**live, "since": changes[0]["cursor"]}
    )
    name = await sentinel(forgetful.url, BEHIND, [resumed])
    resumed_first = resumed.changes("eventTypeChanges")[0]
    assert (resumed_first["kind"], resumed_first["eventType"]["name"]) == ("ADDED", name)


async def test_readiness_and_broker_subscriptions_overtaken_by_the_history_say_so(
    forgetful: RegistryProcess, forgetful_subscribers: Subscribers
) -> None:
    """The same for eventTypeReadinessChanged and brokerChanges: the 25 readiness transitions
    of the flip are lost to them, so they must be told to query again, not just completed."""
    variables = {"namespace": BEHIND}
    readiness = await forgetful_subscribers.node("readiness", WRITER, READINESS, variables)
    brokers = await forgetful_subscribers.node("brokers", WRITER, BROKERS, variables)
    await sentinel(forgetful.url, BEHIND, [readiness])
    await registry_label_broker(forgetful, BEHIND, OVERTAKEN_TOO, "poked=yes")
    await seen_by_all([brokers], OVERTAKEN_TOO)

    await set_broker_ready(forgetful, BEHIND, OVERTAKEN_TOO, "False", "Overtaken")
    await each_until([readiness, brokers], lambda s: s.ended, "the end of the subscription")
    assert readiness.changes("eventTypeReadinessChanged")[-1]["kind"] == "RESYNC_REQUIRED"
    assert brokers.changes("brokerChanges")[-1]["kind"] == "RESYNC_REQUIRED"
