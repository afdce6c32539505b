"""Immutable domain models of the registry: Namespace, Broker, EventType, Trigger.

One model per Knative kind whatever API version it was read in; fields of every version are
present (an EventType read as v1beta2 still has ``attributes``, one read as v1beta3 still has
``type``/``source``/``schema``). Models are frozen and shared freely between snapshots, queries
and subscriptions; nobody mutates them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ..knative.vocabulary import BROKER

EMPTY: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Condition:
    type: str
    status: str
    reason: str = ""
    message: str = ""
    last_transition_time: str = ""
    severity: str = ""


@dataclass(frozen=True, slots=True)
class Reference:
    """A KReference: apiVersion/kind/name and an optional namespace."""

    api_version: str
    kind: str
    name: str
    namespace: str = ""

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0]


@dataclass(frozen=True, slots=True)
class Attribute:
    """A CloudEvents attribute an EventType declares (v1beta3 ``spec.attributes[]``)."""

    name: str
    value: str = ""
    required: bool = False

    @property
    def is_template(self) -> bool:
        return "{" in self.value and "}" in self.value


@dataclass(frozen=True, slots=True)
class Meta:
    """The ObjectMeta fields the registry uses."""

    namespace: str
    name: str
    uid: str = ""
    resource_version: str = ""
    generation: int = 0
    created_at: str = ""
    labels: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    annotations: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    owner: Reference | None = None
    deleting: bool = False


@dataclass(frozen=True, slots=True)
class Status:
    conditions: tuple[Condition, ...] = ()
    observed_generation: int = 0

    def condition(self, type_: str) -> Condition | None:
        for condition in self.conditions:  # a loop, not a generator: this is a hot path
            if condition.type == type_:
                return condition
        return None


@dataclass(frozen=True, slots=True)
class Namespace:
    meta: Meta
    phase: str = "Active"

    @property
    def name(self) -> str:
        return self.meta.name


@dataclass(frozen=True, slots=True)
class Broker:
    meta: Meta
    broker_class: str = ""
    url: str | None = None
    config: Reference | None = None
    status: Status = field(default_factory=Status)


@dataclass(frozen=True, slots=True)
class EventType:
    meta: Meta
    api_version: str
    type: str
    source: str | None = None
    schema: str | None = None
    schema_data: str | None = None
    description: str | None = None
    broker_name: str | None = None
    """``spec.broker`` as written (v1beta1/v1beta2, deprecated)."""
    reference: Reference | None = None
    attributes: tuple[Attribute, ...] = ()
    status: Status = field(default_factory=Status)

    @property
    def broker(self) -> str | None:
        """The Broker carrying this type: ``spec.broker`` or a Broker ``reference``."""
        reference = self.reference
        if (
            reference is not None
            and reference.kind == BROKER.kind
            and reference.group == BROKER.group
            and reference.namespace in ("", self.meta.namespace)
        ):
            return reference.name
        if reference is None:
            return self.broker_name
        return None

    def attribute(self, name: str) -> Attribute | None:
        return next((a for a in self.attributes if a.name == name), None)


@dataclass(frozen=True, slots=True)
class Destination:
    ref: Reference | None = None
    uri: str | None = None


@dataclass(frozen=True, slots=True)
class Trigger:
    meta: Meta
    broker: str
    broker_ref: Reference | None = None
    filter_attributes: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    filters: tuple[Mapping[str, Any], ...] = ()
    subscriber: Destination = field(default_factory=Destination)
    subscriber_uri: str | None = None
    status: Status = field(default_factory=Status)
