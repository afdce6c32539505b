"""The audit log: one ``audit.k8s.io/v1`` Event per write, as JSON lines in the data directory.

Every create, update, patch, delete and deletecollection of a stored object, and every
TokenRequest (also refused ones, with their response code), is appended to
``<data-dir>/audit.log`` once answered, at the ``Metadata`` level: ``user`` is who
authenticated, ``impersonatedUser`` whom they acted as (absent without impersonation),
``objectRef`` the resource, namespace, name (for a create, the created object's), and
``responseStatus.code``. Reviews (TokenReview, SubjectAccessReview...) change nothing and are
not recorded. Lines are written whole and flushed, so a reader sees complete records; past
``max_bytes`` the file moves to ``audit.log.1`` (one generation kept)."""

from __future__ import annotations

import datetime
import json
import uuid
from pathlib import Path
from typing import IO, Any

from .attributes import Attributes
from .identity import UserInfo

WRITE_VERBS = frozenset({"create", "update", "patch", "delete", "deletecollection"})


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _user(user: UserInfo) -> dict[str, object]:
    return user.to_dict()


class AuditLog:
    def __init__(self, path: Path, *, max_bytes: int = 50 * 1024 * 1024) -> None:
        self.path = path
        self._max_bytes = max_bytes
        self._file: IO[str] | None = None

    def _open(self) -> IO[str]:
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("a", encoding="utf-8")
        return self._file

    def record(
        self,
        attributes: Attributes,
        *,
        authenticated: UserInfo,
        code: int,
        uri: str,
        name: str = "",
    ) -> None:
        if attributes.verb not in WRITE_VERBS:
            return
        now = _now()
        object_ref: dict[str, str] = {
            key: value
            for key, value in (
                ("resource", attributes.resource),
                ("namespace", attributes.namespace),
                ("name", name or attributes.name),
                ("apiGroup", attributes.api_group),
                ("apiVersion", attributes.api_version),
                ("subresource", attributes.subresource),
            )
            if value
        }
        event: dict[str, Any] = {
            "kind": "Event",
            "apiVersion": "audit.k8s.io/v1",
            "level": "Metadata",
            "auditID": str(uuid.uuid4()),
            "stage": "ResponseComplete",
            "requestURI": uri,
            "verb": attributes.verb,
            "user": _user(authenticated),
        }
        if attributes.user != authenticated:
            event["impersonatedUser"] = _user(attributes.user)
        event["objectRef"] = object_ref
        event["responseStatus"] = {"metadata": {}, "code": code}
        event["requestReceivedTimestamp"] = now
        event["stageTimestamp"] = now
        file = self._open()
        file.write(json.dumps(event, separators=(",", ":")) + "\n")
        file.flush()
        if file.tell() > self._max_bytes:
            self.close()
            self.path.replace(self.path.with_name(self.path.name + ".1"))

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
