"""The Query root: namespaces, Brokers, EventTypes, Triggers and ``node``, all scoped.

Every entry point filters by the caller's readable namespaces first, for the kind it lists
(``brokers`` where the caller may list Brokers, and so on); a namespace the caller may not
read behaves exactly like one that does not exist. ``namespaces`` lists those where the
caller may read at least one kind, so every object the caller can see has its namespace
listed (its lists and counts then show only the kinds the caller may read).
"""

from __future__ import annotations

import strawberry

from ..domain import access, filtering, models
from . import connections, ids
from .context import Info
from .cost import COST, Estimate, Paged
from .types import Broker, EventType, Namespace, Node, Trigger


@strawberry.input(description="Criteria an EventType must all meet.")
class EventTypeFilter:
    broker: str | None = None
    type: str | None = strawberry.field(default=None, description="Exact CloudEvents type.")
    type_prefix: str | None = None
    source: str | None = None
    ready: bool | None = None
    consumable: bool | None = None
    search: str | None = strawberry.field(
        default=None, description="Case-insensitive text in type, source or description."
    )

    def to_domain(self) -> filtering.EventTypeFilter:
        return filtering.EventTypeFilter(
            broker=self.broker,
            type=self.type,
            type_prefix=self.type_prefix,
            source=self.source,
            ready=self.ready,
            consumable=self.consumable,
            search=self.search,
        )


def _namespaces(info: Info, namespace: str | None, kind: access.Kind | None) -> list[str]:
    """The namespaces to list ``kind`` in (None: the visible namespaces)."""
    principal = info.context.principal
    snapshot = info.context.snapshot
    if namespace is not None:
        return [namespace] if principal.can_read(namespace, kind) else []
    return sorted(principal.visible(snapshot.namespaces.keys(), kind))


def select_event_types(
    info: Info, namespace: str | None, selection: filtering.EventTypeFilter
) -> list[models.EventType]:
    snapshot = info.context.snapshot
    result: list[models.EventType] = []
    for name in _namespaces(info, namespace, "EventType"):
        if selection.type is not None:
            candidates = snapshot.event_types_of_type(name, selection.type)
        elif selection.broker is not None:
            candidates = snapshot.event_types_of_broker(name, selection.broker)
        else:
            candidates = snapshot.event_types_in(name)
        if selection.is_empty:
            result.extend(candidates)
        else:
            result.extend(
                et for et in candidates if filtering.matches(et, snapshot.broker_of(et), selection)
            )
    return result


@strawberry.type
class Query:
    # Sizes of the lists for the query cost (see cost.py): a cluster's namespaces and Brokers,
    # a few hundred at most; Triggers, a few per Broker; EventTypes are paged.
    @strawberry.field(
        description="The registries (namespaces) visible to the caller.",
        metadata={COST: Estimate(100)},
    )
    def namespaces(self, info: Info) -> list[Namespace]:
        snapshot = info.context.snapshot
        return [
            Namespace(model=snapshot.namespaces[name])
            for name in _namespaces(info, None, None)
            if name in snapshot.namespaces
        ]

    @strawberry.field
    def namespace(self, info: Info, name: str) -> Namespace | None:
        return Namespace.resolve_reference(info, name)

    @strawberry.field(metadata={COST: Estimate(100)})
    def brokers(self, info: Info, namespace: str | None = None) -> list[Broker]:
        snapshot = info.context.snapshot
        return [
            Broker(model=b)
            for ns in _namespaces(info, namespace, "Broker")
            for b in snapshot.brokers_in(ns)
        ]

    @strawberry.field
    def broker(self, info: Info, namespace: str, name: str) -> Broker | None:
        return Broker.resolve_reference(info, namespace, name)

    @strawberry.field(
        description="EventTypes, filtered and paged (Relay connection).",
        metadata={COST: Paged(max_page=connections.MAX_PAGE)},
    )
    def event_types(
        self,
        info: Info,
        namespace: str | None = None,
        filter: EventTypeFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> connections.EventTypeConnection:
        selection = filter.to_domain() if filter else filtering.EventTypeFilter()
        matching = select_event_types(info, namespace, selection)
        return connections.page(matching, first=first, after=after)

    @strawberry.field
    def event_type(self, info: Info, namespace: str, name: str) -> EventType | None:
        return EventType.resolve_reference(info, namespace, name)

    @strawberry.field(metadata={COST: Estimate(1_000)})
    def triggers(
        self, info: Info, namespace: str | None = None, broker: str | None = None
    ) -> list[Trigger]:
        snapshot = info.context.snapshot
        found: list[Trigger] = []
        for ns in _namespaces(info, namespace, "Trigger"):
            triggers = (
                snapshot.triggers_of_broker(ns, broker) if broker else snapshot.triggers_in(ns)
            )
            found.extend(Trigger(model=t) for t in triggers)
        return found

    @strawberry.field(description="Any object by its global ID.")
    def node(self, info: Info, id: strawberry.ID) -> Node | None:
        decoded = ids.decode(str(id))
        if decoded is None:
            return None
        kind, namespace, name = decoded
        if kind == "Namespace":
            return Namespace.resolve_reference(info, namespace)
        if kind == "Broker":
            return Broker.resolve_reference(info, namespace, name)
        if kind == "EventType":
            return EventType.resolve_reference(info, namespace, name)
        return Trigger.resolve_reference(info, namespace, name)
