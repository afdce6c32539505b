"""Event correlation: client-go's ``EventCorrelator``, as pure state and functions (no I/O).

What a recorder does with each Event before writing it, exactly as client-go's
``tools/record`` does for core ``v1`` Events:

1. **aggregate**: Events that differ only by message (same source, object, type and reason)
   are counted per ten-minute window; from the tenth distinct message on, each is replaced by
   one Event with the message ``(combined from similar events): <message>``, keyed by the
   group, so the group then updates one object instead of creating new ones;
2. **count**: an Event whose key (source, object, type, reason, message) was written before
   becomes a merge patch of that Event: ``count`` plus one, a new ``lastTimestamp`` (and the
   message), keeping its name and ``firstTimestamp``;
3. **rate limit**: each (source, object) has a token bucket of 25 Events refilled at one per
   five minutes; an Event beyond it is dropped, so a flapping object cannot flood the API.

State lives in LRU maps of at most ``cache_size`` entries each (client-go: 4096), so memory is
bounded however many objects report. Time comes from an injected clock (seconds since the
epoch), so every rule is testable without waiting. Events are plain JSON dicts; nothing here
is mutated that the caller still holds.
"""

from __future__ import annotations

import copy
import datetime
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

Raw = dict[str, Any]
K = TypeVar("K")
V = TypeVar("V")

MAX_CACHE_ENTRIES = 4096
AGGREGATE_MAX_EVENTS = 10
AGGREGATE_INTERVAL = 600.0
SPAM_BURST = 25
SPAM_QPS = 1 / 300
AGGREGATE_PREFIX = "(combined from similar events): "


def rfc3339(seconds: float) -> str:
    """A time as Kubernetes writes ``metav1.Time`` (seconds, UTC)."""
    moment = datetime.datetime.fromtimestamp(seconds, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class _Lru(Generic[K, V]):
    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self._size:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _part(event: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = event.get(name)
    return value if isinstance(value, Mapping) else {}


def _source(event: Mapping[str, Any]) -> tuple[str, ...]:
    source = _part(event, "source")
    return (_text(source.get("component")), _text(source.get("host")))


def _object(event: Mapping[str, Any], *fields: str) -> tuple[str, ...]:
    involved = _part(event, "involvedObject")
    return tuple(_text(involved.get(name)) for name in fields)


def spam_key(event: Mapping[str, Any]) -> tuple[str, ...]:
    """client-go's ``getSpamKey``: the source and the object."""
    return (*_source(event), *_object(event, "kind", "namespace", "name", "uid", "apiVersion"))


def aggregate_key(event: Mapping[str, Any]) -> tuple[str, ...]:
    """client-go's ``EventAggregatorByReasonFunc``: all but the message."""
    return (
        *spam_key(event),
        _text(event.get("type")),
        _text(event.get("reason")),
        _text(event.get("reportingComponent")),
        _text(event.get("reportingInstance")),
    )


def event_key(event: Mapping[str, Any]) -> tuple[str, ...]:
    """client-go's ``getEventKey``: what makes two Events the same one, counted."""
    return (
        *_source(event),
        *_object(event, "kind", "namespace", "name", "fieldPath", "uid", "apiVersion"),
        _text(event.get("type")),
        _text(event.get("reason")),
        _text(event.get("message")),
    )


@dataclass
class _Aggregate:
    messages: set[str] = field(default_factory=set)
    last: float = 0.0


@dataclass(frozen=True)
class _Observation:
    count: int
    first_timestamp: str
    name: str
    resource_version: str


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass(frozen=True)
class Correlated:
    """What to write: ``event`` (to create), or a ``patch`` of the Event ``event`` names."""

    event: Raw
    patch: Raw | None = None
    key: tuple[str, ...] = ()


class Correlator:
    def __init__(
        self,
        *,
        clock: Callable[[], float],
        cache_size: int = MAX_CACHE_ENTRIES,
        max_events: int = AGGREGATE_MAX_EVENTS,
        interval: float = AGGREGATE_INTERVAL,
        burst: int = SPAM_BURST,
        qps: float = SPAM_QPS,
    ) -> None:
        self._clock = clock
        self._max_events = max_events
        self._interval = interval
        self._burst = burst
        self._qps = qps
        self._aggregates: _Lru[tuple[str, ...], _Aggregate] = _Lru(cache_size)
        self._observations: _Lru[tuple[str, ...], _Observation] = _Lru(cache_size)
        self._buckets: _Lru[tuple[str, ...], _Bucket] = _Lru(cache_size)

    def correlate(self, event: Mapping[str, Any]) -> Correlated | None:
        """The write an Event turns into, or None when it is rate limited (dropped)."""
        aggregated, key = self._aggregate(event)
        observed, patch = self._observe(aggregated, key)
        if self._limited(observed):
            return None
        return Correlated(observed, patch, key)

    def written(self, correlated: Correlated, stored: Mapping[str, Any]) -> None:
        """Remember the Event as the API stored it (name, count, resourceVersion)."""
        meta = _part(stored, "metadata")
        count = stored.get("count")
        self._observations.put(
            correlated.key,
            _Observation(
                count if isinstance(count, int) and count > 0 else 1,
                _text(stored.get("firstTimestamp")),
                _text(meta.get("name")),
                _text(meta.get("resourceVersion")),
            ),
        )

    def _aggregate(self, event: Mapping[str, Any]) -> tuple[Raw, tuple[str, ...]]:
        now = self._clock()
        group = aggregate_key(event)
        record = self._aggregates.get(group)
        if record is None or now - record.last > self._interval:
            record = _Aggregate()
        record.messages.add(_text(event.get("message")))
        record.last = now
        self._aggregates.put(group, record)
        if len(record.messages) < self._max_events:
            return copy.deepcopy(dict(event)), event_key(event)
        record.messages.pop()  # the set never grows beyond the threshold
        timestamp = rfc3339(now)
        involved = copy.deepcopy(dict(_part(event, "involvedObject")))
        combined: Raw = {
            "metadata": {
                "name": f"{_text(involved.get('name'))}.{int(now * 1e9):x}",
                "namespace": _text(_part(event, "metadata").get("namespace")),
            },
            "involvedObject": involved,
            "reason": event.get("reason"),
            "message": AGGREGATE_PREFIX + _text(event.get("message")),
            "type": event.get("type"),
            "source": copy.deepcopy(dict(_part(event, "source"))),
            "firstTimestamp": timestamp,
            "lastTimestamp": timestamp,
            "count": 1,
            "reportingComponent": event.get("reportingComponent", ""),
            "reportingInstance": event.get("reportingInstance", ""),
        }
        return combined, group

    def _observe(self, event: Raw, key: tuple[str, ...]) -> tuple[Raw, Raw | None]:
        last = self._observations.get(key)
        patch: Raw | None = None
        if last is not None:
            event["metadata"] = {**event.get("metadata", {}), "name": last.name}
            if last.resource_version:
                event["metadata"]["resourceVersion"] = last.resource_version
            event["firstTimestamp"] = last.first_timestamp
            event["count"] = last.count + 1
            patch = {
                "count": event["count"],
                "lastTimestamp": event.get("lastTimestamp"),
                "message": event.get("message"),
            }
        self._observations.put(
            key,
            _Observation(
                int(event.get("count") or 1),
                _text(event.get("firstTimestamp")),
                _text(_part(event, "metadata").get("name")),
                _text(_part(event, "metadata").get("resourceVersion")),
            ),
        )
        return event, patch

    def _limited(self, event: Mapping[str, Any]) -> bool:
        now = self._clock()
        key = spam_key(event)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = _Bucket(float(self._burst), now)
        bucket.tokens = min(float(self._burst), bucket.tokens + (now - bucket.updated) * self._qps)
        bucket.updated = now
        self._buckets.put(key, bucket)
        if bucket.tokens < 1:
            return True
        bucket.tokens -= 1
        return False
