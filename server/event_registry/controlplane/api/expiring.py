"""Event expiry: kube-apiserver's ``--event-ttl``, an Event goes its TTL after its last write.

kube-apiserver stores each Event with an etcd lease of ``--event-ttl`` (one hour by default),
renewed by every write; when the lease runs out the Event is gone. Here a synchronous listener
notes every committed write of an Event (so none is missed) and one task deletes each Event
whose last write is ``ttl`` seconds old, through :class:`~.apiserver.ApiServer` as any client
would, with its resourceVersion as precondition: a rewritten Event is kept for its newer
write, and lists and watches see the deletion as any other (watches get DELETED).

Guarantees: an Event is never deleted before ``ttl`` seconds after its last write; it is
deleted at most about ``ttl`` plus one event-loop step after it (the task sleeps until the
oldest deadline). Writes share one TTL, so deadlines arrive in write order and wait in a FIFO.
After a restart the Events found in storage expire ``ttl`` after the latest time they carry
(``series.lastObservedTime``, ``lastTimestamp``, ``eventTime``, ``creationTimestamp``), an
approximation of their last write, which the storage does not keep.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from ..machinery import errors
from ..storage.sqlite import Event
from .apiserver import ApiServer, Target
from .events import EVENTS

log = logging.getLogger(__name__)

DEFAULT_EVENT_TTL = 3600.0

Entry = tuple[float, str, str, str]
"""(deadline, namespace, name, resourceVersion of the write that set it)."""


def _seconds(timestamp: object) -> float | None:
    if not isinstance(timestamp, str) or not timestamp:
        return None
    try:
        parsed = datetime.datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return parsed.timestamp()


def last_written(event: Mapping[str, Any]) -> float | None:
    """The latest time an Event carries: when it was last written, approximately."""
    series = event.get("series")
    candidates = (
        series.get("lastObservedTime") if isinstance(series, Mapping) else None,
        event.get("lastTimestamp"),
        event.get("eventTime"),
        (event.get("metadata") or {}).get("creationTimestamp"),
    )
    times = [seconds for seconds in map(_seconds, candidates) if seconds is not None]
    return max(times) if times else None


class EventExpiry:
    def __init__(
        self,
        api: ApiServer,
        *,
        ttl: float = DEFAULT_EVENT_TTL,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._api = api
        self.ttl = ttl
        self._clock = clock
        self._queue: deque[Entry] = deque()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.expired = 0
        """Events deleted for their age (for tests and logs)."""
        api.add_listener(self._on_event)

    async def start(self) -> None:
        self._resume()
        self._task = asyncio.create_task(self._run(), name="event-expiry")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _on_event(self, event: Event) -> None:
        if event.resource != EVENTS.key or event.type == "DELETED":
            return
        meta = event.object["metadata"]
        self._queue.append(
            (self._clock() + self.ttl, event.namespace, meta["name"], meta["resourceVersion"])
        )
        self._wake.set()

    def _resume(self) -> None:
        now = self._clock()
        found: list[Entry] = []
        for stored in self._api.storage.items(EVENTS.key):
            meta = stored["metadata"]
            written = last_written(stored)
            deadline = (written if written is not None else now) + self.ttl
            found.append(
                (deadline, meta.get("namespace", ""), meta["name"], meta["resourceVersion"])
            )
        self._queue.extendleft(sorted(found, reverse=True))

    async def _run(self) -> None:
        while True:
            if not self._queue:
                self._wake.clear()
                await self._wake.wait()
                continue
            delay = self._queue[0][0] - self._clock()
            if delay > 0:
                await asyncio.sleep(delay)
                continue
            self.expire_due()

    def expire_due(self) -> int:
        """Delete every Event whose last write is ``ttl`` old; how many were deleted."""
        now, deleted = self._clock(), 0
        while self._queue and self._queue[0][0] <= now:
            _, namespace, name, resource_version = self._queue.popleft()
            try:
                deleted += self._expire(namespace, name, resource_version)
            except Exception:
                log.exception("expiring Event %s/%s failed", namespace, name)
        self.expired += deleted
        return deleted

    def _expire(self, namespace: str, name: str, resource_version: str) -> int:
        stored = self._api.storage.get(EVENTS.key, namespace, name)
        if stored is None or stored["metadata"]["resourceVersion"] != resource_version:
            return 0  # gone, or written again since: that write has its own deadline
        target = Target(EVENTS, "v1", namespace, name)
        options = {"preconditions": {"resourceVersion": resource_version}}
        try:
            self._api.delete(target, options)
        except (errors.NotFound, errors.Conflict):
            return 0
        return 1
