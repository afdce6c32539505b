"""How much one request may ask of the server: its query cost and its response's size.

Two limits, set by ``event-registry serve`` (``--max-query-cost``, ``--max-response-size``)
and carried to the schema in each request's :class:`~.context.Context`:

- the **query cost** (see :mod:`.cost`) is checked before any resolver runs: an operation
  that may return more objects than ``max_query_cost`` is refused with a short error;
- the **response size** is the last line of defence, checked on the encoded JSON (one
  ``len`` of the bytes, where each transport encodes): an answer larger than
  ``max_response_bytes`` is replaced by a short error naming the limit (over WebSocket, that
  subscription's event or that operation's answer; the connection stays open).

Either limit set to 0 is off.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from .cost import OperationCosts

MIB = 1024 * 1024
DEFAULT_MAX_QUERY_COST = 500_000
"""Objects one operation may return at most (see :mod:`.cost`): the heaviest query of the
queries benchmark (every field of up to 10,000 EventTypes with their labels, attributes and
conditions) costs 330,002, GraphiQL's default document 100,100."""
DEFAULT_MAX_RESPONSE_MIB = 64
RESPONSE_TOO_LARGE = "RESPONSE_TOO_LARGE"
QUERY_COST_EXCEEDED = "QUERY_COST_EXCEEDED"


@dataclass(frozen=True)
class QueryLimits:
    max_query_cost: int = DEFAULT_MAX_QUERY_COST
    """Largest cost of an operation (0: no limit; the cost is still reported)."""
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_MIB * MIB
    """Largest encoded JSON answer or subscription event (0: no limit)."""


DEFAULT_QUERY_LIMITS = QueryLimits()


class QueryCostLimiter(SchemaExtension):
    """Refuses an operation costing more than its request's ``limits.max_query_cost``, as a
    validation error before any resolver runs, and reports the cost of queries and mutations
    in the answer's ``extensions`` (``{"cost": {"requested": N, "limit": L}}``; L is null
    when there is no limit). Subscription events do not repeat it.

    It must come after the validation cache in the schema's extensions: it costs only a
    document that passed validation (the errors of one that did not are reported instead).
    """

    def __init__(self, costs: OperationCosts) -> None:
        super().__init__()
        self.costs = costs
        self.requested: int | None = None
        self.limit = 0

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and not context.pre_execution_errors:
            limits = getattr(context.context, "limits", None) or DEFAULT_QUERY_LIMITS
            self.limit = limits.max_query_cost
            self.requested = cost = self.costs.cost(
                context.schema._schema,
                context.query,
                document,
                context.operation_name,
                context.variables,
            )
            if self.limit and cost > self.limit:
                context.pre_execution_errors = [
                    GraphQLError(
                        cost_exceeded_message(cost, self.limit),
                        extensions={"code": QUERY_COST_EXCEEDED},
                    )
                ]
        yield

    def get_results(self) -> dict[str, Any]:
        if self.requested is None:
            return {}
        if self.execution_context.operation_type is OperationType.SUBSCRIPTION:
            return {}
        return {"cost": {"requested": self.requested, "limit": self.limit or None}}


def cost_exceeded_message(cost: int, limit: int) -> str:
    return (
        f"query cost {cost:,} exceeds the limit of {limit:,}; "
        "request fewer items (first:) or nest fewer lists"
    )


def bounded(encoded: bytes, limit: int) -> bytes:
    """``encoded`` when it is within ``limit`` bytes (or there is no limit), else the encoded
    GraphQL error response that replaces it."""
    if not limit or len(encoded) <= limit:
        return encoded
    return too_large(len(encoded), limit)


def too_large(size: int, limit: int) -> bytes:
    message = (
        f"the response would be {_mib(size)}, more than the limit of {_mib(limit)}; "
        "request fewer items (first:) or fewer fields"
    )
    error = {"message": message, "extensions": {"code": RESPONSE_TOO_LARGE}}
    return orjson.dumps({"data": None, "errors": [error]})


def _mib(size: int) -> str:
    return f"{size / MIB:,.2f}".rstrip("0").rstrip(".") + " MiB"
