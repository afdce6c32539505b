"""How much the ingress accepts: event size, and EventTypes auto-created per Broker and namespace.

A flood of events with random types must not fill the store: auto-creation is allowed at most
``per_broker_per_minute`` new EventTypes per Broker in any sliding minute, and only while the
namespace holds fewer than ``per_namespace`` auto-created EventTypes. Events are accepted
either way; only the registration of their type is skipped (and logged). Knative itself has
no such limit.

:class:`SlidingWindow` is pure (the clock is passed in), so it is tested without waiting.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass

MiB = 1024 * 1024


@dataclass(frozen=True)
class IngressSettings:
    """The ingress' settings (``--ingress-*`` flags of ``serve`` and ``controlplane``)."""

    host: str = "127.0.0.1"
    port: int = 8002
    """0: any free port."""
    max_event_size: int = 1 * MiB
    """Largest request body (one event, or a batch); larger gets 413."""
    per_broker_per_minute: int = 60
    """New EventTypes auto-created per Broker in any sliding minute."""
    per_namespace: int = 1000
    """Auto-created EventTypes a namespace may hold; beyond, none is created."""
    features_interval: float = 1.0
    """Seconds between readings of ``knative-eventing/config-features``."""
    pending_limit: int = 1000
    """EventTypes waiting to be created; beyond, new types are skipped until the queue drains."""


class SlidingWindow:
    """At most ``limit`` admissions per key in any ``window`` seconds."""

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._times: dict[Hashable, deque[float]] = {}

    def admit(self, key: Hashable, now: float) -> bool:
        """Take one admission for ``key`` at time ``now``; False (nothing taken) when full."""
        times = self._times.setdefault(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(times) >= self.limit:
            return False
        times.append(now)
        return True

    def forget_idle(self, now: float) -> None:
        """Drop keys with no admission in the last window (bounds memory over many Brokers)."""
        for key in [k for k, t in self._times.items() if not t or t[-1] <= now - self.window]:
            del self._times[key]
