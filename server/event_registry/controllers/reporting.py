"""What the controllers report as Kubernetes Events, and when: pure verdicts and transitions.

A user running ``kubectl describe eventtype`` wants to read whether the type can be consumed
and why not. An EventType's :func:`event_type_verdict` says so in one line, the way the
registry's ``consumable`` sees it (the EventType Ready *and* its Broker existing and Ready):

==========================  =======  ===================================================
reason                      type     when
==========================  =======  ===================================================
``Ready``                   Normal   Ready, and so is its Broker (when it has one)
``BrokerDoesNotExist``      Warning  it names a Broker of its namespace that does not exist
``BrokerNotReady``          Warning  its Broker exists and is not Ready (the Broker's reason)
its own Ready reason        Warning  its own Ready condition is not True (``NotReady``
                                     when the condition gives no reason)
==========================  =======  ===================================================

A Broker's or Trigger's :func:`own_verdict`: ``Ready`` (Normal) or its Ready condition's
reason (Warning: ``IngressNotReady``, ``BrokerDoesNotExist``, ...). Nothing is said of an
object without a Ready condition (its status is not written yet). :class:`Transitions`
remembers the last verdict per object, so an Event is recorded only when a verdict changes,
never for a resync or a write that changes nothing else; objects seen while the controller
lists them at start are remembered silently (their state is not news).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Literal

from ..domain import models

READY = "Ready"
BROKER_DOES_NOT_EXIST = "BrokerDoesNotExist"
BROKER_NOT_READY = "BrokerNotReady"
NOT_READY = "NotReady"


@dataclass(frozen=True)
class Verdict:
    type: Literal["Normal", "Warning"]
    reason: str
    message: str


def _not_ready(status: models.Status) -> tuple[str, str] | None:
    """(reason, message) of a Ready condition that is not True; None when it is True."""
    condition = status.condition(READY)
    if condition is None or condition.status == "True":
        return None
    return condition.reason or NOT_READY, condition.message


def _sentence(*parts: str) -> str:
    return ": ".join(part for part in parts if part)


def event_type_verdict(
    event_type: models.EventType, broker: models.Broker | None
) -> Verdict | None:
    """What to say of an EventType whose Broker (if it names one) is ``broker``."""
    if event_type.status.condition(READY) is None or event_type.meta.deleting:
        return None
    broker_name = event_type.broker
    if broker_name is not None and broker is None:
        return Verdict("Warning", BROKER_DOES_NOT_EXIST, f'Broker "{broker_name}" does not exist')
    own = _not_ready(event_type.status)
    if own is not None:
        return Verdict("Warning", own[0], _sentence("EventType is not ready", own[1]))
    if broker is not None:
        if broker.status.condition(READY) is None:
            return None  # the Broker's status is not written yet
        broker_not_ready = _not_ready(broker.status)
        if broker_not_ready is not None:
            reason, message = broker_not_ready
            return Verdict(
                "Warning",
                BROKER_NOT_READY,
                _sentence(f'Broker "{broker.meta.name}" is not ready', reason, message),
            )
        return Verdict(
            "Normal", READY, f'EventType is ready, and so is Broker "{broker.meta.name}"'
        )
    return Verdict("Normal", READY, "EventType is ready")


def own_verdict(kind: str, obj: models.Broker | models.Trigger) -> Verdict | None:
    """What to say of a Broker or Trigger: its own Ready condition."""
    if obj.status.condition(READY) is None or obj.meta.deleting:
        return None
    not_ready = _not_ready(obj.status)
    if not_ready is None:
        return Verdict("Normal", READY, f"{kind} is ready")
    return Verdict("Warning", not_ready[0], _sentence(f"{kind} is not ready", not_ready[1]))


class Transitions:
    """The last verdict per object; :meth:`changed` tells whether a new one is news."""

    def __init__(self) -> None:
        self._last: dict[Hashable, Verdict] = {}

    def changed(self, key: Hashable, verdict: Verdict | None, *, quietly: bool = False) -> bool:
        """Record ``verdict`` for ``key``; True when it differs from the last one and is not
        ``quietly`` recorded (no verdict is never news, and keeps the last one)."""
        if verdict is None:
            return False
        previous = self._last.get(key)
        self._last[key] = verdict
        return not quietly and previous != verdict

    def forget(self, key: Hashable) -> None:
        self._last.pop(key, None)

    def __len__(self) -> int:
        return len(self._last)
