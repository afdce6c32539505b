"""Raw Kubernetes objects (any served Knative version) → immutable domain models.

Each function accepts the JSON dict the API returned and never raises on missing optional
fields: a malformed optional field reads as absent. Fields that differ between EventType
versions are filled both ways: v1beta3 ``attributes`` give ``type``/``source``/``schema``, and
v1beta1/v1beta2 fields give the equivalent ``attributes``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from . import models

Raw = Mapping[str, Any]


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value != "" else None


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
    metadata = raw.get("metadata") or {}
    owner = next(
        (
            reference(ref)
            for ref in metadata.get("ownerReferences") or ()
            if isinstance(ref, Mapping) and ref.get("controller")
        ),
        None,
    )
    return models.Meta(
        namespace=str(metadata.get("namespace") or ""),
        name=str(metadata.get("name") or ""),
        uid=str(metadata.get("uid") or ""),
        resource_version=str(metadata.get("resourceVersion") or ""),
        generation=int(metadata.get("generation") or 0),
        created_at=str(metadata.get("creationTimestamp") or ""),
        labels=_map(metadata.get("labels")),
        annotations=_map(metadata.get("annotations")),
        owner=owner,
        deleting=bool(metadata.get("deletionTimestamp")),
    )


def status(raw: Raw) -> models.Status:
    body = raw.get("status") or {}
    conditions = tuple(
        models.Condition(
            type=str(c.get("type") or ""),
            status=str(c.get("status") or "Unknown"),
            reason=str(c.get("reason") or ""),
            message=str(c.get("message") or ""),
            last_transition_time=str(c.get("lastTransitionTime") or ""),
            severity=str(c.get("severity") or ""),
        )
        for c in body.get("conditions") or ()
        if isinstance(c, Mapping) and c.get("type")
    )
    return models.Status(conditions, int(body.get("observedGeneration") or 0))


def namespace(raw: Raw) -> models.Namespace:
    phase = str((raw.get("status") or {}).get("phase") or "Active")
    return models.Namespace(meta(raw), phase)


def broker(raw: Raw) -> models.Broker:
    body = raw.get("status") or {}
    address = body.get("address") or {}
    object_meta = meta(raw)
    return models.Broker(
        meta=object_meta,
        broker_class=object_meta.annotations.get("eventing.knative.dev/broker.class", ""),
        url=_str(address.get("url")) if isinstance(address, Mapping) else None,
        config=reference((raw.get("spec") or {}).get("config")),
        status=status(raw),
    )


_V1BETA3_FIELDS = (("type", "type"), ("source", "source"), ("dataschema", "schema"))


def event_type(raw: Raw) -> models.EventType:
    spec = raw.get("spec") or {}
    api_version = str(raw.get("apiVersion") or "")
    raw_attributes = spec.get("attributes")
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


def trigger(raw: Raw) -> models.Trigger:
    spec = raw.get("spec") or {}
    broker_ref = reference(spec.get("brokerRef"))
    subscriber = spec.get("subscriber") or {}
    filters = spec.get("filters")
    return models.Trigger(
        meta=meta(raw),
        broker=_str(spec.get("broker")) or (broker_ref.name if broker_ref else ""),
        broker_ref=broker_ref,
        filter_attributes=_map((spec.get("filter") or {}).get("attributes")),
        filters=tuple(_freeze(f) for f in filters if isinstance(f, Mapping))
        if isinstance(filters, list)
        else (),
        subscriber=models.Destination(
            ref=reference(subscriber.get("ref")) if isinstance(subscriber, Mapping) else None,
            uri=_str(subscriber.get("uri")) if isinstance(subscriber, Mapping) else None,
        ),
        subscriber_uri=_str((raw.get("status") or {}).get("subscriberUri")),
        status=status(raw),
    )
