"""OpenAPI documents generated from the catalog: v3 per group/version, and the v2 document.

kubectl's default ``--validate=strict`` reads ``/openapi/v3``, then the document of the
object's group/version, and looks for a ``patch`` operation tagged with the object's
group/version/kind that takes the ``fieldValidation`` query parameter; finding one, it lets
the server validate (``fieldValidation=Strict``). Every served resource therefore gets its
operations, tagged, with that parameter, plus its schema and its list's for ``kubectl
explain`` and generated clients. Every kind's ``metadata`` refers to the shared
``io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta`` (lists': ``ListMeta``), deletes answer
``Status``, and each document carries those shared definitions (:mod:`.meta_schemas`), as
kube-apiserver publishes them. Each v3 document's URL carries a hash of its content, so a
client cache never serves a stale one.

``/openapi/v2`` is the same in Swagger 2.0 (``#/definitions/`` references, body and query
parameters, no ``nullable``/``oneOf``/``anyOf``/``not``, as kube-apiserver's v2 drops them),
one document for every group. It is served as JSON only: a client that accepts nothing but
protobuf (kubectl asks for ``application/com.github.proto-openapi.spec.v2@v1.0+protobuf``)
is answered 406, after which client-go carries on without it, as it does on a server without
v2; kubectl's own commands read v3.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

from . import meta_schemas
from .catalog import Catalog
from .resources import Resource

_REF_V3 = "#/components/schemas/"
_REF_V2 = "#/definitions/"
_DROPPED_IN_V2 = frozenset({"nullable", "oneOf", "anyOf", "not"})
_WRITE_PARAMETERS = {
    "dryRun": "All: validate the request without persisting anything.",
    "fieldManager": "The name of the actor making the change (the field manager).",
    "fieldValidation": "How unknown or duplicate fields are treated: Ignore, Warn or Strict.",
    "pretty": "If 'true', the output is indented.",
}
_LIST_PARAMETERS = {
    "labelSelector": "Only objects whose labels match this selector.",
    "fieldSelector": "Only objects whose fields match this selector.",
    "limit": "The largest number of objects in one page.",
    "continue": "The token of the next page, from the previous page's metadata.",
    "resourceVersion": "The revision to list or watch from.",
    "resourceVersionMatch": "How resourceVersion applies: Exact or NotOlderThan.",
    "watch": "Watch for changes instead of listing.",
    "allowWatchBookmarks": "Ask for BOOKMARK events in a watch.",
    "timeoutSeconds": "End the list or watch after this many seconds.",
    "sendInitialEvents": "Start a watch with the current objects as ADDED events.",
    "pretty": "If 'true', the output is indented.",
}
_JSON_TYPES = ["application/json", "application/yaml"]
_PATCH_TYPES = [
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/apply-patch+yaml",
]


def _path_key(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def _schema_name(resource: Resource, version: str, kind: str | None = None) -> str:
    reversed_group = (
        ".".join(reversed(resource.group.split("."))) if resource.group else "io.k8s.api.core"
    )
    return f"{reversed_group}.{version}.{kind or resource.kind}"


def _query(descriptions: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "in": "query",
            "description": description,
            "schema": {"type": "string"},
            "uniqueItems": True,
        }
        for name, description in descriptions.items()
    ]


def _path_parameter(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string"},
    }


def _content(schema_name: str, types: list[str]) -> dict[str, Any]:
    return {media: {"schema": {"$ref": _REF_V3 + schema_name}} for media in types}


def _operations(resource: Resource, version: str) -> dict[str, Any]:
    gvk = {"group": resource.group, "version": version, "kind": resource.kind}
    prefix = f"/{_path_key(resource.group, version)}"
    scope: list[dict[str, Any]] = []
    if resource.namespaced:
        prefix += "/namespaces/{namespace}"
        scope.append(_path_parameter("namespace", "object name and auth scope"))
    collection = f"{prefix}/{resource.plural}"
    item = collection + "/{name}"
    kind_schema = _schema_name(resource, version)
    list_schema = _schema_name(resource, version, resource.list_kind)
    tag = f"{resource.group or 'core'}_{version}"
    patch_types = list(_PATCH_TYPES)
    if resource.strategic_merge_patch and not resource.open_schema:
        patch_types.insert(2, "application/strategic-merge-patch+json")

    def operation(
        action: str,
        verb: str,
        answer: str,
        *,
        parameters: dict[str, str] | None = None,
        body: str | None = None,
        body_types: list[str] | None = None,
    ) -> dict[str, Any]:
        op: dict[str, Any] = {
            "tags": [tag],
            "operationId": f"{verb}{resource.kind}",
            "x-kubernetes-action": action,
            "x-kubernetes-group-version-kind": gvk,
            "responses": {"200": {"description": "OK", "content": _content(answer, _JSON_TYPES)}},
        }
        if parameters is not None:
            op["parameters"] = _query(parameters)
        if body is not None:
            op["requestBody"] = {"required": True, "content": _content(body, body_types or ["*/*"])}
        return op

    write = _WRITE_PARAMETERS
    if resource.create_only:
        create = operation("post", "create", kind_schema, parameters=write, body=kind_schema)
        return {collection: {"post": create}}
    collection_operations: dict[str, Any] = {
        "parameters": scope,
        "get": operation("list", "list", list_schema, parameters=_LIST_PARAMETERS),
        "post": operation("post", "create", kind_schema, parameters=write, body=kind_schema),
    }
    if resource.collection_deletable:
        collection_operations["delete"] = operation(
            "deletecollection",
            "deleteCollection",
            meta_schemas.STATUS,
            parameters=_LIST_PARAMETERS,
            body=meta_schemas.DELETE_OPTIONS,
        )
    name_parameter = _path_parameter("name", f"name of the {resource.kind}")
    paths: dict[str, Any] = {
        collection: collection_operations,
        item: {
            "parameters": [name_parameter, *scope],
            "get": operation("get", "read", kind_schema, parameters={"pretty": write["pretty"]}),
            "put": operation("put", "replace", kind_schema, parameters=write, body=kind_schema),
            "patch": operation(
                "patch",
                "patch",
                kind_schema,
                parameters={**write, "force": "Take ownership of conflicting applied fields."},
                body=meta_schemas.PATCH,
                body_types=patch_types,
            ),
            "delete": operation(
                "delete",
                "delete",
                meta_schemas.STATUS,
                parameters={"dryRun": write["dryRun"], "pretty": write["pretty"]},
                body=meta_schemas.DELETE_OPTIONS,
            ),
        },
    }
    served = resource.served_version(version)
    if served is not None and served.status_subresource:
        status_path = item + "/status"
        paths[status_path] = {
            "parameters": [name_parameter, *scope],
            "get": operation("get", "read", kind_schema, parameters={"pretty": write["pretty"]}),
            "put": operation("put", "replace", kind_schema, parameters=write, body=kind_schema),
            "patch": operation(
                "patch",
                "patch",
                kind_schema,
                parameters=write,
                body=meta_schemas.PATCH,
                body_types=patch_types,
            ),
        }
        for method in ("get", "put", "patch"):
            paths[status_path][method]["operationId"] += "Status"
    return paths


def _kind_schema(resource: Resource, version: str) -> dict[str, Any]:
    served = resource.served_version(version)
    schema: dict[str, Any] = (
        copy.deepcopy(dict(served.schema)) if served and served.schema else {"type": "object"}
    )
    properties = dict(schema.get("properties") or {})
    properties["apiVersion"] = {
        "type": "string",
        "description": meta_schemas.API_VERSION_DESCRIPTION,
    }
    properties["kind"] = {"type": "string", "description": meta_schemas.KIND_DESCRIPTION}
    properties["metadata"] = meta_schemas.ref(
        meta_schemas.OBJECT_META, meta_schemas.OBJECT_META_DESCRIPTION
    ) | {"default": {}}
    schema["type"] = "object"
    schema["properties"] = properties
    schema["x-kubernetes-group-version-kind"] = [
        {"group": resource.group, "version": version, "kind": resource.kind}
    ]
    return schema


def _list_schema(resource: Resource, version: str) -> dict[str, Any]:
    item = {"allOf": [{"$ref": _REF_V3 + _schema_name(resource, version)}], "default": {}}
    return {
        "type": "object",
        "description": f"A list of {resource.kind} objects.",
        "required": ["items"],
        "properties": {
            "apiVersion": {"type": "string", "description": meta_schemas.API_VERSION_DESCRIPTION},
            "kind": {"type": "string", "description": meta_schemas.KIND_DESCRIPTION},
            "metadata": meta_schemas.ref(meta_schemas.LIST_META, meta_schemas.LIST_META_DESCRIPTION)
            | {"default": {}},
            "items": {
                "type": "array",
                "description": f"The {resource.plural}.",
                "items": item,
            },
        },
        "x-kubernetes-group-version-kind": [
            {"group": resource.group, "version": version, "kind": resource.list_kind}
        ],
    }


def v3_documents(catalog: Catalog) -> dict[str, dict[str, Any]]:
    """One OpenAPI 3.0 document per served group/version (``api/v1``, ``apis/<g>/<v>``)."""
    documents: dict[str, dict[str, Any]] = {}
    for resource in catalog.all():
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
                    "components": {"schemas": copy.deepcopy(meta_schemas.SCHEMAS)},
                },
            )
            document["paths"].update(_operations(resource, served.name))
            schemas = document["components"]["schemas"]
            schemas[_schema_name(resource, served.name)] = _kind_schema(resource, served.name)
            if not resource.create_only:
                list_name = _schema_name(resource, served.name, resource.list_kind)
                schemas[list_name] = _list_schema(resource, served.name)
    return documents


def _to_v2_schema(value: Any) -> Any:
    if isinstance(value, dict):
        converted = {}
        for key, item in value.items():
            if key in _DROPPED_IN_V2:
                continue
            if key == "$ref" and isinstance(item, str):
                converted[key] = item.replace(_REF_V3, _REF_V2)
            else:
                converted[key] = _to_v2_schema(item)
        return converted
    if isinstance(value, list):
        return [_to_v2_schema(item) for item in value]
    return value


def _to_v2_operation(operation: dict[str, Any]) -> dict[str, Any]:
    converted = {
        key: value
        for key, value in operation.items()
        if key not in ("parameters", "requestBody", "responses")
    }
    parameters = [
        {key: value for key, value in p.items() if key != "schema"} | {"type": "string"}
        for p in operation.get("parameters") or ()
    ]
    body = operation.get("requestBody")
    if body is not None:
        media_types = list(body["content"])
        schema = body["content"][media_types[0]]["schema"]
        parameters.insert(
            0, {"name": "body", "in": "body", "required": True, "schema": _to_v2_schema(schema)}
        )
        converted["consumes"] = media_types
    if parameters:
        converted["parameters"] = parameters
    converted["produces"] = _JSON_TYPES
    converted["schemes"] = ["https"]
    answer = operation["responses"]["200"]["content"]["application/json"]["schema"]
    converted["responses"] = {"200": {"description": "OK", "schema": _to_v2_schema(answer)}}
    return converted


def v2_document(documents: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The Swagger 2.0 document of every group/version, from their v3 documents."""
    paths: dict[str, Any] = {}
    definitions: dict[str, Any] = {}
    for document in documents.values():
        for path, item in document["paths"].items():
            converted: dict[str, Any] = {}
            for method, operation in item.items():
                if method == "parameters":
                    converted[method] = [
                        {key: value for key, value in p.items() if key != "schema"}
                        | {"type": "string"}
                        for p in operation
                    ]
                else:
                    converted[method] = _to_v2_operation(operation)
            paths[path] = converted
        for name, schema in document["components"]["schemas"].items():
            definitions[name] = _to_v2_schema(schema)
    return {
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": "v1.37.0"},
        "paths": paths,
        "definitions": definitions,
    }


def _encode(document: dict[str, Any]) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()


class OpenApi:
    """Documents cached per catalog generation."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog
        self._generation = -1
        self._documents: dict[str, bytes] = {}
        self._hashes: dict[str, str] = {}
        self._v2: bytes = b""

    def _refresh(self) -> None:
        if self._generation == self._catalog.generation:
            return
        documents = v3_documents(self._catalog)
        self._documents = {key: _encode(doc) for key, doc in documents.items()}
        self._hashes = {
            key: hashlib.sha256(body).hexdigest()[:32].upper()
            for key, body in self._documents.items()
        }
        self._v2 = _encode(v2_document(documents))
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

    def swagger(self) -> bytes:
        """The ``/openapi/v2`` document, JSON."""
        self._refresh()
        return self._v2


def accepts_json(accept: str) -> bool:
    """Whether an Accept header admits JSON (absent, ``*/*``, ``application/*`` or JSON)."""
    if not accept.strip():
        return True
    for entry in accept.split(","):
        media = entry.split(";")[0].strip().lower()
        if media in ("*/*", "application/*", "application/json"):
            return True
    return False
