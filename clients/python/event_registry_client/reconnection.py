"""How and where a subscription (re)connects: plain settings, no I/O (so importing them does
not import the WebSocket library; ``kreg get`` never needs it)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .backoff import Backoff


@dataclass(frozen=True)
class Reconnection:
    """How a subscription reconnects."""

    backoff: Backoff = field(default_factory=Backoff)
    max_attempts: int | None = None
    retry_first: bool = False
    open_timeout: float = 10.0


@dataclass(frozen=True)
class Target:
    """Where and as whom to subscribe."""

    url: str
    token: str | None = None
