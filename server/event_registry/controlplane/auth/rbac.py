"""RBAC over the stored Roles and bindings, answered from an in-memory index.

The index maps each (subject, namespace) pair, a User, a Group or a ServiceAccount with ""
for cluster-wide bindings, to the bindings that name it, and each role to its rules; a
ClusterRole with an ``aggregationRule`` has the rules of every ClusterRole its selectors
match (as Kubernetes' aggregation controller would write them). It is rebuilt on the first
check after any RBAC object changes (:meth:`RbacIndex.observe` is an
:class:`~.apiserver.ApiServer` listener), so a new binding applies to the very next request,
and a check reads only the subject's ClusterRoleBindings and its RoleBindings in the
request's namespace. Members of ``system:masters`` are always allowed, as kube-apiserver's
privileged-group authorizer does. A binding whose role does not exist grants nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..api import access
from ..storage.sqlite import Event, Storage
from . import rules
from .attributes import Attributes
from .identity import MASTERS, split_service_account

_RBAC_KEYS = frozenset(resource.key for resource in access.RBAC_RESOURCES)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""


@dataclass(frozen=True)
class _Binding:
    kind: str
    namespace: str
    name: str
    role_kind: str
    role_name: str
    subject: str


def _subject_key(subject: Mapping[str, Any], binding_namespace: str) -> str | None:
    kind, name = subject.get("kind"), subject.get("name", "")
    if kind in ("User", "Group"):
        return f"{kind}:{name}"
    if kind == "ServiceAccount":
        return f"ServiceAccount:{subject.get('namespace') or binding_namespace}:{name}"
    return None


def _subject_label(subject: Mapping[str, Any], binding_namespace: str) -> str:
    kind, name = subject.get("kind"), subject.get("name", "")
    if kind == "ServiceAccount":
        return f'ServiceAccount "{subject.get("namespace") or binding_namespace}/{name}"'
    return f'{kind} "{name}"'


def selector_matches(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """A metav1.LabelSelector (matchLabels and matchExpressions) against labels."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or ():
        key, operator = expression.get("key", ""), expression.get("operator")
        values = expression.get("values") or ()
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return bool(selector.get("matchLabels") or selector.get("matchExpressions"))


def _aggregated_rules(cluster_roles: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Each ClusterRole's rules, an aggregated one's including those of the roles it selects,
    transitively (``view`` is aggregated into ``edit``, ``edit`` into ``admin``), cycles cut."""
    by_name = {role["metadata"]["name"]: role for role in cluster_roles}
    effective: dict[str, list[Any]] = {}

    def rules_of(name: str, visiting: frozenset[str]) -> list[Any]:
        if name in effective:
            return effective[name]
        role = by_name[name]
        found = list(role.get("rules") or ())
        selectors = (role.get("aggregationRule") or {}).get("clusterRoleSelectors") or ()
        for other, other_role in by_name.items() if selectors else ():
            labels = other_role["metadata"].get("labels") or {}
            if other in visiting or other == name:
                continue
            if any(selector_matches(s, labels) for s in selectors):
                found.extend(rules_of(other, visiting | {name}))
        if not visiting:
            effective[name] = found
        return found

    for name in by_name:
        rules_of(name, frozenset())
    return effective


class RbacIndex:
    def __init__(self, storage: Storage) -> None:
        self._storage = storage
        self._stale = True
        self._cluster_roles: dict[str, list[Any]] = {}
        self._roles: dict[tuple[str, str], list[Any]] = {}
        self._bindings: dict[tuple[str, str], list[_Binding]] = {}

    def observe(self, event: Event) -> None:
        if event.resource in _RBAC_KEYS:
            self._stale = True

    def _rebuild(self) -> None:
        storage = self._storage
        self._cluster_roles = _aggregated_rules(storage.items(access.CLUSTER_ROLES.key))
        self._roles = {
            (role["metadata"].get("namespace", ""), role["metadata"]["name"]): list(
                role.get("rules") or ()
            )
            for role in storage.items(access.ROLES.key)
        }
        bindings: dict[tuple[str, str], list[_Binding]] = {}
        for resource in (access.CLUSTER_ROLE_BINDINGS, access.ROLE_BINDINGS):
            for obj in storage.items(resource.key):
                meta, ref = obj["metadata"], obj.get("roleRef") or {}
                namespace = meta.get("namespace", "")
                for subject in obj.get("subjects") or ():
                    key = _subject_key(subject, namespace)
                    if key is None:
                        continue
                    bindings.setdefault((key, namespace), []).append(
                        _Binding(
                            resource.kind,
                            namespace,
                            meta["name"],
                            ref.get("kind", ""),
                            ref.get("name", ""),
                            _subject_label(subject, namespace),
                        )
                    )
        self._bindings = bindings
        self._stale = False

    def _subject_keys(self, attributes: Attributes) -> Iterable[str]:
        user = attributes.user
        yield f"User:{user.name}"
        for group in user.groups:
            yield f"Group:{group}"
        service_account = split_service_account(user.name)
        if service_account is not None:
            yield f"ServiceAccount:{service_account[0]}:{service_account[1]}"

    def _bindings_of(self, attributes: Attributes) -> Iterator[_Binding]:
        """The subject's ClusterRoleBindings, then its RoleBindings in the namespace."""
        keys = list(self._subject_keys(attributes))
        scopes = ("", attributes.namespace) if attributes.namespace else ("",)
        for scope in scopes:
            for key in keys:
                yield from self._bindings.get((key, scope), ())

    def _rules_of(self, binding: _Binding) -> list[Any]:
        if binding.role_kind == "ClusterRole":
            return self._cluster_roles.get(binding.role_name, [])
        if binding.role_kind == "Role" and binding.namespace:
            return self._roles.get((binding.namespace, binding.role_name), [])
        return []

    def role_rules(self, kind: str, namespace: str, name: str) -> list[Any] | None:
        """The (aggregated) rules of a Role in ``namespace`` or of a ClusterRole; None if
        there is no such role."""
        if self._stale:
            self._rebuild()
        if kind == "ClusterRole":
            return self._cluster_roles.get(name)
        if kind == "Role":
            return self._roles.get((namespace, name))
        return None

    def authorize(self, attributes: Attributes) -> Decision:
        if MASTERS in attributes.user.groups:
            return Decision(True)
        if self._stale:
            self._rebuild()
        for binding in self._bindings_of(attributes):
            if rules.rules_allow(attributes, self._rules_of(binding)):
                where = (
                    f'"{binding.name}/{binding.namespace}"'
                    if binding.namespace
                    else f'"{binding.name}"'
                )
                return Decision(
                    True,
                    f"RBAC: allowed by {binding.kind} {where} of {binding.role_kind} "
                    f'"{binding.role_name}" to {binding.subject}',
                )
        return Decision(False)

    def rules_for(self, attributes: Attributes) -> list[Any]:
        """Every rule that applies to the user in ``attributes.namespace``."""
        if self._stale:
            self._rebuild()
        found: list[Any] = []
        for binding in self._bindings_of(attributes):
            found.extend(self._rules_of(binding))
        return found
