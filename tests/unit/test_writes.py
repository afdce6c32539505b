"""Unit tests for event_registry.domain.writes: validation of write inputs and their manifests.

Every rejected input is a FieldError naming the input field, a reason and a readable message;
validation never raises, whatever the strings; a valid input becomes the manifest the cluster
is sent, losing nothing that was given.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from event_registry.domain import models, normalizing
from event_registry.domain.writes import (
    MAX_JSON_DEPTH,
    AlreadyExists,
    AttributeInput,
    Conflict,
    CreateBroker,
    CreateTrigger,
    FieldError,
    Forbidden,
    Invalid,
    NotFound,
    ReferenceInput,
    RegisterEventType,
    SubscriberInput,
    WriteRejected,
    broker_manifest,
    broker_name_errors,
    create_broker_errors,
    create_trigger_errors,
    event_type_manifest,
    filter_errors,
    labels_errors,
    name_errors,
    naming_errors,
    nesting_depth,
    object_metadata,
    readable_name,
    reference_errors,
    register_event_type_errors,
    subscription_request,
    subscription_trigger_name,
    trigger_manifest,
    uri_reference_errors,
)
from event_registry.knative import eventtype_versions
from tests.support.raw_objects import event_type_raw

SINK = "http://sink.default.svc.cluster.local"
BROKER_REFERENCE = {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker", "name": "default"}
SERVICE = ReferenceInput("serving.knative.dev/v1", "Service", "consumer")
LONGEST_SUBDOMAIN = ".".join(["a" * 63] * 3 + ["a" * 61])
SUBDOMAIN_MESSAGE = (
    "is not a lowercase RFC 1123 subdomain: use lower-case letters, digits, '-' and '.', "
    "starting and ending with a letter or digit"
)


def fields(errors: list[FieldError]) -> list[tuple[str, str]]:
    return [(error.field, error.reason) for error in errors]


def event_type(
    name: str = "order-created",
    *,
    namespace: str = "default",
    type_: str = "com.example.order.created",
    source: str | None = "/s",
    broker: str | None = "default",
) -> models.EventType:
    raw = event_type_raw(name, namespace=namespace, broker=broker, type_=type_)
    if source is None:
        del raw["spec"]["source"]
    else:
        raw["spec"]["source"] = source
    return normalizing.event_type(raw)


# names -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["a", "0", "order-created", "com.example.order", "a" * 253, LONGEST_SUBDOMAIN]
)
def test_valid_names(value: str) -> None:
    assert name_errors(value, "input.name") == []


def test_a_missing_name_is_required() -> None:
    assert name_errors("", "input.name") == [
        FieldError("input.name", "Required", "a name is required")
    ]


def test_a_too_long_name() -> None:
    assert name_errors("a" * 254, "input.name") == [
        FieldError("input.name", "TooLong", "must be no more than 253 characters")
    ]
    assert name_errors("a" * 64, "input.namespace", label=True) == [
        FieldError("input.namespace", "TooLong", "must be no more than 63 characters")
    ]
    assert name_errors("a" * 63, "input.namespace", label=True) == []


@pytest.mark.parametrize(
    "value", ["A", "Order", "-a", "a-", ".a", "a.", "a..b", "a_b", "a b", "ä", "a/b", " a", "a\n"]
)
def test_names_that_are_not_rfc_1123_subdomains(value: str) -> None:
    assert name_errors(value, "input.name") == [
        FieldError("input.name", "Invalid", f"{value!r} {SUBDOMAIN_MESSAGE}")
    ]


def test_a_label_has_no_dots() -> None:
    [error] = name_errors("a.b", "input.namespace", label=True)
    assert (error.field, error.reason) == ("input.namespace", "Invalid")
    assert error.message == (
        "'a.b' is not a lowercase RFC 1123 label: use lower-case letters, digits, '-', "
        "starting and ending with a letter or digit"
    )


def test_a_broker_name_must_also_fit_a_label_value() -> None:
    assert broker_name_errors("b" * 63, "input.broker") == []
    assert broker_name_errors("b" * 64, "input.broker") == [
        FieldError("input.broker", "TooLong", "must be no more than 63 characters")
    ]
    assert broker_name_errors("a.b", "input.broker") == []
    assert fields(broker_name_errors("a" * 254, "input.broker")) == [("input.broker", "TooLong")]
    assert fields(broker_name_errors("B" * 64, "input.broker")) == [("input.broker", "Invalid")]
    assert fields(broker_name_errors("", "input.broker")) == [("input.broker", "Required")]


@given(st.text(max_size=300), st.booleans())
def test_name_errors_never_raise_and_agree_with_the_rfc(value: str, label: bool) -> None:
    errors = name_errors(value, "input.name", label=label)
    pattern = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?" if label else r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?"
    valid = bool(
        re.fullmatch(pattern, value)
        and len(value) <= (63 if label else 253)
        and (label or (".." not in value and ".-" not in value and "-." not in value))
    )
    assert (errors == []) is valid
    assert len(errors) <= 1


# generateName and name --------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["a", "order-", "com.example.", "", "a" * 248])
def test_valid_generate_names(prefix: str) -> None:
    assert naming_errors(None, prefix) == []


def test_a_generate_name_leaves_room_for_the_suffix() -> None:
    assert naming_errors(None, "a" * 249) == [
        FieldError("input.generateName", "TooLong", "must be no more than 248 characters")
    ]


@pytest.mark.parametrize("prefix", ["Order-", "-order", ".a", "a_", "a..", "a b"])
def test_an_invalid_generate_name_is_reported_as_given(prefix: str) -> None:
    [error] = naming_errors(None, prefix)
    assert (error.field, error.reason) == ("input.generateName", "Invalid")
    assert error.message.startswith(f"{prefix!r} is not a prefix of a lowercase RFC 1123")


def test_name_and_generate_name_conflict() -> None:
    assert naming_errors("a", "b-") == [
        FieldError("input.name", "Conflict", "give name or generateName, not both")
    ]
    assert fields(naming_errors("A", "B")) == [
        ("input.name", "Conflict"),
        ("input.name", "Invalid"),
        ("input.generateName", "Invalid"),
    ]


def test_neither_name_nor_generate_name_is_fine() -> None:
    assert naming_errors(None, None) == []


def test_object_metadata_names_or_generates() -> None:
    labels = {"team": "a"}
    named = object_metadata("ns", "given", None, "prefix-", labels)
    assert named == {"namespace": "ns", "name": "given", "labels": {"team": "a"}}
    assert named["labels"] is not labels
    assert object_metadata("ns", None, "mine-", "prefix-", {}) == {
        "namespace": "ns",
        "generateName": "mine-",
    }
    assert object_metadata("ns", None, None, "prefix-", {}) == {
        "namespace": "ns",
        "generateName": "prefix-",
    }
    assert object_metadata("ns", None, "", "prefix-", {})["generateName"] == "prefix-"


@pytest.mark.parametrize(
    ("cloud_event_type", "prefix"),
    [
        ("com.example.order.created", "com.example.order.created-"),
        ("Com.Example/Order Created!", "com.example-order-created-"),
        ("dev.knative.source.github.push", "dev.knative.source.github.push-"),
        ("a..b--c.-d", "a.b-c.d-"),
        ("--.a.--", "a-"),
        ("", "eventtype-"),
        ("...", "eventtype-"),
        ("äöü", "eventtype-"),
        ("x" * 300, "x" * 247 + "-"),
        ("x" * 246 + ".yz", "x" * 246 + "-"),
    ],
)
def test_readable_name(cloud_event_type: str, prefix: str) -> None:
    assert readable_name(cloud_event_type) == prefix


@given(st.text(max_size=300))
def test_a_readable_name_always_generates_valid_names(cloud_event_type: str) -> None:
    prefix = readable_name(cloud_event_type)
    assert prefix.endswith("-")
    assert naming_errors(None, prefix) == []
    assert name_errors(prefix + "a1b2c", "metadata.name") == []


# URIs, labels, references ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "absolute"),
    [
        (None, True),
        ("/relative/path", False),
        ("relative", False),
        ("https://shop.example.com/orders", False),
        ("https://shop.example.com", True),
        ("urn:example:orders", True),
        ("http://[::1]:8080/x", True),
    ],
)
def test_valid_uri_references(value: str | None, absolute: bool) -> None:
    assert uri_reference_errors(value, "input.source", absolute=absolute) == []


@pytest.mark.parametrize("value", ["", " ", "a b", "http://x/\ty", "\n"])
def test_blank_or_spaced_uris_are_not_uri_references(value: str) -> None:
    for absolute in (False, True):
        assert uri_reference_errors(value, "input.source", absolute=absolute) == [
            FieldError("input.source", "Invalid", f"{value!r} is not a URI reference")
        ]


def test_an_unparseable_uri_is_not_a_uri_reference() -> None:
    assert uri_reference_errors("http://[::1", "input.schema", absolute=True) == [
        FieldError("input.schema", "Invalid", "'http://[::1' is not a URI reference")
    ]


@pytest.mark.parametrize("value", ["/schemas/order.json", "schema.json", "mailto:", "//host/x"])
def test_relative_uris_are_not_absolute(value: str) -> None:
    assert uri_reference_errors(value, "input.schema", absolute=True) == [
        FieldError("input.schema", "Invalid", f"{value!r} is not an absolute URI")
    ]


@given(st.text(max_size=40), st.booleans())
def test_uri_checks_never_raise(value: str, absolute: bool) -> None:
    assert len(uri_reference_errors(value, "input.uri", absolute=absolute)) <= 1


def test_valid_labels() -> None:
    labels = {
        "team": "a",
        "example.com/tier": "gold",
        "app.kubernetes.io/name": "Registry_1.0",
        "empty": "",
        "k" * 63: "v" * 63,
    }
    assert labels_errors(labels, "input.labels") == []


@pytest.mark.parametrize(
    "key",
    ["", "-team", "team-", "a/b/c", "Example.com/tier", "/tier", "example.com/", "k" * 64],
)
def test_invalid_label_keys(key: str) -> None:
    assert labels_errors({key: "v"}, "input.labels") == [
        FieldError(f"input.labels.{key}", "Invalid", f"{key!r} is not a label key")
    ]


def test_a_label_key_prefix_is_at_most_a_subdomain_long() -> None:
    prefix = LONGEST_SUBDOMAIN
    assert labels_errors({f"{prefix}/k": "v"}, "input.labels") == []
    assert fields(labels_errors({f"{prefix}a/k": "v"}, "input.labels")) == [
        (f"input.labels.{prefix}a/k", "Invalid")
    ]


@pytest.mark.parametrize("value", ["-gold", "gold.", "a b", "v" * 64, "ä"])
def test_invalid_label_values(value: str) -> None:
    assert labels_errors({"tier": value}, "input.labels") == [
        FieldError("input.labels.tier", "Invalid", f"{value!r} is not a valid label value")
    ]


def test_every_bad_label_is_reported() -> None:
    errors = labels_errors({"ok": "fine", "Bad Key": "x", "tier": "-x"}, "input.labels")
    assert fields(errors) == [
        ("input.labels.Bad Key", "Invalid"),
        ("input.labels.tier", "Invalid"),
    ]


def test_a_reference_manifest() -> None:
    assert SERVICE.manifest() == {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "name": "consumer",
    }
    elsewhere = ReferenceInput("v1", "Service", "consumer", namespace="other")
    assert elsewhere.manifest()["namespace"] == "other"


def test_valid_references() -> None:
    assert reference_errors(SERVICE, "input.reference") == []
    assert reference_errors(ReferenceInput("v1", "Service", "s", "ns"), "input.reference") == []


def test_every_missing_part_of_a_reference_is_required() -> None:
    assert reference_errors(ReferenceInput("", "", ""), "input.reference") == [
        FieldError("input.reference.apiVersion", "Required", "apiVersion is required"),
        FieldError("input.reference.kind", "Required", "kind is required"),
        FieldError("input.reference.name", "Required", "name is required"),
    ]


def test_a_reference_names_a_valid_object_in_a_valid_namespace() -> None:
    reference = ReferenceInput("v1", "Service", "Consumer", namespace="Other.NS")
    assert fields(reference_errors(reference, "input.subscriber.ref")) == [
        ("input.subscriber.ref.name", "Invalid"),
        ("input.subscriber.ref.namespace", "Invalid"),
    ]


# registering EventTypes --------------------------------------------------------------------------


def test_the_smallest_registration() -> None:
    request = RegisterEventType(namespace="default", type="com.example.order.created")
    assert register_event_type_errors(request) == []
    assert event_type_manifest(request) == {
        "apiVersion": "eventing.knative.dev/v1beta2",
        "kind": "EventType",
        "metadata": {"namespace": "default", "generateName": "com.example.order.created-"},
        "spec": {"type": "com.example.order.created"},
    }


def test_a_full_registration() -> None:
    request = RegisterEventType(
        namespace="default",
        type="com.example.order.created",
        name="order-created",
        source="https://shop.example.com",
        schema="https://schemas.example.com/order.json",
        schema_data='{"type": "object"}',
        description="An order was placed",
        broker="default",
        labels={"team": "shop"},
    )
    assert register_event_type_errors(request) == []
    assert event_type_manifest(request) == {
        "apiVersion": "eventing.knative.dev/v1beta2",
        "kind": "EventType",
        "metadata": {"namespace": "default", "name": "order-created", "labels": {"team": "shop"}},
        "spec": {
            "type": "com.example.order.created",
            "source": "https://shop.example.com",
            "schema": "https://schemas.example.com/order.json",
            "schemaData": '{"type": "object"}',
            "description": "An order was placed",
            "reference": BROKER_REFERENCE,
        },
    }


def test_a_registration_with_a_reference_and_a_generate_name() -> None:
    reference = ReferenceInput("eventing.knative.dev/v1", "Broker", "default", "default")
    request = RegisterEventType(
        namespace="default", type="com.example.t", generate_name="mine-", reference=reference
    )
    assert register_event_type_errors(request) == []
    manifest = event_type_manifest(request)
    assert manifest["metadata"] == {"namespace": "default", "generateName": "mine-"}
    assert manifest["spec"]["reference"] == {**BROKER_REFERENCE, "namespace": "default"}


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        pytest.param(
            RegisterEventType(namespace="default"),
            [FieldError("input.type", "Required", "the CloudEvents type is required")],
            id="no-type",
        ),
        pytest.param(
            RegisterEventType(namespace="default", type="  "),
            [FieldError("input.type", "Required", "the CloudEvents type is required")],
            id="blank-type",
        ),
        pytest.param(
            RegisterEventType(namespace="default", attributes=(AttributeInput("type"),)),
            [FieldError("input.type", "Required", "the CloudEvents type is required")],
            id="type-attribute-without-value",
        ),
        pytest.param(
            RegisterEventType(namespace="", type="t"),
            [FieldError("input.namespace", "Required", "a name is required")],
            id="no-namespace",
        ),
        pytest.param(
            RegisterEventType(namespace="t", type="t", source="not a uri"),
            [FieldError("input.source", "Invalid", "'not a uri' is not a URI reference")],
            id="source",
        ),
        pytest.param(
            RegisterEventType(namespace="t", type="t", schema="/order.json"),
            [FieldError("input.schema", "Invalid", "'/order.json' is not an absolute URI")],
            id="relative-schema",
        ),
        pytest.param(
            RegisterEventType(namespace="t", type="t", broker="default", reference=SERVICE),
            [FieldError("input.reference", "Conflict", "give broker or reference, not both")],
            id="broker-and-reference",
        ),
        pytest.param(
            RegisterEventType(namespace="t", type="t", broker="b" * 64),
            [FieldError("input.broker", "TooLong", "must be no more than 63 characters")],
            id="long-broker",
        ),
        pytest.param(
            RegisterEventType(
                namespace="t", type="t", attributes=(AttributeInput("Not-Valid", "x"),)
            ),
            [
                FieldError(
                    "input.attributes.Not-Valid",
                    "Invalid",
                    "CloudEvents attribute names are 1-20 lower-case letters or digits",
                )
            ],
            id="attribute-name",
        ),
        pytest.param(
            RegisterEventType(
                namespace="t",
                type="t",
                attributes=(AttributeInput("subject"), AttributeInput("subject", "x")),
            ),
            [FieldError("input.attributes.subject", "Conflict", "given twice")],
            id="duplicate-attribute",
        ),
        pytest.param(
            RegisterEventType(namespace="t", type="a", attributes=(AttributeInput("type", "b"),)),
            [FieldError("input.attributes.type", "Conflict", "differs from input.type")],
            id="type-conflict",
        ),
        pytest.param(
            RegisterEventType(
                namespace="t", type="t", source="/a", attributes=(AttributeInput("source", "/b"),)
            ),
            [FieldError("input.attributes.source", "Conflict", "differs from input.source")],
            id="source-conflict",
        ),
        pytest.param(
            RegisterEventType(
                namespace="t",
                type="t",
                schema="https://a/s.json",
                attributes=(AttributeInput("dataschema", "https://b/s.json"),),
            ),
            [FieldError("input.attributes.dataschema", "Conflict", "differs from input.schema")],
            id="schema-conflict",
        ),
        pytest.param(
            RegisterEventType(
                namespace="t", type="t", attributes=(AttributeInput("source", "a b"),)
            ),
            [FieldError("input.source", "Invalid", "'a b' is not a URI reference")],
            id="source-attribute",
        ),
        pytest.param(
            RegisterEventType(
                namespace="t", type="t", attributes=(AttributeInput("dataschema", "s.json"),)
            ),
            [FieldError("input.schema", "Invalid", "'s.json' is not an absolute URI")],
            id="dataschema-attribute",
        ),
    ],
)
def test_a_registration_is_rejected_field_by_field(
    request_: RegisterEventType, expected: list[FieldError]
) -> None:
    assert register_event_type_errors(request_) == expected


def test_an_attribute_name_is_at_most_twenty_characters() -> None:
    ok = RegisterEventType(namespace="t", type="t", attributes=(AttributeInput("a" * 20, "x"),))
    too_long = RegisterEventType(
        namespace="t", type="t", attributes=(AttributeInput("a" * 21, "x"),)
    )
    assert register_event_type_errors(ok) == []
    assert fields(register_event_type_errors(too_long)) == [
        (f"input.attributes.{'a' * 21}", "Invalid")
    ]


def test_equal_direct_and_declared_values_do_not_conflict() -> None:
    request = RegisterEventType(
        namespace="t",
        type="t",
        source="/s",
        schema="https://s/x",
        attributes=(
            AttributeInput("type", "t"),
            AttributeInput("source", "/s"),
            AttributeInput("dataschema", "https://s/x"),
        ),
    )
    assert register_event_type_errors(request) == []


def test_every_problem_of_a_registration_is_reported_at_once() -> None:
    request = RegisterEventType(
        namespace="Default",
        name="Bad",
        generate_name="bad-",
        source="a b",
        broker="-b",
        labels={"-k": "v"},
    )
    assert fields(register_event_type_errors(request)) == [
        ("input.namespace", "Invalid"),
        ("input.name", "Conflict"),
        ("input.name", "Invalid"),
        ("input.type", "Required"),
        ("input.source", "Invalid"),
        ("input.broker", "Invalid"),
        ("input.labels.-k", "Invalid"),
    ]


def test_reference_problems_are_reported_under_input_reference() -> None:
    request = RegisterEventType(
        namespace="t", type="t", reference=ReferenceInput("", "Broker", "B")
    )
    assert fields(register_event_type_errors(request)) == [
        ("input.reference.apiVersion", "Required"),
        ("input.reference.name", "Invalid"),
    ]


V1BETA3_ATTRIBUTES = (
    AttributeInput("type", "com.example.shipment.sent", required=True),
    AttributeInput("source", "/warehouse/shipments", required=True),
    AttributeInput("specversion", "1.0", required=True),
    AttributeInput("id", required=True),
    AttributeInput("subject", "parcel"),
    AttributeInput("dataschema", "https://schemas.example.com/shipment.json"),
)


def v1beta3_attributes(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    converted = eventtype_versions.convert_eventtype(manifest, "eventing.knative.dev/v1beta3")
    attributes: list[dict[str, Any]] = converted["spec"]["attributes"]
    return attributes


def test_a_v1beta3_style_registration_is_stored_as_v1beta2_losslessly() -> None:
    request = RegisterEventType(
        namespace="default",
        name="shipment-sent",
        broker="default",
        description="sent",
        schema_data="{}",
        attributes=V1BETA3_ATTRIBUTES,
    )
    assert register_event_type_errors(request) == []
    manifest = event_type_manifest(request)
    assert manifest["apiVersion"] == "eventing.knative.dev/v1beta2"
    assert manifest["metadata"]["name"] == "shipment-sent"
    spec = manifest["spec"]
    assert spec["type"] == "com.example.shipment.sent"
    assert spec["source"] == "/warehouse/shipments"
    assert spec["schema"] == "https://schemas.example.com/shipment.json"
    assert (spec["schemaData"], spec["description"]) == ("{}", "sent")
    assert spec["reference"] == BROKER_REFERENCE
    assert v1beta3_attributes(manifest) == [
        {"name": "type", "required": True, "value": "com.example.shipment.sent"},
        {"name": "source", "required": True, "value": "/warehouse/shipments"},
        {"name": "specversion", "required": True, "value": "1.0"},
        {"name": "id", "required": True},
        {"name": "subject", "required": False, "value": "parcel"},
        {
            "name": "dataschema",
            "required": False,
            "value": "https://schemas.example.com/shipment.json",
        },
    ]


def test_attributes_without_a_value_take_the_direct_fields() -> None:
    request = RegisterEventType(
        namespace="default",
        type="com.example.t",
        source="/s",
        attributes=(AttributeInput("type"), AttributeInput("source"), AttributeInput("id")),
    )
    manifest = event_type_manifest(request)
    assert (manifest["spec"]["type"], manifest["spec"]["source"]) == ("com.example.t", "/s")
    assert v1beta3_attributes(manifest) == [
        {"name": "type", "required": True, "value": "com.example.t"},
        {"name": "source", "required": True, "value": "/s"},
        {"name": "id", "required": True},
    ]


def test_direct_fields_are_kept_beside_other_attributes() -> None:
    request = RegisterEventType(
        namespace="default",
        type="com.example.t",
        source="/s",
        schema="https://schemas.example.com/t.json",
        attributes=(AttributeInput("subject", "x"),),
    )
    assert register_event_type_errors(request) == []
    manifest = event_type_manifest(request)
    assert manifest["spec"]["type"] == "com.example.t"
    assert manifest["spec"]["source"] == "/s"
    assert manifest["spec"]["schema"] == "https://schemas.example.com/t.json"
    assert [a["name"] for a in v1beta3_attributes(manifest)] == [
        "subject",
        "type",
        "source",
        "dataschema",
    ]


def test_a_generated_name_comes_from_the_declared_type() -> None:
    request = RegisterEventType(
        namespace="default", attributes=(AttributeInput("type", "Com.Example.T"),)
    )
    assert event_type_manifest(request)["metadata"]["generateName"] == "com.example.t-"


OPTIONAL_TEXT = st.none() | st.text(max_size=12) | st.sampled_from(["/s", "https://x/y", "t"])
ATTRIBUTE_NAMES = st.sampled_from(["type", "source", "dataschema", "id", "subject"]) | st.text(
    max_size=4
)


@given(
    st.builds(
        RegisterEventType,
        namespace=st.text(max_size=8) | st.just("default"),
        type=OPTIONAL_TEXT,
        name=OPTIONAL_TEXT,
        generate_name=OPTIONAL_TEXT,
        source=OPTIONAL_TEXT,
        schema=OPTIONAL_TEXT,
        schema_data=OPTIONAL_TEXT,
        description=OPTIONAL_TEXT,
        broker=OPTIONAL_TEXT,
        reference=st.none()
        | st.builds(ReferenceInput, st.text(max_size=4), st.text(max_size=4), st.text(max_size=4)),
        attributes=st.lists(
            st.builds(AttributeInput, ATTRIBUTE_NAMES, OPTIONAL_TEXT, st.booleans()), max_size=3
        ).map(tuple),
        labels=st.dictionaries(st.text(max_size=6), st.text(max_size=6), max_size=2),
    )
)
def test_registration_validation_never_raises(request_: RegisterEventType) -> None:
    for error in register_event_type_errors(request_):
        assert error.field.startswith("input.")
        assert error.message


def maybe(*values: str) -> st.SearchStrategy[str | None]:
    return st.none() | st.sampled_from(values)


PLAUSIBLE_ATTRIBUTES = st.lists(
    st.builds(
        AttributeInput,
        st.sampled_from(["type", "source", "dataschema", "id", "subject"]),
        maybe("com.example.t", "/s", "https://x/y"),
        st.booleans(),
    ),
    max_size=3,
    unique_by=lambda attribute: attribute.name,
).map(tuple)


@given(
    st.builds(
        RegisterEventType,
        namespace=st.just("default"),
        type=maybe("com.example.t", "com.example.u"),
        name=maybe("order-created"),
        generate_name=maybe("order-"),
        source=maybe("/s", "https://x/y"),
        schema=maybe("https://x/y", "https://z/y"),
        schema_data=maybe("{}"),
        description=maybe("d"),
        broker=maybe("default"),
        attributes=PLAUSIBLE_ATTRIBUTES,
        labels=st.sampled_from([{}, {"team": "a"}]),
    )
)
def test_a_valid_registration_keeps_what_was_given(request_: RegisterEventType) -> None:
    """What passes validation is written with its effective type, source and schema, whether
    they were given directly or as attributes."""
    if register_event_type_errors(request_):
        return
    manifest = event_type_manifest(request_)
    spec = manifest["spec"]
    assert spec["type"] == request_.effective_type()
    assert spec.get("source") == request_.effective("source", request_.source)
    assert spec.get("schema") == request_.effective("dataschema", request_.schema)
    assert spec.get("schemaData") == request_.schema_data
    metadata = manifest["metadata"]
    assert metadata.get("labels", {}) == dict(request_.labels)
    assert metadata["namespace"] == request_.namespace


# creating Triggers -------------------------------------------------------------------------------


def trigger(**fields: Any) -> CreateTrigger:
    defaults: dict[str, Any] = {
        "namespace": "default",
        "broker": "default",
        "subscriber": SubscriberInput(uri=SINK),
    }
    return CreateTrigger(**{**defaults, **fields})


def test_the_smallest_trigger() -> None:
    assert create_trigger_errors(trigger()) == []
    assert trigger_manifest(trigger()) == {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Trigger",
        "metadata": {"namespace": "default", "generateName": "default-"},
        "spec": {"broker": "default", "subscriber": {"uri": SINK}},
    }


def test_a_full_trigger() -> None:
    request = trigger(
        name="orders",
        subscriber=SubscriberInput(ref=SERVICE, uri="/orders"),
        filter_attributes={"type": "com.example.order.created"},
        filters=({"prefix": {"type": "com.example."}}, {"not": {"exact": {"source": "/x"}}}),
        delivery={"retry": 3},
        labels={"team": "shop"},
    )
    assert create_trigger_errors(request) == []
    assert trigger_manifest(request) == {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Trigger",
        "metadata": {"namespace": "default", "name": "orders", "labels": {"team": "shop"}},
        "spec": {
            "broker": "default",
            "subscriber": {"ref": SERVICE.manifest(), "uri": "/orders"},
            "filter": {"attributes": {"type": "com.example.order.created"}},
            "filters": [{"prefix": {"type": "com.example."}}, {"not": {"exact": {"source": "/x"}}}],
            "delivery": {"retry": 3},
        },
    }


def test_a_trigger_needs_a_subscriber() -> None:
    assert create_trigger_errors(trigger(subscriber=SubscriberInput())) == [
        FieldError("input.subscriber", "Required", "give a subscriber ref or uri")
    ]


def test_a_subscriber_uri_alone_must_be_absolute() -> None:
    assert create_trigger_errors(trigger(subscriber=SubscriberInput(uri="/path"))) == [
        FieldError("input.subscriber.uri", "Invalid", "'/path' is not an absolute URI")
    ]


def test_a_subscriber_uri_beside_a_ref_may_be_relative() -> None:
    subscriber = SubscriberInput(ref=SERVICE, uri="/path")
    assert create_trigger_errors(trigger(subscriber=subscriber)) == []


def test_a_subscriber_ref_is_checked_as_a_reference() -> None:
    subscriber = SubscriberInput(ref=ReferenceInput("v1", "", "Consumer"))
    assert fields(create_trigger_errors(trigger(subscriber=subscriber))) == [
        ("input.subscriber.ref.kind", "Required"),
        ("input.subscriber.ref.name", "Invalid"),
    ]


def test_a_subscriber_manifest() -> None:
    assert SubscriberInput(uri=SINK).manifest() == {"uri": SINK}
    assert SubscriberInput(ref=SERVICE).manifest() == {"ref": SERVICE.manifest()}
    assert SubscriberInput().manifest() == {}


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        pytest.param(
            trigger(namespace="a.b"), [("input.namespace", "Invalid")], id="namespace-label"
        ),
        pytest.param(trigger(broker=""), [("input.broker", "Required")], id="no-broker"),
        pytest.param(trigger(broker="b" * 64), [("input.broker", "TooLong")], id="long-broker"),
        pytest.param(trigger(name="X"), [("input.name", "Invalid")], id="name"),
        pytest.param(
            trigger(generate_name="X-"), [("input.generateName", "Invalid")], id="generate-name"
        ),
        pytest.param(
            trigger(filter_attributes={"Type": "x"}), [("input.filter.Type", "Invalid")], id="key"
        ),
        pytest.param(
            trigger(filter_attributes={"type": 3}), [("input.filter.type", "Invalid")], id="value"
        ),
        pytest.param(trigger(labels={"a": "-"}), [("input.labels.a", "Invalid")], id="labels"),
    ],
)
def test_a_trigger_is_rejected_field_by_field(
    request_: CreateTrigger, expected: list[tuple[str, str]]
) -> None:
    assert fields(create_trigger_errors(request_)) == expected


def test_a_filter_attribute_value_must_be_a_string() -> None:
    assert create_trigger_errors(trigger(filter_attributes={"type": 3})) == [
        FieldError("input.filter.type", "Invalid", "values are strings")
    ]


def test_an_empty_filter_attribute_value_matches_any_value() -> None:
    assert create_trigger_errors(trigger(filter_attributes={"type": ""})) == []


@pytest.mark.parametrize(
    "entry",
    [
        {"exact": {"type": "com.example.t"}},
        {"prefix": {"type": "com.", "source": "/"}},
        {"suffix": {"type": ".created"}},
        {"all": [{"exact": {"type": "t"}}, {"prefix": {"source": "/"}}]},
        {"any": [{"exact": {"type": "t"}}]},
        {"not": {"suffix": {"type": ".deleted"}}},
        {"cesql": "type = 'com.example.t'"},
        {"all": [{"any": [{"not": {"exact": {"id": "1"}}}]}]},
    ],
)
def test_valid_filters(entry: Mapping[str, Any]) -> None:
    assert filter_errors(entry, "input.filters[0]") == []
    assert create_trigger_errors(trigger(filters=(entry,))) == []


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        pytest.param(
            "exact",
            FieldError("f", "Invalid", "a filter must be an object with one dialect"),
            id="not-an-object",
        ),
        pytest.param(
            {}, FieldError("f", "Invalid", "each filter needs exactly one dialect"), id="empty"
        ),
        pytest.param(
            {"exact": {"type": "t"}, "prefix": {"type": "t"}},
            FieldError("f", "Invalid", "each filter needs exactly one dialect"),
            id="two-dialects",
        ),
        pytest.param(
            {"regex": "x", "exact": {"type": "t"}, "glob": "y"},
            FieldError("f", "NotSupported", "unknown filter dialect(s): regex, glob"),
            id="unknown-dialects",
        ),
        pytest.param(
            {"exact": {}},
            FieldError("f.exact", "Invalid", "expected attribute: value pairs"),
            id="exact-empty",
        ),
        pytest.param(
            {"prefix": ["type"]},
            FieldError("f.prefix", "Invalid", "expected attribute: value pairs"),
            id="prefix-list",
        ),
        pytest.param(
            {"suffix": {"Type": "x"}},
            FieldError("f.suffix.Type", "Invalid", "not a CloudEvents attribute name"),
            id="suffix-bad-attribute",
        ),
        pytest.param(
            {"exact": {"type": ""}},
            FieldError("f.exact.type", "Invalid", "not a CloudEvents attribute name"),
            id="exact-empty-value",
        ),
        pytest.param(
            {"exact": {"type": 1}},
            FieldError("f.exact.type", "Invalid", "not a CloudEvents attribute name"),
            id="exact-number-value",
        ),
        pytest.param(
            {"all": []}, FieldError("f.all", "Invalid", "expected a non-empty list"), id="all-empty"
        ),
        pytest.param(
            {"any": {"exact": {"type": "t"}}},
            FieldError("f.any", "Invalid", "expected a non-empty list"),
            id="any-object",
        ),
        pytest.param(
            {"not": "x"},
            FieldError("f.not", "Invalid", "a filter must be an object with one dialect"),
            id="not-text",
        ),
        pytest.param(
            {"cesql": "  "},
            FieldError("f.cesql", "Invalid", "expected a CESQL expression"),
            id="blank",
        ),
        pytest.param(
            {"cesql": {"type": "t"}},
            FieldError("f.cesql", "Invalid", "expected a CESQL expression"),
            id="cesql-object",
        ),
    ],
)
def test_invalid_filters(entry: Any, expected: FieldError) -> None:
    assert filter_errors(entry, "f") == [expected]


def test_nested_filter_errors_name_their_place() -> None:
    entry = {
        "all": [
            {"exact": {"type": "t"}},
            {"any": [{"not": {"prefix": {"Bad": "x", "ok": ""}}}, {"cesql": 3}]},
        ]
    }
    assert fields(filter_errors(entry, "input.filters[2]")) == [
        ("input.filters[2].all[1].any[0].not.prefix.Bad", "Invalid"),
        ("input.filters[2].all[1].any[0].not.prefix.ok", "Invalid"),
        ("input.filters[2].all[1].any[1].cesql", "Invalid"),
    ]


def test_each_filter_of_a_trigger_is_checked_in_its_place() -> None:
    request = trigger(filters=({"exact": {"type": "t"}}, {"bogus": 1}, {}))
    assert fields(create_trigger_errors(request)) == [
        ("input.filters[1]", "NotSupported"),
        ("input.filters[2]", "Invalid"),
    ]


FILTER_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(["exact", "prefix", "suffix", "all", "any", "not", "cesql", "type"])
            | st.text(max_size=3),
            children,
            max_size=3,
        )
    ),
    max_leaves=12,
)


@given(FILTER_JSON)
def test_filter_validation_never_raises(entry: Any) -> None:
    for error in filter_errors(entry, "input.filters[0]"):
        assert error.field.startswith("input.filters[0]")
        assert error.reason in ("Invalid", "NotSupported")


def test_filters_or_delivery_nested_too_deeply_are_refused_without_recursing() -> None:
    nested: Any = {"exact": {"type": "x"}}
    for _ in range(5_000):  # far beyond the interpreter's recursion limit
        nested = {"not": nested}
    delivery: Any = 1
    for _ in range(5_000):
        delivery = {"retry": [delivery]}
    errors = create_trigger_errors(trigger(filters=(nested,), delivery=delivery))
    assert [(e.field, e.reason) for e in errors] == [
        ("input.filters", "Invalid"),
        ("input.delivery", "Invalid"),
    ]
    assert errors[0].message == f"nested deeper than {MAX_JSON_DEPTH} levels"
    shallow: Any = {"exact": {"type": "x"}}
    for _ in range(MAX_JSON_DEPTH // 2 - 2):
        shallow = {"not": shallow}
    assert nesting_depth((shallow,)) <= MAX_JSON_DEPTH
    assert create_trigger_errors(trigger(filters=(shallow,))) == []


# subscribing to an EventType ---------------------------------------------------------------------


def test_a_subscription_is_a_trigger_on_the_event_types_broker_exact_on_type_and_source() -> None:
    subscribed = event_type(source="https://shop.example.com")
    request = subscription_request(subscribed, SubscriberInput(uri=SINK), None)
    assert request == CreateTrigger(
        namespace="default",
        broker="default",
        subscriber=SubscriberInput(uri=SINK),
        name=subscription_trigger_name(subscribed, SubscriberInput(uri=SINK)),
        filter_attributes={
            "type": "com.example.order.created",
            "source": "https://shop.example.com",
        },
    )
    assert create_trigger_errors(request) == []


def test_a_subscription_without_a_source_filters_on_type_only() -> None:
    request = subscription_request(event_type(source=None), SubscriberInput(uri=SINK), None)
    assert request.filter_attributes == {"type": "com.example.order.created"}


def test_a_subscription_keeps_a_given_name() -> None:
    request = subscription_request(event_type(), SubscriberInput(uri=SINK), "mine")
    assert request.name == "mine"


def test_subscribing_to_an_event_type_without_a_broker_needs_one() -> None:
    request = subscription_request(event_type(broker=None), SubscriberInput(uri=SINK), None)
    assert create_trigger_errors(request) == [
        FieldError("input.broker", "Required", "a name is required")
    ]


def test_the_subscription_trigger_name_is_readable_and_stable() -> None:
    name = subscription_trigger_name(event_type(), SubscriberInput(uri=SINK))
    assert re.fullmatch(r"com\.example\.order\.created-[0-9a-f]{10}", name)
    assert subscription_trigger_name(event_type(), SubscriberInput(uri=SINK)) == name


def test_the_subscription_trigger_name_tells_subscriptions_apart() -> None:
    names = {
        subscription_trigger_name(event_type(), SubscriberInput(uri=SINK)),
        subscription_trigger_name(event_type(), SubscriberInput(uri=SINK + "/other")),
        subscription_trigger_name(event_type("order-paid"), SubscriberInput(uri=SINK)),
        subscription_trigger_name(event_type(), SubscriberInput(ref=SERVICE)),
        subscription_trigger_name(event_type(), SubscriberInput(ref=SERVICE, uri="/x")),
        subscription_trigger_name(
            event_type(), SubscriberInput(ref=ReferenceInput("v1", "Service", "consumer", "other"))
        ),
    }
    assert len(names) == 6


def test_a_ref_in_the_event_types_namespace_is_the_same_subscription_spelled_out_or_not() -> None:
    implicit = SubscriberInput(ref=SERVICE)
    explicit = SubscriberInput(ref=ReferenceInput(*_service_fields(), namespace="default"))
    assert subscription_trigger_name(event_type(), implicit) == subscription_trigger_name(
        event_type(), explicit
    )


def _service_fields() -> tuple[str, str, str]:
    return SERVICE.api_version, SERVICE.kind, SERVICE.name


@given(st.text(max_size=300), st.text(max_size=20))
def test_a_subscription_trigger_name_is_always_a_valid_name(type_: str, uri: str) -> None:
    name = subscription_trigger_name(event_type(type_=type_), SubscriberInput(uri=uri))
    assert name_errors(name, "input.name") == []
    assert len(name) <= 51


# creating Brokers --------------------------------------------------------------------------------


def test_the_smallest_broker() -> None:
    request = CreateBroker(namespace="default", name="default")
    assert create_broker_errors(request) == []
    assert broker_manifest(request) == {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Broker",
        "metadata": {"namespace": "default", "name": "default"},
        "spec": {},
    }


def test_a_full_broker() -> None:
    config = ReferenceInput("v1", "ConfigMap", "config-br-defaults", "knative-eventing")
    request = CreateBroker(
        namespace="default",
        name="default",
        broker_class="MTChannelBasedBroker",
        config=config,
        labels={"team": "shop"},
    )
    assert create_broker_errors(request) == []
    assert broker_manifest(request) == {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Broker",
        "metadata": {
            "namespace": "default",
            "name": "default",
            "annotations": {"eventing.knative.dev/broker.class": "MTChannelBasedBroker"},
            "labels": {"team": "shop"},
        },
        "spec": {"config": config.manifest()},
    }


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        pytest.param(
            CreateBroker(namespace="Default", name="b"),
            [("input.namespace", "Invalid")],
            id="namespace",
        ),
        pytest.param(
            CreateBroker(namespace="ns", name=""), [("input.name", "Required")], id="name"
        ),
        pytest.param(
            CreateBroker(namespace="ns", name="a" * 254), [("input.name", "TooLong")], id="long"
        ),
        pytest.param(
            CreateBroker(namespace="ns", name="b", broker_class=" "),
            [("input.class", "Invalid")],
            id="blank-class",
        ),
        pytest.param(
            CreateBroker(namespace="ns", name="b", config=ReferenceInput("v1", "", "c")),
            [("input.config.kind", "Required")],
            id="config",
        ),
        pytest.param(
            CreateBroker(namespace="ns", name="b", labels={"a/b/c": "x"}),
            [("input.labels.a/b/c", "Invalid")],
            id="labels",
        ),
    ],
)
def test_a_broker_is_rejected_field_by_field(
    request_: CreateBroker, expected: list[tuple[str, str]]
) -> None:
    assert fields(create_broker_errors(request_)) == expected


def test_an_empty_broker_class_is_invalid() -> None:
    assert create_broker_errors(CreateBroker(namespace="ns", name="b", broker_class="")) == [
        FieldError("input.class", "Invalid", "the broker class must not be empty")
    ]


# the cluster refusing a write --------------------------------------------------------------------


def test_a_rejected_write_says_why() -> None:
    cause = FieldError("spec.broker", "Invalid", "immutable")
    rejected = Invalid("EventType is invalid", (cause,))
    assert isinstance(rejected, WriteRejected)
    assert str(rejected) == rejected.message == "EventType is invalid"
    assert rejected.causes == (cause,)


def test_an_invalid_write_without_causes_blames_the_input() -> None:
    assert Invalid("bad request", ()).causes == (FieldError("input", "Invalid", "bad request"),)


@pytest.mark.parametrize("variant", [NotFound, AlreadyExists, Conflict, Forbidden])
def test_every_refusal_is_a_write_rejected_carrying_only_its_message(
    variant: type[WriteRejected],
) -> None:
    rejected = variant("the cluster said no")
    assert isinstance(rejected, WriteRejected)
    assert str(rejected) == rejected.message == "the cluster said no"
    assert not hasattr(rejected, "code")
