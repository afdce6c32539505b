"""The live cache: raw watch events in, normalized snapshots and ordered changes out.

Guarantees:

- objects are normalized once, here, when they arrive; queries and subscriptions only ever
  see domain models;
- every effective change bumps the cache revision by one and is announced to listeners
  synchronously, in order, with the snapshots before and after it; a replayed event that
  changes nothing (same resourceVersion) is dropped, so relists and reconnects never
  duplicate a change;
- :meth:`Cache.replace` (after a relist) turns the difference between the cache and the fresh
  list into ordinary changes, DELETED for what vanished, so the cache equals the list and
  listeners lose nothing;
- :meth:`Cache.wait_for` lets a writer wait until its own write is visible to queries;
- a listener that raises cannot hide a change from the others: every listener and waiter
  still sees it, then the failure is raised to whoever applied the change (the reflector,
  which restarts and relists);
- the cache models the registry's four kinds (:data:`Kind`); a reflector's sink methods
  (``apply``, ``replace``, ``set_synced``, ``mark_unsynced``) take any kind name, as the
  cluster names kinds, and raise :class:`ValueError` for a kind the cache has no model of;
- sync state is per kind, for ``/readyz``: ``sync_state`` says whether each kind is synced,
  ``unsynced_reasons`` why each unsynced kind is not (``"not listed yet"`` until a reason is
  given).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal, TypeGuard

from ..domain import models, normalizing
from .snapshots import Snapshot

Kind = Literal["Namespace", "Broker", "EventType", "Trigger"]
"""The kinds the registry models (the names of their Knative or Kubernetes kinds)."""
KINDS: tuple[Kind, ...] = ("Namespace", "Broker", "EventType", "Trigger")
StoreChangeType = Literal["ADDED", "MODIFIED", "DELETED"]
"""What a store change did, in the words of watch events (the hub says ``UPDATED``)."""
Model = models.Namespace | models.Broker | models.EventType | models.Trigger


@dataclass(frozen=True, slots=True)
class Change:
    revision: int
    kind: Kind
    type: StoreChangeType
    namespace: str
    name: str
    old: Any
    new: Any
    before: Snapshot
    after: Snapshot
    resource_version: str = ""
    """The watch event's resourceVersion (a deletion's own, not the object's last one); for
    a relist, the object's."""
    relisted: bool = False
    """Made by :meth:`Cache.replace`: one step of a difference, not one change of the
    cluster (what happened in between was not watched)."""


Listener = Callable[[Change], None]


def is_kind(name: str) -> TypeGuard[Kind]:
    """Whether the cache models the kind called ``name``."""
    return name in KINDS


def _modelled(name: str) -> Kind:
    if is_kind(name):
        return name
    raise ValueError(f"the cache has no model of kind {name!r} (it models {', '.join(KINDS)})")


def _normalize(kind: Kind, raw: Mapping[str, Any]) -> Model:
    if kind == "Namespace":
        return normalizing.namespace(raw)
    if kind == "Broker":
        return normalizing.broker(raw)
    if kind == "EventType":
        return normalizing.event_type(raw)
    return normalizing.trigger(raw)


def _current(snapshot: Snapshot, kind: Kind, namespace: str, name: str) -> Model | None:
    if kind == "Namespace":
        return snapshot.namespace(name)
    if kind == "Broker":
        return snapshot.broker(namespace, name)
    if kind == "EventType":
        return snapshot.event_type(namespace, name)
    return snapshot.trigger(namespace, name)


def _all(snapshot: Snapshot, kind: Kind) -> Iterable[Model]:
    if kind == "Namespace":
        return list(snapshot.namespaces.values())
    if kind == "Broker":
        return [obj for group in snapshot.brokers.groups.values() for obj in group.values()]
    if kind == "EventType":
        return [obj for group in snapshot.event_types.groups.values() for obj in group.values()]
    return [obj for group in snapshot.triggers.groups.values() for obj in group.values()]


def _with(snapshot: Snapshot, kind: Kind, old: Any, new: Any, name: str) -> Snapshot:
    if kind == "Namespace":
        return snapshot.with_namespace(new, name)
    if kind == "Broker":
        return snapshot.with_broker(old, new)
    if kind == "EventType":
        return snapshot.with_event_type(old, new)
    return snapshot.with_trigger(old, new)


class Cache:
    def __init__(self) -> None:
        self.snapshot = Snapshot()
        self._listeners: list[Listener] = []
        self._synced: dict[Kind, bool] = dict.fromkeys(KINDS, False)
        self._why_unsynced: dict[Kind, str] = dict.fromkeys(KINDS, "not listed yet")
        self._all_synced = asyncio.Event()
        self._waiters: list[tuple[Callable[[Snapshot], bool], asyncio.Future[None]]] = []

    # sync state ----------------------------------------------------------------------------

    def set_synced(self, kind_name: str, synced: bool) -> None:
        kind = _modelled(kind_name)
        self._synced[kind] = synced
        if synced:
            self._why_unsynced.pop(kind, None)
        else:
            self._why_unsynced.setdefault(kind, "unsynced")
        if self.synced:
            self._all_synced.set()
        else:
            self._all_synced.clear()

    def mark_unsynced(self, kind_name: str, reason: str) -> None:
        """``set_synced(kind, False)``, saying why (until the kind is synced again)."""
        kind = _modelled(kind_name)
        self.set_synced(kind, False)
        self._why_unsynced[kind] = reason

    async def wait_synced(self) -> None:
        await self._all_synced.wait()

    @property
    def sync_state(self) -> dict[Kind, bool]:
        return dict(self._synced)

    @property
    def unsynced_reasons(self) -> dict[Kind, str]:
        """Why each unsynced kind is unsynced, e.g. ``"restarting: KeyError"``."""
        return dict(self._why_unsynced)

    @property
    def synced(self) -> bool:
        return all(self._synced.values())

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    # changes -------------------------------------------------------------------------------

    def apply(
        self, kind_name: str, change_type: StoreChangeType, raw: Mapping[str, Any]
    ) -> Change | None:
        """Apply one watch event; returns the change, or None when nothing changed."""
        kind = _modelled(kind_name)
        new = _normalize(kind, raw)
        namespace, name = new.meta.namespace, new.meta.name
        old = _current(self.snapshot, kind, namespace, name)
        version = new.meta.resource_version
        if change_type == "DELETED":
            return (
                self._commit(kind, "DELETED", namespace, name, old, None, version) if old else None
            )
        if old is not None and old.meta.resource_version == version:
            return None
        return self._commit(
            kind, "MODIFIED" if old else "ADDED", namespace, name, old, new, version
        )

    def replace(self, kind_name: str, raws: Iterable[Mapping[str, Any]]) -> list[Change]:
        """Make the cache's objects of that kind equal a fresh list, as ordinary changes."""
        kind = _modelled(kind_name)
        fresh = {}
        for raw in raws:
            obj = _normalize(kind, raw)
            fresh[(obj.meta.namespace, obj.meta.name)] = obj
        changes = []
        for obj in _all(self.snapshot, kind):
            key = (obj.meta.namespace, obj.meta.name)
            if key not in fresh:
                version = obj.meta.resource_version
                changes.append(self._commit(kind, "DELETED", *key, obj, None, version, True))
        for key, obj in fresh.items():
            old = _current(self.snapshot, kind, *key)
            version = obj.meta.resource_version
            if old is None:
                changes.append(self._commit(kind, "ADDED", *key, None, obj, version, True))
            elif old.meta.resource_version != version:
                changes.append(self._commit(kind, "MODIFIED", *key, old, obj, version, True))
        return changes

    def _commit(
        self,
        kind: Kind,
        change_type: StoreChangeType,
        namespace: str,
        name: str,
        old: Any,
        new: Any,
        resource_version: str,
        relisted: bool = False,
    ) -> Change:
        before = self.snapshot
        after = _with(before, kind, old, new, name)
        after = _revised(after, before.revision + 1)
        self.snapshot = after
        change = Change(
            after.revision,
            kind,
            change_type,
            namespace,
            name,
            old,
            new,
            before,
            after,
            resource_version,
            relisted,
        )
        failures: list[Exception] = []
        for listener in self._listeners:
            try:
                listener(change)
            except Exception as error:  # the others must still see the change
                failures.append(error)
        if self._waiters:
            self._wake(after)
        if failures:
            if len(failures) == 1:
                raise failures[0]
            raise ExceptionGroup(f"{len(failures)} cache listeners failed", failures)
        return change

    # waiting for writes --------------------------------------------------------------------

    async def wait_until(self, predicate: Callable[[Snapshot], bool], timeout: float) -> bool:
        """True once ``predicate(snapshot)`` holds, False after ``timeout`` seconds."""
        if predicate(self.snapshot):
            return True
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (predicate, future)
        self._waiters.append(entry)
        try:
            await asyncio.wait_for(future, timeout)
            return True
        except TimeoutError:
            return False
        finally:
            if entry in self._waiters:
                self._waiters.remove(entry)

    async def wait_for(
        self, kind: Kind, namespace: str, name: str, resource_version: str | None, timeout: float
    ) -> Model | None:
        """The object once the cache has seen ``resource_version`` of it (None: deleted)."""

        def seen(snapshot: Snapshot) -> bool:
            current = _current(snapshot, kind, namespace, name)
            if resource_version is None:
                return current is None
            return current is not None and _not_older(
                current.meta.resource_version, resource_version
            )

        await self.wait_until(seen, timeout)
        return _current(self.snapshot, kind, namespace, name)

    def _wake(self, snapshot: Snapshot) -> None:
        for predicate, future in list(self._waiters):
            if not future.done() and predicate(snapshot):
                future.set_result(None)


def _not_older(current: str, wanted: str) -> bool:
    if current == wanted:
        return True
    if current.isdigit() and wanted.isdigit():
        return int(current) >= int(wanted)
    return False


def _revised(snapshot: Snapshot, revision: int) -> Snapshot:
    return replace(snapshot, revision=revision)
