"""Raw Kubernetes objects (any served Knative version) → immutable domain models.

Each function accepts the JSON dict the API returned and never raises: a missing or a
malformed field (of the wrong JSON type) reads as absent. Fields that differ between
EventType versions are filled both ways: v1beta3 ``attributes`` give ``type``/``source``/
``schema``, and v1beta1/v1beta2 fields give the equivalent ``attributes``. A Trigger whose
``brokerRef`` names a Broker in another namespace has no local Broker (``broker == ""``).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from ..knative import eventtype_versions
from ..knative.vocabulary import BROKER_CLASS_ANNOTATION
from . import models

Raw = Mapping[str, Any]


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value != "" else None


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _items(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _int(value: object) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return 0


def _map(value: object) -> Mapping[str, str]:
    if not isinstance(value, Mapping) or not value:
        return models.EMPTY
    return MappingProxyType({str(k): str(v) for k, v in value.items()})


def reference(raw: object) -> models.Reference | None:
    if not isinstance(raw, Mapping) or not raw.get("name"):
        return None
    return models.Reference(
        api_version=str(raw.get("apiVersion") or ""),
        kind=str(raw.get("kind") or ""),
        name=str(raw["name"]),
        namespace=str(raw.get("namespace") or ""),
    )


def meta(raw: Raw) -> models.Meta:
    metadata = _mapping(raw.get("metadata"))
    owner = next(
        (
            reference(ref)
            for ref in _items(metadata.get("ownerReferences"))
            if isinstance(ref, Mapping) and ref.get("controller")
        ),
        None,
    )
    return models.Meta(
        namespace=str(metadata.get("namespace") or ""),
        name=str(metadata.get("name") or ""),
        uid=str(metadata.get("uid") or ""),
        resource_version=str(metadata.get("resourceVersion") or ""),
        generation=_int(metadata.get("generation")),
        created_at=str(metadata.get("creationTimestamp") or ""),
        labels=_map(metadata.get("labels")),
        annotations=_map(metadata.get("annotations")),
        owner=owner,
        deleting=bool(metadata.get("deletionTimestamp")),
    )


def status(raw: Raw) -> models.Status:
    body = _mapping(raw.get("status"))
    conditions = tuple(
        models.Condition(
            type=str(c.get("type") or ""),
            status=str(c.get("status") or "Unknown"),
            reason=str(c.get("reason") or ""),
            message=str(c.get("message") or ""),
            last_transition_time=str(c.get("lastTransitionTime") or ""),
            severity=str(c.get("severity") or ""),
        )
        for c in _items(body.get("conditions"))
        if isinstance(c, Mapping) and c.get("type")
    )
    return models.Status(conditions, _int(body.get("observedGeneration")))


def namespace(raw: Raw) -> models.Namespace:
    phase = str(_mapping(raw.get("status")).get("phase") or "Active")
    return models.Namespace(meta(raw), phase)


def broker(raw: Raw) -> models.Broker:
    address = _mapping(_mapping(raw.get("status")).get("address"))
    object_meta = meta(raw)
    return models.Broker(
        meta=object_meta,
        broker_class=object_meta.annotations.get(BROKER_CLASS_ANNOTATION, ""),
        url=_str(address.get("url")),
        config=reference(_mapping(raw.get("spec")).get("config")),
        status=status(raw),
    )


_V1BETA3_FIELDS = (("type", "type"), ("source", "source"), ("dataschema", "schema"))


def event_type(raw: Raw) -> models.EventType:
    spec = _mapping(raw.get("spec"))
    api_version = str(raw.get("apiVersion") or "")
    raw_attributes = spec.get("attributes")
    annotations = _mapping(_mapping(raw.get("metadata")).get("annotations"))
    if raw_attributes is None and eventtype_versions.ATTRIBUTES_ANNOTATION in annotations:
        # Registered in v1beta3 form and stored as v1beta2: the full attribute list travels in
        # an annotation; read it the way a v1beta3 client would see it.
        try:
            as_v1beta3 = eventtype_versions.convert_eventtype(dict(raw), eventtype_versions.V1BETA3)
            raw_attributes = _mapping(as_v1beta3.get("spec")).get("attributes")
        except (ValueError, TypeError, KeyError, AttributeError):
            raw_attributes = None
    if isinstance(raw_attributes, list):
        attributes = tuple(
            models.Attribute(
                name=str(a.get("name") or ""),
                value=str(a.get("value") or ""),
                required=bool(a.get("required")),
            )
            for a in raw_attributes
            if isinstance(a, Mapping) and a.get("name")
        )
        values = {a.name: a.value for a in attributes}
        fields = {model: _str(values.get(name)) for name, model in _V1BETA3_FIELDS}
    else:
        fields = {model: _str(spec.get(model)) for _, model in _V1BETA3_FIELDS}
        attributes = tuple(
            models.Attribute(name=name, value=fields[model] or "", required=True)
            for name, model in _V1BETA3_FIELDS
            if fields[model] is not None
        )
    return models.EventType(
        meta=meta(raw),
        api_version=api_version,
        type=fields["type"] or "",
        source=fields["source"],
        schema=fields["schema"],
        schema_data=_str(spec.get("schemaData")),
        description=_str(spec.get("description")),
        broker_name=_str(spec.get("broker")),
        reference=reference(spec.get("reference")),
        attributes=attributes,
        status=status(raw),
    )


def _freeze(value: Any) -> Any:
    if isinstance(value, Mapping):
        return MappingProxyType({str(k): _freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def _trigger_broker(spec: Mapping[str, Any], namespace: str) -> str:
    """The Broker name in the Trigger's own namespace ("" for a Broker elsewhere)."""
    broker_ref = reference(spec.get("brokerRef"))
    if broker_ref is not None:
        return broker_ref.name if broker_ref.namespace in ("", namespace) else ""
    return _str(spec.get("broker")) or ""


def trigger(raw: Raw) -> models.Trigger:
    spec = _mapping(raw.get("spec"))
    object_meta = meta(raw)
    subscriber = _mapping(spec.get("subscriber"))
    filters = spec.get("filters")
    return models.Trigger(
        meta=object_meta,
        broker=_trigger_broker(spec, object_meta.namespace),
        broker_ref=reference(spec.get("brokerRef")),
        filter_attributes=_map(_mapping(spec.get("filter")).get("attributes")),
        filters=tuple(_freeze(f) for f in filters if isinstance(f, Mapping))
        if isinstance(filters, list)
        else (),
        subscriber=models.Destination(
            ref=reference(subscriber.get("ref")), uri=_str(subscriber.get("uri"))
        ),
        subscriber_uri=_str(_mapping(raw.get("status")).get("subscriberUri")),
        status=status(raw),
    )
