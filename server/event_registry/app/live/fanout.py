"""Shared subscription executions: one GraphQL execution per change, fanned out to many.

Subscriptions with the same document, operation, variables and visible namespaces produce
the same payloads, so they join one :class:`Group`: the group runs the subscription once,
serializes each payload once, and hands it to every member without waiting for any of them
(members buffer it in their own bounded outbox). Subscriptions that start from
per-subscriber state (``includeExisting``, ``since``) get a group of their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from graphql import FieldNode, OperationDefinitionNode, OperationType, parse
from graphql.error import GraphQLSyntaxError
from strawberry.http import process_result
from strawberry.types import ExecutionResult

log = logging.getLogger(__name__)

PRIVATE_ARGUMENTS = frozenset({"includeExisting", "since"})
YIELD_EVERY = 32
"""Payloads a group produces before letting senders drain (well below Outbox coalescing)."""


class Member(Protocol):
    def deliver(self, payload_json: str, object_key: str | None) -> None: ...

    def fail(self, errors: list[dict[str, Any]]) -> None: ...

    def finish(self) -> None: ...


@dataclass(frozen=True)
class GroupKey:
    query: str
    operation_name: str | None
    variables: str
    scope: str
    private: object = None


def operation_type(query: str, operation_name: str | None) -> OperationType | None:
    """The operation's type, or None when the document does not parse or has no such op."""
    try:
        document = parse(query)
    except GraphQLSyntaxError:
        return None
    operation = _operation(document.definitions, operation_name)
    return operation.operation if operation else None


def operation_problem(query: str, operation_name: str | None) -> str | None:
    """Why no operation can be chosen (a parseable document only), as GraphQL words it."""
    try:
        definitions = parse(query).definitions
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
        operation = _operation(parse(query).definitions, operation_name)
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
    def __init__(
        self, key: GroupKey, subscribe: Subscribe, object_key: ObjectKey, fanout: Fanout
    ) -> None:
        self.key = key
        self.members: set[Member] = set()
        self.executions = 0
        self._subscribe = subscribe
        self._object_key = object_key
        self._fanout = fanout
        self._task = asyncio.create_task(self._run(), name="subscription-group")

    async def _run(self) -> None:
        try:
            result = await self._subscribe()
            if isinstance(result, ExecutionResult):
                errors: list[dict[str, Any]] = [dict(e.formatted) for e in result.errors or []]
                for member in list(self.members):
                    member.fail(errors or [{"message": "subscription failed"}])
                return
            async with contextlib.aclosing(result) as stream:
                async for item in stream:
                    if self.executions == 0 and item.data is None and item.errors:
                        # Strawberry reports a document that fails before execution as the
                        # stream's first item; the protocols want an ``error`` message.
                        errors = [dict(e.formatted) for e in item.errors]
                        for member in list(self.members):
                            member.fail(errors)
                        return
                    self.executions += 1
                    payload = json.dumps(process_result(item), separators=(",", ":"))
                    key = self._object_key()
                    for member in list(self.members):
                        member.deliver(payload, key)
                    # Let the members' senders run every few payloads: a burst (a Broker flip
                    # affecting thousands of EventTypes) drains as it is produced instead of
                    # piling up in every outbox first; yielding after every payload would
                    # wake every sender once per payload instead of once per batch.
                    if self.executions % YIELD_EVERY == 0:
                        await asyncio.sleep(0)
            for member in list(self.members):
                member.finish()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("subscription group failed")
            for member in list(self.members):
                member.fail([{"message": "Unexpected error."}])
        finally:
            self._fanout.forget(self)

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


class Fanout:
    """The groups of a server; created and dropped as members come and go."""

    def __init__(self) -> None:
        self.groups: dict[GroupKey, Group] = {}

    def join(
        self, key: GroupKey, member: Member, subscribe: Subscribe, object_key: ObjectKey
    ) -> Group:
        group = self.groups.get(key)
        if group is None:
            group = Group(key, subscribe, object_key, self)
            self.groups[key] = group
        group.members.add(member)
        return group

    def leave(self, group: Group, member: Member) -> None:
        group.members.discard(member)
        if not group.members:
            self.forget(group)
            asyncio.get_running_loop().create_task(group.stop())

    def forget(self, group: Group) -> None:
        if self.groups.get(group.key) is group:
            del self.groups[group.key]
