"""Per-request context: the caller, and the one snapshot every resolver of the request reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import strawberry

from ..domain.access import Principal
from ..store.caching import Cache
from ..store.snapshots import Snapshot
from .limits import DEFAULT_QUERY_LIMITS, QueryLimits


@dataclass
class Context:
    principal: Principal
    snapshot: Snapshot
    cache: Cache
    services: Any = None
    """Write-side services for mutations (set by the app; None in read-only tests)."""
    hub: Any = None
    """The live-change hub for subscriptions (set by the app)."""
    connection_params: dict[str, Any] | None = None
    """The WebSocket ``connection_init`` payload (subscriptions only)."""
    request: Any = None
    completed: Any = None
    """Completed objects kept between requests (:class:`~.completed.CompletedObjects`), or None."""
    memo: dict[Any, Any] = field(default_factory=dict)
    """Per-request memo for derived data shared by resolvers (consumers per namespace...)."""
    limits: QueryLimits = DEFAULT_QUERY_LIMITS
    """The server's query cost and response size limits (set by the app)."""


Info = strawberry.Info[Context, None]
