"""RBAC changes reach the access decisions: any change to a Role, ClusterRole or binding
forgets every cached decision (:meth:`~.kubernetes.KubernetesAuthenticator.invalidate`).

The four RBAC kinds are watched raw (the registry models none of them) by an informer of
their own; the first list of each, and every relist, counts as a change too, so a decision
never outlives a watch that was interrupted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ...cluster import kinds
from ...cluster.client import ClusterClient
from ...cluster.informing import Informer
from ...cluster.raw import RawObjects
from ...store.caching import Cache


class _Changes(RawObjects):
    def __init__(self, changed: Callable[[], None]) -> None:
        super().__init__()
        self._changed = changed

    def apply(self, kind: str, change_type: str, raw: Mapping[str, Any]) -> None:
        super().apply(kind, change_type, raw)
        self._changed()

    def replace(self, kind: str, raws: Iterable[Mapping[str, Any]]) -> None:
        super().replace(kind, raws)
        self._changed()


async def watch_rbac(client: ClusterClient, changed: Callable[[], None]) -> Informer:
    """An informer calling ``changed`` after every change of RBAC (stop it when done)."""
    informer = Informer(client, Cache(), resources=(), raw=_Changes(changed))
    await informer.start()
    for resource in kinds.RBAC_KINDS:
        informer.watch(resource, raw_only=True)
    return informer
