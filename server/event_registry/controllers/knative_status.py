"""The statuses Knative's reconcilers write, computed purely (no I/O, no asyncio).

What a real cluster's Knative Eventing would report, so the embedded control plane behaves like
one. Matched against current knative/eventing (``broker_lifecycle*.go``, ``trigger_lifecycle.go``,
``v1beta3/eventtype_lifecycle.go``, ``reconciler/broker``, ``reconciler/broker/trigger``,
``reconciler/eventtype``) and knative/pkg's ``ConditionSet`` and reconciler post-processing.

Guarantees:

- **Broker** (:func:`broker_status`): a Broker whose ``status.observedGeneration`` equals its
  ``metadata.generation`` and that has a ``Ready`` condition is left alone (None): its status
  may be written by anyone through the status subresource and stays as written until the spec
  changes. Otherwise the status is the one MTChannelBasedBroker reports for a healthy broker:
  ``Addressable``, ``DeadLetterSinkResolved``, ``EventPoliciesReady``, ``FilterReady``,
  ``IngressReady``, ``TriggerChannelReady`` and ``Ready`` True, the ingress ``address`` and
  ``observedGeneration``. The address is Knative's in-cluster ingress, or the embedded
  ingress (``http://127.0.0.1:<port>/<namespace>/<name>``) when it runs; an up-to-date Broker
  showing the controller's address for another ingress gets its address alone rewritten
  (:func:`broker_address_update`). A dead-letter sink that does not resolve makes it not
  Ready, as in Knative.
- **EventType** (:func:`event_type_status`): ``ReferenceExists`` and ``Ready`` with Knative's
  reasons ``ReferenceNotSet`` (True), ``ResourceDoesNotExist`` (False) and
  ``ReferenceGetFailed`` (Unknown); ``spec.broker`` counts as a reference to that Broker, as
  Knative's v1beta2 → v1beta3 conversion makes it.
- **Trigger** (:func:`trigger_status`): the MT broker's Trigger reconciler, step by step:
  ``BrokerReady`` (missing broker, or the broker's own ``Ready`` copied), then — only when the
  broker is ready — ``SubscriberResolved``, ``DeadLetterSinkResolved``, ``OIDCIdentityCreated``,
  ``SubscriptionReady`` and ``DependencyReady``. Conditions a step never reached keep their
  previous value (Unknown when new), exactly as Knative leaves them.
- ``Ready`` is the conjunction of a kind's dependent conditions; when one is not True it carries
  the reason and message of the first unhappy dependent as knative/pkg's ``ConditionSet`` picks
  it: False before Unknown, most recent ``lastTransitionTime`` first.
- ``lastTransitionTime`` of a condition is kept when the condition is unchanged and set to
  ``now`` otherwise (knative/pkg's ``groomConditionsTransitionTime``: any change of status,
  reason, message or severity is a transition). Conditions are sorted by type, as Knative
  stores them.
- A desired status maps each field the controller owns to its value, None meaning "absent":
  :func:`status_differs` compares it with the current status ignoring ``lastTransitionTime``,
  so an unchanged object is never written, and :func:`status_patch` is the merge patch that
  turns the current status into the desired one, leaving fields the controller does not own
  (such as ``status.annotations``) untouched.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from ..domain import models
from ..knative.vocabulary import AUTHENTICATION_OIDC, SYSTEM_NAMESPACE

Status = dict[str, Any]
Condition = dict[str, Any]

READY = "Ready"
TRUE, FALSE, UNKNOWN = "True", "False", "Unknown"

CLUSTER_DOMAIN = "svc.cluster.local"
BROKER_INGRESS_HOST = f"broker-ingress.{SYSTEM_NAMESPACE}.{CLUSTER_DOMAIN}"

# Broker (pkg/apis/eventing/v1/broker_lifecycle.go)
BROKER_DEPENDENTS = (
    "IngressReady",
    "TriggerChannelReady",
    "FilterReady",
    "Addressable",
    "DeadLetterSinkResolved",
    "EventPoliciesReady",
)
DLS_NOT_CONFIGURED = ("DeadLetterSinkNotConfigured", "No dead letter sink is configured.")
DLS_FAILED_REASON = "Unable to get the dead letter sink's URI"
EVENT_POLICIES_OIDC_DISABLED = (
    "OIDCDisabled",
    f'Feature "{AUTHENTICATION_OIDC}" must be enabled to support Authorization',
)

# Trigger (pkg/apis/eventing/v1/trigger_lifecycle.go, pkg/reconciler/broker/trigger)
TRIGGER_DEPENDENTS = (
    "BrokerReady",
    "SubscriptionReady",
    "DependencyReady",
    "SubscriberResolved",
    "DeadLetterSinkResolved",
    "OIDCIdentityCreated",
)
BROKER_DOES_NOT_EXIST = "BrokerDoesNotExist"
BROKER_NOT_CONFIGURED = ("BrokerNotConfigured", "Broker has not yet been reconciled.")
SUBSCRIBER_FAILED_REASON = "Unable to get the Subscriber's URI"
OIDC_DISABLED_REASON = f"{AUTHENTICATION_OIDC} feature disabled"

# EventType (pkg/apis/eventing/v1beta3/eventtype_lifecycle.go, pkg/reconciler/eventtype)
EVENT_TYPE_DEPENDENTS = ("ReferenceExists",)
REFERENCE_NOT_SET = ("ReferenceNotSet", "spec.reference is not set")
RESOURCE_DOES_NOT_EXIST = ("ResourceDoesNotExist", "Resource in spec.reference does not exist")
REFERENCE_GET_FAILED = "ReferenceGetFailed"

BROKER_OWNED = (
    "conditions",
    "address",
    "observedGeneration",
    "deadLetterSinkUri",
    "deadLetterSinkCACerts",
    "deadLetterSinkAudience",
    "policies",
)


@dataclass(frozen=True, slots=True)
class SubscriberResolution:
    """How a Destination (``{ref, uri}``) resolved: its ``uri``, or the ``error`` why not."""

    uri: str | None = None
    error: str = ""

    @property
    def resolved(self) -> bool:
        return self.uri is not None


# conditions --------------------------------------------------------------------------------


def condition(type_: str, status: str, reason: str = "", message: str = "") -> Condition:
    """A condition as Knative serializes it (empty reason and message omitted)."""
    result: Condition = {"type": type_, "status": status}
    if reason:
        result["reason"] = reason
    if message:
        result["message"] = message
    return result


def conditions_of(status: Mapping[str, Any] | None) -> dict[str, Mapping[str, Any]]:
    """The conditions of a raw status by type (malformed entries skipped)."""
    raw = (status or {}).get("conditions")
    if not isinstance(raw, list):
        return {}
    return {
        str(c["type"]): c for c in raw if isinstance(c, Mapping) and isinstance(c.get("type"), str)
    }


def _essence(cond: Mapping[str, Any]) -> tuple[str, str, str, str]:
    return (
        str(cond.get("status") or ""),
        str(cond.get("reason") or ""),
        str(cond.get("message") or ""),
        str(cond.get("severity") or ""),
    )


def preserve_transition_times(
    conditions: Iterable[Mapping[str, Any]], previous: Mapping[str, Any] | None, now: str
) -> list[Condition]:
    """Conditions with ``lastTransitionTime`` kept where unchanged from ``previous``, else
    ``now``; sorted by type."""
    before = conditions_of(previous)
    result = []
    for cond in conditions:
        fresh = {k: v for k, v in cond.items() if k != "lastTransitionTime"}
        old = before.get(str(cond["type"]))
        kept = old.get("lastTransitionTime") if old is not None else None
        unchanged = old is not None and _essence(old) == _essence(fresh)
        fresh["lastTransitionTime"] = kept if unchanged and kept else now
        result.append(fresh)
    return sorted(result, key=lambda c: str(c["type"]))


def _happy(dependents: Sequence[Mapping[str, Any]], order: Sequence[str]) -> Condition:
    """The Ready condition for timed dependents, as knative/pkg's ConditionSet computes it."""
    unhappy = [c for c in dependents if c["status"] != TRUE]
    unhappy.sort(key=lambda c: order.index(c["type"]) if c["type"] in order else len(order))
    unhappy.sort(key=lambda c: str(c.get("lastTransitionTime") or ""), reverse=True)
    unhappy.sort(key=lambda c: c["status"] != FALSE)  # stable: False first, newest first
    if not unhappy:
        return condition(READY, TRUE)
    first = unhappy[0]
    status = FALSE if first["status"] == FALSE else UNKNOWN
    return condition(READY, status, first.get("reason", ""), first.get("message", ""))


def _with_ready(
    dependents: Iterable[Condition],
    order: Sequence[str],
    previous: Mapping[str, Any] | None,
    now: str,
) -> list[Condition]:
    timed = preserve_transition_times(dependents, previous, now)
    ready = preserve_transition_times([_happy(timed, order)], previous, now)
    return sorted([*timed, *ready], key=lambda c: str(c["type"]))


def _kept(previous: Mapping[str, Any] | None, type_: str) -> Condition:
    """The previous condition of a type, or a fresh Unknown one (InitializeConditions)."""
    old = conditions_of(previous).get(type_)
    if old is None:
        return condition(type_, UNKNOWN)
    return {str(k): v for k, v in old.items()}


# comparing and patching ----------------------------------------------------------------------


def _canonical(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value


def _canonical_conditions(value: Any) -> Any:
    if not isinstance(value, list):
        return _canonical(value)
    conditions = [
        {str(k): v for k, v in c.items() if k != "lastTransitionTime" and v is not None and v != ""}
        for c in value
        if isinstance(c, Mapping)
    ]
    return sorted(conditions, key=lambda c: str(c.get("type", "")))


def status_differs(current: Mapping[str, Any] | None, desired: Mapping[str, Any]) -> bool:
    """True when writing ``desired`` would change ``current`` (lastTransitionTime ignored)."""
    current = current or {}
    for key, wanted in desired.items():
        have = current.get(key)
        if key == "conditions":
            if _canonical_conditions(have) != _canonical_conditions(wanted):
                return True
        elif _canonical(have) != _canonical(wanted):
            return True
    return False


def _replacing(current: Any, desired: Any) -> Any:
    """A merge patch value that turns ``current`` into exactly ``desired``."""
    if not isinstance(desired, Mapping):
        return desired
    patch: dict[str, Any] = {str(k): v for k, v in desired.items()}
    if isinstance(current, Mapping):
        for key, value in current.items():
            if key not in desired:
                patch[str(key)] = None
            elif isinstance(value, Mapping):
                patch[str(key)] = _replacing(value, desired[key])
    return patch


def status_patch(current: Mapping[str, Any] | None, desired: Mapping[str, Any]) -> Status:
    """The ``status`` of a JSON merge patch writing the desired (owned) fields only."""
    current = current or {}
    return {str(key): _replacing(current.get(key), value) for key, value in desired.items()}


# destinations --------------------------------------------------------------------------------


def resolve_uri(uri: str | None) -> SubscriberResolution:
    """A Destination that is a plain URI: resolved when absolute (scheme and host)."""
    if not uri:
        return SubscriberResolution(error="destination missing Ref and URI, expected at least one")
    parts = urlsplit(uri)
    if not parts.scheme or not parts.hostname:
        return SubscriberResolution(
            error=f'URI is not absolute (both scheme and host should be non-empty): "{uri}"'
        )
    return SubscriberResolution(uri=uri)


def guess_resource(kind: str) -> str:
    """The plural Kubernetes guesses for a kind (apimachinery's UnsafeGuessKindToResource)."""
    lower = kind.lower()
    if not lower:
        return ""
    if lower.endswith("s"):
        return lower + "es"
    if lower.endswith("y"):
        return lower[:-1] + "ies"
    return lower + "s"


def _describe(ref: models.Reference) -> str:
    return f"{ref.kind} {ref.api_version} {ref.namespace}/{ref.name}"


def object_missing(
    ref: models.Reference, namespace: str, plural: str | None = None
) -> SubscriberResolution:
    """The resolver's error for a referenced object that does not exist (a NotFound)."""
    resource = plural or guess_resource(ref.kind)
    qualified = f"{resource}.{ref.group}" if ref.group else resource
    return SubscriberResolution(
        error=f'failed to get object {namespace}/{ref.name}: {qualified} "{ref.name}" not found'
    )


def _address_url(obj: Mapping[str, Any]) -> tuple[bool, str | None]:
    status = obj.get("status") or {}
    addresses = status.get("addresses") if isinstance(status, Mapping) else None
    if isinstance(addresses, list) and addresses and isinstance(addresses[0], Mapping):
        return True, addresses[0].get("url") or None
    address = status.get("address") if isinstance(status, Mapping) else None
    if isinstance(address, Mapping):
        return True, address.get("url") or None
    return False, None


def resolve_object(
    ref: models.Reference, namespace: str, obj: Mapping[str, Any], uri: str | None = None
) -> SubscriberResolution:
    """A Destination whose ``ref`` is the existing ``obj``: its address (knative/pkg's
    URIResolver), a core v1 Service by its cluster DNS name, plus a relative ``uri``."""
    described = _describe(models.Reference(ref.api_version, ref.kind, ref.name, namespace))
    if ref.api_version == "v1" and ref.kind == "Service":
        url: str | None = f"http://{ref.name}.{namespace}.{CLUSTER_DOMAIN}"
    else:
        has_address, url = _address_url(obj)
        if not has_address:
            return SubscriberResolution(error=f"address not set for {described}")
        if not url:
            return SubscriberResolution(error=f"URL missing in address of {described}")
        if not urlsplit(url).hostname:
            return SubscriberResolution(error=f"hostname missing in address of {described}")
    if uri:
        if urlsplit(uri).scheme:
            return SubscriberResolution(
                error="absolute URI is not allowed when Ref or [apiVersion, kind, name] exists"
            )
        url = urljoin(url or "", uri)
    return SubscriberResolution(uri=url)


def dead_letter_sink_of(raw: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """``spec.delivery.deadLetterSink`` of a raw Broker or Trigger, if configured."""
    spec = raw.get("spec") or {}
    delivery = spec.get("delivery") if isinstance(spec, Mapping) else None
    sink = delivery.get("deadLetterSink") if isinstance(delivery, Mapping) else None
    return sink if isinstance(sink, Mapping) and (sink.get("ref") or sink.get("uri")) else None


# Broker --------------------------------------------------------------------------------------


def _generation(raw: Mapping[str, Any]) -> int:
    try:
        return int((raw.get("metadata") or {}).get("generation") or 0)
    except (TypeError, ValueError):
        return 0


def _observed(raw: Mapping[str, Any]) -> int:
    try:
        return int((raw.get("status") or {}).get("observedGeneration") or 0)
    except (TypeError, ValueError):
        return 0


def broker_url(namespace: str, name: str, ingress: str | None = None) -> str:
    """The MT broker's ingress address: path-based routing on the shared ingress, in-cluster
    or, given ``ingress`` (``http://127.0.0.1:<port>``), the embedded ingress."""
    return f"{ingress or f'http://{BROKER_INGRESS_HOST}'}/{namespace}/{name}"


def _written_by_controller(url: str, namespace: str, name: str) -> bool:
    """True for an address the controller writes: the in-cluster ingress or a loopback one."""
    parts = urlsplit(url)
    loopback = parts.hostname in ("127.0.0.1", "::1", "localhost")
    return (
        parts.hostname == BROKER_INGRESS_HOST or loopback
    ) and parts.path == f"/{namespace}/{name}"


def broker_address_update(raw_broker: Mapping[str, Any], ingress: str | None) -> Status | None:
    """For an up-to-date Broker: the ``address`` to write when the one it shows is the
    controller's for another ingress (say, the embedded ingress moved to another port, or
    stopped running); None otherwise (an address written by anyone else stays)."""
    metadata = raw_broker.get("metadata") or {}
    namespace, name = str(metadata.get("namespace") or ""), str(metadata.get("name") or "")
    status = raw_broker.get("status") or {}
    address = status.get("address") if isinstance(status, Mapping) else None
    if not isinstance(address, Mapping):
        return None
    url, wanted = address.get("url"), broker_url(namespace, name, ingress)
    if not isinstance(url, str) or url == wanted:
        return None
    if not _written_by_controller(url, namespace, name):
        return None
    return {"address": {**address, "url": wanted}}


def broker_up_to_date(raw_broker: Mapping[str, Any]) -> bool:
    """True when the Broker's status observed its generation and has a Ready condition."""
    status = raw_broker.get("status")
    return _observed(raw_broker) == _generation(raw_broker) and READY in conditions_of(
        status if isinstance(status, Mapping) else None
    )


def broker_ready(raw_broker: Mapping[str, Any] | None) -> bool:
    """Knative's ``Broker.IsReady``: Ready True and the latest generation observed."""
    if raw_broker is None:
        return False
    ready = conditions_of(raw_broker.get("status")).get(READY)
    return (
        ready is not None
        and ready.get("status") == TRUE
        and _observed(raw_broker) == _generation(raw_broker)
    )


def broker_status(
    raw_broker: Mapping[str, Any],
    *,
    now: str,
    dead_letter_sink: SubscriberResolution | None = None,
    ingress: str | None = None,
) -> Status | None:
    """The status the MT broker reconciler writes, or None to leave the Broker alone.

    ``dead_letter_sink`` is how ``spec.delivery.deadLetterSink`` resolved (the caller looks up
    a ref); without it a plain URI sink is checked here and a ref sink counts as unresolved.
    ``ingress``: the embedded ingress' base URL, when it runs (see :func:`broker_url`).
    """
    metadata = raw_broker.get("metadata") or {}
    if metadata.get("deletionTimestamp") or broker_up_to_date(raw_broker):
        return None
    previous = raw_broker.get("status") or {}
    namespace, name = str(metadata.get("namespace") or ""), str(metadata.get("name") or "")
    desired: Status = dict.fromkeys(BROKER_OWNED)
    desired["observedGeneration"] = _generation(raw_broker)
    conditions = [
        condition("TriggerChannelReady", TRUE),
        condition("FilterReady", TRUE),
        condition("IngressReady", TRUE),
    ]
    sink = dead_letter_sink_of(raw_broker)
    if sink is None:
        conditions.append(condition("DeadLetterSinkResolved", TRUE, *DLS_NOT_CONFIGURED))
    else:
        resolution = dead_letter_sink
        if resolution is None:
            resolution = (
                resolve_uri(str(sink.get("uri") or ""))
                if not sink.get("ref")
                else SubscriberResolution(error="the dead letter sink reference was not resolved")
            )
        if not resolution.resolved:
            # Knative returns before addressing the broker: those conditions stay as they were.
            conditions.append(
                condition("DeadLetterSinkResolved", FALSE, DLS_FAILED_REASON, resolution.error)
            )
            conditions += [_kept(previous, "Addressable"), _kept(previous, "EventPoliciesReady")]
            desired["address"] = previous.get("address")
            desired["conditions"] = _with_ready(conditions, BROKER_DEPENDENTS, previous, now)
            return desired
        conditions.append(condition("DeadLetterSinkResolved", TRUE))
        desired["deadLetterSinkUri"] = resolution.uri
    desired["address"] = {"name": "http", "url": broker_url(namespace, name, ingress)}
    conditions.append(condition("Addressable", TRUE))
    conditions.append(condition("EventPoliciesReady", TRUE, *EVENT_POLICIES_OIDC_DISABLED))
    desired["conditions"] = _with_ready(conditions, BROKER_DEPENDENTS, previous, now)
    return desired


# EventType -----------------------------------------------------------------------------------


def event_type_status(
    event_type: models.EventType,
    *,
    reference_exists: bool | None,
    previous: Mapping[str, Any] | None,
    now: str,
    error: str = "",
) -> Status:
    """The status Knative's EventType reconciler writes.

    ``reference_exists`` tells whether ``spec.reference`` (or the Broker named by
    ``spec.broker``) exists; None when it could not be looked up (``error`` says why). It is
    ignored when the EventType references nothing.
    """
    if event_type.reference is None and event_type.broker_name is None:
        exists = condition("ReferenceExists", TRUE, *REFERENCE_NOT_SET)
    elif reference_exists is True:
        exists = condition("ReferenceExists", TRUE)
    elif reference_exists is False:
        exists = condition("ReferenceExists", FALSE, *RESOURCE_DOES_NOT_EXIST)
    else:
        message = f"Failed to get reference: {error}" if error else "Failed to get reference"
        exists = condition("ReferenceExists", UNKNOWN, REFERENCE_GET_FAILED, message)
    return {
        "conditions": _with_ready([exists], EVENT_TYPE_DEPENDENTS, previous, now),
        "observedGeneration": event_type.meta.generation,
    }


# Trigger -------------------------------------------------------------------------------------


def _broker_ready_condition(raw_broker: Mapping[str, Any]) -> Condition:
    """Trigger ``BrokerReady`` from the Broker's top-level condition (PropagateBrokerCondition)."""
    ready = conditions_of(raw_broker.get("status")).get(READY)
    if ready is None:
        return condition("BrokerReady", UNKNOWN, *BROKER_NOT_CONFIGURED)
    status = ready.get("status")
    reason, message = str(ready.get("reason") or ""), str(ready.get("message") or "")
    if status == TRUE:
        return condition("BrokerReady", TRUE)
    if status == FALSE:
        return condition("BrokerReady", FALSE, reason, message)
    if status == UNKNOWN:
        return condition("BrokerReady", UNKNOWN, reason, message)
    return condition(
        "BrokerReady", UNKNOWN, "BrokerUnknown", f"The status of Broker is invalid: {status}"
    )


def trigger_status(
    trigger: models.Trigger,
    *,
    broker: Mapping[str, Any] | None,
    subscriber: SubscriberResolution,
    previous: Mapping[str, Any] | None,
    now: str,
    dead_letter_sink: SubscriberResolution | None = None,
) -> Status:
    """The status the MT broker's Trigger reconciler writes.

    ``broker`` is the raw Broker (None: it does not exist); ``subscriber`` how
    ``spec.subscriber`` resolved (consulted only once the broker is ready); ``dead_letter_sink``
    how the Trigger's own ``spec.delivery.deadLetterSink`` resolved (None: it has none).
    """
    previous = previous or {}
    set_: dict[str, Condition] = {}
    desired: Status = {
        "observedGeneration": trigger.meta.generation,
        "subscriberUri": previous.get("subscriberUri"),
        "deadLetterSinkUri": previous.get("deadLetterSinkUri"),
    }
    if broker is None:
        set_["BrokerReady"] = condition(
            "BrokerReady", FALSE, BROKER_DOES_NOT_EXIST, f'Broker "{trigger.broker}" does not exist'
        )
    else:
        set_["BrokerReady"] = _broker_ready_condition(broker)
        if broker_ready(broker):
            _reconcile_ready_broker(set_, desired, broker, subscriber, dead_letter_sink)
    conditions = [set_.get(t) or _kept(previous, t) for t in TRIGGER_DEPENDENTS]
    desired["conditions"] = _with_ready(conditions, TRIGGER_DEPENDENTS, previous, now)
    return desired


def _reconcile_ready_broker(
    set_: dict[str, Condition],
    desired: Status,
    broker: Mapping[str, Any],
    subscriber: SubscriberResolution,
    dead_letter_sink: SubscriberResolution | None,
) -> None:
    if not subscriber.resolved:
        set_["SubscriberResolved"] = condition(
            "SubscriberResolved", FALSE, SUBSCRIBER_FAILED_REASON, subscriber.error
        )
        desired["subscriberUri"] = None
        return
    set_["SubscriberResolved"] = condition("SubscriberResolved", TRUE)
    desired["subscriberUri"] = subscriber.uri
    if dead_letter_sink is not None:
        if not dead_letter_sink.resolved:
            set_["DeadLetterSinkResolved"] = condition(
                "DeadLetterSinkResolved", FALSE, DLS_FAILED_REASON, dead_letter_sink.error
            )
            desired["deadLetterSinkUri"] = None
            return
        set_["DeadLetterSinkResolved"] = condition("DeadLetterSinkResolved", TRUE)
        desired["deadLetterSinkUri"] = dead_letter_sink.uri
    elif dead_letter_sink_of(broker) is not None:
        broker_sink = (broker.get("status") or {}).get("deadLetterSinkUri")
        if not broker_sink:
            name = (broker.get("metadata") or {}).get("name")
            set_["DeadLetterSinkResolved"] = condition(
                "DeadLetterSinkResolved",
                FALSE,
                f"Broker {name} didn't set status.deadLetterSinkURI",
            )
            desired["deadLetterSinkUri"] = None
            return
        set_["DeadLetterSinkResolved"] = condition("DeadLetterSinkResolved", TRUE)
        desired["deadLetterSinkUri"] = broker_sink
    else:
        set_["DeadLetterSinkResolved"] = condition(
            "DeadLetterSinkResolved", TRUE, *DLS_NOT_CONFIGURED
        )
        desired["deadLetterSinkUri"] = None
    set_["OIDCIdentityCreated"] = condition("OIDCIdentityCreated", TRUE, OIDC_DISABLED_REASON)
    set_["SubscriptionReady"] = condition("SubscriptionReady", TRUE)
    set_["DependencyReady"] = condition("DependencyReady", TRUE)
