"""A bounded cache whose entries expire: what authentication decisions are kept in.

Guarantees: an entry is returned until its own deadline (set when it was put, from the TTL
given then, so allowed and denied answers can live for different times) and never after;
at most ``max_entries`` are kept, the least recently used going first; :meth:`clear` forgets
everything at once (RBAC changed). Pure data and a clock passed in: no I/O, no waiting.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class ExpiringCache(Generic[K, V]):
    def __init__(self, max_entries: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._max = max(1, max_entries)
        self.clock = clock

    def get(self, key: K) -> tuple[V, float] | None:
        """(value, deadline) while the entry lives; None when missing or expired."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        deadline, value = entry
        if self.clock() >= deadline:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return value, deadline

    def put(self, key: K, value: V, ttl: float) -> float:
        """Keep ``value`` for ``ttl`` seconds; its deadline."""
        deadline = self.clock() + ttl
        self._entries[key] = (deadline, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)
        return deadline

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
