"""What the readiness controller re-checks when a Broker changes (its queue, no cluster).

An EventType's status follows only whether its Broker exists, a Trigger's the Broker's
readiness and address; a Broker carries up to thousands of EventTypes, so a change of its
labels must not re-check them all.
"""

from __future__ import annotations

from typing import Any

from event_registry.controllers.readiness import ReadinessController

NS = "team"


def broker(rv: int, *, ready: str = "True", labels: dict[str, str] | None = None) -> Any:
    return {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Broker",
        "metadata": {
            "name": "default",
            "namespace": NS,
            "resourceVersion": str(rv),
            "labels": labels or {},
        },
        "status": {
            "conditions": [{"type": "Ready", "status": ready}],
            "address": {"url": "http://broker.team.svc"},
        },
    }


def event_type(name: str) -> Any:
    return {
        "apiVersion": "eventing.knative.dev/v1beta2",
        "kind": "EventType",
        "metadata": {"name": name, "namespace": NS, "resourceVersion": "5"},
        "spec": {"type": f"com.example.{name}", "broker": "default"},
    }


def trigger(name: str) -> Any:
    return {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Trigger",
        "metadata": {"name": name, "namespace": NS, "resourceVersion": "6"},
        "spec": {"broker": "default", "subscriber": {"uri": "http://consumer"}},
    }


async def queued(controller: ReadinessController) -> set[tuple[Any, str, str]]:
    keys: set[tuple[Any, str, str]] = set()
    while len(controller.queue):
        key = await controller.queue.get()
        controller.queue.done(key)
        keys.add(key)
    return keys


async def test_only_what_a_broker_change_concerns_is_checked_again() -> None:
    controller = ReadinessController(None)  # type: ignore[arg-type]  # never started
    cache = controller.cache
    cache.apply("EventType", "ADDED", event_type("a"))
    cache.apply("EventType", "ADDED", event_type("b"))
    cache.apply("Trigger", "ADDED", trigger("t"))
    await queued(controller)
    every = {
        ("Broker", NS, "default"),
        ("EventType", NS, "a"),
        ("EventType", NS, "b"),
        ("Trigger", NS, "t"),
    }

    cache.apply("Broker", "ADDED", broker(10))
    assert await queued(controller) == every

    cache.apply("Broker", "MODIFIED", broker(11, labels={"team": "a"}))
    assert await queued(controller) == {("Broker", NS, "default")}

    cache.apply("Broker", "MODIFIED", broker(12, ready="False", labels={"team": "a"}))
    assert await queued(controller) == {("Broker", NS, "default"), ("Trigger", NS, "t")}

    cache.apply("Broker", "DELETED", broker(13, ready="False", labels={"team": "a"}))
    assert await queued(controller) == every - {("Broker", NS, "default")}


async def test_the_periodic_recheck_covers_exactly_the_objects_with_unwatched_referents() -> None:
    controller = ReadinessController(None)  # type: ignore[arg-type]  # never started
    cache = controller.cache
    by_source = event_type("from-source")
    by_source["spec"].pop("broker")
    by_source["spec"]["reference"] = {
        "apiVersion": "sources.knative.dev/v1",
        "kind": "PingSource",
        "name": "ping",
    }
    with_ref = trigger("to-service")
    with_ref["spec"]["subscriber"] = {
        "ref": {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": "svc"}
    }
    cache.apply("EventType", "ADDED", event_type("on-broker"))
    cache.apply("EventType", "ADDED", by_source)
    cache.apply("Trigger", "ADDED", trigger("to-uri"))
    cache.apply("Trigger", "ADDED", with_ref)
    assert controller.unwatched_referrers() == [
        ("EventType", NS, "from-source"),
        ("Trigger", NS, "to-service"),
    ]
    cache.apply("Trigger", "DELETED", with_ref)
    moved = event_type("from-source")  # now on the namespace's Broker
    moved["metadata"]["resourceVersion"] = "7"
    cache.apply("EventType", "MODIFIED", moved)
    assert controller.unwatched_referrers() == []
