"""Graceful drain of one ``serve`` process, over raw HTTP: on SIGTERM it stops accepting at
once, yet a request already in flight (its body still on the way) is answered, then the
process exits 0.

The request announces its body with ``Expect: 100-continue``: the server answers ``100
Continue`` when the application starts reading the body, which proves the request is in
flight before the signal. (WebSockets closed with 1001 on SIGTERM, and clients resuming on
another replica: tests/integration/test_replicas.py.)
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.support.registry import RegistryProcess, eventually


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[RegistryProcess]:
    process = RegistryProcess(tmp_path / "data", "--drain-timeout", "10")
    process.start()
    try:
        process.wait_ready()
        yield process
    finally:
        process.stop()


def read_until(sock: socket.socket, end: bytes) -> bytes:
    data = b""
    while end not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def refused(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return False
    except ConnectionRefusedError:
        return True


def test_a_request_in_flight_at_sigterm_is_answered_and_the_process_exits_0(
    registry: RegistryProcess,
) -> None:
    parts = urlsplit(registry.url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    body = json.dumps({"query": "{ namespaces { name } }"}).encode()
    head = (
        "POST /graphql HTTP/1.1\r\nHost: registry\r\nContent-Type: application/json\r\n"
        f"Accept: application/json\r\nExpect: 100-continue\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    with socket.create_connection((host, port), timeout=20) as sock:
        sock.sendall(head.encode())
        assert read_until(sock, b"\r\n\r\n").startswith(b"HTTP/1.1 100")
        registry.send_sigterm()
        eventually(lambda: refused(host, port), timeout=20)  # accepts nothing new
        sock.sendall(body)
        response = read_until(sock, b"]}}")
    status_line, _, rest = response.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 200 OK", response
    assert b'"namespaces"' in rest
    assert registry.wait_exit(30) == 0
