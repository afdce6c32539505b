"""The query cost and response size limits, end to end against a real ``event-registry serve``.

One registry for the module (open mode, embedded control plane and readiness controller, the
default ``--max-query-cost`` and ``--max-response-size 1MiB``), with a namespace of 2,000
EventTypes on one Broker: enough that the nested-list query of the issue would answer
gigabytes if it ran, and that an unpaged list of every field of them is over 1 MiB. Queries go
over HTTP (urllib), subscriptions over graphql-transport-ws (the ``websockets`` library, raw).

What is checked: the nested query is refused with an answer of a few hundred bytes naming its
cost and the limit, and nothing of it ran (no data, no partial data, the server answers the
next request at once); every operation of the README is answered (its subscription receives
the readiness change its mutations cause); answers carry ``extensions.cost``; a subscription
over the limit gets an ``error`` message; an answer over the size limit is replaced by an
error naming the limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from graphql import parse
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from tests.support.registry import (
    Json,
    RegistryProcess,
    broker,
    data_of,
    eventtype,
    eventually,
    http,
)

REPO = Path(__file__).resolve().parents[2]
CROWDED = "team-a"
CROWD = 2_000
LIMIT = 500_000
"""The default --max-query-cost (graphql/limits.py)."""
NESTED = (
    '{eventTypes(namespace:"team-a"){nodes{broker{eventTypes{broker{eventTypes{broker{'
    "eventTypes{broker{eventTypes{name}}}}}}}}}}}"
)
EVERY_FIELD = """
query Everything($namespace: String!) {
  eventTypes(namespace: $namespace) {
    nodes {
      id name namespace type source schema description ready reason consumable apiVersion
      labels { key value } attributes { name value required }
      conditions { type status reason message lastTransitionTime severity }
      broker { name ready }
    }
  }
}
"""


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryProcess]:
    directory = tmp_path_factory.mktemp("limits") / "registry"
    running = RegistryProcess(directory, "--max-response-size", "1MiB").start()
    try:
        running.wait_ready(timeout=60)
        running.kubectl("create", "namespace", CROWDED, check=True)
        crowd = [
            eventtype(
                f"event-{index:04d}",
                CROWDED,
                type=f"com.example.team-a.event-{index:04d}",
                source="https://team-a.example.com/service",
                description="One of many EventTypes of team A's Broker",
                broker="default",
            )
            for index in range(CROWD)
        ]
        running.apply(broker("default", CROWDED), *crowd)

        def all_shown() -> bool:
            count = "query($ns: String) { eventTypes(namespace: $ns, first: 0) { totalCount } }"
            shown = data_of(running.query(count, {"ns": CROWDED}))
            return bool(shown["eventTypes"]["totalCount"] == CROWD)

        eventually(all_shown, timeout=60, interval=0.2)
        yield running
    finally:
        running.stop()


def post_raw(registry: RegistryProcess, query: str, variables: Json | None = None) -> bytes:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    headers = {"content-type": "application/json", "accept": "application/json"}
    reply = http("POST", registry.url, body=body, headers=headers, timeout=60)
    assert reply.status == 200, reply.text[:2000]
    return reply.body


# the cost limit ----------------------------------------------------------------------------------


def test_nested_lists_are_refused_with_a_short_answer_naming_cost_and_limit(
    registry: RegistryProcess,
) -> None:
    body = post_raw(registry, NESTED)
    assert len(body) < 600, body
    answer = json.loads(body)
    assert answer["data"] is None
    [error] = answer["errors"]
    message = error["message"]
    found = re.fullmatch(
        r"query cost ([\d,]+) exceeds the limit of 500,000; "
        r"request fewer items \(first:\) or nest fewer lists",
        message,
    )
    assert found, message
    requested = int(found.group(1).replace(",", ""))
    assert requested > LIMIT
    assert error["extensions"] == {"code": "QUERY_COST_EXCEEDED"}
    assert answer["extensions"] == {"cost": {"requested": requested, "limit": LIMIT}}
    # Nothing of it ran or was left running: the next request is answered as usual.
    count = data_of(registry.query('{ eventTypes(namespace: "team-a", first: 0) { totalCount } }'))
    assert count == {"eventTypes": {"totalCount": CROWD}}


def test_a_small_page_of_the_same_nesting_is_refused_too(registry: RegistryProcess) -> None:
    query = NESTED.replace('namespace:"team-a"', 'namespace:"team-a", first: $n').replace(
        "{eventTypes(", "query($n: Int){eventTypes(", 1
    )
    answer = json.loads(post_raw(registry, query, {"n": 1}))
    assert answer["data"] is None
    assert "exceeds the limit of 500,000" in answer["errors"][0]["message"]


def test_answers_carry_their_cost(registry: RegistryProcess) -> None:
    query = 'query($n: Int) { eventTypes(namespace: "team-a", first: $n) { nodes { name } } }'
    for first in (3, 7):
        answer = registry.query(query, {"n": first})
        assert len(data_of(answer)["eventTypes"]["nodes"]) == first
        assert answer["extensions"] == {"cost": {"requested": 1 + first, "limit": LIMIT}}
    again = registry.query(query, {"n": 3})  # from the response cache: the same bytes
    assert again["extensions"] == {"cost": {"requested": 4, "limit": LIMIT}}


# the response size limit -------------------------------------------------------------------------


def test_an_answer_over_the_size_limit_is_replaced_by_an_error(registry: RegistryProcess) -> None:
    body = post_raw(registry, EVERY_FIELD, {"namespace": CROWDED})
    assert len(body) < 600, body[:600]
    answer = json.loads(body)
    assert answer["data"] is None
    [error] = answer["errors"]
    assert error["extensions"] == {"code": "RESPONSE_TOO_LARGE"}
    assert re.fullmatch(
        r"the response would be [\d.,]+ MiB, more than the limit of 1 MiB; "
        r"request fewer items \(first:\) or fewer fields",
        error["message"],
    ), error["message"]
    small = EVERY_FIELD.replace(
        "eventTypes(namespace: $namespace)", "eventTypes(namespace: $namespace, first: 100)"
    )
    assert len(data_of(registry.query(small, {"namespace": CROWDED}))["eventTypes"]["nodes"]) == 100


# the README --------------------------------------------------------------------------------------


def readme_operations() -> list[str]:
    text = (REPO / "README.md").read_text()
    operations: list[str] = []
    for block in re.findall(r"```graphql\n(.*?)```", text, flags=re.DOTALL):
        document = parse(block)
        operations.extend(block[d.loc.start : d.loc.end] for d in document.definitions if d.loc)
    return operations


async def test_every_readme_operation_is_answered(registry: RegistryProcess) -> None:
    operations = readme_operations()
    queries = [op for op in operations if op.lstrip().startswith("{")]
    mutations = [op for op in operations if op.lstrip().startswith("mutation")]
    subscriptions = [op for op in operations if op.lstrip().startswith("subscription")]
    assert (len(queries), len(mutations), len(subscriptions)) == (1, 2, 1), operations
    for query in queries:
        answer = registry.query(query)
        assert "errors" not in answer, answer
        assert answer["extensions"]["cost"]["requested"] <= LIMIT
    async with graphql_ws(registry) as websocket:
        await send(
            websocket, {"id": "readme", "type": "subscribe", "payload": {"query": subscriptions[0]}}
        )
        register, subscribe = mutations
        registered = data_of(registry.query(register))["registerEventType"]
        assert registered["__typename"] == "EventTypeRegistered", registered
        name = registered["eventType"]["name"]
        assert registered["brokerExists"] is False
        registry.apply(broker("default", "default"))  # the Broker appears: readiness changes
        event = await receive(websocket)
        assert event["type"] == "next", event
        change = event["payload"]["data"]["eventTypeReadinessChanged"]
        assert change["eventType"] == {"name": name}
        assert "extensions" not in event["payload"]  # events do not repeat the cost
        created = data_of(registry.query(subscribe.replace("<the name above>", name)))
        assert created["subscribeToEventType"]["__typename"] == "TriggerCreated", created


# subscriptions -----------------------------------------------------------------------------------


async def test_a_subscription_over_the_limit_gets_an_error_message(
    registry: RegistryProcess,
) -> None:
    query = (
        'subscription { eventTypeChanges(namespace: "team-a") { kind eventType { broker { '
        "eventTypes { broker { eventTypes { name } } } } } } }"
    )
    async with graphql_ws(registry) as websocket:
        await send(websocket, {"id": "heavy", "type": "subscribe", "payload": {"query": query}})
        message = await receive(websocket)
        assert message["type"] == "error", message
        assert message["id"] == "heavy"
        [error] = message["payload"]
        assert re.fullmatch(
            r"query cost [\d,]+ exceeds the limit of 500,000; "
            r"request fewer items \(first:\) or nest fewer lists",
            error["message"],
        ), error
        # The connection stays usable: a light subscription on the same connection starts.
        light = 'subscription { eventTypeChanges(namespace: "team-a") { kind eventType { name } } }'
        await send(websocket, {"id": "light", "type": "subscribe", "payload": {"query": light}})
        registry.kubectl(
            "label",
            "eventtypes.eventing.knative.dev",
            "event-0001",
            "-n",
            CROWDED,
            "seen=yes",
            check=True,
        )
        while True:  # the readiness controller may still be updating other EventTypes
            event = await receive(websocket)
            assert event["type"] == "next", event
            assert event["id"] == "light", event
            changed = event["payload"]["data"]["eventTypeChanges"]["eventType"]
            if changed == {"name": "event-0001"}:
                break


# graphql-transport-ws, raw -----------------------------------------------------------------------


@contextlib.asynccontextmanager
async def graphql_ws(registry: RegistryProcess) -> AsyncIterator[ClientConnection]:
    """A graphql-transport-ws connection, initialised (``connection_ack`` received)."""
    url = registry.url.replace("http://", "ws://", 1)
    async with connect(url, subprotocols=[Subprotocol("graphql-transport-ws")]) as websocket:
        await send(websocket, {"type": "connection_init", "payload": {}})
        ack = await receive(websocket)
        assert ack["type"] == "connection_ack", ack
        yield websocket


async def send(websocket: ClientConnection, message: Json) -> None:
    await websocket.send(json.dumps(message))


async def receive(websocket: ClientConnection, timeout: float = 30) -> Json:
    """The next message other than a ping (answered) or pong."""
    async with asyncio.timeout(timeout):
        while True:
            message: Json = json.loads(await websocket.recv())
            if message["type"] == "ping":
                await send(websocket, {"type": "pong"})
                continue
            if message["type"] != "pong":
                return message
