"""Knative Eventing semantics of the control plane, exercised through an in-process ApiServer.

Covers :mod:`event_registry.controlplane.knative`: the built-in CRDs (served versions, structural
schemas, printer columns, labels and annotations), their installation and upgrade rule, and
the admission plugins (Knative's webhook defaults and validation), including with the real
Knative CRDs from ``shared/knative-crds`` applied over ours.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from event_registry.controlplane import knative
from event_registry.controlplane.api.admission import Request
from event_registry.controlplane.api.apiserver import ApiServer, Target, WriteResult
from event_registry.controlplane.api.resources import (
    CONFIGMAPS,
    CUSTOM_RESOURCE_DEFINITIONS,
    NAMESPACES,
)
from event_registry.controlplane.http import tables
from event_registry.controlplane.knative import admitting, definitions, installing
from event_registry.controlplane.knative import features as flags
from event_registry.controlplane.machinery import errors
from event_registry.controlplane.storage.sqlite import Storage
from event_registry.knative.eventtype_versions import ATTRIBUTES_ANNOTATION
from tests.support.controlplane import KNATIVE_CRDS, knative_crd

EVENTING = "eventing.knative.dev"
SOURCES = "sources.knative.dev"
MERGE = "application/merge-patch+json"
CLASS = "eventing.knative.dev/broker.class"
BROKER_REF = {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker", "name": "default"}
CONDITIONS = [
    {
        "type": "Ready",
        "status": "True",
        "lastTransitionTime": "2024-01-02T03:04:05Z",
    },
    {
        "type": "ReferenceExists",
        "status": "True",
        "severity": "Info",
        "reason": "Found",
        "message": "the reference exists",
        "lastTransitionTime": "2024-01-02T03:04:05Z",
    },
]
NOT_READY = [
    {
        "type": "Ready",
        "status": "False",
        "reason": "ResourceDoesNotExist",
        "message": "Broker dev does not exist",
        "lastTransitionTime": "2024-01-02T03:04:05Z",
    }
]
CA_CERT = (
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBszCCAVmgAwIBAgIUQ2Zk1zQ9r6cWm9uK2sC3nJ2l0g8wCgYIKoZIzj0EAwIw\n"
    "-----END CERTIFICATE-----\n"
)


# ------------------------------------------------------------------------------ fixtures


@pytest.fixture
def api(tmp_path: Path) -> Iterator[ApiServer]:
    storage = Storage(tmp_path / "data", history_limit=1000)
    server = ApiServer(storage)
    server.create(Target(NAMESPACES, "v1"), {"metadata": {"name": "default"}})
    server.create(Target(NAMESPACES, "v1"), {"metadata": {"name": "other"}})
    knative.enable(server)
    yield server
    storage.close()


def target(
    api: ApiServer,
    plural: str,
    version: str,
    name: str = "",
    *,
    group: str = EVENTING,
    namespace: str = "default",
    subresource: str = "",
) -> Target:
    resource = api.catalog.lookup(group, version, plural)
    assert resource is not None, f"{plural}.{group}/{version} is not served"
    return Target(resource, version, namespace, name, subresource)


def eventtypes(api: ApiServer, name: str = "", version: str = "v1beta2") -> Target:
    return target(api, "eventtypes", version, name)


def brokers(api: ApiServer, name: str = "") -> Target:
    return target(api, "brokers", "v1", name)


def triggers(api: ApiServer, name: str = "") -> Target:
    return target(api, "triggers", "v1", name)


def crds(name: str = "") -> Target:
    return Target(CUSTOM_RESOURCE_DEFINITIONS, "v1", name=name)


def rejected(api: ApiServer, write: Callable[[], object]) -> list[errors.Cause]:
    """Run a write the API server (422) or Knative's webhook (400) refuses; check it changed
    nothing; return its causes."""
    revision = api.storage.revision
    with pytest.raises((errors.Invalid, errors.BadRequest)) as caught:
        write()
    assert api.storage.revision == revision
    return list(caught.value.causes)


def fields(causes: list[errors.Cause]) -> set[str]:
    return {cause.field for cause in causes}


def cause_at(causes: list[errors.Cause], field: str) -> errors.Cause:
    found = [cause for cause in causes if cause.field == field]
    assert found, f"no cause at {field}: {causes}"
    return found[0]


def with_spec(obj: dict[str, Any], **spec: Any) -> dict[str, Any]:
    result = copy.deepcopy(obj)
    result["spec"] = {**result.get("spec", {}), **spec}
    return result


def replace(api: ApiServer, tgt: Target, obj: dict[str, Any]) -> WriteResult:
    """PUT ``obj`` over the stored object, with the stored resourceVersion."""
    body = copy.deepcopy(obj)
    body["metadata"]["resourceVersion"] = api.get(tgt)["metadata"]["resourceVersion"]
    return api.update(tgt, body)


# ---------------------------------------------------------------------- realistic objects


def seed_eventtype() -> dict[str, Any]:
    """The seed's manually registered EventType, rewritten from v1alpha1 to v1beta2."""
    return {
        "apiVersion": "eventing.knative.dev/v1beta2",
        "kind": "EventType",
        "metadata": {"name": "com.github.pullrequest", "namespace": "default"},
        "spec": {
            "type": "com.github.pull_request",
            "source": "github.com",
            "schema": "//github.com/schemas/pull_request",
            "description": "GitHub pull request",
            "reference": dict(BROKER_REF),
        },
    }


def bitbucket_eventtype() -> dict[str, Any]:
    return {
        "apiVersion": "eventing.knative.dev/v1beta2",
        "kind": "EventType",
        "metadata": {"name": "org.bitbucket.repofork", "namespace": "default"},
        "spec": {
            "type": "org.bitbucket.repo:fork",
            "source": "bitbucket.org",
            "description": "BitBucket fork",
            "reference": {**BROKER_REF, "name": "dev"},
        },
    }


def broker(name: str = "default", **annotations: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if annotations:
        meta["annotations"] = dict(annotations)
    return {"apiVersion": "eventing.knative.dev/v1", "kind": "Broker", "metadata": meta}


def trigger(name: str = "my-service-trigger", **spec: Any) -> dict[str, Any]:
    """The seed's Trigger, rewritten to v1 (sourceAndType became filter.attributes)."""
    body: dict[str, Any] = {
        "broker": "default",
        "filter": {
            "attributes": {"type": "dev.knative.source.github.push", "source": "github.com"}
        },
        "subscriber": {
            "ref": {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": "my-service"}
        },
    }
    body.update(spec)
    return {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Trigger",
        "metadata": {"name": name},
        "spec": {key: value for key, value in body.items() if value is not None},
    }


def dead_letter_delivery() -> dict[str, Any]:
    return {
        "deadLetterSink": {
            "ref": {
                "apiVersion": "serving.knative.dev/v1",
                "kind": "Service",
                "name": "dead-letters",
                "namespace": "default",
            },
            "uri": "/dlq",
            "audience": "dead-letters",
        },
        "retry": 5,
        "backoffPolicy": "exponential",
        "backoffDelay": "PT0.5S",
        "timeout": "PT10S",
        "format": "json",
    }


SOURCE_STATUS_BASE: dict[str, Any] = {
    "observedGeneration": 1,
    "conditions": [
        {"type": "Ready", "status": "True", "lastTransitionTime": "2024-01-02T03:04:05Z"}
    ],
    "annotations": {"note": "reconciled"},
    "sinkUri": "http://broker-ingress.knative-eventing.svc.cluster.local/default/default",
    "sinkAudience": "default",
    "auth": {"serviceAccountName": "source-oidc", "serviceAccountNames": ["source-oidc"]},
}

# plural, group, version, object, status, fields that defaulting adds to the spec
FULL_OBJECTS: list[tuple[str, str, str, dict[str, Any], dict[str, Any]]] = [
    (
        "eventtypes",
        EVENTING,
        "v1beta2",
        {
            "metadata": {
                "name": "com.github.pullrequest",
                "labels": {"app": "registry"},
                "annotations": {"owner": "team-a"},
            },
            "spec": {
                "type": "com.github.pull_request",
                "source": "https://github.com/knative/eventing",
                "schema": "https://schemas.example.com/pull_request.json",
                "schemaData": '{"type": "object"}',
                "description": "GitHub pull request",
                "reference": {**BROKER_REF, "namespace": "default", "address": "http"},
            },
        },
        {
            "observedGeneration": 1,
            "conditions": CONDITIONS,
            "annotations": {"checked": "yes"},
        },
    ),
    (
        "eventtypes",
        EVENTING,
        "v1beta3",
        {
            "metadata": {"name": "com.example.order"},
            "spec": {
                "reference": {**BROKER_REF, "namespace": "default"},
                "description": "An order was placed",
                "attributes": [
                    {"name": "specversion", "required": True},
                    {"name": "id", "required": True},
                    {"name": "type", "required": True, "value": "com.example.order.placed"},
                    {"name": "source", "required": True, "value": "/shops/{shop}"},
                    {"name": "subject", "required": False},
                ],
            },
        },
        {"observedGeneration": 1, "conditions": CONDITIONS},
    ),
    (
        "brokers",
        EVENTING,
        "v1",
        {
            "metadata": {"name": "default", "annotations": {CLASS: "MTChannelBasedBroker"}},
            "spec": {
                "config": {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "name": "config-br-default-channel",
                    "namespace": "knative-eventing",
                },
                "delivery": dead_letter_delivery(),
            },
        },
        {
            "observedGeneration": 1,
            "conditions": [
                {"type": "Ready", "status": "True", "lastTransitionTime": "2024-01-02T03:04:05Z"},
                {"type": "IngressReady", "status": "True"},
                {"type": "FilterReady", "status": "True"},
                {"type": "Addressable", "status": "True"},
            ],
            "address": {
                "name": "http",
                "url": "http://broker-ingress.knative-eventing.svc.cluster.local/default/default",
                "audience": "eventing.knative.dev/broker/default/default",
            },
            "addresses": [
                {
                    "name": "http",
                    "url": "http://broker-ingress.knative-eventing.svc.cluster.local/default/default",
                },
                {
                    "name": "https",
                    "url": "https://broker-ingress.knative-eventing.svc.cluster.local/default/default",
                    "CACerts": CA_CERT,
                },
            ],
            "policies": [{"apiVersion": "eventing.knative.dev/v1alpha1", "name": "allow-all"}],
            "deadLetterSinkUri": "http://dead-letters.default.svc.cluster.local/dlq",
            "deadLetterSinkAudience": "dead-letters",
            "annotations": {"channelAddress": "http://channel"},
        },
    ),
    (
        "triggers",
        EVENTING,
        "v1",
        {
            "metadata": {
                "name": "github-pushes",
                "labels": {"eventing.knative.dev/broker": "default", "team": "a"},
                "annotations": {"knative.dev/dependency": json.dumps({**BROKER_REF})},
            },
            "spec": {
                "broker": "default",
                "filter": {"attributes": {"type": "dev.knative.source.github.push", "source": ""}},
                "filters": [
                    {"exact": {"type": "dev.knative.source.github.push"}},
                    {"prefix": {"source": "https://github.com/"}},
                    {
                        "any": [
                            {"suffix": {"subject": ".json"}},
                            {"not": {"exact": {"type": "dev.knative.source.github.delete"}}},
                            {"all": [{"exact": {"extension": "a", "other": "b"}}]},
                        ]
                    },
                    {"cesql": "type LIKE 'dev.knative.source.github.%'"},
                ],
                "subscriber": {
                    "ref": {
                        "apiVersion": "serving.knative.dev/v1",
                        "kind": "Service",
                        "name": "consumer",
                        "namespace": "default",
                    },
                    "uri": "/events",
                    "audience": "consumer",
                },
                "delivery": dead_letter_delivery(),
            },
        },
        {
            "observedGeneration": 1,
            "conditions": [
                {"type": "Ready", "status": "True"},
                {"type": "BrokerReady", "status": "True"},
                {"type": "SubscriberResolved", "status": "True"},
            ],
            "subscriberUri": "http://consumer.default.svc.cluster.local/events",
            "subscriberAudience": "consumer",
            "deadLetterSinkUri": "http://dead-letters.default.svc.cluster.local/dlq",
            "auth": {"serviceAccountName": "trigger-oidc"},
            "annotations": {"x": "y"},
        },
    ),
    (
        "pingsources",
        SOURCES,
        "v1",
        {
            "metadata": {"name": "ping"},
            "spec": {
                "schedule": "*/2 * * * *",
                "timezone": "Europe/Berlin",
                "contentType": "application/json",
                "data": '{"message": "Hello world!"}',
                "sink": {"ref": {**BROKER_REF, "namespace": "default"}},
                "ceOverrides": {"extensions": {"origin": "registry"}},
            },
        },
        {
            **SOURCE_STATUS_BASE,
            "ceAttributes": [
                {
                    "type": "dev.knative.sources.ping",
                    "source": "/apis/v1/namespaces/default/pingsources/ping",
                }
            ],
        },
    ),
    (
        "pingsources",
        SOURCES,
        "v1beta2",
        {
            "metadata": {"name": "ping-old"},
            "spec": {
                "schedule": "0 * * * *",
                "dataBase64": "aGVsbG8=",
                "sink": {"uri": "https://example.com/ping"},
            },
        },
        {**SOURCE_STATUS_BASE, "sinkCACerts": CA_CERT},
    ),
    (
        "apiserversources",
        SOURCES,
        "v1",
        {
            "metadata": {"name": "k8s-events"},
            "spec": {
                "mode": "Resource",
                "serviceAccountName": "events-sa",
                "resources": [
                    {
                        "apiVersion": "v1",
                        "kind": "Event",
                        "selector": {
                            "matchLabels": {"app": "shop"},
                            "matchExpressions": [
                                {"key": "tier", "operator": "In", "values": ["web", "api"]}
                            ],
                        },
                    }
                ],
                "owner": {"apiVersion": "apps/v1", "kind": "Deployment"},
                "namespaceSelector": {"matchLabels": {"env": "prod"}},
                "filters": [{"prefix": {"type": "dev.knative.apiserver.resource"}}],
                "sink": {"ref": {**BROKER_REF, "namespace": "default"}},
                "ceOverrides": {"extensions": {"cluster": "embedded"}},
            },
        },
        {
            **SOURCE_STATUS_BASE,
            "namespaces": ["default"],
            "ceAttributes": [
                {
                    "type": "dev.knative.apiserver.resource.add",
                    "source": "https://127.0.0.1:6443",
                }
            ],
        },
    ),
    (
        "githubsources",
        SOURCES,
        "v1alpha1",
        {
            "metadata": {"name": "github-source-sample"},
            "spec": {
                "eventTypes": ["push", "pull_request"],
                "ownerAndRepository": "my-other-user/my-other-repo",
                "accessToken": {"secretKeyRef": {"name": "github-secret", "key": "accessToken"}},
                "secretToken": {"secretKeyRef": {"name": "github-secret", "key": "secretToken"}},
                "githubAPIURL": "https://github.example.com/api/v3/",
                "secure": True,
                "serviceAccountName": "github-adapter",
                "sink": {"ref": dict(BROKER_REF)},
                "ceOverrides": {"extensions": {"team": "a"}},
            },
        },
        {
            **SOURCE_STATUS_BASE,
            "webhookIDKey": "12345",
            "ceAttributes": [
                {
                    "type": "dev.knative.source.github.push",
                    "source": "https://github.com/my-other-user/my-other-repo",
                },
                {
                    "type": "dev.knative.source.github.pull_request",
                    "source": "https://github.com/my-other-user/my-other-repo",
                },
            ],
        },
    ),
]


# ------------------------------------------------------------------------ CRD definitions


def test_every_builtin_crd_is_installed_and_serves_every_version(api: ApiServer) -> None:
    expected = {
        ("eventtypes", EVENTING): (("v1beta3", "v1beta2", "v1beta1"), "v1beta2"),
        ("brokers", EVENTING): (("v1",), "v1"),
        ("triggers", EVENTING): (("v1",), "v1"),
        ("pingsources", SOURCES): (("v1", "v1beta2"), "v1"),
        ("apiserversources", SOURCES): (("v1",), "v1"),
        ("githubsources", SOURCES): (("v1alpha1",), "v1alpha1"),
    }
    for (plural, group), (versions, storage) in expected.items():
        for version in versions:
            resource = api.catalog.lookup(group, version, plural)
            assert resource is not None, (plural, version)
            assert resource.namespaced
            assert resource.short_names == ()
            assert resource.storage_version.name == storage
            served = resource.served_version(version)
            assert served is not None
            assert served.status_subresource
        crd = api.get(crds(f"{plural}.{group}"))
        assert [c["type"] for c in crd["status"]["conditions"]] == ["NamesAccepted", "Established"]
        assert crd["status"]["storedVersions"] == [storage]
    assert len(definitions.BUILTIN_CRDS) == len(expected)


def test_categories_match_knative(api: ApiServer) -> None:
    categories = {
        resource.key: resource.categories
        for resource in api.catalog.all()
        if resource.group in (EVENTING, SOURCES)
    }
    assert categories == {
        "eventtypes.eventing.knative.dev": ("all", "knative", "eventing"),
        "brokers.eventing.knative.dev": ("all", "knative", "eventing"),
        "triggers.eventing.knative.dev": ("all", "knative", "eventing"),
        "pingsources.sources.knative.dev": ("all", "knative", "sources"),
        "apiserversources.sources.knative.dev": ("all", "knative", "sources"),
        "githubsources.sources.knative.dev": ("all", "knative", "eventing", "sources"),
    }


def test_deprecated_versions_warn_and_point_to_the_replacement(api: ApiServer) -> None:
    eventtype = api.catalog.lookup(EVENTING, "v1beta1", "eventtypes")
    assert eventtype is not None
    v1beta1 = eventtype.served_version("v1beta1")
    assert v1beta1 is not None
    assert v1beta1.deprecated
    assert v1beta1.deprecation_warning
    assert "eventing.knative.dev/v1beta2" in v1beta1.deprecation_warning
    assert not any(v.deprecated for v in eventtype.versions if v.name != "v1beta1")
    body = {**seed_eventtype(), "apiVersion": "eventing.knative.dev/v1beta1"}
    result = api.create(eventtypes(api, version="v1beta1"), body)
    assert result.warnings == [v1beta1.deprecation_warning]
    assert result.object["apiVersion"] == "eventing.knative.dev/v1beta1"
    ping = api.catalog.lookup(SOURCES, "v1beta2", "pingsources")
    assert ping is not None
    old = ping.served_version("v1beta2")
    assert old is not None
    assert old.deprecated
    assert old.deprecation_warning
    assert "sources.knative.dev/v1 PingSource" in old.deprecation_warning


def test_source_crds_carry_duck_labels_and_event_types(api: ApiServer) -> None:
    event_types: dict[str, list[dict[str, Any]]] = {}
    for plural in ("pingsources", "apiserversources", "githubsources"):
        crd = api.get(crds(f"{plural}.{SOURCES}"))
        labels = crd["metadata"]["labels"]
        assert labels["duck.knative.dev/source"] == "true"
        assert labels["eventing.knative.dev/source"] == "true"
        assert labels["knative.dev/crd-install"] == "true"
        entries = json.loads(crd["metadata"]["annotations"]["registry.knative.dev/eventTypes"])
        assert all(set(entry) <= {"type", "schema", "description"} for entry in entries)
        assert all(entry["description"] for entry in entries)
        event_types[plural] = entries
    assert [e["type"] for e in event_types["pingsources"]] == ["dev.knative.sources.ping"]
    assert {e["type"] for e in event_types["apiserversources"]} == {
        f"dev.knative.apiserver.{mode}.{op}"
        for mode in ("resource", "ref")
        for op in ("add", "delete", "update")
    }
    github = [e["type"] for e in event_types["githubsources"]]
    assert github == [f"dev.knative.source.github.{e}" for e in definitions.GITHUB_EVENTS]
    for event in ("push", "pull_request", "issues", "issue_comment", "release", "fork"):
        assert f"dev.knative.source.github.{event}" in github
    for plural in ("eventtypes", "brokers", "triggers"):
        labels = api.get(crds(f"{plural}.{EVENTING}"))["metadata"]["labels"]
        assert "duck.knative.dev/source" not in labels
        assert labels["knative.dev/crd-install"] == "true"
    broker_labels = api.get(crds(f"brokers.{EVENTING}"))["metadata"]["labels"]
    assert broker_labels["duck.knative.dev/addressable"] == "true"


def _unstructural_nodes(node: Any, path: str) -> Iterator[str]:
    if not isinstance(node, dict):
        yield path
        return
    if not (
        "type" in node
        or node.get("x-kubernetes-preserve-unknown-fields") is True
        or node.get("x-kubernetes-int-or-string") is True
    ):
        yield path
    for name, child in (node.get("properties") or {}).items():
        yield from _unstructural_nodes(child, f"{path}.{name}")
    if isinstance(node.get("items"), dict):
        yield from _unstructural_nodes(node["items"], f"{path}[*]")
    if isinstance(node.get("additionalProperties"), dict):
        yield from _unstructural_nodes(node["additionalProperties"], f"{path}{{*}}")


def test_every_schema_is_structural() -> None:
    for crd in definitions.BUILTIN_CRDS:
        for version in crd["spec"]["versions"]:
            schema = version["schema"]["openAPIV3Schema"]
            where = f"{crd['metadata']['name']}/{version['name']}"
            assert list(_unstructural_nodes(schema, where)) == []
            assert set(schema["properties"]) == {"spec", "status"}
            assert version["subresources"] == {"status": {}}


def test_definitions_hash_is_the_sha256_of_the_canonical_json() -> None:
    canonical = json.dumps(
        definitions.BUILTIN_CRDS, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    assert hashlib.sha256(canonical.encode()).hexdigest() == definitions.DEFINITIONS_HASH


@pytest.mark.parametrize(
    ("plural", "group", "version", "obj", "status"),
    FULL_OBJECTS,
    ids=[f"{plural}-{version}" for plural, _, version, _, _ in FULL_OBJECTS],
)
def test_a_full_object_round_trips_without_pruning(
    api: ApiServer,
    plural: str,
    group: str,
    version: str,
    obj: dict[str, Any],
    status: dict[str, Any],
) -> None:
    tgt = target(api, plural, version, group=group)
    created = api.create(tgt, copy.deepcopy(obj), field_validation="Strict").object
    assert created["spec"] == obj["spec"]
    name = obj["metadata"]["name"]
    named = target(api, plural, version, name, group=group)
    status_target = target(api, plural, version, name, group=group, subresource="status")
    api.update(
        status_target, {**created, "status": copy.deepcopy(status)}, field_validation="Strict"
    )
    fetched = api.get(named)
    assert fetched["spec"] == obj["spec"]
    assert fetched["status"] == status
    for key in ("labels", "annotations"):
        assert fetched["metadata"].get(key, {}).items() >= obj["metadata"].get(key, {}).items()


# -------------------------------------------------------------------------- printer columns


def _cells(api: ApiServer, tgt: Target, obj: dict[str, Any]) -> list[object]:
    table = tables.table(tgt.resource, tgt.version, [obj])
    names = [column["name"] for column in table["columnDefinitions"]]
    cells: list[object] = table["rows"][0]["cells"]
    assert len(names) == len(cells)
    return cells


def _with_status(api: ApiServer, tgt: Target, status: dict[str, Any]) -> dict[str, Any]:
    current = api.get(tgt)
    status_target = Target(tgt.resource, tgt.version, tgt.namespace, tgt.name, "status")
    return api.update(status_target, {**current, "status": status}).object


def test_eventtype_printer_columns_in_every_version(api: ApiServer) -> None:
    api.create(eventtypes(api), seed_eventtype())
    _with_status(api, eventtypes(api, "com.github.pullrequest"), {"conditions": CONDITIONS})
    api.create(eventtypes(api), bitbucket_eventtype())
    _with_status(api, eventtypes(api, "org.bitbucket.repofork"), {"conditions": NOT_READY})
    for version in ("v1beta2", "v1beta1"):
        tgt = eventtypes(api, "com.github.pullrequest", version)
        names = [c["name"] for c in tables.column_definitions(tgt.resource, version)]
        assert names == [
            "Name",
            "Type",
            "Source",
            "Schema",
            "Reference Name",
            "Reference Kind",
            "Description",
            "Ready",
            "Reason",
        ]
        assert _cells(api, tgt, api.get(tgt)) == [
            "com.github.pullrequest",
            "com.github.pull_request",
            "github.com",
            "//github.com/schemas/pull_request",
            "default",
            "Broker",
            "GitHub pull request",
            "True",
            None,
        ]
    tgt = eventtypes(api, "org.bitbucket.repofork", "v1beta3")
    names = [c["name"] for c in tables.column_definitions(tgt.resource, "v1beta3")]
    assert names == [
        "Name",
        "Type",
        "Source",
        "Reference Name",
        "Reference Kind",
        "Description",
        "Ready",
        "Reason",
    ]
    assert _cells(api, tgt, api.get(tgt)) == [
        "org.bitbucket.repofork",
        "org.bitbucket.repo:fork",
        "bitbucket.org",
        "dev",
        "Broker",
        "BitBucket fork",
        "False",
        "ResourceDoesNotExist",
    ]


def test_broker_trigger_and_source_printer_columns(api: ApiServer) -> None:
    api.create(brokers(api), broker())
    url = "http://broker-ingress.knative-eventing.svc.cluster.local/default/default"
    ready = [{"type": "Ready", "status": "True"}]
    obj = _with_status(api, brokers(api, "default"), {"address": {"url": url}, "conditions": ready})
    cells = _cells(api, brokers(api), obj)
    assert cells[:2] == ["default", url]
    assert isinstance(cells[2], str)
    assert cells[2] != "<invalid>"
    assert cells[3:] == ["True", None, "MTChannelBasedBroker"]
    assert [c["priority"] for c in tables.column_definitions(brokers(api).resource, "v1")][-1] == 1

    api.create(triggers(api), trigger())
    subscriber = "http://my-service.default.svc.cluster.local"
    obj = _with_status(
        api,
        triggers(api, "my-service-trigger"),
        {"subscriberUri": subscriber, "conditions": [{"type": "Ready", "status": "Unknown"}]},
    )
    names = [c["name"] for c in tables.column_definitions(triggers(api).resource, "v1")]
    assert names == ["Name", "Broker", "Subscriber_URI", "Age", "Ready", "Reason"]
    cells = _cells(api, triggers(api), obj)
    assert cells[:3] == ["my-service-trigger", "default", subscriber]
    assert cells[4:] == ["Unknown", None]

    ping = target(api, "pingsources", "v1", group=SOURCES)
    api.create(ping, {"metadata": {"name": "ping"}, "spec": {"schedule": "* * * * *"}})
    obj = _with_status(
        api,
        target(api, "pingsources", "v1", "ping", group=SOURCES),
        {"sinkUri": "http://sink", "conditions": ready},
    )
    cells = _cells(api, ping, obj)
    assert cells[:3] == ["ping", "http://sink", "* * * * *"]
    assert cells[4:] == ["True", None]

    github = target(api, "githubsources", "v1alpha1", group=SOURCES)
    body = copy.deepcopy(FULL_OBJECTS[-1][3])
    api.create(github, body)
    obj = _with_status(
        api,
        target(api, "githubsources", "v1alpha1", "github-source-sample", group=SOURCES),
        {
            "sinkUri": "http://sink",
            "conditions": [{"type": "Ready", "status": "False", "reason": "X"}],
        },
    )
    names = [c["name"] for c in tables.column_definitions(github.resource, "v1alpha1")]
    assert names == ["Name", "Ready", "Reason", "Sink", "Age"]
    assert _cells(api, github, obj)[:4] == ["github-source-sample", "False", "X", "http://sink"]

    apiserver = target(api, "apiserversources", "v1", group=SOURCES)
    names = [c["name"] for c in tables.column_definitions(apiserver.resource, "v1")]
    assert names == ["Name", "Sink", "Age", "Ready", "Reason"]


# --------------------------------------------------------------------------- installation


def test_enable_is_idempotent(api: ApiServer) -> None:
    revision = api.storage.revision
    knative.enable(api)
    assert api.storage.revision == revision
    body = seed_eventtype()
    del body["spec"]["type"]
    causes = rejected(api, lambda: api.create(eventtypes(api), body))
    assert causes == [errors.Cause("spec.type", "FieldValueRequired", "missing field(s)")]


def test_installed_crds_are_marked_as_ours(api: ApiServer) -> None:
    for crd in definitions.BUILTIN_CRDS:
        stored = api.get(crds(crd["metadata"]["name"]))
        annotations = stored["metadata"]["annotations"]
        assert annotations[installing.HASH_ANNOTATION] == definitions.DEFINITIONS_HASH
        assert annotations[installing.SPEC_HASH_ANNOTATION] == installing.spec_hash(stored)
        assert stored["spec"] == crd["spec"]


def test_a_crd_from_an_older_build_is_upgraded_in_place(api: ApiServer) -> None:
    name = f"brokers.{EVENTING}"
    api.create(brokers(api), broker())
    before = api.get(crds(name))
    older = copy.deepcopy(before)
    older["spec"]["versions"][0]["additionalPrinterColumns"].pop()
    older["metadata"]["annotations"][installing.HASH_ANNOTATION] = "0" * 64
    older["metadata"]["annotations"][installing.SPEC_HASH_ANNOTATION] = installing.spec_hash(older)
    api.update(crds(name), older)
    assert len(api.get(crds(name))["spec"]["versions"][0]["additionalPrinterColumns"]) == 4

    installing.install_builtin_crds(api)

    after = api.get(crds(name))
    assert after["spec"] == definitions.BROKER["spec"]
    assert after["metadata"]["annotations"][installing.HASH_ANNOTATION] == (
        definitions.DEFINITIONS_HASH
    )
    assert after["metadata"]["uid"] == before["metadata"]["uid"]
    assert int(after["metadata"]["resourceVersion"]) > int(before["metadata"]["resourceVersion"])
    assert api.get(brokers(api, "default"))["metadata"]["name"] == "default"
    revision = api.storage.revision
    installing.install_builtin_crds(api)
    assert api.storage.revision == revision


def test_only_the_hash_annotation_changed_is_also_upgraded(api: ApiServer) -> None:
    name = f"triggers.{EVENTING}"
    api.patch(
        crds(name),
        MERGE,
        {"metadata": {"annotations": {installing.HASH_ANNOTATION: "stale"}}},
    )
    installing.install_builtin_crds(api)
    annotations = api.get(crds(name))["metadata"]["annotations"]
    assert annotations[installing.HASH_ANNOTATION] == definitions.DEFINITIONS_HASH


def test_a_user_crd_without_the_annotation_is_left_alone(api: ApiServer) -> None:
    name = f"eventtypes.{EVENTING}"
    mine = copy.deepcopy(api.get(crds(name)))
    del mine["metadata"]["annotations"]
    mine["spec"]["versions"][1]["additionalPrinterColumns"] = [
        {"name": "Type", "type": "string", "jsonPath": ".spec.type"}
    ]
    api.update(crds(name), mine)
    revision = api.storage.revision
    installing.install_builtin_crds(api)
    assert api.storage.revision == revision
    stored = api.get(crds(name))
    assert "annotations" not in stored["metadata"]
    assert len(stored["spec"]["versions"][1]["additionalPrinterColumns"]) == 1


def test_a_crd_edited_in_place_keeps_the_edit_even_with_our_annotation(api: ApiServer) -> None:
    name = f"pingsources.{SOURCES}"
    edited = copy.deepcopy(api.get(crds(name)))
    edited["spec"]["names"]["shortNames"] = ["ping"]
    edited["metadata"]["annotations"][installing.HASH_ANNOTATION] = "from-an-older-build"
    api.update(crds(name), edited)
    revision = api.storage.revision
    installing.install_builtin_crds(api)
    assert api.storage.revision == revision
    assert api.get(crds(name))["spec"]["names"]["shortNames"] == ["ping"]


def test_a_user_crd_present_before_the_first_install_is_kept(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "data")
    try:
        server = ApiServer(storage)
        server.create(Target(NAMESPACES, "v1"), {"metadata": {"name": "default"}})
        real = yaml.safe_load(knative_crd("trigger"))
        server.create(crds(), real)
        knative.enable(server)
        stored = server.get(crds(f"triggers.{EVENTING}"))
        assert stored["spec"] == real["spec"]
        assert installing.HASH_ANNOTATION not in (stored["metadata"].get("annotations") or {})
        assert server.catalog.lookup(EVENTING, "v1beta2", "eventtypes") is not None
    finally:
        storage.close()


# ----------------------------------------------------------------------------- EventType


def test_seed_eventtype_is_admitted_and_its_reference_namespace_defaulted(api: ApiServer) -> None:
    created = api.create(eventtypes(api), seed_eventtype()).object
    assert created["spec"]["reference"] == {**BROKER_REF, "namespace": "default"}
    assert created["spec"]["type"] == "com.github.pull_request"
    push = {
        "metadata": {"generateName": "dev.knative.source.github.push-"},
        "spec": {
            "type": "dev.knative.source.github.push",
            "source": "github.com",
            "broker": "default",
        },
    }
    generated = api.create(eventtypes(api), push).object
    assert generated["metadata"]["name"].startswith("dev.knative.source.github.push-")
    assert "reference" not in generated["spec"]


@pytest.mark.parametrize("value", [None, ""])
def test_eventtype_type_is_required(api: ApiServer, value: str | None) -> None:
    body = with_spec(seed_eventtype(), type=value)
    if value is None:
        del body["spec"]["type"]
    causes = rejected(api, lambda: api.create(eventtypes(api), body))
    assert causes == [errors.Cause("spec.type", "FieldValueRequired", "missing field(s)")]
    assert (
        api.storage.get(eventtypes(api).resource.key, "default", "com.github.pullrequest") is None
    )


@pytest.mark.parametrize("field", ["source", "schema"])
@pytest.mark.parametrize(
    "value", ["", "not a uri", "http://exa mple.com", "bad%zzescape", "1a:b", "http://[::1"]
)
def test_eventtype_source_and_schema_must_be_uri_references(
    api: ApiServer, field: str, value: str
) -> None:
    body = with_spec(seed_eventtype(), **{field: value})
    causes = rejected(api, lambda: api.create(eventtypes(api), body))
    assert fields(causes) == {f"spec.{field}"}
    assert causes[0].reason == "FieldValueInvalid"


@pytest.mark.parametrize(
    "value",
    [
        "github.com",
        "//github.com/schemas/pull_request",
        "https://github.com/knative/eventing",
        "/apis/v1/namespaces/default/pingsources/ping",
        "urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66",
        "https://example.com/{org}/{repo}",
    ],
)
def test_eventtype_accepts_uri_references(api: ApiServer, value: str) -> None:
    body = with_spec(seed_eventtype(), source=value, schema=value)
    assert api.create(eventtypes(api), body).object["spec"]["source"] == value


def test_eventtype_spec_is_immutable(api: ApiServer) -> None:
    api.create(eventtypes(api), seed_eventtype())
    tgt = eventtypes(api, "com.github.pullrequest")
    changed = with_spec(api.get(tgt), description="Pull requests of knative/eventing")
    causes = rejected(api, lambda: api.update(tgt, changed))
    assert fields(causes) == {"spec"}
    assert causes[0].message.startswith("Immutable fields changed (-old +new)")
    assert "description" in causes[0].message
    causes = rejected(api, lambda: api.patch(tgt, MERGE, {"spec": {"type": "other"}}))
    assert fields(causes) == {"spec"}
    causes = rejected(
        api, lambda: api.patch(tgt, MERGE, {"spec": {"reference": {"namespace": "other"}}})
    )
    assert fields(causes) == {"spec"}


def test_eventtype_metadata_and_status_stay_writable(api: ApiServer) -> None:
    api.create(eventtypes(api), seed_eventtype())
    tgt = eventtypes(api, "com.github.pullrequest")
    patched = api.patch(tgt, MERGE, {"metadata": {"labels": {"team": "a"}}}).object
    assert patched["metadata"]["labels"] == {"team": "a"}
    unchanged = copy.deepcopy(api.get(tgt))
    del unchanged["spec"]["reference"]["namespace"]  # defaulted again, so not a change
    api.update(tgt, unchanged)
    status = eventtypes(api, "com.github.pullrequest")
    status = Target(status.resource, status.version, "default", status.name, "status")
    api.patch(status, MERGE, {"status": {"conditions": CONDITIONS}})
    assert api.get(tgt)["status"]["conditions"] == CONDITIONS


def test_v1beta3_eventtype_missing_required_attributes(api: ApiServer) -> None:
    body = {
        "metadata": {"name": "incomplete"},
        "spec": {
            "reference": dict(BROKER_REF),
            "attributes": [
                {"name": "type", "required": True, "value": "com.example.created"},
                {"name": "source", "required": True, "value": "/example"},
            ],
        },
    }
    causes = rejected(api, lambda: api.create(eventtypes(api, version="v1beta3"), body))
    assert causes == [
        errors.Cause("spec.attributes.specversion", "FieldValueRequired", "missing field(s)"),
        errors.Cause("spec.attributes.id", "FieldValueRequired", "missing field(s)"),
    ]
    no_attributes = {"metadata": {"name": "empty"}, "spec": {"reference": dict(BROKER_REF)}}
    causes = rejected(api, lambda: api.create(eventtypes(api, version="v1beta3"), no_attributes))
    assert fields(causes) == {
        f"spec.attributes.{n}" for n in ("type", "source", "specversion", "id")
    }


def test_v1beta3_eventtype_is_stored_as_v1beta2_and_its_view_is_immutable(api: ApiServer) -> None:
    body: dict[str, Any] = {
        "metadata": {"name": "templated"},
        "spec": {
            "reference": dict(BROKER_REF),
            "attributes": [
                {"name": "type", "required": True},
                {"name": "source", "required": True, "value": "/shops/{shop}"},
                {"name": "specversion", "required": True},
                {"name": "id", "required": True},
            ],
        },
    }
    created = api.create(eventtypes(api, version="v1beta3"), body).object
    assert created["spec"]["attributes"] == body["spec"]["attributes"]
    stored = api.get(eventtypes(api, "templated"))
    assert "type" not in stored["spec"]
    assert ATTRIBUTES_ANNOTATION in stored["metadata"]["annotations"]
    tgt = eventtypes(api, "templated", "v1beta3")
    reordered = api.get(tgt)
    reordered["spec"]["attributes"].reverse()
    causes = rejected(api, lambda: api.update(tgt, reordered))
    assert fields(causes) == {"spec.attributes"}
    assert causes[0].message.startswith("Immutable fields changed (-old +new)")


# ---------------------------------------------------------------------------------- Broker


def test_broker_class_is_defaulted_and_an_explicit_class_kept(api: ApiServer) -> None:
    created = api.create(brokers(api), broker()).object
    assert created["metadata"]["annotations"] == {CLASS: "MTChannelBasedBroker"}
    kafka = api.create(brokers(api), broker("kafka", **{CLASS: "Kafka"})).object
    assert kafka["metadata"]["annotations"][CLASS] == "Kafka"
    causes = rejected(api, lambda: api.create(brokers(api), broker("empty", **{CLASS: ""})))
    assert causes == [
        errors.Cause(f"metadata.annotations[{CLASS}]", "FieldValueRequired", "missing field(s)")
    ]


def test_broker_class_is_immutable(api: ApiServer) -> None:
    api.create(brokers(api), broker("kafka", **{CLASS: "Kafka"}))
    tgt = brokers(api, "kafka")
    causes = rejected(
        api, lambda: api.patch(tgt, MERGE, {"metadata": {"annotations": {CLASS: "Other"}}})
    )
    assert fields(causes) == {f"metadata.annotations[{CLASS}]"}
    assert causes[0].message.startswith("Immutable annotations changed (-old +new)")
    causes = rejected(
        api, lambda: api.patch(tgt, MERGE, {"metadata": {"annotations": {CLASS: None}}})
    )
    assert fields(causes) == {f"metadata.annotations[{CLASS}]"}
    api.create(brokers(api), broker())
    default = brokers(api, "default")
    dropped = api.patch(default, MERGE, {"metadata": {"annotations": {CLASS: None}}}).object
    assert dropped["metadata"]["annotations"][CLASS] == "MTChannelBasedBroker"


def test_broker_config_is_defaulted_validated_and_immutable(api: ApiServer) -> None:
    config = {"apiVersion": "v1", "kind": "ConfigMap", "name": "kafka-config"}
    created = api.create(brokers(api), with_spec(broker(), config=config)).object
    assert created["spec"]["config"] == {**config, "namespace": "default"}
    tgt = brokers(api, "default")
    causes = rejected(api, lambda: api.patch(tgt, MERGE, {"spec": {"config": {"name": "other"}}}))
    assert fields(causes) == {"spec"}
    assert causes[0].message.startswith("Immutable fields changed (-old +new)")
    delivery = {"retry": 3, "backoffPolicy": "linear", "backoffDelay": "PT1S"}
    patched = api.patch(tgt, MERGE, {"spec": {"delivery": delivery}}).object
    assert patched["spec"]["delivery"] == delivery
    causes = rejected(
        api,
        lambda: api.create(brokers(api), with_spec(broker("bad"), config={"kind": "ConfigMap"})),
    )
    assert fields(causes) == {"spec.config.name", "spec.config.apiVersion"}


def test_broker_delivery_is_validated(api: ApiServer) -> None:
    delivery = {
        "retry": -1,
        "backoffPolicy": "random",
        "backoffDelay": "2s",
        "timeout": "PT0S",
        "format": "xml",
        "retryAfterMax": "PT1M",
        "deadLetterSink": {"uri": "dlq"},
    }
    body = with_spec(broker(), delivery=delivery)
    causes = rejected(api, lambda: api.create(brokers(api), body))
    assert fields(causes) == {
        "spec.delivery.retry",
        "spec.delivery.backoffPolicy",
        "spec.delivery.backoffDelay",
        "spec.delivery.timeout",
        "spec.delivery.format",
        "spec.delivery.retryAfterMax",
        "spec.delivery.deadLetterSink.uri",
    }
    assert cause_at(causes, "spec.delivery.retry").message == "invalid value: -1"
    assert cause_at(causes, "spec.delivery.retryAfterMax").message == "must not set the field(s)"
    sink = {"ref": {"apiVersion": "v1", "kind": "Service", "name": "dlq"}}
    created = api.create(
        brokers(api), with_spec(broker(), delivery={"deadLetterSink": sink, "timeout": "PT5S"})
    ).object
    assert created["spec"]["delivery"]["deadLetterSink"]["ref"]["namespace"] == "default"


# --------------------------------------------------------------------------------- Trigger


def test_seed_trigger_is_defaulted_like_knative(api: ApiServer) -> None:
    created = api.create(triggers(api), trigger()).object
    assert created["metadata"]["labels"] == {"eventing.knative.dev/broker": "default"}
    assert created["spec"]["subscriber"]["ref"]["namespace"] == "default"
    assert "broker" in created["spec"]
    bare = api.create(triggers(api), trigger("bare", filter=None)).object
    assert bare["spec"]["filter"] == {}


def test_trigger_needs_exactly_one_of_broker_and_broker_ref(api: ApiServer) -> None:
    causes = rejected(api, lambda: api.create(triggers(api), trigger(broker=None)))
    assert causes == [errors.Cause("spec.broker", "FieldValueRequired", "missing field(s)")]
    both = trigger(brokerRef=dict(BROKER_REF))
    causes = rejected(api, lambda: api.create(triggers(api), both))
    assert fields(causes) == {"spec.broker", "spec.brokerRef"}
    assert {c.message for c in causes} == {"expected exactly one, got both"}
    by_ref = api.create(triggers(api), trigger("by-ref", broker=None, brokerRef=BROKER_REF)).object
    assert "labels" not in by_ref["metadata"]
    # brokerRef.namespace: see the cross-namespace section below


def test_trigger_broker_is_immutable_but_the_subscriber_is_not(api: ApiServer) -> None:
    api.create(triggers(api), trigger())
    tgt = triggers(api, "my-service-trigger")
    causes = rejected(api, lambda: api.patch(tgt, MERGE, {"spec": {"broker": "dev"}}))
    assert causes == [
        errors.Cause(
            "spec.broker",
            "FieldValueInvalid",
            'Immutable fields changed (-old +new): -"default" +"dev"',
        )
    ]
    moved = with_spec(api.get(tgt), broker="dev")
    assert fields(rejected(api, lambda: api.update(tgt, moved))) == {"spec.broker"}
    uri = "http://consumer.default.svc.cluster.local/"
    patched = api.patch(tgt, MERGE, {"spec": {"subscriber": {"ref": None, "uri": uri}}}).object
    assert patched["spec"]["subscriber"] == {"uri": uri}
    assert patched["metadata"]["labels"]["eventing.knative.dev/broker"] == "default"
    assert patched["metadata"]["generation"] == 2


def test_trigger_subscriber_rules(api: ApiServer) -> None:
    def create(subscriber: dict[str, Any] | None) -> object:
        return api.create(triggers(api), trigger(subscriber=subscriber))

    causes = rejected(api, lambda: create(None))
    assert fields(causes) == {"spec.subscriber.ref", "spec.subscriber.uri"}
    assert {c.message for c in causes} == {"expected at least one, got none"}
    causes = rejected(api, lambda: create({"ref": {"name": "svc"}}))
    assert fields(causes) == {"spec.subscriber.ref.apiVersion", "spec.subscriber.ref.kind"}
    causes = rejected(api, lambda: create({"uri": "/relative"}))
    assert fields(causes) == {"spec.subscriber.uri"}
    assert "Relative URI is not allowed" in causes[0].message
    ref = {"apiVersion": "v1", "kind": "Service", "name": "svc"}
    causes = rejected(api, lambda: create({"ref": ref, "uri": "http://elsewhere/"}))
    assert fields(causes) == {"spec.subscriber.ref", "spec.subscriber.uri"}
    causes = rejected(api, lambda: create({"uri": "http://svc/", "CACerts": "not a pem"}))
    assert fields(causes) == {"spec.subscriber.CACerts"}
    causes = rejected(
        api,
        lambda: create(
            {"uri": "https://svc/", "CACerts": "-----BEGIN KEY-----\nAAAA\n-----END KEY-----"}
        ),
    )
    assert causes[0].message == "invalid value: CA Cert provided is not a certificate"
    ok = api.create(triggers(api), trigger("ok", subscriber={"ref": ref, "uri": "/path"})).object
    assert ok["spec"]["subscriber"]["ref"]["namespace"] == "default"
    certs = trigger("certs", subscriber={"uri": "https://svc/", "CACerts": CA_CERT})
    assert api.create(triggers(api), certs).object["spec"]["subscriber"]["CACerts"] == CA_CERT


def test_trigger_filter_attribute_names(api: ApiServer) -> None:
    body = trigger(filter={"attributes": {"Type": "x", "source": "", "9lives": "y", "ce-id": "z"}})
    causes = rejected(api, lambda: api.create(triggers(api), body))
    assert fields(causes) == {
        "spec.filter.attributes[Type]",
        "spec.filter.attributes[9lives]",
        "spec.filter.attributes[ce-id]",
    }
    assert cause_at(causes, "spec.filter.attributes[Type]").message.startswith(
        'invalid key name "Type"'
    )
    numeric = trigger(filter={"attributes": {"retries": 3}})
    causes = rejected(api, lambda: api.create(triggers(api), numeric))
    assert fields(causes) == {"spec.filter.attributes.retries"}


def test_trigger_filters_dialects(api: ApiServer) -> None:
    filters = [
        {"exact": {"type": "a"}, "prefix": {"source": "b"}},
        {"any": [{"exact": {"type": "a"}}, {"suffix": {"type": "x"}, "cesql": "true"}]},
        {"not": {"all": [{"exact": {"Type": "a"}}], "not": {"exact": {"type": "b"}}}},
        {"all": [{"exact": {"type": 1}}, {"prefix": {"type": ""}}, {"exactly": {"type": "a"}}]},
        {"any": [{"all": "nope"}, {"not": "nope"}]},
    ]
    causes = rejected(api, lambda: api.create(triggers(api), trigger(filters=filters)))
    assert fields(causes) == {
        "spec.filters[0]",
        "spec.filters[1].any[1]",
        "spec.filters[2].not",
        "spec.filters[2].not.all[0].exact[Type]",
        "spec.filters[3].all[0].exact[type]",
        "spec.filters[3].all[1].prefix[type]",
        "spec.filters[3].all[2].exactly",
        "spec.filters[4].any[0].all",
        "spec.filters[4].any[1].not",
    }
    multiple = "multiple dialects found, filters can have only one dialect set"
    assert cause_at(causes, "spec.filters[0]").message == multiple
    assert cause_at(causes, "spec.filters[1].any[1]").message == multiple
    assert cause_at(causes, "spec.filters[2].not").message == multiple


def test_trigger_filters_knative_accepts(api: ApiServer) -> None:
    filters = [
        {"exact": {"type": "dev.knative.source.github.push", "source": "github.com"}},
        {"not": {"any": [{"prefix": {"type": "dev.knative.source.github.p"}}]}},
        {"cesql": "type = 'dev.knative.source.github.push'"},
        {},
    ]
    created = api.create(triggers(api), trigger(filters=filters)).object
    assert created["spec"]["filters"] == filters


def test_trigger_annotations_are_validated(api: ApiServer) -> None:
    body = trigger()
    body["metadata"]["annotations"] = {
        "knative.dev/dependency": json.dumps({"kind": "PingSource", "namespace": "other"}),
        "eventing.knative.dev/injection": "maybe",
    }
    causes = rejected(api, lambda: api.create(triggers(api), body))
    dependency = "metadata.annotations[knative.dev/dependency]"
    assert fields(causes) == {
        f"{dependency}.namespace",
        f"{dependency}.name",
        f"{dependency}.apiVersion",
        "metadata.annotations[eventing.knative.dev/injection]",
    }
    body["metadata"]["annotations"] = {"knative.dev/dependency": "{not json"}
    assert fields(rejected(api, lambda: api.create(triggers(api), body))) == {dependency}
    body = trigger(broker="dev")
    body["metadata"]["annotations"] = {"eventing.knative.dev/injection": "enabled"}
    causes = rejected(api, lambda: api.create(triggers(api), body))
    assert "non-default broker" in causes[0].message


def test_trigger_unknown_spec_fields_and_delivery(api: ApiServer) -> None:
    body = trigger(subscribr={"uri": "http://x/"}, delivery={"retry": -2, "backoffDelay": "P"})
    causes = rejected(api, lambda: api.create(triggers(api), body))
    assert fields(causes) == {
        "spec.subscribr",
        "spec.delivery.retry",
        "spec.delivery.backoffDelay",
    }
    fine = api.create(triggers(api), trigger("fine", delivery=dead_letter_delivery())).object
    assert fine["spec"]["delivery"] == dead_letter_delivery()


def test_status_updates_skip_admission(api: ApiServer) -> None:
    api.create(triggers(api), trigger())
    status = Target(triggers(api).resource, "v1", "default", "my-service-trigger", "status")
    updated = api.patch(status, MERGE, {"status": {"subscriberUri": "http://x"}}).object
    assert updated["status"]["subscriberUri"] == "http://x"


# ------------------------------------------------------------ the real Knative CRDs over ours


@pytest.mark.knative_crds
def test_the_real_knative_crds_applied_over_ours_still_serve_and_validate(api: ApiServer) -> None:
    files = sorted(KNATIVE_CRDS.glob("*.yaml"))
    assert len(files) == 5
    for path in files:
        real = yaml.safe_load(path.read_text())
        name = real["metadata"]["name"]
        replace(api, crds(name), real)
        stored = api.get(crds(name))
        assert stored["spec"] == real["spec"]
        assert installing.HASH_ANNOTATION not in (stored["metadata"].get("annotations") or {})
    revision = api.storage.revision
    installing.install_builtin_crds(api)
    assert api.storage.revision == revision

    for version in ("v1beta1", "v1beta2", "v1beta3"):
        assert api.catalog.lookup(EVENTING, version, "eventtypes") is not None
    api.create(eventtypes(api), seed_eventtype())
    v1beta3 = api.get(eventtypes(api, "com.github.pullrequest", "v1beta3"))
    assert {a["name"] for a in v1beta3["spec"]["attributes"]} >= {"type", "source", "id"}
    cells = _cells(api, eventtypes(api, version="v1beta3"), v1beta3)
    assert cells[1:3] == ["com.github.pull_request", "github.com"]
    body = seed_eventtype()
    body["metadata"]["name"] = "untyped"
    del body["spec"]["type"]
    assert fields(rejected(api, lambda: api.create(eventtypes(api), body))) == {"spec.type"}

    created = api.create(brokers(api), broker()).object
    assert created["metadata"]["annotations"][CLASS] == "MTChannelBasedBroker"
    both = trigger(brokerRef=dict(BROKER_REF))
    assert fields(rejected(api, lambda: api.create(triggers(api), both))) == {
        "spec.broker",
        "spec.brokerRef",
    }
    assert api.create(triggers(api), trigger()).object["metadata"]["labels"] == {
        "eventing.knative.dev/broker": "default"
    }
    ping = target(api, "pingsources", "v1beta2", group=SOURCES)
    assert api.create(ping, {"metadata": {"name": "p"}, "spec": {"schedule": "* * * * *"}})
    assert api.catalog.lookup(SOURCES, "v1", "apiserversources") is not None
    # our GitHubSource CRD (no real counterpart here) keeps being served alongside
    assert api.catalog.lookup(SOURCES, "v1alpha1", "githubsources") is not None


def test_admitting_register_is_idempotent(api: ApiServer) -> None:
    admitting.register(api.admission)
    causes = rejected(api, lambda: api.create(triggers(api), trigger(broker=None)))
    assert len(causes) == 1


# ---------------------------------------------------- references to other namespaces


CROSS_NAMESPACE_FORBIDDEN = errors.Cause(
    "spec.namespace",
    "FieldValueForbidden",
    "must not set the field(s): only name, apiVersion and kind are supported fields when "
    "feature.CrossNamespaceEventLinks is disabled",
)
SERVICE_IN_OTHER = {
    "apiVersion": "serving.knative.dev/v1",
    "kind": "Service",
    "name": "consumer",
    "namespace": "other",
}


def set_features(api: ApiServer, **data: str) -> None:
    """Write ``knative-eventing/config-features`` as kubectl would (namespace first)."""
    if api.storage.get(NAMESPACES.key, "", flags.SYSTEM_NAMESPACE) is None:
        api.create(Target(NAMESPACES, "v1"), {"metadata": {"name": flags.SYSTEM_NAMESPACE}})
    config_maps = Target(CONFIGMAPS, "v1", flags.SYSTEM_NAMESPACE)
    body = {"metadata": {"name": flags.CONFIG_MAP}, "data": data}
    if api.storage.get(CONFIGMAPS.key, flags.SYSTEM_NAMESPACE, flags.CONFIG_MAP) is None:
        api.create(config_maps, body)
    else:
        replace(api, Target(CONFIGMAPS, "v1", flags.SYSTEM_NAMESPACE, flags.CONFIG_MAP), body)


def by_ref(name: str, namespace: str | None) -> dict[str, Any]:
    ref = dict(BROKER_REF) if namespace is None else {**BROKER_REF, "namespace": namespace}
    return trigger(name, broker=None, brokerRef=ref)


@pytest.mark.parametrize("namespace", ["other", "default"])
def test_broker_ref_namespace_is_refused_while_cross_namespace_links_are_off(
    api: ApiServer, namespace: str
) -> None:
    # Knative refuses any namespace here, the Trigger's own included, with this exact cause
    with pytest.raises(errors.BadRequest) as caught:
        api.create(triggers(api), by_ref("across", namespace))
    assert list(caught.value.causes) == [CROSS_NAMESPACE_FORBIDDEN]
    assert caught.value.message == (
        'admission webhook "validation.webhook.eventing.knative.dev" denied the request: '
        "validation failed: must not set the field(s): spec.namespace\nonly name, apiVersion "
        "and kind are supported fields when feature.CrossNamespaceEventLinks is disabled"
    )
    assert api.storage.get(triggers(api).resource.key, "default", "across") is None


@pytest.mark.parametrize("namespace", [None, ""])
def test_broker_ref_without_a_namespace_needs_no_flag(
    api: ApiServer, namespace: str | None
) -> None:
    created = api.create(triggers(api), by_ref("local", namespace)).object
    assert created["spec"]["brokerRef"].get("namespace", "") == ""
    assert "labels" not in created["metadata"]  # Knative labels by brokerRef only when enabled


@pytest.mark.parametrize("value", ["enabled", "Enabled", "ENABLED"])
def test_enabling_cross_namespace_links_admits_the_broker_ref_namespace(
    api: ApiServer, value: str
) -> None:
    set_features(api, **{"cross-namespace-event-links": value})
    created = api.create(triggers(api), by_ref("across", "other")).object
    assert created["spec"]["brokerRef"]["namespace"] == "other"
    assert created["metadata"]["labels"] == {admitting.BROKER_LABEL: "default"}
    both = trigger("both", brokerRef={**BROKER_REF, "namespace": "other"})
    assert fields(rejected(api, lambda: api.create(triggers(api), both))) == {
        "spec.broker",
        "spec.brokerRef",
    }


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"cross-namespace-event-links": "disabled"},
        {"cross-namespace-event-links": "allowed"},  # Knative: only Enabled turns it on
        {"cross-namespace-event-links": "yes"},
        {"_example": "cross-namespace-event-links: enabled"},
    ],
)
def test_other_flag_values_keep_the_broker_ref_namespace_refused(
    api: ApiServer, data: dict[str, str]
) -> None:
    set_features(api, **data)
    causes = rejected(api, lambda: api.create(triggers(api), by_ref("across", "other")))
    assert causes == [CROSS_NAMESPACE_FORBIDDEN]


def test_the_flag_is_read_at_each_write(api: ApiServer) -> None:
    set_features(api, **{"cross-namespace-event-links": "enabled"})
    api.create(triggers(api), by_ref("across", "other"))
    set_features(api, **{"cross-namespace-event-links": "disabled"})
    causes = rejected(api, lambda: api.create(triggers(api), by_ref("again", "other")))
    assert causes == [CROSS_NAMESPACE_FORBIDDEN]
    # like Knative's webhook, every update of a Trigger admitted under the flag is now refused
    tgt = triggers(api, "across")
    causes = rejected(api, lambda: api.patch(tgt, MERGE, {"metadata": {"labels": {"a": "b"}}}))
    assert causes == [CROSS_NAMESPACE_FORBIDDEN]
    status = target(api, "triggers", "v1", "across", subresource="status")
    assert api.patch(status, MERGE, {"status": {"conditions": CONDITIONS}}).object["status"]
    api.delete(tgt)
    set_features(api, **{"cross-namespace-event-links": "enabled"})
    assert api.create(triggers(api), by_ref("again", "other")).object


@pytest.mark.parametrize("enabled", [False, True])
def test_refs_knative_never_checks_accept_any_namespace(api: ApiServer, enabled: bool) -> None:
    # Knative's KReference namespace check needs a parent in the validation context, which
    # Trigger and EventType validation never set, and Broker validation sets with different
    # namespaces allowed (stock config-br-defaults): all of these are admitted as written.
    if enabled:
        set_features(api, **{"cross-namespace-event-links": "enabled"})
    dead_letters = {"deadLetterSink": {"ref": {**SERVICE_IN_OTHER, "name": "dead-letters"}}}
    created = api.create(
        triggers(api), trigger(subscriber={"ref": SERVICE_IN_OTHER}, delivery=dead_letters)
    ).object
    assert created["spec"]["subscriber"]["ref"] == SERVICE_IN_OTHER
    assert created["spec"]["delivery"] == dead_letters
    event_type = with_spec(seed_eventtype(), reference={**BROKER_REF, "namespace": "other"})
    stored = api.create(eventtypes(api), event_type).object
    assert stored["spec"]["reference"]["namespace"] == "other"
    config = {"apiVersion": "v1", "kind": "ConfigMap", "name": "cfg", "namespace": "other"}
    configured = api.create(brokers(api), {**broker("configured"), "spec": {"config": config}})
    assert configured.object["spec"]["config"] == config
    ping = target(api, "pingsources", "v1", group=SOURCES)
    sink = {"ref": {**SERVICE_IN_OTHER, "name": "sink"}}
    source = {"metadata": {"name": "p"}, "spec": {"schedule": "* * * * *", "sink": sink}}
    assert api.create(ping, source).object["spec"]["sink"] == sink


def test_admit_trigger_takes_the_features_in_force(api: ApiServer) -> None:
    enabled = flags.parse({"cross-namespace-event-links": "enabled"})
    resource = triggers(api).resource
    body = by_ref("across", "other")
    body["metadata"]["namespace"] = "default"

    def admit(features: flags.Features) -> list[errors.Cause]:
        request = Request("CREATE", resource, copy.deepcopy(body), None)
        return admitting.admit_trigger(request, features=features)

    assert admit(flags.STOCK) == [CROSS_NAMESPACE_FORBIDDEN]
    assert admit(enabled) == []
