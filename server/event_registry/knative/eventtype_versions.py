"""Conversion of ``eventing.knative.dev`` EventTypes between v1beta1, v1beta2 and v1beta3.

:func:`convert_eventtype` is a :data:`event_registry.controlplane.api.conversion.Converter`.
It is pure and lives beside the vocabulary because both the domain (normalizing what it reads,
writing v1beta2) and the embedded control plane (serving every version) convert EventTypes.

The versions:

* v1beta1 and v1beta2 share one spec: ``type``, ``source``, ``schema``, ``schemaData``,
  ``broker`` (deprecated), ``reference``, ``description``. Between them only ``apiVersion``
  changes.
* v1beta3 keeps ``reference`` and ``description`` and describes the event by
  ``attributes[]`` ``{name, required, value}``.
* ``metadata`` and ``status`` mean the same in every version and are copied unchanged, except
  for the round-trip annotations below.

The natural mapping follows Knative's own converter (``pkg/apis/eventing/v1beta2``): towards
v1beta3 the attributes are ``specversion`` and ``id`` (required, no value: any value is
accepted), then ``type`` and ``source`` (required, valued from ``spec.type`` and
``spec.source`` when those are set), then, when ``spec.schema`` is set, the optional
CloudEvents attribute ``dataschema`` valued with the schema URI. Towards v1beta2 ``spec.type``,
``spec.source`` and ``spec.schema`` take the values of the first ``type``, ``source`` and
``dataschema`` attributes (or, lacking a ``dataschema``, of the first ``schemadata``
attribute, the name Knative's converter writes). Unlike upstream, a v1beta2 ``spec.broker``
without a ``reference`` becomes a v1beta3 reference to that Broker
(``{apiVersion: eventing.knative.dev/v1, kind: Broker, name: <broker>}``) instead of being lost.

Guarantees:

* Round trips are lossless: for every object without the reserved annotations below,
  v1beta2 -> v1beta3 -> v1beta2 and v1beta3 -> v1beta2 -> v1beta3 (likewise through v1beta1)
  give back an object equal to the input, field presence included. Every converted object is
  itself such an object, so repeated conversions never drift.
* What the target version cannot say natively travels in ``metadata.annotations``; the
  reverse conversion consumes and removes it:

  - ``registry.knative.dev/v1beta3-attributes`` (on v1beta1/v1beta2): JSON of the v1beta3
    ``attributes`` when they differ from what the v1beta2 fields imply (order, ``required``
    flags, extra attributes, values of ``specversion``/``id``, template values), ``null``
    when ``attributes`` was absent. The values held natively by ``type``, ``source`` and
    ``schema`` are left out of it, so the spec fields stay authoritative.
  - ``registry.knative.dev/v1beta2-broker`` (on v1beta3): the ``spec.broker`` that the
    reference was derived from.
  - ``registry.knative.dev/v1beta2-fields`` (on v1beta3): JSON object of the v1beta2 fields
    v1beta3 cannot hold: ``schemaData``, and ``broker`` when it did not become the reference.

* The converter owns those three keys: an object in v1beta3 never carries
  ``v1beta3-attributes`` and one in v1beta1/v1beta2 never carries ``v1beta2-*``. An
  annotation that does not fit the object (malformed, or contradicting the native fields) is
  dropped and the natural mapping applies.
* An annotations map left empty by consuming them is removed, as Kubernetes omits empty maps.
* Spec fields unknown to every version are copied unchanged; fields of another version's
  schema (which the API server prunes before conversion) are dropped.
* The input is never mutated and the result shares no mutable state with it.
* Converting to the object's own version returns an equal copy. An unknown source or target
  ``apiVersion`` raises :class:`ValueError`.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from .vocabulary import BROKER, EVENT_TYPE
from .vocabulary import REGISTRY_ATTRIBUTES_ANNOTATION as ATTRIBUTES_ANNOTATION
from .vocabulary import REGISTRY_BROKER_ANNOTATION as BROKER_ANNOTATION
from .vocabulary import REGISTRY_FIELDS_ANNOTATION as FIELDS_ANNOTATION

__all__ = [
    "API_VERSIONS",
    "ATTRIBUTES_ANNOTATION",
    "BROKER_ANNOTATION",
    "BROKER_API_VERSION",
    "FIELDS_ANNOTATION",
    "GROUP",
    "KIND",
    "V1BETA1",
    "V1BETA2",
    "V1BETA3",
    "convert_eventtype",
]

GROUP = EVENT_TYPE.group
KIND = EVENT_TYPE.kind

V1BETA1 = EVENT_TYPE.api_version_of("v1beta1")
V1BETA2 = EVENT_TYPE.api_version_of("v1beta2")
V1BETA3 = EVENT_TYPE.api_version_of("v1beta3")
API_VERSIONS = (V1BETA1, V1BETA2, V1BETA3)

BROKER_API_VERSION = BROKER.api_version
"""apiVersion of the Broker reference derived from a v1beta2 ``spec.broker``."""

_V1BETA2_FIELDS = ("type", "source", "schema", "schemaData", "broker", "reference", "description")
_V1BETA3_FIELDS = ("reference", "description", "attributes")
_KNOWN_FIELDS = frozenset(_V1BETA2_FIELDS + _V1BETA3_FIELDS)

_CARRIED_FIELDS = frozenset({"schemaData", "broker"})
"""v1beta2 fields that may travel in the FIELDS_ANNOTATION."""

_NATIVE_ATTRIBUTES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("type", ("type",)),
    ("source", ("source",)),
    ("schema", ("dataschema", "schemadata")),
)
"""v1beta2 field -> names of the v1beta3 attribute holding its value, by preference."""


def convert_eventtype(obj: dict[str, Any], api_version: str) -> dict[str, Any]:
    """Return a new EventType equal to ``obj`` expressed in ``api_version``."""
    source = obj.get("apiVersion")
    if source not in API_VERSIONS:
        raise ValueError(f"not an EventType apiVersion: {source!r}")
    if api_version not in API_VERSIONS:
        raise ValueError(f"cannot convert an EventType to apiVersion {api_version!r}")
    result = copy.deepcopy(obj)
    result["apiVersion"] = api_version
    if (source == V1BETA3) == (api_version == V1BETA3):
        return result
    if api_version == V1BETA3:
        _to_v1beta3(result)
    else:
        _from_v1beta3(result)
    return result


def _to_v1beta3(obj: dict[str, Any]) -> None:
    """Rewrite a deep copy of a v1beta1/v1beta2 object into v1beta3, in place."""
    stored_attributes = _pop_annotation(obj, ATTRIBUTES_ANNOTATION)
    spec = obj.get("spec")
    derived_broker: str | None = None
    carried: dict[str, Any] = {}
    if isinstance(spec, dict):
        new_spec: dict[str, Any] = {}
        if "reference" in spec:
            new_spec["reference"] = spec["reference"]
        elif isinstance(spec.get("broker"), str) and spec["broker"]:
            derived_broker = spec["broker"]
            new_spec["reference"] = _broker_reference(derived_broker)
        if "description" in spec:
            new_spec["description"] = spec["description"]
        natives = {field: spec[field] for field, _ in _NATIVE_ATTRIBUTES if field in spec}
        restored = _restore_attributes(stored_attributes, natives)
        if restored is None:
            new_spec["attributes"] = _natural_attributes(natives)
        elif restored.present:
            new_spec["attributes"] = restored.value
        carried = {
            field: spec[field]
            for field in ("schemaData", "broker")
            if field in spec and not (field == "broker" and derived_broker is not None)
        }
        new_spec.update({k: v for k, v in spec.items() if k not in _KNOWN_FIELDS})
        obj["spec"] = new_spec
    _pop_annotation(obj, BROKER_ANNOTATION)
    _pop_annotation(obj, FIELDS_ANNOTATION)
    if derived_broker is not None:
        _set_annotation(obj, BROKER_ANNOTATION, derived_broker)
    if carried:
        _set_annotation(obj, FIELDS_ANNOTATION, _dumps(carried))


def _from_v1beta3(obj: dict[str, Any]) -> None:
    """Rewrite a deep copy of a v1beta3 object into v1beta1/v1beta2, in place."""
    stored_broker = _pop_annotation(obj, BROKER_ANNOTATION)
    stored_fields = _pop_annotation(obj, FIELDS_ANNOTATION)
    _pop_annotation(obj, ATTRIBUTES_ANNOTATION)
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    attributes = spec.get("attributes")
    natives: dict[str, Any] = {}
    if isinstance(attributes, list):
        for field, index in _native_positions(attributes).items():
            if "value" in attributes[index]:
                natives[field] = attributes[index]["value"]

    new_spec: dict[str, Any] = dict(natives)
    new_spec.update(_carried_fields(stored_fields))
    reference_from_broker = (
        isinstance(stored_broker, str)
        and bool(stored_broker)
        and spec.get("reference") == _broker_reference(stored_broker)
    )
    if reference_from_broker:
        new_spec["broker"] = stored_broker
    elif "reference" in spec:
        new_spec["reference"] = spec["reference"]
    if "description" in spec:
        new_spec["description"] = spec["description"]
    new_spec.update({k: v for k, v in spec.items() if k not in _KNOWN_FIELDS})
    obj["spec"] = new_spec

    if "attributes" not in spec:
        _set_annotation(obj, ATTRIBUTES_ANNOTATION, _dumps(None))
    elif attributes != _natural_attributes(natives):
        _set_annotation(obj, ATTRIBUTES_ANNOTATION, _dumps(_without_native_values(attributes)))


def _natural_attributes(natives: dict[str, Any]) -> list[dict[str, Any]]:
    """The v1beta3 attributes implied by the v1beta2 fields ``type``, ``source``, ``schema``."""

    def attribute(name: str, required: bool, field: str | None = None) -> dict[str, Any]:
        result: dict[str, Any] = {"name": name, "required": required}
        if field is not None and field in natives:
            result["value"] = natives[field]
        return result

    attributes = [
        attribute("specversion", True),
        attribute("id", True),
        attribute("type", True, "type"),
        attribute("source", True, "source"),
    ]
    if "schema" in natives:
        attributes.append(attribute("dataschema", False, "schema"))
    return attributes


def _native_positions(attributes: list[Any]) -> dict[str, int]:
    """Index of the attribute holding each natively expressible v1beta2 field."""
    positions: dict[str, int] = {}
    for field, names in _NATIVE_ATTRIBUTES:
        for name in names:
            index = next(
                (
                    i
                    for i, attribute in enumerate(attributes)
                    if isinstance(attribute, dict) and attribute.get("name") == name
                ),
                None,
            )
            if index is not None:
                positions[field] = index
                break
    return positions


def _without_native_values(attributes: Any) -> Any:
    """``attributes`` with the values that the v1beta2 fields hold left out."""
    if not isinstance(attributes, list):
        return attributes
    stripped = list(attributes)
    for index in _native_positions(attributes).values():
        stripped[index] = {k: v for k, v in attributes[index].items() if k != "value"}
    return stripped


@dataclass(frozen=True)
class _Restored:
    """Attributes recovered from the annotation; ``present`` is False when they were absent."""

    present: bool
    value: Any = None


def _restore_attributes(stored: str | None, natives: dict[str, Any]) -> _Restored | None:
    """The v1beta3 attributes recorded in the annotation, or None if it does not apply."""
    if stored is None:
        return None
    try:
        attributes = json.loads(stored)
    except ValueError:
        return None
    if not isinstance(attributes, list):
        if natives:
            return None
        return _Restored(present=attributes is not None, value=attributes)
    positions = _native_positions(attributes)
    if not natives.keys() <= positions.keys():
        return None
    for field, index in positions.items():
        attribute = {k: v for k, v in attributes[index].items() if k != "value"}
        if field in natives:
            attribute["value"] = natives[field]
        attributes[index] = attribute
    return _Restored(present=True, value=attributes)


def _carried_fields(stored: str | None) -> dict[str, Any]:
    """The v1beta2 fields recorded in the FIELDS_ANNOTATION, if it is well formed."""
    if stored is None:
        return {}
    try:
        fields = json.loads(stored)
    except ValueError:
        return {}
    if not isinstance(fields, dict) or not fields.keys() <= _CARRIED_FIELDS:
        return {}
    return fields


def _broker_reference(broker: str) -> dict[str, Any]:
    return {"apiVersion": BROKER_API_VERSION, "kind": BROKER.kind, "name": broker}


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def _pop_annotation(obj: dict[str, Any], key: str) -> str | None:
    """Remove ``key`` from the annotations; return its value if it was a string."""
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict):
        return None
    annotations = metadata.get("annotations")
    if not isinstance(annotations, dict) or key not in annotations:
        return None
    value = annotations.pop(key)
    if not annotations:
        del metadata["annotations"]
    return value if isinstance(value, str) else None


def _set_annotation(obj: dict[str, Any], key: str, value: str) -> None:
    metadata = obj.setdefault("metadata", {})
    if not isinstance(metadata, dict):
        raise ValueError("EventType metadata must be an object")
    annotations = metadata.get("annotations")
    if annotations is None:
        annotations = metadata["annotations"] = {}
    elif not isinstance(annotations, dict):
        raise ValueError("EventType metadata.annotations must be an object")
    annotations[key] = value
