"""Knative Eventing semantics of the embedded control plane."""

# --- enable(): Knative admission, EventType conversion and built-in CRDs -------------------
# enable(api) makes an ApiServer behave like a cluster with Knative Eventing installed: it
# registers the EventType converter (v1beta1/v1beta2/v1beta3), the admission plugins of
# .admitting (Knative's webhook defaults and validation, reading Knative's feature flags and
# Broker defaults from the api's own storage through .features and .broker_defaults, refusing
# in the webhook's words through .denying), installs the CRDs of .definitions by the rule
# documented in .installing, creates the knative-eventing namespace (.installing) and
# Knative's namespaced ClusterRoles (.roles). It is synchronous
# and idempotent; call it once the namespaces exist (ControlPlane.start, after
# _ensure_namespaces).

from ...knative.eventtype_versions import convert_eventtype as _convert_eventtype
from ...knative.vocabulary import EVENT_TYPE as _EVENT_TYPE
from ..api.apiserver import ApiServer as _ApiServer
from . import admitting as _admitting
from . import broker_defaults as _broker_defaults
from . import features as _features
from . import installing as _installing
from . import roles as _roles


def enable(api: _ApiServer) -> None:
    """Give ``api`` Knative Eventing semantics: conversion, admission and built-in CRDs."""
    api.conversion.register(_EVENT_TYPE.group, _EVENT_TYPE.kind, _convert_eventtype)
    _admitting.register(
        api.admission,
        features=_features.stored(api.storage),
        broker_class_defaults=_broker_defaults.stored(api.storage),
    )
    _installing.install_builtin_crds(api)
    _installing.install_system_namespace(api)
    _roles.install(api)
