"""Watches: a fan-out of committed changes to every open watch, with history replay.

Guarantees, per watch:

- events arrive in revision order, each exactly once, with no gap between the replayed
  history (or the initial state) and the live changes: the watch subscribes to live changes
  *before* it reads storage, in the same event-loop step, and drops what it has already sent;
- a watch from a revision older than the retained history gets one ERROR event carrying a
  410 Expired ``Status`` and ends (clients relist, as with a compacted etcd);
- label and field selectors see transitions as kube-apiserver reports them: an object that
  starts matching is ADDED, one that stops matching is DELETED;
- a BOOKMARK is only sent when every change up to its revision has been delivered;
- a watcher that falls more than ``queue_limit`` changes behind is ended rather than allowed
  to grow memory without bound or to slow the writers; its client re-watches from the last
  revision it saw.
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any, Literal

from ..machinery import errors, selectors
from ..storage.sqlite import Event, TooOld
from .apiserver import ApiServer, Target

WatchEventType = Literal["ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"]
INITIAL_EVENTS_END = "k8s.io/initial-events-end"


@dataclass(frozen=True)
class WatchOptions:
    resource_version: str | None = None
    label_selector: str | None = None
    field_selector: str | None = None
    allow_bookmarks: bool = False
    send_initial_events: bool = False
    timeout_seconds: float | None = None


@dataclass(frozen=True)
class WatchEvent:
    """One line of a watch stream; ``object`` is stored-version (or a Status/bookmark)."""

    type: WatchEventType
    object: dict[str, Any]
    stored: bool = True


class Subscriber:
    """A bounded queue of committed changes for one watch."""

    def __init__(
        self, broadcaster: Broadcaster, resource: str, limit: int, namespace: str = ""
    ) -> None:
        self._broadcaster = broadcaster
        self.resource = resource
        self.namespace = namespace
        self._limit = limit
        self._events: deque[Event] = deque()
        self._wake = asyncio.Event()
        self.overflowed = False
        self.closed = False

    def push(self, event: Event) -> None:
        if self.overflowed:
            return
        if len(self._events) >= self._limit:
            self.overflowed = True
            self._events.clear()
        else:
            self._events.append(event)
        self._wake.set()

    def end(self) -> None:
        """End the watch (server shutdown): the stream closes after what it has sent."""
        self.closed = True
        self._wake.set()

    @property
    def idle(self) -> bool:
        return not self._events

    async def next(self, wait: float) -> Event | None:
        """The next change, or None after ``wait`` seconds (or on overflow)."""
        if not self._events and not self.overflowed and not self.closed:
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), wait)
            except TimeoutError:
                return None
        if self.overflowed or self.closed or not self._events:
            return None
        return self._events.popleft()

    def close(self) -> None:
        self._broadcaster.unsubscribe(self)


@dataclass
class Broadcaster:
    """Delivers each committed change to the subscribers of its resource, synchronously."""

    queue_limit: int = 10_000
    last_revision: int = 0
    _subscribers: dict[tuple[str, str], set[Subscriber]] = field(default_factory=dict)
    """By (resource, namespace); namespace "" for cluster-wide watches and cluster scope."""

    def publish(self, event: Event) -> None:
        self.last_revision = event.revision
        for key in {(event.resource, event.namespace), (event.resource, "")}:
            for subscriber in tuple(self._subscribers.get(key, ())):
                subscriber.push(event)

    def subscribe(self, resource: str, namespace: str = "") -> Subscriber:
        """Changes of ``resource`` in ``namespace`` ("" for all namespaces)."""
        subscriber = Subscriber(self, resource, self.queue_limit, namespace)
        self._subscribers.setdefault((resource, namespace), set()).add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        subscribers = self._subscribers.get((subscriber.resource, subscriber.namespace))
        if subscribers is not None:
            subscribers.discard(subscriber)

    def end_all(self) -> None:
        for subscribers in self._subscribers.values():
            for subscriber in subscribers:
                subscriber.end()


def _bookmark(target: Target, revision: int, *, initial_end: bool = False) -> WatchEvent:
    meta: dict[str, Any] = {"resourceVersion": str(revision)}
    if initial_end:
        meta["annotations"] = {INITIAL_EVENTS_END: "true"}
    return WatchEvent(
        "BOOKMARK",
        {
            "kind": target.resource.kind,
            "apiVersion": target.resource.api_version(target.version),
            "metadata": meta,
        },
        stored=False,
    )


def watch(
    api: ApiServer,
    broadcaster: Broadcaster,
    target: Target,
    options: WatchOptions,
    *,
    bookmark_interval: float = 60.0,
) -> AsyncGenerator[WatchEvent, None]:
    """The events of one watch request, until its timeout or the client goes away.

    Parameters are checked here, before the stream starts, so a bad request is an ordinary
    error response rather than an ERROR line in a 200 stream.
    """
    labels = selectors.parse_label_selector(options.label_selector)
    fields = target.resource.field_labels.parse(options.field_selector)
    rv = options.resource_version
    initial_state = options.send_initial_events or rv in (None, "", "0")
    requested = 0
    if not initial_state:
        try:
            requested = int(rv or "")
        except ValueError as error:
            raise errors.BadRequest(f"invalid resource version: {rv!r}") from error
    return _stream(
        api,
        broadcaster,
        target,
        options,
        labels=labels,
        fields=fields,
        initial_state=initial_state,
        requested=requested,
        bookmark_interval=bookmark_interval,
    )


async def _stream(
    api: ApiServer,
    broadcaster: Broadcaster,
    target: Target,
    options: WatchOptions,
    *,
    labels: selectors.LabelSelector,
    fields: selectors.FieldSelector,
    initial_state: bool,
    requested: int,
    bookmark_interval: float,
) -> AsyncGenerator[WatchEvent, None]:
    storage = api.storage
    key = target.resource.key
    namespace = target.namespace

    def matches(obj: dict[str, Any]) -> bool:
        meta = obj["metadata"]
        if namespace and meta.get("namespace") != namespace:
            return False
        return labels.matches(meta.get("labels") or {}) and fields.matches(
            target.resource.field_labels.values(obj)
        )

    def translate(event: Event) -> WatchEvent | None:
        now = matches(event.object)
        before = event.previous is not None and event.type == "MODIFIED" and matches(event.previous)
        if event.type == "MODIFIED":
            if now and before:
                return WatchEvent("MODIFIED", event.object)
            if now:
                return WatchEvent("ADDED", event.object)
            if before:
                return WatchEvent("DELETED", event.object)
            return None
        return WatchEvent(event.type, event.object) if now else None

    start = requested
    subscriber = broadcaster.subscribe(key, namespace)
    try:
        initial: list[dict[str, Any]] = []
        history: list[Event] = []
        if initial_state:
            start = storage.revision
            initial = storage.items(key, namespace or None)
        else:
            try:
                history = storage.events_after(start, key)
            except TooOld as error:
                expired = errors.Expired(
                    f"too old resource version: {error.requested} ({error.compacted + 1})"
                )
                yield WatchEvent("ERROR", expired.to_status(), stored=False)
                return
        for obj in initial:
            if matches(obj):
                yield WatchEvent("ADDED", obj)
        if options.send_initial_events:
            yield _bookmark(target, start, initial_end=True)
        last = start
        for event in history:
            last = event.revision
            translated = translate(event)
            if translated is not None:
                yield translated
        timeout = options.timeout_seconds
        if timeout is None:
            timeout = random.uniform(1800, 3600)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        next_bookmark = loop.time() + bookmark_interval
        while True:
            now = loop.time()
            if now >= deadline:
                return
            wait = deadline - now
            if options.allow_bookmarks:
                wait = min(wait, max(0.0, next_bookmark - now))
            received = await subscriber.next(wait)
            if subscriber.overflowed or subscriber.closed:
                return
            if received is None:
                if options.allow_bookmarks and loop.time() >= next_bookmark:
                    next_bookmark = loop.time() + bookmark_interval
                    if subscriber.idle:
                        yield _bookmark(target, max(last, broadcaster.last_revision))
                continue
            if received.revision <= last:
                continue
            last = received.revision
            translated = translate(received)
            if translated is not None:
                yield translated
    finally:
        subscriber.close()
