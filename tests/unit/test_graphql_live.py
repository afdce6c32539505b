"""What the WebSocket transport reads of an operation (:mod:`event_registry.graphql.live`):
its type or the error a client gets instead, which subscriptions share one execution, and
the object each payload is about."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

from graphql import OperationType

from event_registry.app import live as transport
from event_registry.domain.access import OPEN
from event_registry.graphql import live, subscriptions
from event_registry.graphql.context import Context
from event_registry.graphql.live import SUBSCRIPTIONS, LiveSubscriptions, operation
from event_registry.graphql.schema import schema
from event_registry.hub.hub import Hub
from event_registry.store.caching import Cache

CHANGES = "subscription { eventTypeChanges { kind } }"
TOY = LiveSubscriptions(
    per_subscriber_arguments=frozenset({"from"}),
    resume_argument="from",
    coalescing_key=lambda context: "always",
)
"""A schema of its own: the interface knows no argument of ours."""


def shared(query: str, name: str | None = None) -> bool:
    return SUBSCRIPTIONS.shared(operation(query, name))


# the operation ----------------------------------------------------------------------------


def test_each_operation_type_is_read_from_the_chosen_operation() -> None:
    document = "query Q { namespaces { name } } mutation M { x } subscription S { y }"
    assert operation(document, "Q").type == OperationType.QUERY
    assert operation(document, "M").type == OperationType.MUTATION
    assert operation(document, "S").type == OperationType.SUBSCRIPTION
    assert operation("{ namespaces { name } }", None).type == OperationType.QUERY
    assert all(operation(document, name).error is None for name in "QMS")


def test_a_syntax_error_is_answered_with_its_location() -> None:
    chosen = operation("subscription { eventTypeChanges { kind }", None)
    assert chosen.type is None
    assert chosen.root_arguments is None
    assert chosen.error is not None
    assert dict(chosen.error) == {
        "message": "Syntax Error: Expected Name, found <EOF>.",
        "locations": [{"line": 1, "column": 41}],
    }


def test_a_document_over_the_token_limit_is_a_syntax_error() -> None:
    query = "{ " + " ".join(["namespaces { name }"] * 600) + " }"
    chosen = operation(query, None)
    assert chosen.error is not None
    assert "tokens" in chosen.error["message"]


def test_no_operation_can_be_chosen_in_graphqls_words() -> None:
    two = "subscription A { x } subscription B { y }"
    assert operation(two, None).error == {
        "message": "Must provide operation name if query contains multiple operations."
    }
    assert operation(two, "C").error == {"message": "Unknown operation named 'C'."}
    assert operation("subscription { x }", "C").error == {"message": "Unknown operation named 'C'."}
    fragments_only = operation("fragment F on Query { namespaces { name } }", None)
    assert (fragments_only.type, fragments_only.error) == (None, None)  # execution says why
    assert not SUBSCRIPTIONS.shared(fragments_only)


def test_the_analysis_is_kept_per_document_and_name() -> None:
    assert operation(CHANGES, None) is operation(CHANGES, None)
    assert operation(CHANGES, None) is not operation(CHANGES, "Other")


# which subscriptions share one execution ---------------------------------------------------


def test_subscriptions_without_per_subscriber_arguments_are_shared() -> None:
    assert shared(CHANGES)
    assert shared('subscription { eventTypeChanges(namespace: "a") { kind } }')
    assert shared("subscription ($n: String) { eventTypeReadinessChanged(namespace: $n) { kind } }")
    assert shared("subscription { brokerChanges { kind } }")


def test_a_per_subscriber_argument_makes_it_run_alone_whatever_its_value() -> None:
    assert not shared("subscription { eventTypeChanges(includeExisting: true) { kind } }")
    assert not shared("subscription { eventTypeChanges(includeExisting: false) { kind } }")
    assert not shared("subscription ($s: String) { eventTypeChanges(since: $s) { kind } }")
    assert not shared(
        "subscription { a: brokerChanges { kind } b: eventTypeChanges(since: null) { kind } }"
    )


def test_only_root_arguments_count_and_hidden_ones_are_never_shared() -> None:
    assert shared("subscription { eventTypeChanges { eventType { name(since: 1) } } }")
    assert not shared("subscription { ...F } fragment F on Subscription { brokerChanges { kind } }")
    assert not shared("subscription { ... on Subscription { brokerChanges { kind } } }")
    assert not shared("subscription { x", None)


def test_another_schema_declares_its_own_per_subscriber_arguments() -> None:
    assert TOY.shared(operation("subscription { ticks(since: 1) }", None))
    assert not TOY.shared(operation("subscription { ticks(from: 1) }", None))
    assert TOY.resume_hint == "resume with from: <last cursor>"


# group keys -------------------------------------------------------------------------------


def test_equal_keys_for_the_same_operation_variables_and_scope() -> None:
    chosen = operation(CHANGES, None)
    first = SUBSCRIPTIONS.group_key(chosen, {"a": 1, "b": [2]}, "alpha")
    assert first == SUBSCRIPTIONS.group_key(chosen, {"b": [2], "a": 1}, "alpha")
    assert SUBSCRIPTIONS.group_key(chosen, None, "alpha") == SUBSCRIPTIONS.group_key(
        chosen, {}, "alpha"
    )
    assert len({first, SUBSCRIPTIONS.group_key(chosen, {"b": [2], "a": 1}, "alpha")}) == 1


def test_keys_differ_by_scope_variables_document_and_operation_name() -> None:
    chosen = operation(CHANGES, None)
    key = SUBSCRIPTIONS.group_key(chosen, {"a": 1}, "alpha")
    assert key != SUBSCRIPTIONS.group_key(chosen, {"a": 1}, "beta")
    assert key != SUBSCRIPTIONS.group_key(chosen, {"a": 2}, "alpha")
    other = operation("subscription { brokerChanges { kind } }", None)
    assert key != SUBSCRIPTIONS.group_key(other, {"a": 1}, "alpha")
    named = "subscription S { brokerChanges { kind } } subscription T { brokerChanges { kind } }"
    assert SUBSCRIPTIONS.group_key(operation(named, "S"), None, "*") != SUBSCRIPTIONS.group_key(
        operation(named, "T"), None, "*"
    )


def test_a_subscription_that_runs_alone_has_a_key_equal_only_to_itself() -> None:
    chosen = operation("subscription { eventTypeChanges(includeExisting: true) { kind } }", None)
    first = SUBSCRIPTIONS.group_key(chosen, None, "*")
    second = SUBSCRIPTIONS.group_key(chosen, None, "*")
    assert first == first
    assert first != second
    assert len({first, second}) == 2


# the declarations: true of the schema, unknown to the transport ---------------------------


def test_the_declared_arguments_are_arguments_of_the_subscription_type() -> None:
    subscription_type = schema._schema.subscription_type
    assert subscription_type is not None
    arguments = {name for field in subscription_type.fields.values() for name in field.args}
    assert SUBSCRIPTIONS.per_subscriber_arguments <= arguments
    assert SUBSCRIPTIONS.resume_argument in SUBSCRIPTIONS.per_subscriber_arguments
    assert "namespace" not in SUBSCRIPTIONS.per_subscriber_arguments


def test_the_transport_names_no_argument_and_no_memo_entry() -> None:
    names = {
        *SUBSCRIPTIONS.per_subscriber_arguments,
        SUBSCRIPTIONS.resume_argument,
        subscriptions.OBJECT_KEY,
    }
    assert transport.__file__ is not None
    sources = sorted(Path(transport.__file__).parent.glob("*.py"))
    assert sources
    for source in sources:
        text = source.read_text()
        assert not [name for name in names if name in text], source.name


# the coalescing key -----------------------------------------------------------------------


def event_type(name: str, rv: int) -> dict[str, Any]:
    return {
        "apiVersion": "eventing.knative.dev/v1beta2",
        "kind": "EventType",
        "metadata": {"name": name, "namespace": "team", "resourceVersion": str(rv)},
        "spec": {"type": f"com.example.{name}", "source": "/s", "broker": "default"},
    }


def add(cache: Cache, *names: str) -> None:
    for name in names:
        cache.apply("EventType", "ADDED", event_type(name, cache.snapshot.revision + 1))


def registry() -> tuple[Cache, Hub, Context]:
    """A registry holding one EventType, team/existing (its hub's position 1)."""
    cache = Cache()
    hub = Hub(cache)
    add(cache, "existing")
    return cache, hub, Context(principal=OPEN, snapshot=cache.snapshot, cache=cache, hub=hub)


async def keyed_payloads(
    query: str, variables: dict[str, Any], context: Context, count: int, cache: Cache
) -> list[tuple[str, str | None]]:
    """(kind, coalescing key read right after it, as the transport reads it) of the first
    ``count`` payloads; team/first and team/second are added after INITIAL_SET_COMPLETE."""
    stream = await schema.subscribe(query, variable_values=variables, context_value=context)
    assert isinstance(stream, AsyncGenerator)
    seen: list[tuple[str, str | None]] = []
    async with asyncio.timeout(30):  # a missing payload fails instead of hanging
        async for item in stream:
            assert item.errors is None, item.errors
            assert item.data is not None
            kind = item.data["eventTypeChanges"]["kind"]
            seen.append((kind, SUBSCRIPTIONS.coalescing_key(context)))
            if len(seen) == count:
                break
            if kind == "INITIAL_SET_COMPLETE":
                add(cache, "first", "second")
    await stream.aclose()
    return seen


async def test_each_change_payload_is_keyed_by_its_object() -> None:
    cache, hub, context = registry()
    add(cache, "first", "second")
    query = "subscription ($since: String) { eventTypeChanges(since: $since) { kind } }"
    seen = await keyed_payloads(query, {"since": hub.cursor(1)}, context, 2, cache)
    assert seen == [("ADDED", "team/first"), ("ADDED", "team/second")]


async def test_existing_objects_and_markers_are_never_coalesced() -> None:
    cache, _, context = registry()
    query = 'subscription { eventTypeChanges(namespace: "team", includeExisting: true) { kind } }'
    seen = await keyed_payloads(query, {}, context, 4, cache)
    assert seen == [
        ("EXISTING", None),
        ("INITIAL_SET_COMPLETE", None),
        ("ADDED", "team/first"),
        ("ADDED", "team/second"),
    ]


def test_the_live_module_is_the_registry_schemas() -> None:
    assert live.SUBSCRIPTIONS.coalescing_key is subscriptions.coalescing_key
