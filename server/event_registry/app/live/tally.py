"""What the live (WebSocket) side of one app is doing, counted for ``/metrics``.

Counting is plain attribute arithmetic on the paths that already run (a connection opening
or closing, a subscription starting, a slow client being cut off); nothing here runs per
frame. Derived figures (subscribers, outbox depth) are read from the open connections when
someone asks, at scrape time, so fan-out to many subscribers pays nothing for them.
"""

from __future__ import annotations

from collections import Counter
from typing import Literal, Protocol

from graphql import OperationType

OperationLabel = Literal["query", "mutation", "subscription", "other"]
"""The ``operation`` label of request metrics: ``other`` for what is not one operation
(unparsable documents, GraphiQL pages, requests refused before parsing)."""


def operation_label(type_: OperationType | None) -> OperationLabel:
    if type_ is None:
        return "other"
    return type_.value


class Counted(Protocol):
    """What the tally reads from an open connection."""

    @property
    def subscriber_count(self) -> int: ...

    @property
    def pending_frames(self) -> int: ...


class LiveTally:
    def __init__(self) -> None:
        self.open: set[Counted] = set()
        """The connections accepted and not yet closed."""
        self.connections_total = 0
        self.too_slow_closes = 0
        """Connections closed with 4503 (more than the outbox limit behind)."""
        self.operations: Counter[str] = Counter()
        """Operations started over WebSockets, by type (query, mutation, subscription, other)."""

    def subscribers(self) -> int:
        return sum(connection.subscriber_count for connection in list(self.open))

    def outbox_depths(self) -> list[int]:
        """Frames pending per open connection."""
        return [connection.pending_frames for connection in list(self.open)]
