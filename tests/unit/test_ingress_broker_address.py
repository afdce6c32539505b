"""Brokers' addresses when the embedded ingress runs (controllers.knative_status), purely."""

from __future__ import annotations

from typing import Any

from event_registry.controllers import knative_status as ks

T0 = "2024-01-01T00:00:00Z"
IN_CLUSTER = "http://broker-ingress.knative-eventing.svc.cluster.local"
EMBEDDED = "http://127.0.0.1:8002"


def broker(url: str | None = None, *, generation: int = 1, observed: int = 1) -> dict[str, Any]:
    status: dict[str, Any] = {
        "observedGeneration": observed,
        "conditions": [{"type": "Ready", "status": "True"}],
    }
    if url is not None:
        status["address"] = {"name": "http", "url": url}
    return {
        "metadata": {"namespace": "ns", "name": "default", "generation": generation},
        "status": status,
    }


def test_a_new_broker_is_addressed_at_the_embedded_ingress_when_it_runs() -> None:
    raw = broker(observed=0)
    status = ks.broker_status(raw, now=T0, ingress=EMBEDDED)
    assert status is not None
    assert status["address"] == {"name": "http", "url": f"{EMBEDDED}/ns/default"}


def test_without_the_embedded_ingress_the_address_is_knatives_in_cluster_one() -> None:
    status = ks.broker_status(broker(observed=0), now=T0)
    assert status is not None
    assert status["address"]["url"] == f"{IN_CLUSTER}/ns/default"


def test_an_up_to_date_broker_at_another_port_gets_its_address_alone_rewritten() -> None:
    update = ks.broker_address_update(broker("http://127.0.0.1:9999/ns/default"), EMBEDDED)
    assert update == {"address": {"name": "http", "url": f"{EMBEDDED}/ns/default"}}


def test_an_up_to_date_broker_addressed_in_cluster_moves_to_the_embedded_ingress() -> None:
    update = ks.broker_address_update(broker(f"{IN_CLUSTER}/ns/default"), EMBEDDED)
    assert update == {"address": {"name": "http", "url": f"{EMBEDDED}/ns/default"}}


def test_when_the_ingress_stops_running_the_address_returns_in_cluster() -> None:
    update = ks.broker_address_update(broker(f"{EMBEDDED}/ns/default"), None)
    assert update == {"address": {"name": "http", "url": f"{IN_CLUSTER}/ns/default"}}


def test_an_address_the_controller_did_not_write_stays() -> None:
    for url in (
        "http://kafka-broker-ingress.knative-eventing.svc.cluster.local/ns/default",
        "http://127.0.0.1:9999/other/path",
        f"{EMBEDDED}/ns/default",
    ):
        assert ks.broker_address_update(broker(url), EMBEDDED) is None
    assert ks.broker_address_update(broker(None), EMBEDDED) is None
