"""The embedded Broker ingress, seen from outside: a control plane process with its controllers,
kubectl for the cluster and plain HTTP requests (as curl sends them) for the events.

Auto-created EventTypes are created in the background, one at a time and in the order the
events arrived: :func:`settle` sends a fresh type through a fresh Broker and waits for its
EventType, after which every creation queued before it is done. That is how a test shows
that something was *not* created without sleeping.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from http.client import HTTPConnection
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.support.controlplane import ControlPlaneProcess, manifest
from tests.support.registry import Reply, broker, eventually, http

PER_MINUTE = 5
PER_NAMESPACE = 8
MAX_EVENT_SIZE = 4096
STRUCTURED = "application/cloudevents+json"
_ids = itertools.count()


@pytest.fixture(scope="module")
def controlplane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlaneProcess]:
    plane = ControlPlaneProcess(
        tmp_path_factory.mktemp("ingress"),
        "--autocreate-per-minute",
        str(PER_MINUTE),
        "--autocreate-per-namespace",
        str(PER_NAMESPACE),
        "--ingress-max-event-size",
        str(MAX_EVENT_SIZE),
    ).start()
    try:
        yield plane
    finally:
        plane.stop()


# helpers -------------------------------------------------------------------------------------


def binary(type_: str, source: str = "/repo", **extra: str) -> dict[str, str]:
    return {
        "ce-specversion": "1.0",
        "ce-id": str(next(_ids)),
        "ce-type": type_,
        "ce-source": source,
        "content-type": "application/json",
        **extra,
    }


def send(url: str, headers: dict[str, str], body: bytes = b'{"a": 1}') -> Reply:
    return http("POST", url, body=body, headers=headers)


def ready_broker(plane: ControlPlaneProcess, namespace: str, name: str = "default") -> str:
    """Apply a Broker and wait for its address; the URL its events go to."""
    plane.kubectl("apply", "-f", "-", input=manifest(broker(name, namespace)), check=True)

    def address() -> str:
        result = plane.kubectl(
            "get", "broker", name, "-n", namespace, "-o", "jsonpath={.status.address.url}"
        )
        return result.stdout.strip()

    return eventually(address)


def event_types(plane: ControlPlaneProcess, namespace: str) -> list[dict[str, Any]]:
    result = plane.kubectl(
        "get", "eventtypes.v1beta3.eventing.knative.dev", "-n", namespace, "-o", "json", check=True
    )
    items: list[dict[str, Any]] = json.loads(result.stdout)["items"]
    return items


def types_of(plane: ControlPlaneProcess, namespace: str) -> list[str]:
    return sorted(
        a["value"]
        for et in event_types(plane, namespace)
        for a in et["spec"]["attributes"]
        if a["name"] == "type"
    )


def create_namespace(plane: ControlPlaneProcess, name: str) -> None:
    plane.kubectl("create", "namespace", name, check=True)


def enable_auto_create(plane: ControlPlaneProcess) -> None:
    document = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "config-features", "namespace": "knative-eventing"},
        "data": {"eventtype-auto-create": "enabled"},
    }
    plane.kubectl("create", "namespace", "knative-eventing")  # may exist already
    plane.kubectl("apply", "-f", "-", input=manifest(document), check=True)


_barriers = itertools.count()


def settle(plane: ControlPlaneProcess) -> None:
    """Return once every EventType creation queued so far is done (see the module docstring)."""
    namespace = f"barrier-{next(_barriers)}"
    create_namespace(plane, namespace)
    url = ready_broker(plane, namespace)

    def registered() -> bool:  # sent again while the flag may not have been read yet
        assert send(url, binary("barrier")).status == 202
        return types_of(plane, namespace) == ["barrier"]

    eventually(registered)


# the HTTP contract ---------------------------------------------------------------------------


def test_a_brokers_address_is_the_embedded_ingress(
    controlplane: ControlPlaneProcess, namespace: str
) -> None:
    url = ready_broker(controlplane, namespace)
    assert url == f"{controlplane.ingress_url}/{namespace}/default"
    assert url.startswith("http://127.0.0.1:")


def test_binary_structured_and_batch_events_are_accepted(
    controlplane: ControlPlaneProcess, namespace: str
) -> None:
    url = ready_broker(controlplane, namespace)
    assert send(url, binary("com.example.push")).status == 202
    event = {"specversion": "1.0", "id": "1", "type": "com.example.push", "source": "/repo"}
    structured = send(url, {"content-type": STRUCTURED}, json.dumps(event).encode())
    assert structured.status == 202
    batch = json.dumps([event, {**event, "id": "2"}]).encode()
    assert send(url, {"content-type": "application/cloudevents-batch+json"}, batch).status == 202


def test_what_is_refused_and_why(controlplane: ControlPlaneProcess, namespace: str) -> None:
    url = ready_broker(controlplane, namespace)
    garbage = send(url, {"content-type": "text/plain"}, b"garbage")
    assert garbage.status == 400
    assert garbage.text.startswith("not a CloudEvent")
    missing = {k: v for k, v in binary("t").items() if k != "ce-source"}
    assert send(url, missing).status == 400
    assert send(url, binary("t"), b"x" * (MAX_EVENT_SIZE + 1)).status == 413
    unknown = send(f"{controlplane.ingress_url}/{namespace}/nope", binary("t"))
    assert unknown.status == 404
    assert "nope" in unknown.text
    assert send(f"{controlplane.ingress_url}/{namespace}", binary("t")).status == 400
    assert send(f"{controlplane.ingress_url}/", binary("t")).status == 404
    assert http("GET", url).status == 405
    options = http("OPTIONS", url)
    assert options.status == 200
    assert options.headers.get("webhook-allowed-origin") == "*"


def test_chunked_bodies_over_the_limit_are_refused(
    controlplane: ControlPlaneProcess, namespace: str
) -> None:
    url = ready_broker(controlplane, namespace)
    chunks = iter([b"x" * 1024] * 8)  # no Content-Length: the limit holds while reading
    reply = http_chunked(url, binary("t"), chunks)
    assert reply == 413


def http_chunked(url: str, headers: dict[str, str], chunks: Iterator[bytes]) -> int:
    parts = urlsplit(url)
    connection = HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    try:
        connection.request("POST", parts.path, body=chunks, headers=headers, encode_chunked=True)
        return connection.getresponse().status
    finally:
        connection.close()


# eventtype-auto-create -----------------------------------------------------------------------


def test_auto_create_registers_each_new_type_once_as_knative_does(
    controlplane: ControlPlaneProcess, namespace: str
) -> None:
    url = ready_broker(controlplane, namespace)
    assert send(url, binary("seen.while.off")).status == 202
    enable_auto_create(controlplane)

    def registered() -> bool:  # the flag is read every second: send until it is on
        assert send(url, binary("com.example.push", "/repo")).status == 202
        return "com.example.push" in types_of(controlplane, namespace)

    eventually(registered)
    for _ in range(3):
        assert send(url, binary("com.example.push", "/repo")).status == 202
    settle(controlplane)
    assert types_of(controlplane, namespace) == ["com.example.push"]  # once; nothing while off
    (created,) = event_types(controlplane, namespace)
    uid = controlplane.kubectl(
        "get", "broker", "default", "-n", namespace, "-o", "jsonpath={.metadata.uid}"
    ).stdout
    ref = {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker", "name": "default"}
    assert created["metadata"]["name"].startswith("et-default-")
    assert created["metadata"]["ownerReferences"] == [{**ref, "uid": uid}]
    assert created["spec"]["reference"] == {**ref, "namespace": namespace}
    assert created["spec"]["description"] == "Event Type auto-created by controller"
    assert {a["name"]: a.get("value") for a in created["spec"]["attributes"]} == {
        "type": "com.example.push",
        "source": "/repo",
        "schemadata": None,
        "specversion": "1.0",
        "id": None,
    }
    # the readiness controller finds its Broker
    eventually(
        lambda: any(
            c["type"] == "Ready" and c["status"] == "True"
            for c in (event_types(controlplane, namespace)[0].get("status") or {}).get(
                "conditions", []
            )
        )
    )


def test_the_same_type_from_another_source_is_another_event_type(
    controlplane: ControlPlaneProcess, namespace: str
) -> None:
    enable_auto_create(controlplane)
    url = ready_broker(controlplane, namespace)
    for source in ("/a", "/b", "/a"):
        send(url, binary("com.example.push", source))
    settle(controlplane)
    assert types_of(controlplane, namespace) == ["com.example.push", "com.example.push"]


def test_a_flood_of_random_types_is_capped_per_broker_and_per_namespace(
    controlplane: ControlPlaneProcess, namespace: str
) -> None:
    enable_auto_create(controlplane)
    first = ready_broker(controlplane, namespace)
    second = ready_broker(controlplane, namespace, "second")
    settle(controlplane)  # the flag is on (settle saw an EventType created)
    for n in range(20):
        assert send(first, binary(f"flood.{n:02}")).status == 202  # events are still accepted
    settle(controlplane)
    assert types_of(controlplane, namespace) == [f"flood.{n:02}" for n in range(PER_MINUTE)]
    for n in range(PER_MINUTE):
        assert send(second, binary(f"second.{n}")).status == 202
    settle(controlplane)
    names = types_of(controlplane, namespace)
    assert len(names) == PER_NAMESPACE
    assert names[PER_MINUTE:] == [f"second.{n}" for n in range(PER_NAMESPACE - PER_MINUTE)]


def test_a_deleted_auto_created_event_type_comes_back_with_the_next_event(
    controlplane: ControlPlaneProcess, namespace: str
) -> None:
    enable_auto_create(controlplane)
    url = ready_broker(controlplane, namespace)
    settle(controlplane)
    send(url, binary("comes.back"))
    eventually(lambda: types_of(controlplane, namespace) == ["comes.back"])
    (created,) = event_types(controlplane, namespace)
    name = created["metadata"]["name"]
    controlplane.kubectl("delete", "eventtype", name, "-n", namespace, check=True)
    assert types_of(controlplane, namespace) == []

    def back() -> bool:  # once the ingress' cache has seen the deletion
        send(url, binary("comes.back"))
        return [et["metadata"]["name"] for et in event_types(controlplane, namespace)] == [name]

    eventually(back)


def test_auto_created_event_types_go_with_their_broker(
    controlplane: ControlPlaneProcess, namespace: str
) -> None:
    enable_auto_create(controlplane)
    url = ready_broker(controlplane, namespace)
    settle(controlplane)
    send(url, binary("goes.with.broker"))
    eventually(lambda: types_of(controlplane, namespace) == ["goes.with.broker"])
    controlplane.kubectl("delete", "broker", "default", "-n", namespace, check=True)
    eventually(lambda: types_of(controlplane, namespace) == [])
