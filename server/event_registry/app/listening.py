"""Listening sockets, and the one error a person starting a server most often meets: a port
already in use. :class:`PortInUse` names the port and the flag that changes it; the console
script prints it as one line and exits with status 2 (see ``cli.py``).
"""

from __future__ import annotations

import contextlib
import errno
import socket
from collections.abc import Iterator


class PortInUse(Exception):
    def __init__(self, host: str, port: int, flag: str) -> None:
        super().__init__(f"port {port} on {host} is in use; choose another with {flag}")
        self.host = host
        self.port = port
        self.flag = flag


@contextlib.contextmanager
def port_of(host: str, port: int, flag: str) -> Iterator[None]:
    """Turn "address already in use" raised inside into :class:`PortInUse`."""
    try:
        yield
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
        raise PortInUse(host, port, flag) from error


def listen(host: str, port: int, *, flag: str, backlog: int = 2048) -> socket.socket:
    """A TCP socket bound to ``host:port`` and listening (TCP_NODELAY on accepted
    connections: asyncio sets it for ``IPPROTO_TCP`` sockets); :class:`PortInUse` if taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        with port_of(host, port, flag):
            sock.bind((host, port))
        sock.listen(backlog)
    except BaseException:
        sock.close()
        raise
    return sock
