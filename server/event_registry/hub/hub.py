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
- cursors name a position in this process's log (an epoch plus a sequence number), sealed by
  :mod:`.cursors` so that callers learn nothing from them (not the sequence number, not the
  distance between two cursors: it counts changes in namespaces they may not read). The
  cursor of a change is the same for every subscriber; :meth:`Hub.marker_cursor` (where a
  subscription starts or resyncs) cannot be matched with any other cursor;
- a cursor from another process is treated as too old (:class:`Behind`): its epoch differs
  when the key is shared (``cursor_key``), and with the default per-process key it cannot be
  opened at all, so any well-formed cursor this key did not seal counts as one from before
  a restart. With a shared key, a cursor that does not open is :class:`InvalidCursor`.

Lag (for ``/metrics``): each reader (a task calling :meth:`Hub.wait_after`) is remembered with
the position it last asked from; :attr:`Hub.lag` is the newest position minus the slowest live
reader's, in changes: 0 when every subscription execution has taken everything appended. The
bookkeeping is one dictionary write per ``wait_after`` (per burst of a shared execution, not
per subscriber).
"""

from __future__ import annotations

import asyncio
import bisect
import secrets
import weakref

from ..store.caching import Cache, Change
from . import cursors
from .changes import HubChange, derive


class Behind(Exception):
    """The requested position is older than the retained history."""


class InvalidCursor(ValueError):
    """Not a cursor this API produced."""


class Hub:
    def __init__(
        self, cache: Cache, *, history: int = 10_000, cursor_key: bytes | None = None
    ) -> None:
        """``cursor_key``: a secret shared by the processes that must open each other's
        cursors (across restarts, or replicas); by default a random key of this process."""
        self.epoch = secrets.token_bytes(cursors.EPOCH_BYTES)
        self.seq = 0
        self._cipher = cursors.CursorCipher(cursors.new_key() if cursor_key is None else cursor_key)
        self._key_is_shared = cursor_key is not None
        # Sealing costs two HMACs; every subscriber of a change sends its cursor.
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
        self._log.extend(derived)
        self._seqs.extend(c.seq for c in derived)
        self.seq = derived[-1].seq
        excess = len(self._log) - self._history
        if excess >= max(1, self._history // 10):
            for seq in self._seqs[:excess]:
                self._cursors.pop(seq, None)
            del self._log[:excess]
            del self._seqs[:excess]
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
            if self._appended is None:
                self._appended = asyncio.get_running_loop().create_future()
            await asyncio.shield(self._appended)
        return self.after(seq)

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

    def cursor(self, seq: int) -> str:
        """The cursor of the change at position ``seq``, the same for every subscriber."""
        cursor = self._cursors.get(seq)
        if cursor is None:
            cursor = self._cipher.seal(self.epoch, seq)
            if self.oldest < seq <= self.seq:  # exactly the retained changes' positions
                self._cursors[seq] = cursor
        return cursor

    def marker_cursor(self, seq: int) -> str:
        """A fresh cursor of position ``seq`` that matches no other cursor (for events that
        are not changes: it must not tell whether anything changed since another cursor)."""
        return self._cipher.seal(self.epoch, seq, unlinkable=True)

    def position(self, cursor: str) -> int:
        """The position a cursor names; raises Behind for another epoch or a trimmed one."""
        try:
            epoch, position = self._cipher.open(cursor)
        except cursors.Malformed as error:
            raise InvalidCursor("not a cursor returned by this API") from error
        except cursors.Unauthentic as error:
            if self._key_is_shared:
                raise InvalidCursor("not a cursor returned by this API") from error
            raise Behind("the cursor is from before a server restart") from error
        if epoch != self.epoch:
            raise Behind("the cursor is from before a server restart")
        if position > self.seq:
            raise InvalidCursor("the cursor is ahead of the server")
        if position < self.oldest:
            raise Behind(f"position {position} is older than the oldest kept ({self.oldest})")
        return position
