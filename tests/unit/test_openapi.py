"""The OpenAPI documents built from a catalog: shared metadata schemas referenced by every
kind, list kinds, Swagger 2.0 conversion, and which Accept headers get JSON."""

from __future__ import annotations

import json

import pytest

from event_registry.controlplane.api import meta_schemas, openapi
from event_registry.controlplane.api.catalog import Catalog
from event_registry.controlplane.api.resources import resource_from_crd
from event_registry.controlplane.knative import definitions

V3_PREFIX = "#/components/schemas/"


def catalog() -> Catalog:
    return Catalog(resource_from_crd(crd) for crd in definitions.BUILTIN_CRDS)


def test_every_reference_in_a_v3_document_resolves_inside_it() -> None:
    for key, document in openapi.v3_documents(catalog()).items():
        text = json.dumps(document)
        schemas = document["components"]["schemas"]
        for chunk in text.split('"$ref": "')[1:]:
            target = chunk.split('"', 1)[0]
            assert target.startswith(V3_PREFIX), (key, target)
            assert target.removeprefix(V3_PREFIX) in schemas, (key, target)


def test_kinds_and_lists_refer_to_object_and_list_meta() -> None:
    core = openapi.v3_documents(catalog())["api/v1"]["components"]["schemas"]
    secret, secrets = core["io.k8s.api.core.v1.Secret"], core["io.k8s.api.core.v1.SecretList"]
    assert secret["properties"]["metadata"]["allOf"] == [
        {"$ref": V3_PREFIX + meta_schemas.OBJECT_META}
    ]
    assert secrets["properties"]["metadata"]["allOf"] == [
        {"$ref": V3_PREFIX + meta_schemas.LIST_META}
    ]
    assert secrets["properties"]["items"]["items"]["allOf"] == [
        {"$ref": V3_PREFIX + "io.k8s.api.core.v1.Secret"}
    ]
    assert secrets["x-kubernetes-group-version-kind"] == [
        {"group": "", "version": "v1", "kind": "SecretList"}
    ]
    object_meta = core[meta_schemas.OBJECT_META]["properties"]
    assert all(field.get("description") for field in object_meta.values())


def test_v2_has_no_v3_keywords_and_body_parameters() -> None:
    documents = openapi.v3_documents(catalog())
    swagger = openapi.v2_document(documents)
    text = json.dumps(swagger)
    for keyword in ('"nullable"', '"oneOf"', '"anyOf"', '"requestBody"', "#/components/"):
        assert keyword not in text
    create = swagger["paths"]["/api/v1/namespaces/{namespace}/secrets"]["post"]
    assert create["parameters"][0] == {
        "name": "body",
        "in": "body",
        "required": True,
        "schema": {"$ref": "#/definitions/io.k8s.api.core.v1.Secret"},
    }
    assert {p["name"] for p in create["parameters"][1:]} >= {"fieldValidation", "dryRun"}
    assert create["responses"]["200"]["schema"] == {
        "$ref": "#/definitions/io.k8s.api.core.v1.Secret"
    }
    assert set(swagger["definitions"]) == {
        name for document in documents.values() for name in document["components"]["schemas"]
    }


@pytest.mark.parametrize(
    ("accept", "json_ok"),
    [
        ("", True),
        ("*/*", True),
        ("application/json", True),
        ("application/json, application/com.github.proto-openapi.spec.v2@v1.0+protobuf", True),
        ("application/com.github.proto-openapi.spec.v2@v1.0+protobuf", False),
        ("text/html", False),
    ],
)
def test_which_accept_headers_get_json(accept: str, json_ok: bool) -> None:
    assert openapi.accepts_json(accept) is json_ok
