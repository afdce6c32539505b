"""The readiness controller: Knative's Broker, Trigger and EventType reconcilers, embedded.

On the embedded control plane nothing else reports readiness, so this controller writes the
statuses :mod:`.knative_status` computes. It is an ordinary API client, as Kubernetes'
controllers are: it lists and watches Brokers, EventTypes (the served version, v1beta2
preferred) and Triggers into its own cache, and writes through the ``status`` subresource.

Guarantees:

- a status is written only when it differs from the current one (``lastTransitionTime``
  ignored), so an idle cluster sees no writes from the controller;
- every status patch carries the ``metadata.resourceVersion`` of the object it was computed
  from; a write based on a stale read is refused (409) and redone from fresh state, so the
  controller never overwrites a status it has not seen (such as a Broker status someone
  patched by hand, which it leaves alone until the Broker's generation changes);
- every change of a Broker (including its deletion) re-evaluates the Broker and every
  EventType and Trigger carrying it; a change of an EventType or Trigger re-evaluates it;
- referents the controller does not watch (subscriber refs, EventType references to anything
  but a same-namespace Broker) are re-checked every ``resync_interval`` seconds;
- work is deduplicated per object (``(kind, namespace, name)``); failures are logged and the
  object retried with capped exponential backoff; an object deleted meanwhile is dropped;
- the worker starts once Brokers, EventTypes and Triggers have all been listed, so a missing
  Broker is never reported only because the cache was still empty.

Design: the controller keeps the raw objects next to the normalized ones (the domain models
lack ``generation``, ``spec.delivery`` and the address details). :class:`RawCache` is the
:class:`~event_registry.store.caching.Cache` fed by the reflectors, extended to remember the
raw JSON of each object before the change is announced, so listeners and the worker always
find the raw object matching the snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import random
from collections import deque
from collections.abc import Coroutine, Iterable, Mapping
from typing import Any

from ..cluster import errors
from ..cluster.kinds import BROKERS, EVENT_TYPE_VERSIONS, TRIGGERS, ResourceRef, event_types
from ..cluster.listwatching import ListerWatcher
from ..cluster.mapping import ApiClient, RestMapper
from ..cluster.reflecting import Backoff, Reflector, ReflectorSettings
from ..cluster.writing import Writer
from ..domain import models, normalizing
from ..store.caching import Cache, Change, ChangeType, Kind
from . import knative_status
from .knative_status import SubscriberResolution

log = logging.getLogger(__name__)

Key = tuple[Kind, str, str]
WATCHED: tuple[Kind, ...] = ("Broker", "EventType", "Trigger")
EVENTING_GROUP = models.EVENTING_GROUP


def now() -> str:
    """The current time as Kubernetes writes it (RFC 3339, seconds, UTC)."""
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _key_of(kind: Kind, raw: Mapping[str, Any]) -> Key:
    metadata = raw.get("metadata") or {}
    return (kind, str(metadata.get("namespace") or ""), str(metadata.get("name") or ""))


class RawCache(Cache):
    """A cache that also keeps each object's raw JSON, updated before listeners run."""

    def __init__(self) -> None:
        super().__init__()
        self._raw: dict[Key, Mapping[str, Any]] = {}
        self.listed = asyncio.Event()
        """Set once Brokers, EventTypes and Triggers have all been listed at least once."""

    def raw(self, kind: Kind, namespace: str, name: str) -> Mapping[str, Any] | None:
        return self._raw.get((kind, namespace, name))

    def set_synced(self, kind: Kind, synced: bool) -> None:
        super().set_synced(kind, synced)
        state = self.sync_state
        if all(state[watched] for watched in WATCHED):
            self.listed.set()

    def apply(self, kind: Kind, change_type: ChangeType, raw: Mapping[str, Any]) -> Change | None:
        key = _key_of(kind, raw)
        if change_type == "DELETED":
            self._raw.pop(key, None)
        else:
            self._raw[key] = raw
        return super().apply(kind, change_type, raw)

    def replace(self, kind: Kind, raws: Iterable[Mapping[str, Any]]) -> list[Change]:
        raws = list(raws)
        fresh = {_key_of(kind, raw): raw for raw in raws}
        for key in [key for key in self._raw if key[0] == kind and key not in fresh]:
            del self._raw[key]
        self._raw.update(fresh)
        return super().replace(kind, raws)


class WorkQueue:
    """A deduplicating FIFO of keys: a waiting key is queued once; a key added while it is
    being processed is processed once more afterwards."""

    def __init__(self) -> None:
        self._order: deque[Key] = deque()
        self._waiting: set[Key] = set()
        self._processing: set[Key] = set()
        self._again: set[Key] = set()
        self._wake = asyncio.Event()

    def add(self, key: Key) -> None:
        if key in self._processing:
            self._again.add(key)
        elif key not in self._waiting:
            self._waiting.add(key)
            self._order.append(key)
            self._wake.set()

    async def get(self) -> Key:
        while not self._order:
            self._wake.clear()
            await self._wake.wait()
        key = self._order.popleft()
        self._waiting.discard(key)
        self._processing.add(key)
        return key

    def done(self, key: Key) -> None:
        self._processing.discard(key)
        if key in self._again:
            self._again.discard(key)
            self.add(key)

    @property
    def idle(self) -> bool:
        return not self._order and not self._processing

    def __len__(self) -> int:
        return len(self._order)


def _refers_unwatched(model: models.EventType | models.Trigger) -> bool:
    if isinstance(model, models.Trigger):
        return model.subscriber.ref is not None
    return model.reference is not None and model.broker is None


class _Stale(Exception):
    """The object changed since it was read (409): redo it from the cache's newer state."""


class ReadinessController:
    def __init__(
        self,
        api_client: ApiClient,
        *,
        reflector_settings: ReflectorSettings | None = None,
        resync_interval: float = 10.0,
        retry_initial: float = 0.05,
        retry_max: float = 30.0,
    ) -> None:
        self._client = api_client
        self._settings = reflector_settings or ReflectorSettings()
        self._resync_interval = resync_interval
        self._retry_initial, self._retry_max = retry_initial, retry_max
        self.cache = RawCache()
        self.queue = WorkQueue()
        self._mapper = RestMapper(api_client)
        self._writer = Writer(api_client)
        self._event_types: ResourceRef | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._failures: dict[Key, int] = {}
        self._retries: dict[Key, asyncio.TimerHandle] = {}
        self.writes = 0
        """Status patches the API accepted (for tests and metrics)."""
        self._unwatched: set[Key] = set()
        self.cache.add_listener(self._on_change)

    # lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Start watching and working; returns at once (CRDs may be installed later)."""
        if self._tasks:
            return
        self._tasks = [
            self._spawn(self._reflect(BROKERS), "brokers"),
            self._spawn(self._reflect(TRIGGERS), "triggers"),
            self._spawn(self._reflect_event_types(), "eventtypes"),
            self._spawn(self._work(), "worker"),
            self._spawn(self._resync(), "resync"),
        ]

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for handle in self._retries.values():
            handle.cancel()
        self._retries.clear()

    def _spawn(self, coroutine: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        return asyncio.create_task(coroutine, name=f"readiness-{name}")

    # sync state (for tests) ----------------------------------------------------------------

    def synced(self) -> bool:
        """True while Brokers, EventTypes and Triggers are all synced (listed, not relisting)."""
        state = self.cache.sync_state
        return all(state[kind] for kind in WATCHED)

    async def wait_synced(self, timeout: float) -> bool:
        """True once the three kinds have been listed (False after ``timeout`` seconds)."""
        try:
            await asyncio.wait_for(self.cache.listed.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def wait_idle(self, timeout: float) -> bool:
        """True once the cache is synced and no work is queued, running or awaiting retry."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not (self.synced() and self.queue.idle and not self._retries):
            if asyncio.get_running_loop().time() >= deadline:
                return False
            await asyncio.sleep(0.02)
        return True

    # watching ----------------------------------------------------------------------------

    async def _reflect(self, resource: ResourceRef) -> None:
        await Reflector(ListerWatcher(self._client, resource), self.cache, self._settings).run()

    async def _reflect_event_types(self) -> None:
        backoff = Backoff(self._settings.backoff_initial, self._settings.backoff_max)
        while self._event_types is None:
            try:
                self._event_types = await self._served_event_types()
            except errors.ClusterError as error:
                log.warning("EventType discovery failed: %s", error)
            if self._event_types is None:
                await asyncio.sleep(backoff.next_delay())
        await self._reflect(self._event_types)

    async def _served_event_types(self) -> ResourceRef | None:
        for version in EVENT_TYPE_VERSIONS:
            if await self._mapper.resolve(f"{EVENTING_GROUP}/{version}", "EventType"):
                return event_types(version)
        return None

    def _on_change(self, change: Change) -> None:
        if change.kind in ("EventType", "Trigger"):
            key: Key = (change.kind, change.namespace, change.name)
            if change.new is not None and _refers_unwatched(change.new):
                self._unwatched.add(key)
            else:
                self._unwatched.discard(key)
        if change.type == "DELETED" and change.kind != "Broker":
            return
        if change.kind == "Broker":
            if change.type != "DELETED":
                self.queue.add(("Broker", change.namespace, change.name))
            old, new = change.old, change.new
            # An EventType's status follows its Broker's existence, a Trigger's its Broker's
            # readiness and address: a change of labels or annotations concerns neither, and
            # a Broker may carry thousands of EventTypes.
            appeared_or_vanished = old is None or new is None
            if appeared_or_vanished:
                snapshot = change.after
                for event_type in snapshot.event_types_of_broker(change.namespace, change.name):
                    self.queue.add(("EventType", event_type.meta.namespace, event_type.meta.name))
            if appeared_or_vanished or old.status != new.status or old.url != new.url:
                for trigger in change.after.triggers_of_broker(change.namespace, change.name):
                    self.queue.add(("Trigger", trigger.meta.namespace, trigger.meta.name))
        elif change.kind in ("EventType", "Trigger"):
            self.queue.add((change.kind, change.namespace, change.name))

    async def _resync(self) -> None:
        while True:
            await asyncio.sleep(self._resync_interval)
            for key in self.unwatched_referrers():
                self.queue.add(key)

    def unwatched_referrers(self) -> list[Key]:
        """Triggers with a subscriber ref and EventTypes referencing anything but a Broker of
        their namespace: their referents are not watched, so they are re-checked periodically.
        Kept up to date as changes arrive: a resync does not walk every object."""
        return sorted(self._unwatched)

    # working -----------------------------------------------------------------------------

    async def _work(self) -> None:
        await self.cache.listed.wait()
        while True:
            key = await self.queue.get()
            try:
                await self._reconcile(key)
            except asyncio.CancelledError:
                raise
            except _Stale:
                log.debug("%s %s/%s changed meanwhile; redoing it", *key)
                self._retry(key)
            except errors.ClusterError as error:
                log.warning("%s %s/%s: %s", *key, error)
                self._retry(key)
            except Exception:
                log.exception("%s %s/%s: reconcile failed", *key)
                self._retry(key)
            else:
                self._failures.pop(key, None)
            finally:
                self.queue.done(key)

    def _retry(self, key: Key) -> None:
        attempt = self._failures.get(key, 0)
        self._failures[key] = attempt + 1
        delay = min(self._retry_max, self._retry_initial * 2**attempt)
        delay *= random.uniform(0.5, 1.0)
        if (old := self._retries.pop(key, None)) is not None:
            old.cancel()

        def fire() -> None:
            self._retries.pop(key, None)
            self.queue.add(key)

        self._retries[key] = asyncio.get_running_loop().call_later(delay, fire)

    async def _reconcile(self, key: Key) -> None:
        kind, namespace, name = key
        raw = self.cache.raw(kind, namespace, name)
        if raw is None:
            return
        desired: dict[str, Any] | None
        if kind == "Broker":
            desired = await self._broker_status(raw)
            resource = BROKERS
        elif kind == "EventType":
            desired = await self._event_type_status(raw)
            resource = self._event_types or event_types()
        else:
            desired = await self._trigger_status(raw)
            resource = TRIGGERS
        current = raw.get("status")
        current = current if isinstance(current, Mapping) else {}
        if desired is None or not knative_status.status_differs(current, desired):
            return
        resource_version = str((raw.get("metadata") or {}).get("resourceVersion") or "")
        patch = {
            "metadata": {"resourceVersion": resource_version},
            "status": knative_status.status_patch(current, desired),
        }
        try:
            await self._writer.merge_patch(resource, namespace, name, patch, subresource="status")
        except errors.ClusterError as error:
            if error.code == 404:
                return
            if error.code == 409:
                raise _Stale from error
            raise
        self.writes += 1

    async def _broker_status(self, raw: Mapping[str, Any]) -> dict[str, Any] | None:
        if knative_status.broker_up_to_date(raw):
            return None
        sink = knative_status.dead_letter_sink_of(raw)
        namespace = str((raw.get("metadata") or {}).get("namespace") or "")
        resolution = await self._resolve_destination(sink, namespace) if sink else None
        return knative_status.broker_status(raw, now=now(), dead_letter_sink=resolution)

    async def _event_type_status(self, raw: Mapping[str, Any]) -> dict[str, Any] | None:
        event_type = normalizing.event_type(raw)
        if event_type.meta.deleting:
            return None
        namespace = event_type.meta.namespace
        reference, error = event_type.reference, ""
        exists: bool | None = True
        if reference is not None:
            exists, error = await self._reference_exists(reference, namespace)
        elif event_type.broker_name is not None:
            exists = self.cache.raw("Broker", namespace, event_type.broker_name) is not None
        return knative_status.event_type_status(
            event_type,
            reference_exists=exists,
            previous=raw.get("status"),
            now=now(),
            error=error,
        )

    async def _reference_exists(
        self, reference: models.Reference, namespace: str
    ) -> tuple[bool | None, str]:
        target_namespace = reference.namespace or namespace
        if reference.kind == "Broker" and reference.group == EVENTING_GROUP:
            return self.cache.raw("Broker", target_namespace, reference.name) is not None, ""
        try:
            resource = await self._mapper.resolve(reference.api_version, reference.kind)
            if resource is None:
                return False, ""  # the kind is not served: nothing of it exists
            found = await self._mapper.get(resource, target_namespace, reference.name)
        except errors.ClusterError as error:
            return None, str(error)
        return found is not None, ""

    async def _trigger_status(self, raw: Mapping[str, Any]) -> dict[str, Any] | None:
        trigger = normalizing.trigger(raw)
        if trigger.meta.deleting:
            return None
        namespace = trigger.meta.namespace
        broker = self.cache.raw("Broker", namespace, trigger.broker) if trigger.broker else None
        subscriber, sink = SubscriberResolution(), None
        if knative_status.broker_ready(broker):
            spec = raw.get("spec") or {}
            destination = spec.get("subscriber") if isinstance(spec, Mapping) else None
            subscriber = await self._resolve_destination(
                destination if isinstance(destination, Mapping) else {}, namespace
            )
            own_sink = knative_status.dead_letter_sink_of(raw)
            if own_sink is not None:
                sink = await self._resolve_destination(own_sink, namespace)
        return knative_status.trigger_status(
            trigger,
            broker=broker,
            subscriber=subscriber,
            previous=raw.get("status"),
            now=now(),
            dead_letter_sink=sink,
        )

    async def _resolve_destination(
        self, destination: Mapping[str, Any], namespace: str
    ) -> SubscriberResolution:
        """Resolve a Destination ``{ref, uri}`` as Knative's URIResolver does."""
        ref = normalizing.reference(destination.get("ref"))
        uri = destination.get("uri")
        uri = uri if isinstance(uri, str) and uri else None
        if ref is None:
            return knative_status.resolve_uri(uri)
        target_namespace = ref.namespace or namespace
        try:
            resource = await self._mapper.resolve(ref.api_version, ref.kind)
            found = (
                await self._mapper.get(resource, target_namespace, ref.name) if resource else None
            )
        except errors.ClusterError as error:
            return SubscriberResolution(
                error=f"failed to get object {target_namespace}/{ref.name}: {error}"
            )
        if found is None:
            plural = resource.plural if resource is not None else None
            return knative_status.object_missing(ref, target_namespace, plural)
        return knative_status.resolve_object(ref, target_namespace, found, uri)
