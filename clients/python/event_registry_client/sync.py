"""A blocking facade over :class:`~event_registry_client.client.AsyncRegistryClient`.

For scripts without an event loop::

    with RegistryClient("http://127.0.0.1:8080/graphql") as registry:
        for event_type in registry.iter_event_types("default", consumable=True):
            print(event_type.name)
        for change in registry.event_type_changes("default", include_existing=True):
            ...

Every method has the async client's signature and result; it runs on a private event loop
(an ``asyncio.Runner``) owned by the facade, so it must not be called from inside a running
loop, and one facade serves one thread. Iterators (pages, subscriptions) advance that loop one
item at a time; leaving a ``for`` loop early closes them (and their connection).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, TypeVar

from .client import AsyncRegistryClient
from .reconnection import Reconnection

P = ParamSpec("P")
R = TypeVar("R")


def _blocking(
    method: Callable[Concatenate[AsyncRegistryClient, P], Coroutine[Any, Any, R]],
) -> Callable[Concatenate[RegistryClient, P], R]:
    def run(self: RegistryClient, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return self._runner.run(method(self.async_client, *args, **kwargs))

    run.__name__ = method.__name__
    run.__doc__ = method.__doc__
    return run


def _blocking_iterator(
    method: Callable[Concatenate[AsyncRegistryClient, P], AsyncIterator[R]],
) -> Callable[Concatenate[RegistryClient, P], Iterator[R]]:
    def run(self: RegistryClient, /, *args: P.args, **kwargs: P.kwargs) -> Iterator[R]:
        iterator = method(self.async_client, *args, **kwargs)

        async def step() -> R:
            return await anext(iterator)

        async def close() -> None:
            aclose = getattr(iterator, "aclose", None)
            if aclose is not None:
                await aclose()

        try:
            while True:
                try:
                    item = self._runner.run(step())
                except StopAsyncIteration:
                    return
                yield item
        finally:
            self._runner.run(close())

    run.__name__ = method.__name__
    run.__doc__ = method.__doc__
    return run


class RegistryClient:
    """The registry at ``url``, blocking (see the module doc)."""

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        timeout: float = 30.0,
        reconnection: Reconnection | None = None,
    ) -> None:
        self._runner = asyncio.Runner()
        self.async_client = AsyncRegistryClient(
            url, token=token, timeout=timeout, reconnection=reconnection
        )

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._runner.run(self.async_client.aclose())
        self._runner.close()

    execute = _blocking(AsyncRegistryClient.execute)
    namespaces = _blocking(AsyncRegistryClient.namespaces)
    event_type_page = _blocking(AsyncRegistryClient.event_type_page)
    iter_event_types = _blocking_iterator(AsyncRegistryClient.iter_event_types)
    event_types = _blocking(AsyncRegistryClient.event_types)
    event_type = _blocking(AsyncRegistryClient.event_type)
    brokers = _blocking(AsyncRegistryClient.brokers)
    broker = _blocking(AsyncRegistryClient.broker)
    triggers = _blocking(AsyncRegistryClient.triggers)
    trigger = _blocking(AsyncRegistryClient.trigger)
    register_event_type = _blocking(AsyncRegistryClient.register_event_type)
    subscribe_to_event_type = _blocking(AsyncRegistryClient.subscribe_to_event_type)
    create_trigger = _blocking(AsyncRegistryClient.create_trigger)
    create_broker = _blocking(AsyncRegistryClient.create_broker)
    delete_event_type = _blocking(AsyncRegistryClient.delete_event_type)
    delete_trigger = _blocking(AsyncRegistryClient.delete_trigger)
    delete_broker = _blocking(AsyncRegistryClient.delete_broker)
    event_type_changes = _blocking_iterator(AsyncRegistryClient.event_type_changes)
    readiness_changes = _blocking_iterator(AsyncRegistryClient.readiness_changes)
    broker_changes = _blocking_iterator(AsyncRegistryClient.broker_changes)
