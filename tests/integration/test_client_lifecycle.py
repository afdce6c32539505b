"""Object lifecycles beyond one request, through kubernetes_asyncio.

Persistence across a restart of the control plane process (same data directory), the garbage
collector's ownerReference cascades (background, foreground, orphan, several owners) and
namespace termination.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
from kubernetes_asyncio import client, config
from kubernetes_asyncio.client import ApiClient, ApiException, Configuration
from kubernetes_asyncio.watch import Watch

from tests.support.controlplane import ControlPlaneProcess

GROUP = "eventing.knative.dev"
VERSION = "v1beta2"
PLURAL = "eventtypes"
DEADLINE = 10.0


# fixtures and helpers ------------------------------------------------------------------------


async def _client_for(plane: ControlPlaneProcess) -> Any:
    cfg = Configuration()
    await config.load_kube_config(config_file=str(plane.kubeconfig), client_configuration=cfg)
    return ApiClient(cfg)


@pytest.fixture(scope="module")
def controlplane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlaneProcess]:
    """The control plane alone (the shared ``namespace`` fixture uses it too)."""
    plane = ControlPlaneProcess(tmp_path_factory.mktemp("lifecycle"), "--no-controllers").start()
    yield plane
    plane.stop()


@pytest.fixture(scope="module")
async def core(controlplane: ControlPlaneProcess) -> AsyncIterator[Any]:
    api = await _client_for(controlplane)
    yield client.CoreV1Api(api)
    await api.close()


@pytest.fixture(scope="module")
def restart_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlaneProcess]:
    """A plane of its own, since the restart tests stop and start it.

    Its namespace grace period outlasts a stop, so a restart can interrupt a termination.
    """
    plane = ControlPlaneProcess(
        tmp_path_factory.mktemp("restart-plane"), "--namespace-grace", "3", "--no-controllers"
    ).start()
    yield plane
    plane.stop()


def configmap(
    name: str,
    *owners: Any,
    finalizers: list[str] | None = None,
    labels: dict[str, str] | None = None,
) -> Any:
    references = [
        client.V1OwnerReference(
            api_version="v1", kind="ConfigMap", name=owner.metadata.name, uid=owner.metadata.uid
        )
        for owner in owners
    ]
    return client.V1ConfigMap(
        metadata=client.V1ObjectMeta(
            name=name,
            labels=labels,
            owner_references=references or None,
            finalizers=finalizers,
        ),
        data={"name": name},
    )


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Poll ``check`` until it holds, failing after DEADLINE seconds."""
    deadline = time.monotonic() + DEADLINE
    while not await check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {DEADLINE} s waiting for {what}")
        await asyncio.sleep(0.05)


async def read_or_none(core: Any, name: str, namespace: str) -> Any:
    try:
        return await core.read_namespaced_config_map(name, namespace)
    except ApiException as error:
        if error.status == 404:
            return None
        raise


async def gone(core: Any, name: str, namespace: str) -> bool:
    return await read_or_none(core, name, namespace) is None


# 5. restart persistence ----------------------------------------------------------------------


async def test_objects_survive_a_restart(restart_plane: ControlPlaneProcess) -> None:
    api = await _client_for(restart_plane)
    try:
        core = client.CoreV1Api(api)
        custom = client.CustomObjectsApi(api)
        extensions = client.ApiextensionsV1Api(api)
        crd = await extensions.read_custom_resource_definition(f"{PLURAL}.{GROUP}")
        ns = await core.create_namespace(
            client.V1Namespace(metadata=client.V1ObjectMeta(name="durable"))
        )
        before: dict[str, tuple[str, str]] = {}
        for i in range(3):
            cm = await core.create_namespaced_config_map("durable", configmap(f"cm-{i}"))
            before[f"cm-{i}"] = (cm.metadata.uid, cm.metadata.resource_version)
        patched = await core.patch_namespaced_config_map(
            "cm-1", "durable", {"data": {"patched": "yes"}}
        )
        before["cm-1"] = (patched.metadata.uid, patched.metadata.resource_version)
        mid_rv = patched.metadata.resource_version
        await core.delete_namespaced_config_map("cm-2", "durable")
        del before["cm-2"]
        et = await custom.create_namespaced_custom_object(
            GROUP,
            VERSION,
            "durable",
            PLURAL,
            {
                "apiVersion": f"{GROUP}/{VERSION}",
                "kind": "EventType",
                "metadata": {"name": "kept"},
                "spec": {"type": "dev.example.kept"},
            },
        )
        highest = int((await core.list_namespaced_config_map("durable")).metadata.resource_version)
        assert highest >= int(et["metadata"]["resourceVersion"])
    finally:
        await api.close()

    restart_plane.stop()
    restart_plane.start()
    # a new process on a new port: the rewritten kubeconfig must be loaded again
    assert restart_plane.url in restart_plane.kubeconfig.read_text()

    api = await _client_for(restart_plane)
    try:
        core = client.CoreV1Api(api)
        custom = client.CustomObjectsApi(api)
        listed = await core.list_namespaced_config_map("durable")
        after = {
            cm.metadata.name: (cm.metadata.uid, cm.metadata.resource_version) for cm in listed.items
        }
        assert after == before
        assert int(listed.metadata.resource_version) >= highest
        cm1 = await core.read_namespaced_config_map("cm-1", "durable")
        assert cm1.data == {"name": "cm-1", "patched": "yes"}
        kept = await custom.get_namespaced_custom_object(GROUP, VERSION, "durable", PLURAL, "kept")
        assert kept["metadata"]["uid"] == et["metadata"]["uid"]
        assert kept["metadata"]["resourceVersion"] == et["metadata"]["resourceVersion"]
        crd_after = await client.ApiextensionsV1Api(api).read_custom_resource_definition(
            f"{PLURAL}.{GROUP}"
        )
        assert crd_after.metadata.uid == crd.metadata.uid
        assert crd_after.metadata.resource_version == crd.metadata.resource_version
        ns_after = await core.read_namespace("durable")
        assert ns_after.status.phase == "Active"
        assert ns_after.metadata.uid == ns.metadata.uid
        assert ns_after.metadata.resource_version == ns.metadata.resource_version

        # the change history survived too: a watch from before the restart replays it
        async with Watch() as watch:
            replay = []
            async for event in watch.stream(
                core.list_namespaced_config_map,
                "durable",
                resource_version=mid_rv,
                timeout_seconds=5,
            ):
                replay.append((event["type"], event["raw_object"]["metadata"]["name"]))
                if len(replay) == 1:
                    break
        assert replay == [("DELETED", "cm-2")]

        written = await core.create_namespaced_config_map("durable", configmap("cm-new"))
        assert int(written.metadata.resource_version) > highest
        with pytest.raises(ApiException) as duplicate:
            await core.create_namespaced_config_map("durable", configmap("cm-0"))
        assert duplicate.value.status == 409
    finally:
        await api.close()


# 6. garbage collection -----------------------------------------------------------------------


@pytest.mark.parametrize("policy", [None, "Background"])
async def test_deleting_an_owner_deletes_its_dependents(
    core: Any, namespace: str, policy: str | None
) -> None:
    owner = await core.create_namespaced_config_map(namespace, configmap("owner"))
    dependent = await core.create_namespaced_config_map(namespace, configmap("dependent", owner))
    grandchild = await core.create_namespaced_config_map(
        namespace, configmap("grandchild", dependent)
    )
    bystander = await core.create_namespaced_config_map(namespace, configmap("bystander"))
    assert grandchild.metadata.owner_references[0].uid == dependent.metadata.uid

    body = client.V1DeleteOptions(propagation_policy=policy) if policy else None
    await core.delete_namespaced_config_map("owner", namespace, body=body)
    # background: the owner itself goes at once
    assert await gone(core, "owner", namespace)
    await eventually(lambda: gone(core, "dependent", namespace), "the dependent to be deleted")
    await eventually(lambda: gone(core, "grandchild", namespace), "the grandchild to be deleted")
    kept = await core.read_namespaced_config_map("bystander", namespace)
    assert kept.metadata.uid == bystander.metadata.uid
    assert kept.metadata.resource_version == bystander.metadata.resource_version


async def test_dependent_with_another_owner_survives(core: Any, namespace: str) -> None:
    first = await core.create_namespaced_config_map(namespace, configmap("first"))
    second = await core.create_namespaced_config_map(namespace, configmap("second"))
    shared = await core.create_namespaced_config_map(namespace, configmap("shared", first, second))
    assert len(shared.metadata.owner_references) == 2

    await core.delete_namespaced_config_map("first", namespace)

    async def lost_reference() -> bool:
        current = await read_or_none(core, "shared", namespace)
        assert current is not None, "the dependent of a live owner was deleted"
        return [r.uid for r in current.metadata.owner_references or []] == [second.metadata.uid]

    await eventually(lost_reference, "the dangling ownerReference to be removed")
    survivor = await core.read_namespaced_config_map("shared", namespace)
    assert survivor.metadata.uid == shared.metadata.uid
    assert survivor.metadata.deletion_timestamp is None

    await core.delete_namespaced_config_map("second", namespace)
    await eventually(lambda: gone(core, "shared", namespace), "the last owner's cascade")


async def test_foreground_deletion_waits_for_dependents(core: Any, namespace: str) -> None:
    owner = await core.create_namespaced_config_map(namespace, configmap("owner"))
    # the dependent holds a finalizer of its own, so the owner's wait is observable
    await core.create_namespaced_config_map(
        namespace, configmap("held", owner, finalizers=["example.com/hold"])
    )
    await core.create_namespaced_config_map(namespace, configmap("free", owner))

    await core.delete_namespaced_config_map(
        "owner", namespace, body=client.V1DeleteOptions(propagation_policy="Foreground")
    )
    deleting = await core.read_namespaced_config_map("owner", namespace)
    assert deleting.metadata.deletion_timestamp is not None
    assert "foregroundDeletion" in deleting.metadata.finalizers

    await eventually(lambda: gone(core, "free", namespace), "the free dependent to go")

    async def held_is_deleting() -> bool:
        held = await read_or_none(core, "held", namespace)
        assert held is not None
        return held.metadata.deletion_timestamp is not None

    await eventually(held_is_deleting, "the held dependent to get a deletionTimestamp")
    await asyncio.sleep(0.2)
    still = await core.read_namespaced_config_map("owner", namespace)
    assert still.metadata.deletion_timestamp is not None
    assert "foregroundDeletion" in still.metadata.finalizers

    await core.patch_namespaced_config_map(
        "held",
        namespace,
        {"metadata": {"finalizers": None}},
        _content_type="application/merge-patch+json",
    )
    await eventually(lambda: gone(core, "held", namespace), "the released dependent to go")
    await eventually(lambda: gone(core, "owner", namespace), "the owner to go after it")


async def test_foreground_deletion_order_seen_by_a_watch(core: Any, namespace: str) -> None:
    owner = await core.create_namespaced_config_map(namespace, configmap("owner"))
    await core.create_namespaced_config_map(namespace, configmap("child", owner))
    start = (await core.list_namespaced_config_map(namespace)).metadata.resource_version
    await core.delete_namespaced_config_map(
        "owner", namespace, body=client.V1DeleteOptions(propagation_policy="Foreground")
    )
    events: list[dict[str, Any]] = []

    async def watch_until_owner_deleted() -> None:
        async with Watch() as watch:
            async for event in watch.stream(
                core.list_namespaced_config_map,
                namespace,
                resource_version=start,
                timeout_seconds=int(DEADLINE),
            ):
                events.append(event)
                meta = event["raw_object"]["metadata"]
                if event["type"] == "DELETED" and meta["name"] == "owner":
                    return

    await asyncio.wait_for(watch_until_owner_deleted(), DEADLINE)
    seen = [(e["type"], e["raw_object"]["metadata"]["name"]) for e in events]
    assert seen[0] == ("MODIFIED", "owner")
    first_meta = events[0]["raw_object"]["metadata"]
    assert first_meta["deletionTimestamp"]
    assert "foregroundDeletion" in first_meta["finalizers"]
    assert seen.index(("DELETED", "child")) < seen.index(("DELETED", "owner"))
    assert seen[-1] == ("DELETED", "owner")


ORPHAN_REQUESTS: dict[str, dict[str, Any]] = {
    "body-propagationPolicy": {"body": client.V1DeleteOptions(propagation_policy="Orphan")},
    "query-propagationPolicy": {"propagation_policy": "Orphan"},
    "body-orphanDependents": {"body": client.V1DeleteOptions(orphan_dependents=True)},
    "query-orphanDependents": {"orphan_dependents": True},
}


@pytest.mark.parametrize("how", list(ORPHAN_REQUESTS))
async def test_orphan_deletion_keeps_dependents(core: Any, namespace: str, how: str) -> None:
    owner = await core.create_namespaced_config_map(namespace, configmap("owner"))
    dependent = await core.create_namespaced_config_map(namespace, configmap("orphaned", owner))

    await core.delete_namespaced_config_map("owner", namespace, **ORPHAN_REQUESTS[how])
    await eventually(lambda: gone(core, "owner", namespace), "the owner to go")
    survivor = await core.read_namespaced_config_map("orphaned", namespace)
    assert survivor.metadata.uid == dependent.metadata.uid
    assert not survivor.metadata.owner_references
    assert survivor.metadata.deletion_timestamp is None
    await asyncio.sleep(0.2)
    assert await read_or_none(core, "orphaned", namespace) is not None


async def test_dependent_of_an_absent_owner_is_collected(core: Any, namespace: str) -> None:
    """An ownerReference to a uid that does not exist counts as absent (as kube's GC does)."""
    owner = await core.create_namespaced_config_map(namespace, configmap("short-lived"))
    await core.delete_namespaced_config_map("short-lived", namespace)
    await core.create_namespaced_config_map(namespace, configmap("too-late", owner))
    ghost = client.V1ConfigMap(
        metadata=client.V1ObjectMeta(uid="00000000-0000-4000-8000-000000000000", name="ghost")
    )
    await core.create_namespaced_config_map(namespace, configmap("never-owned", ghost))
    live = await core.create_namespaced_config_map(namespace, configmap("live"))
    await core.create_namespaced_config_map(namespace, configmap("half", live, ghost))

    await eventually(lambda: gone(core, "too-late", namespace), "the dependent of a gone owner")
    await eventually(lambda: gone(core, "never-owned", namespace), "the dependent of no owner")

    async def only_live_owner() -> bool:
        half = await read_or_none(core, "half", namespace)
        assert half is not None, "a dependent with a live owner was deleted"
        return [r.uid for r in half.metadata.owner_references or []] == [live.metadata.uid]

    await eventually(only_live_owner, "the absent owner's reference to be dropped")


async def test_deleting_a_namespace_terminates_it_and_its_contents(core: Any) -> None:
    name = f"doomed-{uuid.uuid4().hex[:8]}"
    await core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    for i in range(3):
        await core.create_namespaced_config_map(name, configmap(f"content-{i}"))

    start = (await core.list_namespace()).metadata.resource_version
    await core.delete_namespace(name)
    terminating = await core.read_namespace(name)
    assert terminating.status.phase == "Terminating"
    assert terminating.metadata.deletion_timestamp is not None
    with pytest.raises(ApiException) as forbidden:
        await core.create_namespaced_config_map(name, configmap("late"))
    assert forbidden.value.status == 403

    async def namespace_gone() -> bool:
        try:
            await core.read_namespace(name)
        except ApiException as error:
            if error.status == 404:
                return True
            raise
        return False

    await eventually(namespace_gone, f"namespace {name} to disappear")
    leftovers = await core.list_config_map_for_all_namespaces(
        field_selector=f"metadata.namespace={name}"
    )
    assert leftovers.items == []
    names = {ns.metadata.name for ns in (await core.list_namespace()).items}
    assert name not in names

    # a namespace watch saw it turn Terminating, then go, after its contents
    events: list[tuple[str, str, str]] = []

    async def watch_until_deleted() -> None:
        async with Watch() as watch:
            async for event in watch.stream(
                core.list_namespace, resource_version=start, timeout_seconds=int(DEADLINE)
            ):
                meta = event["raw_object"]["metadata"]
                phase = (event["raw_object"].get("status") or {}).get("phase", "")
                if meta["name"] == name:
                    events.append((event["type"], phase, meta["resourceVersion"]))
                    if event["type"] == "DELETED":
                        return

    await asyncio.wait_for(watch_until_deleted(), DEADLINE)
    assert events[0][:2] == ("MODIFIED", "Terminating")
    assert events[-1][0] == "DELETED"
    assert [int(e[2]) for e in events] == sorted({int(e[2]) for e in events})


async def test_namespace_termination_resumes_after_restart(
    restart_plane: ControlPlaneProcess,
) -> None:
    api = await _client_for(restart_plane)
    try:
        core = client.CoreV1Api(api)
        await core.create_namespace(
            client.V1Namespace(metadata=client.V1ObjectMeta(name="interrupted"))
        )
        await core.create_namespaced_config_map("interrupted", configmap("inside"))
        owner = await core.create_namespaced_config_map("default", configmap("gc-owner"))
        await core.create_namespaced_config_map("default", configmap("gc-dependent", owner))
        await core.delete_namespace("interrupted")
    finally:
        await api.close()
    # stop before the namespace grace period runs out
    restart_plane.stop()
    restart_plane.start()

    api = await _client_for(restart_plane)
    try:
        core = client.CoreV1Api(api)
        assert (await core.read_namespace("interrupted")).status.phase == "Terminating"

        async def namespace_gone() -> bool:
            try:
                await core.read_namespace("interrupted")
            except ApiException as error:
                if error.status == 404:
                    return True
                raise
            return False

        await eventually(namespace_gone, "the interrupted namespace to finish terminating")
        leftovers = await core.list_config_map_for_all_namespaces(
            field_selector="metadata.namespace=interrupted"
        )
        assert leftovers.items == []
        # the collector still works after the restart
        await core.delete_namespaced_config_map("gc-owner", "default")
        await eventually(
            lambda: gone(core, "gc-dependent", "default"), "the dependent after a restart"
        )
    finally:
        await api.close()
