"""List and watch one resource as raw JSON over kubernetes_asyncio's HTTP client.

Lists are paged (``limit``/``continue``) and consistent at one resourceVersion; an expired
continue token restarts the list. Watches always ask for bookmarks and a server-side
timeout, and every read has a client-side timeout, so a half-open connection surfaces as an
error instead of freezing the cache. Watch lines are parsed by a pure function.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from kubernetes_asyncio.client import ApiClient

from . import errors
from .kinds import ResourceRef


@dataclass(frozen=True)
class WatchEvent:
    type: str  # ADDED | MODIFIED | DELETED | BOOKMARK
    object: dict[str, Any]

    @property
    def resource_version(self) -> str:
        metadata = self.object.get("metadata")
        return str(metadata.get("resourceVersion") or "") if isinstance(metadata, dict) else ""


def parse_watch_line(line: bytes) -> WatchEvent:
    """One line of a watch stream; an ERROR line raises the ClusterError it carries."""
    try:
        data = json.loads(line)
    except ValueError as error:
        raise errors.ClusterError(0, "BadWatchLine", f"undecodable watch line: {error}") from error
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        raise errors.ClusterError(0, "BadWatchLine", "watch line without an object")
    kind = str(data.get("type") or "")
    if kind == "ERROR":
        status = data["object"]
        try:
            code = int(status.get("code") or 500)
        except (TypeError, ValueError, OverflowError):
            code = 500  # a malformed Status is still the error it reports
        raise errors.from_status(code, status)
    if kind not in ("ADDED", "MODIFIED", "DELETED", "BOOKMARK"):
        raise errors.ClusterError(0, "BadWatchLine", f"unknown watch event type {kind!r}")
    return WatchEvent(kind, data["object"])


class ListerWatcher:
    def __init__(
        self,
        api_client: ApiClient,
        resource: ResourceRef,
        *,
        page_size: int = 500,
        request_timeout: float = 30.0,
    ) -> None:
        self._client = api_client
        self.resource = resource
        self._page_size = page_size
        self._request_timeout = request_timeout

    async def _get(
        self, query: list[tuple[str, Any]], *, read_timeout: float
    ) -> aiohttp.ClientResponse:
        try:
            response: aiohttp.ClientResponse = await self._client.call_api(
                self.resource.collection_path,
                "GET",
                query_params=query,
                header_params={"Accept": "application/json"},
                auth_settings=["BearerToken"],
                _preload_content=False,
                _request_timeout=aiohttp.ClientTimeout(
                    connect=self._request_timeout,
                    sock_connect=self._request_timeout,
                    sock_read=read_timeout,
                ),
            )
        except (aiohttp.ClientError, TimeoutError) as error:
            raise errors.ClusterError(
                0, "Unreachable", str(error) or type(error).__name__
            ) from error
        if not 200 <= response.status < 300:
            async with response:
                raw = await response.read()
            try:
                body = json.loads(raw)
            except ValueError:
                body = {"message": raw.decode(errors="replace")}
            raise errors.from_status(response.status, body)
        return response

    async def list(self) -> tuple[list[dict[str, Any]], str]:
        """Every object and the resourceVersion the list is consistent at."""
        while True:
            items: list[dict[str, Any]] = []
            token = ""
            try:
                while True:
                    query: list[tuple[str, Any]] = [("limit", self._page_size)]
                    if token:
                        query.append(("continue", token))
                    response = await self._get(query, read_timeout=self._request_timeout)
                    async with response:
                        body = await response.json(loads=json.loads, content_type=None)
                    items.extend(body.get("items") or [])
                    metadata = body.get("metadata") or {}
                    token = metadata.get("continue") or ""
                    if not token:
                        return items, str(metadata.get("resourceVersion") or "")
            except errors.Expired:
                continue  # the continue token expired: start the list again

    async def watch(
        self,
        resource_version: str,
        *,
        timeout_seconds: int,
        read_timeout: float,
        on_connected: Callable[[], None] = lambda: None,
    ) -> AsyncGenerator[WatchEvent, None]:
        """Events after ``resource_version`` until the server ends the stream.

        ``on_connected`` runs once the server has accepted the watch (status 200).
        """
        query: list[tuple[str, Any]] = [
            ("watch", "true"),
            ("resourceVersion", resource_version),
            ("allowWatchBookmarks", "true"),
            ("timeoutSeconds", timeout_seconds),
        ]
        response = await self._get(query, read_timeout=read_timeout)
        on_connected()
        async with response:
            while True:
                try:
                    line = await response.content.readline()
                except (aiohttp.ClientError, TimeoutError) as error:
                    detail = str(error) or type(error).__name__
                    raise errors.ClusterError(0, "Disconnected", detail) from error
                if not line:
                    return
                if line.strip():
                    yield parse_watch_line(line)
