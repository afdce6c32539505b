"""The one error tree of the cluster layer: every failure of a request to the API.

:class:`~.client.ClusterClient` raises nothing else, whatever went wrong (the transport, the
API server's answer, a watch line), always chained to the underlying exception when there is
one. Each error carries the Kubernetes ``Status`` it came from (``code`` 0 when there was
none)::

    ClusterError             any failure; as is: a status without a class below (500...),
    │                        or a watch line that is not an event (BadWatchLine)
    ├── Unavailable          no answer: connection refused or lost, timeout (code 0)
    ├── Invalid              400 / 422: the request or the object is invalid (see ``causes``)
    ├── Unauthorized         401
    ├── Forbidden            403
    ├── NotFound             404
    ├── Conflict             409: the object changed since it was read
    │   └── AlreadyExists    409 with reason AlreadyExists
    └── Expired              410: the resourceVersion watched from is gone; relist

``causes`` are the Status' ``details.causes`` as sent (``field``, ``reason``, ``message``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ClusterError(Exception):
    """A request the API server refused, or a transport failure (``code`` 0)."""

    code: int
    reason: str
    message: str
    causes: list[dict[str, Any]] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.reason} ({self.code}): {self.message}"


class Unavailable(ClusterError):
    """No answer from the API server: unreachable, disconnected or timed out (code 0)."""


class Invalid(ClusterError):
    """400 or 422: the request or the object it carries is invalid (``causes`` say where)."""


class Unauthorized(ClusterError):
    """401: the API server does not know our credentials."""


class Forbidden(ClusterError):
    """403: our credentials may not do this."""


class NotFound(ClusterError):
    """404: the object, or the resource itself, does not exist."""


class Conflict(ClusterError):
    """409: the object changed since it was read (a stale resourceVersion)."""


class AlreadyExists(Conflict):
    """409 AlreadyExists: an object of that name exists."""


class Expired(ClusterError):
    """410: the resourceVersion we watched from is gone; relist."""


_BY_CODE: dict[int, type[ClusterError]] = {
    400: Invalid,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    410: Expired,
    422: Invalid,
}


def from_status(code: int, body: Any) -> ClusterError:
    """The error a ``Status`` answer (or any body sent with an error code) stands for."""
    status = body if isinstance(body, dict) else {}
    details = status.get("details")
    causes = details.get("causes") if isinstance(details, dict) else None
    reason = str(status.get("reason") or "Unknown")
    kind = AlreadyExists if code == 409 and reason == "AlreadyExists" else _BY_CODE.get(code)
    return (kind or ClusterError)(
        code=code,
        reason=reason,
        message=str(status.get("message") or body),
        causes=list(causes) if isinstance(causes, list) else [],
    )


def unavailable(reason: str, error: BaseException) -> Unavailable:
    """A transport failure as :class:`Unavailable` (chain it: ``raise ... from error``)."""
    return Unavailable(0, reason, str(error) or type(error).__name__)
