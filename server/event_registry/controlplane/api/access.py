"""The built-in kinds of access control: ServiceAccounts, RBAC and the review kinds.

ServiceAccounts (core ``v1``) and the four ``rbac.authorization.k8s.io/v1`` kinds are ordinary
stored resources, with kube-apiserver's schemas (unknown fields are pruned or refused as for
any built-in) and printer columns. TokenReview, SelfSubjectReview (``authentication.k8s.io``),
SubjectAccessReview, SelfSubjectAccessReview and SelfSubjectRulesReview
(``authorization.k8s.io``) are create-only:
discovery lists them with the single verb ``create``, and a POST is answered from the
request's body without storing anything (the control plane's ``auth/`` computes the answer).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .resources import PrinterColumn, Resource, Version
from .schema_words import STRING, STRING_MAP, STRINGS, object_of

RBAC_GROUP = "rbac.authorization.k8s.io"

_AGE = PrinterColumn("Age", "date", ".metadata.creationTimestamp")


_POLICY_RULE = object_of(
    verbs=STRINGS,
    apiGroups=STRINGS,
    resources=STRINGS,
    resourceNames=STRINGS,
    nonResourceURLs=STRINGS,
)
_RULES = {"type": "array", "items": _POLICY_RULE}
_LABEL_SELECTOR = object_of(
    matchLabels=STRING_MAP,
    matchExpressions={
        "type": "array",
        "items": object_of(key=STRING, operator=STRING, values=STRINGS),
    },
)
_ROLE_REF = object_of(apiGroup=STRING, kind=STRING, name=STRING)
_SUBJECTS = {
    "type": "array",
    "items": object_of(kind=STRING, apiGroup=STRING, name=STRING, namespace=STRING),
}


def _created_at(obj: Mapping[str, Any]) -> object:
    return obj["metadata"].get("creationTimestamp")


def _role_of(obj: Mapping[str, Any]) -> object:
    ref = obj.get("roleRef") or {}
    return f"{ref.get('kind', '')}/{ref.get('name', '')}"


def _names_of(kind: str) -> Any:
    def cell(obj: Mapping[str, Any]) -> object:
        found = [s.get("name", "") for s in obj.get("subjects") or () if s.get("kind") == kind]
        if kind == "ServiceAccount":
            found = [
                f"{s.get('namespace', '')}/{s.get('name', '')}"
                for s in obj.get("subjects") or ()
                if s.get("kind") == kind
            ]
        return ", ".join(found) or None

    return cell


_BINDING_COLUMNS = (
    PrinterColumn("Role", "string", ".roleRef", compute=_role_of),
    _AGE,
    PrinterColumn("Users", "string", ".subjects", priority=1, compute=_names_of("User")),
    PrinterColumn("Groups", "string", ".subjects", priority=1, compute=_names_of("Group")),
    PrinterColumn(
        "ServiceAccounts", "string", ".subjects", priority=1, compute=_names_of("ServiceAccount")
    ),
)
_ROLE_COLUMNS = (
    PrinterColumn("Created At", "date", ".metadata.creationTimestamp", compute=_created_at),
)


def _builtin(
    group: str, plural: str, kind: str, *, namespaced: bool, version: Version, **extra: Any
) -> Resource:
    return Resource(
        group=group,
        plural=plural,
        singular=kind.lower(),
        kind=kind,
        namespaced=namespaced,
        versions=(version,),
        builtin=True,
        generation_tracked=False,
        **extra,
    )


SERVICE_ACCOUNTS = _builtin(
    "",
    "serviceaccounts",
    "ServiceAccount",
    namespaced=True,
    short_names=("sa",),
    version=Version(
        name="v1",
        storage=True,
        schema=object_of(
            secrets={"type": "array", "items": object_of(name=STRING, namespace=STRING)},
            imagePullSecrets={"type": "array", "items": object_of(name=STRING)},
            automountServiceAccountToken={"type": "boolean"},
        ),
        columns=(
            PrinterColumn(
                "Secrets", "integer", ".secrets", compute=lambda o: len(o.get("secrets") or ())
            ),
            _AGE,
        ),
    ),
)

ROLES = _builtin(
    RBAC_GROUP,
    "roles",
    "Role",
    namespaced=True,
    version=Version(name="v1", storage=True, schema=object_of(rules=_RULES), columns=_ROLE_COLUMNS),
    name_rule="path-segment",
)
CLUSTER_ROLES = _builtin(
    RBAC_GROUP,
    "clusterroles",
    "ClusterRole",
    namespaced=False,
    name_rule="path-segment",
    version=Version(
        name="v1",
        storage=True,
        schema=object_of(
            rules=_RULES,
            aggregationRule=object_of(
                clusterRoleSelectors={"type": "array", "items": _LABEL_SELECTOR}
            ),
        ),
        columns=_ROLE_COLUMNS,
    ),
)
ROLE_BINDINGS = _builtin(
    RBAC_GROUP,
    "rolebindings",
    "RoleBinding",
    namespaced=True,
    name_rule="path-segment",
    version=Version(
        name="v1",
        storage=True,
        schema=object_of(roleRef=_ROLE_REF, subjects=_SUBJECTS),
        columns=_BINDING_COLUMNS,
    ),
)
CLUSTER_ROLE_BINDINGS = _builtin(
    RBAC_GROUP,
    "clusterrolebindings",
    "ClusterRoleBinding",
    namespaced=False,
    name_rule="path-segment",
    version=Version(
        name="v1",
        storage=True,
        schema=object_of(roleRef=_ROLE_REF, subjects=_SUBJECTS),
        columns=_BINDING_COLUMNS,
    ),
)


def _review(group: str, plural: str, kind: str) -> Resource:
    return Resource(
        group=group,
        plural=plural,
        singular=kind.lower(),
        kind=kind,
        namespaced=False,
        versions=(Version(name="v1", storage=True),),
        builtin=True,
        generation_tracked=False,
        create_only=True,
    )


TOKEN_REVIEWS = _review("authentication.k8s.io", "tokenreviews", "TokenReview")
SELF_SUBJECT_REVIEWS = _review("authentication.k8s.io", "selfsubjectreviews", "SelfSubjectReview")
SUBJECT_ACCESS_REVIEWS = _review(
    "authorization.k8s.io", "subjectaccessreviews", "SubjectAccessReview"
)
SELF_SUBJECT_ACCESS_REVIEWS = _review(
    "authorization.k8s.io", "selfsubjectaccessreviews", "SelfSubjectAccessReview"
)
SELF_SUBJECT_RULES_REVIEWS = _review(
    "authorization.k8s.io", "selfsubjectrulesreviews", "SelfSubjectRulesReview"
)

RBAC_RESOURCES = (ROLES, CLUSTER_ROLES, ROLE_BINDINGS, CLUSTER_ROLE_BINDINGS)
REVIEW_RESOURCES = (
    TOKEN_REVIEWS,
    SELF_SUBJECT_REVIEWS,
    SUBJECT_ACCESS_REVIEWS,
    SELF_SUBJECT_ACCESS_REVIEWS,
    SELF_SUBJECT_RULES_REVIEWS,
)
ACCESS_RESOURCES = (SERVICE_ACCOUNTS, *RBAC_RESOURCES, *REVIEW_RESOURCES)
