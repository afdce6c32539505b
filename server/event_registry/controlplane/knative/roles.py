"""Knative Eventing's namespaced ClusterRoles, aggregated into Kubernetes' admin, edit and view.

As Knative's ``config/core/roles/clusterrole-namespaced.yaml`` installs them:
``knative-eventing-namespaced-admin`` (every verb), ``-edit`` (create, update, patch, delete)
and ``-view`` (get, list, watch) on every resource of Knative's eventing API groups, labelled
``rbac.authorization.k8s.io/aggregate-to-admin|edit|view``, so a RoleBinding to ``view`` lets
its subject read EventTypes, Brokers and Triggers in that namespace. :func:`install` creates
the missing ones and leaves existing ones (an operator's edits) alone.
"""

from __future__ import annotations

from ...knative.vocabulary import EVENTING_GROUP, SOURCES_GROUP
from ..api import access
from ..api.apiserver import ApiServer, Target
from ..auth.bootstrap import aggregated_into, create_missing

GROUPS = [
    EVENTING_GROUP,
    "messaging.knative.dev",
    SOURCES_GROUP,
    "flows.knative.dev",
    "bindings.knative.dev",
]
VERBS = {
    "admin": ["*"],
    "edit": ["create", "update", "patch", "delete"],
    "view": ["get", "list", "watch"],
}


def install(api: ApiServer) -> None:
    target = Target(access.CLUSTER_ROLES, "v1")
    for role, verbs in VERBS.items():
        labels = {**aggregated_into(role), "app.kubernetes.io/name": "knative-eventing"}
        create_missing(
            api,
            target,
            {
                "metadata": {"name": f"knative-eventing-namespaced-{role}", "labels": labels},
                "rules": [{"apiGroups": GROUPS, "resources": ["*"], "verbs": verbs}],
            },
        )
