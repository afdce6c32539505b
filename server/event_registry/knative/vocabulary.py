"""Knative Eventing's names, each written once.

Values are Knative's, as its CRDs and controllers spell them (``shared/knative-crds`` and
knative/eventing); names prefixed ``REGISTRY_`` are this project's own (annotations the
registry writes, never Knative's). Nothing here does I/O or imports the rest of the registry.
"""

from __future__ import annotations

from dataclasses import dataclass

# API groups ------------------------------------------------------------------------------------

EVENTING_GROUP = "eventing.knative.dev"
SOURCES_GROUP = "sources.knative.dev"
APIEXTENSIONS_GROUP = "apiextensions.k8s.io"


@dataclass(frozen=True)
class KindName:
    """One kind as the API serves it: group, kind, plural and its served versions, the
    preferred one first (the storage version, which the registry reads and writes)."""

    group: str
    kind: str
    plural: str
    versions: tuple[str, ...]
    namespaced: bool = True

    @property
    def version(self) -> str:
        """The preferred (storage) version."""
        return self.versions[0]

    @property
    def api_version(self) -> str:
        """``group/version`` of the preferred version (``v1`` for the core group)."""
        return self.api_version_of(self.version)

    def api_version_of(self, version: str) -> str:
        return f"{self.group}/{version}" if self.group else version

    @property
    def api_versions(self) -> tuple[str, ...]:
        return tuple(self.api_version_of(version) for version in self.versions)

    @property
    def resource(self) -> str:
        """``plural.group``: the name kubectl prints and CRDs are named by."""
        return f"{self.plural}.{self.group}" if self.group else self.plural


# Kinds -------------------------------------------------------------------------------------------

NAMESPACE = KindName("", "Namespace", "namespaces", ("v1",), namespaced=False)
CONFIG_MAP = KindName("", "ConfigMap", "configmaps", ("v1",))
CUSTOM_RESOURCE_DEFINITION = KindName(
    APIEXTENSIONS_GROUP, "CustomResourceDefinition", "customresourcedefinitions", ("v1",), False
)
EVENT_TYPE = KindName(EVENTING_GROUP, "EventType", "eventtypes", ("v1beta2", "v1beta3", "v1beta1"))
"""EventTypes: v1beta2 is the storage version; v1beta3 is served; v1beta1 is deprecated."""
BROKER = KindName(EVENTING_GROUP, "Broker", "brokers", ("v1",))
TRIGGER = KindName(EVENTING_GROUP, "Trigger", "triggers", ("v1",))
PING_SOURCE = KindName(SOURCES_GROUP, "PingSource", "pingsources", ("v1", "v1beta2"))
API_SERVER_SOURCE = KindName(SOURCES_GROUP, "ApiServerSource", "apiserversources", ("v1",))
GITHUB_SOURCE = KindName(SOURCES_GROUP, "GitHubSource", "githubsources", ("v1alpha1",))

KNATIVE_KINDS: tuple[KindName, ...] = (EVENT_TYPE, BROKER, TRIGGER)
SOURCE_KINDS: tuple[KindName, ...] = (PING_SOURCE, API_SERVER_SOURCE, GITHUB_SOURCE)

# Annotations and labels --------------------------------------------------------------------------

BROKER_CLASS_ANNOTATION = "eventing.knative.dev/broker.class"
DEFAULT_BROKER_CLASS = "MTChannelBasedBroker"
BROKER_LABEL = "eventing.knative.dev/broker"
"""On Triggers: the name of their Broker (set by Knative's webhook)."""
INJECTION_ANNOTATION = "eventing.knative.dev/injection"
DEPENDENCY_ANNOTATION = "knative.dev/dependency"
SOURCE_DUCK_LABEL = "duck.knative.dev/source"
"""On CRDs: ``"true"`` marks a source kind (duck-typed: ``spec.sink``, ``status.ceAttributes``)."""
EVENT_TYPES_ANNOTATION = "registry.knative.dev/eventTypes"
"""On source CRDs: JSON list of ``{type, schema, description}`` the source emits."""
SOURCE_NAME_LABEL = "eventing.knative.dev/sourceName"
"""On EventTypes a source's reconciler registered: the source's name (its controller
ownerReference carries the uid; knative/eventing pkg/reconciler/source/duck)."""

# Auto-created EventTypes (knative/eventing pkg/eventtype: EventTypeAutoHandler) ----------------

AUTO_CREATED_DESCRIPTION = "Event Type auto-created by controller"
"""``spec.description`` of an EventType Knative's ingress created from an event it saw. Knative
sets no label or annotation: this description, ``spec.reference`` and a plain (not
``controller``) ownerReference to the Broker (or Channel), and the name
``et-<owner>-<md5(type+source+namespace+owner)>`` are its only marks."""
AUTO_CREATED_NAME_PREFIX = "et-"

VALIDATION_WEBHOOK = "validation.webhook.eventing.knative.dev"
"""The name Knative's admission webhook refuses writes under."""

# The registry's own annotations (never Knative's) ----------------------------------------------

REGISTRY_ATTRIBUTES_ANNOTATION = "registry.knative.dev/v1beta3-attributes"
REGISTRY_BROKER_ANNOTATION = "registry.knative.dev/v1beta2-broker"
REGISTRY_FIELDS_ANNOTATION = "registry.knative.dev/v1beta2-fields"
REGISTRY_DEFINITIONS_HASH_ANNOTATION = "registry.knative.dev/definitions-hash"
REGISTRY_SPEC_HASH_ANNOTATION = "registry.knative.dev/spec-hash"

# Features (the config-features ConfigMap of knative-eventing) ------------------------------------

SYSTEM_NAMESPACE = "knative-eventing"
FEATURES_CONFIG_MAP = "config-features"
CROSS_NAMESPACE_EVENT_LINKS = "cross-namespace-event-links"
EVENTTYPE_AUTO_CREATE = "eventtype-auto-create"
DELIVERY_RETRY_AFTER = "delivery-retryafter"
DELIVERY_TIMEOUT = "delivery-timeout"
AUTHENTICATION_OIDC = "authentication-oidc"
