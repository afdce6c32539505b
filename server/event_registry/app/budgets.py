"""Budgets per caller: how many WebSocket connections and subscriptions one caller, and
everyone together, may hold at once.

A *caller* is the token's name in ``tokens`` mode and the remote address otherwise (``open``
mode, and a ``tokens``-mode connection until its ``connection_init`` names a token):
:func:`caller_for_token` and :func:`caller_for_address` build the keys, which never collide.

Guarantees: a count is taken before the thing it counts exists and given back exactly once,
when it ends (:meth:`Budget.take` / :meth:`Budget.give_back`); a refused take changes
nothing. Every operation is O(1) (one dict entry per caller holding something; the entry
goes when its count reaches zero, so idle callers cost nothing).

New connections are also paced per caller (:class:`RateLimit`, a token bucket): a caller may
open ``burst`` at once and ``rate`` a second after that, so a flood of handshakes from one
caller is refused cheaply (429) instead of taking the CPU every other caller needs. Its memory
is bounded: callers whose bucket has refilled are forgotten once many are remembered.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..domain import access


@dataclass(frozen=True)
class BudgetSettings:
    max_connections: int = 20_000
    max_connections_per_caller: int = 50
    max_subscriptions: int = 100_000
    max_subscriptions_per_caller: int = 1_000
    connection_rate_per_caller: float = 20.0
    """New WebSocket connections a second per caller, after a burst (see
    :attr:`Budgets.BURST_SECONDS`; 0: not paced)."""


class Budget:
    """A count per caller and in total, each with a ceiling."""

    def __init__(self, what: str, *, per_caller: int, total: int, flags: tuple[str, str]) -> None:
        self.what = what
        self.per_caller = per_caller
        self.total = total
        self._flags = flags
        self._counts: dict[str, int] = {}
        self.held = 0

    def take(self, caller: str) -> str | None:
        """Count one more for ``caller``; or, over a ceiling, why not (nothing counted)."""
        held = self._counts.get(caller, 0)
        if held >= self.per_caller:
            return f"too many {self.what} for this caller (max {self.per_caller}, {self._flags[0]})"
        if self.held >= self.total:
            return f"too many {self.what} on this server (max {self.total}, {self._flags[1]})"
        self._counts[caller] = held + 1
        self.held += 1
        return None

    def give_back(self, caller: str) -> None:
        held = self._counts.get(caller, 0)
        if held <= 0:
            return
        if held == 1:
            del self._counts[caller]
        else:
            self._counts[caller] = held - 1
        self.held -= 1

    def held_by(self, caller: str) -> int:
        return self._counts.get(caller, 0)


class RateLimit:
    """A token bucket per caller: ``burst`` at once, then ``rate`` a second (0: unlimited)."""

    REMEMBERED = 10_000
    """Callers kept before those whose bucket is full again are forgotten."""

    def __init__(
        self,
        what: str,
        *,
        rate: float,
        burst: int,
        flag: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.what = what
        self.rate = rate
        self.burst = max(1, burst)
        self._flag = flag
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}

    def allow(self, caller: str) -> str | None:
        """Spend one for ``caller``; or, when its bucket is empty, why not (nothing spent)."""
        if self.rate <= 0:
            return None
        now = self._clock()
        tokens, then = self._buckets.get(caller, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - then) * self.rate)
        if tokens < 1.0:
            self._buckets[caller] = (tokens, now)
            return f"too many new {self.what} from this caller (max {self.rate:g}/s, {self._flag})"
        if len(self._buckets) >= self.REMEMBERED and caller not in self._buckets:
            self._forget_refilled(now)
        self._buckets[caller] = (tokens - 1.0, now)
        return None

    def _forget_refilled(self, now: float) -> None:
        full = [
            caller
            for caller, (tokens, then) in self._buckets.items()
            if tokens + (now - then) * self.rate >= self.burst
        ]
        for caller in full:
            del self._buckets[caller]

    @property
    def remembered(self) -> int:
        return len(self._buckets)


@dataclass
class Budgets:
    """The server's two budgets: WebSocket connections and subscriptions."""

    settings: BudgetSettings = field(default_factory=BudgetSettings)
    connections: Budget = field(init=False)
    subscriptions: Budget = field(init=False)
    connection_rate: RateLimit = field(init=False)

    BURST_SECONDS = 5
    """New connections a caller may open at once: this many seconds' worth at its rate, and at
    least its connection ceiling."""

    def __post_init__(self) -> None:
        settings = self.settings
        self.connections = Budget(
            "connections",
            per_caller=settings.max_connections_per_caller,
            total=settings.max_connections,
            flags=("--max-connections-per-caller", "--max-connections"),
        )
        self.subscriptions = Budget(
            "subscriptions",
            per_caller=settings.max_subscriptions_per_caller,
            total=settings.max_subscriptions,
            flags=("--max-subscriptions-per-caller", "--max-subscriptions"),
        )
        self.connection_rate = RateLimit(
            "connections",
            rate=settings.connection_rate_per_caller,
            burst=max(
                settings.max_connections_per_caller,
                round(settings.connection_rate_per_caller * self.BURST_SECONDS),
            ),
            flag="--connection-rate-per-caller",
        )


def caller_for_token(principal: access.Principal) -> str:
    return f"token:{principal.name}"


def caller_for_address(scope: Any) -> str:
    client = scope.get("client")
    return f"address:{client[0] if client else 'unknown'}"
