"""Events expire: ``controlplane --event-ttl`` as kube-apiserver's, seen by real clients.

One control plane for the module, without controllers (nothing else writes Events) and with a
TTL of two seconds: an Event written through the API is listed, then goes; a watch sees it
ADDED and then DELETED, and neither Event group lists it any more.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
from kubernetes import client as kube_client
from kubernetes import config as kube_config
from kubernetes import watch

from tests.support.controlplane import ControlPlaneProcess

TTL = "2s"


@pytest.fixture(scope="module")
def controlplane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlaneProcess]:
    plane = ControlPlaneProcess(
        tmp_path_factory.mktemp("event-ttl"), "--no-controllers", "--event-ttl", TTL
    ).start()
    try:
        yield plane
    finally:
        plane.stop()


def test_an_expired_event_is_deleted_and_watches_see_it_go(
    controlplane: ControlPlaneProcess, namespace: str
) -> None:
    config = str(controlplane.kubeconfig)
    api = kube_config.new_client_from_config(config_file=config)  # type: ignore[no-untyped-call]
    core = kube_client.CoreV1Api(api)
    listed = core.list_namespaced_event(namespace)
    assert listed.metadata is not None
    core.create_namespaced_event(
        namespace,
        kube_client.CoreV1Event(
            metadata=kube_client.V1ObjectMeta(name="short-lived.1"),
            involved_object=kube_client.V1ObjectReference(
                kind="Broker", namespace=namespace, name="default"
            ),
            reason="Ready",
            message="Broker is ready",
            type="Normal",
            source=kube_client.V1EventSource(component="test"),
        ),
    )
    seen = []
    changes = watch.Watch().stream(  # type: ignore[no-untyped-call]
        core.list_namespaced_event,
        namespace,
        resource_version=listed.metadata.resource_version,
        timeout_seconds=30,
    )
    for change in changes:
        seen.append((change["type"], change["object"].metadata.name))
        if change["type"] == "DELETED":
            break
    assert seen == [("ADDED", "short-lived.1"), ("DELETED", "short-lived.1")]

    assert core.list_namespaced_event(namespace).items == []
    table = controlplane.kubectl("get", "events.events.k8s.io", "-n", namespace, check=True)
    assert table.stdout == ""
    assert "No resources found" in table.stderr


def test_the_flag_refuses_a_duration_it_cannot_read() -> None:
    refused = subprocess.run(
        [sys.executable, "-m", "event_registry", "controlplane", "--event-ttl", "1y"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 2
    assert "argument --event-ttl: invalid duration '1y'" in refused.stderr
