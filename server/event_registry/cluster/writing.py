"""Writes through the Kubernetes API: create, merge-patch (also of status), delete.

Every refusal by the API server becomes a :class:`~.errors.ClusterError` carrying the
``Status`` code, reason and field causes, so callers map it to their own typed errors.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from kubernetes_asyncio.client import ApiClient
from kubernetes_asyncio.client.exceptions import ApiException

from . import errors
from .kinds import ResourceRef

MERGE_PATCH = "application/merge-patch+json"


class Writer:
    def __init__(self, api_client: ApiClient, *, request_timeout: float = 30.0) -> None:
        self._client = api_client
        self._timeout = request_timeout

    async def _call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        content_type: str = "application/json",
        query: list[tuple[str, Any]] | None = None,
    ) -> dict[str, Any]:
        try:
            response: aiohttp.ClientResponse = await self._client.call_api(
                path,
                method,
                query_params=query or [],
                header_params={"Accept": "application/json", "Content-Type": content_type},
                body=body,
                auth_settings=["BearerToken"],
                _preload_content=False,
                _request_timeout=self._timeout,
            )
        except ApiException as error:
            raise errors.ClusterError(int(error.status or 0), "Unknown", str(error)) from error
        except (aiohttp.ClientError, TimeoutError) as error:
            raise errors.ClusterError(
                0, "Unreachable", str(error) or type(error).__name__
            ) from error
        async with response:
            raw = await response.read()
        try:
            data = json.loads(raw) if raw else {}
        except ValueError:
            data = {"message": raw.decode(errors="replace")}
        if not 200 <= response.status < 300:
            raise errors.from_status(response.status, data)
        return data if isinstance(data, dict) else {}

    async def get(self, resource: ResourceRef, namespace: str, name: str) -> dict[str, Any]:
        return await self._call("GET", resource.path(namespace, name))

    async def create(
        self, resource: ResourceRef, namespace: str, body: dict[str, Any], *, dry_run: bool = False
    ) -> dict[str, Any]:
        query = [("dryRun", "All")] if dry_run else []
        query.append(("fieldValidation", "Strict"))
        return await self._call("POST", resource.path(namespace), body, query=query)

    async def merge_patch(
        self,
        resource: ResourceRef,
        namespace: str,
        name: str,
        patch: dict[str, Any],
        *,
        subresource: str = "",
    ) -> dict[str, Any]:
        path = resource.path(namespace, name, subresource)
        return await self._call("PATCH", path, patch, content_type=MERGE_PATCH)

    async def delete(self, resource: ResourceRef, namespace: str, name: str) -> dict[str, Any]:
        body = {"propagationPolicy": "Background"}
        return await self._call("DELETE", resource.path(namespace, name), body)
