"""A faster way to complete object values, with graphql-core's executor as the fallback.

Listing thousands of EventTypes is dominated by graphql-core's per-field machinery (path
tracking, resolve-info objects, awaitable checks, completion dispatch), not by our
resolvers, which are plain reads of immutable models. For an object whose selected fields
are all argument-free and synchronous, :class:`FastExecutionContext` builds a *plan* once per
request and selection (response key → getter → completer) and applies it to every object of
the list: each field costs a function call instead of a trip through the executor.

Guarantees: the fast path produces exactly what the standard executor would (the
differential tests check this on a corpus of queries); whenever it meets anything it does
not handle — arguments, abstract types, ``@defer``, a null in a non-null position, a
resolver error, an awaitable — it abandons the object and lets graphql-core complete it
from scratch (our resolvers are pure reads, so re-running them is safe), so errors are
reported exactly as before. Resolvers that take ``info`` get one built for the first object
of the selection; they may use ``info.context`` (the request's snapshot and principal) but
not ``info.path``.

It rests on graphql-core and Strawberry internals (see :mod:`.fast_internals`): when one is
missing at start, :func:`execution_context_class` answers None and the schema uses
Strawberry's standard execution; when planning or completing an object fails in a way that is
neither :class:`Unsupported` nor a GraphQL error nor a resolver's own error, that object (and
every other of the same selection in the request) is completed the standard way, and the
failure is logged once per process and place.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path as FilePath
from typing import TYPE_CHECKING, Any

from graphql import (
    GraphQLEnumType,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    get_named_type,
)
from graphql.execution import Executor
from graphql.pyutils import Path
from strawberry.types.info import Info

from . import completed, fast_internals
from .completed import CompletedObjects
from .fast_internals import BACKREF
from .types import NamespacedObject

if TYPE_CHECKING:
    from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext as _Executor
else:  # still importable when Strawberry drops it: the start check then turns this path off
    _Executor = fast_internals.strawberry_executor() or Executor

Getter = Callable[[Any], Any]
Completer = Callable[[Any], Any]
Plan = list[tuple[str, Getter, Completer]]


class Unsupported(Exception):
    """This object cannot take the fast path; complete it the standard way."""


def _raise_unsupported(_: Any = None) -> Any:
    raise Unsupported


def execution_context_class() -> type[FastExecutionContext] | None:
    """:class:`FastExecutionContext` if the internals it relies on are all there; else None
    (Strawberry's standard execution), each missing one logged once."""
    missing = fast_internals.missing_internals()
    for reason in missing:
        fast_internals.warn_once(
            reason, "Fast execution off, Strawberry's standard execution used: %s", reason
        )
    return None if missing else FastExecutionContext


class FastExecutionContext(_Executor):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plans: dict[tuple[str, int], tuple[object, Plan | None]] = {}
        self._completed: CompletedObjects | None = getattr(self.context_value, "completed", None)
        # (namespace, kinds) → (snapshot, token); per-event executors of a subscription share
        # it (graphql-core copies the executor), each event with a snapshot of its own.
        self._tokens: dict[tuple[str, tuple[str, ...]], tuple[object, completed.Token]] = {}

    def execute_operation(self, *args: Any, **kwargs: Any) -> Any:
        """Run the operation, then drop this execution's plans. Plans hold resolve infos that
        hold this executor: left in place they make each request a reference cycle that only
        the garbage collector frees, and freeing tens of thousands of such objects at once is
        a pause of tens of milliseconds in some later request."""
        try:
            result = super().execute_operation(*args, **kwargs)
        except BaseException:
            self._forget_plans()
            raise
        if self.is_awaitable(result):
            return self._forget_plans_after(result)
        self._forget_plans()
        return result

    async def _forget_plans_after(self, result: Any) -> Any:
        try:
            return await result
        finally:
            self._forget_plans()

    def _forget_plans(self) -> None:
        # Rebound, not cleared: the per-event copies of a subscription's executor share the
        # dict, and the copy that ran is the one to let go of.
        self._plans = {}
        self._tokens = {}
        # graphql-core's executor refers to itself (async helpers bound to it) and memoizes
        # collected subfields on itself; once the operation is done neither is needed.
        self._relevant_sub_fields = {}
        self.async_helpers = None  # type: ignore[assignment]

    def execute_collected_subfields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path,
        grouped_field_set: Any,
        new_defer_usages: Sequence[Any],
        delivery_group_map: Any,
    ) -> Any:
        if delivery_group_map is None and not new_defer_usages:
            plan = self._plan(parent_type, grouped_field_set, path)
            if plan is not None:
                # Unsupported, or a resolver error: the standard path completes and reports it.
                try:
                    return {key: complete(get(source_value)) for key, get, complete in plan}
                except Exception as error:
                    if _raised_by_fast_path(error):
                        self._abandon(parent_type, grouped_field_set, error)
        return super().execute_collected_subfields(
            parent_type, source_value, path, grouped_field_set, new_defer_usages, delivery_group_map
        )

    # planning ---------------------------------------------------------------------------

    def _plan(self, parent_type: GraphQLObjectType, grouped: Any, path: Path) -> Plan | None:
        key = (parent_type.name, id(grouped))
        cached = self._plans.get(key)
        if cached is not None:
            return cached[1]
        try:
            plan: Plan | None = self._build_plan(parent_type, grouped, path)
        except (Unsupported, GraphQLError):  # the standard path handles (or reports) it
            plan = None
        except Exception as error:  # the planner's assumptions do not hold
            _warn_fast_path_failed(error)
            plan = None
        self._plans[key] = (grouped, plan)  # keep ``grouped`` alive so its id stays unique
        return plan

    def _abandon(self, parent_type: GraphQLObjectType, grouped: Any, error: Exception) -> None:
        """The plan failed on its own (not in a resolver): the rest of the request completes
        this selection the standard way."""
        _warn_fast_path_failed(error)
        self._plans[parent_type.name, id(grouped)] = (grouped, None)

    def _build_plan(self, parent_type: GraphQLObjectType, grouped: Any, path: Path) -> Plan:
        plan: Plan = []
        for response_key, field_details_list in grouped.items():
            node = field_details_list[0].node
            name = node.name.value
            if name == "__typename":
                plan.append((response_key, _constant(parent_type.name), _identity))
                continue
            field_def = parent_type.fields.get(name)
            if field_def is None or field_def.args or node.arguments or node.directives:
                raise Unsupported
            getter = self._getter(parent_type, field_def, field_details_list, path, response_key)
            completer = self._completer(field_def.type, field_details_list, path)
            plan.append((response_key, getter, completer))
        return plan

    def _getter(
        self,
        parent_type: GraphQLObjectType,
        field_def: Any,
        field_details_list: Any,
        path: Path,
        response_key: str,
    ) -> Getter:
        strawberry_field = (field_def.extensions or {}).get(BACKREF)
        if strawberry_field is None or strawberry_field.extensions:
            raise Unsupported
        if getattr(strawberry_field, "permission_classes", None):
            raise Unsupported
        resolver = strawberry_field.base_resolver
        if resolver is None:
            attribute = strawberry_field.python_name
            return lambda source: getattr(source, attribute)
        if resolver.is_async or resolver.arguments:
            raise Unsupported
        function = resolver.wrapped_func
        if inspect.iscoroutinefunction(function):
            raise Unsupported
        info_parameter = resolver.info_parameter
        if info_parameter is None:
            return function  # type: ignore[no-any-return]
        field_path = Path(path, response_key, parent_type.name)
        nodes = [details.node for details in field_details_list]
        raw_info = self.build_resolve_info(field_def, nodes, parent_type, field_path)
        info = Info(_raw_info=raw_info, _field=strawberry_field)
        keyword = info_parameter.name
        return lambda source: function(source, **{keyword: info})

    def _completer(
        self, return_type: GraphQLOutputType, field_details_list: Any, path: Path
    ) -> Completer:
        nullable = not isinstance(return_type, GraphQLNonNull)
        named = return_type if nullable else return_type.of_type  # type: ignore[union-attr]
        if isinstance(named, GraphQLList):
            item = self._completer(named.of_type, field_details_list, path)

            def complete_list(value: Any) -> Any:
                if value is None:
                    return _null(nullable)
                return [item(v) for v in value]

            return complete_list
        if isinstance(named, GraphQLScalarType | GraphQLEnumType):
            return _leaf(named, nullable)
        if isinstance(named, GraphQLObjectType):
            return self._object_completer(named, field_details_list, path, nullable)
        return _raise_unsupported  # interfaces and unions: standard path

    def _object_completer(
        self, object_type: GraphQLObjectType, field_details_list: Any, path: Path, nullable: bool
    ) -> Completer:
        definition = (object_type.extensions or {}).get(BACKREF)
        origin = getattr(definition, "origin", None)
        if origin is None:
            raise Unsupported
        collected = self.collect_subfields(object_type, field_details_list)
        sub_grouped, defer_usages = collected[0], collected[1]
        if defer_usages:
            raise Unsupported
        sub_plan = self._plan(object_type, sub_grouped, path)
        if sub_plan is None:
            raise Unsupported

        memo = self._completed
        if memo is None or not issubclass(origin, NamespacedObject):

            def complete_object(value: Any) -> Any:
                if value is None:
                    return _null(nullable)
                if not isinstance(value, origin):
                    raise Unsupported
                return {key: complete(get(value)) for key, get, complete in sub_plan}

            return complete_object

        fields = self._field_shapes(object_type, sub_grouped)
        shape = (object_type.name, tuple(field.shape for field in fields))
        kinds = tuple(sorted(frozenset().union(*(field.reads for field in fields))))
        slot = memo.slot(shape)
        context = self.context_value
        tokens = self._tokens
        # Object-valued fields whose subtree reads nothing beyond the model (conditions,
        # labels, attributes, reference) are kept on their own too: when the object must be
        # completed again because something it reads changed (its Broker), they are reused.
        object_plan: Plan = [
            (key, _identity, _memoized_field(memo, memo.slot(field.shape), get, complete))
            if field.object_valued and not field.reads
            else (key, get, complete)
            for (key, get, complete), field in zip(sub_plan, fields, strict=True)
        ]

        def complete_memoized(value: Any) -> Any:
            if value is None:
                return _null(nullable)
            if not isinstance(value, origin):
                raise Unsupported
            model = value.model
            namespace = model.meta.namespace
            snapshot = context.snapshot  # read now: a subscription sets it per event
            known = tokens.get((namespace, kinds))
            if known is None or known[0] is not snapshot:
                token = completed.token(snapshot, namespace, kinds, context.principal)
                known = tokens[namespace, kinds] = (snapshot, token)
            current = known[1]
            name = (namespace, model.meta.name)
            kept = memo.get(slot, name, model, current)
            if kept is not None:
                return kept
            result = {key: complete(get(value)) for key, get, complete in object_plan}
            return memo.put(slot, name, model, current, result)

        return complete_memoized

    def _shape(self, object_type: GraphQLObjectType, grouped: Any) -> tuple[Any, frozenset[str]]:
        """The selection below an object as plain data (fields, response keys and the same for
        every object below), and the kinds of its namespace that its resolvers read."""
        fields = self._field_shapes(object_type, grouped)
        reads = frozenset().union(*(field.reads for field in fields))
        return (object_type.name, tuple(field.shape for field in fields)), reads

    def _field_shapes(self, object_type: GraphQLObjectType, grouped: Any) -> list[FieldShape]:
        shapes: list[FieldShape] = []
        for response_key, field_details_list in grouped.items():
            name = field_details_list[0].node.name.value
            field_def = object_type.fields.get(name)
            below: Any = None
            reads: frozenset[str] = frozenset()
            object_valued = False
            if field_def is not None:
                reads = _reads(field_def)
                named = get_named_type(field_def.type)
                if isinstance(named, GraphQLObjectType):
                    object_valued = True
                    sub_grouped = self.collect_subfields(named, field_details_list)[0]
                    below, below_reads = self._shape(named, sub_grouped)
                    reads = reads | below_reads
            shape = (object_type.name, response_key, name, below)
            shapes.append(FieldShape(shape, reads, object_valued))
        return shapes


@dataclass(frozen=True, slots=True)
class FieldShape:
    """One selected field, as plain data: what is asked below it and what its subtree reads."""

    shape: Any
    reads: frozenset[str]
    object_valued: bool


def _memoized_field(
    memo: CompletedObjects, slot: int, get: Getter, complete: Completer
) -> Completer:
    """Completes a field of ``parent`` that depends on ``parent.model`` alone, kept as JSON."""

    def complete_field(parent: Any) -> Any:
        model = parent.model
        name = (model.meta.namespace, model.meta.name)
        kept = memo.get(slot, name, model, ())
        if kept is not None:
            return kept
        return memo.put(slot, name, model, (), complete(get(parent)))

    return complete_field


def _reads(field_def: Any) -> frozenset[str]:
    """What a field's resolver reads from the snapshot beyond its own object's model."""
    strawberry_field = (field_def.extensions or {}).get(BACKREF)
    if strawberry_field is None:
        return completed.ALL_KINDS
    resolver = strawberry_field.base_resolver
    if resolver is None or resolver.info_parameter is None:
        return frozenset()
    declared = strawberry_field.metadata.get(completed.READS)
    return frozenset(declared) if declared is not None else completed.ALL_KINDS


_BUILTIN_SCALARS: dict[str, tuple[type, ...]] = {
    "String": (str,),
    "ID": (str,),
    "Boolean": (bool,),
    "Int": (int,),
    "Float": (float,),
}


def _null(nullable: bool) -> None:
    if not nullable:
        raise Unsupported  # the standard path reports the non-null violation
    return


def _leaf(leaf_type: GraphQLScalarType | GraphQLEnumType, nullable: bool) -> Completer:
    serialize = leaf_type.serialize
    exact = (
        _BUILTIN_SCALARS.get(leaf_type.name) if isinstance(leaf_type, GraphQLScalarType) else None
    )

    def complete_leaf(value: Any) -> Any:
        if value is None:
            return _null(nullable)
        if exact is not None and value.__class__ in exact:
            return value
        return serialize(value)

    return complete_leaf


_OWN_FILES = frozenset({__file__, completed.__file__})


def _raised_by_fast_path(error: Exception) -> bool:
    """Whether ``error`` comes from the planner's own code (a completer, the memo), not from a
    resolver (which the standard path runs again and reports) or a GraphQL error."""
    if isinstance(error, Unsupported | GraphQLError):
        return False
    traceback = error.__traceback__
    if traceback is None:
        return False
    while traceback.tb_next is not None:
        traceback = traceback.tb_next
    return traceback.tb_frame.f_code.co_filename in _OWN_FILES


def _warn_fast_path_failed(error: Exception) -> None:
    traceback = error.__traceback__
    while traceback is not None and traceback.tb_next is not None:
        traceback = traceback.tb_next
    where = (
        f"{FilePath(traceback.tb_frame.f_code.co_filename).name}:{traceback.tb_lineno}"
        if traceback is not None
        else "?"
    )
    reason = f"{type(error).__name__} at {where}"
    fast_internals.warn_once(
        reason,
        "Fast execution failed (%s: %s at %s); the standard path completes this selection",
        type(error).__name__,
        error,
        where,
    )


def _identity(value: Any) -> Any:
    return value


def _constant(value: Any) -> Getter:
    return lambda _source: value
