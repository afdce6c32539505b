"""The query response cache: keyed by snapshot revision and scope, bounded in bytes."""

from __future__ import annotations

import tracemalloc
from typing import Any

from event_registry.app.responses import ResponseCache, is_query, key_for


class Result:
    def __init__(self, data: Any) -> None:
        self.data = data


def process(result: Result) -> dict[str, Any]:
    return {"data": result.data}


def test_only_queries_are_cacheable() -> None:
    assert is_query("{ namespaces { name } }", None)
    assert is_query("query A { namespaces { name } } mutation B { x }", "A")
    assert not is_query('mutation { deleteBroker(namespace: "a", name: "b") { __typename } }', None)
    assert not is_query("subscription { brokerChanges { kind } }", None)
    assert not is_query("{ broken", None)


def test_key_changes_with_revision_scope_and_variables() -> None:
    base = key_for("{ a }", None, {"x": 1, "y": 2}, "*", 7)
    assert base == key_for("{ a }", None, {"y": 2, "x": 1}, "*", 7)
    assert base != key_for("{ a }", None, {"x": 1, "y": 2}, "*", 8)
    assert base != key_for("{ a }", None, {"x": 1, "y": 2}, "team-a", 7)
    assert base != key_for("{ a }", None, {"x": 2, "y": 2}, "*", 7)


def test_hit_returns_the_same_result_processed_and_encoded_once() -> None:
    cache = ResponseCache()
    key = key_for("{ a }", None, None, "*", 1)
    assert cache.get(key) is None
    result = Result({"a": 1})
    cache.put(key, result)
    assert cache.get(key) is result
    processed = cache.processed(result, process)
    assert cache.processed(result, process) is processed
    encoded = cache.encoded(processed)
    assert encoded == b'{"data":{"a":1}}'
    # Once encoded, only the bytes are kept; a later hit still gets the same bytes.
    assert result.data is None
    assert cache.get(key) is result
    assert cache.encoded(cache.processed(result, process)) is encoded
    assert (cache.hits, cache.misses) == (2, 1)


def test_uncached_results_are_processed_and_encoded_fresh() -> None:
    cache = ResponseCache()
    result = Result([1, 2])
    assert cache.processed(result, process) == {"data": [1, 2]}
    assert cache.encoded({"data": [1, 2]}) == b'{"data":[1,2]}'


def test_the_byte_budget_evicts_least_recently_used() -> None:
    cache = ResponseCache(budget=100)
    keys = [key_for("{ a }", None, None, "*", revision) for revision in range(3)]
    for key in keys:
        result = Result("x" * 60)
        cache.put(key, result)
        cache.encoded(cache.processed(result, process))
    assert cache.get(keys[0]) is None
    assert cache.get(keys[1]) is None
    assert cache.get(keys[2]) is not None


def test_the_kept_bytes_cost_their_length_so_the_budget_holds() -> None:
    """orjson returns bytes with growth room (up to ~4x); the cache keeps exact copies."""
    cache = ResponseCache()
    answers = []
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        for revision in range(5):
            key = key_for("{ a }", None, None, "*", revision)
            result = Result({"items": [f"event-type-{i}" for i in range(3000)]})
            cache.put(key, result)
            answers.append(cache.encoded(cache.processed(result, process)))
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    kept = sum(len(answer) for answer in answers)
    grown = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    assert grown < kept * 1.3
