"""Knative Eventing's feature flags: the ``config-features`` ConfigMap, as the webhook reads it.

Knative's webhook takes its flags from the ConfigMap ``config-features`` in the system namespace
``knative-eventing``. The embedded control plane is that cluster, so admission reads the same
ConfigMap from its own storage, at admission time: a flag changed with kubectl applies to the
next write, with no restart and no cache to go stale. The namespace is created at start (see
:mod:`.installing`); without the ConfigMap every flag has Knative's stock default.

Parsing follows ``feature.NewFlagsConfigFromMap``: keys starting with ``_`` (the ``_example``
block) are ignored, keys are trimmed, ``enabled``/``disabled``/``allowed`` are recognised in any
case, and a flag is on only when its value is ``Enabled`` (``Allowed`` is not on). Anything else
is kept verbatim and counts as off.

Reading never raises: a ConfigMap whose ``data`` is not a map of strings contributes only its
string entries.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ...knative.vocabulary import (
    CROSS_NAMESPACE_EVENT_LINKS,
    DELIVERY_RETRY_AFTER,
    DELIVERY_TIMEOUT,
    SYSTEM_NAMESPACE,
)
from ...knative.vocabulary import FEATURES_CONFIG_MAP as CONFIG_MAP
from ..api.resources import CONFIGMAPS
from ..storage.sqlite import Storage

__all__ = [
    "CONFIG_MAP",
    "CROSS_NAMESPACE_EVENT_LINKS",
    "DELIVERY_RETRY_AFTER",
    "DELIVERY_TIMEOUT",
    "STOCK",
    "SYSTEM_NAMESPACE",
    "Features",
    "FeaturesSource",
    "parse",
    "read",
    "stock",
    "stored",
]

ENABLED, DISABLED, ALLOWED = "Enabled", "Disabled", "Allowed"
_KNOWN_VALUES = {value.casefold(): value for value in (ENABLED, DISABLED, ALLOWED)}
_DEFAULTS = {DELIVERY_TIMEOUT: ENABLED, DELIVERY_RETRY_AFTER: DISABLED}
"""Knative's stock values of the flags this control plane's admission knows about; the
cross-namespace flag has no default entry (absent means off)."""


@dataclass(frozen=True)
class Features:
    """The flags in force: flag name → value (``Enabled``, ``Disabled``, ``Allowed``, ...)."""

    flags: Mapping[str, str] = field(default_factory=lambda: MappingProxyType(dict(_DEFAULTS)))

    def is_enabled(self, name: str) -> bool:
        return self.flags.get(name) == ENABLED


STOCK = Features()
"""Knative's defaults, as when ``config-features`` is absent."""

FeaturesSource = Callable[[], Features]
"""Returns the flags in force now; admission calls it once per admitted write."""


def parse(data: Mapping[str, Any]) -> Features:
    """The flags of a ``config-features`` ``data`` map, over Knative's defaults."""
    flags = dict(_DEFAULTS)
    for key, value in data.items():
        if not isinstance(key, str) or not isinstance(value, str) or key.startswith("_"):
            continue
        flags[key.strip()] = _KNOWN_VALUES.get(value.casefold(), value)
    return Features(MappingProxyType(flags))


def read(storage: Storage) -> Features:
    """The flags stored in ``knative-eventing/config-features`` (the defaults without it)."""
    config_map = storage.get(CONFIGMAPS.key, SYSTEM_NAMESPACE, CONFIG_MAP)
    data = config_map.get("data") if config_map is not None else None
    return parse(data) if isinstance(data, Mapping) else STOCK


def stored(storage: Storage) -> FeaturesSource:
    """A source reading ``storage`` on every call (a dictionary lookup: no caching needed)."""
    return lambda: read(storage)


def stock() -> Features:
    """The source of an admission with no cluster behind it: always Knative's defaults."""
    return STOCK
