"""The one error parsing CESQL raises: ``CesqlSyntaxError``, with where and why.

Evaluation never raises: CESQL is total, its errors are outcomes (``values.Failed``).
"""

from __future__ import annotations


class CesqlSyntaxError(ValueError):
    """The expression is not CESQL v1 (a ParseError in the spec's terms)."""

    def __init__(self, reason: str, position: int) -> None:
        super().__init__(f"{reason} at offset {position}")
        self.reason = reason
        self.position = position
        """0-based character offset into the expression."""
