"""The registry's own rights on a cluster, in ``--auth=kubernetes`` mode: exactly what it uses.

- ``get``/``list``/``watch`` of what its informers watch: Namespaces, Brokers, EventTypes and
  Triggers, and the four RBAC kinds (any change to them may change an access decision, so
  the decisions cached are forgotten);
- ``create`` of TokenReviews and SubjectAccessReviews: who a caller is, what it may do;
- ``impersonate`` of users, groups, ServiceAccounts and uids: writes are made as the caller,
  so the cluster authorizes and audits them with the caller's rights, not the registry's.

No write right on any object: the registry writes nothing as itself. (The readiness
controller, the source registrar and the Broker ingress that write Knative status and
EventTypes run only beside the embedded control plane, with its admin credentials; on a
real cluster Knative's own controllers do that work.) ``deploy/registry.yaml`` grants the
same rules; a test checks both against this list.
"""

from __future__ import annotations

from typing import Any

from .kinds import (
    BROKERS,
    NAMESPACES,
    RBAC_KINDS,
    SUBJECT_ACCESS_REVIEWS,
    TOKEN_REVIEWS,
    TRIGGERS,
    event_types,
)

NAME = "event-registry"
"""The ServiceAccount, ClusterRole and ClusterRoleBinding's name."""

_READ = ["get", "list", "watch"]


def _grouped(resources: list[Any]) -> dict[str, list[str]]:
    by_group: dict[str, list[str]] = {}
    for resource in resources:
        by_group.setdefault(resource.group, []).append(resource.plural)
    return by_group


def rules() -> list[dict[str, Any]]:
    """The ClusterRole's rules."""
    watched = [NAMESPACES, BROKERS, event_types(), TRIGGERS, *RBAC_KINDS]
    read = [
        {"apiGroups": [group], "resources": plurals, "verbs": list(_READ)}
        for group, plurals in _grouped(watched).items()
    ]
    return [
        *read,
        {
            "apiGroups": [TOKEN_REVIEWS.group],
            "resources": [TOKEN_REVIEWS.plural],
            "verbs": ["create"],
        },
        {
            "apiGroups": [SUBJECT_ACCESS_REVIEWS.group],
            "resources": [SUBJECT_ACCESS_REVIEWS.plural],
            "verbs": ["create"],
        },
        {
            "apiGroups": [""],
            "resources": ["users", "groups", "serviceaccounts"],
            "verbs": ["impersonate"],
        },
        {"apiGroups": ["authentication.k8s.io"], "resources": ["uids"], "verbs": ["impersonate"]},
    ]
