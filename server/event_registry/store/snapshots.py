"""Immutable snapshots of the registry with indexes by namespace, broker and type.

A :class:`Snapshot` never changes once built; each change produces a new one that shares
everything else (persistent hash maps), so a query holds one snapshot for its whole
execution and sees one consistent state, however many changes land meanwhile. All look-ups
are index reads: no scan of another namespace, no call to the cluster.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Generic, TypeVar

import immutables

from ..domain import models

T = TypeVar("T")
IndexKey = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Index(Generic[T]):
    """Objects grouped by a key, each group a name → object map."""

    groups: immutables.Map[IndexKey, immutables.Map[str, T]] = field(default_factory=immutables.Map)

    def get(self, key: IndexKey) -> immutables.Map[str, T]:
        group = self.groups.get(key)
        return group if group is not None else immutables.Map()

    def put(self, key: IndexKey | None, name: str, obj: T) -> Index[T]:
        if key is None:
            return self
        return Index(self.groups.set(key, self.get(key).set(name, obj)))

    def remove(self, key: IndexKey | None, name: str) -> Index[T]:
        if key is None:
            return self
        group = self.get(key)
        if name not in group:
            return self
        smaller = group.delete(name)
        return Index(self.groups.set(key, smaller) if smaller else self.groups.delete(key))


def _broker_key(obj: models.EventType | models.Trigger) -> IndexKey | None:
    broker = obj.broker
    return (obj.meta.namespace, broker) if broker else None


def _type_key(obj: models.EventType) -> IndexKey | None:
    return (obj.meta.namespace, obj.type) if obj.type else None


def _namespace_key(obj: models.Broker | models.EventType | models.Trigger) -> IndexKey:
    return (obj.meta.namespace, "")


@dataclass(frozen=True, slots=True)
class Snapshot:
    revision: int = 0
    namespaces: immutables.Map[str, models.Namespace] = field(default_factory=immutables.Map)
    brokers: Index[models.Broker] = field(default_factory=Index)
    event_types: Index[models.EventType] = field(default_factory=Index)
    triggers: Index[models.Trigger] = field(default_factory=Index)
    event_types_by_broker: Index[models.EventType] = field(default_factory=Index)
    event_types_by_type: Index[models.EventType] = field(default_factory=Index)
    triggers_by_broker: Index[models.Trigger] = field(default_factory=Index)

    # reads --------------------------------------------------------------------------------

    def namespace(self, name: str) -> models.Namespace | None:
        return self.namespaces.get(name)

    def broker(self, namespace: str, name: str) -> models.Broker | None:
        return self.brokers.get((namespace, "")).get(name)

    def event_type(self, namespace: str, name: str) -> models.EventType | None:
        return self.event_types.get((namespace, "")).get(name)

    def trigger(self, namespace: str, name: str) -> models.Trigger | None:
        return self.triggers.get((namespace, "")).get(name)

    def brokers_in(self, namespace: str) -> list[models.Broker]:
        return _sorted(self.brokers.get((namespace, "")).values())

    def event_types_in(self, namespace: str) -> list[models.EventType]:
        return _sorted(self.event_types.get((namespace, "")).values())

    def triggers_in(self, namespace: str) -> list[models.Trigger]:
        return _sorted(self.triggers.get((namespace, "")).values())

    def event_types_of_broker(self, namespace: str, broker: str) -> list[models.EventType]:
        return _sorted(self.event_types_by_broker.get((namespace, broker)).values())

    def event_types_of_type(self, namespace: str, type_: str) -> list[models.EventType]:
        return _sorted(self.event_types_by_type.get((namespace, type_)).values())

    def triggers_of_broker(self, namespace: str, broker: str) -> list[models.Trigger]:
        return _sorted(self.triggers_by_broker.get((namespace, broker)).values())

    def broker_of(self, event_type: models.EventType) -> models.Broker | None:
        name = event_type.broker
        return self.broker(event_type.meta.namespace, name) if name else None

    # writes (each returns a new snapshot) --------------------------------------------------

    def with_namespace(self, obj: models.Namespace | None, name: str) -> Snapshot:
        namespaces = self.namespaces.set(name, obj) if obj else self.namespaces.delete(name)
        return replace(self, namespaces=namespaces)

    def with_broker(self, old: models.Broker | None, new: models.Broker | None) -> Snapshot:
        brokers = self.brokers
        if old is not None:
            brokers = brokers.remove(_namespace_key(old), old.meta.name)
        if new is not None:
            brokers = brokers.put(_namespace_key(new), new.meta.name, new)
        return replace(self, brokers=brokers)

    def with_event_type(
        self, old: models.EventType | None, new: models.EventType | None
    ) -> Snapshot:
        by_namespace, by_broker, by_type = (
            self.event_types,
            self.event_types_by_broker,
            self.event_types_by_type,
        )
        if old is not None:
            name = old.meta.name
            by_namespace = by_namespace.remove(_namespace_key(old), name)
            by_broker = by_broker.remove(_broker_key(old), name)
            by_type = by_type.remove(_type_key(old), name)
        if new is not None:
            name = new.meta.name
            by_namespace = by_namespace.put(_namespace_key(new), name, new)
            by_broker = by_broker.put(_broker_key(new), name, new)
            by_type = by_type.put(_type_key(new), name, new)
        return replace(
            self,
            event_types=by_namespace,
            event_types_by_broker=by_broker,
            event_types_by_type=by_type,
        )

    def with_trigger(self, old: models.Trigger | None, new: models.Trigger | None) -> Snapshot:
        by_namespace, by_broker = self.triggers, self.triggers_by_broker
        if old is not None:
            by_namespace = by_namespace.remove(_namespace_key(old), old.meta.name)
            by_broker = by_broker.remove(_broker_key(old), old.meta.name)
        if new is not None:
            by_namespace = by_namespace.put(_namespace_key(new), new.meta.name, new)
            by_broker = by_broker.put(_broker_key(new), new.meta.name, new)
        return replace(self, triggers=by_namespace, triggers_by_broker=by_broker)


N = TypeVar("N", models.Broker, models.EventType, models.Trigger)


def _sorted(objects: Iterable[N]) -> list[N]:
    return sorted(objects, key=lambda obj: obj.meta.name)
