"""Garbage collection and namespace termination, driven by committed changes.

The collector plays kube-controller-manager's garbage collector and namespace controller:

- when an owner is deleted, or an object is written whose ownerReferences name an owner
  that does not exist, each dependent whose ownerReferences name no live owner is deleted
  (background propagation); a dependent with another live owner only loses the dangling
  reference;
- ``foregroundDeletion``: the owner keeps a ``deletionTimestamp`` until its dependents are
  gone, then its finalizer is removed and it disappears;
- ``orphan``: dependents lose their reference to the owner, then the owner disappears;
- a deleted namespace stays ``Terminating`` for ``namespace_grace`` seconds (so clients can
  still delete its contents one by one, as ``kubectl delete -f`` does), then its contents are
  deleted and, once none are left, the namespace itself;
- deleting a CRD deletes every object of its resource.

Work is queued by a synchronous listener (so no change is missed) and done by one task
through :class:`~.apiserver.ApiServer`, the same code path as any client's request. After a
restart, pending work is found again by scanning storage.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from ..machinery import errors
from ..storage.sqlite import Event
from .apiserver import CRD_KEY, NAMESPACES_KEY, ApiServer, Target
from .resources import Resource, resource_from_crd

log = logging.getLogger(__name__)

Work = Callable[[], None]


class GarbageCollector:
    def __init__(self, api: ApiServer, *, namespace_grace: float = 1.0) -> None:
        self._api = api
        self._grace = namespace_grace
        self._queue: asyncio.Queue[Work] = asyncio.Queue()
        self._terminating: set[str] = set()
        self._task: asyncio.Task[None] | None = None
        api.add_listener(self._on_event)

    async def start(self) -> None:
        self._resume()
        self._task = asyncio.create_task(self._run(), name="garbage-collector")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def idle(self) -> None:
        """Wait until queued work is done (for tests and orderly shutdown)."""
        await self._queue.join()

    async def _run(self) -> None:
        while True:
            work = await self._queue.get()
            try:
                work()
            except errors.NotFound:
                pass
            except Exception:
                log.exception("garbage collection step failed")
            finally:
                self._queue.task_done()

    def _defer(self, work: Work) -> None:
        self._queue.put_nowait(work)

    # event routing -------------------------------------------------------------------------

    def _on_event(self, event: Event) -> None:
        obj = event.object
        meta = obj["metadata"]
        if event.type == "DELETED":
            uid = meta["uid"]
            for dependent in self._api.storage.dependents(uid):
                self._defer(partial(self._check_dependent, *dependent))
            for reference in meta.get("ownerReferences") or ():
                self._defer(partial(self._check_owner, reference["uid"]))
            if event.resource == CRD_KEY:
                self._defer(partial(self._delete_instances, obj))
            if event.namespace in self._terminating:
                self._defer(partial(self._finish_namespace, event.namespace))
            return
        for reference in meta.get("ownerReferences") or ():
            if self._api.storage.locate_uid(reference["uid"]) is None:
                self._defer(
                    partial(
                        self._check_dependent,
                        event.resource,
                        event.namespace,
                        event.name,
                    )
                )
        if not meta.get("deletionTimestamp"):
            return
        if event.resource == NAMESPACES_KEY:
            self._start_namespace_termination(meta["name"])
            return
        finalizers = meta.get("finalizers") or ()
        if "foregroundDeletion" in finalizers or "orphan" in finalizers:
            self._defer(partial(self._check_owner, meta["uid"]))

    def _resume(self) -> None:
        storage = self._api.storage
        for namespace in storage.items(NAMESPACES_KEY):
            if namespace["metadata"].get("deletionTimestamp"):
                self._start_namespace_termination(namespace["metadata"]["name"])
        for resource in self._api.catalog.all():
            for obj in storage.items(resource.key):
                meta = obj["metadata"]
                for reference in meta.get("ownerReferences") or ():
                    if storage.locate_uid(reference["uid"]) is None:
                        self._defer(
                            partial(
                                self._check_dependent,
                                resource.key,
                                meta.get("namespace", ""),
                                meta["name"],
                            )
                        )
                if meta.get("deletionTimestamp"):
                    self._defer(partial(self._check_owner, meta["uid"]))

    # work ------------------------------------------------------------------------------------

    def _target(self, resource_key: str, namespace: str, name: str) -> Target | None:
        resource = self._api.catalog.by_key(resource_key)
        if resource is None:
            return None
        return Target(resource, resource.storage_version.name, namespace, name)

    def _check_dependent(self, resource_key: str, namespace: str, name: str) -> None:
        storage = self._api.storage
        obj = storage.get(resource_key, namespace, name)
        target = self._target(resource_key, namespace, name)
        if obj is None or target is None:
            return
        references = obj["metadata"].get("ownerReferences") or []
        live = [r for r in references if storage.locate_uid(r["uid"]) is not None]
        if live:
            dangling = {r["uid"] for r in references} - {r["uid"] for r in live}
            if dangling:
                self._api.remove_owner_references(target.resource, namespace, name, dangling)
            return
        self._api.delete(target, {"propagationPolicy": "Background"})

    def _check_owner(self, uid: str) -> None:
        storage = self._api.storage
        located = storage.locate_uid(uid)
        if located is None:
            return
        owner = storage.get(*located)
        target = self._target(*located)
        if owner is None or target is None or not owner["metadata"].get("deletionTimestamp"):
            return
        finalizers = owner["metadata"].get("finalizers") or ()
        dependents = storage.dependents(uid)
        if "orphan" in finalizers:
            for resource_key, namespace, name in dependents:
                dependent = self._target(resource_key, namespace, name)
                if dependent is not None:
                    self._api.remove_owner_references(dependent.resource, namespace, name, {uid})
            self._api.finalize(target, "orphan")
        elif "foregroundDeletion" in finalizers:
            for resource_key, namespace, name in dependents:
                dependent = self._target(resource_key, namespace, name)
                if dependent is not None:
                    self._api.delete(dependent, {"propagationPolicy": "Foreground"})
            if not storage.dependents(uid):
                self._api.finalize(target, "foregroundDeletion")

    def _delete_instances(self, crd: dict[str, Any]) -> None:
        resource: Resource = resource_from_crd(crd)
        version = resource.storage_version.name
        for obj in self._api.storage.items(resource.key):
            meta = obj["metadata"]
            target = Target(resource, version, meta.get("namespace", ""), meta["name"])
            self._api.force_delete(target)

    def _start_namespace_termination(self, namespace: str) -> None:
        if namespace in self._terminating:
            return
        self._terminating.add(namespace)
        loop = asyncio.get_running_loop()
        loop.call_later(self._grace, self._defer, partial(self._empty_namespace, namespace))

    def _empty_namespace(self, namespace: str) -> None:
        for resource_key, name in list(self._api.storage.namespaced_contents(namespace)):
            target = self._target(resource_key, namespace, name)
            if target is not None:
                with contextlib.suppress(errors.NotFound):
                    self._api.delete(target, {"propagationPolicy": "Background"})
        self._finish_namespace(namespace)

    def _finish_namespace(self, namespace: str) -> None:
        if namespace not in self._terminating:
            return
        if any(True for _ in self._api.storage.namespaced_contents(namespace)):
            return
        self._terminating.discard(namespace)
        target = self._target(NAMESPACES_KEY, "", namespace)
        if target is not None:
            self._api.finalize(target, "kubernetes")
