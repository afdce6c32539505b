"""Knative admission rules through HTTP, as kubectl users meet them: Knative's webhook refusal.

The rule logic is unit-tested in tests/unit/test_knative_admission.py; this checks that each
rule reaches a real client as kube-apiserver relays a refusal of Knative's webhook (400,
``admission webhook "validation.webhook.eventing.knative.dev" denied the request: validation
failed: <message>: <field>``), and that nothing is written. Broker defaults from
``config-br-defaults`` are followed through kubectl too.
The cross-namespace rule is followed through kubectl turning Knative's
``cross-namespace-event-links`` flag on and off, and through the GraphQL mutations of a real
``event-registry serve`` (a second process, started only for those tests).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping

import pytest
import yaml

from tests.support.controlplane import ControlPlaneProcess, knative_crd, manifest
from tests.support.registry import Json, RegistryProcess, broker_reference, data_of, eventually

ET = "eventtypes.v1beta2.eventing.knative.dev"


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlaneProcess]:
    process = ControlPlaneProcess(tmp_path_factory.mktemp("admission"), "--no-controllers").start()
    try:
        process.kubectl("create", "namespace", "adm", check=True)
        yield process
    finally:
        process.stop()


def eventtype(name: str, **spec: object) -> dict[str, object]:
    return {
        "apiVersion": "eventing.knative.dev/v1beta2",
        "kind": "EventType",
        "metadata": {"name": name, "namespace": "adm"},
        "spec": spec,
    }


def trigger(name: str, **spec: object) -> dict[str, object]:
    return {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Trigger",
        "metadata": {"name": name, "namespace": "adm"},
        "spec": spec,
    }


DENIED = (
    'Error from server (BadRequest): error when creating "STDIN": admission webhook '
    '"validation.webhook.eventing.knative.dev" denied the request: validation failed: '
)


def refused(plane: ControlPlaneProcess, doc: Mapping[str, object], field: str) -> str:
    """Create ``doc``; assert Knative's webhook refusal naming ``field``, nothing written."""
    before = plane.kubectl("get", "eventtypes,triggers,brokers", "-n", "adm", "-o", "name").stdout
    result = plane.kubectl("create", "-f", "-", input=manifest(doc))
    assert result.returncode == 1
    assert result.stderr.startswith(DENIED), result.stderr
    assert field in result.stderr, result.stderr
    after = plane.kubectl("get", "eventtypes,triggers,brokers", "-n", "adm", "-o", "name").stdout
    assert after == before
    return result.stderr


SUBSCRIBER = {"uri": "http://consumer.adm.svc.cluster.local"}


def test_eventtype_type_is_required(plane: ControlPlaneProcess) -> None:
    stderr = refused(plane, eventtype("no-type", source="https://example.com"), "spec.type")
    assert stderr == DENIED + "missing field(s): spec.type\n"


def test_v1beta3_eventtype_needs_the_required_attributes(plane: ControlPlaneProcess) -> None:
    doc = {
        "apiVersion": "eventing.knative.dev/v1beta3",
        "kind": "EventType",
        "metadata": {"name": "v3", "namespace": "adm"},
        "spec": {"attributes": [{"name": "type", "value": "a.b", "required": True}]},
    }
    stderr = refused(plane, doc, "spec.attributes")
    assert "source" in stderr


def test_eventtype_spec_is_immutable(plane: ControlPlaneProcess) -> None:
    plane.kubectl("create", "-f", "-", input=manifest(eventtype("fixed", type="a.b")), check=True)
    patch = plane.kubectl(
        "patch", ET, "fixed", "-n", "adm", "--type=merge", "-p", '{"spec":{"type":"c.d"}}'
    )
    assert patch.returncode == 1
    assert "validation failed: Immutable fields changed (-old +new): spec\n" in patch.stderr
    labelled = plane.kubectl("label", ET, "fixed", "-n", "adm", "team=a")
    assert labelled.returncode == 0, labelled.stderr


def test_trigger_needs_exactly_one_broker(plane: ControlPlaneProcess) -> None:
    refused(plane, trigger("neither", subscriber=SUBSCRIBER), "spec.broker")
    both = trigger(
        "both",
        broker="default",
        brokerRef={"name": "default", "kind": "Broker", "apiVersion": "eventing.knative.dev/v1"},
        subscriber=SUBSCRIBER,
    )
    stderr = refused(plane, both, "spec.broker")
    assert stderr == DENIED + "expected exactly one, got both: spec.broker, spec.brokerRef\n"


def test_trigger_needs_a_subscriber(plane: ControlPlaneProcess) -> None:
    refused(plane, trigger("nosub", broker="default", subscriber={}), "spec.subscriber")


def test_trigger_filters_take_one_dialect_each(plane: ControlPlaneProcess) -> None:
    doc = trigger(
        "twodialects",
        broker="default",
        subscriber=SUBSCRIBER,
        filters=[{"exact": {"type": "a"}, "prefix": {"type": "b"}}],
    )
    refused(plane, doc, "spec.filters[0]")


def test_trigger_broker_is_immutable(plane: ControlPlaneProcess) -> None:
    plane.kubectl(
        "create",
        "-f",
        "-",
        input=manifest(trigger("t", broker="default", subscriber=SUBSCRIBER)),
        check=True,
    )
    patch = plane.kubectl(
        "patch",
        "triggers.eventing.knative.dev",
        "t",
        "-n",
        "adm",
        "--type=merge",
        "-p",
        '{"spec":{"broker":"other"}}',
    )
    assert patch.returncode == 1
    assert "spec.broker" in patch.stderr


def test_broker_class_is_defaulted(plane: ControlPlaneProcess) -> None:
    broker = {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Broker",
        "metadata": {"name": "classless", "namespace": "adm"},
    }
    plane.kubectl("create", "-f", "-", input=manifest(broker), check=True)
    stored = json.loads(
        plane.kubectl(
            "get",
            "brokers.eventing.knative.dev",
            "classless",
            "-n",
            "adm",
            "-o",
            "json",
            check=True,
        ).stdout
    )
    assert stored["metadata"]["annotations"]["eventing.knative.dev/broker.class"] == (
        "MTChannelBasedBroker"
    )


@pytest.mark.knative_crds
def test_real_knative_crds_applied_over_ours_still_serve_and_validate(
    plane: ControlPlaneProcess,
) -> None:
    for name in ("eventtype", "broker", "trigger"):
        applied = plane.kubectl("apply", "-f", "-", input=knative_crd(name))
        assert applied.returncode == 0, applied.stderr
    plane.kubectl(
        "create", "-f", "-", input=manifest(eventtype("after-real", type="x.y")), check=True
    )
    for version in ("v1beta1", "v1beta2", "v1beta3"):
        got = plane.kubectl(
            "get",
            f"eventtypes.{version}.eventing.knative.dev",
            "after-real",
            "-n",
            "adm",
            "-o",
            "name",
        )
        assert got.returncode == 0, (version, got.stderr)
    refused(plane, eventtype("still-no-type", source="https://example.com"), "spec.type")


# ------------------------------------------------------ references to other namespaces

FEATURES = ("-n", "knative-eventing", "configmap", "config-features")
FORBIDDEN = (
    "must not set the field(s): spec.namespace\nonly name, apiVersion and kind are supported "
    "fields when feature.CrossNamespaceEventLinks is disabled"
)
ELSEWHERE = {
    "name": "default",
    "namespace": "elsewhere",
    "kind": "Broker",
    "apiVersion": "eventing.knative.dev/v1",
}


def set_cross_namespace_links(plane: ControlPlaneProcess, value: str) -> None:
    patch = json.dumps({"data": {"cross-namespace-event-links": value}})
    plane.kubectl("patch", *FEATURES, "--type=merge", "-p", patch, check=True)


def test_broker_ref_namespace_follows_the_cross_namespace_flag(
    plane: ControlPlaneProcess,
) -> None:
    doc = trigger("across", brokerRef=ELSEWHERE, subscriber=SUBSCRIBER)
    stderr = refused(plane, doc, "spec.namespace")
    assert stderr == DENIED + FORBIDDEN + "\n"
    plane.kubectl(
        "create",
        *FEATURES,
        "--from-literal=cross-namespace-event-links=enabled",
        check=True,
    )
    try:
        created = plane.kubectl("create", "-f", "-", "-o", "json", input=manifest(doc))
        assert created.returncode == 0, created.stderr
        stored = json.loads(created.stdout)
        assert stored["spec"]["brokerRef"]["namespace"] == "elsewhere"
        assert stored["metadata"]["labels"] == {"eventing.knative.dev/broker": "default"}

        set_cross_namespace_links(plane, "disabled")
        again = trigger("again", brokerRef=ELSEWHERE, subscriber=SUBSCRIBER)
        stderr = refused(plane, again, "spec.namespace")
        assert FORBIDDEN in stderr
        relabel = plane.kubectl(
            "label", "triggers.eventing.knative.dev", "across", "-n", "adm", "a=b"
        )
        assert relabel.returncode == 1
        assert FORBIDDEN in relabel.stderr

        set_cross_namespace_links(plane, "Enabled")
        plane.kubectl("create", "-f", "-", input=manifest(again), check=True)
    finally:
        plane.kubectl("delete", *FEATURES, check=True)
    refused(plane, trigger("after", brokerRef=ELSEWHERE, subscriber=SUBSCRIBER), "spec.namespace")


def test_subscriber_and_reference_namespaces_are_accepted_like_knative(
    plane: ControlPlaneProcess,
) -> None:
    service = {"apiVersion": "v1", "kind": "Service", "name": "consumer", "namespace": "elsewhere"}
    docs = [
        trigger("to-elsewhere", broker="default", subscriber={"ref": service}),
        eventtype("from-elsewhere", type="a.b", reference=ELSEWHERE),
    ]
    plane.kubectl("create", "-f", "-", input=manifest(*docs), check=True)
    got = plane.kubectl(
        "get",
        "triggers.eventing.knative.dev",
        "to-elsewhere",
        "-n",
        "adm",
        "-o",
        "json",
        check=True,
    )
    assert json.loads(got.stdout)["spec"]["subscriber"]["ref"] == service


def test_an_invalid_broker_is_refused_in_knatives_words(plane: ControlPlaneProcess) -> None:
    doc = {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Broker",
        "metadata": {"name": "sideways", "namespace": "adm"},
        "spec": {"delivery": {"backoffPolicy": "sideways"}},
    }
    stderr = refused(plane, doc, "spec.delivery.backoffPolicy")
    assert stderr == DENIED + "invalid value: sideways: spec.delivery.backoffPolicy\n"


# ------------------------------------------------------------- Broker defaults, EventTypes

BR_DEFAULTS = ("-n", "knative-eventing", "configmap", "config-br-defaults")
DEFAULT_CHANNEL = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "name": "config-br-default-channel",
    "namespace": "knative-eventing",
}
TEAM_CHANNEL = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "name": "team-channel",
    "namespace": "adm-team",
}
DEFAULT_BR_CONFIG = yaml.safe_dump(
    {
        "clusterDefault": {
            "brokerClass": "MTChannelBasedBroker",
            **DEFAULT_CHANNEL,
            "delivery": {"retry": 10, "backoffPolicy": "exponential", "backoffDelay": "PT0.2S"},
        },
        "namespaceDefaults": {
            "adm-team": {"brokerClass": "TeamBroker", **TEAM_CHANNEL, "delivery": {"retry": 3}}
        },
    }
)


def create_broker(plane: ControlPlaneProcess, name: str, namespace: str) -> Json:
    doc = {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Broker",
        "metadata": {"name": name, "namespace": namespace},
    }
    created = plane.kubectl("create", "-f", "-", "-o", "json", input=manifest(doc), check=True)
    result: Json = json.loads(created.stdout)
    return result


def test_brokers_get_the_defaults_of_config_br_defaults(plane: ControlPlaneProcess) -> None:
    plane.kubectl("create", "namespace", "adm-team", check=True)
    bare = create_broker(plane, "before-defaults", "adm")
    # Knative's built-in defaults: the class only
    assert bare["metadata"]["annotations"] == {
        "eventing.knative.dev/broker.class": "MTChannelBasedBroker"
    }
    assert "config" not in bare.get("spec", {})
    assert "delivery" not in bare.get("spec", {})
    config_map = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "config-br-defaults", "namespace": "knative-eventing"},
        "data": {"default-br-config": DEFAULT_BR_CONFIG},
    }
    plane.kubectl("create", "-f", "-", input=manifest(config_map), check=True)
    try:
        cluster = create_broker(plane, "cluster-defaults", "adm")
        assert cluster["spec"] == {
            "config": DEFAULT_CHANNEL,
            "delivery": {"retry": 10, "backoffPolicy": "exponential", "backoffDelay": "PT0.2S"},
        }
        team = create_broker(plane, "team-defaults", "adm-team")
        assert team["spec"] == {"config": TEAM_CHANNEL, "delivery": {"retry": 3}}
        assert team["metadata"]["annotations"] == {
            "eventing.knative.dev/broker.class": "TeamBroker"
        }
    finally:
        plane.kubectl("delete", *BR_DEFAULTS, check=True)


@pytest.mark.parametrize("created_as", ["v1beta2", "v1beta3"])
def test_eventtypes_show_no_private_annotation_in_any_version(
    plane: ControlPlaneProcess, created_as: str
) -> None:
    name = f"plain-{created_as}"
    if created_as == "v1beta2":
        doc = eventtype(name, type="com.example.plain", source="https://example.com")
    else:
        attributes = [
            {"name": "specversion", "required": True},
            {"name": "id", "required": True},
            {"name": "type", "required": True, "value": "com.example.plain"},
            {"name": "source", "required": True, "value": "https://example.com"},
        ]
        doc = {**eventtype(name), "apiVersion": "eventing.knative.dev/v1beta3"}
        doc["spec"] = {"attributes": attributes}
    plane.kubectl("create", "-f", "-", input=manifest(doc), check=True)
    for version in ("v1beta1", "v1beta2", "v1beta3"):
        shown = plane.kubectl(
            "get",
            f"eventtypes.{version}.eventing.knative.dev",
            name,
            "-n",
            "adm",
            "-o",
            "yaml",
            check=True,
        ).stdout
        assert "registry.knative.dev" not in shown, shown


# the same through GraphQL: a registry of its own, with its embedded control plane

TEAM = "team-a"
TRIGGER_RESULT = """
    __typename
    ... on TriggerCreated { trigger { name subscriber { ref { name namespace } } } }
    ... on ValidationFailed { message errors { field reason message } }
"""
CREATE_TRIGGER = (
    "mutation($input: CreateTriggerInput!) { result: createTrigger(input: $input) {"
    + TRIGGER_RESULT
    + "} }"
)
SUBSCRIBE = (
    "mutation($namespace: String!, $name: String!, $subscriber: SubscriberInput!) {"
    " result: subscribeToEventType(namespace: $namespace, name: $name, subscriber: $subscriber)"
    " {" + TRIGGER_RESULT + "} }"
)
SERVICE_ELSEWHERE = {"apiVersion": "v1", "kind": "Service", "name": "consumer", "namespace": "b"}


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryProcess]:
    process = RegistryProcess(tmp_path_factory.mktemp("cross-namespace") / "data")
    process.start()
    try:
        process.wait_ready()
        process.kubectl("create", "namespace", TEAM, check=True)
        announced = {
            "apiVersion": "eventing.knative.dev/v1beta2",
            "kind": "EventType",
            "metadata": {"name": "announced", "namespace": TEAM},
            "spec": {"type": "com.example.announced", "reference": broker_reference()},
        }
        process.apply(announced)
        eventually(lambda: known_event_type(process), timeout=30)
        yield process
    finally:
        process.stop()


def known_event_type(registry: RegistryProcess) -> bool:
    query = '{ eventType(namespace: "team-a", name: "announced") { name } }'
    return data_of(registry.query(query))["eventType"] is not None


def mutate(registry: RegistryProcess, document: str, variables: dict[str, object]) -> Json:
    result: Json = data_of(registry.query(document, variables))["result"]
    return result


def test_mutations_keep_a_subscriber_in_another_namespace(registry: RegistryProcess) -> None:
    # Knative admits it with the flag off, and so does the registry: no ValidationFailed
    subscriber = {"ref": SERVICE_ELSEWHERE}
    created = mutate(
        registry,
        CREATE_TRIGGER,
        {"input": {"namespace": TEAM, "broker": "default", "subscriber": subscriber}},
    )
    assert created["__typename"] == "TriggerCreated", created
    assert created["trigger"]["subscriber"]["ref"] == {"name": "consumer", "namespace": "b"}
    subscribed = mutate(
        registry, SUBSCRIBE, {"namespace": TEAM, "name": "announced", "subscriber": subscriber}
    )
    assert subscribed["__typename"] == "TriggerCreated", subscribed
    name = subscribed["trigger"]["name"]
    got = registry.kubectl(
        "get", "triggers.eventing.knative.dev", name, "-n", TEAM, "-o", "json", check=True
    )
    assert json.loads(got.stdout)["spec"]["subscriber"]["ref"] == SERVICE_ELSEWHERE
