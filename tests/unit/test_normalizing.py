"""Unit tests for event_registry.domain.normalizing (and the models' derived properties)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from event_registry.domain import models, normalizing

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "knative"
FIXTURE_FILES = (
    "namespace-v1.yaml",
    "broker-v1.yaml",
    "eventtype-v1beta1.yaml",
    "eventtype-v1beta2.yaml",
    "eventtype-v1beta3.yaml",
    "trigger-v1.yaml",
)
V1BETA1 = "eventing.knative.dev/v1beta1"
V1BETA2 = "eventing.knative.dev/v1beta2"
V1BETA3 = "eventing.knative.dev/v1beta3"


def load(filename: str) -> list[dict[str, Any]]:
    with (FIXTURES / filename).open() as stream:
        return [doc for doc in yaml.safe_load_all(stream) if doc]


def fixture(filename: str, name: str, namespace: str | None = None) -> dict[str, Any]:
    for doc in load(filename):
        meta = doc["metadata"]
        if meta["name"] == name and (namespace is None or meta.get("namespace") == namespace):
            return doc
    raise LookupError(f"{name} not in {filename}")


ALL_DOCUMENTS = [
    pytest.param(doc, id=f"{filename}:{doc['metadata']['name']}")
    for filename in FIXTURE_FILES
    for doc in load(filename)
]
Model = models.Namespace | models.Broker | models.EventType | models.Trigger


def normalize(raw: dict[str, Any]) -> Model:
    kind = raw["kind"]
    if kind == "Namespace":
        return normalizing.namespace(raw)
    if kind == "Broker":
        return normalizing.broker(raw)
    if kind == "EventType":
        return normalizing.event_type(raw)
    assert kind == "Trigger"
    return normalizing.trigger(raw)


def event_type(
    spec: dict[str, Any], api_version: str = V1BETA2, **metadata: Any
) -> models.EventType:
    meta = {"name": "et", "namespace": "default", **metadata}
    return normalizing.event_type(
        {"apiVersion": api_version, "kind": "EventType", "metadata": meta, "spec": spec}
    )


BROKER_REF = {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker", "name": "default"}


# every fixture -------------------------------------------------------------------------------


def test_fixture_files_hold_every_served_version() -> None:
    versions = {doc["apiVersion"] for name in FIXTURE_FILES for doc in load(name)}
    assert {V1BETA1, V1BETA2, V1BETA3, "eventing.knative.dev/v1", "v1"} <= versions


@pytest.mark.parametrize("raw", ALL_DOCUMENTS)
def test_every_fixture_normalizes(raw: dict[str, Any]) -> None:
    before = copy.deepcopy(raw)
    model = normalize(raw)
    assert raw == before, "normalizing must not mutate the raw object"
    assert model.meta.name == raw["metadata"]["name"]
    assert model.meta.namespace == raw["metadata"].get("namespace", "")
    assert model.meta.resource_version == raw["metadata"]["resourceVersion"]
    assert model.meta.created_at == raw["metadata"]["creationTimestamp"]
    assert model.meta.uid == raw["metadata"]["uid"]
    if isinstance(model, models.Namespace):
        assert model.phase == "Active"
        return
    conditions = raw["status"]["conditions"]
    assert [c.type for c in model.status.conditions] == [c["type"] for c in conditions]
    assert model.status.observed_generation == raw["status"]["observedGeneration"]
    ready = model.status.condition("Ready")
    assert ready is not None
    assert ready.last_transition_time != ""


@pytest.mark.parametrize("raw", ALL_DOCUMENTS)
def test_models_are_frozen(raw: dict[str, Any]) -> None:
    model = normalize(raw)
    with pytest.raises(AttributeError):
        model.meta = model.meta  # type: ignore[misc]
    with pytest.raises(TypeError):
        model.meta.labels["new"] = "value"  # type: ignore[index]


def test_conditions_keep_every_field() -> None:
    broker = normalizing.broker(fixture("broker-v1.yaml", "dev"))
    ingress = broker.status.condition("IngressReady")
    assert ingress == models.Condition(
        type="IngressReady",
        status="False",
        reason="EndpointsUnavailable",
        message='Endpoints "broker-ingress" is unavailable.',
        last_transition_time="2024-05-01T09:10:01Z",
    )
    addressable = broker.status.condition("Addressable")
    assert addressable is not None
    assert addressable.status == "Unknown"
    dls = normalizing.broker(fixture("broker-v1.yaml", "default", "default")).status.condition(
        "DeadLetterSinkResolved"
    )
    assert dls is not None
    assert dls.severity == "Info"
    assert dls.reason == "DeadLetterSinkNotConfigured"


def test_condition_without_status_reads_unknown() -> None:
    status = normalizing.status({"status": {"conditions": [{"type": "Ready"}]}})
    assert status.conditions == (models.Condition(type="Ready", status="Unknown"),)


# brokers and namespaces ------------------------------------------------------------------------


def test_broker_fields() -> None:
    ready = normalizing.broker(fixture("broker-v1.yaml", "default", "default"))
    assert ready.broker_class == "MTChannelBasedBroker"
    assert ready.url == "http://broker-ingress.knative-eventing.svc.cluster.local/default/default"
    assert ready.config == models.Reference(
        api_version="v1",
        kind="ConfigMap",
        name="config-br-default-channel",
        namespace="knative-eventing",
    )
    assert ready.meta.generation == 1
    not_ready = normalizing.broker(fixture("broker-v1.yaml", "dev"))
    assert not_ready.url is None


def test_broker_without_class_or_address() -> None:
    broker = normalizing.broker({"metadata": {"name": "b", "namespace": "ns"}})
    assert broker.broker_class == ""
    assert broker.url is None
    assert broker.config is None
    assert broker.status == models.Status()


def test_namespace_phase() -> None:
    terminating = normalizing.namespace(
        {"metadata": {"name": "old"}, "status": {"phase": "Terminating"}}
    )
    assert terminating.phase == "Terminating"
    assert terminating.name == "old"
    assert normalizing.namespace({"metadata": {"name": "new"}}).phase == "Active"


# EventTypes: fields of every version -----------------------------------------------------------


def test_v1beta3_attributes_give_type_source_and_schema() -> None:
    model = normalizing.event_type(fixture("eventtype-v1beta3.yaml", "com.example.order.created"))
    assert model.api_version == V1BETA3
    assert model.type == "com.example.order.created"
    assert model.source == "https://shop.example.com/orders"
    assert model.schema == "https://schemas.example.com/order-created.json"
    assert model.description == "An order was placed in the shop"
    assert model.broker_name is None
    assert [(a.name, a.value, a.required) for a in model.attributes] == [
        ("type", "com.example.order.created", True),
        ("source", "https://shop.example.com/orders", True),
        ("specversion", "1.0", True),
        ("id", "", True),
        ("dataschema", "https://schemas.example.com/order-created.json", False),
        ("datacontenttype", "application/json", False),
        ("tenant", "{tenant}", False),
    ]
    tenant = model.attribute("tenant")
    assert tenant is not None
    assert tenant.is_template
    type_attribute = model.attribute("type")
    assert type_attribute is not None
    assert not type_attribute.is_template
    assert model.attribute("subject") is None


def test_v1beta3_without_dataschema_has_no_schema() -> None:
    model = normalizing.event_type(
        fixture("eventtype-v1beta3.yaml", "com.example.payment.refunded")
    )
    assert model.type == "com.example.payment.refunded"
    assert model.source == "https://payments.example.com"
    assert model.schema is None
    assert model.reference is None


def test_v1beta3_empty_attribute_values_read_as_absent() -> None:
    model = event_type(
        {"attributes": [{"name": "type", "value": "t"}, {"name": "source", "value": ""}]},
        V1BETA3,
    )
    assert model.type == "t"
    assert model.source is None


def test_v1beta3_ignores_deprecated_fields_next_to_attributes() -> None:
    model = event_type(
        {"type": "old", "source": "old-source", "attributes": [{"name": "type", "value": "new"}]},
        V1BETA3,
    )
    assert model.type == "new"
    assert model.source is None


def test_v1beta2_fields_give_attributes() -> None:
    model = normalizing.event_type(fixture("eventtype-v1beta2.yaml", "com.github.pullrequest"))
    assert model.api_version == V1BETA2
    assert model.type == "com.github.pull_request"
    assert model.source == "github.com"
    assert model.schema == "//github.com/schemas/pull_request"
    assert model.description == "GitHub pull request"
    assert model.attributes == (
        models.Attribute("type", "com.github.pull_request", required=True),
        models.Attribute("source", "github.com", required=True),
        models.Attribute("dataschema", "//github.com/schemas/pull_request", required=True),
    )


def test_v1beta2_attributes_only_for_fields_that_are_set() -> None:
    model = normalizing.event_type(
        fixture("eventtype-v1beta2.yaml", "dev.knative.source.github.push-34cnb")
    )
    assert [a.name for a in model.attributes] == ["type", "source"]
    assert model.schema is None
    assert event_type({}).attributes == ()


def test_v1beta1_fields() -> None:
    model = normalizing.event_type(fixture("eventtype-v1beta1.yaml", "com.github.issues"))
    assert model.api_version == V1BETA1
    assert model.type == "com.github.issues"
    assert model.schema == "https://github.com/schemas/issues.json"
    assert model.schema_data == '{"type": "object"}'
    assert model.attribute("dataschema") == models.Attribute(
        "dataschema", "https://github.com/schemas/issues.json", required=True
    )


def test_labels_and_annotations_are_strings() -> None:
    model = event_type({"type": "t"}, labels={"a": "1", "n": 2}, annotations={"x": True})
    assert dict(model.meta.labels) == {"a": "1", "n": "2"}
    assert dict(model.meta.annotations) == {"x": "True"}
    assert event_type({"type": "t"}).meta.labels == {}


# broker resolution --------------------------------------------------------------------------------


def test_broker_from_spec_broker() -> None:
    model = normalizing.event_type(fixture("eventtype-v1beta2.yaml", "com.github.pullrequest"))
    assert model.broker_name == "default"
    assert model.reference is None
    assert model.broker == "default"
    seed = normalizing.event_type(fixture("eventtype-v1beta1.yaml", "org.bitbucket.repofork"))
    assert seed.broker == "dev"


@pytest.mark.parametrize(
    ("filename", "name"),
    [
        ("eventtype-v1beta1.yaml", "com.github.issues"),
        ("eventtype-v1beta2.yaml", "dev.knative.samples.heartbeat"),
        ("eventtype-v1beta2.yaml", "dev.knative.source.github.push-34cnb"),
        ("eventtype-v1beta3.yaml", "com.example.order.created"),
    ],
)
def test_broker_from_broker_reference(filename: str, name: str) -> None:
    model = normalizing.event_type(fixture(filename, name))
    assert model.reference is not None
    assert model.reference.kind == "Broker"
    assert model.reference.group == "eventing.knative.dev"
    assert model.broker == "default"


def test_reference_keeps_every_field() -> None:
    model = normalizing.event_type(
        fixture("eventtype-v1beta2.yaml", "dev.knative.samples.heartbeat")
    )
    assert model.reference == models.Reference(
        api_version="eventing.knative.dev/v1", kind="Broker", name="default", namespace="default"
    )


def test_broker_reference_in_same_namespace_resolves() -> None:
    model = event_type({"type": "t", "reference": {**BROKER_REF, "namespace": "default"}})
    assert model.broker == "default"


@pytest.mark.parametrize(
    "reference",
    [
        pytest.param({**BROKER_REF, "namespace": "other"}, id="broker-in-another-namespace"),
        pytest.param(
            {
                "apiVersion": "messaging.knative.dev/v1",
                "kind": "InMemoryChannel",
                "name": "default",
            },
            id="channel",
        ),
        pytest.param(
            {"apiVersion": "sources.knative.dev/v1", "kind": "PingSource", "name": "ping"},
            id="source",
        ),
        pytest.param(
            {"apiVersion": "example.com/v1", "kind": "Broker", "name": "default"},
            id="broker-of-another-group",
        ),
        pytest.param({"kind": "Broker", "name": "default"}, id="broker-without-apiVersion"),
    ],
)
def test_reference_that_is_not_a_local_broker_resolves_to_none(reference: dict[str, str]) -> None:
    model = event_type({"type": "t", "reference": reference})
    assert model.reference is not None
    assert model.broker is None


def test_reference_to_non_broker_overrides_spec_broker() -> None:
    model = event_type(
        {
            "type": "t",
            "broker": "default",
            "reference": {
                "apiVersion": "messaging.knative.dev/v1",
                "kind": "InMemoryChannel",
                "name": "orders",
            },
        }
    )
    assert model.broker_name == "default"
    assert model.broker is None


def test_broker_reference_wins_over_spec_broker() -> None:
    model = event_type({"type": "t", "broker": "old", "reference": {**BROKER_REF, "name": "new"}})
    assert model.broker == "new"


def test_no_broker_at_all() -> None:
    assert event_type({"type": "t"}).broker is None
    model = normalizing.event_type(
        fixture("eventtype-v1beta3.yaml", "com.example.payment.refunded")
    )
    assert model.broker is None


def test_reference_without_name_reads_as_absent() -> None:
    model = event_type({"type": "t", "broker": "default", "reference": {"kind": "Broker"}})
    assert model.reference is None
    assert model.broker == "default"


# owner -------------------------------------------------------------------------------------------


def test_owner_from_controller_owner_reference() -> None:
    model = normalizing.event_type(
        fixture("eventtype-v1beta2.yaml", "dev.knative.source.github.push-34cnb")
    )
    assert model.meta.owner == models.Reference(
        api_version="sources.knative.dev/v1alpha1", kind="GitHubSource", name="github-source-sample"
    )
    assert model.meta.labels["eventing.knative.dev/sourceName"] == "github-source-sample"


def test_owner_is_the_controller_among_several() -> None:
    owners = [
        {"apiVersion": "v1", "kind": "ConfigMap", "name": "bystander", "uid": "1"},
        {"apiVersion": "v1", "kind": "ConfigMap", "name": "not-controller", "controller": False},
        {
            "apiVersion": "sources.knative.dev/v1",
            "kind": "PingSource",
            "name": "ping",
            "controller": True,
        },
    ]
    model = event_type({"type": "t"}, ownerReferences=owners)
    assert model.meta.owner is not None
    assert model.meta.owner.name == "ping"
    assert model.meta.owner.namespace == ""


def test_no_owner_without_a_controller() -> None:
    owners = [{"apiVersion": "v1", "kind": "ConfigMap", "name": "cm", "uid": "1"}]
    assert event_type({"type": "t"}, ownerReferences=owners).meta.owner is None
    model = normalizing.event_type(fixture("eventtype-v1beta2.yaml", "com.github.pullrequest"))
    assert model.meta.owner is None


def test_deleting_from_deletion_timestamp() -> None:
    assert event_type({"type": "t"}, deletionTimestamp="2024-05-05T00:00:00Z").meta.deleting
    assert not event_type({"type": "t"}).meta.deleting


# Triggers ------------------------------------------------------------------------------------


def test_trigger_with_legacy_filter() -> None:
    model = normalizing.trigger(fixture("trigger-v1.yaml", "my-service-trigger"))
    assert model.broker == "default"
    assert model.broker_ref is None
    assert dict(model.filter_attributes) == {
        "type": "dev.knative.source.github.push",
        "source": "github.com",
    }
    assert model.filters == ()
    assert model.subscriber == models.Destination(
        ref=models.Reference("serving.knative.dev/v1", "Service", "my-service")
    )
    assert model.subscriber_uri == "http://my-service.default.svc.cluster.local"
    assert model.meta.labels["eventing.knative.dev/broker"] == "default"


def test_trigger_legacy_filter_keeps_empty_values() -> None:
    model = normalizing.trigger(fixture("trigger-v1.yaml", "pull-requests"))
    assert dict(model.filter_attributes) == {"type": "com.github.pull_request", "source": ""}
    assert model.subscriber == models.Destination(uri="http://pr-bot.tools.svc.cluster.local/hooks")


def test_trigger_filters_are_frozen_as_written() -> None:
    model = normalizing.trigger(fixture("trigger-v1.yaml", "github-but-issues"))
    assert model.filters == (
        {
            "all": (
                {"suffix": {"source": "github.com"}},
                {"not": {"exact": {"type": "com.github.issues"}}},
            )
        },
    )
    first: Any = model.filters[0]
    with pytest.raises(TypeError):
        first["any"] = ()


def test_trigger_with_subscriber_ref_and_uri() -> None:
    model = normalizing.trigger(fixture("trigger-v1.yaml", "github-prefix"))
    assert model.subscriber.ref == models.Reference("v1", "Service", "github-archiver")
    assert model.subscriber.uri == "/github"


def test_trigger_not_ready_has_no_subscriber_uri() -> None:
    model = normalizing.trigger(fixture("trigger-v1.yaml", "cesql-github"))
    assert model.subscriber_uri is None
    assert model.filters == ({"cesql": "type LIKE 'com.github.%' AND source = 'github.com'"},)


def test_trigger_broker_from_broker_ref() -> None:
    model = normalizing.trigger(
        {
            "metadata": {"name": "t", "namespace": "ns"},
            "spec": {
                "brokerRef": {**BROKER_REF, "name": "mine"},
                "subscriber": {"uri": "http://x"},
            },
        }
    )
    assert model.broker == "mine"
    assert model.broker_ref == models.Reference("eventing.knative.dev/v1", "Broker", "mine")


def test_trigger_without_broker() -> None:
    model = normalizing.trigger({"metadata": {"name": "t", "namespace": "ns"}, "spec": {}})
    assert model.broker == ""
    assert model.subscriber == models.Destination()


# malformed optional fields read as absent -----------------------------------------------------


@pytest.mark.parametrize(
    "spec",
    [
        {"type": "t", "source": 5, "schema": ["x"], "description": {}, "broker": 7},
        {"type": "t", "source": "", "schema": "", "description": "", "broker": ""},
        {"type": "t", "schemaData": 12, "reference": "default"},
        {"type": "t", "reference": ["Broker"]},
        {"type": "t", "reference": {"name": ""}},
        {"type": "t", "reference": None, "source": None},
    ],
)
def test_malformed_optional_event_type_fields_read_as_absent(spec: dict[str, Any]) -> None:
    model = event_type(spec)
    assert model.type == "t"
    assert model.source is None
    assert model.schema is None
    assert model.schema_data is None
    assert model.description is None
    assert model.broker_name is None
    assert model.reference is None
    assert model.broker is None


def test_malformed_attribute_entries_are_dropped() -> None:
    model = event_type(
        {
            "attributes": [
                "type",
                None,
                {"value": "no-name"},
                {"name": "", "value": "empty-name"},
                {"name": "type", "value": "t", "required": "yes"},
            ]
        },
        V1BETA3,
    )
    assert model.attributes == (models.Attribute("type", "t", required=True),)
    assert model.type == "t"


def test_malformed_metadata_maps_read_as_empty() -> None:
    model = event_type(
        {"type": "t"},
        labels=["a", "b"],
        annotations="x",
        ownerReferences=["controller", {"controller": True}],
    )
    assert model.meta.labels == {}
    assert model.meta.annotations == {}
    assert model.meta.owner is None


def test_malformed_conditions_are_dropped() -> None:
    status = normalizing.status(
        {"status": {"conditions": ["Ready", None, {"status": "True"}, {"type": "Ready"}]}}
    )
    assert [c.type for c in status.conditions] == ["Ready"]


def test_malformed_broker_and_trigger_fields_read_as_absent() -> None:
    broker = normalizing.broker(
        {"metadata": {"name": "b"}, "status": {"address": "http://x"}, "spec": {"config": "cm"}}
    )
    assert broker.url is None
    assert broker.config is None
    trigger = normalizing.trigger(
        {
            "metadata": {"name": "t"},
            "spec": {
                "broker": 3,
                "brokerRef": "default",
                "subscriber": "http://x",
                "filter": {"attributes": ["type"]},
                "filters": {"exact": {"type": "t"}},
            },
        }
    )
    assert trigger.broker == ""
    assert trigger.broker_ref is None
    assert trigger.subscriber == models.Destination()
    assert trigger.filter_attributes == {}
    assert trigger.filters == ()
    dropped = normalizing.trigger(
        {"metadata": {"name": "t"}, "spec": {"filters": ["exact", {"exact": {"type": "t"}}]}}
    )
    assert dropped.filters == ({"exact": {"type": "t"}},)


def test_missing_everything() -> None:
    for kind in ("Namespace", "Broker", "EventType", "Trigger"):
        model = normalize({"kind": kind})
        assert model.meta == models.Meta(namespace="", name="")


# property: random shapes never raise ------------------------------------------------------------

SCALARS = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
)
JSON = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=12,
)
FIELD_NAMES = st.sampled_from(
    ["name", "namespace", "apiVersion", "kind", "type", "source", "value", "required", "controller"]
)
ANY_MAPPING = st.dictionaries(FIELD_NAMES | st.text(max_size=6), JSON, max_size=5)
ANY_LIST = st.lists(JSON | ANY_MAPPING, max_size=4)


def _optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


def _object(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """A mapping holding any subset of ``fields`` (each possibly null) plus stray keys."""
    return st.fixed_dictionaries({}, optional={k: _optional(v) for k, v in fields.items()}).flatmap(
        lambda known: ANY_MAPPING.map(lambda extra: {**extra, **known})
    )


METADATA = _object(
    {
        "name": JSON,
        "namespace": JSON,
        "uid": JSON,
        "resourceVersion": JSON,
        "generation": st.integers(min_value=0),
        "creationTimestamp": JSON,
        "deletionTimestamp": JSON,
        "labels": JSON | ANY_MAPPING,
        "annotations": JSON | ANY_MAPPING,
        "ownerReferences": ANY_LIST,
    }
)
STATUS = _object(
    {
        "observedGeneration": st.integers(min_value=0),
        "conditions": ANY_LIST,
        "address": JSON | ANY_MAPPING,
        "subscriberUri": JSON,
        "phase": JSON,
    }
)
SPEC = _object(
    {
        "type": JSON,
        "source": JSON,
        "schema": JSON,
        "schemaData": JSON,
        "description": JSON,
        "broker": JSON,
        "brokerRef": JSON | ANY_MAPPING,
        "reference": JSON | ANY_MAPPING,
        "attributes": JSON | ANY_LIST,
        "config": JSON | ANY_MAPPING,
        "filter": _object({"attributes": JSON | ANY_MAPPING}),
        "filters": JSON | ANY_LIST,
        "subscriber": JSON | _object({"ref": JSON | ANY_MAPPING, "uri": JSON}),
    }
)
OBJECTS = _object(
    {"apiVersion": JSON, "kind": JSON, "metadata": METADATA, "spec": SPEC, "status": STATUS}
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=OBJECTS)
def test_random_shapes_with_object_containers_never_raise(raw: dict[str, Any]) -> None:
    """Containers are objects/arrays (as the API server's structural schema guarantees);
    everything inside them, and every scalar field, is arbitrary."""
    for model in (
        normalizing.namespace(raw),
        normalizing.broker(raw),
        normalizing.event_type(raw),
        normalizing.trigger(raw),
    ):
        assert isinstance(model.meta.name, str)
        assert isinstance(model.meta.labels.get("x", ""), str)
    et = normalizing.event_type(raw)
    for value in (et.source, et.schema, et.schema_data, et.description, et.broker_name):
        assert value is None or (isinstance(value, str) and value != "")
    assert isinstance(et.type, str)
    assert et.broker is None or isinstance(et.broker, str)
    assert all(isinstance(a.name, str) and a.name for a in et.attributes)
