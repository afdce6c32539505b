"""What every authentication mode offers the HTTP and WebSocket layers."""

from __future__ import annotations

from typing import Protocol

from ...domain import access


class AuthUnavailable(Exception):
    """The caller could not be checked (the cluster did not answer): not the caller's fault."""


class Authenticating(Protocol):
    @property
    def mode(self) -> str:
        """``open``, ``tokens`` or ``kubernetes``."""

    @property
    def recheck_interval(self) -> float | None:
        """How often a live connection's caller is authenticated again (None: never, its
        principal cannot change)."""

    async def authenticate(self, authorization: str | None) -> access.Principal | None:
        """The principal of an ``Authorization`` header; None when it names no caller.

        Raises :class:`AuthUnavailable` when the caller cannot be checked right now.
        """

    async def wait_for_change(self, timeout: float) -> None:
        """Return once access may have changed (RBAC did), or after ``timeout`` seconds."""
