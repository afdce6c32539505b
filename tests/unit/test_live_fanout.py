"""A shared subscription group hands out bursts: each member once per burst, in order."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

from strawberry.types import ExecutionResult

from event_registry.app.live.fanout import Fanout
from event_registry.app.live.outbox import Item
from event_registry.graphql.live import GroupKey
from tests.support.registry import eventually_async

KEY = GroupKey("subscription { x }", None, "{}", "*")


class Recorder:
    def __init__(self) -> None:
        self.bursts: list[list[int]] = []
        self.keys: list[list[Any]] = []
        self.finished = False
        self.errors: list[dict[str, Any]] | None = None

    def deliver(self, burst: Sequence[Item]) -> None:
        self.bursts.append([json.loads(payload)["data"]["n"] for payload, _ in burst])
        self.keys.append([key for _, key in burst])

    def fail(self, errors: list[dict[str, Any]]) -> None:
        self.errors = errors

    def finish(self) -> None:
        self.finished = True


async def eventually(condition: Any) -> None:
    async def check() -> bool:
        return bool(condition())

    await eventually_async(check, 5, interval=0.001)


async def test_members_get_each_burst_once_and_late_joiners_only_what_follows() -> None:
    fanout = Fanout()
    first, second, late = Recorder(), Recorder(), Recorder()
    gate = asyncio.Event()
    current: dict[str, int] = {}

    async def stream() -> AsyncIterator[ExecutionResult]:
        for n in range(5):
            current["n"] = n
            if n == 3:  # joins while the burst of 0..4 is being produced
                fanout.join(KEY, late, subscribe, object_key)
            yield ExecutionResult(data={"n": n}, errors=None)
        await gate.wait()
        for n in (5, 6):
            current["n"] = n
            yield ExecutionResult(data={"n": n}, errors=None)

    async def subscribe() -> AsyncIterator[ExecutionResult]:
        return stream()

    def object_key() -> str:
        return f"object-{current['n']}"

    group = fanout.join(KEY, first, subscribe, object_key)
    assert fanout.join(KEY, second, subscribe, object_key) is group
    await eventually(lambda: first.bursts)
    assert first.bursts == second.bursts == [[0, 1, 2, 3, 4]]
    assert first.keys == [[f"object-{n}" for n in range(5)]]
    assert late.bursts == [[3, 4]]
    gate.set()
    await eventually(lambda: first.finished and second.finished and late.finished)
    assert first.bursts == [[0, 1, 2, 3, 4], [5, 6]]
    assert late.bursts == [[3, 4], [5, 6]]
    assert group.executions == 7
    assert KEY not in fanout.groups


async def test_a_burst_larger_than_yield_every_is_split_and_a_failure_follows_it() -> None:
    fanout = Fanout()
    member = Recorder()

    async def stream() -> AsyncIterator[ExecutionResult]:
        for n in range(70):
            yield ExecutionResult(data={"n": n}, errors=None)
        raise RuntimeError("boom")

    async def subscribe() -> AsyncIterator[ExecutionResult]:
        return stream()

    fanout.join(KEY, member, subscribe, lambda: None)
    await eventually(lambda: member.errors is not None)
    assert [n for burst in member.bursts for n in burst] == list(range(70))
    assert max(len(burst) for burst in member.bursts) <= 32
    assert member.errors == [{"message": "Unexpected error."}]


async def test_bursts_that_fit_are_never_split_however_many_came_before() -> None:
    fanout = Fanout()
    member = Recorder()
    step = asyncio.Event()

    async def stream() -> AsyncIterator[ExecutionResult]:
        for burst in range(8):  # 80 payloads in all, ten at a time
            for n in range(10):
                yield ExecutionResult(data={"n": burst * 10 + n}, errors=None)
            await step.wait()
            step.clear()

    async def subscribe() -> AsyncIterator[ExecutionResult]:
        return stream()

    fanout.join(KEY, member, subscribe, lambda: None)
    for burst in range(8):
        await eventually(lambda burst=burst: len(member.bursts) == burst + 1)
        step.set()
    await eventually(lambda: member.finished)
    assert member.bursts == [list(range(b * 10, b * 10 + 10)) for b in range(8)]
