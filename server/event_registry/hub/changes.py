"""Registry changes as subscriptions see them, derived purely from cache changes.

An EventType's own change is one :class:`EventTypeChanged`. A Broker's change is one
:class:`BrokerChanged` plus one :class:`EventTypeChanged` (cause ``Broker``) for every
EventType of that Broker whose ``consumable`` flipped, so subscribers learn about readiness
that EventTypes inherit from their Broker, in the order of their names (the same on every
replica that applied the Broker change to the same state: :mod:`.positions` relies on it).
Each change records the consumable state before and after and the snapshot right after it,
so views of the change are computed without looking at later state; the hub adds its
position (:class:`~.positions.Stamp`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..domain import models, readiness
from ..store.caching import Change, StoreChangeType
from ..store.snapshots import Snapshot
from .positions import Stamp

HubChangeType = Literal["ADDED", "UPDATED", "DELETED"]
"""What a hub change did, in the words of the GraphQL API (the store's ``MODIFIED`` is
``UPDATED`` here)."""


@dataclass(frozen=True, slots=True)
class EventTypeChanged:
    seq: int
    type: HubChangeType
    namespace: str
    name: str
    old: models.EventType | None
    new: models.EventType | None
    old_consumable: bool
    new_consumable: bool
    snapshot: Snapshot
    cause: Literal["EventType", "Broker"] = "EventType"
    stamp: Stamp | None = None

    @property
    def latest(self) -> models.EventType:
        model = self.new or self.old
        assert model is not None
        return model


@dataclass(frozen=True, slots=True)
class BrokerChanged:
    seq: int
    type: HubChangeType
    namespace: str
    name: str
    old: models.Broker | None
    new: models.Broker | None
    snapshot: Snapshot
    stamp: Stamp | None = None


HubChange = EventTypeChanged | BrokerChanged

_TYPES: dict[StoreChangeType, HubChangeType] = {
    "ADDED": "ADDED",
    "MODIFIED": "UPDATED",
    "DELETED": "DELETED",
}


def _consumable(event_type: models.EventType | None, snapshot: Snapshot) -> bool:
    if event_type is None:
        return False
    return readiness.consumable(event_type, snapshot.broker_of(event_type))


def derive(change: Change, next_seq: int) -> list[HubChange]:
    """The hub changes one cache change causes, numbered from ``next_seq``."""
    kind, before, after = change.kind, change.before, change.after
    change_type = _TYPES[change.type]
    if kind == "EventType":
        return [
            EventTypeChanged(
                next_seq,
                change_type,
                change.namespace,
                change.name,
                change.old,
                change.new,
                _consumable(change.old, before),
                _consumable(change.new, after),
                after,
            )
        ]
    if kind != "Broker":
        return []
    derived: list[HubChange] = [
        BrokerChanged(
            next_seq, change_type, change.namespace, change.name, change.old, change.new, after
        )
    ]
    for event_type in after.event_types_of_broker(change.namespace, change.name):
        old_consumable = _consumable(event_type, before)
        new_consumable = _consumable(event_type, after)
        if old_consumable != new_consumable:
            derived.append(
                EventTypeChanged(
                    next_seq + len(derived),
                    "UPDATED",
                    event_type.meta.namespace,
                    event_type.meta.name,
                    event_type,
                    event_type,
                    old_consumable,
                    new_consumable,
                    after,
                    cause="Broker",
                )
            )
    return derived
