"""The registry's queries through the ``gql`` Python client, against real ``serve`` processes.

Two module-scoped ``event-registry serve`` processes, each with its embedded control plane and
readiness controller: one in open mode holding a small catalog (Brokers, EventTypes in v1beta2
and v1beta3, Triggers with every kind of filter), one in tokens mode holding two team
namespaces. Every object is created with the PyPI kubectl against the kubeconfig the registry
wrote; every GraphQL operation goes over HTTP, through ``gql`` (``AIOHTTPTransport``, the
schema fetched by introspection so documents are also validated client-side) or, for what the
HTTP layer decides (status codes, GET, the GraphiQL page), through plain urllib.

Nothing sleeps for long: whatever follows the cluster (the cache, the readiness controller) is
polled with a deadline.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from gql import Client, GraphQLRequest
from gql.client import AsyncClientSession
from gql.transport.aiohttp import AIOHTTPTransport
from gql.transport.exceptions import TransportQueryError, TransportServerError

from tests.support.registry import (
    HttpStatusError,
    Json,
    RegistryProcess,
    broker,
    broker_reference,
    eventtype,
    eventually_async,
    trigger,
    write_tokens,
)

APPEAR_WITHIN = 2.0
"""Seconds from the end of a ``kubectl apply`` until the registry shows what it created."""
SETTLE_WITHIN = 15.0
"""Seconds the readiness controller gets to report the statuses it computes."""

SHOP = "shop"
WAREHOUSE = "warehouse"
INGRESS = r"http://127\.0\.0\.1:\d+"
"""The embedded Broker ingress (any port): Brokers' addresses on the embedded cluster."""

ORDER_CREATED = "order-created"  # v1beta2, spec.broker
ORDER_SHIPPED = "order-shipped"  # v1beta2, spec.reference to a Broker
PAYMENT_RECEIVED = "payment-received"  # v1beta3, attributes, reference to another Broker
INVENTORY_LOW = "inventory-low"  # v1beta2, no Broker at all
GHOST = "ghost-sighted"  # v1beta2, spec.broker naming a Broker that does not exist
STOCK_MOVED = "stock-moved"  # v1beta3 in the other namespace, on its Broker
SHOP_EVENT_TYPES = [GHOST, INVENTORY_LOW, ORDER_CREATED, ORDER_SHIPPED, PAYMENT_RECEIVED]

PAYMENT_ATTRIBUTES = [
    {"name": "type", "value": "com.example.payment.received", "required": True},
    {"name": "source", "value": "https://pay.example.com/payments", "required": True},
    {"name": "specversion", "value": "1.0", "required": True},
    {"name": "id", "required": True},
    {"name": "dataschema", "value": "https://schemas.example.com/payment.json", "required": False},
    {"name": "tenant", "value": "{tenant}", "required": False},
]


def catalog_manifests() -> list[Json]:
    return [
        broker("default", SHOP),
        broker("audit", SHOP),
        broker("default", WAREHOUSE),
        eventtype(
            ORDER_CREATED,
            SHOP,
            labels={"team": "checkout"},
            type="com.example.order.created",
            source="https://shop.example.com/orders",
            schema="https://schemas.example.com/order-created.json",
            schemaData='{"type": "object"}',
            description="An order was placed in the shop",
            broker="default",
        ),
        eventtype(
            ORDER_SHIPPED,
            SHOP,
            type="com.example.order.shipped",
            source="https://shop.example.com/shipping",
            description="A parcel left the warehouse",
            reference=broker_reference("default"),
        ),
        eventtype(
            PAYMENT_RECEIVED,
            SHOP,
            version="v1beta3",
            description="Money arrived",
            reference=broker_reference("audit"),
            attributes=PAYMENT_ATTRIBUTES,
        ),
        eventtype(
            INVENTORY_LOW,
            SHOP,
            type="dev.inventory.low",
            source="/inventory",
            description="Stock is running out",
        ),
        eventtype(GHOST, SHOP, type="com.example.ghost.sighted", broker="nowhere"),
        eventtype(
            STOCK_MOVED,
            WAREHOUSE,
            version="v1beta3",
            reference=broker_reference("default"),
            attributes=[
                {"name": "type", "value": "dev.warehouse.stock.moved", "required": True},
                {"name": "source", "value": "/warehouse", "required": True},
                {"name": "specversion", "value": "1.0", "required": True},
                {"name": "id", "required": True},
            ],
        ),
        trigger("orders-exact", SHOP, filter={"attributes": {"type": "com.example.order.created"}}),
        trigger("orders-prefix", SHOP, filters=[{"prefix": {"type": "com.example.order."}}]),
        trigger("orders-sql", SHOP, filters=[{"cesql": "type LIKE 'com.example.%'"}]),
        trigger("payments-all", SHOP, broker="audit"),
    ]


# clients -----------------------------------------------------------------------------------------


def gql_client(
    registry: RegistryProcess, token: str | None = None, *, schema: bool = True
) -> Client:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else None
    return Client(
        transport=AIOHTTPTransport(url=registry.url, headers=headers, timeout=30),
        fetch_schema_from_transport=schema,
    )


async def run(session: AsyncClientSession, query: str, **variables: Any) -> Json:
    """Execute one operation; its ``data`` (gql raises TransportQueryError on ``errors``)."""
    request = GraphQLRequest(query, variable_values=variables or None)
    result = await session.execute(request)
    assert isinstance(result, dict), result
    return result


def node_id(kind: str, namespace: str, name: str = "") -> str:
    """A well-formed global ID, for objects that exist nowhere."""
    raw = f"{kind}:{namespace}/{name}" if name else f"{kind}:{namespace}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def names(nodes: list[Json]) -> list[str]:
    return [str(node["name"]) for node in nodes]


# the open registry -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryProcess]:
    running = RegistryProcess(tmp_path_factory.mktemp("open") / "registry").start()
    try:
        running.wait_ready(timeout=60)
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
async def session(registry: RegistryProcess) -> AsyncIterator[AsyncClientSession]:
    async with gql_client(registry) as opened:
        assert isinstance(opened, AsyncClientSession)
        yield opened


@dataclass(frozen=True)
class Catalog:
    appeared_after: float
    """Seconds between the end of ``kubectl apply`` and the registry showing everything."""


EVERYTHING = """
query Everything {
  eventTypes { nodes { namespace name } }
  triggers { namespace name }
  brokers { namespace name }
}
"""

STATUSES = """
query Statuses {
  eventTypes { nodes { namespace name ready consumable } }
  brokers { name ready url }
  triggers { name ready }
}
"""


@pytest.fixture(scope="module")
async def catalog(registry: RegistryProcess, session: AsyncClientSession) -> Catalog:
    """The catalog applied with kubectl, once the registry shows it with its statuses."""
    for namespace in (SHOP, WAREHOUSE):
        registry.kubectl("create", "namespace", namespace, check=True)
    manifests = catalog_manifests()
    wanted = {
        (str(m["kind"]), str(m["metadata"]["namespace"]), str(m["metadata"]["name"]))
        for m in manifests
    }
    registry.apply(*manifests)
    applied = time.monotonic()

    async def everything_shown() -> bool:
        data = await run(session, EVERYTHING)
        shown = {("EventType", n["namespace"], n["name"]) for n in data["eventTypes"]["nodes"]}
        shown |= {("Trigger", t["namespace"], t["name"]) for t in data["triggers"]}
        shown |= {("Broker", b["namespace"], b["name"]) for b in data["brokers"]}
        return wanted <= shown

    await eventually_async(everything_shown, timeout=30)
    appeared_after = time.monotonic() - applied

    async def settled() -> bool:
        data = await run(session, STATUSES)
        event_types = {n["name"]: n for n in data["eventTypes"]["nodes"]}
        return (
            all(b["ready"] is True and b["url"] for b in data["brokers"])
            and all(t["ready"] is True for t in data["triggers"])
            and event_types[GHOST]["ready"] is False
            and all(
                event_types[name]["consumable"] is True
                for name in (ORDER_CREATED, ORDER_SHIPPED, PAYMENT_RECEIVED, STOCK_MOVED)
            )
        )

    await eventually_async(settled, timeout=SETTLE_WITHIN)
    return Catalog(appeared_after=appeared_after)


# appearance and readiness ------------------------------------------------------------------------


async def test_applied_objects_appear_within_seconds(catalog: Catalog) -> None:
    assert catalog.appeared_after < APPEAR_WITHIN, (
        f"the registry showed the applied objects after {catalog.appeared_after:.2f}s"
    )


async def test_a_later_apply_appears_within_seconds(
    registry: RegistryProcess, session: AsyncClientSession, catalog: Catalog
) -> None:
    registry.kubectl("create", "namespace", "late", check=True)
    registry.apply(eventtype("late-arrival", "late", type="dev.example.late"))
    applied = time.monotonic()

    async def shown() -> bool:
        data = await run(
            session, '{ eventTypes(namespace: "late") { nodes { name type apiVersion } } }'
        )
        expected = {
            "name": "late-arrival",
            "type": "dev.example.late",
            "apiVersion": "eventing.knative.dev/v1beta2",
        }
        return bool(data["eventTypes"]["nodes"] == [expected])

    await eventually_async(shown, timeout=30)
    assert time.monotonic() - applied < APPEAR_WITHIN


EVENT_TYPE_FIELDS = """
fragment EventTypeFields on EventType {
  namespace name type source schema schemaData description apiVersion
  reference { apiVersion kind name namespace }
  brokerName broker { name }
  ready reason consumable
  conditions { type status reason }
  labels { key value }
  owner { name }
  createdAt
}
"""


async def event_type(session: AsyncClientSession, namespace: str, name: str) -> Json:
    data = await run(
        session,
        "query($ns: String!, $n: String!) { eventType(namespace: $ns, name: $n) "
        "{ ...EventTypeFields } }" + EVENT_TYPE_FIELDS,
        ns=namespace,
        n=name,
    )
    found = data["eventType"]
    assert isinstance(found, dict), (namespace, name)
    return found


async def test_v1beta2_event_type_with_spec_broker(
    session: AsyncClientSession, catalog: Catalog
) -> None:
    found = await event_type(session, SHOP, ORDER_CREATED)
    created_at = found.pop("createdAt")
    assert created_at.endswith("Z")
    assert found == {
        "namespace": SHOP,
        "name": ORDER_CREATED,
        "type": "com.example.order.created",
        "source": "https://shop.example.com/orders",
        "schema": "https://schemas.example.com/order-created.json",
        "schemaData": '{"type": "object"}',
        "description": "An order was placed in the shop",
        "apiVersion": "eventing.knative.dev/v1beta2",
        "reference": None,
        "brokerName": "default",
        "broker": {"name": "default"},
        "ready": True,
        "reason": None,
        "consumable": True,
        "conditions": [
            {"type": "Ready", "status": "True", "reason": None},
            {"type": "ReferenceExists", "status": "True", "reason": None},
        ],
        "labels": [{"key": "team", "value": "checkout"}],
        "owner": None,
    }


async def test_v1beta2_event_type_with_spec_reference(
    session: AsyncClientSession, catalog: Catalog
) -> None:
    found = await event_type(session, SHOP, ORDER_SHIPPED)
    assert found["reference"] == {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Broker",
        "name": "default",
        "namespace": SHOP,  # defaulted by Knative's webhook
    }
    assert found["brokerName"] == "default"
    assert found["broker"] == {"name": "default"}
    assert (found["ready"], found["consumable"]) == (True, True)


async def test_v1beta3_event_type_with_attributes(
    session: AsyncClientSession, catalog: Catalog
) -> None:
    found = await event_type(session, SHOP, PAYMENT_RECEIVED)
    # The registry reads the storage version: type, source and schema come from attributes.
    assert found["type"] == "com.example.payment.received"
    assert found["source"] == "https://pay.example.com/payments"
    assert found["schema"] == "https://schemas.example.com/payment.json"
    assert found["description"] == "Money arrived"
    assert found["reference"] == {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Broker",
        "name": "audit",
        "namespace": SHOP,
    }
    assert found["broker"] == {"name": "audit"}
    assert (found["ready"], found["consumable"]) == (True, True)
    data = await run(
        session,
        "query($ns: String!, $n: String!) { eventType(namespace: $ns, name: $n) "
        "{ attributes { name value } } }",
        ns=SHOP,
        n=PAYMENT_RECEIVED,
    )
    attributes = {a["name"]: a["value"] for a in data["eventType"]["attributes"]}
    assert attributes["type"] == "com.example.payment.received"
    assert attributes["source"] == "https://pay.example.com/payments"


async def test_readiness_follows_the_embedded_controller(
    session: AsyncClientSession, catalog: Catalog
) -> None:
    ghost = await event_type(session, SHOP, GHOST)
    assert ghost["ready"] is False
    assert ghost["reason"] == "ResourceDoesNotExist"
    assert ghost["broker"] is None
    assert ghost["consumable"] is False
    unbrokered = await event_type(session, SHOP, INVENTORY_LOW)
    assert unbrokered["ready"] is True  # no reference: ReferenceNotSet is True
    assert (unbrokered["brokerName"], unbrokered["broker"]) == (None, None)
    assert unbrokered["consumable"] is False  # no Broker carries it
    data = await run(
        session,
        "query($ns: String!) { brokers(namespace: $ns) { name class url ready reason "
        "conditions { type status } } triggers(namespace: $ns) { name ready subscriberUri } }",
        ns=SHOP,
    )
    brokers = {b["name"]: b for b in data["brokers"]}
    assert set(brokers) == {"audit", "default"}
    for name, found in brokers.items():
        assert found["ready"] is True
        assert found["reason"] is None
        assert found["class"] == "MTChannelBasedBroker"
        assert re.fullmatch(rf"{INGRESS}/{SHOP}/{name}", found["url"]), found["url"]
        assert {"type": "Ready", "status": "True"} in found["conditions"]
    for found in data["triggers"]:
        assert found["ready"] is True, found
        assert found["subscriberUri"] == f"http://{found['name']}.example.com/"


async def test_consumable_follows_the_brokers_readiness(
    registry: RegistryProcess, session: AsyncClientSession, catalog: Catalog
) -> None:
    namespace = "flaky"
    registry.kubectl("create", "namespace", namespace, check=True)
    registry.apply(
        broker("wobbly", namespace),
        eventtype("tremor", namespace, type="dev.example.tremor", broker="wobbly"),
    )
    query = (
        '{ eventType(namespace: "flaky", name: "tremor") '
        "{ ready consumable broker { ready reason message } } "
        'eventTypes(namespace: "flaky", filter: {consumable: false}) { totalCount } '
        'namespace(name: "flaky") { counts { eventTypes readyEventTypes consumableEventTypes } } }'
    )

    async def state() -> Json:
        return await run(session, query)

    async def consumable() -> bool:
        return bool((await state())["eventType"]["consumable"])

    await eventually_async(consumable, timeout=SETTLE_WITHIN)
    before = await state()
    assert before["eventTypes"]["totalCount"] == 0
    assert before["namespace"]["counts"] == {
        "eventTypes": 1,
        "readyEventTypes": 1,
        "consumableEventTypes": 1,
    }

    down = {
        "status": {
            "conditions": [
                {
                    "type": "Ready",
                    "status": "False",
                    "reason": "IngressDown",
                    "message": "the ingress is gone",
                    "lastTransitionTime": "2024-01-01T00:00:00Z",
                }
            ]
        }
    }
    registry.kubectl(
        "patch",
        "brokers.eventing.knative.dev",
        "wobbly",
        "-n",
        namespace,
        "--subresource=status",
        "--type=merge",
        "-p",
        json.dumps(down),
        check=True,
    )

    async def not_consumable() -> bool:
        return (await state())["eventType"]["consumable"] is False

    await eventually_async(not_consumable, timeout=APPEAR_WITHIN)
    after = await state()
    assert after["eventType"] == {
        "ready": True,  # the EventType's own condition is unchanged
        "consumable": False,
        "broker": {"ready": False, "reason": "IngressDown", "message": "the ingress is gone"},
    }
    assert after["eventTypes"]["totalCount"] == 1
    assert after["namespace"]["counts"] == {
        "eventTypes": 1,
        "readyEventTypes": 1,
        "consumableEventTypes": 0,
    }


# consumers ---------------------------------------------------------------------------------------


CONSUMERS = """
query($ns: String!) {
  eventTypes(namespace: $ns) {
    nodes { name consumers { name } consumerMatches { trigger { name } match } }
  }
  triggers(namespace: $ns) {
    name brokerName broker { name } eventTypes { name }
    filter { attributes { key value } } filters
    subscriber { uri ref { name } }
  }
}
"""


async def test_consumers_and_consumer_matches(
    session: AsyncClientSession, catalog: Catalog
) -> None:
    data = await run(session, CONSUMERS, ns=SHOP)
    by_name = {n["name"]: n for n in data["eventTypes"]["nodes"]}
    consumers = {name: names(node["consumers"]) for name, node in by_name.items()}
    assert consumers == {
        ORDER_CREATED: ["orders-exact", "orders-prefix", "orders-sql"],
        ORDER_SHIPPED: ["orders-prefix", "orders-sql"],
        PAYMENT_RECEIVED: ["payments-all"],
        INVENTORY_LOW: [],
        GHOST: [],
    }
    matches = {
        name: sorted((m["trigger"]["name"], m["match"]) for m in node["consumerMatches"])
        for name, node in by_name.items()
    }
    assert matches == {
        ORDER_CREATED: [
            ("orders-exact", "YES"),
            ("orders-prefix", "YES"),
            ("orders-sql", "YES"),  # CESQL on the pinned type: decided
        ],
        ORDER_SHIPPED: [("orders-prefix", "YES"), ("orders-sql", "YES")],
        PAYMENT_RECEIVED: [("payments-all", "YES")],
        INVENTORY_LOW: [],
        GHOST: [],
    }


async def test_trigger_event_types_and_filters(
    session: AsyncClientSession, catalog: Catalog
) -> None:
    data = await run(session, CONSUMERS, ns=SHOP)
    triggers = {t["name"]: t for t in data["triggers"]}
    assert {name: names(t["eventTypes"]) for name, t in triggers.items()} == {
        "orders-exact": [ORDER_CREATED],
        "orders-prefix": [ORDER_CREATED, ORDER_SHIPPED],
        "orders-sql": [ORDER_CREATED, ORDER_SHIPPED],  # type LIKE 'com.example.%'
        "payments-all": [PAYMENT_RECEIVED],
    }
    assert triggers["orders-exact"]["filter"] == {
        "attributes": [{"key": "type", "value": "com.example.order.created"}]
    }
    assert triggers["orders-exact"]["filters"] is None
    assert triggers["orders-prefix"]["filters"] == [{"prefix": {"type": "com.example.order."}}]
    assert triggers["orders-sql"]["filters"] == [{"cesql": "type LIKE 'com.example.%'"}]
    assert triggers["payments-all"]["filter"] is None  # {} (defaulted): no attributes
    assert triggers["payments-all"]["brokerName"] == "audit"
    assert triggers["payments-all"]["broker"] == {"name": "audit"}
    assert triggers["orders-sql"]["subscriber"] == {
        "uri": "http://orders-sql.example.com/",
        "ref": None,
    }


async def test_brokers_list_their_event_types_and_triggers(
    session: AsyncClientSession, catalog: Catalog
) -> None:
    data = await run(
        session,
        'query($ns: String!) { default: broker(namespace: $ns, name: "default") '
        "{ eventTypes { name } triggers { name } } "
        'audit: triggers(namespace: $ns, broker: "audit") { name } }',
        ns=SHOP,
    )
    assert names(data["default"]["eventTypes"]) == [ORDER_CREATED, ORDER_SHIPPED]
    assert names(data["default"]["triggers"]) == ["orders-exact", "orders-prefix", "orders-sql"]
    assert names(data["audit"]) == ["payments-all"]


# filters and paging ------------------------------------------------------------------------------


FILTERED = """
query($ns: String, $filter: EventTypeFilter) {
  eventTypes(namespace: $ns, filter: $filter) { totalCount nodes { name } }
}
"""

FILTER_CASES: list[tuple[Json, list[str]]] = [
    ({}, SHOP_EVENT_TYPES),
    ({"broker": "default"}, [ORDER_CREATED, ORDER_SHIPPED]),
    ({"broker": "audit"}, [PAYMENT_RECEIVED]),
    ({"broker": "nowhere"}, [GHOST]),
    ({"type": "com.example.order.shipped"}, [ORDER_SHIPPED]),
    ({"type": "com.example.order"}, []),  # exact, not a prefix
    ({"typePrefix": "com.example.order."}, [ORDER_CREATED, ORDER_SHIPPED]),
    ({"typePrefix": "com.example."}, [GHOST, ORDER_CREATED, ORDER_SHIPPED, PAYMENT_RECEIVED]),
    ({"source": "https://shop.example.com/orders"}, [ORDER_CREATED]),
    ({"source": "https://pay.example.com/payments"}, [PAYMENT_RECEIVED]),
    ({"source": "https://shop.example.com"}, []),  # exact
    ({"ready": True}, [INVENTORY_LOW, ORDER_CREATED, ORDER_SHIPPED, PAYMENT_RECEIVED]),
    ({"ready": False}, [GHOST]),
    ({"consumable": True}, [ORDER_CREATED, ORDER_SHIPPED, PAYMENT_RECEIVED]),
    ({"consumable": False}, [GHOST, INVENTORY_LOW]),
    ({"search": "MONEY"}, [PAYMENT_RECEIVED]),  # description, case-insensitive
    ({"search": "shop.example"}, [ORDER_CREATED, ORDER_SHIPPED]),  # source
    ({"search": "inventory.low"}, [INVENTORY_LOW]),  # type
    ({"search": "no such text"}, []),
    ({"broker": "default", "typePrefix": "com.example.", "search": "parcel"}, [ORDER_SHIPPED]),
    ({"ready": True, "consumable": False}, [INVENTORY_LOW]),
]


@pytest.mark.parametrize(
    ("selection", "expected"), FILTER_CASES, ids=[json.dumps(c[0]) for c in FILTER_CASES]
)
async def test_event_type_filter(
    session: AsyncClientSession, catalog: Catalog, selection: Json, expected: list[str]
) -> None:
    data = await run(session, FILTERED, ns=SHOP, filter=selection)
    assert names(data["eventTypes"]["nodes"]) == expected
    assert data["eventTypes"]["totalCount"] == len(expected)


async def test_filter_without_namespace_spans_namespaces(
    session: AsyncClientSession, catalog: Catalog
) -> None:
    data = await run(session, FILTERED, filter={"typePrefix": "dev."})
    found = {(n["name"]) for n in data["eventTypes"]["nodes"]}
    assert {INVENTORY_LOW, STOCK_MOVED} <= found
    data = await run(session, FILTERED, ns=WAREHOUSE, filter={"consumable": True})
    assert names(data["eventTypes"]["nodes"]) == [STOCK_MOVED]


PAGE = """
query($first: Int, $after: String) {
  eventTypes(first: $first, after: $after) {
    totalCount
    edges { cursor node { namespace name } }
    nodes { name }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


async def test_paging_with_first_and_after(session: AsyncClientSession, catalog: Catalog) -> None:
    everything = (await run(session, PAGE))["eventTypes"]
    keys = [(e["node"]["namespace"], e["node"]["name"]) for e in everything["edges"]]
    assert keys == sorted(keys)  # ordered by namespace, then name
    assert {(SHOP, name) for name in SHOP_EVENT_TYPES} | {(WAREHOUSE, STOCK_MOVED)} <= set(keys)
    assert everything["totalCount"] == len(keys)
    assert everything["pageInfo"]["hasNextPage"] is False
    assert everything["pageInfo"]["hasPreviousPage"] is False

    paged: list[tuple[str, str]] = []
    after: str | None = None
    pages = 0
    while True:
        page = (await run(session, PAGE, first=2, after=after))["eventTypes"]
        pages += 1
        assert page["totalCount"] == len(keys)  # across all pages, on every page
        edges = page["edges"]
        assert len(edges) == min(2, len(keys) - len(paged))
        assert [n["name"] for n in page["nodes"]] == [e["node"]["name"] for e in edges]
        assert page["pageInfo"]["startCursor"] == edges[0]["cursor"]
        assert page["pageInfo"]["endCursor"] == edges[-1]["cursor"]
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        paged += [(e["node"]["namespace"], e["node"]["name"]) for e in edges]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert paged == keys
    assert pages == (len(keys) + 1) // 2

    empty = (await run(session, PAGE, first=0))["eventTypes"]
    assert empty["edges"] == []
    assert empty["totalCount"] == len(keys)
    assert empty["pageInfo"] == {
        "hasNextPage": True,
        "hasPreviousPage": False,
        "startCursor": None,
        "endCursor": None,
    }
    last = (await run(session, PAGE, after=everything["edges"][-1]["cursor"]))["eventTypes"]
    assert last["edges"] == []
    assert last["pageInfo"]["hasNextPage"] is False
    assert last["pageInfo"]["hasPreviousPage"] is True


async def test_paging_composes_with_a_filter(session: AsyncClientSession, catalog: Catalog) -> None:
    query = """
    query($after: String) {
      eventTypes(namespace: "shop", filter: {typePrefix: "com.example."}, first: 3,
                 after: $after) {
        totalCount nodes { name } pageInfo { hasNextPage endCursor }
      }
    }
    """
    first = (await run(session, query))["eventTypes"]
    assert first["totalCount"] == 4
    assert names(first["nodes"]) == [GHOST, ORDER_CREATED, ORDER_SHIPPED]
    assert first["pageInfo"]["hasNextPage"] is True
    second = (await run(session, query, after=first["pageInfo"]["endCursor"]))["eventTypes"]
    assert names(second["nodes"]) == [PAYMENT_RECEIVED]
    assert second["pageInfo"]["hasNextPage"] is False


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ("first: -1", "first must be between 0 and 10000"),
        ("first: 10001", "first must be between 0 and 10000"),
        ('after: "not a cursor"', "after is not a cursor returned by this API"),
    ],
)
async def test_bad_paging_arguments_give_readable_errors(
    session: AsyncClientSession, catalog: Catalog, arguments: str, message: str
) -> None:
    with pytest.raises(TransportQueryError) as raised:
        await run(session, f"{{ eventTypes({arguments}) {{ totalCount }} }}")
    assert raised.value.errors is not None
    assert [e["message"] for e in raised.value.errors] == [message]


# node(id) ----------------------------------------------------------------------------------------


NODE = """
query($id: ID!) {
  node(id: $id) {
    __typename id
    ... on EventType { namespace name type }
    ... on Broker { namespace name url }
    ... on Trigger { namespace name brokerName }
    ... on Namespace { name phase }
  }
}
"""


async def test_node_round_trips_every_kind(session: AsyncClientSession, catalog: Catalog) -> None:
    data = await run(
        session,
        "query($ns: String!) { "
        'eventType(namespace: $ns, name: "order-created") { __typename id namespace name type } '
        'broker(namespace: $ns, name: "audit") { __typename id namespace name url } '
        "triggers(namespace: $ns) { __typename id namespace name brokerName } "
        "namespace(name: $ns) { __typename id name phase } }",
        ns=SHOP,
    )
    objects = [data["eventType"], data["broker"], *data["triggers"], data["namespace"]]
    ids = [o["id"] for o in objects]
    assert len(set(ids)) == len(ids)
    for expected in objects:
        found = await run(session, NODE, id=expected["id"])
        assert found["node"] == expected


@pytest.mark.parametrize(
    "unknown",
    [
        node_id("EventType", SHOP, "no-such-event-type"),
        node_id("Broker", SHOP, "no-such-broker"),
        node_id("Trigger", "no-such-namespace", "orders-exact"),
        node_id("Namespace", "no-such-namespace"),
        "not-an-id",
        "",
    ],
)
async def test_node_of_an_unknown_id_is_null(
    session: AsyncClientSession, catalog: Catalog, unknown: str
) -> None:
    assert await run(session, NODE, id=unknown) == {"node": None}


# the HTTP surface --------------------------------------------------------------------------------


def test_get_graphql_runs_queries(registry: RegistryProcess, catalog: Catalog) -> None:
    query = "query($ns: String!) { eventTypes(namespace: $ns) { totalCount nodes { name } } }"
    variables = json.dumps({"ns": SHOP})
    reply = registry.get(
        "/graphql?" + urlencode({"query": query, "variables": variables}),
        {"accept": "application/json"},
    )
    assert reply.status == 200, reply.text
    assert reply.headers["content-type"].startswith("application/json")
    assert reply.json() == registry.query(query, {"ns": SHOP})
    assert names(reply.json()["data"]["eventTypes"]["nodes"]) == SHOP_EVENT_TYPES


def test_get_graphql_refuses_mutations_readably(registry: RegistryProcess) -> None:
    document = 'mutation { deleteEventType(namespace: "shop", name: "order-created") { x } }'
    reply = registry.get("/graphql?" + urlencode({"query": document}))
    assert reply.status in (400, 405), reply
    assert "mutation" in reply.text.lower()
    assert "GET" in reply.text


@pytest.mark.parametrize(
    ("document", "fragment"),
    [
        ("{ eventTypes { nodes { name } }", "Syntax Error"),
        ("{ noSuchField }", "Cannot query field 'noSuchField' on type 'Query'"),
        ("{ eventTypes { nodes { name nope } } }", "Cannot query field 'nope'"),
        (
            '{ eventType(namespace: "shop") { name } }',
            "eventType(name:)' of type 'String!' is required",
        ),
        ('{ eventTypes(first: "two") { totalCount } }', "Int cannot represent"),
        ("mutation { noSuchMutation }", "utation"),
        ("subscription { nothingHere }", "ubscription"),
    ],
)
def test_invalid_documents_get_readable_errors(
    registry: RegistryProcess, document: str, fragment: str
) -> None:
    result = registry.query(document)
    assert result.get("data") is None
    messages = [e["message"] for e in result["errors"]]
    assert any(fragment in m for m in messages), messages
    assert "Unexpected error" not in " ".join(messages)


async def test_invalid_documents_come_back_through_gql_too(
    registry: RegistryProcess, catalog: Catalog
) -> None:
    async with gql_client(registry, schema=False) as unvalidated:
        with pytest.raises(TransportQueryError) as raised:
            await run(unvalidated, "{ noSuchField }")
    assert raised.value.errors is not None
    assert "noSuchField" in raised.value.errors[0]["message"]


def nested(depth: int) -> str:
    """An ``eventTypes`` selection ``depth`` fields deep (EventType.broker ↔ Broker.eventTypes)."""
    fields = ["broker" if level % 2 == 0 else "eventTypes" for level in range(depth - 3)]
    inner = "name"
    for field in reversed(fields):
        inner = f"{field} {{ {inner} }}"
    return f"{{ eventTypes {{ nodes {{ {inner} }} }} }}"


def test_query_depth_is_limited_readably(registry: RegistryProcess) -> None:
    # Depth counts from 0 at the root field (graphql-depth-limit's rule): 13 fields deep is
    # depth 12, the most the depth limit allows; such nested lists are far over the query
    # cost limit, which refuses them instead (checked after the depth, on valid documents).
    within_depth = registry.query(nested(13))
    [refusal] = within_depth["errors"]
    assert refusal["message"].startswith("query cost "), refusal
    result = registry.query(nested(14))
    assert result.get("data") is None
    messages = [e["message"] for e in result["errors"]]
    assert any("exceeds maximum operation depth of 12" in m for m in messages), messages


def test_aliases_are_limited_readably(registry: RegistryProcess) -> None:
    allowed = " ".join(f"a{i}: namespaces {{ name }}" for i in range(30))
    assert "errors" not in registry.query(f"{{ {allowed} }}")
    too_many = " ".join(f"a{i}: namespaces {{ name }}" for i in range(31))
    result = registry.query(f"{{ {too_many} }}")
    assert result.get("data") is None
    messages = [e["message"] for e in result["errors"]]
    assert any("30 aliases" in m or "aliases" in m.lower() for m in messages), messages


def test_token_count_is_limited_readably(registry: RegistryProcess) -> None:
    huge = "{ " + " ".join("__typename" for _ in range(2_100)) + " }"
    result = registry.query(huge)
    assert result.get("data") is None
    messages = [e["message"] for e in result["errors"]]
    assert any("token" in m.lower() for m in messages), messages


def test_healthz(registry: RegistryProcess) -> None:
    reply = registry.get("/healthz")
    assert (reply.status, reply.text) == (200, "ok")


def test_readyz_reports_every_informer(registry: RegistryProcess) -> None:
    reply = registry.get("/readyz")
    assert reply.status == 200
    assert reply.headers["content-type"].startswith("application/json")
    assert reply.json() == {
        "synced": True,
        "informers": {"Namespace": True, "Broker": True, "EventType": True, "Trigger": True},
        "reasons": {},
        "draining": False,
    }


# tokens mode -------------------------------------------------------------------------------------


TEAM_A, TEAM_B, NOWHERE = "team-a", "team-b", "team-z"
A_TOKEN = "team-a-reader-token"
AB_TOKEN = "team-a-and-b-token"
SECRET = "secret-launch"  # only in team B
SHARED = "build-finished"  # in both namespaces


def team_manifests(namespace: str) -> list[Json]:
    return [
        broker("default", namespace),
        eventtype(SHARED, namespace, type="dev.ci.build.finished", source="/ci", broker="default"),
        trigger("notify", namespace, filter={"attributes": {"type": "dev.ci.build.finished"}}),
    ]


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryProcess]:
    """A registry in tokens mode: one token reads team A, another teams A and B."""
    workdir = tmp_path_factory.mktemp("tokens")
    tokens = write_tokens(
        workdir / "tokens.yaml",
        [
            {"token": A_TOKEN, "name": "team-a", "namespaces": {TEAM_A: ["read"]}},
            {
                "token": AB_TOKEN,
                "name": "teams-a-b",
                "namespaces": {TEAM_A: ["read", "write"], TEAM_B: ["read"]},
            },
        ],
    )
    running = RegistryProcess(workdir / "registry", tokens_file=tokens).start()
    try:
        running.wait_ready(timeout=60)
        for namespace in (TEAM_A, TEAM_B):
            running.kubectl("create", "namespace", namespace, check=True)
        running.apply(
            *team_manifests(TEAM_A),
            *team_manifests(TEAM_B),
            eventtype(SECRET, TEAM_B, type="dev.ci.secret.launch", broker="default"),
        )
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
async def team_a(guarded: RegistryProcess) -> AsyncIterator[AsyncClientSession]:
    async with gql_client(guarded, A_TOKEN) as opened:
        assert isinstance(opened, AsyncClientSession)
        yield opened


@pytest.fixture(scope="module")
async def teams_ab(guarded: RegistryProcess) -> AsyncIterator[AsyncClientSession]:
    async with gql_client(guarded, AB_TOKEN) as opened:
        assert isinstance(opened, AsyncClientSession)
        yield opened


@dataclass(frozen=True)
class Hidden:
    """Team B's objects, as a reader of both teams sees them (IDs included)."""

    ids: dict[str, str]


@pytest.fixture(scope="module")
async def hidden(teams_ab: AsyncClientSession) -> Hidden:
    """Wait until team B is fully shown to a reader of both teams; its objects' IDs."""
    query = """
    query($ns: String!) {
      namespace(name: $ns) { id }
      eventTypes(namespace: $ns) { nodes { name id consumable } }
      broker(namespace: $ns, name: "default") { id ready }
      triggers(namespace: $ns) { name id }
    }
    """

    async def shown() -> Json | None:
        data = await run(teams_ab, query, ns=TEAM_B)
        event_types = {n["name"]: n for n in data["eventTypes"]["nodes"]}
        complete = (
            data["namespace"] is not None
            and set(event_types) == {SHARED, SECRET}
            and all(n["consumable"] for n in event_types.values())
            and data["broker"] is not None
            and data["broker"]["ready"] is True
            and names(data["triggers"]) == ["notify"]
        )
        return data if complete else None

    data = await eventually_async(shown, timeout=30)
    ids = {
        "Namespace": data["namespace"]["id"],
        "Broker": data["broker"]["id"],
        "Trigger": data["triggers"][0]["id"],
        **{n["name"]: n["id"] for n in data["eventTypes"]["nodes"]},
    }

    async def team_a_shown() -> bool:
        data = await run(
            teams_ab,
            "query($ns: String!) { eventTypes(namespace: $ns) { nodes { name consumable } } "
            "triggers(namespace: $ns) { name } }",
            ns=TEAM_A,
        )
        nodes = data["eventTypes"]["nodes"]
        return nodes == [{"name": SHARED, "consumable": True}] and names(data["triggers"]) == [
            "notify"
        ]

    await eventually_async(team_a_shown, timeout=30)
    return Hidden(ids=ids)


async def test_reader_of_both_teams_sees_both(teams_ab: AsyncClientSession, hidden: Hidden) -> None:
    data = await run(
        teams_ab,
        "{ namespaces { name counts { eventTypes triggers brokers } } "
        "eventTypes { totalCount nodes { namespace name } } }",
    )
    assert data["namespaces"] == [
        {"name": TEAM_A, "counts": {"eventTypes": 1, "triggers": 1, "brokers": 1}},
        {"name": TEAM_B, "counts": {"eventTypes": 2, "triggers": 1, "brokers": 1}},
    ]
    assert data["eventTypes"]["totalCount"] == 3


async def test_team_a_sees_only_its_namespace_everywhere(
    team_a: AsyncClientSession, hidden: Hidden
) -> None:
    data = await run(
        team_a,
        """{
          namespaces { name eventTypes { name } brokers { name } triggers { name } }
          eventTypes { totalCount nodes { namespace name } }
          brokers { namespace name }
          triggers { namespace name }
          byType: eventTypes(filter: {type: "dev.ci.secret.launch"}) { totalCount }
          bySearch: eventTypes(filter: {search: "secret"}) { totalCount }
          byBroker: eventTypes(filter: {broker: "default"}) { nodes { namespace } }
        }""",
    )
    assert data == {
        "namespaces": [
            {
                "name": TEAM_A,
                "eventTypes": [{"name": SHARED}],
                "brokers": [{"name": "default"}],
                "triggers": [{"name": "notify"}],
            }
        ],
        "eventTypes": {"totalCount": 1, "nodes": [{"namespace": TEAM_A, "name": SHARED}]},
        "brokers": [{"namespace": TEAM_A, "name": "default"}],
        "triggers": [{"namespace": TEAM_A, "name": "notify"}],
        "byType": {"totalCount": 0},
        "bySearch": {"totalCount": 0},
        "byBroker": {"nodes": [{"namespace": TEAM_A}]},
    }


SCOPED = """
query($ns: String!, $name: String!) {
  namespace(name: $ns) { name }
  eventTypes(namespace: $ns) {
    totalCount nodes { name } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
  filtered: eventTypes(namespace: $ns, filter: {consumable: true}, first: 5) { totalCount }
  eventType(namespace: $ns, name: $name) { name }
  broker(namespace: $ns, name: "default") { name }
  brokers(namespace: $ns) { name }
  triggers(namespace: $ns) { name }
  brokerTriggers: triggers(namespace: $ns, broker: "default") { name }
}
"""


async def test_hidden_namespace_answers_like_a_missing_one(
    team_a: AsyncClientSession, teams_ab: AsyncClientSession, hidden: Hidden
) -> None:
    for name in (SHARED, SECRET):
        as_hidden = await run(team_a, SCOPED, ns=TEAM_B, name=name)
        as_missing = await run(team_a, SCOPED, ns=NOWHERE, name=name)
        assert as_hidden == as_missing
        assert as_hidden == {
            "namespace": None,
            "eventTypes": {
                "totalCount": 0,
                "nodes": [],
                "pageInfo": {
                    "hasNextPage": False,
                    "hasPreviousPage": False,
                    "startCursor": None,
                    "endCursor": None,
                },
            },
            "filtered": {"totalCount": 0},
            "eventType": None,
            "broker": None,
            "brokers": [],
            "triggers": [],
            "brokerTriggers": [],
        }
    # Not because team B is empty: a reader of both teams gets it all.
    visible = await run(teams_ab, SCOPED, ns=TEAM_B, name=SECRET)
    assert visible["eventType"] == {"name": SECRET}
    assert visible["eventTypes"]["totalCount"] == 2


def test_hidden_namespace_answers_like_a_missing_one_over_http(
    guarded: RegistryProcess, hidden: Hidden
) -> None:
    as_hidden = guarded.query(SCOPED, {"ns": TEAM_B, "name": SECRET}, token=A_TOKEN)
    as_missing = guarded.query(SCOPED, {"ns": NOWHERE, "name": SECRET}, token=A_TOKEN)
    assert as_hidden == as_missing
    assert "errors" not in as_hidden


async def test_node_hides_other_namespaces(
    team_a: AsyncClientSession, teams_ab: AsyncClientSession, hidden: Hidden
) -> None:
    missing = {
        "Namespace": node_id("Namespace", NOWHERE),
        "Broker": node_id("Broker", NOWHERE, "default"),
        "Trigger": node_id("Trigger", NOWHERE, "notify"),
        SHARED: node_id("EventType", NOWHERE, SHARED),
        SECRET: node_id("EventType", NOWHERE, SECRET),
    }
    assert set(missing) == set(hidden.ids)
    for key, hidden_id in hidden.ids.items():
        assert await run(team_a, NODE, id=hidden_id) == {"node": None}, key
        assert await run(team_a, NODE, id=missing[key]) == {"node": None}, key
        shown = await run(teams_ab, NODE, id=hidden_id)
        assert shown["node"] is not None, key
        assert shown["node"]["id"] == hidden_id


ENTITIES = """
query($representations: [_Any!]!) {
  _entities(representations: $representations) {
    __typename
    ... on EventType { namespace name type }
    ... on Broker { namespace name }
    ... on Trigger { namespace name }
    ... on Namespace { name }
  }
}
"""


def representations(namespace: str) -> list[Json]:
    return [
        {"__typename": "EventType", "namespace": namespace, "name": SHARED},
        {"__typename": "EventType", "namespace": namespace, "name": SECRET},
        {"__typename": "Broker", "namespace": namespace, "name": "default"},
        {"__typename": "Trigger", "namespace": namespace, "name": "notify"},
        {"__typename": "Namespace", "name": namespace},
    ]


async def test_entities_hide_other_namespaces(
    team_a: AsyncClientSession, teams_ab: AsyncClientSession, hidden: Hidden
) -> None:
    as_hidden = await run(team_a, ENTITIES, representations=representations(TEAM_B))
    as_missing = await run(team_a, ENTITIES, representations=representations(NOWHERE))
    assert as_hidden == as_missing == {"_entities": [None] * 5}
    own = await run(team_a, ENTITIES, representations=representations(TEAM_A))
    assert own["_entities"] == [
        {
            "__typename": "EventType",
            "namespace": TEAM_A,
            "name": SHARED,
            "type": "dev.ci.build.finished",
        },
        None,  # team A has no such EventType
        {"__typename": "Broker", "namespace": TEAM_A, "name": "default"},
        {"__typename": "Trigger", "namespace": TEAM_A, "name": "notify"},
        {"__typename": "Namespace", "name": TEAM_A},
    ]
    visible = await run(teams_ab, ENTITIES, representations=representations(TEAM_B))
    assert None not in visible["_entities"]


async def test_consumers_of_a_visible_type_stay_in_its_namespace(
    team_a: AsyncClientSession, hidden: Hidden
) -> None:
    data = await run(
        team_a,
        '{ eventType(namespace: "team-a", name: "build-finished") '
        "{ consumers { namespace name } "
        "broker { triggers { namespace } eventTypes { namespace } } } }",
    )
    assert data["eventType"] == {
        "consumers": [{"namespace": TEAM_A, "name": "notify"}],
        "broker": {"triggers": [{"namespace": TEAM_A}], "eventTypes": [{"namespace": TEAM_A}]},
    }


@pytest.mark.parametrize("token", [None, "not-a-known-token", f"{A_TOKEN}x", A_TOKEN[:-1]])
def test_requests_without_a_valid_token_get_401(
    guarded: RegistryProcess, token: str | None
) -> None:
    with pytest.raises(HttpStatusError) as raised:
        guarded.query("{ namespaces { name } }", token=token)
    reply = raised.value.reply
    assert reply.status == 401
    assert reply.headers["www-authenticate"].startswith("Bearer")
    assert reply.json() == {"errors": [{"message": "a valid bearer token is required"}]}
    headers = {"authorization": f"Bearer {token}"} if token else {}
    query = "/graphql?" + urlencode({"query": "{ namespaces { name } }"})
    assert guarded.get(query, headers).status == 401
    # A query in the URL is an operation, even when a browser asks for HTML.
    assert guarded.get(query, {**headers, "accept": "text/html"}).status == 401


def test_other_authorization_schemes_get_401(guarded: RegistryProcess) -> None:
    query = "/graphql?" + urlencode({"query": "{ namespaces { name } }"})
    for authorization in (A_TOKEN, f"Basic {A_TOKEN}", "Bearer ", "Bearer"):
        assert guarded.get(query, {"authorization": authorization}).status == 401, authorization
    assert guarded.get(query, {"authorization": f"bearer {A_TOKEN}"}).status == 200


async def test_gql_without_a_valid_token_is_refused(guarded: RegistryProcess) -> None:
    for token in (None, "not-a-known-token"):
        # gql fetches the schema first; the 401's JSON body is its error.
        with pytest.raises((TransportQueryError, TransportServerError)) as raised:
            async with gql_client(guarded, token) as refused:
                await run(refused, "{ namespaces { name } }")
        assert "a valid bearer token is required" in str(raised.value)


def test_graphiql_page_is_served_without_a_token(guarded: RegistryProcess) -> None:
    reply = guarded.get("/graphql", {"accept": "text/html"})
    assert reply.status == 200
    assert reply.headers["content-type"].startswith("text/html")
    assert "graphiql" in reply.text.lower()
    # The page holds no data; the probes stay open too.
    assert guarded.get("/healthz").status == 200
    assert guarded.get("/readyz").status == 200
