"""Whether ``eventtype-auto-create`` is on: ``knative-eventing/config-features``, read through
the API every ``interval`` seconds, as an API client must (never from storage).

Parsing as Knative's ``feature.NewFlagsConfigFromMap``: keys are trimmed, the value is
compared case-insensitively, and only ``Enabled`` is on. No namespace, no ConfigMap or no key:
off (Knative's default). While the API cannot be read the last value read stays in force.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from ..cluster import errors
from ..cluster.client import ClusterClient
from ..knative import vocabulary

log = logging.getLogger(__name__)

CONFIG_MAP_PATH = (
    f"/api/{vocabulary.CONFIG_MAP.version}/namespaces/{vocabulary.SYSTEM_NAMESPACE}"
    f"/{vocabulary.CONFIG_MAP.plural}/{vocabulary.FEATURES_CONFIG_MAP}"
)


def flag_enabled(data: Mapping[str, Any], flag: str) -> bool:
    """True when ``data`` (a ConfigMap's ``data``) turns ``flag`` on."""
    enabled = False
    for key, value in data.items():
        if isinstance(key, str) and isinstance(value, str) and key.strip() == flag:
            enabled = value.casefold() == "enabled"
    return enabled


def auto_create_enabled(config_map: Mapping[str, Any] | None) -> bool:
    data = (config_map or {}).get("data")
    return isinstance(data, Mapping) and flag_enabled(data, vocabulary.EVENTTYPE_AUTO_CREATE)


class AutoCreateFlag:
    """``enabled`` follows the ConfigMap while :meth:`run` runs."""

    def __init__(self, client: ClusterClient, *, interval: float = 1.0) -> None:
        self._client = client
        self._interval = interval
        self.enabled = False

    async def refresh(self) -> None:
        try:
            config_map = await self._client.request("GET", CONFIG_MAP_PATH)
        except errors.NotFound:
            config_map = None
        except errors.ClusterError as error:
            log.warning("reading %s failed: %s", vocabulary.FEATURES_CONFIG_MAP, error)
            return
        enabled = auto_create_enabled(config_map)
        if enabled != self.enabled:
            log.info("%s: %s", vocabulary.EVENTTYPE_AUTO_CREATE, "on" if enabled else "off")
        self.enabled = enabled

    async def run(self) -> None:
        while True:
            try:
                await self.refresh()
            except Exception:  # a bug: keep the last value and read again next time
                log.exception("reading %s failed", vocabulary.FEATURES_CONFIG_MAP)
            await asyncio.sleep(self._interval)
