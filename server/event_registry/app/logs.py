"""Log records as text (local use) or JSON lines (production), with the request id bound.

Guarantees:

- with ``--log-format json`` every record is one line of JSON: ``timestamp`` (UTC, ISO 8601),
  ``level``, ``logger``, ``message``, ``request_id`` while a request is being served, the
  formatted ``exception`` when there is one, and every field a logger passes with ``extra=``
  (``kind``, ``namespace``, ``object``, ...; ``name`` is taken by :mod:`logging` itself) as a
  field of its own; a field whose value is not JSON is written as its ``str``;
- the request id of an HTTP request or WebSocket connection is its ``X-Request-Id`` header
  when that is a plausible id (1-128 characters of letters, digits and ``-._:``), otherwise
  one generated here; it is bound for everything logged while serving it (a context
  variable, so concurrent requests never see each other's) and echoed in an HTTP response's
  ``X-Request-Id`` header;
- in JSON mode uvicorn's own records (which each ``uvicorn.Config`` gives text handlers of its
  own) are JSON lines too, once :func:`route_uvicorn_logs` ran after the last one was made;
- the access log (one record per HTTP request, logger ``event_registry.access``, level info)
  is off unless ``--access-log``: a line per request costs more than a cached query.
"""

from __future__ import annotations

import contextvars
import logging
import re
import sys
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

LogFormat = Literal["text", "json"]
LOG_FORMATS: tuple[LogFormat, ...] = ("text", "json")

ACCESS = logging.getLogger("event_registry.access")

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
"""The id of the request being served in this context (None outside any request)."""

_PLAUSIBLE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

# What every LogRecord carries: anything else on a record came from ``extra=``.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "request_id",
}


def request_id_for(header: str | None) -> str:
    """The caller's id when it is a plausible one, else a new one."""
    if header is not None and _PLAUSIBLE_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Binds the current request id to each record (``record.request_id``, None outside)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id is not None:
            entry["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure(level: str, log_format: LogFormat = "text", *, access_log: bool = False) -> None:
    """Log to stderr at ``level`` in ``log_format``; the access log only when asked for."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(
        JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    ACCESS.setLevel(logging.INFO if access_log else logging.WARNING)


def route_uvicorn_logs() -> None:
    """In JSON mode, send uvicorn's loggers through the root handler instead of their own."""
    if not any(isinstance(h.formatter, JsonFormatter) for h in logging.getLogger().handlers):
        return
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
