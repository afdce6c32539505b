"""The reflector: keeps the cache equal to one resource in the cluster, forever.

As client-go's reflector: list, then watch from the list's resourceVersion (with bookmarks,
so the position advances even when nothing changes); when the stream ends, watch again from
the last position; on 410 Expired, relist and let the cache apply the difference (deleting
what vanished), so nothing is lost or duplicated; on any other failure back off
exponentially with full jitter (capped) and resume. Each read has a timeout, so a half-open
connection is detected and replaced. Sync state is reported to the cache for ``/readyz``:
a resource is synced after a complete list, and again whenever a watch is (re)established;
it is unsynced from any failure until then, so a lost API server shows as not ready.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from typing import cast

from ..store.caching import Cache, ChangeType
from . import errors
from .listwatching import ListerWatcher

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReflectorSettings:
    watch_timeout: tuple[int, int] = (240, 300)
    """Server-side watch timeout, drawn from this range per watch (spreads reconnects)."""
    read_timeout: float = 330.0
    """Longest silence tolerated on a watch (bookmarks and timeouts keep healthy ones busy)."""
    backoff_initial: float = 0.2
    backoff_max: float = 30.0


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


class Reflector:
    def __init__(
        self,
        lister_watcher: ListerWatcher,
        cache: Cache,
        settings: ReflectorSettings | None = None,
    ) -> None:
        self._lw = lister_watcher
        self._cache = cache
        self._settings = settings or ReflectorSettings()
        self._kind = lister_watcher.resource.kind
        self.relists = 0
        self.resource_version = ""

    async def run(self) -> None:
        """Run until cancelled."""
        settings = self._settings
        backoff = Backoff(settings.backoff_initial, settings.backoff_max)
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
                log.info(
                    "%s: resourceVersion %s expired; relisting", self._kind, self.resource_version
                )
                need_list = True
            except errors.ClusterError as error:
                delay = backoff.next_delay()
                log.warning("%s: %s; retrying in %.2fs", self._kind, error, delay)
                if error.code not in (0, 500, 503, 504, 429):
                    need_list = True
                self._cache.set_synced(self._kind, False)
                await asyncio.sleep(delay)

    async def _relist(self) -> None:
        items, resource_version = await self._lw.list()
        self._cache.replace(self._kind, items)
        self.resource_version = resource_version
        self.relists += 1
        self._cache.set_synced(self._kind, True)

    async def _watch_once(self) -> None:
        low, high = self._settings.watch_timeout
        stream = self._lw.watch(
            self.resource_version,
            timeout_seconds=random.randint(low, high),
            read_timeout=self._settings.read_timeout,
            on_connected=lambda: self._cache.set_synced(self._kind, True),
        )
        async for event in stream:
            if event.type != "BOOKMARK":
                self._cache.apply(self._kind, cast(ChangeType, event.type), event.object)
            if event.resource_version:
                self.resource_version = event.resource_version
