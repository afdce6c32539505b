"""``event-registry serve``: pick the cluster, start the informers, serve HTTP until stopped.

Start-up order: (embedded control plane and its controllers, when no cluster is configured)
→ cluster client → informers → HTTP. The chosen connection mode is logged first thing.
Shutdown (SIGINT/SIGTERM) stops accepting requests, lets in-flight ones finish, then stops
the informers and the embedded cluster.

As one of ``serve --workers N`` (see :mod:`.workers`) the process takes a :class:`Seat`: it
starts no control plane (the parent runs the embedded one and passes its kubeconfig), and it
takes its share of the port from the seat only once its cache has synced (or after a bounded
wait), so a restarted worker never answers from a half-listed cache while the others could.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import socket
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol

import uvicorn

from ..cluster.connecting import Connection, choose, open_client
from ..cluster.informing import Informer
from ..cluster.writing import ClusterWrites
from ..controlplane.server import ControlPlaneSettings
from ..embedded import EmbeddedCluster
from ..graphql.completed import CompletedObjects
from ..hub import cursors
from ..hub.hub import Hub
from ..store.caching import Cache
from . import logs
from .auth import Authenticating, Authenticator
from .auth.starting import start_kubernetes_mode
from .budgets import Budgets
from .draining import Drain
from .http import Runtime, create_app
from .limits import head_limited_protocol
from .listening import listen, port_of
from .live.batching import websocket_protocol
from .settings import ServeSettings

log = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    """uvicorn whose shutdown we trigger: on SIGINT/SIGTERM it drains (:mod:`.draining`: stop
    accepting, ``/readyz`` 503, WebSockets closed with 1001, in-flight requests finished
    within the drain timeout), then ``serve`` stops the informers and the embedded cluster
    (controllers before the control plane)."""

    drain: Drain | None = None

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    def request_exit(self) -> None:
        if self.should_exit:
            self.force_exit = True
        self.should_exit = True
        if self.drain is not None:
            self.drain.started = True  # /readyz says 503 from now on

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()  # accept nothing new while WebSockets are told to go away
        for sock in sockets or []:
            sock.close()
        if self.drain is not None:
            closed = await self.drain.go_away()
            log.info("draining: closed %d WebSocket(s) with 1001 (going away)", closed)
        await super().shutdown(sockets)


async def _settle_memory(cache: Cache) -> None:
    """After the first sync, move everything alive into the GC's permanent generation.

    The cache holds hundreds of thousands of long-lived objects; without this, every full
    collection walks them all and shows up as latency spikes in queries.
    """
    await cache.wait_synced()
    gc.collect()
    gc.freeze()


class Seat(Protocol):
    """Where one of several worker processes serves (implemented in :mod:`.workers`)."""

    @property
    def kubeconfig(self) -> Path | None:
        """The parent's embedded control plane (None: the parent runs none)."""

    @property
    def headers(self) -> Sequence[tuple[str, str]]:
        """Added to every HTTP response: which worker answered."""

    async def listen(self, cache: Cache) -> socket.socket:
        """This worker's listening socket on the shared port, once it can serve."""

    def serving(self, port: int) -> None:
        """Tell the parent this worker serves."""


async def start_embedded(stack: contextlib.AsyncExitStack, settings: ServeSettings) -> Path:
    """Start the embedded control plane, its controllers and Broker ingress (stopped when
    ``stack`` closes); the kubeconfig it wrote. Ports in use raise :class:`PortInUse`."""
    plane = ControlPlaneSettings(
        data_dir=settings.data_dir,
        port=settings.embedded.controlplane_port,
        history_limit=settings.embedded.history_limit,
        auth=settings.auth.kubernetes is not None,
    )
    ingress = settings.embedded.ingress
    ingress_socket = listen(ingress.host, ingress.port, flag="--ingress-port")
    stack.callback(ingress_socket.close)
    embedded = EmbeddedCluster(plane, ingress_socket=ingress_socket, ingress=ingress)
    with port_of(plane.host, plane.port, "--controlplane-port"):
        await stack.enter_async_context(embedded)
    if embedded.ingress is not None:
        log.info("Broker ingress at %s/<namespace>/<broker>", embedded.ingress.url)
    log.info(
        "embedded control plane at %s; kubeconfig for kubectl: %s",
        embedded.plane.url,
        embedded.plane.kubeconfig_path,
    )
    if settings.auth.kubernetes is not None:
        # The registry's own account, with only the rights it needs (not the admin's).
        return await embedded.registry_kubeconfig()
    return embedded.plane.kubeconfig_path


def connection_for(settings: ServeSettings) -> Connection:
    return choose(
        kubeconfig=settings.cluster.kubeconfig,
        context=settings.cluster.context,
        cluster=settings.cluster.cluster,
        environ=os.environ,
        home=Path.home(),
    )


def authenticator_for(settings: ServeSettings) -> Authenticator:
    """The static (open or tokens) authenticator; ``kubernetes`` mode replaces it once the
    cluster client is open (:func:`.auth.starting.start_kubernetes_mode`)."""
    if settings.auth.tokens_file is not None:
        return Authenticator.from_file(settings.auth.tokens_file)
    return Authenticator.open()


def cursor_key_for(settings: ServeSettings) -> bytes | None:
    if settings.cursor_key_file is None:
        return None
    return cursors.key_from_secret(settings.cursor_key_file.read_bytes())


async def serve(
    settings: ServeSettings, *, ready: asyncio.Event | None = None, seat: Seat | None = None
) -> None:
    # Fewer, larger young-generation collections: the cache allocates in bursts (relists).
    gc.set_threshold(50_000, 20, 100)
    connection = connection_for(settings)
    authenticator = authenticator_for(settings)
    cursor_key = cursor_key_for(settings)  # a bad key file fails before anything starts
    log.info("registry backend: %s; auth mode: %s", connection.describe(), settings.auth.mode)
    async with contextlib.AsyncExitStack() as stack:
        embedded_kubeconfig = None
        sock = None
        if seat is None:
            # Bound first: a port in use is reported before anything starts.
            sock = listen(settings.host, settings.port, flag="--port")
            stack.callback(sock.close)
            if connection.mode == "embedded":
                embedded_kubeconfig = await start_embedded(stack, settings)
        elif connection.mode == "embedded":
            embedded_kubeconfig = seat.kubeconfig
        client = await open_client(connection, embedded_kubeconfig=embedded_kubeconfig)
        stack.push_async_callback(client.close)
        cache = Cache()
        hub = Hub(
            cache,
            history=settings.hub_history,
            cursor_key=cursor_key,
            resume_wait=settings.resume_wait,
        )
        informer = Informer(client, cache)
        await informer.start()
        stack.push_async_callback(informer.stop)
        settle = asyncio.create_task(_settle_memory(cache), name="settle-memory")
        stack.callback(settle.cancel)
        services = ClusterWrites(client, timeout=settings.mutation_timeout)
        authenticating: Authenticating = authenticator
        writes_as = None
        if settings.auth.kubernetes is not None:
            authenticating, writes_as = await start_kubernetes_mode(
                stack, client, cache, settings.auth.kubernetes, timeout=settings.mutation_timeout
            )
        completed = (
            CompletedObjects(settings.completed_objects) if settings.completed_objects > 0 else None
        )
        runtime = Runtime(
            cache=cache,
            authenticator=authenticating,
            services=services,
            writes_as=writes_as,
            hub=hub,
            completed=completed,
            limits=settings.query_limits,
            reflectors=informer.reflectors,
        )
        if sock is None:
            assert seat is not None
            sock = await seat.listen(cache)
            stack.callback(sock.close)
        port = sock.getsockname()[1]  # listening already: connections wait from the start
        config = uvicorn.Config(
            create_app(
                runtime,
                settings.live,
                limits=settings.limits,
                budgets=Budgets(settings.budgets),
                origins=settings.origins,
            ),
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=max(1, round(settings.drain_timeout)),
            http=head_limited_protocol(settings.limits),
            ws=websocket_protocol(),
            ws_max_size=settings.limits.ws_max_message_size,
            # Subscription frames are small JSON; per-connection zlib state would cost tens of
            # KB per subscriber and compressing every frame for each of them, CPU per frame.
            ws_per_message_deflate=False,
            headers=list(seat.headers) if seat is not None else None,
        )
        logs.route_uvicorn_logs()  # each uvicorn.Config (the embedded ones too) set its own
        server = _Server(config)
        server.drain = runtime.drain
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, server.request_exit)
            stack.callback(loop.remove_signal_handler, signum)
        if seat is None:
            log.info("GraphQL and GraphiQL at http://%s:%d/graphql", settings.host, port)
            print(f"registry: http://{settings.host}:{port}/graphql", flush=True)
        else:
            seat.serving(port)
        if ready is not None:
            ready.set()
        await server.serve(sockets=[sock])
