"""``serve --workers N``: N worker processes serve one port; their parent supervises them.

Guarantees:

- **One port, every worker.** The parent reserves the port (``SO_REUSEPORT``, bound and never
  listening, so a port in use is reported at once and the parent takes no connection); each
  worker listens on it with ``SO_REUSEPORT`` once its cache has synced (or after
  :data:`SYNC_WAIT` seconds, answering 503 on ``/readyz`` until it has). The kernel hashes
  each new connection to one of the listening workers: connections spread evenly, and a
  worker that is down or still listing gets none. A connection stays with its worker for its
  life; connections waiting in a dying worker's accept queue are reset (clients retry).
- **Each worker is a full registry**: its own cluster client, informers, cache, hub, response
  cache and budgets (the cluster's watch is the distribution engine: one watch per kind per
  worker). Limits per caller and in total (``--max-connections`` …) hold per worker.
- **The embedded cluster runs once, in the parent**: control plane, controllers and the Broker
  ingress (``--ingress-port``, served by the parent alone); the workers reach the control plane
  through its kubeconfig as any client does. With a real cluster the parent starts nothing but
  the workers, each connecting as ``serve`` would.
- **One cursor key**: ``--cursor-key-file``, or ``<data dir>/cursor-key`` (64 hex digits,
  mode 0600, created when absent or unusable), so every worker seals and opens the same cursors.
- **Supervision.** A worker that exits before every worker has served once stops it all
  (exit status 1, as a lone ``serve`` that cannot start). Later, a worker that exits is
  started again after :data:`RESTART_DELAY` seconds, doubling while it keeps exiting within
  :data:`STEADY` seconds of its start, at most :data:`MAX_RESTART_DELAY`. SIGTERM or SIGINT
  to the parent: SIGTERM to every worker (each drains and stops as ``serve`` does), SIGKILL to
  those still running :data:`STOP_MARGIN` seconds after ``--drain-timeout``, then the
  embedded cluster stops. Workers run in sessions of their own (a terminal's Ctrl-C reaches
  only the parent) and stop themselves when the parent is gone (their stdin closes), so none
  outlives it.
- **Which worker answered**: every HTTP response carries :data:`WORKER_HEADER`
  (``<index>; pid=<pid>``); ``/metrics`` and ``/readyz`` are the answering worker's own.
- **Logs**: the parent logs one line per worker when it serves and one when it exits; the
  workers log to the same stderr, in the same format (JSON records carry ``worker``, the
  index). ``registry: URL`` is printed once every worker serves.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import os
import pickle
import secrets
import signal
import socket
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

from ..hub import cursors
from ..store.caching import Cache
from . import listening, logs, loops
from .serving import authenticator_for, connection_for, serve, start_embedded
from .settings import ServeSettings

log = logging.getLogger(__name__)

WORKER_HEADER = "X-Registry-Worker"
SYNC_WAIT = 30.0
"""Seconds a worker waits for its cache to sync before it takes its share of the port anyway."""
RESTART_DELAY = 0.5
MAX_RESTART_DELAY = 30.0
STEADY = 10.0
"""A worker that ran this many seconds before exiting is restarted after RESTART_DELAY again."""
STOP_MARGIN = 20.0
"""Seconds a worker may take to stop beyond its drain (informers, client, the process exit)."""
CURSOR_KEY_FILE = "cursor-key"
_ENTRY = "from event_registry.app.workers import worker_main; worker_main()"


@dataclass(frozen=True)
class LogOptions:
    level: str = "info"
    format: logs.LogFormat = "text"
    access_log: bool = False


@dataclass(frozen=True)
class Orders:
    """What a worker process is told on its stdin (pickled): all it needs to serve."""

    index: int
    settings: ServeSettings
    kubeconfig: Path | None
    log: LogOptions


# pure steps ----------------------------------------------------------------------------------


def restart_delay(lived: float, previous: float) -> float:
    """Seconds before a worker that ran ``lived`` seconds is started again, the last delay
    of its slot having been ``previous``."""
    if lived >= STEADY:
        return RESTART_DELAY
    return min(MAX_RESTART_DELAY, max(RESTART_DELAY, previous * 2))


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with status {returncode}"


def worker_header(index: int, pid: int) -> tuple[str, str]:
    return WORKER_HEADER, f"{index}; pid={pid}"


def cursor_key_file(settings: ServeSettings) -> Path:
    """The secret every worker seals cursors with: ``--cursor-key-file``, or the data dir's
    own (created, or replaced when unusable, atomically)."""
    if settings.cursor_key_file is not None:
        return settings.cursor_key_file
    path = settings.data_dir / CURSOR_KEY_FILE
    with contextlib.suppress(OSError, ValueError):
        cursors.key_from_secret(path.read_bytes())
        return path
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{CURSOR_KEY_FILE}.{os.getpid()}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(secrets.token_hex(32) + "\n")
    os.replace(draft, path)
    return path


# the parent ----------------------------------------------------------------------------------


async def supervise(settings: ServeSettings, log_options: LogOptions) -> None:
    """Run ``settings.workers`` workers on one port until SIGTERM or SIGINT."""
    connection = connection_for(settings)
    authenticator_for(settings)  # a bad tokens file fails once, here
    try:
        key_file = cursor_key_file(settings)
    except OSError as error:
        raise SystemExit(
            f"error: cannot write a cursor key in {settings.data_dir} ({error.strerror}); "
            "give one with --cursor-key-file"
        ) from error
    log.info(
        "registry backend: %s; auth mode: %s; %d workers",
        connection.describe(),
        settings.auth.mode,
        settings.workers,
    )
    async with contextlib.AsyncExitStack() as stack:
        reservation = listening.reserve(settings.host, settings.port, flag="--port")
        stack.callback(reservation.close)
        port: int = reservation.getsockname()[1]
        kubeconfig = None
        if connection.mode == "embedded":
            kubeconfig = await start_embedded(stack, settings)
        shared = replace(settings, port=port, cursor_key_file=key_file)

        def announce() -> None:
            log.info("GraphQL and GraphiQL at http://%s:%d/graphql", settings.host, port)
            print(f"registry: http://{settings.host}:{port}/graphql", flush=True)

        workers = Workers(
            [Orders(index, shared, kubeconfig, log_options) for index in range(settings.workers)],
            announce=announce,
        )
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stopping.set)
            stack.callback(loop.remove_signal_handler, signum)
        stack.push_async_callback(workers.stop, settings.drain_timeout + STOP_MARGIN)
        workers.start()
        stop = asyncio.create_task(stopping.wait())
        ends: list[asyncio.Future[Any]] = [stop, workers.failed]
        await asyncio.wait(ends, return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        if workers.failed.done():
            raise SystemExit(f"error: {workers.failed.result()} (its log is above)")
        log.info("stopping %d workers", settings.workers)


class Workers:
    """One slot per worker: each keeps a worker process running until :meth:`stop`."""

    def __init__(self, orders: Sequence[Orders], *, announce: Callable[[], None]) -> None:
        self._orders = list(orders)
        self._announce = announce
        self._processes: dict[int, asyncio.subprocess.Process] = {}
        self._served: set[int] = set()
        self._announced = False
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.failed: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        """Set when a worker exits before every worker has served once: at start-up an exit
        is a configuration error (a bad kubeconfig, say), not a crash to ride out."""

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._keep(orders), name=f"worker-{orders.index}")
            for orders in self._orders
        ]

    async def stop(self, grace: float) -> None:
        self._stopping.set()
        for process in self._processes.values():
            _signal(process, signal.SIGTERM)
        if self._tasks:
            _, running = await asyncio.wait(self._tasks, timeout=grace)
            if running:
                for process in self._processes.values():
                    _signal(process, signal.SIGKILL)
                await asyncio.wait(running)

    async def _keep(self, orders: Orders) -> None:
        loop = asyncio.get_running_loop()
        delay = 0.0
        while not self._stopping.is_set():
            began = loop.time()
            process = await self._spawn(orders)
            self._processes[orders.index] = process
            if self._stopping.is_set():  # stop() came while it was being started
                _signal(process, signal.SIGTERM)
            await self._follow(orders.index, process)
            returncode = await process.wait()
            if self._stopping.is_set():
                return
            if not self._announced:
                what = f"worker {orders.index} (pid {process.pid}) {describe_exit(returncode)}"
                if not self.failed.done():
                    self.failed.set_result(f"{what} before every worker served")
                return
            delay = restart_delay(loop.time() - began, delay)
            log.warning(
                "worker %d (pid %d) %s; starting it again in %.1f s",
                orders.index,
                process.pid,
                describe_exit(returncode),
                delay,
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)

    async def _spawn(self, orders: Orders) -> asyncio.subprocess.Process:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _ENTRY,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
        assert process.stdin is not None
        # Kept open: its end (the parent gone) tells the worker to stop.
        process.stdin.write(base64.b64encode(pickle.dumps(orders)) + b"\n")
        await process.stdin.drain()
        return process

    async def _follow(self, index: int, process: asyncio.subprocess.Process) -> None:
        """Read the worker's reports (``serving <port>``) until it closes its end."""
        assert process.stdout is not None
        while line := await process.stdout.readline():
            words = line.decode(errors="replace").split()
            if words[:1] == ["serving"] and len(words) == 2:
                log.info(
                    "worker %d (pid %d) serves http://%s:%s/graphql",
                    index,
                    process.pid,
                    self._orders[index].settings.host,
                    words[1],
                )
                self._served.add(index)
                if not self._announced and len(self._served) == len(self._orders):
                    self._announced = True
                    self._announce()


def _signal(process: asyncio.subprocess.Process, signum: signal.Signals) -> None:
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signum)


# a worker ------------------------------------------------------------------------------------


class WorkerSeat:
    """A worker's place (:class:`.serving.Seat`): the parent's control plane, its share of the
    port once its cache has synced, and its reports to the parent."""

    def __init__(self, orders: Orders, reports: IO[str]) -> None:
        self.kubeconfig = orders.kubeconfig
        self.headers = [worker_header(orders.index, os.getpid())]
        self._host = orders.settings.host
        self._port = orders.settings.port
        self._reports = reports

    async def listen(self, cache: Cache) -> socket.socket:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(SYNC_WAIT):
                await cache.wait_synced()
        return listening.listen(self._host, self._port, flag="--port", reuse_port=True)

    def serving(self, port: int) -> None:
        self._reports.write(f"serving {port}\n")
        self._reports.flush()


class WorkerTag(logging.Filter):
    """Binds ``worker`` (the index) to each record: a field of its own in JSON logs."""

    def __init__(self, index: int) -> None:
        super().__init__()
        self.index = index

    def filter(self, record: logging.LogRecord) -> bool:
        record.worker = self.index
        return True


def worker_main() -> None:
    """A worker process: its :class:`Orders` on the first line of stdin, reports to the
    parent on stdout (what else would print there goes to stderr)."""
    orders: Orders = pickle.loads(base64.b64decode(sys.stdin.buffer.readline()))
    reports = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    logs.configure(orders.log.level, orders.log.format, access_log=orders.log.access_log)
    for handler in logging.getLogger().handlers:
        handler.addFilter(WorkerTag(orders.index))
    with contextlib.suppress(KeyboardInterrupt):
        loops.run(_work(orders, WorkerSeat(orders, reports)))


async def _work(orders: Orders, seat: WorkerSeat) -> None:
    loop = asyncio.get_running_loop()

    def orphaned() -> None:  # stdin is readable only at its end: the parent is gone
        loop.remove_reader(0)
        log.warning("worker %d: the parent is gone; stopping", orders.index)
        os.kill(os.getpid(), signal.SIGTERM)

    loop.add_reader(0, orphaned)
    await serve(orders.settings, seat=seat)
