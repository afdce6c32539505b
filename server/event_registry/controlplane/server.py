"""The control plane as one embeddable unit: storage, API semantics, collector and HTTP server.

``ControlPlane`` runs inside the caller's event loop (``serve`` embeds it next to the
registry) or alone (``event-registry controlplane``). It listens on loopback unless told
otherwise, and once :meth:`ControlPlane.start` returns it is accepting connections and its
kubeconfig (with the real port, also when asked for port 0) is on disk. The namespaces
``default``, ``kube-system``, ``kube-public``, ``kube-node-lease`` and ``knative-eventing``
always exist and every Namespace carries ``kubernetes.io/metadata.name``, as on a real cluster
(those stored without it get it at start), the ``kubernetes`` Service and Endpoints in
``default`` point at the control plane's address (written at each start), and the
Knative Eventing CRDs, admission rules and EventType conversion are installed
(:mod:`.knative`), so the control plane behaves like a cluster running Knative Eventing.
Events are served in core ``v1`` and ``events.k8s.io/v1`` and expire ``event_ttl`` seconds
after their last write (:mod:`.api.events`, :mod:`.api.expiring`).
Access control (:mod:`.auth`) has the default ClusterRoles and bindings installed; with
``auth`` every request is authenticated and authorized by RBAC, and the kubeconfig carries
the admin token (user ``admin``, group ``system:masters``) and the control plane serves
HTTPS with its own CA (:mod:`.http.certificates`), because kubectl sends tokens only over TLS.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import uvicorn

from . import knative
from .api import core_enabling, events_enabling
from .api.admission import NAMESPACE_NAME_LABEL
from .api.apiserver import ApiServer, Target
from .api.catalog import Catalog
from .api.collecting import GarbageCollector
from .api.expiring import DEFAULT_EVENT_TTL, EventExpiry
from .api.openapi import OpenApi
from .api.resources import NAMESPACES
from .api.watching import Broadcaster
from .auth.control import AccessControl
from .http import certificates, kubeconfig
from .http.app import Services, create_app
from .machinery import errors
from .storage.sqlite import Storage

log = logging.getLogger(__name__)

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


@dataclass(frozen=True)
class ControlPlaneSettings:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8001
    history_limit: int = 100_000
    bookmark_interval: float = 60.0
    watch_queue_limit: int = 10_000
    namespace_grace: float = 1.0
    auth: bool = False
    """Authenticate every request (bearer tokens) and authorize it with RBAC; off: all admin."""
    token_auth_file: Path | None = None
    """kube-apiserver's static token file (``token,user,uid,"g1,g2"``) of extra users."""
    event_ttl: float = DEFAULT_EVENT_TTL
    """Seconds an Event is kept after its last write (kube-apiserver's ``--event-ttl``)."""


class ControlPlane:
    def __init__(self, settings: ControlPlaneSettings) -> None:
        self.settings = settings
        self.api: ApiServer | None = None
        self.collector: GarbageCollector | None = None
        self.expiry: EventExpiry | None = None
        self._storage: Storage | None = None
        self._server: uvicorn.Server | None = None
        self._broadcaster: Broadcaster | None = None
        self.access: AccessControl | None = None
        self._serving: asyncio.Task[None] | None = None
        self.port = settings.port

    @property
    def url(self) -> str:
        scheme = "https" if self.settings.auth else "http"
        return f"{scheme}://{self.settings.host}:{self.port}"

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
        events_enabling.install(api)
        self.expiry = EventExpiry(api, ttl=settings.event_ttl)
        self._ensure_namespaces(api)
        knative.enable(api)
        self.access = access = AccessControl(
            api, settings.data_dir, enabled=settings.auth, token_auth_file=settings.token_auth_file
        )
        await self.collector.start()
        await self.expiry.start()
        # IPPROTO_TCP (not 0) so asyncio sets TCP_NODELAY on accepted connections; with
        # Nagle on, every request after the first on a connection waits ~40 ms for a delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((settings.host, settings.port))
        self.port = sock.getsockname()[1]
        core_enabling.enable(
            api, host=settings.host, port=self.port, scheme="https" if settings.auth else "http"
        )
        services = Services(
            api=api,
            broadcaster=broadcaster,
            openapi=OpenApi(catalog),
            access=access,
            server_address=f"{settings.host}:{self.port}",
            bookmark_interval=settings.bookmark_interval,
        )
        tls = (
            certificates.ensure(settings.data_dir / "pki", settings.host) if settings.auth else None
        )
        config = uvicorn.Config(
            create_app(services),
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
            ssl_certfile=tls.cert_file if tls else None,
            ssl_keyfile=tls.key_file if tls else None,
        )
        self._server = _EmbeddedServer(config)
        self._serving = asyncio.create_task(
            self._server.serve(sockets=[sock]), name="controlplane-http"
        )
        while not self._server.started:
            if self._serving.done():
                self._serving.result()
            await asyncio.sleep(0.01)
        kubeconfig.write(
            self.kubeconfig_path,
            self.url,
            token=access.kubeconfig_token,
            certificate_authority=tls.ca_pem if tls else None,
        )
        log.info("control plane listening on %s (kubeconfig %s)", self.url, self.kubeconfig_path)

    def _ensure_namespaces(self, api: ApiServer) -> None:
        for name in SYSTEM_NAMESPACES:
            if api.storage.get(NAMESPACES.key, "", name) is None:
                target = Target(NAMESPACES, "v1")
                with contextlib.suppress(errors.AlreadyExists):
                    api.create(target, {"metadata": {"name": name}})
        # Namespaces stored by builds before the metadata label get it now (an update sets it)
        for stored in api.storage.items(NAMESPACES.key):
            name = stored["metadata"]["name"]
            if (stored["metadata"].get("labels") or {}).get(NAMESPACE_NAME_LABEL) != name:
                with contextlib.suppress(errors.ApiError):
                    api.update(Target(NAMESPACES, "v1", name=name), copy.deepcopy(stored))

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
        if self.expiry is not None:
            await self.expiry.stop()
        if self.access is not None:
            self.access.close()
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
