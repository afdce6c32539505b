"""The Knative Eventing CustomResourceDefinitions the embedded control plane installs.

These are the project's own definitions of the Knative kinds the registry works with, written
as Python data with small builders, and kept faithful to Knative Eventing's published CRDs in
everything a client can observe: group, kind and names, scope, served/storage/deprecated
versions, categories and short names (Knative gives these kinds none), printer columns, the
``duck.knative.dev/*`` and ``eventing.knative.dev/source`` labels, the
``registry.knative.dev/eventTypes`` annotation of the sources, and the shape of every field.

Guarantees:

* Every schema is structural: each node has a ``type`` (or says
  ``x-kubernetes-preserve-unknown-fields: true`` / ``x-kubernetes-int-or-string: true``), so
  pruning keeps every field Knative defines and drops only fields no Knative version knows.
  Objects Knative leaves open (``Trigger.spec``, delivery specs, Subscriptions API filter
  expressions, selectors' ``matchLabels``) preserve unknown fields here too. Two deliberate
  differences: ``Trigger.spec.filter.attributes`` is a map of strings (Knative keeps it open,
  but its Go type is ``map[string]string``), and the sources' status schemas list every field
  of Knative's ``SourceStatus`` (GitHubSource's own CRD omits ``ceAttributes``, which the
  registry needs).
* Every version of every kind has the ``status`` subresource.
* Kinds with more than one version (EventType, PingSource) declare Knative's conversion:
  ``strategy: Webhook`` through ``knative-eventing/eventing-webhook`` with
  ``conversionReviewVersions: ["v1", "v1beta1"]``; the control plane converts them itself.
* :data:`BUILTIN_CRDS` is immutable in practice (callers must deep-copy before changing an
  entry) and ordered; :data:`DEFINITIONS_HASH` is the SHA-256 of its canonical JSON (sorted
  keys, no whitespace), so it changes exactly when a definition changes.
* Validation Knative does in its webhook (required ``spec.type``, Trigger broker/subscriber
  rules, ...) is not expressed in these schemas; :mod:`.admitting` does it with Knative's
  messages. Constraints Knative puts in the CRD itself (GitHubSource's required fields, enum
  of event names, ``minLength``/``minItems``) are kept in the schema.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any

from ...knative.vocabulary import (
    EVENT_TYPES_ANNOTATION,
    EVENTING_GROUP,
    SOURCE_DUCK_LABEL,
    SOURCES_GROUP,
)

__all__ = [
    "API_SERVER_SOURCE",
    "BROKER",
    "BUILTIN_CRDS",
    "DEFINITIONS_HASH",
    "EVENTING_GROUP",
    "EVENT_TYPE",
    "EVENT_TYPES_ANNOTATION",
    "GITHUB_EVENTS",
    "GITHUB_SOURCE",
    "PING_SOURCE",
    "SOURCES_GROUP",
    "TRIGGER",
    "canonical_json",
]

Schema = dict[str, Any]


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no insignificant whitespace (the form that is hashed)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# ---------------------------------------------------------------------------- schema builders


def _string(description: str = "", **extra: Any) -> Schema:
    node: Schema = {"type": "string", **extra}
    if description:
        node["description"] = description
    return node


def _integer(description: str = "", fmt: str = "") -> Schema:
    node: Schema = {"type": "integer"}
    if fmt:
        node["format"] = fmt
    if description:
        node["description"] = description
    return node


def _boolean(description: str = "") -> Schema:
    node: Schema = {"type": "boolean"}
    if description:
        node["description"] = description
    return node


def _object(
    description: str = "",
    /,
    *,
    required_fields: Sequence[str] = (),
    preserve: bool = False,
    **properties: Schema,
) -> Schema:
    """An object schema; a property named like a Python keyword is passed with a trailing ``_``."""
    return _object_of(
        description,
        {name.removesuffix("_"): value for name, value in properties.items()},
        required_fields=required_fields,
        preserve=preserve,
    )


def _object_of(
    description: str,
    properties: dict[str, Schema],
    *,
    required_fields: Sequence[str] = (),
    preserve: bool = False,
) -> Schema:
    node: Schema = {"type": "object"}
    if description:
        node["description"] = description
    if properties:
        node["properties"] = dict(properties)
    if required_fields:
        node["required"] = list(required_fields)
    if preserve:
        node["x-kubernetes-preserve-unknown-fields"] = True
    return node


def _array(items: Schema, description: str = "", **extra: Any) -> Schema:
    node: Schema = {"type": "array", "items": items, **extra}
    if description:
        node["description"] = description
    return node


def _open_object(description: str = "") -> Schema:
    """An object whose content is kept as sent (no listed fields, nothing pruned)."""
    return _object(description, preserve=True)


def _string_map(description: str = "") -> Schema:
    node = _object(description)
    node["additionalProperties"] = {"type": "string"}
    return node


# ----------------------------------------------------------------------- shared fragments


def _kreference(*, address: bool = False, description: str = "") -> Schema:
    """Knative's ``KReference``: a typed reference to an object, namespace defaulted."""
    properties: dict[str, Schema] = {
        "apiVersion": _string("API version of the referenced object."),
        "kind": _string("Kind of the referenced object."),
        "name": _string("Name of the referenced object."),
        "namespace": _string(
            "Namespace of the referenced object; defaults to the namespace of the object "
            "holding the reference."
        ),
    }
    if address:
        properties["address"] = _string("Name of one of the referenced object's addresses.")
    return _object_of(description, properties)


def _destination(description: str) -> Schema:
    """Knative's ``Destination``: an Addressable reference and/or a URI."""
    return _object(
        description,
        ref=_kreference(description="Reference to an Addressable object."),
        uri=_string(
            "Absolute URL of the target, or a URL relative to the address of `ref` when "
            "both are set."
        ),
        CACerts=_string("PEM-encoded CA certificates to trust when sending to the target."),
        audience=_string("OIDC audience of the target, when it cannot be taken from `ref`."),
    )


def _delivery(description: str) -> Schema:
    """Knative's ``DeliverySpec``; open, as Knative keeps it for experimental fields."""
    return _object(
        description,
        preserve=True,
        deadLetterSink=_destination("Where events that could not be delivered are sent."),
        retry=_integer("How many times delivery is retried before giving up.", "int32"),
        backoffPolicy=_string("How the delay grows between retries: linear or exponential."),
        backoffDelay=_string("Base delay between retries, as an ISO 8601 duration."),
        timeout=_string("Timeout of each delivery attempt, as an ISO 8601 duration."),
        retryAfterMax=_string("Upper bound honoured for Retry-After, as an ISO 8601 duration."),
        format=_string("Event encoding used for delivery: json (structured) or binary."),
    )


def _conditions() -> Schema:
    return _array(
        _object(
            required_fields=("type", "status"),
            type=_string("Condition type, e.g. Ready."),
            status=_string("True, False or Unknown."),
            reason=_string("One-word CamelCase reason for the last transition."),
            message=_string("Human-readable details of the last transition."),
            severity=_string("Error (the default), Warning or Info."),
            lastTransitionTime=_string("When the condition last changed status."),
        ),
        "Latest observations of the object's state.",
    )


def _status(description: str, **extra: Schema) -> Schema:
    """Knative's duck ``Status`` plus kind-specific fields."""
    return _object_of(
        description,
        {
            "observedGeneration": _integer("Generation last processed by the controller.", "int64"),
            "conditions": _conditions(),
            "annotations": _open_object("Extra state reported by the controller."),
            **extra,
        },
    )


def _auth_status() -> Schema:
    return _object(
        "OIDC identity used by the object.",
        serviceAccountName=_string("Service account used for OIDC authentication."),
        serviceAccountNames=_array(_string(), "Service accounts used for OIDC authentication."),
    )


def _addressable() -> Schema:
    return _object(
        name=_string("Name of the address."),
        url=_string("URL of the address."),
        CACerts=_string("PEM-encoded CA certificates of the address."),
        audience=_string("OIDC audience of the address."),
    )


def _policies() -> Schema:
    return _array(
        _object(
            apiVersion=_string("API version of the applied EventPolicy."),
            name=_string("Name of the applied EventPolicy."),
        ),
        "EventPolicies applied to the object.",
    )


def _ce_overrides() -> Schema:
    extensions = _string_map(
        "Extension attributes added to (or overridden on) every event sent to the sink."
    )
    extensions["x-kubernetes-preserve-unknown-fields"] = True
    return _object("Changes applied to every event sent to the sink.", extensions=extensions)


def _label_selector(description: str) -> Schema:
    return _object(
        description,
        matchExpressions=_array(
            _object(
                key=_string("Label key the requirement applies to."),
                operator=_string("In, NotIn, Exists or DoesNotExist."),
                values=_array(_string(), "Values for In and NotIn."),
            ),
            "Requirements that must all hold.",
        ),
        matchLabels=_open_object("Labels that must all be present with these values."),
    )


def _source_status(description: str, **extra: Schema) -> Schema:
    """Knative's duck ``SourceStatus``: sink, emitted attributes and auth."""
    return _status(
        description,
        sinkUri=_string("URI the source currently sends events to."),
        sinkCACerts=_string("PEM-encoded CA certificates of the sink."),
        sinkAudience=_string("OIDC audience of the sink."),
        ceAttributes=_array(
            _object(
                type=_string("CloudEvents `type` attribute of events the source emits."),
                source=_string("CloudEvents `source` attribute of events the source emits."),
            ),
            "CloudEvents attributes of the events the source emits.",
        ),
        auth=_auth_status(),
        **extra,
    )


def _root(description: str, spec: Schema, status: Schema) -> Schema:
    return {
        "type": "object",
        "description": description,
        "properties": {"spec": spec, "status": status},
    }


# ---------------------------------------------------------------------- printer columns


def _column(name: str, json_path: str, type_: str = "string", priority: int = 0) -> Schema:
    column: Schema = {"name": name, "type": type_, "jsonPath": json_path}
    if priority:
        column["priority"] = priority
    return column


def _columns(*columns: Schema) -> list[Schema]:
    return list(columns)


_AGE = _column("Age", ".metadata.creationTimestamp", "date")
_READY = _column("Ready", '.status.conditions[?(@.type=="Ready")].status')
_REASON = _column("Reason", '.status.conditions[?(@.type=="Ready")].reason')
_SINK = _column("Sink", ".status.sinkUri")


# ------------------------------------------------------------------------- CRD builders


def _version(
    name: str,
    schema: Schema,
    columns: list[Schema],
    *,
    storage: bool = False,
    deprecation_warning: str = "",
) -> Schema:
    version: Schema = {
        "name": name,
        "served": True,
        "storage": storage,
        "subresources": {"status": {}},
        "schema": {"openAPIV3Schema": schema},
        "additionalPrinterColumns": columns,
    }
    if deprecation_warning:
        version["deprecated"] = True
        version["deprecationWarning"] = deprecation_warning
    return version


def _crd(
    group: str,
    kind: str,
    plural: str,
    versions: Iterable[Schema],
    categories: Sequence[str],
    short_names: Sequence[str] = (),
    scope: str = "Namespaced",
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    names: Schema = {
        "kind": kind,
        "listKind": f"{kind}List",
        "plural": plural,
        "singular": kind.lower(),
        "categories": list(categories),
    }
    if short_names:
        names["shortNames"] = list(short_names)
    metadata: Schema = {
        "name": f"{plural}.{group}",
        "labels": {
            "knative.dev/crd-install": "true",
            "app.kubernetes.io/name": "knative-eventing",
            **(labels or {}),
        },
    }
    if annotations:
        metadata["annotations"] = dict(annotations)
    served = list(versions)
    spec: Schema = {"group": group, "names": names, "scope": scope, "versions": served}
    if len(served) > 1:
        spec["conversion"] = _WEBHOOK_CONVERSION
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": metadata,
        "spec": spec,
    }


_WEBHOOK_CONVERSION: Schema = {
    "strategy": "Webhook",
    "webhook": {
        "conversionReviewVersions": ["v1", "v1beta1"],
        "clientConfig": {"service": {"name": "eventing-webhook", "namespace": "knative-eventing"}},
    },
}
"""The conversion of Knative's multi-version CRDs (EventType, PingSource), as installed. The
control plane still converts these kinds itself (``api.conversion``); the stanza is what clients
reading the CRD see on a cluster."""


_EVENTING_CATEGORIES = ("all", "knative", "eventing")
_SOURCE_CATEGORIES = ("all", "knative", "sources")
_SOURCE_LABELS = {SOURCE_DUCK_LABEL: "true", "eventing.knative.dev/source": "true"}


def _event_types(*entries: tuple[str, str]) -> dict[str, str]:
    """The ``registry.knative.dev/eventTypes`` annotation: JSON list of {type, description}."""
    value = [{"type": type_, "description": description} for type_, description in entries]
    return {EVENT_TYPES_ANNOTATION: json.dumps(value, indent=2)}


# ------------------------------------------------------------------------------ EventType

_EVENT_TYPE_DESCRIPTION = "A kind of event that can be consumed from a resource, e.g. a Broker."
_EVENT_TYPE_STATUS = _status("Observed state of the EventType; may be out of date.")


def _event_type_v1beta2_spec() -> Schema:
    return _object(
        "Desired state of the EventType; immutable once created.",
        type=_string("CloudEvents `type` of the events; authoritative."),
        source=_string("CloudEvents `source` of the events, a URI reference."),
        schema=_string("URI of the schema of the event data (JSON schema, protobuf, ...)."),
        schemaData=_string("The schema itself, stored verbatim; never validated."),
        broker=_string("Deprecated: name of the Broker carrying the events; use `reference`."),
        reference=_kreference(
            address=True, description="The resource the events come from, e.g. a Broker."
        ),
        description_=_string("Free-form description of the EventType."),
    )


def _event_type_v1beta3_spec() -> Schema:
    return _object(
        "Desired state of the EventType; immutable once created.",
        reference=_kreference(
            address=True, description="The resource the events come from, e.g. a Broker."
        ),
        description_=_string("Free-form description of the EventType."),
        attributes=_array(
            _object(
                required_fields=("name",),
                name=_string("Name of the CloudEvents attribute or extension."),
                required_=_boolean("Whether every event carries the attribute."),
                value=_string(
                    "Value of the attribute; may be a template with `{variable}` sections."
                ),
            ),
            "CloudEvents attributes and extensions of the events; type, source, specversion "
            "and id must be listed.",
        ),
    )


_EVENT_TYPE_V1BETA2_COLUMNS = _columns(
    _column("Type", ".spec.type"),
    _column("Source", ".spec.source"),
    _column("Schema", ".spec.schema"),
    _column("Reference Name", ".spec.reference.name"),
    _column("Reference Kind", ".spec.reference.kind"),
    _column("Description", ".spec.description"),
    _READY,
    _REASON,
)

_EVENT_TYPE_V1BETA3_COLUMNS = _columns(
    _column("Type", '.spec.attributes[?(@.name=="type")].value'),
    _column("Source", '.spec.attributes[?(@.name=="source")].value'),
    _column("Reference Name", ".spec.reference.name"),
    _column("Reference Kind", ".spec.reference.kind"),
    _column("Description", ".spec.description"),
    _READY,
    _REASON,
)

EVENT_TYPE = _crd(
    EVENTING_GROUP,
    "EventType",
    "eventtypes",
    [
        _version(
            "v1beta3",
            _root(_EVENT_TYPE_DESCRIPTION, _event_type_v1beta3_spec(), _EVENT_TYPE_STATUS),
            _EVENT_TYPE_V1BETA3_COLUMNS,
        ),
        _version(
            "v1beta2",
            _root(_EVENT_TYPE_DESCRIPTION, _event_type_v1beta2_spec(), _EVENT_TYPE_STATUS),
            _EVENT_TYPE_V1BETA2_COLUMNS,
            storage=True,
        ),
        _version(
            "v1beta1",
            _root(_EVENT_TYPE_DESCRIPTION, _event_type_v1beta2_spec(), _EVENT_TYPE_STATUS),
            _EVENT_TYPE_V1BETA2_COLUMNS,
            deprecation_warning=(
                "eventing.knative.dev/v1beta1 EventType is deprecated and will be removed; "
                "read and write eventing.knative.dev/v1beta2 EventType instead"
            ),
        ),
    ],
    _EVENTING_CATEGORIES,
)

# --------------------------------------------------------------------------------- Broker

BROKER = _crd(
    EVENTING_GROUP,
    "Broker",
    "brokers",
    [
        _version(
            "v1",
            _root(
                "A pool of events with a well-known ingress address; Triggers subscribe to it.",
                _object(
                    "Desired state of the Broker.",
                    config=_kreference(
                        description="Configuration of the Broker, e.g. a ConfigMap; immutable."
                    ),
                    delivery=_delivery(
                        "Delivery defaults for the Broker's Triggers (each may override them)."
                    ),
                ),
                _status(
                    "Observed state of the Broker; may be out of date.",
                    address=_addressable(),
                    addresses=_array(_addressable(), "Every address of the Broker."),
                    policies=_policies(),
                    deadLetterSinkUri=_string("Resolved URI of the Broker's dead letter sink."),
                    deadLetterSinkCACerts=_string("PEM-encoded CA certificates of that sink."),
                    deadLetterSinkAudience=_string("OIDC audience of that sink."),
                ),
            ),
            _columns(
                _column("URL", ".status.address.url"),
                _AGE,
                _READY,
                _REASON,
                _column(
                    "Class",
                    r".metadata.annotations.eventing\.knative\.dev/broker\.class",
                    priority=1,
                ),
            ),
            storage=True,
        )
    ],
    _EVENTING_CATEGORIES,
    labels={"duck.knative.dev/addressable": "true"},
)

# -------------------------------------------------------------------------------- Trigger


def _trigger_filter() -> Schema:
    """A Subscriptions API filter expression; nested expressions are kept as sent."""
    nested = _open_object("A nested filter expression.")
    return _object(
        "One filter expression; it sets at most one dialect.",
        exact=_open_object("Attributes whose values must equal these strings."),
        prefix=_open_object("Attributes whose values must start with these strings."),
        suffix=_open_object("Attributes whose values must end with these strings."),
        all=_array(nested, "True when every nested expression is true."),
        any=_array(nested, "True when at least one nested expression is true."),
        not_=_open_object("True when the nested expression is false."),
        cesql=_string("A CloudEvents SQL expression evaluated against each event."),
    )


TRIGGER = _crd(
    EVENTING_GROUP,
    "Trigger",
    "triggers",
    [
        _version(
            "v1",
            _root(
                "A subscription to the events of a Broker, with a filter and a subscriber.",
                _object(
                    "Desired state of the Trigger.",
                    preserve=True,
                    broker=_string("Name of the Broker, in the Trigger's namespace; immutable."),
                    brokerRef=_kreference(description="Reference to the Broker."),
                    filter=_object(
                        "Exact-match filter on event attributes; absent means all events.",
                        attributes=_string_map(
                            "Attribute name to required value; an empty value matches any."
                        ),
                    ),
                    filters=_array(
                        _trigger_filter(),
                        "Subscriptions API filter expressions that must all be true; when set "
                        "they replace `filter`.",
                    ),
                    subscriber=_destination("Where matching events are delivered; required."),
                    delivery=_delivery("Delivery options of this Trigger."),
                ),
                _status(
                    "Observed state of the Trigger; may be out of date.",
                    subscriberUri=_string("Resolved URI of the subscriber."),
                    subscriberCACerts=_string("PEM-encoded CA certificates of the subscriber."),
                    subscriberAudience=_string("OIDC audience of the subscriber."),
                    deadLetterSinkUri=_string("Resolved URI of the dead letter sink."),
                    deadLetterSinkCACerts=_string("PEM-encoded CA certificates of that sink."),
                    deadLetterSinkAudience=_string("OIDC audience of that sink."),
                    auth=_auth_status(),
                ),
            ),
            _columns(
                _column("Broker", ".spec.broker"),
                _column("Subscriber_URI", ".status.subscriberUri"),
                _AGE,
                _READY,
                _REASON,
            ),
            storage=True,
        )
    ],
    _EVENTING_CATEGORIES,
)

# ----------------------------------------------------------------------------- PingSource


def _ping_source_schema() -> Schema:
    return _root(
        "An event source emitting a fixed payload on a cron schedule.",
        _object(
            "Desired state of the PingSource.",
            schedule=_string("Cron schedule of the events; defaults to every minute."),
            timezone=_string("IANA time zone the schedule is read in."),
            contentType=_string("Media type of `data` or `dataBase64`."),
            data=_string("Payload of the events; excludes `dataBase64`."),
            dataBase64=_string("Base64-encoded payload of the events; excludes `data`."),
            sink=_destination("Where the events are sent."),
            ceOverrides=_ce_overrides(),
        ),
        _source_status("Observed state of the PingSource; may be out of date."),
    )


_PING_COLUMNS = _columns(_SINK, _column("Schedule", ".spec.schedule"), _AGE, _READY, _REASON)

PING_SOURCE = _crd(
    SOURCES_GROUP,
    "PingSource",
    "pingsources",
    [
        _version("v1", _ping_source_schema(), _PING_COLUMNS, storage=True),
        _version(
            "v1beta2",
            _ping_source_schema(),
            _PING_COLUMNS,
            deprecation_warning=(
                "sources.knative.dev/v1beta2 PingSource is deprecated and will be removed; "
                "read and write sources.knative.dev/v1 PingSource instead"
            ),
        ),
    ],
    _SOURCE_CATEGORIES,
    labels=_SOURCE_LABELS,
    annotations=_event_types(
        ("dev.knative.sources.ping", "Event with a fixed payload sent on a cron schedule"),
    ),
)

# ------------------------------------------------------------------------ ApiServerSource

API_SERVER_SOURCE = _crd(
    SOURCES_GROUP,
    "ApiServerSource",
    "apiserversources",
    [
        _version(
            "v1",
            _root(
                "An event source turning Kubernetes API changes into CloudEvents.",
                _object(
                    "Desired state of the ApiServerSource.",
                    required_fields=("resources",),
                    preserve=True,
                    resources=_array(
                        _object(
                            apiVersion=_string("API version of the watched kind."),
                            kind=_string("The watched kind."),
                            selector=_label_selector("Only objects with matching labels."),
                        ),
                        "Kinds to watch, each optionally narrowed by a label selector.",
                    ),
                    owner=_object(
                        "Only objects owned by an object of this kind.",
                        apiVersion=_string("API version of the owner kind."),
                        kind=_string("The owner kind."),
                    ),
                    mode=_string(
                        "Reference (events carry a reference, the default) or Resource "
                        "(events carry the whole object)."
                    ),
                    serviceAccountName=_string("Service account the source watches with."),
                    namespaceSelector=_label_selector("Namespaces to watch."),
                    filters=_array(
                        _trigger_filter(),
                        "Subscriptions API filter expressions events must match (experimental).",
                    ),
                    sink=_destination("Where the events are sent."),
                    ceOverrides=_ce_overrides(),
                ),
                _source_status(
                    "Observed state of the ApiServerSource; may be out of date.",
                    namespaces=_array(_string(), "Namespaces currently watched."),
                ),
            ),
            _columns(_SINK, _AGE, _READY, _REASON),
            storage=True,
        )
    ],
    _SOURCE_CATEGORIES,
    labels=_SOURCE_LABELS,
    annotations=_event_types(
        ("dev.knative.apiserver.resource.add", "An object was added (Resource mode)"),
        ("dev.knative.apiserver.resource.delete", "An object was deleted (Resource mode)"),
        ("dev.knative.apiserver.resource.update", "An object was updated (Resource mode)"),
        ("dev.knative.apiserver.ref.add", "An object was added (Reference mode)"),
        ("dev.knative.apiserver.ref.delete", "An object was deleted (Reference mode)"),
        ("dev.knative.apiserver.ref.update", "An object was updated (Reference mode)"),
    ),
)

# --------------------------------------------------------------------------- GitHubSource

GITHUB_EVENTS: tuple[str, ...] = (
    "check_suite",
    "commit_comment",
    "create",
    "delete",
    "deployment",
    "deployment_status",
    "fork",
    "gollum",
    "installation",
    "integration_installation",
    "issue_comment",
    "issues",
    "label",
    "member",
    "membership",
    "milestone",
    "organization",
    "org_block",
    "page_build",
    "ping",
    "project_card",
    "project_column",
    "project",
    "public",
    "pull_request",
    "pull_request_review",
    "pull_request_review_comment",
    "push",
    "release",
    "repository",
    "status",
    "team",
    "team_add",
    "watch",
)
"""GitHub webhook events a GitHubSource can subscribe to (``spec.eventTypes`` values)."""


def _secret_key_selector(description: str) -> Schema:
    return _object(
        description,
        secretKeyRef=_object(
            "The key of a Secret in the source's namespace.",
            required_fields=("name", "key"),
            name=_string("Name of the Secret."),
            key=_string("Key within the Secret."),
        ),
    )


def _github_sink() -> Schema:
    sink = _destination("Where the webhook events are sent.")
    ref = sink["properties"]["ref"]
    for field in ("apiVersion", "kind", "name", "namespace"):
        ref["properties"][field]["minLength"] = 1
    ref["required"] = ["apiVersion", "kind", "name"]
    sink["properties"]["uri"]["format"] = "uri"
    sink["oneOf"] = [{"required": ["ref"]}, {"required": ["uri"]}]
    return sink


def _github_ce_overrides() -> Schema:
    extensions = _object("Extension attributes added to every event sent to the sink.")
    extensions["additionalProperties"] = {"type": "string", "minLength": 1}
    return _object(
        "Changes applied to every event sent to the sink.",
        required_fields=("extensions",),
        extensions=extensions,
    )


GITHUB_SOURCE = _crd(
    SOURCES_GROUP,
    "GitHubSource",
    "githubsources",
    [
        _version(
            "v1alpha1",
            _root(
                "An event source receiving the webhooks of a GitHub repository.",
                _object(
                    "Desired state of the GitHubSource.",
                    required_fields=(
                        "ownerAndRepository",
                        "eventTypes",
                        "accessToken",
                        "secretToken",
                    ),
                    ownerAndRepository=_string(
                        "The repository, as owner/repository (or an organisation).", minLength=1
                    ),
                    eventTypes=_array(
                        _string(enum=list(GITHUB_EVENTS)),
                        "GitHub webhook events to subscribe to.",
                        minItems=1,
                    ),
                    accessToken=_secret_key_selector("GitHub API token used to manage webhooks."),
                    secretToken=_secret_key_selector("Token that signs the webhook requests."),
                    githubAPIURL=_string("API URL of a GitHub Enterprise server."),
                    secure=_boolean("Whether the webhook is registered with https."),
                    serviceAccountName=_string("Service account of the receive adapter."),
                    sink=_github_sink(),
                    ceOverrides=_github_ce_overrides(),
                ),
                _source_status(
                    "Observed state of the GitHubSource; may be out of date.",
                    webhookIDKey=_string("ID of the webhook registered on GitHub."),
                ),
            ),
            _columns(_READY, _REASON, _SINK, _AGE),
            storage=True,
        )
    ],
    ("all", "knative", "eventing", "sources"),
    labels=_SOURCE_LABELS,
    annotations=_event_types(
        *(
            (f"dev.knative.source.github.{event}", f"GitHub {event} webhook event")
            for event in GITHUB_EVENTS
        )
    ),
)

# ---------------------------------------------------------------------------------- all

BUILTIN_CRDS: tuple[dict[str, Any], ...] = (
    EVENT_TYPE,
    BROKER,
    TRIGGER,
    PING_SOURCE,
    API_SERVER_SOURCE,
    GITHUB_SOURCE,
)
"""Every CRD the control plane installs, in installation order."""

DEFINITIONS_HASH: str = hashlib.sha256(canonical_json(BUILTIN_CRDS).encode()).hexdigest()
"""SHA-256 (hex) of the canonical JSON of :data:`BUILTIN_CRDS`."""
