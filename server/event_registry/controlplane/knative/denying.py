"""Refusals worded as Knative's validating webhook words them, as kube-apiserver relays them.

Knative's webhook (``knative.dev/pkg/webhook``) answers a refused write with
``MakeErrorStatus("validation failed: %v", err)``: a ``BadRequest`` Status (400) whose message
is the ``apis.FieldError`` text. kube-apiserver prefixes the webhook's name
(``admission webhook "<name>" denied the request: ...``) and keeps the 400, so kubectl prints::

    Error from server (BadRequest): error when creating "x.yaml": admission webhook
    "validation.webhook.eventing.knative.dev" denied the request: validation failed:
    missing field(s): spec.broker

:func:`denial` builds that error from our causes. The ``FieldError`` text is Knative's:
causes with the same message are merged into one line naming their paths (sorted, joined by
``", "``), lines are sorted by message and joined by newlines, and the details Knative keeps
apart from the message (the diff of ``Immutable fields changed (-old +new)``, the reason of
``must not set the field(s)``) follow their line on a line of their own.

Differences from a cluster, on purpose: the Status also carries ``details.causes`` (one per
field, as our causes are), which Knative's webhook does not send; clients that read causes
(this project's GraphQL layer) get field paths, and kubectl prints only the message. The
details of ``invalid value: <value>`` stay part of the message (``invalid value: x: why``).
"""

from __future__ import annotations

from collections.abc import Iterable

from ...knative.vocabulary import VALIDATION_WEBHOOK
from ..machinery import errors

__all__ = ["VALIDATION_WEBHOOK", "denial", "field_error_text"]


_WITH_DETAILS = (
    "Immutable fields changed (-old +new)",
    "Immutable annotations changed (-old +new)",
    "must not set the field(s)",
)
"""Knative messages whose details (a diff, a reason) our causes append after ``": "``."""


def _message_and_details(message: str) -> tuple[str, str]:
    for known in _WITH_DETAILS:
        if message.startswith(f"{known}: "):
            return known, message[len(known) + 2 :]
    return message, ""


def field_error_text(causes: Iterable[errors.Cause]) -> str:
    """``apis.FieldError.Error()``: one ``message: path, path`` line per distinct message (its
    details, if any, on the next line)."""
    paths: dict[tuple[str, str], set[str]] = {}
    for cause in causes:
        paths.setdefault(_message_and_details(cause.message), set()).add(cause.field)
    lines = []
    for message, details in sorted(paths):
        line = f"{message}: {', '.join(sorted(paths[message, details]))}"
        lines.append(f"{line}\n{details}" if details else line)
    return "\n".join(lines)


def denial(causes: list[errors.Cause]) -> errors.ApiError:
    """The 400 kube-apiserver answers when Knative's validating webhook refuses a write."""
    message = (
        f'admission webhook "{VALIDATION_WEBHOOK}" denied the request: '
        f"validation failed: {field_error_text(causes)}"
    )
    return errors.BadRequest(message, causes=tuple(causes))
