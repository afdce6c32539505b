"""The embedded cluster: the control plane plus the controllers that make it act like Knative.

``event-registry controlplane`` runs this alone; ``serve`` runs it next to the registry when
no cluster is configured. The controllers reach the control plane only over HTTP through its
kubeconfig, with a cluster client of their own, exactly as they would reach a real cluster.

With access control on, the registry does not use that (admin) kubeconfig:
:meth:`EmbeddedCluster.registry_kubeconfig` gives it an account of its own in
``kube-system`` with only the rights it needs (:mod:`.cluster.registry_role`), and a
kubeconfig carrying that account's token.
"""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path
from types import TracebackType

import yaml

from .cluster.client import ClusterClient
from .cluster.connecting import Connection, open_client
from .cluster.provisioning import registry_token
from .cluster.recording import EventRecorder
from .controllers.readiness import ReadinessController
from .controllers.registrar import SourceRegistrar
from .controlplane.server import ControlPlane, ControlPlaneSettings
from .ingress.limits import IngressSettings
from .ingress.serving import Ingress, base_url

log = logging.getLogger(__name__)


class EmbeddedCluster:
    def __init__(
        self,
        settings: ControlPlaneSettings,
        *,
        controllers: bool = True,
        ingress_socket: socket.socket | None = None,
        ingress: IngressSettings | None = None,
    ) -> None:
        """``ingress_socket``: bound by the caller (who reports a taken port); the Broker
        ingress serves on it while the controllers run, and Brokers' addresses point to it."""
        self.plane = ControlPlane(settings)
        self._with_controllers = controllers
        self._ingress_socket = ingress_socket
        self._ingress_settings = ingress
        self.ingress: Ingress | None = None
        self._client: ClusterClient | None = None
        self.readiness: ReadinessController | None = None
        self.registrar: SourceRegistrar | None = None
        self.events: EventRecorder | None = None
        """The controllers' Kubernetes Events (readiness changes, registered EventTypes)."""

    async def start(self) -> None:
        await self.plane.start()
        if not self._with_controllers:
            return
        self._client = await open_client(
            Connection("embedded"), embedded_kubeconfig=self.plane.kubeconfig_path
        )
        sock = self._ingress_socket
        self.events = EventRecorder(self._client)
        await self.events.start()
        self.readiness = ReadinessController(
            self._client, ingress=base_url(sock) if sock is not None else None, events=self.events
        )
        await self.readiness.start()
        # The readiness controller's informer already keeps EventTypes raw: listed once.
        self.registrar = SourceRegistrar(
            self._client, event_types=self.readiness.informer, events=self.events
        )
        await self.registrar.start()
        if sock is not None:
            # The readiness controller's informer already watches Brokers and EventTypes.
            self.ingress = Ingress(self._client, self.readiness.cache, sock, self._ingress_settings)
            await self.ingress.start()

    async def registry_kubeconfig(self, namespace: str = "kube-system") -> Path:
        """A kubeconfig for the registry's own account (see the module's docstring), written
        owner-readable next to the admin one; needs the controllers' (admin) client."""
        if self._client is None:
            raise RuntimeError("the embedded cluster runs without its admin client")
        token = await registry_token(self._client, namespace)
        admin = self.plane.kubeconfig_path
        config = yaml.safe_load(admin.read_text())
        for user in config["users"]:
            user["user"] = {"token": token}
        path = admin.with_name("registry-kubeconfig")
        temporary = path.with_suffix(".tmp")
        temporary.write_text(yaml.safe_dump(config, sort_keys=False))
        os.chmod(temporary, 0o600)
        temporary.replace(path)
        return path

    async def stop(self) -> None:
        if self.ingress is not None:
            await self.ingress.stop()
        elif self._ingress_socket is not None:
            self._ingress_socket.close()
        if self.registrar is not None:
            await self.registrar.stop()
        if self.readiness is not None:
            await self.readiness.stop()
        if self.events is not None:
            await self.events.stop()
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
