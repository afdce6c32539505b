"""The default ClusterRoles and ClusterRoleBindings every Kubernetes cluster starts with.

``cluster-admin`` (everything, bound to ``system:masters``), ``system:discovery`` (discovery,
OpenAPI, version and health paths), ``system:basic-user`` (SelfSubjectAccessReview,
SelfSubjectRulesReview, SelfSubjectReview) — both bound to ``system:authenticated`` — and
``system:public-info-viewer`` (version and health, also for ``system:unauthenticated``),
``system:auth-delegator`` (TokenReview and SubjectAccessReview, for delegating proxies), and
the user-facing ``admin``, ``edit`` and ``view``, aggregated from every ClusterRole labelled
``rbac.authorization.k8s.io/aggregate-to-<role>`` (``view`` into ``edit`` into ``admin``),
with kube-apiserver's names, labels and rules (of core resources, those this plane serves).
:func:`install` creates the missing ones and leaves existing ones as they are, so it is
idempotent and keeps an operator's edits.
"""

from __future__ import annotations

import contextlib
from typing import Any

from ..api import access
from ..api.apiserver import ApiServer, Target
from ..machinery import errors
from .identity import AUTHENTICATED, MASTERS, UNAUTHENTICATED

_META = {
    "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
    "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"},
}
_GET = ["get"]

CLUSTER_ROLES: dict[str, list[dict[str, Any]]] = {
    "cluster-admin": [
        {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
        {"nonResourceURLs": ["*"], "verbs": ["*"]},
    ],
    "system:discovery": [
        {
            "nonResourceURLs": [
                "/api",
                "/api/*",
                "/apis",
                "/apis/*",
                "/healthz",
                "/livez",
                "/openapi",
                "/openapi/*",
                "/readyz",
                "/version",
                "/version/",
            ],
            "verbs": _GET,
        }
    ],
    "system:basic-user": [
        {
            "apiGroups": ["authorization.k8s.io"],
            "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
            "verbs": ["create"],
        },
        {
            "apiGroups": ["authentication.k8s.io"],
            "resources": ["selfsubjectreviews"],
            "verbs": ["create"],
        },
    ],
    "system:auth-delegator": [
        {
            "apiGroups": ["authentication.k8s.io"],
            "resources": ["tokenreviews"],
            "verbs": ["create"],
        },
        {
            "apiGroups": ["authorization.k8s.io"],
            "resources": ["subjectaccessreviews"],
            "verbs": ["create"],
        },
    ],
    "system:public-info-viewer": [
        {
            "nonResourceURLs": ["/healthz", "/livez", "/readyz", "/version", "/version/"],
            "verbs": _GET,
        }
    ],
}

_AGGREGATE = "rbac.authorization.k8s.io/aggregate-to-"
_READ = ["get", "list", "watch"]
_WRITE = ["create", "delete", "deletecollection", "patch", "update"]

AGGREGATED_CLUSTER_ROLES: dict[str, tuple[dict[str, str], str]] = {
    "admin": ({}, "admin"),
    "edit": ({f"{_AGGREGATE}admin": "true"}, "edit"),
    "view": ({f"{_AGGREGATE}edit": "true"}, "view"),
}
"""The user-facing roles: name → (labels, the ``aggregate-to-<x>`` label they select)."""

AGGREGATE_TO: dict[str, tuple[str, list[dict[str, Any]]]] = {
    "system:aggregate-to-view": (
        "view",
        [
            {"apiGroups": [""], "resources": ["configmaps", "serviceaccounts"], "verbs": _READ},
            {"apiGroups": [""], "resources": ["namespaces"], "verbs": _READ},
        ],
    ),
    "system:aggregate-to-edit": (
        "edit",
        [
            {"apiGroups": [""], "resources": ["configmaps", "serviceaccounts"], "verbs": _WRITE},
            {"apiGroups": [""], "resources": ["serviceaccounts"], "verbs": ["impersonate"]},
            {"apiGroups": [""], "resources": ["serviceaccounts/token"], "verbs": ["create"]},
        ],
    ),
    "system:aggregate-to-admin": (
        "admin",
        [
            {
                "apiGroups": ["rbac.authorization.k8s.io"],
                "resources": ["roles", "rolebindings"],
                "verbs": [*_WRITE, *_READ],
            },
        ],
    ),
}
"""The core resources' share of admin/edit/view, labelled into them as in Kubernetes."""

CLUSTER_ROLE_BINDINGS: dict[str, tuple[str, ...]] = {
    "cluster-admin": (MASTERS,),
    "system:discovery": (AUTHENTICATED,),
    "system:basic-user": (AUTHENTICATED,),
    "system:public-info-viewer": (AUTHENTICATED, UNAUTHENTICATED),
}


def create_missing(api: ApiServer, target: Target, obj: dict[str, Any]) -> None:
    """Create ``obj`` unless an object of that name exists (left as it is)."""
    if api.storage.get(target.resource.key, "", obj["metadata"]["name"]) is None:
        with contextlib.suppress(errors.AlreadyExists):
            api.create(target, obj)


def aggregated_into(role: str) -> dict[str, str]:
    """The label that aggregates a ClusterRole into ``admin``, ``edit`` or ``view``."""
    return {f"{_AGGREGATE}{role}": "true"}


def install(api: ApiServer) -> None:
    roles = Target(access.CLUSTER_ROLES, "v1")
    bindings = Target(access.CLUSTER_ROLE_BINDINGS, "v1")
    for name, rules in CLUSTER_ROLES.items():
        create_missing(api, roles, {"metadata": {"name": name, **_META}, "rules": rules})
    for name, (labels, selects) in AGGREGATED_CLUSTER_ROLES.items():
        meta = {**_META, "labels": {**_META["labels"], **labels}}
        rule = {"clusterRoleSelectors": [{"matchLabels": aggregated_into(selects)}]}
        create_missing(api, roles, {"metadata": {"name": name, **meta}, "aggregationRule": rule})
    for name, (into, rules) in AGGREGATE_TO.items():
        meta = {**_META, "labels": {**_META["labels"], **aggregated_into(into)}}
        create_missing(api, roles, {"metadata": {"name": name, **meta}, "rules": rules})
    for name, groups in CLUSTER_ROLE_BINDINGS.items():
        binding = {
            "metadata": {"name": name, **_META},
            "roleRef": {"apiGroup": access.RBAC_GROUP, "kind": "ClusterRole", "name": name},
            "subjects": [
                {"apiGroup": access.RBAC_GROUP, "kind": "Group", "name": group} for group in groups
            ],
        }
        create_missing(api, bindings, binding)
