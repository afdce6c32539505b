"""The embedded cluster: the control plane plus the controllers that make it act like Knative.

``event-registry controlplane`` runs this alone; ``serve`` runs it next to the registry when
no cluster is configured. The controllers reach the control plane only over HTTP through its
kubeconfig, with a cluster client of their own, exactly as they would reach a real cluster.
"""

from __future__ import annotations

import logging
from types import TracebackType

from .cluster.client import ClusterClient
from .cluster.connecting import Connection, open_client
from .controllers.readiness import ReadinessController
from .controllers.registrar import SourceRegistrar
from .controlplane.server import ControlPlane, ControlPlaneSettings

log = logging.getLogger(__name__)


class EmbeddedCluster:
    def __init__(self, settings: ControlPlaneSettings, *, controllers: bool = True) -> None:
        self.plane = ControlPlane(settings)
        self._with_controllers = controllers
        self._client: ClusterClient | None = None
        self.readiness: ReadinessController | None = None
        self.registrar: SourceRegistrar | None = None

    async def start(self) -> None:
        await self.plane.start()
        if not self._with_controllers:
            return
        self._client = await open_client(
            Connection("embedded"), embedded_kubeconfig=self.plane.kubeconfig_path
        )
        self.readiness = ReadinessController(self._client)
        await self.readiness.start()
        self.registrar = SourceRegistrar(self._client)
        await self.registrar.start()

    async def stop(self) -> None:
        if self.registrar is not None:
            await self.registrar.stop()
        if self.readiness is not None:
            await self.readiness.stop()
        if self._client is not None:
            await self._client.close()
        await self.plane.stop()

    async def __aenter__(self) -> EmbeddedCluster:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
