"""Positions in the registry's changes that mean the same on every replica.

Every replica lists and watches the cluster itself, so each has its own log of changes; what
they share is the cluster's order. A position is therefore named by what the cluster says
about it, never by a replica's own counter. For each watched kind that makes subscription
events (EventType, Broker) a :class:`Stamp` holds:

- the **resourceVersion** of the change that made the kind's state (resourceVersions are one
  counter across kinds in etcd and on the embedded control plane; a relist knows only the
  highest version it brought, so its state is marked ``relisted``: "made by then or later");
- a **state digest**: the XOR of a keyed 64-bit hash of ``namespace/name@resourceVersion``
  of each object of the kind, updated in O(1) per change; equal digests mean equal states
  (except with probability 2^-64), whichever path each replica took to them.

Events a replica derives rather than watches (the readiness an EventType inherits from its
Broker) have no resourceVersion of their own: they take their order from the Broker change
that caused them, in a fixed order (by namespace and name, see :mod:`.changes`), and their
position is that Broker change's plus a ``step`` (how many derived events after the
Broker's own were taken). Two replicas that applied the same Broker change to the same state
derive the same events in the same order, so a step means the same on both. Steps inside a
relist's fan-out are marked ``local`` (a random tag of this process): only this replica can
resume there.

Resolving a cursor (:meth:`Positions.find`) on a replica looks for a position with the same
digests and step whose resourceVersions are consistent with the cursor's: the replica's
state of each kind did not change between the cursor's version and its own (no change of
the kind in between in its log). Exactly one such position: the client resumes after it,
receiving every later change once. None, and the cursor names versions this replica has not
seen yet: it may be behind (:data:`LATER`, the caller may wait). Otherwise (history trimmed,
never on this replica's path: it started later, or took another interleaving of the two
kinds' watches, which are separate streams): :data:`NOT_HERE`, the client must re-query.

What can still differ between replicas, and why it loses nothing: a replica that relisted
never saw what happened between its last watched change and the list; a client resuming there
from a position whose state it equals gets every later change, but not an object created and
deleted in that window (it never was in either state).
"""

from __future__ import annotations

import bisect
import hashlib
import secrets
import struct
from dataclasses import dataclass
from typing import Final, Literal

from .cursors import POSITION_BYTES

StampedKind = Literal["EventType", "Broker"]
COMPLETE: Final = 0xFFFFFFFF
"""``step`` of a position between changes (not inside a Broker change's fan-out)."""
_RELISTED_BIT: Final = 1 << 63
_MAX_VERSION: Final = _RELISTED_BIT - 1
_LAYOUT: Final = struct.Struct(">QQQQII")
assert _LAYOUT.size == POSITION_BYTES


@dataclass(frozen=True, slots=True)
class KindState:
    """What a position says about one kind."""

    version: int = 0
    """resourceVersion of the change that made this state (at most that when ``relisted``)."""
    digest: int = 0
    relisted: bool = False


@dataclass(frozen=True, slots=True)
class Stamp:
    """A position: the state of each stamped kind, and the step inside a Broker's fan-out."""

    event_types: KindState = KindState()
    brokers: KindState = KindState()
    step: int = COMPLETE
    local: int = 0

    def of(self, kind: StampedKind) -> KindState:
        return self.event_types if kind == "EventType" else self.brokers

    def pack(self) -> bytes:
        return _LAYOUT.pack(
            _packed_version(self.event_types),
            self.event_types.digest,
            _packed_version(self.brokers),
            self.brokers.digest,
            self.step,
            self.local,
        )

    @classmethod
    def unpack(cls, data: bytes) -> Stamp:
        version_e, digest_e, version_b, digest_b, step, local = _LAYOUT.unpack(data)
        return cls(_unpacked(version_e, digest_e), _unpacked(version_b, digest_b), step, local)

    @property
    def key(self) -> tuple[int, int, int, int]:
        """What a matching position must equal exactly."""
        return (self.event_types.digest, self.brokers.digest, self.step, self.local)


def _packed_version(state: KindState) -> int:
    return state.version | (_RELISTED_BIT if state.relisted else 0)


def _unpacked(version: int, digest: int) -> KindState:
    return KindState(version & _MAX_VERSION, digest, bool(version & _RELISTED_BIT))


def parse_version(text: str) -> int | None:
    """A resourceVersion as a number, or None when it is not one (opaque to us then)."""
    if text.isdigit() and len(text) < 19:
        return int(text)
    return None


class ObjectDigests:
    """The keyed 64-bit hash of one object version (its contribution to a state digest)."""

    def __init__(self, key: bytes) -> None:
        self._key = hashlib.blake2b(key=key[:64], digest_size=8)

    def __call__(self, namespace: str, name: str, version: str) -> int:
        hasher = self._key.copy()
        hasher.update(f"{namespace}/{name}@{version}".encode())
        return int.from_bytes(hasher.digest(), "big")


class Found(int):
    """The position (the hub's sequence number) a cursor resolved to."""


LATER: Final = "later"
NOT_HERE: Final = "not here"
Resolution = Found | Literal["later", "not here"]


@dataclass(frozen=True, slots=True)
class _Unit:
    start: int
    """The position before the unit's first entry."""
    version: int
    relisted: bool


class Positions:
    """The stamp of every retained position of one hub, and how to find a cursor's."""

    def __init__(self, digests: ObjectDigests) -> None:
        self._digests = digests
        self._local = secrets.randbits(32) | 1
        self._base = 0
        self._stamps: list[Stamp] = [Stamp()]
        self._by_key: dict[tuple[int, int, int, int], list[int]] = {Stamp().key: [0]}
        self._units: dict[StampedKind, list[_Unit]] = {"EventType": [], "Broker": []}

    @property
    def current(self) -> Stamp:
        return self._stamps[-1]

    def at(self, seq: int) -> Stamp:
        """The stamp of retained position ``seq``."""
        if not self._base <= seq < self._base + len(self._stamps):
            raise IndexError(f"position {seq} is not retained")
        return self._stamps[seq - self._base]

    # writing ------------------------------------------------------------------------------

    def advance(
        self,
        kind: StampedKind,
        *,
        removed: tuple[str, str, str] | None,
        added: tuple[str, str, str] | None,
        version: str,
        relisted: bool,
        entries: int,
    ) -> list[Stamp]:
        """Stamps of the ``entries`` positions one change of ``kind`` makes (the change's own
        entry, then its derived ones); ``removed`` and ``added`` are the object versions
        (namespace, name, resourceVersion) leaving and entering the state."""
        start = self._base + len(self._stamps) - 1
        previous = self.current.of(kind)
        digest = previous.digest
        if removed is not None:
            digest ^= self._digests(*removed)
        if added is not None:
            digest ^= self._digests(*added)
        number = parse_version(version)
        if number is None or relisted:
            number = max(previous.version, number or 0)
            relisted = True
        state = KindState(number, digest, relisted)
        self._units[kind].append(_Unit(start, number, relisted))
        current = self.current
        event_types = state if kind == "EventType" else current.event_types
        brokers = state if kind == "Broker" else current.brokers
        inside = self._local if relisted else 0
        stamps = [Stamp(event_types, brokers, step, inside) for step in range(entries - 1)]
        stamps.append(Stamp(event_types, brokers))
        for stamp in stamps:
            self._by_key.setdefault(stamp.key, []).append(self._base + len(self._stamps))
            self._stamps.append(stamp)
        return stamps

    def trim(self, oldest: int) -> None:
        """Forget positions before ``oldest``."""
        drop = oldest - self._base
        if drop <= 0:
            return
        for offset, stamp in enumerate(self._stamps[:drop]):
            seqs = self._by_key[stamp.key]
            seqs.remove(self._base + offset)
            if not seqs:
                del self._by_key[stamp.key]
        del self._stamps[:drop]
        self._base = oldest
        for units in self._units.values():
            del units[: bisect.bisect_left(units, oldest, key=lambda unit: unit.start)]

    # reading ------------------------------------------------------------------------------

    def find(self, cursor: Stamp) -> Resolution:
        """The retained position ``cursor`` names on this replica (see the module docstring)."""
        matches = [seq for seq in self._by_key.get(cursor.key, ()) if self._consistent(seq, cursor)]
        if len(matches) == 1:
            return Found(matches[0])
        if not matches and self._maybe_behind(cursor):
            return LATER
        return NOT_HERE

    def _consistent(self, seq: int, cursor: Stamp) -> bool:
        stamp = self.at(seq)
        if cursor.step != COMPLETE and stamp.brokers.version != cursor.brokers.version:
            return False
        kinds: tuple[StampedKind, ...] = ("EventType", "Broker")
        return all(self._kind_consistent(kind, seq, stamp, cursor) for kind in kinds)

    def _kind_consistent(self, kind: StampedKind, seq: int, stamp: Stamp, cursor: Stamp) -> bool:
        mine, theirs = stamp.of(kind), cursor.of(kind)
        if not (mine.relisted or theirs.relisted or theirs.version >= mine.version):
            return False  # my state was made after theirs: equal only by coming back
        units = self._units[kind]
        following = bisect.bisect_left(units, seq, key=lambda unit: unit.start)
        if following == len(units):
            return True
        after = units[following]
        return after.relisted or after.version > theirs.version

    def _maybe_behind(self, cursor: Stamp) -> bool:
        if cursor.local:
            return False
        current = self.current
        return any(
            cursor.of(kind).version > current.of(kind).version for kind in ("EventType", "Broker")
        )
