"""The fields a ``fieldSelector`` may name, per resource: kube-apiserver's field label conversion.

Every resource can be selected by ``metadata.name`` and ``metadata.namespace``. Some built-in
kinds add their own labels (core Events: ``involvedObject.kind``, ``reason``, ``source``, ...),
and a kind served in two groups may name the same stored field differently (events.k8s.io's
``regarding.name`` is core's ``involvedObject.name``): :class:`FieldLabels` maps each label a
client may send to the key its values are read under, from the *stored* object, so lists and
watches of every served version select the same objects. A label outside the map is refused as
kube-apiserver refuses it (``field label not supported: <label>``, 400).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .selectors import FieldRequirement, FieldSelector, object_fields, parse_field_selector

_METADATA = {"metadata.name": "metadata.name", "metadata.namespace": "metadata.namespace"}


def _no_fields(_: Mapping[str, Any]) -> Mapping[str, str]:
    return {}


@dataclass(frozen=True)
class FieldLabels:
    labels: Mapping[str, str] = field(default_factory=lambda: dict(_METADATA))
    """Label a client sends → the key :attr:`read` (or the metadata fields) gives its value."""
    read: Callable[[Mapping[str, Any]], Mapping[str, str]] = _no_fields
    """The kind's own selectable values of a stored object (missing fields read as "")."""

    def parse(self, text: str | None) -> FieldSelector:
        """The selector, its labels translated to the keys of :meth:`values`."""
        parsed = parse_field_selector(text, supported=tuple(self.labels))
        return FieldSelector(
            tuple(
                FieldRequirement(self.labels[r.field], r.operator, r.value)
                for r in parsed.requirements
            )
        )

    def values(self, obj: Mapping[str, Any]) -> dict[str, str]:
        return {**object_fields(obj), **self.read(obj)}


METADATA_ONLY = FieldLabels()
"""What every resource supports: ``metadata.name`` and ``metadata.namespace``."""
