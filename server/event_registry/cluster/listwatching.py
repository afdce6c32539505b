"""List and watch one resource as raw JSON through the cluster client.

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

from . import errors
from .client import ClusterClient, Query
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
    """Lists and watches one resource through a :class:`~.client.ClusterClient`."""

    def __init__(
        self,
        client: ClusterClient,
        resource: ResourceRef,
        *,
        page_size: int = 500,
        request_timeout: float = 30.0,
    ) -> None:
        self._client = client
        self.resource = resource
        self._page_size = page_size
        self._read_timeout = request_timeout

    async def list(self) -> tuple[list[dict[str, Any]], str]:
        """Every object and the resourceVersion the list is consistent at."""
        path = self.resource.collection_path
        while True:
            items: list[dict[str, Any]] = []
            token = ""
            try:
                while True:
                    query: Query = [("limit", self._page_size)]
                    if token:
                        query.append(("continue", token))
                    body = await self._client.request(
                        "GET", path, query=query, read_timeout=self._read_timeout
                    )
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
        query: Query = [
            ("watch", "true"),
            ("resourceVersion", resource_version),
            ("allowWatchBookmarks", "true"),
            ("timeoutSeconds", timeout_seconds),
        ]
        path = self.resource.collection_path
        async with self._client.stream(path, query, read_timeout=read_timeout) as lines:
            on_connected()
            async for line in lines:
                if line.strip():
                    yield parse_watch_line(line)
