"""The ``EventTypeFilter`` of the API as a pure predicate over EventTypes."""

from __future__ import annotations

from dataclasses import dataclass

from . import models, readiness


@dataclass(frozen=True)
class EventTypeFilter:
    broker: str | None = None
    type: str | None = None
    type_prefix: str | None = None
    source: str | None = None
    ready: bool | None = None
    consumable: bool | None = None
    search: str | None = None

    @property
    def is_empty(self) -> bool:
        return all(value is None for value in vars(self).values())


def matches(
    event_type: models.EventType, broker: models.Broker | None, selection: EventTypeFilter
) -> bool:
    """Whether the EventType passes every set criterion (``broker`` is its resolved Broker)."""
    consumable = (
        readiness.consumable(event_type, broker) if selection.consumable is not None else False
    )
    return matches_state(event_type, consumable, selection)


def matches_state(
    event_type: models.EventType, consumable: bool, selection: EventTypeFilter
) -> bool:
    """:func:`matches` with ``consumable`` already known (as recorded in a change)."""
    if selection.broker is not None and event_type.broker != selection.broker:
        return False
    if selection.type is not None and event_type.type != selection.type:
        return False
    if selection.type_prefix is not None and not event_type.type.startswith(selection.type_prefix):
        return False
    if selection.source is not None and event_type.source != selection.source:
        return False
    if (
        selection.ready is not None
        and (readiness.ready(event_type.status) is True) != selection.ready
    ):
        return False
    if selection.consumable is not None and consumable != selection.consumable:
        return False
    if selection.search:
        needle = selection.search.casefold()
        haystack = " ".join(
            part for part in (event_type.type, event_type.source, event_type.description) if part
        ).casefold()
        if needle not in haystack:
            return False
    return True
