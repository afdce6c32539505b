"""The write side as the GraphQL layer sees it: an interface, implemented by the app.

Mutations depend on this protocol, not on the cluster client, so ``graphql/`` never imports
the cluster layer. The implementation must raise :class:`~..domain.writes.WriteRejected` for
every refusal by the API server and return the object the server stored.
"""

from __future__ import annotations

from typing import Any, Protocol

from ..store.caching import Kind


class ClusterWrites(Protocol):
    timeout: float
    """How long a mutation waits for the cache to observe its write."""

    async def create(self, kind: Kind, namespace: str, manifest: dict[str, Any]) -> dict[str, Any]:
        """Create the object; returns it as stored (with name and resourceVersion)."""

    async def delete(self, kind: Kind, namespace: str, name: str) -> None:
        """Delete the object (background propagation)."""


class CacheLagged(Exception):
    """The write succeeded but the cache did not observe it in time (readable, not masked)."""
