"""The registry's objects as frozen dataclasses, decoded from the GraphQL answers.

Each class mirrors a type of ``schema.graphql`` with the fields the client's documents
(:mod:`event_registry_client.documents`) select; ``from_json`` reads exactly those. A field the
document does not select for a list (e.g. ``conditions`` in ``kreg get``) is an empty tuple or
``None``, never a guess. The schema test checks that every field read here exists in the
schema with a compatible type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Json = dict[str, Any]


def _labels(raw: Json, key: str = "labels") -> tuple[Label, ...]:
    return tuple(Label(str(item["key"]), str(item["value"])) for item in raw.get(key) or ())


def _conditions(raw: Json) -> tuple[Condition, ...]:
    return tuple(Condition.from_json(item) for item in raw.get("conditions") or ())


def _names(raw: Json, key: str) -> tuple[str, ...]:
    return tuple(str(item["name"]) for item in raw.get(key) or ())


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _optional_bool(value: Any) -> bool | None:
    return None if value is None else bool(value)


@dataclass(frozen=True)
class Label:
    key: str
    value: str


@dataclass(frozen=True)
class Condition:
    type: str
    status: str
    reason: str | None
    message: str | None
    last_transition_time: str | None

    @classmethod
    def from_json(cls, raw: Json) -> Condition:
        return cls(
            type=str(raw["type"]),
            status=str(raw["status"]),
            reason=_optional_str(raw.get("reason")),
            message=_optional_str(raw.get("message")),
            last_transition_time=_optional_str(raw.get("lastTransitionTime")),
        )


@dataclass(frozen=True)
class Reference:
    """A KReference (an EventType's ``spec.reference``, its owner, a subscriber's ref)."""

    api_version: str
    kind: str
    name: str
    namespace: str | None = None

    @classmethod
    def from_json(cls, raw: Json | None) -> Reference | None:
        if raw is None:
            return None
        return cls(
            api_version=str(raw["apiVersion"]),
            kind=str(raw["kind"]),
            name=str(raw["name"]),
            namespace=_optional_str(raw.get("namespace")),
        )

    def as_input(self) -> Json:
        return {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "name": self.name,
            "namespace": self.namespace,
        }


@dataclass(frozen=True)
class Attribute:
    name: str
    value: str | None
    required: bool


@dataclass(frozen=True)
class BrokerStatus:
    """The Broker an EventType names, as far as the EventType's answer carries it."""

    name: str
    ready: bool | None


@dataclass(frozen=True)
class EventType:
    namespace: str
    name: str
    type: str
    source: str | None
    schema: str | None
    description: str | None
    broker_name: str | None
    broker: BrokerStatus | None
    ready: bool | None
    reason: str | None
    message: str | None
    consumable: bool
    consumers: tuple[str, ...]
    """Names of the Triggers whose filter surely matches (in this namespace)."""
    created_at: str
    api_version: str
    labels: tuple[Label, ...] = ()
    conditions: tuple[Condition, ...] = ()
    attributes: tuple[Attribute, ...] = ()
    reference: Reference | None = None
    owner: Reference | None = None
    """The object that owns this EventType (its ``controller`` ownerReference)."""
    producers: tuple[Reference, ...] = ()
    """The sources producing this EventType's events, as the cluster records them."""
    maybe_consumers: tuple[str, ...] = ()
    """Triggers that may match (UNKNOWN: the filter reads an attribute the EventType leaves
    open, e.g. ``id`` or an extension)."""

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    @classmethod
    def from_json(cls, raw: Json) -> EventType:
        broker = raw.get("broker")
        matches = raw.get("consumerMatches") or ()
        return cls(
            namespace=str(raw["namespace"]),
            name=str(raw["name"]),
            type=str(raw["type"]),
            source=_optional_str(raw.get("source")),
            schema=_optional_str(raw.get("schema")),
            description=_optional_str(raw.get("description")),
            broker_name=_optional_str(raw.get("brokerName")),
            broker=None
            if broker is None
            else BrokerStatus(str(broker["name"]), _optional_bool(broker.get("ready"))),
            ready=_optional_bool(raw.get("ready")),
            reason=_optional_str(raw.get("reason")),
            message=_optional_str(raw.get("message")),
            consumable=bool(raw.get("consumable")),
            consumers=_names(raw, "consumers"),
            created_at=str(raw.get("createdAt") or ""),
            api_version=str(raw.get("apiVersion") or ""),
            labels=_labels(raw),
            conditions=_conditions(raw),
            attributes=tuple(
                Attribute(str(a["name"]), _optional_str(a.get("value")), bool(a["required"]))
                for a in raw.get("attributes") or ()
            ),
            reference=Reference.from_json(raw.get("reference")),
            owner=Reference.from_json(raw.get("owner")),
            producers=tuple(
                reference
                for item in raw.get("producers") or ()
                if (reference := Reference.from_json(item)) is not None
            ),
            maybe_consumers=tuple(
                str(match["trigger"]["name"]) for match in matches if match["match"] == "UNKNOWN"
            ),
        )


@dataclass(frozen=True)
class Broker:
    namespace: str
    name: str
    broker_class: str | None
    url: str | None
    ready: bool | None
    reason: str | None
    message: str | None
    created_at: str
    labels: tuple[Label, ...] = ()
    conditions: tuple[Condition, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    @classmethod
    def from_json(cls, raw: Json) -> Broker:
        return cls(
            namespace=str(raw["namespace"]),
            name=str(raw["name"]),
            broker_class=_optional_str(raw.get("class")),
            url=_optional_str(raw.get("url")),
            ready=_optional_bool(raw.get("ready")),
            reason=_optional_str(raw.get("reason")),
            message=_optional_str(raw.get("message")),
            created_at=str(raw.get("createdAt") or ""),
            labels=_labels(raw),
            conditions=_conditions(raw),
        )


@dataclass(frozen=True)
class Subscriber:
    uri: str | None
    ref: Reference | None


@dataclass(frozen=True)
class Trigger:
    namespace: str
    name: str
    broker_name: str
    subscriber: Subscriber
    subscriber_uri: str | None
    filter: tuple[Label, ...]
    """The exact-match filter (spec.filter.attributes)."""
    filters: Any
    """spec.filters as JSON (SubscriptionsAPI dialects), or None."""
    ready: bool | None
    reason: str | None
    message: str | None
    created_at: str
    conditions: tuple[Condition, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    @classmethod
    def from_json(cls, raw: Json) -> Trigger:
        subscriber = raw.get("subscriber") or {}
        return cls(
            namespace=str(raw["namespace"]),
            name=str(raw["name"]),
            broker_name=str(raw["brokerName"]),
            subscriber=Subscriber(
                _optional_str(subscriber.get("uri")), Reference.from_json(subscriber.get("ref"))
            ),
            subscriber_uri=_optional_str(raw.get("subscriberUri")),
            filter=_labels(raw.get("filter") or {}, "attributes"),
            filters=raw.get("filters"),
            ready=_optional_bool(raw.get("ready")),
            reason=_optional_str(raw.get("reason")),
            message=_optional_str(raw.get("message")),
            created_at=str(raw.get("createdAt") or ""),
            conditions=_conditions(raw),
        )


@dataclass(frozen=True)
class NamespaceCounts:
    brokers: int
    event_types: int
    ready_event_types: int
    consumable_event_types: int
    triggers: int


@dataclass(frozen=True)
class Namespace:
    name: str
    phase: str
    counts: NamespaceCounts

    @classmethod
    def from_json(cls, raw: Json) -> Namespace:
        counts = raw["counts"]
        return cls(
            name=str(raw["name"]),
            phase=str(raw["phase"]),
            counts=NamespaceCounts(
                brokers=int(counts["brokers"]),
                event_types=int(counts["eventTypes"]),
                ready_event_types=int(counts["readyEventTypes"]),
                consumable_event_types=int(counts["consumableEventTypes"]),
                triggers=int(counts["triggers"]),
            ),
        )


@dataclass(frozen=True)
class EventTypePage:
    """One page of ``eventTypes``: its items, the total and where the next page starts."""

    items: tuple[EventType, ...]
    total_count: int
    end_cursor: str | None
    has_next_page: bool
