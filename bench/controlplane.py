"""Control plane benchmark: writes, big lists and write-to-watch latency, each beside a baseline.

Run from the repository root::

    .venv/bin/python -m bench.controlplane [--quick]

It starts its own control plane process (``python -m event_registry controlplane``) in a
temporary directory, with ``--no-controllers`` so that the embedded Knative readiness
controller (itself an API client, which would reconcile every EventType created here) does not
compete with the benchmark, and talks to it only over HTTP, as clients do. Every figure is printed
beside a baseline and the ratio ``value / baseline`` (for rates, above 1 means faster than the
baseline; for latencies, below 1 means faster):

0. **Transport.** ``GET /healthz`` on a kept-alive connection beside a new connection per
   request: the floor under every sequential figure below.
1. **Creates.** ConfigMaps per second through kubernetes_asyncio, one request at a time and
   16 at a time. Baseline: kubectl, the reference client, creating the same number of objects
   from one multi-document ``kubectl create -f -`` (the server's throughput as kubectl sees
   it); and the latency of one create beside one ``kubectl create -f`` of a single object
   (what a user waits for at a prompt). EventType creates (a schema-validated custom resource)
   are set beside ConfigMap creates.
2. **Lists.** 10,000 EventTypes in one namespace. Full lists through kubernetes_asyncio
   (JSON-decoded) beside ``kubectl get -o json``; raw HTTP GETs (bytes only) beside the
   decoded list, which separates server time from client decoding; ``kubectl get`` Tables
   beside ``-o json``; and a paged list (limit 500, every page) beside one unpaged list, which
   shows what consistent paging costs.
3. **Watches.** Sequential merge patches of one ConfigMap, each carrying the
   ``time.perf_counter()`` taken before the request, so a watcher computes the latency from
   the event itself. A kubernetes_asyncio ``Watch`` and a raw aiohttp line reader are set
   beside the patch's own round trip; then the same with 100 extra watchers open, beside the
   run without them: first on another namespace (every event is filtered out for them, which
   shows the cost of watchers that receive nothing), then on the same namespace, each draining
   every event (the full fan-out).

Each patch waits until both watchers have seen it, so watch figures are unloaded latencies.
Creates repeat for up to 3 rounds, while another round still fits in a time budget, so the
whole run stays bounded. Rates are medians over rounds; latencies are percentiles of all
samples (p99 of 30 samples is close to their maximum). The client, the server and kubectl
share the machine's cores, so the figures are end-to-end costs, not server-only costs.
Results go to ``bench/results/controlplane.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from kubernetes_asyncio import client, watch
from kubernetes_asyncio.client.exceptions import ApiException
from tests.support.controlplane import ControlPlaneProcess, knative_crd, manifest

from bench import reporting

RESULTS = Path(__file__).resolve().parent / "results" / "controlplane.json"

GROUP = "eventing.knative.dev"
VERSION = "v1beta2"
PLURAL = "eventtypes"
EVENTTYPES = f"{PLURAL}.{VERSION}.{GROUP}"
MERGE_PATCH = "application/merge-patch+json"
CONCURRENCY = 16
PAGE_LIMIT = 500
WATCH_WARMUP = 20
WATCH_PHASES = 3  # see WatchBench.phases
TRANSPORT_RUNS = 20
EVENT_TIMEOUT = 10.0
SERVER_FLAGS = ("--no-controllers",)
STREAM_TIMEOUT = aiohttp.ClientTimeout(total=None, sock_read=None)


@dataclass(frozen=True)
class Scale:
    rounds: int  # at most; creates stop repeating once another round would pass the budget
    create_budget: float
    creates: int
    kubectl_single_runs: int
    eventtypes: int
    list_runs: int
    kubectl_list_runs: int
    paged_runs: int
    patches: int
    extra_watchers: int


FULL = Scale(
    rounds=3,
    create_budget=150.0,
    creates=2000,
    kubectl_single_runs=20,
    eventtypes=10_000,
    list_runs=30,
    kubectl_list_runs=5,
    paged_runs=5,
    patches=500,
    extra_watchers=100,
)
QUICK = Scale(
    rounds=1,
    create_budget=60.0,
    creates=300,
    kubectl_single_runs=5,
    eventtypes=1000,
    list_runs=10,
    kubectl_list_runs=3,
    paged_runs=3,
    patches=100,
    extra_watchers=100,
)


@dataclass(frozen=True)
class Figure:
    """One measured value beside the baseline it is compared with."""

    section: str
    name: str
    value: float
    unit: str
    baseline_name: str
    baseline: float
    samples: list[float] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.value / self.baseline if self.baseline else math.nan


@dataclass(frozen=True)
class Clients:
    """The benchmark's client connections; ``api`` etc. are kubernetes_asyncio objects."""

    url: str
    api: Any
    core: Any
    custom: Any
    session: aiohttp.ClientSession


@dataclass(frozen=True)
class Run:
    """Per-request latencies (seconds) of a batch of requests and its wall time."""

    elapsed: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed


@dataclass(frozen=True)
class Timed:
    """One kubectl invocation: wall time (seconds) and standard output."""

    seconds: float
    output: str


# statistics ------------------------------------------------------------------------------


def percentile(samples: Sequence[float], q: float) -> float:
    """The q-th percentile, linearly interpolated between the closest ranks."""
    ordered = sorted(samples)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def p50ms(samples: Sequence[float]) -> float:
    return percentile(samples, 50) * 1000


def ms(seconds: Sequence[float]) -> list[float]:
    return [round(value * 1000, 3) for value in seconds]


def progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# clients and requests ----------------------------------------------------------------------


@contextlib.asynccontextmanager
async def open_clients(url: str) -> AsyncIterator[Clients]:
    api = client.ApiClient(client.Configuration(host=url))
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), timeout=STREAM_TIMEOUT)
    try:
        yield Clients(url, api, client.CoreV1Api(api), client.CustomObjectsApi(api), session)
    finally:
        await session.close()
        await api.close()


async def drive(count: int, concurrency: int, call: Callable[[int], Awaitable[object]]) -> Run:
    """``call(0..count-1)`` with ``concurrency`` requests in flight."""
    indices = iter(range(count))
    latencies: list[float] = []

    async def worker() -> None:
        for index in indices:
            began = time.perf_counter()
            await call(index)
            latencies.append(time.perf_counter() - began)

    began = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for _ in range(concurrency):
            group.create_task(worker())
    return Run(time.perf_counter() - began, latencies)


def run_kubectl(plane: ControlPlaneProcess, *args: str, input: str | None = None) -> Timed:
    """One kubectl invocation, which must succeed: wall time (seconds) and output."""
    began = time.perf_counter()
    result = plane.kubectl(*args, input=input, check=True, timeout=300)
    return Timed(time.perf_counter() - began, result.stdout)


async def kubectl_timed(plane: ControlPlaneProcess, *args: str, input: str | None = None) -> Timed:
    return await asyncio.to_thread(run_kubectl, plane, *args, input=input)


async def kubectl_seconds(
    plane: ControlPlaneProcess, *args: str, input: str | None = None
) -> float:
    return (await kubectl_timed(plane, *args, input=input)).seconds


async def create_namespace(clients: Clients, name: str) -> None:
    await clients.core.create_namespace({"metadata": {"name": name}})


# 0. transport ------------------------------------------------------------------------------


async def health_round_trips(session: aiohttp.ClientSession, url: str, runs: int) -> list[float]:
    timings = []
    for _ in range(runs):
        began = time.perf_counter()
        async with session.get(f"{url}/healthz") as response:
            await response.read()
        timings.append(time.perf_counter() - began)
    return timings


async def bench_transport(clients: Clients, runs: int) -> list[Figure]:
    """The cheapest request on a reused connection beside a new connection per request."""
    progress(f"transport: {runs} GET /healthz, keep-alive and new connection each")
    reused = await health_round_trips(clients.session, clients.url, runs)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as fresh:
        new = await health_round_trips(fresh, clients.url, runs)
    return [
        Figure(
            "transport",
            "GET /healthz round trip p50, keep-alive connection",
            p50ms(reused),
            "ms",
            f"same, new connection per request, p50 of {runs}",
            p50ms(new),
            ms(reused),
        )
    ]


# 1. creates --------------------------------------------------------------------------------


def configmap(index: int, namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": f"cm-{index:05d}",
            "namespace": namespace,
            "labels": {"app.kubernetes.io/name": "bench", "shard": str(index % 8)},
        },
        "data": {"index": str(index), "greeting": "hello", "config.yaml": "level: info\n"},
    }


async def api_creates(clients: Clients, namespace: str, count: int, concurrency: int) -> Run:
    await create_namespace(clients, namespace)

    async def create(index: int) -> object:
        return await clients.core.create_namespaced_config_map(
            namespace, configmap(index, namespace)
        )

    return await drive(count, concurrency, create)


async def kubectl_bulk_create(
    plane: ControlPlaneProcess, clients: Clients, namespace: str, count: int
) -> float:
    """Objects per second of one ``kubectl create -f -`` with ``count`` documents."""
    await create_namespace(clients, namespace)
    documents = manifest(*(configmap(index, namespace) for index in range(count)))
    return count / await kubectl_seconds(plane, "create", "-f", "-", input=documents)


async def kubectl_single_creates(
    plane: ControlPlaneProcess, clients: Clients, runs: int
) -> list[float]:
    namespace = "kubectl-single"
    await create_namespace(clients, namespace)
    return [
        await kubectl_seconds(plane, "create", "-f", "-", input=manifest(configmap(i, namespace)))
        for i in range(runs)
    ]


async def bench_creates(plane: ControlPlaneProcess, clients: Clients, scale: Scale) -> list[Figure]:
    sequential: list[Run] = []
    concurrent: list[Run] = []
    bulk: list[float] = []
    deadline = time.monotonic() + scale.create_budget
    for round_ in range(scale.rounds):
        progress(f"creates: round {round_ + 1}/{scale.rounds}, {scale.creates} ConfigMaps x 3")
        began = time.monotonic()
        sequential.append(await api_creates(clients, f"seq-{round_}", scale.creates, 1))
        concurrent.append(await api_creates(clients, f"conc-{round_}", scale.creates, CONCURRENCY))
        bulk.append(await kubectl_bulk_create(plane, clients, f"kubectl-{round_}", scale.creates))
        now = time.monotonic()
        if now + (now - began) > deadline:  # another round would not fit
            break
    single = await kubectl_single_creates(plane, clients, scale.kubectl_single_runs)
    bulk_name = f"kubectl create -f, {scale.creates} docs in 1 call"
    rounds = f"N={scale.creates}, median of {len(bulk)}"
    seq_latencies = [value for run in sequential for value in run.latencies]
    return [
        Figure(
            "creates",
            f"ConfigMap creates, kubernetes_asyncio sequential ({rounds})",
            statistics.median(run.rate for run in sequential),
            "obj/s",
            bulk_name,
            statistics.median(bulk),
            [round(run.rate, 1) for run in sequential],
        ),
        Figure(
            "creates",
            f"ConfigMap creates, kubernetes_asyncio {CONCURRENCY} concurrent ({rounds})",
            statistics.median(run.rate for run in concurrent),
            "obj/s",
            bulk_name,
            statistics.median(bulk),
            [round(run.rate, 1) for run in concurrent],
        ),
        Figure(
            "creates",
            "ConfigMap create latency p50, kubernetes_asyncio sequential",
            percentile(seq_latencies, 50) * 1000,
            "ms",
            f"kubectl create -f, 1 object per call, p50 of {len(single)}",
            percentile(single, 50) * 1000,
            ms(single),
        ),
    ]


# 2. lists ----------------------------------------------------------------------------------


SOURCES = (
    ("github", "pull_request.opened"),
    ("gitlab", "merge_request.merged"),
    ("storage", "object.finalized"),
    ("billing", "invoice.paid"),
    ("k8s", "pod.evicted"),
)


def eventtype(index: int, namespace: str) -> dict[str, Any]:
    system, action = SOURCES[index % len(SOURCES)]
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "EventType",
        "metadata": {
            "name": f"et-{index:05d}",
            "namespace": namespace,
            "labels": {"eventing.knative.dev/broker": "default", "source-system": system},
        },
        "spec": {
            "type": f"dev.knative.{system}.{action}.v{index % 3 + 1}",
            "source": f"https://{system}.example.com/tenants/{index // 100}/items/{index}",
            "description": f"{system} emits {action} for item {index}; consumed by billing.",
            "schema": f"https://schemas.example.com/{system}/{action}.json",
            "reference": {
                "apiVersion": "eventing.knative.dev/v1",
                "kind": "Broker",
                "name": "default",
                "namespace": namespace,
            },
        },
    }


async def wait_for_crd(clients: Clients, namespace: str) -> None:
    for _ in range(100):
        try:
            await clients.custom.list_namespaced_custom_object(
                GROUP, VERSION, namespace, PLURAL, limit=1
            )
            return
        except ApiException as error:
            if error.status != 404:
                raise
            await asyncio.sleep(0.1)
    raise RuntimeError("the EventType CRD is not served")


async def create_eventtypes(clients: Clients, namespace: str, count: int) -> Run:
    async def create(index: int) -> object:
        return await clients.custom.create_namespaced_custom_object(
            GROUP, VERSION, namespace, PLURAL, eventtype(index, namespace)
        )

    return await drive(count, CONCURRENCY, create)


async def timed_lists(
    runs: int, list_once: Callable[[], Awaitable[int]], expected: int
) -> list[float]:
    """Seconds per call of ``list_once``, which answers how many objects it got."""
    timings = []
    for _ in range(runs):
        began = time.perf_counter()
        count = await list_once()
        timings.append(time.perf_counter() - began)
        if count != expected:
            raise RuntimeError(f"a list returned {count} objects, expected {expected}")
    return timings


def decoded_list(clients: Clients, namespace: str) -> Callable[[], Awaitable[int]]:
    async def list_once() -> int:
        result = await clients.custom.list_namespaced_custom_object(
            GROUP, VERSION, namespace, PLURAL
        )
        return len(result["items"])

    return list_once


def raw_list(clients: Clients, namespace: str, expected: int) -> Callable[[], Awaitable[int]]:
    url = f"{clients.url}/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{PLURAL}"

    async def list_once() -> int:
        async with clients.session.get(url) as response:
            response.raise_for_status()
            await response.read()
        return expected  # bytes only: the decoded lists check the count

    return list_once


def paged_list(clients: Clients, namespace: str) -> Callable[[], Awaitable[int]]:
    async def list_once() -> int:
        names: set[str] = set()
        token = None
        while True:
            page = await clients.custom.list_namespaced_custom_object(
                GROUP, VERSION, namespace, PLURAL, limit=PAGE_LIMIT, _continue=token
            )
            names.update(item["metadata"]["name"] for item in page["items"])
            token = page["metadata"].get("continue")
            if not token:
                return len(names)

    return list_once


async def kubectl_runs(
    plane: ControlPlaneProcess, args: Sequence[str], runs: int, check: Callable[[str], bool]
) -> list[float]:
    """Seconds per kubectl invocation; ``check`` verifies each output, outside the timing."""
    timings = []
    for _ in range(runs):
        timed = await kubectl_timed(plane, *args)
        if not check(timed.output):
            raise RuntimeError(f"kubectl {' '.join(args)} did not return every object")
        timings.append(timed.seconds)
    return timings


async def kubectl_lists(
    plane: ControlPlaneProcess, namespace: str, runs: int, expected: int
) -> tuple[list[float], list[float]]:
    """Seconds per ``kubectl get -o json`` and per ``kubectl get`` (a Table)."""
    get = ("get", EVENTTYPES, "-n", namespace)
    as_json = await kubectl_runs(
        plane, (*get, "-o", "json"), runs, lambda out: len(json.loads(out)["items"]) == expected
    )
    table = await kubectl_runs(plane, get, runs, lambda out: len(out.splitlines()) == expected + 1)
    return as_json, table


async def bench_lists(plane: ControlPlaneProcess, clients: Clients, scale: Scale) -> list[Figure]:
    namespace, count = "eventtypes", scale.eventtypes
    await kubectl_seconds(plane, "apply", "-f", "-", input=knative_crd("eventtype"))
    await create_namespace(clients, namespace)
    await wait_for_crd(clients, namespace)
    progress(f"lists: creating {count} EventTypes, {CONCURRENCY} concurrent")
    created = await create_eventtypes(clients, namespace, count)
    progress(f"lists: {scale.list_runs} decoded and raw lists, {scale.paged_runs} paged")
    decoded = await timed_lists(scale.list_runs, decoded_list(clients, namespace), count)
    raw = await timed_lists(scale.list_runs, raw_list(clients, namespace, count), count)
    paged = await timed_lists(scale.paged_runs, paged_list(clients, namespace), count)
    progress(f"lists: kubectl get, {scale.kubectl_list_runs} runs each of -o json and Table")
    await kubectl_seconds(plane, "get", EVENTTYPES, "-n", "default")  # warms discovery
    as_json, table = await kubectl_lists(plane, namespace, scale.kubectl_list_runs, count)
    return list_figures(scale, created, decoded, raw, paged, as_json, table)


def list_figures(
    scale: Scale,
    created: Run,
    decoded: list[float],
    raw: list[float],
    paged: list[float],
    as_json: list[float],
    table: list[float],
) -> list[Figure]:
    n = f"{scale.eventtypes} EventTypes"
    kubectl_json = f"kubectl get -o json, p50 of {len(as_json)}"
    decoded_p50 = f"kubernetes_asyncio list p50 of {len(decoded)}"

    def figure(name: str, samples: list[float], q: float, base: str, base_value: float) -> Figure:
        return Figure(
            "lists", name, percentile(samples, q) * 1000, "ms", base, base_value, ms(samples)
        )

    return [
        Figure(
            "lists",
            f"EventType creates, {CONCURRENCY} concurrent (N={scale.eventtypes})",
            created.rate,
            "obj/s",
            f"ConfigMap creates, {CONCURRENCY} concurrent",
            math.nan,  # filled in by link_baselines() from the creates section
        ),
        figure(f"list {n}, kubernetes_asyncio p50", decoded, 50, kubectl_json, p50ms(as_json)),
        figure(f"list {n}, kubernetes_asyncio p99", decoded, 99, kubectl_json, p50ms(as_json)),
        figure(f"list {n}, raw GET bytes p50", raw, 50, decoded_p50, p50ms(decoded)),
        figure(
            f"list {n}, raw GET bytes p99",
            raw,
            99,
            f"kubernetes_asyncio list p99 of {len(decoded)}",
            percentile(decoded, 99) * 1000,
        ),
        figure(f"kubectl get {n} (Table) p50", table, 50, kubectl_json, p50ms(as_json)),
        figure(
            f"paged list {n}, limit {PAGE_LIMIT}, all pages, p50",
            paged,
            50,
            decoded_p50,
            p50ms(decoded),
        ),
    ]


# 3. watches --------------------------------------------------------------------------------


class Probe:
    """What one watcher saw: latency by patch sequence number, and the last one seen."""

    def __init__(self) -> None:
        self.latencies: dict[int, float] = {}
        self.seen = -1
        self._changed = asyncio.Event()

    def record(self, data: dict[str, str] | None, received: float) -> None:
        if not data or "seq" not in data:
            return
        seq = int(data["seq"])
        self.latencies[seq] = received - float(data["sent"])
        self.seen = max(self.seen, seq)
        self._changed.set()

    async def wait_for(self, seq: int) -> None:
        while self.seen < seq:
            self._changed.clear()
            await self._changed.wait()

    def window(self, first: int, count: int) -> list[float]:
        return [self.latencies[seq] for seq in range(first, first + count)]


def configmaps_url(clients: Clients, namespace: str) -> str:
    return f"{clients.url}/api/v1/namespaces/{namespace}/configmaps"


async def client_watcher(
    clients: Clients, namespace: str, resource_version: str, probe: Probe, last: int
) -> None:
    """kubernetes_asyncio's Watch: every event decoded into a V1ConfigMap."""
    async with watch.Watch() as stream:
        async for event in stream.stream(
            clients.core.list_namespaced_config_map, namespace, resource_version=resource_version
        ):
            received = time.perf_counter()
            if event["type"] == "MODIFIED":
                probe.record(event["object"].data, received)
            if probe.seen >= last:
                return


async def raw_watcher(
    clients: Clients, namespace: str, resource_version: str, probe: Probe, last: int
) -> None:
    """aiohttp reading lines; the time is taken when the line arrives, before decoding."""
    url = f"{configmaps_url(clients, namespace)}?watch=true&resourceVersion={resource_version}"
    async with clients.session.get(url) as response:
        response.raise_for_status()
        while probe.seen < last:
            line = await response.content.readline()
            received = time.perf_counter()
            if not line:
                raise RuntimeError("the raw watch ended before the last patch")
            event = json.loads(line)
            if event["type"] == "MODIFIED":
                probe.record(event["object"].get("data"), received)


@contextlib.asynccontextmanager
async def extra_watchers(
    clients: Clients, namespace: str, count: int, *, drain: bool
) -> AsyncIterator[None]:
    """``count`` open raw watches on ConfigMaps in ``namespace``, read only if ``drain``."""
    url = f"{configmaps_url(clients, namespace)}?watch=true"
    async with contextlib.AsyncExitStack() as stack:
        responses = [
            await stack.enter_async_context(clients.session.get(url)) for _ in range(count)
        ]
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(discard(response)) for response in responses if drain]
            await asyncio.sleep(0.5)  # lets the server subscribe every watch before patches
            yield
            for task in tasks:
                task.cancel()


async def discard(response: aiohttp.ClientResponse) -> None:
    async for _ in response.content:
        pass


async def patch_loop(
    clients: Clients, namespace: str, name: str, probes: Sequence[Probe], first: int, count: int
) -> list[float]:
    """``count`` merge patches stamped with their send time; each waits for every watcher."""
    round_trips = []
    for seq in range(first, first + count):
        sent = time.perf_counter()
        await clients.core.patch_namespaced_config_map(
            name,
            namespace,
            {"data": {"seq": str(seq), "sent": repr(sent)}},
            _content_type=MERGE_PATCH,
        )
        round_trips.append(time.perf_counter() - sent)
        for probe in probes:
            await asyncio.wait_for(probe.wait_for(seq), EVENT_TIMEOUT)
    return round_trips


@dataclass
class Phase:
    """One patch series: round trips and both watchers' latencies (seconds)."""

    label: str
    round_trips: list[float]
    client: list[float]
    raw: list[float]


class WatchBench:
    """Two latency watchers on one ConfigMap, open across every phase."""

    def __init__(self, clients: Clients, scale: Scale) -> None:
        self.clients = clients
        self.scale = scale
        self.namespace = "watch"
        self.name = "probe"
        self.client_probe = Probe()
        self.raw_probe = Probe()
        self.next_seq = 0

    async def run(self) -> list[Phase]:
        clients, scale = self.clients, self.scale
        await create_namespace(clients, self.namespace)
        await create_namespace(clients, "watch-elsewhere")
        created = await clients.core.create_namespaced_config_map(
            self.namespace, {"metadata": {"name": self.name}, "data": {}}
        )
        version = created.metadata.resource_version
        last = WATCH_PHASES * (WATCH_WARMUP + scale.patches) - 1
        async with asyncio.TaskGroup() as group:
            for watcher, probe in (
                (client_watcher, self.client_probe),
                (raw_watcher, self.raw_probe),
            ):
                group.create_task(watcher(clients, self.namespace, version, probe, last))
            return await self.phases()

    async def phases(self) -> list[Phase]:
        extra = self.scale.extra_watchers
        phases = [await self.phase("no extra watchers")]
        async with extra_watchers(self.clients, "watch-elsewhere", extra, drain=False):
            phases.append(await self.phase(f"{extra} idle watchers, other namespace"))
        async with extra_watchers(self.clients, self.namespace, extra, drain=True):
            phases.append(await self.phase(f"{extra} draining watchers, same namespace"))
        return phases

    async def phase(self, label: str) -> Phase:
        progress(f"watches: {self.scale.patches} patches, {label}")
        probes = (self.client_probe, self.raw_probe)
        first, count = self.next_seq, WATCH_WARMUP + self.scale.patches
        self.next_seq += count
        round_trips = await patch_loop(
            self.clients, self.namespace, self.name, probes, first, count
        )
        measured = first + WATCH_WARMUP
        return Phase(
            label,
            round_trips[WATCH_WARMUP:],
            self.client_probe.window(measured, self.scale.patches),
            self.raw_probe.window(measured, self.scale.patches),
        )


STATS = ((50, "p50"), (99, "p99"), (100, "max"))


def watch_figures(phases: list[Phase]) -> list[Figure]:
    base, *others = phases
    figures = []
    for q, stat in STATS:
        rtt = f"patch round trip {stat}"
        client_name = f"watch latency {stat}, kubernetes_asyncio"
        figures.append(watch_figure(client_name, base.client, q, rtt, base.round_trips))
        raw_name = f"watch latency {stat}, raw aiohttp"
        figures.append(watch_figure(raw_name, base.raw, q, rtt, base.round_trips))
    for phase in others:
        figures += fan_out_figures(base, phase)
    return figures


def fan_out_figures(base: Phase, phase: Phase) -> list[Figure]:
    """A phase with extra watchers beside the same figure without them."""
    series = [(f"watch latency {stat}, raw aiohttp", phase.raw, base.raw, q) for q, stat in STATS]
    series += [
        ("watch latency p50, kubernetes_asyncio", phase.client, base.client, 50),
        ("patch round trip p50", phase.round_trips, base.round_trips, 50),
    ]
    return [
        watch_figure(f"{name}, {phase.label}", samples, q, "same, no extra watchers", baseline)
        for name, samples, baseline, q in series
    ]


def watch_figure(
    name: str, samples: list[float], q: float, baseline_name: str, baseline: list[float]
) -> Figure:
    return Figure(
        "watches",
        name,
        percentile(samples, q) * 1000,
        "ms",
        baseline_name,
        percentile(baseline, q) * 1000,
        ms(samples),
    )


async def bench_watches(clients: Clients, scale: Scale) -> list[Figure]:
    return watch_figures(await WatchBench(clients, scale).run())


# report ------------------------------------------------------------------------------------


def fmt(value: float) -> str:
    if math.isnan(value):
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}"


def table(figures: Sequence[Figure]) -> str:
    rows = [("Figure", "Value", "Baseline", "Baseline value", "Ratio")]
    for figure in figures:
        rows.append(
            (
                figure.name,
                f"{fmt(figure.value)} {figure.unit}",
                figure.baseline_name,
                f"{fmt(figure.baseline)} {figure.unit}",
                f"{figure.ratio:.2f}",
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(5)]
    lines = [
        "| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) + " |"
        for row in rows
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def write_results(path: Path, info: dict[str, Any], scale: Scale, figures: list[Figure]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "machine": info,
        "scale": asdict(scale),
        "ratio": "value / baseline",
        "figures": [
            {**asdict(figure), "ratio": figure.ratio if math.isfinite(figure.ratio) else None}
            for figure in figures
        ],
    }
    path.write_text(json.dumps(document, indent=2) + "\n")


def link_baselines(figures: list[Figure]) -> list[Figure]:
    """Fills baselines that are figures of another section (EventType vs ConfigMap creates)."""
    concurrent = next(f for f in figures if f.section == "creates" and "concurrent" in f.name)
    return [
        Figure(**{**asdict(f), "baseline": concurrent.value}) if math.isnan(f.baseline) else f
        for f in figures
    ]


async def measure(plane: ControlPlaneProcess, scale: Scale) -> list[Figure]:
    async with open_clients(plane.url) as clients:
        figures = await bench_transport(clients, TRANSPORT_RUNS)
        figures += await bench_creates(plane, clients, scale)
        figures += await bench_lists(plane, clients, scale)
        figures += await bench_watches(clients, scale)
    return link_baselines(figures)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="small sizes, one round")
    parser.add_argument(
        "--output",
        type=Path,
        help=f"JSON results (default: {RESULTS.relative_to(RESULTS.parents[2])}; "
        "none with --quick, so a quick check never replaces the full figures)",
    )
    args = parser.parse_args(argv)
    scale = QUICK if args.quick else FULL
    output: Path | None = args.output or (None if args.quick else RESULTS)
    info = {**reporting.machine(), "controlplane_flags": list(SERVER_FLAGS)}
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-controlplane-") as directory:
        plane = ControlPlaneProcess(Path(directory), *SERVER_FLAGS).start()
        try:
            figures = asyncio.run(measure(plane, scale))
        finally:
            plane.stop()
    info["loadavg_at_end"] = list(os.getloadavg())
    info["duration_seconds"] = round(time.perf_counter() - began, 1)
    print(
        f"control plane benchmark, {info['date']}, {info['nproc']} cores, "
        f"Python {info['python']}, {info['duration_seconds']} s; ratio = value / baseline"
    )
    print(table(figures))
    if output is not None:
        write_results(output, info, scale, figures)
        print(f"results: {output}")


if __name__ == "__main__":
    main()
