"""The client's exception tree, in one place.

Every failure the client raises is a :class:`RegistryError`; the underlying cause (an
``httpx`` or ``websockets`` exception) is chained as ``__cause__``. Expected outcomes of a
mutation (NotFound, Forbidden, ValidationFailed...) are *returned* as typed result members
(:mod:`event_registry_client.models`), not raised; the sync facade and ``kreg`` turn them into
these errors where a script wants one.

::

    RegistryError
    ├── UnreachableError        no connection (refused, DNS, timeout)
    │   └── UnavailableError    the server's cluster did not answer a write (an Unavailable
    │                           result): retry
    ├── UnauthorizedError       401 / WebSocket 4401, 4403: no or wrong token
    ├── ForbiddenError          the token may not write there (a Forbidden result)
    ├── NotFoundError           the object or namespace does not exist (or is not visible)
    ├── InvalidInputError       a ValidationFailed result: its field errors
    ├── ConflictError           AlreadyExists or Conflict
    ├── GraphQLError            the answer carries ``errors`` (e.g. a bad cursor, query cost)
    ├── ServerError             any other HTTP status, a malformed answer
    └── SubscriptionError       a subscription the server ended (close code and reason)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class RegistryError(Exception):
    """Anything the Event Registry client could not do."""


class UnreachableError(RegistryError):
    """The server could not be reached (connection refused, DNS, timeout)."""


class UnavailableError(UnreachableError):
    """The server answered, but its cluster did not answer the write (an Unavailable
    result); retrying after ``retry_after_seconds`` may succeed."""

    def __init__(self, message: str, retry_after_seconds: int = 1) -> None:
        super().__init__(f"{message} (retry after {retry_after_seconds}s)")
        self.retry_after_seconds = retry_after_seconds


class UnauthorizedError(RegistryError):
    """The server refused the credentials (HTTP 401, WebSocket close 4401 or 4403)."""


class ForbiddenError(RegistryError):
    """The token may not write in this namespace."""


class NotFoundError(RegistryError):
    """The object or its namespace does not exist, or the token may not read it."""


@dataclass(frozen=True)
class Cause:
    """One invalid input field of a ValidationFailed result."""

    field: str
    reason: str
    message: str


class InvalidInputError(RegistryError):
    """The input was invalid; nothing was written. ``causes`` names each field."""

    def __init__(self, message: str, causes: Sequence[Cause] = ()) -> None:
        missing = [c for c in causes if c.message not in message]
        detail = "; ".join(f"{cause.field}: {cause.message}" for cause in missing)
        super().__init__(f"{message}: {detail}" if detail else message)
        self.causes = tuple(causes)


class ConflictError(RegistryError):
    """The object already exists, or a concurrent change got in the way."""


class GraphQLError(RegistryError):
    """The server answered with GraphQL ``errors``."""

    def __init__(self, messages: Sequence[str]) -> None:
        super().__init__("; ".join(messages) or "the server answered with errors")
        self.messages = tuple(messages)


class ServerError(RegistryError):
    """An HTTP status other than 200 or 401, or an answer that is not GraphQL."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class SubscriptionError(RegistryError):
    """The server ended a subscription in a way a reconnect cannot fix."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code
