"""A response cache for queries, keyed by the snapshot they read.

A query's answer is a function of its document, operation, variables, the caller's visible
namespaces and the snapshot — and snapshots are immutable, each with its own revision. So an
answer computed once can be served again, byte for byte, to any request with the same key,
until any change bumps the revision (after which the entry is simply never asked for again
and ages out). Mutations, subscriptions and answers with errors are never cached. The cache
holds at most ``budget`` bytes of encoded answers (least recently used evicted first); once
an answer is encoded only its bytes are kept.

Every HTTP answer is encoded here, so this is where the response size limit is checked: an
answer over ``max_response_bytes`` is replaced by a short error (and not kept).
"""

from __future__ import annotations

import functools
import json
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import OperationType

from ..graphql.limits import DEFAULT_QUERY_LIMITS, too_large
from ..graphql.live import operation

Key = tuple[str, str | None, str, str, int]


@functools.lru_cache(maxsize=512)
def is_query(query: str, operation_name: str | None) -> bool:
    return operation(query, operation_name).type == OperationType.QUERY


def key_for(
    query: str,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    scope: str,
    revision: int,
) -> Key:
    return (query, operation_name, json.dumps(variables or {}, sort_keys=True), scope, revision)


@dataclass
class Entry:
    key: Key
    result: Any
    processed: Any = None
    encoded: bytes | None = None


class ResponseCache:
    def __init__(
        self,
        *,
        budget: int = 32 * 1024 * 1024,
        max_response_bytes: int = DEFAULT_QUERY_LIMITS.max_response_bytes,
    ) -> None:
        self._entries: OrderedDict[Key, Entry] = OrderedDict()
        self._max_response_bytes = max_response_bytes
        self._by_result: dict[int, Entry] = {}
        self._by_processed: dict[int, Entry] = {}
        self._budget = budget
        self._size = 0
        self.hits = 0
        self.misses = 0

    @property
    def size(self) -> int:
        """Bytes of encoded answers held."""
        return self._size

    def get(self, key: Key) -> Any | None:
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry.result

    def put(self, key: Key, result: Any) -> None:
        if key in self._entries:
            return
        entry = Entry(key, result)
        self._entries[key] = entry
        self._by_result[id(result)] = entry

    def processed(self, result: Any, process: Any) -> Any:
        """The processed (JSON-ready) form of ``result``, computed once per cached result."""
        entry = self._by_result.get(id(result))
        if entry is None or entry.result is not result:
            return process(result)
        if entry.processed is None:
            entry.processed = process(result)
            self._by_processed[id(entry.processed)] = entry
        return entry.processed

    def encoded(self, data: Any) -> bytes:
        entry = self._by_processed.get(id(data))
        if entry is not None and entry.processed is not data:
            entry = None
        if entry is not None and entry.encoded is not None:
            return entry.encoded
        encoded = orjson.dumps(data)
        limit = self._max_response_bytes
        if limit and len(encoded) > limit:
            if entry is not None:
                self._forget(entry)
            return too_large(len(encoded), limit)
        if entry is None:
            return encoded
        # orjson leaves its growth room in the bytes it returns (up to ~4x the length):
        # an exact copy, so the budget counts what the cache really holds.
        entry.encoded = kept = memoryview(encoded).tobytes()
        self._size += len(kept)
        # Keep only the bytes: a stand-in keeps the identities a later hit goes through
        # (result → processed → encoded) without holding the answer's object tree.
        self._by_processed.pop(id(data), None)
        entry.processed = {"cached": True}
        self._by_processed[id(entry.processed)] = entry
        entry.result.data = None
        self._evict()
        return kept

    def _forget(self, entry: Entry) -> None:
        self._entries.pop(entry.key, None)
        self._by_result.pop(id(entry.result), None)
        if entry.processed is not None:
            self._by_processed.pop(id(entry.processed), None)

    def _evict(self) -> None:
        while self._size > self._budget and len(self._entries) > 1:
            _, entry = self._entries.popitem(last=False)
            self._by_result.pop(id(entry.result), None)
            if entry.processed is not None:
                self._by_processed.pop(id(entry.processed), None)
            if entry.encoded is not None:
                self._size -= len(entry.encoded)
        # Entries never encoded (answers that were not sent) are dropped with their results.
        while len(self._entries) > 1024:
            _, entry = self._entries.popitem(last=False)
            self._by_result.pop(id(entry.result), None)
