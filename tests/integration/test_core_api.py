"""The core API tools touch, and the OpenAPI documents, as kubectl and the Python client use them.

One control plane process for the module (``conftest.controlplane``), reached over HTTP only:
kubectl from PyPI, kubernetes_asyncio's generated ``CoreV1Api`` and plain HTTP for the OpenAPI
documents.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes_asyncio import client, config
from kubernetes_asyncio.client import ApiClient, Configuration

from tests.support.controlplane import ControlPlaneProcess, manifest


def fetch(url: str, accept: str = "application/json") -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Accept": accept})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_cluster_info_names_the_control_plane(controlplane: ControlPlaneProcess) -> None:
    result = controlplane.kubectl("cluster-info", check=True)
    assert f"Kubernetes control plane is running at {controlplane.url}" in result.stdout
    services = controlplane.kubectl("get", "svc", "kubernetes", "-n", "default", check=True)
    header, row = services.stdout.splitlines()
    assert header.split() == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
    assert row.split()[:5] == ["kubernetes", "ClusterIP", "10.96.0.1", "<none>", "443/TCP"]
    port = controlplane.url.rsplit(":", 1)[1]
    endpoints = controlplane.kubectl("get", "ep", "kubernetes", "-o", "name", check=True)
    assert endpoints.stdout.strip() == "endpoints/kubernetes"
    listed = controlplane.kubectl("get", "ep", "kubernetes", check=True).stdout
    assert f"127.0.0.1:{port}" in listed
    described = controlplane.kubectl("describe", "svc", "kubernetes", check=True).stdout
    assert f"127.0.0.1:{port}" in described  # read from the EndpointSlice


def write_manifests(directory: Path, namespace: str, names: list[str]) -> None:
    for old in directory.glob("*.yaml"):
        old.unlink()
    for name in names:
        doc = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": namespace, "labels": {"app": "x"}},
            "data": {"name": name},
        }
        (directory / f"{name}.yaml").write_text(manifest(doc))


def test_apply_prune_without_an_allowlist(
    controlplane: ControlPlaneProcess, namespace: str, tmp_path: Path
) -> None:
    controlplane.kubectl(
        "create", "configmap", "bystander", "-n", namespace, "--from-literal=a=b", check=True
    )
    write_manifests(tmp_path, namespace, ["one", "two"])
    first = controlplane.kubectl("apply", "--prune", "-l", "app=x", "-f", str(tmp_path))
    assert first.returncode == 0, first.stderr
    assert {"configmap/one created", "configmap/two created"} <= set(first.stdout.splitlines())

    write_manifests(tmp_path, namespace, ["one"])
    second = controlplane.kubectl("apply", "--prune", "-l", "app=x", "-f", str(tmp_path))
    assert second.returncode == 0, second.stderr
    assert "configmap/one unchanged" in second.stdout
    assert "configmap/two pruned" in second.stdout
    left = controlplane.kubectl("get", "cm", "-n", namespace, "-o", "name", check=True)
    assert sorted(left.stdout.split()) == ["configmap/bystander", "configmap/one"]


def test_every_kind_of_the_default_prune_set_lists(
    controlplane: ControlPlaneProcess, namespace: str
) -> None:
    kinds = (
        "pods,pvc,rc,secrets,services,endpoints,jobs.batch,cronjobs.batch,"
        "ingresses.networking.k8s.io,daemonsets.apps,deployments.apps,replicasets.apps,"
        "statefulsets.apps"
    )
    listed = controlplane.kubectl("get", kinds, "-n", namespace, "-o", "name")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout == ""
    cluster = controlplane.kubectl("get", "pv,namespaces", "-o", "name", check=True)
    assert "namespace/default" in cluster.stdout


def test_namespace_labels_show_the_metadata_name(
    controlplane: ControlPlaneProcess, namespace: str
) -> None:
    shown = controlplane.kubectl("get", "ns", namespace, "--show-labels", check=True)
    assert f"kubernetes.io/metadata.name={namespace}" in shown.stdout


def test_create_secret_generic_then_get_yaml(
    controlplane: ControlPlaneProcess, namespace: str
) -> None:
    created = controlplane.kubectl(
        "create",
        "secret",
        "generic",
        "creds",
        "-n",
        namespace,
        "--from-literal=user=admin",
        "--from-literal=password=s3cr3t",
    )
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip() == "secret/creds created"
    secret = yaml.safe_load(
        controlplane.kubectl("get", "secret", "creds", "-n", namespace, "-o", "yaml").stdout
    )
    assert secret["type"] == "Opaque"
    assert secret["data"] == {"user": "YWRtaW4=", "password": "czNjcjN0"}
    table = controlplane.kubectl("get", "secrets", "-n", namespace, check=True).stdout.splitlines()
    assert table[0].split() == ["NAME", "TYPE", "DATA", "AGE"]
    assert table[1].split()[:3] == ["creds", "Opaque", "2"]


def test_bad_secret_data_is_refused_as_kube_apiserver_refuses_it(
    controlplane: ControlPlaneProcess, namespace: str
) -> None:
    doc: dict[str, object] = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "bad", "namespace": namespace},
        "data": {"k": "not base64!"},
    }
    refused = controlplane.kubectl("apply", "-f", "-", input=manifest(doc))
    assert refused.returncode == 1
    assert (
        'Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 3'
    ) in refused.stderr
    doc["data"] = {}
    doc["stringData"] = {"k": "plain"}
    doc["immutable"] = True
    controlplane.kubectl("apply", "-f", "-", input=manifest(doc), check=True)
    changed = controlplane.kubectl(
        "patch", "secret", "bad", "-n", namespace, "-p", '{"stringData":{"k":"other"}}'
    )
    assert changed.returncode == 1
    assert "data: Forbidden: field is immutable when `immutable` is set" in changed.stderr


def test_create_service_allocates_a_cluster_ip(
    controlplane: ControlPlaneProcess, namespace: str
) -> None:
    controlplane.kubectl(
        "create", "service", "clusterip", "web", "-n", namespace, "--tcp=80:8080", check=True
    )
    service = yaml.safe_load(
        controlplane.kubectl("get", "svc", "web", "-n", namespace, "-o", "yaml").stdout
    )
    assert service["spec"]["clusterIP"].startswith("10.96.")
    assert service["spec"]["ports"] == [
        {"name": "80-8080", "port": 80, "protocol": "TCP", "targetPort": 8080}
    ]
    assert service["spec"]["selector"] == {"app": "web"}


@pytest.fixture(scope="module")
async def core(controlplane: ControlPlaneProcess) -> AsyncIterator[Any]:
    cfg = Configuration()
    await config.load_kube_config(
        config_file=str(controlplane.kubeconfig), client_configuration=cfg
    )
    api = ApiClient(cfg)
    yield client.CoreV1Api(api)
    await api.close()


async def test_core_v1_api_lists_secrets_services_and_endpoints(core: Any, namespace: str) -> None:
    await core.create_namespaced_secret(
        namespace, {"metadata": {"name": "token"}, "stringData": {"t": "x"}}
    )
    await core.create_namespaced_service(
        namespace, {"metadata": {"name": "api"}, "spec": {"ports": [{"port": 443}]}}
    )
    await core.create_namespaced_endpoints(
        namespace,
        {
            "metadata": {"name": "api"},
            "subsets": [{"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 8443}]}],
        },
    )
    secrets = await core.list_namespaced_secret(namespace)
    assert [(s.metadata.name, s.data) for s in secrets.items] == [("token", {"t": "eA=="})]
    services = await core.list_namespaced_service(namespace)
    assert [s.spec.ports[0].target_port for s in services.items] == [443]
    endpoints = await core.list_namespaced_endpoints(namespace)
    assert endpoints.items[0].subsets[0].addresses[0].ip == "10.0.0.1"
    everywhere = await core.list_service_for_all_namespaces()
    assert {("default", "kubernetes"), (namespace, "api")} <= {
        (s.metadata.namespace, s.metadata.name) for s in everywhere.items
    }


def test_explain_metadata_prints_object_meta_fields(controlplane: ControlPlaneProcess) -> None:
    explained = controlplane.kubectl("explain", "eventtypes.metadata", check=True).stdout
    assert "FIELD: metadata <ObjectMeta>" in explained
    for field in ("labels\t<map[string]string>", "ownerReferences\t<[]OwnerReference>"):
        assert field in explained
    assert "<no description>" not in explained
    owners = controlplane.kubectl("explain", "brokers.metadata.ownerReferences", check=True)
    assert "uid\t<string> -required-" in owners.stdout


def test_explain_broker_delivery_prints_fields(controlplane: ControlPlaneProcess) -> None:
    explained = controlplane.kubectl("explain", "brokers.spec.delivery", check=True).stdout
    assert "KIND:       Broker" in explained
    for field in ("deadLetterSink", "retry", "backoffPolicy", "backoffDelay"):
        assert f"  {field}\t" in explained


def test_explain_secret_data(controlplane: ControlPlaneProcess) -> None:
    explained = controlplane.kubectl("explain", "secrets.data", check=True).stdout
    assert "base64" in explained


def test_openapi_v2_parses_and_names_every_kind(controlplane: ControlPlaneProcess) -> None:
    status, body = fetch(f"{controlplane.url}/openapi/v2")
    assert status == 200
    swagger = json.loads(body)
    assert swagger["swagger"] == "2.0"
    named = {
        (gvk["group"], gvk["version"], gvk["kind"])
        for definition in swagger["definitions"].values()
        for gvk in definition.get("x-kubernetes-group-version-kind", ())
    }
    served: set[tuple[str, str, str]] = set()
    for group_version in _group_versions(controlplane.url):
        _, raw = fetch(f"{controlplane.url}/{group_version}")
        listed = json.loads(raw)
        group, _, version = listed["groupVersion"].rpartition("/")
        served.update(
            (group, version, r["kind"]) for r in listed["resources"] if "/" not in r["name"]
        )
    assert served <= named, served - named
    assert ("", "v1", "Secret") in named
    assert ("eventing.knative.dev", "v1beta3", "EventType") in named
    text = body.decode()
    assert "#/components/" not in text
    assert '"nullable"' not in text
    metadata = swagger["definitions"]["io.k8s.api.core.v1.Secret"]["properties"]["metadata"]
    assert metadata["allOf"] == [
        {"$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}
    ]


def _group_versions(url: str) -> list[str]:
    found = ["api/v1"]
    _, raw = fetch(f"{url}/apis")
    for group in json.loads(raw)["groups"]:
        found.extend(f"apis/{v['groupVersion']}" for v in group["versions"])
    return found


def test_openapi_v2_as_protobuf_only_is_not_acceptable(controlplane: ControlPlaneProcess) -> None:
    status, body = fetch(
        f"{controlplane.url}/openapi/v2",
        accept="application/com.github.proto-openapi.spec.v2@v1.0+protobuf",
    )
    assert status == 406
    assert json.loads(body)["reason"] == "NotAcceptable"


def test_openapi_v3_refers_every_kind_to_the_shared_schemas(
    controlplane: ControlPlaneProcess,
) -> None:
    _, raw = fetch(f"{controlplane.url}/openapi/v3")
    for path, entry in json.loads(raw)["paths"].items():
        _, body = fetch(controlplane.url + entry["serverRelativeURL"])
        schemas = json.loads(body)["components"]["schemas"]
        for name, schema in schemas.items():
            if name.startswith("io.k8s.apimachinery"):
                continue
            metadata = schema["properties"]["metadata"]
            target = metadata["allOf"][0]["$ref"].rsplit("/", 1)[1]
            expected = "ListMeta" if name.endswith("List") else "ObjectMeta"
            assert target == f"io.k8s.apimachinery.pkg.apis.meta.v1.{expected}", (path, name)
            assert target in schemas


def deployment(namespace: str, image: str) -> dict[str, object]:
    labels = {"app": "web"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": namespace},
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [{"name": "c", "image": image}, {"name": "d", "image": "x"}]
                },
            },
        },
    }


def test_client_side_apply_merges_containers_and_ports_by_key(
    controlplane: ControlPlaneProcess, namespace: str
) -> None:
    for image in ("nginx:1", "nginx:2"):
        applied = controlplane.kubectl(
            "apply", "-f", "-", input=manifest(deployment(namespace, image))
        )
        assert applied.returncode == 0, applied.stderr
        assert applied.stderr == ""  # no OpenAPI warning, as on a cluster
    stored = json.loads(
        controlplane.kubectl("get", "deploy", "web", "-n", namespace, "-o", "json").stdout
    )
    assert stored["spec"]["template"]["spec"]["containers"] == [
        {"name": "c", "image": "nginx:2"},
        {"name": "d", "image": "x"},
    ]
    service: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "ports", "namespace": namespace},
        "spec": {"ports": [{"name": "a", "port": 80}, {"name": "b", "port": 443}]},
    }
    controlplane.kubectl("apply", "-f", "-", input=manifest(service), check=True)
    service["spec"]["ports"][1] = {"name": "b", "port": 8443}
    controlplane.kubectl("apply", "-f", "-", input=manifest(service), check=True)
    ports = json.loads(
        controlplane.kubectl("get", "svc", "ports", "-n", namespace, "-o", "json").stdout
    )["spec"]["ports"]
    assert [(p["name"], p["port"], p["targetPort"]) for p in ports] == [
        ("a", 80, 80),
        ("b", 8443, 8443),
    ]
