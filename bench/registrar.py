"""Source registrar: from ``kubectl apply`` of a GitHubSource to its EventTypes in a subscription.

Run from the repository root::

    .venv/bin/python -m bench.registrar [--runs N] [--output PATH]

It starts its own ``event-registry serve`` (embedded control plane, readiness controller and
source registrar) in a temporary directory, opens one ``eventTypeChanges`` subscription on a
namespace with a Broker (graphql-transport-ws over ``websockets``, read as it arrives), then
N times: ``kubectl apply`` of the design note's GitHubSource (``examples/sources``) under a
new name, and waits for both of its EventTypes (push, pull_request) to arrive as ADDED with
the source as producer. Each run measures from just before kubectl is started to the second
EventType's event received, and also the part after kubectl returned (the registrar, the
registry's watch and the subscription, without kubectl's own start-up and request). Runs
are sequential; the source of each run is deleted (and its EventTypes seen DELETED) before
the next. Results go to ``bench/results/registrar.json`` and the "## Source registrar"
section of bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from tests.support.controlplane import KUBECTL, manifest
from tests.support.registry import RegistryProcess, broker
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from bench import reporting

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results" / "registrar.json"
README = ROOT / "README.md"
EXAMPLE = ROOT.parent / "examples" / "sources" / "github-source.yaml"
NAMESPACE = "bench-registrar"
QUERY = """
subscription ($namespace: String) {
  eventTypeChanges(namespace: $namespace) {
    kind
    eventType { name producers { name } }
  }
}
"""


async def kubectl(registry: RegistryProcess, *args: str, input: str = "") -> None:
    process = await asyncio.create_subprocess_exec(
        str(KUBECTL),
        f"--kubeconfig={registry.kubeconfig}",
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env={"KUBECACHEDIR": str(registry.data_dir / "kubectl-cache"), "PATH": "/usr/bin:/bin"},
    )
    _, stderr = await process.communicate(input.encode())
    if process.returncode != 0:
        raise RuntimeError(f"kubectl {' '.join(args)}: {stderr.decode()}")


async def changes_of(ws: ClientConnection, source: str, kind: str, count: int) -> None:
    """Read the subscription until ``count`` changes of ``kind`` produced by ``source``."""
    seen = 0
    while seen < count:
        message = json.loads(await asyncio.wait_for(ws.recv(), 30))
        if message["type"] != "next":
            raise RuntimeError(f"subscription ended: {message}")
        change = message["payload"]["data"]["eventTypeChanges"]
        producers = [p["name"] for p in (change["eventType"] or {}).get("producers") or ()]
        if change["kind"] == kind and producers == [source]:
            seen += 1


def github_source(name: str) -> dict[str, Any]:
    source: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text())
    source["metadata"].update(namespace=NAMESPACE, name=name)
    return source


async def measure(registry: RegistryProcess, runs: int) -> dict[str, list[float]]:
    await kubectl(registry, "create", "namespace", NAMESPACE)
    await kubectl(registry, "apply", "-f", "-", input=manifest(broker("default", NAMESPACE)))
    url = "ws" + registry.url.removeprefix("http")
    totals: list[float] = []
    after_apply: list[float] = []
    async with connect(url, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        payload = {"query": QUERY, "variables": {"namespace": NAMESPACE}}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        for run in range(runs + 1):  # the first run warms kubectl's discovery cache: not kept
            name = f"github-{run:02d}"
            text = manifest(github_source(name))
            start = time.perf_counter()
            await kubectl(registry, "apply", "-f", "-", input=text)
            applied = time.perf_counter()
            await changes_of(ws, name, "ADDED", 2)
            seen = time.perf_counter()
            if run:
                totals.append((seen - start) * 1000)
                after_apply.append((seen - applied) * 1000)
            await kubectl(registry, "delete", "githubsource", name, "-n", NAMESPACE)
            await changes_of(ws, name, "DELETED", 2)
    return {"apply_to_subscription_ms": totals, "after_apply_returned_ms": after_apply}


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50": round(statistics.median(ordered), 1),
        "p95": round(statistics.quantiles(ordered, n=20, method="inclusive")[18], 1),
        "min": round(ordered[0], 1),
        "max": round(ordered[-1], 1),
    }


def report(results: dict[str, Any]) -> str:
    total = results["summary"]["apply_to_subscription_ms"]
    rest = results["summary"]["after_apply_returned_ms"]
    runs = results["runs"]
    return f"""## Source registrar

`bench/registrar.py` ({runs} runs, sequential, one warm-up run not counted): `kubectl apply`
of the design note's GitHubSource (`examples/sources/github-source.yaml`, two event types,
Broker sink) to a `serve` on the embedded control plane, until both of its EventTypes have
arrived as ADDED, with the source as producer, on an `eventTypeChanges` subscription opened
before. The path: kubectl's request → control plane → the source registrar's watch → its
creates → the registry's watch → cache → hub → WebSocket.

| measured | p50 | p95 | min | max |
| --- | ---: | ---: | ---: | ---: |
| kubectl started → both EventTypes in the subscription | {total["p50"]} ms | {total["p95"]} ms | {total["min"]} ms | {total["max"]} ms |
| kubectl returned → both EventTypes in the subscription | {rest["p50"]} ms | {rest["p95"]} ms | {rest["min"]} ms | {rest["max"]} ms |

The difference between the rows is kubectl itself (a Go process started per apply, its
discovery cache warm). Machine: {results["machine"]["nproc"]} cores (shared), Python
{results["machine"]["python"]}, {results["machine"]["date"]}.
"""  # noqa: E501


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--no-readme", action="store_true", help="leave bench/README.md alone")
    args = parser.parse_args()
    info = reporting.machine()
    with tempfile.TemporaryDirectory(prefix="bench-registrar-") as directory:
        registry = RegistryProcess(Path(directory)).start()
        try:
            registry.wait_ready()
            samples = asyncio.run(measure(registry, args.runs))
        finally:
            registry.stop()
    results = {
        "machine": info,
        "runs": args.runs,
        "samples": {key: [round(v, 2) for v in values] for key, values in samples.items()},
        "summary": {key: summary(values) for key, values in samples.items()},
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results["summary"], indent=2))
    if not args.no_readme:
        reporting.replace_section(README, "## Source registrar", report(results))


if __name__ == "__main__":
    main()
