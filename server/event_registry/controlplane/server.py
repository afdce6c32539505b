"""The control plane as one embeddable unit: storage, API semantics, collector and HTTP server.

``ControlPlane`` runs inside the caller's event loop (``serve`` embeds it next to the
registry) or alone (``event-registry controlplane``). It listens on loopback unless told
otherwise, and once :meth:`ControlPlane.start` returns it is accepting connections and its
kubeconfig (with the real port, also when asked for port 0) is on disk. The namespaces
``default``, ``kube-system`` and ``kube-public`` always exist, as on a real cluster, and the
Knative Eventing CRDs, admission rules and EventType conversion are installed
(:mod:`.knative`), so the control plane behaves like a cluster running Knative Eventing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import uvicorn

from . import knative
from .api.apiserver import ApiServer, Target
from .api.catalog import Catalog
from .api.collecting import GarbageCollector
from .api.openapi import OpenApi
from .api.resources import NAMESPACES
from .api.watching import Broadcaster
from .http import kubeconfig
from .http.app import Services, create_app
from .machinery import errors
from .storage.sqlite import Storage

log = logging.getLogger(__name__)

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public")


@dataclass(frozen=True)
class ControlPlaneSettings:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8001
    history_limit: int = 100_000
    bookmark_interval: float = 60.0
    watch_queue_limit: int = 10_000
    namespace_grace: float = 1.0


class ControlPlane:
    def __init__(self, settings: ControlPlaneSettings) -> None:
        self.settings = settings
        self.api: ApiServer | None = None
        self.collector: GarbageCollector | None = None
        self._storage: Storage | None = None
        self._server: uvicorn.Server | None = None
        self._broadcaster: Broadcaster | None = None
        self._serving: asyncio.Task[None] | None = None
        self.port = settings.port

    @property
    def url(self) -> str:
        return f"http://{self.settings.host}:{self.port}"

    @property
    def kubeconfig_path(self) -> Path:
        return self.settings.data_dir / "kubeconfig"

    async def start(self) -> None:
        settings = self.settings
        self._storage = Storage(settings.data_dir, history_limit=settings.history_limit)
        catalog = Catalog()
        self.api = api = ApiServer(self._storage, catalog=catalog)
        self._broadcaster = broadcaster = Broadcaster(queue_limit=settings.watch_queue_limit)
        broadcaster.last_revision = self._storage.revision
        api.add_listener(broadcaster.publish)
        self.collector = GarbageCollector(api, namespace_grace=settings.namespace_grace)
        self._ensure_namespaces(api)
        knative.enable(api)
        await self.collector.start()
        # IPPROTO_TCP (not 0) so asyncio sets TCP_NODELAY on accepted connections; with
        # Nagle on, every request after the first on a connection waits ~40 ms for a delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((settings.host, settings.port))
        self.port = sock.getsockname()[1]
        services = Services(
            api=api,
            broadcaster=broadcaster,
            openapi=OpenApi(catalog),
            server_address=f"{settings.host}:{self.port}",
            bookmark_interval=settings.bookmark_interval,
        )
        config = uvicorn.Config(
            create_app(services),
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self._server = _EmbeddedServer(config)
        self._serving = asyncio.create_task(
            self._server.serve(sockets=[sock]), name="controlplane-http"
        )
        while not self._server.started:
            if self._serving.done():
                self._serving.result()
            await asyncio.sleep(0.01)
        kubeconfig.write(self.kubeconfig_path, self.url)
        log.info("control plane listening on %s (kubeconfig %s)", self.url, self.kubeconfig_path)

    def _ensure_namespaces(self, api: ApiServer) -> None:
        for name in SYSTEM_NAMESPACES:
            if api.storage.get(NAMESPACES.key, "", name) is None:
                target = Target(NAMESPACES, "v1")
                with contextlib.suppress(errors.AlreadyExists):
                    api.create(target, {"metadata": {"name": name}})

    async def stop(self) -> None:
        if self._broadcaster is not None:
            self._broadcaster.end_all()
        if self._server is not None:
            self._server.should_exit = True
        if self._serving is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._serving
        if self.collector is not None:
            await self.collector.stop()
        if self._storage is not None:
            self._storage.close()
            self._storage = None

    async def __aenter__(self) -> ControlPlane:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


class _EmbeddedServer(uvicorn.Server):
    """uvicorn without its own signal handling: whoever embeds the control plane decides
    when it stops (and stops its API clients, such as controllers, first)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield
