"""controllers/queueing.py: each key queued once, re-queued once when added while processed,
retried after a growing delay, forgotten on success."""

from __future__ import annotations

import asyncio

from event_registry.controllers.queueing import WorkQueue


async def test_a_waiting_key_is_queued_once_in_order() -> None:
    queue: WorkQueue[str] = WorkQueue()
    for key in ("a", "b", "a", "c", "b"):
        queue.add(key)
    assert len(queue) == 3
    assert [await queue.get() for _ in range(3)] == ["a", "b", "c"]


async def test_a_key_added_while_processed_is_processed_once_more_afterwards() -> None:
    queue: WorkQueue[str] = WorkQueue()
    queue.add("a")
    key = await queue.get()
    queue.add("a")
    queue.add("a")
    assert len(queue) == 0  # never handed out twice at once
    assert not queue.idle
    queue.done(key)
    assert len(queue) == 1
    assert await queue.get() == "a"
    queue.done("a")
    assert queue.idle


async def test_retries_come_back_after_a_delay_and_count_until_forgotten() -> None:
    queue: WorkQueue[str] = WorkQueue(retry_initial=0.01, retry_max=0.02)
    queue.add("a")
    queue.done(await queue.get())
    queue.retry("a")
    assert not queue.idle  # awaiting its retry
    assert len(queue) == 0
    assert await asyncio.wait_for(queue.get(), 1) == "a"
    queue.done("a")
    queue.retry("a")
    queue.forget("a")
    queue.close()
    assert queue.idle
