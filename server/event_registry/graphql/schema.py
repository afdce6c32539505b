"""The federated schema and its safety limits.

Federation v2 (``_service``, ``_entities``). Query depth, aliases and tokens are limited by
default, and each operation's cost is checked before it runs against the request's
``limits`` (see :mod:`.cost` and :mod:`.limits`), so one request cannot make the server do
unbounded work. Parsing, validation and costs are kept for the last few hundred distinct
documents (with the same limits applied). Errors raised for
expected client mistakes (bad paging arguments, GraphQL validation errors) stay readable;
anything else is masked as "Unexpected error." and logged.
"""

from __future__ import annotations

from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.federation import Schema
from strawberry.types import ExecutionContext

from . import fast_execution
from .connections import InvalidPage
from .cost import OperationCosts
from .entities import EntitiesSchema, InvalidRepresentation
from .limits import QueryCostLimiter
from .mutations import Mutation
from .queries import Query
from .subscriptions import InvalidSubscription, Subscription
from .types import Broker, EventType, Namespace, Trigger
from .writing import CacheLagged

MAX_DEPTH = 12
MAX_ALIASES = 30
MAX_TOKENS = 2_000
EXPECTED_ERRORS = (InvalidPage, CacheLagged, InvalidSubscription, InvalidRepresentation)
DOCUMENTS_CACHED = 256
"""Distinct documents whose parse and validation are kept (LRU): clients repeat a few."""

# The limit rules are built once: each limiter instance makes its own rule class, and the
# validation cache is keyed by the rule classes, so per-request instances would never hit.
LIMIT_RULES = [
    *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
    *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
]


def should_mask(error: GraphQLError) -> bool:
    original = error.original_error
    if original is None:
        return False  # syntax, validation and limit errors are the client's own
    # A GraphQLError cause is a message meant for the client (e.g. a variable's coercion).
    return not isinstance(original, (GraphQLError, *EXPECTED_ERRORS))


class RegistrySchema(EntitiesSchema):
    """Logs only unexpected errors: client mistakes are answered, not logged as failures."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        unexpected = [error for error in errors if should_mask(error)]
        if unexpected:
            super().process_errors(unexpected, execution_context)


def build_schema(*, fast: bool = True) -> Schema:
    """The registry schema; ``fast=False`` gives plain Strawberry execution (bench baseline)."""
    costs = OperationCosts(maxsize=DOCUMENTS_CACHED)
    return RegistrySchema(
        execution_context_class=fast_execution.execution_context_class() if fast else None,
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Broker, EventType, Namespace, Trigger],
        extensions=[
            lambda: AddValidationRules(LIMIT_RULES),
            lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
            lambda: ParserCache(maxsize=DOCUMENTS_CACHED),
            lambda: ValidationCache(maxsize=DOCUMENTS_CACHED),
            lambda: QueryCostLimiter(costs),  # after validation: costs valid documents only
            lambda: MaskErrors(should_mask_error=should_mask),
        ],
    )


schema = build_schema()
