"""Relay connection of EventTypes: stable cursors (namespace/name), ``first``/``after``."""

from __future__ import annotations

import strawberry

from ..domain import models
from . import ids
from .cost import COST, PAGE
from .types import EventType

MAX_PAGE = 10_000


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class EventTypeEdge:
    cursor: str
    node: EventType


@strawberry.type(description="A page of EventTypes, ordered by namespace then name.")
class EventTypeConnection:
    window: strawberry.Private[list[models.EventType]]
    page_info: PageInfo
    total_count: int = strawberry.field(description="Matching EventTypes across all pages.")

    @strawberry.field(metadata={COST: PAGE})
    def edges(self) -> list[EventTypeEdge]:
        return [EventTypeEdge(cursor=_cursor(et), node=EventType(model=et)) for et in self.window]

    @strawberry.field(
        description="The page's EventTypes (same as edges' nodes).", metadata={COST: PAGE}
    )
    def nodes(self) -> list[EventType]:
        return [EventType(model=et) for et in self.window]


def _cursor(event_type: models.EventType) -> str:
    return ids.encode_cursor(event_type.meta.namespace, event_type.meta.name)


class InvalidPage(ValueError):
    """``first``/``after`` out of range or malformed; shown to the client as is."""


def page(
    matching: list[models.EventType], *, first: int | None, after: str | None
) -> EventTypeConnection:
    """``matching`` must be sorted by (namespace, name)."""
    if first is not None and not 0 <= first <= MAX_PAGE:
        raise InvalidPage(f"first must be between 0 and {MAX_PAGE}")
    start = 0
    if after is not None:
        key = ids.decode_cursor(after)
        if key is None:
            raise InvalidPage("after is not a cursor returned by this API")
        start = _bisect_after(matching, key)
    end = len(matching) if first is None else min(len(matching), start + first)
    window = matching[start:end]
    return EventTypeConnection(
        window=window,
        page_info=PageInfo(
            has_next_page=end < len(matching),
            has_previous_page=start > 0,
            start_cursor=_cursor(window[0]) if window else None,
            end_cursor=_cursor(window[-1]) if window else None,
        ),
        total_count=len(matching),
    )


def _bisect_after(items: list[models.EventType], key: tuple[str, str]) -> int:
    low, high = 0, len(items)
    while low < high:
        middle = (low + high) // 2
        meta = items[middle].meta
        if (meta.namespace, meta.name) <= key:
            low = middle + 1
        else:
            high = middle
    return low
