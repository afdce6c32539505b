"""The auto-create limits (ingress.limits), the flag's parsing (ingress.features) and the
EventType an event calls for (ingress.autocreating.manifest): pure, no event loop."""

from __future__ import annotations

from event_registry.domain import models
from event_registry.ingress.autocreating import Wanted, manifest
from event_registry.ingress.events import SeenEvent
from event_registry.ingress.features import auto_create_enabled, flag_enabled
from event_registry.ingress.limits import SlidingWindow
from event_registry.knative import vocabulary


def test_a_window_admits_its_limit_then_refuses_until_a_minute_has_passed() -> None:
    window = SlidingWindow(3)
    assert [window.admit("b", t) for t in (0.0, 1.0, 2.0, 3.0, 59.9)] == [
        True,
        True,
        True,
        False,
        False,
    ]
    assert window.admit("b", 60.0)  # the admission at 0.0 left the window
    assert not window.admit("b", 60.5)
    assert window.admit("other", 60.5)  # keys are counted apart


def test_a_refusal_takes_nothing() -> None:
    window = SlidingWindow(1)
    assert window.admit("b", 0.0)
    for t in range(1, 60):
        assert not window.admit("b", float(t))
    assert window.admit("b", 60.0)


def test_idle_keys_are_forgotten() -> None:
    window = SlidingWindow(1)
    window.admit("old", 0.0)
    window.admit("new", 100.0)
    window.forget_idle(100.0)
    assert window.admit("old", 100.0)
    assert not window.admit("new", 100.0)


def test_the_flag_is_on_only_for_enabled_in_any_case() -> None:
    flag = vocabulary.EVENTTYPE_AUTO_CREATE
    assert flag_enabled({flag: "enabled"}, flag)
    assert flag_enabled({f" {flag} ": "ENABLED"}, flag)
    for value in ("disabled", "allowed", "true", " enabled", ""):
        assert not flag_enabled({flag: value}, flag)
    assert not flag_enabled({"_example": f"{flag}: enabled"}, flag)


def test_no_config_map_or_no_data_means_off() -> None:
    assert not auto_create_enabled(None)
    assert not auto_create_enabled({"metadata": {}})
    assert not auto_create_enabled({"data": ["not", "a", "map"]})
    assert auto_create_enabled({"data": {vocabulary.EVENTTYPE_AUTO_CREATE: "Enabled", "x": 1}})


def test_the_manifest_is_knatives_auto_created_event_type() -> None:
    broker = models.Broker(meta=models.Meta(namespace="demo", name="default", uid="uid-1"))
    event = SeenEvent("com.example.push", "/repo", "1.0")
    body = manifest(Wanted("demo", "et-default-x", broker, event))
    ref = {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker", "name": "default"}
    assert body["apiVersion"] == "eventing.knative.dev/v1beta3"
    assert body["metadata"] == {
        "name": "et-default-x",
        "namespace": "demo",
        "ownerReferences": [{**ref, "uid": "uid-1"}],
    }
    assert body["spec"] == {
        "reference": {**ref, "namespace": "demo"},
        "description": "Event Type auto-created by controller",
        "attributes": [
            {"name": "type", "value": "com.example.push", "required": True},
            {"name": "source", "value": "/repo", "required": True},
            {"name": "schemadata", "required": True},
            {"name": "specversion", "value": "1.0", "required": True},
            {"name": "id", "required": True},
        ],
    }
