"""Unit tests for event_registry.knative.eventtype_versions."""

from __future__ import annotations

import copy
import itertools
import json
import re
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from event_registry.knative.eventtype_versions import (
    API_VERSIONS,
    ATTRIBUTES_ANNOTATION,
    BROKER_ANNOTATION,
    FIELDS_ANNOTATION,
    GROUP,
    KIND,
    convert_eventtype,
)

V1BETA1 = "eventing.knative.dev/v1beta1"
V1BETA2 = "eventing.knative.dev/v1beta2"
V1BETA3 = "eventing.knative.dev/v1beta3"
RESERVED = (ATTRIBUTES_ANNOTATION, BROKER_ANNOTATION, FIELDS_ANNOTATION)
REQUIRED_ATTRIBUTES = {"type", "source", "specversion", "id"}

SEED_V1BETA2 = """
apiVersion: eventing.knative.dev/v1beta2
kind: EventType
metadata:
  name: com.github.pullrequest
  namespace: default
  uid: 6f1c1a4e-2b7d-4d1e-9a53-0c2f7e1d2b11
  resourceVersion: "12"
  generation: 1
  creationTimestamp: "2024-05-02T10:00:00Z"
spec:
  type: com.github.pull_request
  source: github.com
  schema: //github.com/schemas/pull_request
  description: GitHub pull request
  broker: default
"""

SEED_V1BETA1 = """
apiVersion: eventing.knative.dev/v1beta1
kind: EventType
metadata:
  name: org.bitbucket.repofork
  namespace: default
spec:
  type: org.bitbucket.repo:fork
  source: bitbucket.org
  broker: dev
  description: BitBucket fork
"""

SOURCE_CREATED_V1BETA2 = """
apiVersion: eventing.knative.dev/v1beta2
kind: EventType
metadata:
  name: 5b9f1e8c0a1d3f7e2c4b6a8d0e2f4a6c
  namespace: default
  labels:
    eventing.knative.dev/sourceName: github-source-sample
  ownerReferences:
  - apiVersion: sources.knative.dev/v1alpha1
    kind: GitHubSource
    name: github-source-sample
    uid: 0d5b8f6e-3c1a-4f2b-8e9d-7a6c5b4d3e2f
    controller: true
    blockOwnerDeletion: true
spec:
  type: dev.knative.source.github.push
  source: https://github.com/knative/eventing
  reference:
    apiVersion: eventing.knative.dev/v1
    kind: Broker
    name: default
status:
  observedGeneration: 1
  conditions:
  - type: Ready
    status: "True"
    lastTransitionTime: "2024-05-02T10:00:05Z"
  - type: ReferenceExists
    status: "True"
    lastTransitionTime: "2024-05-02T10:00:05Z"
"""

SCHEMA_DATA_V1BETA2 = """
apiVersion: eventing.knative.dev/v1beta2
kind: EventType
metadata:
  name: order-created
  namespace: shop
  annotations:
    example.com/team: checkout
spec:
  type: com.example.order.created
  source: /shop/orders
  schema: https://schemas.example.com/order-created.json
  schemaData: '{"type": "object", "required": ["orderId"]}'
  reference:
    apiVersion: messaging.knative.dev/v1
    kind: InMemoryChannel
    name: orders
    namespace: shop
  description: "Commande créée 🛒"
"""

TEMPLATED_V1BETA3 = """
apiVersion: eventing.knative.dev/v1beta3
kind: EventType
metadata:
  name: github.pull-request
  namespace: default
spec:
  description: GitHub pull request, any repository
  attributes:
  - name: type
    required: true
    value: dev.knative.source.github.pull_request
  - name: source
    required: true
    value: https://github.com/{owner}/{repo}
  - name: specversion
    required: true
    value: "1.0"
  - name: id
    required: true
  - name: subject
    required: false
    value: "{number}"
  - name: dataschema
    value: https://github.com/schemas/pull_request.json
"""

REFERENCED_V1BETA3 = """
apiVersion: eventing.knative.dev/v1beta3
kind: EventType
metadata:
  name: ping
  namespace: team-a
  generation: 2
spec:
  reference:
    apiVersion: eventing.knative.dev/v1
    kind: Broker
    name: missing
    namespace: team-a
  attributes:
  - name: specversion
    required: true
  - name: id
    required: true
  - name: type
    required: true
    value: dev.knative.sources.ping
  - name: source
    required: true
    value: /apis/v1/namespaces/team-a/pingsources/ping
status:
  observedGeneration: 2
  annotations:
    note: kept as is
  conditions:
  - type: Ready
    status: "False"
    reason: ResourceDoesNotExist
    message: Referenced resource does not exist
    lastTransitionTime: "2024-05-02T10:00:05Z"
  - type: ReferenceExists
    status: "False"
    reason: ResourceDoesNotExist
    severity: Error
    lastTransitionTime: "2024-05-02T10:00:05Z"
"""

FIXTURES = {
    "seed-v1beta2": SEED_V1BETA2,
    "seed-v1beta1": SEED_V1BETA1,
    "source-created-v1beta2": SOURCE_CREATED_V1BETA2,
    "schema-data-v1beta2": SCHEMA_DATA_V1BETA2,
    "templated-v1beta3": TEMPLATED_V1BETA3,
    "referenced-v1beta3": REFERENCED_V1BETA3,
}


def load(text: str) -> dict[str, Any]:
    loaded = yaml.safe_load(text)
    assert isinstance(loaded, dict)
    return loaded


def annotations_of(obj: dict[str, Any]) -> dict[str, Any]:
    result = obj.get("metadata", {}).get("annotations", {})
    assert isinstance(result, dict)
    return result


def metadata_without_reserved(obj: dict[str, Any]) -> dict[str, Any]:
    metadata = copy.deepcopy(obj.get("metadata", {}))
    kept = {k: v for k, v in metadata.pop("annotations", {}).items() if k not in RESERVED}
    if kept:
        metadata["annotations"] = kept
    assert isinstance(metadata, dict)
    return metadata


def convert(obj: dict[str, Any], api_version: str) -> dict[str, Any]:
    """convert_eventtype, checking that the input is left untouched."""
    before = copy.deepcopy(obj)
    result = convert_eventtype(obj, api_version)
    assert obj == before
    assert result is not obj
    return result


def assert_reserved_keys_owned(obj: dict[str, Any]) -> None:
    present = set(annotations_of(obj)) & set(RESERVED)
    if obj["apiVersion"] == V1BETA3:
        assert ATTRIBUTES_ANNOTATION not in present
    else:
        assert present <= {ATTRIBUTES_ANNOTATION}


def assert_knative_valid_v1beta3(obj: dict[str, Any]) -> None:
    names = {attribute["name"] for attribute in obj["spec"]["attributes"]}
    assert names >= REQUIRED_ATTRIBUTES


# --- examples -----------------------------------------------------------------------------------


def test_identity_constants() -> None:
    assert GROUP == "eventing.knative.dev"
    assert KIND == "EventType"
    assert API_VERSIONS == (V1BETA1, V1BETA2, V1BETA3)


def test_seed_broker_becomes_a_broker_reference() -> None:
    seed = load(SEED_V1BETA2)

    got = convert(seed, V1BETA3)

    assert got == {
        "apiVersion": V1BETA3,
        "kind": "EventType",
        "metadata": {**seed["metadata"], "annotations": {BROKER_ANNOTATION: "default"}},
        "spec": {
            "reference": {
                "apiVersion": "eventing.knative.dev/v1",
                "kind": "Broker",
                "name": "default",
            },
            "description": "GitHub pull request",
            "attributes": [
                {"name": "specversion", "required": True},
                {"name": "id", "required": True},
                {"name": "type", "required": True, "value": "com.github.pull_request"},
                {"name": "source", "required": True, "value": "github.com"},
                {
                    "name": "dataschema",
                    "required": False,
                    "value": "//github.com/schemas/pull_request",
                },
            ],
        },
    }
    assert convert(got, V1BETA2) == seed


def test_templated_v1beta3_keeps_natives_native_and_carries_the_rest() -> None:
    templated = load(TEMPLATED_V1BETA3)

    got = convert(templated, V1BETA2)

    assert got["spec"] == {
        "type": "dev.knative.source.github.pull_request",
        "source": "https://github.com/{owner}/{repo}",
        "schema": "https://github.com/schemas/pull_request.json",
        "description": "GitHub pull request, any repository",
    }
    assert got["metadata"] == {
        "name": "github.pull-request",
        "namespace": "default",
        "annotations": {
            ATTRIBUTES_ANNOTATION: (
                '[{"name":"type","required":true},{"name":"source","required":true},'
                '{"name":"specversion","required":true,"value":"1.0"},'
                '{"name":"id","required":true},'
                '{"name":"subject","required":false,"value":"{number}"},'
                '{"name":"dataschema"}]'
            )
        },
    }
    assert convert(got, V1BETA3) == templated


def test_reference_and_status_need_no_annotations() -> None:
    created = load(SOURCE_CREATED_V1BETA2)

    got = convert(created, V1BETA3)

    assert got["metadata"] == created["metadata"]
    assert got["status"] == created["status"]
    assert got["spec"]["reference"] == created["spec"]["reference"]
    assert "type" not in got["spec"]
    assert convert(got, V1BETA2) == created


def test_referenced_v1beta3_with_natural_attributes_needs_no_annotations() -> None:
    referenced = load(REFERENCED_V1BETA3)

    got = convert(referenced, V1BETA2)

    assert got == {
        "apiVersion": V1BETA2,
        "kind": "EventType",
        "metadata": referenced["metadata"],
        "spec": {
            "type": "dev.knative.sources.ping",
            "source": "/apis/v1/namespaces/team-a/pingsources/ping",
            "reference": referenced["spec"]["reference"],
        },
        "status": referenced["status"],
    }


def test_schema_data_travels_in_an_annotation() -> None:
    with_schema_data = load(SCHEMA_DATA_V1BETA2)

    got = convert(with_schema_data, V1BETA3)

    assert "schemaData" not in got["spec"]
    assert got["spec"]["reference"] == with_schema_data["spec"]["reference"]
    assert got["spec"]["description"] == "Commande créée 🛒"
    assert annotations_of(got) == {
        "example.com/team": "checkout",
        FIELDS_ANNOTATION: json.dumps(
            {"schemaData": with_schema_data["spec"]["schemaData"]},
            ensure_ascii=False,
            separators=(",", ":"),
        ),
    }
    assert got["spec"]["attributes"][-1] == {
        "name": "dataschema",
        "required": False,
        "value": "https://schemas.example.com/order-created.json",
    }
    assert convert(got, V1BETA2) == with_schema_data


def test_broker_given_with_a_reference_is_carried_not_derived() -> None:
    both = load(SOURCE_CREATED_V1BETA2)
    both["spec"]["broker"] = "other"

    got = convert(both, V1BETA3)

    assert got["spec"]["reference"] == both["spec"]["reference"]
    assert annotations_of(got) == {FIELDS_ANNOTATION: '{"broker":"other"}'}
    assert convert(got, V1BETA2) == both


def test_broker_given_as_reference_equal_to_the_derived_one_stays_a_reference() -> None:
    as_reference = load(SEED_V1BETA2)
    del as_reference["spec"]["broker"]
    as_reference["spec"]["reference"] = {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Broker",
        "name": "default",
    }
    as_broker = load(SEED_V1BETA2)

    from_reference = convert(as_reference, V1BETA3)
    from_broker = convert(as_broker, V1BETA3)

    assert from_reference["spec"] == from_broker["spec"]
    assert BROKER_ANNOTATION not in annotations_of(from_reference)
    assert convert(from_reference, V1BETA2) == as_reference
    assert convert(from_broker, V1BETA2) == as_broker


def test_empty_broker_is_not_a_reference() -> None:
    empty = load(SEED_V1BETA2)
    empty["spec"]["broker"] = ""

    got = convert(empty, V1BETA3)

    assert "reference" not in got["spec"]
    assert annotations_of(got) == {FIELDS_ANNOTATION: '{"broker":""}'}
    assert convert(got, V1BETA2) == empty


def test_v1beta1_and_v1beta2_differ_only_in_api_version() -> None:
    seed1 = load(SEED_V1BETA1)

    got = convert(seed1, V1BETA2)

    assert got == {**seed1, "apiVersion": V1BETA2}
    assert convert(got, V1BETA1) == seed1


def test_v1beta1_converts_to_v1beta3_like_v1beta2() -> None:
    seed1 = load(SEED_V1BETA1)
    seed2 = {**copy.deepcopy(seed1), "apiVersion": V1BETA2}

    assert convert(seed1, V1BETA3) == convert(seed2, V1BETA3)
    assert convert(convert(seed1, V1BETA3), V1BETA1) == seed1


def test_knative_schemadata_attribute_is_read_as_the_schema() -> None:
    knative = load(REFERENCED_V1BETA3)
    knative["spec"]["attributes"].append(
        {"name": "schemadata", "required": False, "value": "https://example.com/ping.json"}
    )

    got = convert(knative, V1BETA2)

    assert got["spec"]["schema"] == "https://example.com/ping.json"
    assert convert(got, V1BETA3) == knative


def test_dataschema_wins_over_schemadata() -> None:
    both = load(TEMPLATED_V1BETA3)
    both["spec"]["attributes"].insert(0, {"name": "schemadata", "value": "urn:other"})

    got = convert(both, V1BETA2)

    assert got["spec"]["schema"] == "https://github.com/schemas/pull_request.json"
    assert convert(got, V1BETA3) == both


def test_v1beta3_without_attributes_round_trips() -> None:
    bare = load(REFERENCED_V1BETA3)
    del bare["spec"]["attributes"]

    got = convert(bare, V1BETA2)

    assert annotations_of(got) == {ATTRIBUTES_ANNOTATION: "null"}
    assert convert(got, V1BETA3) == bare


def test_object_without_spec_round_trips() -> None:
    no_spec = load(SEED_V1BETA2)
    del no_spec["spec"]

    got = convert(no_spec, V1BETA3)

    assert "spec" not in got
    assert convert(got, V1BETA2) == no_spec


def test_unknown_spec_fields_are_copied() -> None:
    seed = load(SEED_V1BETA2)
    seed["spec"]["x-extension"] = {"keep": ["me"]}

    got = convert(seed, V1BETA3)

    assert got["spec"]["x-extension"] == {"keep": ["me"]}
    assert convert(got, V1BETA2) == seed


def test_broker_annotation_contradicting_the_reference_is_dropped() -> None:
    referenced = load(REFERENCED_V1BETA3)
    referenced["metadata"]["annotations"] = {BROKER_ANNOTATION: "default"}

    got = convert(referenced, V1BETA2)

    assert "broker" not in got["spec"]
    assert got["spec"]["reference"] == referenced["spec"]["reference"]
    assert "annotations" not in got["metadata"]


@pytest.mark.parametrize(
    "stored",
    ["not json", "{}", '[{"name": "id"}]', "42"],
    ids=["malformed", "object", "missing-native", "number"],
)
def test_attributes_annotation_that_does_not_apply_is_dropped(stored: str) -> None:
    seed = load(SEED_V1BETA2)
    seed["metadata"]["annotations"] = {ATTRIBUTES_ANNOTATION: stored}
    plain = load(SEED_V1BETA2)

    assert convert(seed, V1BETA3) == convert(plain, V1BETA3)


@pytest.mark.parametrize(
    "stored", ["not json", "[]", '{"schema": "x"}'], ids=["malformed", "list", "unknown-field"]
)
def test_fields_annotation_that_does_not_apply_is_dropped(stored: str) -> None:
    referenced = load(REFERENCED_V1BETA3)
    plain = convert(referenced, V1BETA2)
    referenced["metadata"]["annotations"] = {FIELDS_ANNOTATION: stored}

    assert convert(referenced, V1BETA2) == plain


def test_empty_annotations_map_left_behind_is_removed() -> None:
    converted = convert(load(SEED_V1BETA2), V1BETA3)
    assert set(annotations_of(converted)) == {BROKER_ANNOTATION}

    back = convert(converted, V1BETA2)

    assert "annotations" not in back["metadata"]


def test_result_shares_nothing_with_the_input() -> None:
    referenced = load(REFERENCED_V1BETA3)
    before = copy.deepcopy(referenced)

    for target in API_VERSIONS:
        got = convert_eventtype(referenced, target)
        got["spec"]["reference"]["name"] = "changed"
        got["status"]["conditions"].clear()
        got["metadata"]["name"] = "changed"

    assert referenced == before


# --- every fixture, every pair of versions ------------------------------------------------------


@pytest.mark.parametrize("target", API_VERSIONS)
@pytest.mark.parametrize("fixture", FIXTURES)
def test_every_pair_of_versions(fixture: str, target: str) -> None:
    original = load(FIXTURES[fixture])

    got = convert(original, target)

    assert got["apiVersion"] == target
    assert got["kind"] == "EventType"
    assert got.get("status") == original.get("status")
    assert metadata_without_reserved(got) == metadata_without_reserved(original)
    assert_reserved_keys_owned(got)
    if target == V1BETA3:
        assert_knative_valid_v1beta3(got)
    else:
        assert "attributes" not in got["spec"]
    if target == original["apiVersion"]:
        assert got == original
    assert convert(got, original["apiVersion"]) == original


@pytest.mark.parametrize("fixture", FIXTURES)
def test_every_path_through_all_versions_comes_back(fixture: str) -> None:
    original = load(FIXTURES[fixture])
    for path in itertools.permutations(API_VERSIONS):
        current = original
        for version in (*path, original["apiVersion"]):
            current = convert(current, version)
        assert current == original, path


@pytest.mark.parametrize("fixture", FIXTURES)
def test_unknown_target_version_is_rejected(fixture: str) -> None:
    with pytest.raises(ValueError, match=re.escape("eventing.knative.dev/v1")):
        convert_eventtype(load(FIXTURES[fixture]), "eventing.knative.dev/v1")


@pytest.mark.parametrize("api_version", ["eventing.knative.dev/v1alpha1", "v1", None])
def test_unknown_source_version_is_rejected(api_version: str | None) -> None:
    obj = load(SEED_V1BETA2)
    obj["apiVersion"] = api_version
    with pytest.raises(ValueError, match="apiVersion"):
        convert_eventtype(obj, V1BETA3)


# --- properties ---------------------------------------------------------------------------------

texts = st.text(max_size=24)
dns_names = st.from_regex(r"[a-z0-9]([-a-z0-9]{0,12}[a-z0-9])?", fullmatch=True)
uris = st.sampled_from(
    ["github.com", "/apis/v1/namespaces/default/pingsources/p", "urn:example:x", ""]
) | st.builds("https://{}.example.com/{}".format, dns_names, texts)
templates = st.builds("{}{{{}}}{}".format, texts, dns_names, texts)
attribute_values = texts | uris | templates

references = st.fixed_dictionaries(
    {},
    optional={
        "apiVersion": st.sampled_from(
            ["eventing.knative.dev/v1", "messaging.knative.dev/v1", "sources.knative.dev/v1"]
        ),
        "kind": st.sampled_from(["Broker", "InMemoryChannel", "Channel"]),
        "name": dns_names,
        "namespace": dns_names,
        "address": dns_names,
    },
)
annotation_keys = st.sampled_from(
    [
        "example.com/owner",
        "registry.knative.dev/eventTypes",
        "kubectl.kubernetes.io/last-applied-configuration",
        "eventing.knative.dev/creator",
    ]
) | dns_names.filter(lambda key: key not in RESERVED)
metadatas = st.fixed_dictionaries(
    {"name": dns_names, "namespace": dns_names},
    optional={
        "uid": st.uuids().map(str),
        "generation": st.integers(1, 100),
        "labels": st.dictionaries(dns_names, dns_names, min_size=1, max_size=3),
        "annotations": st.dictionaries(annotation_keys, texts, min_size=1, max_size=3),
    },
)
conditions = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["Ready", "ReferenceExists"]),
        "status": st.sampled_from(["True", "False", "Unknown"]),
    },
    optional={
        "reason": st.sampled_from(
            ["ResourceDoesNotExist", "ReferenceNotSet", "ReferenceGetFailed", "BrokerIsNotReady"]
        ),
        "message": texts,
        "severity": st.sampled_from(["Error", "Warning", "Info"]),
        "lastTransitionTime": st.just("2024-05-02T10:00:05Z"),
    },
)
statuses = st.fixed_dictionaries(
    {},
    optional={
        "observedGeneration": st.integers(0, 100),
        "conditions": st.lists(conditions, max_size=3),
        "annotations": st.dictionaries(dns_names, texts, max_size=2),
    },
)

v1beta2_specs = st.fixed_dictionaries(
    {},
    optional={
        "type": texts,
        "source": uris,
        "schema": uris,
        "schemaData": texts,
        "broker": dns_names | st.just(""),
        "reference": references,
        "description": texts,
    },
)


def attributes_named(names: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"name": names}, optional={"required": st.booleans(), "value": attribute_values}
    )


@st.composite
def attribute_lists(draw: st.DrawFn) -> list[dict[str, Any]]:
    required = [draw(attributes_named(st.just(name))) for name in sorted(REQUIRED_ATTRIBUTES)]
    extra_names = (
        st.sampled_from(
            ["subject", "datacontenttype", "dataschema", "schemadata", "time", "type", "id"]
        )
        | dns_names
    )
    extras = draw(st.lists(attributes_named(extra_names), max_size=4))
    return draw(st.permutations(required + extras))


v1beta3_specs = st.fixed_dictionaries(
    {"attributes": attribute_lists()},
    optional={"reference": references, "description": texts},
)
v1beta2_objects = st.fixed_dictionaries(
    {
        "apiVersion": st.sampled_from([V1BETA1, V1BETA2]),
        "kind": st.just("EventType"),
        "metadata": metadatas,
        "spec": v1beta2_specs,
    },
    optional={"status": statuses},
)
v1beta3_objects = st.fixed_dictionaries(
    {
        "apiVersion": st.just(V1BETA3),
        "kind": st.just("EventType"),
        "metadata": metadatas,
        "spec": v1beta3_specs,
    },
    optional={"status": statuses},
)
any_objects = v1beta2_objects | v1beta3_objects
old_versions = st.sampled_from([V1BETA1, V1BETA2])


@given(v1beta2_objects, old_versions)
def test_v1beta2_round_trips_through_v1beta3(obj: dict[str, Any], back: str) -> None:
    there = convert(obj, V1BETA3)

    assert_knative_valid_v1beta3(there)
    assert_reserved_keys_owned(there)
    assert convert(there, obj["apiVersion"]) == obj
    assert convert(there, back) == {**obj, "apiVersion": back}


@given(v1beta3_objects, old_versions)
def test_v1beta3_round_trips_through_v1beta2(obj: dict[str, Any], via: str) -> None:
    there = convert(obj, via)

    assert_reserved_keys_owned(there)
    assert "attributes" not in there["spec"]
    assert convert(there, V1BETA3) == obj


@given(any_objects, st.lists(st.sampled_from(API_VERSIONS), max_size=5))
def test_any_conversion_path_comes_back(obj: dict[str, Any], path: list[str]) -> None:
    current = obj
    for version in path:
        current = convert(current, version)
        assert current["apiVersion"] == version
        assert current.get("status") == obj.get("status")
        assert metadata_without_reserved(current) == metadata_without_reserved(obj)
        assert_reserved_keys_owned(current)
    assert convert(current, obj["apiVersion"]) == obj


@given(any_objects, st.sampled_from(API_VERSIONS))
def test_converted_objects_round_trip_too(obj: dict[str, Any], target: str) -> None:
    converted = convert(obj, target)
    for other in API_VERSIONS:
        assert convert(convert(converted, other), target) == converted


@given(any_objects)
def test_same_version_is_an_unchanged_copy(obj: dict[str, Any]) -> None:
    got = convert(obj, obj["apiVersion"])
    assert got == obj


@given(v1beta3_objects, old_versions)
def test_natively_expressible_attributes_stay_native(obj: dict[str, Any], target: str) -> None:
    got = convert(obj, target)

    by_name: dict[str, dict[str, Any]] = {}
    for attribute in obj["spec"]["attributes"]:
        by_name.setdefault(attribute["name"], attribute)
    schema_attribute = by_name.get("dataschema", by_name.get("schemadata", {}))
    for field, attribute in (
        ("type", by_name["type"]),
        ("source", by_name["source"]),
        ("schema", schema_attribute),
    ):
        assert got["spec"].get(field) == attribute.get("value")
        assert (field in got["spec"]) == ("value" in attribute)


@given(v1beta2_objects)
def test_v1beta2_fields_become_v1beta3_attributes(obj: dict[str, Any]) -> None:
    spec = obj["spec"]

    attributes = convert(obj, V1BETA3)["spec"]["attributes"]

    by_name = {attribute["name"]: attribute for attribute in attributes}
    assert [a["name"] for a in attributes[:4]] == ["specversion", "id", "type", "source"]
    assert all(attribute["required"] for attribute in attributes[:4])
    assert "value" not in by_name["specversion"]
    assert "value" not in by_name["id"]
    assert by_name["type"].get("value") == spec.get("type")
    assert by_name["source"].get("value") == spec.get("source")
    if "schema" in spec:
        assert attributes[4:] == [
            {"name": "dataschema", "required": False, "value": spec["schema"]}
        ]
    else:
        assert attributes[4:] == []


@given(v1beta2_objects, dns_names)
def test_broker_only_survives_as_a_broker_reference(obj: dict[str, Any], broker: str) -> None:
    obj["spec"].pop("reference", None)
    obj["spec"]["broker"] = broker

    got = convert(obj, V1BETA3)

    assert got["spec"]["reference"] == {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Broker",
        "name": broker,
    }
    assert annotations_of(got)[BROKER_ANNOTATION] == broker
    assert convert(got, V1BETA2) == {**obj, "apiVersion": V1BETA2}
