"""Which browser pages may open a WebSocket to the registry (the handshake's ``Origin``).

Browsers send ``Origin`` on every WebSocket handshake and, unlike ``fetch``, do not apply CORS
to it: without this check any web page a user visits could subscribe with the user's
credentials (cross-site WebSocket hijacking). Non-browser clients send no ``Origin`` and are
always allowed.

Allowed: the server's own origin (the scheme and the ``Host`` header of the handshake: pages
such as GraphiQL served by this server), then either the configured origins
(``--allowed-origins``, ``*`` for any) or, when none are configured, loopback pages
(``http(s)://localhost``, ``127.0.0.1`` or ``[::1]``, any port). Comparison is exact on the
normalised ``scheme://host[:port]`` (lower case, no trailing slash, default ports dropped).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_PAGE_SCHEMES = {"ws": "http", "wss": "https", "http": "http", "https": "https"}


@dataclass(frozen=True)
class OriginPolicy:
    allowed: frozenset[str] | None = None
    """Normalised origins allowed besides the server's own; None: loopback origins."""
    any_origin: bool = False

    @classmethod
    def from_list(cls, origins: Iterable[str] | None) -> OriginPolicy:
        if origins is None:
            return cls()
        listed = [origin.strip() for origin in origins if origin.strip()]
        if "*" in listed:
            return cls(frozenset(), any_origin=True)
        return cls(frozenset(normalise(origin) for origin in listed))

    def allows(self, origin: str | None, *, scheme: str, host: str | None) -> bool:
        """Whether a handshake with this ``Origin`` header (None: absent) may proceed."""
        if origin is None or self.any_origin:
            return True
        page = normalise(origin)
        if host and page == normalise(f"{_PAGE_SCHEMES.get(scheme, scheme)}://{host}"):
            return True
        if self.allowed is None:
            return is_loopback(page)
        return page in self.allowed


def normalise(origin: str) -> str:
    """``scheme://host[:port]`` in lower case, default port dropped; anything unparsable
    (e.g. ``null``) is returned lower-cased, so it matches only itself."""
    text = origin.strip().lower().rstrip("/")
    parts = urlsplit(text)
    if not parts.scheme or not parts.hostname:
        return text
    try:
        port = parts.port
    except ValueError:
        return text
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    if port is None or port == _DEFAULT_PORTS.get(parts.scheme):
        return f"{parts.scheme}://{host}"
    return f"{parts.scheme}://{host}:{port}"


def is_loopback(origin: str) -> bool:
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.hostname in LOOPBACK_HOSTS
