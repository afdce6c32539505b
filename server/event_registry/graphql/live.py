"""What the WebSocket transport may know of a GraphQL operation, and nothing more.

The transport (``app/live/``) runs one execution for all subscribers of the same operation
and hands each payload to every one of them, coalescing a slow client's pending payloads of
the same object. For that it needs three answers, all given here through :class:`Operation`
and :data:`SUBSCRIPTIONS`, so that it names no argument and no memo entry of the schema:

- **the operation** of a (document, operation name): its type, or the error a client gets
  instead (the syntax error with its locations, or why no operation can be chosen), parsed
  within the schema's token limit and analysed once per distinct (text, operation name),
  the last ``DOCUMENTS_CACHED`` kept (:func:`operation`);
- **the group key** of a subscription: subscriptions with the same document, operation,
  variables and visible namespaces share one execution, unless a root field takes an
  argument that starts it from the subscriber's own state (those run alone, however their
  values read), or the document hides its root arguments (a root fragment) or names no
  runnable operation (never shared: execution reports it);
- **the coalescing key** of a payload: the object it is about, read from the executing
  context while the payload is produced (``None`` for markers and for the existing objects
  sent first: never coalesced).

Which arguments are per-subscriber, which one resumes, and where the object of a payload is
recorded are declared next to the Subscription type (:mod:`.subscriptions`).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from graphql import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
    OperationDefinitionNode,
    OperationType,
    StringValueNode,
    VariableNode,
    parse,
)
from graphql.error import GraphQLSyntaxError

from . import subscriptions
from .context import Context
from .schema import DOCUMENTS_CACHED, MAX_TOKENS


@dataclass(frozen=True)
class Operation:
    """One (document, operation name) as the transport sees it."""

    query: str
    name: str | None
    type: OperationType | None
    """None when the document does not parse or names no such operation."""
    error: Mapping[str, Any] | None
    """What a client is answered instead of running it (GraphQL's wording), if anything."""
    root_arguments: frozenset[str] | None
    """Names of the arguments given to its root fields; None when they cannot all be seen
    (no operation, or a fragment at the root)."""
    namespace_arguments: tuple[tuple[str, str], ...] | None = None
    """The ``namespace`` argument of each root field: ``("value", name)`` or ``("variable",
    variable name)``; None when some root field has none (it sees every namespace) or the
    root fields cannot all be seen."""


@dataclass(frozen=True)
class GroupKey:
    """Subscriptions with equal keys share one execution."""

    query: str
    operation_name: str | None
    variables: str
    scope: str
    private: object = None
    """A fresh object for a subscription that must run alone (equal only to itself)."""


@dataclass(frozen=True)
class LiveSubscriptions:
    """How a schema's subscriptions may be shared, resumed and coalesced."""

    per_subscriber_arguments: frozenset[str]
    """Root-field arguments (GraphQL names) that start a subscription from the subscriber's
    own state: an operation giving any of them is never shared."""
    resume_argument: str
    """The argument that resumes a subscription after a cursor (named to a client that must
    reconnect)."""
    coalescing_key: Callable[[Context], str | None]
    """The object of the payload being executed in this context, or None."""

    @property
    def resume_hint(self) -> str:
        """How a client resumes where it left off (``resume with <argument>: <last cursor>``)."""
        return f"resume with {self.resume_argument}: <last cursor>"

    def shared(self, operation: Operation) -> bool:
        """True when subscribers of ``operation`` may share one execution."""
        arguments = operation.root_arguments
        return arguments is not None and arguments.isdisjoint(self.per_subscriber_arguments)

    def namespaces(
        self, operation: Operation, variables: Mapping[str, Any] | None
    ) -> frozenset[str] | None:
        """The namespaces a subscription can deliver changes of; None: any namespace."""
        arguments = operation.namespace_arguments
        if arguments is None:
            return None
        found: set[str] = set()
        for how, value in arguments:
            given = value if how == "value" else (variables or {}).get(value)
            if not isinstance(given, str):
                return None
            found.add(given)
        return frozenset(found)

    def group_key(
        self, operation: Operation, variables: Mapping[str, Any] | None, scope: str
    ) -> GroupKey:
        """The key of the group a subscription joins, for a caller of namespace ``scope``."""
        return GroupKey(
            operation.query,
            operation.name,
            json.dumps(variables or {}, sort_keys=True),
            scope,
            None if self.shared(operation) else object(),
        )


SUBSCRIPTIONS: Final = LiveSubscriptions(
    per_subscriber_arguments=subscriptions.PER_SUBSCRIBER_ARGUMENTS,
    resume_argument=subscriptions.RESUME_ARGUMENT,
    coalescing_key=subscriptions.coalescing_key,
)
"""The registry schema's subscriptions."""


@functools.lru_cache(maxsize=DOCUMENTS_CACHED)
def operation(query: str, name: str | None) -> Operation:
    """``query``'s operation called ``name`` (the only one when None), analysed once."""
    try:
        document = parse(query, max_tokens=MAX_TOKENS)
    except GraphQLSyntaxError as error:
        return Operation(query, name, None, dict(error.formatted), None)
    chosen = _chosen(document, name)
    if chosen is None:
        return Operation(query, name, None, _no_operation(document, name), None)
    return Operation(
        query,
        name,
        chosen.operation,
        None,
        _root_arguments(chosen),
        _namespace_arguments(chosen),
    )


def _operations(document: DocumentNode) -> list[OperationDefinitionNode]:
    return [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]


def _chosen(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = _operations(document)
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name and o.name.value == name), None)


def _no_operation(document: DocumentNode, name: str | None) -> Mapping[str, Any] | None:
    """Why no operation can be chosen, as GraphQL words it (None: left to execution)."""
    if name is None and len(_operations(document)) > 1:
        return {"message": "Must provide operation name if query contains multiple operations."}
    if name is not None:
        return {"message": f"Unknown operation named '{name}'."}
    return None


def _root_arguments(chosen: OperationDefinitionNode) -> frozenset[str] | None:
    names: set[str] = set()
    for selection in chosen.selection_set.selections:
        if not isinstance(selection, FieldNode):
            return None
        names.update(argument.name.value for argument in selection.arguments or ())
    return frozenset(names)


def _namespace_arguments(chosen: OperationDefinitionNode) -> tuple[tuple[str, str], ...] | None:
    found: list[tuple[str, str]] = []
    for selection in chosen.selection_set.selections:
        if not isinstance(selection, FieldNode):
            return None
        argument = next((a for a in selection.arguments or () if a.name.value == "namespace"), None)
        if isinstance(argument, ArgumentNode) and isinstance(argument.value, StringValueNode):
            found.append(("value", argument.value.value))
        elif isinstance(argument, ArgumentNode) and isinstance(argument.value, VariableNode):
            found.append(("variable", argument.value.name.value))
        else:
            return None
    return tuple(found)
