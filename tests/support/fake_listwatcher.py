"""A fake list-watcher: one kind's objects in memory, and the watch an API server would send.

It is what a :class:`~event_registry.cluster.reflecting.Reflector` reads (its ``Source``), so
reflector behaviour is tested without a server: relists after 410, backoff after failures,
bookmarks, restarts. The test drives it:

- :meth:`FakeListWatcher.put` changes an object and queues its watch event; ``unwatched=True``
  changes it without an event (as if the change was compacted away before a watch saw it:
  only a relist shows it);
- :meth:`bookmark` queues a BOOKMARK at the current resourceVersion; :meth:`compact` makes
  every resourceVersion before the current one too old, so a watch started from one fails
  with 410 Expired as an API server's does;
- :meth:`end_watch` ends the open watch as a server-side timeout does; :meth:`expire_watch`
  fails it with 410 (the watch is reset); :meth:`fail_next` makes the next list or watch
  request fail with the given cluster error.

It records what the reflector asked: ``lists``, ``watched_from`` (the resourceVersion each
watch started from) and ``open_watches``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from typing import Any, Literal

from event_registry.cluster import errors, kinds
from event_registry.cluster.listwatching import WatchEvent

Request = Literal["list", "watch"]


def event_type(name: str, rv: str) -> dict[str, Any]:
    return {
        "apiVersion": "eventing.knative.dev/v1beta2",
        "kind": "EventType",
        "metadata": {"name": name, "namespace": "default", "resourceVersion": rv},
        "spec": {"type": f"com.example.{name}", "source": "/s"},
    }


class FakeListWatcher:
    """EventTypes of namespace ``default``; resourceVersions count changes from 1."""

    def __init__(self) -> None:
        self.resource = kinds.event_types()
        self.objects: dict[str, dict[str, Any]] = {}
        self.version = 0
        self.oldest = 0
        """Watches from a resourceVersion below this one are refused with 410."""
        self.events: asyncio.Queue[WatchEvent | Exception | None] = asyncio.Queue()
        self.failures: dict[Request, list[errors.ClusterError]] = {"list": [], "watch": []}
        self.lists = 0
        self.watched_from: list[str] = []
        self.open_watches = 0

    # the test's side -------------------------------------------------------------------------

    def put(self, change_type: str, name: str, *, unwatched: bool = False) -> None:
        """Change an object (ADDED, MODIFIED or DELETED); ``unwatched``: no watch event for it."""
        self.version += 1
        raw = event_type(name, str(self.version))
        if change_type == "DELETED":
            del self.objects[name]
        else:
            self.objects[name] = raw
        if not unwatched:
            self.events.put_nowait(WatchEvent(change_type, raw))

    def bookmark(self) -> None:
        rv = str(self.version)
        self.events.put_nowait(WatchEvent("BOOKMARK", {"metadata": {"resourceVersion": rv}}))

    def compact(self) -> None:
        self.oldest = self.version

    def end_watch(self) -> None:
        self.events.put_nowait(None)

    def expire_watch(self) -> None:
        self.events.put_nowait(errors.Expired(410, "Expired", "too old resource version"))

    def fail_next(self, request: Request, error: errors.ClusterError) -> None:
        self.failures[request].append(error)

    # the reflector's side --------------------------------------------------------------------

    def _fail(self, request: Request) -> None:
        if self.failures[request]:
            raise self.failures[request].pop(0)

    async def list(self) -> tuple[list[dict[str, Any]], str]:
        self.lists += 1
        self._fail("list")
        return list(self.objects.values()), str(self.version)

    async def watch(
        self,
        resource_version: str,
        *,
        timeout_seconds: int,
        read_timeout: float,
        on_connected: Callable[[], None] = lambda: None,
    ) -> AsyncGenerator[WatchEvent, None]:
        self.watched_from.append(resource_version)
        self._fail("watch")
        if int(resource_version or 0) < self.oldest:
            raise errors.Expired(410, "Expired", f"too old resource version: {resource_version}")
        on_connected()
        self.open_watches += 1
        try:
            while (event := await self.events.get()) is not None:
                if isinstance(event, Exception):
                    raise event
                yield event
        finally:
            self.open_watches -= 1
