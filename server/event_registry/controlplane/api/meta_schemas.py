"""The shared ``io.k8s.apimachinery.pkg.apis.meta.v1`` schemas every published kind refers to.

Each OpenAPI document (v3 per group/version, and the v2 document) carries these definitions
under the names kube-apiserver gives them, and every kind's ``metadata`` refers to
``ObjectMeta`` (every list's to ``ListMeta``), as kube-apiserver publishes them, so that
``kubectl explain <kind>.metadata`` lists the fields with what they mean and a generated
client finds the types it expects. Schemas are plain data written in OpenAPI v3 form with
local references (``#/components/schemas/<name>``); :mod:`.openapi` rewrites the references
for v2. The descriptions are this project's own summaries of the Kubernetes API's meaning.
"""

from __future__ import annotations

from typing import Any

META = "io.k8s.apimachinery.pkg.apis.meta.v1"
OBJECT_META = f"{META}.ObjectMeta"
LIST_META = f"{META}.ListMeta"
STATUS = f"{META}.Status"
DELETE_OPTIONS = f"{META}.DeleteOptions"
WATCH_EVENT = f"{META}.WatchEvent"
PATCH = f"{META}.Patch"

_PREFIX = "#/components/schemas/"


def ref(name: str, description: str = "") -> dict[str, Any]:
    """A property referring to a named schema (``allOf`` so it may carry a description)."""
    schema: dict[str, Any] = {"allOf": [{"$ref": _PREFIX + name}]}
    if description:
        schema["description"] = description
    return schema


def _string(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "description": description, **extra}


def _integer(description: str, bits: str = "int64") -> dict[str, Any]:
    return {"type": "integer", "format": bits, "description": description}


def _boolean(description: str) -> dict[str, Any]:
    return {"type": "boolean", "description": description}


def _strings(description: str) -> dict[str, Any]:
    return {"type": "array", "items": {"type": "string", "default": ""}, "description": description}


def _string_map(description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": {"type": "string", "default": ""},
        "description": description,
    }


def _array_of(name: str, description: str, **extra: Any) -> dict[str, Any]:
    item = {"allOf": [{"$ref": _PREFIX + name}], "default": {}}
    return {"type": "array", "items": item, "description": description, **extra}


def _object(description: str, required: list[str] | None = None, **properties: Any) -> Any:
    schema: dict[str, Any] = {"type": "object", "description": description}
    if required:
        schema["required"] = required
    schema["properties"] = properties
    return schema


API_VERSION_DESCRIPTION = (
    "The versioned schema of this representation of an object. Servers convert recognized "
    "schemas to the latest internal value and may reject unrecognized values."
)
KIND_DESCRIPTION = (
    "The REST resource this object represents, in CamelCase. Servers may infer it from the "
    "endpoint the client submits requests to; it cannot be updated."
)
OBJECT_META_DESCRIPTION = "Standard object's metadata: name, namespace, labels, annotations, ..."
LIST_META_DESCRIPTION = "Standard list metadata: the list's resourceVersion and continue token."

_TIME = f"{META}.Time"
_OWNER_REFERENCE = f"{META}.OwnerReference"
_MANAGED_FIELDS_ENTRY = f"{META}.ManagedFieldsEntry"
_FIELDS_V1 = f"{META}.FieldsV1"
_STATUS_DETAILS = f"{META}.StatusDetails"
_STATUS_CAUSE = f"{META}.StatusCause"
_PRECONDITIONS = f"{META}.Preconditions"

SCHEMAS: dict[str, dict[str, Any]] = {
    _TIME: {
        "type": "string",
        "format": "date-time",
        "description": "A timestamp in RFC 3339 form, serialized to the second, in UTC.",
    },
    _FIELDS_V1: {
        "type": "object",
        "description": (
            "The set of fields a manager owns, as a trie of field names prefixed f: (fields), "
            "k: (list items by key), v: (list items by value) and i: (by index)."
        ),
    },
    _OWNER_REFERENCE: _object(
        "Identifies an object this one depends on; when every owner is gone, the garbage "
        "collector deletes the dependent. Owners must be in the same namespace or cluster-scoped.",
        ["apiVersion", "kind", "name", "uid"],
        apiVersion=_string("API version of the owner.", default=""),
        kind=_string("Kind of the owner.", default=""),
        name=_string("Name of the owner.", default=""),
        uid=_string("UID of the owner.", default=""),
        controller=_boolean("Whether the owner is this object's managing controller."),
        blockOwnerDeletion=_boolean(
            "Whether a foreground deletion of the owner waits until this object is gone."
        ),
    )
    | {"x-kubernetes-map-type": "atomic"},
    _MANAGED_FIELDS_ENTRY: _object(
        "Which manager owns which fields of the object, through which operation and version.",
        manager=_string("Name of the workflow that manages these fields (its field manager)."),
        operation=_string("The operation that made the fields managed: Apply or Update."),
        apiVersion=_string("The version of the resource the field set is expressed in."),
        time=ref(_TIME, "When the entry was last changed by an Apply or an Update."),
        fieldsType=_string("Format of the field set; the only value is FieldsV1."),
        fieldsV1=ref(_FIELDS_V1, "The fields this manager owns."),
        subresource=_string("The subresource written through, empty for the main resource."),
    ),
    OBJECT_META: _object(
        "Metadata every persisted object carries, whether its kind is built-in or custom.",
        name=_string(
            "Unique within a namespace (or the cluster for cluster-scoped kinds); required "
            "when creating unless generateName is set. Cannot be updated."
        ),
        generateName=_string(
            "A prefix from which the server generates a unique name when name is empty."
        ),
        namespace=_string(
            "The namespace the object lives in; empty for cluster-scoped kinds. Cannot be updated."
        ),
        selfLink=_string("Deprecated and always empty."),
        uid=_string("Set by the server at creation, unique in time and space; read-only."),
        resourceVersion=_string(
            "Opaque version of the object for optimistic concurrency and watches; clients pass "
            "it back unmodified. Read-only."
        ),
        generation=_integer("Sequence number of a change of the desired state; read-only."),
        creationTimestamp=ref(_TIME, "When the server created the object; read-only."),
        deletionTimestamp=ref(
            _TIME,
            "When the object will be (or started to be) deleted; set by the server when "
            "deletion is requested and finalizers remain. Read-only.",
        ),
        deletionGracePeriodSeconds=_integer(
            "Seconds allowed for graceful termination before the object is removed; read-only."
        ),
        labels=_string_map(
            "Key/value pairs used to organize and select objects (label selectors)."
        ),
        annotations=_string_map(
            "Unstructured key/value data stored with the object for tools and controllers; "
            "not queryable."
        ),
        ownerReferences=_array_of(
            _OWNER_REFERENCE,
            "Objects this one depends on; at most one may be the managing controller.",
            **{
                "x-kubernetes-list-type": "map",
                "x-kubernetes-list-map-keys": ["uid"],
                "x-kubernetes-patch-merge-key": "uid",
                "x-kubernetes-patch-strategy": "merge",
            },
        ),
        finalizers=_strings(
            "Conditions that must be cleared (by removing the entry) before the object is "
            "deleted from storage."
        )
        | {"x-kubernetes-list-type": "set", "x-kubernetes-patch-strategy": "merge"},
        managedFields=_array_of(
            _MANAGED_FIELDS_ENTRY,
            "Which managers own which fields; maintained by the server (server-side apply).",
            **{"x-kubernetes-list-type": "atomic"},
        ),
    ),
    LIST_META: {
        "type": "object",
        "description": "Metadata of a list of objects.",
        "properties": {
            "resourceVersion": _string("The revision of storage the list is consistent with."),
            "selfLink": _string("Deprecated and always empty."),
            "continue": _string("Token for the next page of a paged list; empty on the last."),
            "remainingItemCount": _integer("How many items follow this page, when known."),
        },
    },
    _STATUS_CAUSE: _object(
        "One specific cause of an error, usually a field.",
        reason=_string("Machine-readable reason (e.g. FieldValueInvalid)."),
        message=_string("Human-readable description of the cause."),
        field=_string("Path of the field at fault, e.g. spec.ports[0].port."),
    ),
    _STATUS_DETAILS: _object(
        "What a Status is about, and its causes.",
        name=_string("Name of the object concerned."),
        group=_string("API group of the object concerned."),
        kind=_string("Kind (resource) of the object concerned."),
        uid=_string("UID of the object concerned."),
        causes=_array_of(_STATUS_CAUSE, "The individual causes, for errors with several."),
        retryAfterSeconds=_integer("Seconds to wait before retrying, when known.", "int32"),
    ),
    STATUS: _object(
        "The answer of an operation that returns no object, and of every error.",
        apiVersion=_string(API_VERSION_DESCRIPTION),
        kind=_string(KIND_DESCRIPTION),
        metadata=ref(LIST_META, LIST_META_DESCRIPTION) | {"default": {}},
        status=_string("Success or Failure."),
        message=_string("Human-readable description of the outcome."),
        reason=_string("Machine-readable reason of a failure (NotFound, Conflict, ...)."),
        details=ref(_STATUS_DETAILS, "Extended data about the reason."),
        code=_integer("The HTTP status code.", "int32"),
    )
    | {"x-kubernetes-group-version-kind": [{"group": "", "version": "v1", "kind": "Status"}]},
    _PRECONDITIONS: _object(
        "Conditions that must hold for a delete to proceed.",
        uid=_string("The object's UID must be this one."),
        resourceVersion=_string("The object's resourceVersion must be this one."),
    ),
    DELETE_OPTIONS: _object(
        "Options of a delete request.",
        apiVersion=_string(API_VERSION_DESCRIPTION),
        kind=_string(KIND_DESCRIPTION),
        gracePeriodSeconds=_integer("Seconds before the object is deleted; 0: at once."),
        preconditions=ref(_PRECONDITIONS, "Must be fulfilled before the deletion proceeds."),
        propagationPolicy=_string(
            "Whether and how dependents are garbage collected: Orphan, Background or Foreground."
        ),
        orphanDependents=_boolean("Deprecated: use propagationPolicy."),
        dryRun=_strings("All: validate the request without persisting anything."),
    ),
    WATCH_EVENT: _object(
        "One event of a watch stream.",
        ["type", "object"],
        type=_string("ADDED, MODIFIED, DELETED, BOOKMARK or ERROR.", default=""),
        object={
            "type": "object",
            "description": "The object (a Status for ERROR), in the watched version.",
        },
    ),
    PATCH: {
        "type": "object",
        "description": "The body of a PATCH request: a JSON, merge, strategic or apply patch.",
    },
}
