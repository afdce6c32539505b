"""The registry's writes through the cluster: domain kinds in, domain errors out.

:class:`ClusterWrites` implements the write port the GraphQL mutations declare
(:class:`~event_registry.graphql.writing.WritePort`). Guarantees:

- EventTypes are written in their storage version (v1beta2), whatever version is watched;
- a refusal is translated here, once, into the domain error saying what happened
  (:class:`~event_registry.domain.writes.WriteRejected`'s variants: NotFound, AlreadyExists,
  Conflict, Forbidden, Invalid with its field causes); no HTTP code leaves this module;
- no answer (the cluster unreachable or timing out, a 5xx or 429 of the API server) is the
  domain's :class:`~event_registry.domain.writes.Unanswered`: not the writer's doing, and
  worth retrying;
- any other failure (the registry's own credentials refused, a status no write expects) is
  :class:`~event_registry.domain.writes.Unanswered` too, saying so, and logged for the
  registry's operator: the caller did nothing wrong, and no write fails without a typed answer.
"""

from __future__ import annotations

import logging
from typing import Any

from ..domain import writes
from ..store.caching import Kind
from . import errors, kinds
from .client import ClusterClient

logger = logging.getLogger(__name__)

RESOURCES: dict[Kind, kinds.ResourceRef] = {
    "EventType": kinds.event_types(),
    "Broker": kinds.BROKERS,
    "Trigger": kinds.TRIGGERS,
    "Namespace": kinds.NAMESPACES,
}
_REASONS: dict[str, writes.Reason] = {
    "FieldValueRequired": "Required",
    "FieldValueTooLong": "TooLong",
    "FieldValueNotSupported": "NotSupported",
}


def field_errors(error: errors.ClusterError) -> tuple[writes.FieldError, ...]:
    """The Status' causes as field errors (reasons Kubernetes has no name for: Invalid)."""
    return tuple(
        writes.FieldError(
            field=str(cause.get("field") or "input"),
            reason=_REASONS.get(str(cause.get("reason")), "Invalid"),
            message=str(cause.get("message") or error.message),
        )
        for cause in error.causes
    )


def rejected(error: errors.ClusterError) -> writes.WriteRejected | None:
    """The domain error for a refusal, or None when the error is no refusal of the write."""
    if isinstance(error, errors.AlreadyExists):
        return writes.AlreadyExists(error.message)
    if isinstance(error, errors.Conflict):
        return writes.Conflict(error.message)
    if isinstance(error, errors.NotFound):
        return writes.NotFound(error.message)
    if isinstance(error, errors.Forbidden):
        return writes.Forbidden(error.message)
    if isinstance(error, errors.Invalid):
        return writes.Invalid(error.message, field_errors(error))
    return None


def unanswered(error: errors.ClusterError) -> writes.Unanswered | None:
    """The domain error for a write the cluster did not answer, or None."""
    if not isinstance(error, errors.Unavailable) and error.code < 500 and error.code != 429:
        return None
    return writes.Unanswered(
        f"the cluster did not answer the write ({error}); it may not have been made: retry"
    )


def unexpected(error: errors.ClusterError) -> writes.Unanswered:
    """The domain error for any other failure: the registry, not its caller, must act."""
    logger.warning("a write failed with an answer no write expects: %s", error)
    if isinstance(error, errors.Unauthorized):
        why = "the cluster refused the registry's own credentials"
    else:
        why = "the cluster answered the write unexpectedly"
    return writes.Unanswered(
        f"{why} ({error}); the write was not made: the registry's operator must look into it",
        retry_after_seconds=30,
    )


def translated(error: errors.ClusterError) -> writes.WriteRejected | writes.Unanswered:
    """What a failed write is in the domain's words; every failure has an answer."""
    return rejected(error) or unanswered(error) or unexpected(error)


class ClusterWrites:
    def __init__(self, client: ClusterClient, *, timeout: float = 10.0) -> None:
        self._client = client
        self.timeout = timeout
        """How long a mutation waits for the cache to observe its write."""

    async def create(self, kind: Kind, namespace: str, manifest: dict[str, Any]) -> dict[str, Any]:
        try:
            return await self._client.create(RESOURCES[kind], namespace, manifest)
        except errors.ClusterError as error:
            raise translated(error) from error

    async def delete(self, kind: Kind, namespace: str, name: str) -> None:
        try:
            await self._client.delete(RESOURCES[kind], namespace, name)
        except errors.ClusterError as error:
            raise translated(error) from error
