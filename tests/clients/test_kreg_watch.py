"""``kreg watch eventtypes`` as a subprocess (``-o events``: a line per event), against a real
``event-registry serve`` on a fixed port:

- it sees a Broker flip live (the Broker deleted, then created again: its EventType's
  consumable goes False, then True);
- across a dropped connection (a :class:`CuttingProxy` between them) it loses and duplicates
  nothing: its lines after the cut are exactly what a client that never dropped saw;
- across a server restart (same port, same data directory; the new process cannot read the
  old cursors) it reconnects, says RESYNC_REQUIRED, shows the re-queried set once, and goes
  on live.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from event_registry_client import AsyncRegistryClient, EventTypeChange, unwrap
from tests.clients.kreg_support import KREG, CuttingProxy, free_port, kreg_env, run_kreg
from tests.support.registry import RegistryProcess, broker, eventtype

LIVE = "live"
WITHIN = 30.0


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryProcess]:
    base: Path = tmp_path_factory.mktemp("kreg-watch")
    process = RegistryProcess(base / "data", "--port", str(free_port()))
    process.start()
    try:
        process.wait_ready()
        process.kubectl("create", "namespace", LIVE, check=True)
        process.apply(
            broker("default", LIVE), eventtype("flip-a", LIVE, type="dev.flip.a", broker="default")
        )
        yield process
    finally:
        process.stop()


class Watch:
    """``kreg watch eventtypes -n live -o events`` running; its lines as they come."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []

    @classmethod
    async def start(cls, url: str) -> Watch:
        process = await asyncio.create_subprocess_exec(
            KREG,
            "watch",
            "eventtypes",
            "-n",
            LIVE,
            "-o",
            "events",
            env=kreg_env(url),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        return cls(process)

    async def until(self, predicate: Callable[[list[str]], bool], what: str) -> None:
        assert self.process.stdout is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WITHIN
        while not predicate(self.lines):
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"{what} not within {WITHIN}s: {self.lines[-15:]}")
            try:
                line = await asyncio.wait_for(self.process.stdout.readline(), remaining)
            except TimeoutError:
                continue
            if not line:
                raise AssertionError(f"kreg watch ended before {what}: {self.lines[-15:]}")
            self.lines.append(line.decode().rstrip("\n"))

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.terminate()
        await self.process.wait()


def has(prefix: str) -> Callable[[list[str]], bool]:
    return lambda lines: any(line.startswith(prefix) for line in lines)


def count(lines: list[str], prefix: str) -> int:
    return sum(line.startswith(prefix) for line in lines)


@pytest.fixture
async def direct(registry: RegistryProcess) -> AsyncIterator[AsyncRegistryClient]:
    async with AsyncRegistryClient(registry.url) as client:
        yield client


async def register(client: AsyncRegistryClient, *names: str) -> None:
    for name in names:
        unwrap(
            await client.register_event_type(
                LIVE, name=name, type=f"dev.watch.{name}", broker="default"
            )
        )


def line_of(change: EventTypeChange) -> str:
    et = change.event_type
    assert et is not None
    return (
        f"{change.kind} {et.key} ready={'Unknown' if et.ready is None else et.ready} "
        f"consumable={et.consumable} reason={et.reason or ''}"
    )


async def test_watch_sees_a_broker_flip_and_survives_a_dropped_connection(
    registry: RegistryProcess, direct: AsyncRegistryClient
) -> None:
    proxy = await CuttingProxy(registry.url).start()
    watch = await Watch.start(proxy.url)
    steady: list[EventTypeChange] = []

    async def follow() -> None:
        async for event in direct.event_type_changes(LIVE):
            if isinstance(event, EventTypeChange):
                steady.append(event)

    steady_task = asyncio.get_running_loop().create_task(follow())
    try:
        await watch.until(has("INITIAL_SET_COMPLETE"), "the initial set")
        assert watch.lines[:2] == [
            "EXISTING live/flip-a ready=True consumable=True reason=",
            "INITIAL_SET_COMPLETE",
        ]
        marker = len(watch.lines)

        deleted = await asyncio.to_thread(
            run_kreg, "delete", "broker", "default", "-n", LIVE, url=registry.url
        )
        assert deleted.returncode == 0, deleted.stderr
        await watch.until(has("UPDATED live/flip-a ready=True consumable=False"), "the flip")
        created = await asyncio.to_thread(
            run_kreg, "create", "broker", "default", "-n", LIVE, url=registry.url
        )
        assert created.returncode == 0, created.stderr
        await watch.until(
            lambda lines: any(
                line.startswith("UPDATED live/flip-a") and "consumable=True" in line
                for line in lines[marker:]
            ),
            "the flip back",
        )

        proxy.cut(stay_down=True)
        await watch.until(has("RECONNECTING"), "a reconnect")
        await register(direct, "cut-1", "cut-2")
        proxy.up()
        await register(direct, "after-cut")
        await watch.until(
            lambda lines: any(
                line.startswith("UPDATED live/after-cut ready=True") for line in lines
            ),
            "after-cut's status",
        )
        for _ in range(int(WITHIN / 0.05)):
            if any(
                c.event_type and c.event_type.name == "after-cut" and c.event_type.ready
                for c in steady
            ):
                break
            await asyncio.sleep(0.05)
    finally:
        steady_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await steady_task
        await watch.stop()
        await proxy.close()

    events = [line for line in watch.lines[marker:] if not line.startswith("RECONNECTING")]
    assert not [line for line in events if line.startswith("RESYNC_REQUIRED")]
    assert events == [line_of(change) for change in steady]
    for name in ("cut-1", "cut-2", "after-cut"):
        assert count(events, f"ADDED live/{name} ") == 1


async def test_watch_survives_a_server_restart(
    registry: RegistryProcess, direct: AsyncRegistryClient
) -> None:
    watch = await Watch.start(registry.url)
    try:
        await watch.until(has("INITIAL_SET_COMPLETE"), "the initial set")
        before = {line.split()[1] for line in watch.lines if line.startswith("EXISTING")}
        assert "live/flip-a" in before
        await asyncio.to_thread(registry.stop)
        await watch.until(has("RECONNECTING"), "a reconnect")
        await asyncio.to_thread(registry.start)
        await asyncio.to_thread(registry.wait_ready)
        await watch.until(
            lambda lines: count(lines, "INITIAL_SET_COMPLETE") == 2, "the re-queried set"
        )
        async with AsyncRegistryClient(registry.url) as after_restart:
            await register(after_restart, "after-restart")
        await watch.until(has("ADDED live/after-restart "), "a change after the restart")
    finally:
        await watch.stop()

    lines = [line for line in watch.lines if not line.startswith("RECONNECTING")]
    first_marker = lines.index("INITIAL_SET_COMPLETE")
    resync = next(i for i, line in enumerate(lines) if line.startswith("RESYNC_REQUIRED"))
    assert resync == first_marker + 1, lines
    second_marker = lines.index("INITIAL_SET_COMPLETE", resync)
    requeried = [line.split()[1] for line in lines[resync + 1 : second_marker]]
    assert all(line.startswith("EXISTING ") for line in lines[resync + 1 : second_marker])
    assert len(requeried) == len(set(requeried))
    assert set(requeried) == before
    assert count(lines, "ADDED live/after-restart ") == 1
