"""Knative's feature flags as :mod:`event_registry.controlplane.knative.features` reads them.

Parsing is checked against ``feature.NewFlagsConfigFromMap``'s rules; reading against a real
:class:`~event_registry.controlplane.storage.sqlite.Storage`, written through an ApiServer as
kubectl would write the ConfigMap.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from event_registry.controlplane.api.apiserver import ApiServer, Target
from event_registry.controlplane.api.resources import CONFIGMAPS, NAMESPACES
from event_registry.controlplane.knative import features as flags
from event_registry.controlplane.storage.sqlite import Storage

LINKS = flags.CROSS_NAMESPACE_EVENT_LINKS


def test_stock_flags_are_knatives_defaults() -> None:
    assert flags.parse({}) == flags.STOCK == flags.stock()
    assert flags.STOCK.is_enabled(flags.DELIVERY_TIMEOUT)
    assert not flags.STOCK.is_enabled(flags.DELIVERY_RETRY_AFTER)
    assert not flags.STOCK.is_enabled(LINKS)
    assert LINKS not in flags.STOCK.flags  # no stock entry: absent means off


@pytest.mark.parametrize(
    ("data", "enabled"),
    [
        ({LINKS: "enabled"}, True),
        ({LINKS: "Enabled"}, True),
        ({LINKS: "eNaBlEd"}, True),
        ({f"  {LINKS} ": "enabled"}, True),  # keys are trimmed
        ({LINKS: " enabled"}, False),  # values are not
        ({LINKS: "disabled"}, False),
        ({LINKS: "allowed"}, False),  # Allowed is not Enabled
        ({LINKS: "true"}, False),
        ({LINKS: ""}, False),
        ({f"_{LINKS}": "enabled"}, False),  # the _example block and friends are ignored
        ({LINKS: 1}, False),  # not a string: ignored
    ],
)
def test_parse_follows_knatives_rules(data: dict[str, Any], enabled: bool) -> None:
    assert flags.parse(data).is_enabled(LINKS) is enabled


def test_parse_canonicalises_known_values_and_keeps_the_rest() -> None:
    parsed = flags.parse({LINKS: "ALLOWED", "delivery-timeout": "disabled", "x": "Strict"})
    assert parsed.flags[LINKS] == "Allowed"
    assert parsed.flags["delivery-timeout"] == "Disabled"
    assert parsed.flags["x"] == "Strict"
    assert parsed.flags["delivery-retryafter"] == "Disabled"  # defaults stay underneath


@pytest.fixture
def api(tmp_path: Path) -> Iterator[ApiServer]:
    storage = Storage(tmp_path / "data", history_limit=100)
    yield ApiServer(storage)
    storage.close()


def write_config_map(api: ApiServer, body: dict[str, Any]) -> None:
    if api.storage.get(NAMESPACES.key, "", flags.SYSTEM_NAMESPACE) is None:
        api.create(Target(NAMESPACES, "v1"), {"metadata": {"name": flags.SYSTEM_NAMESPACE}})
    api.create(Target(CONFIGMAPS, "v1", flags.SYSTEM_NAMESPACE), body)


def test_read_without_the_config_map_is_stock(api: ApiServer) -> None:
    assert flags.read(api.storage) == flags.STOCK


def test_read_a_config_map_without_data_is_stock(api: ApiServer) -> None:
    write_config_map(api, {"metadata": {"name": flags.CONFIG_MAP}})
    assert flags.read(api.storage) == flags.STOCK


def test_only_knative_eventings_config_features_counts(api: ApiServer) -> None:
    api.create(Target(NAMESPACES, "v1"), {"metadata": {"name": "default"}})
    api.create(Target(CONFIGMAPS, "v1", "default"), cm(flags.CONFIG_MAP, LINKS, "enabled"))
    write_config_map(api, cm("config-other", LINKS, "enabled"))
    assert not flags.read(api.storage).is_enabled(LINKS)


def test_a_stored_source_sees_each_change(api: ApiServer) -> None:
    source = flags.stored(api.storage)
    assert not source().is_enabled(LINKS)
    write_config_map(api, cm(flags.CONFIG_MAP, LINKS, "enabled"))
    assert source().is_enabled(LINKS)
    target = Target(CONFIGMAPS, "v1", flags.SYSTEM_NAMESPACE, flags.CONFIG_MAP)
    api.patch(target, "application/merge-patch+json", {"data": {LINKS: "disabled"}})
    assert not source().is_enabled(LINKS)
    api.delete(target)
    assert source() == flags.STOCK


def cm(name: str, key: str, value: str) -> dict[str, Any]:
    return {"metadata": {"name": name}, "data": {key: value}}
