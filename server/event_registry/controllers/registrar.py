"""The source registrar: sources whose sink is a Broker register the EventTypes they produce.

Knative's source EventType reconciler (knative/eventing ``pkg/reconciler/source/duck``) as an
ordinary API client: it reaches the cluster only through a
:class:`~event_registry.cluster.client.ClusterClient`, so it runs against the embedded control
plane (wired in :mod:`event_registry.embedded`) or any cluster whose credentials allow
watching CRDs, the source kinds and EventTypes and creating and deleting EventTypes (only
the embedded plane is tested). What a source produces, and how that differs from Knative, is
:mod:`.source_eventtypes`; this module watches and writes.

With the registry's :class:`~event_registry.cluster.informing.Informer` it watches, into raw
stores only (``raw_only``): CustomResourceDefinitions and each source kind a CRD announces
(labelled ``duck.knative.dev/source: "true"`` with a ``registry.knative.dev/eventTypes``
annotation), the moment that CRD appears: built-in PingSource, ApiServerSource and
GitHubSource, and any source CRD a user applies later. EventTypes (v1beta2, the version it
writes and compares) come from the informer it is given (``event_types=``: on the embedded
plane the readiness controller's, which already keeps them raw, so they are listed and held
once), else from one more raw-only watch of its own.

Guarantees:

- a source is reconciled whenever it changes, its CRD's annotation changes, or one of its
  EventTypes changes or disappears (so one deleted by hand is registered again, as Knative's
  ``EnqueueControllerOf`` does); a source's EventTypes go when it goes, by the API server's
  ownerReference garbage collection (nothing here deletes on a source's deletion);
- "its EventTypes" are found deterministically: labelled ``eventing.knative.dev/sourceName``
  with its name *and* controlled by its uid; names are deterministic in the source's uid and
  the spec, so a create retried after a lost answer, a crash or a restart is refused as
  AlreadyExists instead of making a duplicate; an EventType created and not yet seen by the
  watch counts as present until the watch shows it (at most ``pending_ttl`` seconds), so a
  reconcile racing its own watch creates nothing twice;
- the worker starts only once CRDs, EventTypes and the source kinds known at start have been
  listed, so a restart never mistakes "not listed yet" for "missing";
- work is deduplicated per source (``(kind, namespace, name)``); a failed reconcile is logged
  and retried with capped exponential backoff; a source deleted meanwhile is dropped;
- nothing is written when nothing differs (an idle cluster sees no writes); the source's own
  status is never written (the registrar does not control sources);
- given an :class:`~event_registry.cluster.recording.EventRecorder`, each EventType it creates
  or deletes is told on the source as a Kubernetes Event (``EventTypeCreated``,
  ``EventTypeDeleted``), so ``kubectl describe`` of the source shows what it registered.

Against a cluster whose source controllers report ``status.ceAttributes``, construct it with
``derive=False``: it then follows Knative's reconciler exactly (a Knative reconciler running
beside it sees its EventTypes as its own, same label and controller, and keeps them when the
specs agree). Only the embedded control plane wires it (:mod:`event_registry.embedded`).

A CRD that stops being a source kind stops being reconciled; its reflector is not stopped
(the informer has no way to), it keeps retrying with backoff while the kind is not served.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..cluster import errors
from ..cluster.client import ClusterClient
from ..cluster.informing import Informer
from ..cluster.kinds import ResourceRef
from ..cluster.raw import RawObjects
from ..cluster.recording import EventRecorder
from ..cluster.reflecting import ReflectorSettings
from ..knative import vocabulary as kn
from ..store.caching import Cache, Change
from . import source_eventtypes as produced
from .queueing import WorkQueue
from .tasks import ControllerTasks

log = logging.getLogger(__name__)

Raw = Mapping[str, Any]
SourceKey = tuple[str, str, str]
"""(source kind, namespace, name)."""
OnChange = Callable[[str, Raw | None, Raw | None], None]


CRDS = ResourceRef.of(kn.CUSTOM_RESOURCE_DEFINITION)
EVENT_TYPES = ResourceRef.of(kn.EVENT_TYPE)
"""EventTypes in their storage version v1beta2: the version written, read and compared."""


class ObservedObjects(RawObjects):
    """Raw objects that report each change (old, new) to ``on_change`` once applied."""

    def __init__(self, on_change: OnChange) -> None:
        super().__init__()
        self._on_change = on_change

    def apply(self, kind: str, change_type: str, raw: Raw) -> None:
        key = self._key(kind, raw)
        old = self.get(*key)
        super().apply(kind, change_type, raw)
        self._on_change(kind, old, None if change_type == "DELETED" else raw)

    def replace(self, kind: str, raws: Iterable[Raw]) -> None:
        fresh = list(raws)
        before = {self._key(kind, raw): raw for raw in self.of_kind(kind)}
        super().replace(kind, fresh)
        after = {self._key(kind, raw): raw for raw in fresh}
        for key in before.keys() | after.keys():
            old, new = before.get(key), after.get(key)
            if old is not new:
                self._on_change(kind, old, new)

    @staticmethod
    def _key(kind: str, raw: Raw) -> tuple[str, str, str]:
        metadata = raw.get("metadata")
        metadata = metadata if isinstance(metadata, Mapping) else {}
        return (kind, str(metadata.get("namespace") or ""), str(metadata.get("name") or ""))


def _metadata(raw: Raw) -> Raw:
    metadata = raw.get("metadata")
    return metadata if isinstance(metadata, Mapping) else {}


def _controller_owner(event_type: Raw) -> tuple[str, str] | None:
    """(kind, uid) of the EventType's controller owner, when it carries the source label."""
    metadata = _metadata(event_type)
    labels = metadata.get("labels")
    if not isinstance(labels, Mapping) or kn.SOURCE_NAME_LABEL not in labels:
        return None
    for owner in metadata.get("ownerReferences") or ():
        if isinstance(owner, Mapping) and owner.get("controller") is True:
            return str(owner.get("kind") or ""), str(owner.get("uid") or "")
    return None


class SourceRegistrar:
    def __init__(
        self,
        client: ClusterClient,
        *,
        event_types: Informer | None = None,
        derive: bool = True,
        reflector_settings: ReflectorSettings | None = None,
        discovery_interval: float = 1.0,
        retry_initial: float = 0.05,
        retry_max: float = 30.0,
        pending_ttl: float = 30.0,
        events: EventRecorder | None = None,
    ) -> None:
        self._client = client
        self._events = events
        self._derive = derive
        """Derive what a source emits from its spec while no controller reports
        ``status.ceAttributes`` (see :mod:`.source_eventtypes`)."""
        self._discovery_interval = discovery_interval
        self._pending_ttl = pending_ttl
        self.raw = ObservedObjects(self._on_change)
        self.informer = Informer(
            client, Cache(), resources=(), raw=self.raw, settings=reflector_settings
        )
        self._shared = event_types
        """An informer keeping EventTypes raw (the readiness controller's), or None."""
        self._event_types: RawObjects = self.raw
        self.queue: WorkQueue[SourceKey] = WorkQueue(
            retry_initial=retry_initial, retry_max=retry_max
        )
        self.kinds: dict[str, produced.SourceKind] = {}
        """Source kinds by kind name, as their CRDs announce them now."""
        self._crd_of_kind: dict[str, str] = {}
        self._by_owner: dict[str, set[tuple[str, str]]] = {}
        """EventTypes (namespace, name) by their controller owner's uid (labelled ones)."""
        self._owner_of: dict[tuple[str, str], str] = {}
        self._pending: dict[tuple[str, str], tuple[str, Raw, float]] = {}
        """Created, not yet watched: (namespace, name) → (owner uid, object, deadline)."""
        self._uids: dict[str, SourceKey] = {}
        self._tasks = ControllerTasks("registrar")
        self.creates = 0
        self.deletes = 0
        """EventTypes the API created and deleted for the registrar (for tests and metrics)."""
        if event_types is not None:
            if event_types.raw is None:
                raise ValueError("event_types must be an informer with a raw store")
            self._event_types = event_types.raw
            event_types.cache.add_listener(self._on_shared_change)
            for raw in self._event_types.of_kind(EVENT_TYPES.kind):  # listed before we listened
                metadata = _metadata(raw)
                where = (str(metadata.get("namespace") or ""), str(metadata.get("name") or ""))
                self._event_type_changed(*where, raw)

    # lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Start watching and working; returns at once (Knative may be installed later)."""
        if self._tasks.running:
            return
        await self.informer.start()
        self._tasks.start(worker=self._run())

    async def stop(self) -> None:
        await self.informer.stop()
        await self._tasks.stop()
        self.queue.close()

    async def wait_idle(self, timeout: float) -> bool:
        """True once everything is listed and no work is queued, running or awaiting retry."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not (self._listed() and self.queue.idle):
            if asyncio.get_running_loop().time() >= deadline:
                return False
            await asyncio.sleep(0.02)
        return True

    def _listed(self) -> bool:
        informers = [self.informer] if self._shared is None else [self.informer, self._shared]
        watched = {kind for informer in informers for kind in informer.reflectors}
        return {CRDS.kind, EVENT_TYPES.kind} <= watched and all(
            reflector.listed.is_set()
            for informer in informers
            for reflector in informer.reflectors.values()
        )

    # watching ----------------------------------------------------------------------------

    async def _run(self) -> None:
        self.informer.watch(CRDS, raw_only=True)
        if self._shared is not None:
            await self._shared.listed()
        else:
            while True:  # a cluster without Knative Eventing serves no EventTypes yet
                if await self._event_types_served():
                    break
                await asyncio.sleep(self._discovery_interval)
            self.informer.watch(EVENT_TYPES, raw_only=True)
        watching = -1
        while watching != len(self.informer.reflectors):  # source kinds the CRD list announced
            watching = len(self.informer.reflectors)
            await self.informer.listed()
        await self._work()

    async def _event_types_served(self) -> bool:
        try:
            mapper = self._client.rest_mapper
            return await mapper.resolve(EVENT_TYPES.api_version, EVENT_TYPES.kind) is not None
        except errors.ClusterError as error:
            log.warning("discovering %s failed: %s; retrying", EVENT_TYPES.plural, error)
            return False

    def _on_change(self, kind: str, old: Raw | None, new: Raw | None) -> None:
        if kind == CRDS.kind:
            self._crd_changed(old, new)
        elif kind == EVENT_TYPES.kind:
            current = new if new is not None else old
            assert current is not None
            metadata = _metadata(current)
            namespace, name = str(metadata.get("namespace") or ""), str(metadata.get("name") or "")
            self._event_type_changed(namespace, name, new)
        elif kind in self.kinds:
            self._source_changed(kind, old, new)

    def _on_shared_change(self, change: Change) -> None:
        if change.kind != EVENT_TYPES.kind:
            return
        # The shared informer updates its raw store before its cache: this is change.new.
        found = self._event_types.get(EVENT_TYPES.kind, change.namespace, change.name)
        self._event_type_changed(
            change.namespace, change.name, found if change.new is not None else None
        )

    def _crd_changed(self, old: Raw | None, new: Raw | None) -> None:
        name = str(_metadata(new or old or {}).get("name") or "")
        found = produced.source_kind(new) if new is not None else None
        previous = next((k for k, crd in self._crd_of_kind.items() if crd == name), None)
        if previous is not None and (found is None or found.kind != previous):
            self.kinds.pop(previous, None)
            self._crd_of_kind.pop(previous, None)
        if found is None:
            return
        if self._crd_of_kind.get(found.kind, name) != name:
            log.warning("CRD %s defines %s, already a source kind; ignored", name, found.kind)
            return
        if found.annotation_error:
            log.warning("CRD %s: %s", name, found.annotation_error)
        before = self.kinds.get(found.kind)
        self.kinds[found.kind] = found
        self._crd_of_kind[found.kind] = name
        watched = self.informer.resources.get(found.kind)
        resource = ResourceRef(found.kind, found.group, found.version, found.plural)
        if watched is None:
            log.info("watching source kind %s as %s", found.plural, found.api_version)
            self.informer.watch(resource, raw_only=True)
        elif before != found:
            if watched != resource:
                log.warning("%s: now served as %s; still watched as %s", found.kind,
                            resource.api_version, watched.api_version)  # fmt: skip
            for source in self.raw.of_kind(found.kind):
                self.queue.add(self._source_key(found.kind, source))

    def _source_changed(self, kind: str, old: Raw | None, new: Raw | None) -> None:
        current = new if new is not None else old
        assert current is not None
        key = self._source_key(kind, current)
        uid = str(_metadata(current).get("uid") or "")
        if new is None:
            self._uids.pop(uid, None)
            return  # garbage collection deletes its EventTypes
        if uid:
            self._uids[uid] = key
        self.queue.add(key)

    def _event_type_changed(self, namespace: str, name: str, new: Raw | None) -> None:
        """Index the EventType by its controller owner; reconcile that source (old and new)."""
        where = (namespace, name)
        self._pending.pop(where, None)
        old_uid = self._owner_of.pop(where, None)
        if old_uid is not None:
            owned = self._by_owner.get(old_uid, set())
            owned.discard(where)
            if not owned:
                self._by_owner.pop(old_uid, None)
        owner = _controller_owner(new) if new is not None else None
        new_uid = owner[1] if owner is not None else None
        if new_uid is not None:
            self._owner_of[where] = new_uid
            self._by_owner.setdefault(new_uid, set()).add(where)
        for uid in (old_uid, new_uid):
            if uid is not None and (key := self._uids.get(uid)) is not None:
                self.queue.add(key)

    @staticmethod
    def _source_key(kind: str, raw: Raw) -> SourceKey:
        metadata = _metadata(raw)
        return (kind, str(metadata.get("namespace") or ""), str(metadata.get("name") or ""))

    # working -----------------------------------------------------------------------------

    async def _work(self) -> None:
        while True:
            key = await self.queue.get()
            try:
                await self.reconcile(key)
            except asyncio.CancelledError:
                raise
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

    def registered(self, source: Raw) -> list[Raw]:
        """The EventTypes registered for ``source``: watched, or created and not yet watched."""
        metadata = _metadata(source)
        namespace, name = str(metadata.get("namespace") or ""), str(metadata.get("name") or "")
        uid = str(metadata.get("uid") or "")
        found: dict[tuple[str, str], Raw] = {}
        for where in self._by_owner.get(uid, ()):
            raw = self._event_types.get(EVENT_TYPES.kind, *where)
            if raw is not None and produced.registered_by(raw, name, uid):
                found[where] = raw
        now = asyncio.get_running_loop().time()
        for where, (owner, raw, deadline) in list(self._pending.items()):
            if deadline < now:
                del self._pending[where]
            elif owner == uid and where[0] == namespace:
                found.setdefault(where, raw)
        return list(found.values())

    async def reconcile(self, key: SourceKey) -> None:
        kind_name, namespace, name = key
        source = self.raw.get(kind_name, namespace, name)
        kind = self.kinds.get(kind_name)
        if source is None or kind is None:
            return
        if self._shared is not None:
            watched = self._shared.resources.get(EVENT_TYPES.kind)
            if watched is not None and watched.version != EVENT_TYPES.version:
                log.warning("EventTypes are watched as %s, not %s: %s %s/%s left alone",
                            watched.api_version, EVENT_TYPES.api_version, *key)  # fmt: skip
                return
        expected = produced.expected_event_types(source, kind, derive=self._derive)
        change = produced.diff(self.registered(source), expected)
        for stale in change.delete:
            with contextlib.suppress(errors.NotFound):
                await self._client.delete(EVENT_TYPES, namespace, stale)
            self._pending.pop((namespace, stale), None)
            self.deletes += 1
            log.info("%s %s/%s: deleted EventType %s", kind_name, namespace, name, stale)
            if self._events is not None:
                message = f"EventType {stale} deleted: the source no longer produces its events"
                self._events.record(source, "Normal", "EventTypeDeleted", message)
        for wanted in change.create:
            creates = self.creates
            created = await self._create(wanted, source, kind)
            if self._events is not None and self.creates > creates:
                message = (
                    f"EventType {_metadata(created).get('name')} created for events of type "
                    f"{wanted.type}"
                )
                self._events.record(source, "Normal", "EventTypeCreated", message)
            uid = str(_metadata(source).get("uid") or "")
            where = (namespace, str(_metadata(created).get("name") or ""))
            if self._event_types.get(EVENT_TYPES.kind, *where) is None:
                deadline = asyncio.get_running_loop().time() + self._pending_ttl
                self._pending[where] = (uid, created, deadline)
            log.info("%s %s/%s: registered %s as %s", kind_name, namespace, name, wanted.type,
                     where[1])  # fmt: skip

    async def _create(
        self, wanted: produced.Expected, source: Raw, kind: produced.SourceKind
    ) -> Raw:
        """Create the EventType; when its name is taken, take the existing one if it is ours
        (a create retried after its answer was lost), else create it under a generated name."""
        manifest = produced.manifest(wanted, source, kind)
        metadata = manifest["metadata"]
        namespace = metadata["namespace"]
        try:
            created = await self._client.create(EVENT_TYPES, namespace, manifest)
        except errors.AlreadyExists:
            existing = await self._client.find(EVENT_TYPES, namespace, metadata["name"])
            source_meta = _metadata(source)
            if existing is not None and produced.registered_by(
                existing, str(source_meta.get("name") or ""), str(source_meta.get("uid") or "")
            ):
                return existing
            log.warning(
                "EventType %s/%s exists and is not %s's; registering under a generated name",
                namespace,
                metadata["name"],
                source_meta.get("name"),
            )
            generated = produced.manifest(wanted, source, kind, generate=True)
            created = await self._client.create(EVENT_TYPES, namespace, generated)
        self.creates += 1
        return created
