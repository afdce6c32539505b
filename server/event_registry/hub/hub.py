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
- cursors name a position in this process's log (an epoch plus a sequence number); a cursor
  from another process is treated as too old.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import bisect
import secrets

from ..store.caching import Cache, Change
from .changes import HubChange, derive


class Behind(Exception):
    """The requested position is older than the retained history."""


class InvalidCursor(ValueError):
    """Not a cursor this API produced."""


class Hub:
    def __init__(self, cache: Cache, *, history: int = 10_000) -> None:
        self.epoch = secrets.token_hex(4)
        self.seq = 0
        self._history = max(1, history)
        self._log: list[HubChange] = []
        self._seqs: list[int] = []
        self._appended: asyncio.Future[None] | None = None
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
        while self.seq <= seq:
            if self._appended is None:
                self._appended = asyncio.get_running_loop().create_future()
            await asyncio.shield(self._appended)
        return self.after(seq)

    # cursors ------------------------------------------------------------------------------

    def cursor(self, seq: int) -> str:
        raw = f"{self.epoch}:{seq}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def position(self, cursor: str) -> int:
        """The position a cursor names; raises Behind for another epoch or a trimmed one."""
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            epoch, _, seq = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
            position = int(seq)
        except (binascii.Error, UnicodeDecodeError, ValueError) as error:
            raise InvalidCursor("not a cursor returned by this API") from error
        if epoch != self.epoch:
            raise Behind("the cursor is from before a server restart")
        if position > self.seq:
            raise InvalidCursor("the cursor is ahead of the server")
        if position < self.oldest:
            raise Behind(f"position {position} is older than the oldest kept ({self.oldest})")
        return position
