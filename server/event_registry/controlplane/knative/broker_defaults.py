"""Knative's Broker defaults: the ``config-br-defaults`` ConfigMap, as the webhook reads it.

Knative's webhook defaults a Broker from the ``default-br-config`` key (YAML) of
``knative-eventing/config-br-defaults``::

    clusterDefault:
      brokerClass: MTChannelBasedBroker
      apiVersion: v1
      kind: ConfigMap
      name: config-br-default-channel
      namespace: knative-eventing
      delivery: {retry: 10, backoffPolicy: exponential, backoffDelay: PT0.2S}
    namespaceDefaults:
      some-namespace: {brokerClass: ..., apiVersion: ..., ..., delivery: ...}

As ``Broker.SetDefaults`` does: the class annotation, when absent, becomes the namespace
default's ``brokerClass``, else the cluster default's, else ``MTChannelBasedBroker``; then the
config for the Broker's namespace and class is the namespace default's (its
``brokerClasses[class]`` entry first), else the cluster default's (likewise); a Broker without
``spec.config`` gets that config's reference (when it names anything), and one without
``spec.delivery`` gets its delivery. Defaulting fills only absent fields.

Like :mod:`.features`, the ConfigMap is read from the control plane's own storage at admission
time, so an edit applies to the next write. Without the ConfigMap (or with an empty or unreadable
``default-br-config``) the defaults are Knative's built-in ones (``FromContextOrDefaults``): only
the class annotation is defaulted, to ``MTChannelBasedBroker``.

Reading never raises: entries of the wrong shape are ignored.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from ...knative.vocabulary import DEFAULT_BROKER_CLASS, SYSTEM_NAMESPACE
from ..api.resources import CONFIGMAPS
from ..machinery import yaml_text
from ..storage.sqlite import Storage

__all__ = [
    "BUILT_IN",
    "CONFIG_KEY",
    "CONFIG_MAP",
    "BrokerDefaults",
    "BrokerDefaultsSource",
    "built_in",
    "parse",
    "read",
    "stored",
]

CONFIG_MAP = "config-br-defaults"
CONFIG_KEY = "default-br-config"
_REFERENCE_FIELDS = ("apiVersion", "kind", "name", "namespace")


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class BrokerDefaults:
    """The parsed ``default-br-config``: the cluster default and the per-namespace ones."""

    cluster: Mapping[str, Any] = field(default_factory=dict)
    namespaces: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def broker_class(self, namespace: str) -> str:
        for scope in (self.namespaces.get(namespace), self.cluster):
            value = _mapping(scope).get("brokerClass")
            if isinstance(value, str) and value:
                return value
        return DEFAULT_BROKER_CLASS

    def config(self, namespace: str, broker_class: str) -> Mapping[str, Any] | None:
        """The broker config for ``namespace`` and ``broker_class`` (None: no default)."""
        for scope in (self.namespaces.get(namespace), self.cluster):
            if not isinstance(scope, Mapping) or not scope:
                continue
            by_class = _mapping(scope.get("brokerClasses")).get(broker_class)
            return by_class if isinstance(by_class, dict) else scope
        return None

    def apply(self, broker: dict[str, Any], namespace: str, broker_class: str) -> None:
        """Fill an absent ``spec.config`` and ``spec.delivery`` of ``broker``."""
        config = self.config(namespace, broker_class)
        if config is None:
            return
        spec = broker.get("spec")
        if not isinstance(spec, dict):
            spec = broker["spec"] = {}
        reference = {key: config[key] for key in _REFERENCE_FIELDS if config.get(key)}
        if spec.get("config") is None and reference:
            spec["config"] = reference
        delivery = config.get("delivery")
        if spec.get("delivery") is None and isinstance(delivery, dict):
            spec["delivery"] = copy.deepcopy(delivery)


BUILT_IN = BrokerDefaults()
"""Knative's built-in defaults, as when ``config-br-defaults`` is absent."""

BrokerDefaultsSource = Callable[[], BrokerDefaults]
"""Returns the defaults in force now; admission calls it once per admitted Broker write."""


def parse(data: Mapping[str, Any]) -> BrokerDefaults:
    """The defaults of a ``config-br-defaults`` ``data`` map (built-in ones when unreadable)."""
    text = data.get(CONFIG_KEY)
    if not isinstance(text, str) or not text.strip():
        return BUILT_IN
    try:
        parsed = yaml_text.load(text)
    except yaml.YAMLError:
        return BUILT_IN
    document = _mapping(parsed)
    namespaces = {
        name: value
        for name, value in _mapping(document.get("namespaceDefaults")).items()
        if isinstance(name, str) and isinstance(value, dict)
    }
    return BrokerDefaults(_mapping(document.get("clusterDefault")), namespaces)


def read(storage: Storage) -> BrokerDefaults:
    """The defaults stored in ``knative-eventing/config-br-defaults`` (built-in without it)."""
    config_map = storage.get(CONFIGMAPS.key, SYSTEM_NAMESPACE, CONFIG_MAP)
    data = config_map.get("data") if config_map is not None else None
    return parse(data) if isinstance(data, Mapping) else BUILT_IN


def stored(storage: Storage) -> BrokerDefaultsSource:
    """A source reading ``storage`` on every call."""
    return lambda: read(storage)


def built_in() -> BrokerDefaults:
    """The source of an admission with no cluster behind it."""
    return BUILT_IN
