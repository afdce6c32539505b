"""Admission of Knative Eventing objects: the defaulting and validation of Knative's webhook.

:func:`register` adds plugins for EventTypes, Brokers and Triggers to an
:class:`~event_registry.controlplane.api.admission.Admission`. Each plugin first applies
Knative's defaults to the new object (the caller's private copy, in the storage version), then
returns one :class:`~event_registry.controlplane.machinery.errors.Cause` per problem, with the
field path and, where Knative has one, Knative's own message (``missing field(s)``, ``expected
exactly one, got both``, ``Immutable fields changed (-old +new)``, ...). Registered, the causes
are refused as Knative's webhook refuses through kube-apiserver: one 400 ``admission webhook
"validation.webhook.eventing.knative.dev" denied the request: validation failed: ...`` (see
:mod:`.denying`); nothing is written when there is a cause.

Guarantees:

* Writes to the ``status`` subresource are neither defaulted nor validated here (they cannot
  change the spec or metadata checked below), so a controller can always report status.
* Defaults are those Knative's webhook applies with its stock configuration:

  - EventType: ``spec.reference.namespace`` <- the EventType's namespace.
  - Broker: annotation ``eventing.knative.dev/broker.class``, ``spec.config`` and
    ``spec.delivery`` when absent <- ``config-br-defaults`` of ``knative-eventing`` as
    :mod:`.broker_defaults` reads it (without it: the class ``MTChannelBasedBroker`` only);
    ``spec.config.namespace`` and the dead letter sink's ``ref.namespace`` <- the Broker's
    namespace.
  - Trigger: ``spec.filter`` <- ``{}``; ``spec.subscriber.ref.namespace`` and the dead letter
    sink's ``ref.namespace`` <- the Trigger's namespace; label ``eventing.knative.dev/broker``
    <- ``spec.brokerRef.name`` when ``spec.brokerRef`` is set and
    ``cross-namespace-event-links`` is enabled, else ``spec.broker`` when set.

* Validation is Knative's (``pkg/apis/eventing/v1``, ``v1beta2``, ``v1beta3`` and
  ``knative.dev/pkg`` ``Destination``/``KReference``) with the stock ``delivery-timeout``
  (enabled) and ``delivery-retryafter`` (disabled), and with ``cross-namespace-event-links``
  as the features source given to :func:`register` has it when the write is admitted (see
  :mod:`.features`: the ``config-features`` ConfigMap of ``knative-eventing``), plus these
  checks Knative leaves as TODOs or to decoding: EventType ``spec.source``/``spec.schema``
  must be URI references; unknown keys in Trigger specs, filter expressions and delivery specs
  are rejected (Knative's webhook decodes strictly); values of ``exact``/``prefix``/``suffix``
  must be non-empty strings (Knative's filters refuse empty ones when they are built); a
  destination's ``ref`` is checked whenever it is set (Knative skips it when a relative
  ``uri`` accompanies it). CloudEvents SQL expressions are not parsed.
* References to other namespaces, as Knative's webhook treats them:

  - Trigger ``spec.brokerRef.namespace``: refused whenever set (even to the Trigger's own
    namespace) unless ``cross-namespace-event-links`` is ``enabled``, with Knative's cause,
    reported at ``spec.namespace`` as Knative reports it. When enabled it is accepted and
    the broker label is taken from ``spec.brokerRef.name``; Knative then also asks for a
    SubjectAccessReview of the writer, which this control plane (no RBAC: every client is
    an administrator) would always grant.
  - Trigger subscriber and dead letter sink ``ref.namespace``, Broker ``spec.config`` and
    EventType ``spec.reference.namespace``: accepted in any namespace, whatever the flag.
    Knative's ``KReference`` namespace check only runs for a parent set during validation,
    which Trigger and EventType validation never set and Broker validation sets with
    different namespaces allowed unless ``config-br-defaults`` forbids them (that setting
    is not read here).

* An EventType's spec is immutable in every version: an update must leave both its v1beta2
  spec and its v1beta3 view (the attributes carried in the
  ``registry.knative.dev/v1beta3-attributes`` annotation) unchanged. An EventType that came in
  as v1beta3 (it carries that annotation) is checked with v1beta3's rule (attributes ``type``,
  ``source``, ``specversion`` and ``id`` must be listed) instead of v1beta2's required
  ``spec.type``.
* :func:`register` is idempotent per ``Admission`` instance.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import re
import weakref
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from ...knative import vocabulary
from ...knative.eventtype_versions import (
    API_VERSIONS,
    ATTRIBUTES_ANNOTATION,
    V1BETA3,
    convert_eventtype,
)
from ...knative.vocabulary import (
    BROKER_CLASS_ANNOTATION,
    BROKER_LABEL,
    DEFAULT_BROKER_CLASS,
    DEPENDENCY_ANNOTATION,
    INJECTION_ANNOTATION,
)
from ..api.admission import Admission, Plugin, Request
from ..machinery import errors
from . import broker_defaults, denying
from . import features as flags

__all__ = [
    "BROKERS",
    "BROKER_CLASS_ANNOTATION",
    "BROKER_LABEL",
    "DEFAULT_BROKER_CLASS",
    "DEPENDENCY_ANNOTATION",
    "EVENT_TYPES",
    "INJECTION_ANNOTATION",
    "TRIGGERS",
    "admit_broker",
    "admit_event_type",
    "admit_trigger",
    "register",
]

EVENT_TYPES = vocabulary.EVENT_TYPE.resource
BROKERS = vocabulary.BROKER.resource
TRIGGERS = vocabulary.TRIGGER.resource

_REQUIRED_V1BETA3_ATTRIBUTES = ("type", "source", "specversion", "id")

_MISSING = "missing field(s)"
_IMMUTABLE = "Immutable fields changed (-old +new)"
_IMMUTABLE_ANNOTATIONS = "Immutable annotations changed (-old +new)"

_ATTRIBUTE_NAME = re.compile(r"^[a-z][a-z0-9]*$")
_ATTRIBUTE_NAME_DETAIL = (
    "Attribute name must start with a letter and can only contain lowercase alphanumeric"
)
_DIALECTS = ("exact", "prefix", "suffix", "all", "any", "not", "cesql")
_TRIGGER_SPEC_FIELDS = frozenset(
    {"broker", "brokerRef", "filter", "filters", "subscriber", "delivery"}
)
_DELIVERY_FIELDS = frozenset(
    {
        "deadLetterSink",
        "retry",
        "timeout",
        "backoffPolicy",
        "backoffDelay",
        "retryAfterMax",
        "format",
    }
)

_NUMBER = r"\d+(?:[.,]\d+)?"
_PERIOD = re.compile(
    rf"[-+]?P(?:{_NUMBER}Y)?(?:{_NUMBER}M)?(?:{_NUMBER}W)?(?:{_NUMBER}D)?"
    rf"(?:T(?:{_NUMBER}H)?(?:{_NUMBER}M)?(?:{_NUMBER}S)?)?"
)
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_PEM = re.compile(r"-----BEGIN ([^-\n]+)-----(.*?)-----END \1-----", re.DOTALL)

_registered: weakref.WeakSet[Admission] = weakref.WeakSet()


def register(
    admission: Admission,
    *,
    features: flags.FeaturesSource = flags.stock,
    broker_class_defaults: broker_defaults.BrokerDefaultsSource = broker_defaults.built_in,
) -> None:
    """Add the EventType, Broker and Trigger plugins (once per ``admission``).

    ``features`` is called for each admitted Trigger write and ``broker_class_defaults`` for
    each admitted Broker write, so a ConfigMap changed in the cluster applies to the next write.
    """
    if admission in _registered:
        return
    admission.register(EVENT_TYPES, _as_webhook(admit_event_type))
    admission.register(
        BROKERS,
        _as_webhook(lambda request: admit_broker(request, defaults=broker_class_defaults())),
    )
    admission.register(
        TRIGGERS, _as_webhook(lambda request: admit_trigger(request, features=features()))
    )
    _registered.add(admission)


def _as_webhook(plugin: Plugin) -> Plugin:
    """``plugin`` whose causes are refused as Knative's webhook refuses (:mod:`.denying`)."""

    def admit(request: Request) -> list[errors.Cause]:
        causes = plugin(request)
        if causes:
            raise denying.denial(causes)
        return []

    return admit


# ----------------------------------------------------------------------------- causes


def _missing(path: str) -> errors.Cause:
    return errors.Cause(path, "FieldValueRequired", _MISSING)


def _invalid(path: str, message: str) -> errors.Cause:
    return errors.Cause(path, "FieldValueInvalid", message)


def _invalid_value(path: str, value: object, details: str = "") -> errors.Cause:
    """Knative's ``ErrInvalidValue``: ``invalid value: <value>[: details]``."""
    shown = value if isinstance(value, str) else json.dumps(value)
    message = f"invalid value: {shown}"
    return _invalid(path, f"{message}: {details}" if details else message)


def _unknown_field(path: str, key: str) -> errors.Cause:
    return errors.Cause(f"{path}.{key}", "FieldValueNotSupported", f'unknown field "{key}"')


def _short_diff(old: Any, new: Any, path: str = "") -> list[str]:
    """The changed leaves, as ``path: -old +new`` (JSON values; ``<none>`` when absent)."""
    if isinstance(old, dict) and isinstance(new, dict):
        lines: list[str] = []
        for key in [*old, *(k for k in new if k not in old)]:
            child = f"{path}.{key}" if path else str(key)
            lines.extend(_short_diff(old.get(key, _ABSENT), new.get(key, _ABSENT), child))
        return lines
    if old == new:
        return []

    def shown(value: Any) -> str:
        return "<none>" if value is _ABSENT else json.dumps(value, sort_keys=True)

    change = f"-{shown(old)} +{shown(new)}"
    return [f"{path}: {change}" if path else change]


_ABSENT = object()


def _immutable(path: str, old: Any, new: Any, message: str = _IMMUTABLE) -> errors.Cause:
    diff = "; ".join(_short_diff(_or_absent(old), _or_absent(new)))
    return _invalid(path, f"{message}: {diff}" if diff else message)


def _or_absent(value: Any) -> Any:
    return _ABSENT if value is None else value


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _annotations(obj: Mapping[str, Any]) -> dict[str, Any]:
    return _mapping(_mapping(obj.get("metadata")).get("annotations"))


def _annotation_path(key: str) -> str:
    return f"metadata.annotations[{key}]"


# ------------------------------------------------------------------------- references


def _default_namespace(reference: Any, namespace: str) -> None:
    """``KReference.SetDefaults``: an empty namespace becomes the holder's namespace."""
    if isinstance(reference, dict) and not reference.get("namespace") and namespace:
        reference["namespace"] = namespace


def _kreference_causes(reference: Any, path: str) -> list[errors.Cause]:
    """``KReference.Validate``: name, apiVersion and kind are required."""
    if not isinstance(reference, dict):
        return [_missing(f"{path}.{field}") for field in ("name", "apiVersion", "kind")]
    return [
        _missing(f"{path}.{field}")
        for field in ("name", "apiVersion", "kind")
        if not reference.get(field)
    ]


def _absolute_with_host(uri: str) -> bool:
    try:
        parts = urlsplit(uri)
    except ValueError:
        return False
    return bool(parts.scheme) and bool(parts.netloc)


def _is_absolute(uri: str) -> bool:
    return _SCHEME.match(uri) is not None


def _default_destination(destination: Any, namespace: str) -> None:
    if isinstance(destination, dict):
        _default_namespace(destination.get("ref"), namespace)


def _destination_causes(destination: Any, path: str) -> list[errors.Cause]:
    """``Destination.Validate`` of knative.dev/pkg, field by field."""
    dest = _mapping(destination)
    ref, uri = dest.get("ref"), dest.get("uri")
    if ref is None and uri is None:
        message = "expected at least one, got none"
        return [_invalid(f"{path}.ref", message), _invalid(f"{path}.uri", message)]
    causes: list[errors.Cause] = []
    if ref is not None and isinstance(uri, str) and _is_absolute(uri):
        message = "Absolute URI is not allowed when Ref or [apiVersion, kind, name] is present"
        causes += [_invalid(f"{path}.ref", message), _invalid(f"{path}.uri", message)]
    elif ref is None and not (isinstance(uri, str) and _absolute_with_host(uri)):
        causes.append(
            _invalid_value(
                f"{path}.uri",
                "Relative URI is not allowed when Ref and [apiVersion, kind, name] is absent",
            )
        )
    if ref is not None:
        causes += _kreference_causes(ref, f"{path}.ref")
    ca_certs = dest.get("CACerts")
    if not causes and isinstance(ca_certs, str):
        causes += _ca_certs_causes(ca_certs, f"{path}.CACerts")
    return causes


def _ca_certs_causes(value: str, path: str) -> list[errors.Cause]:
    """The first PEM block must be a certificate whose body is DER (an ASN.1 SEQUENCE)."""
    match = _PEM.search(value)
    if match is None:
        return [_invalid_value(path, "CA Cert provided is invalid")]
    if match.group(1).strip() != "CERTIFICATE":
        return [_invalid_value(path, "CA Cert provided is not a certificate")]
    try:
        der = base64.b64decode("".join(match.group(2).split()), validate=True)
    except (binascii.Error, ValueError):
        return [_invalid_value(path, "CA Cert provided is invalid")]
    if len(der) < 4 or der[0] != 0x30:
        return [_invalid_value(path, "CA Cert provided is invalid")]
    return []


# --------------------------------------------------------------------------- delivery


def _period(value: Any, *, nonzero: bool = False) -> bool:
    """An ISO 8601 duration as ``github.com/rickb777/date/period`` parses it."""
    if not isinstance(value, str) or value in ("", "P", "-P", "+P") or value.endswith("T"):
        return False
    if _PERIOD.fullmatch(value) is None:
        return False
    return not nonzero or any(digit not in "0" for digit in re.findall(r"\d", value))


def _default_delivery(delivery: Any, namespace: str) -> None:
    if isinstance(delivery, dict):
        _default_destination(delivery.get("deadLetterSink"), namespace)


def _delivery_causes(delivery: Any, path: str) -> list[errors.Cause]:
    """``DeliverySpec.Validate`` with the stock feature flags."""
    if delivery is None:
        return []
    if not isinstance(delivery, dict):
        return [errors.invalid_value(path, delivery, "must be an object")]
    causes = [_unknown_field(path, key) for key in delivery if key not in _DELIVERY_FIELDS]
    if delivery.get("deadLetterSink") is not None:
        causes += _destination_causes(delivery["deadLetterSink"], f"{path}.deadLetterSink")
    retry = delivery.get("retry")
    if isinstance(retry, int) and retry < 0:
        causes.append(_invalid_value(f"{path}.retry", retry))
    if "timeout" in delivery and not _period(delivery["timeout"], nonzero=True):
        causes.append(_invalid_value(f"{path}.timeout", delivery["timeout"]))
    policy = delivery.get("backoffPolicy")
    if policy is not None and policy not in ("linear", "exponential"):
        causes.append(_invalid_value(f"{path}.backoffPolicy", policy))
    if "backoffDelay" in delivery and not _period(delivery["backoffDelay"]):
        causes.append(_invalid_value(f"{path}.backoffDelay", delivery["backoffDelay"]))
    fmt = delivery.get("format")
    if fmt is not None and fmt not in ("json", "binary"):
        causes.append(_invalid_value(f"{path}.format", fmt))
    if "retryAfterMax" in delivery:
        causes.append(
            errors.Cause(
                f"{path}.retryAfterMax", "FieldValueForbidden", "must not set the field(s)"
            )
        )
    return causes


# -------------------------------------------------------------------------- EventType


def admit_event_type(request: Request) -> list[errors.Cause]:
    """Default and validate an EventType (v1beta2, the storage version)."""
    if request.subresource:
        return []
    event_type = request.new
    namespace = _mapping(event_type.get("metadata")).get("namespace", "")
    _default_event_type(event_type, namespace)
    spec = _mapping(event_type.get("spec"))
    causes: list[errors.Cause] = []
    attributes = _v1beta3_attributes(event_type)
    if attributes is None:
        if not spec.get("type"):
            causes.append(_missing("spec.type"))
    else:
        names = {attribute.get("name") for attribute in attributes if isinstance(attribute, dict)}
        causes += [
            _missing(f"spec.attributes.{name}")
            for name in _REQUIRED_V1BETA3_ATTRIBUTES
            if name not in names
        ]
    for field in ("source", "schema"):
        if field in spec:
            problem = _uri_reference_problem(spec[field])
            if problem:
                causes.append(errors.invalid_value(f"spec.{field}", spec[field], problem))
    if request.operation == "UPDATE" and request.old is not None:
        old = copy.deepcopy(request.old)
        _default_event_type(old, namespace)
        if old.get("spec") != event_type.get("spec"):
            causes.append(_immutable("spec", old.get("spec"), event_type.get("spec")))
        elif _v1beta3_spec(old) != _v1beta3_spec(event_type):
            causes.append(
                _immutable("spec.attributes", _v1beta3_spec(old), _v1beta3_spec(event_type))
            )
    return causes


def _default_event_type(event_type: dict[str, Any], namespace: str) -> None:
    _default_namespace(_mapping(event_type.get("spec")).get("reference"), namespace)


def _v1beta3_spec(event_type: dict[str, Any]) -> Any:
    """The spec as v1beta3 shows it, or None when the object cannot be converted."""
    if event_type.get("apiVersion") not in API_VERSIONS:
        return None
    try:
        return convert_eventtype(event_type, V1BETA3).get("spec")
    except ValueError:
        return None


def _v1beta3_attributes(event_type: dict[str, Any]) -> list[Any] | None:
    """The v1beta3 attributes of an EventType that came in as v1beta3, else None.

    Such an object carries the converter's ``v1beta3-attributes`` annotation (its attributes
    differ from what the v1beta2 fields imply); the attributes are read from its v1beta3 view.
    """
    if ATTRIBUTES_ANNOTATION not in _annotations(event_type):
        return None
    spec = _v1beta3_spec(event_type)
    if not isinstance(spec, dict):
        return None
    attributes = spec.get("attributes")
    return attributes if isinstance(attributes, list) else []


def _uri_reference_problem(value: Any) -> str:
    """Why ``value`` is not a URI reference (RFC 3986, as Go's ``url.Parse``), or ``""``."""
    if not isinstance(value, str):
        return "must be a string"
    if not value:
        return "must be a non-empty URI reference"
    if any(char.isspace() or ord(char) < 0x20 or ord(char) == 0x7F for char in value):
        return "must be a URI reference without whitespace or control characters"
    if _BAD_ESCAPE.search(value):
        return "must be a URI reference: invalid percent-encoding"
    if _SCHEME.match(value) is None:
        first_segment = re.split(r"[/?#]", value, maxsplit=1)[0]
        if ":" in first_segment:
            return "must be a URI reference: the first path segment cannot contain a colon"
    try:
        parts = urlsplit(value)
        _ = parts.port
    except ValueError as error:
        return f"must be a URI reference: {error}"
    return ""


# ----------------------------------------------------------------------------- Broker


def admit_broker(
    request: Request, *, defaults: broker_defaults.BrokerDefaults = broker_defaults.BUILT_IN
) -> list[errors.Cause]:
    """Default (from ``defaults``: :mod:`.broker_defaults`) and validate a Broker (``v1``)."""
    if request.subresource:
        return []
    broker = request.new
    metadata = broker.setdefault("metadata", {})
    namespace = metadata.get("namespace", "")
    annotations = metadata.get("annotations")
    if not isinstance(annotations, dict):
        annotations = metadata["annotations"] = {}
    annotations.setdefault(BROKER_CLASS_ANNOTATION, defaults.broker_class(namespace))
    broker_class = str(annotations.get(BROKER_CLASS_ANNOTATION) or "")
    defaults.apply(broker, namespace, broker_class)
    _default_broker_spec(broker, namespace)
    spec = _mapping(broker.get("spec"))
    causes: list[errors.Cause] = []
    if not annotations.get(BROKER_CLASS_ANNOTATION):
        causes.append(_missing(_annotation_path(BROKER_CLASS_ANNOTATION)))
    if spec.get("config") is not None:
        causes += _kreference_causes(spec["config"], "spec.config")
    causes += _delivery_causes(spec.get("delivery"), "spec.delivery")
    if request.operation == "UPDATE" and request.old is not None:
        old = copy.deepcopy(request.old)
        defaults.apply(old, namespace, broker_class)
        _default_broker_spec(old, namespace)
        old_spec = {k: v for k, v in _mapping(old.get("spec")).items() if k != "delivery"}
        new_spec = {k: v for k, v in spec.items() if k != "delivery"}
        old_class = _annotations(old).get(BROKER_CLASS_ANNOTATION)
        new_class = annotations.get(BROKER_CLASS_ANNOTATION)
        if old_spec != new_spec:
            causes.append(_immutable("spec", old_spec, new_spec))
        elif old_class != new_class:
            causes.append(
                _immutable(
                    _annotation_path(BROKER_CLASS_ANNOTATION),
                    old_class,
                    new_class,
                    _IMMUTABLE_ANNOTATIONS,
                )
            )
    return causes


def _default_broker_spec(broker: dict[str, Any], namespace: str) -> None:
    spec = _mapping(broker.get("spec"))
    _default_namespace(spec.get("config"), namespace)
    _default_delivery(spec.get("delivery"), namespace)


# ---------------------------------------------------------------------------- Trigger


def admit_trigger(
    request: Request, *, features: flags.Features = flags.STOCK
) -> list[errors.Cause]:
    """Default and validate a Trigger (``eventing.knative.dev/v1``) under ``features``."""
    if request.subresource:
        return []
    trigger = request.new
    metadata = trigger.setdefault("metadata", {})
    namespace = metadata.get("namespace", "")
    spec = trigger.get("spec")
    if not isinstance(spec, dict):
        spec = trigger["spec"] = {}
    cross_namespace = features.is_enabled(flags.CROSS_NAMESPACE_EVENT_LINKS)
    _default_trigger(trigger, namespace, cross_namespace=cross_namespace)
    causes = _trigger_spec_causes(spec, cross_namespace=cross_namespace)
    causes += _trigger_annotation_causes(trigger, namespace)
    if request.operation == "UPDATE" and request.old is not None:
        old_broker = _mapping(request.old.get("spec")).get("broker") or ""
        new_broker = spec.get("broker") or ""
        if old_broker != new_broker:
            causes.append(_immutable("spec.broker", old_broker or None, new_broker or None))
    return causes


def _default_trigger(trigger: dict[str, Any], namespace: str, *, cross_namespace: bool) -> None:
    spec = trigger["spec"]
    if spec.get("filter") is None:
        spec["filter"] = {}
    _default_destination(spec.get("subscriber"), namespace)
    _default_delivery(spec.get("delivery"), namespace)
    broker = spec.get("broker")
    broker_ref = spec.get("brokerRef")
    if cross_namespace and isinstance(broker_ref, dict):
        broker = broker_ref.get("name")
    if isinstance(broker, str) and broker:
        metadata = trigger["metadata"]
        labels = metadata.get("labels")
        if not isinstance(labels, dict):
            labels = metadata["labels"] = {}
        labels[BROKER_LABEL] = broker


def _trigger_spec_causes(spec: dict[str, Any], *, cross_namespace: bool) -> list[errors.Cause]:
    causes = [_unknown_field("spec", key) for key in spec if key not in _TRIGGER_SPEC_FIELDS]
    broker, broker_ref = spec.get("broker") or "", spec.get("brokerRef")
    if broker_ref is None and not broker:
        causes.append(_missing("spec.broker"))
    elif broker_ref is not None and broker:
        message = "expected exactly one, got both"
        causes += [_invalid("spec.broker", message), _invalid("spec.brokerRef", message)]
    if not cross_namespace and isinstance(broker_ref, dict) and broker_ref.get("namespace"):
        causes.append(_broker_ref_namespace_forbidden())
    attributes = _mapping(spec.get("filter")).get("attributes")
    if isinstance(attributes, dict):
        causes += _attribute_name_causes(attributes, "spec.filter.attributes")
        causes += [
            errors.invalid_value(f"spec.filter.attributes[{name}]", value, "must be a string")
            for name, value in attributes.items()
            if not isinstance(value, str)
        ]
    filters = spec.get("filters")
    if isinstance(filters, list):
        for index, expression in enumerate(filters):
            causes += _filter_causes(expression, f"spec.filters[{index}]")
    causes += _destination_causes(spec.get("subscriber"), "spec.subscriber")
    causes += _delivery_causes(spec.get("delivery"), "spec.delivery")
    return causes


def _broker_ref_namespace_forbidden() -> errors.Cause:
    """Knative's cause, at Knative's path: ``TriggerSpec.Validate`` names the field without
    its ``brokerRef`` segment, so the webhook says ``spec.namespace``."""
    return errors.Cause(
        "spec.namespace",
        "FieldValueForbidden",
        "must not set the field(s): only name, apiVersion and kind are supported fields "
        "when feature.CrossNamespaceEventLinks is disabled",
    )


def _attribute_name_causes(attributes: Iterable[Any], path: str) -> list[errors.Cause]:
    return [
        _invalid(f"{path}[{name}]", f'invalid key name "{name}": {_ATTRIBUTE_NAME_DETAIL}')
        for name in attributes
        if not _ATTRIBUTE_NAME.match(str(name))
    ]


def _dialect_set(dialect: str, value: Any) -> bool:
    """Whether a filter sets ``dialect`` (Knative: a non-empty map/list, a non-nil ``not``)."""
    if dialect == "not":
        return value is not None
    if dialect == "cesql":
        return bool(value)
    return isinstance(value, dict | list) and len(value) > 0


def _filter_causes(expression: Any, path: str) -> list[errors.Cause]:
    """One Subscriptions API filter expression, recursively (``ValidateSubscriptionAPIFilter``)."""
    if not isinstance(expression, dict):
        return [errors.invalid_value(path, expression, "a filter expression must be an object")]
    causes = [_unknown_field(path, key) for key in expression if key not in _DIALECTS]
    if sum(_dialect_set(dialect, expression.get(dialect)) for dialect in _DIALECTS) > 1:
        causes.append(
            _invalid(path, "multiple dialects found, filters can have only one dialect set")
        )
    for dialect in ("exact", "prefix", "suffix"):
        value = expression.get(dialect)
        if value is None:
            continue
        child = f"{path}.{dialect}"
        if not isinstance(value, dict):
            causes.append(errors.invalid_value(child, value, "must be a map of strings"))
            continue
        causes += _attribute_name_causes(value, child)
        causes += [
            errors.invalid_value(f"{child}[{name}]", item, "the value must be a non-empty string")
            for name, item in value.items()
            if not isinstance(item, str) or not item
        ]
    for dialect in ("all", "any"):
        value = expression.get(dialect)
        if value is None:
            continue
        if not isinstance(value, list):
            causes.append(errors.invalid_value(f"{path}.{dialect}", value, "must be a list"))
            continue
        for index, nested in enumerate(value):
            causes += _filter_causes(nested, f"{path}.{dialect}[{index}]")
    if expression.get("not") is not None:
        causes += _filter_causes(expression["not"], f"{path}.not")
    cesql = expression.get("cesql")
    if cesql is not None and not isinstance(cesql, str):
        causes.append(errors.invalid_value(f"{path}.cesql", cesql, "must be a string"))
    return causes


def _trigger_annotation_causes(trigger: dict[str, Any], namespace: str) -> list[errors.Cause]:
    """The ``knative.dev/dependency`` and ``eventing.knative.dev/injection`` annotations."""
    annotations = _annotations(trigger)
    causes: list[errors.Cause] = []
    if DEPENDENCY_ANNOTATION in annotations:
        causes += _dependency_causes(
            annotations[DEPENDENCY_ANNOTATION], namespace, _annotation_path(DEPENDENCY_ANNOTATION)
        )
    if INJECTION_ANNOTATION in annotations:
        value = annotations[INJECTION_ANNOTATION]
        path = _annotation_path(INJECTION_ANNOTATION)
        broker = _mapping(trigger.get("spec")).get("broker") or ""
        if value not in ("enabled", "disabled"):
            causes.append(
                _invalid(
                    path,
                    'The provided injection annotation value can only be "enabled" or '
                    f'"disabled", not {json.dumps(value)}',
                )
            )
        elif broker != "default":
            causes.append(
                _invalid(
                    path,
                    "The provided injection annotation is only used for default broker, but "
                    f"non-default broker specified here: {json.dumps(broker)}",
                )
            )
    return causes


def _dependency_causes(value: Any, namespace: str, path: str) -> list[errors.Cause]:
    try:
        reference = json.loads(value) if isinstance(value, str) else None
    except ValueError:
        reference = None
    if not isinstance(reference, dict):
        return [
            _invalid(
                path,
                f"The provided annotation was not a corev1.ObjectReference: {json.dumps(value)}",
            )
        ]
    causes: list[errors.Cause] = []
    if reference.get("namespace") and reference["namespace"] != namespace:
        causes.append(
            _invalid(
                f"{path}.namespace",
                "Namespace must be empty or equal to the trigger namespace "
                f"{json.dumps(namespace)}",
            )
        )
    causes += [
        _missing(f"{path}.{field}")
        for field in ("kind", "name", "apiVersion")
        if not reference.get(field)
    ]
    return causes
