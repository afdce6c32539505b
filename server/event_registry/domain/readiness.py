"""Readiness as consumers need it.

``ready`` is an object's own ``Ready`` condition (None while it has none). ``consumable``
is the seed's intent, which current Knative no longer reflects in EventType status: the
EventType is Ready AND the Broker carrying it exists and is Ready.
"""

from __future__ import annotations

from . import models


def ready(status: models.Status) -> bool | None:
    condition = status.condition("Ready")
    if condition is None or condition.status == "Unknown":
        return None
    return condition.status == "True"


def reason(status: models.Status) -> str | None:
    condition = status.condition("Ready")
    return condition.reason or None if condition else None


def message(status: models.Status) -> str | None:
    condition = status.condition("Ready")
    return condition.message or None if condition else None


def consumable(event_type: models.EventType, broker: models.Broker | None) -> bool:
    return (
        ready(event_type.status) is True
        and broker is not None
        and broker.meta.name == event_type.broker
        and ready(broker.status) is True
    )
