"""Mutation results: the schema's result unions as typed Python unions.

Every mutation answers one member of its union, picked by ``__typename``; expected failures
(invalid input, not found, already exists, forbidden, conflict, and unavailable: the
server's cluster did not answer the write) are values, as the server returns them.
:func:`unwrap` turns a failure into the matching
:class:`~event_registry_client.errors.RegistryError` for code that prefers exceptions (the
sync facade's ``*_or_raise`` helpers, ``kreg``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from . import errors
from .models import Broker, EventType, Json, Trigger

S = TypeVar("S")


@dataclass(frozen=True)
class EventTypeRegistered:
    event_type: EventType
    broker_exists: bool
    """False: the Broker does not exist yet, the EventType is not consumable."""
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class TriggerCreated:
    trigger: Trigger
    created: bool
    """False when an identical Trigger existed (subscribeToEventType is idempotent)."""


@dataclass(frozen=True)
class BrokerCreated:
    broker: Broker


@dataclass(frozen=True)
class Deleted:
    kind: str
    namespace: str
    name: str


@dataclass(frozen=True)
class ValidationFailed:
    message: str
    errors: tuple[errors.Cause, ...]


@dataclass(frozen=True)
class AlreadyExists:
    message: str
    kind: str
    namespace: str
    name: str


@dataclass(frozen=True)
class NotFound:
    message: str
    kind: str
    namespace: str
    name: str | None


@dataclass(frozen=True)
class Forbidden:
    message: str
    namespace: str


@dataclass(frozen=True)
class Conflict:
    message: str


@dataclass(frozen=True)
class Unavailable:
    """The server's cluster did not answer the write: retry (after ``retry_after_seconds``)."""

    message: str
    retry_after_seconds: int


Failure = ValidationFailed | AlreadyExists | NotFound | Forbidden | Conflict | Unavailable
RegisterEventTypeResult = EventTypeRegistered | Failure
CreateTriggerResult = TriggerCreated | Failure
CreateBrokerResult = BrokerCreated | Failure
DeleteResult = Deleted | NotFound | Forbidden | Conflict | Unavailable


def failure_from_json(raw: Json) -> Failure:
    """The failure member named by ``__typename`` (anything else is a ServerError)."""
    typename = raw.get("__typename")
    if typename == "ValidationFailed":
        causes = tuple(
            errors.Cause(str(e["field"]), str(e["reason"]), str(e["message"]))
            for e in raw.get("errors") or ()
        )
        return ValidationFailed(str(raw["message"]), causes)
    if typename == "AlreadyExists":
        return AlreadyExists(
            str(raw["message"]), str(raw["kind"]), str(raw["namespace"]), str(raw["name"])
        )
    if typename == "NotFound":
        name = raw.get("missingName")
        return NotFound(
            str(raw["message"]),
            str(raw["kind"]),
            str(raw["namespace"]),
            None if name is None else str(name),
        )
    if typename == "Forbidden":
        return Forbidden(str(raw["message"]), str(raw["namespace"]))
    if typename == "Conflict":
        return Conflict(str(raw["message"]))
    if typename == "Unavailable":
        return Unavailable(str(raw["message"]), int(raw["retryAfterSeconds"]))
    raise errors.ServerError(f"unexpected mutation result {typename!r}")


def register_result(raw: Json) -> RegisterEventTypeResult:
    if raw.get("__typename") == "EventTypeRegistered":
        return EventTypeRegistered(
            EventType.from_json(raw["eventType"]),
            bool(raw["brokerExists"]),
            tuple(str(w) for w in raw.get("warnings") or ()),
        )
    return failure_from_json(raw)


def trigger_result(raw: Json) -> CreateTriggerResult:
    if raw.get("__typename") == "TriggerCreated":
        return TriggerCreated(Trigger.from_json(raw["trigger"]), bool(raw["created"]))
    return failure_from_json(raw)


def broker_result(raw: Json) -> CreateBrokerResult:
    if raw.get("__typename") == "BrokerCreated":
        return BrokerCreated(Broker.from_json(raw["broker"]))
    return failure_from_json(raw)


def delete_result(raw: Json) -> DeleteResult:
    if raw.get("__typename") == "Deleted":
        return Deleted(str(raw["kind"]), str(raw["namespace"]), str(raw["name"]))
    failure = failure_from_json(raw)
    if isinstance(failure, ValidationFailed | AlreadyExists):
        raise errors.ServerError(f"unexpected delete result {type(failure).__name__}")
    return failure


def error_for(failure: Failure) -> errors.RegistryError:
    """The exception a failure member stands for."""
    if isinstance(failure, ValidationFailed):
        return errors.InvalidInputError(failure.message, failure.errors)
    if isinstance(failure, NotFound):
        return errors.NotFoundError(failure.message)
    if isinstance(failure, Forbidden):
        return errors.ForbiddenError(failure.message)
    if isinstance(failure, Unavailable):
        return errors.UnavailableError(failure.message, failure.retry_after_seconds)
    return errors.ConflictError(failure.message)


def unwrap(result: S | Failure) -> S:
    """The success member, or its failure raised as a RegistryError."""
    if isinstance(
        result, ValidationFailed | AlreadyExists | NotFound | Forbidden | Conflict | Unavailable
    ):
        raise error_for(result)
    return result
