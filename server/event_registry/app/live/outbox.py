"""One client's queue of outgoing frames: producers never wait, memory stays bounded.

Guarantees:

- a plain data structure (no I/O, no waiting): ``put`` and ``put_run`` return at once;
- frames leave through ``take`` in the order they were queued, except that a frame with a
  key queued while ``coalesce_after`` or more frames are pending first removes the pending
  frame with the same key (the latest state per object wins; the newer frame goes last);
- ``overflowed`` turns true once more than ``limit`` frames are pending (the connection then
  closes the client) and stays true;
- a *run* (the payloads one subscription produced in a burst, shared by every subscriber of
  the same query) is queued as one entry, and framed (prefix + payload + suffix) only when
  taken: fanning a burst out to many clients costs each of them one append, not one per
  frame; ``take_frames`` answers the same frames already encoded for the wire, in one join.
  Coalescing needs per-frame entries, so the queue switches to them when it reaches
  ``coalesce_after`` pending frames and back once drained;
- ``discard(owner)`` drops every pending frame of one owner (a subscription whose caller
  lost access: nothing of it may leave after that), in either representation.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict, deque
from collections.abc import Hashable, Sequence
from operator import itemgetter

from .framing import run_frames, text_frames

Item = tuple[bytes, Hashable | None]
"""A payload and the key of the object it is about (None: never coalesced)."""

_Run = tuple[bytes, bytes, Sequence[Item], Hashable]
_payload = itemgetter(0)
FRAMED_KEPT = 16
"""Most encodings a :class:`Burst` keeps (one per distinct prefix and suffix)."""


class Burst(list[Item]):
    """A run shared by many outboxes (one subscription group's burst): the first outbox to
    frame it whole for a prefix and suffix keeps the encoding for the others, until
    :meth:`forget_frames`; after that nothing more is kept (subscribers of one query often
    share a subscription id, so their frames are byte for byte the same)."""

    __slots__ = ("_framed",)

    def __init__(self, items: Sequence[Item] = ()) -> None:
        super().__init__(items)
        self._framed: dict[tuple[bytes, bytes], bytes] | None = {}

    def framed(self, prefix: bytes, suffix: bytes) -> bytes:
        """``run_frames`` of this burst's payloads with ``prefix`` and ``suffix``."""
        kept = self._framed
        found = None if kept is None else kept.get((prefix, suffix))
        if found is None:
            found = run_frames(prefix, list(map(_payload, self)), suffix)
            if kept is not None and len(kept) < FRAMED_KEPT:
                kept[prefix, suffix] = found
        return found

    def forget_frames(self) -> None:
        """Drop the kept encodings and keep no more (the burst may stay queued for slow
        clients: they hold references to its payloads, not copies of them)."""
        self._framed = None


class Outbox:
    def __init__(self, limit: int, *, coalesce_after: int = 256) -> None:
        self._runs: deque[_Run] = deque()
        # slot → (key, owner, prefix, payload, suffix): framed when taken, as runs are, so a
        # client far behind holds references to shared payloads rather than copies of them
        self._keyed: OrderedDict[int, tuple[Hashable | None, Hashable, bytes, bytes, bytes]] = (
            OrderedDict()
        )
        self._slot_of: dict[Hashable, int] = {}
        self._slots = itertools.count()
        self._count = 0
        self._limit = limit
        self._coalesce_after = min(coalesce_after, limit)
        self.overflowed = False

    def put(self, frame: bytes, key: Hashable | None = None) -> None:
        """Queue one ready frame."""
        self.put_run(b"", b"", ((frame, key),), None)

    def put_run(self, prefix: bytes, suffix: bytes, items: Sequence[Item], owner: Hashable) -> None:
        """Queue ``prefix + payload + suffix`` for every item; keys are scoped by ``owner``."""
        if not items:
            return
        if not self._keyed and self._count + len(items) < self._coalesce_after:
            self._runs.append((prefix, suffix, items, owner))
            self._count += len(items)
        else:
            self._to_keyed()
            for payload, key in items:
                self._put_keyed(
                    owner, prefix, payload, suffix, None if key is None else (owner, key)
                )
        if self._count > self._limit:
            self.overflowed = True

    def _to_keyed(self) -> None:
        while self._runs:
            prefix, suffix, items, owner = self._runs.popleft()
            self._count -= len(items)
            for payload, key in items:
                self._put_keyed(
                    owner, prefix, payload, suffix, None if key is None else (owner, key)
                )

    def _put_keyed(
        self, owner: Hashable, prefix: bytes, payload: bytes, suffix: bytes, key: Hashable | None
    ) -> None:
        if key is not None and self._count >= self._coalesce_after:
            older = self._slot_of.get(key)
            if older is not None and self._keyed.pop(older, None) is not None:
                self._count -= 1
        slot = next(self._slots)
        self._keyed[slot] = (key, owner, prefix, payload, suffix)
        self._count += 1
        if key is not None:
            self._slot_of[key] = slot

    def take(self, most: int) -> list[bytes]:
        """The oldest pending frames, at most ``most`` of them, in order."""
        if self._keyed:
            return self._take_keyed(most)
        taken: list[bytes] = []
        for prefix, suffix, items in self._take_runs(most):
            taken += [prefix + payload + suffix for payload, _ in items]
        return taken

    def take_frames(self, most: int) -> tuple[bytes, int]:
        """What :meth:`take` would answer, encoded as WebSocket text frames in one bytes
        (:mod:`.framing`), and how many frames that is."""
        if self._keyed:
            taken = self._take_keyed(most)
            return text_frames(taken), len(taken)
        parts: list[bytes] = []
        count = 0
        for prefix, suffix, items in self._take_runs(most):
            if isinstance(items, Burst):
                parts.append(items.framed(prefix, suffix))
            else:
                parts.append(run_frames(prefix, list(map(_payload, items)), suffix))
            count += len(items)
        return (parts[0] if len(parts) == 1 else b"".join(parts)), count

    def _take_keyed(self, most: int) -> list[bytes]:
        taken: list[bytes] = []
        keyed, slot_of = self._keyed, self._slot_of
        for _ in range(min(most, len(keyed))):
            slot, (key, _, prefix, payload, suffix) = keyed.popitem(last=False)
            if key is not None and slot_of.get(key) == slot:
                del slot_of[key]
            taken.append(prefix + payload + suffix)
        self._count -= len(taken)
        return taken

    def _take_runs(self, most: int) -> list[tuple[bytes, bytes, Sequence[Item]]]:
        """The oldest runs (the last one cut short) holding at most ``most`` frames, removed."""
        taken: list[tuple[bytes, bytes, Sequence[Item]]] = []
        runs = self._runs
        room = most
        while runs and room > 0:
            prefix, suffix, items, owner = runs.popleft()
            if len(items) > room:
                runs.appendleft((prefix, suffix, items[room:], owner))
                items = items[:room]
            taken.append((prefix, suffix, items))
            room -= len(items)
        self._count -= most - room
        return taken

    def discard(self, owner: Hashable) -> None:
        """Drop every pending frame queued for ``owner``."""
        kept = [run for run in self._runs if run[3] != owner]
        self._count -= sum(len(run[2]) for run in self._runs if run[3] == owner)
        self._runs = deque(kept)
        for slot in [s for s, entry in self._keyed.items() if entry[1] == owner]:
            key = self._keyed.pop(slot)[0]
            self._count -= 1
            if key is not None and self._slot_of.get(key) == slot:
                del self._slot_of[key]

    def __len__(self) -> int:
        return self._count
