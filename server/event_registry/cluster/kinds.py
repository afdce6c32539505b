"""The Kubernetes resources the registry watches and writes, as the client addresses them.

A :class:`ResourceRef` is one kind at one version: enough to build every request path. The
registry's own are built from :mod:`event_registry.knative.vocabulary` (:meth:`ResourceRef.of`);
the REST mapper makes them for any kind the cluster serves, so ``kind`` is any kind name.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..knative.vocabulary import BROKER, EVENT_TYPE, NAMESPACE, TRIGGER, KindName


@dataclass(frozen=True)
class ResourceRef:
    kind: str
    group: str
    version: str
    plural: str
    namespaced: bool = True

    @classmethod
    def of(cls, name: KindName, version: str = "") -> ResourceRef:
        """``name`` at ``version`` (its preferred version by default)."""
        return cls(name.kind, name.group, version or name.version, name.plural, name.namespaced)

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


NAMESPACES = ResourceRef.of(NAMESPACE)
BROKERS = ResourceRef.of(BROKER)
TRIGGERS = ResourceRef.of(TRIGGER)
EVENTS = ResourceRef("Event", "", "v1", "events")
"""Core Events: what the controllers report about objects (:mod:`.recording`)."""
EVENT_TYPE_VERSIONS = EVENT_TYPE.versions
"""EventType versions in the order the registry prefers to watch them (storage first)."""


def event_types(version: str = EVENT_TYPE.version) -> ResourceRef:
    return ResourceRef.of(EVENT_TYPE, version)


# Access control: the reviews a delegating server asks for, and the RBAC objects it watches
# to know when the answers may have changed.
TOKEN_REVIEWS = ResourceRef("TokenReview", "authentication.k8s.io", "v1", "tokenreviews", False)
SUBJECT_ACCESS_REVIEWS = ResourceRef(
    "SubjectAccessReview", "authorization.k8s.io", "v1", "subjectaccessreviews", False
)
RBAC_GROUP = "rbac.authorization.k8s.io"
RBAC_KINDS = (
    ResourceRef("Role", RBAC_GROUP, "v1", "roles"),
    ResourceRef("RoleBinding", RBAC_GROUP, "v1", "rolebindings"),
    ResourceRef("ClusterRole", RBAC_GROUP, "v1", "clusterroles", False),
    ResourceRef("ClusterRoleBinding", RBAC_GROUP, "v1", "clusterrolebindings", False),
)
"""Whatever changes among these may change an access decision."""
