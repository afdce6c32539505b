"""The reflector: keeps the cache equal to one resource in the cluster, forever.

As client-go's reflector: list, then watch from the list's resourceVersion (with bookmarks,
so the position advances even when nothing changes); when the stream ends, watch again from
the last position; on 410 Expired, relist and let the cache apply the difference (deleting
what vanished), so nothing is lost or duplicated; on any other failure back off
exponentially with full jitter (capped) and resume. Each read has a timeout, so a half-open
connection is detected and replaced. Sync state is reported to the cache for ``/readyz``:
a resource is synced after a complete list, and again whenever a watch is (re)established;
it is unsynced from any failure until then, so a lost API server shows as not ready.

What it reads goes to a :class:`Sink`: the registry's cache, or a
:class:`~.raw.RawObjects` store; given ``raw`` as well, the reflector updates that store with
each event before the sink, so the sink's listeners find the raw object of what they see.
:attr:`Reflector.listed` is set once the first list has been applied.

Anything else that goes wrong is a bug (a cache listener that raises, an object that cannot
be normalized), and it does not end the reflector: it is logged with the kind, the kind
shows as unsynced (``"restarting: <exception type>"``), and after a capped, jittered,
exponentially growing delay the reflector starts again with a full relist, whose difference
reaches listeners as ordinary changes, as after 410: what the failed watch did not apply is
delivered once. (A change the cache did commit reached every other listener; only the one
that raised on it missed it.) The delay grows while failures repeat and starts over once a
watch has completed in between. Only cancellation stops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncGenerator, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, cast

from ..store.caching import StoreChangeType
from . import errors
from .kinds import ResourceRef
from .listwatching import WatchEvent
from .raw import RawObjects

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReflectorSettings:
    watch_timeout: tuple[int, int] = (240, 300)
    """Server-side watch timeout, drawn from this range per watch (spreads reconnects)."""
    read_timeout: float = 330.0
    """Longest silence tolerated on a watch (bookmarks and timeouts keep healthy ones busy)."""
    backoff_initial: float = 0.2
    backoff_max: float = 30.0
    restart_initial: float = 1.0
    """Backoff before restarting after an unexpected exception (a bug, not the cluster)."""
    restart_max: float = 60.0
    """Longest backoff between restarts while such a failure repeats."""


class Backoff:
    """Capped exponential backoff with full jitter."""

    def __init__(self, initial: float, maximum: float, rng: random.Random | None = None) -> None:
        self._initial, self._max = initial, maximum
        self._attempt = 0
        self._rng = rng or random.Random()

    def next_delay(self) -> float:
        ceiling = min(self._max, self._initial * (2**self._attempt))
        self._attempt += 1
        return self._rng.uniform(0, ceiling)

    def reset(self) -> None:
        self._attempt = 0


class Source(Protocol):
    """What the reflector reads: :class:`~.listwatching.ListerWatcher`, or a fake in tests."""

    @property
    def resource(self) -> ResourceRef: ...

    async def list(self) -> tuple[list[dict[str, Any]], str]: ...

    def watch(
        self,
        resource_version: str,
        *,
        timeout_seconds: int,
        read_timeout: float,
        on_connected: Callable[[], None] = ...,
    ) -> AsyncGenerator[WatchEvent, None]: ...


class Sink(Protocol):
    """Where a reflector puts what it reads, each kind named as the cluster names it:
    :class:`~event_registry.store.caching.Cache` (which refuses a kind it has no model of), or
    :class:`~.raw.RawObjects` (any kind, passed as it is)."""

    def apply(self, kind: str, change_type: StoreChangeType, raw: Mapping[str, Any]) -> object: ...

    def replace(self, kind: str, raws: Iterable[Mapping[str, Any]]) -> object: ...

    def set_synced(self, kind: str, synced: bool) -> None: ...

    def mark_unsynced(self, kind: str, reason: str) -> None: ...


class Reflector:
    def __init__(
        self,
        lister_watcher: Source,
        cache: Sink,
        settings: ReflectorSettings | None = None,
        *,
        rng: random.Random | None = None,
        raw: RawObjects | None = None,
    ) -> None:
        self._lw = lister_watcher
        self._cache = cache
        self._raw = raw
        self.listed = asyncio.Event()
        """Set once a first list has been applied (it stays set)."""
        self._settings = settings or ReflectorSettings()
        self._rng = rng or random.Random()
        self._kind = lister_watcher.resource.kind
        self.relists = 0
        self.watches = 0
        """Watches that ended without error (the server's timeout), for the restart backoff."""
        self.restarts = 0
        self.expired = 0
        """Relists because the watch's resourceVersion was too old (410 Expired)."""
        self.resource_version = ""

    async def run(self) -> None:
        """Run until cancelled, restarting (with a relist) after any unexpected exception."""
        settings = self._settings
        backoff = Backoff(settings.restart_initial, settings.restart_max, self._rng)
        while True:
            watches = self.watches
            try:
                await self._reflect()
            except Exception as error:
                if self.watches > watches:
                    backoff.reset()
                delay = backoff.next_delay()
                log.error(
                    "%s: reflector failed (%s); relisting in %.2fs",
                    self._kind,
                    type(error).__name__,
                    delay,
                    exc_info=error,
                )
                self.restarts += 1
                self._cache.mark_unsynced(self._kind, f"restarting: {type(error).__name__}")
                await asyncio.sleep(delay)

    async def _reflect(self) -> None:
        """List, then watch, retrying on cluster errors; raises only what is not one."""
        settings = self._settings
        backoff = Backoff(settings.backoff_initial, settings.backoff_max, self._rng)
        need_list = True
        while True:
            try:
                if need_list:
                    await self._relist()
                    need_list = False
                    backoff.reset()
                await self._watch_once()
                backoff.reset()
            except errors.Expired:
                self.expired += 1
                log.info(
                    "%s: resourceVersion %s expired; relisting", self._kind, self.resource_version
                )
                need_list = True
            except errors.ClusterError as error:
                delay = backoff.next_delay()
                log.warning("%s: %s; retrying in %.2fs", self._kind, error, delay)
                if error.code not in (0, 500, 503, 504, 429):
                    need_list = True
                self._cache.mark_unsynced(self._kind, f"retrying: {error.reason}")
                await asyncio.sleep(delay)

    async def _relist(self) -> None:
        items, resource_version = await self._lw.list()
        if self._raw is not None:
            self._raw.replace(self._kind, items)
        self._cache.replace(self._kind, items)
        self.resource_version = resource_version
        self.relists += 1
        self._cache.set_synced(self._kind, True)
        self.listed.set()

    async def _watch_once(self) -> None:
        low, high = self._settings.watch_timeout
        stream = self._lw.watch(
            self.resource_version,
            timeout_seconds=self._rng.randint(low, high),
            read_timeout=self._settings.read_timeout,
            on_connected=lambda: self._cache.set_synced(self._kind, True),
        )
        async with contextlib.aclosing(stream):
            async for event in stream:
                if event.type != "BOOKMARK":
                    change_type = cast(StoreChangeType, event.type)
                    if self._raw is not None:
                        self._raw.apply(self._kind, change_type, event.object)
                    self._cache.apply(self._kind, change_type, event.object)
                if event.resource_version:
                    self.resource_version = event.resource_version
        self.watches += 1
