"""Work queues for controllers: each key queued once, failures retried with capped backoff.

As client-go's ``workqueue``: a key waiting is queued once however often it is added; a key
added while it is being processed is processed once more afterwards (never twice at once);
:meth:`WorkQueue.retry` adds a key again after a capped, jittered, exponentially growing
delay, which :meth:`WorkQueue.forget` resets once the key succeeds. Keys are any hashable.
The readiness controller and the source registrar both work from it.
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


class WorkQueue(Generic[K]):
    def __init__(self, *, retry_initial: float = 0.05, retry_max: float = 30.0) -> None:
        self._order: deque[K] = deque()
        self._waiting: set[K] = set()
        self._processing: set[K] = set()
        self._again: set[K] = set()
        self._wake = asyncio.Event()
        self._retry_initial, self._retry_max = retry_initial, retry_max
        self._failures: dict[K, int] = {}
        self._retries: dict[K, asyncio.TimerHandle] = {}

    def add(self, key: K) -> None:
        if key in self._processing:
            self._again.add(key)
        elif key not in self._waiting:
            self._waiting.add(key)
            self._order.append(key)
            self._wake.set()

    async def get(self) -> K:
        while not self._order:
            self._wake.clear()
            await self._wake.wait()
        key = self._order.popleft()
        self._waiting.discard(key)
        self._processing.add(key)
        return key

    def done(self, key: K) -> None:
        self._processing.discard(key)
        if key in self._again:
            self._again.discard(key)
            self.add(key)

    def retry(self, key: K) -> None:
        """Add ``key`` again after its backoff delay (which grows with each retry)."""
        attempt = self._failures.get(key, 0)
        self._failures[key] = attempt + 1
        delay = min(self._retry_max, self._retry_initial * 2**attempt) * random.uniform(0.5, 1.0)
        if (old := self._retries.pop(key, None)) is not None:
            old.cancel()

        def fire() -> None:
            self._retries.pop(key, None)
            self.add(key)

        self._retries[key] = asyncio.get_running_loop().call_later(delay, fire)

    def forget(self, key: K) -> None:
        """``key`` succeeded: its next failure starts the backoff over."""
        self._failures.pop(key, None)

    def close(self) -> None:
        """Cancel pending retries."""
        for handle in self._retries.values():
            handle.cancel()
        self._retries.clear()

    @property
    def idle(self) -> bool:
        """Nothing queued, processing or awaiting a retry."""
        return not self._order and not self._processing and not self._retries

    def __len__(self) -> int:
        return len(self._order)
