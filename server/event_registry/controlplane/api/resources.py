"""Resource definitions: what the control plane serves, and how each kind behaves.

A :class:`Resource` is everything the HTTP layer, discovery, OpenAPI and tables need to know
about one kind: group, names, scope, served versions with their schemas and printer columns,
and the few behaviour flags in which built-in kinds differ from custom resources (strategic
merge patch, generation tracking, unconditional updates). Definitions are immutable values;
the :mod:`catalog` swaps whole sets of them when CRDs change.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..machinery.field_labels import METADATA_ONLY, FieldLabels
from ..machinery.names import NameRule
from .schema_words import ANY_OBJECT, BOOLEAN, STRING, STRING_MAP, STRINGS, object_of

STORED_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class PrinterColumn:
    """One ``additionalPrinterColumns`` entry (the Name column is implicit)."""

    name: str
    type: str
    json_path: str
    format: str = ""
    description: str = ""
    priority: int = 0
    compute: Callable[[Mapping[str, Any]], object] | None = field(default=None, compare=False)
    """For built-in kinds whose cell is not a JSONPath (a ConfigMap's number of entries)."""


@dataclass(frozen=True)
class Version:
    """One version of a resource as served over HTTP."""

    name: str
    served: bool = True
    storage: bool = False
    deprecated: bool = False
    deprecation_warning: str | None = None
    schema: Mapping[str, Any] | None = field(default=None, compare=False)
    columns: tuple[PrinterColumn, ...] = ()
    status_subresource: bool = False


@dataclass(frozen=True)
class Resource:
    """A kind the control plane serves, in every served version."""

    group: str
    plural: str
    singular: str
    kind: str
    namespaced: bool
    versions: tuple[Version, ...]
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    builtin: bool = False
    generation_tracked: bool = True
    name_rule: NameRule = "subdomain"
    """How object names are validated: RBAC kinds allow any path segment (``system:x``)."""
    create_only: bool = False
    """A virtual kind (TokenReview, SubjectAccessReview, ...): POST answers, nothing is stored."""
    collection_deletable: bool = True
    """Whether DELETE on the collection is served (``deletecollection``); Namespaces: no."""
    open_schema: bool = False
    """A built-in kind whose spec and status are kept as sent (:mod:`.workloads`): its OpenAPI
    schema has no field structure, so it does not advertise strategic merge patches (kubectl
    then builds them from its own types, as it would without OpenAPI)."""
    stored_as: str = ""
    """The storage key of another resource whose objects this one serves, converted
    (events.k8s.io Events are the core Events); "" for a resource with objects of its own."""
    field_labels: FieldLabels = field(default=METADATA_ONLY, compare=False)
    """What a ``fieldSelector`` may name (core Events: ``involvedObject.name``, ...)."""

    @property
    def verbs(self) -> tuple[str, ...]:
        """The verbs discovery lists for the resource."""
        if self.create_only:
            return ("create",)
        if not self.collection_deletable:
            return tuple(verb for verb in STORED_VERBS if verb != "deletecollection")
        return STORED_VERBS

    @property
    def qualified_name(self) -> str:
        """The catalog's key and the name kubectl prints: ``eventtypes.eventing.knative.dev``."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def key(self) -> str:
        """Storage key: the qualified name, or that of the resource whose objects it serves."""
        return self.stored_as or self.qualified_name

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def storage_version_hash(self) -> str:
        """Discovery's ``storageVersionHash``: kube-apiserver's hash of the storage
        group/version/kind (the first 8 bytes of its SHA-256, base64)."""
        gvk = f"{self.group}/{self.storage_version.name}/{self.kind}"
        return base64.b64encode(hashlib.sha256(gvk.encode()).digest()[:8]).decode()

    @property
    def storage_version(self) -> Version:
        return next(version for version in self.versions if version.storage)

    def served_version(self, name: str) -> Version | None:
        return next((v for v in self.versions if v.name == name and v.served), None)

    def api_version(self, version: str) -> str:
        return f"{self.group}/{version}" if self.group else version

    @property
    def strategic_merge_patch(self) -> bool:
        """Built-in kinds accept strategic merge patches; custom resources answer 415."""
        return self.builtin

    @property
    def allow_unconditional_update(self) -> bool:
        """A PUT without resourceVersion is allowed for built-ins, refused (422) for CRs."""
        return self.builtin


def stored_builtin(
    group: str,
    plural: str,
    kind: str,
    *,
    namespaced: bool,
    schema: Mapping[str, Any],
    columns: tuple[PrinterColumn, ...],
    status: bool = False,
    short_names: tuple[str, ...] = (),
    categories: tuple[str, ...] = (),
    open_schema: bool = False,
) -> Resource:
    """A built-in kind stored as sent (one version ``v1``, no generation tracking unless a
    spec/status split makes it meaningful), named as kube-apiserver names it."""
    return Resource(
        group=group,
        plural=plural,
        singular=kind.lower(),
        kind=kind,
        namespaced=namespaced,
        short_names=short_names,
        categories=categories,
        builtin=True,
        generation_tracked=status,
        open_schema=open_schema,
        versions=(
            Version(
                name="v1", storage=True, status_subresource=status, schema=schema, columns=columns
            ),
        ),
    )


def object_meta_schema() -> dict[str, Any]:
    """The fields of ObjectMeta a client may send; anything else is an unknown field."""
    string = {"type": "string"}
    string_map = {"type": "object", "additionalProperties": string}
    return {
        "type": "object",
        "properties": {
            "name": string,
            "generateName": string,
            "namespace": string,
            "selfLink": string,
            "uid": string,
            "resourceVersion": string,
            "generation": {"type": "integer"},
            "creationTimestamp": {"type": "string", "nullable": True},
            "deletionTimestamp": {"type": "string", "nullable": True},
            "deletionGracePeriodSeconds": {"type": "integer"},
            "labels": string_map,
            "annotations": string_map,
            "finalizers": {"type": "array", "items": string},
            "ownerReferences": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["apiVersion", "kind", "name", "uid"],
                    "properties": {
                        "apiVersion": string,
                        "kind": string,
                        "name": string,
                        "uid": string,
                        "controller": {"type": "boolean"},
                        "blockOwnerDeletion": {"type": "boolean"},
                    },
                },
            },
            "managedFields": {
                "type": "array",
                "items": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            },
        },
    }


_CONDITIONS = {
    "type": "array",
    "items": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
    # NamespaceStatus.conditions as kube's schema marks it (server-side apply merges by type)
    "x-kubernetes-list-type": "map",
    "x-kubernetes-list-map-keys": ["type"],
}

NAMESPACES = Resource(
    group="",
    plural="namespaces",
    singular="namespace",
    kind="Namespace",
    namespaced=False,
    short_names=("ns",),
    name_rule="label",
    builtin=True,
    generation_tracked=False,
    collection_deletable=False,
    versions=(
        Version(
            name="v1",
            storage=True,
            status_subresource=True,
            schema=object_of(
                spec=object_of(finalizers=STRINGS),
                status=object_of(phase=STRING, conditions=_CONDITIONS),
            ),
            columns=(
                PrinterColumn("Status", "string", ".status.phase"),
                PrinterColumn("Age", "date", ".metadata.creationTimestamp"),
            ),
        ),
    ),
)

CONFIGMAPS = Resource(
    group="",
    plural="configmaps",
    singular="configmap",
    kind="ConfigMap",
    namespaced=True,
    short_names=("cm",),
    builtin=True,
    generation_tracked=False,
    versions=(
        Version(
            name="v1",
            storage=True,
            schema=object_of(
                data=STRING_MAP,
                binaryData={
                    "type": "object",
                    "additionalProperties": {"type": "string", "format": "byte"},
                },
                immutable=BOOLEAN,
            ),
            columns=(
                PrinterColumn(
                    "Data",
                    "integer",
                    ".data",
                    compute=lambda obj: (
                        len(obj.get("data") or {}) + len(obj.get("binaryData") or {})
                    ),
                ),
                PrinterColumn("Age", "date", ".metadata.creationTimestamp"),
            ),
        ),
    ),
)


CUSTOM_RESOURCE_DEFINITIONS = Resource(
    group="apiextensions.k8s.io",
    plural="customresourcedefinitions",
    singular="customresourcedefinition",
    kind="CustomResourceDefinition",
    namespaced=False,
    short_names=("crd", "crds"),
    categories=("api-extensions",),
    builtin=True,
    versions=(
        Version(
            name="v1",
            storage=True,
            status_subresource=True,
            schema=object_of(spec=ANY_OBJECT, status=ANY_OBJECT),
            columns=(
                PrinterColumn(
                    "Created At",
                    "date",
                    ".metadata.creationTimestamp",
                    compute=lambda obj: obj["metadata"].get("creationTimestamp"),
                ),
            ),
        ),
    ),
)

BUILTIN_RESOURCES = (NAMESPACES, CONFIGMAPS, CUSTOM_RESOURCE_DEFINITIONS)


def _printer_columns(raw: list[Mapping[str, Any]] | None) -> tuple[PrinterColumn, ...]:
    if raw is None:
        return (PrinterColumn("Age", "date", ".metadata.creationTimestamp"),)
    return tuple(
        PrinterColumn(
            name=column["name"],
            type=column.get("type", "string"),
            json_path=column["jsonPath"],
            format=column.get("format", ""),
            description=column.get("description", ""),
            priority=int(column.get("priority", 0)),
        )
        for column in raw
    )


def resource_from_crd(crd: Mapping[str, Any]) -> Resource:
    """Build the served definition of a (valid, admitted) CustomResourceDefinition object."""
    spec = crd["spec"]
    names = spec["names"]
    versions = tuple(
        Version(
            name=version["name"],
            served=bool(version.get("served", True)),
            storage=bool(version.get("storage", False)),
            deprecated=bool(version.get("deprecated", False)),
            deprecation_warning=version.get("deprecationWarning"),
            schema=(version.get("schema") or {}).get("openAPIV3Schema"),
            columns=_printer_columns(version.get("additionalPrinterColumns")),
            status_subresource="status" in (version.get("subresources") or {}),
        )
        for version in spec["versions"]
    )
    return Resource(
        group=spec["group"],
        plural=names["plural"],
        singular=names.get("singular") or names["kind"].lower(),
        kind=names["kind"],
        namespaced=spec.get("scope", "Namespaced") == "Namespaced",
        versions=versions,
        short_names=tuple(names.get("shortNames") or ()),
        categories=tuple(names.get("categories") or ()),
    )
