"""The set of served resources: built-in kinds (:mod:`.resources`, :mod:`.access`,
:mod:`.core`, :mod:`.workloads`, :mod:`.events`) plus one entry per established CRD.
A resource serving another's objects (events.k8s.io Events) is found by its qualified
name; :meth:`Catalog.by_key` of a storage key gives the resource owning the objects.

The catalog is rebuilt from the stored CRDs after every CRD write, inside the same
event-loop step, so a resource is served (in discovery, OpenAPI and its own paths) as soon as
the POST that created its CRD has returned, and stops being served when the CRD is deleted.
"""

from __future__ import annotations

from collections.abc import Iterable

from . import access, core, events, resources, workloads

BUILTIN_RESOURCES = (
    *resources.BUILTIN_RESOURCES,
    *access.ACCESS_RESOURCES,
    *core.CORE_RESOURCES,
    *workloads.WORKLOAD_RESOURCES,
    *events.EVENT_RESOURCES,
)


class Catalog:
    """Look-ups by group/version/plural, by group/kind and by the names kubectl resolves."""

    def __init__(self, custom: Iterable[resources.Resource] = ()) -> None:
        self._by_key: dict[str, resources.Resource] = {}
        for resource in (*BUILTIN_RESOURCES, *custom):
            self._by_key[resource.qualified_name] = resource
        self.generation = 0

    def replace_custom(self, custom: Iterable[resources.Resource]) -> None:
        self._by_key = {resource.qualified_name: resource for resource in BUILTIN_RESOURCES}
        for resource in custom:
            self._by_key.setdefault(resource.qualified_name, resource)
        self.generation += 1

    def all(self) -> list[resources.Resource]:
        return list(self._by_key.values())

    def by_key(self, key: str) -> resources.Resource | None:
        return self._by_key.get(key)

    def lookup(self, group: str, version: str, plural: str) -> resources.Resource | None:
        """The resource served at ``/apis/<group>/<version>/<plural>`` (core: group "")."""
        resource = self._by_key.get(f"{plural}.{group}" if group else plural)
        if resource is None or resource.served_version(version) is None:
            return None
        return resource

    def by_kind(self, group: str, kind: str) -> resources.Resource | None:
        return next((r for r in self._by_key.values() if r.group == group and r.kind == kind), None)

    def group_versions(self) -> dict[str, list[str]]:
        """Served versions per group, groups in first-seen order, versions by priority."""
        groups: dict[str, list[str]] = {}
        for resource in self._by_key.values():
            versions = groups.setdefault(resource.group, [])
            for version in resource.versions:
                if version.served and version.name not in versions:
                    versions.append(version.name)
        return {group: sorted(v, key=version_priority) for group, v in groups.items()}


def version_priority(version: str) -> tuple[int, int, int, str]:
    """Kubernetes' version ordering: GA > beta > alpha, higher numbers first."""
    import re

    match = re.fullmatch(r"v(\d+)(?:(alpha|beta)(\d+))?", version)
    if not match:
        return (3, 0, 0, version)
    major = int(match.group(1))
    stage = {"alpha": 2, "beta": 1, None: 0}[match.group(2)]
    minor = int(match.group(3) or 0)
    return (stage, -major, -minor, version)
