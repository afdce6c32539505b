"""One HTTP request → the CloudEvents it carries, or the reason it carries none.

Decoded with the ``cloudevents`` SDK, in the three HTTP content modes:

- **binary**: any ``ce-`` header; attributes in ``ce-*`` headers (``ce-specversion`` required,
  as sdk-go's binding requires it), the body is the data, ``Content-Type`` its content type;
- **structured**: ``Content-Type: application/cloudevents+json``; the body is the event;
- **batch**: ``Content-Type: application/cloudevents-batch+json``; the body is a JSON array of
  structured events (at least one).

Guarantees: :func:`parse` returns at least one validated event (required attributes present
and non-empty, a known ``specversion``, extension names as the spec allows) or raises
:class:`NotACloudEvent` with a message a sender can act on; it raises nothing else, whatever
the bytes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cloudevents.core.base import BaseCloudEvent
from cloudevents.core.bindings.http import HTTPMessage, from_binary, from_structured
from cloudevents.core.exceptions import BaseCloudEventException
from cloudevents.core.formats.json import JSONFormat

STRUCTURED = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"
_FORMAT = JSONFormat()
_DECODING_ERRORS = (
    BaseCloudEventException,
    ValueError,  # JSON, UTF-8, timestamps
    TypeError,
    AttributeError,  # a JSON value that is not an object
    KeyError,
    RecursionError,  # deeply nested JSON
)


class NotACloudEvent(ValueError):
    """The request carries no valid CloudEvent; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class SeenEvent:
    """What the ingress keeps of an event: the attributes an EventType records."""

    type: str
    source: str
    specversion: str
    dataschema: str = ""


def _media_type(headers: Mapping[str, str]) -> str:
    return headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _seen(event: BaseCloudEvent) -> SeenEvent:
    attributes = event.get_attributes()
    schema = attributes.get("dataschema") or attributes.get("schemaurl") or ""
    return SeenEvent(
        type=str(attributes.get("type")),
        source=str(attributes.get("source")),
        specversion=str(attributes.get("specversion")),
        dataschema=str(schema),
    )


def _decoded(what: str, decode: Any, *args: Any) -> SeenEvent:
    try:
        return _seen(decode(*args))
    except _DECODING_ERRORS as error:
        raise NotACloudEvent(f"not a CloudEvent ({what}): {error}") from error


def parse(headers: Mapping[str, str], body: bytes) -> list[SeenEvent]:
    """The events of a request; ``headers`` with lower-case names."""
    if any(name.startswith("ce-") for name in headers):
        if "ce-specversion" not in headers:
            raise NotACloudEvent("not a CloudEvent (binary mode): no ce-specversion header")
        message = HTTPMessage(dict(headers), body)
        return [_decoded("binary mode", from_binary, message, _FORMAT)]
    media_type = _media_type(headers)
    if media_type == STRUCTURED:
        message = HTTPMessage({"content-type": media_type}, body)
        return [_decoded("structured mode", from_structured, message, _FORMAT)]
    if media_type == BATCH:
        return _batch(body)
    raise NotACloudEvent(
        "not a CloudEvent: send ce-specversion, ce-id, ce-type and ce-source headers "
        f"(binary mode), or Content-Type {STRUCTURED} (structured mode) or {BATCH} (batch)"
    )


def _batch(body: bytes) -> list[SeenEvent]:
    try:
        items = json.loads(body)
    except (ValueError, RecursionError) as error:
        raise NotACloudEvent(f"not a CloudEvent batch: {error}") from error
    if not isinstance(items, list) or not items:
        raise NotACloudEvent("not a CloudEvent batch: expected a non-empty JSON array of events")
    events = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise NotACloudEvent(f"not a CloudEvent (batch item {index}): not a JSON object")
        message = HTTPMessage({"content-type": STRUCTURED}, json.dumps(item).encode())
        events.append(_decoded(f"batch item {index}", from_structured, message, _FORMAT))
    return events
