"""The query cost: a pure function of document, schema and variables, and its limit.

The cost counts the objects an answer may hold (graphql/cost.py states the formula); these
tests pin it on small documents, check that every operation the project ships or documents
stays under the default limit, that the nested-list queries the limit exists for do not,
and that an operation over the limit is refused before any resolver runs.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from bench import queries as bench_queries
from graphql import (
    GraphQLInterfaceType,
    GraphQLObjectType,
    get_introspection_query,
    get_named_type,
    get_nullable_type,
    is_leaf_type,
    is_list_type,
    parse,
)

from event_registry.domain.access import OPEN
from event_registry.graphql.connections import MAX_PAGE
from event_registry.graphql.context import Context
from event_registry.graphql.cost import (
    DEFAULT_ESTIMATE,
    PAGE,
    Estimate,
    OperationCosts,
    Paged,
    declared,
    operation_cost,
)
from event_registry.graphql.limits import (
    DEFAULT_MAX_QUERY_COST,
    QUERY_COST_EXCEEDED,
    QueryLimits,
)
from event_registry.graphql.schema import build_schema, schema
from event_registry.store.caching import Cache
from tests.support.knative_fixtures import build_cache

REPO = Path(__file__).resolve().parents[2]
GRAPHQL_SCHEMA = schema._schema

NESTED_BROKER_LISTS = (
    '{eventTypes(namespace:"team-a"){nodes{broker{eventTypes{broker{eventTypes{broker{'
    "eventTypes{broker{eventTypes{name}}}}}}}}}}}"
)
"""The issue's query: within the depth, alias and token limits, 853 MB with 30 EventTypes."""
DASHBOARD = """
query Dashboard($namespace: String!, $first: Int!) {
  eventTypes(namespace: $namespace, first: $first) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes {
      id name type source ready reason consumable
      broker { name ready url }
      consumers { name ready subscriberUri }
    }
  }
}
"""


def cost(query: str, variables: dict[str, Any] | None = None, name: str | None = None) -> int:
    return operation_cost(GRAPHQL_SCHEMA, parse(query), name, variables)


# the formula -----------------------------------------------------------------------------------


def test_scalars_cost_nothing_and_each_object_one() -> None:
    assert cost('{ namespace(name: "a") { name phase } }') == 1
    assert cost('{ namespace(name: "a") { name counts { brokers } } }') == 2
    assert cost('{ broker(namespace: "a", name: "b") { name } }') == 1


def test_the_docstring_example() -> None:
    query = "{ eventTypes(first: 20) { nodes { name broker { name } consumers { name } } } }"
    assert cost(query) == 1 + 20 * (1 + 1 + 10)


def test_a_connection_costs_its_first_or_its_largest_page() -> None:
    query = "query($n: Int) { eventTypes(first: $n) { nodes { name } } }"
    assert cost("{ eventTypes(first: 7) { nodes { name } } }") == 1 + 7
    assert cost(query, {"n": 7}) == 1 + 7
    assert cost(query, {"n": None}) == 1 + MAX_PAGE
    assert cost("{ eventTypes { nodes { name } } }") == 1 + MAX_PAGE
    assert cost("{ eventTypes(first: 99999) { nodes { name } } }") == 1 + MAX_PAGE
    assert cost("{ eventTypes(first: 3) { edges { cursor node { name } } } }") == 1 + 3 * 2
    assert cost("{ eventTypes(first: 3) { totalCount pageInfo { hasNextPage } } }") == 2


def test_unpaged_lists_cost_their_declared_estimate_and_nested_lists_multiply() -> None:
    assert cost("{ namespaces { name } }") == 100
    assert cost("{ namespaces { name brokers { name } } }") == 100 * (1 + 10)
    query = '{ broker(namespace: "a", name: "b") { eventTypes { name labels { key } } } }'
    assert cost(query) == 1 + 1_000 * (1 + 10)


def test_fragments_and_aliases_count_where_they_are_used() -> None:
    inline = "{ eventTypes(first: 5) { nodes { broker { name } consumers { name } } } }"
    named = (
        "{ eventTypes(first: 5) { nodes { ...Parts } } } "
        "fragment Parts on EventType { broker { name } consumers { name } }"
    )
    typed = (
        "{ eventTypes(first: 5) { nodes { ... on EventType { broker { name } } "
        "... { consumers { name } } } } }"
    )
    assert cost(named) == cost(typed) == cost(inline) == 1 + 5 * (1 + 1 + 10)
    aliased = (
        "{ a: eventTypes(first: 5) { nodes { name } } b: eventTypes(first: 5) { nodes { name } } }"
    )
    assert cost(aliased) == 2 * (1 + 5)


def test_a_fragment_cycle_ends() -> None:
    # Validation refuses it; the cost of an invalid document must still be computable.
    query = (
        '{ broker(namespace: "a", name: "b") { ...A } } '
        "fragment A on Broker { eventTypes { broker { ...A } } }"
    )
    assert cost(query) == 1 + 1_000 * (1 + 1)


def test_unknown_fields_and_operations_cost_nothing() -> None:
    assert cost("{ nope { name } namespaces { nope { x } } }") == 100
    assert cost("query A { namespaces { name } }", name="B") == 0


def test_introspection_costs_nothing() -> None:
    assert cost(get_introspection_query(descriptions=True)) == 0
    assert cost("{ __schema { types { name fields { name } } } }") == 0
    assert cost("{ namespaces { __typename } }") == 100


def test_entities_cost_their_representations() -> None:
    query = "query($r: [_Any!]!) { _entities(representations: $r) { ... on EventType { name } } }"
    representation = {"__typename": "EventType", "namespace": "a", "name": "b"}
    assert cost(query, {"r": [representation] * 3}) == 3
    literal = (
        '{ _entities(representations: [{__typename: "Broker", namespace: "a", name: "b"}]) '
        "{ ... on Broker { name eventTypes { name } } } }"
    )
    assert cost(literal) == 1 * (1 + 1_000)


def test_a_subscription_costs_one_event() -> None:
    assert cost("subscription { eventTypeChanges { kind eventType { name } } }") == 2
    nested = "subscription { eventTypeChanges { eventType { broker { eventTypes { name } } } } }"
    assert cost(nested) == 1 + 1 + 1 + 1_000


def test_every_list_of_objects_declares_its_size() -> None:
    """A new list field must say how many items it holds (metadata={COST: Estimate(n)}, or
    PAGE inside a connection); otherwise it costs DEFAULT_ESTIMATE, which may be far off."""
    undeclared = []
    for type_name, named in GRAPHQL_SCHEMA.type_map.items():
        if type_name.startswith("__"):
            continue
        if not isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            continue
        for field_name, field in named.fields.items():
            if not is_list_type(get_nullable_type(field.type)):
                continue
            if is_leaf_type(get_named_type(field.type)) or field_name == "_entities":
                continue
            if not isinstance(declared(field), Estimate) and declared(field) is not PAGE:
                undeclared.append(f"{type_name}.{field_name}")
    assert undeclared == [], f"list fields without a cost estimate: {undeclared}"
    event_types = GRAPHQL_SCHEMA.query_type.fields["eventTypes"]  # type: ignore[union-attr]
    assert declared(event_types) == Paged(max_page=MAX_PAGE)
    assert DEFAULT_ESTIMATE >= 100


# what passes, what does not ----------------------------------------------------------------------


def readme_operations() -> list[str]:
    text = (REPO / "README.md").read_text()
    blocks = re.findall(r"```graphql\n(.*?)```", text, flags=re.DOTALL)
    operations: list[str] = []
    for block in blocks:
        # A block may hold several operations one after the other (mutation { } mutation { }).
        document = parse(block)
        operations.extend(block[d.loc.start : d.loc.end] for d in document.definitions if d.loc)
    assert operations, "the README shows GraphQL operations"
    return operations


def graphiql_default_document() -> str:
    script = (REPO / "server/event_registry/static/graphiql/start.js").read_text()
    body = re.search(r"var DEFAULT_QUERY = \[(.*?)\]\.join", script, flags=re.DOTALL)
    assert body is not None
    lines = re.findall(r"'((?:[^'\\]|\\.)*)'", body.group(1))
    return "\n".join(line.replace("\\'", "'") for line in lines)


SHIPPED = {
    **{f"readme-{index}": query for index, query in enumerate(readme_operations())},
    "graphiql-default": graphiql_default_document(),
    "graphiql-introspection": get_introspection_query(descriptions=True),
    **{f"bench-{name}": query for name, query in bench_queries.QUERIES.items()},
    "bench-consumable-count": bench_queries.CONSUMABLE_COUNT,
}


@pytest.mark.parametrize("query", SHIPPED.values(), ids=SHIPPED.keys())
def test_shipped_and_documented_operations_are_under_the_default_limit(query: str) -> None:
    assert cost(query, {"namespace": "default"}) <= DEFAULT_MAX_QUERY_COST


def test_a_dashboard_of_500_event_types_with_brokers_and_consumers_is_under_the_limit() -> None:
    assert cost(DASHBOARD, {"namespace": "default", "first": 500}) < DEFAULT_MAX_QUERY_COST / 50
    # Even without first (the largest page, 10,000) it passes.
    unpaged = DASHBOARD.replace(", first: $first", "").replace(", $first: Int!", "")
    assert cost(unpaged, {"namespace": "default"}) < DEFAULT_MAX_QUERY_COST


def test_nested_broker_lists_are_far_over_the_limit_even_on_small_pages() -> None:
    assert cost(NESTED_BROKER_LISTS) > DEFAULT_MAX_QUERY_COST * 1_000_000
    one = NESTED_BROKER_LISTS.replace('namespace:"team-a"', 'namespace:"team-a", first: 1')
    assert cost(one) > DEFAULT_MAX_QUERY_COST * 1_000
    all_namespaces = "{ namespaces { brokers { eventTypes { consumers { name } } } } }"
    assert cost(all_namespaces) > DEFAULT_MAX_QUERY_COST


# the cache ---------------------------------------------------------------------------------------


def test_costs_are_kept_per_document_and_the_variables_they_read() -> None:
    costs = OperationCosts(maxsize=8)
    query = (
        "query($ns: String, $n: Int) { eventTypes(namespace: $ns, first: $n) { nodes { name } } }"
    )
    document = parse(query)

    def of(variables: dict[str, Any]) -> int:
        return costs.cost(GRAPHQL_SCHEMA, query, document, None, variables)

    assert of({"ns": "a", "n": 3}) == 4
    assert of({"ns": "b", "n": 3, "nonce": "x"}) == 4
    assert len(costs) == 1  # neither the namespace nor an undeclared variable is read
    assert of({"ns": "a", "n": 5}) == 6
    assert len(costs) == 2
    for n in range(20):
        of({"n": n})
    assert len(costs) == 8


# the limit, applied by the schema --------------------------------------------------------------


@pytest.fixture(scope="module")
def cache() -> Cache:
    return build_cache()


def unreadable_context(limits: QueryLimits) -> Context:
    """A context whose snapshot any resolver would fail on: an answer with no "Unexpected
    error" shows that no resolver ran."""
    return Context(principal=OPEN, snapshot=None, cache=None, limits=limits)  # type: ignore[arg-type]


async def test_an_operation_over_the_limit_is_refused_before_any_resolver_runs() -> None:
    result = await schema.execute(
        NESTED_BROKER_LISTS, context_value=unreadable_context(QueryLimits())
    )
    assert result.data is None
    assert result.errors is not None
    [error] = result.errors
    requested = cost(NESTED_BROKER_LISTS)
    assert error.message == (
        f"query cost {requested:,} exceeds the limit of {DEFAULT_MAX_QUERY_COST:,}; "
        "request fewer items (first:) or nest fewer lists"
    )
    assert error.extensions == {"code": QUERY_COST_EXCEEDED}
    assert result.extensions == {"cost": {"requested": requested, "limit": DEFAULT_MAX_QUERY_COST}}


async def test_the_limit_comes_from_the_request_context(cache: Cache) -> None:
    query = "{ eventTypes(first: 10) { nodes { name } } }"
    tight = Context(principal=OPEN, snapshot=cache.snapshot, cache=cache, limits=QueryLimits(10))
    refused = await schema.execute(query, context_value=tight)
    assert refused.errors is not None
    assert refused.errors[0].message.startswith("query cost 11 exceeds the limit of 10;")
    roomy = Context(principal=OPEN, snapshot=cache.snapshot, cache=cache, limits=QueryLimits(11))
    answered = await schema.execute(query, context_value=roomy)
    assert answered.errors is None
    assert answered.extensions == {"cost": {"requested": 11, "limit": 11}}


async def test_no_limit_still_reports_the_cost(cache: Cache) -> None:
    off = Context(principal=OPEN, snapshot=cache.snapshot, cache=cache, limits=QueryLimits(0))
    result = await schema.execute("{ namespaces { name brokers { name } } }", context_value=off)
    assert result.errors is None
    assert result.extensions == {"cost": {"requested": 1_100, "limit": None}}


async def test_invalid_documents_get_their_validation_errors_not_a_cost(cache: Cache) -> None:
    context = Context(principal=OPEN, snapshot=cache.snapshot, cache=cache, limits=QueryLimits(1))
    result = await schema.execute("{ namespaces { nope } }", context_value=context)
    assert result.errors is not None
    assert "Cannot query field 'nope'" in result.errors[0].message
    assert not result.extensions


async def test_a_subscription_over_the_limit_is_refused_before_it_starts() -> None:
    query = (
        "subscription { eventTypeChanges { eventType { broker { eventTypes { broker { "
        "eventTypes { name } } } } } } }"
    )
    stream = await schema.subscribe(query, context_value=unreadable_context(QueryLimits()))
    first = await anext(aiter(stream))
    assert first.data is None
    assert first.errors is not None
    assert first.errors[0].message.startswith(f"query cost {cost(query):,} exceeds the limit")


async def test_the_plain_schema_has_the_same_limit() -> None:
    plain = build_schema(fast=False)
    result = await plain.execute(
        NESTED_BROKER_LISTS, context_value=unreadable_context(QueryLimits())
    )
    assert result.errors is not None
    assert result.errors[0].extensions == {"code": QUERY_COST_EXCEEDED}
