"""The event correlator: client-go's counting, aggregation and rate limiting, on a hand clock."""

from __future__ import annotations

from typing import Any

from event_registry.cluster.correlating import (
    AGGREGATE_PREFIX,
    Correlated,
    Correlator,
    rfc3339,
)

START = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


def event(
    message: str = "Broker default is not ready",
    *,
    name: str = "orders",
    uid: str = "u-1",
    reason: str = "BrokerNotReady",
    at: float = START,
) -> dict[str, Any]:
    timestamp = rfc3339(at)
    return {
        "metadata": {"name": f"{name}.{int(at * 1e9):x}", "namespace": "shop"},
        "involvedObject": {
            "kind": "EventType",
            "apiVersion": "eventing.knative.dev/v1beta2",
            "namespace": "shop",
            "name": name,
            "uid": uid,
        },
        "reason": reason,
        "message": message,
        "type": "Warning",
        "source": {"component": "eventing.knative.dev/event-registry", "host": "h"},
        "firstTimestamp": timestamp,
        "lastTimestamp": timestamp,
        "count": 1,
        "reportingComponent": "eventing.knative.dev/event-registry",
        "reportingInstance": "h",
    }


def stored(correlated: Correlated, resource_version: str) -> dict[str, Any]:
    """The Event as the API answers a write of it."""
    answer = dict(correlated.event)
    answer["metadata"] = {**correlated.event["metadata"], "resourceVersion": resource_version}
    return answer


def test_a_repeat_is_a_patch_of_the_first_event_counting_two() -> None:
    clock = Clock()
    correlator = Correlator(clock=clock)
    first = correlator.correlate(event())
    assert first is not None
    assert first.patch is None
    correlator.written(first, stored(first, "7"))

    clock.now += 30
    again = correlator.correlate(event(at=clock.now))
    assert again is not None
    assert again.event["metadata"]["name"] == first.event["metadata"]["name"]
    assert again.event["metadata"]["resourceVersion"] == "7"
    assert again.patch == {
        "count": 2,
        "lastTimestamp": rfc3339(START + 30),
        "message": "Broker default is not ready",
    }
    assert again.event["firstTimestamp"] == rfc3339(START)

    clock.now += 30
    third = correlator.correlate(event(at=clock.now))
    assert third is not None
    assert third.patch is not None
    assert third.patch["count"] == 3


def test_another_message_reason_or_object_is_another_event() -> None:
    correlator = Correlator(clock=Clock())
    seen = [
        correlator.correlate(event()),
        correlator.correlate(event("Broker default does not exist")),
        correlator.correlate(event(reason="Ready")),
        correlator.correlate(event(name="payments", uid="u-2")),
    ]
    assert all(c is not None and c.patch is None for c in seen)


def test_the_tenth_distinct_message_is_combined_and_then_counted() -> None:
    clock = Clock()
    correlator = Correlator(clock=clock)
    for number in range(9):
        result = correlator.correlate(event(f"attempt {number}"))
        assert result is not None
        assert result.patch is None
        assert not result.event["message"].startswith(AGGREGATE_PREFIX)
    combined = correlator.correlate(event("attempt 9"))
    assert combined is not None
    assert combined.patch is None
    assert combined.event["message"] == AGGREGATE_PREFIX + "attempt 9"
    assert combined.event["count"] == 1
    correlator.written(combined, stored(combined, "42"))

    clock.now += 1
    next_one = correlator.correlate(event("attempt 10"))
    assert next_one is not None
    assert next_one.event["metadata"]["name"] == combined.event["metadata"]["name"]
    assert next_one.patch == {
        "count": 2,
        "lastTimestamp": rfc3339(START + 1),
        "message": AGGREGATE_PREFIX + "attempt 10",
    }


def test_similar_messages_are_not_combined_after_the_window() -> None:
    clock = Clock()
    correlator = Correlator(clock=clock, interval=600)
    for number in range(9):
        correlator.correlate(event(f"attempt {number}"))
    clock.now += 601
    fresh = correlator.correlate(event("attempt 9"))
    assert fresh is not None
    assert fresh.event["message"] == "attempt 9"


def test_a_flapping_object_is_rate_limited_then_refilled_one_per_five_minutes() -> None:
    clock = Clock()
    correlator = Correlator(clock=clock)
    results = [correlator.correlate(event("same")) for _ in range(30)]
    assert sum(r is not None for r in results) == 25
    assert results[25:] == [None] * 5
    assert correlator.correlate(event(name="other", uid="u-9")) is not None, "per object"

    clock.now += 299
    assert correlator.correlate(event("same")) is None
    clock.now += 2
    assert correlator.correlate(event("same")) is not None
    assert correlator.correlate(event("same")) is None


def test_memory_is_bounded_by_the_cache_size() -> None:
    correlator = Correlator(clock=Clock(), cache_size=3)
    first = correlator.correlate(event(name="a", uid="a"))
    assert first is not None
    for name in "bcd":
        correlator.correlate(event(name=name, uid=name))
    again = correlator.correlate(event(name="a", uid="a"))
    assert again is not None
    assert again.patch is None, "the oldest observation was evicted: a new Event"
