"""Server-side apply and field ownership: structured-merge-diff's ``Updater``, as data in, data out.

:func:`track_update` is what every non-apply write does (create, update, every patch type,
status writes): the fields the request added or changed become its manager's (its earlier
fields stay its own unless removed), other managers lose the fields it changed or removed,
and a manager left owning nothing disappears. The manager's time is set only when it
changed something.

:func:`apply` is an ``Apply`` patch: the configuration is merged into the live object
(:func:`~.structured.merge`); the applier then owns exactly the fields of its configuration;
fields it applied last time and no longer applies are removed from the object unless some
manager (itself included) still owns them; a field another manager owns that the apply would
change or add is a conflict, raised as :class:`Conflicts` unless ``force`` (then the other
manager loses it). A field applied with the value it already has is shared, not a conflict.

Managers whose apiVersion differs from the request's see the objects through ``view``
(converted to their version, with that version's shape); a version no longer served drops
the manager, as kube-apiserver does. Paths in :data:`~.managedfields.STRIPPED` are never
owned. :func:`cap_update_managers` keeps at most ten ``Update`` entries, folding the oldest
into one ``ancient-changes`` entry per apiVersion, as kube-apiserver does. Pure: the caller
passes the time; nothing is mutated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from . import fieldsets, managedfields, structured
from .fieldsets import FieldSet, Path
from .managedfields import Entry, Managed, Manager
from .shapes import Shape

__all__ = [
    "ANCIENT_CHANGES",
    "MAX_UPDATE_MANAGERS",
    "Conflict",
    "Conflicts",
    "View",
    "apply",
    "cap_update_managers",
    "ensure_named_fields",
    "track_update",
]

MAX_UPDATE_MANAGERS = 10
ANCIENT_CHANGES = "ancient-changes"

View = Callable[[str, object], tuple[object, object, Shape] | None]
"""``view(api_version, new)``: the old object and ``new`` (given in the request's version) in
that version, with its shape; None when the version is no longer served."""


@dataclass(frozen=True)
class Conflict:
    manager: Manager
    entry: Entry
    path: Path

    @property
    def field(self) -> str:
        return fieldsets.path_text(self.path)

    @property
    def message(self) -> str:
        return f"conflict with {managedfields.label(self.manager, self.entry)}"


@dataclass
class Conflicts(Exception):
    """An apply that would change fields other managers own (kube's merge.Conflicts)."""

    conflicts: list[Conflict] = field(default_factory=list)

    def __str__(self) -> str:
        return self.message

    @property
    def message(self) -> str:
        count = len(self.conflicts)
        if count == 1:
            only = self.conflicts[0]
            return f"Apply failed with 1 conflict: {only.message}: {only.field}"
        by_manager: dict[str, list[str]] = {}
        for conflict in self.conflicts:
            name = managedfields.label(conflict.manager, conflict.entry)
            by_manager.setdefault(name, []).append(conflict.field)
        lines: list[str] = []
        for name in sorted(by_manager):
            lines.append(f"conflicts with {name}:")
            lines.extend(f"- {path}" for path in by_manager[name])
        return f"Apply failed with {count} conflicts: " + "\n".join(lines)


def ensure_named_fields(fields: FieldSet, shape: Shape) -> FieldSet:
    """``fields`` plus every declared struct field that has members below it."""
    paths = set(fields.paths)
    for path in fields.paths:
        node = shape
        for depth, element in enumerate(path[:-1]):
            kind, _, name = element.partition(":")
            if kind == "f":
                if node.declares(name):
                    paths.add(path[: depth + 1])
                node = node.child(name)
            else:
                node = node.item()
    return FieldSet(frozenset(paths))


def _others_after(
    managed: Managed,
    current: Manager,
    version: str,
    new: object,
    comparison: structured.Comparison,
    view: View,
    *,
    force: bool,
) -> Managed:
    """The other managers once ``current``'s change is made: conflicts and removals taken."""
    comparisons: dict[str, structured.Comparison | None] = {version: comparison}
    conflicts: list[Conflict] = []
    result: Managed = {}
    for manager, entry in managed.items():
        if manager == current:
            continue
        if entry.api_version not in comparisons:
            seen = view(entry.api_version, new)
            comparisons[entry.api_version] = (
                None if seen is None else structured.compare(seen[0], seen[1], seen[2])
            )
        seen_comparison = comparisons[entry.api_version]
        if seen_comparison is None:
            continue  # its version is gone
        taken = entry.fields & seen_comparison.changed
        conflicts.extend(Conflict(manager, entry, path) for path in taken)
        kept = entry.fields - taken - seen_comparison.removed
        if kept:
            result[manager] = Entry(kept, entry.api_version, entry.time)
    if conflicts and not force:
        conflicts.sort(key=lambda conflict: managedfields.label(conflict.manager, conflict.entry))
        raise Conflicts(conflicts)
    return result


def track_update(
    old: object,
    new: object,
    shape: Shape,
    managed: Managed,
    manager: Manager,
    *,
    view: View,
    now: str,
) -> Managed:
    """Managers after a non-apply write by ``manager`` turning ``old`` (None: none) into ``new``."""
    version = manager.api_version
    comparison = structured.compare(old, new, shape)
    result = _others_after(managed, manager, version, new, comparison, view, force=True)
    changed = comparison.changed - managedfields.STRIPPED
    previous = managed.get(manager)
    if changed:
        owned = changed if previous is None else previous.fields - comparison.removed | changed
        result[manager] = Entry(owned, version, now)
    elif previous is not None:
        kept = previous.fields - comparison.removed
        if kept:
            result[manager] = Entry(kept, previous.api_version, previous.time)
    return result


def apply(
    live: object,
    config: dict[str, object],
    shape: Shape,
    managed: Managed,
    manager: Manager,
    version: str,
    *,
    force: bool,
    view: View,
    now: str,
) -> tuple[object, Managed]:
    """The object and managers after ``manager`` applies ``config`` to ``live`` (None: none)."""
    merged = structured.merge(live, config, shape)
    applied = structured.fields_of(config, shape)
    last = managed.get(manager)
    claims: Managed = {**managed, manager: Entry(applied, version, now)}
    if last is not None and last.api_version == version:
        owned = FieldSet()
        for entry in claims.values():
            if entry.api_version == version:
                owned = owned | entry.fields
        doomed = ensure_named_fields(last.fields, shape) - ensure_named_fields(owned, shape)
        merged = structured.remove(merged, doomed, shape)
    comparison = structured.compare(live, merged, shape)
    result = _others_after(claims, manager, version, merged, comparison, view, force=force)
    kept = applied - managedfields.STRIPPED
    if kept:
        result[manager] = Entry(kept, version, now)
    return merged, result


def cap_update_managers(managed: Managed, limit: int = MAX_UPDATE_MANAGERS) -> Managed:
    """``managed`` with the oldest ``Update`` entries folded into ``ancient-changes`` entries
    (one per apiVersion, carrying the newest folded time) until at most ``limit`` remain."""
    updaters = sorted(
        (manager for manager in managed if manager.operation == "Update"),
        key=lambda manager: managed[manager].time or "",
    )
    if len(updaters) <= limit:
        return managed
    result = dict(managed)
    remaining = len(updaters)
    first_of_version: dict[str, Manager] = {}
    for manager in updaters:
        if remaining <= limit:
            break
        entry = result[manager]
        version = entry.api_version
        first = first_of_version.get(version)
        if first is None:
            first_of_version[version] = manager
            continue
        bucket = Manager.of(ANCIENT_CHANGES, "Update", version)
        if bucket not in result:
            result[bucket] = result.pop(first)
        result[bucket] = Entry(result[bucket].fields | entry.fields, version, entry.time)
        del result[manager]
        remaining -= 1
    return result
