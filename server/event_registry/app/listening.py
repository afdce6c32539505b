"""Listening sockets, and the one error a person starting a server most often meets: a port
already in use. :class:`PortInUse` names the port and the flag that changes it; the console
script prints it as one line and exits with status 2 (see ``cli.py``).

``serve --workers N`` shares one port among processes with ``SO_REUSEPORT``: the parent
:func:`reserve` s the port (bound, never listening, so it takes no connection and a port in
use is still reported at once), each worker then :func:`listen` s on it with ``reuse_port``
and the kernel spreads new connections over the workers' listening sockets.
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


def listen(
    host: str, port: int, *, flag: str, backlog: int = 2048, reuse_port: bool = False
) -> socket.socket:
    """A TCP socket bound to ``host:port`` and listening (TCP_NODELAY on accepted
    connections: asyncio sets it for ``IPPROTO_TCP`` sockets); :class:`PortInUse` if taken.
    With ``reuse_port`` it joins the processes sharing a port :func:`reserve` d."""
    sock = _bound(host, port, flag=flag, reuse_address=True, reuse_port=reuse_port)
    try:
        sock.listen(backlog)
    except BaseException:
        sock.close()
        raise
    return sock


def reserve(host: str, port: int, *, flag: str) -> socket.socket:
    """A socket bound to ``host:port`` with ``SO_REUSEPORT`` and not listening: the port
    (the one chosen when ``port`` is 0) stays this user's for sockets that :func:`listen`
    with ``reuse_port``, and no connection ever waits on this one; :class:`PortInUse` if
    taken."""
    return _bound(host, port, flag=flag, reuse_address=False, reuse_port=True)


def _bound(
    host: str, port: int, *, flag: str, reuse_address: bool, reuse_port: bool
) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        if reuse_address:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        with port_of(host, port, flag):
            sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock
