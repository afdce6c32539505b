"""The readiness controller: Knative's Broker, Trigger and EventType reconcilers, embedded.

On the embedded control plane nothing else reports readiness, so this controller writes the
statuses :mod:`.knative_status` computes. It is an ordinary API client, as Kubernetes'
controllers are: with the registry's own :class:`~event_registry.cluster.informing.Informer`
it lists and watches Brokers, EventTypes (the served version, v1beta2 preferred) and Triggers
into its own cache, and it writes through the ``status`` subresource.

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
  Broker is never reported only because the cache was still empty;
- given an :class:`~event_registry.cluster.recording.EventRecorder`, it records a Kubernetes
  Event on an EventType, Broker or Trigger when its readiness verdict changes
  (:mod:`.reporting`: ``Ready``, ``BrokerNotReady``, ``BrokerDoesNotExist``, ...), never on a
  resync or for
  objects it finds when it starts; recording never delays or fails reconciling.

Design: the controller keeps the raw objects next to the normalized ones (the domain models
lack ``generation``, ``spec.delivery`` and the address details): its informer feeds a
:class:`~event_registry.cluster.raw.RawObjects` store with each event before its cache, so
cache listeners and the worker always find the raw object matching the snapshot.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections.abc import Mapping
from typing import Any

from ..cluster import errors
from ..cluster.client import ClusterClient
from ..cluster.informing import EVENT_TYPES, Informer
from ..cluster.kinds import BROKERS, TRIGGERS, event_types
from ..cluster.raw import RawObjects
from ..cluster.recording import EventRecorder
from ..cluster.reflecting import ReflectorSettings
from ..domain import models, normalizing
from ..knative.vocabulary import BROKER
from ..store.caching import Cache, Change, Kind
from ..store.snapshots import Snapshot
from . import knative_status, reporting
from .knative_status import SubscriberResolution
from .queueing import WorkQueue
from .tasks import ControllerTasks

log = logging.getLogger(__name__)

Key = tuple[Kind, str, str]
WATCHED: tuple[Kind, ...] = ("Broker", "EventType", "Trigger")


def now() -> str:
    """The current time as Kubernetes writes it (RFC 3339, seconds, UTC)."""
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _refers_unwatched(model: models.EventType | models.Trigger) -> bool:
    if isinstance(model, models.Trigger):
        return model.subscriber.ref is not None
    return model.reference is not None and model.broker is None


class _Stale(Exception):
    """The object changed since it was read (409): redo it from the cache's newer state."""


class ReadinessController:
    def __init__(
        self,
        client: ClusterClient,
        *,
        reflector_settings: ReflectorSettings | None = None,
        discovery_interval: float = 1.0,
        resync_interval: float = 10.0,
        retry_initial: float = 0.05,
        retry_max: float = 30.0,
        ingress: str | None = None,
        events: EventRecorder | None = None,
    ) -> None:
        self._client = client
        self._ingress = ingress
        self._events = events
        self._verdicts = reporting.Transitions()
        """The embedded Broker ingress' base URL when it runs (Brokers' addresses)."""
        self._resync_interval = resync_interval
        self.cache = Cache()
        self.raw = RawObjects()
        self.informer = Informer(
            client,
            self.cache,
            resources=(BROKERS, EVENT_TYPES, TRIGGERS),
            raw=self.raw,
            settings=reflector_settings,
            discovery_interval=discovery_interval,
        )
        self.queue: WorkQueue[Key] = WorkQueue(retry_initial=retry_initial, retry_max=retry_max)
        self._tasks = ControllerTasks("readiness")
        self.writes = 0
        """Status patches the API accepted (for tests and metrics)."""
        self._unwatched: set[Key] = set()
        self.cache.add_listener(self._on_change)

    # lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Start watching and working; returns at once (CRDs may be installed later)."""
        if self._tasks.running:
            return
        await self.informer.start()
        self._tasks.start(worker=self._work(), resync=self._resync())

    async def stop(self) -> None:
        await self.informer.stop()
        await self._tasks.stop()
        self.queue.close()

    # sync state (for tests) ----------------------------------------------------------------

    def synced(self) -> bool:
        """True while Brokers, EventTypes and Triggers are all synced (listed, not relisting)."""
        state = self.cache.sync_state
        return all(state[kind] for kind in WATCHED)

    async def wait_synced(self, timeout: float) -> bool:
        """True once the three kinds have been listed (False after ``timeout`` seconds)."""
        return await self.informer.wait_synced(timeout)

    async def wait_idle(self, timeout: float) -> bool:
        """True once the cache is synced and no work is queued, running or awaiting retry."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not (self.synced() and self.queue.idle):
            if asyncio.get_running_loop().time() >= deadline:
                return False
            await asyncio.sleep(0.02)
        return True

    # watching ----------------------------------------------------------------------------

    def _on_change(self, change: Change) -> None:
        self._report(change)
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

    def _report(self, change: Change) -> None:
        """Record an Event for each readiness verdict the change alters (see :mod:`.reporting`)."""
        if self._events is None or change.kind == "Namespace":
            return
        quietly = not self.synced()  # listing at start (or relisting): not news
        key = (change.kind, change.namespace, change.name)
        if change.new is None:
            self._verdicts.forget(key)
        elif change.kind == "EventType":
            self._report_event_type(change.new, change.after, quietly)
            return
        else:
            self._record(key, reporting.own_verdict(change.kind, change.new), quietly)
        if change.kind == "Broker":
            for event_type in change.after.event_types_of_broker(change.namespace, change.name):
                self._report_event_type(event_type, change.after, quietly)

    def _report_event_type(
        self, event_type: models.EventType, snapshot: Snapshot, quietly: bool
    ) -> None:
        verdict = reporting.event_type_verdict(event_type, snapshot.broker_of(event_type))
        self._record(
            ("EventType", event_type.meta.namespace, event_type.meta.name), verdict, quietly
        )

    def _record(self, key: Key, verdict: reporting.Verdict | None, quietly: bool) -> None:
        if self._events is None or not self._verdicts.changed(key, verdict, quietly=quietly):
            return
        raw = self.raw.get(*key)
        if raw is not None and verdict is not None:
            self._events.record(raw, verdict.type, verdict.reason, verdict.message)

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
        await self.informer.listed()
        while True:
            key = await self.queue.get()
            try:
                await self._reconcile(key)
            except asyncio.CancelledError:
                raise
            except _Stale:
                log.debug("%s %s/%s changed meanwhile; redoing it", *key)
                self.queue.retry(key)
            except errors.ClusterError as error:
                log.warning("%s %s/%s: %s", *key, error)
                self.queue.retry(key)
            except Exception:
                log.exception("%s %s/%s: reconcile failed", *key)
                self.queue.retry(key)
            else:
                self.queue.forget(key)
            finally:
                self.queue.done(key)

    async def _reconcile(self, key: Key) -> None:
        kind, namespace, name = key
        raw = self.raw.get(kind, namespace, name)
        if raw is None:
            return
        desired: dict[str, Any] | None
        if kind == "Broker":
            desired = await self._broker_status(raw)
            resource = BROKERS
        elif kind == "EventType":
            desired = await self._event_type_status(raw)
            resource = self.informer.resources.get("EventType") or event_types()
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
            await self._client.merge_patch(resource, namespace, name, patch, subresource="status")
        except errors.NotFound:
            return
        except errors.Conflict as error:
            raise _Stale from error
        self.writes += 1

    async def _broker_status(self, raw: Mapping[str, Any]) -> dict[str, Any] | None:
        if knative_status.broker_up_to_date(raw):
            return knative_status.broker_address_update(raw, self._ingress)
        sink = knative_status.dead_letter_sink_of(raw)
        namespace = str((raw.get("metadata") or {}).get("namespace") or "")
        resolution = await self._resolve_destination(sink, namespace) if sink else None
        return knative_status.broker_status(
            raw, now=now(), dead_letter_sink=resolution, ingress=self._ingress
        )

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
            exists = self.raw.get("Broker", namespace, event_type.broker_name) is not None
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
        if reference.kind == BROKER.kind and reference.group == BROKER.group:
            return self.raw.get("Broker", target_namespace, reference.name) is not None, ""
        try:
            mapper = self._client.rest_mapper
            resource = await mapper.resolve(reference.api_version, reference.kind)
            if resource is None:
                return False, ""  # the kind is not served: nothing of it exists
            found = await self._client.find(resource, target_namespace, reference.name)
        except errors.ClusterError as error:
            return None, str(error)
        return found is not None, ""

    async def _trigger_status(self, raw: Mapping[str, Any]) -> dict[str, Any] | None:
        trigger = normalizing.trigger(raw)
        if trigger.meta.deleting:
            return None
        namespace = trigger.meta.namespace
        broker = self.raw.get("Broker", namespace, trigger.broker) if trigger.broker else None
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
            resource = await self._client.rest_mapper.resolve(ref.api_version, ref.kind)
            found = (
                await self._client.find(resource, target_namespace, ref.name) if resource else None
            )
        except errors.ClusterError as error:
            return SubscriberResolution(
                error=f"failed to get object {target_namespace}/{ref.name}: {error}"
            )
        if found is None:
            plural = resource.plural if resource is not None else None
            return knative_status.object_missing(ref, target_namespace, plural)
        return knative_status.resolve_object(ref, target_namespace, found, uri)
