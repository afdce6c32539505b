"""``kreg watch eventtypes``: a live view of EventTypes that survives dropped connections.

It follows ``eventTypeChanges`` with ``includeExisting`` through the client's resuming
iterator, so nothing is lost or seen twice across reconnects, and after a
``RESYNC_REQUIRED`` (e.g. the server restarted) the view is rebuilt from the re-queried set:
the old rows stay on screen until the new set is complete, then it replaces them.

Two renderings of the same stream:

- ``table`` (the default on a terminal): a rich ``Live`` table updated in place, kubectl's
  columns, with the connection's state under it;
- ``events`` (the default when stdout is not a terminal, so it can be piped and tested):
  one line per event, flushed at once::

      EXISTING default/order-created ready=True consumable=True reason=
      INITIAL_SET_COMPLETE
      UPDATED default/order-created ready=True consumable=False reason=BrokerNotReady
      RECONNECTING attempt=1 delay=0.4s closed 1012
      RESYNC_REQUIRED the cursor is older than the retained history: query again
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TextIO

from ..changes import ChangeKind, EventTypeChange, Reconnecting, ResyncRequired
from ..models import EventType
from .output import EVENT_TYPE_COLUMNS, ready_text

Event = EventTypeChange | ResyncRequired | Reconnecting


def event_line(event: Event) -> str:
    """The ``events`` rendering of one event."""
    if isinstance(event, Reconnecting):
        return f"RECONNECTING attempt={event.attempt} delay={event.delay:.1f}s {event.reason}"
    if isinstance(event, ResyncRequired):
        return f"RESYNC_REQUIRED {event.message}"
    if event.event_type is None:
        return str(event.kind)
    et = event.event_type
    return (
        f"{event.kind} {et.key} ready={ready_text(et.ready)} "
        f"consumable={et.consumable} reason={et.reason or ''}"
    )


@dataclass
class View:
    """The EventTypes shown, applying events in order (pure; tested without a server)."""

    rows: dict[str, EventType] = field(default_factory=dict)
    incoming: dict[str, EventType] | None = None
    """The set being re-queried after a resync (None: no resync under way)."""
    status: str = "connecting"

    def apply(self, event: Event) -> None:
        if isinstance(event, Reconnecting):
            self.status = f"reconnecting (attempt {event.attempt}): {event.reason}"
            return
        if isinstance(event, ResyncRequired):
            self.incoming = {}
            self.status = f"resyncing: {event.message}"
            return
        self.status = "live"
        et = event.event_type
        if event.kind is ChangeKind.INITIAL_SET_COMPLETE:
            if self.incoming is not None:
                self.rows, self.incoming = self.incoming, None
            return
        if et is None:
            return
        target = (
            self.incoming
            if event.kind is ChangeKind.EXISTING and self.incoming is not None
            else self.rows
        )
        if event.kind is ChangeKind.DELETED or event.filter_transition == "LEFT":
            target.pop(et.key, None)
        else:
            target[et.key] = et

    def ordered(self) -> list[EventType]:
        return [self.rows[key] for key in sorted(self.rows)]


async def print_events(events: AsyncIterator[Event], out: TextIO = sys.stdout) -> None:
    async for event in events:
        out.write(event_line(event) + "\n")
        out.flush()


async def live_table(events: AsyncIterator[Event], *, all_namespaces: bool) -> None:
    from rich.console import Group
    from rich.live import Live
    from rich.table import Table
    from rich.text import Text

    view = View(incoming={})

    def render() -> Group:
        grid = Table(box=None, pad_edge=False, header_style="bold")
        if all_namespaces:
            grid.add_column("NAMESPACE")
        for title, _ in EVENT_TYPE_COLUMNS:
            grid.add_column(title)
        for et in view.ordered():
            cells = [cell(et) for _, cell in EVENT_TYPE_COLUMNS]
            style = "green" if et.consumable else ("red" if et.ready is False else "yellow")
            grid.add_row(*([et.namespace] if all_namespaces else []), *cells, style=style)
        return Group(grid, Text(f"{len(view.rows)} EventTypes · {view.status}", style="dim"))

    with Live(render(), auto_refresh=False, transient=False) as live:
        async for event in events:
            view.apply(event)
            live.update(render(), refresh=True)
