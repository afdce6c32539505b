"""PolicyRule matching, as Kubernetes' RBAC authorizer does it (plugin/pkg/auth/authorizer/rbac).

A rule allows a resource request when its ``verbs``, ``apiGroups``, ``resources`` and
``resourceNames`` all match: ``*`` matches any verb, group or resource; ``resources`` names
``<resource>`` or ``<resource>/<subresource>`` (a bare resource does *not* cover its
subresources), and ``*/<subresource>`` matches that subresource of any resource; an empty
``resourceNames`` matches every name, a non-empty one only requests that carry one of those
names (so never a ``create`` or an unnarrowed ``list``). A non-resource request matches
``nonResourceURLs`` exactly, by ``*``, or by a prefix written ``/prefix*``. Pure functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .attributes import Attributes

ALL = "*"

Rule = Mapping[str, Any]


def _has(values: Iterable[str], wanted: str) -> bool:
    return any(value in (ALL, wanted) for value in values)


def verb_matches(rule: Rule, verb: str) -> bool:
    return _has(rule.get("verbs") or (), verb)


def api_group_matches(rule: Rule, group: str) -> bool:
    return _has(rule.get("apiGroups") or (), group)


def resource_matches(rule: Rule, combined: str, subresource: str) -> bool:
    for resource in rule.get("resources") or ():
        if resource in (ALL, combined):
            return True
        if subresource and resource == f"*/{subresource}":
            return True
    return False


def resource_name_matches(rule: Rule, name: str) -> bool:
    names = rule.get("resourceNames") or ()
    return not names or name in names


def non_resource_url_matches(rule: Rule, path: str) -> bool:
    for url in rule.get("nonResourceURLs") or ():
        if url in (ALL, path):
            return True
        if url.endswith(ALL) and path.startswith(url[:-1]):
            return True
    return False


def rule_allows(attributes: Attributes, rule: Rule) -> bool:
    if not verb_matches(rule, attributes.verb):
        return False
    if not attributes.resource_request:
        return non_resource_url_matches(rule, attributes.path)
    return (
        api_group_matches(rule, attributes.api_group)
        and resource_matches(rule, attributes.combined_resource, attributes.subresource)
        and resource_name_matches(rule, attributes.name)
    )


def rules_allow(attributes: Attributes, rules: Iterable[Rule]) -> bool:
    return any(rule_allows(attributes, rule) for rule in rules)
