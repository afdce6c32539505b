"""The two GraphQL-over-WebSocket protocols as data: parse client messages, build frames.

``graphql-transport-ws`` (the graphql-ws library's current protocol) and the legacy
``graphql-ws`` (subscriptions-transport-ws) differ only in message names and a few rules;
both map onto one small set of :class:`ClientMessage` kinds, so the connection logic is
written once. Parsing never raises on client input: anything malformed is ``INVALID``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"
PROTOCOLS = (TRANSPORT_WS, LEGACY_WS)

MessageKind = Literal["INIT", "SUBSCRIBE", "STOP", "PING", "PONG", "TERMINATE", "INVALID"]

# Close codes (graphql-ws), plus one of ours.
BAD_MESSAGE = 4400
UNAUTHORIZED = 4401
FORBIDDEN = 4403
INIT_TIMEOUT = 4408
DUPLICATE_ID = 4409
TOO_MANY_INITS = 4429
OVER_BUDGET = 4429
"""Also ours: over a connection budget (see ``app/budgets.py``)."""
TOO_SLOW = 4503
"""Ours: the client fell too far behind; reconnect and resume after its last cursor."""


@dataclass(frozen=True)
class ClientMessage:
    kind: MessageKind
    id: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    error: str = ""


_TRANSPORT_KINDS: dict[str, MessageKind] = {
    "connection_init": "INIT",
    "subscribe": "SUBSCRIBE",
    "complete": "STOP",
    "ping": "PING",
    "pong": "PONG",
}
_LEGACY_KINDS: dict[str, MessageKind] = {
    "connection_init": "INIT",
    "start": "SUBSCRIBE",
    "stop": "STOP",
    "connection_terminate": "TERMINATE",
}


def parse(protocol: str, text: str) -> ClientMessage:
    try:
        message = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser's stack
        return ClientMessage("INVALID", error="the message is not JSON")
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        return ClientMessage("INVALID", error="the message has no type")
    kinds = _TRANSPORT_KINDS if protocol == TRANSPORT_WS else _LEGACY_KINDS
    kind = kinds.get(message["type"])
    if kind is None:
        return ClientMessage("INVALID", error=f"unknown message type {message['type']!r}")
    payload = message.get("payload")
    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        return ClientMessage("INVALID", error="the payload must be an object")
    message_id = message.get("id")
    if kind in ("SUBSCRIBE", "STOP") and (not isinstance(message_id, str) or not message_id):
        return ClientMessage("INVALID", error=f"{message['type']} needs a string id")
    if kind == "SUBSCRIBE" and not isinstance(payload.get("query"), str):
        return ClientMessage("INVALID", error="the payload needs a query string")
    return ClientMessage(kind, message_id if isinstance(message_id, str) else None, payload)


def _frame(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"))


def ack(protocol: str) -> str:
    return _frame({"type": "connection_ack"})


def keepalive(protocol: str) -> str:
    return _frame({"type": "ping" if protocol == TRANSPORT_WS else "ka"})


def pong() -> str:
    return _frame({"type": "pong"})


def connection_error(message: str) -> str:
    """Legacy only: sent before closing a connection that failed to initialise."""
    return _frame({"type": "connection_error", "payload": {"message": message}})


def next_prefix(protocol: str, subscription_id: str) -> str:
    """The frame up to the payload; a shared payload is appended as is (serialized once)."""
    kind = "next" if protocol == TRANSPORT_WS else "data"
    return '{"type":"' + kind + '","id":' + json.dumps(subscription_id) + ',"payload":'


def next_frame(protocol: str, subscription_id: str, payload_json: str) -> str:
    return next_prefix(protocol, subscription_id) + payload_json + "}"


def error_frame(protocol: str, subscription_id: str, errors: list[dict[str, Any]]) -> str:
    if protocol == TRANSPORT_WS:
        return _frame({"type": "error", "id": subscription_id, "payload": errors})
    return _frame({"type": "error", "id": subscription_id, "payload": errors[0] if errors else {}})


def complete_frame(subscription_id: str) -> str:
    return _frame({"type": "complete", "id": subscription_id})
