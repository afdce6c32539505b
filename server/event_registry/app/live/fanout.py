"""Shared subscription executions: one GraphQL execution per change, fanned out to many.

Subscriptions with the same document, operation, variables and visible namespaces produce
the same payloads, so they join one :class:`Group`: the group runs the subscription once,
serializes each payload once, and hands it to every member without waiting for any of them
(members buffer it in their own bounded outbox). Subscriptions that start from
per-subscriber state (``includeExisting``, ``since``) get a group of their own. A payload
whose JSON exceeds the response size limit is replaced by one carrying only an error that
names the limit (checked once per payload, where it is serialized); the subscription goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
from graphql import DocumentNode, FieldNode, OperationDefinitionNode, OperationType, parse
from graphql.error import GraphQLSyntaxError
from strawberry.http import process_result
from strawberry.types import ExecutionResult

from ...graphql.limits import DEFAULT_QUERY_LIMITS, bounded
from ...graphql.schema import MAX_TOKENS
from .outbox import Item

log = logging.getLogger(__name__)

PRIVATE_ARGUMENTS = frozenset({"includeExisting", "since"})
YIELD_EVERY = 32
"""Most payloads in one burst: a longer one yields so members' writes start (well below the
outbox's coalescing threshold)."""


class Member(Protocol):
    def deliver(self, burst: Sequence[Item]) -> None: ...

    def fail(self, errors: list[dict[str, Any]]) -> None: ...

    def finish(self) -> None: ...


@dataclass(frozen=True)
class GroupKey:
    query: str
    operation_name: str | None
    variables: str
    scope: str
    private: object = None


@functools.lru_cache(maxsize=256)
def _parse(query: str) -> DocumentNode:
    """Parsed once per distinct text, within the schema's token limit (errors raise again)."""
    return parse(query, max_tokens=MAX_TOKENS)


def syntax_error(query: str) -> dict[str, Any] | None:
    """The GraphQL syntax error of ``query`` as a client sees it (message, locations), if any."""
    try:
        _parse(query)
    except GraphQLSyntaxError as error:
        return dict(error.formatted)
    return None


def operation_type(query: str, operation_name: str | None) -> OperationType | None:
    """The operation's type, or None when the document does not parse or has no such op."""
    try:
        document = _parse(query)
    except GraphQLSyntaxError:
        return None
    operation = _operation(document.definitions, operation_name)
    return operation.operation if operation else None


def operation_problem(query: str, operation_name: str | None) -> str | None:
    """Why no operation can be chosen (a parseable document only), as GraphQL words it."""
    try:
        definitions = _parse(query).definitions
    except GraphQLSyntaxError:
        return None  # reported by execution, with its location
    operations = [d for d in definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None and len(operations) > 1:
        return "Must provide operation name if query contains multiple operations."
    if operation_name is not None and _operation(definitions, operation_name) is None:
        return f"Unknown operation named '{operation_name}'."
    return None


def _operation(definitions: Any, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name and o.name.value == name), None)


def is_shareable(query: str, operation_name: str | None) -> bool:
    """True when no root field starts from per-subscriber state."""
    try:
        operation = _operation(_parse(query).definitions, operation_name)
    except GraphQLSyntaxError:
        return False
    if operation is None:
        return False
    for selection in operation.selection_set.selections:
        if not isinstance(selection, FieldNode):
            return False
        arguments = selection.arguments or ()
        if any(argument.name.value in PRIVATE_ARGUMENTS for argument in arguments):
            return False
    return True


def group_key(
    query: str, operation_name: str | None, variables: dict[str, Any] | None, scope: str
) -> GroupKey:
    key = GroupKey(query, operation_name, json.dumps(variables or {}, sort_keys=True), scope)
    if not is_shareable(query, operation_name):
        return GroupKey(key.query, key.operation_name, key.variables, key.scope, object())
    return key


Subscribe = Callable[[], Awaitable[Any]]
"""Starts the subscription: an async iterator of ExecutionResults, or one ExecutionResult."""
ObjectKey = Callable[[], str | None]
"""The key of the object the latest payload is about (for coalescing), or None."""


class Group:
    """One shared execution and its members.

    Payloads are handed out in *bursts*: everything the execution produced before it next
    waits (at most ``YIELD_EVERY`` payloads) goes to each member in one call, so a Broker flip
    that changes many EventTypes costs each member one delivery. A member receives exactly the
    payloads produced while it is a member, in order, and its ``finish`` or ``fail`` after them.
    """

    def __init__(
        self, key: GroupKey, subscribe: Subscribe, object_key: ObjectKey, fanout: Fanout
    ) -> None:
        self.key = key
        self.members: set[Member] = set()
        self.executions = 0
        self._subscribe = subscribe
        self._object_key = object_key
        self._fanout = fanout
        self._burst: list[Item] = []
        self._joined_during_burst: dict[Member, int] = {}
        self._task = asyncio.create_task(self._run(), name="subscription-group")

    def add(self, member: Member) -> None:
        self.members.add(member)
        if self._burst:
            self._joined_during_burst[member] = len(self._burst)

    def _flush(self) -> None:
        burst, self._burst = self._burst, []
        late, self._joined_during_burst = self._joined_during_burst, {}
        if not burst:
            return
        for member in list(self.members):
            start = late.get(member, 0)
            member.deliver(burst[start:] if start else burst)

    def _end(self, errors: list[dict[str, Any]] | None) -> None:
        self._flush()
        for member in list(self.members):
            if errors is None:
                member.finish()
            else:
                member.fail(errors)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            result = await self._subscribe()
            if isinstance(result, ExecutionResult):
                errors: list[dict[str, Any]] = [dict(e.formatted) for e in result.errors or []]
                self._end(errors or [{"message": "subscription failed"}])
                return
            async with contextlib.aclosing(result) as stream:
                async for item in stream:
                    if self.executions == 0 and item.data is None and item.errors:
                        # Strawberry reports a document that fails before execution as the
                        # stream's first item; the protocols want an ``error`` message.
                        self._end([dict(e.formatted) for e in item.errors])
                        return
                    self.executions += 1
                    if not self._burst:
                        loop.call_soon(self._flush)  # runs once this task next waits
                    # An exact copy: orjson's bytes keep growth room (4 KB for a small payload),
                    # and a slow member's outbox may hold hundreds of payloads.
                    encoded = orjson.dumps(process_result(item))
                    limit = self._fanout.max_payload_bytes
                    payload = memoryview(bounded(encoded, limit)).tobytes()
                    self._burst.append((payload, self._object_key()))
                    # A long burst (a Broker flip affecting thousands of EventTypes) drains as
                    # it is produced instead of piling up in every outbox first; a short one
                    # goes out whole (one delivery, one write per member).
                    if len(self._burst) >= YIELD_EVERY:
                        await asyncio.sleep(0)
            self._end(None)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("subscription group failed")
            self._end([{"message": "Unexpected error."}])
        finally:
            self._fanout.forget(self)

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


class Fanout:
    """The groups of a server; created and dropped as members come and go."""

    def __init__(self, *, max_payload_bytes: int = DEFAULT_QUERY_LIMITS.max_response_bytes) -> None:
        self.groups: dict[GroupKey, Group] = {}
        self.max_payload_bytes = max_payload_bytes
        """The response size limit, for each payload (0: none)."""

    def join(
        self, key: GroupKey, member: Member, subscribe: Subscribe, object_key: ObjectKey
    ) -> Group:
        group = self.groups.get(key)
        if group is None:
            group = Group(key, subscribe, object_key, self)
            self.groups[key] = group
        group.add(member)
        return group

    def leave(self, group: Group, member: Member) -> None:
        group.members.discard(member)
        if not group.members:
            self.forget(group)
            asyncio.get_running_loop().create_task(group.stop())

    def forget(self, group: Group) -> None:
        if self.groups.get(group.key) is group:
            del self.groups[group.key]
