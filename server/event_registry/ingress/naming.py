"""Names and marks of auto-created EventTypes, as knative/eventing's ``pkg/eventtype`` makes them.

Knative names an auto-created EventType ``et-<broker>-<md5 hex of type+source+namespace+broker>``
and makes that a DNS-1123 subdomain only when it is not one already (lower-cased, characters
outside ``[-.a-z0-9]`` dropped, cut to 243 characters, ``-``/``.`` trimmed at both ends). The
name is deterministic: the same (Broker, type, source) always yields the same EventType, so a
second create is an AlreadyExists, never a duplicate. Pure functions, no I/O.
"""

from __future__ import annotations

import hashlib
import re

from ..domain import models
from ..knative import vocabulary

_SUBDOMAIN_MAX = 253
_GENERATE_NAME_SAFETY = 10
_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_SUBDOMAIN = re.compile(rf"{_LABEL}(\.{_LABEL})*")
_INVALID = re.compile(r"[^-.a-z0-9]+")


def dns1123_subdomain(name: str) -> str:
    """``name`` when it is a valid DNS-1123 subdomain, else Knative's repair of it."""
    if len(name) <= _SUBDOMAIN_MAX and _SUBDOMAIN.fullmatch(name):
        return name
    if len(name) > _SUBDOMAIN_MAX:
        name = name[: _SUBDOMAIN_MAX - _GENERATE_NAME_SAFETY]
    return _INVALID.sub("", name.lower()).strip("-.")


def event_type_name(broker: str, namespace: str, type_: str, source: str) -> str:
    """The name Knative gives the EventType auto-created for ``type_`` from ``source``."""
    digest = hashlib.md5((type_ + source + namespace + broker).encode(), usedforsecurity=False)
    return dns1123_subdomain(f"{vocabulary.AUTO_CREATED_NAME_PREFIX}{broker}-{digest.hexdigest()}")


def is_auto_created(event_type: models.EventType) -> bool:
    """True for an EventType a Broker's ingress auto-created: Knative's description and a
    reference to a Broker. (Knative's ownerReference to the Broker is no ``controller`` one,
    so the domain model does not keep it.)"""
    reference = event_type.reference
    return (
        event_type.description == vocabulary.AUTO_CREATED_DESCRIPTION
        and reference is not None
        and reference.kind == vocabulary.BROKER.kind
        and reference.group == vocabulary.EVENTING_GROUP
    )
