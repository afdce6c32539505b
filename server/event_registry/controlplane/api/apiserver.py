"""The API semantics of the control plane: create, read, update, patch and delete objects.

This is what kube-apiserver's generic registry does, for every served resource:

- writes are validated (apiVersion/kind/namespace/name agreement, names, schema, admission)
  *before* anything is stored, so a rejected request changes nothing;
- every successful write is one storage revision and one published event, in order;
- optimistic concurrency: a stale ``metadata.resourceVersion`` is a 409 Conflict;
- the status subresource and the main resource change disjoint parts of an object, and
  status changes never bump ``metadata.generation``;
- an update that changes nothing writes nothing (no new resourceVersion, no event);
- deletion honours finalizers: an object with finalizers gets a ``deletionTimestamp`` and
  goes away when the last finalizer is removed; ownerReference cascades are the garbage
  collector's job (:mod:`collecting`), driven by the events published here.

All methods are synchronous and never await, so each one is atomic with respect to every
other request served by the same event loop.
"""

from __future__ import annotations

import copy
import datetime
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ..machinery import errors, names, patching, schemas
from ..storage.listing import ListOptions, list_page
from ..storage.sqlite import Event, Storage, TooOld
from . import serverside
from .admission import Admission, Request
from .catalog import Catalog
from .conversion import Conversion
from .fieldmanager import DEFAULT_MANAGER, FieldManager
from .resources import Resource, object_meta_schema, resource_from_crd

FieldValidation = Literal["Strict", "Warn", "Ignore"]
CRD_KEY = "customresourcedefinitions.apiextensions.k8s.io"
CONTROLLER_MANAGER = "kube-controller-manager"
"""The manager of the garbage collector's writes (finalizers and ownerReferences removed)."""
NAMESPACES_KEY = "namespaces"


def now_rfc3339() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Target:
    """The object or collection a request addresses."""

    resource: Resource
    version: str
    namespace: str = ""
    name: str = ""
    subresource: str = ""

    def details(self, name: str | None = None) -> errors.Details:
        return errors.Details(
            name=self.name if name is None else name,
            group=self.resource.group,
            kind=self.resource.plural,
        )


@dataclass
class WriteResult:
    object: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    created: bool = False


Listener = Callable[[Event], None]

_META_SCHEMA = {"type": "object", "properties": {"metadata": object_meta_schema()}}
_SERVER_OWNED_META = ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds")


class ApiServer:
    """Object semantics over :class:`Storage`, for the resources in a :class:`Catalog`."""

    def __init__(
        self,
        storage: Storage,
        *,
        catalog: Catalog | None = None,
        admission: Admission | None = None,
        conversion: Conversion | None = None,
        clock: Callable[[], str] = now_rfc3339,
    ) -> None:
        self.storage = storage
        self.catalog = catalog or Catalog()
        self.admission = admission or Admission()
        self.conversion = conversion or Conversion()
        self.clock = clock
        self.fields = FieldManager(self.conversion.convert, clock)
        self._listeners: list[Listener] = []
        self._refresh_catalog()

    # events --------------------------------------------------------------------------------

    def add_listener(self, listener: Listener) -> None:
        """Called synchronously, in revision order, after every committed write."""
        self._listeners.append(listener)

    def _commit(
        self,
        kind: Literal["ADDED", "MODIFIED", "DELETED"],
        resource: Resource,
        obj: dict[str, Any],
        previous: dict[str, Any] | None,
    ) -> Event:
        event = self.storage.write(kind, resource.key, obj, previous)
        if resource.key == CRD_KEY:
            self._refresh_catalog()
        for listener in self._listeners:
            listener(event)
        return event

    def _refresh_catalog(self) -> None:
        self.catalog.replace_custom(
            resource_from_crd(crd) for crd in self.storage.items(CRD_KEY) if crd.get("status")
        )

    # reads ---------------------------------------------------------------------------------

    def _stored(self, target: Target, name: str | None = None) -> dict[str, Any]:
        name = target.name if name is None else name
        obj = self.storage.get(target.resource.key, target.namespace, name)
        if obj is None:
            raise errors.NotFound(f'{target.resource.key} "{name}" not found', target.details(name))
        return obj

    def present(self, target: Target, obj: dict[str, Any]) -> dict[str, Any]:
        """A stored object as served in the target's version."""
        return self.conversion.convert(target.resource, obj, target.version)

    def get(self, target: Target) -> dict[str, Any]:
        return self.present(target, self._stored(target))

    def list_objects(
        self, target: Target, options: ListOptions
    ) -> tuple[list[dict[str, Any]], int, str | None]:
        """Matching stored objects, the revision they are consistent at, and a continue token."""
        return list_page(
            self.storage,
            target.resource.key,
            target.namespace,
            options,
            field_labels=target.resource.field_labels,
        )

    # writes --------------------------------------------------------------------------------

    def create(
        self,
        target: Target,
        body: Any,
        *,
        field_validation: FieldValidation = "Warn",
        dry_run: bool = False,
        manager: str | None = DEFAULT_MANAGER,
    ) -> WriteResult:
        """Create an object; ``manager`` is recorded in its managedFields (None: the body's
        managedFields are already computed, by an apply)."""
        resource = target.resource
        obj, warnings = self._decode(target, body, field_validation)
        meta = obj["metadata"]
        if target.subresource:
            raise errors.MethodNotAllowed(f"create is not supported on {target.subresource}")
        generate = not meta.get("name")
        if generate and not meta.get("generateName"):
            raise errors.invalid(
                resource.kind,
                "",
                resource.group,
                [
                    errors.Cause(
                        "metadata.name",
                        "FieldValueRequired",
                        "Required value: name or generateName is required",
                    )
                ],
            )
        if generate:
            meta["name"] = names.generate_name(meta["generateName"])
        self._validate_meta(target, obj)
        self._check_namespace_accepts(target)
        for attempt in range(8):
            if self.storage.get(resource.key, target.namespace, meta["name"]) is None:
                break
            if not generate or attempt == 7:
                raise errors.AlreadyExists(
                    f'{resource.key} "{meta["name"]}" already exists', target.details(meta["name"])
                )
            meta["name"] = names.generate_name(meta["generateName"])
        for key in (*_SERVER_OWNED_META, "resourceVersion", "selfLink"):
            meta.pop(key, None)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = self.clock()
        if resource.generation_tracked:
            meta["generation"] = 1
        else:
            meta.pop("generation", None)
        if resource.storage_version.status_subresource and not resource.builtin:
            obj.pop("status", None)
        if manager is not None:
            self.fields.track(resource, target.version, None, obj, manager)
        stored = self._to_storage(resource, obj)
        self.admission.admit(Request("CREATE", resource, stored, None))
        self._validate_meta(target, stored)  # admission may have added labels or annotations
        if dry_run:
            return WriteResult(self.present(target, stored), warnings, created=True)
        self._commit("ADDED", resource, stored, None)
        return WriteResult(self.present(target, stored), warnings, created=True)

    def update(
        self,
        target: Target,
        body: Any,
        *,
        field_validation: FieldValidation = "Warn",
        dry_run: bool = False,
        manager: str | None = DEFAULT_MANAGER,
    ) -> WriteResult:
        """Replace an object (or its status); ``manager`` as for :meth:`create`."""
        resource = target.resource
        old = self._stored(target)
        obj, warnings = self._decode(target, body, field_validation)
        meta = obj["metadata"]
        if meta.get("name") and meta["name"] != target.name:
            raise errors.BadRequest(
                "the name of the object "
                f"({meta['name']}) does not match the name on the URL ({target.name})",
                target.details(),
            )
        meta["name"] = target.name
        requested = meta.get("resourceVersion")
        if not requested and not resource.allow_unconditional_update:
            raise errors.invalid(
                resource.kind,
                target.name,
                resource.group,
                [
                    errors.invalid_value(
                        "metadata.resourceVersion", 0, "must be specified for an update"
                    )
                ],
            )
        if requested and requested != old["metadata"]["resourceVersion"]:
            raise self._conflict(target)
        self._validate_meta(target, obj)
        new = self._merge_update(target, old, self._to_storage(resource, obj))
        if manager is not None:
            self.fields.track(resource, target.version, old, new, manager, target.subresource)
        elif "managedFields" in obj["metadata"]:
            new["metadata"]["managedFields"] = obj["metadata"]["managedFields"]
        else:
            new["metadata"].pop("managedFields", None)
        self.admission.admit(Request("UPDATE", resource, new, old, target.subresource))
        self._validate_meta(target, new)
        return WriteResult(
            self.present(target, self._write_update(resource, old, new, dry_run)), warnings
        )

    def patch(
        self,
        target: Target,
        patch_type: str,
        patch: Any,
        *,
        field_validation: FieldValidation = "Warn",
        dry_run: bool = False,
        manager: str = DEFAULT_MANAGER,
        force: bool | None = None,
    ) -> WriteResult:
        """Patch an object; an apply patch (``application/apply-patch+yaml``) is server-side
        apply (:meth:`apply`), and ``force`` is refused for every other type."""
        if patch_type.strip().lower() == patching.APPLY_PATCH:
            return self.apply(
                target,
                patch,
                manager=manager,
                force=bool(force),
                field_validation=field_validation,
                dry_run=dry_run,
            )
        if force is not None:
            raise errors.invalid(
                "PatchOptions",
                "",
                "meta.k8s.io",
                [errors.forbidden_field("force", "may not be specified for non-apply patch")],
            )
        old = self._stored(target)
        current = self.present(target, old)
        patched = patching.apply_patch(
            current, patch_type, patch, strategic=target.resource.strategic_merge_patch
        )
        if not isinstance(patched, dict) or not isinstance(patched.get("metadata"), dict):
            raise errors.BadRequest("the patch produced an invalid object", target.details())
        meta = patched["metadata"]
        patched_version = meta.get("resourceVersion")
        preconditioned = isinstance(patch, dict) and "resourceVersion" in (
            patch.get("metadata") or {}
        )
        if not preconditioned or not patched_version:
            meta["resourceVersion"] = old["metadata"]["resourceVersion"]
        return self.update(
            target, patched, field_validation=field_validation, dry_run=dry_run, manager=manager
        )

    def apply(
        self,
        target: Target,
        body: Any,
        *,
        manager: str,
        force: bool = False,
        field_validation: FieldValidation = "Warn",
        dry_run: bool = False,
    ) -> WriteResult:
        """Server-side apply of the configuration ``body`` (:mod:`.serverside`): creates the
        object when it does not exist (``created``), else merges it into the live object."""
        serverside.require_manager(manager)
        resource = target.resource
        config, warnings = serverside.configuration(target, body, field_validation)
        live = self.storage.get(resource.key, target.namespace, target.name)
        if live is None:
            if target.subresource:
                raise errors.NotFound(
                    f'{resource.key} "{target.name}" not found', target.details(target.name)
                )
            config["metadata"].pop("resourceVersion", None)
            merged = self.fields.apply(resource, target.version, None, config, manager, force=force)
            result = self.create(
                target, merged, field_validation=field_validation, dry_run=dry_run, manager=None
            )
        else:
            serverside.check_precondition(target, config, live)
            merged = self.fields.apply(
                resource,
                target.version,
                live,
                config,
                manager,
                force=force,
                subresource=target.subresource,
            )
            merged["metadata"]["resourceVersion"] = live["metadata"]["resourceVersion"]
            result = self.update(
                target, merged, field_validation=field_validation, dry_run=dry_run, manager=None
            )
        result.warnings[:0] = warnings
        return result

    def delete(
        self,
        target: Target,
        options: Mapping[str, Any] | None = None,
        *,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """Delete (or start deleting) an object; returns its last state in the target version."""
        resource = target.resource
        options = options or {}
        old = self._stored(target)
        preconditions = options.get("preconditions") or {}
        old_meta = old["metadata"]
        if preconditions.get("uid") and preconditions["uid"] != old_meta["uid"]:
            raise errors.Conflict(
                f"Precondition failed: UID in precondition: {preconditions['uid']}, "
                f"UID in object meta: {old_meta['uid']}",
                target.details(),
            )
        if (
            preconditions.get("resourceVersion")
            and preconditions["resourceVersion"] != old_meta["resourceVersion"]
        ):
            raise self._conflict(target)
        policy = options.get("propagationPolicy")
        if policy is None and options.get("orphanDependents") is not None:
            policy = "Orphan" if options["orphanDependents"] else "Background"
        if policy not in (None, "Background", "Foreground", "Orphan"):
            raise errors.BadRequest(f"unknown propagationPolicy {policy!r}", target.details())
        finalizers = list(old_meta.get("finalizers") or [])
        if resource.key == NAMESPACES_KEY:
            finalizers = ["kubernetes"] if "kubernetes" not in finalizers else finalizers
        elif self.storage.dependents(old_meta["uid"]):
            extra = {"Foreground": "foregroundDeletion", "Orphan": "orphan"}.get(policy or "")
            if extra and extra not in finalizers:
                finalizers.append(extra)
        if not finalizers:
            if dry_run:
                return self.present(target, old)
            gone = copy.deepcopy(old)
            self._commit("DELETED", resource, gone, old)
            return self.present(target, gone)
        if old_meta.get("deletionTimestamp"):
            return self.present(target, old)
        new = copy.deepcopy(old)
        new["metadata"]["deletionTimestamp"] = self.clock()
        new["metadata"]["deletionGracePeriodSeconds"] = 0
        if resource.key == NAMESPACES_KEY:
            new["status"] = {**(new.get("status") or {}), "phase": "Terminating"}
        else:
            new["metadata"]["finalizers"] = finalizers
        if dry_run:
            return self.present(target, new)
        self._commit("MODIFIED", resource, new, old)
        return self.present(target, new)

    def finalize(self, target: Target, finalizer: str) -> None:
        """Remove one finalizer (the garbage collector's and namespace controller's step)."""
        old = self.storage.get(target.resource.key, target.namespace, target.name)
        if old is None:
            return
        new = copy.deepcopy(old)
        if target.resource.key == NAMESPACES_KEY and finalizer == "kubernetes":
            spec = new.setdefault("spec", {})
            spec["finalizers"] = [f for f in spec.get("finalizers") or [] if f != finalizer]
            if not old["metadata"].get("deletionTimestamp") or new["metadata"].get("finalizers"):
                self._write_update(target.resource, old, new, False)
                return
            self._commit("DELETED", target.resource, new, old)
            return
        new["metadata"]["finalizers"] = [
            f for f in new["metadata"].get("finalizers") or [] if f != finalizer
        ]
        self._track_controller(target.resource, old, new)
        self._write_update(target.resource, old, new, False)

    def force_delete(self, target: Target) -> None:
        """Delete regardless of finalizers (instances of a deleted CRD)."""
        old = self.storage.get(target.resource.key, target.namespace, target.name)
        if old is not None:
            self._commit("DELETED", target.resource, copy.deepcopy(old), old)

    def remove_owner_references(
        self, resource: Resource, namespace: str, name: str, owner_uids: set[str]
    ) -> None:
        old = self.storage.get(resource.key, namespace, name)
        if old is None:
            return
        new = copy.deepcopy(old)
        references = [
            r
            for r in new["metadata"].get("ownerReferences") or []
            if r.get("uid") not in owner_uids
        ]
        if references:
            new["metadata"]["ownerReferences"] = references
        else:
            new["metadata"].pop("ownerReferences", None)
        self._track_controller(resource, old, new)
        self._write_update(resource, old, new, False)

    def _track_controller(
        self, resource: Resource, old: dict[str, Any], new: dict[str, Any]
    ) -> None:
        """Record a garbage collector's write, so no manager keeps owning what it removed."""
        self.fields.track(resource, resource.storage_version.name, old, new, CONTROLLER_MANAGER)

    # helpers -------------------------------------------------------------------------------

    def _conflict(self, target: Target) -> errors.ApiError:
        return errors.Conflict(
            f'Operation cannot be fulfilled on {target.resource.key} "{target.name}": '
            "the object has been modified; please apply your changes to the latest version "
            "and try again",
            target.details(),
        )

    def _decode(
        self, target: Target, body: Any, field_validation: FieldValidation
    ) -> tuple[dict[str, Any], list[str]]:
        """Check the envelope, prune unknown fields and validate against the schema."""
        resource = target.resource
        if not isinstance(body, dict):
            raise errors.BadRequest(
                "the body of the request must be a JSON object", target.details()
            )
        expected = resource.api_version(target.version)
        if body.get("apiVersion", expected) != expected:
            raise errors.BadRequest(
                f"the API version in the data ({body.get('apiVersion')}) does not match the "
                f"expected API version ({expected})",
                target.details(),
            )
        if body.get("kind", resource.kind) != resource.kind:
            raise errors.BadRequest(
                f"the kind in the data ({body.get('kind')}) does not match the expected kind "
                f"({resource.kind})",
                target.details(),
            )
        meta = body.get("metadata")
        if meta is None:
            meta = {}
        if not isinstance(meta, dict):
            raise errors.BadRequest("metadata must be an object", target.details())
        if resource.namespaced and meta.get("namespace", target.namespace) != target.namespace:
            raise errors.BadRequest(
                "the namespace of the provided object does not match the namespace sent on the "
                "request",
                target.details(),
            )
        version = resource.served_version(target.version)
        assert version is not None
        checked = schemas.check_object(
            {**body, "metadata": meta}, dict(version.schema) if version.schema else None
        )
        meta_check = schemas.check_object({"metadata": meta}, _META_SCHEMA)
        unknown = [*checked.unknown_fields, *meta_check.unknown_fields]
        if field_validation == "Strict" and unknown:
            raise errors.BadRequest(
                "strict decoding error: "
                + ", ".join(f'unknown field "{path}"' for path in unknown),
                target.details(),
            )
        warnings = (
            [f'unknown field "{path}"' for path in unknown] if field_validation == "Warn" else []
        )
        causes = [*meta_check.causes, *checked.causes]
        if causes:
            raise errors.invalid(resource.kind, meta.get("name", ""), resource.group, causes)
        obj = copy.deepcopy(checked.object)
        obj["metadata"] = copy.deepcopy(meta_check.object["metadata"])
        obj["apiVersion"], obj["kind"] = expected, resource.kind
        if resource.namespaced:
            obj["metadata"]["namespace"] = target.namespace
        else:
            obj["metadata"].pop("namespace", None)
        if version.deprecated:
            warnings.append(
                version.deprecation_warning or f"{expected} {resource.kind} is deprecated"
            )
        return obj, warnings

    def _validate_meta(self, target: Target, obj: dict[str, Any]) -> None:
        resource = target.resource
        causes = names.validate_object_meta(
            obj["metadata"], namespaced=resource.namespaced, name_rule=resource.name_rule
        )
        if causes:
            raise errors.invalid(
                resource.kind, obj["metadata"].get("name", ""), resource.group, causes
            )

    def _check_namespace_accepts(self, target: Target) -> None:
        if not target.resource.namespaced:
            return
        namespace = self.storage.get(NAMESPACES_KEY, "", target.namespace)
        if namespace is None:
            raise errors.NotFound(
                f'namespaces "{target.namespace}" not found',
                errors.Details(name=target.namespace, kind="namespaces"),
            )
        if namespace["metadata"].get("deletionTimestamp"):
            raise errors.Forbidden(
                f'{target.resource.key} "{target.name or ""}" is forbidden: unable to create new '
                f"content in namespace {target.namespace} because it is being terminated",
                target.details(),
            )

    def _to_storage(self, resource: Resource, obj: dict[str, Any]) -> dict[str, Any]:
        # a resource serving another's objects (events.k8s.io Events) stores them as that one
        stored = self.catalog.by_key(resource.key) or resource
        converted = self.conversion.convert(stored, obj, stored.storage_version.name)
        return converted if converted is not obj else obj

    def _merge_update(
        self, target: Target, old: dict[str, Any], new: dict[str, Any]
    ) -> dict[str, Any]:
        """Apply the main-resource/status split and keep server-owned metadata."""
        resource = target.resource
        if target.subresource == "status":
            merged = copy.deepcopy(old)
            if "status" in new:
                merged["status"] = new["status"]
            else:
                merged.pop("status", None)
            return merged
        if target.subresource:
            raise errors.NotFound(
                f"the server could not find the requested resource ({target.subresource})"
            )
        merged = new
        meta, old_meta = merged["metadata"], old["metadata"]
        for key in _SERVER_OWNED_META:
            if key in old_meta:
                meta[key] = old_meta[key]
            else:
                meta.pop(key, None)
        if resource.storage_version.status_subresource:
            if "status" in old:
                merged["status"] = old["status"]
            else:
                merged.pop("status", None)
        return merged

    def _write_update(
        self, resource: Resource, old: dict[str, Any], new: dict[str, Any], dry_run: bool
    ) -> dict[str, Any]:
        meta, old_meta = new["metadata"], old["metadata"]
        meta["resourceVersion"] = old_meta["resourceVersion"]
        if resource.generation_tracked:
            meta["generation"] = old_meta.get("generation", 1)
            if _spec_part(new) != _spec_part(old):
                meta["generation"] += 1
        if new == old:
            return old
        if dry_run:
            return new
        if (
            meta.get("deletionTimestamp")
            and not meta.get("finalizers")
            and resource.key != NAMESPACES_KEY
        ):
            self._commit("DELETED", resource, new, old)
            return new
        self._commit("MODIFIED", resource, new, old)
        return new


def _spec_part(obj: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in obj.items() if key not in ("metadata", "status")}


__all__ = ["ApiServer", "ListOptions", "Target", "TooOld", "WriteResult", "now_rfc3339"]
