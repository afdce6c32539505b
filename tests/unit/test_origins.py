"""Which pages may open a WebSocket: own origin, loopback by default, or the configured list."""

from __future__ import annotations

import pytest

from event_registry.app.origins import OriginPolicy, normalise

DEFAULT = OriginPolicy()


def test_no_origin_header_is_a_non_browser_client_and_allowed() -> None:
    assert DEFAULT.allows(None, scheme="ws", host="registry.example:8080")
    assert OriginPolicy.from_list(["https://app.example"]).allows(None, scheme="ws", host=None)


@pytest.mark.parametrize(
    ("origin", "scheme", "host"),
    [
        ("http://registry.example:8080", "ws", "registry.example:8080"),
        ("HTTP://Registry.Example:8080/", "ws", "registry.example:8080"),
        ("https://registry.example", "wss", "registry.example"),
        ("https://registry.example:443", "wss", "registry.example"),
    ],
)
def test_the_servers_own_origin_is_allowed(origin: str, scheme: str, host: str) -> None:
    assert DEFAULT.allows(origin, scheme=scheme, host=host)
    assert OriginPolicy.from_list(["https://other.example"]).allows(
        origin, scheme=scheme, host=host
    )


@pytest.mark.parametrize(
    "origin",
    [
        "http://localhost",
        "http://localhost:3000",
        "https://127.0.0.1:8443",
        "http://[::1]:5173",
    ],
)
def test_loopback_pages_are_allowed_by_default(origin: str) -> None:
    assert DEFAULT.allows(origin, scheme="ws", host="registry.example:8080")


@pytest.mark.parametrize(
    "origin",
    [
        "http://evil.example",
        "http://registry.example:9999",
        "https://registry.example:8080",
        "http://localhost.evil.example",
        "http://127.0.0.2",
        "null",
        "file://",
        "ftp://localhost",
    ],
)
def test_foreign_origins_are_refused(origin: str) -> None:
    assert not DEFAULT.allows(origin, scheme="ws", host="registry.example:8080")


def test_a_configured_list_replaces_the_loopback_default() -> None:
    policy = OriginPolicy.from_list(["https://app.example", " https://admin.example:8443/ ", ""])
    host = "registry.example"
    assert policy.allows("https://app.example", scheme="ws", host=host)
    assert policy.allows("https://ADMIN.example:8443", scheme="ws", host=host)
    assert not policy.allows("http://app.example", scheme="ws", host=host)
    assert not policy.allows("http://localhost:3000", scheme="ws", host=host)


def test_a_star_allows_any_origin() -> None:
    policy = OriginPolicy.from_list(["*"])
    assert policy.allows("http://evil.example", scheme="ws", host="registry.example")


def test_normalise_drops_default_ports_and_keeps_others() -> None:
    assert normalise("HTTP://Example.COM:80/") == "http://example.com"
    assert normalise("https://example.com:8443") == "https://example.com:8443"
    assert normalise("http://[::1]:3000") == "http://[::1]:3000"
    assert normalise("http://example.com:notaport") == "http://example.com:notaport"
