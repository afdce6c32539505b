"""What the fast execution path relies on inside graphql-core and Strawberry, checked at start.

:mod:`.fast_execution` subclasses Strawberry's graphql-core executor, overrides two of its
methods, calls three more, resets two of its attributes, and reads the definitions Strawberry
attaches to the GraphQL schema (fields, resolvers, object types). None of this is public API:
a release may rename or reshape any of it (pyproject pins the minor series we tested).
:func:`missing_internals` names whatever is not as expected; the schema is then built with
Strawberry's standard execution instead (see ``fast_execution.execution_context_class``).

Guarantees: the check only inspects classes and a one-type probe schema (about 10 ms) and
never raises; every problem is logged once per process and reason (:func:`warn_once`, which
the per-request fallback of the fast path uses too), at warning level.
"""

from __future__ import annotations

import dis
import importlib
import inspect
import logging
from collections.abc import Callable, Iterator
from typing import Any

import strawberry
from graphql.execution.collect_fields import FieldDetails
from graphql.pyutils import Path

log = logging.getLogger(__name__)

BACKREF = "strawberry-definition"
"""Where Strawberry keeps its definition in a GraphQL field's or type's ``extensions``."""

# name → the parameters after ``self`` it must take (positionally), or None: any.
EXECUTOR_METHODS: dict[str, tuple[str, ...] | None] = {
    "execute_operation": None,
    "execute_collected_subfields": (
        "parent_type",
        "source_value",
        "path",
        "grouped_field_set",
        "new_defer_usages",
        "*",  # the position context: its name changes between releases
    ),
    "collect_subfields": ("return_type", "field_details_list"),
    "build_resolve_info": ("field_def", "field_nodes", "parent_type", "path"),
}
EXECUTOR_STATE = ("context_value", "_relevant_sub_fields", "async_helpers")
FIELD_ATTRIBUTES = ("extensions", "permission_classes", "base_resolver", "python_name", "metadata")
RESOLVER_ATTRIBUTES = ("is_async", "arguments", "wrapped_func", "info_parameter")

_warned: set[str] = set()


def warn_once(reason: str, message: str, *args: object) -> None:
    """Log ``message`` at warning level the first time ``reason`` comes up in this process."""
    if reason in _warned:
        return
    _warned.add(reason)
    log.warning(message, *args)


def strawberry_executor() -> type[Any] | None:
    """Strawberry's graphql-core executor class, the base of the fast one, if it still exists."""
    module = importlib.import_module("strawberry.schema.schema")
    found = getattr(module, "StrawberryGraphQLCoreExecutionContext", None)
    return found if isinstance(found, type) else None


def missing_internals(executor: type[Any] | None = None) -> list[str]:
    """What the fast path needs and does not find (empty when all is there). ``executor`` is
    the class the fast executor derives from (default: Strawberry's)."""
    try:
        return list(dict.fromkeys(_problems(executor or strawberry_executor())))
    except Exception as error:  # an internal shaped so differently that inspecting it fails
        return [f"inspecting graphql-core and Strawberry failed: {error!r}"]


def _problems(executor: type[Any] | None) -> Iterator[str]:
    if executor is None:
        yield "strawberry.schema.schema.StrawberryGraphQLCoreExecutionContext is missing"
        return
    for name, parameters in EXECUTOR_METHODS.items():
        method = getattr(executor, name, None)
        if not callable(method):
            yield f"executor method {name} is missing"
        elif parameters is not None and not _takes(method, parameters):
            yield f"executor method {name} no longer takes ({', '.join(parameters)})"
    assigned = _assigned_in_init(executor)
    for name in EXECUTOR_STATE:
        if name not in assigned:
            yield f"executor attribute {name} is no longer set by its __init__"
    if "node" not in getattr(FieldDetails, "_fields", ()):
        yield "graphql-core FieldDetails has no node"
    if tuple(getattr(Path, "_fields", ())) != ("prev", "key", "typename"):
        yield "graphql-core Path is no longer (prev, key, typename)"
    info_parameters = inspect.signature(strawberry.Info).parameters
    if "_raw_info" not in info_parameters or "_field" not in info_parameters:
        yield "strawberry Info no longer takes _raw_info and _field"
    yield from _definition_problems()


def _takes(method: Callable[..., Any], parameters: tuple[str, ...]) -> bool:
    actual = [
        parameter
        for parameter in inspect.signature(method).parameters.values()
        if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD)
    ]
    names = [parameter.name for parameter in actual[1:]]  # after self
    if len(names) != len(parameters):
        return False
    return all(want in ("*", got) for want, got in zip(parameters, names, strict=True))


def _assigned_in_init(executor: type[Any]) -> set[str]:
    """The attributes the ``__init__`` methods of ``executor`` and its bases set on ``self``."""
    names: set[str] = set()
    for klass in executor.__mro__:
        code = getattr(vars(klass).get("__init__"), "__code__", None)
        if code is not None:
            names.update(
                instruction.argval
                for instruction in dis.get_instructions(code)
                if instruction.opname == "STORE_ATTR"
            )
    return names


@strawberry.type
class _Probe:
    plain: str

    @strawberry.field
    def resolved(self, info: strawberry.Info) -> str:
        return str(info.field_name)


def _definition_problems() -> Iterator[str]:
    """What Strawberry attaches to a GraphQL schema it builds, seen on a probe schema."""
    graphql_schema = getattr(strawberry.Schema(query=_Probe), "_schema", None)
    query_type = getattr(graphql_schema, "query_type", None)
    if query_type is None:
        yield "strawberry Schema has no _schema.query_type"
        return
    type_definition = (query_type.extensions or {}).get(BACKREF)
    if getattr(type_definition, "origin", None) is not _Probe:
        yield f"a GraphQL object type's {BACKREF} has no origin"
    fields = [
        (query_type.fields[name].extensions or {}).get(BACKREF) for name in ("plain", "resolved")
    ]
    for field in fields:
        for attribute in FIELD_ATTRIBUTES:
            if not hasattr(field, attribute):
                yield f"StrawberryField has no {attribute} (in a GraphQL field's {BACKREF})"
    resolver = getattr(fields[1], "base_resolver", None)
    for attribute in RESOLVER_ATTRIBUTES:
        if not hasattr(resolver, attribute):
            yield f"StrawberryResolver has no {attribute}"
    if getattr(getattr(resolver, "info_parameter", None), "name", None) != "info":
        yield "StrawberryResolver.info_parameter no longer names the info parameter"
