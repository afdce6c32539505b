"""Request size limits on a real ``event-registry serve``: bodies (413, refused before they are
read), URLs (414), headers (431) and WebSocket messages (closed 1009), each answered with a
JSON error naming the limit and its flag; requests within the limits are served.

Oversized requests are written by hand over a socket so the test controls what is sent: the
100 MB body is announced but never sent, and the answer must arrive anyway.
"""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from tests.support.registry import RegistryProcess, http

MiB = 1024 * 1024
WS_LIMIT = 64 * 1024


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryProcess]:
    data = tmp_path_factory.mktemp("limits") / "data"
    running = RegistryProcess(data, "--ws-max-message-size", "64KiB")
    try:
        running.start()
        running.wait_ready()
        yield running
    finally:
        running.stop()


class Raw:
    """One HTTP/1.1 connection written by hand."""

    def __init__(self, registry: RegistryProcess) -> None:
        parts = urlsplit(registry.url)
        assert parts.hostname is not None
        assert parts.port is not None
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=30)

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def response(self) -> tuple[int, dict[str, str], bytes]:
        """Read one response whole (it carries Content-Length); status, headers, body."""
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self.sock.recv(65536)
            assert chunk, f"connection closed before a response: {data!r}"
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers["content-length"])
        while len(body) < length:
            chunk = self.sock.recv(65536)
            assert chunk
            body += chunk
        return int(status_line.split()[1]), headers, body

    def closed_by_server(self) -> bool:
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True

    def close(self) -> None:
        self.sock.close()


def request_head(method: str, target: str, *headers: str) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1", *headers, "", ""]
    return "\r\n".join(lines).encode("latin-1")


def error_message(body: bytes) -> str:
    document = json.loads(body)
    assert list(document) == ["errors"], document
    message: str = document["errors"][0]["message"]
    return message


def test_a_100_mb_body_is_refused_before_any_of_it_is_sent(registry: RegistryProcess) -> None:
    raw = Raw(registry)
    try:
        raw.send(
            request_head(
                "POST",
                "/graphql",
                "Content-Type: application/json",
                f"Content-Length: {100 * 1000 * 1000}",
            )
        )
        status, headers, body = raw.response()  # nothing of the body has been sent
        assert status == 413
        assert headers["content-type"] == "application/json"
        assert headers["connection"] == "close"
        assert error_message(body) == (
            f"the request body is larger than {MiB} bytes (--max-body-size)"
        )
        assert raw.closed_by_server()
    finally:
        raw.close()


def test_a_chunked_body_is_refused_once_it_passes_the_limit(registry: RegistryProcess) -> None:
    raw = Raw(registry)
    try:
        raw.send(
            request_head(
                "POST", "/graphql", "Content-Type: application/json", "Transfer-Encoding: chunked"
            )
        )
        chunk = b"x" * (256 * 1024)
        for _ in range(5):  # 1.25 MiB, and no final chunk: the server must not wait for it
            raw.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        status, _, body = raw.response()
        assert status == 413
        assert "--max-body-size" in error_message(body)
    finally:
        raw.close()


def test_a_chunked_body_within_the_limit_is_served(registry: RegistryProcess) -> None:
    raw = Raw(registry)
    try:
        payload = json.dumps({"query": "{ __typename }"}).encode()
        raw.send(
            request_head(
                "POST",
                "/graphql",
                "Content-Type: application/json",
                "Transfer-Encoding: chunked",
                "Connection: close",
            )
        )
        for part in (payload[:5], payload[5:]):
            raw.send(b"%x\r\n%s\r\n" % (len(part), part))
        raw.send(b"0\r\n\r\n")
        status, _, body = raw.response()
        assert status == 200, body
        assert json.loads(body)["data"] == {"__typename": "Query"}
    finally:
        raw.close()


def test_a_body_just_within_the_limit_is_served(registry: RegistryProcess) -> None:
    document = json.dumps({"query": "{ __typename }", "padding": ""}).encode()
    body = document[:-2] + b" " * (MiB - len(document)) + document[-2:]
    assert len(body) == MiB
    reply = http("POST", registry.url, body=body, headers={"content-type": "application/json"})
    assert reply.status == 200, reply.text
    assert reply.json()["data"] == {"__typename": "Query"}


def test_a_url_longer_than_the_limit_gets_414(registry: RegistryProcess) -> None:
    raw = Raw(registry)
    try:
        query = quote("{ __typename }" + " " * (2 * MiB))
        raw.send(request_head("GET", f"/graphql?query={query}"))
        status, _, body = raw.response()
        assert status == 414
        assert error_message(body) == (
            f"the request URL is longer than {MiB} bytes (--max-body-size)"
        )
    finally:
        raw.close()


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param([f"X-Big: {'x' * (3 * MiB)}"], id="one-huge-header"),
        pytest.param([f"X-Many-{n}: {'x' * 100}" for n in range(2000)], id="many-headers"),
    ],
)
def test_headers_larger_than_the_limit_get_431(
    registry: RegistryProcess, headers: list[str]
) -> None:
    raw = Raw(registry)
    try:
        # Refused while still sending, perhaps: the answer is waiting all the same.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            raw.send(request_head("GET", "/graphql", *headers))
        status, _, body = raw.response()
        assert status == 431
        assert "--max-header-size" in error_message(body)
    finally:
        raw.close()


async def test_a_websocket_message_over_the_limit_closes_1009(
    registry: RegistryProcess, tmp_path: Path
) -> None:
    url = registry.url.replace("http://", "ws://")
    async with connect(url, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await ws.recv()) == {"type": "connection_ack"}
        big = {
            "id": "1",
            "type": "subscribe",
            "payload": {"query": "{ __typename }", "padding": "x" * WS_LIMIT},
        }
        await ws.send(json.dumps(big))
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()  # the subscription is never answered: the message is refused
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1009


async def test_a_websocket_message_within_the_limit_is_handled(
    registry: RegistryProcess,
) -> None:
    url = registry.url.replace("http://", "ws://")
    async with connect(url, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await ws.recv()) == {"type": "connection_ack"}
        query = "{ __typename }" + " " * (WS_LIMIT - 200)
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
        frame = json.loads(await ws.recv())
        assert frame["type"] == "next", frame
        assert frame["payload"]["data"] == {"__typename": "Query"}
