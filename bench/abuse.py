"""Abuse benchmark: a well-behaved caller's latency while another caller attacks the registry.

Run from the repository root::

    .venv/bin/python -m bench.abuse [--quick] [--duration SECONDS]

It starts ``event-registry serve`` (embedded control plane, tokens mode) in a temporary
directory with two callers: ``attacker`` (a read-only token for ``team-a``) and ``normal``
(read and write on ``team-b``). ``team-a`` holds a Broker and ``--eventtypes`` EventTypes on it
(500 by default, the queries benchmark's size); ``team-b`` a Broker and a few EventTypes.

The normal caller, for ``duration`` seconds, (1) sends a plain query (:data:`NORMAL_QUERY`) one
after another and records each latency to the last byte, and (2) holds one subscription
(``eventTypeChanges`` of ``team-b``) and, twice a second, registers an EventType through a
mutation, recording the time from sending the mutation to receiving its ``ADDED`` event. Its
WebSocket names its token in the handshake's ``Authorization`` header, so it is counted
against its token from the start, not against the address it shares with the attacker.
This runs first with nothing else going on (idle), then during each attack:

- ``nested``: four loops posting the nested query of the security issue
  (:data:`NESTED_QUERY`, lists multiplied eight levels deep); the cost limit refuses it;
- ``bodies``: four loops announcing a 100 MB body and sending its first 64 KB; the body limit
  answers 413 from the headers;
- ``connections``: WebSocket connections opened until the registry refuses one, each with up
  to 100 distinct (aliased) subscriptions, held during the measurement; the per-caller
  budgets decide how many are accepted; the server's ``VmRSS`` is read before, during and
  after (once they are closed); the flood runs twice (``connections again``), so memory not
  released after the first would show as growth in the second;
- ``handshakes``: fifty simultaneous WebSocket handshakes (``connection_init``, ack, close),
  again and again.

The figure that matters is the normal caller's p99 under attack divided by its idle p99
(the security issue's target: at most 10). Results: ``bench/results/abuse.json`` and an
``Abuse`` section in ``bench/README.md`` (full mode; ``--quick`` prints only). Full mode takes
about 2 minutes here.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from tests.support.registry import RegistryProcess, broker, eventtype, write_tokens

from bench import reporting

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results" / "abuse.json"
README = REPO / "bench" / "README.md"

ATTACKER = "attacker-token-0000000000000000"
NORMAL = "normal-token-00000000000000000000"
TOKENS = [
    {"token": ATTACKER, "name": "attacker", "namespaces": {"team-a": ["read"]}},
    {"token": NORMAL, "name": "normal", "namespaces": {"team-b": ["read", "write"]}},
]

NORMAL_QUERY = (
    '{ eventTypes(namespace: "team-b", first: 20) '
    "{ totalCount nodes { name type source ready consumable broker { name ready } } } }"
)
NESTED_QUERY = (
    '{eventTypes(namespace:"team-a"){nodes{broker{eventTypes{broker{eventTypes{broker{'
    "eventTypes{broker{eventTypes{name}}}}}}}}}}}"
)
CHANGES = 'subscription { eventTypeChanges(namespace: "team-b") { kind eventType { name } } }'
REGISTER = """
mutation($name: String!) {
  registerEventType(input: {namespace: "team-b", name: $name, type: "bench.abuse.probe",
                            source: "https://bench.example.com", broker: "default"}) {
    __typename
  }
}
"""
ATTACK_SUBSCRIPTION = (
    'subscription { s%d: eventTypeChanges(namespace: "team-a") { kind eventType { name } } }'
)


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def summary(values: Sequence[float]) -> dict[str, Any]:
    return {
        "count": len(values),
        "p50_ms": round(percentile(values, 0.5) * 1000, 2),
        "p99_ms": round(percentile(values, 0.99) * 1000, 2),
        "max_ms": round(max(values) * 1000, 2) if values else None,
    }


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


# the well-behaved caller ---------------------------------------------------------------------


@dataclass
class Observed:
    queries: list[float] = field(default_factory=list)
    changes: list[float] = field(default_factory=list)
    lost_changes: int = 0


async def normal_queries(
    session: aiohttp.ClientSession, url: str, until: float, seen: Observed
) -> None:
    headers = {"authorization": f"Bearer {NORMAL}", "content-type": "application/json"}
    body = json.dumps({"query": NORMAL_QUERY})
    while time.monotonic() < until:
        started = time.perf_counter()
        async with session.post(url, data=body, headers=headers) as response:
            payload = await response.read()
        seen.queries.append(time.perf_counter() - started)
        assert response.status == 200, payload[:300]
        assert b'"errors"' not in payload, payload[:300]


async def normal_changes(
    session: aiohttp.ClientSession, url: str, until: float, seen: Observed, names: Any
) -> None:
    """Mutations twice a second; each one's ADDED event timed on a subscription."""
    headers = {"authorization": f"Bearer {NORMAL}", "content-type": "application/json"}
    async with session.ws_connect(
        url, protocols=["graphql-transport-ws"], headers={"authorization": f"Bearer {NORMAL}"}
    ) as ws:
        await ws.send_json(
            {"type": "connection_init", "payload": {"Authorization": f"Bearer {NORMAL}"}}
        )
        assert (await ws.receive_json(timeout=10))["type"] == "connection_ack"
        await ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": CHANGES}})
        while time.monotonic() < until:
            name = f"probe-{next(names)}"
            started = time.perf_counter()
            body = json.dumps({"query": REGISTER, "variables": {"name": name}})
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
            try:
                while True:
                    message = await ws.receive_json(timeout=30)
                    event = (message.get("payload") or {}).get("data") or {}
                    change = event.get("eventTypeChanges") or {}
                    if (change.get("eventType") or {}).get("name") == name:
                        seen.changes.append(time.perf_counter() - started)
                        break
            except TimeoutError:
                seen.lost_changes += 1
            await asyncio.sleep(max(0.0, 0.5 - (time.perf_counter() - started)))


async def normal_caller(url: str, duration: float, names: Any) -> Observed:
    seen = Observed()
    until = time.monotonic() + duration
    async with aiohttp.ClientSession() as session:
        await asyncio.gather(
            normal_queries(session, url, until, seen),
            normal_changes(session, url, until, seen, names),
        )
    return seen


# the attacks ---------------------------------------------------------------------------------


@dataclass
class Attack:
    name: str
    counts: dict[str, int] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)

    def count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1


async def nested(url: str, stop: asyncio.Event, attack: Attack) -> None:
    headers = {"authorization": f"Bearer {ATTACKER}", "content-type": "application/json"}
    body = json.dumps({"query": NESTED_QUERY})

    async def loop(session: aiohttp.ClientSession) -> None:
        while not stop.is_set():
            async with session.post(url, data=body, headers=headers) as response:
                payload = await response.read()
            attack.count(f"{response.status} {'refused' if b'cost' in payload else 'answered'}")
            attack.notes["answer_bytes"] = len(payload)

    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(loop(session) for _ in range(4)))


async def bodies(url: str, stop: asyncio.Event, attack: Attack) -> None:
    host, port = url.split("//")[1].split("/")[0].rsplit(":", 1)
    head = (
        f"POST /graphql HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Authorization: Bearer {ATTACKER}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {100 * 1024 * 1024}\r\n\r\n"
    ).encode()
    chunk = b" " * 65536

    async def loop() -> None:
        while not stop.is_set():
            reader, writer = await asyncio.open_connection(host, int(port))
            try:
                writer.write(head + chunk)
                with contextlib.suppress(ConnectionError):
                    await writer.drain()
                status = (await asyncio.wait_for(reader.readline(), 10)).split(b" ")[1:2]
                attack.count(status[0].decode() if status else "no answer")
            except (ConnectionError, TimeoutError):
                attack.count("connection error")
            finally:
                writer.close()
                with contextlib.suppress(ConnectionError):
                    await writer.wait_closed()

    await asyncio.gather(*(loop() for _ in range(4)))


async def open_attacker_socket(
    session: aiohttp.ClientSession, url: str, attack: Attack
) -> aiohttp.ClientWebSocketResponse[bool] | None:
    try:
        ws: aiohttp.ClientWebSocketResponse[bool] = await asyncio.wait_for(
            session.ws_connect(url, protocols=["graphql-transport-ws"]), 20
        )
    except aiohttp.WSServerHandshakeError as error:
        attack.count(f"handshake {error.status}")
        return None
    except (aiohttp.ClientError, TimeoutError):
        attack.count("handshake error")
        return None
    await ws.send_json(
        {"type": "connection_init", "payload": {"Authorization": f"Bearer {ATTACKER}"}}
    )
    try:
        reply = await ws.receive(timeout=20)
    except TimeoutError:
        attack.count("no ack")
        await ws.close()
        return None
    if reply.type != aiohttp.WSMsgType.TEXT or json.loads(reply.data)["type"] != "connection_ack":
        attack.count(f"init refused {ws.close_code}")
        await ws.close()
        return None
    attack.count("accepted")
    return ws


async def connections(
    url: str, stop: asyncio.Event, attack: Attack, pid: int, limit: int = 300
) -> None:
    held: list[aiohttp.ClientWebSocketResponse[bool]] = []
    attack.notes["rss_kb_before"] = rss_kb(pid)
    async with aiohttp.ClientSession() as session:
        for _ in range(limit):
            ws = await open_attacker_socket(session, url, attack)
            if ws is None:
                break
            held.append(ws)
        subscriptions = 0
        for ws in held:
            for n in range(100):
                query = ATTACK_SUBSCRIPTION % n
                message = {"id": str(n), "type": "subscribe", "payload": {"query": query}}
                with contextlib.suppress(ConnectionError, RuntimeError):
                    await ws.send_json(message)
                subscriptions += 1
        await asyncio.sleep(1)
        refused = 0
        for ws in held:
            while True:
                try:
                    reply = await ws.receive(timeout=0.01)
                except TimeoutError:
                    break
                if reply.type != aiohttp.WSMsgType.TEXT:
                    break
                if json.loads(reply.data).get("type") == "error":
                    refused += 1
        attack.notes.update(
            connections_held=len(held),
            subscriptions_sent=subscriptions,
            subscriptions_refused=refused,
            rss_kb_during=rss_kb(pid),
        )
        await stop.wait()
        for ws in held:
            await ws.close()
    await asyncio.sleep(2)
    attack.notes["rss_kb_after"] = rss_kb(pid)


async def handshakes(url: str, stop: asyncio.Event, attack: Attack) -> None:
    async with aiohttp.ClientSession() as session:

        async def one() -> None:
            ws = await open_attacker_socket(session, url, attack)
            if ws is not None:
                await ws.close()

        while not stop.is_set():
            await asyncio.gather(*(one() for _ in range(50)))


AttackRunner = Callable[[str, asyncio.Event, Attack], Coroutine[Any, Any, None]]


def runners(server_pid: int) -> dict[str, AttackRunner]:
    return {
        "nested": nested,
        "bodies": bodies,
        "connections": lambda url, stop, attack: connections(url, stop, attack, server_pid),
        "handshakes": handshakes,
    }


async def attack_alone(name: str, url: str, server_pid: int, seconds: float) -> Attack:
    """Run one attack for ``seconds`` (in the attacker's own process, see :func:`under`)."""
    attack = Attack(name)
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(seconds, stop.set)
    await runners(server_pid)[name](url, stop, attack)
    return attack


async def under(
    url: str, duration: float, attack: str | None, server_pid: int, names: Any
) -> tuple[Observed, Attack | None]:
    """The normal caller's figures while ``attack`` runs, started 2 s before, in a process of
    its own: the attacker's client work must not delay the normal caller's event loop."""
    if attack is None:
        return await normal_caller(url, duration, names), None
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.abuse",
        "--attack",
        attack,
        "--url",
        url,
        "--server-pid",
        str(server_pid),
        "--duration",
        str(duration + 3),
        stdout=asyncio.subprocess.PIPE,
        cwd=REPO,
    )
    await asyncio.sleep(2)
    seen = await normal_caller(url, duration, names)
    out, _ = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, f"attack {attack} failed"
    report = json.loads(out.decode().strip().splitlines()[-1])
    return seen, Attack(attack, report["counts"], report["notes"])


# setup and report ----------------------------------------------------------------------------


def populate(registry: RegistryProcess, size: int) -> None:
    for namespace in ("team-a", "team-b"):
        registry.kubectl("create", "namespace", namespace, check=True)
    registry.apply(broker("default", "team-a"), broker("default", "team-b"))
    documents = [
        eventtype(f"et-{i:04d}", "team-a", type=f"bench.a.{i}", broker="default")
        for i in range(size)
    ]
    for start in range(0, len(documents), 250):
        registry.apply(*documents[start : start + 250])
    registry.apply(
        *(eventtype(f"et-{i}", "team-b", type=f"bench.b.{i}", broker="default") for i in range(5))
    )


async def run(duration: float, size: int, work: Path) -> dict[str, Any]:
    tokens = write_tokens(work / "tokens.yaml", TOKENS)
    registry = RegistryProcess(work / "data", tokens_file=tokens).start()
    try:
        registry.wait_ready()
        populate(registry, size)
        assert registry._process.process is not None
        pid = registry._process.process.pid
        names = itertools.count()
        results: dict[str, Any] = {}
        idle, _ = await under(registry.url, duration, None, pid, names)
        results["idle"] = {"queries": summary(idle.queries), "changes": summary(idle.changes)}
        for label in ("nested", "bodies", "connections", "connections again", "handshakes"):
            seen, attack = await under(registry.url, duration, label.split()[0], pid, names)
            assert attack is not None
            results[label] = {
                "queries": summary(seen.queries),
                "changes": summary(seen.changes),
                "lost_changes": seen.lost_changes,
                "attacker": {"answers": attack.counts, **attack.notes},
                "p99_ratio": round(
                    summary(seen.queries)["p99_ms"] / results["idle"]["queries"]["p99_ms"], 2
                ),
            }
            print(label, json.dumps(results[label]), flush=True)
        healthy = registry.get("/healthz")
        results["server_up_after"] = healthy.status == 200
        return results
    finally:
        registry.stop()


def table(results: dict[str, Any]) -> str:
    lines = [
        "| Attack | normal query p50 / p99 (ms) | p99 / idle p99 | change delivered p50 / p99 "
        "(ms) | what the attacker got |",
        "|---|---|---|---|---|",
    ]
    for name, figures in results.items():
        if not isinstance(figures, dict):
            continue
        queries, changes = figures["queries"], figures["changes"]
        attacker = figures.get("attacker", {})
        got = ", ".join(f"{k}: {v}" for k, v in attacker.items() if k != "answers")
        answers = ", ".join(f"{k}: {v}" for k, v in attacker.get("answers", {}).items())
        lines.append(
            f"| {name} | {queries['p50_ms']} / {queries['p99_ms']} | "
            f"{figures.get('p99_ratio', 1.0)} | {changes['p50_ms']} / {changes['p99_ms']} | "
            f"{'; '.join(part for part in (answers, got) if part) or '—'} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="5 s per phase, 100 EventTypes")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per phase")
    parser.add_argument("--eventtypes", type=int, default=500, help="EventTypes in team-a")
    parser.add_argument("--attack", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--server-pid", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.attack:
        attack = asyncio.run(attack_alone(args.attack, args.url, args.server_pid, args.duration))
        print(json.dumps({"counts": attack.counts, "notes": attack.notes}))
        return
    duration = 5.0 if args.quick else args.duration
    size = 100 if args.quick else args.eventtypes
    info = reporting.machine()
    with tempfile.TemporaryDirectory(prefix="bench-abuse-") as directory:
        results = asyncio.run(run(duration, size, Path(directory)))
    text = table(results)
    print(text)
    if args.quick:
        return
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    document = {"machine": info, "duration": duration, "eventtypes": size, **results}
    RESULTS.write_text(json.dumps(document, indent=2) + "\n")
    worst = max(
        v["p99_ratio"] for v in results.values() if isinstance(v, dict) and "p99_ratio" in v
    )
    section = "\n\n".join(
        [
            "## Abuse",
            "`bench/abuse.py`: a well-behaved caller's latency (a plain query to the last byte, "
            "and a mutation's change reaching its subscription) while another caller attacks, "
            "beside the same with nothing else running. Method in the module docstring.",
            f"Measured {info['date']} on this machine (2 cores, shared), {duration:.0f} s per "
            f"phase, {size} EventTypes in the attacker's namespace. Worst p99 ratio: "
            f"**{worst}** (target: at most 10). Server up after every attack: "
            f"{results['server_up_after']}.",
            text,
        ]
    )
    reporting.replace_section(README, "## Abuse", section + "\n")
    print(f"results: {RESULTS}")


if __name__ == "__main__":
    main()
