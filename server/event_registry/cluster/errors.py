"""Errors of the cluster layer, each carrying the Kubernetes ``Status`` it came from."""

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


class Expired(ClusterError):
    """410: the resourceVersion we watched from is gone; relist."""


def from_status(code: int, body: Any) -> ClusterError:
    status = body if isinstance(body, dict) else {}
    details = status.get("details")
    causes = details.get("causes") if isinstance(details, dict) else None
    kind = Expired if code == 410 else ClusterError
    return kind(
        code=code,
        reason=str(status.get("reason") or "Unknown"),
        message=str(status.get("message") or body),
        causes=list(causes) if isinstance(causes, list) else [],
    )
