"""The statuses Knative's reconcilers would write (controllers.knative_status), purely."""

from __future__ import annotations

from typing import Any

import pytest

from event_registry.controllers import knative_status as ks
from event_registry.controllers.knative_status import SubscriberResolution
from event_registry.domain import normalizing

T0 = "2024-01-01T00:00:00Z"
T1 = "2024-01-02T00:00:00Z"
INGRESS = "http://broker-ingress.knative-eventing.svc.cluster.local"


def conds(status: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["type"]: c for c in status["conditions"]}


def broker(
    name: str = "default",
    *,
    generation: int = 1,
    status: dict[str, Any] | None = None,
    spec: dict[str, Any] | None = None,
) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Broker",
        "metadata": {"namespace": "ns", "name": name, "generation": generation},
        "spec": spec or {},
    }
    if status is not None:
        raw["status"] = status
    return raw


def ready_broker(name: str = "default", generation: int = 1) -> dict[str, Any]:
    raw = broker(name, generation=generation)
    status = ks.broker_status(raw, now=T0)
    assert status is not None
    raw["status"] = status
    return raw


def event_type(spec: dict[str, Any], api_version: str = "eventing.knative.dev/v1beta2") -> Any:
    return normalizing.event_type(
        {
            "apiVersion": api_version,
            "kind": "EventType",
            "metadata": {"namespace": "ns", "name": "et", "generation": 3},
            "spec": spec,
        }
    )


def trigger(subscriber: dict[str, Any] | None = None, generation: int = 2) -> Any:
    return normalizing.trigger(
        {
            "apiVersion": "eventing.knative.dev/v1",
            "kind": "Trigger",
            "metadata": {"namespace": "ns", "name": "t", "generation": generation},
            "spec": {"broker": "default", "subscriber": subscriber or {"uri": "http://sink"}},
        }
    )


URI_SUBSCRIBER = SubscriberResolution(uri="http://sink")


# Broker ------------------------------------------------------------------------------------


def test_new_broker_gets_the_full_ready_status_of_the_mt_broker() -> None:
    status = ks.broker_status(broker(generation=1), now=T0)
    assert status is not None
    c = conds(status)
    assert list(c) == sorted(c)
    assert set(c) == {
        "Addressable",
        "DeadLetterSinkResolved",
        "EventPoliciesReady",
        "FilterReady",
        "IngressReady",
        "Ready",
        "TriggerChannelReady",
    }
    assert all(cond["status"] == "True" for cond in c.values())
    assert all(cond["lastTransitionTime"] == T0 for cond in c.values())
    assert "reason" not in c["Ready"]
    assert c["DeadLetterSinkResolved"]["reason"] == "DeadLetterSinkNotConfigured"
    assert c["DeadLetterSinkResolved"]["message"] == "No dead letter sink is configured."
    assert c["EventPoliciesReady"]["reason"] == "OIDCDisabled"
    assert status["address"] == {"name": "http", "url": f"{INGRESS}/ns/default"}
    assert "addresses" not in status  # Knative sets it only with transport encryption
    assert status["observedGeneration"] == 1
    assert status["deadLetterSinkUri"] is None


def test_broker_is_left_alone_once_its_generation_is_observed() -> None:
    raw = ready_broker()
    raw["status"]["conditions"] = [ks.condition("Ready", "False", "Manual", "set by hand")]
    assert ks.broker_up_to_date(raw)
    assert ks.broker_status(raw, now=T1) is None


def test_broker_is_recomputed_when_its_generation_changes() -> None:
    raw = ready_broker()
    raw["status"]["conditions"] = [
        *[c for c in raw["status"]["conditions"] if c["type"] != "Ready"],
        {**ks.condition("Ready", "False", "Manual"), "lastTransitionTime": T0},
    ]
    raw["metadata"]["generation"] = 2
    status = ks.broker_status(raw, now=T1)
    assert status is not None
    c = conds(status)
    assert c["Ready"]["status"] == "True"
    assert c["Ready"]["lastTransitionTime"] == T1
    assert c["IngressReady"]["lastTransitionTime"] == T0  # unchanged: time kept
    assert status["observedGeneration"] == 2


def test_broker_without_ready_condition_is_recomputed_even_at_its_generation() -> None:
    raw = broker(status={"observedGeneration": 1})
    assert ks.broker_status(raw, now=T0) is not None


def test_deleting_broker_is_left_alone() -> None:
    raw = broker()
    raw["metadata"]["deletionTimestamp"] = T0
    assert ks.broker_status(raw, now=T0) is None


def test_broker_dead_letter_sink_uri_resolves() -> None:
    raw = broker(spec={"delivery": {"deadLetterSink": {"uri": "http://dls.example"}}})
    status = ks.broker_status(raw, now=T0)
    assert status is not None
    assert conds(status)["DeadLetterSinkResolved"] == {
        "type": "DeadLetterSinkResolved",
        "status": "True",
        "lastTransitionTime": T0,
    }
    assert status["deadLetterSinkUri"] == "http://dls.example"


def test_broker_with_unresolvable_dead_letter_sink_is_not_ready() -> None:
    raw = broker(spec={"delivery": {"deadLetterSink": {"ref": {"kind": "Service", "name": "x"}}}})
    missing = SubscriberResolution(error='failed to get object ns/x: services "x" not found')
    status = ks.broker_status(raw, now=T0, dead_letter_sink=missing)
    assert status is not None
    c = conds(status)
    assert c["DeadLetterSinkResolved"]["status"] == "False"
    assert c["DeadLetterSinkResolved"]["reason"] == "Unable to get the dead letter sink's URI"
    assert c["Ready"]["status"] == "False"
    assert c["Ready"]["reason"] == "Unable to get the dead letter sink's URI"
    assert c["Addressable"]["status"] == "Unknown"  # Knative stops before addressing it
    assert status["address"] is None


# EventType ---------------------------------------------------------------------------------


def test_event_type_with_existing_reference_is_ready() -> None:
    et = event_type(
        {
            "type": "t",
            "reference": {
                "apiVersion": "eventing.knative.dev/v1",
                "kind": "Broker",
                "name": "default",
            },
        }
    )
    status = ks.event_type_status(et, reference_exists=True, previous=None, now=T0)
    c = conds(status)
    assert c["ReferenceExists"] == {
        "type": "ReferenceExists",
        "status": "True",
        "lastTransitionTime": T0,
    }
    assert c["Ready"] == {"type": "Ready", "status": "True", "lastTransitionTime": T0}
    assert status["observedGeneration"] == 3


def test_event_type_with_spec_broker_only_counts_it_as_a_reference() -> None:
    et = event_type({"type": "t", "broker": "default"})
    present = ks.event_type_status(et, reference_exists=True, previous=None, now=T0)
    assert conds(present)["Ready"]["status"] == "True"
    assert "reason" not in conds(present)["ReferenceExists"]
    missing = ks.event_type_status(et, reference_exists=False, previous=None, now=T0)
    assert conds(missing)["ReferenceExists"]["reason"] == "ResourceDoesNotExist"


def test_event_type_with_missing_broker() -> None:
    et = event_type({"type": "t", "broker": "gone"})
    status = ks.event_type_status(et, reference_exists=False, previous=None, now=T0)
    for type_ in ("ReferenceExists", "Ready"):
        cond = conds(status)[type_]
        assert cond["status"] == "False"
        assert cond["reason"] == "ResourceDoesNotExist"
        assert cond["message"] == "Resource in spec.reference does not exist"


def test_v1beta3_event_type_without_reference_is_ready_with_reference_not_set() -> None:
    et = event_type(
        {
            "attributes": [
                {"name": "type", "value": "dev.example", "required": True},
                {"name": "source", "value": "/s", "required": True},
            ]
        },
        api_version="eventing.knative.dev/v1beta3",
    )
    status = ks.event_type_status(et, reference_exists=None, previous=None, now=T0)
    c = conds(status)
    assert c["ReferenceExists"]["status"] == "True"
    assert c["ReferenceExists"]["reason"] == "ReferenceNotSet"
    assert c["ReferenceExists"]["message"] == "spec.reference is not set"
    assert c["Ready"]["status"] == "True"
    assert "reason" not in c["Ready"]


def test_event_type_whose_reference_cannot_be_looked_up_is_unknown() -> None:
    et = event_type(
        {"type": "t", "reference": {"apiVersion": "x.dev/v1", "kind": "Thing", "name": "n"}}
    )
    status = ks.event_type_status(
        et, reference_exists=None, previous=None, now=T0, error="Unreachable (0): boom"
    )
    for type_ in ("ReferenceExists", "Ready"):
        cond = conds(status)[type_]
        assert cond["status"] == "Unknown"
        assert cond["reason"] == "ReferenceGetFailed"
        assert cond["message"] == "Failed to get reference: Unreachable (0): boom"


# Trigger -----------------------------------------------------------------------------------


def test_trigger_with_missing_broker() -> None:
    status = ks.trigger_status(
        trigger(), broker=None, subscriber=URI_SUBSCRIBER, previous=None, now=T0
    )
    c = conds(status)
    assert c["BrokerReady"]["status"] == "False"
    assert c["BrokerReady"]["reason"] == "BrokerDoesNotExist"
    assert c["BrokerReady"]["message"] == 'Broker "default" does not exist'
    assert c["Ready"]["status"] == "False"
    assert c["Ready"]["reason"] == "BrokerDoesNotExist"
    assert c["Ready"]["message"] == 'Broker "default" does not exist'
    # Knative stops at the broker: the later steps were never reached
    assert c["SubscriberResolved"]["status"] == "Unknown"
    assert c["SubscriptionReady"]["status"] == "Unknown"
    assert status["subscriberUri"] is None
    assert status["observedGeneration"] == 2


def test_trigger_with_not_ready_broker_copies_the_broker_condition() -> None:
    raw = ready_broker()
    raw["status"]["conditions"] = [
        ks.condition("Ready", "False", "EndpointSlicesUnavailable", "EndpointSlices are down.")
    ]
    status = ks.trigger_status(
        trigger(), broker=raw, subscriber=URI_SUBSCRIBER, previous=None, now=T0
    )
    c = conds(status)
    assert c["BrokerReady"] == {
        "type": "BrokerReady",
        "status": "False",
        "reason": "EndpointSlicesUnavailable",
        "message": "EndpointSlices are down.",
        "lastTransitionTime": T0,
    }
    assert c["Ready"]["status"] == "False"
    assert c["Ready"]["reason"] == "EndpointSlicesUnavailable"


def test_trigger_of_unreconciled_broker_is_unknown() -> None:
    status = ks.trigger_status(
        trigger(), broker=broker(), subscriber=URI_SUBSCRIBER, previous=None, now=T0
    )
    c = conds(status)
    assert c["BrokerReady"]["status"] == "Unknown"
    assert c["BrokerReady"]["reason"] == "BrokerNotConfigured"
    assert c["Ready"]["status"] == "Unknown"


def test_trigger_with_ready_broker_and_uri_subscriber_is_ready() -> None:
    status = ks.trigger_status(
        trigger(), broker=ready_broker(), subscriber=URI_SUBSCRIBER, previous=None, now=T0
    )
    c = conds(status)
    assert set(c) == {
        "BrokerReady",
        "DeadLetterSinkResolved",
        "DependencyReady",
        "OIDCIdentityCreated",
        "Ready",
        "SubscriberResolved",
        "SubscriptionReady",
    }
    assert all(cond["status"] == "True" for cond in c.values())
    assert "reason" not in c["Ready"]
    assert c["DeadLetterSinkResolved"]["reason"] == "DeadLetterSinkNotConfigured"
    assert c["OIDCIdentityCreated"]["reason"] == "authentication-oidc feature disabled"
    assert status["subscriberUri"] == "http://sink"
    assert status["deadLetterSinkUri"] is None


def test_trigger_whose_broker_has_not_observed_its_generation_stops_at_the_broker() -> None:
    raw = ready_broker()
    raw["metadata"]["generation"] = 2
    status = ks.trigger_status(
        trigger(), broker=raw, subscriber=URI_SUBSCRIBER, previous=None, now=T0
    )
    c = conds(status)
    assert c["BrokerReady"]["status"] == "True"
    assert c["SubscriberResolved"]["status"] == "Unknown"
    assert c["Ready"]["status"] == "Unknown"


def test_resolved_ref_subscriber() -> None:
    ref = normalizing.reference(
        {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": "svc"}
    )
    assert ref is not None
    obj = {"status": {"address": {"url": "http://svc.ns.example.com"}}}
    resolution = ks.resolve_object(ref, "ns", obj)
    assert resolution == SubscriberResolution(uri="http://svc.ns.example.com")
    status = ks.trigger_status(
        trigger(
            {"ref": {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": "svc"}}
        ),
        broker=ready_broker(),
        subscriber=resolution,
        previous=None,
        now=T0,
    )
    assert conds(status)["SubscriberResolved"]["status"] == "True"
    assert status["subscriberUri"] == "http://svc.ns.example.com"


def test_ref_resolution_rules() -> None:
    core = normalizing.reference({"apiVersion": "v1", "kind": "Service", "name": "svc"})
    knative = normalizing.reference({"apiVersion": "x.dev/v1", "kind": "Sink", "name": "s"})
    assert core is not None
    assert knative is not None
    assert ks.resolve_object(core, "ns", {}).uri == "http://svc.ns.svc.cluster.local"
    assert ks.resolve_object(core, "ns", {}, "/path").uri == "http://svc.ns.svc.cluster.local/path"
    addresses = {"status": {"addresses": [{"url": "https://a"}], "address": {"url": "http://b"}}}
    assert ks.resolve_object(knative, "ns", addresses).uri == "https://a"
    assert "address not set" in ks.resolve_object(knative, "ns", {"status": {}}).error
    assert "URL missing" in ks.resolve_object(knative, "ns", {"status": {"address": {}}}).error
    assert not ks.resolve_uri("/relative").resolved
    assert ks.resolve_uri("http://x/y").uri == "http://x/y"
    missing = ks.object_missing(knative, "ns")
    assert missing.error == 'failed to get object ns/s: sinks.x.dev "s" not found'
    assert ks.object_missing(core, "ns", "services").error.endswith('services "svc" not found')
    assert ks.guess_resource("Policy") == "policies"
    assert ks.guess_resource("Ingress") == "ingresses"


def test_unresolved_ref_subscriber() -> None:
    ref = normalizing.reference({"apiVersion": "v1", "kind": "Service", "name": "gone"})
    assert ref is not None
    missing = ks.object_missing(ref, "ns", "services")
    previous = {"subscriberUri": "http://old"}
    status = ks.trigger_status(
        trigger({"ref": {"apiVersion": "v1", "kind": "Service", "name": "gone"}}),
        broker=ready_broker(),
        subscriber=missing,
        previous=previous,
        now=T0,
    )
    c = conds(status)
    assert c["SubscriberResolved"]["status"] == "False"
    assert c["SubscriberResolved"]["reason"] == "Unable to get the Subscriber's URI"
    assert (
        c["SubscriberResolved"]["message"]
        == 'failed to get object ns/gone: services "gone" not found'
    )
    assert c["Ready"]["status"] == "False"
    assert c["Ready"]["reason"] == "Unable to get the Subscriber's URI"
    assert c["BrokerReady"]["status"] == "True"
    assert status["subscriberUri"] is None


def test_trigger_falls_back_to_the_broker_dead_letter_sink() -> None:
    raw = broker(spec={"delivery": {"deadLetterSink": {"uri": "http://dls"}}})
    raw["status"] = ks.broker_status(raw, now=T0)
    status = ks.trigger_status(
        trigger(), broker=raw, subscriber=URI_SUBSCRIBER, previous=None, now=T0
    )
    assert conds(status)["DeadLetterSinkResolved"]["status"] == "True"
    assert status["deadLetterSinkUri"] == "http://dls"
    raw["status"]["deadLetterSinkUri"] = None
    status = ks.trigger_status(
        trigger(), broker=raw, subscriber=URI_SUBSCRIBER, previous=None, now=T0
    )
    assert conds(status)["Ready"]["reason"] == "Broker default didn't set status.deadLetterSinkURI"


def test_ready_reason_is_the_newest_false_dependent() -> None:
    ready = trigger_ready_status()
    raw = ready_broker()
    raw["status"]["conditions"] = [ks.condition("Ready", "Unknown", "Waiting", "for godot")]
    status = ks.trigger_status(
        trigger(), broker=raw, subscriber=URI_SUBSCRIBER, previous=ready, now=T1
    )
    c = conds(status)
    assert c["Ready"]["status"] == "Unknown"
    assert c["Ready"]["reason"] == "Waiting"
    # the steps after the broker keep what they were (Knative does not touch them)
    assert c["SubscriptionReady"]["status"] == "True"
    assert c["SubscriptionReady"]["lastTransitionTime"] == T0
    assert status["subscriberUri"] == "http://sink"
    # a False dependent trumps an Unknown one, whatever the order
    gone = ks.trigger_status(
        trigger(), broker=None, subscriber=URI_SUBSCRIBER, previous=status, now=T1
    )
    assert conds(gone)["Ready"]["reason"] == "BrokerDoesNotExist"


def trigger_ready_status() -> dict[str, Any]:
    return ks.trigger_status(
        trigger(), broker=ready_broker(), subscriber=URI_SUBSCRIBER, previous=None, now=T0
    )


def test_last_transition_time_is_preserved_for_unchanged_conditions() -> None:
    first = trigger_ready_status()
    again = ks.trigger_status(
        trigger(), broker=ready_broker(), subscriber=URI_SUBSCRIBER, previous=first, now=T1
    )
    assert again == first
    assert all(c["lastTransitionTime"] == T0 for c in again["conditions"])
    moved = ks.trigger_status(
        trigger(), broker=None, subscriber=URI_SUBSCRIBER, previous=first, now=T1
    )
    c = conds(moved)
    assert c["BrokerReady"]["lastTransitionTime"] == T1
    assert c["Ready"]["lastTransitionTime"] == T1
    assert c["SubscriptionReady"]["lastTransitionTime"] == T0


@pytest.mark.parametrize(
    ("old", "new", "kept"),
    [
        (ks.condition("A", "True"), ks.condition("A", "True"), True),
        (ks.condition("A", "True"), ks.condition("A", "False"), False),
        (ks.condition("A", "False", "R1"), ks.condition("A", "False", "R2"), False),
    ],
)
def test_preserve_transition_times(old: dict[str, Any], new: dict[str, Any], kept: bool) -> None:
    previous = {"conditions": [{**old, "lastTransitionTime": T0}]}
    (result,) = ks.preserve_transition_times([new], previous, T1)
    assert result["lastTransitionTime"] == (T0 if kept else T1)


def test_no_op_detection_ignores_transition_times_and_unowned_fields() -> None:
    desired = trigger_ready_status()
    current = {
        **desired,
        "annotations": {"x": "y"},
        "conditions": [
            {**c, "lastTransitionTime": "1999-01-01T00:00:00Z", "severity": ""}
            for c in reversed(desired["conditions"])
        ],
    }
    del current["deadLetterSinkUri"]  # None in desired means absent
    assert not ks.status_differs(current, desired)
    changed = {**current, "subscriberUri": "http://other"}
    assert ks.status_differs(changed, desired)
    flipped = {**current, "conditions": [ks.condition("Ready", "False")]}
    assert ks.status_differs(flipped, desired)
    assert ks.status_differs({}, desired)


def test_status_patch_removes_stale_owned_fields_only() -> None:
    desired = ks.broker_status(broker(), now=T0)
    assert desired is not None
    current = {
        "address": {"url": "http://old", "audience": "a"},
        "deadLetterSinkUri": "http://old-dls",
        "annotations": {"keep": "me"},
    }
    patch = ks.status_patch(current, desired)
    assert patch["address"] == {"name": "http", "url": f"{INGRESS}/ns/default", "audience": None}
    assert patch["deadLetterSinkUri"] is None
    assert "annotations" not in patch
    assert patch["conditions"] == desired["conditions"]
