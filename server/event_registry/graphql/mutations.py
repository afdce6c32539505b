"""The Mutation root: register EventTypes, create Triggers and Brokers, delete them.

Creating follows one path: validate the input purely (ValidationFailed, before anything else
is looked at) → authorize (a namespace the caller cannot read, or that does not exist, is
"not found"; one it cannot write is "forbidden") → write through the write port
(:class:`~.writing.WritePort`) → wait until the cache has observed the write → answer from
the cache, so a query right after the mutation sees its effect. Deleting authorizes, writes
and waits the same way. ``subscribeToEventType`` authorizes first, since it reads the
EventType it subscribes to (a caller who may not read EventTypes there gets NotFound), then
validates the Trigger it derives; an identical Trigger found is shown only to a caller who
may read Triggers there (others get AlreadyExists, as the cluster's create tells anyone).
A refusal by the cluster arrives as a domain :class:`~..domain.writes.WriteRejected` variant
and becomes the typed result of the same name; a write the cluster did not answer
(:class:`~..domain.writes.Unanswered`) is ``Unavailable``. A failed mutation writes nothing
(except, for ``Unavailable``, a write whose answer was lost on its way back).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from strawberry.scalars import JSON

from ..domain import models, writes
from ..store.caching import Kind
from . import results
from .context import Info
from .results import (
    AlreadyExists,
    BrokerCreated,
    Conflict,
    Deleted,
    EventTypeRegistered,
    FieldError,
    Forbidden,
    NotFound,
    TriggerCreated,
    Unavailable,
    ValidationFailed,
)
from .types import Broker, EventType, Trigger
from .writing import CacheLagged, WritePort


@strawberry.input(description="A reference to a Kubernetes object.")
class ReferenceInput:
    api_version: str
    kind: str
    name: str
    namespace: str | None = None

    def to_domain(self) -> writes.ReferenceInput:
        return writes.ReferenceInput(self.api_version, self.kind, self.name, self.namespace)


@strawberry.input
class LabelInput:
    key: str
    value: str


@strawberry.input(description="A CloudEvents attribute (v1beta3 style).")
class AttributeInput:
    name: str
    value: str | None = None
    required: bool = False


@strawberry.input(description="Register an EventType (written as eventing.knative.dev/v1beta2).")
class RegisterEventTypeInput:
    namespace: str
    type: str | None = strawberry.field(default=None, description="The CloudEvents type.")
    name: str | None = strawberry.field(
        default=None, description="Without name or generateName, one is derived from type."
    )
    generate_name: str | None = None
    source: str | None = None
    schema: str | None = None
    schema_data: str | None = None
    description: str | None = None
    broker: str | None = strawberry.field(
        default=None, description="The Broker's name (it need not exist yet)."
    )
    reference: ReferenceInput | None = None
    attributes: list[AttributeInput] | None = None
    labels: list[LabelInput] | None = None

    def to_domain(self) -> writes.RegisterEventType:
        return writes.RegisterEventType(
            namespace=self.namespace,
            type=self.type,
            name=self.name,
            generate_name=self.generate_name,
            source=self.source,
            schema=self.schema,
            schema_data=self.schema_data,
            description=self.description,
            broker=self.broker,
            reference=self.reference.to_domain() if self.reference else None,
            attributes=tuple(
                writes.AttributeInput(a.name, a.value, a.required) for a in self.attributes or ()
            ),
            labels={label.key: label.value for label in self.labels or ()},
        )


@strawberry.input(description="Where a Trigger delivers: a ref, a uri, or both (uri relative).")
class SubscriberInput:
    ref: ReferenceInput | None = None
    uri: str | None = None

    def to_domain(self) -> writes.SubscriberInput:
        return writes.SubscriberInput(self.ref.to_domain() if self.ref else None, self.uri)


@strawberry.input
class CreateTriggerInput:
    namespace: str
    broker: str
    subscriber: SubscriberInput
    name: str | None = None
    generate_name: str | None = None
    filter: list[LabelInput] | None = strawberry.field(
        default=None, description="Exact attribute matches (spec.filter.attributes)."
    )
    filters: JSON | None = strawberry.field(
        default=None, description="spec.filters: a list of dialect objects (exact, prefix...)."
    )
    delivery: JSON | None = None
    labels: list[LabelInput] | None = None

    def shape_errors(self) -> list[writes.FieldError]:
        """JSON-typed fields whose shape GraphQL cannot check."""
        errors = []
        if self.filters is not None and not isinstance(self.filters, list):
            errors.append(writes.FieldError("input.filters", "Invalid", "expected a list"))
        if self.delivery is not None and not isinstance(self.delivery, dict):
            errors.append(writes.FieldError("input.delivery", "Invalid", "expected an object"))
        return errors

    def to_domain(self) -> writes.CreateTrigger:
        filters = self.filters
        return writes.CreateTrigger(
            namespace=self.namespace,
            broker=self.broker,
            subscriber=self.subscriber.to_domain(),
            name=self.name,
            generate_name=self.generate_name,
            filter_attributes={label.key: label.value for label in self.filter or ()},
            filters=tuple(filters) if isinstance(filters, list) else (),
            delivery=self.delivery if isinstance(self.delivery, dict) else None,
            labels={label.key: label.value for label in self.labels or ()},
        )


@strawberry.input
class CreateBrokerInput:
    namespace: str
    name: str
    broker_class: str | None = strawberry.field(default=None, name="class")
    config: ReferenceInput | None = None
    labels: list[LabelInput] | None = None

    def to_domain(self) -> writes.CreateBroker:
        return writes.CreateBroker(
            namespace=self.namespace,
            name=self.name,
            broker_class=self.broker_class,
            config=self.config.to_domain() if self.config else None,
            labels={label.key: label.value for label in self.labels or ()},
        )


# shared steps -----------------------------------------------------------------------------


def _services(info: Info) -> WritePort:
    services = info.context.services
    if services is None:
        raise RuntimeError("this server is read-only (no write services configured)")
    return services


def _authorize(info: Info, namespace: str) -> results.Failure | None:
    principal = info.context.principal
    if (
        not principal.can_read(namespace)
        or info.context.cache.snapshot.namespace(namespace) is None
    ):
        return NotFound(
            message=f'namespace "{namespace}" not found',
            kind="Namespace",
            namespace=namespace,
            name=None,
        )
    if not principal.can_write(namespace):
        return Forbidden(
            message=f'writing in namespace "{namespace}" is not allowed for this caller',
            namespace=namespace,
        )
    return None


def _invalid(errors: list[writes.FieldError]) -> ValidationFailed:
    return ValidationFailed(
        message="; ".join(f"{e.field}: {e.message}" for e in errors),
        errors=[FieldError.of(e) for e in errors],
    )


def _rejected(error: writes.WriteRejected, kind: str, namespace: str, name: str) -> results.Failure:
    if isinstance(error, writes.AlreadyExists):
        return AlreadyExists(message=error.message, kind=kind, namespace=namespace, name=name)
    if isinstance(error, writes.Conflict):
        return Conflict(message=error.message)
    if isinstance(error, writes.NotFound):
        return NotFound(message=error.message, kind=kind, namespace=namespace, name=name or None)
    if isinstance(error, writes.Forbidden):
        return Forbidden(message=error.message, namespace=namespace)
    if isinstance(error, writes.Invalid):
        return _invalid(list(error.causes))
    raise error


def _unavailable(error: writes.Unanswered) -> Unavailable:
    return Unavailable(message=error.message, retry_after_seconds=error.retry_after_seconds)


async def _create(
    info: Info, kind: Kind, namespace: str, manifest: dict[str, Any]
) -> tuple[Any, results.Failure | None]:
    """Write, then wait for the cache; (model, None) or (None, failure)."""
    services = _services(info)
    name = manifest["metadata"].get("name", "")
    try:
        stored = await services.create(kind, namespace, manifest)
    except writes.WriteRejected as error:
        return None, _rejected(error, kind, namespace, name)
    except writes.Unanswered as error:
        return None, _unavailable(error)
    meta = stored.get("metadata") or {}
    name, version = meta.get("name", name), meta.get("resourceVersion")
    model = await info.context.cache.wait_for(kind, namespace, name, version, services.timeout)
    if model is None:
        raise CacheLagged(
            f"{kind} {namespace}/{name} was written but the cache did not see it within "
            f"{services.timeout:g}s; query it again shortly"
        )
    info.context.snapshot = info.context.cache.snapshot
    return model, None


async def _validated_create(
    info: Info,
    kind: Kind,
    namespace: str,
    errors: list[writes.FieldError],
    manifest: Callable[[], dict[str, Any]],
) -> tuple[Any, results.Failure | None]:
    """Validate, then authorize, then :func:`_create`; nothing is written unless all pass."""
    if errors:
        return None, _invalid(errors)
    denied = _authorize(info, namespace)
    if denied is not None:
        return None, denied
    return await _create(info, kind, namespace, manifest())


async def _delete(info: Info, kind: Kind, namespace: str, name: str) -> results.DeleteResult:
    denied = _authorize(info, namespace)
    if denied is not None:
        return denied  # type: ignore[return-value]
    services = _services(info)
    try:
        await services.delete(kind, namespace, name)
    except writes.WriteRejected as error:
        return _rejected(error, kind, namespace, name)  # type: ignore[return-value]
    except writes.Unanswered as error:
        return _unavailable(error)
    await info.context.cache.wait_for(kind, namespace, name, None, services.timeout)
    info.context.snapshot = info.context.cache.snapshot
    return Deleted(kind=kind, namespace=namespace, name=name)


def _same_subscription(existing: models.Trigger, request: writes.CreateTrigger) -> bool:
    subscriber = existing.subscriber
    wanted = request.subscriber
    namespace = existing.meta.namespace
    same_ref = (subscriber.ref is None and wanted.ref is None) or (
        subscriber.ref is not None
        and wanted.ref is not None
        and (
            subscriber.ref.api_version,
            subscriber.ref.kind,
            subscriber.ref.name,
            subscriber.ref.namespace or namespace,
        )
        == (
            wanted.ref.api_version,
            wanted.ref.kind,
            wanted.ref.name,
            wanted.ref.namespace or namespace,
        )
    )
    return (
        existing.broker == request.broker
        and dict(existing.filter_attributes) == dict(request.filter_attributes)
        and same_ref
        and subscriber.uri == wanted.uri
    )


# the root ---------------------------------------------------------------------------------


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Register an EventType (by hand, as the seed describes).")
    async def register_event_type(
        self, info: Info, input: RegisterEventTypeInput
    ) -> results.RegisterEventTypeResult:
        request = input.to_domain()
        model, failure = await _validated_create(
            info,
            "EventType",
            request.namespace,
            writes.register_event_type_errors(request),
            lambda: writes.event_type_manifest(request),
        )
        if failure is not None:
            return failure
        snapshot = info.context.snapshot
        broker_exists = snapshot.broker_of(model) is not None
        warnings = (
            []
            if broker_exists or not model.broker
            else [
                f'Broker "{model.broker}" does not exist yet: the EventType is not consumable '
                "until it does"
            ]
        )
        return EventTypeRegistered(
            event_type=EventType(model=model), broker_exists=broker_exists, warnings=warnings
        )

    @strawberry.mutation
    async def delete_event_type(
        self, info: Info, namespace: str, name: str
    ) -> results.DeleteResult:
        return await _delete(info, "EventType", namespace, name)

    @strawberry.mutation
    async def create_trigger(
        self, info: Info, input: CreateTriggerInput
    ) -> results.CreateTriggerResult:
        request = input.to_domain()
        model, failure = await _validated_create(
            info,
            "Trigger",
            request.namespace,
            input.shape_errors() + writes.create_trigger_errors(request),
            lambda: writes.trigger_manifest(request),
        )
        if failure is not None:
            return failure
        return TriggerCreated(trigger=Trigger(model=model), created=True)

    @strawberry.mutation(
        description="Subscribe to an EventType: a Trigger on its Broker filtered on its exact "
        "type and source. Idempotent for the same EventType and subscriber."
    )
    async def subscribe_to_event_type(
        self,
        info: Info,
        namespace: str,
        name: str,
        subscriber: SubscriberInput,
        trigger_name: str | None = None,
    ) -> results.CreateTriggerResult:
        denied = _authorize(info, namespace)
        if denied is not None:
            return denied
        event_type = info.context.cache.snapshot.event_type(namespace, name)
        if event_type is None or not info.context.principal.can_read(namespace, "EventType"):
            return NotFound(
                message=f'EventType "{name}" not found',
                kind="EventType",
                namespace=namespace,
                name=name,
            )
        if not event_type.broker:
            return _invalid(
                [
                    writes.FieldError(
                        "name", "Invalid", "the EventType has no Broker to subscribe through"
                    )
                ]
            )
        request = writes.subscription_request(event_type, subscriber.to_domain(), trigger_name)
        errors = writes.create_trigger_errors(request)
        if errors:
            return _invalid(errors)
        assert request.name is not None
        existing = info.context.cache.snapshot.trigger(namespace, request.name)
        if existing is None:
            model, failure = await _create(
                info, "Trigger", namespace, writes.trigger_manifest(request)
            )
            if failure is None:
                return TriggerCreated(trigger=Trigger(model=model), created=True)
            if not isinstance(failure, AlreadyExists):
                return failure
            found = await info.context.cache.wait_for(
                "Trigger", namespace, request.name, "0", _services(info).timeout
            )
            existing = found if isinstance(found, models.Trigger) else None
            info.context.snapshot = info.context.cache.snapshot
        if (
            existing is not None
            and _same_subscription(existing, request)
            and info.context.principal.can_read(namespace, "Trigger")
        ):
            return TriggerCreated(trigger=Trigger(model=existing), created=False)
        return AlreadyExists(
            message=f'a different Trigger named "{request.name}" exists',
            kind="Trigger",
            namespace=namespace,
            name=request.name,
        )

    @strawberry.mutation
    async def delete_trigger(self, info: Info, namespace: str, name: str) -> results.DeleteResult:
        return await _delete(info, "Trigger", namespace, name)

    @strawberry.mutation
    async def create_broker(
        self, info: Info, input: CreateBrokerInput
    ) -> results.CreateBrokerResult:
        request = input.to_domain()
        model, failure = await _validated_create(
            info,
            "Broker",
            request.namespace,
            writes.create_broker_errors(request),
            lambda: writes.broker_manifest(request),
        )
        if failure is not None:
            return failure
        return BrokerCreated(broker=Broker(model=model))

    @strawberry.mutation
    async def delete_broker(self, info: Info, namespace: str, name: str) -> results.DeleteResult:
        return await _delete(info, "Broker", namespace, name)
