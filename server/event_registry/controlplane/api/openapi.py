"""OpenAPI v3 documents, one per group/version, generated from the catalog.

kubectl's default ``--validate=strict`` reads ``/openapi/v3``, then the document of the
object's group/version, and looks for a ``patch`` operation tagged with the object's
group/version/kind that takes the ``fieldValidation`` query parameter; finding one, it lets
the server validate (``fieldValidation=Strict``). Every served resource therefore gets its
operations, tagged, with that parameter, plus its schema for ``kubectl explain``. Each
document's URL carries a hash of its content, so a client cache never serves a stale one.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .catalog import Catalog
from .resources import Resource, object_meta_schema

_QUERY_PARAMS = [
    {"name": name, "in": "query", "schema": {"type": "string"}, "uniqueItems": True}
    for name in ("dryRun", "fieldManager", "fieldValidation", "pretty")
]


def _path_key(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def _schema_name(resource: Resource, version: str) -> str:
    reversed_group = (
        ".".join(reversed(resource.group.split("."))) if resource.group else "io.k8s.api.core"
    )
    return f"{reversed_group}.{version}.{resource.kind}"


def _operations(resource: Resource, version: str) -> dict[str, Any]:
    gvk = {"group": resource.group, "version": version, "kind": resource.kind}
    prefix = f"/{_path_key(resource.group, version)}"
    if resource.namespaced:
        prefix += "/namespaces/{namespace}"
    collection = f"{prefix}/{resource.plural}"
    item = collection + "/{name}"
    ref = {"$ref": f"#/components/schemas/{_schema_name(resource, version)}"}

    def operation(action: str, params: bool) -> dict[str, Any]:
        op: dict[str, Any] = {
            "operationId": f"{action}{resource.kind}",
            "x-kubernetes-action": action,
            "x-kubernetes-group-version-kind": gvk,
            "responses": {"200": {"content": {"application/json": {"schema": ref}}}},
        }
        if params:
            op["parameters"] = _QUERY_PARAMS
        return op

    if resource.create_only:
        return {collection: {"post": operation("create", True)}}
    collection_operations = {"get": operation("list", False), "post": operation("post", True)}
    if resource.collection_deletable:
        collection_operations["delete"] = operation("deletecollection", False)
    paths: dict[str, Any] = {
        collection: collection_operations,
        item: {
            "get": operation("get", False),
            "put": operation("put", True),
            "patch": operation("patch", True),
            "delete": operation("delete", False),
        },
    }
    served = resource.served_version(version)
    if served is not None and served.status_subresource:
        paths[item + "/status"] = {
            "get": operation("get", False),
            "put": operation("put", True),
            "patch": operation("patch", True),
        }
    return paths


def _schema(resource: Resource, version: str) -> dict[str, Any]:
    served = resource.served_version(version)
    schema: dict[str, Any] = dict(served.schema) if served and served.schema else {"type": "object"}
    properties = dict(schema.get("properties") or {})
    properties.setdefault("apiVersion", {"type": "string"})
    properties.setdefault("kind", {"type": "string"})
    properties["metadata"] = object_meta_schema()
    schema["properties"] = properties
    schema["x-kubernetes-group-version-kind"] = [
        {"group": resource.group, "version": version, "kind": resource.kind}
    ]
    return schema


class OpenApi:
    """Documents cached per catalog generation."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog
        self._generation = -1
        self._documents: dict[str, bytes] = {}
        self._hashes: dict[str, str] = {}

    def _refresh(self) -> None:
        if self._generation == self._catalog.generation:
            return
        documents: dict[str, dict[str, Any]] = {}
        for resource in self._catalog.all():
            for served in resource.versions:
                if not served.served:
                    continue
                key = _path_key(resource.group, served.name)
                document = documents.setdefault(
                    key,
                    {
                        "openapi": "3.0.0",
                        "info": {"title": "Kubernetes", "version": "v1.37.0"},
                        "paths": {},
                        "components": {"schemas": {}},
                    },
                )
                document["paths"].update(_operations(resource, served.name))
                document["components"]["schemas"][_schema_name(resource, served.name)] = _schema(
                    resource, served.name
                )
        self._documents = {
            key: json.dumps(doc, separators=(",", ":")).encode() for key, doc in documents.items()
        }
        self._hashes = {
            key: hashlib.sha256(body).hexdigest()[:32].upper()
            for key, body in self._documents.items()
        }
        self._generation = self._catalog.generation

    def root(self) -> dict[str, Any]:
        self._refresh()
        return {
            "paths": {
                key: {"serverRelativeURL": f"/openapi/v3/{key}?hash={self._hashes[key]}"}
                for key in self._documents
            }
        }

    def document(self, key: str) -> bytes | None:
        self._refresh()
        return self._documents.get(key.strip("/"))
