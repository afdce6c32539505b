"""The control plane's error tree: every failure a client can cause is an :class:`ApiError`.

Each error renders as a Kubernetes ``Status`` object with the code and reason a real
kube-apiserver uses, so kubectl and client libraries print and classify it as they would
against a real cluster. Raising one of these never leaves partial state behind: services
raise before they write.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Cause:
    """One field-level problem, as in ``Status.details.causes``."""

    field: str
    reason: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"reason": self.reason, "message": self.message, "field": self.field}


@dataclass(frozen=True)
class Details:
    """What the error is about: ``Status.details`` without the causes."""

    name: str = ""
    group: str = ""
    kind: str = ""


class ApiError(Exception):
    """Base of every error answered as a ``Status``; subclasses fix code and reason."""

    code = 500
    reason = "InternalError"

    def __init__(
        self, message: str, details: Details | None = None, causes: tuple[Cause, ...] = ()
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or Details()
        self.causes = causes

    def __str__(self) -> str:
        return f"{self.reason} ({self.code}): {self.message}"

    def to_status(self) -> dict[str, Any]:
        status: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        details: dict[str, Any] = {
            key: value
            for key, value in (
                ("name", self.details.name),
                ("group", self.details.group),
                ("kind", self.details.kind),
            )
            if value
        }
        if self.causes:
            details["causes"] = [cause.to_dict() for cause in self.causes]
        if details:
            status["details"] = details
        return status


class BadRequest(ApiError):
    """The request is malformed (400)."""

    code, reason = 400, "BadRequest"


class Unauthorized(ApiError):
    """No valid credentials (401)."""

    code, reason = 401, "Unauthorized"


class Forbidden(ApiError):
    """The request is not allowed, e.g. creating inside a terminating namespace (403)."""

    code, reason = 403, "Forbidden"


class NotFound(ApiError):
    """The object or resource does not exist (404)."""

    code, reason = 404, "NotFound"


class MethodNotAllowed(ApiError):
    """The verb is not supported on this path (405)."""

    code, reason = 405, "MethodNotAllowed"


class NotAcceptable(ApiError):
    """No representation the client accepts (406)."""

    code, reason = 406, "NotAcceptable"


class AlreadyExists(ApiError):
    """An object with that name exists (409)."""

    code, reason = 409, "AlreadyExists"


class Conflict(ApiError):
    """A precondition such as resourceVersion or uid failed (409)."""

    code, reason = 409, "Conflict"


class Expired(ApiError):
    """The requested resourceVersion is older than the retained history (410)."""

    code, reason = 410, "Expired"


class UnsupportedMediaType(ApiError):
    """The request body's content type is not supported here (415)."""

    code, reason = 415, "UnsupportedMediaType"


class RequestEntityTooLarge(ApiError):
    """The request body is larger than the server accepts (413)."""

    code, reason = 413, "RequestEntityTooLarge"


class Invalid(ApiError):
    """The object failed validation (422); ``causes`` name the fields."""

    code, reason = 422, "Invalid"


class InternalError(ApiError):
    """A bug in the control plane (500)."""

    code, reason = 500, "InternalError"


def invalid(kind: str, name: str, group: str, causes: list[Cause]) -> ApiError:
    """A 422 whose message reads as kube-apiserver's: ``Kind "name" is invalid: field: msg``."""
    summary = "; ".join(f"{cause.field}: {cause.message}" for cause in causes)
    label = f'{kind} "{name}"' if name else kind
    return Invalid(
        f"{label} is invalid: [{summary}]" if len(causes) > 1 else f"{label} is invalid: {summary}",
        Details(name=name, group=group, kind=kind),
        tuple(causes),
    )


def required(field_path: str) -> Cause:
    return Cause(field_path, "FieldValueRequired", "Required value")


def invalid_value(field_path: str, value: object, detail: str) -> Cause:
    return Cause(field_path, "FieldValueInvalid", f"Invalid value: {json.dumps(value)}: {detail}")


def forbidden_field(field_path: str, detail: str) -> Cause:
    return Cause(field_path, "FieldValueForbidden", f"Forbidden: {detail}")


class Timeout(ApiError):
    """The server could not answer in time, e.g. a resourceVersion from the future (504)."""

    code, reason = 504, "Timeout"
