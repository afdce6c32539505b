"""The GraphQL queries executed against a cache built from the Knative fixtures.

Each test runs ``schema.execute`` with a request context (principal, snapshot, cache), as the
HTTP layer does, so resolvers, paging, federation, namespace scoping and limits are covered
without a server.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strawberry.types import ExecutionResult

from event_registry.domain.access import NOBODY, OPEN, Principal
from event_registry.graphql import ids
from event_registry.graphql import schema as schema_module
from event_registry.graphql.connections import MAX_PAGE
from event_registry.graphql.context import Context
from event_registry.graphql.limits import QueryLimits
from event_registry.graphql.schema import schema
from event_registry.store.caching import KINDS, Cache
from tests.support.knative_fixtures import build_cache, load

DEFAULT_ONLY = Principal("default-reader", frozenset({"default"}), frozenset())
PAYMENTS_ONLY = Principal("payments-reader", frozenset({"payments"}), frozenset({"payments"}))
MISSING = "no-such-namespace"

ALL_EVENT_TYPES = [
    "default/com.github.issues",
    "default/com.github.pullrequest",
    "default/dev.knative.samples.heartbeat",
    "default/dev.knative.source.github.push-34cnb",
    "default/org.bitbucket.repofork",
    "payments/com.example.order.created",
    "payments/com.example.payment.refunded",
]


@pytest.fixture(scope="module")
def cache() -> Cache:
    return build_cache()


async def execute(
    query: str, cache: Cache, principal: Principal = OPEN, **variables: Any
) -> ExecutionResult:
    context = Context(principal=principal, snapshot=cache.snapshot, cache=cache)
    return await schema.execute(query, variable_values=variables, context_value=context)


async def data(query: str, cache: Cache, principal: Principal = OPEN, **variables: Any) -> Any:
    result = await execute(query, cache, principal, **variables)
    assert result.errors is None, result.errors
    assert result.data is not None
    return result.data


def keys(items: list[dict[str, Any]]) -> list[str]:
    return [f"{item['namespace']}/{item['name']}" for item in items]


def event_type_raw(name: str, namespace: str = "default", rv: str = "900") -> dict[str, Any]:
    return {
        "apiVersion": "eventing.knative.dev/v1beta2",
        "kind": "EventType",
        "metadata": {"name": name, "namespace": namespace, "resourceVersion": rv},
        "spec": {"type": f"com.example.{name}", "source": "/added", "broker": "default"},
        "status": {"conditions": [{"type": "Ready", "status": "True"}]},
    }


# namespaces -------------------------------------------------------------------------------------

NAMESPACES = """
{
  namespaces {
    id name phase
    counts { brokers eventTypes readyEventTypes consumableEventTypes triggers }
    brokers { name }
    eventTypes { name }
    triggers { name }
  }
}
"""


async def test_namespaces(cache: Cache) -> None:
    result = await data(NAMESPACES, cache)
    assert [ns["name"] for ns in result["namespaces"]] == ["default", "payments"]
    default, payments = result["namespaces"]
    assert default["phase"] == "Active"
    assert default["id"] == ids.encode("Namespace", "default")
    assert default["counts"] == {
        "brokers": 2,
        "eventTypes": 5,
        "readyEventTypes": 4,
        "consumableEventTypes": 4,
        "triggers": 9,
    }
    assert payments["counts"] == {
        "brokers": 1,
        "eventTypes": 2,
        "readyEventTypes": 2,
        "consumableEventTypes": 1,
        "triggers": 2,
    }
    assert [b["name"] for b in default["brokers"]] == ["default", "dev"]
    assert [e["name"] for e in payments["eventTypes"]] == [
        "com.example.order.created",
        "com.example.payment.refunded",
    ]
    assert [t["name"] for t in payments["triggers"]] == ["acme-orders", "order-created"]


async def test_namespace_by_name(cache: Cache) -> None:
    query = "query($name: String!) { namespace(name: $name) { name brokers { name } } }"
    found = await data(query, cache, name="payments")
    assert found == {"namespace": {"name": "payments", "brokers": [{"name": "default"}]}}
    assert await data(query, cache, name=MISSING) == {"namespace": None}


# brokers ---------------------------------------------------------------------------------------

BROKER = """
query($namespace: String!, $name: String!) {
  broker(namespace: $namespace, name: $name) {
    id namespace name class url ready reason message createdAt
    conditions { type status reason message severity lastTransitionTime }
    labels { key value }
    eventTypes { name }
    triggers { name }
  }
}
"""


async def test_brokers(cache: Cache) -> None:
    everything = await data("{ brokers { namespace name } }", cache)
    assert keys(everything["brokers"]) == ["default/default", "default/dev", "payments/default"]
    payments = await data('{ brokers(namespace: "payments") { namespace name } }', cache)
    assert keys(payments["brokers"]) == ["payments/default"]
    missing = await data(
        "query($ns: String) { brokers(namespace: $ns) { name } }", cache, ns=MISSING
    )
    assert missing == {"brokers": []}


async def test_ready_broker(cache: Cache) -> None:
    broker = (await data(BROKER, cache, namespace="default", name="default"))["broker"]
    assert broker["id"] == ids.encode("Broker", "default", "default")
    assert broker["class"] == "MTChannelBasedBroker"
    assert (
        broker["url"] == "http://broker-ingress.knative-eventing.svc.cluster.local/default/default"
    )
    assert (broker["ready"], broker["reason"], broker["message"]) == (True, None, None)
    assert broker["createdAt"] == "2024-05-01T09:00:00Z"
    assert broker["labels"] == []
    assert [c["type"] for c in broker["conditions"]] == [
        "Addressable",
        "DeadLetterSinkResolved",
        "FilterReady",
        "IngressReady",
        "Ready",
        "TriggerChannelReady",
    ]
    assert broker["conditions"][1] == {
        "type": "DeadLetterSinkResolved",
        "status": "True",
        "reason": "DeadLetterSinkNotConfigured",
        "message": "No dead letter sink is configured.",
        "severity": "Info",
        "lastTransitionTime": "2024-05-01T09:00:01Z",
    }
    assert [e["name"] for e in broker["eventTypes"]] == [
        "com.github.issues",
        "com.github.pullrequest",
        "dev.knative.samples.heartbeat",
        "dev.knative.source.github.push-34cnb",
    ]
    assert "bitbucket-forks" not in [t["name"] for t in broker["triggers"]]
    assert len(broker["triggers"]) == 8


async def test_not_ready_broker(cache: Cache) -> None:
    broker = (await data(BROKER, cache, namespace="default", name="dev"))["broker"]
    assert broker["url"] is None
    assert broker["ready"] is False
    assert broker["reason"] == "EndpointsUnavailable"
    assert broker["message"] == 'Endpoints "broker-ingress" is unavailable.'
    assert [e["name"] for e in broker["eventTypes"]] == ["org.bitbucket.repofork"]
    assert [t["name"] for t in broker["triggers"]] == ["bitbucket-forks"]


async def test_missing_broker(cache: Cache) -> None:
    assert await data(BROKER, cache, namespace="default", name="nope") == {"broker": None}
    assert await data(BROKER, cache, namespace=MISSING, name="default") == {"broker": None}


# eventTypes: filters ---------------------------------------------------------------------------

EVENT_TYPES = """
query($namespace: String, $filter: EventTypeFilter, $first: Int, $after: String) {
  eventTypes(namespace: $namespace, filter: $filter, first: $first, after: $after) {
    totalCount
    edges { cursor node { namespace name } }
    nodes { namespace name }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


async def test_all_event_types(cache: Cache) -> None:
    connection = (await data(EVENT_TYPES, cache))["eventTypes"]
    assert keys(connection["nodes"]) == ALL_EVENT_TYPES
    assert keys([edge["node"] for edge in connection["edges"]]) == ALL_EVENT_TYPES
    assert connection["totalCount"] == 7
    assert connection["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": False,
        "startCursor": connection["edges"][0]["cursor"],
        "endCursor": connection["edges"][-1]["cursor"],
    }


@pytest.mark.parametrize(
    ("namespace", "selection", "expected"),
    [
        (
            None,
            {"broker": "default"},
            [
                "default/com.github.issues",
                "default/com.github.pullrequest",
                "default/dev.knative.samples.heartbeat",
                "default/dev.knative.source.github.push-34cnb",
                "payments/com.example.order.created",
            ],
        ),
        (None, {"broker": "dev"}, ["default/org.bitbucket.repofork"]),
        (None, {"broker": "nope"}, []),
        (None, {"type": "com.github.pull_request"}, ["default/com.github.pullrequest"]),
        (None, {"type": "com.github"}, []),
        (
            None,
            {"typePrefix": "com.example."},
            ["payments/com.example.order.created", "payments/com.example.payment.refunded"],
        ),
        (
            None,
            {"source": "github.com"},
            [
                "default/com.github.issues",
                "default/com.github.pullrequest",
                "default/dev.knative.source.github.push-34cnb",
            ],
        ),
        (None, {"ready": False}, ["default/org.bitbucket.repofork"]),
        (
            None,
            {"ready": True},
            [k for k in ALL_EVENT_TYPES if k != "default/org.bitbucket.repofork"],
        ),
        (
            None,
            {"consumable": True},
            [
                "default/com.github.issues",
                "default/com.github.pullrequest",
                "default/dev.knative.samples.heartbeat",
                "default/dev.knative.source.github.push-34cnb",
                "payments/com.example.order.created",
            ],
        ),
        (
            None,
            {"consumable": False},
            ["default/org.bitbucket.repofork", "payments/com.example.payment.refunded"],
        ),
        (
            None,
            {"search": "GITHUB"},
            [
                "default/com.github.issues",
                "default/com.github.pullrequest",
                "default/dev.knative.source.github.push-34cnb",
            ],
        ),
        (None, {"search": "placed in the shop"}, ["payments/com.example.order.created"]),
        (
            None,
            {"broker": "default", "type": "com.github.pull_request"},
            ["default/com.github.pullrequest"],
        ),
        (None, {"broker": "dev", "type": "com.github.pull_request"}, []),
        (
            None,
            {"broker": "default", "consumable": True, "typePrefix": "dev."},
            [
                "default/dev.knative.samples.heartbeat",
                "default/dev.knative.source.github.push-34cnb",
            ],
        ),
        (None, {"ready": True, "consumable": False}, ["payments/com.example.payment.refunded"]),
        ("payments", {"broker": "default"}, ["payments/com.example.order.created"]),
        (
            "payments",
            {},
            ["payments/com.example.order.created", "payments/com.example.payment.refunded"],
        ),
        ("default", {"typePrefix": "com.example."}, []),
        (MISSING, {}, []),
    ],
)
async def test_event_type_filters(
    cache: Cache, namespace: str | None, selection: dict[str, Any], expected: list[str]
) -> None:
    connection = (await data(EVENT_TYPES, cache, namespace=namespace, filter=selection))[
        "eventTypes"
    ]
    assert keys(connection["nodes"]) == expected
    assert connection["totalCount"] == len(expected)


# eventTypes: paging ------------------------------------------------------------------------------


async def test_paging_walks_every_event_type_once(cache: Cache) -> None:
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page = (await data(EVENT_TYPES, cache, first=2, after=after))["eventTypes"]
        pages += 1
        assert page["totalCount"] == 7
        assert len(page["edges"]) <= 2
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        seen.extend(keys(page["nodes"]))
        if not page["pageInfo"]["hasNextPage"]:
            break
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        after = page["pageInfo"]["endCursor"]
    assert seen == ALL_EVENT_TYPES
    assert pages == 4


async def test_paging_with_a_filter(cache: Cache) -> None:
    first = (await data(EVENT_TYPES, cache, filter={"source": "github.com"}, first=1))["eventTypes"]
    assert first["totalCount"] == 3
    assert keys(first["nodes"]) == ["default/com.github.issues"]
    rest = (
        await data(
            EVENT_TYPES,
            cache,
            filter={"source": "github.com"},
            after=first["pageInfo"]["endCursor"],
        )
    )["eventTypes"]
    assert keys(rest["nodes"]) == [
        "default/com.github.pullrequest",
        "default/dev.knative.source.github.push-34cnb",
    ]
    assert rest["pageInfo"]["hasNextPage"] is False
    assert rest["pageInfo"]["hasPreviousPage"] is True


async def test_first_zero_and_the_last_cursor(cache: Cache) -> None:
    empty = (await data(EVENT_TYPES, cache, first=0))["eventTypes"]
    assert empty["edges"] == []
    assert empty["totalCount"] == 7
    assert empty["pageInfo"] == {
        "hasNextPage": True,
        "hasPreviousPage": False,
        "startCursor": None,
        "endCursor": None,
    }
    everything = (await data(EVENT_TYPES, cache))["eventTypes"]
    last = everything["edges"][-1]["cursor"]
    after_last = (await data(EVENT_TYPES, cache, after=last))["eventTypes"]
    assert after_last["edges"] == []
    assert after_last["pageInfo"]["hasNextPage"] is False
    assert after_last["pageInfo"]["hasPreviousPage"] is True
    maximum = (await data(EVENT_TYPES, cache, first=MAX_PAGE))["eventTypes"]
    assert len(maximum["edges"]) == 7


async def test_cursors_are_stable_across_inserts_and_deletes() -> None:
    cache = build_cache()
    page_one = (await data(EVENT_TYPES, cache, first=2))["eventTypes"]
    assert keys(page_one["nodes"]) == ALL_EVENT_TYPES[:2]
    cursor = page_one["pageInfo"]["endCursor"]
    # an EventType sorted before the cursor appears, one after it too
    cache.apply("EventType", "ADDED", event_type_raw("aaa.first"))
    cache.apply("EventType", "ADDED", event_type_raw("com.github.zzz"))
    page_two = (await data(EVENT_TYPES, cache, first=2, after=cursor))["eventTypes"]
    assert keys(page_two["nodes"]) == [
        "default/com.github.zzz",
        "default/dev.knative.samples.heartbeat",
    ]
    assert page_two["totalCount"] == 9
    # the cursor's own EventType disappears: the cursor still continues after its position
    cache.apply(
        "EventType", "DELETED", load("eventtype-v1beta2.yaml")[0]
    )  # default/com.github.pullrequest
    page_two_again = (await data(EVENT_TYPES, cache, first=2, after=cursor))["eventTypes"]
    assert keys(page_two_again["nodes"]) == keys(page_two["nodes"])
    restarted = (await data(EVENT_TYPES, cache, first=1))["eventTypes"]
    assert keys(restarted["nodes"]) == ["default/aaa.first"]


async def test_cursor_is_the_same_for_the_same_event_type(cache: Cache) -> None:
    everything = (await data(EVENT_TYPES, cache))["eventTypes"]["edges"]
    filtered = (await data(EVENT_TYPES, cache, filter={"source": "github.com"}))["eventTypes"][
        "edges"
    ]
    by_key = {f"{e['node']['namespace']}/{e['node']['name']}": e["cursor"] for e in everything}
    for edge in filtered:
        assert edge["cursor"] == by_key[f"{edge['node']['namespace']}/{edge['node']['name']}"]
    assert len(set(by_key.values())) == len(by_key)


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"first": -1}, f"first must be between 0 and {MAX_PAGE}"),
        ({"first": MAX_PAGE + 1}, f"first must be between 0 and {MAX_PAGE}"),
        ({"after": "garbage"}, "after is not a cursor returned by this API"),
        ({"after": ""}, "after is not a cursor returned by this API"),
        ({"after": ids.encode("EventType", "x")}, "after is not a cursor returned by this API"),
        ({"after": "!!!!"}, "after is not a cursor returned by this API"),
    ],
)
async def test_invalid_paging_is_a_readable_error(
    cache: Cache, variables: dict[str, Any], message: str
) -> None:
    result = await execute(EVENT_TYPES, cache, **variables)
    assert result.data is None
    assert result.errors is not None
    assert [error.message for error in result.errors] == [message]
    assert result.errors[0].path == ["eventTypes"]


# eventType fields ----------------------------------------------------------------------------

EVENT_TYPE = """
query($namespace: String!, $name: String!) {
  eventType(namespace: $namespace, name: $name) {
    id namespace name type source schema schemaData description
    reference { apiVersion kind name namespace }
    brokerName
    broker { namespace name ready }
    attributes { name value required }
    ready reason message consumable
    conditions { type status reason message }
    consumers { namespace name }
    consumerMatches { trigger { name } match }
    owner { apiVersion kind name namespace }
    labels { key value }
    createdAt apiVersion
  }
}
"""


async def test_event_type_from_v1beta2_spec_broker(cache: Cache) -> None:
    et = (await data(EVENT_TYPE, cache, namespace="default", name="com.github.pullrequest"))[
        "eventType"
    ]
    assert et["id"] == ids.encode("EventType", "default", "com.github.pullrequest")
    assert (et["namespace"], et["name"]) == ("default", "com.github.pullrequest")
    assert et["type"] == "com.github.pull_request"
    assert et["source"] == "github.com"
    assert et["schema"] == "//github.com/schemas/pull_request"
    assert et["schemaData"] is None
    assert et["description"] == "GitHub pull request"
    assert et["reference"] is None
    assert et["brokerName"] == "default"
    assert et["broker"] == {"namespace": "default", "name": "default", "ready": True}
    assert et["attributes"] == [
        {"name": "type", "value": "com.github.pull_request", "required": True},
        {"name": "source", "value": "github.com", "required": True},
        {"name": "dataschema", "value": "//github.com/schemas/pull_request", "required": True},
    ]
    assert (et["ready"], et["reason"], et["message"], et["consumable"]) == (True, None, None, True)
    assert et["conditions"][1] == {
        "type": "ReferenceExists",
        "status": "True",
        "reason": "ReferenceNotSet",
        "message": "Reference not set",
    }
    assert keys(et["consumers"]) == [
        "default/catch-all",
        "default/cesql-github",
        "default/filters-override",
        "default/github-but-issues",
        "default/github-or-heartbeat",
        "default/github-prefix",
        "default/pull-requests",
    ]
    assert et["consumerMatches"] == [
        {"trigger": {"name": "catch-all"}, "match": "YES"},
        {"trigger": {"name": "cesql-github"}, "match": "YES"},
        {"trigger": {"name": "filters-override"}, "match": "YES"},
        {"trigger": {"name": "github-but-issues"}, "match": "YES"},
        {"trigger": {"name": "github-or-heartbeat"}, "match": "YES"},
        {"trigger": {"name": "github-prefix"}, "match": "YES"},
        {"trigger": {"name": "pull-requests"}, "match": "YES"},
    ]
    assert et["owner"] is None
    assert et["labels"] == []
    assert et["createdAt"] == "2024-05-02T10:00:00Z"
    assert et["apiVersion"] == "eventing.knative.dev/v1beta2"


async def test_event_type_owned_by_a_source(cache: Cache) -> None:
    et = (
        await data(
            EVENT_TYPE, cache, namespace="default", name="dev.knative.source.github.push-34cnb"
        )
    )["eventType"]
    assert et["owner"] == {
        "apiVersion": "sources.knative.dev/v1alpha1",
        "kind": "GitHubSource",
        "name": "github-source-sample",
        "namespace": None,
    }
    assert et["labels"] == [
        {"key": "eventing.knative.dev/sourceName", "value": "github-source-sample"}
    ]
    assert et["reference"] == {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Broker",
        "name": "default",
        "namespace": None,
    }
    assert et["brokerName"] == "default"
    assert [c["name"] for c in et["consumers"]] == [
        "catch-all",
        "github-but-issues",
        "github-or-heartbeat",
        "my-service-trigger",
    ]


async def test_event_type_from_v1beta3(cache: Cache) -> None:
    et = (await data(EVENT_TYPE, cache, namespace="payments", name="com.example.order.created"))[
        "eventType"
    ]
    assert et["apiVersion"] == "eventing.knative.dev/v1beta3"
    assert et["type"] == "com.example.order.created"
    assert et["source"] == "https://shop.example.com/orders"
    assert et["schema"] == "https://schemas.example.com/order-created.json"
    assert et["attributes"] == [
        {"name": "type", "value": "com.example.order.created", "required": True},
        {"name": "source", "value": "https://shop.example.com/orders", "required": True},
        {"name": "specversion", "value": "1.0", "required": True},
        {"name": "id", "value": None, "required": True},
        {
            "name": "dataschema",
            "value": "https://schemas.example.com/order-created.json",
            "required": False,
        },
        {"name": "datacontenttype", "value": "application/json", "required": False},
        {"name": "tenant", "value": "{tenant}", "required": False},
    ]
    assert et["broker"] == {"namespace": "payments", "name": "default", "ready": True}
    assert et["consumable"] is True
    assert et["labels"] == [{"key": "team", "value": "checkout"}]
    assert keys(et["consumers"]) == ["payments/order-created"]
    assert et["consumerMatches"] == [
        {"trigger": {"name": "acme-orders"}, "match": "UNKNOWN"},
        {"trigger": {"name": "order-created"}, "match": "YES"},
    ]


async def test_event_type_without_broker(cache: Cache) -> None:
    et = (await data(EVENT_TYPE, cache, namespace="payments", name="com.example.payment.refunded"))[
        "eventType"
    ]
    assert et["reference"] is None
    assert et["brokerName"] is None
    assert et["broker"] is None
    assert et["ready"] is True
    assert et["consumable"] is False
    assert et["consumers"] == []
    assert et["consumerMatches"] == []
    assert et["schema"] is None


async def test_event_type_not_ready(cache: Cache) -> None:
    et = (await data(EVENT_TYPE, cache, namespace="default", name="org.bitbucket.repofork"))[
        "eventType"
    ]
    assert et["apiVersion"] == "eventing.knative.dev/v1beta1"
    assert (et["ready"], et["reason"], et["message"]) == (
        False,
        "BrokerIsNotReady",
        'Broker "dev" is not ready',
    )
    assert et["broker"] == {"namespace": "default", "name": "dev", "ready": False}
    assert et["consumable"] is False
    assert keys(et["consumers"]) == ["default/bitbucket-forks"]


async def test_event_type_v1beta1_schema_data(cache: Cache) -> None:
    et = (await data(EVENT_TYPE, cache, namespace="default", name="com.github.issues"))["eventType"]
    assert et["schemaData"] == '{"type": "object"}'
    assert et["apiVersion"] == "eventing.knative.dev/v1beta1"


async def test_missing_event_type(cache: Cache) -> None:
    assert await data(EVENT_TYPE, cache, namespace="default", name="nope") == {"eventType": None}


async def test_consumable_follows_the_broker() -> None:
    cache = build_cache()
    query = """
    { eventTypes(filter: {consumable: true}) { totalCount }
      eventType(namespace: "default", name: "com.github.pullrequest") { consumable } }
    """
    before = await data(query, cache)
    assert before == {"eventTypes": {"totalCount": 5}, "eventType": {"consumable": True}}
    broker = load("broker-v1.yaml")[0]
    not_ready = json.loads(json.dumps(broker))
    not_ready["metadata"]["resourceVersion"] = "999"
    not_ready["status"]["conditions"] = [
        {"type": "Ready", "status": "False", "reason": "IngressNotReady"}
    ]
    cache.apply("Broker", "MODIFIED", not_ready)
    after = await data(query, cache)
    assert after == {"eventTypes": {"totalCount": 1}, "eventType": {"consumable": False}}
    cache.apply("Broker", "DELETED", not_ready)
    gone = await data(query, cache)
    assert gone == {"eventTypes": {"totalCount": 1}, "eventType": {"consumable": False}}


# triggers ------------------------------------------------------------------------------------

TRIGGERS = """
query($namespace: String, $broker: String) {
  triggers(namespace: $namespace, broker: $broker) {
    id namespace name brokerName
    broker { name }
    filter { attributes { key value } }
    filters
    subscriber { ref { apiVersion kind name namespace } uri }
    subscriberUri ready reason message
    conditions { type status }
    labels { key value }
    createdAt
    eventTypes { namespace name }
  }
}
"""


async def test_triggers(cache: Cache) -> None:
    everything = (await data(TRIGGERS, cache))["triggers"]
    assert len(everything) == 11
    assert keys(everything)[:2] == ["default/bitbucket-forks", "default/catch-all"]
    assert keys(everything)[-2:] == ["payments/acme-orders", "payments/order-created"]
    default = (await data(TRIGGERS, cache, namespace="default"))["triggers"]
    assert len(default) == 9
    on_dev = (await data(TRIGGERS, cache, broker="dev"))["triggers"]
    assert keys(on_dev) == ["default/bitbucket-forks"]
    on_default = (await data(TRIGGERS, cache, namespace="payments", broker="default"))["triggers"]
    assert keys(on_default) == ["payments/acme-orders", "payments/order-created"]
    assert (await data(TRIGGERS, cache, broker="nope"))["triggers"] == []
    assert (await data(TRIGGERS, cache, namespace=MISSING))["triggers"] == []


async def test_trigger_fields(cache: Cache) -> None:
    triggers = {
        t["name"]: t for t in (await data(TRIGGERS, cache, namespace="default"))["triggers"]
    }
    seed = triggers["my-service-trigger"]
    assert seed["id"] == ids.encode("Trigger", "default", "my-service-trigger")
    assert seed["brokerName"] == "default"
    assert seed["broker"] == {"name": "default"}
    assert seed["filter"] == {
        "attributes": [
            {"key": "source", "value": "github.com"},
            {"key": "type", "value": "dev.knative.source.github.push"},
        ]
    }
    assert seed["filters"] is None
    assert seed["subscriber"] == {
        "ref": {
            "apiVersion": "serving.knative.dev/v1",
            "kind": "Service",
            "name": "my-service",
            "namespace": None,
        },
        "uri": None,
    }
    assert seed["subscriberUri"] == "http://my-service.default.svc.cluster.local"
    assert seed["ready"] is True
    assert [c["type"] for c in seed["conditions"]] == [
        "BrokerReady",
        "DependencyReady",
        "Ready",
        "SubscriberResolved",
        "SubscriptionReady",
    ]
    assert seed["labels"] == [{"key": "eventing.knative.dev/broker", "value": "default"}]
    assert seed["createdAt"] == "2024-05-04T08:00:00Z"
    assert keys(seed["eventTypes"]) == ["default/dev.knative.source.github.push-34cnb"]

    nested = triggers["github-but-issues"]
    assert nested["filter"] is None
    assert nested["filters"] == [
        {
            "all": [
                {"suffix": {"source": "github.com"}},
                {"not": {"exact": {"type": "com.github.issues"}}},
            ]
        }
    ]
    prefix = triggers["github-prefix"]
    assert prefix["subscriber"]["uri"] == "/github"
    assert prefix["subscriber"]["ref"]["name"] == "github-archiver"
    uri_only = triggers["pull-requests"]
    assert uri_only["subscriber"] == {
        "ref": None,
        "uri": "http://pr-bot.tools.svc.cluster.local/hooks",
    }
    assert uri_only["filter"]["attributes"] == [
        {"key": "source", "value": ""},
        {"key": "type", "value": "com.github.pull_request"},
    ]
    broken = triggers["cesql-github"]
    assert broken["ready"] is False
    assert broken["reason"] == "Unable to get the Subscriber's URI"
    assert "audit-log" in broken["message"]
    assert broken["subscriberUri"] is None
    assert keys(broken["eventTypes"]) == [  # its CESQL is decided on the pinned type and source
        "default/com.github.issues",
        "default/com.github.pullrequest",
    ]
    override = triggers["filters-override"]
    assert override["filter"] == {"attributes": [{"key": "type", "value": "does.not.exist"}]}
    assert override["filters"] == [{"exact": {"type": "com.github.pull_request"}}]
    assert keys(override["eventTypes"]) == ["default/com.github.pullrequest"]


async def test_trigger_event_types_are_the_inverse_of_consumers(cache: Cache) -> None:
    triggers = (await data(TRIGGERS, cache))["triggers"]
    event_types = (
        await data(
            "{ eventTypes { nodes { namespace name consumers { namespace name } } } }", cache
        )
    )["eventTypes"]["nodes"]
    by_trigger = {
        (f"{t['namespace']}/{t['name']}", et) for t in triggers for et in keys(t["eventTypes"])
    }
    by_event_type = {
        (trigger, f"{et['namespace']}/{et['name']}")
        for et in event_types
        for trigger in keys(et["consumers"])
    }
    assert by_trigger == by_event_type
    assert len(by_trigger) == 19  # 2 of them through the CESQL Trigger


async def test_a_trigger_on_a_missing_broker() -> None:
    cache = build_cache()
    raw = load("trigger-v1.yaml")[0]
    raw["metadata"] = {**raw["metadata"], "name": "orphan", "resourceVersion": "950"}
    raw["spec"] = {**raw["spec"], "broker": "gone"}
    cache.apply("Trigger", "ADDED", raw)
    query = '{ triggers(broker: "gone") { name brokerName broker { name } eventTypes { name } } }'
    assert await data(query, cache) == {
        "triggers": [{"name": "orphan", "brokerName": "gone", "broker": None, "eventTypes": []}]
    }


# node(id) ------------------------------------------------------------------------------------

NODE = """
query($id: ID!) {
  node(id: $id) {
    __typename id
    ... on Namespace { name }
    ... on Broker { namespace name }
    ... on EventType { namespace name type }
    ... on Trigger { namespace name brokerName }
  }
}
"""
EVERY_ID = """
{
  namespaces {
    id name
    brokers { id namespace name }
    eventTypes { id namespace name }
    triggers { id namespace name }
  }
}
"""


async def test_node_resolves_every_object(cache: Cache) -> None:
    namespaces = (await data(EVERY_ID, cache))["namespaces"]
    checked = 0
    for ns in namespaces:
        node = (await data(NODE, cache, id=ns["id"]))["node"]
        assert node == {"__typename": "Namespace", "id": ns["id"], "name": ns["name"]}
        checked += 1
        for field, typename in (
            ("brokers", "Broker"),
            ("eventTypes", "EventType"),
            ("triggers", "Trigger"),
        ):
            for item in ns[field]:
                node = (await data(NODE, cache, id=item["id"]))["node"]
                assert node["__typename"] == typename
                assert node["id"] == item["id"]
                assert (node["namespace"], node["name"]) == (item["namespace"], item["name"])
                checked += 1
    assert checked == 2 + 3 + 7 + 11


async def test_ids_are_unique_and_opaque(cache: Cache) -> None:
    namespaces = (await data(EVERY_ID, cache))["namespaces"]
    all_ids = [ns["id"] for ns in namespaces] + [
        item["id"]
        for ns in namespaces
        for field in ("brokers", "eventTypes", "triggers")
        for item in ns[field]
    ]
    assert len(set(all_ids)) == len(all_ids)
    # a Broker and a Trigger may share namespace and name; their ids differ by kind
    assert ids.encode("Broker", "default", "x") != ids.encode("Trigger", "default", "x")


@pytest.mark.parametrize(
    "node_id",
    [
        "",
        "!!!",
        "garbage",
        "Zm9v",  # "foo"
        "////",
        "\u00e9\u00e9\u00e9\u00e9",
        ids.encode_cursor("default", "com.github.pullrequest"),  # a cursor is not an id
        ids.encode("Secret", "default", "token"),
        ids.encode("Broker", "default"),  # no name
        ids.encode("Namespace", ""),
        ids.encode("Namespace", MISSING),
        ids.encode("Broker", "default", "nope"),
        ids.encode("Broker", MISSING, "default"),
        ids.encode("EventType", "default", "a/b"),
        ids.encode("Trigger", "payments", "my-service-trigger"),  # right name, other namespace
        ids.encode("EventType", "default", "bitbucket-forks"),  # a Trigger's name, wrong kind
    ],
)
async def test_node_with_a_garbage_or_unknown_id_is_null(cache: Cache, node_id: str) -> None:
    assert await data(NODE, cache, id=node_id) == {"node": None}


@given(st.text())
def test_decoding_any_id_never_raises(text: str) -> None:
    decoded = ids.decode(text)
    if decoded is not None:
        kind, namespace, name = decoded
        assert kind in KINDS
        assert namespace
        assert (name == "") == (kind == "Namespace")
    cursor = ids.decode_cursor(text)
    assert cursor is None or cursor[1] != ""


NAME = st.from_regex(r"[a-z0-9]([-a-z0-9.]{0,20}[a-z0-9])?", fullmatch=True)


@given(st.sampled_from(["Broker", "EventType", "Trigger"]), NAME, NAME)
def test_ids_round_trip(kind: str, namespace: str, name: str) -> None:
    assert ids.decode(ids.encode(kind, namespace, name)) == (kind, namespace, name)
    assert ids.decode(ids.encode("Namespace", namespace)) == ("Namespace", namespace, "")
    assert ids.decode_cursor(ids.encode_cursor(namespace, name)) == (namespace, name)


# federation ---------------------------------------------------------------------------------


async def test_service_sdl_declares_the_entity_keys(cache: Cache) -> None:
    sdl = (await data("{ _service { sdl } }", cache))["_service"]["sdl"]
    assert "specs.apollo.dev/federation/v2" in sdl
    for typename in ("EventType", "Broker", "Trigger"):
        assert re.search(
            rf'type {typename} implements Node[^{{]*@key\(fields: "namespace name"\)', sdl
        )
    assert 'type Namespace implements Node @key(fields: "name")' in sdl


ENTITIES = """
query($representations: [_Any!]!) {
  _entities(representations: $representations) {
    __typename
    ... on Namespace { name counts { eventTypes } }
    ... on Broker { namespace name ready }
    ... on EventType { namespace name type consumable }
    ... on Trigger { namespace name brokerName }
  }
}
"""


async def test_entities_resolve_representations(cache: Cache) -> None:
    representations = [
        {"__typename": "Namespace", "name": "payments"},
        {"__typename": "Broker", "namespace": "default", "name": "dev"},
        {"__typename": "EventType", "namespace": "default", "name": "com.github.pullrequest"},
        {"__typename": "Trigger", "namespace": "payments", "name": "order-created"},
        {"__typename": "EventType", "namespace": "default", "name": "nope"},
        {"__typename": "Namespace", "name": MISSING},
    ]
    entities = (await data(ENTITIES, cache, representations=representations))["_entities"]
    assert entities == [
        {"__typename": "Namespace", "name": "payments", "counts": {"eventTypes": 2}},
        {"__typename": "Broker", "namespace": "default", "name": "dev", "ready": False},
        {
            "__typename": "EventType",
            "namespace": "default",
            "name": "com.github.pullrequest",
            "type": "com.github.pull_request",
            "consumable": True,
        },
        {
            "__typename": "Trigger",
            "namespace": "payments",
            "name": "order-created",
            "brokerName": "default",
        },
        None,
        None,
    ]


# namespace scoping ---------------------------------------------------------------------------

SCOPED_QUERIES = {
    "namespace": "query($ns: String!) { namespace(name: $ns) { name counts { eventTypes } } }",
    "brokers": "query($ns: String) { brokers(namespace: $ns) { namespace name } }",
    "broker": 'query($ns: String!) { broker(namespace: $ns, name: "default") { name } }',
    "eventTypes": """
        query($ns: String) {
          eventTypes(namespace: $ns) {
            totalCount edges { cursor node { name } }
            pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
          }
        }""",
    "eventTypes-by-broker": """
        query($ns: String) {
          eventTypes(namespace: $ns, filter: {broker: "default"}) { totalCount nodes { name } }
        }""",
    "eventTypes-by-type": """
        query($ns: String) {
          eventTypes(namespace: $ns, filter: {type: "com.example.order.created"}) {
            totalCount nodes { name }
          }
        }""",
    "eventTypes-paged": """
        query($ns: String) {
          eventTypes(namespace: $ns, first: 1) { totalCount pageInfo { hasNextPage } }
        }""",
    "eventType": """
        query($ns: String!) {
          eventType(namespace: $ns, name: "com.example.order.created") { name }
        }""",
    "triggers": "query($ns: String) { triggers(namespace: $ns) { name } }",
    "triggers-by-broker": """
        query($ns: String) { triggers(namespace: $ns, broker: "default") { name } }""",
}


async def _scoped(query: str, cache: Cache, principal: Principal, ns: str) -> dict[str, Any]:
    result = await execute(query, cache, principal, ns=ns)
    return {"data": result.data, "errors": [str(e) for e in result.errors or []]}


@pytest.mark.parametrize("name", list(SCOPED_QUERIES))
async def test_a_hidden_namespace_looks_exactly_like_a_missing_one(cache: Cache, name: str) -> None:
    query = SCOPED_QUERIES[name]
    hidden = await _scoped(query, cache, DEFAULT_ONLY, "payments")
    missing = await _scoped(query, cache, DEFAULT_ONLY, MISSING)
    visible = await _scoped(query, cache, PAYMENTS_ONLY, "payments")
    assert hidden == missing
    assert hidden["errors"] == []
    assert visible != hidden, "the query does reach payments when it may"


async def _node_and_entity(
    cache: Cache, principal: Principal, ns: str
) -> tuple[list[Any], list[Any]]:
    node_ids = [
        ids.encode("Namespace", ns),
        ids.encode("Broker", ns, "default"),
        ids.encode("EventType", ns, "com.example.order.created"),
        ids.encode("Trigger", ns, "order-created"),
    ]
    nodes = [(await execute(NODE, cache, principal, id=node_id)).data for node_id in node_ids]
    representations = [
        {"__typename": "Namespace", "name": ns},
        {"__typename": "Broker", "namespace": ns, "name": "default"},
        {"__typename": "EventType", "namespace": ns, "name": "com.example.order.created"},
        {"__typename": "Trigger", "namespace": ns, "name": "order-created"},
    ]
    entities = await execute(ENTITIES, cache, principal, representations=representations)
    assert entities.errors is None
    assert entities.data is not None
    return nodes, entities.data["_entities"]


async def test_node_and_entities_hide_a_namespace_like_a_missing_one(cache: Cache) -> None:
    hidden = await _node_and_entity(cache, DEFAULT_ONLY, "payments")
    missing = await _node_and_entity(cache, DEFAULT_ONLY, MISSING)
    visible_nodes, visible_entities = await _node_and_entity(cache, PAYMENTS_ONLY, "payments")
    assert hidden == missing
    assert hidden == ([{"node": None}] * 4, [None] * 4)
    assert all(node is not None and node["node"] is not None for node in visible_nodes)
    assert all(entity is not None for entity in visible_entities)


UNSCOPED = """
{
  namespaces { name }
  brokers { namespace }
  eventTypes { totalCount nodes { namespace } }
  consumable: eventTypes(filter: {consumable: true}) { totalCount nodes { namespace } }
  byType: eventTypes(filter: {type: "com.example.order.created"}) { totalCount }
  byBroker: eventTypes(filter: {broker: "default"}) { nodes { namespace } }
  triggers { namespace }
  triggersOnDefault: triggers(broker: "default") { namespace }
}
"""


async def test_lists_without_a_namespace_only_show_readable_namespaces(cache: Cache) -> None:
    result = await data(UNSCOPED, cache, DEFAULT_ONLY)
    assert result["namespaces"] == [{"name": "default"}]
    namespaces = {
        item["namespace"]
        for field in ("brokers", "triggers", "triggersOnDefault")
        for item in result[field]
    } | {
        node["namespace"]
        for field in ("eventTypes", "consumable", "byBroker")
        for node in result[field]["nodes"]
    }
    assert namespaces == {"default"}
    assert result["eventTypes"]["totalCount"] == 5
    assert result["consumable"]["totalCount"] == 4
    assert result["byType"]["totalCount"] == 0
    everyone = await data(UNSCOPED, cache, OPEN)
    assert everyone["byType"]["totalCount"] == 1
    assert everyone["eventTypes"]["totalCount"] == 7


async def test_a_principal_that_reads_nothing_sees_nothing(cache: Cache) -> None:
    result = await data(UNSCOPED, cache, NOBODY)
    assert result == {
        "namespaces": [],
        "brokers": [],
        "eventTypes": {"totalCount": 0, "nodes": []},
        "consumable": {"totalCount": 0, "nodes": []},
        "byType": {"totalCount": 0},
        "byBroker": {"nodes": []},
        "triggers": [],
        "triggersOnDefault": [],
    }


async def test_a_readable_namespace_that_does_not_exist_is_not_listed(cache: Cache) -> None:
    principal = Principal("ghost", frozenset({"ghost", "payments"}), frozenset())
    result = await data("{ namespaces { name } }", cache, principal)
    assert result == {"namespaces": [{"name": "payments"}]}


async def test_a_cursor_from_a_hidden_namespace_reveals_nothing(cache: Cache) -> None:
    hidden_cursor = ids.encode_cursor("payments", "com.example.order.created")
    missing_cursor = ids.encode_cursor(MISSING, "com.example.order.created")
    hidden = await data(EVENT_TYPES, cache, DEFAULT_ONLY, after=hidden_cursor)
    missing = await data(EVENT_TYPES, cache, DEFAULT_ONLY, after=missing_cursor)
    assert hidden == missing
    assert hidden["eventTypes"]["edges"] == []
    assert hidden["eventTypes"]["totalCount"] == 5


# limits --------------------------------------------------------------------------------------


def _nested(levels: int) -> str:
    """A query whose selection sets nest ``levels`` fields deep (leaf included)."""
    chain = ["namespaces", "brokers", *(["eventTypes", "broker"] * levels)][: levels - 1]
    selection = "name"
    for field in reversed(chain):
        selection = f"{field} {{ {selection} }}"
    return "{ " + selection + " }"


async def test_a_query_deeper_than_max_depth_is_rejected(cache: Cache) -> None:
    # the depth limiter counts the root field as depth 0, so MAX_DEPTH + 1 levels are allowed
    # (by the depth limit: such nested lists are far over the cost limit, see test_query_cost)
    context = Context(
        principal=OPEN,
        snapshot=cache.snapshot,
        cache=cache,
        limits=QueryLimits(max_query_cost=0),
    )
    allowed = await schema.execute(_nested(schema_module.MAX_DEPTH + 1), context_value=context)
    assert allowed.errors is None
    result = await execute(_nested(schema_module.MAX_DEPTH + 2), cache)
    assert result.data is None
    assert result.errors is not None
    assert [e.message for e in result.errors] == [
        f"'anonymous' exceeds maximum operation depth of {schema_module.MAX_DEPTH}"
    ]


async def test_a_named_deep_query_is_rejected_by_name(cache: Cache) -> None:
    query = "query Deep " + _nested(schema_module.MAX_DEPTH + 5)
    result = await execute(query, cache)
    assert result.errors is not None
    assert "'Deep' exceeds maximum operation depth" in result.errors[0].message


async def test_deep_fragments_are_counted(cache: Cache) -> None:
    inner = _nested(schema_module.MAX_DEPTH + 2)[2:-2]  # without the outer braces
    query = "query Frag { ...F } fragment F on Query { " + inner + " }"
    result = await execute(query, cache)
    assert result.data is None
    assert result.errors is not None
    assert "exceeds maximum operation depth" in result.errors[0].message


async def test_too_many_aliases_are_rejected(cache: Cache) -> None:
    def aliased(count: int) -> str:
        return "{ " + " ".join(f"a{i}: namespaces {{ name }}" for i in range(count)) + " }"

    allowed = await execute(aliased(schema_module.MAX_ALIASES), cache)
    assert allowed.errors is None
    result = await execute(aliased(schema_module.MAX_ALIASES + 1), cache)
    assert result.data is None
    assert result.errors is not None
    assert [e.message for e in result.errors] == [
        f"{schema_module.MAX_ALIASES + 1} aliases found. Allowed: {schema_module.MAX_ALIASES}"
    ]


async def test_too_many_tokens_are_rejected(cache: Cache) -> None:
    query = "{ namespaces { " + " ".join(["name"] * schema_module.MAX_TOKENS) + " } }"
    result = await execute(query, cache)
    assert result.data is None
    assert result.errors is not None
    assert "token" in result.errors[0].message.lower()
    assert "Unexpected error" not in result.errors[0].message


async def test_validation_errors_stay_readable(cache: Cache) -> None:
    result = await execute("{ eventTypes(first: 1) { nope } }", cache)
    assert result.errors is not None
    assert "Cannot query field 'nope' on type 'EventTypeConnection'." in result.errors[0].message
