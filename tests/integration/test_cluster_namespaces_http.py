"""Namespaces and JSON patch errors as kubectl meets them on a cluster.

After start the system namespaces and Knative's ``knative-eventing`` are listed; every Namespace
carries the ``kubernetes.io/metadata.name`` label the API server sets (so namespaceSelectors
work); Namespaces do not take DELETE on their collection and discovery does not list
``deletecollection`` for them; a JSON patch that does not apply is refused in kube-apiserver's
words, with no Python type in sight.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator

import pytest

from event_registry.controlplane.api.resources import NAMESPACES
from event_registry.controlplane.storage.sqlite import Storage
from tests.support.controlplane import ControlPlaneProcess

SYSTEM = ["default", "knative-eventing", "kube-node-lease", "kube-public", "kube-system"]
LABEL = "kubernetes.io/metadata.name"


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlaneProcess]:
    process = ControlPlaneProcess(tmp_path_factory.mktemp("namespaces"), "--no-controllers").start()
    try:
        yield process
    finally:
        process.stop()


def test_the_system_namespaces_exist_after_start(plane: ControlPlaneProcess) -> None:
    listed = plane.kubectl("get", "ns", "-o", "name", check=True).stdout.split()
    assert [name.removeprefix("namespace/") for name in listed] == SYSTEM


def test_every_namespace_shows_its_metadata_label(plane: ControlPlaneProcess) -> None:
    plane.kubectl("create", "namespace", "labelled", check=True)
    shown = plane.kubectl("get", "ns", "--show-labels", check=True).stdout.splitlines()
    rows = {line.split()[0]: line.split()[-1] for line in shown[1:]}
    assert rows["labelled"] == f"{LABEL}=labelled"
    assert all(rows[name] == f"{LABEL}={name}" for name in SYSTEM)
    selected = plane.kubectl("get", "ns", "-l", f"{LABEL}=labelled", "-o", "name", check=True)
    assert selected.stdout.split() == ["namespace/labelled"]


def test_a_client_cannot_change_the_metadata_label(plane: ControlPlaneProcess) -> None:
    plane.kubectl("create", "namespace", "steady", check=True)
    relabel = plane.kubectl("label", "ns", "steady", f"{LABEL}=other", "--overwrite")
    assert relabel.returncode == 0, relabel.stderr
    got = plane.kubectl("get", "ns", "steady", "-o", "json", check=True)
    assert json.loads(got.stdout)["metadata"]["labels"] == {LABEL: "steady"}


def test_namespaces_have_no_deletecollection(plane: ControlPlaneProcess) -> None:
    resources = json.loads(plane.kubectl("get", "--raw", "/api/v1", check=True).stdout)
    verbs = {entry["name"]: entry["verbs"] for entry in resources["resources"]}
    assert verbs["namespaces"] == ["create", "delete", "get", "list", "patch", "update", "watch"]
    assert "deletecollection" in verbs["configmaps"]
    refused = plane.kubectl("delete", "--raw", "/api/v1/namespaces")
    assert refused.returncode == 1
    assert "the server does not allow this method on the requested resource" in refused.stderr
    assert plane.kubectl("get", "ns", "default", "-o", "name").returncode == 0


@pytest.mark.parametrize(
    ("operation", "message"),
    [
        (
            {"op": "replace", "path": "/data/nope/x", "value": "1"},
            "replace operation does not apply: doc is missing key: /data/nope/x: missing value",
        ),
        (
            {"op": "add", "path": "/data/a/x", "value": "1"},
            'add operation does not apply: doc is missing path: "/data/a/x": missing value',
        ),
        (
            {"op": "remove", "path": "/data/gone"},
            'remove operation does not apply: doc is missing path: "/data/gone": missing value',
        ),
    ],
)
def test_a_json_patch_that_does_not_apply_reads_as_on_a_cluster(
    plane: ControlPlaneProcess, operation: dict[str, str], message: str
) -> None:
    plane.kubectl("create", "configmap", "patched", "--from-literal=a=1", "-n", "default")
    patched = plane.kubectl(
        "patch",
        "configmap",
        "patched",
        "-n",
        "default",
        "--type=json",
        "-p",
        json.dumps([operation]),
    )
    assert patched.returncode == 1
    # kubectl prints an Invalid Status without kind and name this way, field (empty): message
    assert patched.stderr == f"The request is invalid: : {message}\n"
    assert "<class" not in patched.stderr


def test_a_namespace_stored_without_the_label_gets_it_at_start(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    data = tmp_path_factory.mktemp("older")
    first = ControlPlaneProcess(data, "--no-controllers").start()
    try:
        first.kubectl("create", "namespace", "older", check=True)
    finally:
        first.stop()
    # as a build before the label stored it
    storage = Storage(data, history_limit=1000)
    try:
        stored = storage.get(NAMESPACES.key, "", "older")
        assert stored is not None
        unlabelled = copy.deepcopy(stored)
        del unlabelled["metadata"]["labels"]
        storage.write("MODIFIED", NAMESPACES.key, unlabelled, stored)
    finally:
        storage.close()
    second = ControlPlaneProcess(data, "--no-controllers").start()
    try:
        got = second.kubectl("get", "ns", "older", "-o", "json", check=True)
        assert json.loads(got.stdout)["metadata"]["labels"] == {LABEL: "older"}
    finally:
        second.stop()
