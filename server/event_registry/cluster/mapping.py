"""A tiny REST mapper: (apiVersion, kind) → resource, through API discovery; and object reads.

Used to look up objects of kinds the registry does not watch (a Trigger's subscriber ref, an
EventType's reference to a source). Guarantees:

- :meth:`RestMapper.resolve` reads the group-version's ``APIResourceList`` (``/api/v1`` or
  ``/apis/<group>/<version>``) and caches it; a kind missing from a cached list triggers one
  fresh read, so a CRD installed later is found; a group-version the server does not serve
  (404) resolves to None and is not cached;
- :meth:`RestMapper.get` returns the object as raw JSON, or None when it does not exist (404);
- every other refusal or transport failure raises :class:`~.errors.ClusterError`, as the rest
  of this layer does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, cast

import aiohttp
from kubernetes_asyncio.client import ApiClient as ApiClient
from kubernetes_asyncio.client.exceptions import ApiException

from ..store.caching import Kind
from . import errors
from .kinds import ResourceRef

__all__ = ["ApiClient", "RestMapper", "discovery_path", "resources_of"]


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
        # ResourceRef.kind is typed for the registry's own kinds; the mapper carries any kind.
        found[kind] = ResourceRef(
            cast(Kind, kind), group, version, name, namespaced=bool(entry.get("namespaced"))
        )
    return found


class RestMapper:
    def __init__(self, api_client: ApiClient, *, request_timeout: float = 10.0) -> None:
        self._client = api_client
        self._timeout = request_timeout
        self._known: dict[str, dict[str, ResourceRef]] = {}

    async def _get_json(self, path: str) -> dict[str, Any] | None:
        try:
            response: aiohttp.ClientResponse = await self._client.call_api(
                path,
                "GET",
                header_params={"Accept": "application/json"},
                auth_settings=["BearerToken"],
                _preload_content=False,
                _request_timeout=aiohttp.ClientTimeout(total=self._timeout),
            )
        except ApiException as error:
            if error.status == 404:
                return None
            raise errors.ClusterError(int(error.status or 0), "Unknown", str(error)) from error
        except (aiohttp.ClientError, TimeoutError) as error:
            raise errors.ClusterError(
                0, "Unreachable", str(error) or type(error).__name__
            ) from error
        async with response:
            raw = await response.read()
        if response.status == 404:
            return None
        try:
            data = json.loads(raw) if raw else {}
        except ValueError:
            data = {"message": raw.decode(errors="replace")}
        if not 200 <= response.status < 300:
            raise errors.from_status(response.status, data)
        return data if isinstance(data, dict) else {}

    async def resolve(self, api_version: str, kind: str) -> ResourceRef | None:
        """The resource serving ``kind`` in ``api_version``, or None when it is not served."""
        known = self._known.get(api_version)
        if known is not None and kind in known:
            return known[kind]
        document = await self._get_json(discovery_path(api_version))
        if document is None:
            self._known.pop(api_version, None)
            return None
        known = resources_of(api_version, document)
        self._known[api_version] = known
        return known.get(kind)

    async def get(self, ref: ResourceRef, namespace: str, name: str) -> dict[str, Any] | None:
        """The object as raw JSON, or None when it does not exist."""
        return await self._get_json(ref.path(namespace if ref.namespaced else "", name))
