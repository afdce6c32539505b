"""Global object IDs for ``node(id)``: opaque, stable, and checked on the way back in."""

from __future__ import annotations

import base64
import binascii

from ..store.caching import KINDS


def encode(kind: str, namespace: str, name: str = "") -> str:
    raw = f"{kind}:{namespace}/{name}" if name else f"{kind}:{namespace}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(node_id: str) -> tuple[str, str, str] | None:
    """(kind, namespace, name) or None for anything that is not one of our IDs."""
    try:
        padded = node_id + "=" * (-len(node_id) % 4)
        raw = base64.urlsafe_b64decode(padded.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    kind, _, rest = raw.partition(":")
    if kind not in KINDS or not rest:
        return None
    if kind == "Namespace":
        return kind, rest, ""
    namespace, _, name = rest.partition("/")
    if not namespace or not name:
        return None
    return kind, namespace, name


def encode_cursor(namespace: str, name: str) -> str:
    return base64.urlsafe_b64encode(f"{namespace}/{name}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str] | None:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        namespace, _, name = base64.urlsafe_b64decode(padded.encode()).decode().partition("/")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return (namespace, name) if name else None
