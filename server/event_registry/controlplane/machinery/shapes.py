"""How server-side apply sees a schema node: its merge semantics, read from OpenAPI markers.

A :class:`Shape` answers, for one node of an object and the OpenAPI v3 schema describing it,
what structured-merge-diff needs: is it a leaf, a struct/map merged key by key, or a list
merged as a set or by keys; which children are declared fields; the schema of each child.

Markers, with kube's defaults when absent:

* ``x-kubernetes-list-type``: ``atomic`` (default), ``set`` (elements are scalars, identified
  by value) or ``map`` (elements are objects identified by ``x-kubernetes-list-map-keys``);
* ``x-kubernetes-map-type``: ``granular`` (default: each key owned on its own) or
  ``atomic``; a struct (an object with ``properties``) is granular unless marked;
* a node without a schema, under ``x-kubernetes-preserve-unknown-fields`` or
  ``additionalProperties: true``, is *deduced* from its value, as structured-merge-diff does:
  objects are granular maps, lists atomic, the rest scalars.

The root of every object is a struct whose ``apiVersion``, ``kind`` and ``metadata`` are
declared, with metadata described by :data:`OBJECT_META` (labels and annotations granular
maps, ``finalizers`` a set, ``ownerReferences`` a map keyed by ``uid``, as in
k8s.io/apimachinery's ObjectMeta). Pure; schemas are never mutated.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

__all__ = ["OBJECT_META", "Shape", "root_shape"]

_STRING: Final = {"type": "string"}
_STRING_MAP: Final = {"type": "object", "additionalProperties": _STRING}

#: ObjectMeta with the list and map markers kube's own OpenAPI gives it.
OBJECT_META: Final[Mapping[str, Any]] = {
    "type": "object",
    "properties": {
        **dict.fromkeys(
            (
                "name",
                "generateName",
                "namespace",
                "selfLink",
                "uid",
                "resourceVersion",
                "creationTimestamp",
                "deletionTimestamp",
            ),
            _STRING,
        ),
        "generation": {"type": "integer"},
        "deletionGracePeriodSeconds": {"type": "integer"},
        "labels": _STRING_MAP,
        "annotations": _STRING_MAP,
        "finalizers": {"type": "array", "items": _STRING, "x-kubernetes-list-type": "set"},
        "ownerReferences": {
            "type": "array",
            "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["uid"],
            "items": {
                "type": "object",
                "properties": {
                    "apiVersion": _STRING,
                    "kind": _STRING,
                    "name": _STRING,
                    "uid": _STRING,
                    "controller": {"type": "boolean"},
                    "blockOwnerDeletion": {"type": "boolean"},
                },
            },
        },
        "managedFields": {"type": "array", "items": {"type": "object"}},
    },
}

Kind = Literal["scalar", "map", "atomic", "set", "keyed"]


@dataclass(frozen=True)
class Shape:
    """One schema node (``None``: deduced from the value)."""

    node: Mapping[str, Any] | None

    def kind(self, value: object) -> Kind:
        """How ``value`` at this node merges: a leaf (``scalar``/``atomic``) or by parts."""
        node = self.node
        if isinstance(value, dict):
            if node is not None and node.get("x-kubernetes-map-type") == "atomic":
                return "atomic"
            return "map"
        if isinstance(value, list):
            list_type = node.get("x-kubernetes-list-type") if node is not None else None
            if list_type == "set":
                return "set"
            if list_type == "map" and self.list_keys():
                return "keyed"
            return "atomic"
        return "scalar"

    def list_keys(self) -> tuple[str, ...]:
        keys = (self.node or {}).get("x-kubernetes-list-map-keys") or ()
        return tuple(str(name) for name in keys)

    def declares(self, name: str) -> bool:
        """Whether ``name`` is a declared field of this struct (not a key of a map)."""
        properties = (self.node or {}).get("properties")
        return isinstance(properties, Mapping) and name in properties

    def child(self, name: str) -> Shape:
        node = self.node or {}
        properties = node.get("properties")
        if isinstance(properties, Mapping) and isinstance(properties.get(name), Mapping):
            return Shape(properties[name])
        additional = node.get("additionalProperties")
        if isinstance(additional, Mapping):
            return Shape(additional)
        return Shape(None)

    def item(self) -> Shape:
        items = (self.node or {}).get("items")
        return Shape(items if isinstance(items, Mapping) else None)

    def key_default(self, name: str) -> object:
        """The schema default of a list-map key field of an element, if any."""
        properties = (self.item().node or {}).get("properties") or {}
        field = properties.get(name)
        return field.get("default") if isinstance(field, Mapping) else None


def root_shape(schema: Mapping[str, Any] | None) -> Shape:
    """The shape of a whole object whose kind has ``schema`` (a version's openAPIV3Schema)."""
    properties = dict((schema or {}).get("properties") or {})
    properties.setdefault("apiVersion", _STRING)
    properties.setdefault("kind", _STRING)
    properties["metadata"] = OBJECT_META
    root = dict(schema or {"type": "object", "x-kubernetes-preserve-unknown-fields": True})
    root["properties"] = properties
    return Shape(root)
