"""Every namespace has a ServiceAccount ``default``, as kube-controller-manager's
serviceaccounts controller keeps it.

When a namespace is created, or its ``default`` ServiceAccount deleted while the namespace is
active, the ServiceAccount is (re)created in the next event-loop step, through the ordinary
API; at start every active namespace without one gets it. A terminating or deleted namespace
gets nothing, so namespace deletion still empties it.
"""

from __future__ import annotations

import asyncio
import contextlib

from ..api import access
from ..api.apiserver import NAMESPACES_KEY, ApiServer, Target
from ..machinery import errors
from ..storage.sqlite import Event

DEFAULT = "default"


class DefaultServiceAccounts:
    def __init__(self, api: ApiServer) -> None:
        self._api = api
        api.add_listener(self._observe)

    def start(self) -> None:
        for namespace in self._api.storage.items(NAMESPACES_KEY):
            self._ensure(namespace["metadata"]["name"])

    def _observe(self, event: Event) -> None:
        wanted = (event.resource == NAMESPACES_KEY and event.type == "ADDED") or (
            event.resource == access.SERVICE_ACCOUNTS.key
            and event.type == "DELETED"
            and event.name == DEFAULT
        )
        if wanted:
            namespace = event.name if event.resource == NAMESPACES_KEY else event.namespace
            with contextlib.suppress(RuntimeError):  # no running loop: nothing to keep
                asyncio.get_running_loop().call_soon(self._ensure, namespace)

    def _ensure(self, namespace: str) -> None:
        storage = self._api.storage
        found = storage.get(NAMESPACES_KEY, "", namespace)
        if found is None or found["metadata"].get("deletionTimestamp"):
            return
        if storage.get(access.SERVICE_ACCOUNTS.key, namespace, DEFAULT) is not None:
            return
        target = Target(access.SERVICE_ACCOUNTS, "v1", namespace)
        with contextlib.suppress(errors.AlreadyExists, errors.NotFound, errors.Forbidden):
            self._api.create(target, {"metadata": {"name": DEFAULT}})
