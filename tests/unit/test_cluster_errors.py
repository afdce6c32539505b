"""The cluster layer's one error tree, and the write port's translation of it into domain
refusals and unanswered writes (cluster/errors.py, cluster/writing.py): pure, no server."""

from __future__ import annotations

from typing import Any

import pytest

from event_registry.cluster import errors
from event_registry.cluster.writing import rejected, translated, unanswered
from event_registry.domain import writes


def status(code: int, reason: str, message: str = "refused", **details: Any) -> dict[str, Any]:
    return {
        "kind": "Status",
        "code": code,
        "reason": reason,
        "message": message,
        "details": details,
    }


@pytest.mark.parametrize(
    ("code", "reason", "expected"),
    [
        (400, "BadRequest", errors.Invalid),
        (401, "Unauthorized", errors.Unauthorized),
        (403, "Forbidden", errors.Forbidden),
        (404, "NotFound", errors.NotFound),
        (409, "Conflict", errors.Conflict),
        (409, "AlreadyExists", errors.AlreadyExists),
        (410, "Expired", errors.Expired),
        (422, "Invalid", errors.Invalid),
        (429, "TooManyRequests", errors.ClusterError),
        (500, "InternalError", errors.ClusterError),
        (503, "ServiceUnavailable", errors.ClusterError),
    ],
)
def test_each_status_is_the_error_of_its_class(
    code: int, reason: str, expected: type[errors.ClusterError]
) -> None:
    error = errors.from_status(code, status(code, reason, "why"))
    assert type(error) is expected
    assert (error.code, error.reason, error.message) == (code, reason, "why")
    assert str(error) == f"{reason} ({code}): why"


def test_already_exists_is_a_conflict() -> None:
    assert isinstance(errors.from_status(409, status(409, "AlreadyExists")), errors.Conflict)


def test_a_body_that_is_no_status_is_still_the_error_of_its_code() -> None:
    error = errors.from_status(404, "404 page not found")
    assert type(error) is errors.NotFound
    assert (error.reason, error.message, error.causes) == ("Unknown", "404 page not found", [])


def test_a_transport_failure_is_unavailable_with_code_zero() -> None:
    error = errors.unavailable("Unreachable", ConnectionRefusedError())
    assert type(error) is errors.Unavailable
    assert (error.code, error.reason, error.message) == (0, "Unreachable", "ConnectionRefusedError")


# the write port: cluster refusals → domain refusals, without HTTP codes -----------------------


def test_an_invalid_object_names_its_fields_with_kubernetes_reasons_translated() -> None:
    causes = [
        {"field": "spec.type", "reason": "FieldValueRequired", "message": "Required value"},
        {"field": "metadata.name", "reason": "FieldValueTooLong", "message": "too long"},
        {"field": "spec.x", "reason": "FieldValueNotSupported", "message": "not supported"},
        {"field": "spec.y", "reason": "FieldValueForbidden", "message": "forbidden"},
        {"reason": "FieldValueInvalid"},
    ]
    error = errors.from_status(422, status(422, "Invalid", "EventType is invalid", causes=causes))
    refusal = rejected(error)
    assert isinstance(refusal, writes.Invalid)
    assert refusal.message == "EventType is invalid"
    assert refusal.causes == (
        writes.FieldError("spec.type", "Required", "Required value"),
        writes.FieldError("metadata.name", "TooLong", "too long"),
        writes.FieldError("spec.x", "NotSupported", "not supported"),
        writes.FieldError("spec.y", "Invalid", "forbidden"),
        writes.FieldError("input", "Invalid", "EventType is invalid"),
    )


def test_a_bad_request_without_causes_blames_the_input() -> None:
    refusal = rejected(errors.from_status(400, status(400, "BadRequest", "unknown field")))
    assert isinstance(refusal, writes.Invalid)
    assert refusal.causes == (writes.FieldError("input", "Invalid", "unknown field"),)


@pytest.mark.parametrize(
    ("code", "reason", "expected"),
    [
        (404, "NotFound", writes.NotFound),
        (409, "AlreadyExists", writes.AlreadyExists),
        (409, "Conflict", writes.Conflict),
        (403, "Forbidden", writes.Forbidden),
    ],
)
def test_each_refusal_is_the_domain_error_saying_what_happened(
    code: int, reason: str, expected: type[writes.WriteRejected]
) -> None:
    refusal = rejected(errors.from_status(code, status(code, reason, "the message")))
    assert type(refusal) is expected
    assert refusal.message == "the message"
    assert not hasattr(refusal, "code")


@pytest.mark.parametrize(
    "error",
    [
        errors.Unavailable(0, "Unreachable", "connection refused"),
        errors.Unauthorized(401, "Unauthorized", "who are you"),
        errors.ClusterError(500, "InternalError", "etcd is sad"),
        errors.ClusterError(429, "TooManyRequests", "slow down"),
    ],
)
def test_a_failure_of_the_cluster_is_no_refusal_of_the_write(error: errors.ClusterError) -> None:
    assert rejected(error) is None


@pytest.mark.parametrize(
    "error",
    [
        errors.Unavailable(0, "Unreachable", "connection refused"),
        errors.Unavailable(0, "Disconnected", "timed out"),
        errors.from_status(500, status(500, "InternalError", "etcd is sad")),
        errors.from_status(503, status(503, "ServiceUnavailable", "shutting down")),
        errors.from_status(504, "gateway timeout"),
        errors.from_status(429, status(429, "TooManyRequests", "slow down")),
    ],
)
def test_a_write_the_cluster_did_not_answer_is_unanswered_and_may_be_retried(
    error: errors.ClusterError,
) -> None:
    found = unanswered(error)
    assert isinstance(found, writes.Unanswered)
    assert str(error) in found.message
    assert found.message.endswith("retry")
    assert found.retry_after_seconds >= 1


@pytest.mark.parametrize(
    "error",
    [
        errors.Unauthorized(401, "Unauthorized", "who are you"),
        errors.from_status(403, status(403, "Forbidden")),
        errors.from_status(409, status(409, "AlreadyExists")),
        errors.from_status(422, status(422, "Invalid")),
        errors.Expired(410, "Expired", "too old"),
    ],
)
def test_an_answer_is_not_unanswered(error: errors.ClusterError) -> None:
    assert unanswered(error) is None


@pytest.mark.parametrize(
    ("error", "start"),
    [
        (
            errors.Unauthorized(401, "Unauthorized", "token expired"),
            "the cluster refused the registry's own credentials",
        ),
        (errors.Expired(410, "Expired", "too old"), "the cluster answered the write unexpectedly"),
        (errors.ClusterError(418, "Teapot", "short and stout"), "the cluster answered"),
    ],
)
def test_every_failed_write_has_a_domain_answer(error: errors.ClusterError, start: str) -> None:
    found = translated(error)
    assert isinstance(found, writes.Unanswered)
    assert found.message.startswith(start), found.message
    assert str(error) in found.message
    assert found.retry_after_seconds == 30
    assert isinstance(
        translated(errors.from_status(409, status(409, "AlreadyExists"))), writes.AlreadyExists
    )
    assert isinstance(translated(errors.Unavailable(0, "Unreachable", "down")), writes.Unanswered)
