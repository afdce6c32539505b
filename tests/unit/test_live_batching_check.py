"""WebSocket batching steps aside when uvicorn or websockets is not as it expects.

``websocket_protocol()`` (what ``serve`` passes as uvicorn's ``ws=``) answers the batching
protocol while every internal it reads is there, and uvicorn's plain sans-I/O protocol
otherwise, logging each missing internal once per process. The third-party classes are
changed with ``monkeypatch`` (restored after each test), as a new release would change them.
"""

from __future__ import annotations

import importlib
import logging

import pytest
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import Protocol

from event_registry.app.live import batching
from event_registry.app.live.batching import BatchingWebSocketProtocol

LOGGER = batching.__name__


@pytest.fixture(autouse=True)
def fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing logged yet, as in a process that just started."""
    monkeypatch.setattr(batching, "_warned", set())


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == LOGGER and record.levelno == logging.WARNING
    ]


def test_with_everything_there_the_server_batches(caplog: pytest.LogCaptureFixture) -> None:
    assert batching.missing_internals() == []
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert batching.websocket_protocol() is BatchingWebSocketProtocol
    assert warnings(caplog) == []


def test_a_protocol_whose_run_asgi_is_no_longer_async_is_named() -> None:
    class Reshaped(WebSocketsSansIOProtocol):
        def run_asgi(self) -> None:  # type: ignore[override]
            return None

    assert batching.missing_internals(Reshaped) == [
        "uvicorn's WebSocket protocol has no async run_asgi"
    ]


def test_a_state_attribute_no_longer_set_means_the_plain_protocol(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # A release where the scope is built somewhere else (under another name).
    monkeypatch.delattr(WebSocketsSansIOProtocol, "handle_connect")
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert batching.websocket_protocol() is WebSocketsSansIOProtocol
        assert batching.websocket_protocol() is WebSocketsSansIOProtocol
    assert warnings(caplog) == [
        "WebSocket batching off, uvicorn's plain protocol used: "
        "uvicorn's WebSocket protocol no longer sets scope"
    ]


def test_a_websockets_connection_without_send_text_means_the_plain_protocol(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delattr(Protocol, "send_text")
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert batching.websocket_protocol() is WebSocketsSansIOProtocol
    assert warnings(caplog) == [
        "WebSocket batching off, uvicorn's plain protocol used: "
        "websockets' ServerProtocol has no send_text"
    ]


def test_without_uvicorn_sans_io_protocol_uvicorn_chooses(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    module = importlib.import_module(batching.SANSIO_MODULE)
    monkeypatch.delattr(module, "WebSocketsSansIOProtocol")
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert batching.websocket_protocol() == "auto"
    assert warnings(caplog) == [
        "WebSocket batching off, uvicorn's plain protocol used: "
        f"{batching.SANSIO_MODULE}.WebSocketsSansIOProtocol is missing"
    ]
