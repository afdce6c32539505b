"""uvicorn's sans-I/O WebSocket protocol, able to write a batch of text messages at once.

Subscription fan-out sends many small messages to many connections; through ASGI each one is
an awaited ``send`` that frames and writes it alone. This protocol adds one ASGI extension,
:data:`EXTENSION`, whose ``writer`` writes a batch of text messages as frames in one transport
write, or frames the application already encoded (:mod:`.framing`) when no extension was
negotiated (see :class:`FrameWriter`). Everything else is uvicorn's ``websockets-sansio``
implementation unchanged, and the application falls back to plain ``websocket.send`` when a
server lacks the extension.

Guarantees: a batch is written only while the handshake is complete, no close frame has been
sent or received and the transport is open (else nothing is written and ``write_texts``
answers False); with a negotiated extension (permessage-deflate) the frames go through
``websockets`` so they are encoded as agreed; the application waits on ``writable`` (cleared
by the transport's flow control) before writing, as uvicorn's own ``send`` does.

It reads uvicorn internals (the protocol's connection state, its ``websockets`` connection and
transport), pinned in pyproject to the minor series we tested. :func:`websocket_protocol`
checks them when the server starts (:func:`missing_internals`) and answers uvicorn's plain
protocol when one is missing, logging each missing one once per process: the application
then sends message by message.
"""

from __future__ import annotations

import asyncio
import dis
import importlib
import inspect
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from websockets.protocol import State
from websockets.server import ServerProtocol

from .framing import text_frames

if TYPE_CHECKING:
    from uvicorn.protocols.websockets.websockets_sansio_impl import (
        WebSocketsSansIOProtocol as _UvicornProtocol,
    )

log = logging.getLogger(__name__)

EXTENSION = "event_registry.websocket.batch"
SANSIO_MODULE = "uvicorn.protocols.websockets.websockets_sansio_impl"
PROTOCOL_STATE = (
    "scope",
    "disconnected",
    "close_sent",
    "handshake_complete",
    "initial_response",
    "conn",
    "transport",
    "writable",
)
"""Attributes of uvicorn's protocol that :meth:`BatchingWebSocketProtocol.write_texts` and the
application read (each must be assigned by one of its methods)."""
CONNECTION_ATTRIBUTES = ("state", "extensions", "send_text", "data_to_send")
"""What ``write_texts`` uses of the protocol's ``websockets`` connection."""

_warned: set[str] = set()


class FrameWriter(Protocol):
    """What the extension offers the application (``scope["extensions"][EXTENSION]["writer"]``)."""

    @property
    def writable(self) -> asyncio.Event: ...

    def write_texts(self, payloads: Sequence[bytes]) -> bool: ...

    @property
    def frames_as_encoded(self) -> bool: ...

    def write_frames(self, frames: bytes) -> bool: ...


def uvicorn_protocol() -> type[Any] | None:
    """uvicorn's sans-I/O WebSocket protocol class, if this uvicorn still has it."""
    try:
        module = importlib.import_module(SANSIO_MODULE)
    except ImportError:
        return None
    found = getattr(module, "WebSocketsSansIOProtocol", None)
    return found if isinstance(found, type) else None


if not TYPE_CHECKING:  # still importable without it: the start check then turns batching off
    _UvicornProtocol = uvicorn_protocol() or asyncio.Protocol


class BatchingWebSocketProtocol(_UvicornProtocol):
    async def run_asgi(self) -> None:
        # The scope exists once the handshake request is parsed; the app runs in this task.
        self.scope["extensions"][EXTENSION] = {"writer": self}
        await super().run_asgi()

    def _open(self) -> bool:
        return not (
            self.disconnected
            or self.close_sent
            or not self.handshake_complete
            or self.initial_response is not None
            or self.conn.state is not State.OPEN
            or self.transport.is_closing()
        )

    def write_texts(self, payloads: Sequence[bytes]) -> bool:
        """Write UTF-8 ``payloads`` as text frames in one transport write; False if closed."""
        if not self._open():
            return False
        if self.conn.extensions:
            for payload in payloads:
                self.conn.send_text(payload)
            self.transport.write(b"".join(self.conn.data_to_send()))
        else:
            self.transport.write(text_frames(payloads))
        return True

    @property
    def frames_as_encoded(self) -> bool:
        """Whether text frames encoded by :mod:`.framing` may be written as they are (no
        extension was negotiated); else only :meth:`write_texts` writes."""
        return not self.conn.extensions

    def write_frames(self, frames: bytes) -> bool:
        """Write text frames encoded by :mod:`.framing` (only when ``frames_as_encoded``) in
        one transport write; False if closed."""
        if not self._open():
            return False
        self.transport.write(frames)
        return True


def missing_internals(protocol: type[Any] | None = None) -> list[str]:
    """What batching needs of uvicorn's protocol (``protocol``, default: uvicorn's sans-I/O
    one) and its ``websockets`` connection and does not find (empty when all is there)."""
    base = protocol or uvicorn_protocol()
    if base is None:
        return [f"{SANSIO_MODULE}.WebSocketsSansIOProtocol is missing"]
    missing: list[str] = []
    if not inspect.iscoroutinefunction(getattr(base, "run_asgi", None)):
        missing.append("uvicorn's WebSocket protocol has no async run_asgi")
    assigned = _assigned_attributes(base)
    missing.extend(
        f"uvicorn's WebSocket protocol no longer sets {name}"
        for name in PROTOCOL_STATE
        if name not in assigned
    )
    connection = ServerProtocol()
    missing.extend(
        f"websockets' ServerProtocol has no {name}"
        for name in CONNECTION_ATTRIBUTES
        if not hasattr(connection, name)
    )
    return missing


def websocket_protocol() -> type[asyncio.Protocol] | str:
    """The protocol for uvicorn's ``ws=``: :class:`BatchingWebSocketProtocol` when uvicorn has
    what it needs, else uvicorn's plain one (each missing internal logged once)."""
    missing = missing_internals()
    if not missing:
        return BatchingWebSocketProtocol
    for reason in missing:
        if reason not in _warned:
            _warned.add(reason)
            log.warning("WebSocket batching off, uvicorn's plain protocol used: %s", reason)
    plain = uvicorn_protocol()
    return plain if plain is not None else "auto"


def _assigned_attributes(protocol: type[Any]) -> set[str]:
    """The attributes that the methods of ``protocol`` (and its bases) assign on ``self``."""
    names: set[str] = set()
    for klass in protocol.__mro__:
        for member in vars(klass).values():
            code = getattr(member, "__code__", None)
            if code is not None:
                names.update(
                    instruction.argval
                    for instruction in dis.get_instructions(code)
                    if instruction.opname == "STORE_ATTR"
                )
    return names
