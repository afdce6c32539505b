"""RBAC's escalation prevention: nobody grants permissions they do not hold.

As kube-apiserver's RBAC storage does, a Role or ClusterRole may be written only by a caller
who holds every permission in it (each rule broken down into one apiGroup, resource, verb and
resourceName, or one nonResourceURL and verb, at a time, each checked as a request of the
caller in the Role's namespace or cluster-wide) or who has the ``escalate`` verb on it; a
ClusterRole with an ``aggregationRule`` needs ``escalate`` or every permission (``*``). A
RoleBinding or ClusterRoleBinding may be written only by a caller who holds every permission
of the role it references, in the binding's namespace, or who has the ``bind`` verb on that
role. Refusals are 403s listing what is not held.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ..api import access
from ..machinery import errors
from .attributes import Attributes
from .identity import UserInfo
from .rbac import Decision, RbacIndex

_EVERYTHING = {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}


def _atoms(rule: Mapping[str, Any], user: UserInfo, namespace: str) -> Iterator[Attributes]:
    verbs = rule.get("verbs") or ()
    urls = rule.get("nonResourceURLs") or ()
    for verb, url in itertools.product(verbs, urls):
        yield Attributes(user, verb, False, path=url)
    names = rule.get("resourceNames") or ("",)
    for verb, group, resource, name in itertools.product(
        verbs, rule.get("apiGroups") or (), rule.get("resources") or (), names
    ):
        plural, _, subresource = resource.partition("/")
        yield Attributes(
            user,
            verb,
            True,
            api_group=group,
            resource=plural,
            subresource=subresource,
            namespace=namespace,
            name=name,
        )


def _not_held(
    authorize: Callable[[Attributes], Decision],
    rules: list[Any],
    user: UserInfo,
    namespace: str,
) -> list[str]:
    missing = []
    for rule in rules:
        for atom in _atoms(rule, user, namespace):
            if not authorize(atom).allowed:
                if atom.resource_request:
                    missing.append(
                        f'{{APIGroups:["{atom.api_group}"], Resources:["{atom.combined_resource}"]'
                        + (f', ResourceNames:["{atom.name}"]' if atom.name else "")
                        + f', Verbs:["{atom.verb}"]}}'
                    )
                else:
                    missing.append(f'{{NonResourceURLs:["{atom.path}"], Verbs:["{atom.verb}"]}}')
    return missing


def _refuse(resource_key: str, name: str, user: UserInfo, missing: list[str]) -> errors.Forbidden:
    groups = " ".join(f'"{group}"' for group in user.groups)
    shown = "\n".join(missing[:20]) + ("\n..." if len(missing) > 20 else "")
    return errors.Forbidden(
        f'{resource_key} "{name}" is forbidden: user "{user.name}" (groups=[{groups}]) is '
        f"attempting to grant RBAC permissions not currently held:\n{shown}",
        errors.Details(name=name, group=access.RBAC_GROUP, kind=resource_key.split(".")[0]),
    )


def check(rbac: RbacIndex, user: UserInfo, resource_key: str, obj: Mapping[str, Any]) -> None:
    """Raise 403 unless ``user`` may write ``obj`` (a Role, ClusterRole or binding)."""
    meta = obj.get("metadata") or {}
    name, namespace = meta.get("name", ""), meta.get("namespace", "")
    authorize = rbac.authorize

    def may(verb: str, plural: str, target: str) -> bool:
        attributes = Attributes(
            user,
            verb,
            True,
            api_group=access.RBAC_GROUP,
            resource=plural,
            namespace=namespace,
            name=target,
        )
        return authorize(attributes).allowed

    if resource_key in (access.ROLES.key, access.CLUSTER_ROLES.key):
        plural = resource_key.split(".")[0]
        if may("escalate", plural, name):
            return
        rules = list(obj.get("rules") or ())
        if obj.get("aggregationRule"):
            rules = [_EVERYTHING]
        missing = _not_held(authorize, rules, user, namespace)
    elif resource_key in (access.ROLE_BINDINGS.key, access.CLUSTER_ROLE_BINDINGS.key):
        ref = obj.get("roleRef") or {}
        plural = "roles" if ref.get("kind") == "Role" else "clusterroles"
        if may("bind", plural, ref.get("name", "")):
            return
        role_rules = rbac.role_rules(ref.get("kind", ""), namespace, ref.get("name", ""))
        if role_rules is None:
            raise errors.NotFound(
                f'{plural}.{access.RBAC_GROUP} "{ref.get("name", "")}" not found',
                errors.Details(name=ref.get("name", ""), group=access.RBAC_GROUP, kind=plural),
            )
        missing = _not_held(authorize, role_rules, user, namespace)
    else:
        return
    if missing:
        raise _refuse(resource_key, name, user, missing)
