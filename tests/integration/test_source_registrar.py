"""The source registrar, seen from outside: a control plane process with its controllers, kubectl
as the client; and the registrar alone, in this process, against a plane without controllers
(to replay a crash between a create and the rest of a reconcile).

Every expectation is polled with a deadline; nothing sleeps for long.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from event_registry.cluster.connecting import Connection, open_client
from event_registry.controllers import source_eventtypes as produced
from event_registry.controllers.registrar import EVENT_TYPES, SourceRegistrar
from event_registry.knative import vocabulary as kn
from tests.support.controlplane import ControlPlaneProcess, manifest

DEADLINE = 10.0
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sources" / "github-source.yaml"
GITHUB = "dev.knative.source.github."
REPOSITORY = "https://github.com/my-other-user/my-other-repo"
BROKER_REF = {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker", "name": "default"}


@pytest.fixture(scope="module")
def controlplane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlaneProcess]:
    plane = ControlPlaneProcess(tmp_path_factory.mktemp("registrar")).start()
    try:
        yield plane
    finally:
        plane.stop()


# helpers -------------------------------------------------------------------------------------


def apply(plane: ControlPlaneProcess, *documents: dict[str, Any]) -> None:
    plane.kubectl("apply", "-f", "-", input=manifest(*documents), check=True)


def broker(namespace: str, name: str = "default") -> dict[str, Any]:
    return {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Broker",
        "metadata": {"namespace": namespace, "name": name},
    }


def github_source(namespace: str, name: str = "github-source-sample") -> dict[str, Any]:
    """The example's GitHubSource, in ``namespace``."""
    source: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text())
    source["metadata"].update(namespace=namespace, name=name)
    return source


def ping_source(namespace: str, name: str, sink: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "sources.knative.dev/v1",
        "kind": "PingSource",
        "metadata": {"namespace": namespace, "name": name},
        "spec": {"schedule": "* * * * *", "sink": sink},
    }


def event_types(plane: ControlPlaneProcess, namespace: str) -> list[dict[str, Any]]:
    listed = plane.kubectl(
        "get", "eventtypes.v1beta2.eventing.knative.dev", "-n", namespace, "-o", "json", check=True
    )
    items: list[dict[str, Any]] = json.loads(listed.stdout)["items"]
    return items


def of_source(items: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [i for i in items if i["metadata"].get("labels", {}).get(kn.SOURCE_NAME_LABEL) == name]


def types(items: list[dict[str, Any]]) -> set[str]:
    return {item["spec"]["type"] for item in items}


def eventually(
    plane: ControlPlaneProcess,
    namespace: str,
    predicate: Callable[[list[dict[str, Any]]], bool],
    timeout: float = DEADLINE,
) -> list[dict[str, Any]]:
    """The namespace's EventTypes once ``predicate`` holds for them."""
    deadline = time.monotonic() + timeout
    while True:
        items = event_types(plane, namespace)
        if predicate(items):
            return items
        if time.monotonic() > deadline:
            pytest.fail(f"EventTypes of {namespace} never matched; last seen: {items}")
        time.sleep(0.05)


def read(
    plane: ControlPlaneProcess, resource: str, name: str, namespace: str = "default"
) -> dict[str, Any]:
    scope = ("-n", namespace) if namespace else ()
    got = plane.kubectl("get", resource, name, *scope, "-o", "json", check=True)
    found: dict[str, Any] = json.loads(got.stdout)
    return found


def uid(plane: ControlPlaneProcess, resource: str, namespace: str, name: str) -> str:
    return str(read(plane, resource, name, namespace)["metadata"]["uid"])


# tests ---------------------------------------------------------------------------------------


def test_github_source_registers_its_two_eventtypes_owned_by_it(
    controlplane: ControlPlaneProcess, namespace: str
) -> None:
    apply(controlplane, broker(namespace), github_source(namespace))
    items = eventually(controlplane, namespace, lambda items: len(items) == 2)
    assert types(items) == {GITHUB + "push", GITHUB + "pull_request"}
    source_uid = uid(controlplane, "githubsources", namespace, "github-source-sample")
    for item in items:
        assert item["spec"]["source"] == REPOSITORY
        assert item["spec"]["reference"] == {**BROKER_REF, "namespace": namespace}
        assert item["metadata"]["labels"] == {kn.SOURCE_NAME_LABEL: "github-source-sample"}
        assert item["metadata"]["ownerReferences"] == [
            {
                "apiVersion": "sources.knative.dev/v1alpha1",
                "kind": "GitHubSource",
                "name": "github-source-sample",
                "uid": source_uid,
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
    names = {item["metadata"]["name"] for item in items}
    assert {n.rsplit("-", 1)[0] for n in names} == {GITHUB + "push", GITHUB + "pullrequest"}
    table = controlplane.kubectl("get", "eventtypes", "-n", namespace, check=True).stdout
    assert GITHUB + "pull_request" in table
    assert REPOSITORY in table


def test_the_set_follows_spec_event_types_and_goes_with_the_source(
    controlplane: ControlPlaneProcess, namespace: str
) -> None:
    apply(controlplane, broker(namespace), github_source(namespace))
    before = eventually(controlplane, namespace, lambda items: len(items) == 2)
    push = next(i for i in before if i["spec"]["type"] == GITHUB + "push")
    changed = github_source(namespace)
    changed["spec"]["eventTypes"] = ["push", "issues", "release"]
    apply(controlplane, changed)
    after = eventually(
        controlplane,
        namespace,
        lambda items: types(items) == {GITHUB + t for t in ("push", "issues", "release")},
    )
    assert len(after) == 3
    kept = next(i for i in after if i["spec"]["type"] == GITHUB + "push")
    assert kept["metadata"]["uid"] == push["metadata"]["uid"]  # unchanged: left alone
    controlplane.kubectl(
        "delete", "githubsource", "github-source-sample", "-n", namespace, check=True
    )
    eventually(controlplane, namespace, lambda items: items == [])


def test_a_changed_source_attribute_replaces_every_eventtype(
    controlplane: ControlPlaneProcess, namespace: str
) -> None:
    apply(controlplane, broker(namespace), github_source(namespace))
    before = eventually(controlplane, namespace, lambda items: len(items) == 2)
    moved = github_source(namespace)
    moved["spec"]["ownerAndRepository"] = "someone/else"
    apply(controlplane, moved)
    after = eventually(
        controlplane,
        namespace,
        lambda items: {i["spec"]["source"] for i in items} == {"https://github.com/someone/else"},
    )
    assert len(after) == 2
    assert not {i["metadata"]["uid"] for i in after} & {i["metadata"]["uid"] for i in before}


def test_ping_source_with_a_broker_sink_registers_its_type_and_a_uri_sink_none(
    controlplane: ControlPlaneProcess, namespace: str
) -> None:
    apply(
        controlplane,
        broker(namespace),
        ping_source(namespace, "to-uri", {"uri": "http://example.com/"}),
        ping_source(namespace, "to-broker", {"ref": BROKER_REF}),
    )
    items = eventually(controlplane, namespace, lambda items: len(items) >= 1)
    (only,) = items  # the URI sink's source was reconciled first and registered nothing
    assert only["spec"]["type"] == "dev.knative.sources.ping"
    assert only["spec"]["source"] == f"/apis/v1/namespaces/{namespace}/pingsources/to-broker"
    assert only["spec"]["description"]  # from the CRD's annotation
    apply(controlplane, ping_source(namespace, "to-broker", {"uri": "http://example.com/"}))
    eventually(controlplane, namespace, lambda items: items == [])


def test_reported_ce_attributes_win_over_the_spec(
    controlplane: ControlPlaneProcess, namespace: str
) -> None:
    apply(controlplane, broker(namespace), github_source(namespace))
    eventually(controlplane, namespace, lambda items: len(items) == 2)
    status = {"status": {"ceAttributes": [{"type": GITHUB + "watch", "source": "https://x"}]}}
    controlplane.kubectl(
        "patch", "githubsource", "github-source-sample", "-n", namespace,
        "--subresource=status", "--type=merge", "-p", json.dumps(status), check=True,
    )  # fmt: skip
    (only,) = eventually(controlplane, namespace, lambda items: types(items) == {GITHUB + "watch"})
    assert only["spec"]["source"] == "https://x"


def test_an_eventtype_deleted_by_hand_is_registered_again(
    controlplane: ControlPlaneProcess, namespace: str
) -> None:
    apply(controlplane, broker(namespace), github_source(namespace))
    items = eventually(controlplane, namespace, lambda items: len(items) == 2)
    victim = items[0]["metadata"]
    controlplane.kubectl("delete", "eventtype", victim["name"], "-n", namespace, check=True)
    again = eventually(
        controlplane,
        namespace,
        lambda items: (
            len(items) == 2 and victim["uid"] not in {i["metadata"]["uid"] for i in items}
        ),
    )
    assert victim["name"] in {i["metadata"]["name"] for i in again}  # deterministic name


def user_source_crd() -> dict[str, Any]:
    annotation = json.dumps([{"type": "com.example.widget.made", "description": "A widget"}])
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": "widgetsources.example.com",
            "labels": {kn.SOURCE_DUCK_LABEL: "true"},
            "annotations": {kn.EVENT_TYPES_ANNOTATION: annotation},
        },
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {
                "kind": "WidgetSource",
                "plural": "widgetsources",
                "singular": "widgetsource",
                "listKind": "WidgetSourceList",
            },
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "x-kubernetes-preserve-unknown-fields": True,
                        }
                    },
                }
            ],
        },
    }


def test_a_user_applied_source_crd_with_the_annotation_is_watched_at_once(
    controlplane: ControlPlaneProcess, namespace: str
) -> None:
    apply(controlplane, user_source_crd(), broker(namespace))
    widget = {
        "apiVersion": "example.com/v1",
        "kind": "WidgetSource",
        "metadata": {"namespace": namespace, "name": "w"},
        "spec": {"sink": {"ref": BROKER_REF}},
    }
    deadline = time.monotonic() + DEADLINE
    while controlplane.kubectl("apply", "-f", "-", input=manifest(widget)).returncode != 0:
        assert time.monotonic() < deadline, "the CRD was never served"
        time.sleep(0.1)
    (only,) = eventually(controlplane, namespace, lambda items: len(items) == 1)
    assert only["spec"]["type"] == "com.example.widget.made"
    assert only["spec"]["source"] == f"/apis/example.com/v1/namespaces/{namespace}/widgetsources/w"
    assert only["spec"]["description"] == "A widget"
    assert only["metadata"]["ownerReferences"][0]["kind"] == "WidgetSource"
    # A new description in the CRD's annotation replaces the EventType (specs are immutable).
    annotation = json.dumps([{"type": "com.example.widget.made", "description": "Made"}])
    patch = {"metadata": {"annotations": {kn.EVENT_TYPES_ANNOTATION: annotation}}}
    controlplane.kubectl(
        "patch", "crd", "widgetsources.example.com", "--type=merge", "-p", json.dumps(patch),
        check=True,
    )  # fmt: skip
    (replaced,) = eventually(
        controlplane,
        namespace,
        lambda items: [i["spec"].get("description") for i in items] == ["Made"],
    )
    assert replaced["metadata"]["uid"] != only["metadata"]["uid"]


def test_a_restart_makes_no_duplicates(tmp_path: Path) -> None:
    plane = ControlPlaneProcess(tmp_path).start()
    try:
        apply(plane, broker("default"), github_source("default"))
        first = eventually(plane, "default", lambda items: len(items) == 2)
        plane.stop()
        plane.start()
        # A source applied after the restart is reconciled after the existing ones (the
        # worker starts once all are listed, in order): once its types show, the first
        # source has been reconciled again.
        apply(plane, github_source("default", "marker"))
        after = eventually(plane, "default", lambda items: len(of_source(items, "marker")) == 2)
        assert sorted(i["metadata"]["uid"] for i in of_source(after, "github-source-sample")) == (
            sorted(i["metadata"]["uid"] for i in first)
        )
    finally:
        plane.stop()


async def test_a_crash_between_creates_leaves_no_duplicate(tmp_path: Path) -> None:
    """The registrar in this process against a plane without controllers. One EventType is
    there as the registrar created it before a crash; its store is fed the CRD and the source
    (as its reflectors would) but not the EventTypes, and reconciling twice in a row creates
    only the missing one: the existing name is refused and recognised as the source's, and
    the second pass counts what the first created though no watch has reported it. Started
    afterwards, with everything listed, it writes nothing."""
    plane = ControlPlaneProcess(tmp_path, "--no-controllers").start()
    try:
        apply(plane, broker("default"), github_source("default"))
        source = read(plane, "githubsource", "github-source-sample")
        crd = read(plane, "crd", "githubsources.sources.knative.dev", namespace="")
        kind = produced.source_kind(crd)
        assert kind is not None
        push, _ = produced.expected_event_types(source, kind, derive=True)
        apply(plane, produced.manifest(push, source, kind))  # created, then the crash

        client = await open_client(Connection("embedded"), embedded_kubeconfig=plane.kubeconfig)
        registrar = SourceRegistrar(client)
        try:
            registrar.raw.apply("CustomResourceDefinition", "ADDED", crd)
            registrar.raw.apply("GitHubSource", "ADDED", source)
            key = ("GitHubSource", "default", "github-source-sample")
            await registrar.reconcile(key)
            await registrar.reconcile(key)
            assert (registrar.creates, registrar.deletes) == (1, 0)
            await registrar.start()
            assert await registrar.wait_idle(DEADLINE)
            assert (registrar.creates, registrar.deletes) == (1, 0)
            items = (await client.request("GET", EVENT_TYPES.path("default")))["items"]
            assert sorted(i["spec"]["type"] for i in items) == [
                GITHUB + "pull_request",
                GITHUB + "push",
            ]
        finally:
            await registrar.stop()
            await client.close()
    finally:
        plane.stop()
