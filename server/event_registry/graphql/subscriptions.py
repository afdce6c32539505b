"""The Subscription root: EventType changes, readiness transitions and Broker changes.

Each subscription reads the hub's shared log from its own position. Payload objects are
resolved against the snapshot recorded with their change (set on the context before each
yield; Strawberry executes one payload at a time), so an event shows the registry as it was
right after that change. Only changes of a kind the caller may read in their namespace are
delivered (EventType changes where it may list EventTypes, Broker changes where it may list
Brokers); a readiness change caused by a Broker the caller may not read says so (cause
Broker) with the EventType's own reason, not the Broker's.

``includeExisting`` first sends the matching EventTypes (EXISTING), then one
INITIAL_SET_COMPLETE marker, then live changes — the snapshot and the log position are taken
in one step, so nothing is missed or sent twice. ``since`` resumes after a cursor, on any
replica that shares the cursor key and has seen the same changes (waiting briefly for
changes the cursor names that this one has not applied yet, see :meth:`Hub.resume`); when
the cursor's position is not in the retained history (too old, from before this process
started, or from another interleaving of the cluster's watches) one RESYNC_REQUIRED event
tells the client to re-query, and live changes follow. A subscription that falls behind the
retained history while running ends with one RESYNC_REQUIRED event (every subscription,
never silently).
A change's cursor is the same for every subscriber; the cursors of EXISTING,
INITIAL_SET_COMPLETE and RESYNC_REQUIRED are fresh ones (:meth:`Hub.marker_cursor`), so that
comparing them tells nothing about changes the caller did not see.

Subscriptions with the same document, variables and visible namespaces are executed once for
all their subscribers, except those giving ``includeExisting`` or ``since`` (their first
events are their own): :data:`PER_SUBSCRIBER_ARGUMENTS`, read by the transport through
:mod:`.live` with the coalescing key each payload records (:func:`coalescing_key`).
"""

from __future__ import annotations

import enum
from collections.abc import AsyncGenerator

import strawberry

from ..domain import access, filtering, readiness
from ..hub.changes import BrokerChanged, EventTypeChanged, HubChange
from ..hub.hub import Behind, Hub, InvalidCursor
from .context import Context, Info
from .queries import EventTypeFilter, select_event_types
from .types import Broker, EventType


@strawberry.enum(description="What a change event says.")
class ChangeKind(enum.Enum):
    EXISTING = "EXISTING"
    INITIAL_SET_COMPLETE = "INITIAL_SET_COMPLETE"
    ADDED = "ADDED"
    UPDATED = "UPDATED"
    DELETED = "DELETED"
    RESYNC_REQUIRED = "RESYNC_REQUIRED"


@strawberry.enum(description="An object entered or left the subscription's filter.")
class FilterTransition(enum.Enum):
    ENTERED = "ENTERED"
    LEFT = "LEFT"


@strawberry.type(description="One change of the EventTypes a subscription follows.")
class EventTypeChange:
    kind: ChangeKind
    event_type: EventType | None = strawberry.field(
        description="The EventType (its last known state when DELETED; null for markers)."
    )
    cursor: str = strawberry.field(description="Resume after this event with since: cursor.")
    filter_transition: FilterTransition | None = None
    message: str | None = None


@strawberry.type(description="An EventType's ready or consumable value changed.")
class EventTypeReadinessChange:
    kind: ChangeKind
    event_type: EventType | None
    previous_ready: bool | None
    ready: bool | None
    previous_consumable: bool | None
    consumable: bool | None
    reason: str | None = strawberry.field(description="Why: the EventType's or Broker's reason.")
    cause: str | None = strawberry.field(description="EventType or Broker.")
    cursor: str
    filter_transition: FilterTransition | None = None


@strawberry.type
class BrokerChange:
    kind: ChangeKind
    broker: Broker | None
    cursor: str
    message: str | None = None


_BEHIND = "this subscription fell behind the retained history: query again"
PER_SUBSCRIBER_ARGUMENTS = frozenset({"includeExisting", "since"})
"""Arguments that start a subscription from the subscriber's own state (its first events
differ by subscriber), so it is never shared (see :mod:`.live`)."""
RESUME_ARGUMENT = "since"
"""The argument that resumes a subscription after a cursor."""
OBJECT_KEY = "object_key"
"""Context memo entry naming the object of the payload being executed (for coalescing)."""


def coalescing_key(context: Context) -> str | None:
    """The object (``namespace/name``) of the payload being executed in ``context``, if any."""
    key: str | None = context.memo.get(OBJECT_KEY)
    return key


class InvalidSubscription(ValueError):
    """A bad cursor or argument; shown to the client as is."""


def _hub(info: Info) -> Hub:
    hub = info.context.hub
    if not isinstance(hub, Hub):
        raise RuntimeError("subscriptions are not enabled on this server")
    return hub


async def _start(hub: Hub, since: str | None) -> tuple[int, bool]:
    """(position to read after, whether the client must resync)."""
    if since is None:
        return hub.seq, False
    try:
        return await hub.resume(since), False
    except Behind:
        return hub.seq, True
    except InvalidCursor as error:
        raise InvalidSubscription(str(error)) from error


def _visible(info: Info, namespace: str | None, event_namespace: str, kind: access.Kind) -> bool:
    if namespace is not None and event_namespace != namespace:
        return False
    return info.context.principal.can_read(event_namespace, kind)


def _membership(
    change: EventTypeChanged, selection: filtering.EventTypeFilter
) -> tuple[bool, bool]:
    before = change.old is not None and filtering.matches_state(
        change.old, change.old_consumable, selection
    )
    after = change.new is not None and filtering.matches_state(
        change.new, change.new_consumable, selection
    )
    return before, after


async def _changes(info: Info, hub: Hub, position: int) -> AsyncGenerator[HubChange, None]:
    while True:
        try:
            changes = await hub.wait_after(position)
        except Behind:
            return
        for change in changes:
            position = change.seq
            info.context.snapshot = change.snapshot
            info.context.memo[OBJECT_KEY] = f"{change.namespace}/{change.name}"
            yield change
            info.context.memo[OBJECT_KEY] = None


@strawberry.type
class Subscription:
    @strawberry.subscription(description="ADDED / UPDATED / DELETED EventTypes, in order.")
    async def event_type_changes(
        self,
        info: Info,
        namespace: str | None = None,
        filter: EventTypeFilter | None = None,
        include_existing: bool = False,
        since: str | None = None,
    ) -> AsyncGenerator[EventTypeChange, None]:
        hub = _hub(info)
        selection = filter.to_domain() if filter else filtering.EventTypeFilter()
        position, resync = await _start(hub, since)
        snapshot = hub.cache.snapshot  # same step as the position: no gap, no duplicate
        info.context.snapshot = snapshot
        start = hub.marker_cursor(position)
        if resync:
            yield EventTypeChange(
                kind=ChangeKind.RESYNC_REQUIRED,
                event_type=None,
                cursor=start,
                message="the cursor is older than the retained history: query again",
            )
        if include_existing and since is None:
            for model in select_event_types(info, namespace, selection):
                yield EventTypeChange(
                    kind=ChangeKind.EXISTING, event_type=EventType(model=model), cursor=start
                )
            yield EventTypeChange(
                kind=ChangeKind.INITIAL_SET_COMPLETE, event_type=None, cursor=start
            )
        async for change in _changes(info, hub, position):
            if not isinstance(change, EventTypeChanged):
                continue
            if not _visible(info, namespace, change.namespace, "EventType"):
                continue
            before, after = _membership(change, selection)
            if not before and not after:
                continue
            if before and after:
                kind, transition = ChangeKind(change.type), None
            elif after:
                kind = ChangeKind.ADDED
                transition = FilterTransition.ENTERED if change.old is not None else None
            else:
                kind = ChangeKind.DELETED
                transition = FilterTransition.LEFT if change.new is not None else None
            yield EventTypeChange(
                kind=kind,
                event_type=EventType(model=change.latest),
                cursor=hub.cursor(change),
                filter_transition=transition,
            )
        yield EventTypeChange(
            kind=ChangeKind.RESYNC_REQUIRED,
            event_type=None,
            cursor=hub.marker_cursor(hub.seq),
            message=_BEHIND,
        )

    @strawberry.subscription(
        description="Transitions of ready or consumable (a Broker flip reports each EventType)."
    )
    async def event_type_readiness_changed(
        self,
        info: Info,
        namespace: str | None = None,
        filter: EventTypeFilter | None = None,
    ) -> AsyncGenerator[EventTypeReadinessChange, None]:
        hub = _hub(info)
        selection = filter.to_domain() if filter else filtering.EventTypeFilter()
        position = hub.seq
        async for change in _changes(info, hub, position):
            if not isinstance(change, EventTypeChanged):
                continue
            if not _visible(info, namespace, change.namespace, "EventType"):
                continue
            old_ready = readiness.ready(change.old.status) if change.old else None
            new_ready = readiness.ready(change.new.status) if change.new else None
            old_consumable = change.old_consumable if change.old else None
            new_consumable = change.new_consumable if change.new else None
            if old_ready == new_ready and old_consumable == new_consumable:
                continue
            before, after = _membership(change, selection)
            if not before and not after:
                continue
            transition = None
            if after and not before and change.old is not None:
                transition = FilterTransition.ENTERED
            elif before and not after and change.new is not None:
                transition = FilterTransition.LEFT
            reason = readiness.reason(change.latest.status)
            if change.cause == "Broker" and _visible(info, None, change.namespace, "Broker"):
                broker = change.snapshot.broker_of(change.latest)
                reason = (
                    readiness.reason(broker.status) if broker else "BrokerDoesNotExist"
                ) or reason
            yield EventTypeReadinessChange(
                kind=ChangeKind(change.type),
                event_type=EventType(model=change.latest),
                previous_ready=old_ready,
                ready=new_ready,
                previous_consumable=old_consumable,
                consumable=new_consumable,
                reason=reason,
                cause=change.cause,
                cursor=hub.cursor(change),
                filter_transition=transition,
            )
        yield EventTypeReadinessChange(
            kind=ChangeKind.RESYNC_REQUIRED,
            event_type=None,
            previous_ready=None,
            ready=None,
            previous_consumable=None,
            consumable=None,
            reason=_BEHIND,
            cause=None,
            cursor=hub.marker_cursor(hub.seq),
        )

    @strawberry.subscription(description="ADDED / UPDATED / DELETED Brokers.")
    async def broker_changes(
        self, info: Info, namespace: str | None = None
    ) -> AsyncGenerator[BrokerChange, None]:
        hub = _hub(info)
        async for change in _changes(info, hub, hub.seq):
            if not isinstance(change, BrokerChanged):
                continue
            if not _visible(info, namespace, change.namespace, "Broker"):
                continue
            model = change.new or change.old
            yield BrokerChange(
                kind=ChangeKind(change.type),
                broker=Broker(model=model) if model else None,
                cursor=hub.cursor(change),
            )
        yield BrokerChange(
            kind=ChangeKind.RESYNC_REQUIRED,
            broker=None,
            cursor=hub.marker_cursor(hub.seq),
            message=_BEHIND,
        )
