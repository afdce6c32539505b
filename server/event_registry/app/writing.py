"""Cluster writes for mutations: domain kinds → API resources, API refusals → WriteRejected.

EventTypes are written in their storage version (v1beta2), whatever version the informer
watches; every Status the API answers with becomes a typed
:class:`~..domain.writes.WriteRejected` carrying its field causes.
"""

from __future__ import annotations

from typing import Any

from ..cluster import errors as cluster_errors
from ..cluster import kinds
from ..cluster.writing import Writer
from ..domain.writes import FieldError, WriteRejected
from ..store.caching import Kind

_RESOURCES: dict[Kind, kinds.ResourceRef] = {
    "EventType": kinds.event_types("v1beta2"),
    "Broker": kinds.BROKERS,
    "Trigger": kinds.TRIGGERS,
    "Namespace": kinds.NAMESPACES,
}
_REASONS = {
    "FieldValueRequired": "Required",
    "FieldValueTooLong": "TooLong",
    "FieldValueNotSupported": "NotSupported",
}


def rejected(error: cluster_errors.ClusterError) -> WriteRejected:
    causes = tuple(
        FieldError(
            field=str(cause.get("field") or "input"),
            reason=_REASONS.get(str(cause.get("reason")), "Invalid"),  # type: ignore[arg-type]
            message=str(cause.get("message") or error.message),
        )
        for cause in error.causes
    )
    return WriteRejected(error.code, error.reason, error.message, causes)


class ClusterWriteService:
    def __init__(self, writer: Writer, *, timeout: float = 10.0) -> None:
        self._writer = writer
        self.timeout = timeout

    async def create(self, kind: Kind, namespace: str, manifest: dict[str, Any]) -> dict[str, Any]:
        try:
            return await self._writer.create(_RESOURCES[kind], namespace, manifest)
        except cluster_errors.ClusterError as error:
            if error.code == 0:
                raise
            raise rejected(error) from error

    async def delete(self, kind: Kind, namespace: str, name: str) -> None:
        try:
            await self._writer.delete(_RESOURCES[kind], namespace, name)
        except cluster_errors.ClusterError as error:
            if error.code == 0:
                raise
            raise rejected(error) from error
