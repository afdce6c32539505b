"""Secrets and Services on a real ApiServer (SQLite in a temporary directory): what a write
does beyond the schema, as kube-apiserver does it, and the ``kubernetes`` Service; plus the
discovery facts (storageVersionHash, names) of the core and prune-set kinds."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from event_registry.controlplane.api import core_enabling, discovery
from event_registry.controlplane.api.apiserver import ApiServer, Target
from event_registry.controlplane.api.core import ENDPOINT_SLICES, ENDPOINTS, SECRETS, SERVICES
from event_registry.controlplane.api.resources import NAMESPACES
from event_registry.controlplane.api.secrets import base64_error_offset
from event_registry.controlplane.machinery import errors
from event_registry.controlplane.storage.sqlite import Storage


@pytest.fixture
def api(tmp_path: Path) -> Iterator[ApiServer]:
    storage = Storage(tmp_path / "data", history_limit=1000)
    server = ApiServer(storage)
    server.create(Target(NAMESPACES, "v1"), {"metadata": {"name": "default"}})
    core_enabling.enable(server, host="127.0.0.1", port=6443, scheme="https")
    yield server
    storage.close()


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def create_secret(api: ApiServer, **fields: Any) -> dict[str, Any]:
    body = {"metadata": {"name": fields.pop("name", "s")}, **fields}
    return api.create(Target(SECRETS, "v1", "default"), body).object


def invalid_causes(error: pytest.ExceptionInfo[errors.ApiError]) -> list[str]:
    assert error.value.code == 422, error.value
    return [f"{cause.field}: {cause.message}" for cause in error.value.causes]


# ------------------------------------------------------------------------------ Secrets


def test_string_data_is_merged_into_data_and_never_stored(api: ApiServer) -> None:
    secret = create_secret(
        api, data={"a": b64("old"), "b": b64("kept")}, stringData={"a": "new", "c": "ç"}
    )
    assert secret["data"] == {"a": b64("new"), "b": b64("kept"), "c": b64("ç")}
    assert "stringData" not in secret
    assert secret["type"] == "Opaque"
    assert "stringData" not in api.get(Target(SECRETS, "v1", "default", "s"))


@pytest.mark.parametrize(
    ("value", "offset"), [("!!!!", 0), ("YWJj!", 4), ("abc", 0), ("YWJjZA", 4), ("Y=Jj", 1)]
)
def test_bad_base64_is_a_400_naming_the_byte(api: ApiServer, value: str, offset: int) -> None:
    assert base64_error_offset(value) == offset
    with pytest.raises(errors.BadRequest) as error:
        create_secret(api, data={"k": value})
    assert error.value.message == (
        'Secret in version "v1" cannot be handled as a Secret: '
        f"illegal base64 data at input byte {offset}"
    )
    assert api.storage.get(SECRETS.key, "default", "s") is None


def test_base64_with_line_breaks_decodes_as_go_does() -> None:
    assert base64_error_offset("YWJj\nZGVm") is None


def test_keys_and_types_are_validated(api: ApiServer) -> None:
    with pytest.raises(errors.ApiError) as error:
        create_secret(api, stringData={"a b": "x", "..": "y"})
    assert invalid_causes(error) == [
        'data[a b]: Invalid value: "a b": a valid config key must consist of alphanumeric '
        "characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex "
        "used for validation is '[-._a-zA-Z0-9]+')",
        "data[..]: Invalid value: \"..\": must not be '..'",
    ]
    with pytest.raises(errors.ApiError) as error:
        create_secret(api, type="kubernetes.io/tls", stringData={"tls.crt": "c"})
    assert invalid_causes(error) == ["data[tls.key]: Required value"]
    with pytest.raises(errors.ApiError) as error:
        create_secret(api, type="kubernetes.io/basic-auth")
    assert invalid_causes(error) == [
        "data[username]: Required value",
        "data[password]: Required value",
    ]
    assert create_secret(api, type="kubernetes.io/basic-auth", stringData={"password": "p"})
    with pytest.raises(errors.ApiError) as error:
        create_secret(
            api,
            name="d",
            type="kubernetes.io/dockerconfigjson",
            stringData={".dockerconfigjson": "{"},
        )
    assert invalid_causes(error)[0].startswith('data[.dockerconfigjson]: Invalid value: "<secret')


def test_a_secret_over_one_mebibyte_is_refused(api: ApiServer) -> None:
    with pytest.raises(errors.ApiError) as error:
        create_secret(api, stringData={"a": "x" * (1024 * 1024), "b": "y"})
    assert invalid_causes(error) == ["data: Too long: must have at most 1048576 bytes"]


def test_immutable_secret_keeps_data_and_type_but_metadata_may_change(api: ApiServer) -> None:
    create_secret(api, data={"a": b64("1")}, immutable=True)
    target = Target(SECRETS, "v1", "default", "s")
    with pytest.raises(errors.ApiError) as error:
        api.patch(target, "application/merge-patch+json", {"data": {"a": b64("2")}})
    assert invalid_causes(error) == ["data: Forbidden: field is immutable when `immutable` is set"]
    with pytest.raises(errors.ApiError) as error:
        api.patch(target, "application/merge-patch+json", {"immutable": False, "type": "x/y"})
    assert invalid_causes(error) == [
        'type: Invalid value: "x/y": field is immutable',
        "immutable: Forbidden: field is immutable when `immutable` is set",
    ]
    labelled = api.patch(
        target, "application/merge-patch+json", {"metadata": {"labels": {"a": "b"}}}
    )
    assert labelled.object["metadata"]["labels"] == {"a": "b"}


# ------------------------------------------------------------------------------ Services


def create_service(api: ApiServer, name: str, **spec: Any) -> dict[str, Any]:
    body = {"metadata": {"name": name}, "spec": spec}
    return api.create(Target(SERVICES, "v1", "default"), body).object


PORT_80 = [{"port": 80}]


def test_service_defaults_and_cluster_ips_in_order(api: ApiServer) -> None:
    first = create_service(api, "a", ports=PORT_80, selector={"app": "a"})
    assert first["spec"] == {
        "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80}],
        "selector": {"app": "a"},
        "type": "ClusterIP",
        "sessionAffinity": "None",
        "internalTrafficPolicy": "Cluster",
        "clusterIP": "10.96.0.2",
        "clusterIPs": ["10.96.0.2"],
        "ipFamilies": ["IPv4"],
        "ipFamilyPolicy": "SingleStack",
    }
    assert "generation" not in first["metadata"]
    assert create_service(api, "b", ports=PORT_80)["spec"]["clusterIP"] == "10.96.0.3"
    headless = create_service(api, "h", clusterIP="None")
    assert headless["spec"]["clusterIPs"] == ["None"]


def test_service_refusals_name_the_field(api: ApiServer) -> None:
    with pytest.raises(errors.ApiError) as error:
        create_service(api, "x", type="Weird")
    assert invalid_causes(error) == [
        'spec.type: Unsupported value: "Weird": supported values: '
        '"ClusterIP", "ExternalName", "LoadBalancer", "NodePort"'
    ]
    with pytest.raises(errors.ApiError) as error:
        create_service(api, "x", ports=[{"port": 0, "protocol": "HTTP"}, {"port": 80}])
    assert invalid_causes(error) == [
        "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive",
        'spec.ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
        "spec.ports[0].name: Required value",
        "spec.ports[1].name: Required value",
    ]
    with pytest.raises(errors.ApiError) as error:
        create_service(api, "x")
    assert invalid_causes(error) == ["spec.ports: Required value"]
    with pytest.raises(errors.ApiError) as error:
        create_service(api, "x", type="ExternalName")
    assert invalid_causes(error) == ["spec.externalName: Required value"]
    with pytest.raises(errors.ApiError) as error:
        create_service(api, "x", ports=PORT_80, clusterIP="10.96.0.1")
    assert invalid_causes(error) == [
        'spec.clusterIPs: Invalid value: ["10.96.0.1"]: failed to allocate IP 10.96.0.1: '
        "provided IP is already allocated"
    ]


def test_node_ports_are_allocated_and_kept_across_updates(api: ApiServer) -> None:
    ports = [{"name": "a", "port": 80}, {"name": "b", "port": 81, "nodePort": 30000}]
    created = create_service(api, "n", type="NodePort", ports=ports)
    assert [p["nodePort"] for p in created["spec"]["ports"]] == [30001, 30000]
    assert created["spec"]["externalTrafficPolicy"] == "Cluster"
    target = Target(SERVICES, "v1", "default", "n")
    updated = api.update(
        target,
        {
            "metadata": {"name": "n"},
            "spec": {"type": "NodePort", "ports": [{"name": "a", "port": 80}]},
        },
    ).object
    assert updated["spec"]["ports"][0]["nodePort"] == 30001
    assert updated["spec"]["clusterIP"] == created["spec"]["clusterIP"]
    with pytest.raises(errors.ApiError) as error:
        api.patch(target, "application/merge-patch+json", {"spec": {"clusterIP": "10.96.0.99"}})
    assert invalid_causes(error) == [
        'spec.clusterIP: Invalid value: "10.96.0.99": field is immutable'
    ]


def test_the_kubernetes_service_points_at_the_control_plane(api: ApiServer) -> None:
    service = api.get(Target(SERVICES, "v1", "default", "kubernetes"))
    assert service["spec"]["clusterIP"] == "10.96.0.1"
    assert service["spec"]["ports"] == [
        {"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}
    ]
    assert service["metadata"]["labels"] == {"component": "apiserver", "provider": "kubernetes"}
    endpoints = api.get(Target(ENDPOINTS, "v1", "default", "kubernetes"))
    assert endpoints["subsets"] == [
        {
            "addresses": [{"ip": "127.0.0.1"}],
            "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}],
        }
    ]
    endpoint_slice = api.get(Target(ENDPOINT_SLICES, "v1", "default", "kubernetes"))
    assert endpoint_slice["metadata"]["labels"] == {"kubernetes.io/service-name": "kubernetes"}
    assert endpoint_slice["endpoints"] == [
        {"addresses": ["127.0.0.1"], "conditions": {"ready": True}}
    ]
    core_enabling.enable(api, host="127.0.0.1", port=7000, scheme="https")
    moved = api.get(Target(ENDPOINTS, "v1", "default", "kubernetes"))
    assert moved["subsets"][0]["ports"][0]["port"] == 7000


# ------------------------------------------------------------------------------ discovery

# kube-apiserver's values, as its discovery documents show them
REAL_HASHES = {
    "configmaps": "qFsyl6wFWjQ=",
    "endpoints": "fWeeMqaN/OA=",
    "secrets": "S6u1pOWzb84=",
    "services": "0/CO1lhkEBI=",
    "pods": "xPOwRZ+Yhw8=",
    "persistentvolumeclaims": "QWTyNDq0dC4=",
    "persistentvolumes": "HN/zwEC+JgM=",
    "replicationcontrollers": "Jond2If31h0=",
    "namespaces": "Q3oi5N2YM8M=",
    "serviceaccounts": "pbx9ZvyFpBE=",
}


def test_core_discovery_lists_kinds_as_kube_apiserver(api: ApiServer) -> None:
    listed = discovery.api_resource_list(api.catalog, "", "v1")
    assert listed is not None
    by_name = {entry["name"]: entry for entry in listed["resources"]}
    for name, expected in REAL_HASHES.items():
        assert by_name[name]["storageVersionHash"] == expected, name
        assert by_name[name]["verbs"][:3] == ["create", "delete", "deletecollection"] or (
            name == "namespaces"
        )
    assert by_name["endpoints"]["singularName"] == "endpoints"
    assert by_name["services"]["shortNames"] == ["svc"]
    assert by_name["services"]["categories"] == ["all"]
    assert "services/status" in by_name
    assert "secrets/status" not in by_name
    apps = discovery.api_resource_list(api.catalog, "apps", "v1")
    assert apps is not None
    deployments = next(e for e in apps["resources"] if e["name"] == "deployments")
    assert deployments["storageVersionHash"] == "8aSe+NMegvE="
    assert deployments["shortNames"] == ["deploy"]


# ------------------------------------------------------------------------------ strategic merge


def test_strategic_merge_patches_merge_pod_template_containers_by_name(api: ApiServer) -> None:
    deployments = api.catalog.lookup("apps", "v1", "deployments")
    assert deployments is not None
    containers = [{"name": "c", "image": "a", "env": [{"name": "X", "value": "1"}]}, {"name": "d"}]
    body = {"metadata": {"name": "web"}, "spec": {"template": {"spec": {"containers": containers}}}}
    api.create(Target(deployments, "v1", "default"), body)
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "$setElementOrder/containers": [{"name": "c"}, {"name": "d"}],
                    "containers": [
                        {"name": "c", "image": "b", "env": [{"name": "Y", "value": "2"}]}
                    ],
                }
            }
        }
    }
    patched = api.patch(
        Target(deployments, "v1", "default", "web"), "application/strategic-merge-patch+json", patch
    ).object
    first, second = patched["spec"]["template"]["spec"]["containers"]
    assert (first["name"], first["image"], second) == ("c", "b", {"name": "d"})
    assert sorted(e["name"] for e in first["env"]) == ["X", "Y"]  # merged by name
