"""A loopback TCP proxy in front of a control plane that can be told to fail, for tests.

``forward`` (the start) passes bytes both ways; ``close`` accepts each connection and closes
it at once (the cluster went away mid-request); a status code answers every request with
that HTTP status and a Kubernetes ``Status`` body (an overloaded or failing API server).
Changing the mode drops every connection open so far, watches included, so no pooled
keep-alive connection carries a request past the fault. Plain threads and sockets: the
proxy knows no HTTP beyond reading one request's head and body.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from pathlib import Path

import yaml

Mode = str | int
"""``"forward"``, ``"close"``, or an HTTP status to answer with."""

REASONS = {
    401: "Unauthorized",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
}


class FaultyProxy:
    def __init__(self, target_port: int) -> None:
        self._target = ("127.0.0.1", target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._mode: Mode = "forward"
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._closed = False
        threading.Thread(target=self._accept, name="faulty-proxy", daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def set_mode(self, mode: Mode) -> None:
        """Fail (or forward) from now on; every connection open so far is dropped."""
        with self._lock:
            self._mode = mode
            dropped, self._open = self._open, set()
        for sock in dropped:
            _close(sock)

    def close(self) -> None:
        self._closed = True
        self.set_mode("close")
        _close(self._listener)

    def kubeconfig(self, base: Path, path: Path) -> Path:
        """A copy of kubeconfig ``base`` whose clusters are reached through this proxy."""
        config = yaml.safe_load(base.read_text())
        for cluster in config["clusters"]:
            cluster["cluster"]["server"] = self.url
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        return path

    # the threads ---------------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                mode = self._mode
                if mode != "close":
                    self._open.add(client)
            if mode == "close":
                _close(client)
            elif mode == "forward":
                threading.Thread(target=self._forward, args=(client,), daemon=True).start()
            else:
                threading.Thread(target=self._answer, args=(client, int(mode)), daemon=True).start()

    def _forward(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self._target)
        except OSError:
            _close(client)
            return
        with self._lock:
            self._open.add(upstream)
        threading.Thread(target=_pipe, args=(upstream, client), daemon=True).start()
        _pipe(client, upstream)

    def _answer(self, client: socket.socket, status: int) -> None:
        """Read one request (head and Content-Length body), answer ``status``, close."""
        received = b""
        try:
            while b"\r\n\r\n" not in received:
                chunk = client.recv(65536)
                if not chunk:
                    return
                received += chunk
            head, _, body = received.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            while len(body) < length:
                chunk = client.recv(65536)
                if not chunk:
                    return
                body += chunk
            reason = REASONS.get(status, "InternalError")
            payload = json.dumps(
                {
                    "kind": "Status",
                    "apiVersion": "v1",
                    "status": "Failure",
                    "message": f"the proxy answers {status} to everything",
                    "reason": reason,
                    "code": status,
                }
            ).encode()
            client.sendall(
                f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode()
                + payload
            )
        except OSError:
            pass
        finally:
            _close(client)


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while chunk := source.recv(65536):
            sink.sendall(chunk)
    except OSError:
        pass
    finally:
        _close(source)
        _close(sink)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
