"""The cost of a GraphQL operation, computed from its document before anything runs.

Like GitHub's node limit, the cost is **how many objects the answer may hold**, estimated from
the document, the schema and the request's variables alone — no resolver runs, no data is read:

    cost(selection set) = Σ over its object fields f:  size(f) * (1 + cost(f's selection set))

- An *object field* returns an object, interface or union, or a list of them. Scalar and enum
  fields (lists of them too) are part of their object and cost nothing; so does introspection
  (``__typename``, ``__schema``, ``__type``: bounded by the schema, not by data).
- ``size(f)`` is 1 for a field returning one object. For a list it is, in order:

  1. inside a connection (a field declared :class:`Paged`, e.g. ``eventTypes``), for its
     lists declared :data:`PAGE` (``nodes``, ``edges``): the connection's ``first`` argument,
     or its largest page when ``first`` is absent;
  2. ``_entities``: the number of ``representations``;
  3. the list's declared :class:`Estimate` (``metadata={COST: Estimate(100)}`` next to the
     field: how many items such a list usually holds, generously);
  4. :data:`DEFAULT_ESTIMATE` for a list declaring nothing (a unit test lists such fields).

So ``{ eventTypes(first: 20) { nodes { name broker { name } consumers { name } } } }`` costs
1 (the connection) + 20 * (1 (the EventType) + 1 (its Broker) + 10 (consumers)) = 241.

Fragments (named and inline) count where they are spread; a field selected twice counts
twice; ``@skip``/``@include`` are ignored: the cost is an upper bound of the document under
the estimates. Variables count with the request's values (``first: $n``). A subscription
costs what one of its events may hold. The functions here are pure: no I/O, no Strawberry,
and a document that fails validation still gets a cost (unknown fields cost nothing).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    get_operation_ast,
    is_leaf_type,
    is_list_type,
    value_from_ast_untyped,
)

COST = "cost"
"""Field metadata key: how a list field (or a connection) is sized, :class:`Estimate`,
:data:`PAGE` or :class:`Paged`."""
DEFAULT_ESTIMATE = 100
"""The size of a list that declares none."""
SIZE_ARGUMENTS = ("first", "representations")
"""Arguments whose values change a cost (the variables read by a cost are those used here)."""
BACKREF = "strawberry-definition"
"""Where Strawberry keeps a GraphQL field's own declaration (with its ``metadata``)."""


@dataclass(frozen=True)
class Estimate:
    """An unpaged list: about this many items (an upper estimate, not a limit)."""

    items: int


@dataclass(frozen=True)
class Paged:
    """A connection: its :data:`PAGE` lists hold ``first`` items, at most ``max_page``."""

    max_page: int


@dataclass(frozen=True)
class _Page:
    """A list of a connection's page (``nodes``, ``edges``)."""


PAGE = _Page()


def declared(definition: GraphQLField) -> object | None:
    """The :data:`COST` metadata declared with a field, if any."""
    own = (definition.extensions or {}).get(BACKREF)
    metadata = getattr(own, "metadata", None) or {}
    return metadata.get(COST)


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None = None,
    variables: Mapping[str, Any] | None = None,
) -> int:
    """The cost of the chosen operation of ``document`` (0 when there is no such operation)."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return 0
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 0
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    costing = _Costing(schema, fragments, dict(variables or {}))
    return costing.selection_set(operation.selection_set, root, None, frozenset())


class _Costing:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: dict[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    def selection_set(
        self,
        node: SelectionSetNode,
        parent: GraphQLNamedType,
        page: int | None,
        spreading: frozenset[str],
    ) -> int:
        """``page``: the page size when ``parent`` is a connection's type; ``spreading``: the
        named fragments being spread (a cycle, which validation refuses, stops here)."""
        total = 0
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent, page, spreading)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                within = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selection_set(
                    selection.selection_set, within or parent, page, spreading
                )
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in spreading:
                    continue
                within = self.schema.get_type(fragment.type_condition.name.value)
                total += self.selection_set(
                    fragment.selection_set, within or parent, page, spreading | {name}
                )
        return total

    def field(
        self,
        node: FieldNode,
        parent: GraphQLNamedType,
        page: int | None,
        spreading: frozenset[str],
    ) -> int:
        name = node.name.value
        if name.startswith("__") or node.selection_set is None:
            return 0
        if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return 0
        definition = parent.fields.get(name)
        if definition is None:
            return 0
        returned = get_named_type(definition.type)
        if is_leaf_type(returned):
            return 0
        sizing = declared(definition)
        size = self.size(node, definition, sizing, page)
        inner_page = self.page(node, sizing) if isinstance(sizing, Paged) else None
        return size * (1 + self.selection_set(node.selection_set, returned, inner_page, spreading))

    def size(
        self, node: FieldNode, definition: GraphQLField, sizing: object, page: int | None
    ) -> int:
        if not is_list_type(get_nullable_type(definition.type)):
            return 1
        if sizing is PAGE and page is not None:
            return page
        if node.name.value == "_entities":
            representations = self.argument(node, "representations")
            if isinstance(representations, list):
                return len(representations)
        if isinstance(sizing, Estimate):
            return sizing.items
        return DEFAULT_ESTIMATE

    def page(self, node: FieldNode, sizing: Paged) -> int:
        first = self.argument(node, "first")
        if isinstance(first, int) and not isinstance(first, bool) and first >= 0:
            return min(first, sizing.max_page)
        return sizing.max_page

    def argument(self, node: FieldNode, name: str) -> Any:
        for argument in node.arguments or ():
            if argument.name.value == name:
                return value_from_ast_untyped(argument.value, self.variables)
        return None


def size_variables(document: DocumentNode) -> tuple[str, ...]:
    """The variables a cost of ``document`` reads: those given to size arguments."""
    names: set[str] = set()
    for node in _walk(document):
        if isinstance(node, FieldNode):
            for argument in node.arguments or ():
                if argument.name.value in SIZE_ARGUMENTS:
                    names.update(_variables_in(argument.value))
    return tuple(sorted(names))


def _walk(node: Any) -> Iterator[Any]:
    yield node
    for key in node.keys:
        value = getattr(node, key, None)
        if isinstance(value, tuple | list):
            for item in value:
                if hasattr(item, "keys"):
                    yield from _walk(item)
        elif hasattr(value, "keys") and not isinstance(value, str):
            yield from _walk(value)


def _variables_in(value: Any) -> Iterator[str]:
    for node in _walk(value):
        if isinstance(node, VariableNode):
            yield node.name.value


class OperationCosts:
    """Costs computed once per (document text, operation, values of the variables they read),
    least recently used dropped beyond ``maxsize``: clients repeat a few documents, and a
    variable the cost does not read (a filter, a namespace) does not make a new entry."""

    def __init__(self, maxsize: int = 256) -> None:
        self._maxsize = maxsize
        self._reads: OrderedDict[str, tuple[str, ...]] = OrderedDict()
        self._costs: OrderedDict[tuple[Any, ...], int] = OrderedDict()

    def __len__(self) -> int:
        """Costs kept."""
        return len(self._costs)

    def cost(
        self,
        schema: GraphQLSchema,
        query: str | None,
        document: DocumentNode,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
    ) -> int:
        if query is None:
            return operation_cost(schema, document, operation_name, variables)
        reads = _remembered(self._reads, query)
        if reads is None:
            reads = size_variables(document)
            _remember(self._reads, query, reads, self._maxsize)
        given = variables or {}
        key = (query, operation_name, *(_sizing_value(given.get(name)) for name in reads))
        kept: int | None = _remembered(self._costs, key)
        if kept is not None:
            return kept
        cost = operation_cost(schema, document, operation_name, variables)
        _remember(self._costs, key, cost, self._maxsize)
        return cost


def _sizing_value(value: Any) -> Any:
    """What of a variable's value a cost reads: a list's length, a number; hashable."""
    if isinstance(value, list):
        return ("list", len(value))
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return repr(value)


def _remembered(entries: OrderedDict[Any, Any], key: Any) -> Any:
    found = entries.get(key)
    if found is not None:
        entries.move_to_end(key)
    return found


def _remember(entries: OrderedDict[Any, Any], key: Any, value: Any, maxsize: int) -> None:
    entries[key] = value
    while len(entries) > maxsize:
        entries.popitem(last=False)
