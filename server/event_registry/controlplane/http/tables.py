"""``meta.k8s.io/v1`` Tables, as kubectl asks for with ``Accept: ...;as=Table``.

Cells are computed on the server from each version's printer columns (JSONPath, or a
function for built-in kinds) and formatted as kube-apiserver formats them (dates as ages), so
``kubectl get`` prints exactly the columns and values a real cluster prints.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any, Literal

from ..api.resources import PrinterColumn, Resource
from ..machinery import cells, jsonpath

IncludeObject = Literal["None", "Metadata", "Object"]

_NAME_COLUMN = {
    "name": "Name",
    "type": "string",
    "format": "name",
    "description": "Name must be unique within a namespace. Is required when creating "
    "resources, although some resources may allow a client to request the generation of an "
    "appropriate name automatically. Name is primarily intended for creation idempotence and "
    "configuration definition. Cannot be updated.",
    "priority": 0,
}


def _columns(resource: Resource, version: str) -> tuple[PrinterColumn, ...]:
    served = resource.served_version(version)
    return served.columns if served else ()


def _names_itself(resource: Resource, version: str) -> bool:
    """Whether the columns place the name themselves (a ``name``-format column, as Events
    do), instead of the implicit Name column first."""
    return any(column.format == "name" for column in _columns(resource, version))


def column_definitions(resource: Resource, version: str) -> list[dict[str, Any]]:
    return [
        *(() if _names_itself(resource, version) else (_NAME_COLUMN,)),
        *(
            {
                "name": column.name,
                "type": column.type,
                "format": column.format,
                "description": column.description,
                "priority": column.priority,
            }
            for column in _columns(resource, version)
        ),
    ]


def row(
    resource: Resource,
    version: str,
    obj: dict[str, Any],
    *,
    include: IncludeObject,
    now: datetime.datetime,
) -> dict[str, Any]:
    values: list[object] = [] if _names_itself(resource, version) else [obj["metadata"]["name"]]
    for column in _columns(resource, version):
        if column.compute is not None:
            values.append(column.compute(obj))
        else:
            found = jsonpath.find(jsonpath.parse(column.json_path), obj)
            values.append(cells.cell_value(column.type, found, now))
    result: dict[str, Any] = {"cells": values}
    if include == "Object":
        result["object"] = obj
    elif include == "Metadata":
        result["object"] = {
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": obj["metadata"],
        }
    return result


def table(
    resource: Resource,
    version: str,
    objects: Iterable[dict[str, Any]],
    *,
    include: IncludeObject = "Metadata",
    resource_version: str = "",
    continue_token: str | None = None,
    with_columns: bool = True,
) -> dict[str, Any]:
    now = datetime.datetime.now(datetime.UTC)
    metadata: dict[str, Any] = {}
    if resource_version:
        metadata["resourceVersion"] = resource_version
    if continue_token:
        metadata["continue"] = continue_token
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": column_definitions(resource, version) if with_columns else [],
        "rows": [row(resource, version, obj, include=include, now=now) for obj in objects],
    }
