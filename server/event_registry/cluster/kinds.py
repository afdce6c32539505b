"""The Kubernetes resources the registry watches and writes, by domain kind."""

from __future__ import annotations

from dataclasses import dataclass

from ..store.caching import Kind


@dataclass(frozen=True)
class ResourceRef:
    kind: Kind
    group: str
    version: str
    plural: str
    namespaced: bool = True

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def collection_path(self) -> str:
        root = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        return f"{root}/{self.plural}"

    def path(self, namespace: str = "", name: str = "", subresource: str = "") -> str:
        root = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        parts = [root]
        if self.namespaced and namespace:
            parts.append(f"namespaces/{namespace}")
        parts.append(self.plural)
        if name:
            parts.append(name)
        if subresource:
            parts.append(subresource)
        return "/".join(parts)


NAMESPACES = ResourceRef("Namespace", "", "v1", "namespaces", namespaced=False)
BROKERS = ResourceRef("Broker", "eventing.knative.dev", "v1", "brokers")
TRIGGERS = ResourceRef("Trigger", "eventing.knative.dev", "v1", "triggers")
EVENT_TYPE_VERSIONS = ("v1beta2", "v1beta3", "v1beta1")
"""EventType versions in the order the registry prefers to watch them (storage first)."""


def event_types(version: str = "v1beta2") -> ResourceRef:
    return ResourceRef("EventType", "eventing.knative.dev", version, "eventtypes")
