"""How ``kreg get`` prints objects: kubectl-like tables, or JSON, YAML, names.

Pure functions from models to text. Tables are plain text, columns left-aligned and separated
by three spaces like kubectl's, a NAMESPACE column first when listing every namespace
(``-A``); ``wide`` adds columns. READY reads True, False or Unknown; AGE is kubectl's
(``45s``, ``12m``, ``5h``, ``3d``). JSON and YAML print ``{"items": [...]}`` for a list and
the object itself for ``get KIND NAME``, with the client models' field names.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import yaml

from ..models import Broker, EventType, Namespace, Trigger

FORMATS = ("table", "wide", "json", "yaml", "name")
T = TypeVar("T")
Column = tuple[str, Callable[[T], str]]


def ready_text(ready: bool | None) -> str:
    return "Unknown" if ready is None else str(ready)


def age(created_at: str, now: datetime | None = None) -> str:
    """kubectl's short age of an RFC 3339 timestamp ('' when there is none)."""
    if not created_at:
        return ""
    try:
        created = datetime.fromisoformat(created_at.replace("Z", "+00:00"))
    except ValueError:
        return ""
    seconds = max(0, int(((now or datetime.now(UTC)) - created).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size * (2 if unit != "m" else 1):
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _text(value: str | None) -> str:
    return "" if value is None else value


EVENT_TYPE_COLUMNS: list[Column[EventType]] = [
    ("NAME", lambda e: e.name),
    ("TYPE", lambda e: e.type),
    ("SOURCE", lambda e: _text(e.source)),
    ("BROKER", lambda e: _text(e.broker_name)),
    ("READY", lambda e: ready_text(e.ready)),
    ("REASON", lambda e: _text(e.reason)),
    ("CONSUMABLE", lambda e: str(e.consumable)),
]
EVENT_TYPE_WIDE: list[Column[EventType]] = [
    ("SCHEMA", lambda e: _text(e.schema)),
    ("DESCRIPTION", lambda e: _text(e.description)),
    ("CONSUMERS", lambda e: ",".join(e.consumers)),
    ("AGE", lambda e: age(e.created_at)),
]
BROKER_COLUMNS: list[Column[Broker]] = [
    ("NAME", lambda b: b.name),
    ("URL", lambda b: _text(b.url)),
    ("AGE", lambda b: age(b.created_at)),
    ("READY", lambda b: ready_text(b.ready)),
    ("REASON", lambda b: _text(b.reason)),
]
BROKER_WIDE: list[Column[Broker]] = [("CLASS", lambda b: _text(b.broker_class))]
TRIGGER_COLUMNS: list[Column[Trigger]] = [
    ("NAME", lambda t: t.name),
    ("BROKER", lambda t: t.broker_name),
    ("SUBSCRIBER_URI", lambda t: _text(t.subscriber_uri)),
    ("AGE", lambda t: age(t.created_at)),
    ("READY", lambda t: ready_text(t.ready)),
    ("REASON", lambda t: _text(t.reason)),
]
TRIGGER_WIDE: list[Column[Trigger]] = [
    ("FILTER", lambda t: ",".join(f"{label.key}={label.value}" for label in t.filter)),
]
NAMESPACE_COLUMNS: list[Column[Namespace]] = [
    ("NAME", lambda n: n.name),
    ("PHASE", lambda n: n.phase),
    ("BROKERS", lambda n: str(n.counts.brokers)),
    ("EVENTTYPES", lambda n: str(n.counts.event_types)),
    ("READY", lambda n: str(n.counts.ready_event_types)),
    ("CONSUMABLE", lambda n: str(n.counts.consumable_event_types)),
    ("TRIGGERS", lambda n: str(n.counts.triggers)),
]


def table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> str:
    """Aligned columns, three spaces apart, no trailing spaces."""
    widths = [len(title) for title in header]
    for row in rows:
        for index, cell in enumerate(row):
            widths[index] = max(widths[index], len(cell))
    lines = []
    for row in (header, *rows):
        cells = [cell.ljust(widths[index]) for index, cell in enumerate(row)]
        lines.append("   ".join(cells).rstrip())
    return "\n".join(lines)


def columns_table(
    items: Sequence[T],
    columns: Sequence[Column[T]],
    *,
    namespace_of: Callable[[T], str] | None = None,
) -> str:
    """``items`` as a table of ``columns``; with ``namespace_of`` a NAMESPACE column first."""
    header = [title for title, _ in columns]
    rows = [[cell(item) for _, cell in columns] for item in items]
    if namespace_of is not None:
        header.insert(0, "NAMESPACE")
        for row, item in zip(rows, items, strict=True):
            row.insert(0, namespace_of(item))
    return table(rows, header)


def as_data(item: Any) -> Any:
    """A model as plain data (dicts, lists, scalars) for JSON and YAML."""
    return dataclasses.asdict(item)


def structured(items: Sequence[Any], format: str, *, single: bool) -> str:
    """``items`` as JSON or YAML; one object when ``single``, else ``{"items": [...]}``."""
    data: Any = as_data(items[0]) if single else {"items": [as_data(i) for i in items]}
    if format == "json":
        return json.dumps(data, indent=2)
    return yaml.safe_dump(data, sort_keys=False).rstrip("\n")


def names(items: Sequence[Any], kind: str) -> str:
    """``kind/name`` lines, kubectl's ``-o name``."""
    return "\n".join(f"{kind}/{item.name}" for item in items)
