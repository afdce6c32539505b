"""Queries benchmark: ``eventTypes`` of one namespace through the registry beside the same data
through a naive Strawberry server, pre-serialized bytes, a direct list and kubectl; cold start;
memory per cached EventType.

Run from the repository root::

    .venv/bin/python -m bench.queries [--quick]

Everything runs in one temporary directory and talks to the processes only over HTTP (and
Linux ``/proc`` for their memory). The steps, in order:

1. **Population, cold-start part.** An ``event-registry serve`` (open mode, embedded control
   plane and embedded Knative readiness controller, as a developer runs it) on an empty data
   directory. Through kubernetes_asyncio (16 concurrent requests) it gets 1,000 namespaces,
   a Broker ``default`` in each and 10 EventTypes in each (10,000; ``eventing.knative.dev/
   v1beta2``, type, source, schema, description, two labels and a ``reference`` to the
   Broker). The EventType creates are timed (creation throughput), then the run waits until
   the registry reports every EventType ``consumable`` (the controller has made the Broker
   and each EventType Ready and the registry's informer has seen it).
2. **Cold start.** That serve process is stopped and a fresh one started on the same data
   directory (3 times): the time from starting the process to the first ``/readyz`` 200
   (process start, imports, the embedded control plane loading its SQLite data, the informers'
   lists and the cache build; polled every 10 ms), then a check that the cache serves all
   10,000.
3. **Population, query part.** Into the last of those processes: namespaces holding 100, 500
   and 5,000 EventTypes (each with its Broker) and one more holding the rest, so the cluster
   holds 20,000 EventTypes; again until all are consumable in the registry.
4. **Memory.** ``event-registry serve --kubeconfig <the embedded control plane's kubeconfig>``
   (the registry in cluster mode: no embedded control plane nor controller in the process,
   so its memory is the registry's own: cache, informers, GraphQL app) is started against the
   cluster while it holds 0, 10,000 and 20,000 EventTypes (the first two during steps 1 and
   2); ``RssAnon`` (anonymous resident memory, /proc/PID/status) is read 1 s after its
   ``/readyz`` turned 200 and one small query ran. Bytes per EventType = the slope between 0
   and 20,000. Beside it: the Python heap a :class:`~event_registry.store.caching.Cache` built
   from the same 20,000 EventTypes retains (tracemalloc in this process: decode the list's
   JSON, build the cache, drop the JSON, collect), and the embedded serve process's own
   growth (control plane storage and the readiness controller's cache included).
5. **Queries.** ``bench/naive_query_server.py`` is started against the same control plane
   (it lists everything once and builds the same Cache; plain Strawberry execution with
   ``build_schema(fast=False)``, and the pre-serialized endpoint). For each namespace size,
   in interleaved rounds (so a change of the machine's load hits every path alike), one
   request of each: the full query (every field a UI shows) and the list query (name, type,
   ready, consumable) to the registry, to the naive server and to its pre-serialized
   endpoint, each on its own kept-alive connection; and one direct list
   (``CustomObjectsApi.list_namespaced_custom_object``, decoded JSON). Each latency is from
   sending the request to the decoded document (``json.loads`` of the body for the GraphQL
   paths), 3 untimed warm-up rounds first. Then ``kubectl get
   eventtypes.v1beta2.eventing.knative.dev -n NS -o json`` (PyPI kubectl), 1 untimed run then
   5 timed runs: process start to exit. Every answer is checked (count; the registry's, the
   naive server's and the pre-serialized answers of a query must be identical).
6. **Profile.** py-spy samples the registry process (``--nonblocking``, 250 Hz) while it
   answers the full query for the largest namespace back to back; the hot spots (self and
   inclusive samples per function) go into the results.

Percentiles interpolate between the closest ranks: with 5 kubectl runs the "p99" is close
to the slowest run. The client, both servers, kubectl and py-spy share the machine's cores.

A full run writes ``bench/results/queries.json`` and the "Queries" section of
``bench/README.md`` (only that section is replaced or appended); ``--quick`` (sizes 100 and
500, 2,000 EventTypes in the cluster, 1,000 for the cold start across 100 namespaces, fewer
rounds) writes neither unless ``--output`` is given.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import gc
import json
import math
import os
import platform
import subprocess
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
from tests.support.controlplane import KUBECTL, REPO, run_kubectl
from tests.support.registry import AnnouncingProcess, RegistryProcess, broker, eventtype, http

from event_registry.store.caching import Cache

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results" / "queries.json"
README = BENCH / "README.md"
SECTION = "## Queries"

GROUP = "eventing.knative.dev"
VERSION = "v1beta2"
PLURAL = "eventtypes"
KUBECTL_RESOURCE = f"{PLURAL}.{VERSION}.{GROUP}"
BROKER = "default"

CONCURRENCY = 16
WARMUP_ROUNDS = 3
SETTLE_TIMEOUT = 600.0
BUDGET_SECONDS = 600.0
P99_SMALL_MS = 20.0
P99_LARGE_MS = 200.0
COLD_TARGET_S = 5.0
SPEEDUP_TARGET = 5.0

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
    profile_seconds: float

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
    profile_seconds=8.0,
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
    profile_seconds=4.0,
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
    bytes: int = 0

    @classmethod
    def of(cls, seconds: Sequence[float], size_bytes: int = 0) -> Latency:
        ms = [s * 1000 for s in seconds]
        return cls(
            count=len(ms),
            p50_ms=round(percentile(ms, 50), 3),
            p99_ms=round(percentile(ms, 99), 3),
            mean_ms=round(sum(ms) / len(ms), 3) if ms else math.nan,
            max_ms=round(max(ms), 3) if ms else math.nan,
            bytes=size_bytes,
        )


def pid_with_argument(argument: str) -> int | None:
    """The pid of the process whose command line holds ``argument`` (Linux /proc), or None."""
    wanted = argument.encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            arguments = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if wanted in arguments:
            return int(entry.name)
    return None


def memory_of(pid: int) -> dict[str, int]:
    """VmRSS, RssAnon and VmHWM of a process, in bytes (/proc/PID/status)."""
    found: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "VmHWM"):
            found[key] = int(value.split()[0]) * 1024
    return found


def registry_pid(registry: RegistryProcess) -> int:
    pid = pid_with_argument(str(registry.data_dir))
    if pid is None:
        raise RuntimeError(f"no process serves {registry.data_dir}")
    return pid


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

    async def list_event_types(self, namespace: str) -> Json:
        listed: Json = await self.custom.list_namespaced_custom_object(
            GROUP, VERSION, namespace, PLURAL
        )
        return listed

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


async def post(session: aiohttp.ClientSession, url: str, body: bytes) -> tuple[float, Json, int]:
    """One POST: (seconds from sending to the decoded document, document, body bytes)."""
    began = time.perf_counter()
    async with session.post(
        url, data=body, headers={"content-type": "application/json"}
    ) as response:
        raw = await response.read()
        status = response.status
    if status != 200:
        raise RuntimeError(f"POST {url}: HTTP {status}: {raw[:500]!r}")
    document = json.loads(raw)
    elapsed = time.perf_counter() - began
    if not isinstance(document, dict):
        raise RuntimeError(f"POST {url}: not a JSON object: {raw[:500]!r}")
    if document.get("errors"):
        raise RuntimeError(f"POST {url}: GraphQL errors: {document['errors']}")
    return elapsed, document, len(raw)


async def count(session: aiohttp.ClientSession, url: str, query: str) -> int:
    _, document, _ = await post(session, url, payload(query))
    total: int = document["data"]["eventTypes"]["totalCount"]
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


def cold_start(
    data_dir: Path, event_types: int, namespaces: int
) -> tuple[RegistryProcess, ColdStart]:
    """Start serve on an existing data dir; time to /readyz 200 (polled every 10 ms)."""
    registry = RegistryProcess(data_dir)
    began = time.perf_counter()
    registry.start(timeout=120)
    announced = time.perf_counter()
    deadline = announced + 120
    while True:
        try:
            reply = http("GET", f"{registry.origin}/readyz", timeout=5)
        except (urllib.error.URLError, ConnectionError):
            reply = None
        if reply is not None and reply.status == 200:
            break
        if time.perf_counter() > deadline:
            registry.stop()
            raise RuntimeError(f"not ready after 120 s:\n{registry.output()}")
        time.sleep(0.01)
    ready = time.perf_counter()
    total = registry.query(TOTAL_COUNT)["data"]["eventTypes"]["totalCount"]
    if total != event_types:
        registry.stop()
        raise RuntimeError(f"cold start: the cache serves {total} EventTypes, want {event_types}")
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


def cluster_mode_memory(kubeconfig: Path, scratch: Path, event_types: int) -> MemoryPoint:
    """RSS of ``serve --kubeconfig`` (no embedded plane) once synced with ``event_types``."""
    scratch.mkdir(parents=True, exist_ok=True)
    registry = RegistryProcess(scratch, "--kubeconfig", str(kubeconfig))
    began = time.perf_counter()
    registry.start(timeout=120)
    try:
        registry.wait_ready(timeout=120)
        ready = time.perf_counter() - began
        total = registry.query(TOTAL_COUNT)["data"]["eventTypes"]["totalCount"]
        if total != event_types:
            raise RuntimeError(f"cluster-mode serve has {total} EventTypes, want {event_types}")
        time.sleep(1.0)
        memory = memory_of(registry_pid(registry))
    finally:
        registry.stop()
    return MemoryPoint(event_types, memory["VmRSS"], memory["RssAnon"], round(ready, 3))


async def traced_cache_bytes(kubeconfig: Path) -> tuple[int, int]:
    """(EventTypes, bytes of Python heap a Cache of every EventType retains), by tracemalloc."""
    async with cluster_of(kubeconfig) as cluster:
        raw = await cluster.raw_event_types()
    gc.collect()
    tracemalloc.start()
    try:
        items = json.loads(raw)["items"]
        n = len(items)
        cache = Cache()
        cache.replace("EventType", items)
        del items
        gc.collect()
        retained, _ = tracemalloc.get_traced_memory()
        del cache
    finally:
        tracemalloc.stop()
    return n, retained


# query paths ---------------------------------------------------------------------------------


PATHS = ("registry", "naive", "prebuilt", "direct", "kubectl")
PATH_TITLES = {
    "registry": "registry",
    "naive": "naive Strawberry",
    "prebuilt": "pre-serialized",
    "direct": "direct list",
    "kubectl": "kubectl",
}


@dataclass
class SizeResult:
    size: int
    namespace: str
    rounds: int
    latencies: dict[str, dict[str, Latency]] = field(default_factory=dict)
    """query ("full", "list", "any" for direct/kubectl) → path → latency."""


async def measure_size(
    size: int,
    rounds: int,
    registry_url: str,
    naive_url: str,
    prebuilt_url: str,
    cluster: Cluster,
    kubectl: Callable[[str], Awaitable[tuple[float, int]]],
    kubectl_runs: int,
) -> SizeResult:
    namespace = query_namespace(size)
    result = SizeResult(size, namespace, rounds)
    samples: dict[tuple[str, str], list[float]] = defaultdict(list)
    sizes: dict[tuple[str, str], int] = {}
    async with contextlib.AsyncExitStack() as stack:
        sessions = {
            path: await stack.enter_async_context(graphql_session())
            for path in ("registry", "naive", "prebuilt")
        }
        urls = {"registry": registry_url, "naive": naive_url, "prebuilt": prebuilt_url}
        bodies = {name: payload(q, {"namespace": namespace}) for name, q in QUERIES.items()}
        for round_index in range(WARMUP_ROUNDS + rounds):
            answers: dict[tuple[str, str], Json] = {}
            for query in QUERIES:
                for path in ("registry", "naive", "prebuilt"):
                    elapsed, document, length = await post(
                        sessions[path], urls[path], bodies[query]
                    )
                    if round_index == 0:
                        answers[(query, path)] = document
                        check_answer(document, size, f"{path} {query}")
                    elif round_index >= WARMUP_ROUNDS:
                        samples[(query, path)].append(elapsed)
                    sizes[(query, path)] = length
            began = time.perf_counter()
            listed = await cluster.list_event_types(namespace)
            elapsed = time.perf_counter() - began
            if len(listed["items"]) != size:
                raise RuntimeError(f"direct list of {namespace}: {len(listed['items'])} items")
            if round_index >= WARMUP_ROUNDS:
                samples[("any", "direct")].append(elapsed)
            if round_index == 0:
                for query in QUERIES:
                    reference = answers[(query, "naive")]
                    for path in ("registry", "prebuilt"):
                        if answers[(query, path)] != reference:
                            raise RuntimeError(f"{path} answers {query} unlike the naive server")
    await kubectl(namespace)  # untimed: discovery cache, page cache
    for _ in range(kubectl_runs):
        elapsed, items = await kubectl(namespace)
        if items != size:
            raise RuntimeError(f"kubectl lists {items} EventTypes in {namespace}, want {size}")
        samples[("any", "kubectl")].append(elapsed)
    for (query, path), seconds in samples.items():
        latency = Latency.of(seconds, sizes.get((query, path), 0))
        result.latencies.setdefault(query, {})[path] = latency
    return result


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


# profile -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    samples: int
    requests: int
    seconds: float
    self_top: list[tuple[str, float]]
    """function (file) → share of samples in which it is the innermost frame, percent."""
    inclusive_top: list[tuple[str, float]]
    """function (file) → share of samples in which it is on the stack, percent."""
    command: str


def parse_collapsed(text: str) -> tuple[int, Counter[str], Counter[str]]:
    """py-spy's raw (collapsed) output: total samples, self and inclusive counts per frame."""
    total = 0
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for line in text.splitlines():
        stack, _, number = line.rpartition(" ")
        if not stack or not number.isdigit():
            continue
        samples = int(number)
        frames = [frame.strip() for frame in stack.split(";") if frame.strip()]
        if not frames:
            continue
        total += samples
        own[frames[-1]] += samples
        for frame in set(frames):
            inclusive[frame] += samples
    return total, own, inclusive


async def profile_registry(
    pid: int, url: str, namespace: str, seconds: float, work: Path
) -> Profile | None:
    """py-spy the registry while it answers the full query for ``namespace`` back to back."""
    spy = Path(sys.prefix) / "bin" / "py-spy"
    if not spy.exists():
        print("  py-spy not installed in the venv; no profile", file=sys.stderr)
        return None
    output = work / "profile.txt"
    command = [
        str(spy),
        "record",
        "--pid",
        str(pid),
        "--rate",
        "250",
        "--native",
        "--nolineno",
        "--format",
        "raw",
        "--duration",
        str(int(seconds)),
        "--output",
        str(output),
    ]
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    await asyncio.sleep(0.5)  # let it attach
    requests = 0
    began = time.perf_counter()
    body = payload(FULL_QUERY, {"namespace": namespace})
    async with graphql_session() as session:
        deadline = began + seconds + 30
        while process.returncode is None and time.perf_counter() < deadline:
            await post(session, url, body)
            requests += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), 0.001)
    elapsed = time.perf_counter() - began
    try:
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
    except TimeoutError:
        process.kill()
        await process.wait()
        stderr = b""
    if process.returncode != 0 or not output.exists():
        print(f"  py-spy failed: {stderr.decode(errors='replace')[-500:]}", file=sys.stderr)
        return None
    total, own, inclusive = parse_collapsed(output.read_text())
    if total == 0:
        return None

    def top(counter: Counter[str], n: int) -> list[tuple[str, float]]:
        return [(frame, round(100 * c / total, 1)) for frame, c in counter.most_common(n)]

    return Profile(
        samples=total,
        requests=requests,
        seconds=round(elapsed, 2),
        self_top=top(own, 20),
        inclusive_top=top(inclusive, 40),
        command=" ".join(["py-spy", *command[1:-2]]),
    )


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
    profile: Profile | None = None


def run(scale: Scale, work: Path) -> Results:
    results = Results(scale)
    data = work / "data"
    batches = populations(scale)
    cold_total = scale.cold_total

    print(f"starting the registry on an empty data dir ({data})", flush=True)
    registry = RegistryProcess(data).start()
    try:
        registry.wait_ready()
        pid = registry_pid(registry)
        embedded_empty = memory_of(pid)
        print("memory: cluster-mode serve, 0 EventTypes", flush=True)
        results.memory_cluster_mode.append(
            cluster_mode_memory(registry.kubeconfig, work / "mem-0", 0)
        )
        print(
            f"creating {cold_total:,} EventTypes in {scale.cold_namespaces:,} namespaces",
            flush=True,
        )
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
        registry.stop()
        raise
    registry.stop()

    for attempt in range(scale.cold_runs):
        print(f"cold start {attempt + 1}/{scale.cold_runs}", flush=True)
        registry, started = cold_start(data, cold_total, scale.cold_namespaces)
        results.cold_starts.append(started)
        print(f"  {started}", flush=True)
        if attempt + 1 < scale.cold_runs:
            registry.stop()

    naive: AnnouncingProcess | None = None
    try:
        total = scale.cluster_total
        print(f"creating the query namespaces ({total:,} EventTypes in the cluster)", flush=True)
        population = asyncio.run(populate(registry, "queries", batches["queries"], total))
        results.populations.append(population)
        print(f"  {population}", flush=True)
        pid = registry_pid(registry)
        embedded_full = memory_of(pid)
        results.memory_embedded = {
            "event_types": total,
            "empty": embedded_empty,
            "loaded": embedded_full,
            "note": "the embedded serve process: control plane storage, readiness controller "
            "and registry cache together; empty = the first process before any object, "
            "loaded = the cold-started process after the query population",
        }
        print(f"memory: cluster-mode serve, {total:,} EventTypes", flush=True)
        results.memory_cluster_mode.append(
            cluster_mode_memory(registry.kubeconfig, work / "mem-2", total)
        )
        traced_n, traced = asyncio.run(traced_cache_bytes(registry.kubeconfig))
        results.memory_traced = {"event_types": traced_n, "bytes": traced}

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
        naive_url = naive.start("naive", timeout=300)
        results.naive = naive_info(naive, time.perf_counter() - began)
        print(f"  {results.naive}", flush=True)
        origin = naive_url.rsplit("/", 1)[0]
        results.sizes, results.profile = asyncio.run(
            measure_all(scale, registry, naive_url, f"{origin}/prebuilt", work, pid)
        )
    except BaseException:
        print(registry.output(), file=sys.stderr)
        if naive is not None:
            print(naive.output(), file=sys.stderr)
        raise
    finally:
        if naive is not None:
            naive.stop()
        registry.stop()
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
    naive_url: str,
    prebuilt_url: str,
    work: Path,
    pid: int,
) -> tuple[list[SizeResult], Profile | None]:
    kubectl = kubectl_runner(registry.kubeconfig, work / "kubectl-cache")
    measured = []
    async with cluster_of(registry.kubeconfig) as cluster:
        for size in scale.sizes:
            rounds = scale.rounds[size]
            print(f"queries: {size:,} EventTypes in the namespace, {rounds} rounds", flush=True)
            result = await measure_size(
                size,
                rounds,
                registry.url,
                naive_url,
                prebuilt_url,
                cluster,
                kubectl,
                scale.kubectl_runs,
            )
            measured.append(result)
            for query, paths in result.latencies.items():
                shown = ", ".join(
                    f"{path} {lat.p50_ms:.1f}/{lat.p99_ms:.1f}" for path, lat in paths.items()
                )
                print(f"  {query}: {shown} (p50/p99 ms)", flush=True)
    largest = max(scale.sizes)
    print(f"profiling the registry: full query, {largest:,} EventTypes", flush=True)
    profile = await profile_registry(
        pid, registry.url, query_namespace(largest), scale.profile_seconds, work
    )
    return measured, profile


# reporting -----------------------------------------------------------------------------------


def machine() -> Json:
    kubectl = subprocess.run(
        [str(KUBECTL), "version", "--client", "-o", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "kubectl": json.loads(kubectl.stdout)["clientVersion"]["gitVersion"],
        "loadavg_at_start": list(os.getloadavg()),
    }


def fmt(value: float, digits: int = 1) -> str:
    if math.isnan(value):
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def median(values: Sequence[float]) -> float:
    return percentile(values, 50)


@dataclass(frozen=True)
class Row:
    figure: str
    values: dict[str, str]
    target: str = "-"
    met: bool | None = None

    def cells(self) -> list[str]:
        met = "-" if self.met is None else ("yes" if self.met else "**no**")
        return [self.figure, *(self.values.get(p, "-") for p in PATHS), self.target, met]


def per_event_type(results: Results) -> float:
    points = results.memory_cluster_mode
    if len(points) < 2:
        return math.nan
    first, last = points[0], points[-1]
    return (last.rss_anon_bytes - first.rss_anon_bytes) / (last.event_types - first.event_types)


def rows(results: Results) -> list[Row]:
    table: list[Row] = []
    for sized in results.sizes:
        n = sized.size
        target_ms = P99_SMALL_MS if n <= 500 else P99_LARGE_MS
        direct = sized.latencies["any"]
        for query, label in (("full", "full query"), ("list", "list query (4 fields)")):
            paths = {**sized.latencies[query], **direct}
            table.append(
                Row(
                    f"{label}, {n:,} EventTypes, p50 ms",
                    {p: fmt(lat.p50_ms) for p, lat in paths.items()},
                )
            )
            registry_p99 = paths["registry"].p99_ms
            table.append(
                Row(
                    f"{label}, {n:,} EventTypes, p99 ms",
                    {p: fmt(lat.p99_ms) for p, lat in paths.items()},
                    f"≤ {target_ms:.0f}",
                    registry_p99 <= target_ms,
                )
            )
        direct_p50 = direct["direct"].p50_ms
        for query in ("full", "list"):
            speedups = {
                p: f"{direct_p50 / lat.p50_ms:.1f}x" for p, lat in sized.latencies[query].items()
            }
            speedups["direct"] = "1.0x"
            table.append(
                Row(
                    f"{query} query vs direct list, {n:,}: direct p50 / p50",
                    speedups,
                    f"≥ {SPEEDUP_TARGET:.0f}x",
                    direct_p50 / sized.latencies[query]["registry"].p50_ms >= SPEEDUP_TARGET,
                )
            )
    if results.cold_starts:
        cold = results.cold_starts
        ready = median([c.ready_seconds for c in cold])
        table.append(
            Row(
                f"cold start to /readyz 200, {cold[0].event_types:,} EventTypes in "
                f"{cold[0].namespaces:,} namespaces, s (median of {len(cold)})",
                {"registry": fmt(ready, 2)},
                f"≤ {COLD_TARGET_S:.0f}",
                ready <= COLD_TARGET_S,
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
                f"  first create until all {population.event_types:,} consumable in the "
                "registry, s",
                {"registry": fmt(population.consumable_seconds, 1)},
            )
        )
    slope = per_event_type(results)
    if not math.isnan(slope):
        last = results.memory_cluster_mode[-1]
        table.append(
            Row(
                f"RSS per cached EventType, serve --kubeconfig, {last.event_types:,} vs 0, bytes",
                {"registry": fmt(slope)},
            )
        )
    if results.memory_traced:
        traced = results.memory_traced
        table.append(
            Row(
                f"Python heap a Cache of {traced['event_types']:,} EventTypes retains "
                "(tracemalloc), bytes per EventType",
                {"registry": fmt(traced["bytes"] / traced["event_types"])},
            )
        )
    if results.memory_embedded:
        embedded = results.memory_embedded
        grown = embedded["loaded"]["RssAnon"] - embedded["empty"]["RssAnon"]
        table.append(
            Row(
                f"RSS growth of the embedded serve process (plane + controller + cache), "
                f"{embedded['event_types']:,} vs 0, bytes per EventType",
                {"registry": fmt(grown / embedded["event_types"])},
            )
        )
    return table


def render(table: Sequence[Row]) -> str:
    header = ["Figure", *(PATH_TITLES[p] for p in PATHS), "Target", "Met?"]
    lines = [header, *(row.cells() for row in table)]
    widths = [max(len(line[c]) for line in lines) for c in range(len(header))]
    text = [
        "| " + " | ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)) + " |"
        for line in lines
    ]
    text.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(text)


def missed(table: Sequence[Row]) -> list[str]:
    return [row.figure for row in table if row.met is False]


def findings(results: Results) -> list[str]:
    """Sentences computed from the figures."""
    sentences = []
    for sized in results.sizes:
        full, listing = sized.latencies["full"], sized.latencies["list"]
        direct = sized.latencies["any"]["direct"]
        registry, naive, prebuilt = full["registry"], full["naive"], full["prebuilt"]
        sentences.append(
            f"{sized.size:,} EventTypes, full query ({registry.bytes:,} bytes): the registry "
            f"answers in {fmt(registry.p50_ms)} ms p50 / {fmt(registry.p99_ms)} ms p99, plain "
            f"Strawberry over the same cache in {fmt(naive.p50_ms)} / {fmt(naive.p99_ms)} ms "
            f"({naive.p50_ms / registry.p50_ms:.1f}x the registry's p50), the same bytes "
            f"pre-serialized in {fmt(prebuilt.p50_ms)} / {fmt(prebuilt.p99_ms)} ms, a direct "
            f"list in {fmt(direct.p50_ms)} / {fmt(direct.p99_ms)} ms; list query: registry "
            f"{fmt(listing['registry'].p50_ms)} / {fmt(listing['registry'].p99_ms)} ms, naive "
            f"{fmt(listing['naive'].p50_ms)} / {fmt(listing['naive'].p99_ms)} ms."
        )
    slope = per_event_type(results)
    if not math.isnan(slope):
        points = ", ".join(
            f"{p.event_types:,}: {p.rss_anon_bytes / 2**20:.1f} MiB"
            for p in results.memory_cluster_mode
        )
        traced = results.memory_traced
        sentences.append(
            f"Memory: the cluster-mode registry's anonymous RSS after sync ({points}) grows by "
            f"{fmt(slope)} bytes per EventType; tracemalloc counts "
            f"{fmt(traced['bytes'] / traced['event_types'])} bytes of Python heap per "
            "EventType retained by the Cache (the rest of the RSS growth is allocator "
            "fragmentation and the free lists left by the sync's transient JSON)."
        )
    profile = results.profile
    if profile is not None:
        hot = "; ".join(f"{frame} {share}%" for frame, share in profile.self_top[:8])
        sentences.append(
            f"Profile of the registry during the {max(results.scale.sizes):,} full query "
            f"({profile.samples:,} py-spy samples over {profile.requests} requests, self "
            f"time): {hot}."
        )
    return sentences


def document_of(info: Json, results: Results, table: Sequence[Row]) -> Json:
    def clean(value: Any) -> Any:
        if isinstance(value, float) and math.isnan(value):
            return None
        if isinstance(value, dict):
            return {str(k): clean(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [clean(v) for v in value]
        return value

    document: Json = clean(
        {
            "machine": info,
            "scale": asdict(results.scale),
            "units": {"latency": "milliseconds", "memory": "bytes", "time": "seconds"},
            "queries": {"full": FULL_QUERY.strip(), "list": LIST_QUERY.strip()},
            "sizes": [asdict(s) for s in results.sizes],
            "populations": [asdict(p) for p in results.populations],
            "cold_starts": [asdict(c) for c in results.cold_starts],
            "memory": {
                "cluster_mode_serve": [asdict(m) for m in results.memory_cluster_mode],
                "rss_anon_bytes_per_event_type": per_event_type(results),
                "traced_cache": results.memory_traced,
                "embedded_serve": results.memory_embedded,
            },
            "naive_server": results.naive,
            "profile": asdict(results.profile) if results.profile else None,
            "table": [
                {"figure": r.figure, **r.values, "target": r.target, "met": r.met} for r in table
            ],
            "missed": missed(table),
            "findings": findings(results),
        }
    )
    return document


def readme_section(info: Json, results: Results, table: Sequence[Row]) -> str:
    scale = results.scale
    profile = results.profile
    lines = [
        SECTION,
        "",
        "`eventTypes` of one namespace through the registry (HTTP POST `/graphql`) beside the "
        "same data through a naive Strawberry server over the same cache "
        "(`bench/naive_query_server.py`: `build_schema(fast=False)` behind Strawberry's own "
        "`GraphQL` ASGI app on uvicorn, in its own process), the same answer pre-serialized "
        "(bytes from a trivial Starlette endpoint of that server), a direct "
        "`CustomObjectsApi.list_namespaced_custom_object` (kubernetes_asyncio, decoded JSON) "
        f"and `kubectl get {KUBECTL_RESOURCE} -n NS -o json`; cold start to `/readyz`; "
        "resident memory per cached EventType. Run with "
        "`.venv/bin/python -m bench.queries [--quick]`; the module's docstring gives the "
        "method step by step. Figures of "
        f"{info['date']} on {info['nproc']} cores (Python {info['python']}, kubectl "
        f"{info['kubectl']}), {scale.cluster_total:,} EventTypes in the cluster, load average "
        f"{info['loadavg_at_start'][0]:.2f} at start and {info['loadavg_at_end'][0]:.2f} at "
        f"the end (the machine is shared), {info['duration_seconds']:.0f} s; raw figures in "
        "`bench/results/queries.json`.",
        "",
        "- Full query: `name namespace type source schema description ready reason consumable "
        "apiVersion createdAt labels{key value} attributes{name value required} "
        "conditions{type status reason message lastTransitionTime severity} "
        "reference{apiVersion kind name namespace} broker{name ready}` under "
        "`eventTypes(namespace: $ns) { totalCount pageInfo{hasNextPage endCursor} nodes{...} }`; "
        "list query: `nodes { name type ready consumable }` and `totalCount`. The direct "
        "list and kubectl always return whole objects, so their figures are the same for both "
        "queries.",
        "- Latency: from sending the request to the decoded document (the GraphQL answers are "
        "`json.loads`-ed too), sequential requests, one kept-alive connection per path, "
        "interleaved rounds (rounds per size: "
        + ", ".join(f"{n:,}: {r}" for n, r in scale.rounds.items())
        + f", after {WARMUP_ROUNDS} warm-up rounds); kubectl: {scale.kubectl_runs} runs after "
        "one untimed run, process start to exit (its p99 is about its slowest run).",
        "- Memory: `RssAnon` of `event-registry serve --kubeconfig <the embedded plane's "
        "kubeconfig>` (cluster mode: only the registry's cache, informers and app in the "
        "process) 1 s after `/readyz` turned 200, with 0 and with N EventTypes in the cluster; "
        "per EventType = the difference / N. Beside it, tracemalloc's count of the Python heap "
        "a `Cache` of the same EventTypes retains, and the embedded serve process's growth "
        "(control plane storage and the readiness controller's raw cache included).",
        "",
        render(table),
        "",
        *(f"- {sentence}" for sentence in findings(results)),
    ]
    failed = missed(table)
    lines.append("- Targets missed: " + ("; ".join(failed) if failed else "none") + ".")
    if profile is not None:
        lines += [
            "",
            f"Hot spots of the registry process during the {max(scale.sizes):,}-EventType full "
            f"query (`{profile.command}`, {profile.samples:,} samples, {profile.requests} "
            "requests; share of samples, self = innermost frame, inclusive = anywhere on the "
            "stack; the process also runs its embedded control plane and controller, idle "
            "during this phase):",
            "",
            "| Self % | Function (file) |",
            "|--------|-----------------|",
            *(f"| {share} | `{frame}` |" for frame, share in profile.self_top[:15]),
            "",
            "| Inclusive % | Function (file) |",
            "|-------------|-----------------|",
            *(f"| {share} | `{frame}` |" for frame, share in profile.inclusive_top[:25]),
        ]
    lines.append("")
    return "\n".join(lines)


def update_readme(path: Path, section: str) -> None:
    """Replace this benchmark's section of the README, or append it; others stay as they are."""
    text = path.read_text() if path.exists() else ""
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == SECTION), None)
    if start is None:
        separator = (
            "" if not text or text.endswith("\n\n") else ("\n" if text.endswith("\n") else "\n\n")
        )
        path.write_text(text + separator + section)
        return
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    tail = "".join(lines[end:])
    path.write_text("".join(lines[:start]) + section + ("\n" + tail if tail else ""))


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
    info = machine()
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
    if results.profile is not None:
        print("hot spots (self %):")
        for frame, share in results.profile.self_top[:15]:
            print(f"  {share:5.1f}  {frame}")
    if info["duration_seconds"] > BUDGET_SECONDS:
        print(f"warning: the run took more than its {BUDGET_SECONDS:.0f} s budget", file=sys.stderr)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(document_of(info, results, table), indent=2) + "\n")
        print(f"results: {output}")
    if not args.quick:
        update_readme(README, readme_section(info, results, table))
        print(f"README section: {README}")


if __name__ == "__main__":
    main()
