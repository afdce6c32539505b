"""The EventTypes the events seen call for, created in the background (Knative's
``EventTypeAutoHandler``, with limits).

For each accepted event, while ``eventtype-auto-create`` is on: the EventType named by
:func:`~.naming.event_type_name` is created unless the cache an informer keeps has it, within
the :mod:`.limits`. The EventType is Knative's: v1beta3, owned by the Broker (ownerReference
with its uid, so it goes when the Broker goes), referencing it, with Knative's attributes
(``type``, ``source``, ``schemadata`` and ``specversion`` pinned, ``id`` required) and the
description ``vocabulary.AUTO_CREATED_DESCRIPTION``.

Guarantees:

- :meth:`AutoCreator.saw` never blocks and never raises: the answer to the sender does not wait
  for the API; creations run one at a time from a bounded queue;
- no duplicate: an EventType in the cache, or queued and not in the cache yet (for at most
  ``RECENT`` seconds), is not queued again, and since names are deterministic a create
  racing another is an AlreadyExists; an auto-created EventType someone deletes comes back
  with the next event of its type, as in Knative;
- a type whose creation failed otherwise (API unreachable, refused) is forgotten, so the next
  event of that type tries again (within the limits);
- the per-namespace count is the auto-created EventTypes in the cache plus those queued in
  the last ``RECENT`` seconds the cache does not show yet.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..cluster import errors, kinds
from ..cluster.client import ClusterClient
from ..domain import models
from ..knative import vocabulary
from ..store.caching import Cache, Change
from .events import SeenEvent
from .limits import IngressSettings, SlidingWindow
from .naming import event_type_name, is_auto_created

log = logging.getLogger(__name__)

EVENT_TYPES = kinds.event_types("v1beta3")
RECENT = 60.0
"""Seconds an EventType queued by this ingress counts as existing until the cache shows it
(its creation under way, or its watch event not arrived yet)."""


@dataclass(frozen=True, slots=True)
class Wanted:
    """An EventType to create."""

    namespace: str
    name: str
    broker: models.Broker
    event: SeenEvent


def manifest(wanted: Wanted) -> dict[str, Any]:
    """The EventType Knative's ingress creates for an event (omitted: empty values)."""
    broker, event = wanted.broker, wanted.event
    ref = {
        "apiVersion": vocabulary.BROKER.api_version,
        "kind": vocabulary.BROKER.kind,
        "name": broker.meta.name,
    }
    pinned = [
        ("type", event.type),
        ("source", event.source),
        ("schemadata", event.dataschema),
        ("specversion", event.specversion),
        ("id", ""),
    ]
    attributes = [
        {"name": name, **({"value": value} if value else {}), "required": True}
        for name, value in pinned
    ]
    return {
        "apiVersion": vocabulary.EVENT_TYPE.api_version_of("v1beta3"),
        "kind": vocabulary.EVENT_TYPE.kind,
        "metadata": {
            "name": wanted.name,
            "namespace": wanted.namespace,
            "ownerReferences": [{**ref, "uid": broker.meta.uid}],
        },
        "spec": {
            "reference": {**ref, "namespace": wanted.namespace},
            "description": vocabulary.AUTO_CREATED_DESCRIPTION,
            "attributes": attributes,
        },
    }


class AutoCreator:
    def __init__(
        self,
        client: ClusterClient,
        cache: Cache,
        settings: IngressSettings,
        *,
        enabled: Callable[[], bool],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._cache = cache
        self._settings = settings
        self._enabled = enabled
        self._clock = clock
        self._per_broker = SlidingWindow(settings.per_broker_per_minute)
        self._pruned = clock()
        self._recent: dict[str, dict[str, float]] = {}
        """Per namespace: names queued → when; dropped once the cache shows them, or after
        ``RECENT`` seconds."""
        cache.add_listener(self._on_change)
        self._queue: asyncio.Queue[Wanted] = asyncio.Queue(maxsize=settings.pending_limit)
        self._task: asyncio.Task[None] | None = None
        self.created = 0
        """EventTypes this ingress created (for tests and benches)."""
        self.skipped = 0
        """New types not registered because a limit was reached."""

    # lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self._work(), name="ingress-autocreate")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    # deciding ----------------------------------------------------------------------------

    def _on_change(self, change: Change) -> None:
        """An EventType the cache shows needs no memory of its own any more (and when it is
        deleted later, the next event of its type creates it again)."""
        if change.kind == "EventType" and change.new is not None:
            queued = self._recent.get(change.namespace)
            if queued:
                queued.pop(change.name, None)

    def saw(self, broker: models.Broker, event: SeenEvent) -> None:
        """An event was accepted for ``broker``: queue its EventType if it is new and allowed."""
        if not self._enabled():
            return
        namespace = broker.meta.namespace
        name = event_type_name(broker.meta.name, namespace, event.type, event.source)
        if self._cache.snapshot.event_type(namespace, name) is not None:
            return  # registered already (Knative asks its lister the same)
        now, limits = self._clock(), self._settings
        created_at = self._recent.get(namespace, {}).get(name)
        if created_at is not None and now - created_at < RECENT:
            return  # being created, or created and not in the cache yet
        if now - self._pruned > self._per_broker.window:
            self._per_broker.forget_idle(now)
            self._pruned = now
        if not self._per_broker.admit((namespace, broker.meta.name), now):
            self._skip(
                "Broker %s/%s reached %d new types a minute",
                namespace,
                broker.meta.name,
                limits.per_broker_per_minute,
            )
            return
        count = self._auto_created_count(namespace, now)
        if count >= limits.per_namespace:
            self._skip("namespace %s holds %d auto-created EventTypes", namespace, count)
            return
        try:
            self._queue.put_nowait(Wanted(namespace, name, broker, event))
        except asyncio.QueueFull:
            self._skip("%d EventTypes already wait to be created", self._queue.qsize())
            return
        self._recent.setdefault(namespace, {})[name] = now

    def _skip(self, why: str, *args: Any) -> None:
        self.skipped += 1
        log.debug("EventType not auto-created: " + why, *args)

    def _auto_created_count(self, namespace: str, now: float) -> int:
        snapshot = self._cache.snapshot
        recent = self._recent.get(namespace, {})
        for name in [n for n, t in recent.items() if now - t >= RECENT]:
            del recent[name]
        in_cache = {
            et.meta.name for et in snapshot.event_types_in(namespace) if is_auto_created(et)
        }
        return len(in_cache | recent.keys())

    # creating ----------------------------------------------------------------------------

    async def _work(self) -> None:
        while True:
            wanted = await self._queue.get()
            try:
                await self._create(wanted)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("auto-creating EventType %s/%s failed", wanted.namespace, wanted.name)
                self._forget(wanted)

    async def _create(self, wanted: Wanted) -> None:
        try:
            await self._client.create(EVENT_TYPES, wanted.namespace, manifest(wanted))
        except errors.AlreadyExists:
            return
        except errors.ClusterError as error:
            log.warning("auto-creating EventType %s/%s: %s", wanted.namespace, wanted.name, error)
            self._forget(wanted)
            return
        self.created += 1
        log.info(
            "auto-created EventType %s/%s for type %r from %r",
            wanted.namespace,
            wanted.name,
            wanted.event.type,
            wanted.event.source,
        )

    def _forget(self, wanted: Wanted) -> None:
        self._recent.get(wanted.namespace, {}).pop(wanted.name, None)
