"""Shared subscription executions: one GraphQL execution per change, fanned out to many.

Subscriptions with the same document, operation, variables and visible namespaces produce
the same payloads, so they join one :class:`Group`: the group runs the subscription once,
serializes each payload once, and hands it to every member without waiting for any of them
(members buffer it in their own bounded outbox). A burst is handed out as one shared
:class:`~.outbox.Burst`: members whose frames would be byte for byte the same (same protocol
and subscription id) share one wire encoding of it, kept only until the members' own flushes
of that loop iteration have run. Subscriptions that start from per-subscriber state get a
group of their own: the key is the schema's to compute
(:class:`~event_registry.graphql.live.GroupKey`), this module only compares keys. A payload
whose JSON exceeds the response size limit is replaced by one carrying only an error that
names the limit (checked once per payload, where it is serialized); the subscription goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

import orjson
from strawberry.http import process_result
from strawberry.types import ExecutionResult

from ...graphql.limits import DEFAULT_QUERY_LIMITS, bounded
from ...graphql.live import GroupKey
from .outbox import Burst, Item

log = logging.getLogger(__name__)

YIELD_EVERY = 32
"""Most payloads in one burst: a longer one yields so members' writes start (well below the
outbox's coalescing threshold)."""


class Member(Protocol):
    def deliver(self, burst: Sequence[Item]) -> None: ...

    def fail(self, errors: list[dict[str, Any]]) -> None: ...

    def finish(self) -> None: ...


Subscribe = Callable[[], Awaitable[Any]]
"""Starts the subscription: an async iterator of ExecutionResults, or one ExecutionResult."""
CoalescingKey = Callable[[], str | None]
"""The key of the object the latest payload is about (for coalescing), or None."""


class Group:
    """One shared execution and its members.

    Payloads are handed out in *bursts*: everything the execution produced before it next
    waits (at most ``YIELD_EVERY`` payloads) goes to each member in one call, so a Broker flip
    that changes many EventTypes costs each member one delivery. A member receives exactly the
    payloads produced while it is a member, in order, and its ``finish`` or ``fail`` after them.
    """

    def __init__(
        self, key: GroupKey, subscribe: Subscribe, coalescing_key: CoalescingKey, fanout: Fanout
    ) -> None:
        self.key = key
        self.members: set[Member] = set()
        self.executions = 0
        self._subscribe = subscribe
        self._coalescing_key = coalescing_key
        self._fanout = fanout
        self._burst = Burst()
        self._joined_during_burst: dict[Member, int] = {}
        self._task = asyncio.create_task(self._run(), name="subscription-group")

    def add(self, member: Member) -> None:
        self.members.add(member)
        if self._burst:
            self._joined_during_burst[member] = len(self._burst)

    def _flush(self) -> None:
        burst, self._burst = self._burst, Burst()
        late, self._joined_during_burst = self._joined_during_burst, {}
        if not burst:
            return
        for member in list(self.members):
            start = late.get(member, 0)
            member.deliver(burst[start:] if start else burst)
        # After the members' own flushes (scheduled as they were handed the burst): a client
        # that could not take it now frames it again later rather than keep every encoding.
        asyncio.get_running_loop().call_soon(burst.forget_frames)

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
                    self._burst.append((payload, self._coalescing_key()))
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
        self, key: GroupKey, member: Member, subscribe: Subscribe, coalescing_key: CoalescingKey
    ) -> Group:
        group = self.groups.get(key)
        if group is None:
            group = Group(key, subscribe, coalescing_key, self)
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
