"""Choosing and opening the connection to a Kubernetes API.

Order, first match wins: an explicit ``--kubeconfig``/``--context``; in-cluster
service-account credentials (when running in a pod); the user's ``KUBECONFIG`` or
``~/.kube/config`` only when asked for with ``--cluster=kubeconfig`` (so a laptop with a
stray kubeconfig never silently talks to a production cluster); otherwise the embedded
control plane. :func:`choose` is pure; :func:`open_client` does the I/O and returns the
:class:`~.client.ClusterClient` everyone then shares.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from kubernetes_asyncio import config
from kubernetes_asyncio.client import ApiClient, Configuration

from .client import ClusterClient

Mode = Literal["kubeconfig", "in-cluster", "embedded"]
ClusterOption = Literal["auto", "kubeconfig", "in-cluster", "embedded"]
SERVICE_ACCOUNT_TOKEN = Path("/var/run/secrets/kubernetes.io/serviceaccount/token")


@dataclass(frozen=True)
class Connection:
    mode: Mode
    kubeconfig: Path | None = None
    context: str | None = None

    def describe(self) -> str:
        if self.mode == "kubeconfig":
            context = f", context {self.context}" if self.context else ""
            return f"cluster from kubeconfig {self.kubeconfig}{context}"
        if self.mode == "in-cluster":
            return "in-cluster service account"
        return "embedded control plane"


def _default_kubeconfig(environ: Mapping[str, str], home: Path) -> Path:
    configured = environ.get("KUBECONFIG", "")
    first = configured.split(os.pathsep)[0] if configured else ""
    return Path(first) if first else home / ".kube" / "config"


def choose(
    *,
    kubeconfig: Path | None,
    context: str | None,
    cluster: ClusterOption,
    environ: Mapping[str, str],
    home: Path,
    token_file: Path = SERVICE_ACCOUNT_TOKEN,
) -> Connection:
    if kubeconfig is not None or context is not None:
        return Connection("kubeconfig", kubeconfig or _default_kubeconfig(environ, home), context)
    if cluster == "kubeconfig":
        return Connection("kubeconfig", _default_kubeconfig(environ, home))
    if cluster == "in-cluster" or (
        cluster == "auto" and environ.get("KUBERNETES_SERVICE_HOST") and token_file.exists()
    ):
        return Connection("in-cluster")
    return Connection("embedded")


async def open_client(
    connection: Connection, *, embedded_kubeconfig: Path | None = None
) -> ClusterClient:
    """The client of the connection (the embedded one needs its kubeconfig path)."""
    configuration = Configuration()
    if connection.mode == "in-cluster":
        config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
    else:
        path = connection.kubeconfig if connection.mode == "kubeconfig" else embedded_kubeconfig
        if path is None:
            raise ValueError("the embedded control plane's kubeconfig path is required")
        await config.load_kube_config(
            config_file=str(path), context=connection.context, client_configuration=configuration
        )
    return ClusterClient(ApiClient(configuration))
