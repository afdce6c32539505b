"""Events in both groups on a real ApiServer: conversion, validation, selectors and tables."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from event_registry.controlplane.api import events_enabling
from event_registry.controlplane.api.apiserver import ApiServer, ListOptions, Target
from event_registry.controlplane.api.events import EVENTS, EVENTS_V1
from event_registry.controlplane.api.resources import NAMESPACES
from event_registry.controlplane.http import tables
from event_registry.controlplane.machinery import errors
from event_registry.controlplane.storage.sqlite import Storage

NS = "shop"
MERGE = "application/merge-patch+json"


@pytest.fixture
def api(tmp_path: Path) -> Iterator[ApiServer]:
    storage = Storage(tmp_path / "data", history_limit=1000)
    server = ApiServer(storage)
    server.create(Target(NAMESPACES, "v1"), {"metadata": {"name": NS}})
    events_enabling.install(server)
    yield server
    storage.close()


def core(name: str = "orders.1", **fields: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "involvedObject": {
            "kind": "EventType",
            "apiVersion": "eventing.knative.dev/v1beta3",
            "namespace": NS,
            "name": "orders",
            "uid": "u-1",
        },
        "reason": "BrokerNotReady",
        "message": 'Broker "default" is not ready',
        "type": "Warning",
        "source": {"component": "registry", "host": "h"},
        "firstTimestamp": "2026-01-01T00:00:00Z",
        "lastTimestamp": "2026-01-01T00:05:00Z",
        "count": 3,
        **fields,
    }


def new_style(name: str = "deploy.1", **fields: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "eventTime": "2026-01-01T00:00:00.000000Z",
        "reportingController": "example.com/deployer",
        "reportingInstance": "deployer-1",
        "action": "Deploy",
        "reason": "Deployed",
        "note": "version 2",
        "type": "Normal",
        "regarding": {"kind": "EventType", "namespace": NS, "name": "orders"},
        **fields,
    }


def target(resource: Any = EVENTS, name: str = "") -> Target:
    return Target(resource, "v1", NS, name)


def causes(error: pytest.ExceptionInfo[errors.ApiError]) -> str:
    return str(error.value)


def test_a_core_event_read_through_events_k8s_io(api: ApiServer) -> None:
    api.create(target(), core())
    seen = api.get(target(EVENTS_V1, "orders.1"))
    assert seen["apiVersion"] == "events.k8s.io/v1"
    assert seen["note"] == 'Broker "default" is not ready'
    assert seen["regarding"]["name"] == "orders"
    assert seen["deprecatedSource"] == {"component": "registry", "host": "h"}
    assert seen["deprecatedCount"] == 3
    assert seen["deprecatedFirstTimestamp"] == "2026-01-01T00:00:00Z"
    assert seen["deprecatedLastTimestamp"] == "2026-01-01T00:05:00Z"
    assert seen["reportingController"] == ""
    assert not {"message", "involvedObject", "source", "count"} & set(seen)


def test_an_events_k8s_io_event_read_in_core_v1(api: ApiServer) -> None:
    api.create(target(EVENTS_V1), new_style())
    seen = api.get(target(EVENTS, "deploy.1"))
    assert seen["apiVersion"] == "v1"
    assert (seen["message"], seen["reportingComponent"], seen["reportingInstance"]) == (
        "version 2",
        "example.com/deployer",
        "deployer-1",
    )
    assert seen["involvedObject"]["name"] == "orders"
    assert seen["source"] == {}, "kube always shows source in core v1"
    assert "note" not in seen


def test_events_k8s_io_creates_are_validated_strictly_core_ones_not(api: ApiServer) -> None:
    with pytest.raises(errors.Invalid) as refused:
        api.create(target(EVENTS_V1), {"metadata": {"name": "bad.1"}, "type": "Sideways"})
    message = causes(refused)
    assert "eventTime: Required value" in message
    assert "type: Invalid value" in message
    with pytest.raises(errors.Invalid) as deprecated:
        api.create(target(EVENTS_V1), new_style(deprecatedCount=2))
    assert "count: Invalid value" in causes(deprecated)
    with pytest.raises(errors.Invalid) as unnamed:
        api.create(target(EVENTS_V1), new_style(reportingController=""))
    assert "reportingController: Required value" in causes(unnamed)
    api.create(target(), {"metadata": {"name": "lax.1"}, "involvedObject": {"namespace": NS}})


def test_an_event_lives_in_its_objects_namespace(api: ApiServer) -> None:
    api.create(Target(NAMESPACES, "v1"), {"metadata": {"name": "other"}})
    elsewhere = core()
    elsewhere["involvedObject"]["namespace"] = "other"
    with pytest.raises(errors.Invalid) as refused:
        api.create(target(), elsewhere)
    assert "involvedObject.namespace: Invalid value" in causes(refused)
    assert "does not match event.namespace" in causes(refused)


def test_an_events_k8s_io_update_changes_only_its_series(api: ApiServer) -> None:
    api.create(target(EVENTS_V1), new_style())
    series = {"count": 2, "lastObservedTime": "2026-01-01T00:01:00.000000Z"}
    patched = api.patch(target(EVENTS_V1, "deploy.1"), MERGE, {"series": series})
    assert patched.object["series"] == series
    with pytest.raises(errors.Invalid) as refused:
        api.patch(target(EVENTS_V1, "deploy.1"), MERGE, {"note": "rewritten"})
    assert "message: Invalid value" in causes(refused)
    assert "field is immutable" in causes(refused)
    # core v1 keeps kube's lax updates: the recorder counts by patching count and message
    counted = api.patch(target(EVENTS, "deploy.1"), MERGE, {"count": 2, "message": "again"})
    assert (counted.object["count"], counted.object["message"]) == (2, "again")


def listed(api: ApiServer, resource: Any, selector: str) -> list[str]:
    objects, _, _ = api.list_objects(target(resource), ListOptions(field_selector=selector))
    return [obj["metadata"]["name"] for obj in objects]


def test_field_selectors_in_each_groups_words(api: ApiServer) -> None:
    api.create(target(), core("orders.1"))
    api.create(target(), core("orders.2", reason="Ready", type="Normal"))
    api.create(target(EVENTS_V1), new_style("deploy.1"))
    describe = "involvedObject.name=orders,involvedObject.namespace=shop,involvedObject.uid=u-1"
    assert listed(api, EVENTS, describe) == ["orders.1", "orders.2"]
    assert listed(api, EVENTS, "reason=Ready") == ["orders.2"]
    assert listed(api, EVENTS, "type!=Normal") == ["orders.1"]
    assert listed(api, EVENTS, "source=registry") == ["orders.1", "orders.2"]
    assert listed(api, EVENTS, "source=example.com/deployer") == ["deploy.1"], (
        "source falls back to the reporting controller"
    )
    assert listed(api, EVENTS, "reportingComponent=example.com/deployer") == ["deploy.1"]
    assert listed(api, EVENTS_V1, "regarding.uid=u-1,reason=Ready") == ["orders.2"]
    assert listed(api, EVENTS_V1, "reportingController=example.com/deployer") == ["deploy.1"]
    assert listed(api, EVENTS_V1, "metadata.name=deploy.1") == ["deploy.1"]
    for resource, label in ((EVENTS, "regarding.name"), (EVENTS_V1, "involvedObject.name")):
        with pytest.raises(errors.BadRequest) as refused:
            listed(api, resource, f"{label}=orders")
        assert refused.value.message == f"field label not supported: {label}"


def test_tables_carry_kubes_event_columns(api: ApiServer) -> None:
    now = datetime.datetime.now(datetime.UTC)
    stamp = (now - datetime.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    first = (now - datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    api.create(target(), core(firstTimestamp=first, lastTimestamp=stamp))
    for resource in (EVENTS, EVENTS_V1):
        obj = api.get(target(resource, "orders.1"))
        table = tables.table(resource, "v1", [obj])
        columns = [(c["name"], c["priority"]) for c in table["columnDefinitions"]]
        assert columns == [
            ("Last Seen", 0),
            ("Type", 0),
            ("Reason", 0),
            ("Object", 0),
            ("Subobject", 1),
            ("Source", 1),
            ("Message", 0),
            ("First Seen", 1),
            ("Count", 1),
            ("Name", 1),
        ]
        assert table["rows"][0]["cells"] == [
            "5m",
            "Warning",
            "BrokerNotReady",
            "eventtype/orders",
            "",
            "registry, h",
            'Broker "default" is not ready',
            "120m",
            3,
            "orders.1",
        ]
