"""The fast execution path answers exactly what Strawberry's standard execution answers.

Every query of the corpus runs over one snapshot of the Knative fixtures through
``build_schema(fast=False)`` (graphql-core's executor as Strawberry uses it) and through the
schema the app serves (:class:`FastExecutionContext`): once without the completed-objects
memo, and twice with one (the second run answers from the memo). The JSON of ``data`` and
``errors`` (messages, locations, paths) must be identical, for an open caller and for one
that sees only ``default``.

The corpus selects every field of every object type reachable from ``Query`` (generated from
the schema, so a new field is covered the day it is added), and by hand: connections and
paging, filters, named and inline fragments (on objects, interfaces and unions), aliases,
variables (given, defaulted, missing), ``@skip``/``@include`` with literals and variables,
errors (bad paging arguments, invalid cursors, unknown objects, missing variables),
``node(id:)`` and ``_entities`` for each entity type, ``__typename`` everywhere and
introspection.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from graphql import (
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
    is_leaf_type,
    is_required_argument,
)
from strawberry.types import ExecutionResult

from event_registry.domain.access import OPEN, Principal
from event_registry.graphql import ids
from event_registry.graphql.completed import CompletedObjects
from event_registry.graphql.context import Context
from event_registry.graphql.fast_execution import FastExecutionContext
from event_registry.graphql.schema import build_schema, schema
from event_registry.store.caching import Cache
from tests.support.knative_fixtures import build_cache

STANDARD = build_schema(fast=False)
DEFAULT_ONLY = Principal("default-reader", frozenset({"default"}), frozenset())
PRINCIPALS = {"open": OPEN, "default-only": DEFAULT_ONLY}


@dataclass(frozen=True)
class Case:
    query: str
    variables: dict[str, Any] = field(default_factory=dict)
    errors: bool | None = False
    """Whether the answer has errors (None: either), so the corpus cannot decay unnoticed
    into queries that every executor refuses alike."""


def representations(*keys: tuple[str, ...]) -> dict[str, Any]:
    found: list[dict[str, str]] = []
    for typename, *key in keys:
        if typename == "Namespace":
            found.append({"__typename": typename, "name": key[0]})
        else:
            found.append({"__typename": typename, "namespace": key[0], "name": key[1]})
    return {"representations": found}


# every field of every type -----------------------------------------------------------------


def every_field(
    graphql_schema: GraphQLSchema,
    named: GraphQLNamedType,
    root: bool = True,
    aliased: frozenset[str] = frozenset(),
) -> str:
    """A selection of every field of ``named`` callable without arguments, and the same below
    it, except that objects with an ID (Namespace, Broker, EventType, Trigger) are selected
    whole only at the root (below, ``__typename id``: the query stays within the cost limit);
    abstract types through inline fragments on each of their types (a field whose type differs
    between them aliased by type, as validation requires)."""
    if isinstance(named, GraphQLInterfaceType | GraphQLUnionType):
        possible_types = graphql_schema.get_possible_types(named)
        types_of: dict[str, set[str]] = {}
        for possible in possible_types:
            for name, definition in possible.fields.items():
                types_of.setdefault(name, set()).add(str(definition.type))
        conflicting = frozenset(name for name, types in types_of.items() if len(types) > 1)
        fragments = " ".join(
            f"... on {possible.name} {every_field(graphql_schema, possible, root, conflicting)}"
            for possible in possible_types
        )
        return f"{{ __typename {fragments} }}"
    assert isinstance(named, GraphQLObjectType)
    if not root and "id" in named.fields:
        return "{ __typename id }"
    selected = ["__typename"]
    for name, definition in named.fields.items():
        if any(is_required_argument(argument) for argument in definition.args.values()):
            continue
        below = get_named_type(definition.type)
        key = f"{name}{named.name}: {name}" if name in aliased else name
        if is_leaf_type(below):
            selected.append(key)
        else:
            selected.append(f"{key} {every_field(graphql_schema, below, root=False)}")
    return f"{{ {' '.join(selected)} }}"


def every_field_cases() -> dict[str, Case]:
    graphql_schema = schema._schema

    def of(type_name: str) -> str:
        named = graphql_schema.get_type(type_name)
        assert named is not None
        return every_field(graphql_schema, named)

    return {
        "every-field-namespace": Case(f"{{ namespaces {of('Namespace')} }}"),
        "every-field-broker": Case(f"{{ brokers {of('Broker')} }}"),
        "every-field-event-type": Case(
            f"{{ eventTypes(first: 20) {{ nodes {of('EventType')} }} }}"
        ),
        "every-field-connection": Case(
            f'{{ eventTypes(namespace: "default", first: 3) {of("EventTypeConnection")} }}'
        ),
        "every-field-trigger": Case(f"{{ triggers {of('Trigger')} }}"),
        "every-field-node": Case(
            f'{{ node(id: "{ids.encode("Trigger", "default", "cesql-github")}") {of("Node")} }}'
        ),
        "every-field-entities": Case(
            "query($representations: [_Any!]!) { _entities(representations: $representations) "
            f"{of('_Entity')} }}",
            representations(
                ("Namespace", "payments"),
                ("Broker", "default", "dev"),
                ("EventType", "default", "com.github.issues"),
                ("Trigger", "default", "filters-override"),
            ),
        ),
    }


# by hand -----------------------------------------------------------------------------------

EVENT_TYPE_FIELDS = """
  fragment EventTypeFields on EventType {
    __typename id namespace name type source schema schemaData description ready reason
    message consumable apiVersion brokerName createdAt
    labels { key value } attributes { name value required }
    conditions { __typename type status reason message lastTransitionTime severity }
    reference { apiVersion kind name namespace } owner { kind name }
  }
"""
ENTITIES = (
    """
  query($representations: [_Any!]!) {
    _entities(representations: $representations) {
      __typename
      ... on Namespace { id name phase counts { brokers triggers } }
      ... on Broker { id name ready url class eventTypes { name } }
      ... on EventType { ...EventTypeFields broker { name } consumers { name } }
      ... on Trigger {
        id name triggerBroker: brokerName filter { attributes { key value } } filters
      }
    }
  }
"""
    + EVENT_TYPE_FIELDS
)
NODE = """
  query($id: ID!) {
    node(id: $id) {
      __typename id
      ... on NamespacedObject { namespace name labels { key } }
      ... on Reconciled { ready reason conditions { type status } }
      ... on Namespace { name phase }
      ... on Broker { url eventTypes { name consumable } }
      ... on EventType { type consumerMatches { match trigger { name } } }
      ... on Trigger { subscriber { uri ref { kind name namespace } } eventTypes { name } }
    }
  }
"""
PAGE = """
  query($namespace: String, $first: Int, $after: String, $filter: EventTypeFilter) {
    eventTypes(namespace: $namespace, first: $first, after: $after, filter: $filter) {
      __typename totalCount
      pageInfo { __typename hasNextPage hasPreviousPage startCursor endCursor }
      edges { __typename cursor node { namespace name consumable } }
      nodes { name }
    }
  }
"""
DIRECTIVES = """
  query($withBroker: Boolean = true, $skipConditions: Boolean!) {
    eventTypes(namespace: "default") {
      nodes {
        name
        broker @include(if: $withBroker) { name ready }
        conditions @skip(if: $skipConditions) { type status }
        ready @skip(if: false)
        reason @include(if: false)
        consumers @include(if: true) { name }
        ... on EventType @include(if: $withBroker) { brokerName }
        ... @skip(if: $skipConditions) { description }
      }
    }
  }
"""


CASES: dict[str, Case] = {
    **every_field_cases(),
    # roots, nonexistent objects, __typename
    "typename-root": Case("{ __typename }"),
    "namespace": Case(
        '{ namespace(name: "payments") { __typename id name phase '
        "counts { __typename brokers eventTypes readyEventTypes consumableEventTypes triggers }"
        " brokers { name } eventTypes { name consumable } triggers { name } } }"
    ),
    "nonexistent-objects": Case(
        '{ namespace(name: "nope") { name } broker(namespace: "default", name: "nope") { name }'
        ' eventType(namespace: "nope", name: "x") { name }'
        ' brokers(namespace: "nope") { name } triggers(namespace: "default", broker: "nope")'
        ' { name } eventTypes(namespace: "nope") { totalCount nodes { name } } }'
    ),
    "broker-graph": Case(
        '{ broker(namespace: "default", name: "default") { name ready class url conditions '
        "{ type status reason } eventTypes { name consumable broker { name ready } consumers"
        " { name broker { name } } } triggers { name subscriberUri filters filter { attributes"
        " { key value } } eventTypes { name } subscriber { uri ref { kind name } } } } }"
    ),
    "triggers-of-broker": Case(
        '{ triggers(namespace: "default", broker: "default") { name ready broker { name ready'
        " } filter { attributes { key } } } }"
    ),
    "consumer-matches": Case(
        "{ eventTypes { nodes { namespace name consumerMatches { __typename match trigger "
        "{ name filters } } consumers { name } } } }"
    ),
    # aliases
    "aliases": Case(
        '{ a: eventTypes(namespace: "default") { nodes { n: name t: __typename c: consumable } }'
        ' b: eventTypes(namespace: "default", first: 2) { total: totalCount nodes { name '
        "name2: name broker { x: name y: ready } } } c: brokers { name again: name "
        "eventTypes { name } e2: eventTypes { ready } } }"
    ),
    "aliases-merged-selections": Case(
        '{ eventTypes(namespace: "default", first: 20) { nodes { broker { name } broker '
        "{ ready eventTypes { name } } b: broker { url } } } }"
    ),
    # fragments
    "named-fragments": Case(
        '{ eventTypes(namespace: "default") { nodes { ...EventTypeFields } } '
        'eventType(namespace: "payments", name: "com.example.order.created") '
        "{ ...EventTypeFields } }" + EVENT_TYPE_FIELDS
    ),
    "fragments-on-interfaces": Case(
        "{ brokers { ...Named ...Ready ... on Node { id } } triggers { ...Named ...Ready } }"
        " fragment Named on NamespacedObject { __typename namespace name labels { key } }"
        " fragment Ready on Reconciled { ready reason message conditions { type } }"
    ),
    "nested-fragments": Case(
        '{ brokers(namespace: "default") { ...B } } fragment B on Broker { name eventTypes '
        "{ ...E } } fragment E on EventType { name ... on EventType { consumable broker "
        "{ ...Bn } } } fragment Bn on Broker { name ready }"
    ),
    # variables
    "variables-given": Case(
        PAGE,
        {"namespace": "default", "first": 2, "filter": {"consumable": True, "typePrefix": "com."}},
    ),
    "variables-missing-optional": Case(PAGE),
    "variables-null": Case(PAGE, {"namespace": None, "first": None, "after": None}),
    "variables-defaults": Case(
        'query($ns: String = "payments", $n: Int = 1) { eventTypes(namespace: $ns, first: $n)'
        " { totalCount nodes { name } pageInfo { hasNextPage endCursor } } }"
    ),
    "variables-defaults-overridden": Case(
        'query($ns: String = "payments", $n: Int = 1) { eventTypes(namespace: $ns, first: $n)'
        " { totalCount nodes { name } } }",
        {"ns": "default", "n": 3},
    ),
    "variable-required-missing": Case(
        "query($name: String!) { namespace(name: $name) { name } }", errors=True
    ),
    "variable-wrong-type": Case(PAGE, {"first": "two"}, errors=True),
    # filters and paging
    "filter-broker": Case(PAGE, {"filter": {"broker": "default"}}),
    "filter-type": Case(PAGE, {"filter": {"type": "com.github.pull_request"}}),
    "filter-source-ready": Case(PAGE, {"filter": {"ready": False}, "namespace": "default"}),
    "filter-search": Case(PAGE, {"filter": {"search": "GITHUB", "consumable": False}}),
    "page-2": Case(
        PAGE, {"first": 2, "after": ids.encode_cursor("default", "com.github.pullrequest")}
    ),
    "page-empty": Case(PAGE, {"first": 0}),
    "page-past-end": Case(PAGE, {"after": ids.encode_cursor("zzz", "zzz")}),
    "page-negative-first": Case(PAGE, {"first": -1}, errors=True),
    "page-too-large": Case(PAGE, {"first": 10_001}, errors=True),
    "page-invalid-cursor": Case(PAGE, {"after": "not a cursor"}, errors=True),
    "page-cursor-without-name": Case(
        PAGE, {"after": ids.encode_cursor("default", "")}, errors=True
    ),
    "page-errors-beside-data": Case(
        "{ brokers { name } bad: eventTypes(first: -5) { totalCount } "
        "good: eventTypes(first: 1) { nodes { name } } }",
        errors=True,
    ),
    # directives
    "directives-variables-default": Case(DIRECTIVES, {"skipConditions": False}),
    "directives-variables-given": Case(DIRECTIVES, {"withBroker": False, "skipConditions": True}),
    "directives-on-fragment-spreads": Case(
        "query($on: Boolean!) { brokers { name ...F @include(if: $on) ...G @skip(if: $on) } }"
        " fragment F on Broker { ready eventTypes { name } } fragment G on Broker { url }",
        {"on": True},
    ),
    "directives-on-roots": Case(
        "{ brokers @skip(if: true) { name } triggers @include(if: true) { name } "
        "namespaces @include(if: false) { name } }"
    ),
    # node(id:)
    **{
        f"node-{kind.lower()}": Case(NODE, {"id": ids.encode(kind, *key)})
        for kind, key in [
            ("Namespace", ("default",)),
            ("Broker", ("default", "dev")),
            ("EventType", ("default", "com.github.issues")),
            ("Trigger", ("payments", "order-created")),
        ]
    },
    "node-payments-namespace": Case(NODE, {"id": ids.encode("Namespace", "payments")}),
    "node-event-type-payments": Case(
        NODE, {"id": ids.encode("EventType", "payments", "com.example.order.created")}
    ),
    "node-nonexistent": Case(NODE, {"id": ids.encode("Broker", "default", "nope")}),
    "node-garbage-id": Case(NODE, {"id": "!!!"}),
    "node-unknown-kind": Case(NODE, {"id": ids.encode("Pod", "default", "x")}, errors=None),
    # _entities
    "entities-each-type": Case(
        ENTITIES,
        representations(
            ("Namespace", "default"),
            ("Broker", "default", "default"),
            ("EventType", "default", "com.github.pullrequest"),
            ("Trigger", "default", "cesql-github"),
            ("EventType", "payments", "com.example.payment.refunded"),
            ("Broker", "payments", "default"),
            ("Namespace", "payments"),
        ),
    ),
    "entities-nonexistent": Case(
        ENTITIES,
        representations(
            ("Namespace", "nope"),
            ("Broker", "default", "nope"),
            ("EventType", "nope", "x"),
            ("Trigger", "default", "nope"),
        ),
    ),
    "entities-malformed": Case(
        ENTITIES,
        {
            "representations": [
                {"__typename": "Broker", "namespace": "default", "name": "dev"},
                {"__typename": "Broker", "name": "x"},
                {"__typename": "EventType", "namespace": "default", "name": "com.github.issues"},
            ]
        },
        errors=None,
    ),
    "service-sdl": Case("{ _service { __typename sdl } }"),
    # introspection
    "introspection-schema": Case(
        "{ __schema { queryType { name } mutationType { name } subscriptionType { name } "
        "types { name kind } directives { name locations args { name } } } }"
    ),
    "introspection-type": Case(
        '{ __type(name: "EventType") { name kind interfaces { name } fields { name '
        "description isDeprecated args { name defaultValue } type { name kind ofType "
        "{ name kind ofType { name kind } } } } } }"
    ),
    "introspection-typename-in-objects": Case(
        "{ eventTypes(first: 1) { __typename nodes { __typename broker { __typename } } } "
        '__type(name: "Node") { __typename name possibleTypes { __typename name } } }'
    ),
    # errors
    "unknown-field": Case("{ brokers { nope } }", errors=True),
    "syntax-error": Case("{ brokers { name ", errors=True),
}


def outcome(result: ExecutionResult) -> dict[str, Any]:
    """What a client receives: the JSON of data and errors."""
    errors = [error.formatted for error in result.errors or ()]
    loaded: dict[str, Any] = orjson.loads(orjson.dumps({"data": result.data, "errors": errors}))
    return loaded


async def answer(
    executing: Any, case: Case, cache: Cache, principal: Principal, memo: CompletedObjects | None
) -> dict[str, Any]:
    context = Context(principal=principal, snapshot=cache.snapshot, cache=cache, completed=memo)
    result = await executing.execute(
        case.query, variable_values=case.variables, context_value=context
    )
    return outcome(result)


@pytest.fixture(scope="module")
def cache() -> Cache:
    return build_cache()


def test_the_app_schema_takes_the_fast_path() -> None:
    assert schema.execution_context_class is FastExecutionContext
    assert STANDARD.execution_context_class is not FastExecutionContext


@pytest.mark.parametrize("principal", PRINCIPALS.values(), ids=PRINCIPALS.keys())
@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
async def test_fast_answers_equal_standard_answers(
    case: Case, principal: Principal, cache: Cache
) -> None:
    expected = await answer(STANDARD, case, cache, principal, None)
    if case.errors is not None:
        assert bool(expected["errors"]) == case.errors, expected["errors"]
    memo = CompletedObjects()
    assert await answer(schema, case, cache, principal, None) == expected
    assert await answer(schema, case, cache, principal, memo) == expected  # fills the memo
    assert await answer(schema, case, cache, principal, memo) == expected  # answers from it


async def test_the_corpus_goes_through_the_memo(cache: Cache) -> None:
    """The fast side really ran the memoized path: on the second run of the corpus, every
    object is answered from the memo."""
    memo = CompletedObjects()
    for case in CASES.values():
        await answer(schema, case, cache, OPEN, memo)
    assert memo.misses > 100
    memo.hits = memo.misses = 0
    for case in CASES.values():
        await answer(schema, case, cache, OPEN, memo)
    assert memo.hits > 100
    assert memo.misses == 0
