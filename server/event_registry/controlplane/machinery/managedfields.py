"""``metadata.managedFields`` as data: who manages which fields, decoded and encoded.

A :class:`Manager` is what identifies an entry, as kube-apiserver's ``BuildManagerIdentifier``
does: the manager name, the operation (``Apply`` or ``Update``), the subresource, and for
``Update`` entries only, the apiVersion (an applier keeps one entry across versions).
:data:`Managed` maps each manager to its :class:`Entry`: the :class:`~.fieldsets.FieldSet`
it owns, the apiVersion those paths are in, and when it last changed something.

Guarantees: :func:`decode` accepts what :func:`encode` produces and raises
:class:`~.fieldsets.FieldsError` for a malformed list (an entry that is not an object, an
unknown operation or fieldsType, bad FieldsV1, two entries for one manager); :func:`encode`
orders entries as kube-apiserver does (``Apply`` before ``Update``, then by time, manager,
apiVersion, subresource) and leaves out managers that own nothing. :func:`is_reset` is
kube's test for a request that clears managedFields (``[]`` or ``[{}]``). Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from . import fieldsets
from .fieldsets import FieldsError, FieldSet

__all__ = ["STRIPPED", "Entry", "Managed", "Manager", "decode", "encode", "is_reset", "label"]

Operation = Literal["Apply", "Update"]


@dataclass(frozen=True)
class Manager:
    name: str
    operation: Operation
    api_version: str = ""
    """Part of the identity of ``Update`` entries only (empty for ``Apply``)."""
    subresource: str = ""

    @classmethod
    def of(
        cls, name: str, operation: Operation, api_version: str, subresource: str = ""
    ) -> Manager:
        return cls(name, operation, api_version if operation == "Update" else "", subresource)


@dataclass(frozen=True)
class Entry:
    fields: FieldSet
    api_version: str
    time: str | None = None


Managed = dict[Manager, Entry]

#: Paths no manager owns, whatever it sends (kube-apiserver's stripMeta set).
STRIPPED: Final = FieldSet.of(
    [
        ("f:apiVersion",),
        ("f:kind",),
        ("f:metadata",),
        *(
            ("f:metadata", f"f:{name}")
            for name in (
                "name",
                "namespace",
                "creationTimestamp",
                "selfLink",
                "uid",
                "clusterName",
                "generation",
                "managedFields",
                "resourceVersion",
            )
        ),
    ]
)


def is_reset(entries: object) -> bool:
    """Whether a request's managedFields ask for all of them to be cleared."""
    return isinstance(entries, list) and (entries == [] or entries == [{}])


def decode(entries: object) -> Managed:
    if entries is None:
        return {}
    if not isinstance(entries, list):
        raise FieldsError("metadata.managedFields must be a list")
    managed: Managed = {}
    for position, raw in enumerate(entries):
        if not isinstance(raw, Mapping):
            raise FieldsError(f"metadata.managedFields[{position}] must be an object")
        operation = raw.get("operation")
        if operation not in ("Apply", "Update"):
            raise FieldsError(
                f"metadata.managedFields[{position}].operation must be Apply or Update"
            )
        if raw.get("fieldsType", "FieldsV1") != "FieldsV1":
            raise FieldsError(f"metadata.managedFields[{position}].fieldsType must be FieldsV1")
        texts = [raw.get(name) or "" for name in ("manager", "apiVersion", "subresource")]
        if not all(isinstance(text, str) for text in texts):
            raise FieldsError(f"metadata.managedFields[{position}] has a non-string name")
        name, api_version, subresource = texts
        manager = Manager.of(name, operation, api_version, subresource)
        if manager in managed:
            raise FieldsError(f"metadata.managedFields has two entries for manager {name!r}")
        time = raw.get("time")
        managed[manager] = Entry(
            fieldsets.decode(raw.get("fieldsV1") or {}),
            api_version,
            time if isinstance(time, str) else None,
        )
    return managed


def _order(item: tuple[Manager, Entry]) -> tuple[str, str, str, str, str]:
    manager, entry = item
    return (
        manager.operation,
        entry.time or "",
        manager.name,
        entry.api_version,
        manager.subresource,
    )


def encode(managed: Managed) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for manager, entry in sorted(managed.items(), key=_order):
        if not entry.fields:
            continue
        encoded: dict[str, Any] = {
            "manager": manager.name,
            "operation": manager.operation,
            "apiVersion": entry.api_version,
        }
        if entry.time:
            encoded["time"] = entry.time
        encoded["fieldsType"] = "FieldsV1"
        encoded["fieldsV1"] = fieldsets.encode(entry.fields)
        if manager.subresource:
            encoded["subresource"] = manager.subresource
        entries.append(encoded)
    return entries


def label(manager: Manager, entry: Entry | None) -> str:
    """A manager as conflicts name it: ``"kubectl"``, ``"x" using eventing.knative.dev/v1``."""
    text = f'"{manager.name}"'
    if manager.subresource:
        text += f' with subresource "{manager.subresource}"'
    if manager.operation == "Update":
        version = manager.api_version or (entry.api_version if entry else "")
        text += f" using {version}"
    return text
