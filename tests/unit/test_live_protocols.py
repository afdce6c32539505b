"""Parsing client messages of the two WebSocket protocols never raises."""

from __future__ import annotations

import pytest

from event_registry.app.live import protocols


@pytest.mark.parametrize("protocol", protocols.PROTOCOLS)
@pytest.mark.parametrize(
    "text",
    [
        "",
        "{",
        "[]",
        '{"type": 1}',
        "[" * 100_000 + "]" * 100_000,
        '{"a":' * 50_000 + "1" + "}" * 50_000,
    ],
)
def test_malformed_messages_are_invalid_not_raised(protocol: str, text: str) -> None:
    assert protocols.parse(protocol, text).kind == "INVALID"
