"""What the registry writes: validated inputs → Kubernetes manifests, and how writes fail.

Pure: validation happens here, before anything is sent, so a rejected input never reaches
the cluster. Each problem is a :class:`FieldError` naming the input field (``input.type``,
``input.filters[1]``), with a machine-readable reason and a readable message.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from ..knative import eventtype_versions
from ..knative.vocabulary import BROKER, BROKER_CLASS_ANNOTATION, EVENT_TYPE, TRIGGER
from . import models

Reason = Literal["Required", "Invalid", "TooLong", "NotSupported", "Conflict"]

_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_QUALIFIED_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
_ATTRIBUTE_NAME = re.compile(r"[a-z0-9]{1,20}")
"""CloudEvents attribute names: lower-case letters and digits (20 characters at most)."""
REQUIRED_ATTRIBUTES = frozenset({"type", "source", "specversion", "id"})
"""CloudEvents context attributes every event carries."""
DIALECTS = ("exact", "prefix", "suffix", "all", "any", "not", "cesql")
GENERATED_SUFFIX = 5
MAX_NAME = 253
MAX_JSON_DEPTH = 32
"""Levels of lists and objects allowed in JSON inputs (Trigger filters, delivery): real ones
need a few; far deeper ones would exhaust the stack of whatever walks them."""


@dataclass(frozen=True)
class FieldError:
    field: str
    reason: Reason
    message: str


class WriteRejected(Exception):
    """The cluster refused a write. Raised only as one of the variants below, which say what
    happened; how the cluster said it (a Status, its HTTP code) stays in the cluster layer."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(WriteRejected):
    """The object to change, or the namespace to write in, does not exist."""


class AlreadyExists(WriteRejected):
    """An object of that name exists already."""


class Conflict(WriteRejected):
    """The write contradicts the object's current state (it changed meanwhile)."""


class Forbidden(WriteRejected):
    """The writer may not make this write."""


class Invalid(WriteRejected):
    """The cluster found the object invalid; ``causes`` name the fields (at least one)."""

    def __init__(self, message: str, causes: tuple[FieldError, ...]) -> None:
        super().__init__(message)
        self.causes = causes or (FieldError("input", "Invalid", message),)


class Unanswered(Exception):
    """The cluster did not answer a write: unreachable, timed out, overloaded (429) or failing
    (5xx). Not the writer's doing and no refusal: the same write may succeed later. Whether
    it was made is unknown when the answer was lost on the way back."""

    def __init__(self, message: str, retry_after_seconds: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after_seconds = retry_after_seconds


# field checks --------------------------------------------------------------------------


def name_errors(value: str, path: str, *, label: bool = False) -> list[FieldError]:
    limit = 63 if label else MAX_NAME
    pattern = _LABEL if label else _SUBDOMAIN
    kind = "RFC 1123 label" if label else "RFC 1123 subdomain"
    if not value:
        return [FieldError(path, "Required", "a name is required")]
    if len(value) > limit:
        return [FieldError(path, "TooLong", f"must be no more than {limit} characters")]
    if not pattern.fullmatch(value):
        return [
            FieldError(
                path,
                "Invalid",
                f"{value!r} is not a lowercase {kind}: use lower-case letters, digits, '-'"
                + ("" if label else " and '.'")
                + ", starting and ending with a letter or digit",
            )
        ]
    return []


def broker_name_errors(value: str, path: str) -> list[FieldError]:
    """Broker names also become the ``eventing.knative.dev/broker`` label of Triggers, so they
    must fit a label value (63 characters) as well as be a DNS-1123 subdomain."""
    errors = name_errors(value, path)
    if not errors and len(value) > 63:
        errors.append(FieldError(path, "TooLong", "must be no more than 63 characters"))
    return errors


def uri_reference_errors(value: str | None, path: str, *, absolute: bool) -> list[FieldError]:
    if value is None:
        return []
    if not value.strip() or any(c.isspace() for c in value):
        return [FieldError(path, "Invalid", f"{value!r} is not a URI reference")]
    try:
        parts = urlsplit(value)
    except ValueError:
        return [FieldError(path, "Invalid", f"{value!r} is not a URI reference")]
    if absolute and not (parts.scheme and (parts.netloc or parts.path)):
        return [FieldError(path, "Invalid", f"{value!r} is not an absolute URI")]
    return []


def labels_errors(labels: Mapping[str, str], path: str) -> list[FieldError]:
    errors = []
    for key, value in labels.items():
        prefix, slash, name = key.rpartition("/")
        if (
            (slash and not (len(prefix) <= MAX_NAME and _SUBDOMAIN.fullmatch(prefix)))
            or len(name) > 63
            or not _QUALIFIED_NAME.fullmatch(name)
        ):
            errors.append(FieldError(f"{path}.{key}", "Invalid", f"{key!r} is not a label key"))
        elif len(value) > 63 or not _LABEL_VALUE.fullmatch(value):
            errors.append(
                FieldError(f"{path}.{key}", "Invalid", f"{value!r} is not a valid label value")
            )
    return errors


def naming_errors(name: str | None, generate_name: str | None) -> list[FieldError]:
    """``input.name`` / ``input.generateName``: at most one, each a valid (prefix of a) name."""
    errors = []
    if name is not None and generate_name is not None:
        errors.append(FieldError("input.name", "Conflict", "give name or generateName, not both"))
    if name is not None:
        errors.extend(name_errors(name, "input.name"))
    if generate_name is not None:
        errors.extend(generate_name_errors(generate_name, "input.generateName"))
    return errors


def generate_name_errors(prefix: str, path: str) -> list[FieldError]:
    """A prefix that is a valid name once the server appends its random suffix."""
    limit = MAX_NAME - GENERATED_SUFFIX
    if len(prefix) > limit:
        return [FieldError(path, "TooLong", f"must be no more than {limit} characters")]
    if not _SUBDOMAIN.fullmatch(prefix + "x" * GENERATED_SUFFIX):
        return [
            FieldError(
                path,
                "Invalid",
                f"{prefix!r} is not a prefix of a lowercase RFC 1123 subdomain: use lower-case"
                " letters, digits, '-' and '.', starting with a letter or digit",
            )
        ]
    return []


def object_metadata(
    namespace: str,
    name: str | None,
    generate_name: str | None,
    default_prefix: str,
    labels: Mapping[str, str],
) -> dict[str, Any]:
    """metadata for a new object: its name, or a generateName (given or ``default_prefix``)."""
    metadata: dict[str, Any] = {"namespace": namespace}
    if name:
        metadata["name"] = name
    else:
        metadata["generateName"] = generate_name or default_prefix
    if labels:
        metadata["labels"] = dict(labels)
    return metadata


def readable_name(cloud_event_type: str) -> str:
    """A DNS-1123 ``generateName`` prefix derived from a CloudEvents type (seed §1.1)."""
    lowered = cloud_event_type.lower()
    cleaned = re.sub(r"[^a-z0-9.-]+", "-", lowered)
    cleaned = re.sub(r"[-.]{2,}", lambda m: m.group(0)[0], cleaned).strip("-.")
    prefix = cleaned[: MAX_NAME - GENERATED_SUFFIX - 1].rstrip("-.") or "eventtype"
    return f"{prefix}-"


# inputs --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReferenceInput:
    api_version: str
    kind: str
    name: str
    namespace: str | None = None

    def manifest(self) -> dict[str, str]:
        body = {"apiVersion": self.api_version, "kind": self.kind, "name": self.name}
        if self.namespace:
            body["namespace"] = self.namespace
        return body


def reference_errors(reference: ReferenceInput, path: str) -> list[FieldError]:
    errors = []
    for name, value in (
        ("apiVersion", reference.api_version),
        ("kind", reference.kind),
        ("name", reference.name),
    ):
        if not value:
            errors.append(FieldError(f"{path}.{name}", "Required", f"{name} is required"))
    if reference.name:
        errors.extend(name_errors(reference.name, f"{path}.name"))
    if reference.namespace:
        errors.extend(name_errors(reference.namespace, f"{path}.namespace", label=True))
    return errors


@dataclass(frozen=True)
class AttributeInput:
    name: str
    value: str | None = None
    required: bool = False


_DIRECT_ATTRIBUTES = (("type", "type"), ("source", "source"), ("schema", "dataschema"))
"""The RegisterEventType fields that are also CloudEvents attributes, and those attributes."""


@dataclass(frozen=True)
class RegisterEventType:
    namespace: str
    type: str | None = None
    name: str | None = None
    generate_name: str | None = None
    source: str | None = None
    schema: str | None = None
    schema_data: str | None = None
    description: str | None = None
    broker: str | None = None
    reference: ReferenceInput | None = None
    attributes: tuple[AttributeInput, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)

    def effective_type(self) -> str | None:
        if self.type is not None:
            return self.type
        return next((a.value for a in self.attributes if a.name == "type"), None)

    def effective(self, attribute: str, fallback: str | None) -> str | None:
        if fallback is not None:
            return fallback
        return next((a.value for a in self.attributes if a.name == attribute), None)


def register_event_type_errors(request: RegisterEventType) -> list[FieldError]:
    errors = name_errors(request.namespace, "input.namespace", label=True)
    errors.extend(naming_errors(request.name, request.generate_name))
    event_type = request.effective_type()
    if not event_type or not event_type.strip():
        errors.append(FieldError("input.type", "Required", "the CloudEvents type is required"))
    for attribute in request.attributes:
        if not _ATTRIBUTE_NAME.fullmatch(attribute.name):
            errors.append(
                FieldError(
                    f"input.attributes.{attribute.name}",
                    "Invalid",
                    "CloudEvents attribute names are 1-20 lower-case letters or digits",
                )
            )
    names = [a.name for a in request.attributes]
    for duplicate in sorted({n for n in names if names.count(n) > 1}):
        errors.append(FieldError(f"input.attributes.{duplicate}", "Conflict", "given twice"))
    for direct_field, attribute_name in _DIRECT_ATTRIBUTES:
        direct = getattr(request, direct_field)
        declared = next((a.value for a in request.attributes if a.name == attribute_name), None)
        if direct is not None and declared is not None and direct != declared:
            errors.append(
                FieldError(
                    f"input.attributes.{attribute_name}",
                    "Conflict",
                    f"differs from input.{direct_field}",
                )
            )
    errors.extend(
        uri_reference_errors(
            request.effective("source", request.source), "input.source", absolute=False
        )
    )
    errors.extend(
        uri_reference_errors(
            request.effective("dataschema", request.schema), "input.schema", absolute=True
        )
    )
    if request.broker is not None and request.reference is not None:
        errors.append(
            FieldError("input.reference", "Conflict", "give broker or reference, not both")
        )
    if request.broker is not None:
        errors.extend(broker_name_errors(request.broker, "input.broker"))
    if request.reference is not None:
        errors.extend(reference_errors(request.reference, "input.reference"))
    errors.extend(labels_errors(request.labels, "input.labels"))
    return errors


def event_type_manifest(request: RegisterEventType) -> dict[str, Any]:
    """The v1beta2 (storage version) manifest; the Broker always as a reference."""
    metadata = object_metadata(
        request.namespace,
        request.name,
        request.generate_name,
        readable_name(request.effective_type() or ""),
        request.labels,
    )
    spec: dict[str, Any] = {"type": request.effective_type()}
    source = request.effective("source", request.source)
    schema = request.effective("dataschema", request.schema)
    for key, value in (
        ("source", source),
        ("schema", schema),
        ("schemaData", request.schema_data),
        ("description", request.description),
    ):
        if value is not None:
            spec[key] = value
    if request.reference is not None:
        spec["reference"] = request.reference.manifest()
    elif request.broker is not None:
        spec["reference"] = {
            "apiVersion": BROKER.api_version,
            "kind": BROKER.kind,
            "name": request.broker,
        }
    manifest = {
        "apiVersion": EVENT_TYPE.api_version,
        "kind": EVENT_TYPE.kind,
        "metadata": metadata,
        "spec": spec,
    }
    if not request.attributes:
        return manifest
    # v1beta3-style attributes: build that form and convert it losslessly to v1beta2. The
    # direct fields not declared as attributes become attributes too, so none is lost.
    declared = {a.name for a in request.attributes}
    implied = (
        AttributeInput(name)
        for direct_field, name in _DIRECT_ATTRIBUTES
        if name not in declared and getattr(request, direct_field) is not None
    )
    v1beta3_spec: dict[str, Any] = {
        "attributes": [_attribute(a, request) for a in (*request.attributes, *implied)]
    }
    for key in ("reference", "description"):
        if key in spec:
            v1beta3_spec[key] = spec[key]
    v1beta3 = {
        "apiVersion": eventtype_versions.V1BETA3,
        "kind": EVENT_TYPE.kind,
        "metadata": metadata,
        "spec": v1beta3_spec,
    }
    converted = eventtype_versions.convert_eventtype(v1beta3, EVENT_TYPE.api_version)
    if request.schema_data is not None:
        converted["spec"]["schemaData"] = request.schema_data
    return converted


def _attribute(attribute: AttributeInput, request: RegisterEventType) -> dict[str, Any]:
    value = attribute.value
    if value is None:
        direct = {"type": request.type, "source": request.source, "dataschema": request.schema}
        value = direct.get(attribute.name)
    required = attribute.required or attribute.name in REQUIRED_ATTRIBUTES
    body: dict[str, Any] = {"name": attribute.name, "required": required}
    if value is not None:
        body["value"] = value
    return body


# triggers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubscriberInput:
    ref: ReferenceInput | None = None
    uri: str | None = None

    def manifest(self) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if self.ref is not None:
            body["ref"] = self.ref.manifest()
        if self.uri is not None:
            body["uri"] = self.uri
        return body


def subscriber_errors(subscriber: SubscriberInput, path: str) -> list[FieldError]:
    if subscriber.ref is None and subscriber.uri is None:
        return [FieldError(path, "Required", "give a subscriber ref or uri")]
    errors = []
    if subscriber.ref is not None:
        errors.extend(reference_errors(subscriber.ref, f"{path}.ref"))
    errors.extend(
        uri_reference_errors(subscriber.uri, f"{path}.uri", absolute=subscriber.ref is None)
    )
    return errors


@dataclass(frozen=True)
class CreateTrigger:
    namespace: str
    broker: str
    subscriber: SubscriberInput
    name: str | None = None
    generate_name: str | None = None
    filter_attributes: Mapping[str, str] = field(default_factory=dict)
    filters: tuple[Mapping[str, Any], ...] = ()
    delivery: Mapping[str, Any] | None = None
    labels: Mapping[str, str] = field(default_factory=dict)


def filter_errors(entry: Any, path: str) -> list[FieldError]:
    if not isinstance(entry, Mapping):
        return [FieldError(path, "Invalid", "a filter must be an object with one dialect")]
    dialects = [key for key in entry if key in DIALECTS]
    unknown = [key for key in entry if key not in DIALECTS]
    if unknown:
        return [
            FieldError(path, "NotSupported", f"unknown filter dialect(s): {', '.join(unknown)}")
        ]
    if len(dialects) != 1:
        return [FieldError(path, "Invalid", "each filter needs exactly one dialect")]
    dialect = dialects[0]
    value = entry[dialect]
    if dialect in ("exact", "prefix", "suffix"):
        if not isinstance(value, Mapping) or not value:
            return [FieldError(f"{path}.{dialect}", "Invalid", "expected attribute: value pairs")]
        return [
            FieldError(f"{path}.{dialect}.{key}", "Invalid", "not a CloudEvents attribute name")
            for key, item in value.items()
            if not _ATTRIBUTE_NAME.fullmatch(str(key)) or not isinstance(item, str) or not item
        ]
    if dialect in ("all", "any"):
        if not isinstance(value, list) or not value:
            return [FieldError(f"{path}.{dialect}", "Invalid", "expected a non-empty list")]
        return [
            e
            for i, nested in enumerate(value)
            for e in filter_errors(nested, f"{path}.{dialect}[{i}]")
        ]
    if dialect == "not":
        return filter_errors(value, f"{path}.not")
    if not isinstance(value, str) or not value.strip():
        return [FieldError(f"{path}.cesql", "Invalid", "expected a CESQL expression")]
    return []


def nesting_depth(value: Any) -> int:
    """Levels of lists and objects in a JSON value (0 for a scalar), without recursion."""
    deepest = 0
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, Mapping):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        pending.extend((child, depth + 1) for child in children)
    return deepest


def create_trigger_errors(request: CreateTrigger) -> list[FieldError]:
    errors = name_errors(request.namespace, "input.namespace", label=True)
    errors.extend(naming_errors(request.name, request.generate_name))
    errors.extend(broker_name_errors(request.broker, "input.broker"))
    for key, value in request.filter_attributes.items():
        if not _ATTRIBUTE_NAME.fullmatch(key):
            errors.append(
                FieldError(f"input.filter.{key}", "Invalid", "not a CloudEvents attribute name")
            )
        elif not isinstance(value, str):
            errors.append(FieldError(f"input.filter.{key}", "Invalid", "values are strings"))
    too_deep = [
        path
        for path, value in (
            ("input.filters", request.filters),
            ("input.delivery", request.delivery),
        )
        if nesting_depth(value) > MAX_JSON_DEPTH
    ]
    errors.extend(
        FieldError(path, "Invalid", f"nested deeper than {MAX_JSON_DEPTH} levels")
        for path in too_deep
    )
    if "input.filters" not in too_deep:  # filter_errors recurses per level
        for index, entry in enumerate(request.filters):
            errors.extend(filter_errors(entry, f"input.filters[{index}]"))
    errors.extend(subscriber_errors(request.subscriber, "input.subscriber"))
    errors.extend(labels_errors(request.labels, "input.labels"))
    return errors


def trigger_manifest(request: CreateTrigger) -> dict[str, Any]:
    metadata = object_metadata(
        request.namespace, request.name, request.generate_name, f"{request.broker}-", request.labels
    )
    spec: dict[str, Any] = {"broker": request.broker, "subscriber": request.subscriber.manifest()}
    if request.filter_attributes:
        spec["filter"] = {"attributes": dict(request.filter_attributes)}
    if request.filters:
        spec["filters"] = [dict(entry) for entry in request.filters]
    if request.delivery:
        spec["delivery"] = dict(request.delivery)
    return {
        "apiVersion": TRIGGER.api_version,
        "kind": TRIGGER.kind,
        "metadata": metadata,
        "spec": spec,
    }


def subscription_trigger_name(event_type: models.EventType, subscriber: SubscriberInput) -> str:
    """A stable Trigger name for (EventType, subscriber), so subscribing twice is idempotent."""
    target = {"uri": subscriber.uri or ""}
    if subscriber.ref is not None:
        # The ref's namespace defaults to the Trigger's: spelled out or not, it is the same.
        namespace = subscriber.ref.namespace or event_type.meta.namespace
        target.update(subscriber.ref.manifest(), namespace=namespace)
    digest = hashlib.sha256(repr((event_type.meta.name, sorted(target.items()))).encode())
    base = readable_name(event_type.type).rstrip("-")[:40].rstrip("-.")
    return f"{base}-{digest.hexdigest()[:10]}"


def subscription_request(
    event_type: models.EventType, subscriber: SubscriberInput, name: str | None
) -> CreateTrigger:
    """The seed's step 3: a Trigger on the EventType's Broker, exact on type and source."""
    attributes = {"type": event_type.type}
    if event_type.source:
        attributes["source"] = event_type.source
    return CreateTrigger(
        namespace=event_type.meta.namespace,
        broker=event_type.broker or "",
        subscriber=subscriber,
        name=name or subscription_trigger_name(event_type, subscriber),
        filter_attributes=attributes,
    )


@dataclass(frozen=True)
class CreateBroker:
    namespace: str
    name: str
    broker_class: str | None = None
    config: ReferenceInput | None = None
    labels: Mapping[str, str] = field(default_factory=dict)


def create_broker_errors(request: CreateBroker) -> list[FieldError]:
    errors = name_errors(request.namespace, "input.namespace", label=True)
    errors.extend(name_errors(request.name, "input.name"))
    if request.broker_class is not None and not request.broker_class.strip():
        errors.append(FieldError("input.class", "Invalid", "the broker class must not be empty"))
    if request.config is not None:
        errors.extend(reference_errors(request.config, "input.config"))
    errors.extend(labels_errors(request.labels, "input.labels"))
    return errors


def broker_manifest(request: CreateBroker) -> dict[str, Any]:
    metadata: dict[str, Any] = {"namespace": request.namespace, "name": request.name}
    if request.broker_class:
        metadata["annotations"] = {BROKER_CLASS_ANNOTATION: request.broker_class}
    if request.labels:
        metadata["labels"] = dict(request.labels)
    spec: dict[str, Any] = {}
    if request.config is not None:
        spec["config"] = request.config.manifest()
    return {
        "apiVersion": BROKER.api_version,
        "kind": BROKER.kind,
        "metadata": metadata,
        "spec": spec,
    }
