"""The default ClusterRoles and ClusterRoleBindings every Kubernetes cluster starts with.

``cluster-admin`` (everything, bound to ``system:masters``), ``system:discovery`` (discovery,
OpenAPI, version and health paths), ``system:basic-user`` (SelfSubjectAccessReview,
SelfSubjectRulesReview, SelfSubjectReview) — both bound to ``system:authenticated`` — and
``system:public-info-viewer`` (version and health, also for ``system:unauthenticated``), with
kube-apiserver's names, labels and rules. :func:`install` creates the missing ones and leaves
existing ones as they are, so it is idempotent and keeps an operator's edits.
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
    "system:public-info-viewer": [
        {
            "nonResourceURLs": ["/healthz", "/livez", "/readyz", "/version", "/version/"],
            "verbs": _GET,
        }
    ],
}

CLUSTER_ROLE_BINDINGS: dict[str, tuple[str, ...]] = {
    "cluster-admin": (MASTERS,),
    "system:discovery": (AUTHENTICATED,),
    "system:basic-user": (AUTHENTICATED,),
    "system:public-info-viewer": (AUTHENTICATED, UNAUTHENTICATED),
}


def _create_missing(api: ApiServer, target: Target, obj: dict[str, Any]) -> None:
    if api.storage.get(target.resource.key, "", obj["metadata"]["name"]) is None:
        with contextlib.suppress(errors.AlreadyExists):
            api.create(target, obj)


def install(api: ApiServer) -> None:
    roles = Target(access.CLUSTER_ROLES, "v1")
    bindings = Target(access.CLUSTER_ROLE_BINDINGS, "v1")
    for name, rules in CLUSTER_ROLES.items():
        _create_missing(api, roles, {"metadata": {"name": name, **_META}, "rules": rules})
    for name, groups in CLUSTER_ROLE_BINDINGS.items():
        binding = {
            "metadata": {"name": name, **_META},
            "roleRef": {"apiGroup": access.RBAC_GROUP, "kind": "ClusterRole", "name": name},
            "subjects": [
                {"apiGroup": access.RBAC_GROUP, "kind": "Group", "name": group} for group in groups
            ],
        }
        _create_missing(api, bindings, binding)
