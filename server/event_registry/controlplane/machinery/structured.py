"""Field sets of objects, their differences, and the apply merge (structured-merge-diff typed).

Each function walks a JSON value together with its :class:`~.shapes.Shape`:

* :func:`fields_of` is ``ToFieldSet``: the paths an applied configuration sets. Leaves
  (scalars, atomic lists and maps, ``null``, empty maps) are members, and so is every element
  of a set or keyed list and every map key that is not a declared struct field.
* :func:`compare` is ``Compare``: the leaves added, modified and removed between two versions
  of an object, plus every map entry and list element added or removed as a whole.
* :func:`merge` is ``Merge``: the applied configuration laid over the live object; leaves
  and atomic values from the configuration win, granular maps merge key by key, sets and
  keyed lists merge element by element (shared elements in the configuration's order, live-only
  elements where they were).
* :func:`remove` is ``RemoveItems``: the value without the subtrees at the given paths.

Elements of a keyed list are identified by their key fields (a missing key field takes the
schema default); an element without any key field, or two elements with one identity in an
applied configuration, raise :class:`StructureError`. In stored objects and in the objects
of :func:`compare` such lists are tolerated: duplicates after the first are ignored, and a
list with an element lacking its key is treated as one atomic value. Nothing is mutated;
results share no mutable container with the inputs. Pure.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Final

from . import fieldsets
from .fieldsets import FieldSet, Path
from .shapes import Shape

__all__ = ["Comparison", "StructureError", "compare", "fields_of", "merge", "remove"]


class StructureError(ValueError):
    """A value that cannot be merged as its schema says (a keyed element without a key...)."""


class _Absent:
    def __repr__(self) -> str:
        return "<absent>"


_ABSENT: Final = _Absent()


@dataclass(frozen=True)
class Comparison:
    added: FieldSet
    modified: FieldSet
    removed: FieldSet

    @property
    def changed(self) -> FieldSet:
        return self.added | self.modified


def _identities(
    items: list[Any], shape: Shape, path: Path, *, strict: bool
) -> list[tuple[str, Any]]:
    """Each element of a set or keyed list with its path element, duplicates dropped."""
    kind = "set" if shape.kind(items) == "set" else "keyed"
    seen: set[str] = set()
    result: list[tuple[str, Any]] = []
    for position, item in enumerate(items):
        element = _element(item, shape, kind, path, position)
        if element in seen:
            if strict:
                raise StructureError(
                    f"{fieldsets.path_text(path) or '.'}: duplicate entries for key "
                    f"{fieldsets.path_text((element,))}"
                )
            continue
        seen.add(element)
        result.append((element, item))
    return result


def _element(item: object, shape: Shape, kind: str, path: Path, position: int) -> str:
    where = fieldsets.path_text(path) or "."
    if kind == "set":
        if isinstance(item, dict | list):
            raise StructureError(f"{where}: element {position}: a set holds only scalars")
        return fieldsets.value(item)
    if not isinstance(item, dict):
        raise StructureError(f"{where}: element {position}: expected an object")
    fields: dict[str, Any] = {}
    for name in shape.list_keys():
        if name in item:
            fields[name] = item[name]
        elif shape.key_default(name) is not None:
            fields[name] = shape.key_default(name)
    if not fields:
        raise StructureError(
            f"{where}: element {position}: associative list with keys has an element that "
            f"omits key field {shape.list_keys()[0]!r}"
        )
    return fieldsets.key(fields)


# --- ToFieldSet ------------------------------------------------------------------------------


def fields_of(value: object, shape: Shape) -> FieldSet:
    """The paths an applied configuration sets (``value`` is a whole object)."""
    found: set[Path] = set()
    _collect(value, shape, (), found)
    return FieldSet(frozenset(found))


def _collect(value: object, shape: Shape, path: Path, found: set[Path]) -> None:
    kind = shape.kind(value)
    if kind in ("scalar", "atomic"):
        if path:
            found.add(path)
        return
    if kind == "map":
        assert isinstance(value, dict)
        for name, child in value.items():
            child_path = (*path, fieldsets.field(name))
            _collect(child, shape.child(name), child_path, found)
            if child is None or child == {} or not shape.declares(name):
                found.add(child_path)
        return
    assert isinstance(value, list)
    item_shape = shape.item()
    for element, item in _identities(value, shape, path, strict=True):
        child_path = (*path, element)
        _collect(item, item_shape, child_path, found)
        found.add(child_path)


# --- Compare ---------------------------------------------------------------------------------


def compare(old: object, new: object, shape: Shape) -> Comparison:
    """What changed from ``old`` to ``new`` (whole objects; ``None`` for none)."""
    added: set[Path] = set()
    modified: set[Path] = set()
    removed: set[Path] = set()
    _compare(
        _ABSENT if old is None else old,
        _ABSENT if new is None else new,
        shape,
        (),
        (added, modified, removed),
    )
    return Comparison(
        FieldSet(frozenset(added)), FieldSet(frozenset(modified)), FieldSet(frozenset(removed))
    )


_Sets = tuple[set[Path], set[Path], set[Path]]


def _identifiable(value: object, shape: Shape) -> bool:
    """Whether every element of a set or keyed list has an identity (stored objects may not)."""
    if not isinstance(value, list):
        return True
    try:
        _identities(value, shape, (), strict=False)
    except StructureError:
        return False
    return True


def _kind(value: object, shape: Shape) -> str:
    """``shape.kind``, with a set or keyed list whose elements lack identities made atomic."""
    kind = shape.kind(value)
    if kind in ("set", "keyed") and not _identifiable(value, shape):
        return "atomic"
    return kind


def _merged_kind(old: object, new: object, shape: Shape) -> str:
    present = new if new is not _ABSENT else old
    kind = _kind(present, shape)
    if kind in ("set", "keyed") and not (_identifiable(old, shape) and _identifiable(new, shape)):
        return "atomic"
    if kind in ("map", "set", "keyed"):
        other = old if present is new else new
        if other is not _ABSENT and shape.kind(other) != kind:
            return "scalar"  # a type change replaces the value as a whole
        if not _non_empty(old) and not _non_empty(new):
            return "scalar"  # empty or null on both sides: a leaf, as structured-merge-diff does
    return kind


def _non_empty(value: object) -> bool:
    return isinstance(value, dict | list) and bool(value)


def _compare(old: object, new: object, shape: Shape, path: Path, sets: _Sets) -> None:
    added, modified, removed = sets
    kind = _merged_kind(old, new, shape)
    if kind in ("scalar", "atomic"):
        if not path:
            return
        if old is _ABSENT and new is not _ABSENT:
            added.add(path)
        elif new is _ABSENT and old is not _ABSENT:
            removed.add(path)
        elif old != new or type(old) is not type(new):
            modified.add(path)
        return
    if kind == "map":
        old_map = old if isinstance(old, dict) else {}
        new_map = new if isinstance(new, dict) else {}
        for name in [*old_map, *(name for name in new_map if name not in old_map)]:
            _compare_child(
                old_map.get(name, _ABSENT),
                new_map.get(name, _ABSENT),
                shape.child(name),
                (*path, fieldsets.field(name)),
                sets,
            )
        return
    old_items = dict(_identities(old, shape, path, strict=False)) if isinstance(old, list) else {}
    new_items = dict(_identities(new, shape, path, strict=False)) if isinstance(new, list) else {}
    item_shape = shape.item()
    for element in [*old_items, *(element for element in new_items if element not in old_items)]:
        _compare_child(
            old_items.get(element, _ABSENT),
            new_items.get(element, _ABSENT),
            item_shape,
            (*path, element),
            sets,
        )


def _compare_child(old: object, new: object, shape: Shape, path: Path, sets: _Sets) -> None:
    _compare(old, new, shape, path, sets)
    added, _, removed = sets
    if old is _ABSENT and new is not _ABSENT:
        added.add(path)
    elif new is _ABSENT and old is not _ABSENT:
        removed.add(path)


# --- Merge -----------------------------------------------------------------------------------


def merge(live: object, config: object, shape: Shape) -> Any:
    """The applied configuration ``config`` laid over ``live`` (whole objects)."""
    return _merge(_ABSENT if live is None else live, config, shape, ())


def _merge(live: object, config: object, shape: Shape, path: Path) -> Any:
    kind = _merged_kind(live, config, shape)
    if kind in ("scalar", "atomic"):
        chosen = config if config is not _ABSENT else live
        return copy.deepcopy(chosen)
    if kind == "map":
        live_map = live if isinstance(live, dict) else {}
        config_map = config if isinstance(config, dict) else {}
        result: dict[str, Any] = {}
        for name in [*live_map, *(name for name in config_map if name not in live_map)]:
            result[name] = _merge(
                live_map.get(name, _ABSENT),
                config_map.get(name, _ABSENT),
                shape.child(name),
                (*path, fieldsets.field(name)),
            )
        return result
    return _merge_list(live, config, shape, path)


def _merge_list(live: object, config: object, shape: Shape, path: Path) -> list[Any]:
    live_order = _identities(live, shape, path, strict=False) if isinstance(live, list) else []
    config_order = _identities(config, shape, path, strict=True) if isinstance(config, list) else []
    live_items, config_items = dict(live_order), dict(config_order)
    item_shape = shape.item()
    result: list[Any] = []
    emitted: set[str] = set()

    def emit(element: str) -> None:
        emitted.add(element)
        result.append(
            _merge(
                live_items.get(element, _ABSENT),
                config_items.get(element, _ABSENT),
                item_shape,
                (*path, element),
            )
        )

    left, right = 0, 0
    while left < len(live_order) or right < len(config_order):
        live_element = live_order[left][0] if left < len(live_order) else None
        config_element = config_order[right][0] if right < len(config_order) else None
        if live_element is not None and live_element in emitted:
            left += 1
        elif live_element is not None and live_element not in config_items:
            emit(live_element)
            left += 1
        elif config_element is not None:
            emit(config_element)
            right += 1
            if live_element == config_element:
                left += 1
        else:
            left += 1
    return result


# --- RemoveItems -----------------------------------------------------------------------------


def remove(value: Any, doomed: FieldSet, shape: Shape) -> Any:
    """``value`` without the subtrees rooted at the members of ``doomed``."""
    return _remove(value, doomed, shape, ())


def _remove(value: Any, doomed: FieldSet, shape: Shape, path: Path) -> Any:
    kind = _kind(value, shape)
    if kind == "map":
        result: dict[str, Any] = {}
        for name, child in value.items():
            child_path = (*path, fieldsets.field(name))
            if child_path in doomed:
                continue
            if doomed.has_prefix(child_path):
                child = _remove(child, doomed, shape.child(name), child_path)
            result[name] = copy.deepcopy(child)
        return result
    if kind in ("set", "keyed"):
        kept: list[Any] = []
        item_shape = shape.item()
        for element, item in _identities(value, shape, path, strict=False):
            child_path = (*path, element)
            if child_path in doomed:
                continue
            if doomed.has_prefix(child_path):
                item = _remove(item, doomed, item_shape, child_path)
            kept.append(copy.deepcopy(item))
        return kept
    return copy.deepcopy(value)
