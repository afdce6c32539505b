"""Namespaces as on a cluster, through an in-process ApiServer: the metadata label the API server
sets, the verbs discovery lists, Knative's system namespace, and the conversion stanza of the
multi-version Knative CRDs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from event_registry.controlplane import knative
from event_registry.controlplane.api import discovery
from event_registry.controlplane.api.apiserver import ApiServer, Target
from event_registry.controlplane.api.resources import (
    CUSTOM_RESOURCE_DEFINITIONS,
    NAMESPACES,
)
from event_registry.controlplane.knative import installing
from event_registry.controlplane.storage.sqlite import Storage
from tests.support.controlplane import KNATIVE_CRDS

LABEL = "kubernetes.io/metadata.name"


@pytest.fixture
def api(tmp_path: Path) -> Iterator[ApiServer]:
    storage = Storage(tmp_path / "data", history_limit=1000)
    server = ApiServer(storage)
    knative.enable(server)
    yield server
    storage.close()


def namespace(api: ApiServer, name: str) -> Target:
    return Target(NAMESPACES, "v1", name=name)


def test_a_created_namespace_carries_the_metadata_label(api: ApiServer) -> None:
    created = api.create(Target(NAMESPACES, "v1"), {"metadata": {"name": "team"}}).object
    assert created["metadata"]["labels"] == {LABEL: "team"}


def test_the_label_is_always_the_name_whatever_a_client_sends(api: ApiServer) -> None:
    body = {"metadata": {"name": "team", "labels": {LABEL: "other", "x": "y"}}}
    created = api.create(Target(NAMESPACES, "v1"), body).object
    assert created["metadata"]["labels"] == {LABEL: "team", "x": "y"}
    created["metadata"]["labels"] = {"x": "z"}
    updated = api.update(namespace(api, "team"), created).object
    assert updated["metadata"]["labels"] == {LABEL: "team", "x": "z"}


def test_namespaces_do_not_advertise_deletecollection(api: ApiServer) -> None:
    listed = discovery.api_resource_list(api.catalog, "", "v1")
    assert listed is not None
    verbs = {entry["name"]: entry["verbs"] for entry in listed["resources"]}
    assert verbs["namespaces"] == ["create", "delete", "get", "list", "patch", "update", "watch"]
    assert "deletecollection" in verbs["configmaps"]


def test_knative_eventing_exists_after_enable_and_enable_is_idempotent(api: ApiServer) -> None:
    stored = api.get(namespace(api, "knative-eventing"))
    assert stored["metadata"]["labels"] == {LABEL: "knative-eventing"}
    revision = api.storage.revision
    knative.enable(api)
    installing.install_system_namespace(api)
    assert api.storage.revision == revision


@pytest.mark.parametrize(
    ("name", "webhook"),
    [
        ("eventtypes.eventing.knative.dev", True),
        ("pingsources.sources.knative.dev", True),
        ("brokers.eventing.knative.dev", False),
        ("triggers.eventing.knative.dev", False),
    ],
)
def test_multi_version_crds_declare_knatives_webhook_conversion(
    api: ApiServer, name: str, webhook: bool
) -> None:
    spec = api.get(Target(CUSTOM_RESOURCE_DEFINITIONS, "v1", name=name))["spec"]
    if not webhook:
        assert "conversion" not in spec or spec["conversion"] == {"strategy": "None"}
        return
    assert spec["conversion"] == {
        "strategy": "Webhook",
        "webhook": {
            "conversionReviewVersions": ["v1", "v1beta1"],
            "clientConfig": {
                "service": {"name": "eventing-webhook", "namespace": "knative-eventing"}
            },
        },
    }


@pytest.mark.knative_crds
@pytest.mark.parametrize("manifest", ["eventtype.yaml", "pingsource.yaml"])
def test_the_conversion_stanza_is_knatives(api: ApiServer, manifest: str) -> None:
    real = yaml.safe_load((KNATIVE_CRDS / manifest).read_text())
    name = real["metadata"]["name"]
    ours = api.get(Target(CUSTOM_RESOURCE_DEFINITIONS, "v1", name=name))
    assert ours["spec"]["conversion"] == real["spec"]["conversion"]
