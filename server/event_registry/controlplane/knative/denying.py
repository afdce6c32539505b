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
``", "``), lines are sorted by message and joined by newlines.

Differences from a cluster, on purpose: the Status also carries ``details.causes`` (one per
field, as our causes are), which Knative's webhook does not send; clients that read causes
(this project's GraphQL layer) get field paths, and kubectl prints only the message. Where
Knative keeps a cause's details on a line of their own, ours are part of the message.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..machinery import errors

__all__ = ["VALIDATION_WEBHOOK", "denial", "field_error_text"]

VALIDATION_WEBHOOK = "validation.webhook.eventing.knative.dev"


def field_error_text(causes: Iterable[errors.Cause]) -> str:
    """``apis.FieldError.Error()``: one ``message: path, path`` line per distinct message."""
    paths: dict[str, set[str]] = {}
    for cause in causes:
        paths.setdefault(cause.message, set()).add(cause.field)
    return "\n".join(f"{message}: {', '.join(sorted(paths[message]))}" for message in sorted(paths))


def denial(causes: list[errors.Cause]) -> errors.ApiError:
    """The 400 kube-apiserver answers when Knative's validating webhook refuses a write."""
    message = (
        f'admission webhook "{VALIDATION_WEBHOOK}" denied the request: '
        f"validation failed: {field_error_text(causes)}"
    )
    return errors.BadRequest(message, causes=tuple(causes))
