"""Reconnect delays: exponential backoff with jitter, as a pure function of the attempt.

Attempt 1 waits about ``initial`` seconds, each further attempt doubles it up to ``maximum``;
the delay is drawn uniformly from the upper half of that span ("equal jitter"), so clients
that lost the same server at once do not come back at once, and none retries immediately.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    initial: float = 0.5
    maximum: float = 30.0
    multiplier: float = 2.0

    def delay(self, attempt: int, draw: Callable[[], float] = random.random) -> float:
        """Seconds to wait before reconnect ``attempt`` (1, 2, ...)."""
        span = min(self.maximum, self.initial * self.multiplier ** max(0, attempt - 1))
        return span / 2 + draw() * span / 2
