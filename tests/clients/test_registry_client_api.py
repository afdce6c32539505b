"""The async client and its sync facade against a real ``event-registry serve`` (tokens mode,
embedded control plane and readiness controller): every query, the paging iterators, every
mutation's typed results, subscriptions, and the error tree (unreachable, 401, forbidden, not
found, validation causes, GraphQL errors).

Tokens: ``WRITER`` writes ``api`` and ``other``; ``READER`` only reads ``api``. One server
for the module; each test writes objects of its own names.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from event_registry_client import (
    AlreadyExists,
    AsyncRegistryClient,
    BrokerCreated,
    ChangeKind,
    Deleted,
    EventTypeChange,
    EventTypeFilter,
    EventTypeRegistered,
    Forbidden,
    ForbiddenError,
    GraphQLError,
    InvalidInputError,
    NotFound,
    NotFoundError,
    Reference,
    RegistryClient,
    TriggerCreated,
    UnauthorizedError,
    UnreachableError,
    ValidationFailed,
    unwrap,
)
from tests.clients.kreg_support import free_port
from tests.support.registry import RegistryProcess, broker, eventtype, write_tokens

API, OTHER = "api", "other"
WRITER = "client-writer-token"
READER = "client-reader-token"
TOKENS = [
    {"token": WRITER, "name": "writer", "namespaces": {API: ["write"], OTHER: ["write"]}},
    {"token": READER, "name": "reader", "namespaces": {API: ["read"]}},
]
PAGED = [f"paged-{index:02d}" for index in range(7)]


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryProcess]:
    base: Path = tmp_path_factory.mktemp("client-api")
    process = RegistryProcess(base / "data", tokens_file=write_tokens(base / "t.yaml", TOKENS))
    process.start()
    try:
        process.wait_ready()
        for namespace in (API, OTHER):
            process.kubectl("create", "namespace", namespace, check=True)
        process.apply(
            broker("default", API),
            *(
                eventtype(
                    name, API, type=f"dev.paged.{name}", source="https://paged", broker="default"
                )
                for name in PAGED
            ),
            eventtype("orphan", API, type="dev.orphan", broker="missing"),
            eventtype("elsewhere", OTHER, type="dev.paged.elsewhere", broker="default"),
        )
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
async def writer(registry: RegistryProcess) -> AsyncIterator[AsyncRegistryClient]:
    async with AsyncRegistryClient(registry.url, token=WRITER) as client:
        yield client


async def until_ready(client: AsyncRegistryClient, names: list[str]) -> None:
    for _ in range(200):
        found = {e.name: e for e in await client.event_types(API)}
        if all(name in found and found[name].ready is not None for name in names):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{names} not reconciled")


# queries -------------------------------------------------------------------------------------


async def test_namespaces_brokers_and_event_types(writer: AsyncRegistryClient) -> None:
    await until_ready(writer, PAGED)
    namespaces = {n.name: n for n in await writer.namespaces()}
    assert set(namespaces) == {API, OTHER}  # the token's namespaces, nothing else
    assert namespaces[API].counts.event_types >= len(PAGED) + 1
    brokers = await writer.brokers(API)
    assert [(b.namespace, b.name) for b in brokers] == [(API, "default")]
    assert (await writer.broker(API, "default")) == brokers[0]
    assert await writer.broker(API, "nope") is None
    one = await writer.event_type(API, "paged-03")
    assert one is not None
    assert (one.type, one.source, one.broker_name, one.consumable) == (
        "dev.paged.paged-03",
        "https://paged",
        "default",
        True,
    )
    assert one.broker is not None
    assert one.broker.ready is True
    assert {c.type for c in one.conditions} >= {"Ready"}
    assert {a.name for a in one.attributes} >= {"type", "source"}
    assert await writer.event_type(API, "nope") is None
    assert await writer.event_type("not-a-namespace", "x") is None


async def test_paging_iterates_every_page_in_order(writer: AsyncRegistryClient) -> None:
    criteria = EventTypeFilter(type_prefix="dev.paged.")
    page = await writer.event_type_page(API, first=3, filter=criteria)
    assert [e.name for e in page.items] == PAGED[:3]
    assert (page.total_count, page.has_next_page) == (len(PAGED), True)
    names = [e.name async for e in writer.iter_event_types(API, filter=criteria, page_size=2)]
    assert names == PAGED
    everywhere = [e.key async for e in writer.iter_event_types(None, filter=criteria, page_size=3)]
    assert everywhere == [f"{API}/{n}" for n in PAGED] + [f"{OTHER}/elsewhere"]
    consumable = await writer.event_types(API, filter=EventTypeFilter(consumable=True))
    assert "orphan" not in {e.name for e in consumable}
    assert {e.name for e in consumable} >= set(PAGED)


# mutations -----------------------------------------------------------------------------------


async def test_register_results_are_typed(writer: AsyncRegistryClient) -> None:
    registered = await writer.register_event_type(
        API, type="dev.typed.created", name="typed-created", source="https://typed"
    )
    assert isinstance(registered, EventTypeRegistered)
    assert registered.event_type.name == "typed-created"
    again = await writer.register_event_type(API, type="dev.typed.created", name="typed-created")
    assert isinstance(again, AlreadyExists)
    assert (again.kind, again.namespace, again.name) == ("EventType", API, "typed-created")
    invalid = await writer.register_event_type(API, name="no-type")
    assert isinstance(invalid, ValidationFailed)
    assert [(c.field, c.reason) for c in invalid.errors] == [("input.type", "Required")]
    with pytest.raises(InvalidInputError) as raised:
        unwrap(invalid)
    assert raised.value.causes == invalid.errors
    missing = await writer.register_event_type("no-such-namespace", type="dev.x")
    assert isinstance(missing, NotFound)
    with pytest.raises(NotFoundError):
        unwrap(missing)


async def test_triggers_brokers_and_deletes(writer: AsyncRegistryClient) -> None:
    subscribed = await writer.subscribe_to_event_type(
        API, "paged-00", uri="http://sink.example.com/", trigger_name="to-sink"
    )
    assert isinstance(subscribed, TriggerCreated)
    assert subscribed.created
    assert [(f.key, f.value) for f in subscribed.trigger.filter] == [
        ("source", "https://paged"),
        ("type", "dev.paged.paged-00"),
    ]
    same = unwrap(
        await writer.subscribe_to_event_type(
            API, "paged-00", uri="http://sink.example.com/", trigger_name="to-sink"
        )
    )
    assert same.created is False
    by_ref = unwrap(
        await writer.create_trigger(
            API,
            broker="default",
            name="by-ref",
            ref=Reference("serving.knative.dev/v1", "Service", "orders"),
            filter={"type": "dev.paged.paged-01"},
        )
    )
    assert by_ref.trigger.subscriber.ref == Reference(
        "serving.knative.dev/v1", "Service", "orders", API
    )
    names = {t.name for t in await writer.triggers(API)}
    assert {"to-sink", "by-ref"} <= names
    assert {t.name for t in await writer.triggers(API, broker="other")} == set()
    assert (await writer.trigger(API, "by-ref")) is not None
    assert await writer.trigger(API, "nope") is None
    created = await writer.create_broker(OTHER, "fresh", labels={"team": "x"})
    assert isinstance(created, BrokerCreated)
    assert created.broker.labels[0].key == "team"
    for deleted in (
        await writer.delete_trigger(API, "by-ref"),
        await writer.delete_broker(OTHER, "fresh"),
        await writer.delete_event_type(API, "orphan"),
    ):
        assert isinstance(deleted, Deleted)
    gone = await writer.delete_trigger(API, "by-ref")
    assert isinstance(gone, NotFound)


# authentication and errors -------------------------------------------------------------------


async def test_a_reader_is_forbidden_to_write_and_blind_elsewhere(
    registry: RegistryProcess,
) -> None:
    async with AsyncRegistryClient(registry.url, token=READER) as reader:
        result = await reader.register_event_type(API, type="dev.reader.try")
        assert isinstance(result, Forbidden)
        with pytest.raises(ForbiddenError):
            unwrap(result)
        assert await reader.event_type(OTHER, "elsewhere") is None
        assert [n.name for n in await reader.namespaces()] == [API]


async def test_no_or_a_wrong_token_is_unauthorized_over_http_and_websocket(
    registry: RegistryProcess,
) -> None:
    for token in (None, "wrong"):
        async with AsyncRegistryClient(registry.url, token=token) as anonymous:
            with pytest.raises(UnauthorizedError, match="unauthorized"):
                await anonymous.namespaces()
            with pytest.raises(UnauthorizedError):
                await anext(anonymous.event_type_changes(API))


async def test_an_unreachable_server_is_one_error() -> None:
    url = f"http://127.0.0.1:{free_port()}/graphql"
    async with AsyncRegistryClient(url) as nobody:
        with pytest.raises(UnreachableError, match="cannot reach"):
            await nobody.namespaces()
        with pytest.raises(UnreachableError, match="cannot connect"):
            await anext(nobody.event_type_changes())


async def test_graphql_errors_are_raised_with_their_message(writer: AsyncRegistryClient) -> None:
    with pytest.raises(GraphQLError, match="first"):
        await writer.event_type_page(API, first=-1)
    with pytest.raises(GraphQLError, match="cursor"):
        await anext(writer.event_type_changes(API, since="garbage!!"))


# subscriptions and the sync facade -----------------------------------------------------------


async def test_event_type_changes_start_with_the_existing_set(writer: AsyncRegistryClient) -> None:
    changes = writer.event_type_changes(
        API, include_existing=True, filter=EventTypeFilter(type_prefix="dev.paged.")
    )
    seen: list[EventTypeChange] = []
    try:
        async for event in changes:
            assert isinstance(event, EventTypeChange)
            seen.append(event)
            if event.kind is ChangeKind.INITIAL_SET_COMPLETE:
                break
    finally:
        await changes.aclose()  # type: ignore[attr-defined]
    assert [c.kind for c in seen] == [ChangeKind.EXISTING] * len(PAGED) + [
        ChangeKind.INITIAL_SET_COMPLETE
    ]
    assert sorted(c.event_type.name for c in seen[:-1] if c.event_type) == PAGED


def test_the_sync_facade(registry: RegistryProcess) -> None:
    with RegistryClient(registry.url, token=WRITER) as client:
        assert {n.name for n in client.namespaces()} == {API, OTHER}
        names = [e.name for e in client.iter_event_types(API, page_size=2)]
        assert names[: len(PAGED)] == PAGED
        assert client.event_type(API, "paged-01") is not None
        registered = unwrap(client.register_event_type(API, type="dev.sync.made", name="sync"))
        assert registered.event_type.name == "sync"
        with pytest.raises(NotFoundError):
            unwrap(client.delete_event_type(API, "never-was"))
        kinds = []
        for event in client.event_type_changes(API, include_existing=True):
            assert isinstance(event, EventTypeChange)
            kinds.append(event.kind)
            if event.kind is ChangeKind.INITIAL_SET_COMPLETE:
                break
        assert kinds[-1] is ChangeKind.INITIAL_SET_COMPLETE
        assert set(kinds[:-1]) == {ChangeKind.EXISTING}
        assert isinstance(unwrap(client.delete_event_type(API, "sync")), Deleted)
