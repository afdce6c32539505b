"""Sets of field paths, and their ``FieldsV1`` encoding in ``metadata.managedFields``.

A path leads from an object's root to one of its fields; each step is a :data:`PathElement`
written as structured-merge-diff writes it in FieldsV1:

* ``f:<name>``: a field of a struct or a key of a map;
* ``k:{"name":"a"}``: the element of a keyed list (``x-kubernetes-list-type: map``) whose key
  fields have these values (compact JSON, fields sorted by name);
* ``v:"a"``: the element of a set (``x-kubernetes-list-type: set``) with this value;
* ``i:0``: the element of an atomic list at this position (never produced for ownership,
  accepted when decoding).

A :class:`FieldSet` is an immutable set of such paths. FieldsV1 is its trie: every element
is a key, a key maps to the trie below it, and ``".": {}`` marks a path that is itself a
member while it also has members below it; a member without members below maps to ``{}``.

Guarantees: :func:`decode` accepts exactly what :func:`encode` produces (and any key order),
raising :class:`FieldsError` for anything else; ``decode(encode(s)) == s``; :func:`encode`
orders keys as structured-merge-diff does (``.`` first, then field names, keys, values,
indices, each sorted), so equal sets encode to equal JSON. :func:`path_text` renders a path
as kube-apiserver words it in conflicts (``.spec.ports[name="http"].port``). Pure.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

__all__ = [
    "EMPTY",
    "FieldSet",
    "FieldsError",
    "Path",
    "PathElement",
    "decode",
    "encode",
    "field",
    "index",
    "key",
    "path_text",
    "value",
]

PathElement = str
"""One step of a path, in its FieldsV1 form: ``f:name``, ``k:{...}``, ``v:...`` or ``i:N``."""

Path = tuple[PathElement, ...]

_MEMBER: Final = "."
_ORDER: Final = {"f": 0, "k": 1, "v": 2, "i": 3}


class FieldsError(ValueError):
    """A FieldsV1 document that is not a valid field set."""


def _compact(data: object) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def field(name: str) -> PathElement:
    return f"f:{name}"


def key(fields: Mapping[str, Any]) -> PathElement:
    return f"k:{_compact(dict(fields))}"


def value(item: object) -> PathElement:
    return f"v:{_compact(item)}"


def index(position: int) -> PathElement:
    return f"i:{position}"


@dataclass(frozen=True)
class FieldSet:
    """An immutable set of paths; the operators are the set algebra of structured-merge-diff."""

    paths: frozenset[Path] = frozenset()

    @classmethod
    def of(cls, paths: Iterable[Path]) -> FieldSet:
        return cls(frozenset(paths))

    def __bool__(self) -> bool:
        return bool(self.paths)

    def __len__(self) -> int:
        return len(self.paths)

    def __iter__(self) -> Iterator[Path]:
        return iter(sorted(self.paths, key=_sort_key))

    def __contains__(self, path: object) -> bool:
        return path in self.paths

    def __or__(self, other: FieldSet) -> FieldSet:
        return FieldSet(self.paths | other.paths)

    def __and__(self, other: FieldSet) -> FieldSet:
        return FieldSet(self.paths & other.paths)

    def __sub__(self, other: FieldSet) -> FieldSet:
        return FieldSet(self.paths - other.paths)

    def has_prefix(self, prefix: Path) -> bool:
        """Whether some member lies strictly below ``prefix``."""
        size = len(prefix)
        return any(len(path) > size and path[:size] == prefix for path in self.paths)

    def without_subtrees(self, roots: Iterable[Path]) -> FieldSet:
        """The members that are neither one of ``roots`` nor below one of them."""
        doomed = tuple(roots)
        return FieldSet(
            frozenset(
                path for path in self.paths if not any(path[: len(root)] == root for root in doomed)
            )
        )


EMPTY: Final = FieldSet()


def _element_sort_key(element: PathElement) -> tuple[int, str]:
    kind, _, rest = element.partition(":")
    if kind == "i" and rest.isdigit():
        return (_ORDER["i"], rest.zfill(20))
    return (_ORDER.get(kind, 4), rest)


def _sort_key(path: Path) -> tuple[tuple[int, str], ...]:
    return tuple(_element_sort_key(element) for element in path)


def encode(fields: FieldSet) -> dict[str, Any]:
    """The FieldsV1 JSON object of a field set."""
    trie: dict[str, Any] = {}
    members: set[Path] = set(fields.paths)
    for path in fields.paths:
        node = trie
        for element in path:
            node = node.setdefault(element, {})
    return _ordered(trie, (), members)


def _ordered(node: dict[str, Any], path: Path, members: set[Path]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    if node and path in members and path:
        result[_MEMBER] = {}
    for element in sorted(node, key=_element_sort_key):
        result[element] = _ordered(node[element], (*path, element), members)
    return result


def decode(document: object) -> FieldSet:
    """The field set of a FieldsV1 JSON object."""
    if not isinstance(document, dict):
        raise FieldsError("FieldsV1 must be a JSON object")
    paths: set[Path] = set()
    _decode_into(document, (), paths)
    return FieldSet(frozenset(paths))


def _decode_into(node: dict[str, Any], path: Path, paths: set[Path]) -> None:
    for element, below in node.items():
        if not isinstance(below, dict):
            raise FieldsError(f"FieldsV1 entry {element!r} must map to an object")
        if element == _MEMBER:
            if below or not path:
                raise FieldsError('FieldsV1 "." must map to {} below a field')
            paths.add(path)
            continue
        child = (*path, _checked_element(element))
        if below:
            _decode_into(below, child, paths)
        else:
            paths.add(child)


def _checked_element(element: str) -> PathElement:
    kind, separator, rest = element.partition(":")
    if not separator or kind not in _ORDER:
        raise FieldsError(f"unknown FieldsV1 path element {element!r}")
    if kind == "i":
        if not rest.isdigit():
            raise FieldsError(f"FieldsV1 index {element!r} is not a number")
        return element
    if kind in ("k", "v"):
        try:
            parsed = json.loads(rest)
        except ValueError as error:
            raise FieldsError(f"FieldsV1 element {element!r} is not JSON") from error
        if kind == "k":
            if not isinstance(parsed, dict) or not parsed:
                raise FieldsError(f"FieldsV1 key {element!r} must be a non-empty object")
            return key(parsed)
        return value(parsed)
    return element


def path_text(path: Path) -> str:
    """A path as kube-apiserver prints it: ``.metadata.labels.app``, ``.spec.x[name="a"]``."""
    parts: list[str] = []
    for element in path:
        kind, _, rest = element.partition(":")
        if kind == "f":
            parts.append(f".{rest}")
        elif kind == "k":
            fields = json.loads(rest)
            inner = ",".join(f"{name}={_go_value(fields[name])}" for name in sorted(fields))
            parts.append(f"[{inner}]")
        elif kind == "v":
            parts.append(f"[={_go_value(json.loads(rest))}]")
        else:
            parts.append(f"[{rest}]")
    return "".join(parts)


def _go_value(item: object) -> str:
    return json.dumps(item, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
