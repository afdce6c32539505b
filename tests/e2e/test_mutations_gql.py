"""Every GraphQL mutation through HTTP, with the ``gql`` client, against ``event-registry serve``.

One real registry process for the module (its embedded control plane and the embedded Knative
readiness controller included), in ``tokens`` mode:

- token ``WRITER`` may read and write namespace ``team-a``;
- token ``READER`` may only read ``team-a`` (writes there are ``Forbidden``);
- token ``OTHER`` may read and write ``team-b`` only (``team-a`` is hidden from it, so writes there
  are ``NotFound``, exactly like a namespace that does not exist).

Successes are checked against what the cache serves right after the mutation (the answer
carries the object as the cache sees it) and against kubectl, the reference client. Every
refused request must leave the cluster unchanged: the objects of ``team-a`` are listed with
kubectl before and after it.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from gql import Client, GraphQLRequest
from gql.client import AsyncClientSession
from gql.transport.aiohttp import AIOHTTPTransport

from tests.support.registry import (
    RegistryProcess,
    broker,
    eventtype,
    eventually_async,
    trigger,
    write_tokens,
)

Json = dict[str, Any]

TEAM_A = "team-a"
TEAM_B = "team-b"
MISSING = "no-such-namespace"
WRITER = "writer-token-team-a"
READER = "reader-token-team-a"
OTHER = "other-token-team-b"
TOKENS = [
    {"token": WRITER, "name": "writer", "namespaces": {TEAM_A: ["read", "write"]}},
    {"token": READER, "name": "reader", "namespaces": {TEAM_A: ["read"]}},
    {"token": OTHER, "name": "other", "namespaces": {TEAM_B: ["read", "write"]}},
]

# Objects every test may rely on (created with kubectl before the first test).
BROKER = "default"
EXISTING_EVENT_TYPE = "existing-eventtype"
EXISTING_TRIGGER = "existing-trigger"
EXISTING_TYPE = "com.example.existing"
EXISTING_SOURCE = "https://example.com/existing"

SINK = "http://sink.team-a.svc.cluster.local/"
SERVICE_REF = {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": "handler"}
STATUS_FIELDS = ("ready", "reason", "consumable", "conditions", "subscriberUri", "url", "consumers")
"""Fields the readiness controller (or other writes) may change at any time after a write."""

RECONCILE_TIMEOUT = 20.0

_serial = itertools.count()


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_serial)}"


# documents -----------------------------------------------------------------------------------

EVENT_TYPE_FIELDS = """
fragment EventTypeFields on EventType {
  id namespace name type source schema schemaData description brokerName apiVersion
  reference { apiVersion kind name namespace }
  attributes { name value required }
  labels { key value }
  ready reason consumable
  conditions { type status reason }
  createdAt
}
"""
TRIGGER_FIELDS = """
fragment TriggerFields on Trigger {
  id namespace name brokerName
  filter { attributes { key value } }
  filters
  subscriber { ref { apiVersion kind name namespace } uri }
  subscriberUri ready reason
  labels { key value }
  createdAt
}
"""
BROKER_FIELDS = """
fragment BrokerFields on Broker {
  id namespace name class url ready labels { key value } createdAt
}
"""
# AlreadyExists.name is String! and NotFound.name is String: in one selection set they need
# distinct aliases.
FAILURES = """
    ... on ValidationFailed { message errors { field reason message } }
    ... on AlreadyExists { message kind namespace existing: name }
    ... on NotFound { message kind namespace missing: name }
    ... on Forbidden { message namespace }
    ... on Conflict { message }
"""
DELETE_FAILURES = """
    ... on NotFound { message kind namespace missing: name }
    ... on Forbidden { message namespace }
    ... on Conflict { message }
"""

REGISTER = (
    """
mutation Register($input: RegisterEventTypeInput!) {
  result: registerEventType(input: $input) {
    __typename
    ... on EventTypeRegistered { brokerExists warnings eventType { ...EventTypeFields } }
"""
    + FAILURES
    + "}}"
    + EVENT_TYPE_FIELDS
)
CREATE_TRIGGER = (
    """
mutation CreateTrigger($input: CreateTriggerInput!) {
  result: createTrigger(input: $input) {
    __typename
    ... on TriggerCreated { created trigger { ...TriggerFields } }
"""
    + FAILURES
    + "}}"
    + TRIGGER_FIELDS
)
SUBSCRIBE = (
    """
mutation Subscribe(
  $namespace: String!, $name: String!, $subscriber: SubscriberInput!, $triggerName: String
) {
  result: subscribeToEventType(
    namespace: $namespace, name: $name, subscriber: $subscriber, triggerName: $triggerName
  ) {
    __typename
    ... on TriggerCreated { created trigger { ...TriggerFields } }
"""
    + FAILURES
    + "}}"
    + TRIGGER_FIELDS
)
CREATE_BROKER = (
    """
mutation CreateBroker($input: CreateBrokerInput!) {
  result: createBroker(input: $input) {
    __typename
    ... on BrokerCreated { broker { ...BrokerFields } }
"""
    + FAILURES
    + "}}"
    + BROKER_FIELDS
)


def delete_document(field: str) -> str:
    return f"""
mutation Delete($namespace: String!, $name: String!) {{
  result: {field}(namespace: $namespace, name: $name) {{
    __typename
    ... on Deleted {{ kind namespace name }}
    {DELETE_FAILURES}
  }}
}}
"""


DELETE_EVENT_TYPE = delete_document("deleteEventType")
DELETE_TRIGGER = delete_document("deleteTrigger")
DELETE_BROKER = delete_document("deleteBroker")

EVENT_TYPE = (
    """
query EventType($namespace: String!, $name: String!) {
  eventType(namespace: $namespace, name: $name) {
    ...EventTypeFields
    consumers { name }
  }
}
"""
    + EVENT_TYPE_FIELDS
)
TRIGGER = (
    """
query Trigger($namespace: String!) {
  triggers(namespace: $namespace) { ...TriggerFields }
}
"""
    + TRIGGER_FIELDS
)
BROKER_QUERY = (
    """
query Broker($namespace: String!, $name: String!) {
  broker(namespace: $namespace, name: $name) { ...BrokerFields }
}
"""
    + BROKER_FIELDS
)


# the registry and its clients --------------------------------------------------------------


@dataclass
class Api:
    """The registry process, and one gql session per token."""

    registry: RegistryProcess
    sessions: Mapping[str, AsyncClientSession]

    async def run(
        self, document: str, variables: Mapping[str, Any] | None = None, token: str = WRITER
    ) -> Json:
        """Execute one operation as ``token``; its data (a response with errors fails)."""
        request = GraphQLRequest(document, variable_values=dict(variables or {}))
        data: Json = await self.sessions[token].execute(request)
        return data

    async def mutate(
        self, document: str, variables: Mapping[str, Any], token: str = WRITER
    ) -> Json:
        """A mutation aliased ``result``: its result object (with ``__typename``)."""
        result: Json = (await self.run(document, variables, token))["result"]
        return result

    async def event_type(self, name: str, namespace: str = TEAM_A) -> Json | None:
        data = await self.run(EVENT_TYPE, {"namespace": namespace, "name": name})
        found: Json | None = data["eventType"]
        return found

    async def trigger(self, name: str, namespace: str = TEAM_A) -> Json | None:
        data = await self.run(TRIGGER, {"namespace": namespace})
        return next((t for t in data["triggers"] if t["name"] == name), None)

    async def broker(self, name: str, namespace: str = TEAM_A) -> Json | None:
        data = await self.run(BROKER_QUERY, {"namespace": namespace, "name": name})
        found: Json | None = data["broker"]
        return found

    # kubectl -----------------------------------------------------------------------------

    def listing(self, namespace: str = TEAM_A) -> list[str]:
        """``kubectl get eventtypes,triggers,brokers -n <namespace> -o name``, sorted."""
        result = self.registry.kubectl(
            "get", "eventtypes,triggers,brokers", "-n", namespace, "-o", "name", check=True
        )
        return sorted(result.stdout.split())

    def settled_listing(self, namespace: str = TEAM_A) -> list[str]:
        """The listing once earlier tests' deletions have finished (two equal reads)."""
        previous = self.listing(namespace)
        for _ in range(50):
            time.sleep(0.1)
            current = self.listing(namespace)
            if current == previous:
                return current
            previous = current
        raise AssertionError(f"objects in {namespace} kept changing: {previous}")

    def get(self, resource: str, name: str, namespace: str = TEAM_A) -> Json | None:
        """One object as kubectl reads it (``-o json``), or None when it does not exist."""
        result = self.registry.kubectl("get", resource, name, "-n", namespace, "-o", "json")
        if result.returncode != 0:
            assert "NotFound" in result.stderr, result.stderr
            return None
        found: Json = json.loads(result.stdout)
        return found


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryProcess]:
    base: Path = tmp_path_factory.mktemp("mutations")
    tokens = write_tokens(base / "tokens.yaml", TOKENS)
    process = RegistryProcess(base / "data", tokens_file=tokens)
    process.start()
    try:
        process.wait_ready()
        for namespace in (TEAM_A, TEAM_B):
            process.kubectl("create", "namespace", namespace, check=True)
        process.apply(
            broker(BROKER, TEAM_A),
            eventtype(
                EXISTING_EVENT_TYPE,
                TEAM_A,
                type=EXISTING_TYPE,
                source=EXISTING_SOURCE,
                reference={
                    "apiVersion": "eventing.knative.dev/v1",
                    "kind": "Broker",
                    "name": BROKER,
                },
            ),
            trigger(EXISTING_TRIGGER, TEAM_A, broker=BROKER, subscriber={"uri": SINK}),
        )
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
async def api(registry: RegistryProcess) -> AsyncIterator[Api]:
    async with contextlib.AsyncExitStack() as stack:
        sessions: dict[str, AsyncClientSession] = {}
        for token in (WRITER, READER, OTHER):
            transport = AIOHTTPTransport(
                url=registry.url, headers={"authorization": f"Bearer {token}"}
            )
            client = Client(
                transport=transport, fetch_schema_from_transport=True, execute_timeout=60
            )
            sessions[token] = await stack.enter_async_context(client)
        api = Api(registry, sessions)

        async def seeded() -> bool:
            """The namespaces and the seeded objects are in the registry's cache."""
            other = await api.run('{ namespace(name: "team-b") { name } }', token=OTHER)
            return (
                other["namespace"] is not None
                and await api.event_type(EXISTING_EVENT_TYPE) is not None
                and await api.trigger(EXISTING_TRIGGER) is not None
                and await api.broker(BROKER) is not None
            )

        await eventually_async(seeded, RECONCILE_TIMEOUT)
        yield api


# helpers -----------------------------------------------------------------------------------


def stable(obj: Mapping[str, Any]) -> Json:
    """The object without the fields the readiness controller may change at any time."""
    return {key: value for key, value in obj.items() if key not in STATUS_FIELDS}


def pairs(items: list[Json]) -> dict[str, str]:
    return {item["key"]: item["value"] for item in items}


def expect(result: Json, typename: str) -> Json:
    assert result["__typename"] == typename, result
    return result


async def register(api: Api, **fields: Any) -> Json:
    """Register an EventType in team-a as WRITER; the registered EventType."""
    result = await api.mutate(REGISTER, {"input": {"namespace": TEAM_A, **fields}})
    event_type: Json = expect(result, "EventTypeRegistered")["eventType"]
    return event_type


async def condition(api: Api, name: str, kind: str) -> Json | None:
    """The ``kind`` condition of EventType ``name`` as the registry serves it."""
    found = await api.event_type(name)
    assert found is not None
    return next((c for c in found["conditions"] if c["type"] == kind), None)


# registerEventType ---------------------------------------------------------------------------


async def test_register_event_type_by_name(api: Api) -> None:
    name = unique("order-created")
    result = await api.mutate(
        REGISTER,
        {
            "input": {
                "namespace": TEAM_A,
                "name": name,
                "type": "com.example.order.created",
                "source": "https://shop.example.com/orders",
                "schema": "https://schemas.example.com/order.json",
                "schemaData": '{"type": "object"}',
                "description": "An order was placed",
                "broker": BROKER,
            }
        },
    )
    expect(result, "EventTypeRegistered")
    assert result["brokerExists"] is True
    assert result["warnings"] == []
    registered = result["eventType"]
    assert registered["name"] == name
    assert registered["namespace"] == TEAM_A
    assert registered["type"] == "com.example.order.created"
    assert registered["source"] == "https://shop.example.com/orders"
    assert registered["schema"] == "https://schemas.example.com/order.json"
    assert registered["schemaData"] == '{"type": "object"}'
    assert registered["description"] == "An order was placed"
    assert registered["brokerName"] == BROKER
    assert registered["apiVersion"] == "eventing.knative.dev/v1beta2"
    assert registered["reference"] == {
        "apiVersion": "eventing.knative.dev/v1",
        "kind": "Broker",
        "name": BROKER,
        "namespace": TEAM_A,
    }

    # The answer is what the cache serves: a query right after the mutation returns it.
    queried = await api.event_type(name)
    assert queried is not None
    assert stable(queried) == stable(registered)

    # Written in the storage version, as kubectl reads it.
    stored = api.get("eventtypes.v1beta2.eventing.knative.dev", name)
    assert stored is not None
    assert stored["spec"]["type"] == "com.example.order.created"
    assert stored["spec"]["source"] == "https://shop.example.com/orders"
    assert stored["spec"]["schema"] == "https://schemas.example.com/order.json"
    assert stored["spec"]["reference"]["name"] == BROKER
    assert stored["metadata"]["uid"]


async def test_register_event_type_with_generate_name(api: Api) -> None:
    prefix = unique("generated") + "-"
    registered = await register(api, generateName=prefix, type="com.example.generated")
    assert re.fullmatch(re.escape(prefix) + r"[a-z0-9]{5}", registered["name"]), registered
    assert await api.event_type(registered["name"]) is not None
    assert f"eventtype.eventing.knative.dev/{registered['name']}" in api.listing()


async def test_register_event_type_derives_a_readable_name_from_the_type(api: Api) -> None:
    registered = await register(api, type="com.Example.Invoice Paid!", broker=BROKER)
    name = registered["name"]
    assert re.fullmatch(r"com\.example\.invoice-paid-[a-z0-9]{5}", name), name
    assert len(name) <= 253
    again = await register(api, type="com.Example.Invoice Paid!", broker=BROKER)
    assert again["name"] != name  # a new suffix, not a collision
    assert again["name"].startswith("com.example.invoice-paid-")
    listing = api.listing()
    assert f"eventtype.eventing.knative.dev/{name}" in listing
    assert f"eventtype.eventing.knative.dev/{again['name']}" in listing


async def test_register_event_type_with_v1beta3_attributes(api: Api) -> None:
    name = unique("v1beta3-style")
    attributes = [
        {"name": "type", "value": "com.example.shipment.sent", "required": True},
        {"name": "source", "value": "/warehouse/shipments", "required": True},
        {"name": "specversion", "value": "1.0", "required": True},
        {"name": "id", "required": True},
        {"name": "subject", "value": "parcel", "required": False},
        {"name": "dataschema", "value": "https://schemas.example.com/shipment.json"},
    ]
    registered = await register(api, name=name, attributes=attributes, broker=BROKER)
    # type, source and schema are read from the attributes.
    assert registered["type"] == "com.example.shipment.sent"
    assert registered["source"] == "/warehouse/shipments"
    assert registered["schema"] == "https://schemas.example.com/shipment.json"
    assert registered["apiVersion"] == "eventing.knative.dev/v1beta2"
    assert {"type", "source"} <= {a["name"] for a in registered["attributes"]}
    queried = await api.event_type(name)
    assert queried is not None
    assert stable(queried) == stable(registered)

    # Stored as v1beta2; the v1beta3 view keeps every attribute as registered.
    stored = api.get("eventtypes.v1beta2.eventing.knative.dev", name)
    assert stored is not None
    assert stored["spec"]["type"] == "com.example.shipment.sent"
    assert stored["spec"]["source"] == "/warehouse/shipments"
    v1beta3 = api.get("eventtypes.v1beta3.eventing.knative.dev", name)
    assert v1beta3 is not None
    seen = {a["name"]: a for a in v1beta3["spec"]["attributes"]}
    assert set(seen) == {"type", "source", "specversion", "id", "subject", "dataschema"}
    assert seen["subject"] == {"name": "subject", "value": "parcel", "required": False}
    assert seen["id"]["required"] is True


async def test_register_event_type_with_labels_and_a_reference(api: Api) -> None:
    name = unique("labelled")
    registered = await register(
        api,
        name=name,
        type="com.example.labelled",
        reference={"apiVersion": "eventing.knative.dev/v1", "kind": "Broker", "name": BROKER},
        labels=[{"key": "team", "value": "a"}, {"key": "example.com/tier", "value": "gold"}],
    )
    assert pairs(registered["labels"]) == {"team": "a", "example.com/tier": "gold"}
    assert registered["brokerName"] == BROKER
    assert registered["reference"]["namespace"] == TEAM_A  # defaulted by admission
    selected = api.registry.kubectl(
        "get", "eventtypes", "-n", TEAM_A, "-l", "team=a,example.com/tier=gold", "-o", "name"
    )
    assert selected.stdout.split() == [f"eventtype.eventing.knative.dev/{name}"]


async def test_register_event_type_before_its_broker_exists(api: Api) -> None:
    broker_name = unique("late-broker")
    name = unique("early-type")
    result = await api.mutate(
        REGISTER,
        {
            "input": {
                "namespace": TEAM_A,
                "name": name,
                "type": "com.example.early",
                "source": "/early",
                "broker": broker_name,
            }
        },
    )
    expect(result, "EventTypeRegistered")
    assert result["brokerExists"] is False
    assert len(result["warnings"]) == 1
    assert broker_name in result["warnings"][0]
    assert result["eventType"]["consumable"] is False

    async def missing_reference() -> Json | None:
        found = await condition(api, name, "ReferenceExists")
        return found if found and found["status"] == "False" else None

    reference = await eventually_async(missing_reference, RECONCILE_TIMEOUT)
    assert reference is not None
    assert reference["reason"] == "ResourceDoesNotExist"
    queried = await api.event_type(name)
    assert queried is not None
    assert queried["consumable"] is False
    assert queried["ready"] is False

    created = await api.mutate(CREATE_BROKER, {"input": {"namespace": TEAM_A, "name": broker_name}})
    expect(created, "BrokerCreated")

    async def consumable() -> bool:
        found = await api.event_type(name)
        return found is not None and found["consumable"] is True

    await eventually_async(consumable, RECONCILE_TIMEOUT)
    assert await condition(api, name, "ReferenceExists") == {
        "type": "ReferenceExists",
        "status": "True",
        "reason": None,
    }


async def test_delete_event_type(api: Api) -> None:
    name = unique("doomed-type")
    await register(api, name=name, type="com.example.doomed", broker=BROKER)
    result = await api.mutate(DELETE_EVENT_TYPE, {"namespace": TEAM_A, "name": name})
    assert result == {
        "__typename": "Deleted",
        "kind": "EventType",
        "namespace": TEAM_A,
        "name": name,
    }
    assert await api.event_type(name) is None  # gone from queries as soon as it answers
    assert api.get("eventtypes", name) is None
    again = await api.mutate(DELETE_EVENT_TYPE, {"namespace": TEAM_A, "name": name})
    assert again["__typename"] == "NotFound", again
    assert (again["kind"], again["missing"]) == ("EventType", name)


# createTrigger / deleteTrigger ---------------------------------------------------------------


async def create_trigger(api: Api, **fields: Any) -> Json:
    result = await api.mutate(
        CREATE_TRIGGER, {"input": {"namespace": TEAM_A, "broker": BROKER, **fields}}
    )
    expect(result, "TriggerCreated")
    assert result["created"] is True
    created: Json = result["trigger"]
    queried = await api.trigger(created["name"])
    assert queried is not None
    assert stable(queried) == stable(created)
    return created


async def test_create_trigger_with_filter_attributes_and_subscriber_uri(api: Api) -> None:
    name = unique("by-attributes")
    created = await create_trigger(
        api,
        name=name,
        filter=[
            {"key": "type", "value": "com.example.order.created"},
            {"key": "source", "value": "https://shop.example.com/orders"},
        ],
        subscriber={"uri": SINK},
        labels=[{"key": "team", "value": "a"}],
    )
    assert created["name"] == name
    assert created["brokerName"] == BROKER
    assert pairs(created["filter"]["attributes"]) == {
        "type": "com.example.order.created",
        "source": "https://shop.example.com/orders",
    }
    assert created["subscriber"] == {"ref": None, "uri": SINK}
    labels = pairs(created["labels"])
    assert labels["team"] == "a"
    assert labels["eventing.knative.dev/broker"] == BROKER  # Knative's default
    stored = api.get("triggers", name)
    assert stored is not None
    assert stored["spec"]["filter"] == {
        "attributes": {
            "type": "com.example.order.created",
            "source": "https://shop.example.com/orders",
        }
    }


async def test_create_trigger_with_filters_dialects(api: Api) -> None:
    filters = [
        {"exact": {"type": "com.example.order.created"}},
        {"prefix": {"source": "https://shop.example.com/"}},
        {"suffix": {"subject": ".json"}},
        {"not": {"exact": {"source": "https://shop.example.com/test"}}},
        {"any": [{"exact": {"region": "eu"}}, {"exact": {"region": "us"}}]},
        {"all": [{"prefix": {"type": "com.example."}}, {"cesql": "sequence > 3"}]},
    ]
    created = await create_trigger(
        api, generateName="dialects-", filters=filters, subscriber={"uri": SINK}
    )
    assert re.fullmatch(r"dialects-[a-z0-9]{5}", created["name"]), created["name"]
    assert created["filters"] == filters
    stored = api.get("triggers", created["name"])
    assert stored is not None
    assert stored["spec"]["filters"] == filters


async def test_create_trigger_with_subscriber_ref(api: Api) -> None:
    created = await create_trigger(api, subscriber={"ref": SERVICE_REF, "uri": "/path"})
    assert created["name"].startswith(f"{BROKER}-")  # generated from the Broker's name
    assert created["subscriber"] == {"ref": {**SERVICE_REF, "namespace": TEAM_A}, "uri": "/path"}
    stored = api.get("triggers", created["name"])
    assert stored is not None
    assert stored["spec"]["subscriber"] == {
        "ref": {**SERVICE_REF, "namespace": TEAM_A},
        "uri": "/path",
    }


async def test_create_trigger_with_delivery(api: Api) -> None:
    delivery = {
        "retry": 3,
        "backoffPolicy": "exponential",
        "backoffDelay": "PT0.5S",
        "deadLetterSink": {"uri": "http://dead-letters.team-a.svc.cluster.local/"},
    }
    name = unique("with-delivery")
    await create_trigger(api, name=name, subscriber={"uri": SINK}, delivery=delivery)
    stored = api.get("triggers", name)
    assert stored is not None
    assert stored["spec"]["delivery"] == delivery


async def test_delete_trigger(api: Api) -> None:
    name = unique("doomed-trigger")
    await create_trigger(api, name=name, subscriber={"uri": SINK})
    result = await api.mutate(DELETE_TRIGGER, {"namespace": TEAM_A, "name": name})
    assert result == {"__typename": "Deleted", "kind": "Trigger", "namespace": TEAM_A, "name": name}
    assert await api.trigger(name) is None
    assert api.get("triggers", name) is None


# createBroker / deleteBroker -----------------------------------------------------------------


async def test_create_broker_with_class_and_config(api: Api) -> None:
    name = unique("kafka")
    config = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "name": "kafka-broker-config",
        "namespace": "knative-eventing",
    }
    result = await api.mutate(
        CREATE_BROKER,
        {
            "input": {
                "namespace": TEAM_A,
                "name": name,
                "class": "Kafka",
                "config": config,
                "labels": [{"key": "team", "value": "a"}],
            }
        },
    )
    created = expect(result, "BrokerCreated")["broker"]
    assert (created["namespace"], created["name"], created["class"]) == (TEAM_A, name, "Kafka")
    assert pairs(created["labels"]) == {"team": "a"}
    queried = await api.broker(name)
    assert queried is not None
    assert stable(queried) == stable(created)
    stored = api.get("brokers", name)
    assert stored is not None
    assert stored["metadata"]["annotations"]["eventing.knative.dev/broker.class"] == "Kafka"
    assert stored["spec"]["config"] == config


async def test_create_broker_defaults_its_class_and_becomes_ready(api: Api) -> None:
    name = unique("plain")
    result = await api.mutate(CREATE_BROKER, {"input": {"namespace": TEAM_A, "name": name}})
    created = expect(result, "BrokerCreated")["broker"]
    assert created["class"] == "MTChannelBasedBroker"

    async def ready() -> Json | None:
        found = await api.broker(name)
        return found if found is not None and found["ready"] is True else None

    found = await eventually_async(ready, RECONCILE_TIMEOUT)
    assert found is not None
    # the embedded Broker ingress, on the port the registry chose for it
    assert re.fullmatch(rf"http://127\.0\.0\.1:\d+/{TEAM_A}/{name}", found["url"]), found["url"]


async def test_delete_broker(api: Api) -> None:
    name = unique("doomed-broker")
    expect(
        await api.mutate(CREATE_BROKER, {"input": {"namespace": TEAM_A, "name": name}}),
        "BrokerCreated",
    )
    result = await api.mutate(DELETE_BROKER, {"namespace": TEAM_A, "name": name})
    assert result == {"__typename": "Deleted", "kind": "Broker", "namespace": TEAM_A, "name": name}
    assert await api.broker(name) is None
    assert api.get("brokers", name) is None


# refusals: typed errors, nothing written -----------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """A request that must be refused with ``typename`` (and, for ValidationFailed, an error
    on ``field`` with ``reason``), writing nothing."""

    id: str
    document: str
    variables: Mapping[str, Any]
    typename: str
    field: str | None = None
    reason: str | None = None
    token: str = WRITER


def register_input(**fields: Any) -> Json:
    base: Json = {"namespace": TEAM_A, "type": "com.example.refused", "broker": BROKER}
    return {"input": {**base, **fields}}


def trigger_input(**fields: Any) -> Json:
    base: Json = {"namespace": TEAM_A, "broker": BROKER, "subscriber": {"uri": SINK}}
    return {"input": {**base, **fields}}


def broker_input(**fields: Any) -> Json:
    return {"input": {"namespace": TEAM_A, "name": unique("refused-broker"), **fields}}


def subscribe_variables(namespace: str = TEAM_A, name: str = EXISTING_EVENT_TYPE) -> Json:
    return {"namespace": namespace, "name": name, "subscriber": {"uri": SINK}}


def delete_variables(name: str, namespace: str = TEAM_A) -> Json:
    return {"namespace": namespace, "name": name}


def writes_as(token: str, who: str, typename: str) -> list[Refusal]:
    """Every mutation in team-a as ``token``, each refused with ``typename``."""
    requests = [
        ("register", REGISTER, register_input(name=unique("refused"))),
        ("create-trigger", CREATE_TRIGGER, trigger_input()),
        ("create-broker", CREATE_BROKER, broker_input()),
        ("subscribe", SUBSCRIBE, subscribe_variables()),
        ("delete-event-type", DELETE_EVENT_TYPE, delete_variables(EXISTING_EVENT_TYPE)),
        ("delete-trigger", DELETE_TRIGGER, delete_variables(EXISTING_TRIGGER)),
        ("delete-broker", DELETE_BROKER, delete_variables(BROKER)),
    ]
    return [
        Refusal(f"{what}-as-{who}", document, variables, typename, token=token)
        for what, document, variables in requests
    ]


V = "ValidationFailed"

# fmt: off
REFUSALS = [
    # registerEventType: pure validation, before anything is sent
    Refusal("invalid-name", REGISTER, register_input(name="Orders_Created"), V,
            "input.name", "Invalid"),
    Refusal("name-too-long", REGISTER, register_input(name="a" * 254), V, "input.name", "TooLong"),
    Refusal("invalid-generate-name", REGISTER, register_input(generateName="Orders_"), V,
            "input.generateName", "Invalid"),
    Refusal("name-and-generate-name", REGISTER, register_input(name="a", generateName="b-"), V,
            "input.name", "Conflict"),
    Refusal("missing-type", REGISTER, register_input(type=None, name="no-type"), V,
            "input.type", "Required"),
    Refusal("blank-type", REGISTER, register_input(type="  ", name="blank-type"), V,
            "input.type", "Required"),
    Refusal("source-not-a-uri", REGISTER, register_input(source="not a uri"), V,
            "input.source", "Invalid"),
    Refusal("schema-not-absolute", REGISTER, register_input(schema="schemas/order.json"), V,
            "input.schema", "Invalid"),
    Refusal("invalid-broker-name", REGISTER, register_input(broker="Not A Broker"), V,
            "input.broker", "Invalid"),
    Refusal("invalid-label", REGISTER, register_input(labels=[{"key": "team", "value": "a b"}]), V,
            "input.labels.team", "Invalid"),
    Refusal("invalid-attribute-name", REGISTER,
            register_input(attributes=[{"name": "Not-Valid", "value": "x"}]), V,
            "input.attributes.Not-Valid", "Invalid"),
    Refusal("namespace-missing", REGISTER, register_input(namespace=MISSING), "NotFound"),
    Refusal("event-type-exists", REGISTER, register_input(name=EXISTING_EVENT_TYPE),
            "AlreadyExists"),
    # createTrigger: pure validation
    Refusal("trigger-invalid-name", CREATE_TRIGGER, trigger_input(name="-bad-"), V,
            "input.name", "Invalid"),
    Refusal("trigger-name-too-long", CREATE_TRIGGER, trigger_input(name="t" * 254), V,
            "input.name", "TooLong"),
    Refusal("two-dialects-in-one-filter", CREATE_TRIGGER,
            trigger_input(filters=[{"exact": {"type": "a"}, "prefix": {"source": "b"}}]), V,
            "input.filters[0]", "Invalid"),
    Refusal("unknown-dialect", CREATE_TRIGGER,
            trigger_input(filters=[{"exact": {"type": "a"}}, {"regex": {"type": "a.*"}}]), V,
            "input.filters[1]", "NotSupported"),
    Refusal("empty-filter", CREATE_TRIGGER, trigger_input(filters=[{}]), V,
            "input.filters[0]", "Invalid"),
    Refusal("filters-not-a-list", CREATE_TRIGGER, trigger_input(filters={"exact": {"type": "a"}}),
            V, "input.filters", "Invalid"),
    Refusal("subscriber-without-ref-or-uri", CREATE_TRIGGER, trigger_input(subscriber={}), V,
            "input.subscriber", "Required"),
    Refusal("subscriber-relative-uri-alone", CREATE_TRIGGER,
            trigger_input(subscriber={"uri": "/relative"}), V, "input.subscriber.uri", "Invalid"),
    Refusal("trigger-namespace-missing", CREATE_TRIGGER, trigger_input(namespace=MISSING),
            "NotFound"),
    Refusal("trigger-exists", CREATE_TRIGGER, trigger_input(name=EXISTING_TRIGGER),
            "AlreadyExists"),
    # createTrigger: what only the API's admission refuses (422), mapped to ValidationFailed
    Refusal("admission-filter-attribute-name", CREATE_TRIGGER,
            trigger_input(filter=[{"key": "1type", "value": "x"}]), V,
            "spec.filter.attributes[1type]", "Invalid"),
    Refusal("admission-absolute-uri-with-ref", CREATE_TRIGGER,
            trigger_input(subscriber={"ref": SERVICE_REF, "uri": "http://elsewhere.example/"}), V,
            "spec.subscriber.uri", "Invalid"),
    Refusal("admission-delivery", CREATE_TRIGGER, trigger_input(delivery={"retry": -1}), V,
            "spec.delivery.retry", "Invalid"),
    # createBroker
    Refusal("broker-invalid-name", CREATE_BROKER, broker_input(name="Bad Broker"), V,
            "input.name", "Invalid"),
    Refusal("broker-empty-class", CREATE_BROKER, broker_input(**{"class": " "}), V,
            "input.class", "Invalid"),
    Refusal("broker-config-without-kind", CREATE_BROKER,
            broker_input(config={"apiVersion": "v1", "kind": "", "name": "cfg"}), V,
            "input.config.kind", "Required"),
    Refusal("broker-namespace-missing", CREATE_BROKER, broker_input(namespace=MISSING),
            "NotFound"),
    Refusal("broker-exists", CREATE_BROKER, broker_input(name=BROKER), "AlreadyExists"),
    # subscribeToEventType and deletes
    Refusal("subscribe-missing-event-type", SUBSCRIBE, subscribe_variables(name="nope"),
            "NotFound"),
    Refusal("subscribe-namespace-missing", SUBSCRIBE, subscribe_variables(MISSING), "NotFound"),
    Refusal("delete-missing-event-type", DELETE_EVENT_TYPE, delete_variables("nope"), "NotFound"),
    Refusal("delete-in-missing-namespace", DELETE_TRIGGER,
            delete_variables(EXISTING_TRIGGER, MISSING), "NotFound"),
    # authorization: read-only → Forbidden; another team's token → the namespace is hidden
    *writes_as(READER, "reader", "Forbidden"),
    *writes_as(OTHER, "other-team", "NotFound"),
]
# fmt: on


@pytest.mark.parametrize("refusal", REFUSALS, ids=[r.id for r in REFUSALS])
async def test_refused_requests_change_nothing(api: Api, refusal: Refusal) -> None:
    before = api.settled_listing()
    result = await api.mutate(refusal.document, refusal.variables, refusal.token)
    after = api.listing()
    assert result["__typename"] == refusal.typename, result
    assert after == before
    assert result["message"]
    if refusal.field is not None:
        assert {"field": refusal.field, "reason": refusal.reason} in [
            {"field": e["field"], "reason": e["reason"]} for e in result["errors"]
        ], result
        assert all(e["message"] for e in result["errors"])


async def test_forbidden_and_hidden_namespaces_answer_like_their_rules_say(api: Api) -> None:
    forbidden = await api.mutate(REGISTER, register_input(name=unique("x")), READER)
    assert forbidden == {
        "__typename": "Forbidden",
        "message": forbidden["message"],
        "namespace": TEAM_A,
    }
    # Another team's token: team-a looks exactly like a namespace that does not exist.
    hidden = await api.mutate(REGISTER, register_input(name=unique("x")), OTHER)
    missing = await api.mutate(REGISTER, register_input(namespace=MISSING, name=unique("x")), OTHER)
    assert (
        (hidden["kind"], hidden["missing"])
        == (missing["kind"], missing["missing"])
        == (
            "Namespace",
            None,
        )
    )
    assert hidden["message"] == missing["message"].replace(MISSING, TEAM_A)
    # The reader still reads team-a, and the other token writes its own namespace.
    assert await api.run(
        '{ eventType(namespace: "team-a", name: "existing-eventtype") { name } }', token=READER
    ) == {"eventType": {"name": EXISTING_EVENT_TYPE}}
    own = await api.mutate(
        REGISTER, register_input(namespace=TEAM_B, name=unique("own"), broker=None), OTHER
    )
    assert own["__typename"] == "EventTypeRegistered", own
    assert own["eventType"]["namespace"] == TEAM_B


# subscribeToEventType ------------------------------------------------------------------------


def trigger_names(api: Api) -> list[str]:
    return [line for line in api.listing() if line.startswith("trigger.")]


async def test_subscribe_creates_an_exact_trigger_once(api: Api) -> None:
    name = unique("subscribed")
    await register(
        api, name=name, type="com.example.subscribed", source="/subscribed", broker=BROKER
    )
    variables = subscribe_variables(name=name)
    first = await api.mutate(SUBSCRIBE, variables)
    expect(first, "TriggerCreated")
    assert first["created"] is True
    created = first["trigger"]
    assert created["brokerName"] == BROKER
    assert pairs(created["filter"]["attributes"]) == {
        "type": "com.example.subscribed",
        "source": "/subscribed",
    }
    assert created["subscriber"]["uri"] == SINK
    queried = await api.trigger(created["name"])
    assert queried is not None
    assert stable(queried) == stable(created)
    stored = api.get("triggers", created["name"])
    assert stored is not None
    assert stored["spec"]["filter"] == {
        "attributes": {"type": "com.example.subscribed", "source": "/subscribed"}
    }

    before = trigger_names(api)
    second = await api.mutate(SUBSCRIBE, variables)
    expect(second, "TriggerCreated")
    assert second["created"] is False
    assert second["trigger"]["name"] == created["name"]
    assert trigger_names(api) == before

    # Another subscriber is another subscription.
    other = await api.mutate(SUBSCRIBE, {**variables, "subscriber": {"ref": SERVICE_REF}})
    expect(other, "TriggerCreated")
    assert other["created"] is True
    assert other["trigger"]["name"] != created["name"]
    assert len(trigger_names(api)) == len(before) + 1


async def test_subscribe_with_a_trigger_name_is_idempotent_too(api: Api) -> None:
    name = unique("named-subscription")
    await register(api, name=name, type="com.example.named", broker=BROKER)
    trigger_name = unique("my-subscription")
    variables = {**subscribe_variables(name=name), "triggerName": trigger_name}
    first = await api.mutate(SUBSCRIBE, variables)
    assert (first["__typename"], first["created"]) == ("TriggerCreated", True), first
    assert first["trigger"]["name"] == trigger_name
    assert pairs(first["trigger"]["filter"]["attributes"]) == {"type": "com.example.named"}
    before = trigger_names(api)
    second = await api.mutate(SUBSCRIBE, variables)
    assert (second["__typename"], second["created"]) == ("TriggerCreated", False), second
    assert trigger_names(api) == before


async def test_subscribe_refuses_an_event_type_without_broker(api: Api) -> None:
    name = unique("brokerless")
    registered = await register(api, name=name, type="com.example.brokerless", broker=None)
    assert registered["brokerName"] is None
    before = api.listing()
    result = await api.mutate(SUBSCRIBE, subscribe_variables(name=name))
    assert api.listing() == before
    expect(result, "ValidationFailed")
    assert [(e["field"], e["reason"]) for e in result["errors"]] == [("name", "Invalid")]
    assert "Broker" in result["message"]


async def test_subscribe_with_a_taken_trigger_name(api: Api) -> None:
    name = unique("clashing")
    await register(api, name=name, type="com.example.clashing", broker=BROKER)
    taken = unique("taken")
    await create_trigger(
        api,
        name=taken,
        filter=[{"key": "type", "value": "com.example.other"}],
        subscriber={"uri": SINK},
    )
    before = api.listing()
    result = await api.mutate(SUBSCRIBE, {**subscribe_variables(name=name), "triggerName": taken})
    assert api.listing() == before
    expect(result, "AlreadyExists")
    assert (result["kind"], result["namespace"], result["existing"]) == ("Trigger", TEAM_A, taken)
    stored = api.get("triggers", taken)
    assert stored is not None
    assert stored["spec"]["filter"] == {"attributes": {"type": "com.example.other"}}


# the seed's flow -----------------------------------------------------------------------------

DISCOVER = (
    """
query Discover($namespace: String!, $type: String!) {
  eventTypes(namespace: $namespace, filter: {type: $type}) {
    totalCount
    nodes { ...EventTypeFields consumers { name ready } }
  }
}
"""
    + EVENT_TYPE_FIELDS
)


async def test_register_discover_subscribe(api: Api) -> None:
    """The seed's flow through GraphQL alone: register → discover → subscribe → Ready."""
    broker_name = unique("seed")
    expect(
        await api.mutate(CREATE_BROKER, {"input": {"namespace": TEAM_A, "name": broker_name}}),
        "BrokerCreated",
    )
    cloud_event_type = f"dev.seed.{broker_name}.order.created"
    registered = await register(
        api, type=cloud_event_type, source="https://seed.example.com/orders", broker=broker_name
    )

    # 1. discover: it shows in eventTypes right away.
    found = await api.run(DISCOVER, {"namespace": TEAM_A, "type": cloud_event_type})
    assert found["eventTypes"]["totalCount"] == 1
    discovered = found["eventTypes"]["nodes"][0]
    assert discovered["name"] == registered["name"]
    assert discovered["consumers"] == []

    # 2. subscribe.
    subscribed = await api.mutate(SUBSCRIBE, subscribe_variables(name=registered["name"]))
    expect(subscribed, "TriggerCreated")
    assert subscribed["created"] is True
    trigger_name = subscribed["trigger"]["name"]
    assert subscribed["trigger"]["brokerName"] == broker_name

    # 3. the new Trigger is a consumer of the EventType as soon as the mutation answers ...
    queried = await api.event_type(registered["name"])
    assert queried is not None
    assert queried["consumers"] == [{"name": trigger_name}]

    # ... and becomes Ready once the embedded controller has reconciled it.
    async def ready() -> Json | None:
        data = await api.run(DISCOVER, {"namespace": TEAM_A, "type": cloud_event_type})
        node: Json = data["eventTypes"]["nodes"][0]
        consumers = node["consumers"]
        return node if consumers == [{"name": trigger_name, "ready": True}] else None

    node = await eventually_async(ready, RECONCILE_TIMEOUT)
    assert node is not None
    assert node["consumable"] is True
    reconciled = await api.trigger(trigger_name)
    assert reconciled is not None
    assert reconciled["subscriberUri"] == SINK
    stored = api.get("triggers", trigger_name)
    assert stored is not None
    ready_condition = next(c for c in stored["status"]["conditions"] if c["type"] == "Ready")
    assert ready_condition["status"] == "True"
