"""The ingress in the embedded process: uvicorn on a socket the caller bound, the auto-create
flag's reader and the creator, started and stopped together.

The caller binds the socket (so a taken port is reported before anything starts, with the flag
that changes it) and passes the cache of an informer that watches Brokers and EventTypes (the
readiness controller's): the ingress adds no watch of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator

import uvicorn

from ..cluster.client import ClusterClient
from ..store.caching import Cache
from .autocreating import AutoCreator
from .features import AutoCreateFlag
from .http import create_app
from .limits import IngressSettings


def base_url(sock: socket.socket) -> str:
    """``http://<host>:<port>`` of a bound socket; a Broker's address is this plus
    ``/<namespace>/<name>``."""
    host, port = sock.getsockname()[:2]
    return f"http://{host}:{port}" if ":" not in host else f"http://[{host}]:{port}"


class _Server(uvicorn.Server):
    """uvicorn that leaves signals to the process (the embedded cluster stops it)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class Ingress:
    def __init__(
        self,
        client: ClusterClient,
        cache: Cache,
        sock: socket.socket,
        settings: IngressSettings | None = None,
    ) -> None:
        self.settings = settings or IngressSettings()
        self._sock = sock
        self.flag = AutoCreateFlag(client, interval=self.settings.features_interval)
        self.creator = AutoCreator(client, cache, self.settings, enabled=lambda: self.flag.enabled)
        app = create_app(cache, max_event_size=self.settings.max_event_size, seen=self.creator.saw)
        config = uvicorn.Config(
            app, log_level="warning", lifespan="off", access_log=False, timeout_graceful_shutdown=2
        )
        self._server = _Server(config)
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def url(self) -> str:
        return base_url(self._sock)

    async def start(self) -> None:
        self.creator.start()
        self._tasks = [
            asyncio.create_task(self.flag.run(), name="ingress-features"),
            asyncio.create_task(self._server.serve(sockets=[self._sock]), name="ingress-http"),
        ]

    async def stop(self) -> None:
        self._server.should_exit = True
        flag_task, http_task = self._tasks or (None, None)
        if flag_task is not None:
            flag_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flag_task
        if http_task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await http_task
        self._tasks = []
        await self.creator.stop()
        self._sock.close()
