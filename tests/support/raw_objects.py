"""Raw Knative objects as a watch delivers them, for feeding a cache in unit tests.

Each builder gives the smallest valid object of its kind in the storage version, with a
``resourceVersion`` (the cache drops an event whose resourceVersion it already holds).
``ready`` adds a ``Ready`` condition with that status (``"True"``, ``"False"``,
``"Unknown"``); None leaves the object without a status.
"""

from __future__ import annotations

from typing import Any


def ready_status(ready: str) -> dict[str, Any]:
    return {"conditions": [{"type": "Ready", "status": ready}]}


def event_type_raw(
    name: str,
    rv: str = "1",
    *,
    namespace: str = "default",
    broker: str | None = "default",
    type_: str = "com.example.t",
    by_reference: bool = False,
    ready: str | None = None,
) -> dict[str, Any]:
    spec: dict[str, Any] = {"type": type_, "source": "/s"}
    if broker is not None and by_reference:
        spec["reference"] = {
            "apiVersion": "eventing.knative.dev/v1",
            "kind": "Broker",
            "name": broker,
        }
    elif broker is not None:
        spec["broker"] = broker
    raw: dict[str, Any] = {
        "apiVersion": "eventing.knative.dev/v1beta2",
        "kind": "EventType",
        "metadata": {"name": name, "namespace": namespace, "resourceVersion": rv},
        "spec": spec,
    }
    if ready is not None:
        raw["status"] = ready_status(ready)
    return raw


def trigger_raw(
    name: str, rv: str = "1", *, namespace: str = "default", broker: str = "default"
) -> dict[str, Any]:
    return {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Trigger",
        "metadata": {"name": name, "namespace": namespace, "resourceVersion": rv},
        "spec": {"broker": broker, "subscriber": {"uri": "http://sink"}},
    }


def broker_raw(
    name: str, rv: str = "1", *, namespace: str = "default", ready: str | None = None
) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Broker",
        "metadata": {"name": name, "namespace": namespace, "resourceVersion": rv},
    }
    if ready is not None:
        raw["status"] = ready_status(ready)
    return raw


def namespace_raw(name: str, rv: str = "1") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "resourceVersion": rv},
    }
