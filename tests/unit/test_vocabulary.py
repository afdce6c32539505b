"""Unit tests for event_registry.knative.vocabulary: its names agree with the CRDs the
embedded control plane installs, and the cluster's resources are built from them."""

from __future__ import annotations

from typing import Any

import pytest

from event_registry.cluster import kinds
from event_registry.controlplane.knative import definitions
from event_registry.knative import vocabulary
from event_registry.knative.vocabulary import KindName

CRDS = {crd["metadata"]["name"]: crd for crd in definitions.BUILTIN_CRDS}
DEFINED = (*vocabulary.KNATIVE_KINDS, *vocabulary.SOURCE_KINDS)


@pytest.mark.parametrize("name", DEFINED, ids=lambda name: name.kind)
def test_every_knative_kind_is_named_as_its_crd_defines_it(name: KindName) -> None:
    crd = CRDS[name.resource]
    spec: dict[str, Any] = crd["spec"]
    assert (spec["group"], spec["names"]["kind"], spec["names"]["plural"]) == (
        name.group,
        name.kind,
        name.plural,
    )
    assert (spec["scope"] == "Namespaced") == name.namespaced
    served = {version["name"] for version in spec["versions"] if version["served"]}
    assert set(name.versions) == served
    storage = [version["name"] for version in spec["versions"] if version["storage"]]
    assert storage == [name.version], "the preferred version is the storage version"


def test_the_vocabulary_names_every_installed_crd() -> None:
    assert {name.resource for name in DEFINED} == set(CRDS)


def test_source_crds_carry_the_source_duck_label() -> None:
    for name in vocabulary.SOURCE_KINDS:
        assert CRDS[name.resource]["metadata"]["labels"][vocabulary.SOURCE_DUCK_LABEL] == "true"


def test_api_versions_of_a_grouped_and_of_a_core_kind() -> None:
    assert vocabulary.EVENT_TYPE.api_version == "eventing.knative.dev/v1beta2"
    assert vocabulary.EVENT_TYPE.api_versions == (
        "eventing.knative.dev/v1beta2",
        "eventing.knative.dev/v1beta3",
        "eventing.knative.dev/v1beta1",
    )
    assert vocabulary.NAMESPACE.api_version == "v1"
    assert vocabulary.NAMESPACE.resource == "namespaces"


def test_cluster_resources_are_the_vocabulary_kinds() -> None:
    assert kinds.BROKERS.path("ns", "b") == "/apis/eventing.knative.dev/v1/namespaces/ns/brokers/b"
    assert kinds.NAMESPACES.path("ignored", "ns") == "/api/v1/namespaces/ns"
    assert kinds.event_types() == kinds.ResourceRef.of(vocabulary.EVENT_TYPE, "v1beta2")
    assert kinds.event_types("v1beta3").api_version == "eventing.knative.dev/v1beta3"
    assert kinds.EVENT_TYPE_VERSIONS[0] == vocabulary.EVENT_TYPE.version
