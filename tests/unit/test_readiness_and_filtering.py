"""Unit tests for event_registry.domain.readiness, .filtering and .access."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from event_registry.domain import access, filtering, models, normalizing, readiness
from event_registry.domain.access import InvalidTokenFile, Principal
from event_registry.domain.filtering import EventTypeFilter

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "knative"
BROKER_REF = {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker", "name": "default"}


def load(filename: str) -> list[dict[str, Any]]:
    with (FIXTURES / filename).open() as stream:
        return [doc for doc in yaml.safe_load_all(stream) if doc]


EVENT_TYPES = {
    et.meta.name: et
    for filename in ("eventtype-v1beta1.yaml", "eventtype-v1beta2.yaml", "eventtype-v1beta3.yaml")
    for et in map(normalizing.event_type, load(filename))
}
BROKERS = {
    (b.meta.namespace, b.meta.name): b for b in map(normalizing.broker, load("broker-v1.yaml"))
}


def broker_of(et: models.EventType) -> models.Broker | None:
    return BROKERS.get((et.meta.namespace, et.broker)) if et.broker else None


def status(*conditions: dict[str, str]) -> models.Status:
    return normalizing.status({"status": {"conditions": list(conditions)}})


def ready_condition(value: str, reason: str = "", message: str = "") -> dict[str, str]:
    return {"type": "Ready", "status": value, "reason": reason, "message": message}


def event_type(
    ready: str | None = "True", broker: str | None = "default", name: str = "et"
) -> models.EventType:
    spec: dict[str, Any] = {"type": "com.example.t", "source": "/s"}
    if broker is not None:
        spec["broker"] = broker
    raw: dict[str, Any] = {
        "apiVersion": "eventing.knative.dev/v1beta2",
        "metadata": {"name": name, "namespace": "default"},
        "spec": spec,
    }
    if ready is not None:
        raw["status"] = {"conditions": [ready_condition(ready)]}
    return normalizing.event_type(raw)


def broker(ready: str | None = "True", name: str = "default") -> models.Broker:
    raw: dict[str, Any] = {"metadata": {"name": name, "namespace": "default"}}
    if ready is not None:
        raw["status"] = {"conditions": [ready_condition(ready)]}
    return normalizing.broker(raw)


# ready / reason / message ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("True", True), ("False", False), ("Unknown", None)],
)
def test_ready_from_the_ready_condition(value: str, expected: bool | None) -> None:
    assert readiness.ready(status(ready_condition(value))) is expected


def test_ready_without_conditions_is_none() -> None:
    assert readiness.ready(models.Status()) is None
    assert readiness.ready(status({"type": "ReferenceExists", "status": "True"})) is None


def test_ready_ignores_other_conditions() -> None:
    st_ = status(
        {"type": "ReferenceExists", "status": "False", "reason": "ResourceDoesNotExist"},
        ready_condition("True"),
    )
    assert readiness.ready(st_) is True
    assert readiness.reason(st_) is None


def test_ready_condition_without_status_is_unknown() -> None:
    assert readiness.ready(status({"type": "Ready"})) is None


def test_reason_and_message() -> None:
    not_ready = status(
        ready_condition("False", "ResourceDoesNotExist", 'Broker "dev" does not exist')
    )
    assert readiness.reason(not_ready) == "ResourceDoesNotExist"
    assert readiness.message(not_ready) == 'Broker "dev" does not exist'
    unknown = status(ready_condition("Unknown", "ReferenceGetFailed", "timeout"))
    assert readiness.ready(unknown) is None
    assert readiness.reason(unknown) == "ReferenceGetFailed"
    assert readiness.message(unknown) == "timeout"
    assert readiness.reason(status(ready_condition("True"))) is None
    assert readiness.message(status(ready_condition("True"))) is None
    assert readiness.reason(models.Status()) is None
    assert readiness.message(models.Status()) is None


def test_readiness_of_fixtures() -> None:
    fork = EVENT_TYPES["org.bitbucket.repofork"]
    assert readiness.ready(fork.status) is False
    assert readiness.reason(fork.status) == "BrokerIsNotReady"
    assert readiness.message(fork.status) == 'Broker "dev" is not ready'
    pull_request = EVENT_TYPES["com.github.pullrequest"]
    assert readiness.ready(pull_request.status) is True
    assert readiness.reason(pull_request.status) is None
    dev = BROKERS[("default", "dev")]
    assert readiness.ready(dev.status) is False
    assert readiness.reason(dev.status) == "EndpointsUnavailable"
    assert readiness.ready(BROKERS[("default", "default")].status) is True


# consumable ----------------------------------------------------------------------------------


@pytest.mark.parametrize("et_ready", ["True", "False", "Unknown", None])
@pytest.mark.parametrize("broker_ready", ["True", "False", "Unknown", None, "missing"])
def test_consumable_truth_table(et_ready: str | None, broker_ready: str | None) -> None:
    the_broker = None if broker_ready == "missing" else broker(broker_ready)
    expected = et_ready == "True" and broker_ready == "True"
    assert readiness.consumable(event_type(et_ready), the_broker) is expected


def test_consumable_needs_the_event_types_own_broker() -> None:
    assert readiness.consumable(event_type(), broker(name="default")) is True
    assert readiness.consumable(event_type(), broker(name="other")) is False
    assert readiness.consumable(event_type(broker=None), broker(name="default")) is False


def test_consumable_through_a_broker_reference() -> None:
    et = EVENT_TYPES["dev.knative.samples.heartbeat"]
    assert readiness.consumable(et, BROKERS[("default", "default")]) is True
    assert readiness.consumable(et, BROKERS[("default", "dev")]) is False


def test_consumable_fixtures() -> None:
    consumable = {
        name for name, et in EVENT_TYPES.items() if readiness.consumable(et, broker_of(et))
    }
    assert consumable == {
        "com.github.issues",
        "com.github.pullrequest",
        "dev.knative.samples.heartbeat",
        "dev.knative.source.github.push-34cnb",
        "com.example.order.created",
    }


# EventTypeFilter ---------------------------------------------------------------------------------


def select(selection: EventTypeFilter) -> set[str]:
    return {
        name for name, et in EVENT_TYPES.items() if filtering.matches(et, broker_of(et), selection)
    }


ALL = set(EVENT_TYPES)


def test_empty_filter_matches_everything() -> None:
    assert EventTypeFilter().is_empty
    assert select(EventTypeFilter()) == ALL


@pytest.mark.parametrize("field", [f.name for f in dataclasses.fields(EventTypeFilter)])
def test_any_set_criterion_makes_the_filter_non_empty(field: str) -> None:
    value: Any = False if field in ("ready", "consumable") else ""
    assert not EventTypeFilter(**{field: value}).is_empty


@pytest.mark.parametrize(
    ("selection", "expected"),
    [
        (
            EventTypeFilter(broker="default"),
            {
                "com.github.issues",
                "com.github.pullrequest",
                "dev.knative.samples.heartbeat",
                "dev.knative.source.github.push-34cnb",
                "com.example.order.created",
            },
        ),
        (EventTypeFilter(broker="dev"), {"org.bitbucket.repofork"}),
        (EventTypeFilter(broker="nope"), set()),
        (EventTypeFilter(type="com.github.pull_request"), {"com.github.pullrequest"}),
        (EventTypeFilter(type="com.github"), set()),
        (EventTypeFilter(type="COM.GITHUB.PULL_REQUEST"), set()),
        (
            EventTypeFilter(type_prefix="com.github."),
            {"com.github.issues", "com.github.pullrequest"},
        ),
        (
            EventTypeFilter(type_prefix="dev.knative."),
            {"dev.knative.samples.heartbeat", "dev.knative.source.github.push-34cnb"},
        ),
        (EventTypeFilter(type_prefix=""), ALL),
        (
            EventTypeFilter(source="github.com"),
            {
                "com.github.issues",
                "com.github.pullrequest",
                "dev.knative.source.github.push-34cnb",
            },
        ),
        (EventTypeFilter(source="https://shop.example.com/orders"), {"com.example.order.created"}),
        (EventTypeFilter(source="github"), set()),
        (EventTypeFilter(ready=True), ALL - {"org.bitbucket.repofork"}),
        (EventTypeFilter(ready=False), {"org.bitbucket.repofork"}),
        (
            EventTypeFilter(consumable=True),
            ALL - {"org.bitbucket.repofork", "com.example.payment.refunded"},
        ),
        (
            EventTypeFilter(consumable=False),
            {"org.bitbucket.repofork", "com.example.payment.refunded"},
        ),
        (EventTypeFilter(search="pull"), {"com.github.pullrequest"}),
        (EventTypeFilter(search="GITHUB PULL"), {"com.github.pullrequest"}),
        (EventTypeFilter(search="BitBucket FORK"), {"org.bitbucket.repofork"}),
        (EventTypeFilter(search="shop.example"), {"com.example.order.created"}),
        (EventTypeFilter(search="refunded"), {"com.example.payment.refunded"}),
        (EventTypeFilter(search="every minute"), {"dev.knative.samples.heartbeat"}),
        (EventTypeFilter(search="no such words"), set()),
        (EventTypeFilter(search=""), ALL),
    ],
)
def test_each_criterion(selection: EventTypeFilter, expected: set[str]) -> None:
    assert select(selection) == expected


def test_search_does_not_look_at_names_or_schemas() -> None:
    # the object name and the schema URI are not part of the searched text
    assert select(EventTypeFilter(search="pullrequest")) == set()
    assert select(EventTypeFilter(search="schemas")) == set()


def test_search_is_casefolded() -> None:
    et = dataclasses.replace(event_type(), description="Straße closed")
    assert filtering.matches(et, None, EventTypeFilter(search="STRASSE"))


@pytest.mark.parametrize(
    ("selection", "expected"),
    [
        (
            EventTypeFilter(broker="default", source="github.com"),
            {"com.github.issues", "com.github.pullrequest", "dev.knative.source.github.push-34cnb"},
        ),
        (
            EventTypeFilter(type_prefix="com.github.", search="issue"),
            {"com.github.issues"},
        ),
        (EventTypeFilter(broker="dev", ready=True), set()),
        (EventTypeFilter(broker="dev", ready=False, consumable=False), {"org.bitbucket.repofork"}),
        (EventTypeFilter(type="com.github.pull_request", type_prefix="org."), set()),
        (
            EventTypeFilter(ready=True, consumable=False),
            {"com.example.payment.refunded"},
        ),
        (
            EventTypeFilter(
                broker="default",
                type="com.github.pull_request",
                type_prefix="com.",
                source="github.com",
                ready=True,
                consumable=True,
                search="request",
            ),
            {"com.github.pullrequest"},
        ),
    ],
)
def test_combined_criteria(selection: EventTypeFilter, expected: set[str]) -> None:
    assert select(selection) == expected


def test_ready_false_also_selects_unknown_readiness() -> None:
    unknown = event_type(ready="Unknown")
    without = event_type(ready=None)
    for et in (unknown, without):
        assert filtering.matches(et, None, EventTypeFilter(ready=False))
        assert not filtering.matches(et, None, EventTypeFilter(ready=True))


def test_consumable_criterion_uses_the_broker_given() -> None:
    et = event_type()
    assert filtering.matches(et, broker("True"), EventTypeFilter(consumable=True))
    assert filtering.matches(et, broker("False"), EventTypeFilter(consumable=False))
    assert filtering.matches(et, None, EventTypeFilter(consumable=False))


BOOLS = st.none() | st.booleans()
TEXT = st.none() | st.sampled_from(["", "com.github.", "github.com", "default", "pull", "x"])


@given(
    broker_name=TEXT,
    type_=TEXT,
    prefix=TEXT,
    source=TEXT,
    ready=BOOLS,
    consumable=BOOLS,
    search=TEXT,
)
def test_filter_is_the_conjunction_of_its_criteria(
    broker_name: str | None,
    type_: str | None,
    prefix: str | None,
    source: str | None,
    ready: bool | None,
    consumable: bool | None,
    search: str | None,
) -> None:
    combined = EventTypeFilter(broker_name, type_, prefix, source, ready, consumable, search)
    singles = [
        EventTypeFilter(**{f.name: getattr(combined, f.name)})
        for f in dataclasses.fields(EventTypeFilter)
    ]
    assert select(combined) == ALL.intersection(*(select(s) for s in singles))


# access: tokens and principals ----------------------------------------------------------------


def test_principals_from_a_valid_tokens_file() -> None:
    document = yaml.safe_load(
        """
tokens:
  - token: s3cr3t-t0ken-for-alice
    name: alice
    namespaces:
      default: [read, write]
      payments: [read]
  - token: s3cr3t-t0ken-for-bob
    namespaces:
      payments: [write]
      sandbox: []
      audit:
  - token: s3cr3t-t0ken-nobody
    name: nobody
    namespaces: {}
"""
    )
    principals = access.principals_from_tokens(document)
    assert set(principals) == {
        "s3cr3t-t0ken-for-alice",
        "s3cr3t-t0ken-for-bob",
        "s3cr3t-t0ken-nobody",
    }
    alice = principals["s3cr3t-t0ken-for-alice"]
    assert alice == Principal("alice", frozenset({"default", "payments"}), frozenset({"default"}))
    bob = principals["s3cr3t-t0ken-for-bob"]
    assert bob.name == "token-1"
    assert bob.readable == frozenset({"payments", "sandbox", "audit"}), "write implies read"
    assert bob.writable == frozenset({"payments"})
    nobody = principals["s3cr3t-t0ken-nobody"]
    assert nobody.readable == frozenset()
    assert not nobody.can_read("default")


def test_empty_tokens_list() -> None:
    assert access.principals_from_tokens({"tokens": []}) == {}


def test_token_of_exactly_eight_characters_is_accepted() -> None:
    principals = access.principals_from_tokens(
        {"tokens": [{"token": "12345678", "namespaces": {"a": ["read"]}}]}
    )
    assert list(principals) == ["12345678"]


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(None, id="null"),
        pytest.param([], id="list"),
        pytest.param("tokens", id="string"),
        pytest.param({}, id="no-tokens"),
        pytest.param({"tokens": {"t": {}}}, id="tokens-not-a-list"),
        pytest.param({"tokens": ["s3cr3t-token"]}, id="entry-not-a-mapping"),
        pytest.param({"tokens": [{"namespaces": {"a": ["read"]}}]}, id="no-token"),
        pytest.param({"tokens": [{"token": 12345678, "namespaces": {}}]}, id="token-not-a-string"),
        pytest.param({"tokens": [{"token": "s3cr3t-token"}]}, id="no-namespaces"),
        pytest.param(
            {"tokens": [{"token": "s3cr3t-token", "namespaces": ["a"]}]},
            id="namespaces-not-a-mapping",
        ),
        pytest.param(
            {"tokens": [{"token": "s3cr3t-token", "namespaces": {"a": ["admin"]}}]},
            id="unknown-permission",
        ),
        pytest.param(
            {"tokens": [{"token": "s3cr3t-token", "namespaces": {"a": ["read", "delete"]}}]},
            id="one-unknown-permission",
        ),
        pytest.param(
            {"tokens": [{"token": "s3cr3t-token", "namespaces": {"a": "write"}}]},
            id="permission-string",
        ),
        pytest.param(
            {
                "tokens": [
                    {"token": "s3cr3t-token", "namespaces": {"a": ["read"]}},
                    {"token": "s3cr3t-token", "namespaces": {"b": ["read"]}},
                ]
            },
            id="duplicate-token",
        ),
    ],
)
def test_bad_shapes_raise_invalid_token_file(document: object) -> None:
    with pytest.raises(InvalidTokenFile):
        access.principals_from_tokens(document)


@pytest.mark.parametrize("token", ["", "short", "1234567"])
def test_short_tokens_are_rejected(token: str) -> None:
    with pytest.raises(InvalidTokenFile, match="at least 8 characters"):
        access.principals_from_tokens({"tokens": [{"token": token, "namespaces": {"a": []}}]})


def test_errors_say_where() -> None:
    document = {
        "tokens": [
            {"token": "s3cr3t-token-0", "namespaces": {}},
            {"token": "s3cr3t-token-1", "namespaces": {"ns": ["own"]}},
        ]
    }
    with pytest.raises(InvalidTokenFile, match=r"tokens\[1\]\.namespaces\.ns"):
        access.principals_from_tokens(document)


def test_invalid_token_file_is_a_value_error() -> None:
    assert issubclass(InvalidTokenFile, ValueError)


def test_principal_permissions() -> None:
    principal = Principal("p", frozenset({"a", "b"}), frozenset({"a"}))
    assert principal.can_read("a")
    assert principal.can_read("b")
    assert not principal.can_read("c")
    assert principal.can_write("a")
    assert not principal.can_write("b")
    assert not principal.can_write("c")
    assert principal.visible(["c", "b", "a", "b"]) == ["b", "a", "b"]


def test_open_and_nobody() -> None:
    assert access.OPEN.can_read("anything")
    assert access.OPEN.can_write("anything")
    assert access.OPEN.scope_key == "*"
    assert not access.NOBODY.can_read("default")
    assert not access.NOBODY.can_write("default")
    assert access.NOBODY.visible(["default"]) == []
    assert access.NOBODY.scope_key == ""


def test_scope_key() -> None:
    first = Principal("alice", frozenset({"b", "a"}), frozenset())
    second = Principal("bob", frozenset({"a", "b"}), frozenset({"a"}))
    third = Principal("carol", frozenset({"a"}), frozenset({"a"}))
    assert first.scope_key == second.scope_key == "a,b"
    assert first.scope_key != third.scope_key
    assert Principal("all", None, frozenset()).scope_key == "*"


@given(
    st.frozensets(st.sampled_from(["a", "b", "c", "default", "kube-system"])),
    st.frozensets(st.sampled_from(["a", "b", "c", "default", "kube-system"])),
)
def test_scope_key_identifies_the_visible_namespaces(
    first: frozenset[str], second: frozenset[str]
) -> None:
    one = Principal("one", first, frozenset())
    two = Principal("two", second, first)
    assert (one.scope_key == two.scope_key) == (first == second)
