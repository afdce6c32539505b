"""The hub: one ordered, bounded log of registry changes that every subscription reads.

Guarantees:

- changes are appended synchronously by the cache listener, in cache order, each with the
  next sequence number; the hub's position and the cache's snapshot advance together, so a
  subscription that reads the snapshot and the position in one step gets an initial set and
  a live stream with no gap and no duplicate;
- readers never block writers: the log is shared, each reader keeps its own position and
  wakes when something is appended;
- the log keeps the last ``history`` changes; a reader (or a resuming client) whose position
  is older gets :class:`Behind` and must re-query — changes are never skipped silently;
- cursors name a position by the cluster's own order (:mod:`.positions`: resourceVersions and
  state digests of the watched kinds, plus a step inside a Broker change's fan-out), so any
  replica (or worker, or restarted process) sharing the key (``cursor_key``) that has seen
  the same changes resumes a client exactly: after the same change, with nothing lost and
  nothing sent twice. Sealed by :mod:`.cursors` so that callers learn nothing from them
  (not a resourceVersion, not the distance between two cursors: it counts changes in
  namespaces they may not read). The cursor of a change is the same for every subscriber;
  :meth:`Hub.marker_cursor` (where a subscription starts or resyncs) cannot be matched with
  any other cursor;
- resuming (:meth:`Hub.resume`) from a cursor that names changes this process has not
  applied yet waits for them, at most ``resume_wait`` seconds; a cursor whose position is
  not (or no longer) in the retained history is :class:`Behind`. With the default
  per-process key a cursor of another process cannot be opened and counts as one from
  before a restart (:class:`Behind`); with a shared key, a cursor that does not open is
  :class:`InvalidCursor`.

Lag (for ``/metrics``): each reader (a task calling :meth:`Hub.wait_after`) is remembered with
the position it last asked from; :attr:`Hub.lag` is the newest position minus the slowest live
reader's, in changes: 0 when every subscription execution has taken everything appended. The
bookkeeping is one dictionary write per ``wait_after`` (per burst of a shared execution, not
per subscriber).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import weakref
from collections import Counter
from typing import Literal

from ..store.caching import Cache, Change, Model
from . import cursors, positions
from .changes import HubChange, derive

ResumeOutcome = Literal["exact", "waited", "resync"]
"""How a resume went: at once, after waiting for changes the cursor names, or RESYNC_REQUIRED."""


class Behind(Exception):
    """The requested position is older than the retained history."""


class InvalidCursor(ValueError):
    """Not a cursor this API produced."""


class Hub:
    def __init__(
        self,
        cache: Cache,
        *,
        history: int = 10_000,
        cursor_key: bytes | None = None,
        resume_wait: float = 2.0,
    ) -> None:
        """``cursor_key``: a secret shared by the processes that must open each other's
        cursors (across restarts, or replicas); by default a random key of this process.
        ``resume_wait``: how long :meth:`resume` waits for changes a cursor names."""
        key = cursors.new_key() if cursor_key is None else cursor_key
        self.seq = 0
        self._cipher = cursors.CursorCipher(key)
        self._key_is_shared = cursor_key is not None
        self._positions = positions.Positions(
            positions.ObjectDigests(cursors.subkey(key, "state digest"))
        )
        self._resume_wait = resume_wait
        self.resumes: Counter[ResumeOutcome] = Counter()
        """Subscriptions resumed with a cursor, by outcome (for ``/metrics``)."""
        # Sealing costs three HMACs; every subscriber of a change sends its cursor.
        self._cursors: dict[int, str] = {}
        self._history = max(1, history)
        self._log: list[HubChange] = []
        self._seqs: list[int] = []
        self._appended: asyncio.Future[None] | None = None
        self._readers: weakref.WeakKeyDictionary[asyncio.Task[object], int] = (
            weakref.WeakKeyDictionary()
        )
        self.cache = cache
        cache.add_listener(self._on_change)

    # writing ------------------------------------------------------------------------------

    def _on_change(self, change: Change) -> None:
        derived = derive(change, self.seq + 1)
        if not derived:
            return
        kind: positions.StampedKind = "Broker" if change.kind == "Broker" else "EventType"
        stamps = self._positions.advance(
            kind,
            removed=_version_of(change.old),
            added=_version_of(change.new),
            version=change.resource_version,
            relisted=change.relisted,
            entries=len(derived),
        )
        for entry, stamp in zip(derived, stamps, strict=True):
            # Stamped once, here, before anyone can see the change (dataclasses.replace
            # would copy every change: the hub's hottest path).
            object.__setattr__(entry, "stamp", stamp)
        self._log.extend(derived)
        self._seqs.extend(c.seq for c in derived)
        self.seq = derived[-1].seq
        excess = len(self._log) - self._history
        if excess >= max(1, self._history // 10):
            for seq in self._seqs[:excess]:
                self._cursors.pop(seq, None)
            del self._log[:excess]
            del self._seqs[:excess]
            self._positions.trim(self.oldest)
        if self._appended is not None and not self._appended.done():
            self._appended.set_result(None)
        self._appended = None

    # reading ------------------------------------------------------------------------------

    @property
    def oldest(self) -> int:
        """The oldest position a reader may resume from."""
        return self._seqs[0] - 1 if self._seqs else self.seq

    def after(self, seq: int) -> list[HubChange]:
        """Changes after position ``seq``, oldest first; raises Behind when trimmed."""
        if seq < self.oldest:
            raise Behind(f"position {seq} is older than the oldest kept ({self.oldest})")
        return self._log[bisect.bisect_right(self._seqs, seq) :]

    async def wait_after(self, seq: int) -> list[HubChange]:
        """Like :meth:`after`, waiting until there is at least one change."""
        reader = asyncio.current_task()
        if reader is not None:
            self._readers[reader] = seq
        while self.seq <= seq:
            await self._next_append()
        return self.after(seq)

    async def _next_append(self) -> None:
        if self._appended is None:
            self._appended = asyncio.get_running_loop().create_future()
        await asyncio.shield(self._appended)

    @property
    def lag(self) -> int:
        """Changes appended that the slowest live reader has yet to take (0: none behind)."""
        positions = [seq for task, seq in list(self._readers.items()) if not task.done()]
        return self.seq - min(positions) if positions else 0

    @property
    def readers(self) -> int:
        """Live readers (one per running subscription execution)."""
        return sum(1 for task in list(self._readers) if not task.done())

    # cursors ------------------------------------------------------------------------------

    def cursor(self, at: int | HubChange) -> str:
        """The cursor after a change (or a retained position), the same for every subscriber
        and on every replica that took the same path."""
        seq = at if isinstance(at, int) else at.seq
        cursor = self._cursors.get(seq)
        if cursor is None:
            stamp = self._positions.at(seq) if isinstance(at, int) else at.stamp
            assert stamp is not None, "the hub stamps every change it logs"
            cursor = self._cipher.seal(stamp.pack())
            if self.oldest < seq <= self.seq:  # exactly the retained changes' positions
                self._cursors[seq] = cursor
        return cursor

    def marker_cursor(self, seq: int) -> str:
        """A fresh cursor of retained position ``seq`` that matches no other cursor (for
        events that are not changes: it must not tell whether anything changed since another
        cursor)."""
        return self._cipher.seal(self._positions.at(seq).pack(), unlinkable=True)

    def position(self, cursor: str) -> int:
        """The position a cursor names, as of now; raises Behind when it is not here (or not
        yet: see :meth:`resume`), InvalidCursor when it is not a cursor."""
        found = self._positions.find(self._stamp(cursor))
        return self._retained(found)

    async def resume(self, cursor: str) -> int:
        """The position a cursor names, waiting up to ``resume_wait`` seconds for changes it
        names that this process has not applied yet."""
        try:
            position, waited = await self._resolve(cursor)
        except Behind:
            self.resumes["resync"] += 1
            raise
        self.resumes["waited" if waited else "exact"] += 1
        return position

    async def _resolve(self, cursor: str) -> tuple[int, bool]:
        stamp = self._stamp(cursor)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._resume_wait
        waited = False
        while (found := self._positions.find(stamp)) == positions.LATER:
            waited = True
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise Behind("this server has not seen the changes the cursor names (yet)")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._next_append(), remaining)
        return self._retained(found), waited

    def _stamp(self, cursor: str) -> positions.Stamp:
        try:
            return positions.Stamp.unpack(self._cipher.open(cursor))
        except cursors.Malformed as error:
            if cursors.of_an_earlier_version(cursor):  # a client resuming across an upgrade
                raise Behind("the cursor is from an earlier version of the server") from error
            raise InvalidCursor("not a cursor returned by this API") from error
        except cursors.Unauthentic as error:
            if self._key_is_shared:
                raise InvalidCursor("not a cursor returned by this API") from error
            raise Behind("the cursor is from before a server restart") from error

    def _retained(self, found: positions.Resolution) -> int:
        if not isinstance(found, positions.Found):
            raise Behind("the cursor's position is not in the history this server keeps")
        if found < self.oldest:  # pragma: no cover - trimmed positions are not indexed
            raise Behind(f"position {found} is older than the oldest kept ({self.oldest})")
        return int(found)


def _version_of(model: Model | None) -> tuple[str, str, str] | None:
    """(namespace, name, resourceVersion) of a cached object, for the state digest."""
    if model is None:
        return None
    return (model.meta.namespace, model.meta.name, model.meta.resource_version)
