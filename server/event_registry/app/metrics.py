"""``/metrics``: what the registry is doing, in the Prometheus text format.

The parts that do the work count in plain integers on their own paths (the response cache
its hits, the reflectors their relists, the live tally its connections and 4503 closes, the
hub its readers' positions; :class:`RequestStats` the latency of each HTTP request);
:class:`RegistryCollector` reads them when Prometheus scrapes, so nothing on the hot paths
calls into prometheus_client, and subscription fan-out pays nothing per frame.

Guarantees:

- every name starts with ``event_registry_`` and carries its unit (``_seconds``,
  ``_bytes``, ``_total`` for counters); labels are ``operation`` (query, mutation,
  subscription, other) and ``kind`` (Namespace, Broker, EventType, Trigger) only: nothing
  names a namespace or an object, so the endpoint is served without a token (README:
  Security and limits);
- a scrape never fails because a part is missing (a read-only app has no hub: its figures
  are simply absent).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector, CollectorRegistry

from ..hub.hub import Hub
from ..store.caching import KINDS, Cache, Kind
from ..store.snapshots import Index, Snapshot
from .live.fanout import Fanout
from .live.tally import LiveTally, OperationLabel
from .responses import ResponseCache

PREFIX = "event_registry_"
CONTENT_TYPE = CONTENT_TYPE_LATEST

LATENCY_BUCKETS: tuple[float, ...] = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
"""Upper bounds (seconds) of the request latency histogram: a cached query takes ~1 ms."""


@dataclass
class _Histogram:
    counts: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BUCKETS) + 1))
    total: float = 0.0


class RequestStats:
    """HTTP requests by operation type: a latency histogram in plain integers."""

    def __init__(self) -> None:
        self._by_operation: dict[OperationLabel, _Histogram] = {}

    def observe(self, operation: OperationLabel, seconds: float) -> None:
        histogram = self._by_operation.get(operation)
        if histogram is None:
            histogram = self._by_operation[operation] = _Histogram()
        histogram.counts[bisect.bisect_left(LATENCY_BUCKETS, seconds)] += 1
        histogram.total += seconds

    def family(self) -> HistogramMetricFamily:
        family = HistogramMetricFamily(
            f"{PREFIX}http_request_duration_seconds",
            "HTTP requests by GraphQL operation type, from the first byte received to the "
            "last byte sent",
            labels=["operation"],
        )
        for operation, histogram in sorted(self._by_operation.items()):
            cumulative, buckets = 0, []
            for bound, count in zip(LATENCY_BUCKETS, histogram.counts, strict=False):
                cumulative += count
                buckets.append((_bound(bound), float(cumulative)))
            buckets.append(("+Inf", float(cumulative + histogram.counts[-1])))
            family.add_metric([operation], buckets, histogram.total)
        return family


def _bound(value: float) -> str:
    return repr(value)


class WatchCounters(Protocol):
    """What a reflector counts (cluster/reflecting.py)."""

    relists: int
    watches: int
    restarts: int
    expired: int


def objects_per_kind(snapshot: Snapshot) -> dict[Kind, int]:
    """How many objects of each kind the snapshot holds (a sum over namespaces)."""

    def size(index: Index[object]) -> int:
        return sum(len(group) for group in index.groups.values())

    return {
        "Namespace": len(snapshot.namespaces),
        "Broker": size(snapshot.brokers),  # type: ignore[arg-type]
        "EventType": size(snapshot.event_types),  # type: ignore[arg-type]
        "Trigger": size(snapshot.triggers),  # type: ignore[arg-type]
    }


@dataclass(eq=False)
class RegistryCollector(Collector):
    """Reads the runtime's counters at scrape time."""

    cache: Cache
    requests: RequestStats
    responses: ResponseCache
    tally: LiveTally
    fanout: Fanout
    hub: Hub | None = None
    reflectors: Mapping[str, WatchCounters] = field(default_factory=dict)

    def collect(self) -> Iterable[Metric]:
        yield self.requests.family()
        yield from self._cache()
        yield from self._watches()
        yield from self._live()
        yield from self._hub()
        yield from self._responses()

    def _cache(self) -> Iterable[Metric]:
        synced = GaugeMetricFamily(
            f"{PREFIX}cache_synced",
            "1 when the kind is listed and watched (what /readyz waits for), else 0",
            labels=["kind"],
        )
        for kind, is_synced in self.cache.sync_state.items():
            synced.add_metric([kind], 1.0 if is_synced else 0.0)
        yield synced
        objects = GaugeMetricFamily(
            f"{PREFIX}cache_objects", "Objects in the cache by kind", labels=["kind"]
        )
        counts = objects_per_kind(self.cache.snapshot)
        for kind in KINDS:
            objects.add_metric([kind], float(counts[kind]))
        yield objects
        yield CounterMetricFamily(
            f"{PREFIX}cache_changes_total",
            "Effective changes applied to the cache (its revision)",
            value=float(self.cache.snapshot.revision),
        )

    def _watches(self) -> Iterable[Metric]:
        families = {
            "relists": CounterMetricFamily(
                f"{PREFIX}watch_relists_total",
                "Full lists of a kind (the first one too)",
                labels=["kind"],
            ),
            "expired": CounterMetricFamily(
                f"{PREFIX}watch_expired_total",
                "Relists because the watch's resourceVersion expired (410)",
                labels=["kind"],
            ),
            "restarts": CounterMetricFamily(
                f"{PREFIX}watch_restarts_total",
                "Reflector restarts after an unexpected failure (each relists)",
                labels=["kind"],
            ),
            "watches": CounterMetricFamily(
                f"{PREFIX}watches_total",
                "Watches that ended normally (the server's timeout) and were renewed",
                labels=["kind"],
            ),
        }
        for kind, reflector in sorted(self.reflectors.items()):
            for attribute, family in families.items():
                family.add_metric([kind], float(getattr(reflector, attribute)))
        yield from families.values()

    def _live(self) -> Iterable[Metric]:
        tally = self.tally
        yield GaugeMetricFamily(
            f"{PREFIX}websocket_connections", "Open WebSocket connections", value=len(tally.open)
        )
        yield CounterMetricFamily(
            f"{PREFIX}websocket_connections_total",
            "WebSocket connections accepted",
            value=tally.connections_total,
        )
        operations = CounterMetricFamily(
            f"{PREFIX}websocket_operations_total",
            "Operations started over WebSockets, by type",
            labels=["operation"],
        )
        for operation, count in sorted(tally.operations.items()):
            operations.add_metric([operation], float(count))
        yield operations
        yield GaugeMetricFamily(
            f"{PREFIX}subscribers", "Active subscriptions of all clients", value=tally.subscribers()
        )
        yield GaugeMetricFamily(
            f"{PREFIX}subscription_executions",
            "Shared subscription executions (one per distinct document, variables and scope)",
            value=len(self.fanout.groups),
        )
        depths = tally.outbox_depths()
        yield GaugeMetricFamily(
            f"{PREFIX}outbox_frames",
            "Frames queued for clients and not yet written, all connections",
            value=sum(depths),
        )
        yield GaugeMetricFamily(
            f"{PREFIX}outbox_frames_max",
            "Frames queued for the connection furthest behind",
            value=max(depths, default=0),
        )
        yield CounterMetricFamily(
            f"{PREFIX}slow_client_closes_total",
            "Connections closed with 4503: more than the outbox limit behind",
            value=tally.too_slow_closes,
        )

    def _hub(self) -> Iterable[Metric]:
        hub = self.hub
        if hub is None:
            return
        yield GaugeMetricFamily(
            f"{PREFIX}hub_position",
            "Sequence number of the newest change in the hub",
            value=hub.seq,
        )
        yield GaugeMetricFamily(
            f"{PREFIX}hub_lag_changes",
            "Changes appended that the slowest running subscription execution has yet to take",
            value=hub.lag,
        )
        yield GaugeMetricFamily(
            f"{PREFIX}hub_readers",
            "Running subscription executions reading the hub",
            value=hub.readers,
        )
        resumes = CounterMetricFamily(
            f"{PREFIX}subscription_resumes",
            "Subscriptions resumed with since, by outcome: exact (at once), waited (for changes "
            "the cursor names, e.g. another replica's), resync (RESYNC_REQUIRED)",
            labels=["outcome"],
        )
        for outcome in ("exact", "waited", "resync"):
            resumes.add_metric([outcome], hub.resumes[outcome])
        yield resumes

    def _responses(self) -> Iterable[Metric]:
        responses = self.responses
        yield CounterMetricFamily(
            f"{PREFIX}response_cache_hits_total",
            "Queries answered from the response cache",
            value=responses.hits,
        )
        yield CounterMetricFamily(
            f"{PREFIX}response_cache_misses_total",
            "Cacheable queries executed (not in the response cache)",
            value=responses.misses,
        )
        yield GaugeMetricFamily(
            f"{PREFIX}response_cache_bytes",
            "Encoded answers held by the response cache",
            value=responses.size,
        )


def registry_of(collector: RegistryCollector) -> CollectorRegistry:
    """A registry of its own (never prometheus_client's global one: one per app)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return registry


def exposition(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
