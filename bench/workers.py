"""Every core: ``serve --workers N`` beside one process, same subscribers, same flips, one run.

Run from the repository root::

    .venv/bin/python -m bench.workers [--quick] [--subscribers 1000,10000,50000] [--workers 2]

For each size N and each worker count W (1, the single-process registry ``serve`` has always
been, and ``--workers``), a fresh ``event-registry serve --workers W`` (embedded control plane,
run by the parent when W > 1) in a temporary directory, the setup of
:mod:`bench.subscriptions` (namespace ``bench``, Broker ``default``, ten EventTypes) and N
subscribers running its :data:`~bench.subscriptions.QUERY`. The subscribers are held by
several load generator processes (:mod:`bench.subscription_load`, each from a loopback address
of its own, so neither one process's CPU nor one address's ephemeral ports limit them); this
process and its children get the open-file hard limit as their soft limit.

Figures for each (N, W):

1. **Held**: connect time (every generator connecting at once), subscribers acknowledged and
   live (they received the warm-up flip), and how the kernel spread the connections (open
   file descriptors each worker gained).
2. **Memory**: the sum of the serving processes' ``VmRSS`` (W = 1: the one process; W > 1: the
   workers, not the parent) before connecting and with N idle subscribers, per subscriber.
3. **One flip**: p50 / p99 / max from the Broker status patch to each client's receipt of each
   of its ten readiness events, pooled over ``flips`` flips (as in bench/subscriptions.py).
4. **Flips per second**: the flips are sent one after another, each once every client has
   every event of the previous one (closed loop); flips per second is one over the mean time
   from a patch to its last reception: the rate at which the registry delivers every flip to
   every subscriber, at the p99 shown beside it. The workers' CPU per flip is beside it.

A configuration that cannot hold N on this machine (one process may open as many files as the
hard limit allows, ``ulimit -Hn``: 20,000 here) is not run; when no compared configuration
can, the bench runs the fewest workers that can (so 50,000 idle subscribers are held across
``ceil(50,000 / per-process limit)`` workers) and says so.

Targets (issue 16): at 10,000, W workers deliver at least 1.6x the flips per second of one
process, or their p99 is at most 200 ms. On this 2-core machine the load generators compete
with the workers for the same cores: the CPU row says how much each side used.

``--quick`` (sizes 200 and 1,000, two generators) takes about a minute; the full run (1,000 /
10,000 / 50,000) several. Results: ``bench/results/workers.json`` and a ``Workers`` section in
``bench/README.md`` (full mode only, unless ``--output`` is given).
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
import textwrap
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bench import reporting
from bench.subscriptions import (
    DEFAULT_BROKER,
    DEFAULT_PREFIX,
    DEFAULT_TYPES,
    QUERY,
    Generator,
    Latencies,
    Plane,
    Server,
    code_fingerprint,
    cpu_seconds,
    fmt_ms,
    parse_sizes,
    progress,
    raise_fd_limit,
    rss_kb,
    setup,
)

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results" / "workers.json"
README = REPO / "bench" / "README.md"
FD_RESERVE = 1_000  # files a serving process or generator opens besides client connections
PER_GENERATOR = 12_000  # connections one generator holds at most
TARGET_SIZE = 10_000
TARGET_RATIO = 1.6
TARGET_P99_MS = 200.0


@dataclass(frozen=True)
class Scale:
    sizes: tuple[int, ...]
    workers: int  # compared with 1
    flips: int
    min_generators: int
    connect_timeout: float
    collect_timeout: float


FULL = Scale(
    sizes=(1_000, 10_000, 50_000),
    workers=2,
    flips=10,
    min_generators=2,
    connect_timeout=300.0,
    collect_timeout=120.0,
)
QUICK = Scale(
    sizes=(200, 1_000),
    workers=2,
    flips=5,
    min_generators=2,
    connect_timeout=60.0,
    collect_timeout=30.0,
)


# planning ------------------------------------------------------------------------------------


def per_process_limit(fd_limit: int) -> int:
    """Client connections one process can hold with ``fd_limit`` open files."""
    return fd_limit - FD_RESERVE


def configurations(size: int, compared: Sequence[int], fd_limit: int) -> tuple[list[int], str]:
    """The worker counts run at ``size``: those of ``compared`` whose workers can each hold
    their share, else the fewest that can; and a note on what was left out."""
    room = per_process_limit(fd_limit)
    fitting = [w for w in compared if math.ceil(size / w) <= room]
    left_out = [w for w in compared if w not in fitting]
    note = ""
    if left_out:
        note = (
            f"{', '.join(map(str, left_out))} worker(s) not run: {size:,} connections exceed "
            f"{room:,} per process (open-file limit {fd_limit:,})"
        )
    if not fitting:
        fitting = [math.ceil(size / room)]
    return fitting, note


def generators_for(size: int, minimum: int, fd_limit: int) -> int:
    return max(minimum, math.ceil(size / min(PER_GENERATOR, per_process_limit(fd_limit))))


def shares(total: int, parts: int) -> list[int]:
    """``total`` split into ``parts`` as evenly as whole numbers allow."""
    return [total // parts + (1 if index < total % parts else 0) for index in range(parts)]


# processes -----------------------------------------------------------------------------------


def children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return sorted(int(child) for child in text.split())


def open_files(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def registry(directory: Path, workers: int) -> Server:
    data = directory / "data"
    data.mkdir(parents=True, exist_ok=True)
    args = [
        sys.executable,
        "-m",
        "event_registry",
        "serve",
        "--cluster",
        "embedded",
        "--workers",
        str(workers),
        "--port",
        "0",
        "--controlplane-port",
        "0",
        "--ingress-port",
        "0",
        "--data-dir",
        str(data),
        "--log-level",
        "warning",
        # Each generator is one caller (a remote address) holding thousands of connections;
        # budgets hold per worker, so they are raised to what one process may open.
        "--max-connections",
        "100000",
        "--max-connections-per-caller",
        "100000",
        "--max-subscriptions-per-caller",
        "100000",
        "--connection-rate-per-caller",
        "0",
    ]
    return Server("registry", args, directory / "registry.log")


@dataclass
class Running:
    server: Server
    plane: Plane
    serving: list[int]  # the processes holding connections: the workers, or the one process


@contextlib.asynccontextmanager
async def running(
    session: aiohttp.ClientSession, directory: Path, workers: int
) -> AsyncIterator[Running]:
    server = registry(directory, workers).start(timeout=120)
    try:
        await server.wait_listening(session, "/readyz")
        plane = Plane(directory / "data" / "kubeconfig", session)
        await setup(plane, server, 0)
        serving = children(server.pid) if workers > 1 else [server.pid]
        if len(serving) != workers:
            raise RuntimeError(f"{len(serving)} workers running, {workers} expected")
        yield Running(server, plane, serving)
    finally:
        server.stop()


class Generators:
    """Several load generator processes driven together."""

    def __init__(self, count: int) -> None:
        self.all = [Generator() for _ in range(count)]

    async def start(self) -> Generators:
        await asyncio.gather(*(g.start() for g in self.all))
        return self

    async def stop(self) -> None:
        await asyncio.gather(*(g.stop() for g in self.all), return_exceptions=True)

    async def call(self, command: str, wait: float, **arguments: Any) -> list[dict[str, Any]]:
        return list(await asyncio.gather(*(g.call(command, wait, **arguments) for g in self.all)))

    async def connect(self, url: str, count: int, timeout: float) -> dict[str, Any]:
        began = time.monotonic()
        replies = await asyncio.gather(
            *(
                generator.call(
                    "connect",
                    timeout,
                    url=url,
                    count=part,
                    query=QUERY,
                    timeout=timeout,
                    source=f"127.0.0.{2 + index}",
                )
                for index, (generator, part) in enumerate(
                    zip(self.all, shares(count, len(self.all)), strict=True)
                )
            )
        )
        failures: dict[str, int] = {}
        for reply in replies:
            for key, value in reply["failures"].items():
                failures[key] = failures.get(key, 0) + value
        return {
            "requested": count,
            "seconds": round(time.monotonic() - began, 2),
            "acked": sum(r["acked"] for r in replies),
            "subscribed": sum(r["subscribed"] for r in replies),
            "failures": failures,
            "errors": [e for r in replies for e in r["errors"]][:5],
        }


# flips ---------------------------------------------------------------------------------------


@dataclass
class Flip:
    latencies: list[float]
    missing: int
    server_cpu: float
    generator_cpu: float

    @property
    def completion(self) -> float:
        """Seconds from the patch to the last reception (inf when one never came)."""
        if self.missing or not self.latencies:
            return math.inf
        return max(self.latencies)


async def flip(
    generators: Generators, plane: Plane, serving: Sequence[int], timeout: float
) -> Flip:
    target = not plane.ready[DEFAULT_BROKER]
    await generators.call(
        "arm", 10, consumable=target, prefix=DEFAULT_PREFIX, expected=DEFAULT_TYPES
    )
    cpu_before = sum(cpu_seconds(pid) for pid in serving)
    _, sent = await plane.flip(DEFAULT_BROKER)
    replies = await generators.call("collect", timeout, sent=sent, timeout=timeout)
    server_cpu = sum(cpu_seconds(pid) for pid in serving) - cpu_before
    latencies = [value / 1e6 for reply in replies for value in reply["latencies_us"]]
    expected = sum(reply["expected"] for reply in replies)
    return Flip(
        latencies,
        max(0, expected - len(latencies)),
        server_cpu,
        sum(reply["generator_cpu_seconds"] for reply in replies),
    )


def summary(flips: Sequence[Flip]) -> dict[str, Any]:
    latencies = Latencies()
    for one in flips:
        latencies.add(one.latencies, one.missing)
    completions = [one.completion for one in flips]
    mean = statistics.fmean(completions) if completions else math.inf
    return {
        "flips": len(flips),
        "latency": latencies.summary(),
        "flips_per_second": round(1 / mean, 2) if math.isfinite(mean) and mean > 0 else 0.0,
        "completion_ms": [round(c * 1000, 1) if math.isfinite(c) else None for c in completions],
        "server_cpu_seconds_per_flip": round(statistics.median(f.server_cpu for f in flips), 3),
        "generator_cpu_seconds_per_flip": round(
            statistics.median(f.generator_cpu for f in flips), 3
        ),
    }


async def settled_rss(pids: Sequence[int], seconds: float = 2.0) -> int:
    await asyncio.sleep(seconds)
    return sum(rss_kb(pid) for pid in pids)


# measuring -----------------------------------------------------------------------------------


@dataclass
class Context:
    scale: Scale
    session: aiohttp.ClientSession
    directory: Path
    fd_limit: int
    results: dict[str, Any] = field(default_factory=dict)


async def measure_one(ctx: Context, size: int, workers: int) -> dict[str, Any]:
    scale = ctx.scale
    label = f"N={size:,}, {workers} worker{'s' if workers > 1 else ''}"
    count = generators_for(size, scale.min_generators, ctx.fd_limit)
    generators = await Generators(count).start()
    try:
        async with running(ctx.session, ctx.directory / f"{size}-{workers}", workers) as run:
            files_before = [open_files(pid) for pid in run.serving]
            rss_before = await settled_rss(run.serving)
            progress(f"{label}: connecting from {count} generators")
            held = await generators.connect(run.server.ws_url, size, scale.connect_timeout)
            rss_idle = await settled_rss(run.serving)
            spread = [open_files(pid) - b for pid, b in zip(run.serving, files_before, strict=True)]
            progress(
                f"{label}: {held['subscribed']:,} subscribed in {held['seconds']:.1f} s, "
                f"spread {spread}, RSS {rss_before / 1024:.0f} → {rss_idle / 1024:.0f} MiB"
            )
            warm = await flip(generators, run.plane, run.serving, scale.collect_timeout)
            held["live"] = size - math.ceil(warm.missing / DEFAULT_TYPES)
            flips = []
            for index in range(scale.flips):
                flips.append(await flip(generators, run.plane, run.serving, scale.collect_timeout))
                one = summary(flips[-1:])["latency"]
                progress(
                    f"{label}: flip {index + 1}/{scale.flips} p50 {fmt_ms(one['p50_ms'])}, "
                    f"p99 {fmt_ms(one['p99_ms'])}"
                )
            await generators.call("disconnect", 60)
    finally:
        await generators.stop()
    return {
        "workers": workers,
        "generators": count,
        "held": held,
        "connections_per_worker": spread,
        "rss_kb_before": rss_before,
        "rss_kb_idle": rss_idle,
        "kb_per_idle_subscriber": round((rss_idle - rss_before) / size, 2),
        **summary(flips),
    }


async def measure(scale: Scale, directory: Path, fd_limit: int) -> dict[str, Any]:
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        ctx = Context(scale, session, directory, fd_limit)
        sizes: dict[str, Any] = {}
        for size in scale.sizes:
            counts, note = configurations(size, (1, scale.workers), fd_limit)
            runs = {str(w): await measure_one(ctx, size, w) for w in counts}
            sizes[str(size)] = {"runs": runs, "note": note}
        return {"sizes": sizes}


# report --------------------------------------------------------------------------------------


def cell_held(run: dict[str, Any], size: int) -> str:
    held = run["held"]
    spread = " / ".join(f"{n:,}" for n in run["connections_per_worker"])
    text = f"{held['live']:,}/{size:,} in {held['seconds']:.1f} s"
    return f"{text} ({spread})" if len(run["connections_per_worker"]) > 1 else text


def rows(results: dict[str, Any], compared: int) -> tuple[list[str], list[list[str]]]:
    """The table's header and rows: a figure per row, a worker count per column."""
    counts = sorted({int(w) for size in results["sizes"].values() for w in size["runs"]})
    header = ["Figure", *(f"{w} worker{'s' if w > 1 else ''}" for w in counts), "Target", "Met?"]
    out: list[list[str]] = []
    for size, measured in results["sizes"].items():
        out += size_rows(int(size), measured["runs"], counts, compared)
    return header, out


def size_rows(
    n: int, runs: dict[str, Any], counts: Sequence[int], compared: int
) -> list[list[str]]:
    out: list[list[str]] = []

    def row(figure: str, render: Any, target: str = "-", met: str = "-") -> None:
        values = [render(runs[str(w)]) if str(w) in runs else "n/a" for w in counts]
        out.append([f"N={n:,}: {figure}", *values, target, met])

    live = all(r["held"]["live"] == n for r in runs.values())
    row(
        "live subscribers, connect time (per worker)",
        lambda r: cell_held(r, n),
        f"{n:,} held",
        yes(live),
    )
    row("RSS per idle subscriber (workers' sum)", lambda r: f"{r['kb_per_idle_subscriber']:.1f} KB")
    for stat in ("p50", "p99", "max"):
        row(
            f"Broker patch → readiness event {stat}",
            lambda r, s=stat: fmt_ms(r["latency"][f"{s}_ms"]),
        )
    target, met = "-", "-"
    one, many = runs.get("1"), runs.get(str(compared))
    if n == TARGET_SIZE and one is not None and many is not None:
        ratio = many["flips_per_second"] / one["flips_per_second"]
        p99 = many["latency"]["p99_ms"]
        target = f"≥ {TARGET_RATIO}x, or p99 ≤ {TARGET_P99_MS:.0f} ms (x{ratio:.2f})"
        met = yes(ratio >= TARGET_RATIO or (p99 is not None and p99 <= TARGET_P99_MS))
    row("flips per second, closed loop", lambda r: f"{r['flips_per_second']:.2f}", target, met)
    row(
        "CPU per flip, workers / generators",
        lambda r: (
            f"{r['server_cpu_seconds_per_flip']:.2f} s / "
            f"{r['generator_cpu_seconds_per_flip']:.2f} s"
        ),
    )
    return out


def yes(value: bool) -> str:
    return "yes" if value else "NO"


def table(header: list[str], body: list[list[str]]) -> str:
    cells = [header, *body]
    widths = [max(len(row[c]) for row in cells) for c in range(len(header))]
    lines = [
        "| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) + " |"
        for row in cells
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def notes(results: dict[str, Any]) -> list[str]:
    return [size["note"] for size in results["sizes"].values() if size["note"]]


def update_readme(path: Path, info: dict[str, Any], text: str, left_out: list[str]) -> None:
    paragraphs = [
        "`.venv/bin/python -m bench.workers` (`--quick` for a short run): the same subscribers "
        "and Broker flips as in Subscriptions, served by one process and by `serve --workers "
        f"{info['compared']}` in the same run (see the module docstring of `bench/workers.py`). "
        "The subscribers are held by several load generator processes, each from a loopback "
        "address of its own. Flips per second: one flip after another, each once every client "
        "has every event of the previous one; one over the mean time from a patch to its last "
        "reception.",
        "Reading the figures: the workers and the load generators share the machine's "
        f"{info['nproc']} cores, so where the generators' CPU per flip is as large as the "
        "workers', the latencies partly measure the generators, and a flip cannot complete "
        "faster than the workers' and the generators' CPU per flip together spread over the "
        "cores: that bounds the gain more workers can show here. Connect time is for all "
        "generators connecting at once; the numbers in brackets are the connections each "
        "worker got (the kernel's SO_REUSEPORT hash).",
        f"Measured {info['date']}, {info['nproc']} cores, Python {info['python']}, "
        f"{info['duration_seconds']} s, open-file limit {info['fd_limit']:,}, server code "
        f"{info['server_code']['sha256']}; full figures in `bench/results/workers.json`.",
    ]
    wrapped = [textwrap.fill(paragraph, 100) for paragraph in paragraphs]
    commands = (
        "```sh\n"
        ".venv/bin/python -m bench.workers          # 1,000 / 10,000 / 50,000 subscribers\n"
        ".venv/bin/python -m bench.workers --quick  # 200 and 1,000, about a minute\n"
        "```"
    )
    parts = ["## Workers", wrapped[0], commands, *wrapped[1:], text]
    parts += [textwrap.fill(f"Not run: {note}.", 100) for note in left_out]
    reporting.replace_section(path, "## Workers", "\n\n".join(parts) + "\n")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="sizes 200 and 1,000")
    parser.add_argument("--subscribers", type=parse_sizes, help="sizes, e.g. 1000,10000,50000")
    parser.add_argument("--workers", type=int, help="workers compared with one process (2)")
    parser.add_argument("--flips", type=int, help="measured flips per configuration")
    parser.add_argument(
        "--output",
        type=Path,
        help="JSON results (default: bench/results/workers.json and the README section; none "
        "with --quick, so a quick check never replaces the full figures)",
    )
    args = parser.parse_args(argv)
    scale = QUICK if args.quick else FULL
    overrides = {
        key: value
        for key, value in (
            ("sizes", args.subscribers),
            ("workers", args.workers),
            ("flips", args.flips),
        )
        if value
    }
    scale = Scale(**{**asdict(scale), **overrides})
    output: Path | None = args.output or (None if args.quick else RESULTS)
    fd_limit = raise_fd_limit()
    info = reporting.machine(kubectl=False)
    info.update(
        compared=scale.workers, flips=scale.flips, fd_limit=fd_limit, server_code=code_fingerprint()
    )
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-workers-") as directory:
        results = asyncio.run(measure(scale, Path(directory), fd_limit))
    info["loadavg_at_end"] = list(os.getloadavg())
    info["duration_seconds"] = round(time.monotonic() - began, 1)
    text = table(*rows(results, scale.workers))
    print(
        f"workers benchmark, {info['date']}, {info['nproc']} cores, Python {info['python']}, "
        f"{info['duration_seconds']} s"
    )
    print(text)
    for note in notes(results):
        print(f"not run: {note}")
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        document = {"machine": info, "scale": asdict(scale), "query": QUERY, **results}
        output.write_text(json.dumps(document, indent=2) + "\n")
        print(f"results: {output}")
        if output == RESULTS:
            update_readme(README, info, text, notes(results))
            print(f"README section: {README}")


if __name__ == "__main__":
    main()
