"""``/metrics`` and JSON logs on a real ``event-registry serve``.

The scrape is parsed with prometheus_client's own text parser (what a Prometheus client
library accepts); the figures must move with what the test does: requests by operation type,
objects per kind as created, the subscribers of an open subscription, response-cache hits for
a repeated query, a 4503 close for a client that cannot keep up. The server logs JSON lines
with the access log on, and a request's ``X-Request-Id`` comes back in its response and in
its log record. The Grafana dashboard's queries only name metrics a real scrape has.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from prometheus_client.parser import text_string_to_metric_families
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from tests.support.registry import (
    RegistryProcess,
    Reply,
    broker,
    data_of,
    eventtype,
    eventually,
    http,
    trigger,
)

NAMESPACE = "metrics"
CROWDED = "metrics-crowded"
PROTOCOL = Subprotocol("graphql-transport-ws")
DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "event-registry.json"

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryProcess]:
    data = tmp_path_factory.mktemp("metrics") / "data"
    # A tiny outbox: an initial set of a few EventTypes is more than a client may lag (4503).
    running = RegistryProcess(
        data, "--log-format", "json", "--access-log", "--ws-outbox-limit", "2"
    )
    try:
        running.start()
        running.wait_ready()
        running.apply(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": CROWDED}},
            broker("default", NAMESPACE),
            eventtype("one", NAMESPACE, type="dev.example.one"),
            eventtype("two", NAMESPACE, type="dev.example.two"),
            trigger("t", NAMESPACE),
            *(eventtype(f"e{i}", CROWDED, type=f"dev.example.e{i}") for i in range(8)),
        )
        eventually(lambda: objects(scrape(running)) == 10, timeout=30)
        yield running
    finally:
        running.stop()


def scrape(registry: RegistryProcess) -> Samples:
    reply = http("GET", f"{registry.origin}/metrics")
    assert reply.status == 200, reply.text
    assert header(reply, "content-type").startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(reply.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def header(reply: Reply, name: str) -> str:
    return {key.lower(): value for key, value in reply.headers.items()}[name]


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def objects(samples: Samples) -> float:
    return value(samples, "event_registry_cache_objects", kind="EventType")


def requests(samples: Samples, operation: str) -> float:
    return value(samples, "event_registry_http_request_duration_seconds_count", operation=operation)


def test_cache_objects_per_kind_and_sync_state(registry: RegistryProcess) -> None:
    samples = scrape(registry)
    assert value(samples, "event_registry_cache_objects", kind="EventType") == 10
    assert value(samples, "event_registry_cache_objects", kind="Broker") == 1
    assert value(samples, "event_registry_cache_objects", kind="Trigger") == 1
    assert value(samples, "event_registry_cache_objects", kind="Namespace") >= 3
    for kind in ("Namespace", "Broker", "EventType", "Trigger"):
        assert value(samples, "event_registry_cache_synced", kind=kind) == 1
        assert value(samples, "event_registry_watch_relists_total", kind=kind) >= 1
        assert ("event_registry_watch_expired_total", (("kind", kind),)) in samples
    assert value(samples, "event_registry_cache_changes_total") >= 13


def test_requests_by_operation_type_and_response_cache_hits(registry: RegistryProcess) -> None:
    before = scrape(registry)
    query = f'{{ eventTypes(namespace: "{NAMESPACE}") {{ nodes {{ name }} }} }}'
    for _ in range(3):
        data_of(registry.query(query))
    mutation = (
        f'mutation {{ createBroker(input: {{namespace: "{NAMESPACE}", name: "second"}}) '
        "{ __typename } }"
    )
    data_of(registry.query(mutation))
    http("POST", registry.url, body=b"{not json", headers={"content-type": "application/json"})
    after = scrape(registry)
    assert requests(after, "query") - requests(before, "query") == 3
    assert requests(after, "mutation") - requests(before, "mutation") == 1
    assert requests(after, "other") - requests(before, "other") >= 2  # the bad one, a scrape
    assert value(after, "event_registry_cache_objects", kind="Broker") == 2
    bucket = value(
        after, "event_registry_http_request_duration_seconds_bucket", operation="query", le="+Inf"
    )
    assert bucket == requests(after, "query")
    assert not any("namespace" in dict(labels) for _, labels in after)
    assert not any(NAMESPACE in value for _, labels in after for _, value in labels)


def test_a_repeated_query_is_a_response_cache_hit(registry: RegistryProcess) -> None:
    """The cache is keyed by the snapshot's revision: a change landing between two queries
    (a controller updating a status) makes a miss, so the pair is repeated until the second
    one hits (the first may hit too, when an earlier pair left the answer cached)."""
    query = f'{{ triggers(namespace: "{NAMESPACE}") {{ name }} }}'
    hits = "event_registry_response_cache_hits_total"
    misses = "event_registry_response_cache_misses_total"

    def hit() -> bool:
        before = scrape(registry)
        data_of(registry.query(query))
        data_of(registry.query(query))
        after = scrape(registry)
        assert value(after, misses) - value(before, misses) in (0, 1, 2)
        return value(after, hits) - value(before, hits) >= 1

    assert eventually(hit)


async def _subscribe(registry: RegistryProcess, query: str) -> ClientConnection:
    ws = await connect(registry.url.replace("http", "ws", 1), subprotocols=[PROTOCOL])
    await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
    assert json.loads(await ws.recv()) == {"type": "connection_ack"}
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
    return ws


async def _closed(ws: ClientConnection) -> ConnectionClosed:
    """Read until the server closes the connection; how it closed."""
    while True:
        try:
            await asyncio.wait_for(ws.recv(), 30)
        except ConnectionClosed as closed:
            return closed


@pytest.fixture
async def subscribed(registry: RegistryProcess) -> AsyncIterator[ClientConnection]:
    query = f'subscription {{ eventTypeChanges(namespace: "{NAMESPACE}") {{ kind }} }}'
    ws = await _subscribe(registry, query)
    try:
        yield ws
    finally:
        await ws.close()


async def test_subscribers_and_hub(registry: RegistryProcess, subscribed: ClientConnection) -> None:
    def counted() -> Samples | None:
        samples = scrape(registry)
        return samples if value(samples, "event_registry_subscribers") >= 1 else None

    counted_samples = await asyncio.to_thread(eventually, counted)
    assert counted_samples is not None
    samples = counted_samples
    assert value(samples, "event_registry_websocket_connections") >= 1
    assert value(samples, "event_registry_subscription_executions") >= 1
    assert (
        value(samples, "event_registry_websocket_operations_total", operation="subscription") >= 1
    )
    assert value(samples, "event_registry_hub_position") >= 13
    assert value(samples, "event_registry_hub_lag_changes") >= 0
    await asyncio.to_thread(registry.apply, eventtype("three", NAMESPACE, type="dev.example.3"))
    message = json.loads(await asyncio.wait_for(subscribed.recv(), 30))
    assert message["payload"]["data"]["eventTypeChanges"]["kind"] == "ADDED"
    samples = scrape(registry)
    assert value(samples, "event_registry_hub_readers") >= 1
    assert value(samples, "event_registry_outbox_frames") >= 0


async def test_a_client_too_far_behind_is_counted_when_closed_with_4503(
    registry: RegistryProcess,
) -> None:
    before = value(scrape(registry), "event_registry_slow_client_closes_total")
    query = (
        f'subscription {{ eventTypeChanges(namespace: "{CROWDED}", includeExisting: true) '
        "{ kind } }"
    )
    ws = await _subscribe(registry, query)
    closed = await _closed(ws)
    assert closed.rcvd is not None
    assert closed.rcvd.code == 4503
    after = value(scrape(registry), "event_registry_slow_client_closes_total")
    assert after - before == 1


def test_request_ids_are_echoed_and_logged_as_json(registry: RegistryProcess) -> None:
    reply = http(
        "POST",
        registry.url,
        body=json.dumps({"query": "{ __typename }"}).encode(),
        headers={"content-type": "application/json", "x-request-id": "req-metrics-42"},
    )
    assert reply.status == 200
    assert header(reply, "x-request-id") == "req-metrics-42"
    generated = http("GET", f"{registry.origin}/healthz", headers={"x-request-id": "no spaces!"})
    assert re.fullmatch(r"[0-9a-f]{32}", header(generated, "x-request-id"))

    def logged() -> dict[str, Any] | None:
        for line in (registry.data_dir / "registry.log").read_text().splitlines():
            if '"req-metrics-42"' in line:
                record: dict[str, Any] = json.loads(line)
                return record
        return None

    found = eventually(logged)
    assert found is not None
    record = found
    assert record["logger"] == "event_registry.access"
    assert record["level"] == "info"
    assert record["operation"] == "query"
    assert record["status"] == 200
    assert record["message"].startswith("POST /graphql")
    assert {"timestamp", "duration_seconds"} <= record.keys()


def test_every_metric_on_the_dashboard_is_served(registry: RegistryProcess) -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    expressions = [
        target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])
    ]
    assert expressions
    queried = {name for expr in expressions for name in re.findall(r"event_registry_\w+", expr)}
    served = {name for name, _ in scrape(registry)}
    assert queried
    assert queried <= served, queried - served


def test_uvicorns_own_records_are_json_lines_too(registry: RegistryProcess) -> None:
    address = urlsplit(registry.url)
    assert address.hostname is not None
    assert address.port is not None
    with socket.create_connection((address.hostname, address.port), timeout=30) as sock:
        sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        sock.recv(65536)

    def logged() -> dict[str, Any] | None:
        for line in (registry.data_dir / "registry.log").read_text().splitlines():
            if "uvicorn" in line:
                record: dict[str, Any] = json.loads(line)
                return record
        return None

    found = eventually(logged)
    assert found is not None
    assert found["logger"] == "uvicorn.error"
    assert found["level"] == "warning"
