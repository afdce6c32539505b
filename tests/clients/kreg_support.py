"""Helpers for the client and ``kreg`` tests: the console script as a subprocess, a TCP proxy
that can drop every connection, and a free port.

:func:`run_kreg` runs the installed ``kreg`` (the console script beside this interpreter)
with a clean configuration: ``KREG_CONFIG`` points at a file that does not exist unless a test
passes one, so a developer's own ``~/.config/kreg`` never leaks in. :class:`CuttingProxy`
forwards TCP from a loopback port to the registry; :meth:`CuttingProxy.cut` closes every
connection through it and, while ``down``, refuses new ones (accepts and closes them), which
is what a client sees when the network or the server goes away.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from tests.support.controlplane import free_port

__all__ = ["KREG", "CuttingProxy", "free_port", "kreg_env", "run_kreg"]

KREG = str(Path(sys.executable).parent / "kreg")


def kreg_env(
    url: str | None, config: Path | None = None, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("KREG_URL", "KREG_TOKEN", "KREG_NAMESPACE", "KREG_CONFIG")
    }
    env["KREG_CONFIG"] = str(config) if config else "/nonexistent/kreg/config.yaml"
    if url is not None:
        env["KREG_URL"] = url
    env.update(extra or {})
    return env


def run_kreg(
    *args: str,
    url: str | None,
    config: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """``kreg ARGS`` to completion; stdout, stderr and the exit code, never raising."""
    return subprocess.run(
        [KREG, *args],
        capture_output=True,
        text=True,
        env=kreg_env(url, config, env),
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


class CuttingProxy:
    """A loopback TCP proxy to ``target_url``'s host and port, in the running event loop."""

    def __init__(self, target_url: str) -> None:
        parts = urlsplit(target_url)
        self.target_host = parts.hostname or "127.0.0.1"
        self.target_port = parts.port or 80
        self.path = parts.path
        self.down = False
        self.cuts = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> CuttingProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return self

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}{self.path}"

    def retarget(self, target_url: str) -> None:
        parts = urlsplit(target_url)
        self.target_port = parts.port or 80

    def cut(self, *, stay_down: bool = False) -> None:
        """Close every connection now; with ``stay_down``, refuse new ones until :meth:`up`."""
        self.cuts += 1
        self.down = stay_down
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    def up(self) -> None:
        self.down = False

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.down:
            writer.transport.abort()
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(
                self.target_host, self.target_port
            )
        except OSError:
            writer.transport.abort()
            return
        self._writers.update((writer, upstream_writer))
        for source, sink in ((reader, upstream_writer), (upstream_reader, writer)):
            task = asyncio.get_running_loop().create_task(self._pipe(source, sink))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while chunk := await source.read(65536):
                sink.write(chunk)
                await sink.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self._writers.discard(sink)
            sink.transport.abort()
