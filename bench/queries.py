"""Queries benchmark: ``eventTypes`` of one namespace through the registry beside the same data
through a naive Strawberry server, pre-serialized bytes, a direct list and kubectl; cold start;
memory per cached EventType.

Run from the repository root::

    .venv/bin/python -m bench.queries [--quick]

Everything runs in one temporary directory and talks to the processes only over HTTP (and
Linux ``/proc`` for their memory). The steps, in order:

1. **Population, cold-start part.** An ``event-registry serve`` (open mode, embedded control
   plane and embedded Knative readiness controller, as a developer runs it) on an empty data
   directory. Through kubernetes_asyncio (16 concurrent requests) it gets 1,000 namespaces, a
   Broker ``default`` in each and 10 EventTypes in each (10,000 ``eventing.knative.dev/
   v1beta2`` EventTypes with type, source, schema, description, two labels and a
   ``reference`` to the Broker). The EventType creates are timed (creation throughput), then
   the run waits until the registry reports every EventType ``consumable`` (the controller
   has made the Broker and the EventType Ready and the registry's informer has seen it).
2. **Cold start.** That serve process is stopped; a fresh one is started on the same data
   directory under py-spy (untimed: where the start-up time goes), then 3 times without: the
   time from starting the process to the first ``/readyz`` 200 (interpreter start and
   imports, the embedded control plane loading its SQLite data, the informers' lists and the
   cache build; ``/readyz`` polled every 10 ms), then a check that the cache serves all
   10,000. The last process stays up.
3. **Population, query part.** Into it: namespaces holding 100, 500 and 5,000 EventTypes
   (each with its Broker) and one holding the rest, so the cluster holds 20,000 EventTypes;
   again until all are consumable in the registry.
4. **Memory.** ``event-registry serve --kubeconfig <the embedded control plane's
   kubeconfig>`` ("cluster mode": the registry as deployed against a real cluster, without an
   embedded control plane or controller in its process, so its memory is the registry's own:
   cache, informers, GraphQL app) is started while the cluster holds 0, 10,000 and 20,000
   EventTypes (the first two during step 1); its ``RssAnon`` (anonymous resident memory,
   /proc/PID/status) is read 1 s after ``/readyz`` turned 200 and one small query ran. Bytes
   per EventType = the growth from 0 to 20,000, divided by 20,000. Beside it: the Python heap
   a :class:`~event_registry.store.caching.Cache` of the same 20,000 EventTypes retains
   (tracemalloc in this process: decode the list's JSON, build the cache, drop the JSON,
   collect), and the embedded serve process's own growth (its control plane storage and the
   readiness controller's cache included). The 20,000 cluster-mode process stays up and is
   measured beside the embedded one in step 5.
5. **Queries.** ``bench/naive_query_server.py`` is started against the same control plane (it
   lists everything once and builds the same Cache; plain Strawberry execution with
   ``build_schema(fast=False)``, and the pre-serialized endpoint). For each namespace size, in
   interleaved rounds (a change of the machine's load hits every path alike), one request of
   each: the full query (every field a UI shows) and the list query (name, type, ready,
   consumable) to the registry twice (the same request every time, which its response cache
   answers once it has seen it; and with a fresh ``nonce`` variable each time, which the
   operation does not declare, so GraphQL ignores it, but which is part of the response
   cache's key: every such request executes), to the cluster-mode registry (uncached
   likewise), to the naive server and to its pre-serialized endpoint, each path on its own
   kept-alive connection; and two direct lists (``CustomObjectsApi.
   list_namespaced_custom_object``: once the body's bytes only, with
   ``_preload_content=False``, and once decoded as kubernetes_asyncio returns it). Two times
   per request: until its last byte has arrived, and until it is decoded (``json.loads`` of
   the GraphQL answers). 3 untimed warm-up rounds first. Then ``kubectl get
   eventtypes.v1beta2.eventing.knative.dev -n NS -o json`` (PyPI kubectl): 1 untimed run,
   then 5 timed runs, process start to exit. Every answer is checked (counts, every
   EventType ready and consumable; all GraphQL paths must answer identically).
6. **Profiles.** py-spy (``--gil --native``: only samples holding the GIL, C frames included
   so garbage collection and JSON encoding show) samples each registry process while it
   answers uncached full queries for the largest namespace back to back.
7. **GC probe.** Everything else stopped, the real ``serve`` is started twice more on the
   data directory (now 20,000 EventTypes) from ``python -c`` code that first installs a
   ``gc.callbacks`` timer: as shipped, and with the automatic collector off until ``/readyz``.
   Each: time to ``/readyz`` and the collections meanwhile, then 20 uncached full queries and
   40 uncached list queries of the largest namespace and the collections meanwhile.

Percentiles interpolate between the closest ranks: with 5 kubectl runs the "p99" is close to
the slowest run. The client, the servers, kubectl and py-spy share the machine's cores.

A full run writes ``bench/results/queries.json`` and the "Queries" section of
``bench/README.md`` (only that section is replaced or appended); ``--quick`` (sizes 100 and
500, 2,000 EventTypes in the cluster, 1,000 across 100 namespaces for the cold start, fewer
rounds) writes neither unless ``--output`` is given.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import math
import os
import signal
import sys
import tempfile
import time
import tracemalloc
import urllib.error
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from kubernetes_asyncio import client, config
from tests.support.controlplane import REPO, free_port, run_kubectl
from tests.support.registry import AnnouncingProcess, RegistryProcess, broker, eventtype, http

from bench import reporting
from event_registry.hub.hub import Hub
from event_registry.store.caching import Cache

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results" / "queries.json"
README = BENCH / "README.md"
SECTION = "## Queries"
PY_SPY = Path(sys.prefix) / "bin" / "py-spy"

GROUP = "eventing.knative.dev"
VERSION = "v1beta2"
PLURAL = "eventtypes"
KUBECTL_RESOURCE = f"{PLURAL}.{VERSION}.{GROUP}"
BROKER = "default"
MERGE_PATCH = "application/merge-patch+json"

CONCURRENCY = 16
WARMUP_ROUNDS = 3
SETTLE_TIMEOUT = 600.0
START_TIMEOUT = 180.0
BUDGET_SECONDS = 600.0
P99_SMALL_MS = 20.0
P99_LARGE_MS = 200.0
SMALL_PAGE = 500
COLD_TARGET_S = 5.0
SPEEDUP_TARGET = 5.0
HUB_HISTORY = 10_000
"""``event-registry serve``'s default ``--hub-history``."""

FULL_QUERY = """
query Full($namespace: String!) {
  eventTypes(namespace: $namespace) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes {
      name namespace type source schema description ready reason consumable apiVersion createdAt
      labels { key value }
      attributes { name value required }
      conditions { type status reason message lastTransitionTime severity }
      reference { apiVersion kind name namespace }
      broker { name ready }
    }
  }
}
"""
LIST_QUERY = """
query List($namespace: String!) {
  eventTypes(namespace: $namespace) {
    totalCount
    nodes { name type ready consumable }
  }
}
"""
CONSUMABLE_COUNT = "{ eventTypes(first: 0, filter: {consumable: true}) { totalCount } }"
TOTAL_COUNT = "{ eventTypes(first: 0) { totalCount } }"
QUERIES = {"full": FULL_QUERY, "list": LIST_QUERY}
QUERY_TITLES = {"full": "full query", "list": "list query (4 fields)"}

GRAPHQL_PATHS = ("registry", "uncached", "changed", "cluster", "naive", "prebuilt")
PATHS = (*GRAPHQL_PATHS, "direct", "kubectl")
UNCACHED = frozenset({"uncached", "cluster"})
CHANGED = "changed"
"""The embedded registry again, each request preceded (untimed) by a label change of the
namespace's Broker, once the registry has seen it: the response cache cannot answer (the
snapshot changed) and no EventType completed before can be reused whole (each reads its
Broker for ``consumable`` and ``broker``), as for the first request after a Broker flip; the
parts of an EventType that read only the EventType (conditions, labels, attributes, reference)
are reused. Measured after every other path of every size (its writes reach every registry
and would disturb them)."""
"""Paths whose every request carries a fresh ``nonce`` variable: the registry's response cache
(keyed by document, variables, caller scope and snapshot revision) never answers them, so each
request executes, as the first request after any change of the cluster does. The operation
does not declare ``nonce``; GraphQL ignores undeclared variables. The embedded registry
("uncached") still reuses the objects it completed for earlier requests (nothing in the
namespace changed: as after a change elsewhere in the cluster); the cluster-mode registry
runs with ``--completed-objects 0``, so it completes every object of every request, as the
first request after a change of the namespace's Brokers does."""
PATH_TITLES = {
    "registry": "registry",
    "uncached": "registry, uncached",
    "changed": "registry, after a Broker change",
    "cluster": "cluster mode, uncached, nothing reused",
    "naive": "naive Strawberry",
    "prebuilt": "pre-serialized",
    "direct": "direct list",
    "kubectl": "kubectl",
}
PHASES = ("bytes", "decoded")

DOMAINS = ("orders", "payments", "shipping", "inventory", "users", "catalog", "billing")
VERBS = ("created", "updated", "deleted", "approved", "rejected", "archived")

Json = dict[str, Any]


# scale ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scale:
    quick: bool
    sizes: tuple[int, ...]
    cluster_total: int
    cold_namespaces: int
    cold_per_namespace: int
    rounds: dict[int, int]
    """Timed rounds per namespace size (one request of each path per round)."""
    kubectl_runs: int
    cold_runs: int
    profile_seconds: int
    gc_probe_rounds: int
    """Full queries of the largest namespace per GC probe (twice as many list queries)."""

    @property
    def cold_total(self) -> int:
        return self.cold_namespaces * self.cold_per_namespace

    @property
    def filler(self) -> int:
        return self.cluster_total - self.cold_total - sum(self.sizes)


FULL_SCALE = Scale(
    quick=False,
    sizes=(100, 500, 5000),
    cluster_total=20_000,
    cold_namespaces=1000,
    cold_per_namespace=10,
    rounds={100: 100, 500: 100, 5000: 40},
    kubectl_runs=5,
    cold_runs=3,
    profile_seconds=10,
    gc_probe_rounds=20,
)
QUICK_SCALE = Scale(
    quick=True,
    sizes=(100, 500),
    cluster_total=2_000,
    cold_namespaces=100,
    cold_per_namespace=10,
    rounds={100: 30, 500: 30},
    kubectl_runs=5,
    cold_runs=1,
    profile_seconds=4,
    gc_probe_rounds=20,
)


def query_namespace(size: int) -> str:
    return f"bench-q-{size}"


def cold_namespace(index: int) -> str:
    return f"bench-cold-{index:04d}"


FILLER_NAMESPACE = "bench-filler"


# measuring -----------------------------------------------------------------------------------


def percentile(samples: Sequence[float], q: float) -> float:
    """The q-th percentile, linearly interpolated between the closest ranks."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class Latency:
    """Latencies of one path, in milliseconds."""

    count: int
    p50_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Latency:
        ms = [s * 1000 for s in seconds]
        return cls(
            count=len(ms),
            p50_ms=round(percentile(ms, 50), 3),
            p99_ms=round(percentile(ms, 99), 3),
            mean_ms=round(sum(ms) / len(ms), 3) if ms else math.nan,
            max_ms=round(max(ms), 3) if ms else math.nan,
        )


def processes() -> Iterator[tuple[int, list[bytes]]]:
    """(pid, command line) of every process but this one (Linux /proc)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            arguments = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        yield int(entry.name), arguments


def serve_pid(data_dir: Path) -> int:
    """The pid of the ``event_registry serve`` process whose ``--data-dir`` is ``data_dir``."""
    wanted = str(data_dir).encode()
    for pid, arguments in processes():
        ours = b"event_registry" in arguments and b"serve" in arguments and wanted in arguments
        if ours and not arguments[0].endswith(b"py-spy"):
            return pid
    raise RuntimeError(f"no event_registry serve process uses {data_dir}")


def memory_of(pid: int) -> dict[str, int]:
    """VmRSS, RssAnon and VmHWM of a process, in bytes (/proc/PID/status)."""
    found: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "VmHWM"):
            found[key] = int(value.split()[0]) * 1024
    return found


# the cluster ---------------------------------------------------------------------------------


def namespace_manifest(name: str) -> Json:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def eventtype_manifest(namespace: str, index: int) -> Json:
    """A realistic v1beta2 EventType: type, source, schema, description, labels, reference."""
    domain = DOMAINS[index % len(DOMAINS)]
    verb = VERBS[(index // len(DOMAINS)) % len(VERBS)]
    return eventtype(
        f"{domain}-{verb}-{index:05d}",
        namespace,
        labels={"app.kubernetes.io/part-of": "shop", "team": domain},
        type=f"com.example.shop.{domain}.item{index:05d}.{verb}",
        source=f"https://{domain}.shop.example.com/api/v1/{domain}",
        schema=f"https://schemas.example.com/shop/{domain}/{verb}/v1.json",
        description=(
            f"Emitted by the {domain} service when an item is {verb}; carries the item's id, "
            "its new revision and the principal who made the change."
        ),
        reference={"apiVersion": f"{GROUP}/v1", "kind": "Broker", "name": BROKER},
    )


class Cluster:
    """The embedded control plane through kubernetes_asyncio (no cache of its own)."""

    def __init__(self, api: Any) -> None:
        self.api = api
        self.core = client.CoreV1Api(api)
        self.custom = client.CustomObjectsApi(api)

    async def create(self, document: Json) -> None:
        kind = document["kind"]
        if kind == "Namespace":
            name = document["metadata"]["name"]
            await self.core.create_namespace(
                client.V1Namespace(metadata=client.V1ObjectMeta(name=name))
            )
            return
        group, _, version = document["apiVersion"].partition("/")
        plural = {"Broker": "brokers", "EventType": PLURAL}[kind]
        namespace = document["metadata"]["namespace"]
        await self.custom.create_namespaced_custom_object(
            group, version, namespace, plural, document
        )

    async def label_broker(self, namespace: str, value: str) -> None:
        """A metadata change of the namespace's Broker (nothing a controller acts on)."""
        custom: Any = self.custom  # its stubs do not declare _content_type
        body = {"metadata": {"labels": {"bench.registry/round": value}}}
        await custom.patch_namespaced_custom_object(
            GROUP, "v1", namespace, "brokers", BROKER, body, _content_type=MERGE_PATCH
        )

    async def create_all(self, documents: Iterable[Json]) -> tuple[int, float]:
        """Create the documents with CONCURRENCY requests in flight: (count, seconds)."""
        pending: Iterator[Json] = iter(documents)
        created = 0

        async def worker() -> None:
            nonlocal created
            for document in pending:
                await self.create(document)
                created += 1

        began = time.perf_counter()
        async with asyncio.TaskGroup() as group:
            for _ in range(CONCURRENCY):
                group.create_task(worker())
        return created, time.perf_counter() - began

    async def list_decoded(self, namespace: str) -> tuple[float, int]:
        """One list as kubernetes_asyncio returns it (decoded): (seconds, items)."""
        began = time.perf_counter()
        listed = await self.custom.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)
        return time.perf_counter() - began, len(listed["items"])

    async def list_bytes(self, namespace: str) -> tuple[float, int]:
        """The same list, its body's bytes only: (seconds, bytes)."""
        began = time.perf_counter()
        response = await self.custom.list_namespaced_custom_object(
            GROUP, VERSION, namespace, PLURAL, _preload_content=False
        )
        async with response:
            body: bytes = await response.read()
        return time.perf_counter() - began, len(body)

    async def raw_event_types(self) -> bytes:
        """Every EventType of the cluster as the API's JSON bytes (one unpaged list)."""
        response = await self.custom.list_cluster_custom_object(
            GROUP, VERSION, PLURAL, _preload_content=False
        )
        async with response:
            body: bytes = await response.read()
        return body


@contextlib.asynccontextmanager
async def cluster_of(kubeconfig: Path) -> AsyncIterator[Cluster]:
    api = await config.new_client_from_config(config_file=str(kubeconfig), persist_config=False)
    try:
        yield Cluster(api)
    finally:
        await api.close()


@dataclass(frozen=True)
class Population:
    """One batch of created objects: how fast, and how long until all were consumable."""

    name: str
    namespaces: int
    event_types: int
    create_seconds: float
    creates_per_second: float
    consumable_seconds: float
    """From the first EventType create until the registry reported every one consumable."""


def populations(scale: Scale) -> dict[str, list[tuple[str, int]]]:
    """The namespaces of each batch and how many EventTypes each holds."""
    cold = [(cold_namespace(i), scale.cold_per_namespace) for i in range(scale.cold_namespaces)]
    query = [(query_namespace(size), size) for size in scale.sizes]
    if scale.filler > 0:
        query.append((FILLER_NAMESPACE, scale.filler))
    return {"cold-start": cold, "queries": query}


async def populate(
    registry: RegistryProcess,
    name: str,
    namespaces: Sequence[tuple[str, int]],
    expected_total: int,
) -> Population:
    async with cluster_of(registry.kubeconfig) as cluster:
        await cluster.create_all(namespace_manifest(ns) for ns, _ in namespaces)
        await cluster.create_all(broker(BROKER, ns) for ns, _ in namespaces)
        documents = (eventtype_manifest(ns, i) for ns, count in namespaces for i in range(count))
        began = time.perf_counter()
        created, seconds = await cluster.create_all(documents)
    async with graphql_session() as session:
        await settle(session, registry.url, CONSUMABLE_COUNT, expected_total)
    return Population(
        name=name,
        namespaces=len(namespaces),
        event_types=created,
        create_seconds=round(seconds, 3),
        creates_per_second=round(created / seconds, 1),
        consumable_seconds=round(time.perf_counter() - began, 3),
    )


# GraphQL over HTTP ---------------------------------------------------------------------------

TIMEOUT = aiohttp.ClientTimeout(total=120)


@contextlib.asynccontextmanager
async def graphql_session() -> AsyncIterator[aiohttp.ClientSession]:
    """One kept-alive connection."""
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=1), timeout=TIMEOUT
    ) as session:
        yield session


def payload(query: str, variables: Json | None = None) -> bytes:
    body: Json = {"query": query}
    if variables is not None:
        body["variables"] = variables
    return json.dumps(body).encode()


@dataclass(frozen=True)
class Answer:
    bytes_seconds: float
    """From sending the request until the last byte of the answer arrived."""
    decoded_seconds: float
    """Until the answer was decoded (``json.loads``)."""
    document: Json
    size: int


async def post(session: aiohttp.ClientSession, url: str, body: bytes) -> Answer:
    """One GraphQL POST, which must succeed without errors."""
    began = time.perf_counter()
    async with session.post(
        url, data=body, headers={"content-type": "application/json"}
    ) as response:
        raw = await response.read()
        status = response.status
    received = time.perf_counter()
    if status != 200:
        raise RuntimeError(f"POST {url}: HTTP {status}: {raw[:500]!r}")
    document = json.loads(raw)
    decoded = time.perf_counter()
    if not isinstance(document, dict):
        raise RuntimeError(f"POST {url}: not a JSON object: {raw[:500]!r}")
    if document.get("errors"):
        raise RuntimeError(f"POST {url}: GraphQL errors: {document['errors']}")
    return Answer(received - began, decoded - began, document, len(raw))


BROKER_LABELS = """query Labels($namespace: String!) {
  broker(namespace: $namespace, name: "default") { labels { key value } }
}"""


async def broker_changed(
    cluster: Cluster, session: aiohttp.ClientSession, url: str, namespace: str, index: int
) -> None:
    """Change the namespace's Broker and wait until the registry serves the change."""
    value = f"r{index}-{time.monotonic_ns()}"
    await cluster.label_broker(namespace, value)
    deadline = time.monotonic() + 10
    body = payload(BROKER_LABELS, {"namespace": namespace})
    while True:
        labels = (await post(session, url, body)).document["data"]["broker"]["labels"]
        if {"key": "bench.registry/round", "value": value} in labels:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"the registry did not see the Broker change in {namespace}")
        await asyncio.sleep(0.001)


async def count(session: aiohttp.ClientSession, url: str, query: str) -> int:
    answer = await post(session, url, payload(query))
    total: int = answer.document["data"]["eventTypes"]["totalCount"]
    return total


async def settle(session: aiohttp.ClientSession, url: str, query: str, expected: int) -> None:
    deadline = time.monotonic() + SETTLE_TIMEOUT
    seen = -1
    while time.monotonic() < deadline:
        seen = await count(session, url, query)
        if seen == expected:
            return
        await asyncio.sleep(0.5)
    raise RuntimeError(f"{seen} EventTypes after {SETTLE_TIMEOUT}s, want {expected}")


# cold start and memory -----------------------------------------------------------------------


@dataclass(frozen=True)
class ColdStart:
    event_types: int
    namespaces: int
    announce_seconds: float
    """From starting the process until it printed its URL (the port is bound)."""
    ready_seconds: float
    """From starting the process until the first /readyz 200."""


def poll_ready(origin: str, deadline: float, alive: Callable[[], bool]) -> None:
    """Poll ``/readyz`` every 10 ms until it answers 200."""
    while True:
        try:
            reply = http("GET", f"{origin}/readyz", timeout=5)
        except (urllib.error.URLError, ConnectionError):
            reply = None
        if reply is not None and reply.status == 200:
            return
        if not alive():
            raise RuntimeError("the process exited before /readyz answered 200")
        if time.perf_counter() > deadline:
            raise RuntimeError(f"{origin}/readyz not 200 after {START_TIMEOUT} s")
        time.sleep(0.01)


def cold_start(
    data_dir: Path, event_types: int, namespaces: int
) -> tuple[RegistryProcess, ColdStart]:
    """Start serve on an existing data dir; time to /readyz 200."""
    registry = RegistryProcess(data_dir)
    began = time.perf_counter()
    registry.start(timeout=START_TIMEOUT)
    try:
        announced = time.perf_counter()
        poll_ready(registry.origin, began + START_TIMEOUT, lambda: True)
        ready = time.perf_counter()
        total = registry.query(TOTAL_COUNT)["data"]["eventTypes"]["totalCount"]
        if total != event_types:
            raise RuntimeError(
                f"cold start: the cache serves {total} EventTypes, not {event_types}"
            )
    except BaseException:
        print(registry.output(), file=sys.stderr)
        registry.stop()
        raise
    return registry, ColdStart(
        event_types=event_types,
        namespaces=namespaces,
        announce_seconds=round(announced - began, 3),
        ready_seconds=round(ready - began, 3),
    )


@dataclass(frozen=True)
class MemoryPoint:
    event_types: int
    rss_bytes: int
    rss_anon_bytes: int
    ready_seconds: float
    """From starting the cluster-mode process until /readyz 200 (the cluster already up)."""


def cluster_mode(
    kubeconfig: Path, scratch: Path, event_types: int, *flags: str
) -> tuple[RegistryProcess, MemoryPoint]:
    """``serve --kubeconfig`` (no embedded plane), synced with ``event_types``; its memory."""
    scratch.mkdir(parents=True, exist_ok=True)
    registry = RegistryProcess(scratch, "--kubeconfig", str(kubeconfig), *flags)
    began = time.perf_counter()
    registry.start(timeout=START_TIMEOUT)
    try:
        poll_ready(registry.origin, began + START_TIMEOUT, lambda: True)
        ready = time.perf_counter() - began
        total = registry.query(TOTAL_COUNT)["data"]["eventTypes"]["totalCount"]
        if total != event_types:
            raise RuntimeError(f"cluster-mode serve has {total} EventTypes, want {event_types}")
        time.sleep(1.0)
        memory = memory_of(serve_pid(scratch))
    except BaseException:
        print(registry.output(), file=sys.stderr)
        registry.stop()
        raise
    return registry, MemoryPoint(event_types, memory["VmRSS"], memory["RssAnon"], round(ready, 3))


def cluster_mode_memory(kubeconfig: Path, scratch: Path, event_types: int) -> MemoryPoint:
    registry, point = cluster_mode(kubeconfig, scratch, event_types)
    registry.stop()
    return point


def traced_bytes(raw: bytes, hub_history: int | None) -> tuple[int, int, list[tuple[str, int]]]:
    """Decode ``raw`` (an EventType list) and build a Cache from it under tracemalloc; with
    ``hub_history``, a :class:`~event_registry.hub.hub.Hub` listens as ``serve`` wires it.

    Returns (EventTypes, bytes retained once the JSON is dropped, the largest retainers as
    (file:line, bytes)).
    """
    gc.collect()
    tracemalloc.start()
    try:
        items = json.loads(raw)["items"]
        n = len(items)
        cache = Cache()
        hub = Hub(cache, history=hub_history) if hub_history else None
        cache.replace("EventType", items)
        del items
        gc.collect()
        retained, _ = tracemalloc.get_traced_memory()
        statistics = tracemalloc.take_snapshot().statistics("lineno")[:8]
        del cache, hub
    finally:
        tracemalloc.stop()
    top = [(f"{st.traceback[0].filename}:{st.traceback[0].lineno}", st.size) for st in statistics]
    return n, retained, top


async def traced_memory(kubeconfig: Path) -> dict[str, Any]:
    """The Python heap a Cache of every EventType of the cluster retains, without and with
    the serve's Hub (its default history of 10,000 changes)."""
    async with cluster_of(kubeconfig) as cluster:
        raw = await cluster.raw_event_types()
    n, cache_bytes, top = traced_bytes(raw, None)
    _, with_hub, _ = traced_bytes(raw, HUB_HISTORY)
    prefix = str(REPO / "server") + "/"
    return {
        "event_types": n,
        "cache_bytes": cache_bytes,
        "cache_and_hub_bytes": with_hub,
        "hub_history": HUB_HISTORY,
        "cache_top": [
            (where.removeprefix(prefix).removeprefix(sys.prefix + "/"), size) for where, size in top
        ],
    }


# garbage collection probe --------------------------------------------------------------------

GC_PROBE = r"""
import gc, json, os, signal, sys, threading, time, urllib.request

pauses = []
began = [0.0]


def on_gc(phase, info):
    if phase == "start":
        began[0] = time.perf_counter()
    else:
        pauses.append((info["generation"], time.perf_counter() - began[0]))


def dump(*_):
    with open(os.environ["GC_PROBE_STATS"] + ".tmp", "w") as out:
        json.dump(pauses, out)
    os.replace(os.environ["GC_PROBE_STATS"] + ".tmp", os.environ["GC_PROBE_STATS"])
    pauses.clear()


def freeze_when_ready():
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(os.environ["GC_PROBE_READYZ"], timeout=5) as reply:
                if reply.status == 200:
                    break
        except Exception:
            pass
        time.sleep(0.01)
    gc.freeze()
    gc.enable()


gc.callbacks.append(on_gc)
signal.signal(signal.SIGUSR1, dump)
if os.environ["GC_PROBE_POLICY"] == "off-until-ready":
    gc.disable()
    threading.Thread(target=freeze_when_ready, daemon=True).start()
from event_registry.cli import main

main(sys.argv[1:])
"""
"""``python -c GC_PROBE serve ...``: the real ``event-registry serve`` with a gc callback that
times every collection, explicit ones included (written to ``$GC_PROBE_STATS`` on SIGUSR1,
then reset); with ``GC_PROBE_POLICY=off-until-ready`` the automatic collector is off until
``/readyz`` answers 200 (then every object is frozen and it is turned back on; serve's own
collect-and-freeze after the first sync runs either way). An experiment beside the registry
as shipped, not a change of it."""

GC_POLICIES = {
    "shipped": "serve as shipped (gc callbacks only)",
    "off-until-ready": "gc off until /readyz",
}


@dataclass(frozen=True)
class GcProbe:
    policy: str
    event_types: int
    ready_seconds: float
    startup_gc: dict[str, dict[str, float]]
    """Collections from process start until /readyz (+0.5 s), by generation."""
    latencies: dict[str, Latency]
    """Query → latency to the last byte."""
    query_gc: dict[str, dict[str, dict[str, float]]]
    """Query → collections while it ran, by generation."""


def gc_summary(pauses: Sequence[Sequence[float]]) -> dict[str, dict[str, float]]:
    by_generation: dict[int, list[float]] = defaultdict(list)
    for generation, seconds in pauses:
        by_generation[int(generation)].append(seconds)
    return {
        f"gen{generation}": {
            "count": len(durations),
            "total_ms": round(sum(durations) * 1000, 1),
            "max_ms": round(max(durations) * 1000, 1),
        }
        for generation, durations in sorted(by_generation.items())
    }


def read_gc(pid: int, stats: Path) -> dict[str, dict[str, float]]:
    """Ask the probe for its collections so far (SIGUSR1) and read them."""
    stats.unlink(missing_ok=True)
    os.kill(pid, signal.SIGUSR1)
    deadline = time.monotonic() + 10
    while not stats.exists():
        if time.monotonic() > deadline:
            raise RuntimeError("the GC probe wrote no statistics")
        time.sleep(0.02)
    pauses: list[list[float]] = json.loads(stats.read_text())
    return gc_summary(pauses)


def gc_probe(
    data_dir: Path, work: Path, policy: str, event_types: int, namespace: str, rounds: int
) -> GcProbe:
    port = free_port()
    stats = work / f"gc-{policy}.json"
    env = {
        **os.environ,
        "GC_PROBE_STATS": str(stats),
        "GC_PROBE_POLICY": policy,
        "GC_PROBE_READYZ": f"http://127.0.0.1:{port}/readyz",
    }
    serve = ["serve", "--port", str(port), "--controlplane-port", "0"]
    serve += ["--data-dir", str(data_dir), "--log-level", "warning"]
    process = AnnouncingProcess(
        f"serve with the GC probe ({policy})",
        [sys.executable, "-c", GC_PROBE, *serve],
        work / f"gc-{policy}.log",
        cwd=REPO,
        env=env,
    )
    began = time.perf_counter()
    url = process.start("registry", START_TIMEOUT)
    try:
        poll_ready(url.rsplit("/", 1)[0], began + START_TIMEOUT, lambda: process.running)
        ready = time.perf_counter() - began
        time.sleep(0.5)  # the freeze thread polls /readyz every 10 ms
        assert process.process is not None
        pid = process.process.pid
        startup = read_gc(pid, stats)
        latencies: dict[str, Latency] = {}
        query_gc: dict[str, dict[str, dict[str, float]]] = {}
        for query, text in QUERIES.items():
            count = rounds if query == "full" else 2 * rounds
            seconds = asyncio.run(repeat(url, text, namespace, count))
            latencies[query] = Latency.of(seconds)
            query_gc[query] = read_gc(pid, stats)
    except BaseException:
        print(process.output(), file=sys.stderr)
        raise
    finally:
        process.stop()
    return GcProbe(policy, event_types, round(ready, 3), startup, latencies, query_gc)


async def repeat(url: str, query: str, namespace: str, count: int) -> list[float]:
    """``count`` uncached requests (after 3 untimed ones): seconds to the last byte of each."""
    seconds = []
    async with graphql_session() as session:
        for index in range(WARMUP_ROUNDS + count):
            variables = {"namespace": namespace, "nonce": f"gc-probe-{index}"}
            answer = await post(session, url, payload(query, variables))
            if index >= WARMUP_ROUNDS:
                seconds.append(answer.bytes_seconds)
    return seconds


# query paths ---------------------------------------------------------------------------------


@dataclass
class SizeResult:
    size: int
    namespace: str
    rounds: int
    latencies: dict[str, dict[str, dict[str, Latency]]] = field(default_factory=dict)
    """query ("full", "list"; "any" for direct and kubectl) → path → phase → latency."""
    answer_bytes: dict[str, dict[str, int]] = field(default_factory=dict)
    """query → path → bytes of one answer."""

    def get(self, query: str, path: str, phase: str) -> Latency | None:
        if path in ("direct", "kubectl"):
            query = "any"
        return self.latencies.get(query, {}).get(path, {}).get(phase)


async def measure_size(
    size: int,
    rounds: int,
    urls: dict[str, str],
    cluster: Cluster,
    kubectl: Callable[[str], Awaitable[tuple[float, int]]],
    kubectl_runs: int,
) -> SizeResult:
    namespace = query_namespace(size)
    result = SizeResult(size, namespace, rounds)
    samples: dict[tuple[str, str, str], list[float]] = defaultdict(list)

    def keep(round_index: int, key: tuple[str, str, str], seconds: float) -> None:
        if round_index >= WARMUP_ROUNDS:
            samples[key].append(seconds)

    async with contextlib.AsyncExitStack() as stack:
        sessions = {path: await stack.enter_async_context(graphql_session()) for path in urls}
        bodies = {name: payload(q, {"namespace": namespace}) for name, q in QUERIES.items()}
        for round_index in range(WARMUP_ROUNDS + rounds):
            for query in QUERIES:
                documents: dict[str, Json] = {}
                for path, url in urls.items():
                    if path == CHANGED:
                        continue  # measured last (measure_changed): it changes the cluster
                    body = bodies[query]
                    if path in UNCACHED:
                        variables = {"namespace": namespace, "nonce": f"{path}-{round_index}"}
                        body = payload(QUERIES[query], variables)
                    answer = await post(sessions[path], url, body)
                    keep(round_index, (query, path, "bytes"), answer.bytes_seconds)
                    keep(round_index, (query, path, "decoded"), answer.decoded_seconds)
                    result.answer_bytes.setdefault(query, {})[path] = answer.size
                    if round_index == 0:
                        check_answer(answer.document, size, f"{path} {query}")
                        documents[path] = answer.document
                for path, document in documents.items():
                    if document != documents["registry"]:
                        raise RuntimeError(f"{path} answers {query} unlike the registry")
            seconds, length = await cluster.list_bytes(namespace)
            keep(round_index, ("any", "direct", "bytes"), seconds)
            result.answer_bytes.setdefault("any", {})["direct"] = length
            seconds, items = await cluster.list_decoded(namespace)
            keep(round_index, ("any", "direct", "decoded"), seconds)
            if items != size:
                raise RuntimeError(f"direct list of {namespace}: {items} items, want {size}")
    await kubectl(namespace)  # untimed: discovery cache
    for _ in range(kubectl_runs):
        seconds, items = await kubectl(namespace)
        if items != size:
            raise RuntimeError(f"kubectl lists {items} EventTypes in {namespace}, want {size}")
        samples[("any", "kubectl", "decoded")].append(seconds)
    for (query, path, phase), seconds_list in samples.items():
        by_path = result.latencies.setdefault(query, {}).setdefault(path, {})
        by_path[phase] = Latency.of(seconds_list)
    return result


async def measure_changed(result: SizeResult, url: str, cluster: Cluster) -> None:
    """The CHANGED path for one size, after every other path of every size was measured (its
    Broker changes would otherwise disturb them: every write reaches every registry)."""
    samples: dict[tuple[str, str], list[float]] = defaultdict(list)
    async with graphql_session() as session:
        for round_index in range(WARMUP_ROUNDS + result.rounds):
            for query, document in QUERIES.items():
                await broker_changed(cluster, session, url, result.namespace, round_index)
                body = payload(document, {"namespace": result.namespace})
                answer = await post(session, url, body)
                result.answer_bytes.setdefault(query, {})[CHANGED] = answer.size
                if round_index == 0:
                    check_answer(answer.document, result.size, f"{CHANGED} {query}")
                if round_index >= WARMUP_ROUNDS:
                    samples[query, "bytes"].append(answer.bytes_seconds)
                    samples[query, "decoded"].append(answer.decoded_seconds)
    for (query, phase), seconds_list in samples.items():
        by_path = result.latencies.setdefault(query, {}).setdefault(CHANGED, {})
        by_path[phase] = Latency.of(seconds_list)


def check_answer(document: Json, size: int, what: str) -> None:
    connection = document["data"]["eventTypes"]
    nodes = connection["nodes"]
    if connection["totalCount"] != size or len(nodes) != size:
        raise RuntimeError(f"{what}: {connection['totalCount']}/{len(nodes)} EventTypes")
    if not all(node["ready"] and node["consumable"] for node in nodes):
        raise RuntimeError(f"{what}: not every EventType is ready and consumable")


def kubectl_runner(
    kubeconfig: Path, cache_dir: Path
) -> Callable[[str], Awaitable[tuple[float, int]]]:
    def run(namespace: str) -> tuple[float, int]:
        began = time.perf_counter()
        result = run_kubectl(
            kubeconfig,
            cache_dir,
            "get",
            KUBECTL_RESOURCE,
            "-n",
            namespace,
            "-o",
            "json",
            check=True,
            timeout=120,
        )
        elapsed = time.perf_counter() - began
        return elapsed, len(json.loads(result.stdout)["items"])

    async def run_async(namespace: str) -> tuple[float, int]:
        return await asyncio.to_thread(run, namespace)

    return run_async


# profiles ------------------------------------------------------------------------------------

QUERY_CATEGORIES: dict[str, str | tuple[str, ...]] = {
    "GraphQL execution (strawberry Schema.execute)": "Schema.execute (",
    "fast path (FastExecutionContext.execute_collected_subfields)": (
        "FastExecutionContext.execute_collected_subfields ("
    ),
    "garbage collection (gc_collect_main)": "gc_collect_main ",
    "JSON encoding of the answer (any encode_json)": ("encode_json (", "ResponseCache.encoded ("),
    "query parsing and validation (graphql-core parse, validate)": (
        "parse (graphql/language/parser.py",
        "validate (graphql/validation/validate.py",
    ),
    "the page's edges and cursors (connections.page)": "page (event_registry/graphql/",
    "Ready-condition look-ups (Status.condition)": "Status.condition (",
}
COLD_CATEGORIES: dict[str, str | tuple[str, ...]] = {
    "imports (importlib)": "_find_and_load (",
    "control plane loading its SQLite data (Storage._load)": "Storage._load (",
    "control plane answering list requests (Handler._list)": "Handler._list (",
    "decoding list pages (json.loads)": "loads (json/__init__.py",
    "registry informer relist (Reflector._relist)": "Reflector._relist (",
    "cache build (Cache.replace, registry and readiness controller)": "Cache.replace (",
    "of which the readiness controller's copy (RawCache.replace)": "RawCache.replace (",
    "snapshot index updates (Index.put)": "Index.put (",
    "normalizing (normalizing.event_type)": "event_type (event_registry/domain/normalizing.py",
    "garbage collection (gc_collect_main)": "gc_collect_main ",
}


@dataclass(frozen=True)
class Profile:
    what: str
    command: str
    samples: int
    requests: int
    seconds: float
    categories: dict[str, float]
    """Share of samples with a frame of the category on the stack, percent (they overlap)."""
    self_top: list[tuple[str, float]]
    """function (file) → share of samples in which it is the innermost frame, percent."""
    project_top: list[tuple[str, float]]
    """event_registry functions → share of samples in which they are on the stack, percent."""
    inclusive_top: list[tuple[str, float]]
    """Any function → share of samples in which it is on the stack, percent."""


def parse_collapsed(text: str) -> list[tuple[list[str], int]]:
    """py-spy's raw (collapsed) output: (frames outermost first, samples) per stack."""
    stacks = []
    for line in text.splitlines():
        stack, _, number = line.rpartition(" ")
        if not stack or not number.isdigit():
            continue
        frames = [frame.strip() for frame in stack.split(";") if frame.strip()]
        if frames:
            stacks.append((frames, int(number)))
    return stacks


def matches(frame: str, patterns: str | tuple[str, ...]) -> bool:
    """A py-spy frame ``function (file)`` is ``pattern...`` or ``Class.pattern...``."""
    for pattern in (patterns,) if isinstance(patterns, str) else patterns:
        if frame.startswith(pattern) or f".{pattern}" in frame:
            return True
    return False


def summarize(
    what: str,
    command: Sequence[str],
    text: str,
    categories: dict[str, str | tuple[str, ...]],
    requests: int,
    seconds: float,
) -> Profile | None:
    stacks = parse_collapsed(text)
    total = sum(samples for _, samples in stacks)
    if total == 0:
        return None
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    found: Counter[str] = Counter()
    for frames, samples in stacks:
        own[frames[-1]] += samples
        for frame in set(frames):
            inclusive[frame] += samples
        for name, patterns in categories.items():
            if any(matches(frame, patterns) for frame in frames):
                found[name] += samples

    def share(samples: int) -> float:
        return round(100 * samples / total, 1)

    project = Counter({f: c for f, c in inclusive.items() if "(event_registry/" in f})
    return Profile(
        what=what,
        command=" ".join(["py-spy", *command[1:]]),
        samples=total,
        requests=requests,
        seconds=round(seconds, 2),
        categories={name: share(found[name]) for name in categories},
        self_top=[(f, share(c)) for f, c in own.most_common(20)],
        project_top=[(f, share(c)) for f, c in project.most_common(25)],
        inclusive_top=[(f, share(c)) for f, c in inclusive.most_common(50)],
    )


def spy_options(output: Path) -> list[str]:
    return [
        "--rate",
        "200",
        "--gil",
        "--native",
        "--nolineno",
        "--format",
        "raw",
        "--output",
        str(output),
    ]


async def profile_queries(
    what: str, pid: int, url: str, namespace: str, seconds: int, work: Path
) -> Profile | None:
    """py-spy a registry process while it answers the full query for ``namespace``."""
    output = work / f"profile-{pid}.txt"
    command = [str(PY_SPY), "record", "--pid", str(pid), "--duration", str(seconds)]
    command += spy_options(output)
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    await asyncio.sleep(0.5)  # let it attach
    requests = 0
    began = time.perf_counter()
    async with graphql_session() as session:
        deadline = began + seconds + 30
        while process.returncode is None and time.perf_counter() < deadline:
            variables = {"namespace": namespace, "nonce": f"profile-{requests}"}
            await post(session, url, payload(FULL_QUERY, variables))
            requests += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), 0.001)
    elapsed = time.perf_counter() - began
    try:
        _, stderr = await asyncio.wait_for(process.communicate(), 60)
    except TimeoutError:
        process.kill()
        await process.wait()
        stderr = b""
    if process.returncode != 0 or not output.exists():
        print(f"  py-spy failed: {stderr.decode(errors='replace')[-500:]}", file=sys.stderr)
        return None
    return summarize(what, command, output.read_text(), QUERY_CATEGORIES, requests, elapsed)


def profile_cold_start(data_dir: Path, work: Path) -> Profile | None:
    """Start serve on ``data_dir`` under py-spy, stop it at /readyz 200: where start-up goes."""
    output = work / "profile-cold-start.txt"
    serve = [
        sys.executable,
        "-m",
        "event_registry",
        "serve",
        "--port",
        "0",
        "--controlplane-port",
        "0",
        "--data-dir",
        str(data_dir),
        "--log-level",
        "warning",
    ]
    command = [str(PY_SPY), "record", *spy_options(output), "--", *serve]
    spied = AnnouncingProcess("serve under py-spy", command, work / "cold-profile.log", cwd=REPO)
    began = time.perf_counter()
    url = spied.start("registry", START_TIMEOUT)
    try:
        poll_ready(url.rsplit("/", 1)[0], began + START_TIMEOUT, lambda: spied.running)
        elapsed = time.perf_counter() - began
        os.kill(serve_pid(data_dir), signal.SIGTERM)  # py-spy writes its output when it exits
        if spied.process is not None:
            spied.process.wait(60)
    finally:
        spied.stop()
    if not output.exists():
        print(f"  py-spy wrote no profile:\n{spied.output()}", file=sys.stderr)
        return None
    what = "cold start under py-spy, process start to /readyz 200 (and shutdown)"
    return summarize(what, command, output.read_text(), COLD_CATEGORIES, 0, elapsed)


# the run -------------------------------------------------------------------------------------


@dataclass
class Results:
    scale: Scale
    populations: list[Population] = field(default_factory=list)
    cold_starts: list[ColdStart] = field(default_factory=list)
    memory_cluster_mode: list[MemoryPoint] = field(default_factory=list)
    memory_embedded: dict[str, Any] = field(default_factory=dict)
    memory_traced: dict[str, Any] = field(default_factory=dict)
    naive: dict[str, Any] = field(default_factory=dict)
    sizes: list[SizeResult] = field(default_factory=list)
    profiles: dict[str, Profile] = field(default_factory=dict)
    gc_probes: list[GcProbe] = field(default_factory=list)
    memory_queries: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    """Registry process ("registry", "cluster") → memory before and after the query rounds."""


def run(scale: Scale, work: Path) -> Results:
    results = Results(scale)
    data = work / "data"
    batches = populations(scale)
    cold_total = scale.cold_total

    print(f"starting the registry on an empty data dir ({data})", flush=True)
    registry = RegistryProcess(data).start()
    try:
        registry.wait_ready()
        embedded_empty = memory_of(serve_pid(data))
        print("memory: cluster-mode serve, 0 EventTypes", flush=True)
        results.memory_cluster_mode.append(
            cluster_mode_memory(registry.kubeconfig, work / "mem-0", 0)
        )
        print(f"creating {cold_total:,} EventTypes in {scale.cold_namespaces:,} namespaces")
        population = asyncio.run(
            populate(registry, "cold-start", batches["cold-start"], cold_total)
        )
        results.populations.append(population)
        print(f"  {population}", flush=True)
        print(f"memory: cluster-mode serve, {cold_total:,} EventTypes", flush=True)
        results.memory_cluster_mode.append(
            cluster_mode_memory(registry.kubeconfig, work / "mem-1", cold_total)
        )
    except BaseException:
        print(registry.output(), file=sys.stderr)
        raise
    finally:
        registry.stop()

    if PY_SPY.exists():
        print("cold start under py-spy (untimed)", flush=True)
        profile = profile_cold_start(data, work)
        if profile is not None:
            results.profiles["cold-start"] = profile
    else:
        print("py-spy is not installed in the venv: no profiles", file=sys.stderr)
    for attempt in range(scale.cold_runs):
        print(f"cold start {attempt + 1}/{scale.cold_runs}", flush=True)
        registry, started = cold_start(data, cold_total, scale.cold_namespaces)
        results.cold_starts.append(started)
        print(f"  {started}", flush=True)
        if attempt + 1 < scale.cold_runs:
            registry.stop()

    naive: AnnouncingProcess | None = None
    cluster: RegistryProcess | None = None
    try:
        total = scale.cluster_total
        print(f"creating the query namespaces ({total:,} EventTypes in the cluster)", flush=True)
        population = asyncio.run(populate(registry, "queries", batches["queries"], total))
        results.populations.append(population)
        print(f"  {population}", flush=True)
        results.memory_embedded = {
            "event_types": total,
            "empty": embedded_empty,
            "loaded": memory_of(serve_pid(data)),
        }
        print(f"memory: cluster-mode serve, {total:,} EventTypes (kept for the queries)")
        cluster, point = cluster_mode(
            registry.kubeconfig, work / "mem-2", total, "--completed-objects", "0"
        )
        results.memory_cluster_mode.append(point)
        results.memory_traced = asyncio.run(traced_memory(registry.kubeconfig))

        print("starting the naive server", flush=True)
        naive = AnnouncingProcess(
            "naive query server",
            [
                sys.executable,
                "-m",
                "bench.naive_query_server",
                "--kubeconfig",
                str(registry.kubeconfig),
                "--port",
                "0",
            ],
            work / "naive.log",
            cwd=REPO,
        )
        began = time.perf_counter()
        naive_url = naive.start("naive", timeout=START_TIMEOUT)
        results.naive = naive_info(naive, time.perf_counter() - began)
        print(f"  {results.naive}", flush=True)
        urls = {
            "registry": registry.url,
            "uncached": registry.url,
            "changed": registry.url,
            "cluster": cluster.url,
            "naive": naive_url,
            "prebuilt": naive_url.rsplit("/", 1)[0] + "/prebuilt",
        }
        pids = {"uncached": serve_pid(data), "cluster": serve_pid(work / "mem-2")}
        before = {path: memory_of(pid) for path, pid in pids.items()}
        results.sizes, profiles = asyncio.run(measure_all(scale, registry, urls, pids, work))
        results.profiles.update(profiles)
        results.memory_queries = {
            "registry" if path == "uncached" else path: {
                "before": before[path],
                "after": memory_of(pid),
            }
            for path, pid in pids.items()
        }
    except BaseException:
        print(registry.output(), file=sys.stderr)
        if naive is not None:
            print(naive.output(), file=sys.stderr)
        raise
    finally:
        if naive is not None:
            naive.stop()
        if cluster is not None:
            cluster.stop()
        registry.stop()
    largest = max(scale.sizes)
    for policy, title in GC_POLICIES.items():
        print(f"GC probe: {title}", flush=True)
        probe = gc_probe(
            data,
            work,
            policy,
            scale.cluster_total,
            query_namespace(largest),
            scale.gc_probe_rounds,
        )
        results.gc_probes.append(probe)
        print(f"  {probe}", flush=True)
    return results


def naive_info(naive: AnnouncingProcess, seconds: float) -> dict[str, Any]:
    info: dict[str, Any] = {"start_to_serving_seconds": round(seconds, 3)}
    for line in naive.output(100_000).splitlines():
        if line.startswith("naive loaded: "):
            info.update(json.loads(line.removeprefix("naive loaded: ")))
    if naive.process is not None:
        info["memory"] = memory_of(naive.process.pid)
    return info


async def measure_all(
    scale: Scale,
    registry: RegistryProcess,
    urls: dict[str, str],
    pids: dict[str, int],
    work: Path,
) -> tuple[list[SizeResult], dict[str, Profile]]:
    kubectl = kubectl_runner(registry.kubeconfig, work / "kubectl-cache")
    measured = []
    async with cluster_of(registry.kubeconfig) as cluster:
        for size in scale.sizes:
            rounds = scale.rounds[size]
            print(f"queries: {size:,} EventTypes in the namespace, {rounds} rounds", flush=True)
            result = await measure_size(size, rounds, urls, cluster, kubectl, scale.kubectl_runs)
            measured.append(result)
            for query in (*QUERIES, "any"):
                shown = ", ".join(
                    f"{path} {lat.p50_ms:.1f}/{lat.p99_ms:.1f}"
                    for path, phases in result.latencies[query].items()
                    for phase, lat in phases.items()
                    if phase == "bytes" or path == "kubectl"
                )
                print(f"  {query}: {shown} (p50/p99 ms to the last byte)", flush=True)
        if CHANGED in urls:
            for result in measured:
                print(f"queries after a Broker change: {result.size:,} EventTypes", flush=True)
                await measure_changed(result, urls[CHANGED], cluster)
                shown = ", ".join(
                    f"{query} {result.latencies[query][CHANGED]['bytes'].p50_ms:.1f}/"
                    f"{result.latencies[query][CHANGED]['bytes'].p99_ms:.1f}"
                    for query in QUERIES
                )
                print(f"  changed: {shown} (p50/p99 ms to the last byte)", flush=True)
    profiles: dict[str, Profile] = {}
    if PY_SPY.exists():
        largest = max(scale.sizes)
        for path in ("uncached", "cluster"):
            print(f"profiling {PATH_TITLES[path]}: full query, {largest:,} EventTypes")
            profile = await profile_queries(
                f"{PATH_TITLES[path]}: full query of {largest:,} EventTypes, back to back",
                pids[path],
                urls[path],
                query_namespace(largest),
                scale.profile_seconds,
                work,
            )
            if profile is not None:
                profiles[path] = profile
    return measured, profiles


# reporting -----------------------------------------------------------------------------------


def fmt(value: float, digits: int = 1) -> str:
    if math.isnan(value):
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def both(latency: Latency | None) -> str:
    return "-" if latency is None else f"{fmt(latency.p50_ms)} / {fmt(latency.p99_ms)}"


@dataclass(frozen=True)
class Row:
    figure: str
    values: dict[str, str]
    target: str = "-"
    met: dict[str, bool] | None = None
    """Whether the target is met, for the registry cached and uncached (or just one)."""

    def cells(self) -> list[str]:
        met = "-"
        if self.met is not None:
            met = " / ".join("yes" if ok else "**no**" for ok in self.met.values())
        return [self.figure, *(self.values.get(p, "-") for p in PATHS), self.target, met]

    def missed(self) -> list[str]:
        if self.met is None:
            return []
        if len(self.met) == 1:
            return [self.figure for ok in self.met.values() if not ok]
        return [f"{self.figure} [{which}]" for which, ok in self.met.items() if not ok]


def per_event_type(results: Results) -> float:
    points = results.memory_cluster_mode
    if len(points) < 2:
        return math.nan
    first, last = points[0], points[-1]
    return (last.rss_anon_bytes - first.rss_anon_bytes) / (last.event_types - first.event_types)


def speedup(sized: SizeResult, query: str, path: str, phase: str = "decoded") -> float:
    direct = sized.get(query, "direct", phase)
    mine = sized.get(query, path, phase)
    if direct is None or mine is None:
        return math.nan
    return direct.p50_ms / mine.p50_ms


def rows(results: Results) -> list[Row]:
    table: list[Row] = []
    for sized in results.sizes:
        n = sized.size
        target_ms = P99_SMALL_MS if n <= SMALL_PAGE else P99_LARGE_MS
        for query, title in QUERY_TITLES.items():
            received = {p: both(sized.get(query, p, "bytes")) for p in PATHS}
            met = {}
            for which, path in (("cached", "registry"), ("uncached", "uncached")):
                latency = sized.get(query, path, "bytes")
                met[which] = latency is not None and latency.p99_ms <= target_ms
            table.append(
                Row(
                    f"{title}, {n:,} EventTypes: p50 / p99 ms to the last byte",
                    received,
                    f"p99 ≤ {target_ms:.0f}",
                    met,
                )
            )
            table.append(
                Row(
                    f"{title}, {n:,} EventTypes: p50 / p99 ms decoded",
                    {p: both(sized.get(query, p, "decoded")) for p in PATHS},
                )
            )
            ratios = {
                p: f"{speedup(sized, query, p, 'bytes'):.1f}x ({speedup(sized, query, p):.2f}x)"
                for p in GRAPHQL_PATHS
            }
            table.append(
                Row(
                    f"{title}, {n:,}: speed-up over the direct list, p50 ratio to the last byte "
                    "(decoded)",
                    ratios,
                    f"≥ {SPEEDUP_TARGET:.0f}x",
                    {
                        "cached": speedup(sized, query, "registry", "bytes") >= SPEEDUP_TARGET,
                        "uncached": speedup(sized, query, "uncached", "bytes") >= SPEEDUP_TARGET,
                    },
                )
            )
    if results.cold_starts:
        cold = results.cold_starts
        ready = percentile([c.ready_seconds for c in cold], 50)
        table.append(
            Row(
                f"cold start to /readyz 200, {cold[0].event_types:,} EventTypes in "
                f"{cold[0].namespaces:,} namespaces, s (median of {len(cold)})",
                {"registry": fmt(ready, 2)},
                f"≤ {COLD_TARGET_S:.0f}",
                {"registry": ready <= COLD_TARGET_S},
            )
        )
    for point in results.memory_cluster_mode[1:]:
        table.append(
            Row(
                f"cluster-mode serve: start to /readyz 200 with {point.event_types:,} "
                "EventTypes (the cluster already up), s",
                {"cluster": fmt(point.ready_seconds, 2)},
            )
        )
    if results.naive:
        table.append(
            Row(
                f"naive server: start, list {results.naive['objects']['EventType']:,} "
                "EventTypes once and build the Cache, s",
                {"naive": fmt(results.naive["start_to_serving_seconds"], 2)},
            )
        )
    for population in results.populations:
        table.append(
            Row(
                f"EventType creates/s, kubernetes_asyncio {CONCURRENCY} concurrent "
                f"({population.event_types:,} in {population.namespaces:,} namespaces)",
                {"direct": fmt(population.creates_per_second)},
            )
        )
        table.append(
            Row(
                f"first create until all {population.event_types:,} are consumable in the "
                "registry, s",
                {"registry": fmt(population.consumable_seconds, 1)},
            )
        )
    for probe in results.gc_probes:
        title = GC_POLICIES[probe.policy]
        table.append(
            Row(
                f"GC probe, {title}: start to /readyz with {probe.event_types:,} EventTypes, s "
                f"(collections meanwhile: {collections(probe.startup_gc)})",
                {"registry": fmt(probe.ready_seconds, 2)},
            )
        )
        largest = max(results.scale.sizes)
        for query, latency in probe.latencies.items():
            table.append(
                Row(
                    f"GC probe, {title}: {QUERY_TITLES[query]}, {largest:,}, p50 / p99 ms to "
                    f"the last byte ({latency.count} requests; collections meanwhile: "
                    f"{collections(probe.query_gc[query])})",
                    {"registry": both(latency)},
                )
            )
    slope = per_event_type(results)
    if not math.isnan(slope):
        last = results.memory_cluster_mode[-1]
        table.append(
            Row(
                f"RssAnon per cached EventType, {last.event_types:,} vs 0, bytes",
                {"cluster": fmt(slope)},
            )
        )
    if results.memory_traced:
        traced = results.memory_traced
        n = traced["event_types"]
        table.append(
            Row(
                f"Python heap a Cache of {n:,} EventTypes retains (tracemalloc), bytes per "
                "EventType",
                {"cluster": fmt(traced["cache_bytes"] / n)},
            )
        )
        table.append(
            Row(
                f"the same with serve's Hub (history {traced['hub_history']:,} changes), "
                "bytes per EventType",
                {"cluster": fmt(traced["cache_and_hub_bytes"] / n)},
            )
        )
    if results.memory_queries:
        growth = {
            path: f"{(m['after']['RssAnon'] - m['before']['RssAnon']) / 2**20:+,.0f}"
            for path, m in results.memory_queries.items()
        }
        table.append(
            Row(
                "RssAnon growth of the registry process over the query rounds and its profile, MiB",
                growth,
            )
        )
    if results.memory_embedded:
        embedded = results.memory_embedded
        grown = embedded["loaded"]["RssAnon"] - embedded["empty"]["RssAnon"]
        table.append(
            Row(
                "RssAnon growth of the embedded serve process (plane, controller, cache), "
                f"{embedded['event_types']:,} vs 0, bytes per EventType",
                {"registry": fmt(grown / embedded["event_types"])},
            )
        )
    return table


def collections(by_generation: dict[str, dict[str, float]]) -> str:
    """The gen1 and gen2 (full) collections of a GC probe summary, in words."""
    words = []
    for generation in ("gen1", "gen2"):
        found = by_generation.get(generation)
        if not found:
            words.append(f"{generation} none")
            continue
        words.append(
            f"{generation} {found['count']:.0f} ({found['total_ms'] / 1000:.2f} s, longest "
            f"{fmt(found['max_ms'])} ms)"
        )
    return ", ".join(words)


def render(table: Sequence[Row]) -> str:
    header = ["Figure", *(PATH_TITLES[p] for p in PATHS), "Target", "Met? (cached / uncached)"]
    lines = [header, *(row.cells() for row in table)]
    widths = [max(len(line[c]) for line in lines) for c in range(len(header))]
    text = [
        "| " + " | ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)) + " |"
        for line in lines
    ]
    text.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(text)


def missed(table: Sequence[Row]) -> list[str]:
    return [figure for row in table for figure in row.missed()]


def findings(results: Results) -> list[str]:
    """Sentences computed from the figures."""
    sentences = []
    for sized in results.sizes:

        def p(
            path: str, query: str = "full", phase: str = "bytes", sized: SizeResult = sized
        ) -> str:
            return both(sized.get(query, path, phase))

        size_bytes = sized.answer_bytes["full"]["registry"]
        naive = sized.get("full", "naive", "bytes")
        registry = sized.get("full", "uncached", "bytes")
        ratio = naive.p50_ms / registry.p50_ms if naive and registry else math.nan
        sentences.append(
            f"{sized.size:,} EventTypes, full query ({size_bytes:,} bytes; p50 / p99 ms to "
            f"the last byte): registry {p('registry')} (a response cache hit: nothing changed "
            f"since the same request), uncached {p('uncached')} (EventTypes completed for "
            f"earlier requests reused), after a Broker change {p('changed')} (every EventType "
            "completed again, its conditions, labels, attributes and reference reused), "
            "completing every EventType (cluster mode, --completed-objects 0) "
            f"{p('cluster')}, plain Strawberry over the same cache "
            f"{p('naive')} "
            f"({ratio:.1f}x the uncached registry's p50), the same bytes pre-serialized "
            f"{p('prebuilt')}, the direct list's bytes {p('direct')} "
            f"({sized.answer_bytes['any']['direct']:,} bytes); decoded: registry "
            f"{p('registry', phase='decoded')}, direct list {p('direct', phase='decoded')}, "
            f"kubectl {p('kubectl', phase='decoded')}. List query: registry "
            f"{p('registry', 'list')}, uncached {p('uncached', 'list')}, naive "
            f"{p('naive', 'list')}, pre-serialized {p('prebuilt', 'list')}."
        )
    slope = per_event_type(results)
    if not math.isnan(slope) and results.memory_traced:
        points = ", ".join(
            f"{p.event_types:,}: {p.rss_anon_bytes / 2**20:.1f} MiB"
            for p in results.memory_cluster_mode
        )
        traced = results.memory_traced
        n = traced["event_types"]
        hub = traced["cache_and_hub_bytes"] - traced["cache_bytes"]
        top = ", ".join(f"`{where}` {size / n:,.0f}" for where, size in traced["cache_top"][:5])
        embedded = results.memory_embedded
        sentences.append(
            f"Memory: the cluster-mode registry's anonymous RSS after sync ({points}) grows by "
            f"{fmt(slope)} bytes per EventType. Of that, tracemalloc finds "
            f"{fmt(traced['cache_bytes'] / n)} bytes per EventType in the Cache itself "
            f"(largest retainers, bytes per EventType: {top}) and "
            f"{fmt(hub / min(n, traced['hub_history']))} bytes per retained change in the "
            f"Hub's history ({hub / 2**20:.0f} MiB at {n:,} EventTypes: the sync's ADDED changes "
            "each keep the snapshot after them); the rest is what the sync's transient JSON "
            "and snapshots leave in the allocator. The embedded serve process holds "
            f"{embedded['loaded']['RssAnon'] / 2**20:,.0f} MiB anonymous RSS with "
            f"{embedded['event_types']:,} EventTypes (from "
            f"{embedded['empty']['RssAnon'] / 2**20:,.0f} MiB empty): the control plane's "
            "objects and history and the readiness controller's raw cache live in the same "
            "process as the registry's cache."
        )
    probes = {probe.policy: probe for probe in results.gc_probes}
    if "shipped" in probes and "off-until-ready" in probes:
        shipped, off = probes["shipped"], probes["off-until-ready"]
        sentences.append(
            "Garbage collection (GC probe: the real serve with a gc callback, on the "
            f"{shipped.event_types:,}-EventType data dir, uncached queries of "
            f"{max(results.scale.sizes):,}): as shipped, start-up took "
            f"{fmt(shipped.ready_seconds, 2)} s with collections "
            f"{collections(shipped.startup_gc)}; full queries {both(shipped.latencies['full'])} "
            f"ms (p50 / p99) with collections {collections(shipped.query_gc['full'])}; "
            f"list queries {both(shipped.latencies['list'])} ms with "
            f"{collections(shipped.query_gc['list'])}. With the automatic collector off until "
            f"/readyz: start-up {fmt(off.ready_seconds, 2)} s with collections "
            f"{collections(off.startup_gc)}."
        )
    for profile in results.profiles.values():
        shares = "; ".join(f"{name} {share}%" for name, share in profile.categories.items())
        sentences.append(f"Profile, {profile.what} ({profile.samples:,} samples): {shares}.")
    return sentences


def clean(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    return value


def document_of(info: Json, results: Results, table: Sequence[Row]) -> Json:
    document: Json = clean(
        {
            "machine": info,
            "scale": asdict(results.scale),
            "units": {"latency": "milliseconds", "memory": "bytes", "time": "seconds"},
            "queries": {"full": FULL_QUERY.strip(), "list": LIST_QUERY.strip()},
            "paths": PATH_TITLES,
            "sizes": [asdict(s) for s in results.sizes],
            "populations": [asdict(p) for p in results.populations],
            "cold_starts": [asdict(c) for c in results.cold_starts],
            "memory": {
                "cluster_mode_serve": [asdict(m) for m in results.memory_cluster_mode],
                "rss_anon_bytes_per_event_type": per_event_type(results),
                "traced_cache": results.memory_traced,
                "embedded_serve": results.memory_embedded,
                "over_the_query_rounds": results.memory_queries,
            },
            "naive_server": results.naive,
            "profiles": {name: asdict(p) for name, p in results.profiles.items()},
            "gc_probes": [asdict(p) for p in results.gc_probes],
            "table": [
                {"figure": r.figure, **r.values, "target": r.target, "met": r.met} for r in table
            ],
            "missed": missed(table),
            "findings": findings(results),
        }
    )
    return document


def profile_tables(profile: Profile) -> list[str]:
    return [
        f"{profile.what}: `{profile.command}`, {profile.samples:,} samples"
        + (f", {profile.requests} requests" if profile.requests else "")
        + ".",
        "",
        "| Category (frame anywhere on the stack) | % of samples |",
        "|----------------------------------------|--------------|",
        *(f"| {name} | {share} |" for name, share in profile.categories.items()),
        "",
        "| Self % | Innermost frame |",
        "|--------|-----------------|",
        *(f"| {share} | `{frame}` |" for frame, share in profile.self_top[:12]),
        "",
        "| Inclusive % | event_registry function |",
        "|-------------|-------------------------|",
        *(f"| {share} | `{frame}` |" for frame, share in profile.project_top[:15]),
        "",
    ]


def readme_section(info: Json, results: Results, table: Sequence[Row]) -> str:
    scale = results.scale
    rounds = ", ".join(f"{n:,}: {r}" for n, r in scale.rounds.items())
    failed = missed(table)
    lines = [
        SECTION,
        "",
        "`eventTypes` of one namespace through the registry (HTTP POST `/graphql`) beside the "
        "same data through a naive Strawberry server over the same cache "
        "(`bench/naive_query_server.py`: `build_schema(fast=False)` behind Strawberry's own "
        "`GraphQL` ASGI app on uvicorn, in its own process), the same answer pre-serialized "
        "(bytes from a trivial Starlette endpoint of that server), a direct "
        "`CustomObjectsApi.list_namespaced_custom_object` (kubernetes_asyncio) and "
        f"`kubectl get {KUBECTL_RESOURCE} -n NS -o json`; cold start to `/readyz`; resident "
        "memory per cached EventType. Run with `.venv/bin/python -m bench.queries [--quick]`; "
        "the module's docstring gives the method step by step. Figures of "
        f"{info['date']} on {info['nproc']} cores (Python {info['python']}, kubectl "
        f"{info['kubectl']}), {scale.cluster_total:,} EventTypes in the cluster, load average "
        f"{info['loadavg_at_start'][0]:.2f} at start and {info['loadavg_at_end'][0]:.2f} at "
        f"the end (the machine is shared), one run of {info['duration_seconds']:.0f} s; raw "
        "figures in `bench/results/queries.json`.",
        "",
        "- **registry** is `event-registry serve` as a developer runs it (embedded control "
        "plane and readiness controller in the same process), asked the same request again and "
        "again: nothing changes in the cluster meanwhile, so after the first one its response "
        "cache (keyed by document, variables, caller scope and snapshot revision) answers. "
        "**registry, uncached** is the same process, each request with a fresh `nonce` "
        "variable (undeclared by the operation, so ignored by GraphQL, but part of the cache "
        "key): every request executes, as the first one after any change of the cluster does, "
        "reusing the EventTypes it completed for earlier requests (kept as JSON while the "
        "object and what it reads are unchanged: nothing in the namespace changed). "
        "**cluster mode, uncached, nothing reused** is `event-registry serve --kubeconfig "
        "--completed-objects 0` against the same control plane (the registry alone in its "
        "process, as deployed against a real cluster), uncached likewise and completing every "
        "EventType of every request, as the first request after its namespace's Broker "
        "changed does. **registry, after a Broker change** is the embedded registry again, each "
        "request preceded (untimed) by a label change of the namespace's Broker and a wait "
        "until the registry serves it: the first request after a Broker flip, which must "
        "complete every EventType again (each reads its Broker) but reuses the parts that "
        "read only the EventType. Targets are checked on the first two: *Met?* reads "
        "cached / uncached.",
        "- Full query: `name namespace type source schema description ready reason consumable "
        "apiVersion createdAt labels{key value} attributes{name value required} "
        "conditions{type status reason message lastTransitionTime severity} "
        "reference{apiVersion kind name namespace} broker{name ready}` under "
        "`eventTypes(namespace: $ns) { totalCount pageInfo{hasNextPage endCursor} nodes{...} }`;"
        " list query: `totalCount nodes { name type ready consumable }`. The direct list and "
        "kubectl always return whole objects: the same figures stand in both queries' rows.",
        "- Latency: sequential requests, one kept-alive connection per path, interleaved "
        f"rounds (per size: {rounds}; after {WARMUP_ROUNDS} warm-up rounds). *To the last "
        "byte*: until the whole answer has arrived (the direct list read with "
        "`_preload_content=False`); *decoded*: until `json.loads` of it returned (the direct "
        "list as `list_namespaced_custom_object` returns it). kubectl: "
        f"{scale.kubectl_runs} runs after an untimed one, process start to exit (its p99 is "
        "about its slowest run). Speed-up = direct list p50 / the path's p50 to the last byte "
        "(the server's part; in parentheses, decoded: both decoded by Python's `json.loads` in "
        "the client, which takes longer than the registry's whole answer and grows with the "
        "bytes, and the GraphQL answer carries derived fields the list has not); the target is "
        "checked on the ratio to the last byte.",
        "- Memory: `RssAnon` of the cluster-mode process 1 s after `/readyz` turned 200, with "
        "0 and with N EventTypes in the cluster; per EventType = the difference / N. Beside "
        "it, tracemalloc's count of the Python heap a `Cache` of the same EventTypes retains, "
        "and the embedded serve process's growth.",
        "- GC probe: the real `serve` started with `python -c` code that first installs a "
        "`gc.callbacks` timer (every collection, explicit ones included, read over SIGUSR1), "
        "on the final data dir: as shipped, and with the automatic collector off until "
        "`/readyz` (start-up only). Its queries are uncached.",
        "",
        render(table),
        "",
        *(f"- {sentence}" for sentence in findings(results)),
        "- Targets missed: " + ("; ".join(failed) if failed else "none") + ".",
        "",
        "### Profiles",
        "",
        "py-spy with `--gil --native` (only samples holding the GIL, C frames included, so "
        "garbage collection and the C JSON encoder show by name). The query profiles run "
        "uncached requests (a response cache hit does no work worth profiling).",
        "",
    ]
    for profile in results.profiles.values():
        lines += profile_tables(profile)
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="namespaces of 100 and 500, 2,000 EventTypes in the cluster, fewer rounds",
    )
    parser.add_argument(
        "--output",
        type=Path,
        help=f"JSON results (default: {RESULTS.relative_to(BENCH.parent)}; none with --quick)",
    )
    args = parser.parse_args(argv)
    scale = QUICK_SCALE if args.quick else FULL_SCALE
    output: Path | None = args.output or (None if args.quick else RESULTS)
    info = reporting.machine()
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-queries-") as directory:
        results = run(scale, Path(directory))
    info["loadavg_at_end"] = list(os.getloadavg())
    info["duration_seconds"] = round(time.perf_counter() - began, 1)
    table = rows(results)
    print(
        f"\nqueries benchmark, {info['date']}, {info['nproc']} cores, Python {info['python']}, "
        f"{scale.cluster_total:,} EventTypes in the cluster, {info['duration_seconds']} s"
    )
    print(render(table))
    for sentence in findings(results):
        print(f"- {sentence}")
    failed = missed(table)
    print("targets missed: " + ("; ".join(failed) if failed else "none"))
    for profile in results.profiles.values():
        print(f"hot spots, {profile.what} (self %):")
        for frame, share in profile.self_top[:10]:
            print(f"  {share:5.1f}  {frame}")
    if info["duration_seconds"] > BUDGET_SECONDS:
        print(f"warning: the run took more than its {BUDGET_SECONDS:.0f} s budget", file=sys.stderr)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(document_of(info, results, table), indent=2) + "\n")
        print(f"results: {output}")
    if not args.quick:
        reporting.replace_section(README, SECTION, readme_section(info, results, table))
        print(f"README section: {README}")


if __name__ == "__main__":
    main()
