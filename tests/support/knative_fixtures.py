"""The Knative fixtures (one YAML file per served API version) and a cache built from them.

Unit tests that execute the schema without a server read one snapshot of this cache: two
namespaces (``default``, ``payments``) with Brokers, EventTypes of every served version and
Triggers (exact-match filters and SubscriptionsAPI ``filters``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from event_registry.store.caching import Cache

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "knative"
FIXTURE_FILES = (
    "namespace-v1.yaml",
    "broker-v1.yaml",
    "eventtype-v1beta1.yaml",
    "eventtype-v1beta2.yaml",
    "eventtype-v1beta3.yaml",
    "trigger-v1.yaml",
)


def load(filename: str) -> list[dict[str, Any]]:
    with (FIXTURES / filename).open() as stream:
        return [doc for doc in yaml.safe_load_all(stream) if doc]


def build_cache() -> Cache:
    """A cache holding every fixture object, each applied as ADDED."""
    cache = Cache()
    for filename in FIXTURE_FILES:
        for raw in load(filename):
            assert cache.apply(raw["kind"], "ADDED", raw) is not None
    return cache
