"""PolicyRule matching and request attributes, as Kubernetes' RBAC authorizer sees them."""

from __future__ import annotations

from typing import Any

import pytest

from event_registry.controlplane.auth import attributes as request_attributes
from event_registry.controlplane.auth.attributes import Attributes, forbidden_message
from event_registry.controlplane.auth.identity import UserInfo
from event_registry.controlplane.auth.rules import rule_allows

ALICE = UserInfo("alice", groups=("system:authenticated",))


def resource(
    verb: str, group: str, plural: str, *, sub: str = "", ns: str = "", name: str = ""
) -> Attributes:
    return Attributes(
        ALICE,
        verb,
        True,
        api_group=group,
        resource=plural,
        subresource=sub,
        namespace=ns,
        name=name,
    )


def path(verb: str, url: str) -> Attributes:
    return Attributes(ALICE, verb, False, path=url)


K = "eventing.knative.dev"
GET_ET = {"apiGroups": [K], "resources": ["eventtypes"], "verbs": ["get"]}

CASES: list[tuple[str, dict[str, Any], Attributes, bool]] = [
    ("exact match", GET_ET, resource("get", K, "eventtypes", ns="a", name="x"), True),
    ("other verb", GET_ET, resource("list", K, "eventtypes", ns="a"), False),
    ("other group", GET_ET, resource("get", "", "eventtypes", ns="a", name="x"), False),
    ("other resource", GET_ET, resource("get", K, "triggers", ns="a", name="x"), False),
    (
        "bare resource does not cover its subresource",
        GET_ET,
        resource("get", K, "eventtypes", sub="status", ns="a", name="x"),
        False,
    ),
    (
        "resource/subresource",
        {"apiGroups": [K], "resources": ["eventtypes/status"], "verbs": ["get"]},
        resource("get", K, "eventtypes", sub="status", ns="a", name="x"),
        True,
    ),
    (
        "resource/subresource does not cover the resource",
        {"apiGroups": [K], "resources": ["eventtypes/status"], "verbs": ["get"]},
        resource("get", K, "eventtypes", ns="a", name="x"),
        False,
    ),
    (
        "*/subresource",
        {"apiGroups": ["*"], "resources": ["*/status"], "verbs": ["patch"]},
        resource("patch", K, "brokers", sub="status", ns="a", name="x"),
        True,
    ),
    (
        "*/subresource is not the resource",
        {"apiGroups": ["*"], "resources": ["*/status"], "verbs": ["patch"]},
        resource("patch", K, "brokers", ns="a", name="x"),
        False,
    ),
    (
        "* resource covers subresources",
        {"apiGroups": [K], "resources": ["*"], "verbs": ["*"]},
        resource("update", K, "triggers", sub="status", ns="a", name="x"),
        True,
    ),
    (
        "* verb",
        {"apiGroups": [K], "resources": ["triggers"], "verbs": ["*"]},
        resource("deletecollection", K, "triggers", ns="a"),
        True,
    ),
    (
        "* group",
        {"apiGroups": ["*"], "resources": ["triggers"], "verbs": ["get"]},
        resource("get", "other.example", "triggers", name="x"),
        True,
    ),
    (
        "core group is the empty string",
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]},
        resource("get", "", "configmaps", ns="a", name="c"),
        True,
    ),
    (
        "resourceNames match the name",
        {**GET_ET, "resourceNames": ["x", "y"]},
        resource("get", K, "eventtypes", ns="a", name="y"),
        True,
    ),
    (
        "resourceNames refuse another name",
        {**GET_ET, "resourceNames": ["x"]},
        resource("get", K, "eventtypes", ns="a", name="z"),
        False,
    ),
    (
        "resourceNames never allow create (no name)",
        {
            "apiGroups": [K],
            "resources": ["eventtypes"],
            "verbs": ["create"],
            "resourceNames": ["x"],
        },
        resource("create", K, "eventtypes", ns="a"),
        False,
    ),
    (
        "rules without verbs allow nothing",
        {"apiGroups": [K], "resources": ["eventtypes"], "verbs": []},
        resource("get", K, "eventtypes", ns="a", name="x"),
        False,
    ),
    (
        "resource rule does not match a path",
        {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
        path("get", "/healthz"),
        False,
    ),
    (
        "exact URL",
        {"nonResourceURLs": ["/version"], "verbs": ["get"]},
        path("get", "/version"),
        True,
    ),
    (
        "URL prefix with *",
        {"nonResourceURLs": ["/apis/*"], "verbs": ["get"]},
        path("get", "/apis/eventing.knative.dev/v1"),
        True,
    ),
    (
        "prefix needs the slash",
        {"nonResourceURLs": ["/apis/*"], "verbs": ["get"]},
        path("get", "/apis"),
        False,
    ),
    ("* URL", {"nonResourceURLs": ["*"], "verbs": ["get"]}, path("get", "/anything"), True),
    (
        "URL rule, other verb",
        {"nonResourceURLs": ["/version"], "verbs": ["get"]},
        path("post", "/version"),
        False,
    ),
    (
        "URL rule does not match a resource",
        {"nonResourceURLs": ["*"], "verbs": ["*"]},
        resource("get", K, "eventtypes", ns="a", name="x"),
        False,
    ),
]


@pytest.mark.parametrize(
    ("rule", "attributes", "allowed"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_rule_matching(rule: dict[str, Any], attributes: Attributes, allowed: bool) -> None:
    assert rule_allows(attributes, rule) is allowed


REQUESTS = [
    ("GET", "/apis/eventing.knative.dev/v1/namespaces/a/triggers/t", {}, ("get", "a", "t", "")),
    ("GET", "/apis/eventing.knative.dev/v1/namespaces/a/triggers", {}, ("list", "a", "", "")),
    (
        "GET",
        "/apis/eventing.knative.dev/v1/triggers",
        {"watch": "true"},
        ("watch", "", "", ""),
    ),
    (
        "GET",
        "/apis/eventing.knative.dev/v1/namespaces/a/triggers",
        {"watch": "1", "fieldSelector": "metadata.name=t"},
        ("watch", "a", "t", ""),
    ),
    ("POST", "/apis/eventing.knative.dev/v1/namespaces/a/triggers", {}, ("create", "a", "", "")),
    (
        "PUT",
        "/apis/eventing.knative.dev/v1/namespaces/a/triggers/t/status",
        {},
        ("update", "a", "t", "status"),
    ),
    ("PATCH", "/apis/eventing.knative.dev/v1/namespaces/a/triggers/t", {}, ("patch", "a", "t", "")),
    (
        "DELETE",
        "/apis/eventing.knative.dev/v1/namespaces/a/triggers/t",
        {},
        ("delete", "a", "t", ""),
    ),
    (
        "DELETE",
        "/apis/eventing.knative.dev/v1/namespaces/a/triggers",
        {},
        ("deletecollection", "a", "", ""),
    ),
    ("GET", "/api/v1/namespaces/a", {}, ("get", "a", "a", "")),
    ("POST", "/api/v1/namespaces/a/serviceaccounts/bot/token", {}, ("create", "a", "bot", "token")),
]


@pytest.mark.parametrize(("method", "url", "query", "expected"), REQUESTS)
def test_request_attributes(
    method: str, url: str, query: dict[str, str], expected: tuple[str, str, str, str]
) -> None:
    found = request_attributes.from_request(ALICE, method, url, query)
    assert found.resource_request
    assert (found.verb, found.namespace, found.name, found.subresource) == expected


@pytest.mark.parametrize(
    "url", ["/api", "/apis", "/apis/eventing.knative.dev/v1", "/openapi/v3", "/version"]
)
def test_discovery_and_openapi_are_paths(url: str) -> None:
    found = request_attributes.from_request(ALICE, "GET", url, {})
    assert not found.resource_request
    assert (found.verb, found.path) == ("get", url)


def test_forbidden_messages_read_as_kube_apiserver_words() -> None:
    assert forbidden_message(resource("list", K, "eventtypes", ns="a")) == (
        'User "alice" cannot list resource "eventtypes" in API group "eventing.knative.dev" '
        'in the namespace "a"'
    )
    assert forbidden_message(resource("patch", K, "brokers", sub="status")) == (
        'User "alice" cannot patch resource "brokers/status" in API group '
        '"eventing.knative.dev" at the cluster scope'
    )
    assert forbidden_message(path("get", "/apis")) == 'User "alice" cannot get path "/apis"'
