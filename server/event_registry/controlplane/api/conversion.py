"""Conversion of stored objects between the served versions of a resource.

Objects are stored in their resource's storage version and converted on every read and
write. Kinds without a registered converter use Kubernetes' ``None`` strategy: only
``apiVersion`` changes. Converters never mutate their input.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .resources import Resource

Converter = Callable[[dict[str, Any], str], dict[str, Any]]
"""(object in any served version, target apiVersion) -> new object in the target version."""


class Conversion:
    """Converters by (group, kind), falling back to the ``None`` strategy."""

    def __init__(self) -> None:
        self._converters: dict[tuple[str, str], Converter] = {}

    def register(self, group: str, kind: str, converter: Converter) -> None:
        self._converters[(group, kind)] = converter

    def convert(self, resource: Resource, obj: dict[str, Any], version: str) -> dict[str, Any]:
        api_version = resource.api_version(version)
        if obj.get("apiVersion") == api_version:
            return obj
        converter = self._converters.get((resource.group, resource.kind))
        if converter is not None:
            return converter(obj, api_version)
        return {**obj, "apiVersion": api_version}
