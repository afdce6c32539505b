"""The client's GraphQL documents against the repository's schema.graphql: the staleness
check of a hand-written client (the role a generator's regenerate-and-compare plays).

Every document must validate; every Mutation and Subscription field, and every Query field a
client needs, must have one; the package's ``__all__`` must export what it names.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import GraphQLSchema, build_schema, parse, validate

import event_registry_client
from event_registry_client import documents

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"
QUERY_FIELDS_NOT_NEEDED = {
    "_entities": "federation, for the gateway",
    "_service": "federation, for the gateway",
    "node": "Relay refetch by global ID; the client names objects by namespace and name",
    "namespace": "namespaces() carries the same counts",
}


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return build_schema(SCHEMA_FILE.read_text(), assume_valid_sdl=True)


@pytest.mark.parametrize("name", sorted(documents.ALL))
def test_each_document_validates_against_schema_graphql(schema: GraphQLSchema, name: str) -> None:
    problems = validate(schema, parse(documents.ALL[name]))
    assert not problems, f"documents.{name} is stale: {[p.message for p in problems]}"


def root_fields_used() -> set[str]:
    used: set[str] = set()
    for text in documents.ALL.values():
        operation = parse(text).definitions[0]
        for selection in operation.selection_set.selections:  # type: ignore[attr-defined]
            used.add(selection.name.value)
    return used


def test_every_mutation_and_subscription_and_needed_query_has_a_document(
    schema: GraphQLSchema,
) -> None:
    assert schema.query_type is not None
    assert schema.mutation_type is not None
    assert schema.subscription_type is not None
    needed = (
        set(schema.mutation_type.fields)
        | set(schema.subscription_type.fields)
        | (set(schema.query_type.fields) - set(QUERY_FIELDS_NOT_NEEDED))
    )
    assert needed - root_fields_used() == set()


def test_the_package_exports_what_its_all_names() -> None:
    exported = event_registry_client.__all__
    assert len(set(exported)) == len(exported)
    missing = [name for name in exported if not hasattr(event_registry_client, name)]
    assert missing == []
