"""Many objects into the embedded control plane at once, over plain HTTP.

The embedded control plane's kubeconfig names an ``http://127.0.0.1:PORT`` server and a bearer
token; :func:`create_all` POSTs documents to it from a few threads, each on its own kept-alive
connection (thousands of ``kubectl create`` runs would take minutes). :func:`patch_status`
merge-patches an object's status subresource, the way a controller (or ``kubectl patch
--subresource=status``) writes readiness, without starting a kubectl process.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

PLURALS = {"EventType": "eventtypes", "Broker": "brokers", "Trigger": "triggers"}


@dataclass(frozen=True)
class ControlPlane:
    host: str
    port: int
    token: str

    @classmethod
    def from_kubeconfig(cls, path: Path) -> ControlPlane:
        config = yaml.safe_load(path.read_text())
        server = urlsplit(config["clusters"][0]["cluster"]["server"])
        if server.scheme != "http" or not server.hostname or not server.port:
            raise ValueError(f"not the embedded control plane's plain HTTP server: {server}")
        return cls(server.hostname, server.port, config["users"][0]["user"]["token"])

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=60)

    def send(
        self,
        connection: http.client.HTTPConnection,
        method: str,
        path: str,
        body: Mapping[str, Any],
        content_type: str = "application/json",
    ) -> tuple[int, bytes]:
        headers = {"authorization": f"Bearer {self.token}", "content-type": content_type}
        connection.request(method, path, body=json.dumps(body).encode(), headers=headers)
        response = connection.getresponse()
        return response.status, response.read()


def collection_path(document: Mapping[str, Any]) -> str:
    """The API path that creates ``document`` (Namespaces and Knative kinds)."""
    if document["kind"] == "Namespace":
        return "/api/v1/namespaces"
    namespace = document["metadata"]["namespace"]
    return f"/apis/{document['apiVersion']}/namespaces/{namespace}/{PLURALS[document['kind']]}"


def create_all(kubeconfig: Path, documents: Iterable[Mapping[str, Any]], threads: int = 8) -> int:
    """Create every document (failing on any answer but 201); how many were created."""
    plane = ControlPlane.from_kubeconfig(kubeconfig)
    local = threading.local()
    connections: list[http.client.HTTPConnection] = []

    def create(document: Mapping[str, Any]) -> None:
        if not hasattr(local, "connection"):
            local.connection = plane.connection()
            connections.append(local.connection)
        status, body = plane.send(local.connection, "POST", collection_path(document), document)
        assert status == 201, f"{status}: {body[:500]!r}"

    try:
        with ThreadPoolExecutor(threads) as pool:
            return sum(1 for _ in pool.map(create, documents))
    finally:
        for connection in connections:
            connection.close()


def patch_status(kubeconfig: Path, document_path: str, status: Mapping[str, Any]) -> None:
    """Merge-patch ``{"status": status}`` into the status subresource at ``document_path``."""
    plane = ControlPlane.from_kubeconfig(kubeconfig)
    connection = plane.connection()
    try:
        code, body = plane.send(
            connection,
            "PATCH",
            f"{document_path}/status",
            {"status": dict(status)},
            "application/merge-patch+json",
        )
    finally:
        connection.close()
    assert code == 200, f"{code}: {body[:500]!r}"
