"""``serve --workers 2``, seen from outside: one port, two worker processes behind it.

The registry is the real console script (embedded control plane, run by the parent); tests
reach it over HTTP and WebSockets only, and tell the workers apart by the
``X-Registry-Worker: <index>; pid=<pid>`` header every response carries (WebSocket handshakes
too). The module shares one registry; the tests that stop a parent start their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import urllib.error
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from tests.support.controlplane import REPO
from tests.support.registry import (
    RegistryProcess,
    broker,
    data_of,
    eventtype,
    eventually,
    http,
)

PROTOCOL = Subprotocol("graphql-transport-ws")
HEADER = "x-registry-worker"
CHANGES = (
    "subscription Changes($namespace: String!, $since: String) { "
    "eventTypeChanges(namespace: $namespace, since: $since) { kind cursor eventType { name } } }"
)
Worker = tuple[int, int]  # (index, pid)


def worker_of(headers: Any) -> Worker:
    value = next(v for k, v in headers.items() if k.lower() == HEADER)
    index, _, pid = value.partition("; pid=")
    return int(index), int(pid)


def children(pid: int) -> set[int]:
    """The live child processes of ``pid``."""
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return {int(child) for child in text.split()}


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def workers_answering(registry: RegistryProcess, requests: int = 40) -> set[Worker]:
    """The workers that answered ``requests`` GETs of /readyz, each on a new connection."""
    seen = set()
    for _ in range(requests):
        reply = registry.get("/readyz")
        assert reply.status == 200, reply.text
        seen.add(worker_of(reply.headers))
    return seen


def start_registry(data_dir: Path, *extra: str, log_level: str = "warning") -> RegistryProcess:
    registry = RegistryProcess(
        data_dir, "--workers", "2", "--cluster", "embedded", *extra, log_level=log_level
    ).start()
    try:
        registry.wait_ready()
    except BaseException:
        registry.stop()
        raise
    return registry


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryProcess]:
    registry = start_registry(tmp_path_factory.mktemp("workers"))
    try:
        yield registry
    finally:
        registry.stop()


@pytest.fixture
def namespace(registry: RegistryProcess) -> str:
    name = f"workers-{uuid.uuid4().hex[:8]}"
    registry.kubectl("create", "namespace", name, check=True)
    return name


def test_queries_through_one_port_are_answered_by_both_workers(
    registry: RegistryProcess, namespace: str
) -> None:
    registry.apply(broker("default", namespace), eventtype("order-created", namespace, type="o"))
    seen = workers_answering(registry)
    assert {index for index, _ in seen} == {0, 1}, seen
    assert {pid for _, pid in seen} == children(registry.pid), "the parent's own children"
    query = f'{{ eventTypes(namespace: "{namespace}") {{ nodes {{ name }} }} }}'

    def every_worker_sees_it() -> set[Worker]:
        answered = set()
        for _ in range(20):
            reply = http(
                "POST",
                registry.url,
                body=json.dumps({"query": query}).encode(),
                headers={"content-type": "application/json"},
            )
            assert reply.status == 200, reply.text
            assert data_of(reply.json())["eventTypes"]["nodes"] == [{"name": "order-created"}]
            answered.add(worker_of(reply.headers))
        return answered

    assert {index for index, _ in eventually(every_worker_sees_it)} == {0, 1}


@contextlib.asynccontextmanager
async def subscribed(
    registry: RegistryProcess, namespace: str, since: str | None = None
) -> AsyncIterator[tuple[ClientConnection, Worker]]:
    url = "ws" + registry.url.removeprefix("http")
    async with connect(url, subprotocols=[PROTOCOL]) as ws:
        assert ws.response is not None
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await ws.recv()) == {"type": "connection_ack"}
        variables = {"namespace": namespace, "since": since}
        payload = {"query": CHANGES, "variables": variables}
        await ws.send(json.dumps({"type": "subscribe", "id": "1", "payload": payload}))
        yield ws, worker_of(ws.response.headers)


async def next_change(ws: ClientConnection) -> dict[str, Any]:
    async with asyncio.timeout(20):
        while True:
            message = json.loads(await ws.recv())
            assert message["type"] == "next", message
            change: dict[str, Any] = message["payload"]["data"]["eventTypeChanges"]
            return change


async def test_subscriptions_on_either_worker_get_the_clusters_changes(
    registry: RegistryProcess, namespace: str
) -> None:
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(subscribed(registry, namespace)) for _ in "x" * 8
        ]
        assert {worker for _, (worker, _pid) in clients} == {0, 1}, "8 connections, one worker"
        await asyncio.sleep(0.2)  # subscribed (the server answers nothing until a change)
        registry.apply(eventtype("invoice-paid", namespace, type="com.example.invoice.paid"))
        for ws, worker in clients:
            change = await next_change(ws)
            assert change["kind"] == "ADDED", (worker, change)
            assert change["eventType"] == {"name": "invoice-paid"}


async def test_a_cursor_from_one_worker_is_accepted_by_the_other(
    registry: RegistryProcess, namespace: str
) -> None:
    """Both seal cursors with the data dir's one key: the other worker opens the cursor (it
    resumes from it, or asks for a resync since its history is its own), never calls it
    forged."""
    async with subscribed(registry, namespace) as (ws, (first, _)):
        await asyncio.sleep(0.2)
        registry.apply(eventtype("shipped", namespace, type="com.example.shipped"))
        cursor = (await next_change(ws))["cursor"]
    async with contextlib.AsyncExitStack() as stack:
        for _ in range(40):
            ws, (index, _) = await stack.enter_async_context(
                subscribed(registry, namespace, since=cursor)
            )
            if index != first:
                break
        else:
            raise AssertionError("40 connections, all on one worker")
        change = await next_change(ws)  # an error frame fails here
        assert change["kind"] in {"RESYNC_REQUIRED", "ADDED", "UPDATED", "DELETED"}, change
    assert (registry.data_dir / "cursor-key").stat().st_mode & 0o077 == 0


def test_a_killed_worker_is_started_again_and_the_port_keeps_answering(
    registry: RegistryProcess,
) -> None:
    def both() -> set[Worker]:
        seen = workers_answering(registry)
        return seen if len(seen) == 2 else set()

    before = eventually(both)
    index, pid = min(before)
    os.kill(pid, signal.SIGKILL)
    # Reaped, not merely a zombie leader: a leader thread shows "Z" while the worker's other
    # threads still hold its listening socket, where the kernel may still queue (then reset)
    # a connection. The parent reaps it once every thread is gone.
    eventually(lambda: not Path(f"/proc/{pid}").exists())
    for _ in range(20):  # the survivor, and the new worker once it has synced
        reply = registry.get("/readyz")
        assert reply.status == 200, reply.text
        assert worker_of(reply.headers)[1] != pid

    def restarted() -> set[Worker]:
        seen = workers_answering(registry)
        return seen if {i for i, _ in seen} == {0, 1} and pid not in {p for _, p in seen} else set()

    after = eventually(restarted, timeout=30)
    assert before - {(index, pid)} <= after, "the other worker kept running"
    assert {p for _, p in after} == children(registry.pid)
    assert "was killed by SIGKILL; starting it again" in registry.output()


def test_sigterm_stops_the_parent_and_every_worker(tmp_path: Path) -> None:
    registry = start_registry(tmp_path, "--log-format", "json", log_level="info")
    try:
        parent = registry._process.process
        assert parent is not None
        workers = children(registry.pid)
        assert len(workers) >= 2
        parent.send_signal(signal.SIGTERM)
        assert parent.wait(60) == 0, registry.output()
        eventually(lambda: not any(alive(pid) for pid in workers), timeout=10)
        with pytest.raises((urllib.error.URLError, ConnectionError)):
            http("GET", f"{registry.origin}/healthz", timeout=5)
        log = (registry.data_dir / "registry.log").read_text()
        records = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
        started = [
            re.fullmatch(r"worker (\d) \(pid (\d+)\) serves (\S+)", r["message"])
            for r in records
            if r["logger"] == "event_registry.app.workers"
        ]
        lines = {(int(m[1]), int(m[2]), m[3]) for m in started if m is not None}
        assert {(index, url) for index, _, url in lines} == {(0, registry.url), (1, registry.url)}
        assert {pid for _, pid, _ in lines} == workers, "one line per worker"
        assert {r.get("worker") for r in records} >= {None, 0, 1}, "parent and workers log"
    finally:
        registry.stop()


def test_workers_stop_by_themselves_when_the_parent_is_killed(tmp_path: Path) -> None:
    registry = start_registry(tmp_path)
    try:
        workers = children(registry.pid)
        os.kill(registry.pid, signal.SIGKILL)
        eventually(lambda: not any(alive(pid) for pid in workers), timeout=30)
    finally:
        registry.stop()


def test_brokers_address_the_ingress_the_parent_serves(
    registry: RegistryProcess, namespace: str
) -> None:
    registry.apply(broker("default", namespace))

    def address() -> str:
        done = registry.kubectl(
            "get", "broker", "default", "-n", namespace, "-o", "jsonpath={.status.address.url}"
        )
        return done.stdout.strip()

    url = eventually(address)
    headers = {
        "ce-specversion": "1.0",
        "ce-id": "1",
        "ce-type": "com.example.ping",
        "ce-source": "/tests",
        "content-type": "application/json",
    }
    reply = http("POST", url, body=b"{}", headers=headers)
    assert reply.status == 202, reply.text


@pytest.mark.parametrize("flag", ["--port", "--controlplane-port", "--ingress-port"])
def test_a_taken_port_stops_the_parent_before_any_worker_starts(flag: str, tmp_path: Path) -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        ports = {"--port": "0", "--controlplane-port": "0", "--ingress-port": "0", flag: str(port)}
        done = subprocess.run(
            [sys.executable, "-m", "event_registry", "serve", "--workers", "2"]
            + ["--cluster", "embedded", "--data-dir", str(tmp_path), "--log-level", "warning"]
            + [part for item in ports.items() for part in item],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
    assert done.returncode == 2, done
    assert done.stderr == f"error: port {port} on 127.0.0.1 is in use; choose another with {flag}\n"
    assert done.stdout == ""


def test_a_worker_that_cannot_start_stops_serve_with_status_1(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\n")  # no current-context
    args = ["serve", "--workers", "2", "--port", "0", "--kubeconfig", str(kubeconfig)]
    args += ["--data-dir", str(tmp_path / "data"), "--log-level", "warning"]
    done = subprocess.run(
        [sys.executable, "-m", "event_registry", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 1, done
    last = done.stderr.splitlines()[-1]
    assert re.fullmatch(
        r"error: worker [01] \(pid \d+\) exited with status 1 before every worker served "
        r"\(its log is above\)",
        last,
    ), done.stderr[-2000:]
    assert "registry:" not in done.stdout
