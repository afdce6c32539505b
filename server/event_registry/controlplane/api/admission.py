"""Admission: defaulting and validation rules beyond the schema, per kind.

Plugins run after schema pruning and validation, on the object in its storage version, for
create and update (status updates included). A plugin either adjusts the new object (its
caller's private copy) or raises :class:`~.errors.Invalid`; nothing has been written yet when
it runs, so a rejection changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from ..machinery import errors, names
from . import access
from .catalog import version_priority
from .resources import Resource

Operation = Literal["CREATE", "UPDATE"]


@dataclass(frozen=True)
class Request:
    """What a plugin sees: the operation, the kind, the new object and the old one."""

    operation: Operation
    resource: Resource
    new: dict[str, Any]
    old: dict[str, Any] | None
    subresource: str = ""


Plugin = Callable[[Request], list[errors.Cause]]
"""Returns field causes (empty when admitted); may default fields of ``request.new``."""


class Admission:
    """Plugins keyed by resource key (``eventtypes.eventing.knative.dev``)."""

    def __init__(self) -> None:
        self._plugins: dict[str, list[Plugin]] = {}
        self.register("namespaces", admit_namespace)
        self.register("configmaps", admit_configmap)
        self.register("customresourcedefinitions.apiextensions.k8s.io", admit_crd)
        for role in (access.ROLES, access.CLUSTER_ROLES):
            self.register(role.key, admit_role)
        for binding in (access.ROLE_BINDINGS, access.CLUSTER_ROLE_BINDINGS):
            self.register(binding.key, admit_binding)

    def register(self, resource_key: str, plugin: Plugin) -> None:
        self._plugins.setdefault(resource_key, []).append(plugin)

    def admit(self, request: Request) -> None:
        causes: list[errors.Cause] = []
        for plugin in self._plugins.get(request.resource.key, ()):
            causes.extend(plugin(request))
        if causes:
            meta = request.new.get("metadata", {})
            raise errors.invalid(
                request.resource.kind, meta.get("name", ""), request.resource.group, causes
            )


NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
"""Set by the API server on every Namespace write to the Namespace's name, as Kubernetes does."""


def admit_namespace(request: Request) -> list[errors.Cause]:
    namespace = request.new
    metadata = namespace.setdefault("metadata", {})
    labels = metadata.get("labels")
    if not isinstance(labels, dict):
        labels = metadata["labels"] = {}
    if metadata.get("name"):
        labels[NAMESPACE_NAME_LABEL] = metadata["name"]
    if request.operation == "CREATE":
        namespace.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
        namespace["status"] = {"phase": "Active"}
    return []


def admit_configmap(request: Request) -> list[errors.Cause]:
    old = request.old
    if old is None or not old.get("immutable"):
        return []
    new = request.new
    if any(new.get(key) != old.get(key) for key in ("data", "binaryData", "immutable")):
        return [errors.forbidden_field("data", "field is immutable when `immutable` is set")]
    return []


_GROUP = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+")
_RESERVED_GROUPS = {"", "apiextensions.k8s.io"}


def admit_crd(request: Request) -> list[errors.Cause]:
    """Validate a CustomResourceDefinition and publish its accepted names as established."""
    crd = request.new
    if request.subresource == "status":
        return []
    spec = crd.get("spec") or {}
    causes: list[errors.Cause] = []
    group = spec.get("group") or ""
    names_ = spec.get("names") or {}
    plural, kind = names_.get("plural") or "", names_.get("kind") or ""
    if not group:
        causes.append(errors.required("spec.group"))
    elif not _GROUP.fullmatch(group):
        causes.append(
            errors.invalid_value("spec.group", group, "should be a domain with at least one dot")
        )
    elif group in _RESERVED_GROUPS:
        causes.append(errors.invalid_value("spec.group", group, "the group is reserved"))
    for field, value in (("plural", plural), ("kind", kind)):
        if not value:
            causes.append(errors.required(f"spec.names.{field}"))
    for field in ("plural", "singular"):
        value = names_.get(field)
        if value:
            causes.extend(
                errors.invalid_value(f"spec.names.{field}", value, message)
                for message in names.dns1123_label_errors(value)
            )
    for index, short in enumerate(names_.get("shortNames") or ()):
        causes.extend(
            errors.invalid_value(f"spec.names.shortNames[{index}]", short, message)
            for message in names.dns1123_label_errors(short)
        )
    if group and plural and crd["metadata"].get("name") != f"{plural}.{group}":
        causes.append(
            errors.invalid_value(
                "metadata.name",
                crd["metadata"].get("name"),
                'must be spec.names.plural+"."+spec.group',
            )
        )
    if spec.get("scope") not in ("Namespaced", "Cluster"):
        causes.append(
            errors.Cause(
                "spec.scope",
                "FieldValueNotSupported",
                f'Unsupported value: "{spec.get("scope")}": '
                'supported values: "Cluster", "Namespaced"',
            )
        )
    causes.extend(_version_causes(spec.get("versions") or []))
    if request.old is not None:
        old_spec = request.old.get("spec") or {}
        for field in ("group",):
            if old_spec.get(field) != spec.get(field):
                causes.append(
                    errors.invalid_value(f"spec.{field}", spec.get(field), "field is immutable")
                )
        if (old_spec.get("names") or {}).get("plural") != plural:
            causes.append(errors.invalid_value("spec.names.plural", plural, "field is immutable"))
    if not causes:
        _establish(crd, request.old)
    return causes


def _version_causes(versions: list[dict[str, Any]]) -> list[errors.Cause]:
    causes: list[errors.Cause] = []
    if not versions:
        return [errors.required("spec.versions")]
    seen: set[str] = set()
    for index, version in enumerate(versions):
        name = version.get("name") or ""
        path = f"spec.versions[{index}]"
        if not name:
            causes.append(errors.required(f"{path}.name"))
        elif name in seen:
            causes.append(
                errors.Cause(f"{path}.name", "FieldValueDuplicate", f'Duplicate value: "{name}"')
            )
        else:
            causes.extend(
                errors.invalid_value(f"{path}.name", name, message)
                for message in names.dns1123_label_errors(name)
            )
        seen.add(name)
        if not ((version.get("schema") or {}).get("openAPIV3Schema")):
            causes.append(
                errors.Cause(
                    f"{path}.schema.openAPIV3Schema",
                    "FieldValueRequired",
                    "Required value: schemas are required",
                )
            )
    if sum(1 for version in versions if version.get("storage")) != 1:
        causes.append(
            errors.invalid_value(
                "spec.versions",
                [v.get("name") for v in versions],
                "must have exactly one version marked as storage version",
            )
        )
    if not any(version.get("served") for version in versions):
        causes.append(
            errors.invalid_value(
                "spec.versions",
                [v.get("name") for v in versions],
                "must have at least one version marked as served",
            )
        )
    return causes


def _establish(crd: dict[str, Any], old: dict[str, Any] | None) -> None:
    spec = crd["spec"]
    storage = next(v["name"] for v in spec["versions"] if v.get("storage"))
    stored = list(((old or {}).get("status") or {}).get("storedVersions") or [])
    if storage not in stored:
        stored.append(storage)
    now = crd["metadata"].get("creationTimestamp", "")
    crd["status"] = {
        "acceptedNames": dict(spec["names"]),
        "conditions": [
            {
                "type": "NamesAccepted",
                "status": "True",
                "reason": "NoConflicts",
                "message": "no conflicts found",
                "lastTransitionTime": now,
            },
            {
                "type": "Established",
                "status": "True",
                "reason": "InitialNamesAccepted",
                "message": "the initial names have been accepted",
                "lastTransitionTime": now,
            },
        ],
        "storedVersions": sorted(stored, key=version_priority),
    }


# --- admission: what kube-apiserver's RBAC validation refuses --------------------------------


def admit_role(request: Request) -> list[errors.Cause]:
    """Every PolicyRule names verbs, and resources or nonResourceURLs (not both in a Role)."""
    causes: list[errors.Cause] = []
    namespaced = request.resource.namespaced
    for index, rule in enumerate(request.new.get("rules") or ()):
        path = f"rules[{index}]"
        if not rule.get("verbs"):
            causes.append(errors.required(f"{path}.verbs"))
        if rule.get("nonResourceURLs"):
            if namespaced:
                causes.append(
                    errors.invalid_value(
                        f"{path}.nonResourceURLs",
                        rule["nonResourceURLs"],
                        "namespaced rules cannot apply to non-resource URLs",
                    )
                )
            elif rule.get("resources") or rule.get("apiGroups"):
                causes.append(
                    errors.invalid_value(
                        f"{path}.nonResourceURLs",
                        rule["nonResourceURLs"],
                        "rules cannot apply to both regular resources and non-resource URLs",
                    )
                )
        elif not rule.get("resources"):
            causes.append(errors.required(f"{path}.resources"))
    return causes


_SUBJECT_KINDS = ("User", "Group", "ServiceAccount")


def admit_binding(request: Request) -> list[errors.Cause]:
    """roleRef is required and immutable; subjects are Users, Groups or ServiceAccounts."""
    causes: list[errors.Cause] = []
    ref = request.new.get("roleRef") or {}
    kinds = ("Role", "ClusterRole") if request.resource.namespaced else ("ClusterRole",)
    if not ref.get("name"):
        causes.append(errors.required("roleRef.name"))
    if ref.get("kind") not in kinds:
        causes.append(
            errors.Cause(
                "roleRef.kind",
                "FieldValueNotSupported",
                (
                    f"Unsupported value: {ref.get('kind')!r}: supported values: "
                    + ", ".join(f'"{kind}"' for kind in kinds)
                ),
            )
        )
    if ref.get("apiGroup", access.RBAC_GROUP) != access.RBAC_GROUP:
        causes.append(
            errors.invalid_value(
                "roleRef.apiGroup", ref.get("apiGroup"), f"must be {access.RBAC_GROUP}"
            )
        )
    old = request.old
    if old is not None and (old.get("roleRef") or {}) != ref:
        causes.append(errors.invalid_value("roleRef", ref, "cannot change roleRef"))
    for index, subject in enumerate(request.new.get("subjects") or ()):
        path = f"subjects[{index}]"
        if not subject.get("name"):
            causes.append(errors.required(f"{path}.name"))
        if subject.get("kind") not in _SUBJECT_KINDS:
            causes.append(
                errors.Cause(
                    f"{path}.kind",
                    "FieldValueNotSupported",
                    (
                        f"Unsupported value: {subject.get('kind')!r}: supported values: "
                        '"Group", "ServiceAccount", "User"'
                    ),
                )
            )
        elif subject["kind"] == "ServiceAccount":
            if subject.get("apiGroup"):
                causes.append(
                    errors.Cause(
                        f"{path}.apiGroup",
                        "FieldValueNotSupported",
                        f'Unsupported value: {subject["apiGroup"]!r}: supported values: ""',
                    )
                )
            if not request.resource.namespaced and not subject.get("namespace"):
                causes.append(errors.required(f"{path}.namespace"))
        else:
            subject.setdefault("apiGroup", access.RBAC_GROUP)
    if ref:
        ref.setdefault("apiGroup", access.RBAC_GROUP)
    return causes
