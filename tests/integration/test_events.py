"""Kubernetes Events end to end: the controllers record them, real clients read them.

One control plane process with its controllers for the module, reached over HTTP only: the
readiness controller and the source registrar record Events through the event recorder, and
kubectl (PyPI), the official ``kubernetes`` Python client and plain HTTP read them back
through both Event groups, as they would on a cluster.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubernetes import client as kube_client
from kubernetes import config as kube_config

from tests.support.controlplane import ControlPlaneProcess, manifest

DEADLINE = 30.0
ET = "eventtypes.v1beta2.eventing.knative.dev"
REPORTER = "eventing.knative.dev/event-registry"


@pytest.fixture(scope="module")
def controlplane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlaneProcess]:
    """A control plane running its controllers (the readiness controller, the registrar)."""
    plane = ControlPlaneProcess(tmp_path_factory.mktemp("events")).start()
    try:
        yield plane
    finally:
        plane.stop()


@pytest.fixture(scope="module")
def core(controlplane: ControlPlaneProcess) -> kube_client.CoreV1Api:
    config = str(controlplane.kubeconfig)
    api = kube_config.new_client_from_config(config_file=config)  # type: ignore[no-untyped-call]
    return kube_client.CoreV1Api(api)


# helpers -------------------------------------------------------------------------------------


def apply(plane: ControlPlaneProcess, *documents: dict[str, Any]) -> None:
    plane.kubectl("apply", "-f", "-", input=manifest(*documents), check=True)


def broker(namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Broker",
        "metadata": {"namespace": namespace, "name": "default"},
    }


def eventtype(namespace: str, name: str = "orders") -> dict[str, Any]:
    return {
        "apiVersion": "eventing.knative.dev/v1beta2",
        "kind": "EventType",
        "metadata": {"namespace": namespace, "name": name},
        "spec": {
            "type": "com.example.order.created",
            "source": "https://shop.example.com",
            "broker": "default",
        },
    }


def flip_broker(plane: ControlPlaneProcess, namespace: str, ready: bool) -> None:
    condition = {"type": "Ready", "status": "True"}
    if not ready:
        condition = {
            "type": "Ready",
            "status": "False",
            "reason": "IngressNotReady",
            "message": "the ingress is down",
        }
    plane.kubectl(
        "patch", "broker", "default", "-n", namespace, "--subresource=status", "--type=merge",
        "-p", json.dumps({"status": {"conditions": [condition]}}), check=True,
    )  # fmt: skip


def events_about(plane: ControlPlaneProcess, namespace: str, name: str) -> list[dict[str, Any]]:
    listed = plane.kubectl(
        "get", "events", "-n", namespace, "-o", "json",
        "--field-selector", f"involvedObject.name={name}", check=True,
    )  # fmt: skip
    items: list[dict[str, Any]] = json.loads(listed.stdout)["items"]
    return items


def eventually(
    plane: ControlPlaneProcess,
    namespace: str,
    name: str,
    predicate: Callable[[list[dict[str, Any]]], bool],
) -> list[dict[str, Any]]:
    """The Events about ``name`` once ``predicate`` holds for them."""
    deadline = time.monotonic() + DEADLINE
    while True:
        items = events_about(plane, namespace, name)
        if predicate(items):
            return items
        if time.monotonic() > deadline:
            pytest.fail(f"the Events about {namespace}/{name} never matched: {items}")
        time.sleep(0.1)


def reasons(items: list[dict[str, Any]]) -> dict[str, int]:
    return {item["reason"]: item.get("count", 1) for item in items}


def with_reasons(**counts: int) -> Callable[[list[dict[str, Any]]], bool]:
    return lambda items: all(reasons(items).get(r) == n for r, n in counts.items())


def http(plane: ControlPlaneProcess, path: str, *, body: Any = None) -> tuple[int, Any]:
    """GET ``path`` (POST ``body`` as JSON, when given): the status and the JSON answer."""
    request = urllib.request.Request(plane.url + path)
    if body is not None:
        request.data = json.dumps(body).encode()
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def ready_flow(plane: ControlPlaneProcess, namespace: str) -> None:
    apply(plane, broker(namespace), eventtype(namespace))
    eventually(plane, namespace, "orders", with_reasons(Ready=1))


# tests ---------------------------------------------------------------------------------------


def test_kubectl_describe_eventtype_shows_the_readiness_controllers_events(
    controlplane: ControlPlaneProcess, namespace: str
) -> None:
    ready_flow(controlplane, namespace)
    flip_broker(controlplane, namespace, ready=False)
    eventually(controlplane, namespace, "orders", with_reasons(Ready=1, BrokerNotReady=1))

    described = controlplane.kubectl("describe", ET, "orders", "-n", namespace, check=True)
    section = described.stdout.split("\nEvents:\n", 1)[1].splitlines()
    assert section[0].split() == ["Type", "Reason", "Age", "From", "Message"]
    rows = [re.split(r"\s{2,}", line.strip()) for line in section[2:]]
    assert [(row[0], row[1], row[3], row[4]) for row in rows] == [
        ("Normal", "Ready", REPORTER, 'EventType is ready, and so is Broker "default"'),
        (
            "Warning",
            "BrokerNotReady",
            REPORTER,
            'Broker "default" is not ready: IngressNotReady: the ingress is down',
        ),
    ]

    listed = controlplane.kubectl(
        "events", "-n", namespace, "--for", "eventtype/orders", check=True
    )
    assert [re.split(r"\s{2,}", row)[2] for row in listed.stdout.splitlines()[1:]] == [
        "Ready",
        "BrokerNotReady",
    ]

    broker_events = eventually(
        controlplane, namespace, "default", with_reasons(Ready=1, IngressNotReady=1)
    )
    assert {e["involvedObject"]["kind"] for e in broker_events} == {"Broker"}


def test_a_repeated_verdict_counts_on_one_event(
    controlplane: ControlPlaneProcess, namespace: str
) -> None:
    ready_flow(controlplane, namespace)
    flip_broker(controlplane, namespace, ready=False)
    eventually(controlplane, namespace, "orders", with_reasons(BrokerNotReady=1))
    flip_broker(controlplane, namespace, ready=True)
    eventually(controlplane, namespace, "orders", with_reasons(Ready=2))
    flip_broker(controlplane, namespace, ready=False)
    items = eventually(controlplane, namespace, "orders", with_reasons(BrokerNotReady=2))

    not_ready = [item for item in items if item["reason"] == "BrokerNotReady"]
    assert len(not_ready) == 1, "a repeat patches the Event, it makes no second one"
    (event,) = not_ready
    assert event["count"] == 2
    assert event["firstTimestamp"] <= event["lastTimestamp"]
    assert event["source"]["component"] == REPORTER
    assert event["reportingComponent"] == REPORTER
    assert event["reportingInstance"] == event["source"]["host"]
    described = controlplane.kubectl("describe", ET, "orders", "-n", namespace, check=True)
    assert re.search(r"BrokerNotReady\s+\S+ \(x2 over \S+\)", described.stdout)


def test_kubectl_get_events_in_both_groups(
    controlplane: ControlPlaneProcess, namespace: str
) -> None:
    ready_flow(controlplane, namespace)
    table = controlplane.kubectl("get", "events", "-n", namespace, check=True).stdout
    header, *rows = table.splitlines()
    assert re.split(r"\s{2,}", header.strip()) == [
        "LAST SEEN",
        "TYPE",
        "REASON",
        "OBJECT",
        "MESSAGE",
    ]
    assert any(re.split(r"\s{2,}", row)[3] == "eventtype/orders" for row in rows)
    wide = controlplane.kubectl("get", "events", "-n", namespace, "-o", "wide", check=True)
    assert re.split(r"\s{2,}", wide.stdout.splitlines()[0].strip())[-5:] == [
        "SOURCE",
        "MESSAGE",
        "FIRST SEEN",
        "COUNT",
        "NAME",
    ]

    core = json.loads(
        controlplane.kubectl("get", "events", "-n", namespace, "-o", "json", check=True).stdout
    )["items"]
    events = json.loads(
        controlplane.kubectl(
            "get", "events.v1.events.k8s.io", "-n", namespace, "-o", "json", check=True
        ).stdout
    )["items"]
    by_name = {item["metadata"]["name"]: item for item in events}
    assert sorted(by_name) == sorted(item["metadata"]["name"] for item in core)
    for item in core:
        seen = by_name[item["metadata"]["name"]]
        assert seen["apiVersion"] == "events.k8s.io/v1"
        assert seen["note"] == item["message"]
        assert seen["regarding"] == item["involvedObject"]
        assert seen["reportingController"] == item["reportingComponent"]
        assert seen["deprecatedSource"] == item["source"]
        assert seen["deprecatedCount"] == item["count"]
        assert seen["deprecatedLastTimestamp"] == item["lastTimestamp"]
        assert "message" not in seen
        assert "involvedObject" not in seen


def test_field_selectors_as_kubectl_describe_sends_them(
    controlplane: ControlPlaneProcess, namespace: str
) -> None:
    ready_flow(controlplane, namespace)
    (eventtype_event,) = events_about(controlplane, namespace, "orders")
    uid = eventtype_event["involvedObject"]["uid"]
    selector = (
        f"involvedObject.name=orders,involvedObject.namespace={namespace},"
        f"involvedObject.kind=EventType,involvedObject.uid={uid}"
    )
    status, listed = http(
        controlplane, f"/api/v1/namespaces/{namespace}/events?fieldSelector={selector}"
    )
    assert status == 200
    assert [item["reason"] for item in listed["items"]] == ["Ready"]

    status, listed = http(controlplane, f"/api/v1/events?fieldSelector=involvedObject.uid=x-{uid}")
    assert (status, listed["items"]) == (200, [])
    status, listed = http(
        controlplane,
        f"/apis/events.k8s.io/v1/namespaces/{namespace}/events"
        f"?fieldSelector=regarding.name=orders,reportingController={REPORTER},type=Normal",
    )
    assert status == 200
    assert [item["note"] for item in listed["items"]] == [eventtype_event["message"]]

    status, refused = http(controlplane, "/api/v1/events?fieldSelector=regarding.name=orders")
    assert status == 400
    assert refused["message"] == "field label not supported: regarding.name"


def test_the_kubernetes_python_client_lists_and_writes_events(
    controlplane: ControlPlaneProcess, core: kube_client.CoreV1Api, namespace: str
) -> None:
    ready_flow(controlplane, namespace)
    everywhere = core.list_event_for_all_namespaces(
        field_selector=f"involvedObject.namespace={namespace},reason=Ready"
    )
    assert {(e.involved_object.kind, e.involved_object.name) for e in everywhere.items} == {
        ("Broker", "default"),
        ("EventType", "orders"),
    }
    assert all(e.source and e.source.component == REPORTER for e in everywhere.items)
    assert all(e.count == 1 for e in everywhere.items)

    events_api = kube_client.EventsV1Api(core.api_client)
    created = events_api.create_namespaced_event(
        namespace,
        kube_client.EventsV1Event(
            metadata=kube_client.V1ObjectMeta(name="deploy.1"),
            event_time="2026-01-01T00:00:00.000000Z",  # type: ignore[arg-type]
            reporting_controller="example.com/deployer",
            reporting_instance="deployer-1",
            action="Deploy",
            reason="Deployed",
            note="version 2 deployed",
            type="Normal",
            regarding=kube_client.V1ObjectReference(
                kind="EventType", namespace=namespace, name="orders"
            ),
        ),
    )
    assert created.note == "version 2 deployed"
    seen = core.read_namespaced_event("deploy.1", namespace)
    assert (seen.message, seen.reporting_component, seen.action) == (
        "version 2 deployed",
        "example.com/deployer",
        "Deploy",
    )
    listed = core.list_namespaced_event(
        namespace, field_selector="reportingComponent=example.com/deployer"
    )
    assert [e.metadata.name for e in listed.items] == ["deploy.1"]

    # The client checks eventTime itself; the API server's own refusal, over plain HTTP:
    bad = {
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {"name": "bad.1"},
        "reason": "Deployed",
        "type": "Sideways",
        "regarding": {"kind": "EventType", "namespace": namespace, "name": "orders"},
    }
    status, refused = http(
        controlplane, f"/apis/events.k8s.io/v1/namespaces/{namespace}/events", body=bad
    )
    assert (status, refused["reason"]) == (422, "Invalid")
    assert "eventTime: Required value" in refused["message"]
    assert "type: Invalid value" in refused["message"]
    legacy = {**bad, "apiVersion": "v1", "involvedObject": bad["regarding"]}
    status, _ = http(controlplane, f"/api/v1/namespaces/{namespace}/events", body=legacy)
    assert status == 201, "core v1 keeps kube's lax legacy validation"


def test_the_registrar_tells_the_source_what_it_registered_and_removed(
    controlplane: ControlPlaneProcess, namespace: str
) -> None:
    broker_ref = {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker", "name": "default"}
    source: dict[str, Any] = {
        "apiVersion": "sources.knative.dev/v1",
        "kind": "PingSource",
        "metadata": {"namespace": namespace, "name": "heartbeat"},
        "spec": {"schedule": "* * * * *", "sink": {"ref": broker_ref}},
    }
    apply(controlplane, broker(namespace), source)
    (created,) = eventually(controlplane, namespace, "heartbeat", with_reasons(EventTypeCreated=1))
    assert created["involvedObject"]["kind"] == "PingSource"
    assert "created for events of type dev.knative.sources.ping" in created["message"]

    source["spec"]["sink"] = {"uri": "http://example.com/"}
    apply(controlplane, source)
    items = eventually(
        controlplane, namespace, "heartbeat", with_reasons(EventTypeCreated=1, EventTypeDeleted=1)
    )
    deleted = next(item for item in items if item["reason"] == "EventTypeDeleted")
    assert deleted["type"] == "Normal"
    assert created["message"].split()[1] in deleted["message"]


def test_a_trigger_tells_why_it_is_not_ready_and_when_it_is(
    controlplane: ControlPlaneProcess, namespace: str
) -> None:
    trigger = {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Trigger",
        "metadata": {"namespace": namespace, "name": "audit"},
        "spec": {"broker": "default", "subscriber": {"uri": "http://audit.example.com/"}},
    }
    apply(controlplane, trigger)
    (missing,) = eventually(controlplane, namespace, "audit", with_reasons(BrokerDoesNotExist=1))
    assert (missing["type"], missing["involvedObject"]["kind"]) == ("Warning", "Trigger")
    assert missing["message"] == 'Trigger is not ready: Broker "default" does not exist'
    apply(controlplane, broker(namespace))
    eventually(controlplane, namespace, "audit", with_reasons(BrokerDoesNotExist=1, Ready=1))
