"""The control plane as kubernetes_asyncio sees it: core objects, CRDs and custom objects.

Every request goes through the typed client (CoreV1Api, ApiextensionsV1Api, CustomObjectsApi)
against a real control plane process, so these tests pin what a controller written with the
client library relies on: 201s that return server-populated metadata, Status bodies with the
right code/reason/causes, selectors, consistent paging, optimistic concurrency and the status
subresource.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import yaml
from kubernetes_asyncio import client, config
from kubernetes_asyncio.client import ApiClient, ApiException, Configuration

from tests.support.controlplane import ControlPlaneProcess, knative_crd

GROUP = "eventing.knative.dev"
VERSION = "v1beta2"
PLURAL = "eventtypes"
MERGE_PATCH = "application/merge-patch+json"
TRIGGERS = "triggers"


# fixtures and helpers ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def controlplane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlaneProcess]:
    """The control plane alone: no embedded controller writes objects behind these tests."""
    plane = ControlPlaneProcess(
        tmp_path_factory.mktemp("client-library"), "--no-controllers"
    ).start()
    yield plane
    plane.stop()


@pytest.fixture(scope="module")
async def api_client(controlplane: ControlPlaneProcess) -> AsyncIterator[Any]:
    cfg = Configuration()
    await config.load_kube_config(
        config_file=str(controlplane.kubeconfig), client_configuration=cfg
    )
    api = ApiClient(cfg)
    yield api
    await api.close()


@pytest.fixture(scope="module")
def core(api_client: Any) -> Any:
    return client.CoreV1Api(api_client)


@pytest.fixture(scope="module")
def custom(api_client: Any) -> Any:
    return client.CustomObjectsApi(api_client)


@pytest.fixture(scope="module")
async def eventtype_crd(api_client: Any) -> Any:
    """The real Knative EventType CRD, created once for the module through ApiextensionsV1Api.

    The control plane installs its own EventType CRD at start; it is deleted first, so the
    real one is created as a user would apply it (the plane then leaves it alone).
    """
    extensions = client.ApiextensionsV1Api(api_client)
    body = yaml.safe_load(knative_crd("eventtype"))
    name = body["metadata"]["name"]
    try:
        await extensions.delete_custom_resource_definition(name)
    except ApiException as error:
        if error.status != 404:
            raise
    deadline = time.monotonic() + 10
    while True:
        try:
            await extensions.read_custom_resource_definition(name)
        except ApiException as error:
            if error.status != 404:
                raise
            break
        assert time.monotonic() < deadline, f"{name} was not deleted"
        await asyncio.sleep(0.05)
    created, status, _ = await extensions.create_custom_resource_definition_with_http_info(body)
    assert status == 201
    return created


def status_body(error: Any) -> dict[str, Any]:
    """The decoded ``Status`` of an ApiException."""
    body = json.loads(error.body)
    assert isinstance(body, dict), body
    assert body["kind"] == "Status"
    assert body["status"] == "Failure"
    assert body["code"] == error.status
    return body


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def configmap(name: str, labels: dict[str, str] | None = None, **data: str) -> Any:
    return client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name=name, labels=labels), data=dict(data) or None
    )


def eventtype(
    name: str | None = None,
    *,
    generate_name: str | None = None,
    labels: dict[str, str] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    metadata: dict[str, Any] = {}
    if name is not None:
        metadata["name"] = name
    if generate_name is not None:
        metadata["generateName"] = generate_name
    if labels:
        metadata["labels"] = labels
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "EventType",
        "metadata": metadata,
        "spec": {"type": "dev.example.ping", "source": "https://example.com/ping", **spec},
    }


# 1. core objects -----------------------------------------------------------------------------


async def test_namespace_create_get_list_patch_delete(core: Any) -> None:
    name = unique("ns")
    labels = {"suite": "client-library", "case": name}
    created, code, _ = await core.create_namespace_with_http_info(
        client.V1Namespace(metadata=client.V1ObjectMeta(name=name, labels=labels))
    )
    assert code == 201
    assert created.metadata.name == name
    assert created.metadata.uid
    assert created.metadata.creation_timestamp is not None
    assert int(created.metadata.resource_version) > 0
    assert created.status.phase == "Active"

    fetched = await core.read_namespace(name)
    assert fetched.metadata.uid == created.metadata.uid
    assert fetched.metadata.resource_version == created.metadata.resource_version

    listed = await core.list_namespace(label_selector=f"case={name}")
    assert [ns.metadata.name for ns in listed.items] == [name]
    assert int(listed.metadata.resource_version) >= int(created.metadata.resource_version)
    everything = {ns.metadata.name for ns in (await core.list_namespace()).items}
    system = {"default", "kube-system", "kube-public", "kube-node-lease", "knative-eventing"}
    assert {name, *system} <= everything

    patched = await core.patch_namespace(name, {"metadata": {"labels": {"tier": "gold"}}})
    # the API server adds kubernetes.io/metadata.name to every Namespace, as on a cluster
    assert patched.metadata.labels == {
        **labels,
        "tier": "gold",
        "kubernetes.io/metadata.name": name,
    }
    assert patched.metadata.uid == created.metadata.uid
    assert int(patched.metadata.resource_version) > int(created.metadata.resource_version)
    assert [
        ns.metadata.name for ns in (await core.list_namespace(label_selector="tier=gold")).items
    ] == [name]

    await core.delete_namespace(name)
    deleting = await core.read_namespace(name)
    assert deleting.metadata.deletion_timestamp is not None
    assert deleting.status.phase == "Terminating"


async def test_configmap_create_get_list_patch_delete(core: Any, namespace: str) -> None:
    created, code, _ = await core.create_namespaced_config_map_with_http_info(
        namespace, configmap("alpha", {"app": "demo", "role": "a"}, greeting="hello")
    )
    assert code == 201
    assert created.metadata.namespace == namespace
    assert created.metadata.uid
    assert created.metadata.creation_timestamp is not None
    first_rv = int(created.metadata.resource_version)
    assert created.data == {"greeting": "hello"}
    await core.create_namespaced_config_map(namespace, configmap("beta", {"app": "demo"}))
    await core.create_namespaced_config_map(namespace, configmap("gamma", {"app": "other"}))

    fetched = await core.read_namespaced_config_map("alpha", namespace)
    assert fetched.metadata.uid == created.metadata.uid
    assert fetched.data == {"greeting": "hello"}

    everything = await core.list_namespaced_config_map(namespace)
    assert [cm.metadata.name for cm in everything.items] == ["alpha", "beta", "gamma"]
    assert int(everything.metadata.resource_version) > first_rv
    demo = await core.list_namespaced_config_map(namespace, label_selector="app=demo")
    assert [cm.metadata.name for cm in demo.items] == ["alpha", "beta"]
    set_based = await core.list_namespaced_config_map(
        namespace, label_selector="app in (demo,other),!role"
    )
    assert [cm.metadata.name for cm in set_based.items] == ["beta", "gamma"]
    by_name = await core.list_namespaced_config_map(namespace, field_selector="metadata.name=beta")
    assert [cm.metadata.name for cm in by_name.items] == ["beta"]
    not_beta = await core.list_namespaced_config_map(
        namespace, field_selector="metadata.name!=beta"
    )
    assert [cm.metadata.name for cm in not_beta.items] == ["alpha", "gamma"]
    across = await core.list_config_map_for_all_namespaces(
        field_selector=f"metadata.namespace={namespace}", label_selector="app=demo"
    )
    assert sorted(cm.metadata.name for cm in across.items) == ["alpha", "beta"]

    patched = await core.patch_namespaced_config_map(
        "alpha", namespace, {"data": {"extra": "1"}, "metadata": {"labels": {"role": "b"}}}
    )
    assert patched.data == {"greeting": "hello", "extra": "1"}
    assert patched.metadata.labels == {"app": "demo", "role": "b"}
    assert patched.metadata.uid == created.metadata.uid
    assert int(patched.metadata.resource_version) > int(everything.metadata.resource_version)

    # an update with the resourceVersion read before the patch is a conflict
    fetched.data = {"greeting": "stale"}
    with pytest.raises(ApiException) as conflict:
        await core.replace_namespaced_config_map("alpha", namespace, fetched)
    assert conflict.value.status == 409
    assert status_body(conflict.value)["reason"] == "Conflict"
    assert (await core.read_namespaced_config_map("alpha", namespace)).data["greeting"] == "hello"

    with pytest.raises(ApiException) as wrong_uid:
        await core.delete_namespaced_config_map(
            "alpha",
            namespace,
            body=client.V1DeleteOptions(preconditions=client.V1Preconditions(uid="not-the-uid")),
        )
    assert wrong_uid.value.status == 409
    assert status_body(wrong_uid.value)["reason"] == "Conflict"
    await core.delete_namespaced_config_map(
        "alpha",
        namespace,
        body=client.V1DeleteOptions(preconditions=client.V1Preconditions(uid=created.metadata.uid)),
    )
    with pytest.raises(ApiException) as gone:
        await core.read_namespaced_config_map("alpha", namespace)
    assert gone.value.status == 404
    remaining = await core.list_namespaced_config_map(namespace)
    assert [cm.metadata.name for cm in remaining.items] == ["beta", "gamma"]

    await core.delete_collection_namespaced_config_map(namespace, label_selector="app=other")
    survivors = await core.list_namespaced_config_map(namespace)
    assert [cm.metadata.name for cm in survivors.items] == ["beta"]


async def test_missing_object_is_404_not_found(core: Any, namespace: str) -> None:
    with pytest.raises(ApiException) as caught:
        await core.read_namespaced_config_map("does-not-exist", namespace)
    assert caught.value.status == 404
    body = status_body(caught.value)
    assert body["reason"] == "NotFound"
    assert body["details"]["name"] == "does-not-exist"
    assert body["details"]["kind"] == "configmaps"

    with pytest.raises(ApiException) as missing_ns:
        await core.read_namespace(unique("no-such-namespace"))
    assert missing_ns.value.status == 404
    assert status_body(missing_ns.value)["reason"] == "NotFound"

    with pytest.raises(ApiException) as delete_missing:
        await core.delete_namespaced_config_map("does-not-exist", namespace)
    assert delete_missing.value.status == 404
    assert status_body(delete_missing.value)["reason"] == "NotFound"


async def test_create_in_missing_namespace_is_404(core: Any) -> None:
    with pytest.raises(ApiException) as caught:
        await core.create_namespaced_config_map(unique("absent"), configmap("orphan"))
    assert caught.value.status == 404
    assert status_body(caught.value)["reason"] == "NotFound"


async def test_duplicate_create_is_409_already_exists(core: Any, namespace: str) -> None:
    original = await core.create_namespaced_config_map(namespace, configmap("dup", value="first"))
    with pytest.raises(ApiException) as caught:
        await core.create_namespaced_config_map(namespace, configmap("dup", value="second"))
    assert caught.value.status == 409
    body = status_body(caught.value)
    assert body["reason"] == "AlreadyExists"
    assert body["details"]["name"] == "dup"
    current = await core.read_namespaced_config_map("dup", namespace)
    assert current.data == {"value": "first"}
    assert current.metadata.resource_version == original.metadata.resource_version


async def test_invalid_name_is_422_and_creates_nothing(core: Any, namespace: str) -> None:
    before = await core.list_namespaced_config_map(namespace)
    with pytest.raises(ApiException) as caught:
        await core.create_namespaced_config_map(namespace, configmap("Upper-Case"))
    assert caught.value.status == 422
    body = status_body(caught.value)
    assert body["reason"] == "Invalid"
    assert body["details"]["causes"][0]["field"] == "metadata.name"
    assert body["details"]["name"] == "Upper-Case"
    after = await core.list_namespaced_config_map(namespace)
    assert after.items == []
    assert after.metadata.resource_version == before.metadata.resource_version

    bad_namespace = f"Upper-{uuid.uuid4().hex[:6]}"
    with pytest.raises(ApiException) as ns_caught:
        await core.create_namespace(
            client.V1Namespace(metadata=client.V1ObjectMeta(name=bad_namespace))
        )
    assert ns_caught.value.status == 422
    assert status_body(ns_caught.value)["details"]["causes"][0]["field"] == "metadata.name"
    names = {ns.metadata.name for ns in (await core.list_namespace()).items}
    assert bad_namespace not in names


# 2. CRDs and custom objects ------------------------------------------------------------------


async def test_crd_is_established_with_its_names(api_client: Any, eventtype_crd: Any) -> None:
    extensions = client.ApiextensionsV1Api(api_client)
    crd = await extensions.read_custom_resource_definition("eventtypes.eventing.knative.dev")
    assert crd.metadata.uid == eventtype_crd.metadata.uid
    conditions = {c.type: c.status for c in crd.status.conditions}
    assert conditions.get("Established") == "True"
    assert crd.status.accepted_names.kind == "EventType"
    assert crd.status.accepted_names.plural == "eventtypes"
    assert crd.status.stored_versions == ["v1beta2"]
    assert [v.name for v in crd.spec.versions] == ["v1beta3", "v1beta2", "v1beta1"]
    with pytest.raises(ApiException) as duplicate:
        await extensions.create_custom_resource_definition(yaml.safe_load(knative_crd("eventtype")))
    assert duplicate.value.status == 409
    assert status_body(duplicate.value)["reason"] == "AlreadyExists"


async def test_custom_object_create_get_and_generate_name(
    custom: Any, eventtype_crd: Any, namespace: str
) -> None:
    created, code, _ = await custom.create_namespaced_custom_object_with_http_info(
        GROUP, VERSION, namespace, PLURAL, eventtype("ping", description="a ping")
    )
    assert code == 201
    assert created["apiVersion"] == f"{GROUP}/{VERSION}"
    assert created["kind"] == "EventType"
    meta = created["metadata"]
    assert meta["name"] == "ping"
    assert meta["namespace"] == namespace
    assert meta["uid"]
    assert meta["creationTimestamp"]
    assert int(meta["resourceVersion"]) > 0
    assert meta["generation"] == 1

    fetched = await custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "ping")
    assert fetched["metadata"]["uid"] == meta["uid"]
    assert fetched["spec"]["description"] == "a ping"

    generated = await custom.create_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, eventtype(generate_name="ping-")
    )
    generated_name = generated["metadata"]["name"]
    assert re.fullmatch(r"ping-[a-z0-9]{5}", generated_name), generated_name
    assert generated["metadata"]["generateName"] == "ping-"
    again = await custom.get_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, generated_name
    )
    assert again["metadata"]["uid"] == generated["metadata"]["uid"]
    second = await custom.create_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, eventtype(generate_name="ping-")
    )
    assert second["metadata"]["name"] != generated_name


async def test_custom_objects_listed_across_namespaces(
    core: Any, custom: Any, eventtype_crd: Any, namespace: str
) -> None:
    other = unique("other")
    await core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=other)))
    marker = {"case": namespace}
    await custom.create_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, eventtype("here", labels=marker)
    )
    await custom.create_namespaced_custom_object(
        GROUP, VERSION, other, PLURAL, eventtype("there", labels=marker)
    )
    await custom.create_namespaced_custom_object(
        GROUP, VERSION, other, PLURAL, eventtype("unlabelled")
    )
    listed = await custom.list_cluster_custom_object(
        GROUP, VERSION, PLURAL, label_selector=f"case={namespace}"
    )
    assert listed["kind"] == "EventTypeList"
    assert int(listed["metadata"]["resourceVersion"]) > 0
    found = {(item["metadata"]["namespace"], item["metadata"]["name"]) for item in listed["items"]}
    assert found == {(namespace, "here"), (other, "there")}
    everything = await custom.list_cluster_custom_object(GROUP, VERSION, PLURAL)
    names = {(i["metadata"]["namespace"], i["metadata"]["name"]) for i in everything["items"]}
    assert {(namespace, "here"), (other, "there"), (other, "unlabelled")} <= names
    only_other = await custom.list_namespaced_custom_object(GROUP, VERSION, other, PLURAL)
    assert sorted(i["metadata"]["name"] for i in only_other["items"]) == ["there", "unlabelled"]


async def test_paging_is_consistent_across_writes(
    custom: Any, eventtype_crd: Any, namespace: str
) -> None:
    original = [f"et-{i}" for i in range(5)]
    for name in original:
        await custom.create_namespaced_custom_object(
            GROUP, VERSION, namespace, PLURAL, eventtype(name)
        )
    first = await custom.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, limit=2)
    snapshot_rv = first["metadata"]["resourceVersion"]
    token = first["metadata"].get("continue")
    assert token
    assert [i["metadata"]["name"] for i in first["items"]] == ["et-0", "et-1"]

    # between pages: one object the pages have not reached yet goes away, a new one appears
    # and another one changes
    await custom.delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "et-3")
    await custom.create_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, eventtype("et-25")
    )
    await custom.patch_namespaced_custom_object(
        GROUP,
        VERSION,
        namespace,
        PLURAL,
        "et-4",
        {"metadata": {"labels": {"changed": "after-first-page"}}},
        _content_type=MERGE_PATCH,
    )

    seen = [i["metadata"]["name"] for i in first["items"]]
    pages = 1
    while token:
        page = await custom.list_namespaced_custom_object(
            GROUP, VERSION, namespace, PLURAL, limit=2, _continue=token
        )
        pages += 1
        assert page["metadata"]["resourceVersion"] == snapshot_rv
        assert len(page["items"]) <= 2
        for item in page["items"]:
            seen.append(item["metadata"]["name"])
            assert int(item["metadata"]["resourceVersion"]) <= int(snapshot_rv)
            if item["metadata"]["name"] == "et-4":
                assert "changed" not in (item["metadata"].get("labels") or {})
        token = page["metadata"].get("continue")
    assert seen == original
    assert pages == 3

    fresh = await custom.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)
    assert [i["metadata"]["name"] for i in fresh["items"]] == [
        "et-0",
        "et-1",
        "et-2",
        "et-25",
        "et-4",
    ]
    assert int(fresh["metadata"]["resourceVersion"]) > int(snapshot_rv)
    exact = await custom.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, limit=5)
    assert len(exact["items"]) == 5
    assert not exact["metadata"].get("continue")


async def test_paging_across_namespaces(
    core: Any, custom: Any, eventtype_crd: Any, namespace: str
) -> None:
    other = unique("paged")
    await core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=other)))
    marker = {"paged": namespace}
    expected = set()
    for ns in (namespace, other):
        for name in ("a", "b"):
            await custom.create_namespaced_custom_object(
                GROUP, VERSION, ns, PLURAL, eventtype(name, labels=marker)
            )
            expected.add((ns, name))
    seen: list[tuple[str, str]] = []
    token = None
    while True:
        page = await custom.list_cluster_custom_object(
            GROUP,
            VERSION,
            PLURAL,
            label_selector=f"paged={namespace}",
            limit=3,
            **({"_continue": token} if token else {}),
        )
        seen.extend((i["metadata"]["namespace"], i["metadata"]["name"]) for i in page["items"])
        token = page["metadata"].get("continue")
        if not token:
            break
    assert len(seen) == len(expected) == 4
    assert set(seen) == expected
    assert seen == sorted(seen)


async def test_custom_object_update_with_stale_resource_version_conflicts(
    custom: Any, eventtype_crd: Any, namespace: str
) -> None:
    created = await custom.create_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, eventtype("occ")
    )

    def annotated(obj: dict[str, Any], writer: str) -> dict[str, Any]:
        return {**obj, "metadata": {**obj["metadata"], "annotations": {"writer": writer}}}

    updated = await custom.replace_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, "occ", annotated(created, "first")
    )
    assert updated["metadata"]["annotations"] == {"writer": "first"}
    assert int(updated["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])
    assert updated["metadata"]["generation"] == 1

    with pytest.raises(ApiException) as caught:
        await custom.replace_namespaced_custom_object(
            GROUP, VERSION, namespace, PLURAL, "occ", annotated(created, "second")
        )
    assert caught.value.status == 409
    assert status_body(caught.value)["reason"] == "Conflict"
    current = await custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "occ")
    assert current["metadata"]["annotations"] == {"writer": "first"}
    assert current["metadata"]["resourceVersion"] == updated["metadata"]["resourceVersion"]

    unconditional = {
        **current,
        "metadata": {k: v for k, v in current["metadata"].items() if k != "resourceVersion"},
    }
    with pytest.raises(ApiException) as no_rv:
        await custom.replace_namespaced_custom_object(
            GROUP, VERSION, namespace, PLURAL, "occ", unconditional
        )
    assert no_rv.value.status == 422
    assert status_body(no_rv.value)["reason"] == "Invalid"


async def test_eventtype_spec_is_immutable_but_metadata_patches(
    custom: Any, eventtype_crd: Any, namespace: str
) -> None:
    created = await custom.create_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, eventtype("fixed")
    )
    with pytest.raises(ApiException) as immutable:
        await custom.patch_namespaced_custom_object(
            GROUP,
            VERSION,
            namespace,
            PLURAL,
            "fixed",
            {"spec": {"description": "patched"}},
            _content_type=MERGE_PATCH,
        )
    # refused by Knative's webhook, as kube-apiserver relays it: 400 BadRequest
    assert immutable.value.status == 400
    body = status_body(immutable.value)
    assert body["reason"] == "BadRequest"
    assert body["message"].startswith(
        'admission webhook "validation.webhook.eventing.knative.dev" denied the request: '
        "validation failed: Immutable fields changed (-old +new): spec\n"
    )
    assert body["details"]["causes"][0]["field"] == "spec"

    labelled = await custom.patch_namespaced_custom_object(
        GROUP,
        VERSION,
        namespace,
        PLURAL,
        "fixed",
        {"metadata": {"labels": {"team": "a"}}},
        _content_type=MERGE_PATCH,
    )
    assert labelled["metadata"]["labels"] == {"team": "a"}
    assert labelled["metadata"]["generation"] == 1
    assert labelled["metadata"]["uid"] == created["metadata"]["uid"]
    assert int(labelled["metadata"]["resourceVersion"]) > int(
        created["metadata"]["resourceVersion"]
    )

    with pytest.raises(ApiException) as strategic:
        await custom.patch_namespaced_custom_object(
            GROUP,
            VERSION,
            namespace,
            PLURAL,
            "fixed",
            {"metadata": {"labels": {"team": "b"}}},
            _content_type="application/strategic-merge-patch+json",
        )
    assert strategic.value.status == 415
    assert status_body(strategic.value)["reason"] == "UnsupportedMediaType"


async def test_merge_patch_bumps_generation_only_for_spec(
    custom: Any, eventtype_crd: Any, namespace: str
) -> None:
    """Generation on a Knative kind whose spec is mutable: a Trigger's subscriber."""
    trigger = {
        "apiVersion": f"{GROUP}/v1",
        "kind": "Trigger",
        "metadata": {"name": "gen"},
        "spec": {"broker": "default", "subscriber": {"uri": "http://example.com/a"}},
    }
    args = (GROUP, "v1", namespace, TRIGGERS)
    created = await custom.create_namespaced_custom_object(*args, trigger)
    assert created["metadata"]["generation"] == 1

    spec_patched = await custom.patch_namespaced_custom_object(
        *args,
        "gen",
        {"spec": {"subscriber": {"uri": "http://example.com/b"}}},
        _content_type=MERGE_PATCH,
    )
    assert spec_patched["metadata"]["generation"] == 2
    assert spec_patched["spec"]["subscriber"]["uri"] == "http://example.com/b"
    assert spec_patched["spec"]["broker"] == "default"
    assert spec_patched["metadata"]["uid"] == created["metadata"]["uid"]
    assert int(spec_patched["metadata"]["resourceVersion"]) > int(
        created["metadata"]["resourceVersion"]
    )

    label_patched = await custom.patch_namespaced_custom_object(
        *args, "gen", {"metadata": {"labels": {"team": "a"}}}, _content_type=MERGE_PATCH
    )
    assert label_patched["metadata"]["generation"] == 2
    assert label_patched["metadata"]["labels"]["team"] == "a"
    assert int(label_patched["metadata"]["resourceVersion"]) > int(
        spec_patched["metadata"]["resourceVersion"]
    )

    filtered = await custom.patch_namespaced_custom_object(
        *args,
        "gen",
        {"spec": {"filter": {"attributes": {"type": "dev.example.ping"}}}},
        _content_type=MERGE_PATCH,
    )
    assert filtered["metadata"]["generation"] == 3

    noop = await custom.patch_namespaced_custom_object(
        *args,
        "gen",
        {"spec": {"subscriber": {"uri": "http://example.com/b"}}},
        _content_type=MERGE_PATCH,
    )
    assert noop["metadata"]["resourceVersion"] == filtered["metadata"]["resourceVersion"]
    assert noop["metadata"]["generation"] == 3


async def test_status_subresource_is_separate_from_the_main_resource(
    custom: Any, eventtype_crd: Any, namespace: str
) -> None:
    body = eventtype("stat")
    body["status"] = {"observedGeneration": 7}
    created = await custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, body)
    assert not created.get("status")

    ready = {"type": "Ready", "status": "True", "reason": "Reconciled"}
    with_status = await custom.patch_namespaced_custom_object_status(
        GROUP,
        VERSION,
        namespace,
        PLURAL,
        "stat",
        {"status": {"observedGeneration": 1, "conditions": [ready]}, "spec": {"type": "x.y"}},
        _content_type=MERGE_PATCH,
    )
    assert with_status["status"] == {"observedGeneration": 1, "conditions": [ready]}
    assert with_status["metadata"]["generation"] == 1
    assert with_status["spec"]["type"] == "dev.example.ping"
    assert int(with_status["metadata"]["resourceVersion"]) > int(
        created["metadata"]["resourceVersion"]
    )

    # a status change sent to the main resource is ignored: nothing is written
    ignored = await custom.patch_namespaced_custom_object(
        GROUP,
        VERSION,
        namespace,
        PLURAL,
        "stat",
        {"status": {"observedGeneration": 99}},
        _content_type=MERGE_PATCH,
    )
    assert ignored["status"] == with_status["status"]
    assert ignored["metadata"]["resourceVersion"] == with_status["metadata"]["resourceVersion"]
    assert ignored["metadata"]["generation"] == 1

    # a write to the main resource keeps the status, whatever status it carries
    relabelled = await custom.patch_namespaced_custom_object(
        GROUP,
        VERSION,
        namespace,
        PLURAL,
        "stat",
        {"metadata": {"labels": {"x": "y"}}, "status": {"observedGeneration": 98}},
        _content_type=MERGE_PATCH,
    )
    assert relabelled["metadata"]["labels"] == {"x": "y"}
    assert int(relabelled["metadata"]["resourceVersion"]) > int(
        with_status["metadata"]["resourceVersion"]
    )
    assert relabelled["status"] == with_status["status"]
    status_read = await custom.get_namespaced_custom_object_status(
        GROUP, VERSION, namespace, PLURAL, "stat"
    )
    assert status_read["status"]["observedGeneration"] == 1


async def test_custom_object_delete_then_404(
    custom: Any, eventtype_crd: Any, namespace: str
) -> None:
    await custom.create_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, eventtype("doomed")
    )
    await custom.delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "doomed")
    with pytest.raises(ApiException) as caught:
        await custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "doomed")
    assert caught.value.status == 404
    body = status_body(caught.value)
    assert body["reason"] == "NotFound"
    assert body["details"]["group"] == GROUP
    assert body["details"]["kind"] == PLURAL
    listed = await custom.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)
    assert listed["items"] == []


async def test_unknown_fields_strict_rejects_default_prunes(
    custom: Any, eventtype_crd: Any, namespace: str
) -> None:
    body = eventtype("strict")
    body["spec"]["unknownField"] = "x"
    with pytest.raises(ApiException) as caught:
        await custom.create_namespaced_custom_object(
            GROUP, VERSION, namespace, PLURAL, body, field_validation="Strict"
        )
    assert caught.value.status == 400
    status = status_body(caught.value)
    assert status["reason"] == "BadRequest"
    assert "spec.unknownField" in status["message"]
    listed = await custom.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)
    assert listed["items"] == []

    created, code, headers = await custom.create_namespaced_custom_object_with_http_info(
        GROUP, VERSION, namespace, PLURAL, body
    )
    assert code == 201
    assert "unknownField" not in created["spec"]
    assert any("spec.unknownField" in warning for warning in headers.getall("Warning", []))
    stored = await custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "strict")
    assert "unknownField" not in stored["spec"]


async def test_schema_violation_is_422_with_field_cause(
    custom: Any, eventtype_crd: Any, namespace: str
) -> None:
    body = eventtype("typed")
    body["spec"]["description"] = 42
    with pytest.raises(ApiException) as caught:
        await custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, body)
    assert caught.value.status == 422
    status = status_body(caught.value)
    assert status["reason"] == "Invalid"
    assert [cause["field"] for cause in status["details"]["causes"]] == ["spec.description"]
    with pytest.raises(ApiException) as missing:
        await custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "typed")
    assert missing.value.status == 404
