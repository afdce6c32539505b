"""Discovery documents, legacy and aggregated (``apidiscovery.k8s.io/v2``), from the catalog.

Versions of a group are listed in Kubernetes' priority order, so clients resolve a resource
to the same version they would on a real cluster. Every resource lists its ``responseKind``
and ``scope`` (without them kubectl silently drops or mis-scopes the resource).
"""

from __future__ import annotations

from typing import Any

from .catalog import Catalog
from .resources import Resource

AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
STATUS_VERBS = ["get", "patch", "update"]


def _resources_in(catalog: Catalog, group: str, version: str) -> list[Resource]:
    return [
        resource
        for resource in catalog.all()
        if resource.group == group and resource.served_version(version) is not None
    ]


def wants_aggregated(accept: str) -> bool:
    """True when the client's Accept prefers the aggregated v2 document."""
    for entry in accept.split(","):
        params = {part.strip() for part in entry.split(";")[1:]}
        if {"g=apidiscovery.k8s.io", "v=v2", "as=APIGroupDiscoveryList"} <= params:
            return True
    return False


def api_versions(server_address: str) -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    }


def _group(group: str, versions: list[str]) -> dict[str, Any]:
    entries = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"name": group, "versions": entries, "preferredVersion": entries[0]}


def api_group_list(catalog: Catalog) -> dict[str, Any]:
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [_group(g, v) for g, v in catalog.group_versions().items() if g],
    }


def api_group(catalog: Catalog, group: str) -> dict[str, Any] | None:
    versions = catalog.group_versions().get(group)
    if not group or not versions:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(group, versions)}


def api_resource_list(catalog: Catalog, group: str, version: str) -> dict[str, Any] | None:
    found = _resources_in(catalog, group, version)
    if not found:
        return None
    resources: list[dict[str, Any]] = []
    for resource in found:
        entry: dict[str, Any] = {
            "name": resource.plural,
            "singularName": resource.singular,
            "namespaced": resource.namespaced,
            "kind": resource.kind,
            "verbs": list(resource.verbs),
        }
        if resource.short_names:
            entry["shortNames"] = list(resource.short_names)
        if resource.categories:
            entry["categories"] = list(resource.categories)
        if not resource.create_only:
            entry["storageVersionHash"] = resource.storage_version_hash
        resources.append(entry)
        served = resource.served_version(version)
        if served is not None and served.status_subresource:
            resources.append(
                {
                    "name": f"{resource.plural}/status",
                    "singularName": "",
                    "namespaced": resource.namespaced,
                    "kind": resource.kind,
                    "verbs": STATUS_VERBS,
                }
            )
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": resources,
    }


def _aggregated_resource(resource: Resource, version: str) -> dict[str, Any]:
    kind = {"group": resource.group, "version": version, "kind": resource.kind}
    entry: dict[str, Any] = {
        "resource": resource.plural,
        "singularResource": resource.singular,
        "scope": "Namespaced" if resource.namespaced else "Cluster",
        "responseKind": kind,
        "verbs": list(resource.verbs),
    }
    if resource.short_names:
        entry["shortNames"] = list(resource.short_names)
    if resource.categories:
        entry["categories"] = list(resource.categories)
    served = resource.served_version(version)
    if served is not None and served.status_subresource:
        entry["subresources"] = [
            {"subresource": "status", "responseKind": kind, "verbs": STATUS_VERBS}
        ]
    return entry


def aggregated(catalog: Catalog, *, core: bool) -> dict[str, Any]:
    """``/api`` (core only) or ``/apis`` (every other group) as APIGroupDiscoveryList."""
    items = []
    for group, versions in catalog.group_versions().items():
        if (group == "") != core:
            continue
        item: dict[str, Any] = {
            "metadata": {"name": group} if group else {},
            "versions": [
                {
                    "version": version,
                    "freshness": "Current",
                    "resources": [
                        _aggregated_resource(resource, version)
                        for resource in _resources_in(catalog, group, version)
                    ],
                }
                for version in versions
            ],
        }
        items.append(item)
    return {
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": items,
    }
