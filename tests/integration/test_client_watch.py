"""Watches as kubernetes_asyncio's ``Watch().stream`` consumes them.

Ordering and resourceVersions of ADDED/MODIFIED/DELETED, label-selector transitions,
server-side timeouts, bookmarks, the 410 Expired path (through the client and on the raw
stream), expired continue tokens, and a watch that must see every one of 50 concurrent creates.
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import aiohttp
import pytest
from kubernetes_asyncio import client, config
from kubernetes_asyncio.client import ApiClient, ApiException, Configuration
from kubernetes_asyncio.watch import Watch

from tests.support.controlplane import ControlPlaneProcess

WATCH_DEADLINE = 10.0


# fixtures and helpers ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def controlplane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlaneProcess]:
    """This module's plane, also behind the shared ``namespace`` fixture.

    Bookmarks every 0.2 s, and no embedded controller writing objects behind the watches.
    """
    plane = ControlPlaneProcess(
        tmp_path_factory.mktemp("watch-plane"), "--bookmark-interval", "0.2", "--no-controllers"
    ).start()
    yield plane
    plane.stop()


@pytest.fixture(scope="module")
def short_history_plane(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ControlPlaneProcess]:
    plane = ControlPlaneProcess(
        tmp_path_factory.mktemp("short-history"), "--history-limit", "5", "--no-controllers"
    ).start()
    yield plane
    plane.stop()


async def _client_for(plane: ControlPlaneProcess) -> Any:
    cfg = Configuration()
    await config.load_kube_config(config_file=str(plane.kubeconfig), client_configuration=cfg)
    return ApiClient(cfg)


@pytest.fixture(scope="module")
async def core(controlplane: ControlPlaneProcess) -> AsyncIterator[Any]:
    api = await _client_for(controlplane)
    yield client.CoreV1Api(api)
    await api.close()


@pytest.fixture(scope="module")
async def short_core(short_history_plane: ControlPlaneProcess) -> AsyncIterator[Any]:
    api = await _client_for(short_history_plane)
    yield client.CoreV1Api(api)
    await api.close()


def configmap(name: str, labels: dict[str, str] | None = None, **data: str) -> Any:
    return client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name=name, labels=labels), data=dict(data) or None
    )


def status_body(error: Any) -> dict[str, Any]:
    body = json.loads(error.body)
    assert isinstance(body, dict), body
    assert body["kind"] == "Status"
    assert body["code"] == error.status
    return body


def rv(event: dict[str, Any]) -> int:
    return int(event["raw_object"]["metadata"]["resourceVersion"])


def summary(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(e["type"], e["raw_object"]["metadata"].get("name", "")) for e in events]


async def collect(
    func: Callable[..., Awaitable[Any]],
    *args: Any,
    until: Callable[[list[dict[str, Any]]], bool],
    **kwargs: Any,
) -> list[dict[str, Any]]:
    """Events of one ``Watch().stream`` until ``until(events)`` holds (or the stream ends)."""
    events: list[dict[str, Any]] = []

    async def run() -> None:
        async with Watch() as watch:
            async for event in watch.stream(func, *args, **kwargs):
                events.append(event)
                if until(events):
                    return

    await asyncio.wait_for(run(), WATCH_DEADLINE)
    return events


async def namespace_on(core: Any, name: str) -> str:
    await core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    return name


# 3. watch semantics --------------------------------------------------------------------------


async def test_watch_sees_added_modified_deleted_in_order(core: Any, namespace: str) -> None:
    await core.create_namespaced_config_map(namespace, configmap("before"))
    start = (await core.list_namespaced_config_map(namespace)).metadata.resource_version

    async def writer() -> None:
        await core.create_namespaced_config_map(namespace, configmap("subject", step="1"))
        await core.patch_namespaced_config_map("subject", namespace, {"data": {"step": "2"}})
        await core.delete_namespaced_config_map("subject", namespace)

    watching = asyncio.create_task(
        collect(
            core.list_namespaced_config_map,
            namespace,
            resource_version=start,
            timeout_seconds=5,
            until=lambda events: len(events) >= 3,
        )
    )
    await writer()
    events = await watching
    assert summary(events) == [
        ("ADDED", "subject"),
        ("MODIFIED", "subject"),
        ("DELETED", "subject"),
    ]
    versions = [rv(e) for e in events]
    assert versions == sorted(set(versions))
    assert versions[0] > int(start)
    assert events[0]["object"].data == {"step": "1"}
    assert events[1]["object"].data == {"step": "2"}
    assert events[2]["object"].metadata.name == "subject"
    assert isinstance(events[0]["object"], client.V1ConfigMap)

    # the same changes replayed from history, by a watch started after they happened
    replay = await collect(
        core.list_namespaced_config_map,
        namespace,
        resource_version=start,
        timeout_seconds=5,
        until=lambda events: len(events) >= 3,
    )
    assert [(e["type"], rv(e)) for e in replay] == [(e["type"], rv(e)) for e in events]


async def test_watch_without_resource_version_starts_with_current_state(
    core: Any, namespace: str
) -> None:
    await core.create_namespaced_config_map(namespace, configmap("one"))
    await core.create_namespaced_config_map(namespace, configmap("two"))
    events = await collect(
        core.list_namespaced_config_map,
        namespace,
        timeout_seconds=5,
        until=lambda events: len(events) >= 2,
    )
    assert summary(events) == [("ADDED", "one"), ("ADDED", "two")]


async def test_label_selector_watch_reports_transitions(core: Any, namespace: str) -> None:
    start = (await core.list_namespaced_config_map(namespace)).metadata.resource_version
    await core.create_namespaced_config_map(namespace, configmap("leaves", {"app": "x"}))
    await core.create_namespaced_config_map(namespace, configmap("joins", {"app": "y"}))
    await core.create_namespaced_config_map(namespace, configmap("never", {"app": "y"}))
    await core.patch_namespaced_config_map("leaves", namespace, {"data": {"k": "v"}})
    await core.patch_namespaced_config_map(
        "leaves", namespace, {"metadata": {"labels": {"app": "z"}}}
    )
    await core.patch_namespaced_config_map(
        "joins", namespace, {"metadata": {"labels": {"app": "x"}}}
    )
    await core.patch_namespaced_config_map("never", namespace, {"data": {"k": "v"}})
    await core.patch_namespaced_config_map("leaves", namespace, {"data": {"k": "w"}})
    await core.patch_namespaced_config_map("joins", namespace, {"data": {"k": "v"}})
    await core.delete_namespaced_config_map("joins", namespace)

    events = await collect(
        core.list_namespaced_config_map,
        namespace,
        resource_version=start,
        label_selector="app=x",
        timeout_seconds=5,
        until=lambda events: len(events) >= 6,
    )
    assert summary(events) == [
        ("ADDED", "leaves"),
        ("MODIFIED", "leaves"),
        ("DELETED", "leaves"),
        ("ADDED", "joins"),
        ("MODIFIED", "joins"),
        ("DELETED", "joins"),
    ]
    # the DELETED for "leaves" carries the object as it is now (no longer matching)
    assert events[2]["object"].metadata.labels == {"app": "z"}
    assert events[3]["object"].metadata.labels == {"app": "x"}
    versions = [rv(e) for e in events]
    assert versions == sorted(set(versions))


async def test_timeout_seconds_ends_the_stream(core: Any, namespace: str) -> None:
    await core.create_namespaced_config_map(namespace, configmap("present"))
    started = time.monotonic()
    events = await collect(
        core.list_namespaced_config_map, namespace, timeout_seconds=1, until=lambda _: False
    )
    elapsed = time.monotonic() - started
    assert summary(events) == [("ADDED", "present")]
    assert 0.8 <= elapsed < 5, elapsed


async def test_bookmarks_follow_delivered_changes(core: Any, namespace: str) -> None:
    start = (await core.list_namespaced_config_map(namespace)).metadata.resource_version
    await core.create_namespaced_config_map(namespace, configmap("marked"))

    def two_bookmarks(events: list[dict[str, Any]]) -> bool:
        return sum(1 for e in events if e["type"] == "BOOKMARK") >= 2

    events = await collect(
        core.list_namespaced_config_map,
        namespace,
        resource_version=start,
        allow_watch_bookmarks=True,
        timeout_seconds=5,
        until=two_bookmarks,
    )
    assert events[0]["type"] == "ADDED"
    assert [e["type"] for e in events[1:]] == ["BOOKMARK", "BOOKMARK"]
    bookmarks = [e["raw_object"] for e in events if e["type"] == "BOOKMARK"]
    for bookmark in bookmarks:
        assert bookmark["kind"] == "ConfigMap"
        assert bookmark["apiVersion"] == "v1"
        assert int(bookmark["metadata"]["resourceVersion"]) >= rv(events[0])
    assert int(bookmarks[1]["metadata"]["resourceVersion"]) >= int(
        bookmarks[0]["metadata"]["resourceVersion"]
    )

    # resuming from a bookmark replays nothing already seen
    await core.create_namespaced_config_map(namespace, configmap("after"))
    resumed = await collect(
        core.list_namespaced_config_map,
        namespace,
        resource_version=bookmarks[-1]["metadata"]["resourceVersion"],
        timeout_seconds=5,
        until=lambda events: len(events) >= 1,
    )
    assert summary(resumed) == [("ADDED", "after")]


async def test_no_bookmarks_unless_asked(core: Any, namespace: str) -> None:
    events = await collect(
        core.list_namespaced_config_map, namespace, timeout_seconds=1, until=lambda _: False
    )
    assert events == []


# 4. 410 Expired ------------------------------------------------------------------------------


async def test_expired_watch_raises_410_after_one_retry(
    short_core: Any, short_history_plane: ControlPlaneProcess
) -> None:
    namespace = await namespace_on(short_core, "expiring-watch")
    first = await short_core.create_namespaced_config_map(namespace, configmap("c0"))
    oldest = first.metadata.resource_version
    for i in range(1, 20):
        await short_core.create_namespaced_config_map(namespace, configmap(f"c{i}"))

    calls = 0
    listing = short_core.list_namespaced_config_map

    @functools.wraps(listing)
    async def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        return await listing(*args, **kwargs)

    with pytest.raises(ApiException) as caught:
        # no timeout_seconds: the client's watch-forever mode, which retries a 410 once
        await collect(counted, namespace, resource_version=oldest, until=lambda _: True)
    assert caught.value.status == 410
    assert "Expired" in str(caught.value.reason)
    assert calls == 2

    # the raw stream: one ERROR line with an Expired Status, then the response ends
    url = (
        f"{short_history_plane.url}/api/v1/namespaces/{namespace}/configmaps"
        f"?watch=true&resourceVersion={oldest}"
    )
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert response.status == 200
        raw = await asyncio.wait_for(response.read(), WATCH_DEADLINE)
    lines = raw.decode().splitlines()
    assert len(lines) == 1, lines
    event = json.loads(lines[0])
    assert set(event) == {"type", "object"}
    assert event["type"] == "ERROR"
    status = event["object"]
    assert status["kind"] == "Status"
    assert status["apiVersion"] == "v1"
    assert status["status"] == "Failure"
    assert status["code"] == 410
    assert status["reason"] == "Expired"
    assert status["message"]

    # a recent resourceVersion still works on the same plane
    latest = (await short_core.list_namespaced_config_map(namespace)).metadata.resource_version
    await short_core.create_namespaced_config_map(namespace, configmap("fresh"))
    events = await collect(
        short_core.list_namespaced_config_map,
        namespace,
        resource_version=latest,
        timeout_seconds=5,
        until=lambda events: len(events) >= 1,
    )
    assert summary(events) == [("ADDED", "fresh")]


async def test_expired_continue_token_is_410(short_core: Any) -> None:
    namespace = await namespace_on(short_core, "expiring-pages")
    for i in range(3):
        await short_core.create_namespaced_config_map(namespace, configmap(f"p{i}"))
    first = await short_core.list_namespaced_config_map(namespace, limit=1)
    token = first.metadata._continue
    assert token
    second = await short_core.list_namespaced_config_map(namespace, limit=1, _continue=token)
    assert [cm.metadata.name for cm in second.items] == ["p1"]

    scratch = await namespace_on(short_core, "expiring-pages-scratch")
    for i in range(20):
        await short_core.create_namespaced_config_map(scratch, configmap(f"s{i}"))
    with pytest.raises(ApiException) as caught:
        await short_core.list_namespaced_config_map(namespace, limit=1, _continue=token)
    assert caught.value.status == 410
    body = status_body(caught.value)
    assert body["reason"] == "Expired"
    assert body["code"] == 410

    exact = first.metadata.resource_version
    with pytest.raises(ApiException) as exact_caught:
        await short_core.list_namespaced_config_map(
            namespace, resource_version=exact, resource_version_match="Exact"
        )
    assert exact_caught.value.status == 410
    assert status_body(exact_caught.value)["reason"] == "Expired"
    # a list without a continue token still works
    full = await short_core.list_namespaced_config_map(namespace)
    assert [cm.metadata.name for cm in full.items] == ["p0", "p1", "p2"]


# 7. concurrency ------------------------------------------------------------------------------


async def test_fifty_concurrent_creates_are_each_watched_once(core: Any, namespace: str) -> None:
    start = (await core.list_namespaced_config_map(namespace)).metadata.resource_version
    names = [f"burst-{i:02d}" for i in range(50)]

    def saw_marker(events: list[dict[str, Any]]) -> bool:
        return bool(events[-1]["raw_object"]["metadata"]["name"] == "zz-marker")

    watching = asyncio.create_task(
        collect(
            core.list_namespaced_config_map,
            namespace,
            resource_version=start,
            timeout_seconds=8,
            until=saw_marker,
        )
    )
    await asyncio.sleep(0.1)  # let the watch connect first; resource_version covers any race
    created = await asyncio.gather(
        *(core.create_namespaced_config_map(namespace, configmap(name)) for name in names)
    )
    versions = [cm.metadata.resource_version for cm in created]
    assert all(v.isdigit() for v in versions), versions
    assert len({int(v) for v in versions}) == 50
    assert all(int(v) > int(start) for v in versions)
    await core.create_namespaced_config_map(namespace, configmap("zz-marker"))
    events = await watching

    burst = events[:-1]
    assert len(burst) == 50
    assert {e["type"] for e in burst} == {"ADDED"}
    assert sorted(e["raw_object"]["metadata"]["name"] for e in burst) == names
    watched = [rv(e) for e in burst]
    assert watched == sorted(watched)
    assert sorted(watched) == sorted(int(v) for v in versions)
    by_name = {cm.metadata.name: cm.metadata.resource_version for cm in created}
    for event in burst:
        meta = event["raw_object"]["metadata"]
        assert by_name[meta["name"]] == meta["resourceVersion"]


async def test_concurrent_writers_with_one_resource_version_one_wins(
    core: Any, namespace: str
) -> None:
    base = await core.create_namespaced_config_map(namespace, configmap("contended", v="0"))

    async def replace(i: int) -> Any:
        body = configmap("contended", v=str(i + 1))
        body.metadata.resource_version = base.metadata.resource_version
        try:
            return await core.replace_namespaced_config_map("contended", namespace, body)
        except ApiException as error:
            return error

    results = await asyncio.gather(*(replace(i) for i in range(20)))
    winners = [r for r in results if not isinstance(r, ApiException)]
    losers = [r for r in results if isinstance(r, ApiException)]
    assert len(winners) == 1
    assert len(losers) == 19
    assert {error.status for error in losers} == {409}
    assert {status_body(error)["reason"] for error in losers} == {"Conflict"}
    current = await core.read_namespaced_config_map("contended", namespace)
    assert current.data == winners[0].data
    assert current.metadata.resource_version == winners[0].metadata.resource_version


async def test_concurrent_patches_lose_no_update(core: Any, namespace: str) -> None:
    await core.create_namespaced_config_map(namespace, configmap("merged", seed="x"))
    patched = await asyncio.gather(
        *(
            core.patch_namespaced_config_map("merged", namespace, {"data": {f"k{i}": str(i)}})
            for i in range(30)
        )
    )
    versions = {int(cm.metadata.resource_version) for cm in patched}
    assert len(versions) == 30
    final = await core.read_namespaced_config_map("merged", namespace)
    assert final.data == {"seed": "x", **{f"k{i}": str(i) for i in range(30)}}
    assert int(final.metadata.resource_version) == max(versions)


async def test_custom_object_watch_sees_status_metadata_and_delete(
    core: Any, namespace: str
) -> None:
    """EventTypes (served by the CRD the control plane installs) watched as plain dicts."""
    custom: Any = client.CustomObjectsApi(core.api_client)
    args = ("eventing.knative.dev", "v1beta2", namespace, "eventtypes")
    start = (await custom.list_namespaced_custom_object(*args))["metadata"]["resourceVersion"]
    body = {
        "apiVersion": "eventing.knative.dev/v1beta2",
        "kind": "EventType",
        "metadata": {"name": "watched"},
        "spec": {"type": "dev.example.watched"},
    }
    await custom.create_namespaced_custom_object(*args, body)
    merge = "application/merge-patch+json"
    await custom.patch_namespaced_custom_object_status(
        *args, "watched", {"status": {"observedGeneration": 1}}, _content_type=merge
    )
    await custom.patch_namespaced_custom_object(
        *args, "watched", {"metadata": {"labels": {"seen": "yes"}}}, _content_type=merge
    )
    await custom.delete_namespaced_custom_object(*args, "watched")

    events = await collect(
        custom.list_namespaced_custom_object,
        *args,
        resource_version=start,
        timeout_seconds=5,
        until=lambda events: len(events) >= 4,
    )
    assert [e["type"] for e in events] == ["ADDED", "MODIFIED", "MODIFIED", "DELETED"]
    objects = [e["object"] for e in events]
    assert all(isinstance(obj, dict) for obj in objects)
    assert objects[1]["status"] == {"observedGeneration": 1}
    assert objects[1]["metadata"]["generation"] == 1
    assert objects[2]["metadata"]["labels"] == {"seen": "yes"}
    assert objects[2]["status"] == {"observedGeneration": 1}
    assert objects[3]["metadata"]["name"] == "watched"
    versions = [rv(e) for e in events]
    assert versions == sorted(set(versions))
