"""Typed Python client for the Knative Event Registry GraphQL API, and the ``kreg`` CLI.

:class:`AsyncRegistryClient` (async, the whole API) and :class:`RegistryClient` (its blocking
facade); models, mutation results, subscription events and the error tree are re-exported
here. See ``clients/python/README.md``.
"""

from .backoff import Backoff
from .changes import (
    BrokerChange,
    ChangeKind,
    EventTypeChange,
    ReadinessChange,
    Reconnecting,
    ResyncRequired,
)
from .client import PAGE_SIZE, AsyncRegistryClient, EventTypeFilter
from .errors import (
    Cause,
    ConflictError,
    ForbiddenError,
    GraphQLError,
    InvalidInputError,
    NotFoundError,
    RegistryError,
    ServerError,
    SubscriptionError,
    UnauthorizedError,
    UnavailableError,
    UnreachableError,
)
from .models import (
    Attribute,
    Broker,
    Condition,
    EventType,
    EventTypePage,
    Label,
    Namespace,
    NamespaceCounts,
    Reference,
    Trigger,
)
from .reconnection import Reconnection
from .results import (
    AlreadyExists,
    BrokerCreated,
    Conflict,
    Deleted,
    EventTypeRegistered,
    Forbidden,
    NotFound,
    TriggerCreated,
    Unavailable,
    ValidationFailed,
    unwrap,
)
from .sync import RegistryClient

__all__ = [
    "PAGE_SIZE",
    "AlreadyExists",
    "AsyncRegistryClient",
    "Attribute",
    "Backoff",
    "Broker",
    "BrokerChange",
    "BrokerCreated",
    "Cause",
    "ChangeKind",
    "Condition",
    "Conflict",
    "ConflictError",
    "Deleted",
    "EventType",
    "EventTypeChange",
    "EventTypeFilter",
    "EventTypePage",
    "EventTypeRegistered",
    "Forbidden",
    "ForbiddenError",
    "GraphQLError",
    "InvalidInputError",
    "Label",
    "Namespace",
    "NamespaceCounts",
    "NotFound",
    "NotFoundError",
    "ReadinessChange",
    "Reconnecting",
    "Reconnection",
    "Reference",
    "RegistryClient",
    "RegistryError",
    "ResyncRequired",
    "ServerError",
    "SubscriptionError",
    "Trigger",
    "TriggerCreated",
    "UnauthorizedError",
    "Unavailable",
    "UnavailableError",
    "UnreachableError",
    "ValidationFailed",
    "unwrap",
]
