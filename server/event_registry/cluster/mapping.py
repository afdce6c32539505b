"""The REST mapping: which resource serves a kind of a group-version, from discovery.

Used to look up objects of kinds nobody watches (a Trigger's subscriber ref, an EventType's
reference to a source) and to find which version of a kind the cluster serves. One mapper
belongs to each :class:`~.client.ClusterClient` (``client.rest_mapper``), which makes its
requests. Guarantees:

- :meth:`RestMapper.resolve` reads the group-version's ``APIResourceList`` (``/api/v1`` or
  ``/apis/<group>/<version>``) and caches it; a kind missing from a cached list triggers one
  fresh read, so a CRD installed later is found; a group-version the server does not serve
  (404) resolves to None and is not cached;
- :meth:`RestMapper.preferred_version` is the version kubectl's mapper resolves a kind to (the
  group's preferred version when it serves the kind, else the first listed one that does),
  read from the group's ``APIGroup`` document, cached per group; once a version serving the
  kind is cached it makes no request (a cached list that lacks the kind is read again only
  when no cached version serves it);
- any other failure raises the client's :class:`~.errors.ClusterError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from . import errors
from .kinds import ResourceRef

if TYPE_CHECKING:
    from .client import ClusterClient


def discovery_path(api_version: str) -> str:
    """The discovery document of a group-version: ``/api/v1`` or ``/apis/<group>/<version>``."""
    group, _, version = api_version.rpartition("/")
    return f"/apis/{group}/{version}" if group else f"/api/{version}"


def resources_of(api_version: str, document: Mapping[str, Any]) -> dict[str, ResourceRef]:
    """The top-level resources of an ``APIResourceList`` by kind (subresources skipped)."""
    group, _, version = api_version.rpartition("/")
    found: dict[str, ResourceRef] = {}
    for entry in document.get("resources") or ():
        if not isinstance(entry, Mapping):
            continue
        name, kind = str(entry.get("name") or ""), str(entry.get("kind") or "")
        if not name or not kind or "/" in name or kind in found:
            continue
        found[kind] = ResourceRef(kind, group, version, name, bool(entry.get("namespaced")))
    return found


class RestMapper:
    def __init__(self, client: ClusterClient) -> None:
        self._client = client
        self._known: dict[str, dict[str, ResourceRef]] = {}
        self._group_versions: dict[str, list[str]] = {}

    async def resolve(
        self, api_version: str, kind: str, *, refresh: bool = True
    ) -> ResourceRef | None:
        """The resource serving ``kind`` in ``api_version``, or None when it is not served
        (``refresh=False``: a kind missing from a cached list is not read again)."""
        known = self._known.get(api_version)
        if known is not None and (kind in known or not refresh):
            return known.get(kind)
        document = await self._client.discover(api_version)
        if document is None:
            self._known.pop(api_version, None)
            return None
        known = resources_of(api_version, document)
        self._known[api_version] = known
        return known.get(kind)

    async def preferred_version(self, group: str, kind: str) -> str | None:
        """The apiVersion clients use for ``kind`` of ``group`` (None: no version serves it)."""
        if not group:
            return "v1" if await self.resolve("v1", kind) else None
        versions = self._group_versions.get(group)
        if versions is None:
            try:
                document = await self._client.request("GET", f"/apis/{group}")
            except errors.NotFound:
                return None
            versions = _versions_by_priority(document)
            self._group_versions[group] = versions
        for refresh in (False, True):  # from what is cached first: no request once warm
            for api_version in versions:
                if await self.resolve(api_version, kind, refresh=refresh) is not None:
                    return api_version
        return None


def _versions_by_priority(document: Mapping[str, Any]) -> list[str]:
    """An ``APIGroup``'s group-versions, the preferred one first."""
    listed = [
        str(entry.get("groupVersion"))
        for entry in document.get("versions") or ()
        if isinstance(entry, Mapping) and entry.get("groupVersion")
    ]
    preferred = document.get("preferredVersion")
    first = str(preferred.get("groupVersion") or "") if isinstance(preferred, Mapping) else ""
    return [first, *(v for v in listed if v != first)] if first in listed else listed
