"""A mutation the cluster does not answer is a typed ``Unavailable`` result, never a masked error.

One control plane, one ``serve --kubeconfig`` registry reaching it through a loopback proxy
that can be told to fail (:class:`~tests.support.faulty_proxy.FaultyProxy`): connections
closed at once (the API server went away), or every request answered 429, 500 or 503. For
each fault every mutation (create and delete of each kind, subscribeToEventType) answers
``Unavailable`` with a message naming the cause and a retry hint, no ``errors``, HTTP 200;
the registry stays up (``/healthz``, and queries answered from its cache); ``kreg`` says so
and exits 5. Once the cluster answers again the same write succeeds.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.clients.kreg_support import run_kreg
from tests.support.controlplane import ControlPlaneProcess, knative_crd, manifest
from tests.support.faulty_proxy import FaultyProxy, Mode
from tests.support.registry import (
    RegistryProcess,
    broker,
    data_of,
    eventtype,
    eventually,
)

NAMESPACE = "outage"
FAULTS: list[Mode] = ["close", 503, 500, 429]
_names = itertools.count()


@dataclass
class Setup:
    plane: ControlPlaneProcess
    proxy: FaultyProxy
    registry: RegistryProcess


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    base: Path = tmp_path_factory.mktemp("unavailable")
    plane = ControlPlaneProcess(base / "plane", "--no-controllers").start()
    proxy: FaultyProxy | None = None
    registry: RegistryProcess | None = None
    try:
        for crd in ("eventtype", "broker", "trigger"):
            plane.kubectl("apply", "-f", "-", input=knative_crd(crd), check=True)
        plane.kubectl("create", "namespace", NAMESPACE, check=True)
        port = urlsplit(plane.url).port
        assert port is not None, plane.url
        proxy = FaultyProxy(port)
        kubeconfig = proxy.kubeconfig(plane.kubeconfig, base / "through-proxy")
        registry = RegistryProcess(base / "registry", "--kubeconfig", str(kubeconfig))
        registry.start()
        registry.wait_ready()
        yield Setup(plane, proxy, registry)
    finally:
        if registry is not None:
            registry.stop()
        if proxy is not None:
            proxy.close()
        plane.stop()


@pytest.fixture
def setup_with_objects(setup: Setup) -> Iterator[Setup]:
    """A Broker and an EventType to delete and subscribe to; the proxy forwards again after."""
    plane = setup.plane
    plane.kubectl(
        "apply",
        "-f",
        "-",
        input=manifest(
            broker("default", NAMESPACE),
            eventtype("et-outage", NAMESPACE, type="dev.example.outage", broker="default"),
        ),
        check=True,
    )
    eventually(
        lambda: data_of(setup.registry.query(EVENT_TYPE))["eventType"] is not None, timeout=20
    )
    try:
        yield setup
    finally:
        setup.proxy.set_mode("forward")


EVENT_TYPE = f'{{ eventType(namespace: "{NAMESPACE}", name: "et-outage") {{ name }} }}'
RESULT = "__typename ... on Unavailable { message retryAfterSeconds }"


def mutations(name: str) -> dict[str, str]:
    ns = f'namespace: "{NAMESPACE}"'
    return {
        "createBroker": f'createBroker(input: {{{ns}, name: "{name}"}})',
        "registerEventType": (
            f'registerEventType(input: {{{ns}, name: "{name}", type: "dev.example.{name}"}})'
        ),
        "createTrigger": (
            f'createTrigger(input: {{{ns}, name: "{name}", broker: "default",'
            ' subscriber: {uri: "http://example.com"}})'
        ),
        "subscribeToEventType": (
            f'subscribeToEventType({ns}, name: "et-outage",'
            f' subscriber: {{uri: "http://{name}.example.com"}}, triggerName: "{name}")'
        ),
        "deleteBroker": f'deleteBroker({ns}, name: "default")',
        "deleteEventType": f'deleteEventType({ns}, name: "et-outage")',
        "deleteTrigger": f'deleteTrigger({ns}, name: "{name}")',
    }


@pytest.mark.parametrize("fault", FAULTS, ids=str)
def test_every_mutation_the_cluster_does_not_answer_is_unavailable_and_the_registry_stays_up(
    setup_with_objects: Setup, fault: Mode
) -> None:
    registry, proxy = setup_with_objects.registry, setup_with_objects.proxy
    proxy.set_mode(fault)
    name = f"down-{next(_names)}"
    for field, call in mutations(name).items():
        result = registry.query(f"mutation {{ {field}: {call} {{ {RESULT} }} }}")
        assert "errors" not in result, (field, result)
        answer = result["data"][field]
        assert answer["__typename"] == "Unavailable", (field, answer)
        assert answer["message"].startswith("the cluster did not answer the write"), answer
        cause = "Unreachable" if fault == "close" else f"({fault})"
        assert cause in answer["message"], (field, answer)
        assert answer["retryAfterSeconds"] >= 1
    assert registry.get("/healthz").status == 200
    assert data_of(registry.query(EVENT_TYPE)) == {"eventType": {"name": "et-outage"}}
    assert registry.running

    broker_of_kreg = f"kreg-{name}"
    told = run_kreg("create", "broker", broker_of_kreg, "-n", NAMESPACE, url=registry.url)
    assert told.returncode == 5, told
    assert told.stderr.startswith("error: the cluster did not answer the write"), told.stderr
    assert "retry after 1s" in told.stderr

    proxy.set_mode("forward")
    # Its watches come back after their backoff (up to 30 s after repeated failures); the
    # mutation below then finds the cluster answering and its write in the cache.
    plane = setup_with_objects.plane
    marker = eventtype(f"back-{name}", NAMESPACE, type="dev.example.back")
    plane.kubectl("apply", "-f", "-", input=manifest(marker), check=True)
    seen = f'{{ eventType(namespace: "{NAMESPACE}", name: "back-{name}") {{ name }} }}'
    eventually(lambda: data_of(registry.query(seen))["eventType"] is not None, timeout=60)
    call = mutations(name)["createBroker"]
    answer = data_of(registry.query(f"mutation {{ {call} {{ {RESULT} }} }}"))
    assert answer["createBroker"]["__typename"] == "BrokerCreated", answer
    got = plane.kubectl("get", "brokers.eventing.knative.dev", name, "-n", NAMESPACE)
    assert got.returncode == 0, got


def test_a_write_refused_for_the_registrys_own_credentials_is_unavailable_not_masked(
    setup_with_objects: Setup,
) -> None:
    """401: the registry's credentials, not the caller's doing; typed, and no write made."""
    registry, proxy = setup_with_objects.registry, setup_with_objects.proxy
    proxy.set_mode(401)
    name = f"unauthorized-{next(_names)}"
    for field, call in mutations(name).items():
        result = registry.query(f"mutation {{ {field}: {call} {{ {RESULT} }} }}")
        assert "errors" not in result, (field, result)
        answer = result["data"][field]
        assert answer["__typename"] == "Unavailable", (field, answer)
        assert answer["message"].startswith("the cluster refused the registry's own credentials"), (
            answer
        )
        assert "(401)" in answer["message"], answer
        assert answer["retryAfterSeconds"] == 30
    assert registry.running
    assert registry.get("/healthz").status == 200
