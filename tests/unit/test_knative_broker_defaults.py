"""Broker defaults from ``knative-eventing/config-br-defaults``, through an in-process ApiServer.

Covers :mod:`event_registry.controlplane.knative.broker_defaults` and its use by Broker
admission: the cluster default and a namespace default are both honoured, defaults fill only
absent fields, an edit to the ConfigMap applies to the next write, and without the ConfigMap
(or with an unreadable one) only Knative's built-in class default is set.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from event_registry.controlplane import knative
from event_registry.controlplane.api.apiserver import ApiServer, Target
from event_registry.controlplane.api.resources import CONFIGMAPS, NAMESPACES
from event_registry.controlplane.knative import broker_defaults
from event_registry.controlplane.storage.sqlite import Storage

CLASS = "eventing.knative.dev/broker.class"
CHANNEL = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "name": "config-br-default-channel",
    "namespace": "knative-eventing",
}
CLUSTER_DELIVERY = {"retry": 10, "backoffPolicy": "exponential", "backoffDelay": "PT0.2S"}
TEAM_CONFIG = {"apiVersion": "v1", "kind": "ConfigMap", "name": "team-channel", "namespace": "team"}
STOCK_AND_TEAM = {
    "clusterDefault": {
        "brokerClass": "MTChannelBasedBroker",
        **CHANNEL,
        "delivery": CLUSTER_DELIVERY,
    },
    "namespaceDefaults": {
        "team": {"brokerClass": "Kafka", **TEAM_CONFIG, "delivery": {"retry": 3}},
    },
}


@pytest.fixture
def api(tmp_path: Path) -> Iterator[ApiServer]:
    storage = Storage(tmp_path / "data", history_limit=1000)
    server = ApiServer(storage)
    for name in ("default", "team"):
        server.create(Target(NAMESPACES, "v1"), {"metadata": {"name": name}})
    knative.enable(server)
    yield server
    storage.close()


def brokers(api: ApiServer, namespace: str) -> Target:
    resource = api.catalog.lookup("eventing.knative.dev", "v1", "brokers")
    assert resource is not None
    return Target(resource, "v1", namespace)


def create_broker(api: ApiServer, namespace: str, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Broker",
        "metadata": {"name": "b"},
    }
    body.update(fields)
    return api.create(brokers(api, namespace), body).object


def write_defaults(api: ApiServer, document: object) -> None:
    text = document if isinstance(document, str) else yaml.safe_dump(document)
    body = {
        "metadata": {"name": broker_defaults.CONFIG_MAP},
        "data": {broker_defaults.CONFIG_KEY: text},
    }
    api.create(Target(CONFIGMAPS, "v1", "knative-eventing"), body)


def test_without_the_configmap_only_the_class_is_defaulted(api: ApiServer) -> None:
    created = create_broker(api, "default")
    assert created["metadata"]["annotations"][CLASS] == "MTChannelBasedBroker"
    assert "config" not in created.get("spec", {})
    assert "delivery" not in created.get("spec", {})


def test_the_cluster_default_fills_config_and_delivery(api: ApiServer) -> None:
    write_defaults(api, STOCK_AND_TEAM)
    created = create_broker(api, "default")
    assert created["spec"]["config"] == CHANNEL
    assert created["spec"]["delivery"] == CLUSTER_DELIVERY
    assert created["metadata"]["annotations"][CLASS] == "MTChannelBasedBroker"


def test_a_namespace_default_wins_in_its_namespace(api: ApiServer) -> None:
    write_defaults(api, STOCK_AND_TEAM)
    created = create_broker(api, "team")
    assert created["spec"]["config"] == TEAM_CONFIG
    assert created["spec"]["delivery"] == {"retry": 3}
    assert created["metadata"]["annotations"][CLASS] == "Kafka"


def test_defaults_fill_only_absent_fields(api: ApiServer) -> None:
    write_defaults(api, STOCK_AND_TEAM)
    own = {"apiVersion": "v1", "kind": "ConfigMap", "name": "mine"}
    created = create_broker(
        api,
        "default",
        metadata={"name": "b", "annotations": {CLASS: "Other"}},
        spec={"config": own, "delivery": {"retry": 1}},
    )
    # the config's namespace is still defaulted to the Broker's, as KReference.SetDefaults does
    assert created["spec"]["config"] == {**own, "namespace": "default"}
    assert created["spec"]["delivery"] == {"retry": 1}
    assert created["metadata"]["annotations"][CLASS] == "Other"


def test_a_class_entry_of_brokerclasses_is_preferred(api: ApiServer) -> None:
    write_defaults(
        api,
        {
            "clusterDefault": {
                **CHANNEL,
                "brokerClasses": {"Special": {**TEAM_CONFIG, "delivery": {"retry": 7}}},
            }
        },
    )
    created = create_broker(
        api, "default", metadata={"name": "b", "annotations": {CLASS: "Special"}}
    )
    assert created["spec"]["config"] == TEAM_CONFIG
    assert created["spec"]["delivery"] == {"retry": 7}


def test_an_edit_of_the_configmap_applies_to_the_next_write(api: ApiServer) -> None:
    assert "config" not in create_broker(api, "default").get("spec", {})
    write_defaults(api, STOCK_AND_TEAM)
    second = api.create(
        brokers(api, "default"),
        {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker", "metadata": {"name": "c"}},
    ).object
    assert second["spec"]["config"] == CHANNEL


def test_an_update_of_a_broker_created_before_the_defaults_is_not_refused(
    api: ApiServer,
) -> None:
    created = create_broker(api, "default")
    write_defaults(api, STOCK_AND_TEAM)
    created["metadata"]["labels"] = {"x": "y"}
    resource = brokers(api, "default").resource
    updated = api.update(Target(resource, "v1", "default", "b"), created).object
    assert updated["metadata"]["labels"] == {"x": "y"}


@pytest.mark.parametrize("text", ["", "  ", ": not yaml: [", "- a list", "42"])
def test_an_unreadable_configmap_means_the_built_in_defaults(text: str) -> None:
    assert broker_defaults.parse({broker_defaults.CONFIG_KEY: text}) == broker_defaults.BUILT_IN
    assert broker_defaults.parse({}) == broker_defaults.BUILT_IN


def test_entries_of_the_wrong_shape_are_ignored() -> None:
    defaults = broker_defaults.parse(
        {
            broker_defaults.CONFIG_KEY: yaml.safe_dump(
                {"clusterDefault": [1], "namespaceDefaults": {"a": 1}}
            )
        }
    )
    assert defaults.broker_class("a") == "MTChannelBasedBroker"
    assert defaults.config("a", "MTChannelBasedBroker") is None
