"""Completed objects kept between requests, as JSON, while nothing they read has changed.

Listing a namespace completes the same unchanged EventTypes request after request; the
response cache helps only while the whole cluster is unchanged. This memo keeps each
completed Broker, EventType or Trigger per *selection* (the shape of the fields asked for
below it) as a serialized JSON fragment, and reuses it while the object's model is the same
immutable instance and every index of its namespace that the selection's resolvers read (the
namespace's Brokers, EventTypes or Triggers, as declared with :data:`READS`) is the same
instance too, and the caller may read the same of those kinds (:data:`SHOWN` or
:data:`HIDDEN`), so callers with different rights never share a fragment that differs.
Snapshots share unchanged parts, so "the same instance" means "unchanged".
Fields below an object whose resolvers read nothing but the object (its conditions, labels,
attributes, reference) are kept the same way on their own, so an object completed again
because its Broker changed reuses them (see ``fast_execution``).

Guarantees: a reused fragment is byte for byte what completing the object again would give
(resolvers below a namespaced object read only its own namespace, and only the kinds the
caller may read there; a resolver that reads the request context without declaring what
it reads is taken to read every kind of its namespace); one entry per selection and object
(a newer version of the object takes the older one's place), at most ``capacity`` entries
(the oldest tenth is dropped when full); nothing here knows about HTTP or the cluster.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable
from typing import Any

import orjson

from ..domain import access
from ..store.caching import KINDS
from ..store.snapshots import Snapshot

READS = "reads"
"""Field metadata key: the kinds of the object's namespace a resolver reads from the snapshot."""
ALL_KINDS = frozenset(KINDS)
SHOWN, HIDDEN = object(), object()
"""In a :data:`Token`, before each kind read kind by kind: whether the caller may read it
(what is derived from a hidden kind, such as an EventType's ``consumable``, still follows
its changes)."""

_CHECKED: dict[str, access.Kind] = {kind: kind for kind in access.KINDS}
"""The cache's kinds that are read kind by kind (all but Namespace)."""

Token = tuple[object, ...]


def token(
    snapshot: Snapshot, namespace: str, kinds: tuple[str, ...], principal: access.Principal
) -> Token:
    """The identities of what ``kinds`` of ``namespace`` look like in ``snapshot`` to
    ``principal``."""
    parts: list[object] = []
    for kind in kinds:
        checked = _CHECKED.get(kind)
        if checked is not None:
            parts.append(SHOWN if principal.can_read(namespace, checked) else HIDDEN)
        if kind == "Broker":
            parts.append(snapshot.brokers.groups.get((namespace, "")))
        elif kind == "EventType":
            parts.append(snapshot.event_types.groups.get((namespace, "")))
        elif kind == "Trigger":
            parts.append(snapshot.triggers.groups.get((namespace, "")))
        else:
            parts.append(snapshot.namespaces.get(namespace))
    return tuple(parts)


class CompletedObjects:
    def __init__(self, capacity: int = 200_000) -> None:
        self._capacity = capacity
        self._slots: dict[Hashable, int] = {}
        self._entries: dict[tuple[int, Hashable], tuple[object, Token, orjson.Fragment]] = {}
        self.hits = 0
        self.misses = 0

    def slot(self, selection: Hashable) -> int:
        """A small number standing for one selection shape (stable for this memo's life)."""
        found = self._slots.get(selection)
        if found is None:
            found = self._slots[selection] = len(self._slots)
        return found

    def get(
        self, slot: int, name: Hashable, model: object, current: Token
    ) -> orjson.Fragment | None:
        """The kept JSON of object ``name`` for ``slot``, if it was completed from this very
        ``model`` while what it reads looked like ``current``."""
        entry = self._entries.get((slot, name))
        if entry is None or entry[0] is not model:
            self.misses += 1
            return None
        kept = entry[1]
        for index, part in enumerate(current):
            if kept[index] is not part:
                self.misses += 1
                return None
        self.hits += 1
        return entry[2]

    def put(
        self, slot: int, name: Hashable, model: object, current: Token, completed: Any
    ) -> orjson.Fragment:
        """Serialize ``completed`` once and keep it in place of any older version of the
        object; the fragment goes into the response."""
        # An exact copy: orjson's own bytes keep their growth room (4 KB for a small object).
        fragment = orjson.Fragment(memoryview(orjson.dumps(completed)).tobytes())
        key = (slot, name)
        if key not in self._entries and len(self._entries) >= self._capacity:
            oldest = list(itertools.islice(self._entries, max(1, self._capacity // 10)))
            for old in oldest:
                del self._entries[old]
        self._entries[key] = (model, current, fragment)
        return fragment

    def __len__(self) -> int:
        return len(self._entries)
