"""Starting ``kubernetes`` mode once the cluster client and the cache exist."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from ...cluster.client import ClusterClient
from ...domain import access
from ...store.caching import Cache
from .kubernetes import KubernetesAuthenticator, KubernetesAuthSettings
from .watching import watch_rbac
from .writing import CallerWrites, caller_writes


async def start_kubernetes_mode(
    stack: contextlib.AsyncExitStack,
    client: ClusterClient,
    cache: Cache,
    settings: KubernetesAuthSettings,
    *,
    timeout: float,
) -> tuple[KubernetesAuthenticator, Callable[[access.Principal], CallerWrites | None]]:
    """The authenticator, watching RBAC until ``stack`` closes, and each caller's writes."""
    authenticator = KubernetesAuthenticator(client, lambda: cache.snapshot.namespaces, settings)
    informer = await watch_rbac(client, authenticator.invalidate)
    stack.push_async_callback(informer.stop)
    return authenticator, caller_writes(authenticator, client, timeout=timeout)
