"""Broker ingress throughput: CloudEvents accepted a second, beside a bare Starlette endpoint.

Run from the repository root::

    .venv/bin/python -m bench.ingress [--seconds S] [--runs N] [--connections C] [--output PATH]

It starts its own ``event-registry controlplane`` (controllers and the Broker ingress on free
loopback ports) in a temporary directory, creates a namespace and a Broker, and, as the
baseline, a bare Starlette app in its own uvicorn process that reads the body and answers
202 (the same server settings as the ingress: uvicorn's default HTTP protocol, no access
log). A load generator in this process (aiohttp, C keep-alive connections, each sending its
next request when the previous one is answered) POSTs small binary-mode CloudEvents
(``ce-*`` headers, a 40-byte JSON body) for S seconds per run, N runs per case, interleaved
case by case:

- ``echo``: the bare Starlette endpoint (the ceiling: HTTP parsing and Starlette alone);
- ``ingress, auto-create off``: the ingress parses and validates every event with the
  ``cloudevents`` SDK and looks the Broker up;
- ``ingress, auto-create on, known types``: ``eventtype-auto-create`` enabled and events of
  50 types already registered (the steady state: every event's EventType name is derived and
  looked up in the cache);
- ``ingress, auto-create on, new types``: every event has a type never seen (the flood
  case: each one is hashed, looked up and refused by the per-Broker limit, after the first
  few are queued).

Every answer must be 202 (any other status fails the bench). Events a second is answers
received divided by the run's wall-clock time; the generator shares the machine's cores with
the server it measures, equally for every case. Events per CPU-second divides the answers by
the CPU time the server's process used during the run, which other load on the machine
disturbs much less. Results go to ``bench/results/ingress.json``
and the "## Broker ingress" section of bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
from tests.support import processes
from tests.support.controlplane import ControlPlaneProcess, manifest
from tests.support.registry import broker, eventually

from bench import reporting

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results" / "ingress.json"
README = ROOT / "README.md"
NAMESPACE = "bench-ingress"
BODY = b'{"order": 12345, "customer": "c-0042"}\n'
KNOWN_TYPES = 50
ECHO_SERVER = """
import socket, sys
import uvicorn
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

async def echo(request):
    await request.body()
    return Response(status_code=202)

sock = socket.socket()
sock.bind(("127.0.0.1", 0))
sock.listen(2048)
print(sock.getsockname()[1], flush=True)
app = Starlette(routes=[Route("/{path:path}", echo, methods=["POST"])])
config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
uvicorn.Server(config).run(sockets=[sock])
"""
CASES = (
    "echo",
    "ingress, auto-create off",
    "ingress, auto-create on, known types",
    "ingress, auto-create on, new types",
)


def headers_for(type_: str, ids: itertools.count[int]) -> dict[str, str]:
    return {
        "ce-specversion": "1.0",
        "ce-id": str(next(ids)),
        "ce-type": type_,
        "ce-source": "/bench/orders",
        "content-type": "application/json",
    }


async def load(
    url: str, seconds: float, connections: int, types: Callable[[], str]
) -> tuple[float, int]:
    """Events a second answered 202 by ``url`` over ``seconds`` with ``connections`` clients,
    and how many."""
    ids = itertools.count()
    answered = 0
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as session:
        deadline = time.perf_counter() + seconds

        async def client() -> None:
            nonlocal answered
            while time.perf_counter() < deadline:
                headers = headers_for(types(), ids)
                async with session.post(url, data=BODY, headers=headers) as response:
                    await response.read()
                    if response.status != 202:
                        raise RuntimeError(f"{url}: {response.status} {await response.text()}")
                answered += 1

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(connections)))
        elapsed = time.perf_counter() - started
    return answered / elapsed, answered


def cpu_seconds(pid: int) -> float:
    """User and system CPU time the process has used (``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


Sample = tuple[float, float]
"""Events a second, and events per CPU-second of the server process."""


async def sample(pid: int, url: str, args: argparse.Namespace, types: Callable[[], str]) -> Sample:
    before = cpu_seconds(pid)
    rate, answered = await load(url, args.seconds, args.connections, types)
    used = cpu_seconds(pid) - before
    return rate, answered / used if used > 0 else float("nan")


def start_echo() -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-c", ECHO_SERVER], stdout=subprocess.PIPE, text=True
    )
    processes.track(process)
    assert process.stdout is not None
    port = int(process.stdout.readline())
    return process, f"http://127.0.0.1:{port}/{NAMESPACE}/default"


def registered_types(plane: ControlPlaneProcess) -> int:
    got = plane.kubectl("get", "eventtypes", "-n", NAMESPACE, "-o", "name", check=True)
    return len(got.stdout.split())


def address(plane: ControlPlaneProcess, name: str) -> str:
    jsonpath = "jsonpath={.status.address.url}"
    return plane.kubectl("get", "broker", name, "-n", NAMESPACE, "-o", jsonpath).stdout


def set_auto_create(plane: ControlPlaneProcess, value: str) -> None:
    features = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "config-features", "namespace": "knative-eventing"},
        "data": {"eventtype-auto-create": value},
    }
    plane.kubectl("apply", "-f", "-", input=manifest(features), check=True)


async def turned_on(plane: ControlPlaneProcess, probes: Iterator[str]) -> None:
    """Enable auto-create and return once the ingress acts on it: a new type sent to the
    ``probe`` Broker (whose own limit the measured Broker's flood does not touch) registers."""
    set_auto_create(plane, "enabled")
    url = f"{plane.ingress_url}/{NAMESPACE}/probe"
    before = registered_types(plane)
    async with aiohttp.ClientSession() as session:
        while registered_types(plane) == before:
            headers = headers_for(next(probes), itertools.count())
            async with session.post(url, data=BODY, headers=headers) as response:
                await response.read()
            await asyncio.sleep(0.2)


async def turned_off(plane: ControlPlaneProcess) -> None:
    """Disable auto-create and wait past the ingress' next two readings of the flag."""
    set_auto_create(plane, "disabled")
    await asyncio.sleep(2.5)


async def measure(
    plane: ControlPlaneProcess, echo: tuple[int, str], args: argparse.Namespace
) -> dict[str, list[Sample]]:
    """The four cases once per run, in turn, so that the machine's load falls on each alike."""
    assert plane.process is not None
    pid, url = plane.process.pid, f"{plane.ingress_url}/{NAMESPACE}/default"
    known = itertools.cycle([f"com.bench.known.{n}" for n in range(KNOWN_TYPES)])
    fresh = (f"com.bench.new.{n}" for n in itertools.count())
    probes = (f"com.bench.probe.{n}" for n in itertools.count())
    samples: dict[str, list[Sample]] = {case: [] for case in CASES}
    plane.kubectl("create", "namespace", "knative-eventing", check=True)
    await turned_on(plane, probes)
    while registered_types(plane) < KNOWN_TYPES + 1:  # the known types, and the probe
        await load(url, 0.5, 1, lambda: next(known))
    # Warm-up (not recorded): connections, imports, caches.
    await load(echo[1], 1.0, args.connections, lambda: "com.bench.warm")
    await load(url, 1.0, args.connections, lambda: next(known))
    for _ in range(args.runs):
        await turned_off(plane)
        samples["echo"].append(await sample(*echo, args, lambda: "t"))
        got = await sample(pid, url, args, lambda: next(known))
        samples["ingress, auto-create off"].append(got)
        await turned_on(plane, probes)
        got = await sample(pid, url, args, lambda: next(known))
        samples["ingress, auto-create on, known types"].append(got)
        got = await sample(pid, url, args, lambda: next(fresh))
        samples["ingress, auto-create on, new types"].append(got)
    return samples


def summary(values: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(values)),
        "min": round(min(values)),
        "max": round(max(values)),
    }


def summaries(samples: dict[str, list[Sample]]) -> dict[str, dict[str, dict[str, float]]]:
    return {
        case: {
            "events_per_second": summary([rate for rate, _ in values]),
            "events_per_cpu_second": summary([per_cpu for _, per_cpu in values]),
        }
        for case, values in samples.items()
    }


def report(results: dict[str, Any]) -> str:
    info, summarized = results["machine"], results["summary"]
    echo = summarized["echo"]

    def row(case: str, s: dict[str, dict[str, float]]) -> str:
        rate, cpu = s["events_per_second"], s["events_per_cpu_second"]
        return (
            f"| {case} | {rate['median']:,} | {rate['min']:,} to {rate['max']:,} "
            f"| {cpu['median']:,} | {cpu['median'] / echo['events_per_cpu_second']['median']:.0%} |"
        )

    rows = "\n".join(row(case, s) for case, s in summarized.items())
    rates = [s["events_per_second"] for s in summarized.values()]
    spread = max(rate["max"] / rate["min"] for rate in rates)
    load = ", ".join(f"{v:.2f}" for v in info["loadavg_at_start"])
    connections = results["connections"]
    return f"""## Broker ingress

`python -m bench.ingress` ({info["date"]}, {info["usable_cpus"]} usable CPUs, Python
{info["python"]}): small binary-mode CloudEvents POSTed to a Broker's address on the embedded
ingress by {results["connections"]} keep-alive connections of an aiohttp load generator (the
bench process) on the same machine, {results["seconds"]:g} s a run, {results["runs"]} runs
a case, the cases in turn within each run, every answer 202. The baseline is a bare
Starlette endpoint in its own process under the same uvicorn settings that reads the body and
answers 202. Events a second are bounded by the load generator as much as by the server (one
Python process driving {connections} connections) and moved by up to {spread:.1f}x between runs
while other work shared the cores (load average at start {load}); events per CPU-second
divide the events answered by the CPU time the server's process used meanwhile
(`/proc/<pid>/stat`), and compare the servers' own cost per event.

| case | events/s (median) | events/s (range) | events/CPU-s (median) | of the bare one |
| --- | ---: | ---: | ---: | ---: |
{rows}

With auto-create on, an event of a type already registered costs an MD5 of its attributes and
a lookup in the informer's cache more; a flood of new types is refused by the per-Broker
limit (`--autocreate-per-minute`, default 60) after the first few, costing the sliding window
besides, and never fills the store. Figures in `bench/results/ingress.json`.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--no-readme", action="store_true", help="leave bench/README.md alone")
    args = parser.parse_args()
    info = reporting.machine(kubectl=False)
    with tempfile.TemporaryDirectory(prefix="bench-ingress-") as directory:
        plane = ControlPlaneProcess(Path(directory)).start()
        echo, echo_url = start_echo()
        try:
            plane.kubectl("create", "namespace", NAMESPACE, check=True)
            brokers = manifest(broker("default", NAMESPACE), broker("probe", NAMESPACE))
            plane.kubectl("apply", "-f", "-", input=brokers, check=True)
            for name in ("default", "probe"):
                eventually(functools.partial(address, plane, name))
            samples = asyncio.run(measure(plane, (echo.pid, echo_url), args))
        finally:
            echo.terminate()
            echo.wait()
            processes.untrack(echo)
            plane.stop()
    results = {
        "machine": info,
        "seconds": args.seconds,
        "runs": args.runs,
        "connections": args.connections,
        "samples": {
            case: [[round(rate), round(per_cpu)] for rate, per_cpu in values]
            for case, values in samples.items()
        },
        "summary": summaries(samples),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results["summary"], indent=2))
    if not args.no_readme:
        reporting.replace_section(README, "## Broker ingress", report(results))


if __name__ == "__main__":
    main()
