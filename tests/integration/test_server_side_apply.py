"""Server-side apply and managedFields against a real control plane process.

Real clients only: kubectl from PyPI (``apply --server-side``, ``--force-conflicts``,
``--show-managed-fields``, create/label/patch as their own managers), lightkube's
``Client.apply``, and raw HTTP for what the clients never send (a missing fieldManager,
managedFields in an apply, a stale resourceVersion, a managedFields reset).
"""

from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.parse
import urllib.request
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

import pytest
import yaml
from lightkube import Client, KubeConfig
from lightkube.generic_resource import create_namespaced_resource
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import ConfigMap

from tests.support.controlplane import ControlPlaneProcess, manifest

REPO = Path(__file__).resolve().parents[2]
APPLY = "application/apply-patch+yaml"
GROUP = "ssa.example.com"

WIDGETS_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": f"widgets.{GROUP}"},
    "spec": {
        "group": GROUP,
        "scope": "Namespaced",
        "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "properties": {
                                    "size": {"type": "integer"},
                                    "ports": {
                                        "type": "array",
                                        "x-kubernetes-list-type": "map",
                                        "x-kubernetes-list-map-keys": ["name"],
                                        "items": {
                                            "type": "object",
                                            "required": ["name"],
                                            "properties": {
                                                "name": {"type": "string"},
                                                "port": {"type": "integer"},
                                            },
                                        },
                                    },
                                },
                            }
                        },
                    }
                },
            }
        ],
    },
}


@pytest.fixture(scope="module", autouse=True)
def widgets_crd(controlplane: ControlPlaneProcess) -> None:
    controlplane.kubectl("apply", "-f", "-", input=manifest(WIDGETS_CRD), check=True)
    controlplane.kubectl("wait", "--for=condition=Established", f"crd/widgets.{GROUP}", check=True)


def http(
    controlplane: ControlPlaneProcess,
    method: str,
    path: str,
    body: object = None,
    content_type: str = "application/json",
    user_agent: str = "raw-test/1.0 (linux)",
) -> tuple[int, dict[str, Any]]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        controlplane.url + path,
        data=data,
        method=method,
        headers={"Content-Type": content_type, "User-Agent": user_agent},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


def get_json(controlplane: ControlPlaneProcess, *args: str) -> dict[str, Any]:
    shown = controlplane.kubectl("get", *args, "-o", "json", "--show-managed-fields", check=True)
    loaded: dict[str, Any] = json.loads(shown.stdout)
    return loaded


def managers(obj: dict[str, Any]) -> dict[tuple[str, str, str], dict[str, Any]]:
    return {
        (entry["manager"], entry["operation"], entry.get("subresource", "")): entry["fieldsV1"]
        for entry in obj["metadata"].get("managedFields") or []
    }


def configmap(name: str, namespace: str, **data: str) -> str:
    return manifest(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": namespace},
            "data": data,
        }
    )


def widget(name: str, namespace: str, **spec: object) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/v1",
        "kind": "Widget",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


# --- kubectl ---------------------------------------------------------------------------------


@pytest.fixture
def named_examples(tmp_path: Path) -> Path:
    """The examples that have names (server-side apply needs one; one file uses
    generateName), copied into a directory of their own."""
    directory = tmp_path / "examples"
    directory.mkdir()
    for source in sorted((REPO / "examples").glob("*.yaml")):
        documents = [doc for doc in yaml.safe_load_all(source.read_text()) if doc]
        if all(doc["metadata"].get("name") for doc in documents):
            shutil.copy(source, directory / source.name)
    return directory


def test_kubectl_apply_server_side_of_the_examples_twice(
    controlplane: ControlPlaneProcess, named_examples: Path
) -> None:
    first = controlplane.kubectl("apply", "--server-side", "-f", str(named_examples))
    assert first.returncode == 0, first.stderr
    lines = first.stdout.strip().splitlines()
    assert "eventtype.eventing.knative.dev/com.github.pullrequest serverside-applied" in lines
    assert "trigger.eventing.knative.dev/my-service-trigger serverside-applied" in lines
    assert all(line.endswith(" serverside-applied") for line in lines)
    before = get_json(controlplane, "eventtypes.eventing.knative.dev", "-n", "default")

    second = controlplane.kubectl("apply", "--server-side", "-f", str(named_examples))
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip().splitlines() == lines  # kubectl says so every time
    after = get_json(controlplane, "eventtypes.eventing.knative.dev", "-n", "default")
    assert [item["metadata"]["resourceVersion"] for item in after["items"]] == [
        item["metadata"]["resourceVersion"] for item in before["items"]
    ]  # an unchanged apply writes nothing
    diff = controlplane.kubectl("diff", "--server-side", "-f", str(named_examples))
    assert (diff.returncode, diff.stdout) == (0, "")  # nothing would change
    pullrequest = next(
        item for item in after["items"] if item["metadata"]["name"] == "com.github.pullrequest"
    )
    assert managers(pullrequest)[("kubectl", "Apply", "")]["f:spec"]["f:type"] == {}


def test_each_kubectl_command_is_its_own_manager(
    controlplane: ControlPlaneProcess, namespace: str
) -> None:
    controlplane.kubectl(
        "create", "configmap", "cm", "-n", namespace, "--from-literal=a=1", check=True
    )
    controlplane.kubectl("label", "configmap", "cm", "-n", namespace, "team=x", check=True)
    controlplane.kubectl(
        "patch",
        "configmap",
        "cm",
        "-n",
        namespace,
        "--type=merge",
        "-p",
        '{"data":{"b":"2"}}',
        check=True,
    )
    obj = get_json(controlplane, "configmap", "cm", "-n", namespace)
    found = managers(obj)
    assert found[("kubectl-create", "Update", "")] == {"f:data": {".": {}, "f:a": {}}}
    assert found[("kubectl-label", "Update", "")] == {
        "f:metadata": {"f:labels": {".": {}, "f:team": {}}}
    }
    assert found[("kubectl-patch", "Update", "")] == {"f:data": {"f:b": {}}}
    entry = obj["metadata"]["managedFields"][0]
    assert entry["apiVersion"] == "v1"
    assert entry["fieldsType"] == "FieldsV1"
    assert entry["time"].endswith("Z")

    plain = json.loads(
        controlplane.kubectl("get", "configmap", "cm", "-n", namespace, "-o", "json").stdout
    )
    assert "managedFields" not in plain["metadata"]  # kubectl hides them unless asked


def test_without_a_field_manager_the_user_agent_names_the_manager(
    controlplane: ControlPlaneProcess, namespace: str
) -> None:
    code, created = http(
        controlplane,
        "POST",
        f"/api/v1/namespaces/{namespace}/configmaps",
        {"metadata": {"name": "ua"}, "data": {"a": "1"}},
        user_agent="my-tool/2.1 (linux/amd64)",
    )
    assert code == 201
    assert [entry["manager"] for entry in created["metadata"]["managedFields"]] == ["my-tool"]


def test_status_writes_are_tracked_apart(controlplane: ControlPlaneProcess, namespace: str) -> None:
    broker = {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Broker",
        "metadata": {"name": "b", "namespace": namespace},
    }
    controlplane.kubectl("apply", "--server-side", "-f", "-", input=manifest(broker), check=True)
    controlplane.kubectl(
        "patch",
        "broker",
        "b",
        "-n",
        namespace,
        "--subresource=status",
        "--type=merge",
        "-p",
        '{"status":{"conditions":[{"type":"Ready","status":"True"}]}}',
        check=True,
    )
    found = managers(get_json(controlplane, "broker", "b", "-n", namespace))
    assert found[("kubectl-patch", "Update", "status")] == {
        "f:status": {".": {}, "f:conditions": {}}
    }


def test_a_second_manager_conflicts_and_force_conflicts_wins(
    controlplane: ControlPlaneProcess, namespace: str
) -> None:
    controlplane.kubectl(
        "apply",
        "--server-side",
        "--field-manager=first",
        "-f",
        "-",
        input=configmap("shared", namespace, color="red"),
        check=True,
    )
    refused = controlplane.kubectl(
        "apply",
        "--server-side",
        "--field-manager=second",
        "-f",
        "-",
        input=configmap("shared", namespace, color="blue"),
    )
    assert refused.returncode == 1
    assert 'Apply failed with 1 conflict: conflict with "first": .data.color' in refused.stderr
    forced = controlplane.kubectl(
        "apply",
        "--server-side",
        "--field-manager=second",
        "--force-conflicts",
        "-f",
        "-",
        input=configmap("shared", namespace, color="blue"),
    )
    assert forced.returncode == 0, forced.stderr
    assert forced.stdout.strip() == "configmap/shared serverside-applied"
    obj = get_json(controlplane, "configmap", "shared", "-n", namespace)
    assert obj["data"] == {"color": "blue"}
    assert set(managers(obj)) == {("second", "Apply", "")}


def test_an_apply_conflicts_with_an_updater_and_the_status_names_each_field(
    controlplane: ControlPlaneProcess, namespace: str
) -> None:
    controlplane.kubectl(
        "create",
        "configmap",
        "made",
        "-n",
        namespace,
        "--from-literal=a=1",
        "--from-literal=b=2",
        check=True,
    )
    code, status = http(
        controlplane,
        "PATCH",
        f"/api/v1/namespaces/{namespace}/configmaps/made?fieldManager=applier",
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "made"},
            "data": {"a": "9", "b": "8"},
        },
        content_type=APPLY,
    )
    assert code == 409
    assert status["kind"] == "Status"
    assert status["reason"] == "Conflict"
    assert status["message"] == (
        'Apply failed with 2 conflicts: conflicts with "kubectl-create" using v1:\n'
        "- .data.a\n- .data.b"
    )
    assert status["details"]["causes"] == [
        {
            "reason": "FieldManagerConflict",
            "message": 'conflict with "kubectl-create" using v1',
            "field": ".data.a",
        },
        {
            "reason": "FieldManagerConflict",
            "message": 'conflict with "kubectl-create" using v1',
            "field": ".data.b",
        },
    ]


def test_a_field_the_manager_stops_applying_goes_unless_another_owns_it(
    controlplane: ControlPlaneProcess, namespace: str
) -> None:
    def apply(manager: str, **data: str) -> None:
        controlplane.kubectl(
            "apply",
            "--server-side",
            f"--field-manager={manager}",
            "-f",
            "-",
            input=configmap("shrinking", namespace, **data),
            check=True,
        )

    apply("one", a="1", b="2", c="3")
    apply("two", c="3")  # same value: shared ownership
    apply("one", a="1")
    obj = get_json(controlplane, "configmap", "shrinking", "-n", namespace)
    assert obj["data"] == {"a": "1", "c": "3"}


def test_two_managers_each_own_an_entry_of_a_keyed_list(
    controlplane: ControlPlaneProcess, namespace: str
) -> None:
    def apply(manager: str, *ports: dict[str, object]) -> None:
        doc = widget("w", namespace, ports=list(ports)) if ports else widget("w", namespace)
        controlplane.kubectl(
            "apply",
            "--server-side",
            f"--field-manager={manager}",
            "-f",
            "-",
            input=manifest(doc),
            check=True,
        )

    apply("web", {"name": "http", "port": 80})
    apply("rpc", {"name": "grpc", "port": 9090})
    obj = get_json(controlplane, f"widgets.{GROUP}", "w", "-n", namespace)
    assert obj["spec"]["ports"] == [{"name": "http", "port": 80}, {"name": "grpc", "port": 9090}]
    found = managers(obj)
    assert found[("web", "Apply", "")]["f:spec"]["f:ports"] == {
        'k:{"name":"http"}': {".": {}, "f:name": {}, "f:port": {}}
    }
    assert 'k:{"name":"grpc"}' in found[("rpc", "Apply", "")]["f:spec"]["f:ports"]

    apply("web")  # web no longer applies its port
    obj = get_json(controlplane, f"widgets.{GROUP}", "w", "-n", namespace)
    assert obj["spec"]["ports"] == [{"name": "grpc", "port": 9090}]
    assert managers(obj)[("web", "Apply", "")] == {"f:spec": {}}  # it applies spec: {}


def test_owner_references_merge_by_uid(controlplane: ControlPlaneProcess, namespace: str) -> None:
    def reference(uid: str) -> dict[str, str]:
        return {"apiVersion": "v1", "kind": "ConfigMap", "name": f"owner-{uid}", "uid": uid}

    for manager, uid in (
        ("a", "11111111-1111-1111-1111-111111111111"),
        ("b", "22222222-2222-2222-2222-222222222222"),
    ):
        doc = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": "owned",
                "namespace": namespace,
                "ownerReferences": [reference(uid)],
                "finalizers": [f"x/{manager}"],
            },
        }
        controlplane.kubectl(
            "apply",
            "--server-side",
            f"--field-manager={manager}",
            "-f",
            "-",
            input=manifest(doc),
            check=True,
        )
    obj = get_json(controlplane, "configmap", "owned", "-n", namespace)
    assert [ref["name"] for ref in obj["metadata"]["ownerReferences"]] == [
        "owner-11111111-1111-1111-1111-111111111111",
        "owner-22222222-2222-2222-2222-222222222222",
    ]
    assert obj["metadata"]["finalizers"] == ["x/a", "x/b"]
    controlplane.kubectl(
        "patch",
        "configmap",
        "owned",
        "-n",
        namespace,
        "--type=json",
        "-p",
        '[{"op":"remove","path":"/metadata/finalizers"}]',
        check=True,
    )


# --- lightkube -------------------------------------------------------------------------------


def test_lightkube_apply_creates_updates_and_forces(
    controlplane: ControlPlaneProcess, namespace: str
) -> None:
    with Client(
        KubeConfig.from_file(controlplane.kubeconfig), field_manager="lightkube-test"
    ) as client:
        lightkube_scenario(client, namespace)


def lightkube_scenario(client: Client, namespace: str) -> None:
    created = client.apply(
        ConfigMap(metadata=ObjectMeta(name="light", namespace=namespace), data={"a": "1"})
    )
    assert created.data == {"a": "1"}
    assert created.metadata is not None
    [entry] = created.metadata.managedFields or []
    assert (entry.manager, entry.operation) == ("lightkube-test", "Apply")

    updated = client.apply(
        ConfigMap(metadata=ObjectMeta(name="light", namespace=namespace), data={"b": "2"})
    )
    assert updated.data == {"b": "2"}  # a, no longer applied, is gone

    Widget = create_namespaced_resource(GROUP, "v1", "Widget", "widgets")
    mine = Widget(metadata=ObjectMeta(name="lw", namespace=namespace), spec={"size": 1})
    client.apply(mine)
    theirs = Widget(metadata=ObjectMeta(name="lw", namespace=namespace), spec={"size": 2})
    with pytest.raises(Exception, match="conflict") as refused:
        client.apply(theirs, field_manager="other")
    assert getattr(refused.value, "status", None) is not None
    forced = client.apply(theirs, field_manager="other", force=True)
    assert forced["spec"]["size"] == 2


# --- refusals and the rest of the contract ---------------------------------------------------


def test_apply_refusals_as_kube_apiserver_words_them(
    controlplane: ControlPlaneProcess, namespace: str
) -> None:
    path = f"/api/v1/namespaces/{namespace}/configmaps/refused"
    body: dict[str, Any] = {"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "1"}}

    code, status = http(controlplane, "PATCH", path, body, content_type=APPLY)
    assert code == 422
    assert status["details"]["causes"][0]["field"] == "fieldManager"
    assert "is required for apply patch" in status["message"]

    code, status = http(
        controlplane,
        "PATCH",
        path + "?fieldManager=m",
        {**body, "metadata": {"managedFields": [{"manager": "x"}]}},
        content_type=APPLY,
    )
    assert (code, status["message"]) == (400, "metadata.managedFields must be nil")

    code, status = http(
        controlplane,
        "PATCH",
        path + "?fieldManager=m",
        {**body, "apiVersion": "v2"},
        content_type=APPLY,
    )
    assert code == 400
    assert status["message"] == (
        "Incorrect version specified in apply patch. Specified patch version: v2, expected: v1"
    )

    code, status = http(controlplane, "PATCH", path + "?fieldManager=m", [body], content_type=APPLY)
    assert code == 400

    code, _ = http(
        controlplane, "PATCH", path + "?fieldManager=m&dryRun=All", body, content_type=APPLY
    )
    assert code == 201
    code, _ = http(controlplane, "GET", path)
    assert code == 404  # a dry run creates nothing

    code, created = http(controlplane, "PATCH", path + "?fieldManager=m", body, content_type=APPLY)
    assert code == 201
    assert created["metadata"]["name"] == "refused"

    stale = {**body, "metadata": {"resourceVersion": "1"}}
    code, status = http(controlplane, "PATCH", path + "?fieldManager=m", stale, content_type=APPLY)
    assert (code, status["reason"]) == (409, "Conflict")

    code, status = http(
        controlplane,
        "PATCH",
        path + "?force=true",
        {"data": {"b": "2"}},
        content_type="application/merge-patch+json",
    )
    assert code == 422
    assert "force: Forbidden: may not be specified for non-apply patch" in status["message"]

    code, status = http(
        controlplane,
        "PATCH",
        path + "?fieldManager=m&fieldValidation=Strict",
        {**body, "bogus": 1},
        content_type=APPLY,
    )
    assert (code, status["message"]) == (400, 'strict decoding error: unknown field "bogus"')


def test_managed_fields_cleared_on_request_and_kept_from_unaware_clients(
    controlplane: ControlPlaneProcess, namespace: str
) -> None:
    path = f"/api/v1/namespaces/{namespace}/configmaps/reset"
    http(
        controlplane,
        "POST",
        f"/api/v1/namespaces/{namespace}/configmaps",
        {"metadata": {"name": "reset"}, "data": {"a": "1"}},
    )
    code, obj = http(controlplane, "GET", path)
    unaware = {key: value for key, value in obj.items() if key != "metadata"}
    unaware["metadata"] = {
        key: value for key, value in obj["metadata"].items() if key != "managedFields"
    }
    unaware["data"] = {"a": "2"}
    code, replaced = http(controlplane, "PUT", path, unaware)
    assert code == 200
    assert [entry["manager"] for entry in replaced["metadata"]["managedFields"]] == ["raw-test"]

    code, cleared = http(
        controlplane,
        "PATCH",
        path,
        {"metadata": {"managedFields": [{}]}},
        content_type="application/merge-patch+json",
    )
    assert code == 200
    assert "managedFields" not in cleared["metadata"]


def test_client_side_apply_then_server_side_apply_migrates_ownership(
    controlplane: ControlPlaneProcess, namespace: str
) -> None:
    doc = configmap("migrated", namespace, a="1")
    controlplane.kubectl("apply", "-f", "-", input=doc, check=True)
    before = managers(get_json(controlplane, "configmap", "migrated", "-n", namespace))
    assert ("kubectl-client-side-apply", "Update", "") in before
    upgraded = controlplane.kubectl("apply", "--server-side", "-f", "-", input=doc)
    assert upgraded.returncode == 0, upgraded.stderr
    after = managers(get_json(controlplane, "configmap", "migrated", "-n", namespace))
    assert after[("kubectl", "Apply", "")]["f:data"] == {"f:a": {}}
    assert ("kubectl-client-side-apply", "Update", "") not in after


def test_status_apply_is_its_own_manager(controlplane: ControlPlaneProcess, namespace: str) -> None:
    broker = {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Broker",
        "metadata": {"name": "sb", "namespace": namespace},
    }
    controlplane.kubectl("apply", "--server-side", "-f", "-", input=manifest(broker), check=True)
    status = {**broker, "status": {"conditions": [{"type": "Ready", "status": "True"}]}}
    code, applied = http(
        controlplane,
        "PATCH",
        f"/apis/eventing.knative.dev/v1/namespaces/{namespace}/brokers/sb/status"
        "?fieldManager=reconciler",
        {**status, "spec": {"config": {"kind": "ConfigMap", "name": "ignored"}}},
        content_type=APPLY,
    )
    assert code == 200, applied
    assert applied["status"]["conditions"][0]["type"] == "Ready"
    assert "config" not in (applied.get("spec") or {})  # the status endpoint ignores the rest
    found = managers(applied)
    assert found[("reconciler", "Apply", "status")] == {"f:status": {"f:conditions": {}}}


def test_managers_of_other_versions_see_the_change_in_their_version(
    controlplane: ControlPlaneProcess, namespace: str
) -> None:
    def eventtype(version: str, value: str) -> str:
        doc: dict[str, object] = {
            "apiVersion": f"eventing.knative.dev/{version}",
            "kind": "EventType",
            "metadata": {"name": "multi", "namespace": namespace, "labels": {"tier": value}},
        }
        if version == "v1beta2":
            doc["spec"] = {"type": "dev.example.a", "source": "https://example.com"}
        return manifest(doc)

    controlplane.kubectl(
        "apply",
        "--server-side",
        "--field-manager=old",
        "-f",
        "-",
        input=eventtype("v1beta2", "a"),
        check=True,
    )
    refused = controlplane.kubectl(
        "apply",
        "--server-side",
        "--field-manager=new",
        "-f",
        "-",
        input=eventtype("v1beta3", "b"),
    )
    assert refused.returncode == 1
    assert 'conflict with "old": .metadata.labels.tier' in refused.stderr
    shared = controlplane.kubectl(
        "apply",
        "--server-side",
        "--field-manager=new",
        "-f",
        "-",
        input=eventtype("v1beta3", "a"),
    )
    assert shared.returncode == 0, shared.stderr
    obj = get_json(
        controlplane, "eventtypes.v1beta3.eventing.knative.dev", "multi", "-n", namespace
    )
    entries = {entry["manager"]: entry for entry in obj["metadata"]["managedFields"]}
    assert entries["old"]["apiVersion"] == "eventing.knative.dev/v1beta2"
    assert entries["new"]["apiVersion"] == "eventing.knative.dev/v1beta3"


def test_service_ports_merge_by_port_and_defaulted_protocol(
    controlplane: ControlPlaneProcess, namespace: str
) -> None:
    def service(*ports: dict[str, object]) -> str:
        return manifest(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "svc", "namespace": namespace},
                "spec": {"ports": list(ports), "selector": {"app": "x"}},
            }
        )

    for _ in range(2):
        controlplane.kubectl(
            "apply",
            "--server-side",
            "--field-manager=web",
            "-f",
            "-",
            input=service({"name": "http", "port": 80}),
            check=True,
        )
    controlplane.kubectl(
        "apply",
        "--server-side",
        "--field-manager=metrics",
        "-f",
        "-",
        input=service({"name": "metrics", "port": 9090}),
        check=True,
    )
    obj = get_json(controlplane, "service", "svc", "-n", namespace)
    assert [(port["port"], port["protocol"]) for port in obj["spec"]["ports"]] == [
        (80, "TCP"),
        (9090, "TCP"),
    ]
    assert (
        'k:{"port":80,"protocol":"TCP"}' in managers(obj)[("web", "Apply", "")]["f:spec"]["f:ports"]
    )


def test_kubectl_server_side_apply_keeps_the_last_applied_annotation_in_step(
    controlplane: ControlPlaneProcess, namespace: str
) -> None:
    controlplane.kubectl(
        "apply", "-f", "-", input=configmap("annotated", namespace, a="1"), check=True
    )
    controlplane.kubectl(
        "apply",
        "--server-side",
        "-f",
        "-",
        input=configmap("annotated", namespace, a="2"),
        check=True,
    )
    obj = get_json(controlplane, "configmap", "annotated", "-n", namespace)
    annotation = obj["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
    assert json.loads(annotation)["data"] == {"a": "2"}
    # upgraded without --force-conflicts: the fields kubectl's annotation set were taken over
    assert ("kubectl", "Apply", "") in managers(obj)
    assert ("kubectl-client-side-apply", "Update", "") not in managers(obj)


def test_the_garbage_collector_takes_what_it_removes_from_every_manager(
    controlplane: ControlPlaneProcess, namespace: str
) -> None:
    controlplane.kubectl(
        "create", "configmap", "owner", "-n", namespace, "--from-literal=a=1", check=True
    )
    owner = get_json(controlplane, "configmap", "owner", "-n", namespace)
    dependent = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "dependent",
            "namespace": namespace,
            "ownerReferences": [
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "name": "owner",
                    "uid": owner["metadata"]["uid"],
                }
            ],
        },
        "data": {"b": "2"},
    }
    controlplane.kubectl("apply", "--server-side", "-f", "-", input=manifest(dependent), check=True)
    controlplane.kubectl(
        "delete", "configmap", "owner", "-n", namespace, "--cascade=orphan", check=True
    )
    obj = get_json(controlplane, "configmap", "dependent", "-n", namespace)
    assert "ownerReferences" not in obj["metadata"]
    assert managers(obj)[("kubectl", "Apply", "")] == {"f:data": {"f:b": {}}}


def raw_request(
    controlplane: ControlPlaneProcess, path: str, body: bytes, content_type: str, *, chunked: bool
) -> tuple[int, dict[str, Any]]:
    """A PATCH with exactly these bytes (chunked: no Content-Length, as a streaming client)."""
    url = urllib.parse.urlsplit(controlplane.url)
    connection = HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)
    try:
        chunks = (body[i : i + 65536] for i in range(0, len(body), 65536))
        connection.request(
            "PATCH",
            f"{path}?fieldManager=raw",
            body=chunks if chunked else body,
            headers={"Content-Type": content_type},
            encode_chunked=chunked,
        )
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_body_over_3_mib_is_413_and_changes_nothing(
    controlplane: ControlPlaneProcess, namespace: str, chunked: bool
) -> None:
    path = f"/api/v1/namespaces/{namespace}/configmaps/huge"
    document = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "huge"}}
    body = json.dumps({**document, "data": {"blob": "x" * (3 * 1024 * 1024)}}).encode()
    status, answer = raw_request(controlplane, path, body, APPLY, chunked=chunked)
    assert status == 413, answer
    assert (answer["kind"], answer["reason"]) == ("Status", "RequestEntityTooLarge")
    assert answer["message"] == "Request entity too large: limit is 3145728"
    got = controlplane.kubectl("get", "configmap", "huge", "-n", namespace)
    assert got.returncode != 0, got
    assert "NotFound" in got.stderr, got


def test_yaml_aliases_in_a_body_are_refused_before_they_expand(
    controlplane: ControlPlaneProcess, namespace: str
) -> None:
    levels = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    levels += [
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]" for i in range(8)
    ]
    body = "\n".join(
        [
            "apiVersion: v1",
            "kind: ConfigMap",
            "metadata: {name: laughs}",
            "lol:",
            *(f"  {line}" for line in levels),
        ]
    ).encode()
    path = f"/api/v1/namespaces/{namespace}/configmaps/laughs"
    status, answer = raw_request(controlplane, path, body, APPLY, chunked=False)
    assert status == 400, answer
    assert answer["reason"] == "BadRequest"
    assert "YAML aliases are not accepted" in answer["message"]
    plain = b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: laughs}\ndata: {a: b}\n"
    status, answer = raw_request(controlplane, path, plain, APPLY, chunked=False)
    assert status == 201, answer
