"""Server-side apply requests: ``PATCH`` with ``application/apply-patch+yaml``, as kube-apiserver.

:func:`configuration` checks an applied configuration against the request and prunes it;
:meth:`~.apiserver.ApiServer.apply` then lets the :class:`~.fieldmanager.FieldManager` merge it
into the live object and compute ownership, and hands the result to the ordinary write path
(create when the object does not exist yet, else update), so admission, validation, dry-run,
the no-op rule and events behave as for every other write.

Refusals, worded as kube-apiserver words them: no ``fieldManager`` (422 on ``PatchOptions``);
a body that is not an object, an apiVersion or kind other than the URL's, a name or
namespace other than the URL's, or any ``metadata.managedFields`` (400); a
``metadata.resourceVersion`` other than the live object's (409); fields other managers own
changed without ``force`` (409 with ``FieldManagerConflict`` causes). Unknown fields are
pruned from the configuration and reported as ``fieldValidation`` says. On a resource with a
status subresource, the main resource's apply ignores ``status`` and the status
subresource's apply ignores everything but ``status``, as kube's reset fields do.
"""

from __future__ import annotations

import copy
from typing import Any, Protocol

from ..machinery import errors, schemas
from .resources import Resource, object_meta_schema

__all__ = ["check_precondition", "configuration", "require_manager"]

_IDENTITY_META = ("name", "namespace")


class Addressed(Protocol):
    """What a request addresses (:class:`~.apiserver.Target`)."""

    @property
    def resource(self) -> Resource: ...
    @property
    def version(self) -> str: ...
    @property
    def namespace(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def subresource(self) -> str: ...

    def details(self, name: str | None = None) -> errors.Details: ...


def require_manager(manager: str) -> None:
    if not manager:
        raise errors.invalid(
            "PatchOptions",
            "",
            "meta.k8s.io",
            [
                errors.Cause(
                    "fieldManager",
                    "FieldValueRequired",
                    "Required value: is required for apply patch",
                )
            ],
        )


def check_precondition(target: Addressed, config: dict[str, Any], live: dict[str, Any]) -> None:
    """A resourceVersion in the configuration must be the live object's."""
    requested = config["metadata"].get("resourceVersion")
    if requested and requested != live["metadata"]["resourceVersion"]:
        raise errors.Conflict(
            f'Operation cannot be fulfilled on {target.resource.key} "{target.name}": the '
            "object has been modified; please apply your changes to the latest version and "
            "try again",
            target.details(),
        )


def configuration(
    target: Addressed, body: Any, field_validation: str
) -> tuple[dict[str, Any], list[str]]:
    """The applied configuration, checked against the URL and pruned of unknown fields."""
    resource = target.resource
    if not isinstance(body, dict):
        raise errors.BadRequest(
            "error decoding YAML: the apply patch must be an object", target.details()
        )
    expected = resource.api_version(target.version)
    if body.get("apiVersion") != expected:
        raise errors.BadRequest(
            "Incorrect version specified in apply patch. Specified patch version: "
            f"{body.get('apiVersion') or ''}, expected: {expected}",
            target.details(),
        )
    if body.get("kind") != resource.kind:
        raise errors.BadRequest(
            f"the kind in the data ({body.get('kind') or ''}) does not match the expected kind "
            f"({resource.kind})",
            target.details(),
        )
    meta = body.get("metadata") if body.get("metadata") is not None else {}
    if not isinstance(meta, dict):
        raise errors.BadRequest("metadata must be an object", target.details())
    if meta.get("managedFields") is not None:
        raise errors.BadRequest("metadata.managedFields must be nil", target.details())
    if meta.get("name") and meta["name"] != target.name:
        raise errors.BadRequest(
            f"the name of the object ({meta['name']}) does not match the name on the URL "
            f"({target.name})",
            target.details(),
        )
    if resource.namespaced and meta.get("namespace", target.namespace) != target.namespace:
        raise errors.BadRequest(
            "the namespace of the provided object does not match the namespace sent on the request",
            target.details(),
        )
    version = resource.served_version(target.version)
    schema = dict(version.schema) if version is not None and version.schema else None
    pruned, unknown = schemas.prune_object(
        {key: value for key, value in body.items() if key != "metadata"}, schema
    )
    pruned_meta, unknown_meta = schemas.prune_object(meta, object_meta_schema())
    unknown_fields = [*unknown, *(f"metadata.{path}" for path in unknown_meta)]
    if unknown_fields and field_validation == "Strict":
        raise errors.BadRequest(
            "strict decoding error: "
            + ", ".join(f'unknown field "{path}"' for path in unknown_fields),
            target.details(),
        )
    warnings = (
        [f'unknown field "{path}"' for path in unknown_fields] if field_validation == "Warn" else []
    )
    config = copy.deepcopy(pruned)
    config["metadata"] = {**copy.deepcopy(pruned_meta), "name": target.name}
    if resource.namespaced:
        config["metadata"]["namespace"] = target.namespace
    else:
        config["metadata"].pop("namespace", None)
    served = resource.served_version(target.version)
    if served is not None and served.status_subresource:
        if target.subresource == "status":
            config = {
                "apiVersion": config["apiVersion"],
                "kind": config["kind"],
                "metadata": {
                    key: value
                    for key, value in config["metadata"].items()
                    if key in (*_IDENTITY_META, "resourceVersion")
                },
                **({"status": config["status"]} if "status" in config else {}),
            }
        else:
            config.pop("status", None)
    return config, warnings
