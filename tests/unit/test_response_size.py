"""The response size limit: one check where each path encodes (HTTP answers, subscription
events), replacing an answer over the limit by a short error that names it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

from strawberry.types import ExecutionResult

from event_registry.app.live.fanout import Fanout
from event_registry.app.live.outbox import Item
from event_registry.app.responses import ResponseCache, key_for
from event_registry.graphql.limits import MIB, RESPONSE_TOO_LARGE, bounded
from event_registry.graphql.live import GroupKey
from tests.support.registry import eventually_async


class Result:
    def __init__(self, data: Any) -> None:
        self.data = data


def process(result: Result) -> dict[str, Any]:
    return {"data": result.data}


def test_bounded_keeps_what_fits_and_replaces_what_does_not() -> None:
    assert bounded(b"x" * 100, 100) == b"x" * 100
    assert bounded(b"x" * 10_000, 0) == b"x" * 10_000  # 0: no limit
    replaced = json.loads(bounded(b"x" * (3 * MIB + MIB // 2), 2 * MIB))
    assert replaced["data"] is None
    [error] = replaced["errors"]
    assert error["message"] == (
        "the response would be 3.5 MiB, more than the limit of 2 MiB; "
        "request fewer items (first:) or fewer fields"
    )
    assert error["extensions"] == {"code": RESPONSE_TOO_LARGE}


def test_an_answer_over_the_limit_is_replaced_and_not_kept() -> None:
    cache = ResponseCache(max_response_bytes=1_000)
    key = key_for("{ a }", None, None, "*", 1)
    result = Result(["y" * 100] * 20)
    cache.put(key, result)
    encoded = cache.encoded(cache.processed(result, process))
    assert len(encoded) < 1_000
    assert json.loads(encoded)["errors"][0]["extensions"]["code"] == RESPONSE_TOO_LARGE
    assert cache.get(key) is None  # the large answer is not held for later hits


def test_answers_within_the_limit_are_untouched() -> None:
    cache = ResponseCache(max_response_bytes=1_000)
    key = key_for("{ a }", None, None, "*", 1)
    result = Result({"a": 1})
    cache.put(key, result)
    assert cache.encoded(cache.processed(result, process)) == b'{"data":{"a":1}}'
    assert cache.get(key) is result
    assert cache.encoded({"data": ["z" * 2_000]}).startswith(b'{"data":null,"errors":')


class Recorder:
    def __init__(self) -> None:
        self.payloads: list[dict[str, Any]] = []
        self.finished = False

    def deliver(self, burst: Sequence[Item]) -> None:
        self.payloads.extend(json.loads(payload) for payload, _ in burst)

    def fail(self, errors: list[dict[str, Any]]) -> None:
        raise AssertionError(errors)

    def finish(self) -> None:
        self.finished = True


async def test_a_subscription_event_over_the_limit_is_replaced_and_the_stream_goes_on() -> None:
    fanout = Fanout(max_payload_bytes=1_000)
    member = Recorder()

    async def stream() -> AsyncIterator[ExecutionResult]:
        yield ExecutionResult(data={"n": "small"}, errors=None)
        yield ExecutionResult(data={"n": "large" * 1_000}, errors=None)
        yield ExecutionResult(data={"n": "small again"}, errors=None)

    async def subscribe() -> AsyncIterator[ExecutionResult]:
        return stream()

    key = GroupKey("subscription { x }", None, "{}", "*")
    fanout.join(key, member, subscribe, lambda: None)

    async def done() -> bool:
        await asyncio.sleep(0)
        return member.finished

    await eventually_async(done, 5, interval=0.001)
    small, large, after = member.payloads
    assert small == {"data": {"n": "small"}}
    assert large["data"] is None
    assert large["errors"][0]["extensions"] == {"code": RESPONSE_TOO_LARGE}
    assert "more than the limit of" in large["errors"][0]["message"]
    assert after == {"data": {"n": "small again"}}
