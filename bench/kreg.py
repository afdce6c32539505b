"""``kreg`` and the Python client beside kubectl and a raw WebSocket reader.

Run from the repository root::

    .venv/bin/python -m bench.kreg [--quick] [--output PATH]

It starts its own ``event-registry serve`` (embedded control plane, readiness controller) in a
temporary directory, creates 5,000 EventTypes (50 namespaces of 100, each with a Broker) with
one ``kubectl create -f -``, waits until the registry has seen every one reconciled, then:

1. **Start-up.** ``kreg --version`` (the interpreter, click, httpx, websockets and the client
   imported, no request) beside ``kubectl version --client`` (PyPI kubectl, a Go binary).
2. **Total.** ``kreg get eventtypes -A`` (ten GraphQL pages of 500, a table of 5,000 rows)
   beside ``kubectl get eventtypes -A`` against the embedded control plane (its server-side
   Table, the same 5,000 rows); and both with ``-o json``.
3. **Subscription throughput.** ``eventTypeChanges(includeExisting: true)`` over every
   namespace: 5,000 EXISTING events then INITIAL_SET_COMPLETE, the same document both ways.
   The client's iterator (JSON decoded into typed dataclasses) beside a raw ``websockets``
   reader doing graphql-transport-ws by hand and ``json.loads`` of each message (the floor:
   transport and JSON only). Events per second from subscribe to INITIAL_SET_COMPLETE.

Commands run one at a time (medians of N runs); the client, the server and kubectl share the
machine's cores, so these are end-to-end figures. Results go to ``bench/results/kreg.json``
and the "## kreg" section of bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tests.support.controlplane import KUBECTL, manifest
from tests.support.registry import RegistryProcess, broker, data_of, eventtype
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from bench import reporting
from event_registry_client import AsyncRegistryClient, ChangeKind, EventTypeChange, documents

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results" / "kreg.json"
README = ROOT / "README.md"
KREG = str(Path(sys.executable).parent / "kreg")


@dataclass(frozen=True)
class Scale:
    namespaces: int
    per_namespace: int
    command_runs: int
    subscription_runs: int


FULL = Scale(namespaces=50, per_namespace=100, command_runs=7, subscription_runs=5)
QUICK = Scale(namespaces=10, per_namespace=50, command_runs=3, subscription_runs=2)


def populate(registry: RegistryProcess, scale: Scale) -> int:
    documents_: list[dict[str, Any]] = []
    for n in range(scale.namespaces):
        namespace = f"bench-{n:02d}"
        documents_.append(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
        )
        documents_.append(broker("default", namespace))
        documents_ += [
            eventtype(
                f"type-{i:03d}",
                namespace,
                type=f"dev.bench.{namespace}.type-{i:03d}",
                source=f"https://bench.example.com/{namespace}",
                description="an EventType of the kreg bench",
                broker="default",
            )
            for i in range(scale.per_namespace)
        ]
    registry.kubectl("create", "-f", "-", input=manifest(*documents_), check=True, timeout=600)
    total = scale.namespaces * scale.per_namespace
    query = "{ eventTypes(filter: {ready: true}, first: 1) { totalCount } }"
    deadline = time.monotonic() + 600
    while data_of(registry.query(query))["eventTypes"]["totalCount"] < total:
        if time.monotonic() > deadline:
            raise RuntimeError("the EventTypes were not reconciled in 10 minutes")
        time.sleep(0.5)
    return total


def timed(args: list[str], env: dict[str, str], runs: int) -> dict[str, Any]:
    """Median and min wall time of ``runs`` sequential runs; the last run's output size."""
    samples = []
    out = ""
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(args, env=env, capture_output=True, text=True, check=True)
        samples.append(time.perf_counter() - started)
        out = done.stdout
    return {
        "median_s": round(statistics.median(samples), 3),
        "min_s": round(min(samples), 3),
        "runs": runs,
        "stdout_lines": out.count("\n"),
        "stdout_bytes": len(out.encode()),
    }


def commands(registry: RegistryProcess, scale: Scale) -> dict[str, Any]:
    env = {**os.environ, "KREG_URL": registry.url, "KREG_CONFIG": "/nonexistent"}
    env["KUBECONFIG"] = str(registry.kubeconfig)
    kubectl = [str(KUBECTL), "--cache-dir", str(registry.data_dir / "kubectl-cache")]
    subprocess.run([*kubectl, "api-resources"], env=env, capture_output=True, check=True)
    runs = scale.command_runs
    return {
        "startup": {
            "kreg --version": timed([KREG, "--version"], env, runs),
            "kubectl version --client": timed([*kubectl, "version", "--client"], env, runs),
        },
        "get_table": {
            "kreg get eventtypes -A": timed([KREG, "get", "eventtypes", "-A"], env, runs),
            "kubectl get eventtypes -A": timed([*kubectl, "get", "eventtypes", "-A"], env, runs),
        },
        "get_json": {
            "kreg get eventtypes -A -o json": timed(
                [KREG, "get", "eventtypes", "-A", "-o", "json"], env, runs
            ),
            "kubectl get eventtypes -A -o json": timed(
                [*kubectl, "get", "eventtypes", "-A", "-o", "json"], env, runs
            ),
        },
    }


async def client_reader(url: str) -> tuple[int, float]:
    """Events the client's iterator yields until INITIAL_SET_COMPLETE, and the seconds."""
    async with AsyncRegistryClient(url) as client:
        started = time.perf_counter()
        count = 0
        changes = client.event_type_changes(None, include_existing=True)
        async for event in changes:
            count += 1
            if isinstance(event, EventTypeChange) and event.kind is ChangeKind.INITIAL_SET_COMPLETE:
                break
        elapsed = time.perf_counter() - started
        await changes.aclose()  # type: ignore[attr-defined]
        return count, elapsed


async def raw_reader(url: str, keep: list[str] | None = None) -> tuple[int, float]:
    """The same subscription by hand over ``websockets``: messages until the marker (each
    message's text appended to ``keep`` when given)."""
    started = time.perf_counter()
    async with connect(
        url.replace("http", "ws", 1),
        subprotocols=[Subprotocol("graphql-transport-ws")],
        max_size=None,
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        while json.loads(await ws.recv())["type"] != "connection_ack":
            pass
        variables = {"namespace": None, "filter": None, "includeExisting": True, "since": None}
        await ws.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": documents.EVENT_TYPE_CHANGES, "variables": variables},
                }
            )
        )
        count = 0
        while True:
            frame = await ws.recv()
            message = json.loads(frame)
            if message["type"] != "next":
                continue
            count += 1
            if keep is not None:
                keep.append(str(frame))
            if message["payload"]["data"]["eventTypeChanges"]["kind"] == "INITIAL_SET_COMPLETE":
                break
    return count, time.perf_counter() - started


def throughput(url: str, scale: Scale) -> dict[str, Any]:
    """Both readers, runs interleaved (client, raw, client, raw...) so that the load of the
    shared machine drifts over both alike."""
    rates: dict[str, list[float]] = {"client": [], "raw websockets": []}
    counts: dict[str, set[int]] = {"client": set(), "raw websockets": set()}
    for _ in range(scale.subscription_runs):
        for name, reader in (("client", client_reader), ("raw websockets", raw_reader)):
            count, elapsed = asyncio.run(reader(url))
            counts[name].add(count)
            rates[name].append(count / elapsed)
    return {
        name: {
            "events": sorted(counts[name]),
            "median_events_per_s": round(statistics.median(rates[name])),
            "max_events_per_s": round(max(rates[name])),
            "runs": scale.subscription_runs,
        }
        for name in rates
    }


def decoding(url: str, scale: Scale) -> dict[str, Any]:
    """The client's own cost, without the server or the network: the recorded messages of
    one subscription decoded again and again, ``json.loads`` alone beside ``json.loads`` and
    the client's typed decoding (what its iterator does per event)."""
    frames: list[str] = []
    asyncio.run(raw_reader(url, frames))

    def json_only() -> None:
        for frame in frames:
            json.loads(frame)

    def typed() -> None:
        for frame in frames:
            EventTypeChange.from_json(json.loads(frame)["payload"]["data"]["eventTypeChanges"])

    figures: dict[str, Any] = {"events": len(frames)}
    for name, work in (("json.loads", json_only), ("json.loads + typed models", typed)):
        samples = []
        for _ in range(scale.subscription_runs):
            started = time.perf_counter()
            work()
            samples.append(time.perf_counter() - started)
        figures[name] = {"median_events_per_s": round(len(frames) / statistics.median(samples))}
    return figures


def section(result: dict[str, Any]) -> str:
    cmd, sub, decode = result["commands"], result["subscription"], result["decoding"]
    total = result["eventtypes"]

    def row(
        figure: str, value: dict[str, Any], baseline_name: str, baseline: dict[str, Any]
    ) -> str:
        ratio = value["median_s"] / baseline["median_s"]
        return (
            f"| {figure} | {value['median_s'] * 1000:.0f} ms | {baseline_name} | "
            f"{baseline['median_s'] * 1000:.0f} ms | {ratio:.2f} |"
        )

    lines = [
        "## kreg",
        "",
        "`bench/kreg.py` sets the `kreg` command line and the Python client (clients/python)",
        "beside kubectl and a raw WebSocket reader. It starts its own `event-registry serve`,",
        f"creates {total:,} EventTypes ({result['scale']['namespaces']} namespaces of "
        f"{result['scale']['per_namespace']}, each with a Broker) with one `kubectl create -f -`",
        "and waits until all are reconciled.",
        "",
        "```sh",
        ".venv/bin/python -m bench.kreg          # full run; writes bench/results/kreg.json",
        ".venv/bin/python -m bench.kreg --quick  # 500 EventTypes, prints only",
        "```",
        "",
        f"Measured on {result['machine']['date']} on this machine: "
        f"{result['machine']['usable_cpus']} cores shared with other work",
        f"(load average {result['machine']['loadavg_at_start'][0]:.1f} at the start; treat "
        "differences under ~20% as noise),",
        f"Python {result['machine']['python']}, kubectl "
        f"{result['machine'].get('kubectl', '?')} (PyPI).",
        f"Medians of {result['scale']['command_runs']} sequential runs of each command; "
        "ratio = value / baseline (below 1: faster).",
        "",
        "| Figure | Value | Baseline | Baseline value | Ratio |",
        "| --- | --- | --- | --- | --- |",
        row(
            "start-up: `kreg --version`",
            cmd["startup"]["kreg --version"],
            "`kubectl version --client`",
            cmd["startup"]["kubectl version --client"],
        ),
        row(
            f"`kreg get eventtypes -A` ({total:,} rows)",
            cmd["get_table"]["kreg get eventtypes -A"],
            "`kubectl get eventtypes -A`",
            cmd["get_table"]["kubectl get eventtypes -A"],
        ),
        row(
            "`kreg get eventtypes -A -o json`",
            cmd["get_json"]["kreg get eventtypes -A -o json"],
            "`kubectl get eventtypes -A -o json`",
            cmd["get_json"]["kubectl get eventtypes -A -o json"],
        ),
        "",
        "Subscription throughput: `eventTypeChanges(includeExisting: true)` over every namespace",
        f"({total:,} EXISTING events, then INITIAL_SET_COMPLETE), the client's own document",
        "both ways; events per second from subscribe to the marker, median of "
        f"{result['scale']['subscription_runs']} runs",
        "of each, interleaved. Both readers wait on the same server, which produces the initial",
        "set, so this is end-to-end. The decoding rows replay the recorded messages of one run",
        "without server or network: the client's own cost per event.",
        "",
        "| Reader | Events/s (median) | Events/s (max) |",
        "| --- | --- | --- |",
        f"| client iterator (typed dataclasses) | {sub['client']['median_events_per_s']:,} | "
        f"{sub['client']['max_events_per_s']:,} |",
        f"| raw `websockets` + `json.loads` | {sub['raw websockets']['median_events_per_s']:,} | "
        f"{sub['raw websockets']['max_events_per_s']:,} |",
        f"| decoding only: `json.loads` + typed models | "
        f"{decode['json.loads + typed models']['median_events_per_s']:,} | |",
        f"| decoding only: `json.loads` | {decode['json.loads']['median_events_per_s']:,} | |",
        "",
        "`kreg` is a Python process: the interpreter and its imports (click, httpx, the client;",
        "not websockets, which only `watch` loads) are most of a short command, where kubectl",
        "is a Go binary. For 5,000 rows `kreg` pages through GraphQL (`first: 500`, far under",
        "the query cost limit) and formats the table itself; kubectl fetches the control",
        "plane's server-side Table (or, for `-o json`, the full objects) and prints it.",
        "",
    ]
    return "\n".join(lines)


def rewrite_section(path: Path = RESULTS) -> None:
    """The README section again from recorded results (after editing its text)."""
    reporting.replace_section(README, "## kreg", section(json.loads(path.read_text())))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="500 EventTypes, fewer runs")
    parser.add_argument("--output", type=Path, help="where to write the JSON result")
    arguments = parser.parse_args()
    scale = QUICK if arguments.quick else FULL
    with tempfile.TemporaryDirectory(prefix="bench-kreg-") as temporary:
        registry = RegistryProcess(Path(temporary) / "data")
        registry.start()
        try:
            registry.wait_ready()
            info = reporting.machine()
            started = time.monotonic()
            total = populate(registry, scale)
            print(f"{total} EventTypes reconciled in {time.monotonic() - started:.1f}s")
            result = {
                "machine": info,
                "scale": asdict(scale),
                "eventtypes": total,
                "commands": commands(registry, scale),
                "subscription": throughput(registry.url, scale),
                "decoding": decoding(registry.url, scale),
            }
        finally:
            registry.stop()
    print(json.dumps(result, indent=2))
    output = arguments.output or (None if arguments.quick else RESULTS)
    if output is not None:
        output.write_text(json.dumps(result, indent=2) + "\n")
    if not arguments.quick:
        reporting.replace_section(README, "## kreg", section(result))


if __name__ == "__main__":
    main()
