"""The async client: every query, mutation and subscription of the registry, typed.

::

    async with AsyncRegistryClient("http://127.0.0.1:8080/graphql", token=None) as registry:
        async for event_type in registry.iter_event_types(namespace="default", consumable=True):
            print(event_type.name, event_type.ready)
        result = await registry.register_event_type("default", type="com.example.created",
                                                    broker="default")
        async for change in registry.event_type_changes("default", include_existing=True):
            ...

Queries return models (:mod:`event_registry_client.models`), or None for a single object
that does not exist; mutations return their result union (:mod:`event_registry_client.results`),
with expected failures as values; subscriptions are async iterators that reconnect and resume
(:mod:`event_registry_client.subscriptions`). Lists of EventTypes are paged with ``first``
(:data:`PAGE_SIZE` per request), which keeps every request far below the server's query cost
limit. Transport failures raise the tree of :mod:`event_registry_client.errors`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from . import documents, results
from .changes import BrokerChange, EventTypeChange, ReadinessChange, Reconnecting, ResyncRequired
from .models import Broker, EventType, EventTypePage, Json, Namespace, Reference, Trigger
from .reconnection import Reconnection, Target
from .transport import HttpTransport

PAGE_SIZE = 500
"""EventTypes per request of the paging iterators."""


@dataclass(frozen=True)
class EventTypeFilter:
    """Criteria an EventType must all meet (None: any)."""

    broker: str | None = None
    type: str | None = None
    """The exact CloudEvents type."""
    type_prefix: str | None = None
    source: str | None = None
    ready: bool | None = None
    consumable: bool | None = None
    search: str | None = None
    """Case-insensitive text in type, source or description."""

    def as_input(self) -> Json | None:
        """The ``EventTypeFilter`` input (None when no criterion is set)."""
        criteria = {
            "broker": self.broker,
            "type": self.type,
            "typePrefix": self.type_prefix,
            "source": self.source,
            "ready": self.ready,
            "consumable": self.consumable,
            "search": self.search,
        }
        given = {key: value for key, value in criteria.items() if value is not None}
        return given or None


def _filter_input(filter: EventTypeFilter | None) -> Json | None:
    return None if filter is None else filter.as_input()


def subscriber_input(uri: str | None = None, ref: Reference | None = None) -> Json:
    return {"uri": uri, "ref": None if ref is None else ref.as_input()}


class AsyncRegistryClient:
    """One registry at ``url`` (its ``/graphql`` endpoint), as one token (None: open mode)."""

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        timeout: float = 30.0,
        reconnection: Reconnection | None = None,
        transport: HttpTransport | None = None,
    ) -> None:
        self.url = url
        self.token = token
        self.reconnection = reconnection or Reconnection()
        self._transport = transport or HttpTransport(url, token=token, timeout=timeout)

    async def __aenter__(self) -> AsyncRegistryClient:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._transport.aclose()

    async def execute(self, document: str, variables: dict[str, Any] | None = None) -> Json:
        """Any GraphQL document; its ``data`` (errors raised as GraphQLError)."""
        return await self._transport.execute(document, variables)

    # queries ---------------------------------------------------------------------------------

    async def namespaces(self) -> list[Namespace]:
        data = await self.execute(documents.NAMESPACES)
        return [Namespace.from_json(raw) for raw in data["namespaces"]]

    async def event_type_page(
        self,
        namespace: str | None = None,
        *,
        first: int = PAGE_SIZE,
        after: str | None = None,
        filter: EventTypeFilter | None = None,
    ) -> EventTypePage:
        """One page of EventTypes (ordered by namespace, then name; all namespaces: None)."""
        data = await self.execute(
            documents.EVENT_TYPES,
            {
                "namespace": namespace,
                "filter": _filter_input(filter),
                "first": first,
                "after": after,
            },
        )
        connection = data["eventTypes"]
        page_info = connection["pageInfo"]
        return EventTypePage(
            items=tuple(EventType.from_json(raw) for raw in connection["nodes"]),
            total_count=int(connection["totalCount"]),
            end_cursor=page_info.get("endCursor"),
            has_next_page=bool(page_info["hasNextPage"]),
        )

    async def iter_event_types(
        self,
        namespace: str | None = None,
        *,
        filter: EventTypeFilter | None = None,
        page_size: int = PAGE_SIZE,
    ) -> AsyncIterator[EventType]:
        """Every EventType matching ``filter``, page by page."""
        after: str | None = None
        while True:
            page = await self.event_type_page(
                namespace, first=page_size, after=after, filter=filter
            )
            for item in page.items:
                yield item
            if not page.has_next_page or page.end_cursor is None:
                return
            after = page.end_cursor

    async def event_types(
        self, namespace: str | None = None, *, filter: EventTypeFilter | None = None
    ) -> list[EventType]:
        """:meth:`iter_event_types` as a list."""
        return [item async for item in self.iter_event_types(namespace, filter=filter)]

    async def event_type(self, namespace: str, name: str) -> EventType | None:
        """One EventType with its labels, conditions, attributes, reference, owner and the
        Triggers that may consume it; None if it does not exist (or is not visible)."""
        data = await self.execute(documents.EVENT_TYPE, {"namespace": namespace, "name": name})
        raw = data["eventType"]
        return None if raw is None else EventType.from_json(raw)

    async def brokers(self, namespace: str | None = None) -> list[Broker]:
        data = await self.execute(documents.BROKERS, {"namespace": namespace})
        return [Broker.from_json(raw) for raw in data["brokers"]]

    async def broker(self, namespace: str, name: str) -> Broker | None:
        data = await self.execute(documents.BROKER, {"namespace": namespace, "name": name})
        raw = data["broker"]
        return None if raw is None else Broker.from_json(raw)

    async def triggers(
        self, namespace: str | None = None, *, broker: str | None = None
    ) -> list[Trigger]:
        data = await self.execute(documents.TRIGGERS, {"namespace": namespace, "broker": broker})
        return [Trigger.from_json(raw) for raw in data["triggers"]]

    async def trigger(self, namespace: str, name: str) -> Trigger | None:
        for trigger in await self.triggers(namespace):
            if trigger.name == name:
                return trigger
        return None

    # mutations -------------------------------------------------------------------------------

    async def register_event_type(
        self,
        namespace: str,
        *,
        type: str | None = None,
        name: str | None = None,
        generate_name: str | None = None,
        source: str | None = None,
        schema: str | None = None,
        schema_data: str | None = None,
        description: str | None = None,
        broker: str | None = None,
        reference: Reference | None = None,
        attributes: list[Json] | None = None,
        labels: dict[str, str] | None = None,
    ) -> results.RegisterEventTypeResult:
        """Register an EventType (``attributes``: ``{name, value, required}`` objects)."""
        payload = {
            "namespace": namespace,
            "type": type,
            "name": name,
            "generateName": generate_name,
            "source": source,
            "schema": schema,
            "schemaData": schema_data,
            "description": description,
            "broker": broker,
            "reference": None if reference is None else reference.as_input(),
            "attributes": attributes,
            "labels": _labels(labels),
        }
        data = await self.execute(documents.REGISTER_EVENT_TYPE, {"input": payload})
        return results.register_result(data["result"])

    async def subscribe_to_event_type(
        self,
        namespace: str,
        name: str,
        *,
        uri: str | None = None,
        ref: Reference | None = None,
        trigger_name: str | None = None,
    ) -> results.CreateTriggerResult:
        """A Trigger on the EventType's Broker, filtered on its type and source (idempotent)."""
        data = await self.execute(
            documents.SUBSCRIBE_TO_EVENT_TYPE,
            {
                "namespace": namespace,
                "name": name,
                "subscriber": subscriber_input(uri, ref),
                "triggerName": trigger_name,
            },
        )
        return results.trigger_result(data["result"])

    async def create_trigger(
        self,
        namespace: str,
        *,
        broker: str,
        uri: str | None = None,
        ref: Reference | None = None,
        name: str | None = None,
        generate_name: str | None = None,
        filter: dict[str, str] | None = None,
        filters: Any = None,
        delivery: Any = None,
        labels: dict[str, str] | None = None,
    ) -> results.CreateTriggerResult:
        payload = {
            "namespace": namespace,
            "broker": broker,
            "subscriber": subscriber_input(uri, ref),
            "name": name,
            "generateName": generate_name,
            "filter": _labels(filter),
            "filters": filters,
            "delivery": delivery,
            "labels": _labels(labels),
        }
        data = await self.execute(documents.CREATE_TRIGGER, {"input": payload})
        return results.trigger_result(data["result"])

    async def create_broker(
        self,
        namespace: str,
        name: str,
        *,
        broker_class: str | None = None,
        config: Reference | None = None,
        labels: dict[str, str] | None = None,
    ) -> results.CreateBrokerResult:
        payload = {
            "namespace": namespace,
            "name": name,
            "class": broker_class,
            "config": None if config is None else config.as_input(),
            "labels": _labels(labels),
        }
        data = await self.execute(documents.CREATE_BROKER, {"input": payload})
        return results.broker_result(data["result"])

    async def delete_event_type(self, namespace: str, name: str) -> results.DeleteResult:
        return await self._delete(documents.DELETE_EVENT_TYPE, namespace, name)

    async def delete_trigger(self, namespace: str, name: str) -> results.DeleteResult:
        return await self._delete(documents.DELETE_TRIGGER, namespace, name)

    async def delete_broker(self, namespace: str, name: str) -> results.DeleteResult:
        return await self._delete(documents.DELETE_BROKER, namespace, name)

    async def _delete(self, document: str, namespace: str, name: str) -> results.DeleteResult:
        data = await self.execute(document, {"namespace": namespace, "name": name})
        return results.delete_result(data["result"])

    # subscriptions ---------------------------------------------------------------------------

    def event_type_changes(
        self,
        namespace: str | None = None,
        *,
        include_existing: bool = False,
        since: str | None = None,
        filter: EventTypeFilter | None = None,
        reconnection: Reconnection | None = None,
    ) -> AsyncIterator[EventTypeChange | ResyncRequired | Reconnecting]:
        """EventType changes, in order, exactly once across reconnects (resumed with
        ``since``); ResyncRequired, then the current state, when that is impossible."""
        from .subscriptions import event_type_changes

        return event_type_changes(
            Target(self.url, self.token),
            documents.EVENT_TYPE_CHANGES,
            {"namespace": namespace, "filter": _filter_input(filter)},
            include_existing=include_existing,
            since=since,
            reconnection=reconnection or self.reconnection,
        )

    def readiness_changes(
        self,
        namespace: str | None = None,
        *,
        filter: EventTypeFilter | None = None,
        reconnection: Reconnection | None = None,
    ) -> AsyncIterator[ReadinessChange | ResyncRequired | Reconnecting]:
        """Transitions of ready or consumable (a Broker flip reports each EventType)."""
        from .subscriptions import live_changes

        return live_changes(
            Target(self.url, self.token),
            documents.READINESS_CHANGES,
            {"namespace": namespace, "filter": _filter_input(filter)},
            "eventTypeReadinessChanged",
            ReadinessChange.from_json,
            reconnection=reconnection or self.reconnection,
        )

    def broker_changes(
        self, namespace: str | None = None, *, reconnection: Reconnection | None = None
    ) -> AsyncIterator[BrokerChange | ResyncRequired | Reconnecting]:
        from .subscriptions import live_changes

        return live_changes(
            Target(self.url, self.token),
            documents.BROKER_CHANGES,
            {"namespace": namespace},
            "brokerChanges",
            BrokerChange.from_json,
            reconnection=reconnection or self.reconnection,
        )


def _labels(labels: dict[str, str] | None) -> list[Json] | None:
    if labels is None:
        return None
    return [{"key": key, "value": value} for key, value in labels.items()]
