"""The cluster client against a real control plane: every outcome of a request is a result
or one error of cluster/errors.py (a class per refusal, Unavailable without an answer),
discovery and the REST mapping, and a watch from a compacted resourceVersion (410).

The control plane is a separate process (tiny history: 5 changes), shared by the module.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from event_registry.cluster import errors, kinds
from event_registry.cluster.client import ClusterClient
from event_registry.cluster.connecting import Connection, open_client
from event_registry.cluster.listwatching import ListerWatcher, WatchEvent
from tests.support.controlplane import ControlPlaneProcess, free_port, knative_crd

NS = "client"


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlaneProcess]:
    process = ControlPlaneProcess(
        tmp_path_factory.mktemp("client"),
        "--port",
        str(free_port()),
        "--history-limit",
        "5",
        "--no-controllers",
    ).start()
    try:
        for crd in ("eventtype", "broker", "trigger"):
            process.kubectl("apply", "-f", "-", input=knative_crd(crd), check=True)
        process.kubectl("create", "namespace", NS, check=True)
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
async def client(plane: ControlPlaneProcess) -> AsyncIterator[ClusterClient]:
    async with await open_client(
        Connection("embedded"), embedded_kubeconfig=plane.kubeconfig
    ) as opened:
        yield opened


async def drain(stream: AsyncGenerator[WatchEvent, None]) -> list[WatchEvent]:
    async with contextlib.aclosing(stream):
        return [event async for event in stream]


def broker(name: str, **metadata: Any) -> dict[str, Any]:
    return {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Broker",
        "metadata": {"name": name, "namespace": NS, **metadata},
    }


async def test_an_object_created_is_found_and_a_missing_one_is_not_found(
    client: ClusterClient,
) -> None:
    stored = await client.create(kinds.BROKERS, NS, broker("found"))
    assert stored["metadata"]["resourceVersion"]
    got = await client.get(kinds.BROKERS, NS, "found")
    assert got["metadata"]["uid"] == stored["metadata"]["uid"]
    assert await client.find(kinds.BROKERS, NS, "missing") is None
    with pytest.raises(errors.NotFound) as raised:
        await client.get(kinds.BROKERS, NS, "missing")
    assert (raised.value.code, raised.value.reason) == (404, "NotFound")


async def test_creating_a_name_twice_is_already_exists(client: ClusterClient) -> None:
    await client.create(kinds.BROKERS, NS, broker("twice"))
    with pytest.raises(errors.AlreadyExists) as raised:
        await client.create(kinds.BROKERS, NS, broker("twice"))
    assert isinstance(raised.value, errors.Conflict)
    assert "twice" in raised.value.message


async def test_an_invalid_object_is_invalid_with_the_field_named(client: ClusterClient) -> None:
    with pytest.raises(errors.Invalid) as raised:
        await client.create(kinds.BROKERS, NS, broker("Not_A_Name"))
    assert raised.value.code == 422
    assert any(cause.get("field") == "metadata.name" for cause in raised.value.causes)


async def test_an_unknown_field_is_refused_as_invalid(client: ClusterClient) -> None:
    with pytest.raises(errors.Invalid):
        await client.create(kinds.BROKERS, NS, {**broker("strict"), "spec": {"nonsense": 1}})
    assert await client.find(kinds.BROKERS, NS, "strict") is None


async def test_a_patch_from_a_stale_read_is_a_conflict(client: ClusterClient) -> None:
    stored = await client.create(kinds.BROKERS, NS, broker("stale"))
    stale = stored["metadata"]["resourceVersion"]
    await client.merge_patch(kinds.BROKERS, NS, "stale", {"metadata": {"labels": {"a": "1"}}})
    patch = {"metadata": {"resourceVersion": stale, "labels": {"a": "2"}}}
    with pytest.raises(errors.Conflict) as raised:
        await client.merge_patch(kinds.BROKERS, NS, "stale", patch)
    assert type(raised.value) is errors.Conflict


async def test_deleting_twice_is_not_found_the_second_time(client: ClusterClient) -> None:
    await client.create(kinds.BROKERS, NS, broker("deleted"))
    await client.delete(kinds.BROKERS, NS, "deleted")
    with pytest.raises(errors.NotFound):
        await client.delete(kinds.BROKERS, NS, "deleted")


async def test_discovery_maps_kinds_to_resources_and_knows_what_is_not_served(
    client: ClusterClient,
) -> None:
    resolved = await client.rest_mapper.resolve("eventing.knative.dev/v1", "Broker")
    assert resolved is not None
    assert (resolved.plural, resolved.namespaced) == ("brokers", True)
    namespaces = await client.rest_mapper.resolve("v1", "Namespace")
    assert namespaces is not None
    assert (namespaces.plural, namespaces.namespaced) == ("namespaces", False)
    assert await client.rest_mapper.resolve("eventing.knative.dev/v1", "Nothing") is None
    assert await client.discover("nothing.example.com/v1") is None


async def test_the_preferred_version_of_a_kind_costs_no_request_once_known(
    client: ClusterClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    mapper = client.rest_mapper
    # eventing.knative.dev prefers v1, which serves Brokers but not EventTypes
    assert (
        await mapper.preferred_version("eventing.knative.dev", "EventType")
        == "eventing.knative.dev/v1beta3"
    )
    assert (
        await mapper.preferred_version("eventing.knative.dev", "Broker")
        == "eventing.knative.dev/v1"
    )
    assert await mapper.preferred_version("eventing.knative.dev", "Nothing") is None
    paths: list[str] = []
    request = client.request

    async def counted(method: str, path: str, *args: object, **kwargs: object) -> object:
        paths.append(path)
        return await request(method, path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(client, "request", counted)
    for _ in range(3):
        assert (
            await mapper.preferred_version("eventing.knative.dev", "EventType")
            == "eventing.knative.dev/v1beta3"
        )
        assert await mapper.preferred_version("", "Namespace") == "v1"
    assert paths == []
    assert await mapper.preferred_version("eventing.knative.dev", "Nothing") is None
    assert paths, "a kind no cached version serves is looked up again"


async def test_a_watch_from_a_compacted_resource_version_is_expired(
    client: ClusterClient,
) -> None:
    watcher = ListerWatcher(client, kinds.BROKERS)
    _, old = await watcher.list()
    for index in range(7):  # more changes than the control plane keeps (5)
        await client.create(kinds.BROKERS, NS, broker(f"churn-{index}"))
    with pytest.raises(errors.Expired) as raised:
        await drain(watcher.watch(old, timeout_seconds=1, read_timeout=5))
    assert raised.value.code == 410


async def test_a_cluster_nobody_answers_at_is_unavailable(
    plane: ControlPlaneProcess, tmp_path: Path
) -> None:
    config = yaml.safe_load(plane.kubeconfig.read_text())
    for cluster in config["clusters"]:
        cluster["cluster"]["server"] = f"http://127.0.0.1:{free_port()}"
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump(config))
    async with await open_client(Connection("kubeconfig", kubeconfig)) as nowhere:
        with pytest.raises(errors.Unavailable) as raised:
            await nowhere.get(kinds.BROKERS, NS, "any")
        assert (raised.value.code, raised.value.reason) == (0, "Unreachable")
        assert raised.value.__cause__ is not None
        with pytest.raises(errors.Unavailable):
            await ListerWatcher(nowhere, kinds.BROKERS).list()
