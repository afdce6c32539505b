"""What the readiness controller reports as Events: verdicts, and only their transitions."""

from __future__ import annotations

from event_registry.controllers import reporting
from event_registry.domain import models


def status(state: str | None, reason: str = "", message: str = "") -> models.Status:
    if state is None:
        return models.Status()
    return models.Status(conditions=(models.Condition("Ready", state, reason, message),))


def event_type(state: str | None = "True", *, broker: str | None = "default") -> models.EventType:
    return models.EventType(
        meta=models.Meta(namespace="shop", name="orders"),
        api_version="eventing.knative.dev/v1beta2",
        type="com.example.order",
        broker_name=broker,
        status=status(state, "ResourceDoesNotExist", "not there"),
    )


def broker(state: str | None = "True", reason: str = "", message: str = "") -> models.Broker:
    return models.Broker(
        meta=models.Meta(namespace="shop", name="default"), status=status(state, reason, message)
    )


def test_an_event_type_ready_with_its_ready_broker_is_ready() -> None:
    verdict = reporting.event_type_verdict(event_type(), broker())
    assert verdict == reporting.Verdict(
        "Normal", "Ready", 'EventType is ready, and so is Broker "default"'
    )
    alone = reporting.event_type_verdict(event_type(broker=None), None)
    assert alone == reporting.Verdict("Normal", "Ready", "EventType is ready")


def test_a_missing_or_unready_broker_is_the_reason() -> None:
    missing = reporting.event_type_verdict(event_type(), None)
    assert missing == reporting.Verdict(
        "Warning", "BrokerDoesNotExist", 'Broker "default" does not exist'
    )
    down = reporting.event_type_verdict(
        event_type(), broker("False", "IngressNotReady", "ingress down")
    )
    assert down == reporting.Verdict(
        "Warning",
        "BrokerNotReady",
        'Broker "default" is not ready: IngressNotReady: ingress down',
    )


def test_its_own_readiness_comes_before_its_brokers() -> None:
    verdict = reporting.event_type_verdict(event_type("False"), broker("False", "X"))
    assert verdict == reporting.Verdict(
        "Warning", "ResourceDoesNotExist", "EventType is not ready: not there"
    )


def test_nothing_is_said_before_statuses_are_written() -> None:
    assert reporting.event_type_verdict(event_type(None), broker()) is None
    assert reporting.event_type_verdict(event_type(), broker(None)) is None
    assert reporting.own_verdict("Broker", broker(None)) is None


def test_broker_and_trigger_verdicts_are_their_own_readiness() -> None:
    assert reporting.own_verdict("Broker", broker()) == reporting.Verdict(
        "Normal", "Ready", "Broker is ready"
    )
    assert reporting.own_verdict("Broker", broker("Unknown")) == reporting.Verdict(
        "Warning", "NotReady", "Broker is not ready"
    )
    trigger = models.Trigger(
        meta=models.Meta(namespace="shop", name="audit"),
        broker="gone",
        status=status("False", "BrokerDoesNotExist", 'Broker "gone" does not exist'),
    )
    assert reporting.own_verdict("Trigger", trigger) == reporting.Verdict(
        "Warning", "BrokerDoesNotExist", 'Trigger is not ready: Broker "gone" does not exist'
    )


def test_only_a_change_of_verdict_is_news() -> None:
    transitions = reporting.Transitions()
    ready = reporting.event_type_verdict(event_type(), broker())
    down = reporting.event_type_verdict(event_type(), broker("False", "IngressNotReady"))
    key = ("EventType", "shop", "orders")
    assert transitions.changed(key, ready, quietly=True) is False, "seen at start"
    assert transitions.changed(key, ready) is False, "a resync"
    assert transitions.changed(key, down) is True
    assert transitions.changed(key, None) is False, "no verdict keeps the last one"
    assert transitions.changed(key, down) is False
    assert transitions.changed(key, ready) is True
    transitions.forget(key)
    assert transitions.changed(key, ready) is True, "a new object with the same name"
    assert len(transitions) == 1
