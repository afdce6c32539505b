"""``kreg describe``: one object as indented ``Key: value`` text, like ``kubectl describe``.

Pure functions of the models. An EventType shows its attributes, Broker and its readiness,
conditions, consumers (sure matches, then possible ones), producers (the sources the cluster
records as producing its events) and the objects it names (its owner and spec.reference).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..models import Broker, Condition, EventType, Label, Reference, Trigger
from .output import ready_text, table


def _reference(reference: Reference | None) -> str:
    if reference is None:
        return "<none>"
    where = f" (namespace {reference.namespace})" if reference.namespace else ""
    return f"{reference.kind}/{reference.name} {reference.api_version}{where}"


def _labels(labels: Sequence[Label]) -> str:
    return ", ".join(f"{label.key}={label.value}" for label in labels) or "<none>"


def _conditions(conditions: Sequence[Condition]) -> list[str]:
    if not conditions:
        return ["Conditions:     <none>"]
    rows = [
        [c.type, c.status, c.reason or "", c.message or "", c.last_transition_time or ""]
        for c in conditions
    ]
    text = table(rows, ["TYPE", "STATUS", "REASON", "MESSAGE", "LAST TRANSITION"])
    return ["Conditions:", *(f"  {line}" for line in text.splitlines())]


def _field(name: str, value: str | None) -> str:
    return f"{name + ':':<16}{value if value not in (None, '') else '<none>'}"


def describe_event_type(event_type: EventType) -> str:
    broker = event_type.broker
    if broker is not None:
        broker_text = f"{broker.name} (Ready: {ready_text(broker.ready)})"
    elif event_type.broker_name:
        broker_text = f"{event_type.broker_name} (does not exist)"
    else:
        broker_text = None
    lines = [
        _field("Name", event_type.name),
        _field("Namespace", event_type.namespace),
        _field("API Version", event_type.api_version),
        _field("Created", event_type.created_at),
        _field("Labels", _labels(event_type.labels)),
        _field("Type", event_type.type),
        _field("Source", event_type.source),
        _field("Schema", event_type.schema),
        _field("Description", event_type.description),
        _field("Broker", broker_text),
        _field("Ready", ready_text(event_type.ready)),
        _field("Reason", event_type.reason),
        _field("Message", event_type.message),
        _field("Consumable", str(event_type.consumable)),
        "Attributes:" if event_type.attributes else _field("Attributes", None),
    ]
    for attribute in event_type.attributes:
        required = "required" if attribute.required else "optional"
        lines.append(f"  {attribute.name} = {attribute.value or '*'} ({required})")
    lines += _conditions(event_type.conditions)
    lines.append(_field("Consumers", ", ".join(event_type.consumers)))
    if event_type.maybe_consumers:
        lines.append(_field("Maybe consumers", ", ".join(event_type.maybe_consumers)))
    producers = [_reference(producer) for producer in event_type.producers]
    lines.append(_field("Producers", None) if not producers else "Producers:")
    lines += [f"  {producer}" for producer in producers]
    lines.append(_field("Owner", _reference(event_type.owner)))
    lines.append(_field("Reference", _reference(event_type.reference)))
    return "\n".join(lines)


def describe_broker(broker: Broker) -> str:
    lines = [
        _field("Name", broker.name),
        _field("Namespace", broker.namespace),
        _field("Created", broker.created_at),
        _field("Labels", _labels(broker.labels)),
        _field("Class", broker.broker_class),
        _field("URL", broker.url),
        _field("Ready", ready_text(broker.ready)),
        _field("Reason", broker.reason),
        _field("Message", broker.message),
        *_conditions(broker.conditions),
    ]
    return "\n".join(lines)


def describe_trigger(trigger: Trigger) -> str:
    subscriber = trigger.subscriber
    lines = [
        _field("Name", trigger.name),
        _field("Namespace", trigger.namespace),
        _field("Created", trigger.created_at),
        _field("Broker", trigger.broker_name),
        _field("Subscriber", subscriber.uri or _reference(subscriber.ref)),
        _field("Subscriber URI", trigger.subscriber_uri),
        _field("Filter", _labels(trigger.filter)),
        _field("Filters", None if trigger.filters is None else str(trigger.filters)),
        _field("Ready", ready_text(trigger.ready)),
        _field("Reason", trigger.reason),
        *_conditions(trigger.conditions),
    ]
    return "\n".join(lines)
