"""What a subscription yields: the server's change events, and two of the client's own.

Server events (decoded from ``next`` payloads): :class:`EventTypeChange`,
:class:`ReadinessChange`, :class:`BrokerChange`. The server's ``RESYNC_REQUIRED`` marker is
never yielded as one of those; it becomes :class:`ResyncRequired`, which the client also
yields when it reconnects a subscription that cannot resume (one without ``since``, or one
that dropped before its initial set completed). After a :class:`ResyncRequired` the state a
consumer built from earlier events may be wrong: ``eventTypeChanges`` iterators re-query on
their own (they resubscribe with ``includeExisting``, so ``EXISTING`` events and one
``INITIAL_SET_COMPLETE`` follow); others should re-query with the client.

:class:`Reconnecting` says the connection dropped and when the next attempt is; it is
informational (a live view shows it), no state changes with it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from .models import Broker, EventType, Json


class ChangeKind(enum.StrEnum):
    EXISTING = "EXISTING"
    INITIAL_SET_COMPLETE = "INITIAL_SET_COMPLETE"
    ADDED = "ADDED"
    UPDATED = "UPDATED"
    DELETED = "DELETED"
    RESYNC_REQUIRED = "RESYNC_REQUIRED"


@dataclass(frozen=True)
class EventTypeChange:
    kind: ChangeKind
    event_type: EventType | None
    """The EventType (its last known state when DELETED; None for INITIAL_SET_COMPLETE)."""
    cursor: str
    message: str | None = None
    filter_transition: str | None = None
    """ENTERED or LEFT the subscription's filter, else None."""

    @classmethod
    def from_json(cls, raw: Json) -> EventTypeChange:
        event_type = raw.get("eventType")
        return cls(
            kind=ChangeKind(raw["kind"]),
            event_type=None if event_type is None else EventType.from_json(event_type),
            cursor=str(raw["cursor"]),
            message=raw.get("message"),
            filter_transition=raw.get("filterTransition"),
        )


@dataclass(frozen=True)
class ReadinessChange:
    kind: ChangeKind
    event_type: EventType | None
    previous_ready: bool | None
    ready: bool | None
    previous_consumable: bool | None
    consumable: bool | None
    reason: str | None
    cause: str | None
    """EventType or Broker: whose change it was."""
    cursor: str

    @classmethod
    def from_json(cls, raw: Json) -> ReadinessChange:
        event_type = raw.get("eventType")
        return cls(
            kind=ChangeKind(raw["kind"]),
            event_type=None if event_type is None else EventType.from_json(event_type),
            previous_ready=raw.get("previousReady"),
            ready=raw.get("ready"),
            previous_consumable=raw.get("previousConsumable"),
            consumable=raw.get("consumable"),
            reason=raw.get("reason"),
            cause=raw.get("cause"),
            cursor=str(raw["cursor"]),
        )


@dataclass(frozen=True)
class BrokerChange:
    kind: ChangeKind
    broker: Broker | None
    cursor: str
    message: str | None = None

    @classmethod
    def from_json(cls, raw: Json) -> BrokerChange:
        broker = raw.get("broker")
        return cls(
            kind=ChangeKind(raw["kind"]),
            broker=None if broker is None else Broker.from_json(broker),
            cursor=str(raw["cursor"]),
            message=raw.get("message"),
        )


@dataclass(frozen=True)
class ResyncRequired:
    """Events may have been missed: state built from earlier events must be rebuilt."""

    message: str
    cursor: str | None = None
    """The server's RESYNC_REQUIRED cursor (None when the client decided on its own)."""


@dataclass(frozen=True)
class Reconnecting:
    """The connection dropped; the next attempt is in ``delay`` seconds."""

    attempt: int
    delay: float
    reason: str
