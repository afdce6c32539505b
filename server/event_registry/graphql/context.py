"""Per-request context: the caller, and the one snapshot every resolver of the request reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import strawberry
from starlette.requests import HTTPConnection

from ..domain.access import Principal
from ..hub.hub import Hub
from ..store.caching import Cache
from ..store.snapshots import Snapshot
from .completed import CompletedObjects
from .limits import DEFAULT_QUERY_LIMITS, QueryLimits
from .writing import WritePort


@dataclass
class Context:
    principal: Principal
    snapshot: Snapshot
    cache: Cache
    services: WritePort | None = None
    """The write port for mutations (set by the app; None: read-only)."""
    hub: Hub | None = None
    """The live-change hub for subscriptions (set by the app; None: no subscriptions)."""
    connection_params: dict[str, Any] | None = None
    """The WebSocket ``connection_init`` payload (subscriptions only)."""
    request: HTTPConnection | None = None
    """The HTTP request or WebSocket the operation came in (None when executed directly)."""
    completed: CompletedObjects | None = None
    """Completed objects kept between requests, or None."""
    memo: dict[Any, Any] = field(default_factory=dict)
    """Per-request memo for derived data shared by resolvers (consumers per namespace...)."""
    limits: QueryLimits = DEFAULT_QUERY_LIMITS
    """The server's query cost and response size limits (set by the app)."""


Info = strawberry.Info[Context, None]
