"""Budgets per caller: how many WebSocket connections and subscriptions one caller, and
everyone together, may hold at once.

A *caller* is the token's name in ``tokens`` mode and the remote address otherwise (``open``
mode, and a ``tokens``-mode connection until its ``connection_init`` names a token):
:func:`caller_for_token` and :func:`caller_for_address` build the keys, which never collide.

Guarantees: a count is taken before the thing it counts exists and given back exactly once,
when it ends (:meth:`Budget.take` / :meth:`Budget.give_back`); a refused take changes
nothing. Every operation is O(1) (one dict entry per caller holding something; the entry
goes when its count reaches zero, so idle callers cost nothing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..domain import access


@dataclass(frozen=True)
class BudgetSettings:
    max_connections: int = 20_000
    max_connections_per_caller: int = 50
    max_subscriptions: int = 100_000
    max_subscriptions_per_caller: int = 1_000


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


@dataclass
class Budgets:
    """The server's two budgets: WebSocket connections and subscriptions."""

    settings: BudgetSettings = field(default_factory=BudgetSettings)
    connections: Budget = field(init=False)
    subscriptions: Budget = field(init=False)

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


def caller_for_token(principal: access.Principal) -> str:
    return f"token:{principal.name}"


def caller_for_address(scope: Any) -> str:
    client = scope.get("client")
    return f"address:{client[0] if client else 'unknown'}"
