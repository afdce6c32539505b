"""The words built-in kinds' OpenAPI v3 schemas are written in: one home for every module
that declares a kind (:mod:`.resources`, :mod:`.access`, :mod:`.core`, :mod:`.events`).

Plain values and functions returning fresh dicts; a schema built from them is the same JSON
whichever module builds it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

STRING = {"type": "string"}
STRINGS = {"type": "array", "items": STRING}
STRING_MAP = {"type": "object", "additionalProperties": STRING}
INTEGER = {"type": "integer"}
BOOLEAN = {"type": "boolean"}
TIME = {"type": "string", "format": "date-time", "nullable": True}
ANY_OBJECT = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
INT_OR_STRING = {"x-kubernetes-int-or-string": True}


def object_of(description: str = "", /, **properties: Any) -> dict[str, Any]:
    """An object with these properties (and this description, when one is given)."""
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if description:
        schema["description"] = description
    return schema


def described(schema: Mapping[str, Any], description: str) -> dict[str, Any]:
    """``schema`` with a description."""
    return {**schema, "description": description}


def array_of(item: Mapping[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": item}
