"""Field management for the API server: ``metadata.managedFields`` on every write, and apply.

:class:`FieldManager` joins the pure ownership rules (:mod:`..machinery.applying`) to a
resource: its schemas (with their list and map markers) give the shape of each served
version, and the server's conversion shows an object in the version each manager used.

Guarantees, as kube-apiserver's field manager:

* every write through the API server records its manager (never failing a write for it: an
  object whose lists cannot be tracked loses its managedFields instead): :meth:`track` for
  create, update, every patch type and status writes (an entry with ``operation: Update``
  and, for status, ``subresource: status``); :meth:`apply` for apply patches
  (``operation: Apply``);
* managedFields sent in a request replace the stored ones when they are a valid list with
  entries, clear them when they are ``[]`` or ``[{}]``, and are ignored otherwise (and always
  on the status subresource), so clients unaware of the field never erase it;
* a write that changes nothing but managers' timestamps keeps the stored managedFields
  exactly, so it stays a no-op;
* at most ten ``Update`` managers are kept (older ones fold into ``ancient-changes``);
* an apply by ``kubectl`` to an object that carries kubectl's last-applied-configuration
  annotation may take the fields that annotation set (still at their values) without force,
  and brings the annotation up to date, so moving between client- and server-side apply
  works both ways;
* an apply conflict is a 409 ``Conflict`` Status worded as kube-apiserver words it, with one
  ``FieldManagerConflict`` cause per field.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from ..machinery import applying, errors, managedfields, shapes, structured
from ..machinery.fieldsets import FieldsError
from ..machinery.managedfields import Managed, Manager
from .resources import Resource

__all__ = ["DEFAULT_MANAGER", "FieldManager"]

DEFAULT_MANAGER = "kube-apiserver"
"""The manager of writes the server makes itself (system namespaces, CRD installation)."""

Convert = Callable[[Resource, dict[str, Any], str], dict[str, Any]]

KUBECTL = "kubectl"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def _last_applied(config: dict[str, Any]) -> str:
    """kubectl's client-side apply annotation for an applied configuration (kube-apiserver's
    lastAppliedUpdater: JSON of the configuration without the annotation itself)."""
    meta = dict(config.get("metadata") or {})
    annotations = {
        key: value for key, value in (meta.get("annotations") or {}).items() if key != LAST_APPLIED
    }
    if "annotations" in meta:
        meta["annotations"] = annotations
    document = {**config, "metadata": meta}
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"


def _without_managed_fields(obj: dict[str, Any]) -> dict[str, Any]:
    meta = {key: value for key, value in obj["metadata"].items() if key != "managedFields"}
    return {**obj, "metadata": meta}


def _untimed(entries: object) -> object:
    if not isinstance(entries, list):
        return entries
    return [
        {key: value for key, value in entry.items() if key != "time"}
        if isinstance(entry, dict)
        else entry
        for entry in entries
    ]


class FieldManager:
    """Computes managedFields for writes to any resource of the server."""

    def __init__(self, convert: Convert, clock: Callable[[], str]) -> None:
        self._convert = convert
        self._clock = clock

    def shape(self, resource: Resource, version: str) -> shapes.Shape:
        served = resource.served_version(version)
        schema = served.schema if served is not None else None
        return shapes.root_shape(dict(schema) if schema else None)

    def _version_of(self, resource: Resource, api_version: str) -> str | None:
        for version in resource.versions:
            if version.served and resource.api_version(version.name) == api_version:
                return version.name
        return None

    def _view(self, resource: Resource, old: dict[str, Any] | None) -> applying.View:
        def view(api_version: str, new: object) -> tuple[object, object, shapes.Shape] | None:
            version = self._version_of(resource, api_version)
            if version is None or not isinstance(new, dict):
                return None
            return (
                None if old is None else self._present(resource, old, version),
                self._present(resource, new, version),
                self.shape(resource, version),
            )

        return view

    def _present(self, resource: Resource, obj: dict[str, Any], version: str) -> dict[str, Any]:
        return _without_managed_fields(self._convert(resource, obj, version))

    def track(
        self,
        resource: Resource,
        version: str,
        old: dict[str, Any] | None,
        new: dict[str, Any],
        manager: str,
        subresource: str = "",
    ) -> None:
        """Set ``new``'s managedFields for a non-apply write (``new`` is changed in place)."""
        stored = (old or {}).get("metadata", {}).get("managedFields")
        sent = new["metadata"].get("managedFields")
        managed = self._managed_for_update(stored, sent, from_request=not subresource)
        identity = Manager.of(manager, "Update", resource.api_version(version), subresource)
        old_view = None if old is None else self._present(resource, old, version)
        new_view = self._present(resource, new, version)
        try:
            result = applying.track_update(
                old_view,
                new_view,
                self.shape(resource, version),
                managed,
                identity,
                view=self._view(resource, old),
                now=self._clock(),
            )
        except structured.StructureError:
            result = {}  # as kube's UpdateNoErrors: no managedFields rather than wrong ones
        self._store(new, result, old)

    def _managed_for_update(self, stored: object, sent: object, *, from_request: bool) -> Managed:
        if from_request and managedfields.is_reset(sent):
            return {}
        if from_request:
            try:
                managed = managedfields.decode(sent)
            except FieldsError:
                managed = {}
            if managed:
                return managed
        try:
            return managedfields.decode(stored)
        except FieldsError:
            return {}

    def _store(self, new: dict[str, Any], managed: Managed, old: dict[str, Any] | None) -> None:
        meta = new["metadata"]
        encoded = managedfields.encode(applying.cap_update_managers(managed))
        previous = (old or {}).get("metadata", {}).get("managedFields")
        if (
            old is not None
            and _untimed(encoded) == _untimed(previous)
            and _without_managed_fields(new) == _without_managed_fields(old)
        ):
            encoded = copy.deepcopy(previous)
        if encoded:
            meta["managedFields"] = encoded
        else:
            meta.pop("managedFields", None)

    def _not_upgrading(
        self,
        manager: str,
        live: dict[str, Any] | None,
        shape: shapes.Shape,
        conflicts: applying.Conflicts,
    ) -> applying.Conflicts:
        """The conflicts left once kubectl's upgrade from client-side apply is allowed.

        As kube-apiserver's lastAppliedManager: an apply by ``kubectl`` may take, without
        force, the fields its last-applied-configuration annotation set to their live values.
        """
        annotations = (live or {}).get("metadata", {}).get("annotations") or {}
        if manager != KUBECTL or not annotations.get(LAST_APPLIED):
            return conflicts
        try:
            last = json.loads(annotations[LAST_APPLIED])
            if not isinstance(last, dict):
                return conflicts
            allowed = (
                structured.fields_of(last, shape) - structured.compare(last, live, shape).modified
            )
        except (ValueError, structured.StructureError):
            return conflicts
        return applying.Conflicts(
            [conflict for conflict in conflicts.conflicts if conflict.path not in allowed]
        )

    def apply(
        self,
        resource: Resource,
        version: str,
        live: dict[str, Any] | None,
        config: dict[str, Any],
        manager: str,
        *,
        force: bool,
        subresource: str = "",
    ) -> dict[str, Any]:
        """The object (in ``version``) after ``manager`` applies ``config`` to ``live``.

        ``live`` is the stored object (None: it does not exist); ``config`` has been checked
        (apiVersion, kind, names) and pruned of unknown fields.
        """
        live_view = None if live is None else self._present(resource, live, version)
        stored = (live or {}).get("metadata", {}).get("managedFields")
        try:
            managed = managedfields.decode(stored)
        except FieldsError:
            managed = {}
        identity = Manager.of(manager, "Apply", resource.api_version(version), subresource)
        shape = self.shape(resource, version)

        def attempt(forced: bool) -> tuple[object, Managed]:
            return applying.apply(
                live_view,
                config,
                shape,
                managed,
                identity,
                resource.api_version(version),
                force=forced,
                view=self._view(resource, live),
                now=self._clock(),
            )

        try:
            try:
                merged, result = attempt(force)
            except applying.Conflicts as conflicts:
                left = self._not_upgrading(manager, live_view, shape, conflicts)
                if left.conflicts:
                    raise left from conflicts
                merged, result = attempt(True)
        except applying.Conflicts as conflicts:
            raise errors.Conflict(
                conflicts.message,
                causes=tuple(
                    errors.Cause(conflict.field, "FieldManagerConflict", conflict.message)
                    for conflict in conflicts.conflicts
                ),
            ) from conflicts
        except structured.StructureError as error:
            raise errors.Invalid(str(error)) from error
        assert isinstance(merged, dict)
        if manager == KUBECTL and LAST_APPLIED in (merged["metadata"].get("annotations") or {}):
            merged["metadata"]["annotations"][LAST_APPLIED] = _last_applied(config)
        self._store(
            merged, result, None if live is None else self._convert(resource, live, version)
        )
        return merged
