"""Typed results of mutations: success members and the expected failures.

Expected failures are data, not errors: ``ValidationFailed`` (with field-level detail),
``AlreadyExists``, ``NotFound``, ``Forbidden``, ``Conflict``, and ``Unavailable`` when the
cluster did not answer the write (unreachable, timed out, 5xx or 429: retry). Only bugs end
up in the response's ``errors``.
"""

from __future__ import annotations

from typing import Annotated

import strawberry

from ..domain.writes import FieldError as DomainFieldError
from .cost import COST, Estimate
from .types import Broker, EventType, Trigger


@strawberry.type(description="One problem with one input field.")
class FieldError:
    field: str = strawberry.field(description="Path of the input field, e.g. input.type.")
    reason: str = strawberry.field(description="Required, Invalid, TooLong, NotSupported...")
    message: str

    @staticmethod
    def of(error: DomainFieldError) -> FieldError:
        return FieldError(field=error.field, reason=error.reason, message=error.message)


@strawberry.type(description="The input is invalid; nothing was written.")
class ValidationFailed:
    message: str
    errors: list[FieldError] = strawberry.field(metadata={COST: Estimate(10)})


@strawberry.type(description="An object with that name already exists; nothing was written.")
class AlreadyExists:
    message: str
    kind: str
    namespace: str
    name: str


@strawberry.type(description="The namespace or object does not exist (or is not visible).")
class NotFound:
    message: str
    kind: str
    namespace: str
    name: str | None


@strawberry.type(description="The caller may not write in this namespace; nothing was written.")
class Forbidden:
    message: str
    namespace: str


@strawberry.type(description="A concurrent change got in the way; retry.")
class Conflict:
    message: str


@strawberry.type(description="The EventType is registered and visible in queries.")
class EventTypeRegistered:
    event_type: EventType
    broker_exists: bool = strawberry.field(
        description="False: the Broker does not exist yet; the EventType is not consumable."
    )
    warnings: list[str]


@strawberry.type(description="The Trigger exists (created now, or found for an idempotent call).")
class TriggerCreated:
    trigger: Trigger
    created: bool = strawberry.field(description="False when an identical Trigger existed.")


@strawberry.type
class BrokerCreated:
    broker: Broker


@strawberry.type(description="The object is deleted and gone from queries.")
class Deleted:
    kind: str
    namespace: str
    name: str


@strawberry.type(
    description=(
        "The cluster did not answer the write (unreachable, timed out, overloaded or failing):"
        " not the input's fault; retry. When the answer was lost on its way back the write may"
        " have been made: a retry may then find it (AlreadyExists, or NotFound for a delete)."
    )
)
class Unavailable:
    message: str
    retry_after_seconds: int = strawberry.field(
        description="A hint: seconds to wait before retrying."
    )


Failure = ValidationFailed | AlreadyExists | NotFound | Forbidden | Conflict | Unavailable

RegisterEventTypeResult = Annotated[
    EventTypeRegistered
    | ValidationFailed
    | AlreadyExists
    | NotFound
    | Forbidden
    | Conflict
    | Unavailable,
    strawberry.union("RegisterEventTypeResult"),
]
CreateTriggerResult = Annotated[
    TriggerCreated
    | ValidationFailed
    | AlreadyExists
    | NotFound
    | Forbidden
    | Conflict
    | Unavailable,
    strawberry.union("CreateTriggerResult"),
]
CreateBrokerResult = Annotated[
    BrokerCreated
    | ValidationFailed
    | AlreadyExists
    | NotFound
    | Forbidden
    | Conflict
    | Unavailable,
    strawberry.union("CreateBrokerResult"),
]
DeleteResult = Annotated[
    Deleted | NotFound | Forbidden | Conflict | Unavailable, strawberry.union("DeleteResult")
]
