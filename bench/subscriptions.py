"""Subscription load benchmark: thousands of subscribers, Broker flips, memory and stalled clients.

Run from the repository root::

    .venv/bin/python -m bench.subscriptions [--quick] [--subscribers 1000,10000]

It starts ``event-registry serve`` (embedded control plane and readiness controller) in a
temporary directory, one fresh process per measured size so that memory figures start clean,
and a load generator in a separate process (:mod:`bench.subscription_load`: one asyncio loop
holding every client connection). Setup: namespace ``bench``, a Broker ``default`` made Ready by
the embedded controller and ten EventTypes on it (``et-00`` … ``et-09``). Every client runs the
same subscription (:data:`QUERY`, ``eventTypeReadinessChanged(namespace: "bench")``), so the
registry shares one execution among all of them.

A *flip* is a merge patch of the Broker's ``status`` subresource on the control plane (Ready
True ↔ False), sent with its wall-clock time (``time.time()``); the registry then emits one
readiness event per EventType (consumable changes) and every client records when the bytes of
its first event for each EventType arrived. Latency is receive time minus send time, over all
(client, EventType) receptions of every flip; a reception that never came counts as infinite.

1. **Held subscribers and memory**, for each size N: connect time, how many connections were
   acknowledged and subscribed, the serve process's ``VmRSS`` before connecting and with N
   idle subscribers (→ KB per idle subscriber), and again after the flips.
2. **Latency**, for each size N: one warm-up flip (it also shows every subscription is live),
   then ``flips`` measured flips: p50 / p99 / max.
3. **Baseline A, a direct Kubernetes watch**: a raw aiohttp ``watch=true`` stream of Brokers on
   the same control plane sees every flip; its latency with the registry idle (one subscriber)
   is the floor, and the registry's own pipeline (its informer is such a watch) adds to it.
4. **Baseline B, a naive Strawberry server** (:mod:`bench.naive_subscriptions_server`: one
   queue and one GraphQL execution per subscriber) with the same N, the same load generator
   and document; ``POST /trigger`` stands in for the patch (ten events, one per EventType).
   Its flips repeat only while another fits in ``naive_budget`` seconds.
5. **Stalled clients**: ``stall_subscribers`` clients, first all healthy, then with one of them
   (1 in 100) no longer reading its socket (its receive buffer made small; the connection
   kept). Two more Brokers, ``bulk-a`` and ``bulk-b``, carry ``bulk`` EventTypes each, with
   long descriptions. Each of ``stall_rounds`` rounds flips one of them (``bulk`` events per
   client: fewer than the outbox limit of 1,000 frames, so a healthy client is never behind by
   that much, while the two Brokers together have more distinct objects than the limit, so
   coalescing cannot keep the stalled client's outbox under it) and then ``default``
   (measured); more ``default`` flips follow. The healthy clients' p99 with the stalled client
   is set beside the run without it. At the end the stalled client reads again and reports
   how its connection ended (the registry should have closed it with 4503).

Every process's CPU time is sampled around each flip, and so is the whole machine's (from
``/proc/stat``): the machine is shared, and CPU that other processes took is reported beside
the figures. ``--py-spy FILE`` profiles the registry during the largest size's flips and
``--gc-log`` logs its garbage-collection pauses (through a gc callback in a wrapper, the
server's code unchanged). The digest of the measured server code is in the results.

Full mode takes about 4 minutes here (more on a loaded machine), ``--quick`` (sizes 200 and
1,000, 50 clients in the stall runs) about 1. Results: ``bench/results/subscriptions.json`` and a
``Subscriptions`` section in ``bench/README.md`` (full mode only, unless ``--output`` is given).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import datetime
import hashlib
import json
import math
import os
import resource
import shutil
import signal
import statistics
import sys
import tempfile
import textwrap
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from tests.support.registry import AnnouncingProcess

from bench import reporting

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results" / "subscriptions.json"
README = REPO / "bench" / "README.md"

NAMESPACE = "bench"
EVENTING = "eventing.knative.dev"
BROKERS = f"/apis/{EVENTING}/v1/namespaces/{NAMESPACE}/brokers"
EVENTTYPES = f"/apis/{EVENTING}/v1beta2/namespaces/{NAMESPACE}/eventtypes"
MERGE_PATCH = "application/merge-patch+json"
DEFAULT_BROKER = "default"
BULK_BROKERS = ("bulk-a", "bulk-b")
DEFAULT_TYPES = 10
DEFAULT_PREFIX = "et-"
BULK_DESCRIPTION = 2000  # characters: big frames fill the stalled client's buffers sooner
QUERY = (
    'subscription { eventTypeReadinessChanged(namespace: "bench") { kind cursor cause reason '
    "previousReady ready previousConsumable consumable "
    "eventType { namespace name type source description } } }"
)
STREAM_TIMEOUT = aiohttp.ClientTimeout(total=None, sock_read=None)
RETRIES = 3  # attempts of a request whose keep-alive connection the server dropped
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=60)
SERVER_CODE = tuple(
    REPO / "server" / "event_registry" / part
    for part in ("app/live", "hub", "graphql/subscriptions.py", "app/serving.py", "app/http.py")
)
TARGET_KB = 35.0
TARGET_P99 = {1_000: 0.100, 10_000: 0.500}
TARGET_STALL_RATIO = 1.10
CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Scale:
    sizes: tuple[int, ...]
    flips: int  # measured flips per size
    naive_budget: float  # seconds of naive flips per size (at least one flip)
    stall_subscribers: int
    stall_rounds: int  # rounds of (bulk flip, default flip); further default flips follow
    stall_repeats: int  # pairs of runs (none stalled, one stalled), alternating
    bulk: int  # EventTypes on each bulk Broker: fewer than the outbox limit, more than half
    connect_timeout: float
    collect_timeout: float


FULL = Scale(
    sizes=(1_000, 10_000),
    flips=5,
    naive_budget=60.0,
    stall_subscribers=100,
    stall_rounds=4,
    stall_repeats=2,
    bulk=600,
    connect_timeout=180.0,
    collect_timeout=60.0,
)
QUICK = Scale(
    sizes=(200, 1_000),
    flips=5,
    naive_budget=10.0,
    stall_subscribers=50,
    stall_rounds=4,
    stall_repeats=2,
    bulk=600,
    connect_timeout=60.0,
    collect_timeout=30.0,
)


def progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# statistics ------------------------------------------------------------------------------


def percentile(samples: Sequence[float], q: float) -> float:
    """The q-th percentile, linearly interpolated between the closest ranks (inf allowed)."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    if math.isinf(ordered[high]):
        return ordered[high] if position > low or high == low else ordered[low]
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass
class Latencies:
    """Seconds from a change to each of its receptions; receptions that never came are inf."""

    samples: list[float] = field(default_factory=list)
    missing: int = 0

    def add(self, samples: Sequence[float], missing: int) -> None:
        self.samples.extend(samples)
        self.missing += missing

    def stat(self, q: float) -> float:
        return percentile([*self.samples, *([math.inf] * self.missing)], q)

    def summary(self) -> dict[str, Any]:
        def ms(value: float) -> float | None:
            return round(value * 1000, 3) if math.isfinite(value) else None

        return {
            "receptions": len(self.samples),
            "missing": self.missing,
            "p50_ms": ms(self.stat(50)),
            "p90_ms": ms(self.stat(90)),
            "p99_ms": ms(self.stat(99)),
            "max_ms": ms(self.stat(100)),
        }


# processes ---------------------------------------------------------------------------------


def raise_fd_limit() -> int:
    """Raise this process's open-file limit to its hard limit; children inherit it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def machine_busy_seconds() -> float:
    """CPU seconds all processes of the machine have used (every core), from /proc/stat."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


class Server:
    """A server child process that announces ``<name>: URL``; its log goes to a file."""

    def __init__(
        self, name: str, args: Sequence[str], log: Path, env: dict[str, str] | None = None
    ) -> None:
        self.name = name
        self.process = AnnouncingProcess(name, args, log, cwd=REPO, env=env)
        self.url = ""

    def start(self, timeout: float = 60.0) -> Server:
        self.url = self.process.start(self.name, timeout)
        return self

    @property
    def pid(self) -> int:
        assert self.process.process is not None
        return self.process.process.pid

    @property
    def origin(self) -> str:
        return self.url.removesuffix("/graphql")

    @property
    def ws_url(self) -> str:
        return "ws" + self.url.removeprefix("http")

    def stop(self) -> None:
        self.process.stop()

    async def wait_listening(self, session: aiohttp.ClientSession, path: str) -> None:
        """Poll ``path`` until it answers 200 (the URL is announced before uvicorn listens)."""
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(self.origin + path) as response:
                    if response.status == 200:
                        return
            if not self.process.running:
                raise RuntimeError(f"{self.name} exited:\n{self.process.output()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} not ready:\n{self.process.output()}")
            await asyncio.sleep(0.1)


GC_WRAPPER = """
import gc, os, sys, time
from event_registry.cli import main
log = open(os.environ["BENCH_GC_LOG"], "a", buffering=1)
began = [0.0]
def pause(phase, info):
    if phase == "start":
        began[0] = time.perf_counter()
    elif time.perf_counter() - began[0] >= 0.005:
        elapsed = time.perf_counter() - began[0]
        log.write(f"{time.time():.6f} {info['generation']} {elapsed:.6f}\\n")
gc.callbacks.append(pause)
main(sys.argv[1:])
"""
"""``event-registry serve`` with a gc callback logging every collection of 5 ms or more
(wall time, generation, seconds): ``--gc-log`` runs the registry through it."""


def registry_server(directory: Path, gc_log: Path | None = None) -> Server:
    data = directory / "data"
    data.mkdir(parents=True, exist_ok=True)
    launcher = ["-c", GC_WRAPPER] if gc_log is not None else ["-m", "event_registry"]
    args = [
        sys.executable,
        *launcher,
        "serve",
        "--cluster",
        "embedded",
        "--port",
        "0",
        "--controlplane-port",
        "0",
        "--data-dir",
        str(data),
        "--log-level",
        "warning",
        # Every client comes from this machine's address, one caller to the registry (in open
        # mode a caller is a remote address): its per-caller budgets (50 connections, 1,000
        # subscriptions by default) are raised to what the whole server may hold.
        "--max-connections-per-caller",
        "20000",
        "--max-subscriptions-per-caller",
        "100000",
    ]
    env = {**os.environ, "BENCH_GC_LOG": str(gc_log)} if gc_log is not None else None
    return Server("registry", args, directory / "registry.log", env=env)


def naive_server(directory: Path) -> Server:
    args = [sys.executable, "-m", "bench.naive_subscriptions_server", "--port", "0"]
    return Server("naive", args, directory / "naive.log")


class Generator:
    """The load generator process, driven one JSON command per line."""

    def __init__(self) -> None:
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> Generator:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.subscription_load",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            cwd=REPO,
            limit=1 << 28,
        )
        return self

    async def call(self, command: str, wait: float, **arguments: Any) -> dict[str, Any]:
        """Send one command; its answer, waiting up to ``wait`` seconds (plus a margin)."""
        process = self.process
        assert process is not None
        assert process.stdin is not None
        assert process.stdout is not None
        process.stdin.write((json.dumps({"cmd": command, **arguments}) + "\n").encode())
        await process.stdin.drain()
        async with asyncio.timeout(wait + 30):
            line = await process.stdout.readline()
        if not line:
            raise RuntimeError(f"the load generator exited during {command}")
        result: dict[str, Any] = json.loads(line)
        return result

    async def stop(self) -> None:
        process = self.process
        if process is None:
            return
        with contextlib.suppress(Exception):
            assert process.stdin is not None
            process.stdin.write(b'{"cmd": "exit"}\n')
            await process.stdin.drain()
            process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), 15)
        except TimeoutError:
            process.kill()
            await process.wait()
        self.process = None


# the control plane -------------------------------------------------------------------------


class Plane:
    """The embedded control plane, reached over HTTP with its kubeconfig's server and token."""

    def __init__(self, kubeconfig: Path, session: aiohttp.ClientSession) -> None:
        config = yaml.safe_load(kubeconfig.read_text())
        self.url = str(config["clusters"][0]["cluster"]["server"]).rstrip("/")
        token = config["users"][0]["user"].get("token")
        self.headers = {"authorization": f"Bearer {token}"} if token else {}
        self.session = session
        self.conditions: dict[str, list[dict[str, Any]]] = {}
        self.ready: dict[str, bool] = {}

    async def request(self, method: str, path: str, body: Any = None) -> Any:
        """One JSON request; a dropped keep-alive connection is retried (a create that turns
        out to have succeeded before the drop answers 409 then, and counts as done)."""
        data = None if body is None else json.dumps(body)
        headers = {"content-type": "application/json", **self.headers}
        for attempt in range(RETRIES):
            try:
                async with self.session.request(
                    method, self.url + path, data=data, headers=headers, timeout=REQUEST_TIMEOUT
                ) as response:
                    text = await response.text()
            except aiohttp.ClientConnectionError:
                if attempt == RETRIES - 1:
                    raise
                await asyncio.sleep(0.1)
                continue
            if response.status == 409 and method == "POST" and attempt > 0:
                return json.loads(text)
            if response.status >= 400:
                raise RuntimeError(f"{method} {path} → {response.status}: {text[:500]}")
            return json.loads(text)
        raise AssertionError("unreachable")

    async def create_many(self, path: str, bodies: Sequence[dict[str, Any]]) -> None:
        pending = iter(bodies)

        async def worker() -> None:
            for body in pending:
                await self.request("POST", path, body)

        async with asyncio.TaskGroup() as group:
            for _ in range(16):
                group.create_task(worker())

    async def remember_broker(self, name: str) -> None:
        broker = await self.request("GET", f"{BROKERS}/{name}")
        self.conditions[name] = list(broker["status"]["conditions"])
        ready = next(c for c in self.conditions[name] if c["type"] == "Ready")
        self.ready[name] = ready["status"] == "True"

    async def flip(self, name: str) -> tuple[bool, float]:
        """Patch the Broker's Ready condition to the other value: (new value, send time)."""
        target = not self.ready[name]
        conditions = [
            {**c, "status": "True" if target else "False", "reason": "" if target else "BenchFlip"}
            if c["type"] == "Ready"
            else c
            for c in self.conditions[name]
        ]
        body = json.dumps({"status": {"conditions": conditions}})
        headers = {**self.headers, "content-type": MERGE_PATCH}
        for attempt in range(RETRIES):
            sent = time.time()
            try:
                async with self.session.patch(
                    f"{self.url}{BROKERS}/{name}/status", data=body, headers=headers
                ) as response:
                    if response.status >= 400:
                        text = await response.text()
                        raise RuntimeError(f"status patch → {response.status}: {text}")
                    await response.read()
                break
            except aiohttp.ClientConnectionError:  # the same patch again is harmless
                if attempt == RETRIES - 1:
                    raise
        self.ready[name] = target
        return target, sent


class BrokerWatch:
    """Baseline A: a raw watch of the namespace's Brokers, as any Kubernetes client sees flips."""

    def __init__(self, plane: Plane) -> None:
        self.plane = plane
        self.waiting: dict[tuple[str, bool], asyncio.Future[float]] = {}
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> BrokerWatch:
        listed = await self.plane.request("GET", BROKERS)
        version = listed["metadata"]["resourceVersion"]
        url = f"{self.plane.url}{BROKERS}?watch=true&resourceVersion={version}"
        response = await self.plane.session.get(
            url, headers=self.plane.headers, timeout=STREAM_TIMEOUT
        )
        response.raise_for_status()
        self.task = asyncio.create_task(self._read(response))
        return self

    async def _read(self, response: aiohttp.ClientResponse) -> None:
        async with response:
            while line := await response.content.readline():
                received = time.time()
                event = json.loads(line)
                broker = event.get("object") or {}
                name = str((broker.get("metadata") or {}).get("name"))
                conditions = (broker.get("status") or {}).get("conditions") or []
                ready = next(
                    (c["status"] == "True" for c in conditions if c["type"] == "Ready"), None
                )
                future = self.waiting.pop((name, ready), None) if ready is not None else None
                if future is not None and not future.done():
                    future.set_result(received)

    def expect(self, name: str, ready: bool) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting[(name, ready)] = future
        return future

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task


# setup ---------------------------------------------------------------------------------------


def eventtype(name: str, index: int, broker: str, description: str) -> dict[str, Any]:
    return {
        "apiVersion": f"{EVENTING}/v1beta2",
        "kind": "EventType",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "type": f"dev.knative.bench.event{index}",
            "source": f"https://bench.example.com/{name}",
            "description": description,
            "reference": {"apiVersion": f"{EVENTING}/v1", "kind": "Broker", "name": broker},
        },
    }


async def graphql(session: aiohttp.ClientSession, url: str, query: str) -> dict[str, Any]:
    for attempt in range(RETRIES):
        try:
            async with session.post(
                url, json={"query": query}, timeout=REQUEST_TIMEOUT
            ) as response:
                document = await response.json()
            break
        except aiohttp.ClientConnectionError:
            if attempt == RETRIES - 1:
                raise
            await asyncio.sleep(0.1)
    if "errors" in document:
        raise RuntimeError(f"GraphQL errors: {document['errors']}")
    data: dict[str, Any] = document["data"]
    return data


async def consumable_count(session: aiohttp.ClientSession, url: str, broker: str) -> int:
    query = (
        f'{{ eventTypes(namespace: "{NAMESPACE}", '
        f'filter: {{broker: "{broker}", consumable: true}}, first: 1) {{ totalCount }} }}'
    )
    data = await graphql(session, url, query)
    return int(data["eventTypes"]["totalCount"])


async def setup(plane: Plane, registry: Server, bulk: int) -> None:
    """Namespace ``bench``, Broker ``default`` with ten EventTypes (and each of
    ``BULK_BROKERS`` with ``bulk``), all consumable as the registry sees them."""
    session = plane.session
    await plane.request("POST", "/api/v1/namespaces", {"metadata": {"name": NAMESPACE}})
    brokers = [DEFAULT_BROKER, *(BULK_BROKERS if bulk else ())]
    for name in brokers:
        body = {
            "apiVersion": f"{EVENTING}/v1",
            "kind": "Broker",
            "metadata": {"name": name, "namespace": NAMESPACE},
            "spec": {},
        }
        await plane.request("POST", BROKERS, body)
    types = [
        eventtype(f"{DEFAULT_PREFIX}{i:02d}", i, DEFAULT_BROKER, f"bench EventType et-{i:02d}")
        for i in range(DEFAULT_TYPES)
    ]
    long = "x" * BULK_DESCRIPTION
    for name in BULK_BROKERS if bulk else ():
        types += [eventtype(f"{name}-{i:04d}", i, name, long) for i in range(bulk)]
    began = time.monotonic()
    await plane.create_many(EVENTTYPES, types)
    expected = dict.fromkeys(BULK_BROKERS, bulk) | {DEFAULT_BROKER: DEFAULT_TYPES}
    deadline = time.monotonic() + 180
    for name in brokers:
        while await consumable_count(session, registry.url, name) < expected[name]:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the EventTypes of Broker {name} did not become consumable")
            await asyncio.sleep(0.2)
        await plane.remember_broker(name)
        if not plane.ready[name]:
            raise RuntimeError(f"Broker {name} is not Ready")
    progress(f"setup: {len(types)} EventTypes consumable in {time.monotonic() - began:.1f} s")


# measuring -----------------------------------------------------------------------------------


@dataclass
class Flip:
    latencies: list[float]
    missing: int
    watch: float | None
    server_cpu: float
    generator_cpu: float
    other_cpu: float  # other processes on the (shared) machine
    wall: float
    stalled_received: int = 0


@dataclass
class Connected:
    requested: int
    connected: int
    acked: int
    subscribed: int
    seconds: float
    failures: dict[str, int]
    errors: list[str]
    live: int = 0  # received the warm-up flip


@contextlib.asynccontextmanager
async def holding(
    generator: Generator,
    url: str,
    count: int,
    timeout: float,
    stalled: Sequence[int] = (),
) -> AsyncIterator[Connected]:
    reply = await generator.call(
        "connect",
        timeout,
        url=url,
        count=count,
        query=QUERY,
        stalled=list(stalled),
        timeout=timeout,
    )
    connected = Connected(
        reply["requested"],
        reply["connected"],
        reply["acked"],
        reply["subscribed"],
        reply["seconds"],
        reply["failures"],
        reply["errors"],
    )
    try:
        yield connected
    finally:
        await generator.call("disconnect", 30)


class CpuMeter:
    """CPU seconds spent by the server, the load generator, this process and everything else on
    the machine (other processes: the machine is shared) between ``start`` and ``stop``."""

    def __init__(self, server_pid: int) -> None:
        self.server_pid = server_pid
        self._server = self._machine = self._own = 0.0

    def start(self) -> None:
        self._server = cpu_seconds(self.server_pid)
        self._machine = machine_busy_seconds()
        self._own = time.process_time()

    def stop(self, generator_cpu: float) -> tuple[float, float]:
        """(server CPU seconds, CPU seconds of other processes)."""
        server = cpu_seconds(self.server_pid) - self._server
        machine = machine_busy_seconds() - self._machine
        own = time.process_time() - self._own
        return server, max(0.0, machine - server - generator_cpu - own)


async def registry_flip(
    generator: Generator,
    plane: Plane,
    watch: BrokerWatch,
    pid: int,
    broker: str,
    expected: int,
    timeout: float,
) -> Flip:
    target = not plane.ready[broker]
    prefix = DEFAULT_PREFIX if broker == DEFAULT_BROKER else f"{broker}-"
    await generator.call("arm", 10, consumable=target, prefix=prefix, expected=expected)
    watched = watch.expect(broker, target)
    meter = CpuMeter(pid)
    meter.start()
    _, sent = await plane.flip(broker)
    reply = await generator.call("collect", timeout, sent=sent, timeout=timeout)
    server_cpu, other_cpu = meter.stop(reply["generator_cpu_seconds"])
    try:
        watch_latency: float | None = await asyncio.wait_for(watched, 10) - sent
    except TimeoutError:
        watch_latency = None
    return flip_of(reply, watch_latency, server_cpu, other_cpu)


def flip_of(
    reply: dict[str, Any], watch: float | None, server_cpu: float, other_cpu: float
) -> Flip:
    latencies = [value / 1e6 for value in reply["latencies_us"]]
    return Flip(
        latencies,
        max(0, reply["expected"] - len(latencies)),
        watch,
        server_cpu,
        reply["generator_cpu_seconds"],
        other_cpu,
        reply["generator_wall_seconds"],
        reply["stalled_received"],
    )


async def naive_flip(
    generator: Generator,
    session: aiohttp.ClientSession,
    server: Server,
    state: list[bool],
    timeout: float,
) -> Flip:
    target = not state[0]
    await generator.call("arm", 10, consumable=target, prefix=DEFAULT_PREFIX, expected=10)
    meter = CpuMeter(server.pid)
    meter.start()
    sent = time.time()
    async with session.post(f"{server.origin}/trigger", json={"consumable": target}) as response:
        response.raise_for_status()
        await response.read()
    state[0] = target
    reply = await generator.call("collect", timeout, sent=sent, timeout=timeout)
    server_cpu, other_cpu = meter.stop(reply["generator_cpu_seconds"])
    return flip_of(reply, None, server_cpu, other_cpu)


def summarize_flips(flips: Sequence[Flip]) -> dict[str, Any]:
    latencies = Latencies()
    for flip in flips:
        latencies.add(flip.latencies, flip.missing)
    watches = [f.watch for f in flips if f.watch is not None]
    return {
        "flips": len(flips),
        "latency": latencies.summary(),
        "per_flip_p99_ms": [
            round(percentile([*f.latencies, *([math.inf] * f.missing)], 99) * 1000, 3)
            for f in flips
        ],
        "watch_ms": [round(w * 1000, 3) for w in watches],
        "server_cpu_seconds_per_flip": [round(f.server_cpu, 3) for f in flips],
        "generator_cpu_seconds_per_flip": [round(f.generator_cpu, 3) for f in flips],
        "other_processes_cpu_seconds_per_flip": [round(f.other_cpu, 3) for f in flips],
        "generator_wall_seconds_per_flip": [round(f.wall, 3) for f in flips],
    }


def all_latencies(flips: Sequence[Flip]) -> Latencies:
    latencies = Latencies()
    for flip in flips:
        latencies.add(flip.latencies, flip.missing)
    return latencies


async def settle_rss(pid: int, seconds: float = 2.0) -> int:
    await asyncio.sleep(seconds)
    return rss_kb(pid)


def gc_pauses(path: Path, start: float = 0.0, end: float = math.inf) -> dict[str, Any]:
    """Garbage collections of 5 ms or more logged by :data:`GC_WRAPPER` in [start, end]."""
    pauses: dict[str, list[float]] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            when, generation, seconds = line.split()
            if start <= float(when) <= end:
                pauses.setdefault(f"gen{generation}", []).append(float(seconds))
    return {
        generation: {
            "count": len(values),
            "total_ms": round(sum(values) * 1000, 1),
            "max_ms": round(max(values) * 1000, 1),
        }
        for generation, values in sorted(pauses.items())
    }


@contextlib.asynccontextmanager
async def profiling(pid: int, output: Path | None) -> AsyncIterator[None]:
    """py-spy ``record`` (raw collapsed stacks) of process ``pid`` while the block runs."""
    if output is None:
        yield
        return
    py_spy = shutil.which("py-spy", path=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    if py_spy is None:
        raise SystemExit("--py-spy needs py-spy (pip install py-spy, into the venv)")
    output.parent.mkdir(parents=True, exist_ok=True)
    command = [py_spy, "record", "-p", str(pid), "-o", str(output), "-f", "raw", "-r", "100"]
    spy = await asyncio.create_subprocess_exec(
        *command, "--nonblocking", stdout=asyncio.subprocess.DEVNULL
    )
    await asyncio.sleep(1.0)  # attached
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(spy.wait(), 60)
        except TimeoutError:
            spy.kill()
            await spy.wait()


def hot_spots(path: Path, count: int = 25) -> list[dict[str, Any]]:
    """The functions most often on the stack (inclusive share of samples) in a raw profile."""
    inclusive: dict[str, int] = {}
    total = 0
    for line in path.read_text().splitlines() if path.exists() else []:
        stack, _, samples = line.rpartition(" ")
        if not stack or not samples.isdigit():
            continue
        total += int(samples)
        seen = set()
        for frame in stack.split(";"):
            name, _, where = frame.partition(" (")
            key = f"{name} ({where.split(':')[0].rsplit('/', 1)[-1]})" if where else name
            if key not in seen:
                seen.add(key)
                inclusive[key] = inclusive.get(key, 0) + int(samples)
    ranked = sorted(inclusive.items(), key=lambda item: -item[1])
    skip = ("<module>", "_run_code", "_run_module_as_main", "main (cli.py)", "run (runners.py)")
    plumbing = ("(base_events.py)", "(runners.py)", "(events.py)", "(__main__.py)")
    useful = [(k, v) for k, v in ranked if not k.startswith(skip) and not k.endswith(plumbing)]
    return [{"function": key, "share": round(value / total, 3)} for key, value in useful[:count]]


# phases --------------------------------------------------------------------------------------


@dataclass
class Context:
    scale: Scale
    generator: Generator
    session: aiohttp.ClientSession
    directory: Path
    py_spy: Path | None = None
    gc_log: bool = False
    results: dict[str, Any] = field(default_factory=dict)


@contextlib.asynccontextmanager
async def registry_running(
    ctx: Context, label: str, bulk: int = 0
) -> AsyncIterator[tuple[Server, Plane, BrokerWatch]]:
    gc_log = ctx.directory / label / "gc.log" if ctx.gc_log else None
    server = registry_server(ctx.directory / label, gc_log).start()
    try:
        await server.wait_listening(ctx.session, "/readyz")
        plane = Plane(ctx.directory / label / "data" / "kubeconfig", ctx.session)
        await setup(plane, server, bulk)
        watch = await BrokerWatch(plane).start()
        try:
            yield server, plane, watch
        finally:
            await watch.stop()
    finally:
        server.stop()


async def measure_registry(ctx: Context, size: int, first: bool) -> dict[str, Any]:
    scale, generator = ctx.scale, ctx.generator
    result: dict[str, Any] = {}
    async with registry_running(ctx, f"registry-{size}") as (server, plane, watch):

        async def flip() -> Flip:
            return await registry_flip(
                generator,
                plane,
                watch,
                server.pid,
                DEFAULT_BROKER,
                DEFAULT_TYPES,
                scale.collect_timeout,
            )

        if first:
            progress(f"baseline A: {scale.flips} flips, direct watch and 1 registry subscriber")
            async with holding(generator, server.ws_url, 1, scale.connect_timeout):
                await flip()
                single = [await flip() for _ in range(scale.flips)]
            ctx.results["single"] = summarize_flips(single)
        rss_before = await settle_rss(server.pid)
        progress(f"registry: connecting {size:,} subscribers")
        async with holding(generator, server.ws_url, size, scale.connect_timeout) as held:
            rss_idle = await settle_rss(server.pid)
            progress(
                f"registry: {held.subscribed:,}/{size:,} subscribed in {held.seconds:.1f} s; "
                f"RSS {rss_before / 1024:.0f} → {rss_idle / 1024:.0f} MiB; warm-up flip"
            )
            warm = await flip()
            held.live = size - math.ceil(warm.missing / DEFAULT_TYPES)
            flips = []
            window = time.time()
            profile = ctx.py_spy if size == max(scale.sizes) else None
            async with profiling(server.pid, profile):
                for index in range(scale.flips):
                    flips.append(await flip())
                    summary = all_latencies(flips[-1:])
                    progress(
                        f"registry N={size:,}: flip {index + 1}/{scale.flips} p50 "
                        f"{summary.stat(50) * 1000:.1f} ms, p99 {summary.stat(99) * 1000:.1f} ms"
                    )
            window_end = time.time()
            rss_after = await settle_rss(server.pid, 1.0)
        result = {
            "held": asdict(held),
            "rss_kb_before": rss_before,
            "rss_kb_idle": rss_idle,
            "rss_kb_after_flips": rss_after,
            "kb_per_idle_subscriber": (rss_idle - rss_before) / size,
            "warm_up": summarize_flips([warm]),
            **summarize_flips(flips),
        }
        if ctx.gc_log:
            result["gc_pauses"] = gc_pauses(ctx.directory / f"registry-{size}" / "gc.log")
            result["gc_pauses_during_flips"] = gc_pauses(
                ctx.directory / f"registry-{size}" / "gc.log", window, window_end
            )
        if profile is not None:
            result["profile_top"] = hot_spots(profile)
    return result


async def measure_naive(ctx: Context, size: int) -> dict[str, Any]:
    scale, generator = ctx.scale, ctx.generator
    server = naive_server(ctx.directory / f"naive-{size}").start()
    try:
        await server.wait_listening(ctx.session, "/graphql?query=%7Bsubscribers%7D")
        rss_before = await settle_rss(server.pid)
        progress(f"naive: connecting {size:,} subscribers")
        async with holding(generator, server.ws_url, size, scale.connect_timeout) as held:
            rss_idle = await settle_rss(server.pid)
            state = [True]
            progress(f"naive: {held.subscribed:,}/{size:,} subscribed in {held.seconds:.1f} s")
            warm = await naive_flip(generator, ctx.session, server, state, scale.collect_timeout)
            held.live = size - math.ceil(warm.missing / DEFAULT_TYPES)
            flips: list[Flip] = []
            began = time.monotonic()
            while len(flips) < scale.flips:
                flips.append(
                    await naive_flip(generator, ctx.session, server, state, scale.collect_timeout)
                )
                summary = all_latencies(flips[-1:])
                progress(
                    f"naive N={size:,}: flip {len(flips)} p50 {summary.stat(50) * 1000:.1f} ms, "
                    f"p99 {summary.stat(99) * 1000:.1f} ms"
                )
                spent = time.monotonic() - began
                if spent + spent / len(flips) > scale.naive_budget:
                    break
            rss_after = await settle_rss(server.pid, 1.0)
    finally:
        server.stop()
    return {
        "held": asdict(held),
        "rss_kb_before": rss_before,
        "rss_kb_idle": rss_idle,
        "rss_kb_after_flips": rss_after,
        "kb_per_idle_subscriber": (rss_idle - rss_before) / size,
        "warm_up": summarize_flips([warm]),
        **summarize_flips(flips),
    }


@dataclass
class StallRun:
    summary: dict[str, Any]
    default: list[Flip]
    bulk: list[Flip]


def p99_ms(flips: Sequence[Flip]) -> float | None:
    value = all_latencies(flips).stat(99)
    return round(value * 1000, 3) if math.isfinite(value) else None


async def stall_run(
    ctx: Context, server: Server, plane: Plane, watch: BrokerWatch, stalled: bool
) -> StallRun:
    scale, generator = ctx.scale, ctx.generator
    count = scale.stall_subscribers
    stalled_indices = [count // 2] if stalled else []
    label = "1 stalled" if stalled else "none stalled"

    async def flip(broker: str, expected: int) -> Flip:
        return await registry_flip(
            generator, plane, watch, server.pid, broker, expected, scale.collect_timeout
        )

    async with holding(
        generator, server.ws_url, count, scale.connect_timeout, stalled_indices
    ) as held:
        await flip(DEFAULT_BROKER, DEFAULT_TYPES)  # warm-up
        bulk_flips: list[Flip] = []
        default_flips: list[Flip] = []
        for round_ in range(scale.flips):
            if round_ < scale.stall_rounds:
                broker = BULK_BROKERS[round_ % len(BULK_BROKERS)]
                bulk_flips.append(await flip(broker, scale.bulk))
            default_flips.append(await flip(DEFAULT_BROKER, DEFAULT_TYPES))
            progress(
                f"stall ({label}): round {round_ + 1}/{scale.flips}, default p99 "
                f"{all_latencies(default_flips[-1:]).stat(99) * 1000:.1f} ms"
            )
        resumed = await generator.call("resume", 10, seconds=5.0) if stalled else {}
    return StallRun(
        {
            "stalled": stalled,
            "held": asdict(held),
            "stalled_index": stalled_indices,
            "default": summarize_flips(default_flips),
            "bulk": summarize_flips(bulk_flips),
            "resumed": resumed,
        },
        default_flips,
        bulk_flips,
    )


async def measure_stall(ctx: Context) -> dict[str, Any]:
    """Runs without and with a stalled client, alternating (the machine's load drifts), each
    ``stall_repeats`` times; the two runs without one give the noise floor of the ratio."""
    scale = ctx.scale
    progress(
        f"stall: {scale.stall_subscribers} subscribers, "
        f"Brokers {' and '.join(BULK_BROKERS)} with {scale.bulk} EventTypes each"
    )
    runs: dict[bool, list[StallRun]] = {False: [], True: []}
    async with registry_running(ctx, "registry-stall", bulk=scale.bulk) as (server, plane, watch):
        for _ in range(scale.stall_repeats):
            for stalled in (False, True):
                runs[stalled].append(await stall_run(ctx, server, plane, watch, stalled))
    result: dict[str, Any] = {"subscribers": scale.stall_subscribers}
    for stalled, label in ((False, "control"), (True, "stalled")):
        result[label] = {
            kind: summarize_flips([f for run in runs[stalled] for f in getattr(run, kind)])
            for kind in ("default", "bulk")
        }
    result["stalled"]["resumed"] = [run.summary["resumed"] for run in runs[True]]
    controls = runs[False]
    if len(controls) >= 2:
        result["noise_floor"] = {
            kind: {
                "control_p99_ms_per_run": [p99_ms(getattr(run, kind)) for run in controls],
            }
            for kind in ("default", "bulk")
        }
    result["runs"] = [run.summary for pair in zip(*runs.values(), strict=True) for run in pair]
    return result


async def measure(
    scale: Scale, directory: Path, *, py_spy: Path | None = None, gc_log: bool = False
) -> dict[str, Any]:
    generator = await Generator().start()
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            ctx = Context(scale, generator, session, directory, py_spy, gc_log)
            registry: dict[str, Any] = {}
            naive: dict[str, Any] = {}
            for index, size in enumerate(scale.sizes):
                registry[str(size)] = await measure_registry(ctx, size, first=index == 0)
            for size in scale.sizes:
                naive[str(size)] = await measure_naive(ctx, size)
            ctx.results["registry"] = registry
            ctx.results["naive"] = naive
            ctx.results["stall"] = await measure_stall(ctx)
            return ctx.results
    finally:
        await generator.stop()


# report --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    figure: str
    ours: str
    naive: str
    watch: str
    target: str
    met: bool | None


def fmt_ms(value: float | None) -> str:
    if value is None:
        return "timeout"
    if value >= 100:
        return f"{value:,.0f} ms"
    return f"{value:.1f} ms"


def rows(results: dict[str, Any]) -> list[Row]:
    out: list[Row] = []
    single = results["single"]["latency"]
    watch_ms = results["single"]["watch_ms"]
    watch = {"p50": percentile(watch_ms, 50), "p99": percentile(watch_ms, 99)}
    for stat in ("p50", "p99"):
        out.append(
            Row(
                f"Broker patch → event {stat}, 1 subscriber (idle registry)",
                fmt_ms(single[f"{stat}_ms"]),
                "",
                fmt_ms(watch[stat]),
                "",
                None,
            )
        )
    for size, ours in results["registry"].items():
        n = int(size)
        naive = results["naive"].get(size, {})
        held, naive_held = ours["held"], naive.get("held", {})
        all_held = held["live"] == n
        out.append(
            Row(
                f"N={n:,}: subscribers held (live after warm-up) / connect time",
                f"{held['live']:,}/{n:,}, {held['seconds']:.1f} s",
                f"{naive_held.get('live', 0):,}/{n:,}, {naive_held.get('seconds', 0):.1f} s"
                if naive_held
                else "",
                "",
                f"{n:,} held",
                all_held,
            )
        )
        kb = ours["kb_per_idle_subscriber"]
        out.append(
            Row(
                f"N={n:,}: server RSS per idle subscriber",
                f"{kb:.1f} KB",
                f"{naive['kb_per_idle_subscriber']:.1f} KB" if naive else "",
                "",
                f"≤ {TARGET_KB:.0f} KB",
                kb <= TARGET_KB,
            )
        )
        out.append(
            Row(
                f"N={n:,}: server CPU per flip; other processes' load (shared machine)",
                cpu_note(ours),
                cpu_note(naive) if naive else "",
                "",
                "",
                None,
            )
        )
        watch_under = ours["watch_ms"]
        for stat, q in (("p50", 50), ("p99", 99), ("max", 100)):
            target_s = TARGET_P99.get(n) if stat == "p99" else None
            value = ours["latency"][f"{stat}_ms"]
            out.append(
                Row(
                    f"N={n:,}: Broker patch → readiness event {stat} "
                    f"({ours['latency']['receptions']:,} receptions)",
                    fmt_ms(value),
                    fmt_ms(naive["latency"][f"{stat}_ms"]) if naive else "",
                    fmt_ms(percentile(watch_under, q)) if watch_under else "",
                    f"≤ {target_s * 1000:.0f} ms" if target_s else "",
                    (value is not None and value <= target_s * 1000) if target_s else None,
                )
            )
    stall = results["stall"]
    control, stalled = stall["control"], stall["stalled"]
    # The target is checked on the p99 pooled over all receptions, as the issue states it.
    # That figure is set by the single slowest flip (one flip is a thousand receptions, more
    # than 1% of them), and on a shared machine a slow flip comes with or without a stalled
    # client, so each flip's p99 (median over the flips) is shown beside it.
    base = statistics.median(control["default"]["per_flip_p99_ms"])
    value = statistics.median(stalled["default"]["per_flip_p99_ms"])
    ratio = value / base if base else math.inf
    out.append(
        Row(
            f"{stall['subscribers']} subscribers, 1 stalled: healthy p99 per flip, median of "
            f"{len(stalled['default']['per_flip_p99_ms'])} flips",
            f"{fmt_ms(value)} (x{ratio:.2f}; {fmt_ms(base)} none stalled)",
            "",
            "",
            "",
            None,
        )
    )
    for label, key in (("default flips", "default"), ("bulk flips (filling)", "bulk")):
        base = control[key]["latency"]["p99_ms"]
        value = stalled[key]["latency"]["p99_ms"]
        ratio = value / base if value is not None and base else math.inf
        primary = key == "default"
        noise = stall.get("noise_floor", {}).get(key, {}).get("control_p99_ms_per_run", [])
        floor = ""
        if len(noise) >= 2 and None not in noise and min(noise) > 0:
            floor = f"; runs without: {' / '.join(fmt_ms(v) for v in noise)}"
        out.append(
            Row(
                f"{stall['subscribers']} subscribers, 1 stalled: healthy p99 pooled, {label}",
                f"{fmt_ms(value)} (x{ratio:.2f}{floor})",
                "",
                "",
                f"≤ x{TARGET_STALL_RATIO:.2f} of {fmt_ms(base)} (none stalled)" if primary else "",
                ratio <= TARGET_STALL_RATIO if primary else None,
            )
        )
    ends = [end for resumed in stalled["resumed"] for end in resumed.get("stalled", [])]
    codes = [e["close_code"] for e in ends]
    endings = collections.Counter(describe_end(e) for e in ends)
    out.append(
        Row(
            "stalled client closed by the server (4503)",
            ", ".join(f"{text} ({n} of {len(ends)} runs)" for text, n in endings.items()) or "-",
            "",
            "",
            "closed with 4503",
            bool(codes) and all(code == 4503 for code in codes),
        )
    )
    return out


def cpu_note(phase: dict[str, Any]) -> str:
    """Median server CPU seconds per flip, and the cores other processes kept busy meanwhile."""
    server = statistics.median(phase["server_cpu_seconds_per_flip"])
    other = sum(phase["other_processes_cpu_seconds_per_flip"])
    wall = sum(phase["generator_wall_seconds_per_flip"])
    return f"{server:.2f} s; others {other / wall if wall else 0:.1f} cores"


def describe_end(end: dict[str, Any]) -> str:
    """How a stalled client's connection ended (the close reason is in the JSON)."""
    if not end["closed"]:
        return "still open"
    return f"closed {end['close_code']}"


def table(rows_: Sequence[Row]) -> str:
    header = (
        "Figure",
        "Ours",
        "Naive Strawberry",
        "Direct K8s watch, same flips",
        "Target",
        "Met?",
    )
    cells = [header] + [
        (
            r.figure,
            r.ours,
            r.naive or "-",
            r.watch or "-",
            r.target or "-",
            "-" if r.met is None else ("yes" if r.met else "NO"),
        )
        for r in rows_
    ]
    widths = [max(len(row[c]) for row in cells) for c in range(len(header))]
    lines = [
        "| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) + " |"
        for row in cells
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def code_fingerprint() -> dict[str, Any]:
    """Which server code was measured: a digest of the live-delivery sources and their newest
    modification time (the work tree may change between runs)."""
    digest = hashlib.sha256()
    newest = 0.0
    for path in sorted(
        p for root in SERVER_CODE for p in (root.rglob("*.py") if root.is_dir() else [root])
    ):
        digest.update(path.relative_to(REPO).as_posix().encode() + b"\0" + path.read_bytes())
        newest = max(newest, path.stat().st_mtime)
    modified = datetime.datetime.fromtimestamp(newest, datetime.UTC).isoformat(timespec="seconds")
    return {"sha256": digest.hexdigest()[:16], "newest_change": modified}


def update_readme(path: Path, info: dict[str, Any], text: str) -> None:
    """Replace the ``## Subscriptions`` section of the README (append it when absent)."""
    paragraphs = [
        "`.venv/bin/python -m bench.subscriptions` (`--quick` for a short run): the registry's "
        "GraphQL subscriptions under load, one server process, the load generator in another "
        "(see the module docstring of `bench/subscriptions.py`). Baselines: a naive Strawberry "
        "server (one queue and one GraphQL execution per subscriber, "
        "`bench/naive_subscriptions_server.py`) and a direct Kubernetes watch of the Brokers on "
        "the same control plane. Latency is from the Broker status patch to each client's "
        "receipt of its readiness event, over all (client, EventType) receptions of "
        f"{info['flips']} flips.",
        "Reading the figures: every latency is end to end on one shared 2-core machine, with the "
        "server, the load generator (which checks every frame) and whatever else runs there "
        "competing for the cores; the CPU row gives the server's CPU seconds per flip (the work "
        "a flip costs) and how many cores other processes kept busy meanwhile. The direct "
        "watch is the floor: the registry's informer is such a watch, in the same process as "
        "the fan-out. `--py-spy FILE` and `--gc-log` add the registry's hot spots and garbage "
        "collection pauses to the JSON.",
        "Where a flip's time goes: the subscription runs once for all subscribers of the same "
        "query (one group); everything it produces before it next waits (here the ten "
        "readiness events of a flip) reaches each subscriber's outbox as one entry, and each "
        "connection writes its pending frames in one transport write from a loop callback "
        "(`app/live/batching.py`), about 19 µs of server CPU per connection and flip at "
        "10,000. Subscribers of one query receive the same bytes, so the load generator parses "
        "a read once per flip and recognises the byte-identical reads of the others: it spends "
        "about half the server's CPU per flip, mostly reading sockets, yet on two cores the "
        "latencies at 10,000 still partly measure it. Stalled client: the target is checked on "
        "the p99 pooled over "
        "every reception, which is set by "
        "the single slowest flip; one flip in ten is slower with or without a stalled "
        "client on this shared machine, so each flip's p99 (median over the flips) is shown "
        "beside it. A stalled client's frames wait only in its own outbox (coalesced, then "
        "4503).",
        f"Measured {info['date']}, {info['nproc']} cores, Python {info['python']}, "
        f"{info['duration_seconds']} s, server code {info['server_code']['sha256']} (last "
        f"changed {info['server_code']['newest_change']}); full figures in "
        "`bench/results/subscriptions.json`.",
    ]
    wrapped = [textwrap.fill(paragraph, 100) for paragraph in paragraphs]
    commands = (
        "```sh\n"
        ".venv/bin/python -m bench.subscriptions          # sizes 1,000 and 10,000, about 4 min\n"
        ".venv/bin/python -m bench.subscriptions --quick  # sizes 200 and 1,000, about 1 min\n"
        "```"
    )
    parts = ["## Subscriptions", wrapped[0], commands, *wrapped[1:], text]
    reporting.replace_section(path, "## Subscriptions", "\n\n".join(parts) + "\n")


def parse_sizes(text: str) -> tuple[int, ...]:
    return tuple(int(part.replace("_", "")) for part in text.split(",") if part.strip())


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="sizes 200 and 1,000; short runs")
    parser.add_argument("--subscribers", type=parse_sizes, help="sizes, e.g. 1000,10000")
    parser.add_argument(
        "--output",
        type=Path,
        help="JSON results (default: bench/results/subscriptions.json and the README section; "
        "none with --quick, so a quick check never replaces the full figures)",
    )
    parser.add_argument(
        "--py-spy",
        type=Path,
        metavar="FILE",
        help="record the registry with py-spy (raw collapsed stacks to FILE) during the measured "
        "flips of the largest size, and list its hot spots in the results",
    )
    parser.add_argument(
        "--gc-log",
        action="store_true",
        help="run the registry under a gc callback and report its collection pauses",
    )
    args = parser.parse_args(argv)
    scale = QUICK if args.quick else FULL
    if args.subscribers:
        scale = Scale(**{**asdict(scale), "sizes": args.subscribers})
    output: Path | None = args.output or (None if args.quick else RESULTS)
    fd_limit = raise_fd_limit()
    needed = max(scale.sizes) + 500
    if fd_limit < needed:
        raise SystemExit(f"the open-file limit is {fd_limit}; {needed} are needed")
    info = reporting.machine(kubectl=False)
    info["flips"] = scale.flips
    info["server_code"] = code_fingerprint()
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-subscriptions-") as directory:
        results = asyncio.run(
            measure(scale, Path(directory), py_spy=args.py_spy, gc_log=args.gc_log)
        )
    info["loadavg_at_end"] = list(os.getloadavg())
    info["duration_seconds"] = round(time.monotonic() - began, 1)
    text = table(rows(results))
    print(
        f"subscription benchmark, {info['date']}, {info['nproc']} cores, "
        f"Python {info['python']}, {info['duration_seconds']} s"
    )
    print(text)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        document = {"machine": info, "scale": asdict(scale), "query": QUERY, **results}
        output.write_text(json.dumps(document, indent=2) + "\n")
        print(f"results: {output}")
        if output == RESULTS:
            update_readme(README, info, text)
            print(f"README section: {README}")


if __name__ == "__main__":
    main()
