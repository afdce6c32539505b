"""Mutations benchmark: registerEventType through GraphQL beside kubectl and a direct API client.

Run from the repository root::

    .venv/bin/python -m bench.mutations [--quick]

It starts its own ``event-registry serve`` (open mode, embedded control plane and embedded
Knative readiness controller, as a developer runs it) in a temporary directory and talks to it
only over HTTP. The same create of one EventType (``eventing.knative.dev``, with a type, a source
and the namespace's Broker ``default``) is timed through four paths:

1. **GraphQL** ``registerEventType``: from sending the request to receiving the answer that
   includes the EventType as the registry's cache serves it (the mutation validates, writes
   through the Kubernetes API, then waits until the informer has observed the written
   resourceVersion). One client sending one request at a time, then 8 clients (one
   connection each) sending concurrently. ``N`` requests each (500; 100 with ``--quick``).
2. **kubectl, one object per invocation**: ``kubectl create -f <file>`` of one EventType, 30
   runs: what a user waits for at a prompt (process start and discovery cache included).
3. **kubectl, N objects in one invocation**: ``kubectl create -f <file>`` of a multi-document
   file: kubectl's throughput.
4. **kubernetes_asyncio** ``CustomObjectsApi.create_namespaced_custom_object``: the write alone,
   without waiting for any cache: the floor under the GraphQL figures, sequential and 8
   concurrent.

Two more: GraphQL and the API's create with a new connection per request (the same requests,
without keep-alive; see the README's findings for why this matters), and a
``registerEventType`` refused by validation (``ValidationFailed``, nothing written): the cost
of HTTP + GraphQL alone. Each path writes into a namespace of its own
that already holds a Ready Broker; between paths the run waits until the readiness controller
has reconciled every EventType written so far (all Ready), so no path pays for the previous
one's backlog. The controller's reconciliation (one status write per new EventType) does run
*during* each path, as it would for any client. Every created object is checked (answer type,
name; final counts through GraphQL and kubectl). The client, the server (with its control plane
and controller in the same process) and kubectl share the machine's cores, so the figures are
end-to-end costs. Latencies are percentiles of all samples (p99 of 30 kubectl runs is close to
their maximum); rates are objects per second of wall time. "Server CPU" is the registry
process's user + system CPU time (Linux /proc) from the start of a path until every object it
wrote is Ready, per object: the server's whole cost of one create, the readiness
controller's reconciliation and kubectl's discovery requests included (and the settle loop's
small count queries, one every 100 ms).

A full run writes ``bench/results/mutations.json`` and the "Mutations" section of
``bench/README.md`` (only that section is replaced or appended); ``--quick`` writes neither
unless ``--output`` is given.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from kubernetes_asyncio import client, config
from tests.support.controlplane import manifest
from tests.support.registry import RegistryProcess, broker, eventtype

from bench import reporting

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results" / "mutations.json"
README = BENCH / "README.md"
SECTION = "## Mutations"

FULL_N = 500
QUICK_N = 100
CONCURRENCY = 8
KUBECTL_RUNS = 30
WARMUP = 10
REFUSED_N = 200
SETTLE_TIMEOUT = 120.0
BUDGET_SECONDS = 240.0

GROUP = "eventing.knative.dev"
VERSION = "v1beta2"
PLURAL = "eventtypes"
BROKER = "default"
SOURCE = "https://bench.example.com/orders"

REGISTER = """
mutation Register($input: RegisterEventTypeInput!) {
  registerEventType(input: $input) {
    __typename
    ... on EventTypeRegistered {
      brokerExists
      eventType { id namespace name type source brokerName createdAt }
    }
    ... on ValidationFailed { message errors { field reason } }
  }
}
"""
COUNTS = """
query Counts($name: String!) {
  namespace(name: $name) { counts { brokers eventTypes readyEventTypes } }
}
"""

NAMESPACES = {
    "warmup": "bench-warmup",
    "graphql-seq": "bench-graphql-seq",
    "graphql-conc": "bench-graphql-conc",
    "kubectl-one": "bench-kubectl-one",
    "kubectl-bulk": "bench-kubectl-bulk",
    "api-seq": "bench-api-seq",
    "api-conc": "bench-api-conc",
    "graphql-fresh": "bench-graphql-fresh",
    "api-fresh": "bench-api-fresh",
    "graphql-refused": "bench-graphql-seq",
}


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
class Run:
    seconds: float
    latencies: list[float]


@dataclass(frozen=True)
class Figure:
    key: str
    path: str
    mode: str
    objects: int
    seconds: float
    rate: float
    """Objects per second of wall time."""
    p50_ms: float
    p99_ms: float
    mean_ms: float
    waits_for_cache: bool
    server_cpu_ms: float
    """CPU time of the registry process per object, from the path's start until every object
    is reconciled (NaN when it cannot be read)."""

    @classmethod
    def of(
        cls,
        key: str,
        path: str,
        mode: str,
        run: Run,
        objects: int,
        *,
        waits_for_cache: bool,
        server_cpu: float,
    ) -> Figure:
        latencies = run.latencies
        return cls(
            key=key,
            path=path,
            mode=mode,
            objects=objects,
            seconds=round(run.seconds, 4),
            rate=round(objects / run.seconds, 2),
            p50_ms=round(percentile(latencies, 50) * 1000, 3),
            p99_ms=round(percentile(latencies, 99) * 1000, 3),
            mean_ms=round(sum(latencies) / len(latencies) * 1000, 3) if latencies else math.nan,
            waits_for_cache=waits_for_cache,
            server_cpu_ms=round(server_cpu / objects * 1000, 3),
        )


def server_pid(data_dir: Path) -> int | None:
    """The pid of the ``event-registry serve`` using ``data_dir`` (Linux /proc), or None."""
    wanted = str(data_dir).encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            arguments = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"serve" in arguments and wanted in arguments:
            return int(entry.name)
    return None


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time of process ``pid`` so far (NaN when unknown)."""
    if pid is None:
        return math.nan
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return math.nan
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def drive(count: int, concurrency: int, call: Callable[[int, int], Awaitable[None]]) -> Run:
    """``call(worker, index)`` for index 0..count-1 with ``concurrency`` workers."""
    indices = iter(range(count))
    latencies: list[float] = []

    async def worker(number: int) -> None:
        for index in indices:
            began = time.perf_counter()
            await call(number, index)
            latencies.append(time.perf_counter() - began)

    began = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for number in range(concurrency):
            group.create_task(worker(number))
    return Run(time.perf_counter() - began, latencies)


# the registry --------------------------------------------------------------------------------


class GraphQL:
    """Raw GraphQL-over-HTTP clients: ``clients`` aiohttp sessions of one kept-alive connection
    each, and one session that opens a new connection per request."""

    def __init__(
        self, url: str, clients: Sequence[aiohttp.ClientSession], fresh: aiohttp.ClientSession
    ) -> None:
        self.url = url
        self.clients = clients
        self.fresh = fresh

    async def execute(
        self, query: str, variables: dict[str, Any], session: aiohttp.ClientSession | None = None
    ) -> dict[str, Any]:
        async with (session or self.clients[0]).post(
            self.url, json={"query": query, "variables": variables}
        ) as response:
            body = await response.read()
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status}: {body[:500]!r}")
        document: dict[str, Any] = json.loads(body)
        if document.get("errors"):
            raise RuntimeError(f"GraphQL errors: {document['errors']}")
        data: dict[str, Any] = document["data"]
        return data

    async def register(
        self, namespace: str, name: str, session: aiohttp.ClientSession | None = None
    ) -> None:
        """registerEventType; fails unless the answer carries the registered EventType."""
        variables = {
            "input": {
                "namespace": namespace,
                "name": name,
                "type": f"com.example.bench.{name}",
                "source": SOURCE,
                "broker": BROKER,
            }
        }
        result = (await self.execute(REGISTER, variables, session))["registerEventType"]
        if result["__typename"] != "EventTypeRegistered":
            raise RuntimeError(f"registerEventType {namespace}/{name}: {result}")
        registered = result["eventType"]
        if (registered["namespace"], registered["name"]) != (namespace, name):
            raise RuntimeError(f"registerEventType answered another object: {registered}")
        if not result["brokerExists"]:
            raise RuntimeError(f"the Broker of {namespace} is not in the cache")

    async def refused(self, namespace: str) -> None:
        """A registerEventType that validation refuses (nothing is written)."""
        variables = {"input": {"namespace": namespace, "name": "Not_Valid", "type": "x"}}
        result = (await self.execute(REGISTER, variables))["registerEventType"]
        if result["__typename"] != "ValidationFailed":
            raise RuntimeError(f"expected ValidationFailed: {result}")

    async def counts(self, namespace: str) -> dict[str, int]:
        data = await self.execute(COUNTS, {"name": namespace})
        if data["namespace"] is None:
            return {}
        counts: dict[str, int] = data["namespace"]["counts"]
        return counts


TIMEOUT = aiohttp.ClientTimeout(total=60)


@contextlib.asynccontextmanager
async def graphql_clients(url: str, count: int) -> AsyncIterator[GraphQL]:
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(
                aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1), timeout=TIMEOUT)
            )
            for _ in range(count)
        ]
        fresh = await stack.enter_async_context(
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True), timeout=TIMEOUT)
        )
        yield GraphQL(url, clients, fresh)


def eventtype_manifest(namespace: str, name: str) -> dict[str, Any]:
    return eventtype(
        name,
        namespace,
        type=f"com.example.bench.{name}",
        source=SOURCE,
        reference={"apiVersion": f"{GROUP}/v1", "kind": "Broker", "name": BROKER},
    )


class Api:
    """The Kubernetes API of the embedded control plane, without any cache: through
    kubernetes_asyncio (kept-alive connections) and as raw HTTP POSTs on new connections."""

    def __init__(self, kubeconfig: Path, api: Any, fresh: aiohttp.ClientSession) -> None:
        document = yaml.safe_load(kubeconfig.read_text())
        self.server = str(document["clusters"][0]["cluster"]["server"])
        token = document["users"][0]["user"].get("token")
        self.headers = {"authorization": f"Bearer {token}"} if token else {}
        self.custom = client.CustomObjectsApi(api)
        self.fresh = fresh

    async def create(self, namespace: str, name: str) -> None:
        created = await self.custom.create_namespaced_custom_object(
            GROUP, VERSION, namespace, PLURAL, eventtype_manifest(namespace, name)
        )
        if created["metadata"]["name"] != name:
            raise RuntimeError(f"created another object: {created['metadata']}")

    async def create_fresh(self, namespace: str, name: str) -> None:
        url = f"{self.server}/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{PLURAL}"
        async with self.fresh.post(
            url, json=eventtype_manifest(namespace, name), headers=self.headers
        ) as response:
            body = await response.read()
            if response.status != 201:
                raise RuntimeError(f"create {namespace}/{name}: {response.status} {body[:500]!r}")


@contextlib.asynccontextmanager
async def api_clients(kubeconfig: Path) -> AsyncIterator[Api]:
    api = await config.new_client_from_config(config_file=str(kubeconfig), persist_config=False)
    try:
        async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(force_close=True), timeout=TIMEOUT
        ) as fresh:
            yield Api(kubeconfig, api, fresh)
    finally:
        await api.close()


async def settle(graphql: GraphQL, expected: dict[str, int]) -> None:
    """Wait until every namespace holds the expected EventTypes, all Ready (reconciled)."""
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while True:
        counts = {namespace: await graphql.counts(namespace) for namespace in expected}
        if all(
            counts[namespace].get("eventTypes") == count
            and counts[namespace].get("readyEventTypes") == count
            for namespace, count in expected.items()
        ):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"not settled after {SETTLE_TIMEOUT}s: {counts}, want {expected}")
        await asyncio.sleep(0.1)


def kubectl_create(registry: RegistryProcess, path: Path) -> float:
    """One ``kubectl create -f <path>``, which must succeed: its wall time in seconds."""
    began = time.perf_counter()
    registry.kubectl("create", "-f", str(path), check=True, timeout=300)
    return time.perf_counter() - began


def kubectl_count(registry: RegistryProcess, namespace: str) -> int:
    listed = registry.kubectl("get", "eventtypes", "-n", namespace, "-o", "name", check=True)
    return len(listed.stdout.split())


# the paths -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scale:
    n: int
    concurrency: int
    kubectl_runs: int
    quick: bool


class Bench:
    """Runs the paths one after the other, each in its own namespace, settling in between."""

    def __init__(self, registry: RegistryProcess, scale: Scale, work: Path) -> None:
        self.registry = registry
        self.scale = scale
        self.work = work
        self.figures: list[Figure] = []
        self.expected: dict[str, int] = {}
        self.pid = server_pid(registry.data_dir)

    async def path(
        self,
        graphql: GraphQL,
        key: str,
        path: str,
        mode: str,
        run: Callable[[str], Awaitable[Run]],
        objects: int,
        *,
        waits_for_cache: bool,
        writes: bool = True,
    ) -> None:
        namespace = NAMESPACES[key]
        print(f"  {path}, {mode} ...", flush=True)
        cpu = cpu_seconds(self.pid)
        measured = await run(namespace)
        if writes:
            self.expected[namespace] = objects
        await settle(graphql, self.expected)
        cpu = cpu_seconds(self.pid) - cpu
        self.figures.append(
            Figure.of(
                key,
                path,
                mode,
                measured,
                objects,
                waits_for_cache=waits_for_cache,
                server_cpu=cpu,
            )
        )

    async def kubectl_one_per_call(self, namespace: str) -> Run:
        files = []
        for index in range(self.scale.kubectl_runs):
            path = self.work / f"one-{index}.yaml"
            path.write_text(manifest(eventtype_manifest(namespace, f"et-{index}")))
            files.append(path)
        began = time.perf_counter()
        samples = [await asyncio.to_thread(kubectl_create, self.registry, p) for p in files]
        return Run(time.perf_counter() - began, samples)

    async def kubectl_bulk(self, namespace: str) -> Run:
        bulk = self.work / "bulk.yaml"
        bulk.write_text(
            manifest(*(eventtype_manifest(namespace, f"et-{i}") for i in range(self.scale.n)))
        )
        return Run(await asyncio.to_thread(kubectl_create, self.registry, bulk), [])

    async def measure(self) -> list[Figure]:
        n, concurrency = self.scale.n, self.scale.concurrency
        async with (
            graphql_clients(self.registry.url, concurrency) as graphql,
            api_clients(self.registry.kubeconfig) as api,
        ):
            # warm up every path (connections, kubectl's discovery cache, code paths)
            warm = NAMESPACES["warmup"]
            for index in range(WARMUP):
                await graphql.register(warm, f"graphql-{index}")
                await graphql.register(warm, f"graphql-fresh-{index}", graphql.fresh)
                await api.create(warm, f"api-{index}")
                await api.create_fresh(warm, f"api-fresh-{index}")
                await graphql.refused(warm)
            warm_file = self.work / "warmup.yaml"
            warm_file.write_text(manifest(eventtype_manifest(warm, "kubectl-0")))
            kubectl_create(self.registry, warm_file)
            self.expected[warm] = 4 * WARMUP + 1
            await settle(graphql, self.expected)

            graphql_path = "GraphQL registerEventType"
            api_path = "kubernetes_asyncio create (no cache wait)"
            paths: list[tuple[str, str, str, Callable[[str], Awaitable[Run]], int, bool]] = [
                (
                    "graphql-seq",
                    graphql_path,
                    "sequential",
                    lambda ns: drive(n, 1, lambda _, i: graphql.register(ns, f"et-{i}")),
                    n,
                    True,
                ),
                (
                    "graphql-conc",
                    graphql_path,
                    f"{concurrency} concurrent clients",
                    lambda ns: drive(
                        n,
                        concurrency,
                        lambda c, i: graphql.register(ns, f"et-{i}", graphql.clients[c]),
                    ),
                    n,
                    True,
                ),
                (
                    "graphql-fresh",
                    graphql_path,
                    "sequential, new connection per request",
                    lambda ns: drive(
                        n, 1, lambda _, i: graphql.register(ns, f"et-{i}", graphql.fresh)
                    ),
                    n,
                    True,
                ),
                (
                    "kubectl-one",
                    "kubectl create -f (1 EventType per call)",
                    "sequential",
                    self.kubectl_one_per_call,
                    self.scale.kubectl_runs,
                    False,
                ),
                (
                    "kubectl-bulk",
                    f"kubectl create -f ({n} EventTypes in 1 call)",
                    "1 invocation",
                    self.kubectl_bulk,
                    n,
                    False,
                ),
                (
                    "api-seq",
                    api_path,
                    "sequential",
                    lambda ns: drive(n, 1, lambda _, i: api.create(ns, f"et-{i}")),
                    n,
                    False,
                ),
                (
                    "api-conc",
                    api_path,
                    f"{concurrency} concurrent",
                    lambda ns: drive(n, concurrency, lambda _, i: api.create(ns, f"et-{i}")),
                    n,
                    False,
                ),
                (
                    "api-fresh",
                    "raw HTTP POST to the API (no cache wait)",
                    "sequential, new connection per request",
                    lambda ns: drive(n, 1, lambda _, i: api.create_fresh(ns, f"et-{i}")),
                    n,
                    False,
                ),
            ]
            for key, path, mode, run, objects, waits in paths:
                await self.path(graphql, key, path, mode, run, objects, waits_for_cache=waits)
            # the request refused by validation: HTTP + GraphQL alone, nothing written
            refused = min(n, REFUSED_N)
            await self.path(
                graphql,
                "graphql-refused",
                "GraphQL registerEventType refused (ValidationFailed)",
                "sequential",
                lambda ns: drive(refused, 1, lambda _, i: graphql.refused(ns)),
                refused,
                waits_for_cache=False,
                writes=False,
            )

        # every object is there, as kubectl, the reference client, lists them
        for namespace, count in self.expected.items():
            listed = await asyncio.to_thread(kubectl_count, self.registry, namespace)
            if listed != count:
                raise RuntimeError(f"{namespace}: kubectl lists {listed} EventTypes, want {count}")
        return self.figures


# reporting -----------------------------------------------------------------------------------


def fmt(value: float) -> str:
    if math.isnan(value):
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}"


def table(figures: Sequence[Figure]) -> str:
    rows = [
        (
            "Path",
            "Mode",
            "Objects",
            "Objects/s",
            "p50 ms",
            "p99 ms",
            "Waits for cache",
            "Server CPU ms/object",
        )
    ]
    for figure in figures:
        rows.append(
            (
                figure.path,
                figure.mode,
                str(figure.objects),
                fmt(figure.rate),
                fmt(figure.p50_ms),
                fmt(figure.p99_ms),
                "yes" if figure.waits_for_cache else "no",
                fmt(figure.server_cpu_ms),
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    lines = [
        "| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) + " |"
        for row in rows
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def findings(figures: Sequence[Figure]) -> list[str]:
    """A few sentences comparing the paths, computed from the figures."""
    by_key = {figure.key: figure for figure in figures}
    seq, conc = by_key["graphql-seq"], by_key["graphql-conc"]
    fresh, refused = by_key["graphql-fresh"], by_key["graphql-refused"]
    one, bulk = by_key["kubectl-one"], by_key["kubectl-bulk"]
    floor, floor_c, floor_fresh = by_key["api-seq"], by_key["api-conc"], by_key["api-fresh"]
    return [
        f"One registerEventType answers in {fmt(seq.p50_ms)} ms (p50; p99 {fmt(seq.p99_ms)} ms) "
        f"with the object already in the cache, against {fmt(one.p50_ms)} ms for one "
        f"`kubectl create -f` (p50; p99 {fmt(one.p99_ms)} ms) that does not wait for any cache.",
        f"Throughput: {fmt(seq.rate)} mutations/s sequential and {fmt(conc.rate)}/s with "
        f"{CONCURRENCY} concurrent clients (p50 {fmt(conc.p50_ms)} ms, p99 "
        f"{fmt(conc.p99_ms)} ms), against {fmt(bulk.rate)} objects/s for kubectl creating "
        f"{bulk.objects} objects in one invocation and {fmt(one.rate)}/s for one invocation "
        "per object.",
        f"The floor, the write alone through kubernetes_asyncio: {fmt(floor.rate)}/s "
        f"sequential (p50 {fmt(floor.p50_ms)} ms), {fmt(floor_c.rate)}/s concurrent. A "
        f"registerEventType costs {fmt(seq.p50_ms - floor.p50_ms)} ms more (p50): validation, "
        f"GraphQL and the wait until the registry's informer has observed the write; a request "
        f"refused by validation (HTTP and GraphQL alone) takes {fmt(refused.p50_ms)} ms.",
        f"A new connection per request costs {fmt(fresh.p50_ms - seq.p50_ms)} ms more per "
        f"registerEventType (p50 {fmt(fresh.p50_ms)} ms) and "
        f"{fmt(floor_fresh.p50_ms - floor.p50_ms)} ms more per API create "
        f"(p50 {fmt(floor_fresh.p50_ms)} ms).",
        f"Server CPU per object, reconciliation included: {fmt(seq.server_cpu_ms)} ms through "
        f"GraphQL (sequential), {fmt(floor.server_cpu_ms)} ms through kubernetes_asyncio, "
        f"{fmt(bulk.server_cpu_ms)} ms through one bulk kubectl invocation and "
        f"{fmt(one.server_cpu_ms)} ms through one kubectl invocation per object.",
        *concurrency(seq, conc),
        *nagle(refused, fresh, floor_fresh),
    ]


def nagle(refused: Figure, fresh: Figure, floor_fresh: Figure) -> list[str]:
    """Why kept-alive answers are slow, when they are (servers that leave Nagle on)."""
    if not (refused.p50_ms > 30 and fresh.p50_ms < refused.p50_ms / 2):
        return []
    return [
        f"On a kept-alive connection every answer waits about 40 ms: even a request refused "
        f"by validation (nothing written) takes {fmt(refused.p50_ms)} ms (p50), against "
        f"{fmt(fresh.p50_ms)} ms for a whole registerEventType on a new connection. The "
        "servers' listening sockets are probably created without IPPROTO_TCP, so asyncio "
        "leaves Nagle's algorithm on for accepted connections and the body of each response "
        "waits for the client's delayed ACK of its headers."
    ]


def concurrency(seq: Figure, conc: Figure) -> list[str]:
    if conc.rate >= 1.5 * seq.rate:
        return []
    return [
        f"{CONCURRENCY} concurrent clients barely raise the rate ({fmt(conc.rate)}/s against "
        f"{fmt(seq.rate)}/s sequential) and mostly add queueing (p50 {fmt(conc.p50_ms)} ms, "
        f"p99 {fmt(conc.p99_ms)} ms): "
        "the GraphQL server, the embedded control plane it writes to, its informers and the "
        "readiness controller (one status write per new EventType) share one Python process, "
        "so sequential requests already keep its one core busy."
    ]


def write_results(
    path: Path, info: dict[str, Any], scale: Scale, figures: Sequence[Figure]
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "machine": info,
        "scale": asdict(scale),
        "units": {"rate": "objects per second of wall time", "latency": "milliseconds"},
        "figures": [
            {key: (None if isinstance(v, float) and math.isnan(v) else v) for key, v in row.items()}
            for row in (asdict(figure) for figure in figures)
        ],
        "findings": findings(figures),
    }
    path.write_text(json.dumps(document, indent=2) + "\n")


def readme_section(info: dict[str, Any], scale: Scale, figures: Sequence[Figure]) -> str:
    lines = [
        SECTION,
        "",
        "`registerEventType` through GraphQL, from request to the answer that includes the "
        "EventType as the registry's cache serves it, beside the same create through kubectl "
        "and through kubernetes_asyncio (the write alone, the floor). Run with "
        "`.venv/bin/python -m bench.mutations [--quick]` (it starts its own "
        "`event-registry serve` in open mode, with its embedded control plane and readiness "
        "controller); see the module's docstring for the method. Figures of "
        f"{info['date']} on {info['nproc']} cores (Python {info['python']}, kubectl "
        f"{info['kubectl']}), N = {scale.n}, {scale.concurrency} concurrent clients, "
        f"{scale.kubectl_runs} kubectl runs, load average {info['loadavg_at_start'][0]:.2f} at "
        f"start and {info['loadavg_at_end'][0]:.2f} at the end (the machine is shared); raw "
        "figures in `bench/results/mutations.json`.",
        "",
        table(figures),
        "",
        *(f"- {sentence}" for sentence in findings(figures)),
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help=f"N = {QUICK_N} instead of {FULL_N}")
    parser.add_argument(
        "--output",
        type=Path,
        help=f"JSON results (default: {RESULTS.relative_to(BENCH.parent)}; none with --quick, "
        "so a quick check never replaces the full figures nor the README section)",
    )
    args = parser.parse_args(argv)
    scale = Scale(
        n=QUICK_N if args.quick else FULL_N,
        concurrency=CONCURRENCY,
        kubectl_runs=KUBECTL_RUNS,
        quick=args.quick,
    )
    output: Path | None = args.output or (None if args.quick else RESULTS)
    info = {
        **reporting.machine(),
        "server": "event-registry serve (open mode, embedded control plane and controller)",
    }
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-mutations-") as directory:
        work = Path(directory)
        registry = RegistryProcess(work / "data").start()
        try:
            registry.wait_ready()
            registry.apply(
                *(
                    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}
                    for ns in sorted(set(NAMESPACES.values()))
                ),
            )
            registry.apply(*(broker(BROKER, ns) for ns in sorted(set(NAMESPACES.values()))))
            figures = asyncio.run(wait_for_brokers_then_measure(registry, scale, work))
        except BaseException:
            print(registry.output(), file=sys.stderr)
            raise
        finally:
            registry.stop()
    info["loadavg_at_end"] = list(os.getloadavg())
    info["duration_seconds"] = round(time.perf_counter() - began, 1)
    print(
        f"mutations benchmark, {info['date']}, {info['nproc']} cores, Python {info['python']}, "
        f"N = {scale.n}, {info['duration_seconds']} s"
    )
    print(table(figures))
    for sentence in findings(figures):
        print(f"- {sentence}")
    if info["duration_seconds"] > BUDGET_SECONDS:
        print(f"warning: the run took more than its {BUDGET_SECONDS:.0f} s budget", file=sys.stderr)
    if output is not None:
        write_results(output, info, scale, figures)
        print(f"results: {output}")
    if not args.quick:
        reporting.replace_section(README, SECTION, readme_section(info, scale, figures))
        print(f"README section: {README}")


async def wait_for_brokers_then_measure(
    registry: RegistryProcess, scale: Scale, work: Path
) -> list[Figure]:
    async with graphql_clients(registry.url, 1) as graphql:
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while True:
            counts = [await graphql.counts(ns) for ns in NAMESPACES.values()]
            if all(c.get("brokers") == 1 for c in counts):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"Brokers not in the cache: {counts}")
            await asyncio.sleep(0.1)
    return await Bench(registry, scale, work).measure()


if __name__ == "__main__":
    main()
