"""The metrics collector on real parts (a cache, a hub, a response cache, a live tally):
names carry the prefix and units, labels never name a namespace, the latency histogram is
cumulative, and the exposition parses with prometheus_client's own parser."""

from __future__ import annotations

from graphql import OperationType
from prometheus_client.parser import text_string_to_metric_families

from event_registry.app.live.fanout import Fanout
from event_registry.app.live.tally import LiveTally, operation_label
from event_registry.app.metrics import (
    LATENCY_BUCKETS,
    RegistryCollector,
    RequestStats,
    exposition,
    objects_per_kind,
    registry_of,
)
from event_registry.app.responses import ResponseCache
from event_registry.hub.hub import Hub
from event_registry.store.caching import Cache


def raw(kind: str, name: str, namespace: str, rv: int) -> dict[str, object]:
    group = "v1" if kind == "Namespace" else "eventing.knative.dev/v1"
    meta: dict[str, object] = {"name": name, "resourceVersion": str(rv)}
    if kind != "Namespace":
        meta["namespace"] = namespace
    spec: dict[str, object] = {}
    if kind == "Trigger":
        spec = {"broker": "default", "subscriber": {"uri": "http://x/"}}
    return {"apiVersion": group, "kind": kind, "metadata": meta, "spec": spec}


class Reflected:
    relists, watches, restarts, expired = 2, 5, 1, 1


def collector() -> tuple[RegistryCollector, Cache]:
    cache = Cache()
    for rv, (kind, name, namespace) in enumerate(
        [
            ("Namespace", "secret-team", ""),
            ("Broker", "default", "secret-team"),
            ("Broker", "other", "secret-team"),
            ("Trigger", "t", "secret-team"),
        ],
        start=1,
    ):
        cache.apply(kind, "ADDED", raw(kind, name, namespace, rv))
    cache.set_synced("Broker", True)
    requests = RequestStats()
    requests.observe("query", 0.0007)
    requests.observe("query", 3.0)
    requests.observe("mutation", 20.0)
    return (
        RegistryCollector(
            cache=cache,
            requests=requests,
            responses=ResponseCache(),
            tally=LiveTally(),
            fanout=Fanout(),
            hub=Hub(cache),
            reflectors={"Broker": Reflected()},
        ),
        cache,
    )


def test_objects_per_kind_count_across_namespaces() -> None:
    _, cache = collector()
    assert objects_per_kind(cache.snapshot) == {
        "Namespace": 1,
        "Broker": 2,
        "EventType": 0,
        "Trigger": 1,
    }


def test_the_exposition_parses_and_names_no_namespace() -> None:
    made, _ = collector()
    text = exposition(registry_of(made)).decode()
    assert "secret-team" not in text
    families = {family.name: family for family in text_string_to_metric_families(text)}
    assert all(name.startswith("event_registry_") for name in families)
    for family in families.values():
        for sample in family.samples:
            assert set(sample.labels) <= {"kind", "operation", "le", "outcome"}, sample
        if family.type == "counter":
            assert all(s.name.endswith(("_total", "_created")) for s in family.samples)
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in families.values()
        for s in family.samples
    }
    assert samples[("event_registry_cache_objects", (("kind", "Broker"),))] == 2
    assert samples[("event_registry_cache_synced", (("kind", "Broker"),))] == 1
    assert samples[("event_registry_cache_synced", (("kind", "Trigger"),))] == 0
    assert samples[("event_registry_watch_expired_total", (("kind", "Broker"),))] == 1
    assert samples[("event_registry_hub_position", ())] == 0, "Namespaces and Brokers: no event"
    assert samples[("event_registry_subscribers", ())] == 0


def test_the_latency_histogram_is_cumulative_per_operation() -> None:
    made, _ = collector()
    family = made.requests.family()
    by_bound = {
        (s.labels["operation"], s.labels["le"]): s.value
        for s in family.samples
        if s.name.endswith("_bucket")
    }
    assert by_bound[("query", "0.001")] == 1
    assert by_bound[("query", "2.5")] == 1
    assert by_bound[("query", "5.0")] == 2
    assert by_bound[("query", "+Inf")] == 2
    assert by_bound[("mutation", "10.0")] == 0
    assert by_bound[("mutation", "+Inf")] == 1, "beyond the last bound: only in +Inf"
    assert len([key for key in by_bound if key[0] == "query"]) == len(LATENCY_BUCKETS) + 1


def test_operation_labels() -> None:
    assert operation_label(OperationType.QUERY) == "query"
    assert operation_label(OperationType.MUTATION) == "mutation"
    assert operation_label(OperationType.SUBSCRIPTION) == "subscription"
    assert operation_label(None) == "other"
