"""The embedded readiness controller, seen from outside: a control plane process with its
controllers, the real Knative CRDs applied over the built-ins, and kubectl as the only client.

Every expectation is polled with a deadline; nothing sleeps for long.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.support.controlplane import ControlPlaneProcess, knative_crd, manifest

DEADLINE = 10.0


@pytest.fixture(scope="module")
def controlplane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlaneProcess]:
    """A control plane running its controllers, with Knative's own CRDs applied."""
    plane = ControlPlaneProcess(tmp_path_factory.mktemp("readiness")).start()
    try:
        for crd in ("broker", "trigger", "eventtype"):
            plane.kubectl("apply", "-f", "-", input=knative_crd(crd), check=True)
        yield plane
    finally:
        plane.stop()


# helpers -------------------------------------------------------------------------------------


def apply(plane: ControlPlaneProcess, *documents: dict[str, Any]) -> None:
    plane.kubectl("apply", "-f", "-", input=manifest(*documents), check=True)


def get(plane: ControlPlaneProcess, resource: str, namespace: str, name: str) -> Any:
    result = plane.kubectl("get", resource, name, "-n", namespace, "-o", "json")
    return json.loads(result.stdout) if result.returncode == 0 else None


def conditions(obj: Any) -> dict[str, dict[str, Any]]:
    return {c["type"]: c for c in ((obj or {}).get("status") or {}).get("conditions") or []}


def eventually(
    plane: ControlPlaneProcess,
    resource: str,
    namespace: str,
    name: str,
    predicate: Callable[[Any], bool],
    timeout: float = DEADLINE,
) -> Any:
    """The object once ``predicate`` holds for it (fails after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        obj = get(plane, resource, namespace, name)
        if obj is not None and predicate(obj):
            return obj
        if time.monotonic() > deadline:
            pytest.fail(f"{resource} {namespace}/{name} never matched; last seen: {obj}")
        time.sleep(0.05)


def condition_is(type_: str, status: str, reason: str | None = None) -> Callable[[Any], bool]:
    def check(obj: Any) -> bool:
        cond = conditions(obj).get(type_)
        return (
            cond is not None
            and cond["status"] == status
            and (reason is None or cond.get("reason") == reason)
        )

    return check


def broker(namespace: str, name: str = "default", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Broker",
        "metadata": {"namespace": namespace, "name": name},
        "spec": spec,
    }


def trigger(namespace: str, name: str, subscriber: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Trigger",
        "metadata": {"namespace": namespace, "name": name},
        "spec": {"broker": "default", "subscriber": subscriber},
    }


def event_type(namespace: str, name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "eventing.knative.dev/v1beta2",
        "kind": "EventType",
        "metadata": {"namespace": namespace, "name": name},
        "spec": {"type": f"dev.example.{name}", "source": "https://example.com", **spec},
    }


def broker_ref(name: str = "default") -> dict[str, str]:
    return {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker", "name": name}


ready = condition_is("Ready", "True")


# tests ---------------------------------------------------------------------------------------


def test_new_broker_becomes_ready_and_is_then_left_quiet(
    controlplane: ControlPlaneProcess, namespace: str
) -> None:
    apply(controlplane, broker(namespace))
    obj = eventually(controlplane, "brokers", namespace, "default", ready)
    status = obj["status"]
    # The embedded Broker ingress runs beside the controllers: the address is its own.
    assert status["address"]["url"] == f"{controlplane.ingress_url}/{namespace}/default"
    assert status["address"]["name"] == "http"
    assert status["observedGeneration"] == obj["metadata"]["generation"]
    assert {
        "Addressable",
        "DeadLetterSinkResolved",
        "EventPoliciesReady",
        "FilterReady",
        "IngressReady",
        "TriggerChannelReady",
    } <= set(conditions(obj))
    assert conditions(obj)["DeadLetterSinkResolved"]["reason"] == "DeadLetterSinkNotConfigured"
    time.sleep(0.3)  # the controller must not keep rewriting an unchanged status
    again = get(controlplane, "brokers", namespace, "default")
    assert again["metadata"]["resourceVersion"] == obj["metadata"]["resourceVersion"]


def test_event_types_and_triggers_follow_their_broker(
    controlplane: ControlPlaneProcess, namespace: str
) -> None:
    apply(
        controlplane,
        broker(namespace),
        event_type(namespace, "by-reference", reference=broker_ref()),
        event_type(namespace, "by-broker-field", broker="default"),
        trigger(namespace, "to-uri", {"uri": "http://sink.example.com/events"}),
    )
    for name in ("by-reference", "by-broker-field"):
        et = eventually(controlplane, "eventtypes", namespace, name, ready)
        assert conditions(et)["ReferenceExists"]["status"] == "True"
        assert et["status"]["observedGeneration"] == et["metadata"]["generation"]
    t = eventually(controlplane, "triggers", namespace, "to-uri", ready)
    assert conditions(t)["SubscriberResolved"]["status"] == "True"
    assert conditions(t)["BrokerReady"]["status"] == "True"
    assert t["status"]["subscriberUri"] == "http://sink.example.com/events"

    controlplane.kubectl("delete", "broker", "default", "-n", namespace, check=True)
    gone = condition_is("Ready", "False", "ResourceDoesNotExist")
    for name in ("by-reference", "by-broker-field"):
        et = eventually(controlplane, "eventtypes", namespace, name, gone)
        assert conditions(et)["ReferenceExists"]["reason"] == "ResourceDoesNotExist"
    t = eventually(
        controlplane, "triggers", namespace, "to-uri", condition_is("BrokerReady", "False")
    )
    assert conditions(t)["BrokerReady"]["reason"] == "BrokerDoesNotExist"
    assert conditions(t)["Ready"]["reason"] == "BrokerDoesNotExist"

    apply(controlplane, broker(namespace))
    eventually(controlplane, "brokers", namespace, "default", ready)
    for name in ("by-reference", "by-broker-field"):
        eventually(controlplane, "eventtypes", namespace, name, ready)
    eventually(controlplane, "triggers", namespace, "to-uri", ready)


def test_hand_written_broker_status_is_kept_until_the_spec_changes(
    controlplane: ControlPlaneProcess, namespace: str
) -> None:
    apply(controlplane, broker(namespace), trigger(namespace, "t", {"uri": "http://sink"}))
    eventually(controlplane, "triggers", namespace, "t", ready)
    failed = {
        "status": {
            "conditions": [
                {
                    "type": "Ready",
                    "status": "False",
                    "reason": "IngressDown",
                    "message": "ingress is down",
                    "lastTransitionTime": "2024-01-01T00:00:00Z",
                }
            ]
        }
    }
    controlplane.kubectl(
        "patch",
        "broker",
        "default",
        "-n",
        namespace,
        "--subresource=status",
        "--type=merge",
        "-p",
        json.dumps(failed),
        check=True,
    )
    t = eventually(
        controlplane,
        "triggers",
        namespace,
        "t",
        condition_is("BrokerReady", "False", "IngressDown"),
    )
    assert conditions(t)["BrokerReady"]["message"] == "ingress is down"
    assert conditions(t)["Ready"]["status"] == "False"
    assert conditions(t)["Ready"]["reason"] == "IngressDown"
    # the broker's change was handled before its triggers': it was left as written
    kept = get(controlplane, "brokers", namespace, "default")
    assert conditions(kept)["Ready"]["status"] == "False"
    assert conditions(kept)["Ready"]["reason"] == "IngressDown"
    assert set(conditions(kept)) == {"Ready"}

    controlplane.kubectl(
        "patch",
        "broker",
        "default",
        "-n",
        namespace,
        "--type=merge",
        "-p",
        json.dumps({"spec": {"delivery": {"retry": 3}}}),
        check=True,
    )
    obj = eventually(controlplane, "brokers", namespace, "default", ready)
    assert obj["metadata"]["generation"] == 2
    assert obj["status"]["observedGeneration"] == 2
    eventually(controlplane, "triggers", namespace, "t", ready)


def test_trigger_subscriber_refs(controlplane: ControlPlaneProcess, namespace: str) -> None:
    apply(
        controlplane,
        broker(namespace),
        trigger(
            namespace,
            "to-missing",
            {"ref": {"apiVersion": "v1", "kind": "Service", "name": "nope"}},
        ),
        trigger(namespace, "to-broker", {"ref": broker_ref()}),
    )
    t = eventually(
        controlplane,
        "triggers",
        namespace,
        "to-missing",
        condition_is("SubscriberResolved", "False"),
    )
    resolved = conditions(t)["SubscriberResolved"]
    assert resolved["reason"] == "Unable to get the Subscriber's URI"
    assert f"{namespace}/nope" in resolved["message"]
    assert "not found" in resolved["message"]
    assert conditions(t)["Ready"]["status"] == "False"
    assert "subscriberUri" not in t["status"]

    t = eventually(controlplane, "triggers", namespace, "to-broker", ready)
    assert t["status"]["subscriberUri"] == f"{controlplane.ingress_url}/{namespace}/default"


def test_v1beta3_event_type_without_reference(
    controlplane: ControlPlaneProcess, namespace: str
) -> None:
    attributes = [
        {"name": "type", "value": "dev.example.v1beta3", "required": True},
        {"name": "source", "value": "https://example.com", "required": True},
        {"name": "specversion", "value": "1.0", "required": True},
        {"name": "id", "required": True},
    ]
    apply(
        controlplane,
        {
            "apiVersion": "eventing.knative.dev/v1beta3",
            "kind": "EventType",
            "metadata": {"namespace": namespace, "name": "unreferenced"},
            "spec": {"attributes": attributes},
        },
    )
    et = eventually(controlplane, "eventtypes", namespace, "unreferenced", ready)
    assert conditions(et)["ReferenceExists"]["status"] == "True"
    assert conditions(et)["ReferenceExists"]["reason"] == "ReferenceNotSet"
