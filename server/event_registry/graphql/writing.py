"""The write side as the GraphQL layer needs it: a port, implemented by the cluster layer.

Mutations depend on this protocol, never on the cluster client, so ``graphql/`` does not
import the cluster layer (``cluster.writing.ClusterWrites`` implements it; the app wires it).
An implementation returns the object as the cluster stored it, and raises a refusal as one
of :class:`~..domain.writes.WriteRejected`'s variants (NotFound, AlreadyExists, Conflict,
Forbidden, Invalid); anything else it raises is a failure of the cluster, not an answer.
"""

from __future__ import annotations

from typing import Any, Protocol

from ..store.caching import Kind


class WritePort(Protocol):
    @property
    def timeout(self) -> float:
        """How long a mutation waits for the cache to observe its write."""

    async def create(self, kind: Kind, namespace: str, manifest: dict[str, Any]) -> dict[str, Any]:
        """Create the object; returns it as stored (with name and resourceVersion)."""

    async def delete(self, kind: Kind, namespace: str, name: str) -> None:
        """Delete the object (background propagation)."""


class CacheLagged(Exception):
    """The write succeeded but the cache did not observe it in time (readable, not masked)."""
