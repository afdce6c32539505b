"""Which field manager a write request names, and whether it forces an apply.

As kube-apiserver: the ``fieldManager`` query parameter names the manager; without it the
manager is the User-Agent up to its first ``/`` (``kubectl/v1.37.0 (linux/amd64) ...`` is
``kubectl``; kubectl itself always sends ``kubectl-create``, ``kubectl-client-side-apply``,
``kubectl-edit``, ...). An apply must name its manager explicitly, so the User-Agent never
stands in for it there. ``fieldManager`` longer than 128 characters or with unprintable
characters, and a ``force`` that is not a boolean, are 422 on ``PatchOptions`` (or the
request's options kind).
"""

from __future__ import annotations

from collections.abc import Mapping

from ..machinery import errors

__all__ = ["MAX_LENGTH", "explicit_manager", "force", "manager"]

MAX_LENGTH = 128


def _options_error(options_kind: str, cause: errors.Cause) -> errors.ApiError:
    return errors.invalid(options_kind, "", "meta.k8s.io", [cause])


def explicit_manager(query: Mapping[str, str], options_kind: str) -> str:
    """The ``fieldManager`` query parameter, validated; empty when absent."""
    name = query.get("fieldManager") or ""
    if len(name) > MAX_LENGTH:
        raise _options_error(
            options_kind,
            errors.Cause(
                "fieldManager",
                "FieldValueTooLong",
                f"Too long: may not be more than {MAX_LENGTH} bytes",
            ),
        )
    for position, character in enumerate(name):
        if not character.isprintable():
            raise _options_error(
                options_kind,
                errors.invalid_value(
                    "fieldManager",
                    name,
                    f"invalid character U+{ord(character):04X} (at position {position})",
                ),
            )
    return name


def manager(query: Mapping[str, str], user_agent: str, options_kind: str) -> str:
    """The manager of a non-apply write: ``fieldManager``, else the User-Agent's product."""
    return explicit_manager(query, options_kind) or user_agent.split("/")[0][:MAX_LENGTH]


def force(query: Mapping[str, str]) -> bool | None:
    """The ``force`` query parameter: None when absent."""
    value = query.get("force")
    if value is None:
        return None
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0", ""):
        return False
    raise _options_error(
        "PatchOptions", errors.invalid_value("force", value, "must be true or false")
    )
