"""GraphQL object types: thin, read-only views over domain models and the request snapshot.

Each type holds its domain model (``strawberry.Private``) and resolves fields from it and from
the request's snapshot; nothing here talks to the cluster. Broker, EventType, Trigger and
Namespace are federation entities; their ``resolve_reference`` applies the same visibility
as every query, so ``_entities`` cannot reveal a hidden namespace or object.

Visibility is per kind (see :mod:`~..domain.access`): every field that leads from one object
to objects of another kind (an EventType's ``broker`` and ``consumers``, a Broker's
``eventTypes`` and ``triggers``, a Trigger's ``broker`` and ``eventTypes``, a Namespace's
lists and counts) shows them only when the caller may read that kind in the namespace, and
otherwise answers as if there were none (null, empty, 0). What is derived from a hidden
Broker stays: an EventType's ``consumable`` (and its filter) says whether its Broker exists
and is Ready, as Knative's own EventType status (BrokerExists, BrokerReady) tells anyone who
may read the EventType; the Broker itself, its reasons and its URL are not shown.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.scalars import JSON

from ..domain import access, matching, models, readiness, writes
from ..domain import producers as producing
from . import ids
from .completed import READS
from .context import Info
from .cost import COST, Estimate

MAX_SERVED_JSON_DEPTH = 128
"""JSON from the cluster nested deeper than this is refused: the response encoder stops at 254
levels (the response's own nesting included) and converting it here recurses per level."""

# What resolvers read from the snapshot beyond their own object (see completed.py); every such
# read stays in the object's namespace.
_READS_BROKERS = {READS: ("Broker",)}
_READS_EVENT_TYPES = {READS: ("EventType",)}
_READS_TRIGGERS = {READS: ("Trigger",)}

# How many items each unpaged list usually holds, generously (see cost.py): the parts of an
# object (labels, conditions, attributes, consumers) a few; per namespace or Broker, up to
# ~1,000 EventTypes and Triggers and ~10 Brokers; a Trigger's filter selects ~100 EventTypes.
_PARTS = {COST: Estimate(10)}
_BROKERS_PER_NAMESPACE = {COST: Estimate(10)}
_EVENT_TYPES_PER_BROKER = {COST: Estimate(1_000)}
_EVENT_TYPES_PER_TRIGGER = {COST: Estimate(100)}
_TRIGGERS_PER_BROKER = {COST: Estimate(100)}
_EVENT_TYPES_PER_NAMESPACE = {COST: Estimate(1_000)}
_TRIGGERS_PER_NAMESPACE = {COST: Estimate(1_000)}


def _may_read(info: Info, namespace: str, kind: access.Kind) -> bool:
    return info.context.principal.can_read(namespace, kind)


@strawberry.interface(description="An object with a global ID (Relay).")
class Node:
    @strawberry.field(description="Globally unique, opaque ID; resolve it with node(id).")
    def id(self) -> strawberry.ID:
        raise NotImplementedError  # every implementation overrides it


@strawberry.interface(description="A namespaced Kubernetes object.")
class NamespacedObject:
    model: strawberry.Private[Any]

    @strawberry.field
    def namespace(self) -> str:
        return str(self.model.meta.namespace)

    @strawberry.field
    def name(self) -> str:
        return str(self.model.meta.name)

    @strawberry.field(description="metadata.creationTimestamp (RFC 3339).")
    def created_at(self) -> str:
        return str(self.model.meta.created_at)

    @strawberry.field(metadata=_PARTS)
    def labels(self) -> list[Label]:
        return _labels(self.model.meta.labels)


@strawberry.interface(description="An object a controller reconciles: its Ready condition.")
class Reconciled:
    model: strawberry.Private[Any]

    @strawberry.field(description="The Ready condition (null while Unknown or absent).")
    def ready(self) -> bool | None:
        return readiness.ready(self.model.status)

    @strawberry.field(description="The Ready condition's reason.")
    def reason(self) -> str | None:
        return readiness.reason(self.model.status)

    @strawberry.field(description="The Ready condition's message.")
    def message(self) -> str | None:
        return readiness.message(self.model.status)

    @strawberry.field(metadata=_PARTS)
    def conditions(self) -> list[Condition]:
        return _conditions(self.model.status)


@strawberry.type(description="A Kubernetes status condition.")
class Condition:
    type: str
    status: str
    reason: str | None
    message: str | None
    last_transition_time: str | None
    severity: str | None

    @staticmethod
    def of(condition: models.Condition) -> Condition:
        return Condition(
            type=condition.type,
            status=condition.status,
            reason=condition.reason or None,
            message=condition.message or None,
            last_transition_time=condition.last_transition_time or None,
            severity=condition.severity or None,
        )


@strawberry.type(description="A reference to a Kubernetes object (KReference).")
class Reference:
    api_version: str
    kind: str
    name: str
    namespace: str | None

    @staticmethod
    def of(reference: models.Reference | None) -> Reference | None:
        return None if reference is None else Reference.of_model(reference)

    @staticmethod
    def of_model(reference: models.Reference) -> Reference:
        return Reference(
            api_version=reference.api_version,
            kind=reference.kind,
            name=reference.name,
            namespace=reference.namespace or None,
        )


@strawberry.type(description="A label or annotation.")
class Label:
    key: str
    value: str


@strawberry.type(description="A CloudEvents attribute an EventType declares.")
class Attribute:
    name: str
    value: str | None
    required: bool


def _labels(labels: Mapping[str, str]) -> list[Label]:
    return [Label(key=key, value=value) for key, value in sorted(labels.items())]


def _conditions(status: models.Status) -> list[Condition]:
    return [Condition.of(c) for c in status.conditions]


@strawberry.enum(description="How surely a Trigger receives events of an EventType.")
class MatchKind(enum.Enum):
    YES = "yes"
    UNKNOWN = "unknown"


@strawberry.federation.type(keys=["namespace name"], description="A Knative Broker.")
class Broker(Node, NamespacedObject, Reconciled):
    model: strawberry.Private[models.Broker]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(ids.encode("Broker", self.model.meta.namespace, self.model.meta.name))

    @strawberry.field(name="class", description="The broker.class annotation.")
    def broker_class(self) -> str | None:
        return self.model.broker_class or None

    @strawberry.field(description="The Broker's address (status.address.url).")
    def url(self) -> str | None:
        return self.model.url

    @strawberry.field(
        description="EventTypes carried by this Broker.",
        metadata={**_READS_EVENT_TYPES, **_EVENT_TYPES_PER_BROKER},
    )
    def event_types(self, info: Info) -> list[EventType]:
        snapshot = info.context.snapshot
        meta = self.model.meta
        if not _may_read(info, meta.namespace, "EventType"):
            return []
        return [
            EventType(model=et) for et in snapshot.event_types_of_broker(meta.namespace, meta.name)
        ]

    @strawberry.field(
        description="Triggers subscribed to this Broker.",
        metadata={**_READS_TRIGGERS, **_TRIGGERS_PER_BROKER},
    )
    def triggers(self, info: Info) -> list[Trigger]:
        snapshot = info.context.snapshot
        meta = self.model.meta
        if not _may_read(info, meta.namespace, "Trigger"):
            return []
        return [Trigger(model=t) for t in snapshot.triggers_of_broker(meta.namespace, meta.name)]

    @classmethod
    def resolve_reference(cls, info: Info, namespace: str, name: str) -> Broker | None:
        if not _may_read(info, namespace, "Broker"):
            return None
        found = info.context.snapshot.broker(namespace, name)
        return Broker(model=found) if found else None


@strawberry.type(description="A Trigger that may receive events of an EventType.")
class ConsumerMatch:
    trigger: Trigger
    match: MatchKind


@strawberry.federation.type(
    keys=["namespace name"],
    description="A registered CloudEvents type: what events exist, who carries and consumes them.",
)
class EventType(Node, NamespacedObject, Reconciled):
    model: strawberry.Private[models.EventType]

    @strawberry.field
    def id(self) -> strawberry.ID:
        meta = self.model.meta
        return strawberry.ID(ids.encode("EventType", meta.namespace, meta.name))

    @strawberry.field(description="The CloudEvents type.")
    def type(self) -> str:
        return self.model.type

    @strawberry.field(description="The CloudEvents source (URI reference).")
    def source(self) -> str | None:
        return self.model.source

    @strawberry.field(description="The schema URI (CloudEvents dataschema).")
    def schema(self) -> str | None:
        return self.model.schema

    @strawberry.field
    def schema_data(self) -> str | None:
        return self.model.schema_data

    @strawberry.field
    def description(self) -> str | None:
        return self.model.description

    @strawberry.field(description="spec.reference as written.")
    def reference(self) -> Reference | None:
        return Reference.of(self.model.reference)

    @strawberry.field(
        description="Name of the Broker carrying this type (spec.broker or reference)."
    )
    def broker_name(self) -> str | None:
        return self.model.broker

    @strawberry.field(
        description="The Broker carrying this type, if it exists (and the caller may read it).",
        metadata=_READS_BROKERS,
    )
    def broker(self, info: Info) -> Broker | None:
        if not _may_read(info, self.model.meta.namespace, "Broker"):
            return None
        found = info.context.snapshot.broker_of(self.model)
        return Broker(model=found) if found else None

    @strawberry.field(
        description="CloudEvents attributes (v1beta3 form, for every version).", metadata=_PARTS
    )
    def attributes(self) -> list[Attribute]:
        return [
            Attribute(name=a.name, value=a.value or None, required=a.required)
            for a in self.model.attributes
        ]

    @strawberry.field(
        description=(
            "Ready, and its Broker exists and is Ready (told even to a caller who may not read"
            " the Broker, as Knative's EventType status tells it)."
        ),
        metadata=_READS_BROKERS,
    )
    def consumable(self, info: Info) -> bool:
        return readiness.consumable(self.model, info.context.snapshot.broker_of(self.model))

    def _matches(self, info: Info) -> list[tuple[models.Trigger, matching.Match]]:
        broker = self.model.broker
        if not broker or not _may_read(info, self.model.meta.namespace, "Trigger"):
            return []
        triggers = info.context.snapshot.triggers_of_broker(self.model.meta.namespace, broker)
        return [(t, matching.consumes(t, self.model)) for t in triggers]

    @strawberry.field(
        description="Triggers whose filter surely matches this EventType.",
        metadata={**_READS_TRIGGERS, **_PARTS},
    )
    def consumers(self, info: Info) -> list[Trigger]:
        return [Trigger(model=t) for t, m in self._matches(info) if m is matching.Match.YES]

    @strawberry.field(
        description=(
            "Triggers that match surely (YES) or may match (UNKNOWN: the filter reads an"
            " attribute the EventType leaves open, e.g. id or an extension)."
        ),
        metadata={**_READS_TRIGGERS, **_PARTS},
    )
    def consumer_matches(self, info: Info) -> list[ConsumerMatch]:
        return [
            ConsumerMatch(trigger=Trigger(model=t), match=MatchKind(m.value))
            for t, m in self._matches(info)
            if m is not matching.Match.NO
        ]

    @strawberry.field(
        description="The object that owns (registered) this EventType, e.g. a source."
    )
    def owner(self) -> Reference | None:
        return Reference.of(self.model.meta.owner)

    @strawberry.field(
        description=(
            "The sources producing this EventType's events, as the cluster records them: the"
            " source whose reconciler registered it (its controller ownerReference). Empty for"
            " an EventType registered by hand or auto-created by a Broker's ingress."
        ),
        metadata=_PARTS,
    )
    def producers(self) -> list[Reference]:
        return [Reference.of_model(p) for p in producing.producers(self.model)]

    @strawberry.field(
        description=(
            "Created by a Broker's ingress from an event it accepted (Knative's"
            " eventtype-auto-create, which describes it as 'Event Type auto-created by"
            " controller')."
        )
    )
    def auto_created(self) -> bool:
        return producing.auto_created(self.model)

    @strawberry.field(description="The API version the registry read this object in.")
    def api_version(self) -> str:
        return self.model.api_version

    @classmethod
    def resolve_reference(cls, info: Info, namespace: str, name: str) -> EventType | None:
        if not _may_read(info, namespace, "EventType"):
            return None
        found = info.context.snapshot.event_type(namespace, name)
        return EventType(model=found) if found else None


@strawberry.type(description="Where a Trigger delivers events.")
class Subscriber:
    ref: Reference | None
    uri: str | None


@strawberry.type(description="The legacy exact-match filter.")
class TriggerFilter:
    attributes: list[Label] = strawberry.field(metadata=_PARTS)


@strawberry.federation.type(keys=["namespace name"], description="A Knative Trigger.")
class Trigger(Node, NamespacedObject, Reconciled):
    model: strawberry.Private[models.Trigger]

    @strawberry.field
    def id(self) -> strawberry.ID:
        meta = self.model.meta
        return strawberry.ID(ids.encode("Trigger", meta.namespace, meta.name))

    @strawberry.field
    def broker_name(self) -> str:
        return self.model.broker

    @strawberry.field(metadata=_READS_BROKERS)
    def broker(self, info: Info) -> Broker | None:
        if not _may_read(info, self.model.meta.namespace, "Broker"):
            return None
        found = info.context.snapshot.broker(self.model.meta.namespace, self.model.broker)
        return Broker(model=found) if found else None

    @strawberry.field
    def filter(self) -> TriggerFilter | None:
        attributes = self.model.filter_attributes
        return TriggerFilter(attributes=_labels(attributes)) if attributes else None

    @strawberry.field(description="spec.filters (SubscriptionsAPI dialects) as JSON.")
    def filters(self) -> JSON | None:
        filters = self.model.filters
        if not filters:
            return None
        if writes.nesting_depth(filters) > MAX_SERVED_JSON_DEPTH:
            meta = self.model.meta
            raise GraphQLError(
                f"Trigger {meta.namespace}/{meta.name}: spec.filters nest deeper than "
                f"{MAX_SERVED_JSON_DEPTH} levels and cannot be served"
            )
        return JSON(_thaw(filters))

    @strawberry.field
    def subscriber(self) -> Subscriber:
        subscriber = self.model.subscriber
        return Subscriber(ref=Reference.of(subscriber.ref), uri=subscriber.uri)

    @strawberry.field
    def subscriber_uri(self) -> str | None:
        return self.model.subscriber_uri

    @strawberry.field(
        description="Registered EventTypes this Trigger surely receives.",
        metadata={**_READS_EVENT_TYPES, **_EVENT_TYPES_PER_TRIGGER},
    )
    def event_types(self, info: Info) -> list[EventType]:
        if not _may_read(info, self.model.meta.namespace, "EventType"):
            return []
        snapshot = info.context.snapshot
        candidates = snapshot.event_types_of_broker(self.model.meta.namespace, self.model.broker)
        return [
            EventType(model=et)
            for et in candidates
            if matching.consumes(self.model, et) is matching.Match.YES
        ]

    @classmethod
    def resolve_reference(cls, info: Info, namespace: str, name: str) -> Trigger | None:
        if not _may_read(info, namespace, "Trigger"):
            return None
        found = info.context.snapshot.trigger(namespace, name)
        return Trigger(model=found) if found else None


def _thaw(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _thaw(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return [_thaw(item) for item in value]
    return value


@strawberry.type(description="Counts of a namespace's registry.")
class NamespaceCounts:
    brokers: int
    event_types: int
    ready_event_types: int
    consumable_event_types: int
    triggers: int


@strawberry.federation.type(keys=["name"], description="A namespace: one registry.")
class Namespace(Node):
    model: strawberry.Private[models.Namespace]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(ids.encode("Namespace", self.model.name))

    @strawberry.field
    def name(self) -> str:
        return self.model.name

    @strawberry.field
    def phase(self) -> str:
        return self.model.phase

    @strawberry.field(metadata=_BROKERS_PER_NAMESPACE)
    def brokers(self, info: Info) -> list[Broker]:
        return [Broker(model=b) for b in self._brokers(info)]

    @strawberry.field(metadata=_EVENT_TYPES_PER_NAMESPACE)
    def event_types(self, info: Info) -> list[EventType]:
        return [EventType(model=e) for e in self._event_types(info)]

    @strawberry.field(metadata=_TRIGGERS_PER_NAMESPACE)
    def triggers(self, info: Info) -> list[Trigger]:
        return [Trigger(model=t) for t in self._triggers(info)]

    @strawberry.field(description="Counts of what the caller may read in this namespace.")
    def counts(self, info: Info) -> NamespaceCounts:
        snapshot = info.context.snapshot
        event_types = self._event_types(info)
        return NamespaceCounts(
            brokers=len(self._brokers(info)),
            event_types=len(event_types),
            ready_event_types=sum(1 for e in event_types if readiness.ready(e.status)),
            consumable_event_types=sum(
                1 for e in event_types if readiness.consumable(e, snapshot.broker_of(e))
            ),
            triggers=len(self._triggers(info)),
        )

    def _brokers(self, info: Info) -> list[models.Broker]:
        name = self.model.name
        return info.context.snapshot.brokers_in(name) if _may_read(info, name, "Broker") else []

    def _event_types(self, info: Info) -> list[models.EventType]:
        name = self.model.name
        if not _may_read(info, name, "EventType"):
            return []
        return info.context.snapshot.event_types_in(name)

    def _triggers(self, info: Info) -> list[models.Trigger]:
        name = self.model.name
        return info.context.snapshot.triggers_in(name) if _may_read(info, name, "Trigger") else []

    @classmethod
    def resolve_reference(cls, info: Info, name: str) -> Namespace | None:
        if not info.context.principal.can_read(name):
            return None
        found = info.context.snapshot.namespace(name)
        return Namespace(model=found) if found else None
