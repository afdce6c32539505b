"""The informer: one reflector per watched resource, all feeding one sink, for everyone.

The registry watches Namespaces, Brokers, EventTypes and Triggers into its cache; the
readiness controller watches Brokers, EventTypes and Triggers into a cache of its own and
keeps their raw JSON beside it (``raw=``, see :mod:`.raw`); a controller may also watch
kinds it discovers while running (:meth:`Informer.watch`), and kinds the cache has no model
of into its raw store alone (``raw_only=True``: issue 14's registrar watches the source
kinds its CRDs announce that way).

Guarantees:

- resources are given fixed (:class:`~.kinds.ResourceRef`) or to be discovered
  (:class:`Discovered`: EventTypes are watched in the version the cluster serves, preferring
  the storage version v1beta2, then v1beta3, then v1beta1); while any is not served yet (say,
  Knative is not installed) the informer checks again every ``discovery_interval`` seconds
  and starts no reflector, so it starts on a bare cluster and catches up once it is served;
- each reflector supervises itself (see :mod:`.reflecting`): whatever a sink's listener
  raises, the reflector logs it, shows its kind as unsynced (so ``/readyz`` answers 503
  naming it), backs off, relists and is synced again; only :meth:`Informer.stop` ends it;
- :meth:`Informer.wait_synced` returns once every watched resource has been listed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from ..store.caching import Cache
from . import errors, kinds
from .client import ClusterClient
from .kinds import ResourceRef
from .listwatching import ListerWatcher
from .raw import RawObjects
from .reflecting import Reflector, ReflectorSettings, Sink

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Discovered:
    """A resource found at run time: ``find`` returns it once the cluster serves it."""

    what: str
    """What is waited for, for the log (``"EventTypes"``)."""
    find: Callable[[ClusterClient], Awaitable[ResourceRef | None]]


Watched = ResourceRef | Discovered


async def served_event_types(client: ClusterClient) -> ResourceRef | None:
    """EventTypes in the version the cluster serves (storage version first), or None."""
    for version in kinds.EVENT_TYPE_VERSIONS:
        resource = kinds.event_types(version)
        if await client.rest_mapper.resolve(resource.api_version, resource.kind) is not None:
            return resource
    return None


EVENT_TYPES = Discovered("EventTypes (is Knative Eventing installed?)", served_event_types)
REGISTRY: tuple[Watched, ...] = (kinds.NAMESPACES, kinds.BROKERS, EVENT_TYPES, kinds.TRIGGERS)
"""What the registry watches."""


class Informer:
    """Watches ``resources`` into ``cache``, and into ``raw`` first when given."""

    def __init__(
        self,
        client: ClusterClient,
        cache: Cache,
        *,
        resources: Sequence[Watched] = REGISTRY,
        raw: RawObjects | None = None,
        settings: ReflectorSettings | None = None,
        discovery_interval: float = 5.0,
    ) -> None:
        self._client = client
        self.cache = cache
        self.raw = raw
        self._wanted = tuple(resources)
        self._settings = settings or ReflectorSettings()
        self._discovery_interval = discovery_interval
        self._tasks: list[asyncio.Task[None]] = []
        self._started = asyncio.Event()
        self.resources: dict[str, ResourceRef] = {}
        """The resources watched, by kind (in the version discovered)."""
        self.reflectors: dict[str, Reflector] = {}

    async def start(self) -> None:
        """Start discovering and watching; returns at once."""
        self._tasks.append(asyncio.create_task(self._run(), name="informer"))

    async def _run(self) -> None:
        found = await self._discover()
        while any(resource is None for resource in found):
            await asyncio.sleep(self._discovery_interval)
            found = await self._discover(found)
        for resource in found:
            assert resource is not None
            self.watch(resource)
        self._started.set()

    async def _discover(self, found: Sequence[ResourceRef | None] = ()) -> list[ResourceRef | None]:
        resolved: list[ResourceRef | None] = []
        for index, wanted in enumerate(self._wanted):
            if isinstance(wanted, ResourceRef):
                resolved.append(wanted)
            elif index < len(found) and found[index] is not None:
                resolved.append(found[index])
            else:
                resolved.append(await self._find(wanted))
        return resolved

    async def _find(self, wanted: Discovered) -> ResourceRef | None:
        try:
            resource = await wanted.find(self._client)
        except errors.ClusterError as error:
            log.warning("discovering %s failed: %s; retrying", wanted.what, error)
            return None
        if resource is None:
            log.info("%s not served yet; waiting", wanted.what)
        else:
            log.info("watching %s as %s", resource.plural, resource.api_version)
        return resource

    def watch(self, resource: ResourceRef, *, raw_only: bool = False) -> Reflector:
        """Start watching one more resource (say, a kind discovered at run time).

        ``raw_only``: into the raw store alone, for kinds the cache has no model of.
        """
        lister_watcher = ListerWatcher(self._client, resource)
        if raw_only:
            if self.raw is None:
                raise ValueError("raw_only needs an informer with a raw store")
            sink: Sink = self.raw
            reflector = Reflector(lister_watcher, sink, self._settings)
        else:
            reflector = Reflector(lister_watcher, self.cache, self._settings, raw=self.raw)
        self.resources[resource.kind] = resource
        self.reflectors[resource.kind] = reflector
        self._tasks.append(asyncio.create_task(reflector.run(), name=f"reflector-{resource.kind}"))
        return reflector

    async def listed(self) -> None:
        """Return once every resource watched has been listed at least once."""
        await self._started.wait()
        for reflector in list(self.reflectors.values()):
            await reflector.listed.wait()

    async def wait_synced(self, timeout: float) -> bool:
        """:meth:`listed` within ``timeout`` seconds (False when not)."""
        try:
            async with asyncio.timeout(timeout):
                await self.listed()
        except TimeoutError:
            return False
        return True

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
