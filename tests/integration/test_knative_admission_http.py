"""Knative admission rules through HTTP, as kubectl users meet them: 422 with a field cause.

The rule logic is unit-tested in tests/unit/test_knative_admission.py; this checks that each
rule reaches a real client as a Status error naming the field, and that nothing is written.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping

import pytest

from tests.support.controlplane import ControlPlaneProcess, knative_crd, manifest

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


def refused(plane: ControlPlaneProcess, doc: Mapping[str, object], field: str) -> str:
    """Create ``doc``; assert 422 naming ``field`` and that nothing was written."""
    before = plane.kubectl("get", "eventtypes,triggers,brokers", "-n", "adm", "-o", "name").stdout
    result = plane.kubectl("create", "-f", "-", input=manifest(doc))
    assert result.returncode == 1
    assert "is invalid" in result.stderr, result.stderr
    assert field in result.stderr, result.stderr
    after = plane.kubectl("get", "eventtypes,triggers,brokers", "-n", "adm", "-o", "name").stdout
    assert after == before
    return result.stderr


SUBSCRIBER = {"uri": "http://consumer.adm.svc.cluster.local"}


def test_eventtype_type_is_required(plane: ControlPlaneProcess) -> None:
    refused(plane, eventtype("no-type", source="https://example.com"), "spec.type")


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
    assert "spec: Immutable fields changed" in patch.stderr
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
    refused(plane, both, "spec.broker")


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
